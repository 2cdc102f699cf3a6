"""Benchmark live 3D: `python -m app.live CLIP --realtime` for each 2D keypoints model and lifter, one after another.

    python -m scripts.bench_live [CLIP] [--keypoints lite full heavy] [--models student_causal student]
        [--seconds S] [--max-side 640] [--out docs/runs/live]

Each run plays the clip (default: the bundled Sports2D demo, 30 fps, 230 frames, shrunk to 640 px as a webcam
gives it) at its own speed through a fresh `LiveSession`, dropping what the lift misses, headless, the take kept
but not processed. Prints a Markdown table: frames processed a second, the delay (median and 90th percentile,
from a frame's arrival to its 3D pose), the share of frames dropped, and each stage's milliseconds a processed
frame; the JSON of every run goes to `--out`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from app import live
from detector import example_video_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clip", nargs="?", type=Path, help="default: the bundled example clip")
    parser.add_argument("--keypoints", nargs="+", default=["lite", "full", "heavy"])
    parser.add_argument("--models", nargs="+", default=["student_causal", "student"],
                        help="lifters, one run each (weights/<name>.pt or checkpoint paths)")
    parser.add_argument("--seconds", type=float, help="play only this much of the clip")
    parser.add_argument("--max-side", type=int, default=640)
    parser.add_argument("--out", type=Path, default=Path("docs/runs/live"))
    args = parser.parse_args(argv)
    clip = args.clip or example_video_path()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for keypoints in args.keypoints:
        for model in args.models:
            report = args.out / f"{clip.stem}_{keypoints}_{Path(model).stem}.json"
            with tempfile.TemporaryDirectory() as takes:
                argv = [str(clip), "--realtime", "--headless", "--no-process", "--max-side", str(args.max_side),
                        "--keypoints", keypoints, "--model", model, "--out", takes, "--json", str(report)]
                if args.seconds:
                    argv += ["--seconds", str(args.seconds)]
                if live.main(argv) != 0:
                    raise SystemExit(f"the run with {keypoints} and {model} failed")
            rows.append(json.loads(report.read_text()))
    print("\n| keypoints | lifter | fps | delay median / p90 ms | dropped | YOLO ms | keypoints ms | lift ms |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        stages = row["stage_ms"]
        lift = next(value for name, value in stages.items() if name.startswith("lift"))
        dropped = row["frames_dropped"] / row["frames_offered"]
        print(f"| {row['keypoints']} | {Path(row['models'][0]).stem} | {row['fps']:.1f} | "
              f"{row['latency_ms_median']:.0f} / {row['latency_ms_p90']:.0f} | {100 * dropped:.0f} % | "
              f"{stages['yolo']:.1f} | {stages['keypoints']:.1f} | {lift:.1f} |")


if __name__ == "__main__":
    main()
