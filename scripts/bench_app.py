"""Benchmark the app end to end: per-stage ms/frame and fps for each 2D choice, beside MediaPipe, in one run.

    python -m scripts.bench_app [CLIP ...] [--keypoints yolo lite full heavy] [--stride auto 1] [--yolo-stride N ...]
        [--model NAME]
        [--mediapipe .venv-mediapipe/bin/python] [--frames N] [--device auto|cpu|cuda]

Each (2D keypoints model, stride) runs `run_pipeline` exactly as the CLI does, every output written, on every clip
(default: the bundled Sports2D demo, 1768x994, 30 fps, 230 frames), in this one process after one warm-up run, as
a CLI call with several inputs would. `--stride auto` is the default (the landmarks on every frame, YOLO's stride
from each clip's frame rate), `--stride N` both strides set to N (1: every frame); `--yolo-stride N ...` sets YOLO's
apart (a row per value; "keypoints" then keeps each model's own stride, auto unless given). Prints a Markdown
table: the stages' ms/frame ("detect" holds YOLO, the 2D keypoints pass and the camera step; "render" the
side-by-side mp4, the 2D mp4 and the GIF, decoding the video again), the wall time over all clips and the end-to-end
fps. With `--mediapipe PYTHON`, that venv's interpreter runs `scripts/bench_mediapipe.py` (MediaPipe's legacy pose
solution, full and heavy) on the same clips right after, for rows in the same table. Start-up (the app's imports)
is timed once, on its own line. The lifters are weights/<name>.pt; where those do not exist yet, untrained models
of the paper's configurations (same cost) stand in. The 3D panel's own frame rate is printed too (target: >= 30 fps).
"""

from __future__ import annotations

import time

STARTUP_STARTED = time.perf_counter()

import argparse  # noqa: E402  (after the clock: the imports below are the app's start-up)
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from app.pipeline import PipelineConfig, model_choices, run_pipeline, weights_path  # noqa: E402
from app.render import Panel3D  # noqa: E402
from detector import example_video_path  # noqa: E402
from detector.config import KEYPOINT_MODELS  # noqa: E402
from detector.landmark_assets import landmark_model_path  # noqa: E402
from pose_lifting.devices import DEVICES  # noqa: E402
from pose_lifting.lifter import save_checkpoint  # noqa: E402
from pose_lifting.model import STUDENT, TEACHER, PoseLifter  # noqa: E402
from pose_lifting.normalization import InputConfig  # noqa: E402

STARTUP_S = time.perf_counter() - STARTUP_STARTED
PAPER_CONFIGS = {"student": STUDENT, "teacher": TEACHER}
PANEL_TARGET_FPS = 30.0


def lifter_paths(names: tuple[str, ...], folder: Path) -> tuple[list[str], list[str]]:
    """The weights to use, and a note for each model that is an untrained stand-in."""
    paths, notes = [], []
    for name in names:
        path = weights_path(name)
        if not path.is_file():
            path = save_checkpoint(
                folder / f"{name}.pt", PoseLifter(PAPER_CONFIGS[name]), InputConfig(), f"{name}-untrained"
            )
            notes.append(
                f"{name}: weights/{name}.pt missing, an untrained {name} of the paper's configuration stood in"
            )
        paths.append(str(path))
    return paths, notes


def panel_fps(frames: int = 300) -> float:
    """Frames per second of the 3D panel alone (480 x 480, two skeletons)."""
    panel, poses = Panel3D(), np.random.default_rng(0).normal(0, 0.3, (frames, 17, 3))
    start = time.perf_counter()
    for pose in poses:
        panel.draw([pose], [pose])
    return frames / (time.perf_counter() - start)


def run_choice(clips: list[Path], config: PipelineConfig, folder: Path) -> tuple[dict[str, float], float, int]:
    """(ms/frame per stage over all clips, wall seconds, frames) of one 2D choice."""
    seconds: dict[str, float] = {}
    frames, started = 0, time.perf_counter()
    for index, clip in enumerate(clips):
        result = run_pipeline(clip, folder / f"out{index}", config)
        frames += result.num_frames
        for stage, value in result.timings.items():
            seconds[stage] = seconds.get(stage, 0.0) + value
    wall = time.perf_counter() - started
    return {stage: 1000 * value / frames for stage, value in seconds.items()}, wall, frames


def mediapipe_rows(python: str, clips: list[Path]) -> list[tuple[str, float, int]]:
    """(label, wall seconds over all clips, frames) per MediaPipe model, from its own venv."""
    heavy = landmark_model_path("heavy")
    command = [python, str(Path(__file__).with_name("bench_mediapipe.py")), "--heavy-model", str(heavy), "--"]
    lines = subprocess.run(command + [str(c) for c in clips], capture_output=True, text=True, check=True).stdout
    totals: dict[int, list[float]] = {}
    for line in lines.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            total = totals.setdefault(row["complexity"], [0.0, 0])
            total[0] += row["wall_s"]
            total[1] += row["frames"]
    names = {1: "MediaPipe full (its own 3D)", 2: "MediaPipe heavy (its own 3D)"}
    return [(names[c], wall, frames) for c, (wall, frames) in sorted(totals.items())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="*", type=Path, help="videos (default: the bundled example clip)")
    parser.add_argument("--keypoints", nargs="+", choices=KEYPOINT_MODELS, default=list(KEYPOINT_MODELS))
    parser.add_argument("--stride", nargs="+", default=["auto"], help="auto (from the frame rate) or N")
    parser.add_argument("--yolo-stride", nargs="+", default=[None], help="YOLO's own stride(s), apart from --stride")
    parser.add_argument("--model", choices=list(model_choices()), default=next(iter(model_choices())))
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--frames", type=int, default=None, help="only the first N frames of each clip")
    parser.add_argument("--mediapipe", help="the python of a venv with mediapipe (scripts/bench_mediapipe.py)")
    args = parser.parse_args()
    clips = args.clips or [example_video_path()]
    with tempfile.TemporaryDirectory() as folder:
        models, notes = lifter_paths(model_choices()[args.model], Path(folder))
        base = PipelineConfig(models=tuple(models), device=args.device, max_frames=args.frames)
        run_pipeline(clips[0], Path(folder) / "warm-up", replace(base, max_frames=30))
        rows = []
        for keypoints in args.keypoints:
            for stride in args.stride:
                for yolo in args.yolo_stride:
                    value = None if stride == "auto" else int(stride)
                    yolo_value = value if yolo is None else int(yolo)
                    config = replace(base, keypoints=keypoints, keypoint_stride=value or base.keypoint_stride,
                                     yolo_stride=yolo_value)
                    label = f"{keypoints}, stride {stride}" + ("" if yolo is None else f", YOLO stride {yolo}")
                    rows.append((label, *run_choice(clips, config, Path(folder))))
                    print(f"done: {rows[-1][0]}", flush=True)
    peers = mediapipe_rows(args.mediapipe, clips) if args.mediapipe else []
    device = torch.cuda.get_device_name() if torch.cuda.is_available() and args.device != "cpu" else "CPU"
    names = ", ".join(c.name for c in clips)
    print(f"\n{names}; lifter {args.model}; device {device} ({torch.get_num_threads()} threads); "
          f"start-up (imports) {STARTUP_S:.1f} s, once per process\n")
    stages = list(rows[0][1])
    print("| 2D | " + " | ".join(stages) + " | wall s | fps end to end |")
    print("|---" * (len(stages) + 3) + "|")
    for label, ms, wall, frames in rows:
        print(f"| {label} | " + " | ".join(f"{ms[stage]:.1f}" for stage in stages) + f" | {wall:.1f} | "
              f"{frames / wall:.1f} |")
    for label, wall, frames in peers:
        print(f"| {label} | " + " | ".join("" for _ in stages) + f" | {wall:.1f} | {frames / wall:.1f} |")
    panel = panel_fps()
    print(f"\n3D panel alone: {panel:.0f} fps ({'meets' if panel >= PANEL_TARGET_FPS else 'BELOW'} the "
          f"{PANEL_TARGET_FPS:.0f} fps target)")
    for note in notes:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
