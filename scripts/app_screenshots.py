"""Screenshots of the page for docs/app.md: the example clip with both shipped lifters, in headless Chromium.

    python -m scripts.app_screenshots [--out docs/screenshots] [--port 7872]

Starts the page, runs the whole example clip with *both*, and saves app_start.png (the example shown before it
is processed), app_page.png (the finished page, video and viewer at 3 s), app_viewer.png (the viewer turned by
a mouse drag), app_people.png (the person picker) and app_out_of_view.png (the man on the box lifted instead, at
a frame where he is out of view). PNGs are downscaled and reduced to 256 colours to stay small. Needs
/usr/bin/chromium and the weights in weights/; takes several minutes on a CPU.
"""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

from app.pipeline import PipelineConfig
from app.ui import build_ui

CHROMIUM = "/usr/bin/chromium"
RUN_TIMEOUT_MS = 900_000
WIDTHS = {
    "app_start.png": 900,
    "app_page.png": 1000,
    "app_viewer.png": 650,
    "app_people.png": 900,
    "app_out_of_view.png": 900,
}


def save(png: bytes, path: Path) -> None:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width = WIDTHS[path.name]
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(path, optimize=True)


def seek(page: Page, seconds: float) -> None:
    script = f"v => new Promise(done => {{ v.onseeked = done; v.currentTime = {seconds}; }})"
    page.locator("#video video").evaluate(script)
    page.wait_for_timeout(800)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--port", type=int, default=7872)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    demo = build_ui(PipelineConfig())
    demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=True, quiet=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
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
        save(page.screenshot(full_page=True), args.out / "app_page.png")
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
