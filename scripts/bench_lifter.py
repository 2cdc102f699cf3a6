"""Benchmark (not a test): lifter inference throughput, student against teacher, on the same machine in one run.

    python -m scripts.bench_lifter [--device auto|cpu|cuda] [--batch 256] [--seconds 10] [--threads N]

Poses per second for a batch of windows (no flip augmentation), and the teacher/student ratio.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import torch

from pose_lifting.model import STUDENT, TEACHER, PoseLifter, count_flops
from scripts.timing import add_device_flags, calls_per_second, setup_device

MODELS = {"teacher f81 C32": TEACHER, "student f27 C16": STUDENT, "student f9 C16": replace(STUDENT, stride=9)}


def throughput(model: PoseLifter, device: torch.device, batch: int, seconds: float) -> float:
    x = torch.randn(batch, model.config.num_frames, model.config.num_joints, 2, device=device)
    model = model.to(device).eval()
    with torch.inference_mode():
        return batch * calls_per_second(lambda: model(x), device, seconds, warmup=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_device_flags(parser)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    device = setup_device(args)
    rates = {}
    for label, config in MODELS.items():
        model = PoseLifter(config)
        rates[label] = throughput(model, device, args.batch, args.seconds)
        print(f"{label:18s} {count_flops(model) / 1e6:8.1f} MFLOPs  {rates[label]:10.0f} poses/s")
    teacher = rates["teacher f81 C32"]
    for label in list(MODELS)[1:]:
        print(f"{label} is {rates[label] / teacher:.1f}x faster than the teacher")


if __name__ == "__main__":
    main()
