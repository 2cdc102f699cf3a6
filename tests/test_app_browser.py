"""The real Gradio page in headless Chromium (Debian's, driven by Playwright): upload, results, downloads, errors.

Run alone with `pytest -m browser`. Needs /usr/bin/chromium (`make browser` installs it); never `playwright install`.
"""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect, sync_playwright

from app.export import Mp4Writer
from app.pipeline import PipelineConfig
from app.ui import build_ui

pytest_plugins = ["tests.test_app"]  # its fixtures: the tiny checkpoints and the short example clip
pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(checkpoints):
    """The app on a free port, with the tiny test checkpoints and a 30-frame cap to keep runs short."""
    models = {
        "student": (str(checkpoints["student"]),),
        "teacher": (str(checkpoints["teacher"]),),
        "both": (str(checkpoints["student"]), str(checkpoints["teacher"])),
    }
    demo = build_ui(PipelineConfig(max_frames=30), models)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}"
    demo.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}; install it with `make browser` (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh page of the app for each test."""
    page = browser.new_page(accept_downloads=True)
    page.set_default_timeout(20_000)
    page.goto(app_url)
    yield page
    page.close()


def submit(page, path: Path, model: str = "student") -> None:
    """Upload a file, pick the model, press the button, and wait until the run has finished."""
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.get_by_label(model, exact=True).check()
    page.locator("#upload").get_by_text(path.stem).first.wait_for()
    page.locator("#run").click()
    expect(page.locator("#status")).to_contain_text(re.compile("Done:|Could not"), timeout=TIMEOUT_MS)


def test_upload_the_example_and_get_the_video_gif_and_csv(page, short_clip, tmp_path):
    submit(page, short_clip, model="both")
    assert "Done:" in page.locator("#status").inner_text()
    video = page.locator("#video video")
    video.wait_for()
    assert video.get_attribute("src").endswith(".mp4")
    gif = page.locator("#gif img")
    gif.wait_for()
    assert gif.get_attribute("src").endswith(".gif")
    table = page.locator("#models").inner_text()
    assert "MFLOPs" in table and "teacher" in table and "mean distance student vs teacher" in table
    with page.expect_download() as download:
        page.locator(f'#files a[download="{short_clip.stem}_student_3d.csv"]').click()
    saved = download.value.path()
    header = Path(saved).read_text().splitlines()[0]
    assert header.startswith("frame,time_s,pelvis_x,pelvis_y,pelvis_z,right_hip_x")


@pytest.mark.parametrize("case", ["not a video", "empty file", "no person"])
def test_bad_uploads_show_a_readable_error_in_the_page(page, case, tmp_path):
    path = tmp_path / "upload.mp4"
    if case == "not a video":
        path.write_text("hello, I am text")
    elif case == "empty file":
        path.write_bytes(b"")
    else:
        with Mp4Writer(path, 25.0) as out:
            for shade in np.linspace(60, 200, 10):
                out.write(np.full((240, 320, 3), shade, np.uint8))
    submit(page, path)
    status = page.locator("#status").inner_text()
    expected = {"not a video": "not a video file", "empty file": "empty", "no person": "no person was found"}[case]
    assert "Could not process this file" in status and expected in status
    assert "Traceback" not in page.content()
