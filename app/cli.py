"""Command line: lift videos or 2D keypoint files to 3D and write every output file.

    python -m app.cli INPUT... --out DIR [--model student|teacher|both] [--device auto|cpu|cuda]
    python -m app.cli --example --out outputs          # the bundled example clip

INPUT is a video (mp4, mov, avi, webm, mkv, ...), a 2D keypoints `.npz` (`keypoints` (T, 17, 2) pixels,
`scores` (T, 17), `fps`, `width`, `height`, `layout` "coco" or "h36m") or a detection file written by
`python -m detector`. A bad input is reported and skipped; the exit status is 1 if any input failed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from app.pipeline import COORDINATES, USER_ERRORS, PipelineConfig, PipelineResult, model_choices, run_pipeline
from detector import TerminalProgress, example_video_path
from detector.config import KEYPOINT_MODELS


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = PipelineConfig()
    parser = argparse.ArgumentParser(prog="python -m app.cli", description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", type=Path, help="videos or keypoint .npz files")
    parser.add_argument("--example", action="store_true", help="process the bundled example clip (Sports2D demo)")
    parser.add_argument("--out", type=Path, default=Path("outputs"), help="output folder (default: outputs)")
    choices = model_choices()
    parser.add_argument(
        "--model", choices=list(choices), default=next(iter(choices)), help="shipped lifter(s) to run (weights/)"
    )
    parser.add_argument("--checkpoint", nargs="+", help="lifter checkpoint path(s) instead of --model's weights")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=defaults.device)
    parser.add_argument("--all-tracks", action="store_true", help="lift every person (CSV gets person_id)")
    parser.add_argument("--no-flip", action="store_true", help="skip flip test-time augmentation (faster)")
    parser.add_argument("--max-frames", type=int, default=None, help="process at most this many frames")
    parser.add_argument(
        "--max-duration", type=float, default=defaults.max_duration_s, help="seconds of video at most (0: no cap)"
    )
    parser.add_argument(
        "--keypoints",
        choices=KEYPOINT_MODELS,
        default=defaults.keypoints,
        help="2D keypoints: yolo (fast) or BlazePose lite / full (balanced) / heavy (accurate)",
    )
    parser.add_argument("--imgsz", type=int, default=defaults.imgsz, help="detector inference size")
    parser.add_argument("--azimuth", type=float, default=defaults.view.azimuth_deg, help="3D view: turn, degrees")
    parser.add_argument("--elevation", type=float, default=defaults.view.elevation_deg, help="3D view: look down")
    args = parser.parse_args(argv)
    if not args.inputs and not args.example:
        parser.error("give at least one INPUT, or --example")
    return args


def summary(result: PipelineResult) -> str:
    """What was done, how fast, and where the files are."""
    lines = [
        f"{result.source.name}: {result.num_frames} frames, {len(result.people)} person(s), "
        f"{result.end_to_end_fps():.1f} fps end to end",
        "  ms/frame: " + ", ".join(f"{stage} {ms:.1f}" for stage, ms in result.ms_per_frame().items()),
    ]
    for run in result.models:
        lines.append(f"  {run.label}: {run.lifter_name}, {run.mflops:.1f} MFLOPs, {run.ms_per_frame():.2f} ms/frame")
    if result.comparison:
        a, b = result.comparison.labels
        lines.append(f"  {a} vs {b}: mean joint distance {result.comparison.mean_mm:.1f} mm")
    lines += [f"  warning: {warning}" for warning in result.warnings]
    lines += [f"  wrote {path}" for path in result.files.values()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    defaults = PipelineConfig()
    failed = 0
    try:
        config = PipelineConfig(
            models=tuple(args.checkpoint or model_choices()[args.model]),
            device=args.device,
            all_tracks=args.all_tracks,
            flip_test=not args.no_flip,
            max_frames=args.max_frames,
            max_duration_s=args.max_duration or None,
            keypoints=args.keypoints,
            imgsz=args.imgsz,
            view=replace(defaults.view, azimuth_deg=args.azimuth, elevation_deg=args.elevation),
        )
        inputs = list(args.inputs) + ([example_video_path()] if args.example else [])
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in inputs:
        try:
            with TerminalProgress() as bar:
                result = run_pipeline(
                    path, args.out, config, lambda fraction, step, name=path.name: bar(fraction, f"{name}: {step}")
                )
        except USER_ERRORS as error:
            print(f"error: {path}: {error}", file=sys.stderr)
            failed += 1
            continue
        print(summary(result))
    print(f"3D coordinates: {COORDINATES}")
    return int(failed > 0)


if __name__ == "__main__":
    sys.exit(main())
