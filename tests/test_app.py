"""The app: pipeline and CLI on the real example clip, keypoints and detection files, bad input, renderer, writers."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
import torch
from PIL import Image

from app import cli, inputs, pipeline
from app.export import GifWriter, Mp4Writer
from app.pipeline import InputError, PipelineConfig, run_pipeline
from app.render import LEFT_COLOUR, RIGHT_COLOUR, Panel3D, PanelView
from detector import DetectionResult, DetectorError, example_video_path, read_video
from detector.examples import ExampleUnavailableError
from pose_lifting.lifter import save_checkpoint
from pose_lifting.model import STUDENT, TEACHER, PoseLifter
from pose_lifting.normalization import InputConfig

# the CSV header of the README, spelled out independently of pose_lifting.sequence.csv_header
CSV_JOINTS = [
    "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "spine", "thorax",
    "neck_nose", "head", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist",
]
CSV_HEADER = ["frame", "time_s"] + [f"{joint}_{axis}" for joint in CSV_JOINTS for axis in "xyz"]
CLIP_FRAMES = 40

# a standing person in camera axes (metres, y down), pelvis at the origin
STANDING = np.array([[0, 0, 0], [-0.12, 0, 0], [-0.12, 0.45, 0], [-0.12, 0.9, 0], [0.12, 0, 0], [0.12, 0.45, 0],
                     [0.12, 0.9, 0], [0, -0.25, 0], [0, -0.5, 0], [0, -0.6, -0.05], [0, -0.75, 0], [0.18, -0.5, 0],
                     [0.4, -0.3, 0], [0.45, -0.05, 0], [-0.18, -0.5, 0], [-0.4, -0.3, 0], [-0.45, -0.05, 0]],
                    np.float32)


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """Tiny untrained student, teacher and causal student checkpoints (the trained weights are not needed to test
    the app)."""
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    small = {"receptive_field": 9, "depth": 1, "num_heads": 2, "drop_path": 0.0}
    student = PoseLifter(replace(STUDENT, embed_dim=4, teacher_embed_dim=8, **small))
    teacher = PoseLifter(replace(TEACHER, embed_dim=8, **small))
    causal = PoseLifter(replace(STUDENT, embed_dim=4, teacher_embed_dim=8, target="last", **small))
    return {
        "student": save_checkpoint(folder / "student.pt", student, InputConfig(), "tiny-student"),
        "teacher": save_checkpoint(folder / "teacher.pt", teacher, InputConfig(), "tiny-teacher"),
        "student_causal": save_checkpoint(folder / "student_causal.pt", causal, InputConfig(), "tiny-causal"),
    }


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory) -> Path:
    """The first frames of the bundled example (Sports2D demo, real video of a person), at 640 px wide."""
    try:
        source = read_video(example_video_path())
    except ExampleUnavailableError as error:
        pytest.skip(f"example clip unavailable (package index unreachable?): {error}")
    path = tmp_path_factory.mktemp("clips") / "demo_short.mp4"
    with Mp4Writer(path, source.fps) as out:
        for frame in source.frames(limit=CLIP_FRAMES, max_side=640):
            out.write(frame.image[: frame.image.shape[0] // 2 * 2])
    return path


def keypoints_file(path: Path, frames: int = 50, layout: str = "h36m", **override) -> Path:
    """A 2D keypoints .npz of a person walking sideways across a 640x480 image, waving the left hand."""
    h36m = STANDING[:, :2] * 200 + np.array([320, 240])
    keypoints = h36m[None] + np.linspace(-80, 80, frames)[:, None, None] * np.array([1, 0])
    keypoints[:, 13, 1] -= 60 * np.abs(np.sin(np.arange(frames) / 4))
    content = {
        "keypoints": keypoints.astype(np.float32),
        "scores": np.full((frames, 17), 0.9, np.float32),
        "fps": 30.0,
        "width": 640,
        "height": 480,
        "layout": layout,
    } | override
    np.savez(path, **content)
    return path


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open() as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def count_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_cli_on_the_example_clip_writes_all_outputs(short_clip, checkpoints, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main([str(short_clip), "--out", str(out), "--checkpoint", str(checkpoints["student"])]) == 0
    stem = short_clip.stem
    header, rows = read_csv(out / f"{stem}_3d.csv")
    assert header == CSV_HEADER
    assert len(rows) == CLIP_FRAMES and [int(row[0]) for row in rows] == list(range(CLIP_FRAMES))
    assert np.isfinite(np.array(rows, float)).all()
    assert np.allclose(np.array(rows, float)[:, 1], np.arange(CLIP_FRAMES) / read_video(short_clip).fps, atol=1e-3)
    video = read_video(out / f"{stem}_side_by_side.mp4")
    assert video.codec == "h264" and video.num_frames == CLIP_FRAMES and video.width > video.height
    with Image.open(out / f"{stem}_3d.gif") as gif:
        assert gif.n_frames == CLIP_FRAMES
    with np.load(out / f"{stem}_pose.npz") as data:
        meta = json.loads(str(data["meta"]))
        assert data["keypoints_2d"].shape == (1, CLIP_FRAMES, 17, 2)
        assert data["poses_3d_student"].shape == (1, CLIP_FRAMES, 17, 3)
    assert meta["models"]["student"]["lifter"] == "tiny-student" and "camera axes" in meta["coordinates_3d"]
    parts = {f"{name} (in detect)" for name in ("yolo", "2D keypoints", "camera")}
    assert set(meta["ms_per_frame"]) == {"detect", "lift", "world", "render", "export", "total"} | parts
    assert json.loads((out / f"{stem}_pose.json").read_text())["fps"] == meta["fps"]
    assert "fps end to end" in capsys.readouterr().out


def test_keypoints_file_with_both_models_needs_no_detector(checkpoints, tmp_path, monkeypatch):
    def no_detector(*args, **kwargs):
        raise AssertionError("the detector must not run for a keypoints file")

    monkeypatch.setattr(inputs, "detect", no_detector)
    source = keypoints_file(tmp_path / "walk.npz", layout="coco")
    models = (str(checkpoints["student"]), str(checkpoints["teacher"]))
    result = run_pipeline(source, tmp_path / "out", PipelineConfig(models=models))
    assert result.num_frames == 50 and [run.label for run in result.models] == ["student", "teacher"]
    for label in ("student", "teacher"):
        header, rows = read_csv(tmp_path / "out" / f"walk_{label}_3d.csv")
        assert header == CSV_HEADER and len(rows) == 50
    assert result.comparison is not None and result.comparison.distance_mm.shape == (50, 17)
    assert result.comparison.mean_mm > 0  # two different random models disagree
    assert count_frames(result.files["mp4"]) == 50
    assert all(run.mflops > 0 and run.num_params > 0 for run in result.models)


def test_a_detection_file_with_two_people_and_all_tracks_gives_person_ids(checkpoints, tmp_path):
    frames = 30
    people = [STANDING[:, :2] * 150 + np.array([x, 240]) for x in (200, 440)]
    keypoints_coco = np.stack([p[:17] for _ in range(frames) for p in people])  # rows: (frame, person)
    detections = DetectionResult(
        frame_index=np.repeat(np.arange(frames), 2),
        track_id=np.tile([1, 2], frames),
        keypoints_coco=keypoints_coco,
        scores_coco=np.full((2 * frames, 17), 0.9),
        boxes=np.tile([[100, 100, 300, 400], [340, 100, 540, 400]], (frames, 1)),
        box_scores=np.full(2 * frames, 0.9),
        timestamps=np.arange(frames) / 30.0,
        fps=30.0,
        width=640,
        height=480,
        main_track_id=1,
        keypoint_threshold=0.3,
    )
    source = detections.save(tmp_path / "two.npz")
    config = PipelineConfig(models=(str(checkpoints["student"]),), all_tracks=True)
    result = run_pipeline(source, tmp_path / "out", config)
    header, rows = read_csv(result.files["csv:student"])
    assert header == CSV_HEADER[:2] + ["person_id"] + CSV_HEADER[2:]
    assert len(rows) == 2 * frames and sorted({row[2] for row in rows}) == ["1", "2"]


def test_the_gif_opens_on_the_person_who_enters_mid_clip(checkpoints, tmp_path):
    frames, enters = 30, 12
    person = STANDING[:, :2] * 150 + np.array([320, 240])
    detections = DetectionResult(
        frame_index=np.arange(enters, frames),
        track_id=np.ones(frames - enters, int),
        keypoints_coco=np.repeat(person[None, :17], frames - enters, axis=0),
        scores_coco=np.full((frames - enters, 17), 0.9),
        boxes=np.tile([[220, 100, 420, 400]], (frames - enters, 1)),
        box_scores=np.full(frames - enters, 0.9),
        timestamps=np.arange(frames) / 30.0,
        fps=30.0,
        width=640,
        height=480,
        main_track_id=1,
        keypoint_threshold=0.3,
    )
    result = run_pipeline(detections.save(tmp_path / "late.npz"), tmp_path / "out",
                          PipelineConfig(models=(str(checkpoints["student"]),)))
    with Image.open(result.files["gif"]) as gif:
        first = np.asarray(gif.convert("RGB")).reshape(-1, 3).astype(int)
        durations = []
        for index in range(gif.n_frames):  # identical pictures are merged, their durations added
            gif.seek(index)
            durations.append(gif.info["duration"])
    assert abs(sum(durations) - (frames - enters) * 1000 / 30) <= 10 * gif.n_frames  # from frame 12 on
    for colour in (LEFT_COLOUR, RIGHT_COLOUR):  # both sides of a skeleton on the first picture
        assert (np.abs(first - np.array(colour)).sum(axis=1) < 30).sum() > 20


def test_the_frame_cap_cuts_long_inputs_with_a_warning(checkpoints, tmp_path):
    source = keypoints_file(tmp_path / "long.npz", frames=90)
    config = PipelineConfig(models=(str(checkpoints["student"]),), max_duration_s=1.0)
    result = run_pipeline(source, tmp_path / "out", config)
    assert result.num_frames == 30 and "only the first 30 of 90 frames" in result.warnings[0]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.mp4", b"this is a text file, not a video", "not a video file"),
        ("empty.mp4", b"", "is empty"),
        ("bad.npz", None, "lacks layout"),
    ],
)
def test_bad_inputs_are_reported_and_the_other_inputs_still_run(name, content, message, checkpoints, tmp_path, capsys):
    bad = tmp_path / name
    if content is None:
        keypoints_file(bad)
        np.savez(bad, **{k: v for k, v in np.load(bad).items() if k != "layout"})
    else:
        bad.write_bytes(content)
    good = keypoints_file(tmp_path / "good.npz")
    code = cli.main([str(bad), str(good), "--out", str(tmp_path / "out"), "--checkpoint", str(checkpoints["student"])])
    assert code == 1
    assert message in capsys.readouterr().err
    assert (tmp_path / "out" / "good_3d.csv").is_file()


def test_a_video_without_a_person_says_so(checkpoints, tmp_path):
    path = tmp_path / "wall.mp4"
    with Mp4Writer(path, 25.0) as out:
        for shade in np.linspace(60, 200, 12):
            out.write(np.full((240, 320, 3), shade, np.uint8))
    with pytest.raises(DetectorError, match="no person was found"):
        run_pipeline(path, tmp_path / "out", PipelineConfig(models=(str(checkpoints["student"]),)))


def test_a_gpu_out_of_memory_in_the_detector_reruns_it_on_the_cpu_with_a_warning(monkeypatch, tmp_path):
    devices = []

    def detect(path, config, progress):
        devices.append(config.device)
        if config.device != "cpu":
            raise torch.cuda.OutOfMemoryError("simulated")
        return SimpleNamespace(warnings=[])  # run_detector only adds to the result's warnings

    monkeypatch.setattr(inputs, "detect", detect)
    result = pipeline.run_detector(tmp_path / "clip.mp4", PipelineConfig(device="cuda"), lambda *_: None)
    assert devices == ["cuda:0", "cpu"]
    assert result.warnings == ["the GPU ran out of memory; the detector ran on the CPU instead"]


def test_a_lifter_that_runs_out_of_gpu_memory_finishes_on_the_cpu_with_a_warning(checkpoints, monkeypatch, tmp_path):
    lifter = pipeline.load_lifter(str(checkpoints["student"]), "cpu")  # the instance run_pipeline gets from the cache
    predict = lifter.predict_windows

    def gpu_without_room(windows: torch.Tensor, flip_test: bool = False) -> torch.Tensor:
        if lifter.device.type == "cuda":
            raise torch.cuda.OutOfMemoryError("simulated")
        return predict(windows, flip_test)

    monkeypatch.setattr(lifter, "device", torch.device("cuda"))
    monkeypatch.setattr(lifter, "predict_windows", gpu_without_room)
    config = PipelineConfig(models=(str(checkpoints["student"]),), device="cpu")
    result = run_pipeline(keypoints_file(tmp_path / "k.npz"), tmp_path / "out", config)
    assert result.models[0].device == "cpu" and result.models[0].poses[0].poses.shape == (50, 17, 3)
    assert "the GPU ran out of memory; student lifted on the CPU instead" in result.warnings


def test_missing_weights_name_the_file_and_the_training_command(tmp_path):
    expected = r"teacher\.pt do not exist yet: train it with `python -m pose_lifting\.train --model teacher"
    with pytest.raises(InputError, match=expected):
        pipeline.load_lifter(tmp_path / "teacher.pt")
    with pytest.raises(InputError, match="check the path"):
        run_pipeline(keypoints_file(tmp_path / "k.npz"), tmp_path, PipelineConfig(models=(str(tmp_path / "x.pt"),)))


def test_the_3d_panel_draws_upright_left_right_coloured_skeletons():
    panel = Panel3D(PanelView(size=480, azimuth_deg=0.0, elevation_deg=0.0))
    uv = panel.project(STANDING) / 16
    assert uv[10, 1] < uv[0, 1] < uv[3, 1]  # head above pelvis above the right ankle on screen
    assert uv[13, 0] > uv[16, 0]  # the left wrist (x > 0) is drawn right of the right wrist, as in the video
    image = panel.draw([STANDING])
    colours = {tuple(c) for c in image.reshape(-1, 3)}
    assert LEFT_COLOUR in colours and RIGHT_COLOUR in colours


def test_the_gif_plays_at_the_video_speed(tmp_path):
    with GifWriter(tmp_path / "a.gif", 30.0) as gif:
        for i in range(31):
            gif.write(np.full((16, 16, 3), 8 * i, np.uint8))
    assert sum(gif.durations_ms()) == 1030  # 31 frames at 30 fps, to the GIF's 10 ms resolution
    with Image.open(tmp_path / "a.gif") as image:
        assert image.n_frames == 31


def test_long_clips_skip_gif_frames_but_keep_the_video_speed(checkpoints, tmp_path):
    config = PipelineConfig(models=(str(checkpoints["student"]),), gif_max_frames=20)
    result = run_pipeline(keypoints_file(tmp_path / "walk.npz", frames=50), tmp_path / "out", config)
    durations = []
    with Image.open(result.files["gif"]) as gif:
        assert gif.n_frames == 17  # every third of 50 frames
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
    assert sum(durations) == 17 * 100  # 3 video frames (100 ms at 30 fps) per GIF frame
    assert count_frames(result.files["mp4"]) == 50
