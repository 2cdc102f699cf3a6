"""The real Gradio page in headless Chromium (Debian's, driven by Playwright): the example clip end to end (people,
live 3D viewer, video sync, another person from the cached detections, downloads), a webcam recording (Chromium's
fake camera playing the example clip) lifted, the Live tab streaming that camera, and bad uploads.

Run alone with `pytest -m browser`. Needs /usr/bin/chromium (`make browser` installs it); never `playwright install`.
The example is detected once per module (its first 60 frames, where two people are in view); the tests that
follow look at that one page in turn.
"""

from __future__ import annotations

import io
import re
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect, sync_playwright

import app.ui
from app.export import Mp4Writer
from app.pipeline import PipelineConfig
from app.ui import build_ui
from detector import example_video_path
from scripts import bench_live

pytest_plugins = ["tests.test_app"]  # its fixtures: the tiny checkpoints and the short example clip
pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = bench_live.CHROMIUM_ARGS
EXAMPLE_FRAMES = 60  # the man on the box is in view from the start, the walking woman from frame 39
RUN_TIMEOUT_MS = 400_000  # the example's detection on a busy 2-core machine
VIEWPORT = {"width": 1400, "height": 1000}
CAMERA_FRAMES = 90  # 3 s of the example (both people in view from frame 39); Chromium loops it
RECORD_MS = 3000
LIVE_SAMPLES = 6  # seconds of the live readout read (the best of them counts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def detections():
    """Counts the detector runs of the app (picking another person must not add one)."""
    calls = []
    detect = app.ui.detect_people
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app.ui, "detect_people", lambda *args, **kwargs: calls.append(args[0]) or detect(*args, **kwargs))
        yield calls


@pytest.fixture(scope="module")
def app_url(checkpoints, detections):
    """The app on a free port, with the tiny test checkpoints and a frame cap to keep runs short."""
    models = {
        "student": (str(checkpoints["student"]),),
        "teacher": (str(checkpoints["teacher"]),),
        "both": (str(checkpoints["student"]), str(checkpoints["teacher"])),
    }
    live_models = {
        "causal student (no look-ahead)": (str(checkpoints["student_causal"]),),
        "student beside the teacher": (str(checkpoints["student"]), str(checkpoints["teacher"])),
    }
    demo = build_ui(PipelineConfig(max_frames=EXAMPLE_FRAMES), models, live_models)
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
    """A fresh page of the app."""
    page = browser.new_page(accept_downloads=True, viewport=VIEWPORT)
    page.set_default_timeout(30_000)
    page.goto(app_url)
    yield page
    page.close()


@pytest.fixture(scope="module")
def example_page(browser, app_url):
    """One page that has run the example clip with both models (the tests below share it, in order)."""
    page = browser.new_page(accept_downloads=True, viewport=VIEWPORT)
    page.set_default_timeout(30_000)
    page.goto(app_url)
    page.locator("#example").click()
    page.locator("#input_video video").wait_for()  # the example is shown before it is processed
    page.locator("#lifter").get_by_label("both", exact=True).check()
    page.locator("#run").click()
    expect(page.locator("#status")).to_contain_text(re.compile("Done:|Could not|wrong"), timeout=RUN_TIMEOUT_MS)
    yield page
    page.close()


def viewer_frame(page) -> int:
    return int(page.locator("#viewer .scjd-viewer").get_attribute("data-frame"))


def canvas_pixels(page) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.locator("#viewer .sv-canvas").screenshot())).convert("RGB"), float)


def people_offered(page) -> list[str]:
    return [label for label in page.locator("#people_choice label").all_inner_texts() if label.startswith("#")]


def test_the_example_offers_every_person_with_the_main_subject_chosen(example_page, detections):
    status = example_page.locator("#status").inner_text()
    assert "Done:" in status and re.search(r"\d+ people found, lifted #\d+", status), status
    offered = people_offered(example_page)
    assert len(offered) >= 2 and "main subject" in offered[0]
    assert example_page.locator("#people_gallery img").count() == len(offered)  # a thumbnail per person
    assert example_page.locator("#people_choice input[type=checkbox]:checked").count() >= 1
    assert len(detections) == 1


def test_the_viewer_draws_a_canvas_that_turns_when_dragged(example_page):
    canvas = example_page.locator("#viewer .sv-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box["width"] >= 500 and box["height"] >= 400  # a large 3D view, not a thumbnail
    before = canvas_pixels(example_page)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    example_page.mouse.move(x, y)
    example_page.mouse.down()
    example_page.mouse.move(x + 160, y + 40, steps=8)
    example_page.mouse.up()
    example_page.wait_for_timeout(300)
    after = canvas_pixels(example_page)
    changed = (np.abs(after - before).sum(axis=-1) > 30).mean()
    assert changed > 0.01, f"only {changed:.2%} of the canvas changed after a drag"
    legend = example_page.locator("#viewer .sv-legend").inner_text()
    assert "left" in legend and "right" in legend and "teacher" in legend


def test_the_video_and_the_viewer_show_the_same_frame_after_a_seek(example_page):
    video = example_page.locator("#video video")
    video.wait_for()
    assert video.get_attribute("src").endswith("_2d.mp4")
    video.evaluate("v => new Promise(done => { v.onseeked = done; v.currentTime = 1.25; })")
    expected = int(np.floor(1.25 * 30))  # the example plays at 30 fps
    expect(example_page.locator("#viewer .scjd-viewer")).to_have_attribute("data-frame", str(expected))
    # and the other way: the viewer's slider moves the video
    example_page.locator("#viewer .sv-scrub").evaluate(
        "s => { s.value = '12'; s.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    example_page.wait_for_timeout(500)
    assert int(np.floor(video.evaluate("v => v.currentTime") * 30)) == viewer_frame(example_page) == 12


def angle_chart_pixels(page) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.locator("#viewer .sv-angles").screenshot())).convert("RGB"), float)


def test_the_angle_chart_moves_with_the_video_and_plots_an_angle_on_a_click(example_page):
    root = example_page.locator("#viewer .scjd-viewer")
    chart = example_page.locator("#viewer .sv-angles")
    chart.scroll_into_view_if_needed()
    assert chart.is_visible()
    rows = example_page.locator("#viewer .sv-angle-table tbody tr")
    assert rows.count() >= 20 and "knee_flexion_r" in " ".join(rows.all_inner_texts())
    video = example_page.locator("#video video")
    for seconds in (0.5, 1.6):  # the chart's frame marker follows the video
        video.evaluate(f"v => new Promise(done => {{ v.onseeked = done; v.currentTime = {seconds}; }})")
        expect(root).to_have_attribute("data-angle-frame", str(int(np.floor(seconds * 30))))
        if seconds == 0.5:
            before = angle_chart_pixels(example_page)
    moved = (np.abs(angle_chart_pixels(example_page) - before).sum(axis=-1) > 30).mean()
    assert moved > 0.001, "the frame marker did not move on the chart"
    row = rows.filter(has_text="elbow_flexion_l")
    assert "sv-plotted" not in (row.get_attribute("class") or "")
    row.click()  # a click plots it
    expect(row).to_have_class(re.compile("sv-plotted"))


def test_the_comparison_and_the_downloads_appear(example_page):
    table = example_page.locator("#models").inner_text()
    assert "MFLOPs" in table and "parameters" in table and "mean distance student vs teacher" in table
    assert example_page.locator("#viewer .sv-chart").is_visible()
    names = [a.get_attribute("download") for a in example_page.locator("#files a[download]").all()]
    stem = "sports2d_demo"
    suffixes = ("side_by_side.mp4", "2d.mp4", "3d.gif", "student_3d.csv", "teacher_3d.csv", "pose.npz", "pose.json",
                "student_angles.csv")
    expected = {f"{stem}_{suffix}" for suffix in suffixes}
    assert expected <= set(names), names
    with example_page.expect_download() as download:
        example_page.locator(f'#files a[download="{stem}_student_3d.csv"]').click()
    header = Path(download.value.path()).read_text().splitlines()[0]
    assert header.startswith("frame,time_s,pelvis_x,pelvis_y,pelvis_z,right_hip_x")


def test_picking_another_person_lifts_them_from_the_cached_detections(example_page, detections):
    first, second = example_page.locator("#people_choice label").filter(has_text=re.compile(r"#\d+")).all()[:2]
    second_id = re.match(r"#(\d+)", second.inner_text()).group(1)
    first.click()  # untick the main subject
    second.click()
    example_page.locator("#lift_people").click()
    expect(example_page.locator("#status")).to_contain_text(f"lifted #{second_id}.", timeout=RUN_TIMEOUT_MS)
    assert len(detections) == 1  # no second detection
    assert "#" + second_id in example_page.locator("#viewer .sv-legend").inner_text()


@pytest.mark.parametrize("case", ["not a video", "empty file", "no person", "damaged zip"])
def test_bad_uploads_show_a_readable_error_in_the_page(page, case, tmp_path):
    path = tmp_path / ("upload.zip" if case == "damaged zip" else "upload.mp4")
    if case == "not a video":
        path.write_text("hello, I am text")
    elif case in ("empty file", "damaged zip"):
        path.write_bytes(b"" if case == "empty file" else b"PK\x03\x04 cut short")
    else:
        with Mp4Writer(path, 25.0) as out:
            for shade in np.linspace(60, 200, 10):
                out.write(np.full((240, 320, 3), shade, np.uint8))
    if case == "damaged zip":  # the keypoints tab (OpenPose JSON in a zip)
        page.get_by_role("tab", name="2D keypoints file").click()
        page.locator("#upload input[type=file]").set_input_files(str(path))
        page.locator("#upload").get_by_text(path.stem).first.wait_for()
    else:
        page.locator("#input_video input[type=file]").set_input_files(str(path))
        page.locator("#input_video video[src]").first.wait_for(state="attached")
    page.locator("#run").click()
    expect(page.locator("#status")).to_contain_text("Could not process this file", timeout=RUN_TIMEOUT_MS)
    status = page.locator("#status").inner_text()
    expected = {"not a video": "not a video file", "empty file": "empty", "no person": "no person was found",
                "damaged zip": "cannot be read"}[case]
    assert expected in status
    assert "Traceback" not in page.content()


def write_y4m(path: Path, frames: int = CAMERA_FRAMES) -> Path:
    """The example clip's first frames as the .y4m Chromium's fake camera plays."""
    return bench_live.write_y4m(example_video_path(), path, frames)  # small: 640 x 360


def test_a_webcam_recording_is_lifted(browser, app_url, tmp_path):
    clip = write_y4m(tmp_path / "camera.y4m")
    fake_camera = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                   f"--use-file-for-fake-video-capture={clip}"]
    camera = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + fake_camera)
    try:
        page = camera.new_page(viewport=VIEWPORT)
        page.set_default_timeout(30_000)
        page.goto(app_url)
        source = page.locator("#input_video")
        source.get_by_label("Capture from camera").click()
        source.get_by_text("Click to Access Webcam").click()
        record = source.locator(".capture-button")  # one button: Record, then Stop
        record.click()
        expect(record).to_contain_text("Stop")
        page.wait_for_timeout(RECORD_MS)
        record.click()
        recording = source.locator("video[src]").first
        recording.wait_for()
        assert recording.get_attribute("src").endswith(".webm")  # MediaRecorder's file, uploaded as it is
        page.locator("#keypoints").get_by_label("fast", exact=True).check()  # BlazePose lite
        page.locator("#run").click()
        expect(page.locator("#status")).to_contain_text(re.compile("Done:|Could not|wrong"), timeout=RUN_TIMEOUT_MS)
        status = page.locator("#status").inner_text()
        assert "Done:" in status and re.search(r"\d+ (person|people) found, lifted #\d+", status), status
        frames = int(re.search(r"(\d+) frames", status).group(1))
        assert frames >= 30, status  # a second or more of the recording
        names = [a.get_attribute("download") for a in page.locator("#files a[download]").all()]
        assert any(name.endswith("_3d.csv") for name in names) and any(name.endswith(".bvh") for name in names)
        page.locator("#viewer .sv-canvas").wait_for()
    finally:
        camera.close()


def fake_camera_page(browser, app_url, tmp_path):
    """A browser whose camera plays the example clip, and a page of the app in it."""
    clip = write_y4m(tmp_path / "camera.y4m")
    fake_camera = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                   f"--use-file-for-fake-video-capture={clip}"]
    camera = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + fake_camera)
    page = camera.new_page(viewport=VIEWPORT)
    page.set_default_timeout(30_000)
    page.goto(app_url)
    return camera, page


def live_canvas(page) -> np.ndarray:
    picture = page.locator("#live-viewer .sv-canvas").screenshot()
    return np.asarray(Image.open(io.BytesIO(picture)).convert("RGB"), float)


def test_live_streams_the_camera_in_3d_and_stop_gives_the_takes_downloads(browser, app_url, tmp_path):
    camera, page = fake_camera_page(browser, app_url, tmp_path)
    try:
        page.get_by_role("tab", name="Live").click()
        status = page.locator("#live-status")
        page.locator("#live-start").click()
        expect(status).to_contain_text("ms latency", timeout=60_000)  # the causal student's 3D is there
        before = live_canvas(page)
        readings = []
        for _ in range(LIVE_SAMPLES):
            page.wait_for_timeout(1000)
            readings.append(status.inner_text())
        moved = np.abs(live_canvas(page) - before).mean()
        assert moved > 0.5, moved  # the 3D canvas changes as the person moves
        rates = [float(re.match(r"([\d.]+) fps", text).group(1)) for text in readings]
        assert max(rates) >= 10, readings  # frames processed a second, as the readout gives them
        delays = [float(re.search(r"(\d+) ms latency", text).group(1)) for text in readings]
        assert min(delays) < 1000, readings  # the causal student: no look-ahead to wait for
        page.locator("#live-stop").click()
        expect(page.locator("#live-message")).to_contain_text("Take of", timeout=30_000)
        expect(page.locator("#status")).to_contain_text(re.compile("Done:|Could not|wrong"), timeout=RUN_TIMEOUT_MS)
        assert "Done:" in page.locator("#status").inner_text()
        names = [a.get_attribute("download") for a in page.locator("#files a[download]").all()]
        assert any(name.endswith("_3d.csv") for name in names) and any(name.endswith(".bvh") for name in names)
    finally:
        camera.close()
