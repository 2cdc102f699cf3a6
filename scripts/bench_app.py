"""Benchmark the app end to end on the bundled example clip: per-stage ms/frame, fps, 3D panel fps.

    python -m scripts.bench_app [--model NAME|both] [--device auto|cpu|cuda] [--frames N]

Runs `run_pipeline` exactly as the CLI does (Sports2D demo, 1768x994, 30 fps, 230 frames) and prints a Markdown
table: each stage's ms/frame ("detect" is the detector stage with decoding and loading its model, "render" the
side-by-side mp4 and the GIF, decoding the video again), end-to-end fps, and the detector's share of the wall
time (the target: end to end at >= 75 % of the detector's own speed), and the 3D panel's own frame rate (the
target: >= 30 fps, so that drawing never holds the video back). The lifters are weights/<name>.pt; where those
do not exist yet, untrained models of the paper's configurations (same cost) stand in.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from app.pipeline import PipelineConfig, model_choices, run_pipeline, weights_path
from app.render import Panel3D
from detector import example_video_path
from pose_lifting.devices import DEVICES
from pose_lifting.lifter import save_checkpoint
from pose_lifting.model import STUDENT, TEACHER, PoseLifter
from pose_lifting.normalization import InputConfig

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=list(model_choices()), default=next(iter(model_choices())))
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--frames", type=int, default=None, help="only the first N frames")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        models, notes = lifter_paths(model_choices()[args.model], Path(folder))
        config = PipelineConfig(models=tuple(models), device=args.device, max_frames=args.frames)
        result = run_pipeline(example_video_path(), Path(folder) / "out", config)
    device = torch.cuda.get_device_name() if result.models[0].device.startswith("cuda") else "CPU"
    print(
        f"{result.source.name}: {result.num_frames} frames {result.width}x{result.height}, model {args.model}, "
        f"device {device} ({torch.get_num_threads()} threads)\n"
    )
    print("| stage | ms/frame |\n|---|---|")
    for stage, ms in result.ms_per_frame().items():
        print(f"| {stage} | {ms:.1f} |")
    for run in result.models:
        print(f"| lift: {run.label}, per lifted pose ({run.mflops:.0f} MFLOPs, flip test) | {run.ms_per_frame():.2f} |")
    detector_share = result.timings["detect"] / result.timings["total"]
    panel = panel_fps()
    print(
        f"\nend to end: {result.end_to_end_fps():.1f} fps; detector alone: "
        f"{result.num_frames / result.timings['detect']:.1f} fps; end to end = {100 * detector_share:.0f} % of the "
        f"detector's speed; 3D panel alone: {panel:.0f} fps "
        f"({'meets' if panel >= PANEL_TARGET_FPS else 'BELOW'} the {PANEL_TARGET_FPS:.0f} fps target)"
    )
    for note in notes:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
