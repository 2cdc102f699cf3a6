"""Screenshots of the page for docs/app.md: the example clip with both shipped lifters, in headless Chromium.

    python -m scripts.app_screenshots [--out docs/screenshots] [--port 7872] [--sizes 1280x800 390x844]
        [--views example everyone photo live] [--max-frames N] [--keypoints lite] [--photo bus.jpg]

Starts the page and takes the views asked for (all three by default), each on a freshly loaded page.
*example*: runs the whole example clip with *both*, and saves app_start.png (the example shown before it
is processed), app_page.png (the finished page, video and viewer at 3 s), app_<W>x<H>.png for each of `--sizes`
(the finished page in a window of that size: its top, and scrolled to the video and the 3D view; side by side
for a phone, one above the other for a laptop), app_viewer.png (the viewer turned by a mouse drag), app_angles.png
(the viewer with its joint angle chart and table, one more angle plotted by a click),
app_people.png (the person picker) and app_out_of_view.png (the man on the box lifted instead, at a frame where
he is out of view). *everyone*: runs the example clip with the first lifter, ticks every person offered
(the page's --all-tracks) and lifts them together: app_everyone.png (the video and the 3D view with everyone in
one world, labelled). *photo*: lifts everyone in a still (`--photo`, by default Ultralytics' bus.jpg) from the
Photo tab: app_photo.png (the photo with its 2D skeletons and the 3D view). *live*: the Live tab with Chromium's
fake camera playing the example clip, started with the tab's defaults: app_live.png (the camera with its 2D, the
live 3D view and the readout, a few seconds in). PNGs are downscaled and reduced to 256
colours to stay small. Needs /usr/bin/chromium and the weights in weights/; takes several minutes on a CPU (the
*everyone* and *photo* with `--max-frames 75 --keypoints lite`: 130-155 s on the loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import io
import re
import tempfile
from pathlib import Path

import ultralytics
from PIL import Image
from playwright.sync_api import Locator, Page, expect, sync_playwright

from app.cli import picture_size
from app.pipeline import PipelineConfig
from app.ui import build_ui
from detector import example_video_path
from scripts import bench_live

CHROMIUM = "/usr/bin/chromium"
RUN_TIMEOUT_MS = 900_000
LOAD_TIMEOUT_MS = 120_000  # the page, the example clip or the photo shown in its player, on a loaded machine
VIEWS = ("example", "everyone", "photo", "live")
BUS = Path(ultralytics.__file__).parent / "assets" / "bus.jpg"  # four people and a bus, shipped with Ultralytics
VIEWPORT = {"width": 1400, "height": 1000}
WIDTHS = {
    "app_start.png": 900,
    "app_page.png": 1000,
    "app_viewer.png": 650,
    "app_angles.png": 700,
    "app_people.png": 900,
    "app_out_of_view.png": 900,
    "app_everyone.png": 1000,
    "app_photo.png": 1000,
    "app_1280x800.png": 900,  # two laptop windows, one above the other
    "app_390x844.png": 804,  # two phone windows side by side, at full size
}


def save(png: bytes | Image.Image, path: Path) -> None:
    image = png if isinstance(png, Image.Image) else Image.open(io.BytesIO(png)).convert("RGB")
    width = WIDTHS.get(path.name, 1000)
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(path, optimize=True)


def seek(page: Page, seconds: float) -> None:
    script = f"v => new Promise(done => {{ v.onseeked = done; v.currentTime = {seconds}; }})"
    page.locator("#video video").evaluate(script)
    page.wait_for_timeout(800)


def show_gif(page: Page) -> None:
    """Scroll to the GIF and back: Gradio loads images lazily, so a full-page screenshot would show an empty box."""
    page.locator("#gif img").scroll_into_view_if_needed()
    page.locator("#gif img").evaluate("img => img.complete || new Promise(done => { img.onload = done; })")
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)


def window_views(page: Page, size: tuple[int, int], path: Path) -> None:
    """The page in a window of `size`: its top, and scrolled to the video and the viewer, side by side."""
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(1500)  # the viewer and the chart follow the new width
    page.evaluate("window.scrollTo(0, 0)")
    script = "v => new Promise(done => { v.onseeked = done; v.currentTime = 3.0; })"
    page.locator("#input_video video").evaluate(script)  # a resized player can stay blank until it seeks
    page.wait_for_timeout(500)
    top = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    page.locator("#video").evaluate("element => element.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    view = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    gap = 24
    if width < height:  # a phone: the two side by side
        both = Image.new("RGB", (top.width + gap + view.width, max(top.height, view.height)), "#888")
        both.paste(view, (top.width + gap, 0))
    else:  # a laptop: one above the other
        both = Image.new("RGB", (max(top.width, view.width), top.height + gap + view.height), "#888")
        both.paste(view, (0, top.height + gap))
    both.paste(top, (0, 0))
    save(both, path)
    page.set_viewport_size(VIEWPORT)
    page.wait_for_timeout(1000)


def beside_viewer(page: Page, media: str = "video") -> Locator:
    """The row that holds the video (or the photo, `media`) and the 3D view beside it."""
    return page.locator("#viewer").locator(f"xpath=ancestor::div[.//*[@id='{media}']][1]")


def video_and_view(page: Page, media: str = "video") -> bytes:
    """The video (or photo) and the 3D view beside it, down to the viewer's controls (no charts or tables)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    row = beside_viewer(page, media).bounding_box()
    controls = page.locator("#viewer .sv-controls").bounding_box()
    height = controls["y"] + controls["height"] + 2 - row["y"]
    return page.screenshot(full_page=True, clip={"x": row["x"], "y": row["y"], "width": row["width"], "height": height})


def wait_for_run(page: Page, done: str | re.Pattern = re.compile("Done:|Could not|wrong")) -> None:
    expect(page.locator("#status")).to_contain_text(done, timeout=RUN_TIMEOUT_MS)
    print(page.locator("#status").inner_text(), page.locator("#models").inner_text(), sep="\n")


def open_example(page: Page) -> None:
    """The example clip in the input player (the clip is copied into Gradio's cache first: give it time)."""
    page.locator("#example").click()
    page.locator("#input_video video").wait_for(timeout=LOAD_TIMEOUT_MS)
    page.wait_for_timeout(1500)


def lift_everyone(page: Page) -> None:
    """Tick every person offered (the page's --all-tracks) and lift them together."""
    offered = page.locator("#people_choice label").filter(has_text=re.compile(r"#\d+"))
    expect(offered.first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    for label in offered.all():
        if not label.locator("input").is_checked():
            label.click()
    numbers = [re.match(r"#\d+", label.inner_text().strip()).group(0) for label in offered.all()]
    page.locator("#lift_people").click()
    wait_for_run(page, re.compile("lifted " + ", ".join(numbers) + r"\.|Could not|wrong"))


def example_views(page: Page, args: argparse.Namespace) -> None:
    """The example clip with *both*: the start, the finished page, the window sizes, the viewer, the picker."""
    open_example(page)
    save(page.screenshot(), args.out / "app_start.png")
    page.locator("#lifter").get_by_label("both", exact=True).check()
    page.locator("#run").click()
    wait_for_run(page)
    seek(page, 3.0)
    show_gif(page)
    save(page.screenshot(full_page=True), args.out / "app_page.png")
    for size in args.sizes:
        window_views(page, size, args.out / f"app_{size[0]}x{size[1]}.png")
    canvas = page.locator("#viewer .sv-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 100, y + 25, steps=6)
    page.mouse.up()
    page.wait_for_timeout(500)
    save(page.locator("#viewer").screenshot(), args.out / "app_viewer.png")
    page.locator("#viewer .sv-angle-table tbody tr").filter(has_text="elbow_flexion_r").first.click()
    seek(page, 2.0)
    save(page.locator("#viewer").screenshot(), args.out / "app_angles.png")
    save(page.locator("#people").screenshot(), args.out / "app_people.png")
    people = page.locator("#people_choice label").filter(has_text=re.compile(r"#\d+")).all()
    main_subject, man_on_the_box = people[:2]
    other = re.match(r"#\d+", man_on_the_box.inner_text().strip()).group(0)
    main_subject.click()
    man_on_the_box.click()
    page.locator("#lift_people").click()
    wait_for_run(page, f"lifted {other}.")
    seek(page, 6.6)
    save(beside_viewer(page).screenshot(), args.out / "app_out_of_view.png")


def everyone_view(page: Page, args: argparse.Namespace) -> None:
    """The example clip with everyone lifted together: the video and the 3D view with both people, labelled."""
    open_example(page)
    page.locator("#run").click()
    wait_for_run(page)
    lift_everyone(page)
    seek(page, min(2.4, (args.max_frames or 230) / 30 - 0.2))  # both people in view (the second from frame 39)
    save(video_and_view(page), args.out / "app_everyone.png")


def photo_view(page: Page, args: argparse.Namespace) -> None:
    """A still with several people from the Photo tab, everyone lifted: the photo and its 3D view."""
    page.get_by_role("tab", name="Photo").click()
    page.locator("#input_photo input[type=file]").set_input_files(str(args.photo))
    page.locator("#input_photo img").wait_for(timeout=LOAD_TIMEOUT_MS)
    page.locator("#run").click()
    wait_for_run(page)
    lift_everyone(page)
    page.locator("#photo img").wait_for(timeout=LOAD_TIMEOUT_MS)
    page.wait_for_timeout(1500)
    save(video_and_view(page, "photo"), args.out / "app_photo.png")


def live_view(page: Page, args: argparse.Namespace) -> None:
    """The Live tab streaming the fake camera: the camera with its 2D, the live 3D view and the readout."""
    page.get_by_role("tab", name="Live").click()
    page.locator("#live-start").click()
    page.locator("#live-status").filter(has_text="ms latency").wait_for(timeout=LOAD_TIMEOUT_MS)
    page.wait_for_timeout(3000)
    save(page.locator("#live-viewer").screenshot(), args.out / "app_live.png")
    page.locator("#live-stop").click()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--port", type=int, default=7872)
    parser.add_argument("--sizes", type=picture_size, nargs="*", default=[(1280, 800), (390, 844)], metavar="WxH",
                        help="window sizes for the narrow-window screenshots app_<W>x<H>.png")
    parser.add_argument("--views", nargs="+", choices=VIEWS, default=list(VIEWS), help="which screenshots to take")
    parser.add_argument("--max-frames", type=int, default=None, help="cut the clip (a quick check of the script)")
    parser.add_argument("--keypoints", choices=("lite", "full", "heavy"), default=PipelineConfig.keypoints,
                        help="the 2D keypoints the page starts with")
    parser.add_argument("--photo", type=Path, default=BUS, help="the still for app_photo.png")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    demo = build_ui(PipelineConfig(max_frames=args.max_frames, keypoints=args.keypoints))
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=True, quiet=True)
    takes = {"example": example_views, "everyone": everyone_view, "photo": photo_view, "live": live_view}
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as folder:
        camera = bench_live.write_y4m(example_video_path(), Path(folder) / "camera.y4m", 240)
        fake_camera = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                       f"--use-file-for-fake-video-capture={camera}"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=bench_live.CHROMIUM_ARGS + fake_camera)
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(LOAD_TIMEOUT_MS)
        for view in args.views:
            page.goto(f"http://127.0.0.1:{args.port}")
            takes[view](page, args)
        browser.close()
    demo.close()


if __name__ == "__main__":
    main()
