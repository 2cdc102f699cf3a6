"""Benchmark (not a test): where a training step's time goes, and how fast batches arrive.

    python -m scripts.profile_training [--model teacher] [--batch 1024] [--workers 0 6] [--device cuda]

1. The operators that take most of one optimiser step's time (torch.profiler, bf16 autocast on GPUs as train.py
   uses it), for one model on random input.
2. Training batches per second from pose_lifting.train.batch_stream with each of the `--workers` counts,
   on the prepared mocap (run `python -m pose_lifting.data.prepare` first).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch
from torch.profiler import ProfilerActivity, profile

from pose_lifting.datasets import DataConfig, load_data
from pose_lifting.distill import SCJDObjective
from pose_lifting.model import TEACHER, PoseLifter
from pose_lifting.train import PRESETS, batch_stream, use_bf16
from scripts.timing import add_device_flags, setup_device, training_step


def profile_step(model: str, device: torch.device, batch: int, rows: int) -> None:
    teacher = PoseLifter(replace(TEACHER, drop_path=0.0)) if model == "student" else None
    objective = SCJDObjective(PoseLifter(PRESETS[model]), teacher)
    bf16 = use_bf16("auto", device)
    step = training_step(objective, device, batch, bf16)
    for _ in range(3):
        step()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(3):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()
    key = "cuda_time_total" if device.type == "cuda" else "cpu_time_total"
    print(f"{model}, batch {batch}, bf16 {bf16}: 3 steps")
    print(prof.key_averages().table(sort_by=key, row_limit=rows))


def batch_rate(receptive_field: int, batch: int, workers: int, seconds: float) -> float:
    sampler = load_data(DataConfig()).sampler(receptive_field, 0)
    stream = batch_stream(sampler, batch, workers, [0])
    next(stream)  # workers started
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        next(stream)
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_device_flags(parser)
    parser.add_argument("--model", choices=sorted(PRESETS), default="teacher")
    parser.add_argument("--workers", type=int, nargs="*", default=[0], help="batch-drawing processes to time")
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per worker count")
    parser.add_argument("--rows", type=int, default=15, help="operators to list")
    args = parser.parse_args()
    device = setup_device(args)
    profile_step(args.model, device, args.batch, args.rows)
    receptive_field = PRESETS[args.model].receptive_field
    for workers in args.workers:
        rate = batch_rate(receptive_field, args.batch, workers, args.seconds)
        print(
            f"batches of {args.batch} x {receptive_field} frames, {workers} workers: {rate:.2f}/s "
            f"({rate * args.batch:,.0f} windows/s)"
        )


if __name__ == "__main__":
    main()
