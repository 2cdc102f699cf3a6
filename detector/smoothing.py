"""The one-euro filter (Casiez et al., CHI 2012) on landmark tracks, with MediaPipe's scale-free speed.

Each value is low-passed with a cutoff that rises with its speed: still joints are smoothed hard (no jitter),
fast ones hardly at all (no lag). As in MediaPipe's pose graph, the speed is measured in object sizes per
second (the size being the mean of the landmarks' bounding-box width and height), so the same settings suit
a person near the camera and one far from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detector.sparse import track_rows


@dataclass(frozen=True)
class OneEuroSettings:
    min_cutoff: float  # Hz, the cutoff of a still value
    beta: float  # how fast the cutoff rises with speed (object sizes per second)
    derivative_cutoff: float = 1.0  # Hz, the low-pass on the speed itself


# MediaPipe's pose graph: body landmarks, and the steadier alignment points that place the next crop
LANDMARK_FILTER = OneEuroSettings(min_cutoff=0.1, beta=40.0)
ALIGNMENT_FILTER = OneEuroSettings(min_cutoff=0.01, beta=1.0)


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters (N, 2) point sets given one at a time with their times; `reset` forgets the past."""

    def __init__(self, settings: OneEuroSettings) -> None:
        self.settings = settings
        self.reset()

    def reset(self) -> None:
        self._time: float | None = None
        self._raw = self._filtered = self._speed = None

    def __call__(self, points: np.ndarray, time: float, object_size: float) -> np.ndarray:
        points = np.asarray(points, np.float64)
        if self._time is None or time <= self._time:
            self._time, self._raw, self._filtered, self._speed = time, points, points, np.zeros_like(points)
            return points.astype(np.float32)
        dt = time - self._time
        speed = (points - self._raw) / (dt * max(object_size, 1e-6))
        self._speed = self._speed + _alpha(self.settings.derivative_cutoff, dt) * (speed - self._speed)
        cutoff = self.settings.min_cutoff + self.settings.beta * np.abs(self._speed)
        self._filtered = self._filtered + _alpha(cutoff, dt) * (points - self._filtered)
        self._time, self._raw = time, points
        return self._filtered.astype(np.float32)


def smooth_rows(
    frame_index: np.ndarray,
    track_id: np.ndarray,
    times: np.ndarray,
    points: np.ndarray,
    sizes: np.ndarray,
    valid: np.ndarray,
    restarts: np.ndarray,
    settings: OneEuroSettings,
) -> np.ndarray:
    """(D, N, 2) `points` filtered per unbroken run of each track in frame order (`times` per frame), the filter
    started again at its `restarts` rows and after every row that is not `valid` (those are kept as they are)."""
    smoothed = np.array(points, np.float32)
    for rows in track_rows(frame_index, track_id):
        one_euro = OneEuroFilter(settings)
        for row in rows:
            if restarts[row] or not valid[row]:
                one_euro.reset()
            if valid[row]:
                smoothed[row] = one_euro(points[row], float(times[frame_index[row]]), float(sizes[row]))
    return smoothed
