"""Evaluate lifter checkpoints on held-out data: MPJPE, P-MPJPE, N-MPJPE, MPJVE, acceleration error, bone-length
stability, PCK@150mm, AUC.

    python -m pose_lifting.evaluate weights/student.pt weights/teacher.pt [--cameras h36m phone] [--json out.json]
    python -m pose_lifting.evaluate student small --noise detector --noise-strength 1.0 [--smoothing none]
    python -m pose_lifting.evaluate runs/h36m_teacher/model.pt --data h36m --h36m-3d data_3d_h36m.npz \
        --h36m-2d data_2d_h36m_cpn_ft_h36m_dbb.npz

Every held-out sequence (see pose_lifting.datasets) is lifted through the same `Lifter.lift` path the app uses,
one window per frame. Mocap (default): the held-out mocap filmed by fixed static cameras, two camera sets,
"h36m" (Human3.6M-like) and "phone" (portrait), with exact 2D (`--noise none`), the training's independent
Gaussian noise (`--noise gaussian`, or a bare `--noise`) or a detector's structured errors (`--noise detector`
at `--noise-strength`, 1 = YOLO11n-pose-like; generators.DetectorNoiseConfig), fixed seed; results per source.
`--smoothing` chooses the test-time smoothing of the 3D (lifter.SmoothingConfig; default: the lifter's).
Human3.6M (`--data h36m`): every frame of S9 and S11 from the four cameras with the file's 2D keypoints;
results per action and their mean over actions (the paper's protocol). Overall results are frame-weighted over
all sequences.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from pose_lifting.datasets import (
    CAMERA_SETS,
    HELDOUT_NOISE,
    DataConfig,
    View,
    add_data_arguments,
    data_config,
    load_data,
)
from pose_lifting.devices import DEVICES
from pose_lifting.lifter import SMOOTHING_METHODS, Lifter, SmoothingConfig
from pose_lifting.metrics import all_metrics
from pose_lifting.sequence import Pose2DSequence


def lift_view(
    lifter: Lifter, view: View, flip_test: bool = True, smoothing: SmoothingConfig | None = None
) -> np.ndarray:
    """(T, J, 3) lifted poses of one held-out view, through the app's `Lifter.lift` path."""
    scores = np.ones(view.pixels.shape[:2]) if view.scores is None else view.scores
    sequence = Pose2DSequence(view.pixels, scores, view.fps, view.width, view.height)
    return lifter.lift(sequence, flip_test=flip_test, smoothing=smoothing).poses


def summarize(per_view: list[tuple[View, dict[str, float]]]) -> dict:
    """Per-view metrics -> overall and per-source frame-weighted means, and the unweighted mean over sources."""

    def weighted(rows):
        frames = np.array([len(v.target) for v, _ in rows], dtype=float)
        return {k: float(np.average([m[k] for _, m in rows], weights=frames)) for k in rows[0][1]} | {
            "frames": int(frames.sum())
        }

    sources = sorted({v.source for v, _ in per_view})
    per_source = {s: weighted([r for r in per_view if r[0].source == s]) for s in sources}
    return {
        "overall": weighted(per_view),
        "per_source": per_source,
        # unweighted mean over sources; on Human3.6M the mean over the actions that papers report
        "source_mean": {k: float(np.mean([m[k] for m in per_source.values()])) for k in per_source[sources[0]]},
    }


def evaluate(
    lifter: Lifter, all_views: list[View], flip_test: bool = True, smoothing: SmoothingConfig | None = None
) -> dict:
    """Metrics per source and overall (frame-weighted means of per-view metrics)."""
    per_view = [
        (view, all_metrics(lift_view(lifter, view, flip_test, smoothing), view.target, fps=view.fps))
        for view in all_views
    ]
    return {"model": lifter.name, "params_m": lifter.num_params / 1e6, "mflops": lifter.mflops} | summarize(per_view)


def evaluate_checkpoint(
    checkpoint: str | Path,
    lifter: Lifter,
    config: DataConfig,
    views: list[View],
    flip_test: bool = True,
    smoothing: SmoothingConfig | None = None,
) -> dict:
    """`evaluate` with what was measured: the checkpoint, the data, the smoothing (default: the lifter's) and, for
    mocap, the cameras and the noise."""
    smoothing = smoothing or lifter.smoothing
    result = evaluate(lifter, views, flip_test=flip_test, smoothing=smoothing)
    result |= {"checkpoint": str(checkpoint), "data": config.source, "flip": flip_test, "smoothing": smoothing.method}
    if config.source == "mocap":
        result |= {"cameras": list(config.mocap_cameras), "noise": config.mocap_noise}
        if config.mocap_noise in ("detector", "blazepose"):
            result["noise_strength"] = config.mocap_noise_strength
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="inference checkpoints (.pt) or shipped names")
    add_data_arguments(parser)
    parser.add_argument(
        "--cameras", nargs="+", choices=sorted(CAMERA_SETS), default=["h36m", "phone"], help="mocap: camera sets"
    )
    parser.add_argument(
        "--noise",
        nargs="?",
        const="gaussian",
        default="none",
        choices=HELDOUT_NOISE,
        help="mocap: errors on the 2D (fixed seed); a bare --noise is gaussian, the training's independent noise",
    )
    parser.add_argument(
        "--noise-strength",
        type=float,
        default=1.0,
        help="mocap, --noise detector / blazepose: strength (1: YOLO11n-pose-like / BlazePose heavy-like)",
    )
    parser.add_argument(
        "--smoothing", choices=SMOOTHING_METHODS, help="test-time smoothing of the 3D (default: the lifter's)"
    )
    parser.add_argument("--no-flip", action="store_true", help="no flip test-time augmentation")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    config = data_config(
        parser,
        args,
        mocap_cameras=tuple(args.cameras),
        mocap_noise=args.noise,
        mocap_noise_strength=args.noise_strength,
    )
    all_views = load_data(config).heldout_views()
    results = []
    for checkpoint in args.checkpoints:
        lifter = Lifter.from_pretrained(checkpoint, args.device)
        smoothing = SmoothingConfig(args.smoothing) if args.smoothing else None
        result = evaluate_checkpoint(checkpoint, lifter, config, all_views, not args.no_flip, smoothing)
        results.append(result)
        o = result["overall"]
        print(
            f"{result['model']:10s} {checkpoint}: MPJPE {o['mpjpe']:.1f} mm, P-MPJPE {o['p_mpjpe']:.1f}, "
            f"N-MPJPE {o['n_mpjpe']:.1f}, MPJVE {o['mpjve']:.2f} mm/frame, accel {o['accel']:.2f} m/s^2, "
            f"bone std {o['bone_std']:.1f}, PCK150 {o['pck150']:.1f} %, AUC {o['auc']:.1f} "
            f"({o['frames']} frames x views)"
        )
        for source, m in result["per_source"].items():
            print(f"    {source:24s} MPJPE {m['mpjpe']:.1f}  P-MPJPE {m['p_mpjpe']:.1f}  frames {m['frames']}")
        m = result["source_mean"]
        print(f"    {'mean over the above':24s} MPJPE {m['mpjpe']:.1f}  P-MPJPE {m['p_mpjpe']:.1f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
