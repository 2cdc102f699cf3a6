"""Evaluate lifter checkpoints on held-out data: MPJPE, P-MPJPE, N-MPJPE, MPJVE, PCK@150mm, AUC.

    python -m pose_lifting.evaluate weights/student.pt weights/teacher.pt [--cameras h36m phone] [--json out.json]
    python -m pose_lifting.evaluate runs/h36m_teacher/model.pt --data h36m --h36m-3d data_3d_h36m.npz \
        --h36m-2d data_2d_h36m_cpn_ft_h36m_dbb.npz

Every held-out sequence (see pose_lifting.datasets) is lifted through the same `Lifter.lift` path the app uses,
one window per frame. Mocap (default): the held-out mocap filmed by fixed static cameras, two camera sets,
"h36m" (Human3.6M-like) and "phone" (portrait), with exact 2D or detector-like noise (`--noise`, fixed seed);
results per source. Human3.6M (`--data h36m`): every frame of S9 and S11 from the four cameras with the file's
2D keypoints; results per action and their mean over actions (the paper's protocol). Overall results are
frame-weighted over all sequences.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from pose_lifting.datasets import CAMERA_SETS, DataConfig, View, add_data_arguments, data_config, load_data
from pose_lifting.devices import DEVICES
from pose_lifting.lifter import Lifter
from pose_lifting.metrics import all_metrics
from pose_lifting.sequence import Pose2DSequence


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
    per_source = {s: weighted([r for r in per_view if r[0].source == s]) for s in sources}
    return {
        "model": lifter.name,
        "params_m": lifter.num_params / 1e6,
        "mflops": lifter.mflops,
        "overall": weighted(per_view),
        "per_source": per_source,
        # unweighted mean over sources; on Human3.6M the mean over the actions that papers report
        "source_mean": {k: float(np.mean([m[k] for m in per_source.values()])) for k in per_source[sources[0]]},
    }


def evaluate_checkpoint(
    checkpoint: str | Path, lifter: Lifter, config: DataConfig, views: list[View], flip_test: bool = True
) -> dict:
    """`evaluate` with what was measured: the checkpoint, the data and, for mocap, the cameras and the noise."""
    result = evaluate(lifter, views, flip_test=flip_test)
    result |= {"checkpoint": str(checkpoint), "data": config.source, "flip": flip_test}
    if config.source == "mocap":
        result |= {"cameras": list(config.mocap_cameras), "noise": config.mocap_noise}
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", help="inference checkpoints (.pt) or shipped names")
    add_data_arguments(parser)
    parser.add_argument(
        "--cameras", nargs="+", choices=sorted(CAMERA_SETS), default=["h36m", "phone"], help="mocap: camera sets"
    )
    parser.add_argument("--noise", action="store_true", help="mocap: detector-like 2D noise (fixed seed)")
    parser.add_argument("--no-flip", action="store_true", help="no flip test-time augmentation")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    config = data_config(parser, args, mocap_cameras=tuple(args.cameras), mocap_noise=args.noise)
    all_views = load_data(config).heldout_views()
    results = []
    for checkpoint in args.checkpoints:
        lifter = Lifter.from_pretrained(checkpoint, args.device)
        result = evaluate_checkpoint(checkpoint, lifter, config, all_views, flip_test=not args.no_flip)
        results.append(result)
        o = result["overall"]
        print(
            f"{result['model']:10s} {checkpoint}: MPJPE {o['mpjpe']:.1f} mm, P-MPJPE {o['p_mpjpe']:.1f}, "
            f"N-MPJPE {o['n_mpjpe']:.1f}, MPJVE {o['mpjve']:.2f}, PCK150 {o['pck150']:.1f} %, AUC {o['auc']:.1f} "
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
