"""Command line: `python -m detector VIDEO [--out detections.npz] [--keypoints heavy] ...` with a progress bar.

Every DetectorConfig field is an option (`--help` lists them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from detector.config import DetectorConfig
from detector.detect import detect
from detector.errors import DetectorError
from detector.examples import ExampleUnavailableError, example_video_path
from detector.progress import TerminalProgress
from pose_lifting.cli_options import add_options, from_options
from pose_lifting.devices import DEVICES, detector_device

# DetectorConfig fields under other option names; `device` takes the one vocabulary of every front end
OPTION_NAMES = {"stitch_gap_s": "stitch_gap", "max_duration_s": "max_duration"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m detector", description=__doc__)
    parser.add_argument("video", nargs="?", help="video file (default: the Sports2D example clip)")
    parser.add_argument("--out", type=Path, default=Path("outputs/detections.npz"), help=".npz or .json")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="auto: the GPU when there is one")
    add_options(parser, DetectorConfig, names=OPTION_NAMES, skip=("device",))
    args = parser.parse_args(argv)

    try:
        config = from_options(args, DetectorConfig, skip=("device",), device=detector_device(args.device))
        video = args.video or example_video_path()
        with TerminalProgress() as bar:
            result = detect(video, config, progress=bar)
    except (DetectorError, ExampleUnavailableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result.save(args.out)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    main_track = result.main_track()
    print(
        f"{result.source}: {result.num_frames} frames at {result.fps:.2f} fps, {result.width}x{result.height}; "
        f"{len(result.track_ids())} people, main track {result.main_track_id} ({len(main_track)} frames), "
        f"keypoints: {result.keypoint_model}; "
        f"{result.timings['ms_per_frame']:.1f} ms/frame; saved {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
