"""Benchmark (not a test): training throughput (poses/s) of one optimiser step per model, fp32 and bf16 autocast.

    python -m scripts.bench_training [--batch 256] [--seconds 10] [--threads 2] [--device auto|cpu|cuda]

The distilled student's step includes the frozen teacher's forward pass. Batch generation is not included
(see pose_lifting.generators; docs/benchmarks.md has its cost).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import torch

from pose_lifting.distill import SCJDObjective
from pose_lifting.model import STUDENT, TEACHER, PoseLifter
from scripts.timing import add_device_flags, calls_per_second, setup_device, training_step

SETUPS = {
    "teacher f81 C32 L4": (TEACHER, False),
    "student f27 C16 L4 (plain)": (STUDENT, False),
    "student f27 C16 L4 (SCJD, with teacher)": (STUDENT, True),
    "student f27 C8 L4 head16 (plain)": (replace(STUDENT, embed_dim=8, teacher_embed_dim=16), False),
    "student f27 C8 L2 head16 (plain)": (replace(STUDENT, embed_dim=8, depth=2, teacher_embed_dim=16), False),
}


def step_rate(objective: SCJDObjective, device: torch.device, batch: int, seconds: float, bf16: bool) -> float:
    return batch * calls_per_second(training_step(objective, device, batch, bf16), device, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_device_flags(parser)
    parser.add_argument("--seconds", type=float, default=10.0, help="timed seconds per model and precision")
    args = parser.parse_args()
    device = setup_device(args)
    print(f"{'model':42s} {'fp32 poses/s':>13s} {'bf16 poses/s':>13s}")
    for label, (config, distilled) in SETUPS.items():
        rates = []
        for bf16 in (False, True):
            teacher = PoseLifter(replace(TEACHER, drop_path=0.0)) if distilled else None
            rates.append(step_rate(SCJDObjective(PoseLifter(config), teacher), device, args.batch, args.seconds, bf16))
        print(f"{label:42s} {rates[0]:13.1f} {rates[1]:13.1f}")


if __name__ == "__main__":
    main()
