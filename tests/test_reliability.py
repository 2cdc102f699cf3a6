"""Reliability without a server: output storage and its limits, safe names, atomic writers on a full disk,
damaged weights and detection files, damaged and variable-frame-rate videos, cancelling a run."""

from __future__ import annotations

import errno
import os
import random
import time
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
from gradio.context import LocalContext

from app import __main__ as server_main
from app import api, export, storage
from app.jobs import Cancelled, StoppableProgress
from app.pipeline import USER_ERRORS, InputError, PipelineConfig, load_lifter, run_pipeline
from detector import DetectionResult, read_video
from pose_lifting.files import OutputWriteError
from pose_lifting.lifter import CorruptWeightsError, Lifter
from tests.conftest import write_video
from tests.test_app import checkpoints, keypoints_file  # noqa: F401 (a fixture, used by name)

ODD_NAMES = [
    "../../etc/passwd.mp4",
    "/abs/path/clip.mp4",
    "..",
    "a b\nc;$(rm -rf).mp4",
    "名前.mp4",
    "x" * 300 + ".mp4",
    "..\\..\\win.mp4",
    ".hidden.npz",
    "",
]


def fill(folder: Path, megabytes: float, age_s: float = 0.0) -> Path:
    folder.mkdir(parents=True)
    (folder / "data.bin").write_bytes(b"\0" * int(megabytes * 2**20))
    stamp = time.time() - age_s
    os.utime(folder, (stamp, stamp))
    return folder


def test_each_request_gets_its_own_folder_inside_the_root(tmp_path):
    store = storage.OutputStore(storage.StorageConfig(root=tmp_path / "root"))
    first, second = store.request_dir(Path("clip.mp4")), store.request_dir(Path("clip.mp4"))
    assert first != second and first.is_dir() and second.is_dir() and not any(first.iterdir())
    assert store.contains(first) and first.parent == store.requests and first.name.endswith("-clip")


def test_expired_requests_are_removed_and_recent_ones_kept(tmp_path):
    store = storage.OutputStore(storage.StorageConfig(root=tmp_path, retention_s=600))
    old = fill(store.requests / "old", 0.1, age_s=3600)
    old_cache = fill(store.gradio_cache / "abc123", 0.1, age_s=3600)
    recent = fill(store.requests / "recent", 0.1, age_s=60)
    assert set(store.cleanup()) == {old, old_cache}
    assert recent.is_dir() and not old.exists() and not old_cache.exists()


def test_the_disk_cap_removes_the_oldest_first_but_never_the_current_upload(tmp_path):
    store = storage.OutputStore(storage.StorageConfig(root=tmp_path, retention_s=1e9, max_total_mb=2.5))
    oldest = fill(store.requests / "a", 1, age_s=300)
    middle = fill(store.requests / "b", 1, age_s=200)
    upload = fill(store.gradio_cache / "c", 1, age_s=400) / "data.bin"  # the oldest, but it is being processed
    newest = fill(store.requests / "d", 1, age_s=100)
    store.request_dir(upload)
    assert not oldest.exists() and not middle.exists() and newest.is_dir() and upload.is_file()
    assert store.total_bytes() <= 2.5 * 2**20


def test_clear_empties_the_root_at_start_and_exit(tmp_path):
    store = storage.OutputStore(storage.StorageConfig(root=tmp_path))
    fill(store.requests / "a", 0.01)
    fill(store.gradio_cache / "b", 0.01)
    store.clear()
    assert store.entries() == [] and store.total_bytes() == 0


@pytest.mark.parametrize("name", ODD_NAMES)
def test_uploaded_names_never_lead_outside_the_request_folder(name, tmp_path):
    stem = storage.safe_stem(name)
    assert stem and set(stem) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    assert not stem.startswith(".") and len(stem) <= storage.MAX_STEM
    store = storage.OutputStore(storage.StorageConfig(root=tmp_path / "root"))
    folder = store.request_dir(Path(name) if name else None)
    target = folder / f"{stem}_side_by_side.mp4"
    assert store.contains(target) and target.parent == folder


def test_the_api_runs_a_keypoints_file_with_an_odd_name_inside_its_folder(checkpoints, tmp_path, monkeypatch):  # noqa: F811
    store = storage.OutputStore(storage.StorageConfig(root=tmp_path / "root"))
    monkeypatch.setattr(storage, "_active", store)
    upload = keypoints_file(tmp_path / "..%2f..%2fevil name;.npz", frames=20)
    models = {"student": (str(checkpoints["student"]),)}
    files, status = api.lift(str(upload), "student", PipelineConfig(), models, lambda *a, **k: None)
    assert status["ok"], status
    assert status["num_frames"] == 20 and status["source"] == upload.name
    assert len(files) == len(status["files"]) >= 5
    assert all(store.contains(f) and Path(f).parent.name == status["request"] for f in files)
    assert storage.safe_stem(upload.name) == "2f.._2fevil_name"
    assert all(Path(f).name.startswith("2f.._2fevil_name") for f in files)
    assert not list(tmp_path.glob("*.csv"))


@pytest.mark.parametrize(("name", "message"), [("notes.txt", "not a file type"), ("clip.exe", "not a file type")])
def test_the_api_refuses_file_types_it_cannot_decode(name, message, tmp_path):
    (tmp_path / name).write_text("hello")
    files, status = api.lift(str(tmp_path / name), "student", PipelineConfig(), {"student": ("x",)}, None)
    assert files == [] and not status["ok"] and message in status["message"]


def test_the_server_options_bind_to_localhost_and_state_their_limits():
    server, pipeline = server_main.parse_args([])
    assert server.host == "127.0.0.1" and not server.share
    assert server.max_upload_mb == 500 and server.retention_s == 3600 and server.max_disk_mb == 2048
    assert pipeline.max_duration_s == 60
    server, pipeline = server_main.parse_args(
        ["--max-upload-mb", "5", "--retention-s", "60", "--max-disk-mb", "10", "--output-root", "/tmp/x"]
    )
    config = server.storage_config()
    assert (config.retention_s, config.max_total_mb, config.root, server.max_upload_mb) == (60, 10, Path("/tmp/x"), 5)


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_gives_a_clear_error_and_leaves_no_partial_file(checkpoints, tmp_path, monkeypatch):  # noqa: F811
    real_savez = np.savez_compressed

    def half_then_full(handle, **arrays):
        real_savez(handle, **{k: arrays[k] for k in list(arrays)[:2]})  # some bytes reach the disk first
        disk_full()

    monkeypatch.setattr(export.np, "savez_compressed", half_then_full)
    out = tmp_path / "out"
    with pytest.raises(OutputWriteError, match="No space left on device") as caught:
        config = PipelineConfig(models=(str(checkpoints["student"]),))
        run_pipeline(keypoints_file(tmp_path / "walk.npz", frames=20), out, config)
    assert isinstance(caught.value, USER_ERRORS) and "no partial file was kept" in str(caught.value)
    assert not list(out.glob("*.npz")) and not list(out.glob(".*partial"))


class FullAfter:
    """An output container whose mux fails with ENOSPC after `frames` packets."""

    def __init__(self, container, frames: int) -> None:
        self.container, self.left = container, frames

    def mux(self, packets):
        self.left -= 1
        if self.left < 0:
            disk_full()
        return self.container.mux(packets)

    def __getattr__(self, name):
        return getattr(self.container, name)


def test_a_video_writer_that_runs_out_of_disk_leaves_nothing(tmp_path, monkeypatch):
    real_open = av.open
    monkeypatch.setattr(export.av, "open", lambda *a, **k: FullAfter(real_open(*a, **k), 5))
    path = tmp_path / "out.mp4"
    with pytest.raises(OutputWriteError, match="out.mp4"), export.Mp4Writer(path, 25) as out:
        for _ in range(20):
            out.write(np.zeros((64, 64, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_the_writes_behind_the_drawing_keep_their_order_and_raise_in_the_caller(checkpoints, tmp_path, monkeypatch):  # noqa: F811
    written = []
    with export.WriteBehind(depth=2) as behind:
        for index in range(50):
            behind.write(written.append, index)
    assert written == list(range(50))  # every call, in order, done when the block ends

    real_open = av.open  # the pipeline's MP4 runs out of disk in the writer thread, mid-render
    monkeypatch.setattr(export.av, "open", lambda *a, **k: FullAfter(real_open(*a, **k), 3))
    out = tmp_path / "out"
    with pytest.raises(OutputWriteError, match="side_by_side.mp4"):
        run_pipeline(keypoints_file(tmp_path / "walk.npz", frames=40), out,
                     PipelineConfig(models=(str(checkpoints["student"]),)))
    assert not list(out.glob("*.mp4")) and not list(out.glob("*.gif")) and not list(out.glob(".*partial"))

def test_the_api_turns_a_full_disk_into_a_message_and_offers_no_files(checkpoints, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(storage, "_active", storage.OutputStore(storage.StorageConfig(root=tmp_path / "root")))
    monkeypatch.setattr(export.np, "savez_compressed", disk_full)
    upload = keypoints_file(tmp_path / "walk.npz", frames=20)
    models = {"student": (str(checkpoints["student"]),)}
    files, status = api.lift(str(upload), "student", PipelineConfig(), models, lambda *a, **k: None)
    assert files == [] and not status["ok"] and "No space left on device" in status["message"]
    assert storage.active_store().entries() == []  # the half-finished request folder is gone


@pytest.mark.parametrize("damage", ["truncated", "garbage", "not a checkpoint"])
def test_damaged_weights_give_a_clear_error(damage, checkpoints, tmp_path):  # noqa: F811
    path = tmp_path / "student.pt"
    good = checkpoints["student"].read_bytes()
    # random bytes fail in torch.load in several ways (UnpicklingError, IndexError, KeyError, ...): try many
    contents = {
        "truncated": [good[: len(good) // 2]],
        "garbage": [random.Random(seed).randbytes(4096) for seed in range(300)],
    }.get(damage)
    if contents is None:
        import torch

        torch.save({"weights": torch.zeros(3)}, path)
        contents = [path.read_bytes()]
    for content in contents:
        path.write_bytes(content)
        with pytest.raises(CorruptWeightsError, match="damaged or not a lifter checkpoint"):
            Lifter.from_pretrained(path)
    with pytest.raises(InputError, match=str(path)):
        load_lifter(path)


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_a_truncated_detection_file_gives_a_clear_error(suffix, checkpoints, tmp_path):  # noqa: F811
    frames = 20
    detections = DetectionResult(
        frame_index=np.arange(frames),
        track_id=np.ones(frames),
        keypoints_coco=np.full((frames, 17, 2), 50.0),
        scores_coco=np.ones((frames, 17)),
        boxes=np.tile([0, 0, 100, 100], (frames, 1)),
        box_scores=np.ones(frames),
        timestamps=np.arange(frames) / 25,
        fps=25.0,
        width=100,
        height=100,
        main_track_id=1,
        keypoint_threshold=0.3,
    )
    path = detections.save(tmp_path / f"detections{suffix}")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(USER_ERRORS, match="detections") as caught:
        run_pipeline(path, tmp_path / "out", PipelineConfig(models=(str(checkpoints["student"]),)))
    assert "readable" in str(caught.value)


@pytest.fixture(scope="module")
def person_frames(example_video) -> list[np.ndarray]:
    """40 frames of the example clip (a real person) at 320 px wide."""
    frames = read_video(example_video).frames(limit=40, max_side=320)
    return [frame.image[: frame.image.shape[0] // 2 * 2] for frame in frames]


def damage_packets(path: Path, first: int, count: int) -> Path:
    """A copy of the clip whose video packets first..first+count-1 are overwritten with random bytes."""
    with av.open(str(path)) as container:
        spans = [(p.pos, p.size) for p in container.demux(video=0) if p.size > 0][first : first + count]
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    for position, size in spans:
        data[position : position + size] = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    damaged = path.with_name(f"damaged_{path.name}")
    damaged.write_bytes(bytes(data))
    return damaged


def test_a_clip_damaged_half_way_gives_the_readable_part_and_a_warning(person_frames, checkpoints, tmp_path):  # noqa: F811
    damaged = damage_packets(write_video(tmp_path / "walk.mp4", person_frames, fps=25), 20, 3)
    config = PipelineConfig(models=(str(checkpoints["student"]),))
    result = run_pipeline(damaged, tmp_path / "out", config)
    assert 0 < result.num_frames < len(person_frames)
    assert any("is damaged" in warning and "skipped" in warning for warning in result.warnings)
    assert read_video(result.files["mp4"]).num_frames == result.num_frames


def test_a_variable_frame_rate_clip_keeps_its_real_timing(person_frames, checkpoints, tmp_path):  # noqa: F811
    gaps = np.where(np.arange(len(person_frames)) % 3 == 0, 0.08, 0.02)  # 12.5 fps and 50 fps in turn
    times = np.concatenate([[0.0], np.cumsum(gaps[:-1])])
    clip = write_video(tmp_path / "vfr.mp4", person_frames, fps=25, times=times)
    result = run_pipeline(clip, tmp_path / "out", PipelineConfig(models=(str(checkpoints["student"]),)))
    assert result.num_frames == len(person_frames)
    with np.load(result.files["npz"]) as data:
        assert np.allclose(data["timestamps"], times, atol=2e-3)
        assert np.isfinite(data["poses_3d_student"]).all()


def test_a_cancelled_request_stops_at_its_next_progress_report(monkeypatch):
    stop = SimpleNamespace(is_set=lambda: True)
    with pytest.raises(Cancelled):
        StoppableProgress(lambda *a, **k: None, stop)(0.5, desc="rendering")
    reports = []
    running = StoppableProgress(lambda *a, **k: reports.append(a), SimpleNamespace(is_set=lambda: False))
    running(0.5)
    assert reports == [(0.5,)]


def test_a_closed_page_stops_its_request(monkeypatch):
    """Gradio marks the events of a page that closed as not alive; the next progress report then stops the run."""
    event = SimpleNamespace(_id="event-1", alive=True)
    blocks = SimpleNamespace(_queue=SimpleNamespace(active_jobs=[None, [event]]))
    progress = StoppableProgress(lambda *a, **k: None, SimpleNamespace(is_set=lambda: False))
    blocks_token, event_token = LocalContext.blocks.set(blocks), LocalContext.event_id.set("event-1")
    try:
        progress(0.1)
        event.alive = False
        with pytest.raises(Cancelled):
            progress(0.2)
    finally:
        LocalContext.blocks.reset(blocks_token)
        LocalContext.event_id.reset(event_token)
