"""Benchmark (not a test): which kind of BlazePose-like 2D error costs a lifter the most, on the held-out mocap.

    python -m scripts.blazepose_ablation student small [--strength 1.0] [--json docs/runs/noise/ablation.json]

The BlazePose profile (`generators.BlazePoseNoiseConfig`, docs/noise.md) at one strength, taken apart: the
torso rebuilt from the hips and shoulders alone (what the app's remap does, no error), then each kind of error
on its own (the joint-definition offsets of the hips and head, the steady per-joint bias, its slow drift, the
white jitter, the gross errors: outliers, limb swaps, missing joints), then all of them (the `blazepose x1`
column of docs/noise.md). Every setting goes through the Human3.6M-like cameras, lifted with flip test-time
augmentation and without smoothing; the 2D error is its mean length over the subject's 2D size (%). What each
kind costs says where a better 2D stage, or a lifter trained for it, can win millimetres, on the model of the
errors, not on real video.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from pose_lifting.data.mocap import load_mocap, split
from pose_lifting.datasets import View, mocap_views
from pose_lifting.evaluate import evaluate
from pose_lifting.generators import AugmentConfig, BlazePoseNoiseConfig, subject_size
from pose_lifting.lifter import Lifter, SmoothingConfig
from scripts.detector_noise_stats import error_summary

KINDS = {  # each kind of error: the fields of the profile that size it
    "offsets": ("hip_widening", "head_along_neck"),
    "bias": ("bias",),
    "drift": ("drift",),
    "jitter": ("jitter",),
    "gross": ("outlier_rate", "swap_rate", "missing_rate"),
}


def only(profile: BlazePoseNoiseConfig, kinds: tuple[str, ...]) -> BlazePoseNoiseConfig:
    """The profile with every kind of error but `kinds` set to zero."""
    off = {name: 0.0 for kind, names in KINDS.items() if kind not in kinds for name in names}
    return replace(profile, **off)


def ablation_settings(profile: BlazePoseNoiseConfig) -> dict[str, BlazePoseNoiseConfig]:
    """Setting name -> the profile restricted to it."""
    return {"torso rebuilt": only(profile, ()), **{k: only(profile, (k,)) for k in KINDS}, "all": profile}


def error_percent(noisy: list[View], exact: list[View]) -> float:
    """Mean 2D error length over the subject's 2D size, %."""
    sizes = [subject_size(e.pixels[None])[0] for e in exact]
    return 100 * float(np.mean([error_summary((n.pixels - e.pixels) / size)["mean"]
                                for n, e, size in zip(noisy, exact, sizes, strict=True)]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="shipped names or checkpoints")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--strength", type=float, default=1.0, help="of the BlazePose profile (1: heavy)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    _, heldout = split(load_mocap(args.data_dir))
    exact = list(mocap_views(heldout, ("h36m",), "none"))
    views = {"exact": exact}
    for name, profile in ablation_settings(BlazePoseNoiseConfig()).items():
        augment = AugmentConfig(blazepose=profile)
        views[name] = list(mocap_views(heldout, ("h36m",), "blazepose", args.strength, augment))
    results: dict = {"strength": args.strength, "error_percent": {k: error_percent(v, exact) for k, v in views.items()}}
    for model in args.models:
        lifter = Lifter.from_pretrained(model, "cpu")
        for name, setting_views in views.items():
            raw = evaluate(lifter, setting_views, smoothing=SmoothingConfig("none"))
            results.setdefault(str(model), {})[name] = raw["overall"]
            if args.json:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(results, indent=1))
            print(f"done {model} {name}", flush=True)
    models = [str(m) for m in args.models]
    print("| 2D | error % | " + " | ".join(f"{m} MPJPE / P-MPJPE" for m in models) + " |")
    print("|---|---|" + "---|" * len(models))
    for name in views:
        cells = " | ".join(f"{results[m][name]['mpjpe']:.1f} / {results[m][name]['p_mpjpe']:.1f}" for m in models)
        print(f"| {name} | {results['error_percent'][name]:.2f} | {cells} |")


if __name__ == "__main__":
    main()
