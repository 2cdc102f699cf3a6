"""The 2D errors and the 3D bone stability on our real clip (the Sports2D example, the main person): how far
YOLO's keypoints and BlazePose's disagree, and how much the lifted bone lengths wander per lifter and smoothing.

    python -m scripts.real_clip_noise [--models yolo full heavy] [--lifters student small] [--json F]

Disagreement: per frame and joint (Human3.6M layout, as the lifter reads it) d = (p_a - p_b) / body size, the
body size being the clip's median 2D bounding-box long side of model b's keypoints. Its statistics are those
`scripts.detector_noise_stats` prints for the error model (mean length, steady part = length of each joint's
clip average, jitter = mean frame-to-frame change / sqrt 2). Since d = e_a - e_b, with e each model's error:
mean |d| <= mean |e_a| + mean |e_b|, so the disagreement is a lower bound on the sum of the two errors; it
says nothing about error they share (both detectors mark the same hip points, say).

Bone stability: the standard deviation over time of each of the 16 bone lengths of the lifted 3D, averaged
(mm). A rigid skeleton has none, so it measures wobble without a 3D reference.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from detector import DetectorConfig, example_video_path
from pose_lifting.lifter import SMOOTHING_METHODS, Lifter, SmoothingConfig
from pose_lifting.skeleton import bone_lengths
from scripts.bench_keypoints import detect_models
from scripts.detector_noise_stats import error_summary


def body_size(keypoints: np.ndarray) -> float:
    """Median over frames of the (T, J, 2) keypoints' bounding-box long side."""
    return float(np.median((keypoints.max(axis=1) - keypoints.min(axis=1)).max(axis=-1)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, default=None, help="default: the Sports2D example clip")
    parser.add_argument("--models", nargs="+", default=["yolo", "full", "heavy"], help="2D keypoint models")
    parser.add_argument("--lifters", nargs="+", default=["student", "small"], help="names or checkpoint paths")
    parser.add_argument("--json", type=Path, default=None, help="also write every number here")
    args = parser.parse_args(argv)
    found = detect_models(args.video or example_video_path(), args.models, DetectorConfig())
    sequences = {model: result.main_track() for model, result in found.results.items()}
    out: dict[str, dict] = {"disagreement": {}, "bone_std_mm": {}}
    print("| 2D | against | frames | mean % | steady % | jitter % | head steady % | ankles steady % |")
    print("|---|---|---|---|---|---|---|---|")
    for a, b in itertools.combinations(args.models, 2):
        pa, pb = sequences[a], sequences[b]
        first, last = max(pa.first_frame, pb.first_frame), min(pa.first_frame + len(pa), pb.first_frame + len(pb))
        ka = pa.keypoints[first - pa.first_frame : last - pa.first_frame]
        kb = pb.keypoints[first - pb.first_frame : last - pb.first_frame]
        s = error_summary((ka - kb) / body_size(kb))
        out["disagreement"][f"{a} - {b}"] = s | {"frames": last - first}
        cells = [f"{100 * s[k]:.2f}" for k in ("mean", "steady", "jitter", "head_steady", "ankles_steady")]
        print(f"| {a} | {b} | {last - first} | " + " | ".join(cells) + " |")
    print("\n| lifter | 2D | " + " | ".join(SMOOTHING_METHODS) + " |\n|---|---|" + "---|" * len(SMOOTHING_METHODS))
    for name in args.lifters:
        lifter = Lifter.from_pretrained(name, "cpu")
        for model, sequence in sequences.items():
            stds = {
                method: float(
                    1000
                    * bone_lengths(lifter.lift(sequence, smoothing=SmoothingConfig(method)).poses).std(axis=0).mean()
                )
                for method in SMOOTHING_METHODS
            }
            out["bone_std_mm"][f"{name} / {model}"] = stds
            print(f"| {name} | {model} | " + " | ".join(f"{v:.1f}" for v in stds.values()) + " |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
