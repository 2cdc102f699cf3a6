"""What the detector-like 2D error model produces on the held-out mocap, as fractions of the subject's 2D size,
to compare with the detector measurements its defaults are sized to (pose_lifting.generators.DetectorNoiseConfig,
or with `--profile blazepose` BlazePoseNoiseConfig).

    python -m scripts.detector_noise_stats [--data-dir data] [--strengths 0.65 1.0 1.5] [--profile blazepose]

Per strength: the mean error length over all joints and frames; its steady part (the length of each joint's
error averaged over the whole view); the frame-to-frame jitter (mean length of the error's change between
frames, over sqrt 2, i.e. the white part's mean length); the head's and ankles' steady parts; and the fractions
of joint-frames that are missing (score < 0.3) or swapped/outliers (0.3 <= score < 0.6).
"""

from __future__ import annotations

import argparse

import numpy as np

from pose_lifting.data.mocap import load_mocap, split
from pose_lifting.datasets import mocap_views
from pose_lifting.generators import subject_size
from pose_lifting.skeleton import JOINT_INDEX


def error_summary(error: np.ndarray) -> dict[str, float]:
    """Mean, steady part, jitter, head's and ankles' steady parts of (T, J, 2) 2D errors over the subject's size."""
    steady = np.linalg.norm(error.mean(axis=0), axis=-1)  # (J,)
    return {
        "mean": float(np.linalg.norm(error, axis=-1).mean()),
        "steady": float(steady.mean()),
        "jitter": float(np.linalg.norm(np.diff(error, axis=0), axis=-1).mean() / np.sqrt(2)),
        "head_steady": float(steady[JOINT_INDEX["head"]]),
        "ankles_steady": float(steady[[JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"]]].mean()),
    }


def error_stats(strength: float, data_dir: str, profile: str = "detector") -> dict[str, float]:
    _, heldout = split(load_mocap(data_dir))
    exact = list(mocap_views(heldout, ("h36m",), "none"))
    noisy = list(mocap_views(heldout, ("h36m",), profile, strength))
    rows = []
    for clean, view in zip(exact, noisy, strict=True):
        size = subject_size(clean.pixels[None])[0]
        rows.append(
            error_summary((view.pixels - clean.pixels) / size)
            | {"missing": (view.scores < 0.3).mean(), "doubtful": ((view.scores >= 0.3) & (view.scores < 0.6)).mean()}
        )
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.65, 1.0, 1.5])
    parser.add_argument("--profile", choices=["detector", "blazepose"], default="detector",
                        help="detector: DetectorNoiseConfig (YOLO-like); blazepose: BlazePoseNoiseConfig")
    args = parser.parse_args(argv)
    print("strength  mean %  steady %  jitter %  head steady %  ankles steady %  missing %  swapped/outlier %")
    for strength in args.strengths:
        s = error_stats(strength, args.data_dir, args.profile)
        print(
            f"{strength:8.2f}  {100 * s['mean']:6.2f}  {100 * s['steady']:8.2f}  {100 * s['jitter']:8.2f}  "
            f"{100 * s['head_steady']:13.2f}  {100 * s['ankles_steady']:15.2f}  {100 * s['missing']:9.2f}  "
            f"{100 * s['doubtful']:17.2f}"
        )


if __name__ == "__main__":
    main()
