"""`StreamLifter`: a lifter fed one 2D pose at a time, as a live video brings them, that returns a 3D pose per push.

It keeps the last receptive field's worth of 2D poses with their times and builds, at each push, the dense window
`Lifter.lift` would build for its target frame at the lifter's own frame rate (the 2D linearly interpolated at the
model's frame times, the start of the stream repeating its first pose, as the start of a video does):
- a causal lifter (`LifterConfig.target == "last"`) predicts the newest frame: no delay beyond the computation;
- a centre-frame lifter (the paper's) predicts the frame (f - 1) / 2 model frames back, the newest its window can
  hold: 40 frames at f = 81, 1.33 s at 30 fps. Its pose comes that late, honestly, and only once the stream is
  that long.
No smoothing over time follows (a file's lift smooths forwards and backwards); the one-euro filter of the 2D stays.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from time import perf_counter

import numpy as np
import torch

from pose_lifting.lifter import Lifter, resample
from pose_lifting.normalization import normalize_windows
from pose_lifting.sampling import target_index, window_offsets


@dataclass
class StreamPose:
    """One lifted pose: the time of the frame it belongs to, and how long the lift took."""

    time: float
    pose: np.ndarray  # (J, 3) metres, camera axes, pelvis at the origin
    lift_ms: float


class StreamLifter:
    """`push(time, keypoints)` in time order; each returns the 3D pose of the lifter's target frame (or None while
    a centre-frame lifter still waits for its look-ahead)."""

    def __init__(self, lifter: Lifter, width: int, height: int, flip_test: bool = True) -> None:
        if lifter.config.score_input:
            raise ValueError(f"{lifter.name} reads the 2D scores, which live lifting does not pass on")
        self.lifter, self.width, self.height, self.flip_test = lifter, width, height, flip_test
        c = lifter.config
        fps = lifter.inputs.fps
        self.offsets_s = window_offsets(c.receptive_field, 1, c.target) / fps  # dense window, from the target
        self.delay_s = (c.receptive_field - 1 - target_index(c.receptive_field, c.target)) / fps
        self.history_s = (c.receptive_field + 1) / fps
        self.times: deque[float] = deque()
        self.keypoints: deque[np.ndarray] = deque()

    @property
    def name(self) -> str:
        return self.lifter.name

    def push(self, time: float, keypoints: np.ndarray) -> StreamPose | None:
        if self.times and time <= self.times[-1]:
            raise ValueError(f"times must increase: {time} after {self.times[-1]}")
        self.times.append(time)
        self.keypoints.append(np.asarray(keypoints, np.float32))
        while self.times[-1] - self.times[0] > self.history_s:
            self.times.popleft()
            self.keypoints.popleft()
        target = time - self.delay_s
        if target < self.times[0] - 1e-6:
            return None  # a centre-frame lifter's look-ahead is not there yet
        tick = perf_counter()
        window = resample(np.stack(self.keypoints), np.asarray(self.times), target + self.offsets_s)
        windows = normalize_windows(
            torch.from_numpy(window[None]), self.width, self.height, self.lifter.inputs.normalization,
            self.lifter.config.target,
        )
        pose = self.lifter.predict_windows(windows, self.flip_test)[0].numpy()
        return StreamPose(target, pose, 1000 * (perf_counter() - tick))

    def reset(self) -> None:
        self.times.clear()
        self.keypoints.clear()
