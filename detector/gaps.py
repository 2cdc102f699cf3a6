"""Fill the gaps in one person's keypoint track: missed frames and low-confidence joints.

Each joint is interpolated linearly over time (the frames' timestamps, so variable frame rates are respected)
between the frames where it was detected with a score of at least the threshold; before the first and after
the last such frame it holds that value. A joint never reaching the threshold is interpolated between the
frames where it was detected at all. Scores are not changed: a filled joint keeps its low score, a missed frame
scores 0, so the UI can show how much of the sequence is measured.
"""

from __future__ import annotations

import numpy as np


def fill_gaps(times: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Return a copy of (T, J, 2) `keypoints` (NaN where the person was not detected) with every gap filled."""
    filled = np.array(keypoints, dtype=np.float32)
    detected = np.isfinite(filled).all(-1)
    confident = detected & (scores >= threshold)
    for joint in range(filled.shape[1]):
        known = confident[:, joint] if confident[:, joint].any() else detected[:, joint]
        if not known.any() or known.all():
            continue
        for axis in range(filled.shape[2]):
            filled[:, joint, axis] = np.interp(times, times[known], filled[known, joint, axis])
    return filled
