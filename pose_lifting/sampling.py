"""Sparse Correlation Input Sequence Downsampling (paper Sec. III-B) and sliding windows over a video.

A teacher window holds f^T consecutive frames around a centre frame. The student samples that window
with stride L forwards and backwards from the centre, so both share the centre frame and the student
sees f^S = f^T / L frames over the same receptive field (81 -> 27, 9, 3 for L = 3, 9, 27).

The frame a lifter predicts, its target, is the window's centre in the paper: it sees (f^T - 1) / 2 frames of
the future, 40 at f^T = 81 (1.3 s at 30 fps). A causal lifter (target "last", for live video) predicts the
window's last frame instead: its dense window ends at the current frame and the sparse samples are t, t - L,
t - 2L, ... back from it.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

Target = Literal["centre", "last"]
TARGETS = get_args(Target)


def check_window(receptive_field: int, stride: int) -> int:
    """Return f^S = receptive_field / stride after checking that both frame counts have a centre frame."""
    if receptive_field < 1 or receptive_field % 2 == 0:
        raise ValueError(f"the receptive field must be a positive odd number of frames, got {receptive_field}")
    if stride < 1 or receptive_field % stride or (receptive_field // stride) % 2 == 0:
        raise ValueError(f"stride {stride} must divide the receptive field {receptive_field} into an odd count")
    return receptive_field // stride


def target_index(receptive_field: int, target: Target = "centre") -> int:
    """Index of the predicted frame in a dense window of `receptive_field` frames: its centre, or its last frame."""
    if target not in TARGETS:
        raise ValueError(f"the target frame must be one of {TARGETS}, got {target!r}")
    return receptive_field // 2 if target == "centre" else receptive_field - 1


def sparse_indices(receptive_field: int, stride: int, target: Target = "centre") -> np.ndarray:
    """Indices into a dense window of `receptive_field` frames that the sparse student sees (the target included)."""
    num_frames = check_window(receptive_field, stride)
    place = num_frames // 2 if target == "centre" else num_frames - 1  # the target's place among the samples
    return target_index(receptive_field, target) + stride * (np.arange(num_frames) - place)


def sparse_slice(receptive_field: int, stride: int, target: Target = "centre") -> slice:
    """`sparse_indices` as a slice, which selects those frames of a tensor as a view, without a copy."""
    return slice(int(sparse_indices(receptive_field, stride, target)[0]), None, stride)


def window_offsets(receptive_field: int, stride: int, target: Target = "centre") -> np.ndarray:
    """Frame offsets from the target frame of the frames a model with this window sees."""
    return sparse_indices(receptive_field, stride, target) - target_index(receptive_field, target)


def video_windows(num_video_frames: int, receptive_field: int, stride: int, target: Target = "centre") -> np.ndarray:
    """Frame indices of one window per video frame (its target), (T, f), edges padded by repeating the first/last
    frame (a causal window at the start of a video repeats the first frame)."""
    offsets = window_offsets(receptive_field, stride, target)
    targets = np.arange(num_video_frames)[:, None]
    return np.clip(targets + offsets[None, :], 0, num_video_frames - 1)
