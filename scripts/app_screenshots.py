"""Screenshots of the page for docs/app.md: the example clip with both shipped lifters, in headless Chromium.

    python -m scripts.app_screenshots [--out docs/screenshots] [--port 7872] [--sizes 1280x800 390x844]

Starts the page, runs the whole example clip with *both*, and saves app_start.png (the example shown before it
is processed), app_page.png (the finished page, video and viewer at 3 s), app_<W>x<H>.png for each of `--sizes`
(the finished page in a window of that size: its top, and scrolled to the video and the 3D view; side by side
for a phone, one above the other for a laptop), app_viewer.png (the viewer turned by a mouse drag), app_angles.png
(the viewer with its joint angle chart and table, one more angle plotted by a click),
app_people.png (the person picker) and app_out_of_view.png (the man on the box lifted instead, at a frame where
he is out of view). PNGs are downscaled and reduced to 256 colours to stay small. Needs /usr/bin/chromium and
the weights in weights/; takes several minutes on a CPU.
"""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

from app.cli import picture_size
from app.pipeline import PipelineConfig
from app.ui import build_ui

CHROMIUM = "/usr/bin/chromium"
RUN_TIMEOUT_MS = 900_000
VIEWPORT = {"width": 1400, "height": 1000}
WIDTHS = {
    "app_start.png": 900,
    "app_page.png": 1000,
    "app_viewer.png": 650,
    "app_angles.png": 700,
    "app_people.png": 900,
    "app_out_of_view.png": 900,
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--port", type=int, default=7872)
    parser.add_argument("--sizes", type=picture_size, nargs="*", default=[(1280, 800), (390, 844)], metavar="WxH",
                        help="window sizes for the narrow-window screenshots app_<W>x<H>.png")
    parser.add_argument("--max-frames", type=int, default=None, help="cut the clip (a quick check of the script)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    demo = build_ui(PipelineConfig(max_frames=args.max_frames))
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=True, quiet=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"http://127.0.0.1:{args.port}")
        page.locator("#example").click()
        page.locator("#input_video video").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        save(page.screenshot(), args.out / "app_start.png")
        page.locator("#lifter").get_by_label("both", exact=True).check()
        page.locator("#run").click()
        expect(page.locator("#status")).to_contain_text(re.compile("Done:|Could not|wrong"), timeout=RUN_TIMEOUT_MS)
        print(page.locator("#status").inner_text(), page.locator("#models").inner_text(), sep="\n")
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
        expect(page.locator("#status")).to_contain_text(f"lifted {other}.", timeout=RUN_TIMEOUT_MS)
        seek(page, 6.6)
        save(page.locator("#video").locator("xpath=..").screenshot(), args.out / "app_out_of_view.png")
        browser.close()
    demo.close()


if __name__ == "__main__":
    main()
