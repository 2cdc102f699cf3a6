"""Shared by the benchmarks: set up the device from the usual flags, time repeated calls of a function, and
build one optimiser step of a training objective on random input."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

from pose_lifting.devices import DEVICES, resolve_device
from pose_lifting.distill import SCJDObjective


def add_device_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", choices=DEVICES, default="auto", help="auto: the GPU when there is one")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")


def setup_device(args: argparse.Namespace) -> torch.device:
    """Apply --threads, resolve --device and print what the numbers were measured on."""
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; batch {args.batch}; torch {torch.__version__}")
    return device


def calls_per_second(fn: Callable[[], object], device: torch.device, seconds: float, warmup: int = 1) -> float:
    """Calls of `fn` per second over at least `seconds`, after `warmup` calls, GPU work included."""
    for _ in range(warmup):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        calls += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    return calls / (time.perf_counter() - start)


def training_step(objective: SCJDObjective, device: torch.device, batch: int, bf16: bool) -> Callable[[], None]:
    """One AdamW step of `objective` (moved to `device`, in training mode) on a fixed batch of random windows."""
    objective.to(device).train()
    optimizer = torch.optim.AdamW([p for p in objective.parameters() if p.requires_grad], lr=1e-3)
    x = torch.randn(batch, objective.student.config.receptive_field, 17, 2, device=device)
    y = torch.randn(batch, 17, 3, device=device)

    def step() -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = objective(x, y, epoch=1)["total"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step
