"""Command line: lift videos or 2D keypoint files to 3D and write every output file.

    python -m app.cli INPUT... --out DIR [--model student|teacher|both] [--device auto|cpu|cuda]
    python -m app.cli --example --out outputs          # the bundled example clip

INPUT is a video (mp4, mov, avi, webm, mkv, ...), a 2D keypoints `.npz` (`keypoints` (T, 17, 2) pixels,
`scores` (T, 17), `fps`, `width`, `height`, `layout` "coco" or "h36m"), a folder or `.zip` of OpenPose JSON, a
COCO keypoint results or MMPose predictions `.json` (`--fps` and `--size WxH` where the file lacks them), or a
detection file written by `python -m detector`. Any other folder gives the videos, `.npz` and `.zip` files in it
and its subfolders, a quoted glob its matches. A bad input is reported and skipped; the exit status is 1 if any
input failed.
"""

from __future__ import annotations

import argparse
import glob
import re
import sys
from dataclasses import fields
from pathlib import Path

from app.pipeline import (
    COORDINATES,
    USER_ERRORS,
    WORLD_COORDINATES,
    PipelineConfig,
    PipelineResult,
    model_choices,
    run_pipeline,
)
from app.render import PanelView
from app.viewer import world_caption
from detector import TerminalProgress, example_video_path
from detector.keypoint_files import VIDEO_SUFFIXES
from pose_lifting.angles import angle_ranges
from pose_lifting.cli_options import add_options, from_options
from pose_lifting.world import WorldConfig

# PipelineConfig and PanelView fields under shorter option names
OPTION_NAMES = {"flip_test": "flip", "max_duration_s": "max_duration", "azimuth_deg": "azimuth",
                "elevation_deg": "elevation", "fov_deg": "fov", "method": "world_method", "keypoints_fps": "fps"}
# --size WxH is written by hand: the generic tuple option would read two separate numbers
# WorldConfig's tuning constants stay off the command line; the field of view and the method are options
WORLD_FIXED = tuple(f.name for f in fields(WorldConfig) if f.name not in ("fov_deg", "method"))
OPTION_HELP = {"max_duration_s": "process at most this many seconds of video; 0: no cap"}


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """PipelineConfig's fields as options (the app's and this command's); the models come from elsewhere."""
    add_options(parser, PipelineConfig, names=OPTION_NAMES, skip=("models", "keypoints_size"), help=OPTION_HELP)
    parser.add_argument("--size", dest="keypoints_size", type=picture_size, metavar="WxH",
                        help="picture width x height of a keypoints file that does not give it, e.g. 1920x1080")
    add_options(parser.add_argument_group("3D view"), PanelView, names=OPTION_NAMES, skip=("size",))
    add_options(parser.add_argument_group("world frame"), WorldConfig, names=OPTION_NAMES, skip=WORLD_FIXED)


def config_from_options(args: argparse.Namespace, models: tuple[str, ...]) -> PipelineConfig:
    """The PipelineConfig of `add_config_options`' parsed options."""
    view = from_options(args, PanelView, skip=("size",))
    world = from_options(args, WorldConfig, skip=WORLD_FIXED)
    return from_options(
        args, PipelineConfig, skip=("keypoints_size",), models=models, max_duration_s=args.max_duration_s or None,
        keypoints_size=args.keypoints_size, view=view, world=world,
    )


def picture_size(text: str) -> tuple[int, int]:
    """--size's "WxH" (e.g. 1920x1080) as (width, height)."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"give the size as WIDTHxHEIGHT, e.g. 1920x1080, not {text!r}")
    return int(match[1]), int(match[2])


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The inputs, the output folder, the lifters and the pipeline's options (this command's and app.batch's)."""
    parser.add_argument("inputs", nargs="*", type=Path, help="videos, keypoint files, folders or quoted globs")
    parser.add_argument("--example", action="store_true", help="process the bundled example clip (Sports2D demo)")
    parser.add_argument("--out", type=Path, default=Path("outputs"), help="output folder (default: outputs)")
    choices = model_choices()
    parser.add_argument(
        "--model", choices=list(choices), default=next(iter(choices)), help="shipped lifter(s) to run (weights/)"
    )
    parser.add_argument("--checkpoint", nargs="+", help="lifter checkpoint path(s) instead of --model's weights")
    add_config_options(parser)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app.cli", description=__doc__.split("\n\n")[0])
    add_run_options(parser)
    args = parser.parse_args(argv)
    if not args.inputs and not args.example:
        parser.error("give at least one INPUT, or --example")
    return args


def run_config(args: argparse.Namespace) -> PipelineConfig:
    """The PipelineConfig of `add_run_options`' parsed options (an InputError or ValueError if they are bad)."""
    return config_from_options(args, tuple(args.checkpoint or model_choices()[args.model]))


def expand_inputs(paths: list[Path], example: bool = False, exclude: Path | None = None) -> list[Path]:
    """The input files of the command line, in order, each once: a video or keypoints file as it is; a glob
    (quoted, so that the shell leaves it) its matches; a folder of per-frame OpenPose JSON (only .json files) as
    one input; any other folder the videos, .npz and .zip files in it and its subfolders (not under `exclude`,
    the output folder); then the example clip with `example`. A name that matches nothing stays, to be
    reported as missing."""
    found: list[Path] = []
    for path in paths:
        if not path.exists() and glob.has_magic(str(path)):
            matches = sorted(Path(m) for m in glob.glob(str(path), recursive=True))
            found += [p for m in matches for p in _folder_inputs(m, exclude)] if matches else [path]
        else:
            found += _folder_inputs(path, exclude)
    if example:
        found.append(example_video_path())
    seen: set[Path] = set()
    unique = []
    for path in found:  # the first mention of each file wins
        if path.resolve() not in seen:
            seen.add(path.resolve())
            unique.append(path)
    return unique


def _folder_inputs(path: Path, exclude: Path | None, top: bool = True) -> list[Path]:
    if not path.is_dir():
        return [path]
    if not top and exclude is not None and path.resolve().is_relative_to(exclude.resolve()):
        return []
    entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
    files = [p for p in entries if p.is_file()]
    if files and all(p.suffix.lower() == ".json" for p in files) and not any(p.is_dir() for p in entries):
        return [path]  # per-frame OpenPose JSON: one input
    inputs = [p for p in files if p.suffix.lower() in VIDEO_SUFFIXES + (".npz", ".zip")]
    inputs += [q for p in entries if p.is_dir() for q in _folder_inputs(p, exclude, top=False)]
    return inputs if inputs or not top else [path]  # nothing in it: left to the reader, which says why


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
    lines.append(f"  world: {world_caption(result)}")
    lines += angle_lines(result)
    lines += [f"  warning: {warning}" for warning in result.warnings]
    lines += [f"  wrote {path}" for path in result.files.values()]
    return "\n".join(lines)


def angle_lines(result: PipelineResult, per_line: int = 3) -> list[str]:
    """The main subject's joint angle ranges (first model): minimum to maximum and the range, degrees."""
    run = result.models[0]
    angles = run.angles[0] if run.angles else None
    if angles is None:
        return []
    cells = [f"{name} {low:.0f}..{high:.0f} ({span:.0f})" for name, (low, high, span) in angle_ranges(angles).items()]
    rows = [", ".join(cells[i : i + per_line]) for i in range(0, len(cells), per_line)]
    return [f"  joint angles of #{result.people[0].track_id} (degrees, min..max (range)):"] + [f"    {r}" for r in rows]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = run_config(args)
        inputs = expand_inputs(args.inputs, args.example, exclude=args.out)
    except (*USER_ERRORS, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    out_existed = args.out.exists()
    done = 0
    for path in inputs:
        try:
            with TerminalProgress() as bar:
                result = run_pipeline(
                    path, args.out, config, lambda fraction, step, name=path.name: bar(fraction, f"{name}: {step}")
                )
        except USER_ERRORS as error:
            print(f"error: {path}: {error}", file=sys.stderr)
            continue
        print(summary(result))
        done += 1
    if done:
        print(f"3D coordinates: {COORDINATES}")
        print(f"world outputs (_3d_world.csv, .bvh, .glb): {WORLD_COORDINATES}")
    elif not out_existed and args.out.is_dir() and not any(args.out.iterdir()):
        args.out.rmdir()  # nothing was written: leave no empty folder behind
    return int(done < len(inputs))


if __name__ == "__main__":
    sys.exit(main())
