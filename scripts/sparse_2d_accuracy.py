"""Benchmark (not a test): what sparse 2D costs the lifter. The held-out mocap's 2D is measured on one frame in L
only and linearly interpolated in between, exactly as the detector does (`detector.sparse.interpolate_rows`), then
lifted; docs/benchmarks.md.

    python -m scripts.sparse_2d_accuracy student [--strides 1 2 3 4] [--settings exact detector blazepose]
    python -m scripts.sparse_2d_accuracy --clip [VIDEO] [--keypoints full heavy] [--strides 1 2 3] [--yolo-strides 2 4]

The held-out mocap is at the lifters' 30 fps, so stride L measures every L/30 s: L = 2 is 15 Hz (a 30 fps video
at stride 2, a 60 fps one at stride 4), L = 3 is 10 Hz. Besides the overall columns, "fastest" is the quarter of
the held-out views with the fastest joints (mean 2D joint speed), where interpolation errs most.

`--clip` measures a real video instead (default: the example clip), where there is no 3D truth: the main
subject's 2D at each stride (both strides, or the landmark model's at each of `--strides` and YOLO's at each of
`--yolo-strides`) against the dense 2D, in % of their box height, per frame, and how many frames have a tracked
person at all (a YOLO stride that loses them shows there).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from detector.sparse import interpolate_rows
from pose_lifting.datasets import DataConfig, View, load_data
from pose_lifting.evaluate import lift_view, summarize
from pose_lifting.lifter import Lifter
from pose_lifting.metrics import all_metrics

SETTINGS = {
    "exact": {"mocap_cameras": ("h36m",)},
    "detector": {"mocap_noise": "detector", "mocap_noise_strength": 1.0},
    "blazepose": {"mocap_noise": "blazepose", "mocap_noise_strength": 1.0},
}
COLUMNS = ("mpjpe", "p_mpjpe", "accel", "bone_std")


def sparse_view(view: View, stride: int) -> View:
    """The view with its 2D measured on frames 0, L, 2L, ... and the last, interpolated in between."""
    frames = np.arange(len(view.pixels))
    measured = (frames % stride == 0) | (frames == frames[-1])
    pixels = view.pixels.copy()
    arrays = [pixels] + ([view.scores.copy()] if view.scores is not None else [])
    interpolate_rows(frames, np.zeros_like(frames), measured, arrays)
    return replace(view, pixels=arrays[0], scores=arrays[1] if view.scores is not None else None)


def joint_speed(view: View) -> float:
    return float(np.linalg.norm(np.diff(view.pixels, axis=0), axis=-1).mean() / max(view.height, 1))


def clip_distances(clip: Path, keypoints: list[str], strides: list[int], yolo_strides: list[int] | None) -> None:
    """Print the main subject's sparse 2D against the dense 2D on a real clip (see the module doc)."""
    from detector import DetectorConfig, detect

    pairs = [(s, y) for s in strides for y in (yolo_strides or [s])]
    pairs = [(1, 1)] + [pair for pair in pairs if pair != (1, 1)]
    print("| 2D model | stride (2D, YOLO) | frames (dense) | frames with a person | mean % of box height | "
          "95th percentile |\n|---|---|---|---|---|---|")
    for model in keypoints:
        runs = {pair: detect(clip, DetectorConfig(keypoints=model, keypoint_stride=pair[0], yolo_stride=pair[1]))
                for pair in pairs}
        dense = runs[(1, 1)]
        rows = dense.track_id == dense.main_track_id
        for stride, run in runs.items():
            other = run.track_id == run.main_track_id
            common, i, j = np.intersect1d(dense.frame_index[rows], run.frame_index[other], return_indices=True)
            height = dense.boxes[rows][i, 3] - dense.boxes[rows][i, 1]
            gap = np.linalg.norm(dense.keypoints_coco[rows][i] - run.keypoints_coco[other][j], axis=-1).mean(-1)
            percent = 100 * gap / height
            people = len(np.unique(run.frame_index))
            print(f"| {model} | {stride[0]}, {stride[1]} | {len(common)} ({rows.sum()}) | {people} | "
                  f"{percent.mean():.2f} | {np.percentile(percent, 95):.2f} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", default="student", help="a shipped name or a checkpoint")
    parser.add_argument("--clip", nargs="?", const="example", help="a real video instead (default: the example)")
    parser.add_argument("--keypoints", nargs="+", default=["full", "heavy"])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--strides", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--yolo-strides", type=int, nargs="+", help="--clip: YOLO's strides (default: each 2D stride)")
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=["exact", "detector"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.clip:
        from detector import example_video_path

        clip = example_video_path() if args.clip == "example" else Path(args.clip)
        return clip_distances(clip, args.keypoints, sorted(set(args.strides)), args.yolo_strides)
    lifter = Lifter.from_pretrained(args.model, "cpu")
    results: dict = {}
    print("| 2D | stride (interval) | MPJPE | P-MPJPE | accel (m/s^2) | bone std (mm) | fastest quarter: P-MPJPE |")
    print("|---|---|---|---|---|---|---|")
    for setting in args.settings:
        views = load_data(DataConfig(data_dir=args.data_dir, **SETTINGS[setting])).heldout_views()
        speeds = np.array([joint_speed(v) for v in views])
        fastest = speeds >= np.quantile(speeds, 0.75)
        for stride in args.strides:
            lifted = [(v, all_metrics(lift_view(lifter, sparse_view(v, stride)), v.target, fps=v.fps)) for v in views]
            overall = summarize(lifted)["overall"]
            fast = summarize([row for row, keep in zip(lifted, fastest) if keep])["overall"]
            results.setdefault(setting, {})[stride] = {"overall": overall, "fastest": fast}
            values = " | ".join(f"{overall[k]:.2f}" if k == "accel" else f"{overall[k]:.1f}" for k in COLUMNS)
            interval = 1000 * stride / views[0].fps
            print(f"| {setting} | {stride} ({interval:.0f} ms) | {values} | {fast['p_mpjpe']:.1f} |", flush=True)
            if args.json:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
