"""What lifting a photo costs: held-out mocap frames lifted one at a time (a photo: the lifter's window is that one
frame repeated, as `Lifter.lift` pads a one-frame sequence) against the same frames lifted within their video.

    python -m scripts.photo_accuracy [--model student] [--every 10] [--noise none blazepose] [--cameras h36m phone]
                                     [--views-per-sequence 4] [--view-frames N]

Every `every`-th frame of every held-out view (pose_lifting.datasets: the held-out mocap through the static
cameras of each set, the first `views-per-sequence` of each sequence and set; with `view-frames`, each view's first
so many frames: a shorter video) is lifted twice through the app's `Lifter.lift`, with flip test and the lifter's
smoothing: within the whole view (a video), and alone (a photo). The video lifts take most of the time: on a
2-core CPU the defaults take far longer than `--every 10 --views-per-sequence 1 --view-frames 150`.
Frame-weighted MPJPE, P-MPJPE, N-MPJPE (mm) and PCK@150mm (%) per noise setting: exact 2D, and the top-down
BlazePose stage's errors (strength 1), which a video's window and smoothing average over and a photo cannot.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from pose_lifting.datasets import CAMERA_SETS, YAWS, DataConfig, View, load_data
from pose_lifting.evaluate import lift_view
from pose_lifting.lifter import Lifter
from pose_lifting.metrics import all_metrics
from pose_lifting.sequence import Pose2DSequence

METRICS = ("mpjpe", "p_mpjpe", "n_mpjpe", "pck150")


def photo_lifts(lifter: Lifter, view, frames: np.ndarray) -> np.ndarray:
    """(len(frames), J, 3): each frame lifted alone, as the app lifts a photo."""
    scores = np.ones(view.pixels.shape[:2]) if view.scores is None else view.scores
    return np.concatenate([
        lifter.lift(Pose2DSequence(view.pixels[t : t + 1], scores[t : t + 1], view.fps, view.width, view.height)).poses
        for t in frames
    ])


def first_frames(view: View, frames: int | None) -> View:
    """The view's first `frames` frames (None: all of it)."""
    if frames is None:
        return view
    scores = None if view.scores is None else view.scores[:frames]
    return replace(view, pixels=view.pixels[:frames], target=view.target[:frames], scores=scores)


def compare(lifter: Lifter, views, every: int) -> dict[str, dict[str, float]]:
    """Frame-weighted metrics of the video and the photo lifts over the views' sampled frames."""
    rows: dict[str, list[tuple[int, dict]]] = {"video": [], "photo": []}
    for view in views:
        frames = np.arange(0, len(view.target), every)
        target = view.target[frames]
        lifted = {"video": lift_view(lifter, view)[frames], "photo": photo_lifts(lifter, view, frames)}
        for kind, poses in lifted.items():
            rows[kind].append((len(frames), all_metrics(poses, target, sequential=False)))
    return {
        kind: {m: float(np.average([r[m] for _, r in found], weights=[n for n, _ in found])) for m in METRICS}
        | {"frames": sum(n for n, _ in found)}
        for kind, found in rows.items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="student", help="a shipped lifter or a checkpoint path")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--every", type=int, default=10, help="lift every this many frames of each view")
    parser.add_argument("--noise", nargs="+", default=["none", "blazepose"], choices=["none", "blazepose"])
    parser.add_argument("--cameras", nargs="+", default=["h36m", "phone"], choices=sorted(CAMERA_SETS))
    parser.add_argument("--views-per-sequence", type=int, default=len(YAWS), help="cameras per sequence and set")
    parser.add_argument("--view-frames", type=int, default=None, help="each view's first so many frames (None: all)")
    args = parser.parse_args(argv)
    lifter = Lifter.from_pretrained(args.model, "cpu")
    print(f"| 2D | lift | frames | MPJPE mm | P-MPJPE mm | N-MPJPE mm | PCK@150 % |  ({lifter.name}, {args.cameras}, "
          f"view frames {args.view_frames or 'all'})")
    print("|---|---|---|---|---|---|---|")
    for noise in args.noise:
        config = DataConfig(data_dir=args.data_dir, mocap_cameras=tuple(args.cameras), mocap_noise=noise)
        kept = {f"{cameras}{int(yaw)}" for cameras in args.cameras for yaw in YAWS[: args.views_per_sequence]}
        views = [first_frames(v, args.view_frames) for v in load_data(config).heldout_views() if v.camera in kept]
        results = compare(lifter, views, args.every)
        for kind, m in results.items():
            print(f"| {noise} | {kind} | {m['frames']} | {m['mpjpe']:.1f} | {m['p_mpjpe']:.1f} | {m['n_mpjpe']:.1f} "
                  f"| {m['pck150']:.1f} |")


if __name__ == "__main__":
    main()
