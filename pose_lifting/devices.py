"""Where models run: one vocabulary for every front end, `auto` (the GPU when there is one), `cpu` or `cuda`."""

from __future__ import annotations

from typing import Literal

import torch

Device = Literal["auto", "cpu", "cuda"]
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


def resolve_device(device: str = "auto") -> torch.device:
    """'auto' -> CUDA when available, else CPU; 'cuda' without a GPU is an error that says so."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but PyTorch sees no CUDA GPU here; use auto or cpu")
    return torch.device(device)


def detector_device(device: str) -> str | None:
    """The same choice as Ultralytics spells it (`DetectorConfig.device`; None lets it pick)."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    return {"auto": None, "cpu": "cpu", "cuda": "cuda:0"}[device]
