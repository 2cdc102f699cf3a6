"""Reliability of the running server, through `gradio_client` on 127.0.0.1 (and the page in headless Chromium): the
`/lift` API, the upload limit, refused file types, the queue position, and a cancel (API or page button) or a
closed page freeing the worker for the next request."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.utils import Status
from playwright.sync_api import expect

from app import storage
from app.pipeline import PipelineConfig
from app.ui import build_ui
from tests.test_app import checkpoints, keypoints_file  # noqa: F401 (a fixture, used by name)
from tests.test_app_browser import VIEWPORT, browser, free_port  # noqa: F401 (browser: a fixture)

pytestmark = pytest.mark.slow
MAX_UPLOAD_BYTES = 1_000_000


@pytest.fixture(scope="module")
def server(checkpoints, tmp_path_factory):  # noqa: F811
    """The app with the tiny checkpoints, its own output root and a 1 MB upload limit."""
    root = tmp_path_factory.mktemp("server")
    store = storage.OutputStore(storage.StorageConfig(root=root))
    previous_store, previous_cache = storage.active_store(), os.environ.get("GRADIO_TEMP_DIR")
    storage.install(store)
    os.environ["GRADIO_TEMP_DIR"] = str(store.gradio_cache)
    demo = build_ui(PipelineConfig(), {"student": (str(checkpoints["student"]),)})
    port = free_port()
    limits = {"max_file_size": MAX_UPLOAD_BYTES, "allowed_paths": [str(store.requests)]}
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **limits)
    yield Client(f"http://127.0.0.1:{port}/", verbose=False), store
    demo.close()
    storage.install(previous_store)
    if previous_cache is None:
        os.environ.pop("GRADIO_TEMP_DIR", None)
    else:
        os.environ["GRADIO_TEMP_DIR"] = previous_cache


def test_the_lift_endpoint_is_documented_and_returns_the_files_of_its_request(server, tmp_path):
    client, store = server
    assert "/lift" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    source = keypoints_file(tmp_path / "walk_api.npz", frames=24)
    files, status = client.predict(handle_file(str(source)), "student", api_name="/lift")
    assert status["ok"] and status["num_frames"] == 24 and status["source"] == "walk_api.npz"
    names = sorted(Path(f).name for f in files)
    assert names == sorted(status["files"].values()) and all(name.startswith("walk_api") for name in names)
    npz = next(Path(f) for f in files if f.endswith(".npz"))
    with np.load(npz) as data:
        assert json.loads(str(data["meta"]))["source"] == "walk_api.npz" and data["poses_3d_student"].shape[1] == 24
    assert (store.requests / status["request"]).is_dir()


def test_an_upload_over_the_limit_is_refused_with_a_message(server, tmp_path):
    client, _ = server
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * (MAX_UPLOAD_BYTES + 1))
    with pytest.raises(Exception, match="exceeds the maximum file size of 1000000 bytes"):
        client.predict(handle_file(str(big)), "student", api_name="/lift")
    # the server refuses it too, whatever the client checks
    with big.open("rb") as handle:
        answer = httpx.post(f"{client.src}gradio_api/upload", files={"files": ("big.mp4", handle)})
    assert answer.status_code == 413 and "maximum allowed size of 1000000 bytes" in answer.text


def test_a_file_type_it_cannot_decode_is_refused(server, tmp_path):
    client, _ = server
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    with pytest.raises(Exception, match="Invalid file type"):
        client.predict(handle_file(str(notes)), "student", api_name="/lift")


def wait_for(job, code: Status, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while job.status().code != code:
        assert not job.done() and time.monotonic() < deadline, f"the job never reached {code}: {job.status()}"
        time.sleep(0.05)


def test_cancel_frees_the_worker_and_the_next_request_runs(server, tmp_path):
    client, store = server
    long_source = keypoints_file(tmp_path / "long_walk.npz", frames=1500)  # rendering takes a while
    short_source = keypoints_file(tmp_path / "short_walk.npz", frames=20)
    long_job = client.submit(handle_file(str(long_source)), "student", api_name="/lift")
    wait_for(long_job, Status.PROGRESS)
    waiting = Client(client.src, verbose=False).submit(handle_file(str(short_source)), "student", api_name="/lift")
    wait_for(waiting, Status.IN_QUEUE)
    assert waiting.status().rank == 0  # first in the queue, behind the running request
    assert long_job.cancel()
    files, status = waiting.result(timeout=120)
    assert status["ok"] and status["source"] == "short_walk.npz"
    # the cancelled request stopped mid-way: its folder was removed, its results were never written
    requests = [path.name for path in store.requests.iterdir()]
    assert not any(name.endswith("-long_walk") for name in requests)
    assert any(name.endswith("-short_walk") for name in requests)


@pytest.mark.browser
@pytest.mark.parametrize("leave", ["press cancel", "close the page"])
def test_a_user_who_cancels_or_leaves_frees_the_worker(leave, server, browser, tmp_path):  # noqa: F811
    client, store = server
    long_source = keypoints_file(tmp_path / f"{leave.replace(' ', '_')}.npz", frames=1500)
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(60_000)
    page.goto(client.src)
    page.get_by_role("tab", name="2D keypoints file").click()
    page.locator("#upload input[type=file]").set_input_files(str(long_source))
    page.locator("#upload").get_by_text(long_source.stem).first.wait_for()
    page.locator("#run").click()
    deadline = time.monotonic() + 120
    while not list(store.requests.glob(f"*-{long_source.stem}")):  # the people are found and the lift has started
        assert time.monotonic() < deadline, "the page's request never started"
        time.sleep(0.1)
    time.sleep(1.0)
    if leave == "press cancel":
        page.locator("#cancel").click()
        expect(page.locator("#status")).to_have_text("Cancelled.")
        expect(page.locator("#run")).to_be_enabled()
    page.close()
    short_source = keypoints_file(tmp_path / "after_page.npz", frames=20)
    files, status = client.predict(handle_file(str(short_source)), "student", api_name="/lift")
    assert status["ok"]
    # the stopped request never wrote its results, and its partial folder is gone
    assert not list(store.requests.glob(f"*-{long_source.stem}")), "the abandoned request ran to its end"


def test_the_example_clip_is_served_wherever_its_cache_folder_lies(server, example_video):
    """'Use the example clip' puts the cached clip in the player: Gradio serves it although the cache folder
    (`SCJD_CACHE_DIR`, or a data/ linked from elsewhere) may lie outside the working directory and the temp folder."""
    client, _ = server
    response = httpx.get(f"{client.src.rstrip('/')}/gradio_api/file={example_video}", timeout=60)
    assert response.status_code == 200 and response.content[4:8] == b"ftyp", response.status_code
