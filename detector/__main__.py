"""Command line: `python -m detector VIDEO [--out detections.npz] [--keypoints heavy] ...` with a progress bar."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from detector.config import KEYPOINT_MODELS, DetectorConfig
from detector.detect import detect
from detector.errors import DetectorError
from detector.examples import ExampleUnavailableError, example_video_path
from detector.progress import TerminalProgress


def main(argv: list[str] | None = None) -> int:
    defaults = DetectorConfig()
    parser = argparse.ArgumentParser(prog="python -m detector", description=__doc__)
    parser.add_argument("video", nargs="?", help="video file (default: the Sports2D example clip)")
    parser.add_argument("--out", type=Path, default=Path("outputs/detections.npz"), help=".npz or .json")
    parser.add_argument("--model", default=defaults.model, help="pose model name or .pt path")
    parser.add_argument("--allow-download", action="store_true", help="let Ultralytics download a named model")
    parser.add_argument("--device", default=None, help="cpu, cuda:0, ... (default: GPU if present)")
    keypoints_help = "2D keypoints: YOLO's own, or BlazePose lite / full / heavy on the chosen people"
    parser.add_argument("--keypoints", choices=KEYPOINT_MODELS, default=defaults.keypoints, help=keypoints_help)
    parser.add_argument("--all-tracks", action="store_true", help="run --keypoints on every person, not the main one")
    parser.add_argument("--imgsz", type=int, default=defaults.imgsz, help="cap on YOLO's inference resolution")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--tracker", default=defaults.tracker, help="bytetrack.yaml or botsort.yaml")
    parser.add_argument(
        "--stitch-gap", type=float, default=defaults.stitch_gap_s, help="join tracks split by a gap up to this (s)"
    )
    parser.add_argument("--track-id", type=int, default=None, help="the subject's track id (default: main person)")
    parser.add_argument("--max-duration", type=float, default=None, help="process at most this many seconds")
    args = parser.parse_args(argv)

    try:
        config = DetectorConfig(
            model=args.model, allow_download=args.allow_download, device=args.device, imgsz=args.imgsz,
            batch_size=args.batch_size, tracker=args.tracker, track_id=args.track_id, stitch_gap_s=args.stitch_gap,
            max_duration_s=args.max_duration, keypoints=args.keypoints, all_tracks=args.all_tracks,
        )  # fmt: skip
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
