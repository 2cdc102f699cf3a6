"""Long and large videos: build a 10-minute 1080p clip and a 4K clip from the example, run the pipeline on them in
child processes and report each run's peak memory (so that one can see it does not grow with the video's length:
frames stream, only keypoints are kept).

    python scripts/bench_long_video.py                                  # the full runs: 10 min 1080p, 4K
    python scripts/bench_long_video.py --durations 5 20 --imgsz 160     # shorter processed spans, a cheaper detector

The clips are made once in `--work` (default /tmp/scjd-bench): the example (Sports2D demo, 7.7 s) is scaled and
encoded once (H.264), then its packets are copied end to end as many times as needed, so making a 10-minute
clip costs one 7.7 s encode. Each case prints and appends a JSON line to `--json`: frames processed, warnings,
stage timings and the child's peak resident memory (`ru_maxrss`). `--durations` caps the processed seconds
(the pipeline's `max_duration_s`; 0 processes everything); the page's default cut (60 s) is checked on the long
clip without running it.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.export import Mp4Writer  # noqa: E402 (after the path set-up)
from app.pipeline import PipelineConfig, run_pipeline  # noqa: E402
from detector import DetectorConfig, example_video_path, read_video  # noqa: E402
from detector.detect import frame_limit  # noqa: E402


@dataclass
class BenchConfig:
    work: Path = Path(tempfile.gettempdir()) / "scjd-bench"
    minutes: float = 10.0  # length of the 1080p clip
    uhd_seconds: float = 30.0  # length of the 4K clip
    durations: tuple[float, ...] = (0.0,)  # processed seconds per run (0: the whole clip)
    imgsz: int = 640  # the detector's inference size (smaller is faster, same streaming)
    model: str = "student"
    json: Path | None = None


def encode_loop(source: Path, path: Path, width: int, height: int) -> Path:
    """The example clip scaled to width x height, one H.264 keyframe at the start."""
    video = read_video(source)
    with Mp4Writer(path, video.fps) as out:
        for frame in video.frames(max_side=max(width, height)):
            image = frame.image
            if image.shape[:2] != (height, width):
                image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
            out.write(image)
    return path


def repeat_clip(loop: Path, path: Path, seconds: float) -> Path:
    """`loop` copied end to end (no re-encoding) until the clip lasts at least `seconds`."""
    with av.open(str(loop)) as source:
        stream = source.streams.video[0]
        packets = [p for p in source.demux(stream) if p.size > 0]
        stamps = np.sort([p.pts for p in packets])
        step = int(stamps[-1] - stamps[0] + np.median(np.diff(stamps)))  # one loop plus one frame
        loop_s = float(step * stream.time_base)
        repeats = int(-(-seconds // loop_s))
        with av.open(str(path), "w") as target:
            out = target.add_stream_from_template(stream)
            for repeat in range(repeats):
                for packet in packets:
                    packet.pts += step if repeat else 0
                    packet.dts += step if repeat else 0
                    packet.stream = out
                    target.mux(packet)
    return path


def make_clips(config: BenchConfig) -> dict[str, Path]:
    config.work.mkdir(parents=True, exist_ok=True)
    example = example_video_path()
    clips = {}
    sizes = {"1080p": (1920, 1080, 60 * config.minutes), "4k": (3840, 2160, config.uhd_seconds)}
    for name, (width, height, seconds) in sizes.items():
        path = config.work / f"long_{name}_{seconds:.0f}s.mp4"
        if not path.is_file():
            tick = time.perf_counter()
            loop = encode_loop(example, config.work / f"loop_{name}.mp4", width, height)
            repeat_clip(loop, path, seconds)
            print(f"made {path} ({path.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - tick:.0f} s")
        clips[name] = path
    return clips


def run_case(clip: Path, seconds: float, config: BenchConfig) -> dict:
    """One pipeline run in this process (called in a child); its peak memory comes from the kernel."""
    out = config.work / f"out_{clip.stem}_{seconds:g}"
    pipeline = PipelineConfig(models=(config.model,), max_duration_s=seconds or None, imgsz=config.imgsz)
    tick = time.perf_counter()
    result = run_pipeline(clip, out, pipeline)
    video = read_video(clip)
    return {
        "clip": clip.name,
        "size": f"{video.width}x{video.height}",
        "clip_s": round(video.duration_s, 1),
        "max_duration_s": seconds or None,
        "imgsz": config.imgsz,
        "frames": result.num_frames,
        "wall_s": round(time.perf_counter() - tick, 1),
        "ms_per_frame": {k: round(v, 1) for k, v in result.ms_per_frame().items()},
        "warnings": result.warnings,
        "output_frames": read_video(result.files["mp4"]).num_frames,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def check_default_cut(clip: Path) -> dict:
    """The page's default (60 s) cuts the long clip, and says so, before any frame is processed."""
    limit, warnings = frame_limit(read_video(clip), DetectorConfig(max_duration_s=PipelineConfig().max_duration_s))
    return {"clip": clip.name, "default_cut_frames": limit, "warning": warnings[0] if warnings else None}


def parse_args(argv: list[str] | None = None) -> tuple[BenchConfig, argparse.Namespace]:
    defaults = BenchConfig()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=defaults.work)
    parser.add_argument("--minutes", type=float, default=defaults.minutes)
    parser.add_argument("--uhd-seconds", type=float, default=defaults.uhd_seconds)
    parser.add_argument("--durations", type=float, nargs="+", default=list(defaults.durations))
    parser.add_argument("--imgsz", type=int, default=defaults.imgsz)
    parser.add_argument("--model", default=defaults.model)
    parser.add_argument("--json", type=Path, default=None, help="append each result as a JSON line here")
    parser.add_argument("--clips", nargs="+", choices=("1080p", "4k"), default=["1080p", "4k"])
    parser.add_argument("--child", nargs=2, metavar=("CLIP", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    config = BenchConfig(
        args.work, args.minutes, args.uhd_seconds, tuple(args.durations), args.imgsz, args.model, args.json
    )
    return config, args


def child_command(clip: Path, seconds: float, config: BenchConfig) -> list[str]:
    options = ["--work", str(config.work), "--imgsz", str(config.imgsz), "--model", config.model]
    return [sys.executable, __file__, "--child", str(clip), str(seconds), *options]


def main(argv: list[str] | None = None) -> None:
    config, args = parse_args(argv)
    if args.child:
        print(json.dumps(run_case(Path(args.child[0]), float(args.child[1]), config)))
        return
    clips = make_clips(config)
    records = [check_default_cut(clips["1080p"])]
    print(json.dumps(records[0]), flush=True)
    for name in args.clips:
        for seconds in config.durations:
            done = subprocess.run(child_command(clips[name], seconds, config), capture_output=True, text=True)
            if done.returncode != 0:
                record = {"clip": clips[name].name, "max_duration_s": seconds, "error": done.stderr[-2000:]}
            else:
                record = json.loads(done.stdout.strip().splitlines()[-1])
            print(json.dumps(record), flush=True)
            records.append(record)
    if config.json:
        with config.json.open("a") as handle:
            handle.writelines(json.dumps(record) + "\n" for record in records)


if __name__ == "__main__":
    main()
