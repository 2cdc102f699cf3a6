"""Benchmark (not a test): how the lifter generalizes to motion it has not seen (issue 44).

    python -m scripts.generalization run --arm base [--seeds 0 1]
    python -m scripts.generalization run --arm all --train-args "--limb-mix 0.5 --angle-offset 0.5 --orientation 0.2"
    python -m scripts.generalization table [--root runs/generalization] [--json docs/runs/generalization/table.json]
    python -m scripts.generalization coverage [--train-args "..."] [--json ...]
    python -m scripts.generalization gallery --train-args "..." --png docs/screenshots/augmented_poses.png

`run` trains one small lifter per arm and seed with the same fixed budget (`BENCH_ARGS`: a C8 L2 sparse student
from scratch, a fixed number of poses, one thread) and the arm's training options, with the sources of
`LEFT_OUT` (climbing, the DeepMimic acrobatics, boxing: motion unlike the rest) kept out of training besides the
usual held-out sequences. It then lifts every sequence of each left-out source, and today's held-out split
(`none`: pose_lifting.data.mocap.HELD_OUT), through static cameras (Human3.6M-like and phone-like, exact 2D,
`Lifter.lift` with flips and the default smoothing, as the app does): MPJPE, P-MPJPE, per-joint P-MPJPE, and the
acceleration ratio (the lifted root-relative motion's mean acceleration over the truth's). Leaving the three
sources out of one run instead of one run each makes an arm one training, not three, on this 2-core machine; what
the model learns from is then mostly LAFAN1 (walking, running, dancing, getting up), the CMU playground take and
the Isaac Lab clips. Runs resume; a finished run (`result.json`) is skipped. `table` gathers every arm's results;
`coverage` measures each test pose's distance to its nearest training pose (pose_lifting.coverage) before and after
the arm's augmentation; `gallery` draws a dozen augmented poses over the ones they were made from.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

import numpy as np
import torch

from pose_lifting.coverage import nearest_pose_distance
from pose_lifting.datasets import DataConfig, MocapData
from pose_lifting.evaluate import lift_view
from pose_lifting.generators import WindowSampler
from pose_lifting.lifter import SMOOTHING_METHODS, Lifter, SmoothingConfig, smooth_poses
from pose_lifting.metrics import acceleration_ratio, mpjpe, p_mpjpe, per_joint_p_mpjpe
from pose_lifting.motion_augment import augment_motion
from pose_lifting.skeleton import JOINT_NAMES
from pose_lifting.train import parse_args, train

LEFT_OUT = ("climb", "deepmimic", "boxing")  # kept out of every arm's training
SOURCES = (*LEFT_OUT, "none")  # what each arm is measured on; "none": today's held-out split
# every arm's model and budget: a small sparse student from scratch, 10 epochs of 16,000 windows (160,000 poses)
BENCH_ARGS = (
    "--model plain --embed-dim 8 --depth 2 --head-width 16 --epochs 10 --epoch-size 16000 --batch-size 256 "
    "--lr 2e-3 --lr-decay 0.85 --threads 1 --eval-every-frames 10 --leave-out " + " ".join(LEFT_OUT)
)
CAMERAS = ("h36m", "phone")


def run_folder(root: Path, arm: str, seed: int) -> Path:
    return root / arm / f"s{seed}"


def measure(checkpoint: Path, source: str) -> dict:
    """Exact-2D errors of a lifter on the left-out source's sequences (every frame, `CAMERAS`), with the lifter's
    default smoothing, and the headline numbers with every other test-time smoothing (`by_smoothing`)."""
    leave_out = () if source == "none" else (source,)
    views = MocapData(DataConfig(leave_out=leave_out, mocap_cameras=CAMERAS)).heldout_views()
    lifter = Lifter.from_pretrained(str(checkpoint), "cpu")
    raw = [lift_view(lifter, view, smoothing=SmoothingConfig("none")) for view in views]
    target = np.concatenate([v.target for v in views])
    frames = np.array([len(v.target) for v in views], float)
    by_smoothing = {}
    for method in SMOOTHING_METHODS:
        preds = [smooth_poses(p, v.fps, lifter.config.stride, SmoothingConfig(method)) for p, v in zip(raw, views)]
        pred = np.concatenate(preds)
        ratio = np.average([acceleration_ratio(p, v.target) for p, v in zip(preds, views)], weights=frames)
        by_smoothing[method] = {"mpjpe": mpjpe(pred, target), "p_mpjpe": p_mpjpe(pred, target),
                                "accel_ratio": float(ratio), "per_joint_p_mpjpe": per_joint_p_mpjpe(pred, target)}
    default = by_smoothing[lifter.smoothing.method]
    return {
        "source": source,
        "frames": int(frames.sum()),
        "smoothing": lifter.smoothing.method,
        **{k: v for k, v in default.items() if k != "per_joint_p_mpjpe"},
        "per_joint_p_mpjpe": dict(zip(JOINT_NAMES, default["per_joint_p_mpjpe"].round(1).tolist())),
        "by_smoothing": {m: {k: v for k, v in r.items() if k != "per_joint_p_mpjpe"} for m, r in by_smoothing.items()},
    }


def run(root: Path, arm: str, seeds: list[int], train_args: str, again: bool = False) -> None:
    """Train (or resume) and measure each seed's run of the arm; `again` measures finished runs again."""
    for seed in seeds:
        folder = run_folder(root, arm, seed)
        if (folder / "result.json").exists() and not again:
            continue
        argv = shlex.split(BENCH_ARGS) + shlex.split(train_args) + ["--out", str(folder), "--seed", str(seed)]
        checkpoint = folder / "model.pt" if again and (folder / "model.pt").exists() else train(parse_args(argv))
        torch.set_num_threads(1)
        results = {source: measure(checkpoint, source) for source in SOURCES}
        summary = {"arm": arm, "seed": seed, "train_args": train_args, "results": results}
        (folder / "result.json").write_text(json.dumps(summary, indent=1) + "\n")
        print(json.dumps({s: round(r["p_mpjpe"], 1) for s, r in results.items()}))


def gather(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(root.glob("*/*/result.json"))]


def table(root: Path, json_path: Path | None) -> None:
    runs = sorted(gather(root), key=lambda r: (r["arm"] != "base", r["arm"], r["seed"]))
    print("| arm | seed | " + " | ".join(SOURCES) + " | mean of the left-out sources |")
    print("|---|---|" + "---|" * (len(SOURCES) + 1))
    for run in runs:
        results = run["results"]
        cells = [f"{results[s]['p_mpjpe']:.1f} / {results[s]['mpjpe']:.1f} / {results[s]['accel_ratio']:.2f}"
                 for s in SOURCES]
        mean = np.mean([results[s]["p_mpjpe"] for s in LEFT_OUT])
        print(f"| {run['arm']} | {run['seed']} | " + " | ".join(cells) + f" | {mean:.1f} |")
    print("\ncells: P-MPJPE / MPJPE (mm) / acceleration ratio (predicted / true); worst joints (P-MPJPE, mm):")
    for run in runs:
        for source, r in run["results"].items():
            worst = sorted(r["per_joint_p_mpjpe"].items(), key=lambda kv: -kv[1])[:3]
            print(f"  {run['arm']} s{run['seed']} {source}: " + ", ".join(f"{k} {v:.0f}" for k, v in worst))
    measured = [run for run in runs if all("by_smoothing" in r for r in run["results"].values())]
    if measured:
        print("\ntest-time smoothing: mean over the left-out sources, P-MPJPE mm / acceleration ratio")
        print("| arm | seed | " + " | ".join(SMOOTHING_METHODS) + " |")
        print("|---|---|" + "---|" * len(SMOOTHING_METHODS))
        for run in measured:
            cells = []
            for method in SMOOTHING_METHODS:
                rows = [run["results"][s]["by_smoothing"][method] for s in LEFT_OUT]
                cells.append(f"{np.mean([r['p_mpjpe'] for r in rows]):.1f} / "
                             f"{np.mean([r['accel_ratio'] for r in rows]):.2f}")
            print(f"| {run['arm']} | {run['seed']} | " + " | ".join(cells) + " |")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(runs, indent=1) + "\n")


def coverage(train_args: str, sources: list[str], every: int, pool_size: int, json_path: Path | None) -> None:
    """Mean nearest-training-pose distance of each test source's poses to the benchmark's training poses (what the
    arm's --leave-out and the held-out split keep out is not in them), before and after augmentation, with pools of
    the same size."""
    config = parse_args(shlex.split(BENCH_ARGS) + shlex.split(train_args))
    out = []
    for source in sources:
        test_sequences = MocapData(DataConfig(leave_out=() if source == "none" else (source,))).heldout_sequences
        data = MocapData(DataConfig(leave_out=config.data.leave_out, augment=config.data.augment))
        test = np.concatenate([s.poses for s in test_sequences])[::every]
        plain = np.concatenate([s.poses for s in data.train_sequences])
        plain = plain[np.linspace(0, len(plain) - 1, min(pool_size, len(plain))).astype(int)]
        sampler = WindowSampler([s.poses for s in data.train_sequences], 3, config.data.augment, seed=0)
        augmented = np.concatenate([sampler.augmented_windows_3d(512)[:, 1] for _ in range(-(-len(plain) // 512))])
        row = {"source": source, "test_poses": len(test), "pool": len(plain),
               "before_mm": float(nearest_pose_distance(test, plain).mean()),
               "after_mm": float(nearest_pose_distance(test, augmented[: len(plain)]).mean())}
        out.append(row)
        print(json.dumps(row))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"train_args": train_args, "rows": out}, indent=1) + "\n")


def gallery(train_args: str, png: Path, count: int = 12, seed: int = 1) -> None:
    """A picture of `count` augmented centre poses (colour) over the poses they were made from (grey)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pose_lifting.skeleton import BONES, LEFT_JOINTS

    augment = parse_args(shlex.split(BENCH_ARGS) + shlex.split(train_args)).data.augment
    sampler = WindowSampler([s.poses for s in MocapData(DataConfig()).train_sequences], 81, augment, seed=seed)
    original, donors = sampler.windows_3d(256), sampler.windows_3d(256)
    augmented = augment_motion(original, donors, sampler.rng, augment.motion, augment.limb_mix, augment.angle_offset,
                               augment.orientation)[:, 40]
    original = original[:, 40]
    changed = np.flatnonzero(np.abs(augmented - original).max(axis=(1, 2)) > 0.05)[:count]
    columns = 4
    rows = -(-len(changed) // columns)
    fig = plt.figure(figsize=(3.2 * columns, 3.4 * rows))
    for k, b in enumerate(changed):
        ax = fig.add_subplot(rows, columns, k + 1, projection="3d")
        for poses, colour in ((original[b], "0.75"), (augmented[b], None)):
            centred = poses - poses[0]
            for parent, child in BONES:
                side = "tab:red" if child in LEFT_JOINTS else "tab:blue"
                xs, ys, zs = (centred[[parent, child], i] for i in (0, 2, 1))
                ax.plot(xs, ys, zs, color=colour or side, lw=2 if colour is None else 1.5)
        ax.set(xlim=(-0.9, 0.9), ylim=(-0.9, 0.9), zlim=(-0.9, 0.9), xticks=[], yticks=[], zticks=[])
        ax.view_init(elev=12, azim=-70)
    fig.suptitle(f"augmented poses (colour; left red) over their originals (grey): {train_args}", fontsize=9)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=80)
    print(f"wrote {png}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("run", "table", "coverage", "gallery"))
    parser.add_argument("--root", type=Path, default=Path("runs/generalization"))
    parser.add_argument("--arm", default="base", help="run: the arm's name (its folder under --root)")
    parser.add_argument("--train-args", default="", help="run, coverage: the arm's pose_lifting.train options")
    parser.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES, help="coverage: test sets")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--again", action="store_true", help="run: measure finished runs again (no training)")
    parser.add_argument("--every", type=int, default=2, help="coverage: every n-th test pose")
    parser.add_argument("--pool", type=int, default=8000, help="coverage: training poses in the pool")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--png", type=Path, default=Path("docs/screenshots/augmented_poses.png"), help="gallery")
    args = parser.parse_args()
    if args.command == "run":
        run(args.root, args.arm, args.seeds, args.train_args, args.again)
    elif args.command == "table":
        table(args.root, args.json)
    elif args.command == "coverage":
        coverage(args.train_args, args.sources, args.every, args.pool, args.json)
    else:
        gallery(args.train_args, args.png)


if __name__ == "__main__":
    main()
