"""Normalising 2D keypoint windows before they enter a lifter.

Two conventions, chosen per checkpoint and stored in it:
- "screen" (VideoPose3D): pixels -> [-1, 1] across the image width, aspect ratio kept. Depends on
  where and how large the person appears in the frame.
- "subject": subtract the target frame's pelvis (the centre frame, a causal lifter's last) and divide by half
  the window's mean 2D bounding-box long side, so the subject's size and position in the frame matter less
  (in-the-wild video arrives at scales the training cameras never covered). On held-out mocap this was the
  clearer choice (docs/training.md), so it is the default.
Windows are normalised on the dense receptive field, then a sparse student samples them, so that a
teacher and its student see identical coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import torch

from pose_lifting.sampling import Target, target_index
from pose_lifting.skeleton import JOINT_INDEX

Normalization = Literal["screen", "subject"]
NORMALIZATIONS = get_args(Normalization)


@dataclass
class InputConfig:
    """How 2D input is prepared for a lifter; stored in every checkpoint."""

    normalization: Normalization = "subject"  # screen: the image's width is [-1, 1]; subject: centred on the pelvis
    fps: float = 30.0  # the frame rate the lifter was trained at; other videos are resampled to it

    def __post_init__(self) -> None:
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {self.normalization!r}")


def normalize_windows(
    windows: torch.Tensor,
    width: torch.Tensor | float,
    height: torch.Tensor | float,
    normalization: str,
    target: Target = "centre",
) -> torch.Tensor:
    """Normalise dense windows of pixel keypoints, (B, f, J, 2) -> (B, f, J, 2).

    width/height: image size, scalars or (B,) tensors (training mixes cameras in one batch); target: the frame the
    lifter predicts, whose pelvis is the origin of "subject".
    """
    if normalization == "screen":
        width = torch.as_tensor(width, dtype=windows.dtype, device=windows.device).reshape(-1, 1, 1, 1)
        height = torch.as_tensor(height, dtype=windows.dtype, device=windows.device).reshape(-1, 1, 1, 1)
        offset = torch.cat([torch.ones_like(height), height / width], dim=-1)
        return windows / width * 2 - offset
    if normalization == "subject":
        anchor = target_index(windows.shape[1], target)
        pelvis = windows[:, anchor : anchor + 1, JOINT_INDEX["pelvis"] : JOINT_INDEX["pelvis"] + 1]
        extent = windows.amax(dim=2) - windows.amin(dim=2)  # (B, f, 2) per-frame bounding box
        long_side = extent.amax(dim=-1).mean(dim=1).clamp_min(1e-3)  # (B,)
        return (windows - pelvis) / (0.5 * long_side.reshape(-1, 1, 1, 1))
    raise ValueError(f"unknown normalization {normalization!r}; expected one of {NORMALIZATIONS}")


def with_scores(windows: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """(B, f, J, 2) normalised windows and their (B, f, J) scores -> (B, f, J, 3), the input of a lifter with
    `LifterConfig.score_input`. Flips (`flip_horizontal`) keep a joint's score with the joint."""
    return torch.cat([windows, scores.to(windows.dtype)[..., None]], dim=-1)


def flip_horizontal(poses: torch.Tensor | np.ndarray, permutation: tuple[int, ...]) -> torch.Tensor | np.ndarray:
    """Mirror normalised 2D or camera-space 3D poses (..., J, D): x -> -x, left and right joints swap."""
    flipped = poses[..., list(permutation), :]
    flipped = flipped.clone() if isinstance(flipped, torch.Tensor) else flipped.copy()
    flipped[..., 0] *= -1
    return flipped
