"""Benchmark (not a test): every lifter on the held-out mocap with exact 2D, the training's Gaussian noise and a
detector's structured errors at several strengths (YOLO-like `detector xS`, BlazePose-like `blazepose xS`), each
with every test-time smoothing of the 3D; docs/noise.md.

    python -m scripts.noise_table teacher student small [--strengths 0.65 1.0 1.5] [--blazepose-strengths 1.0 1.5]
        [--json docs/runs/noise.json]

Each (model, 2D setting) is lifted once without smoothing (flip test-time augmentation, `evaluate.lift_view`);
every `lifter.SMOOTHING_METHODS` is then applied to those lifts, as `Lifter.lift` would (the held-out mocap is at
the lifters' 30 fps, so no resampling comes between). "exact": exact 2D through the Human3.6M-like and phone
cameras; "exact h36m" and the noisy settings through the Human3.6M-like ones (as the model cards). Prints a
Markdown table; the JSON is rewritten after every model and setting, so an interrupted run keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pose_lifting.datasets import DataConfig, load_data
from pose_lifting.evaluate import lift_view, summarize
from pose_lifting.lifter import SMOOTHING_METHODS, Lifter, SmoothingConfig, smooth_poses
from pose_lifting.metrics import all_metrics

COLUMNS = ("mpjpe", "p_mpjpe", "mpjve", "accel", "bone_std")


def settings(strengths: list[float], blazepose_strengths: list[float] = (1.0,)) -> dict[str, dict]:
    """2D setting name -> DataConfig options."""
    out = {
        "exact": {"mocap_cameras": ("h36m", "phone")},
        "exact h36m": {"mocap_cameras": ("h36m",)},  # half the cost, the noisy settings' cameras
        "gaussian": {"mocap_noise": "gaussian"},
    }
    for strength in strengths:
        out[f"detector x{strength:g}"] = {"mocap_noise": "detector", "mocap_noise_strength": strength}
    for strength in blazepose_strengths:
        out[f"blazepose x{strength:g}"] = {"mocap_noise": "blazepose", "mocap_noise_strength": strength}
    return out


def measure(lifter: Lifter, views: list, methods: tuple[str, ...]) -> dict[str, dict]:
    """Overall metrics per smoothing method, from one raw lift per view; plus the lifting time."""
    started = time.perf_counter()
    raw = [lift_view(lifter, view, smoothing=SmoothingConfig("none")) for view in views]
    seconds = time.perf_counter() - started
    out = {}
    for method in methods:
        started = time.perf_counter()
        preds = [smooth_poses(p, v.fps, lifter.config.stride, SmoothingConfig(method)) for p, v in zip(raw, views)]
        smooth_seconds = time.perf_counter() - started
        summary = summarize([(v, all_metrics(p, v.target, fps=v.fps)) for p, v in zip(preds, views)])
        frames = sum(len(v.target) for v in views)
        out[method] = summary["overall"] | {
            "lift_ms_per_frame": 1000 * seconds / frames,
            "smooth_ms_per_frame": 1000 * smooth_seconds / frames,
        }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="shipped names or checkpoints")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.65, 1.0, 1.5])
    parser.add_argument("--blazepose-strengths", type=float, nargs="+", default=[1.0, 1.5])
    parser.add_argument("--methods", nargs="+", choices=SMOOTHING_METHODS, default=list(SMOOTHING_METHODS))
    parser.add_argument("--settings", nargs="+", help="only these 2D settings (default: all)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    every = settings(args.strengths, args.blazepose_strengths)
    chosen = {k: v for k, v in every.items() if not args.settings or k in args.settings}
    views = {name: load_data(DataConfig(data_dir=args.data_dir, **o)).heldout_views() for name, o in chosen.items()}
    results: dict = json.loads(args.json.read_text()) if args.json and args.json.exists() else {}
    for model in args.models:
        lifter = Lifter.from_pretrained(model, "cpu")
        for name, setting_views in views.items():
            results.setdefault(str(model), {})[name] = measure(lifter, setting_views, tuple(args.methods))
            if args.json:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(results, indent=1))
            print(f"done {model} {name}", flush=True)
    print("| model | 2D | smoothing | MPJPE | P-MPJPE | MPJVE (mm/frame) | accel (m/s^2) | bone std (mm) |")
    print("|---|---|---|---|---|---|---|---|")
    for model, per_setting in results.items():
        for name, per_method in per_setting.items():
            for method, m in per_method.items():
                values = " | ".join(f"{m[k]:.2f}" if k in ("mpjve", "accel") else f"{m[k]:.1f}" for k in COLUMNS)
                print(f"| {model} | {name} | {method} | {values} |")


if __name__ == "__main__":
    main()
