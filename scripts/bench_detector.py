"""Benchmark the detector on a 1080p clip: decode-only, model-only and decode+detect ms/frame.

    python -m scripts.bench_detector [--frames 90] [--imgsz 640 384] [--device auto|cpu|cuda]

The clip is the Sports2D example upscaled to 1920x1080 (H.264), written once into the cache folder.
"decode only" decodes as `detect` does (BGR, scaled by FFmpeg to the inference size); "model only" runs the
pose model on full-size frames already decoded in memory (after a warm-up batch), the model's own speed;
"decode + detect" is `detect()` end to end (reading, model, tracking; loading the model is not counted).
Each is run `--repeat` times, interleaved, and the best kept. The target: decode + detect at no less than
80 % of the model-only speed.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from time import perf_counter

import av
import numpy as np

from detector import DetectorConfig, detect, example_video_path, read_video
from detector.cache import cache_dir
from detector.model import PoseModel, default_device
from pose_lifting.devices import DEVICES, detector_device


def make_1080p_clip(frames: int) -> Path:
    """The first `frames` frames of the example clip, scaled to 1920x1080, as H.264 mp4 (cached)."""
    path = cache_dir() / "bench" / f"sports2d_1080p_{frames}.mp4"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    source = read_video(example_video_path())
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=round(source.fps), options={"crf": "20"})
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        for frame in source.frames(limit=frames):
            image = av.VideoFrame.from_ndarray(frame.image, format="rgb24").reformat(1920, 1080)
            container.mux(stream.encode(image))
        container.mux(stream.encode())
    return path


def decode_only(path: Path, max_side: int) -> float:
    """Decoding as `detect` does it: upright BGR frames scaled to the inference size."""
    video = read_video(path)
    start = perf_counter()
    count = sum(1 for _ in video.frames(bgr=True, max_side=max_side, threads=1))
    return 1000 * (perf_counter() - start) / count


def model_only(frames: list[np.ndarray], model: PoseModel, imgsz: int, batch_size: int) -> float:
    """The model on full-size frames already in memory (Ultralytics resizes them)."""
    start = perf_counter()
    for first in range(0, len(frames), batch_size):
        model.predict(frames[first : first + batch_size], imgsz)
    return 1000 * (perf_counter() - start) / len(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--imgsz", type=int, nargs="+", default=[640, 384])
    parser.add_argument("--device", choices=DEVICES, default="auto", help="auto: the GPU when there is one")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best is reported")
    args = parser.parse_args()

    clip = make_1080p_clip(args.frames)
    device = detector_device(args.device) or default_device()
    import torch

    threads = torch.get_num_threads()
    print(
        f"clip {clip.name}: 1920x1080, {args.frames} frames; device {device}; "
        f"{os.cpu_count()} CPUs, {threads} torch threads; load average before {os.getloadavg()[0]:.1f}"
    )
    frames = [frame.image for frame in read_video(clip).frames(bgr=True)]
    print("| imgsz | decode only | model only | decode + detect | detect speed / model speed |")
    print("|---|---|---|---|---|")
    for imgsz in args.imgsz:
        config = DetectorConfig(imgsz=imgsz, device=device)
        model = PoseModel(config)
        size = model.inference_size(1920, 1080)
        model_only(frames[: config.batch_size], model, size, config.batch_size)  # warm-up at this size
        times = {"decode": [], "model": [], "detect": []}
        for _ in range(args.repeat):  # interleaved, best of each: other processes on the machine only add time
            times["decode"].append(decode_only(clip, imgsz))
            times["model"].append(model_only(frames, model, size, config.batch_size))
            times["detect"].append(detect(clip, config).timings["ms_per_frame"])
        decode, model_ms, full = (min(times[name]) for name in ("decode", "model", "detect"))
        print(f"| {imgsz} | {decode:.1f} ms | {model_ms:.1f} ms | {full:.1f} ms | {100 * model_ms / full:.0f} % |")


if __name__ == "__main__":
    main()
