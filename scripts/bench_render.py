"""Benchmark the render step alone (not a test): the side-by-side MP4 and the GIF of one detection, drawn again.

    python -m scripts.bench_render [CLIP] [--keypoints lite] [--repeat 4]

Detects once, then runs `lift_people` (lift, world frame, render, export) `--repeat` times and prints the render
step's ms/frame each time and their median (docs/benchmarks.md, "The fast choice and a cheaper render").
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from app.pipeline import PipelineConfig, detect_people, lift_people
from detector import example_video_path
from detector.config import KEYPOINT_MODELS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", nargs="?", type=Path, help="a video (default: the bundled example clip)")
    parser.add_argument("--keypoints", choices=KEYPOINT_MODELS, default="lite")
    parser.add_argument("--repeat", type=int, default=4)
    args = parser.parse_args()
    config = PipelineConfig(keypoints=args.keypoints)
    detected = detect_people(args.clip or example_video_path(), config)
    renders = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeat):
            result = lift_people(detected, folder, config)
            renders.append(1e3 * result.timings["render"] / result.num_frames)
    print(f"render ms/frame: {', '.join(f'{r:.1f}' for r in renders)}; median {statistics.median(renders):.1f}")


if __name__ == "__main__":
    main()
