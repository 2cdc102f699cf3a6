"""Sparse Correlation Input Sequence Downsampling (paper Sec. III-B) and sliding windows over a video.

A teacher window holds f^T consecutive frames around a centre frame. The student samples that window
with stride L forwards and backwards from the centre, so both share the centre frame and the student
sees f^S = f^T / L frames over the same receptive field (81 -> 27, 9, 3 for L = 3, 9, 27).
"""

from __future__ import annotations

import numpy as np


def check_window(receptive_field: int, stride: int) -> int:
    """Return f^S = receptive_field / stride after checking that both frame counts have a centre frame."""
    if receptive_field < 1 or receptive_field % 2 == 0:
        raise ValueError(f"the receptive field must be a positive odd number of frames, got {receptive_field}")
    if stride < 1 or receptive_field % stride or (receptive_field // stride) % 2 == 0:
        raise ValueError(f"stride {stride} must divide the receptive field {receptive_field} into an odd count")
    return receptive_field // stride


def sparse_indices(receptive_field: int, stride: int) -> np.ndarray:
    """Indices into a dense window of `receptive_field` frames that the sparse student sees (centre included)."""
    num_frames = check_window(receptive_field, stride)
    centre = receptive_field // 2
    return centre + stride * (np.arange(num_frames) - num_frames // 2)


def sparse_slice(receptive_field: int, stride: int) -> slice:
    """`sparse_indices` as a slice, which selects those frames of a tensor as a view, without a copy."""
    return slice(int(sparse_indices(receptive_field, stride)[0]), None, stride)


def window_offsets(receptive_field: int, stride: int) -> np.ndarray:
    """Frame offsets from the centre frame of the frames a model with this window sees."""
    return sparse_indices(receptive_field, stride) - receptive_field // 2


def video_windows(num_video_frames: int, receptive_field: int, stride: int) -> np.ndarray:
    """Frame indices of one window per video frame, (T, f), edges padded by repeating the first/last frame."""
    offsets = window_offsets(receptive_field, stride)
    centres = np.arange(num_video_frames)[:, None]
    return np.clip(centres + offsets[None, :], 0, num_video_frames - 1)
