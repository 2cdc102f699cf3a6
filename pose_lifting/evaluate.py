"""Evaluate lifter checkpoints on the held-out mocap: MPJPE, P-MPJPE, N-MPJPE, MPJVE, PCK@150mm, AUC.

    python -m pose_lifting.evaluate weights/student.pt weights/teacher.pt [--cameras h36m phone] [--json out.json]

Every held-out sequence (never seen in training; see pose_lifting.data.mocap.split) is filmed by fixed
static cameras and lifted through the same `Lifter.lift` path the app uses, one window per frame. Two
camera sets: "h36m" (Human3.6M-like: 1000 x 1002 px, focal 1145 px, 5 m, four headings) and "phone"
(portrait 562 x 1000 px, focal 1.55 x width, closer, four headings). 2D input is exact, or with
detector-like noise (`--noise`, fixed seed). Results per source and frame-weighted over all sequences.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_lifting.camera import Cameras, cameras_looking_at
from pose_lifting.generators import AugmentConfig, Batch, add_detector_noise
from pose_lifting.lifter import Lifter
from pose_lifting.metrics import all_metrics
from pose_lifting.sampling import video_windows
from pose_lifting.sequence import Pose2DSequence
from pose_lifting.skeleton import JOINT_INDEX

YAWS = (45.0, 135.0, 225.0, 315.0)
CAMERA_SETS = {
    # name: (width, height, focal / width, pitch deg, distance m beyond the subject's travel)
    "h36m": (1000.0, 1002.0, 1.145, 10.0, 5.0),
    "phone": (562.0, 1000.0, 1.55, 5.0, 3.5),
}


@dataclass
class View:
    """One held-out sequence seen by one fixed camera."""

    sequence: str
    source: str
    camera: str
    pixels: np.ndarray  # (T, J, 2)
    target: np.ndarray  # (T, J, 3) camera axes, metres, pelvis at 0
    width: float
    height: float
    fps: float


def static_cameras(poses: np.ndarray, camera_set: str) -> Cameras:
    """Four static cameras around the sequence's mean pelvis, far enough to keep the whole motion in front."""
    width, height, focal, pitch, distance = CAMERA_SETS[camera_set]
    pelvis = poses[:, JOINT_INDEX["pelvis"]]
    travel = np.linalg.norm(pelvis[:, [0, 2]] - pelvis[:, [0, 2]].mean(axis=0), axis=1).max()
    n = len(YAWS)
    return cameras_looking_at(
        np.repeat(pelvis.mean(axis=0, keepdims=True), n, axis=0),
        yaw=np.radians(YAWS),
        pitch=np.full(n, np.radians(pitch)),
        roll=np.zeros(n),
        distance=np.full(n, distance + travel),
        focal=np.full(n, focal * width),
        width=np.full(n, width),
        height=np.full(n, height),
    )


def views(sequences, camera_sets: tuple[str, ...] = ("h36m",), noise: bool = False) -> Iterator[View]:
    """Every held-out sequence through every camera of the chosen sets (seeded noise when asked)."""
    rng = np.random.default_rng(0)
    for seq in sequences:
        for camera_set in camera_sets:
            cameras = static_cameras(seq.poses, camera_set)
            world = np.repeat(seq.poses[None].astype(np.float64), len(YAWS), axis=0)  # (C, T, J, 3)
            points = cameras.to_camera(world)
            pixels = cameras.project(points).astype(np.float32)
            if noise:
                pixels += add_detector_noise(pixels, rng, AugmentConfig())  # (cameras, T, J, 2) as (B, f, J, 2)
            target = points - points[:, :, JOINT_INDEX["pelvis"] : JOINT_INDEX["pelvis"] + 1]
            for c in range(len(YAWS)):
                yield View(
                    seq.name,
                    seq.source,
                    f"{camera_set}{int(YAWS[c])}",
                    pixels[c],
                    target[c].astype(np.float32),
                    float(cameras.width[c]),
                    float(cameras.height[c]),
                    seq.fps,
                )


def view_windows(all_views: list[View], receptive_field: int, every: int) -> list[Batch]:
    """Dense windows around every `every`-th frame of each view, as `Lifter.lift` builds them."""
    batches = []
    for view in all_views:
        index = video_windows(len(view.pixels), receptive_field, 1)[::every]
        n = len(index)
        batches.append(
            Batch(
                view.pixels[index],
                np.full(n, view.width, np.float32),
                np.full(n, view.height, np.float32),
                view.target[::every],
            )
        )
    return batches


def evaluate(lifter: Lifter, all_views: list[View], flip_test: bool = True) -> dict:
    """Metrics per source and overall (frame-weighted means of per-view metrics)."""
    per_view = []
    for view in all_views:
        sequence = Pose2DSequence(view.pixels, np.ones(view.pixels.shape[:2]), view.fps, view.width, view.height)
        pred = lifter.lift(sequence, flip_test=flip_test).poses
        per_view.append((view, all_metrics(pred, view.target)))

    def weighted(rows):
        frames = np.array([len(v.target) for v, _ in rows], dtype=float)
        return {k: float(np.average([m[k] for _, m in rows], weights=frames)) for k in rows[0][1]} | {
            "frames": int(frames.sum())
        }

    sources = sorted({v.source for v, _ in per_view})
    return {
        "model": lifter.name,
        "params_m": lifter.num_params / 1e6,
        "mflops": lifter.mflops,
        "overall": weighted(per_view),
        "per_source": {s: weighted([r for r in per_view if r[0].source == s]) for s in sources},
    }


def main(argv: list[str] | None = None) -> None:
    from pose_lifting.data.mocap import load_mocap, split

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="inference checkpoints (.pt) or shipped names")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--cameras", nargs="+", choices=sorted(CAMERA_SETS), default=["h36m", "phone"])
    parser.add_argument("--noise", action="store_true", help="detector-like 2D noise (fixed seed)")
    parser.add_argument("--no-flip", action="store_true", help="no flip test-time augmentation")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    _, heldout = split(load_mocap(args.data_dir))
    all_views = list(views(heldout, tuple(args.cameras), args.noise))
    results = []
    for checkpoint in args.checkpoints:
        result = evaluate(Lifter.from_pretrained(checkpoint, args.device), all_views, flip_test=not args.no_flip)
        result |= {
            "checkpoint": str(checkpoint),
            "cameras": args.cameras,
            "noise": args.noise,
            "flip": not args.no_flip,
        }
        results.append(result)
        o = result["overall"]
        print(
            f"{result['model']:10s} {checkpoint}: MPJPE {o['mpjpe']:.1f} mm, P-MPJPE {o['p_mpjpe']:.1f}, "
            f"N-MPJPE {o['n_mpjpe']:.1f}, MPJVE {o['mpjve']:.2f}, PCK150 {o['pck150']:.1f} %, AUC {o['auc']:.1f} "
            f"({o['frames']} frames x views)"
        )
        for source, m in result["per_source"].items():
            print(f"    {source:24s} MPJPE {m['mpjpe']:.1f}  P-MPJPE {m['p_mpjpe']:.1f}  frames {m['frames']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
