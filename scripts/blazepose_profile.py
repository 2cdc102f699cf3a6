"""Per-joint sizes of each 2D model's own error on our real clip, from how the models disagree: the measurement
behind `pose_lifting.generators.BlazePoseNoiseConfig` (docs/noise.md, "The BlazePose profile").

    python -m scripts.blazepose_profile [--video clip.mp4] [--models yolo lite full heavy] [--json F]

Every pair of models a, b gives per frame and joint d = (p_a - p_b) / body size (Human3.6M layout, as the lifter
reads it; body size: the clip's median 2D bounding-box long side of b's keypoints, as `scripts.real_clip_noise`).
Per joint: the steady disagreement (the clip average of d, a 2D vector) and the frame-to-frame change of d.

The "three-cornered hat" (as clock makers compare three clocks without a perfect one): if the models' errors are
independent, the squared disagreement of a pair is the sum of their squared errors, E|d_ab|^2 = v_a + v_b, and with
three or more models the v's are solved by least squares, per joint, for the steady part and for the jitter.
What every model gets wrong in the same way (where all of them put the hip points) cancels in every d and is not
measured: the estimate is each model's own error beyond the shared one.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from detector import DetectorConfig, example_video_path
from pose_lifting.skeleton import JOINT_NAMES
from scripts.bench_keypoints import detect_models
from scripts.real_clip_noise import body_size


def common_frames(a, b) -> tuple[np.ndarray, np.ndarray]:
    """The keypoints of two tracks of the same person over the frames both have."""
    first, last = max(a.first_frame, b.first_frame), min(a.first_frame + len(a), b.first_frame + len(b))
    return (a.keypoints[first - a.first_frame : last - a.first_frame],
            b.keypoints[first - b.first_frame : last - b.first_frame])


def three_cornered_hat(pairs: dict[tuple[str, str], np.ndarray], models: list[str]) -> np.ndarray:
    """(models, J) variances v >= 0 with pairs[(a, b)] ~ v_a + v_b per joint, by least squares (clipped at 0)."""
    design = np.zeros((len(pairs), len(models)))
    for row, (a, b) in enumerate(pairs):
        design[row, models.index(a)] = design[row, models.index(b)] = 1.0
    values = np.stack(list(pairs.values()))  # (pairs, J)
    solution, *_ = np.linalg.lstsq(design, values, rcond=None)
    return np.clip(solution, 0.0, None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, default=None, help="default: the Sports2D example clip")
    parser.add_argument("--models", nargs="+", default=["yolo", "lite", "full", "heavy"], help="2D keypoint models")
    parser.add_argument("--json", type=Path, default=None, help="also write every number here")
    args = parser.parse_args(argv)
    if len(args.models) < 3:
        parser.error("the three-cornered hat needs three or more models")
    found = detect_models(args.video or example_video_path(), args.models, DetectorConfig())
    tracks = {model: result.main_track() for model, result in found.results.items()}
    steady_sq, jitter_sq, out = {}, {}, {"pairs": {}, "joints": list(JOINT_NAMES)}
    for a, b in itertools.combinations(args.models, 2):
        ka, kb = common_frames(tracks[a], tracks[b])
        d = (ka - kb) / body_size(kb)  # (T, J, 2)
        steady = np.linalg.norm(d.mean(axis=0), axis=-1)  # (J,)
        jitter = np.linalg.norm(np.diff(d, axis=0), axis=-1).mean(axis=0) / np.sqrt(2)  # (J,)
        steady_sq[(a, b)], jitter_sq[(a, b)] = steady**2, jitter**2
        out["pairs"][f"{a} - {b}"] = {"frames": len(d), "steady": steady.tolist(), "jitter": jitter.tolist()}
    steady_own = np.sqrt(three_cornered_hat(steady_sq, args.models))
    jitter_own = np.sqrt(three_cornered_hat(jitter_sq, args.models))
    out["own"] = {m: {"steady": steady_own[i].tolist(), "jitter": jitter_own[i].tolist()}
                  for i, m in enumerate(args.models)}
    print("own steady error per joint (% of the body's 2D size), three-cornered hat:")
    print("| joint | " + " | ".join(args.models) + " |\n|---|" + "---|" * len(args.models))
    for j, name in enumerate(JOINT_NAMES):
        print(f"| {name} | " + " | ".join(f"{100 * steady_own[i, j]:.2f}" for i in range(len(args.models))) + " |")
    print("| mean | " + " | ".join(f"{100 * steady_own[i].mean():.2f}" for i in range(len(args.models))) + " |")
    print("| jitter (mean) | " + " | ".join(f"{100 * jitter_own[i].mean():.2f}" for i in range(len(args.models)))
          + " |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
