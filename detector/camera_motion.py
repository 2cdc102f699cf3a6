"""The camera's rotation in every frame, from how the background moves between frames (pans, tilts, hand-held).

A camera that only turns moves every background pixel by the homography H = K R K^-1. Per frame pair: corners
of the background (people's boxes masked out; `cv2.goodFeaturesToTrack`) on the previous grey frame, at a
reduced size, followed into the current one by pyramidal Lucas-Kanade (`cv2.calcOpticalFlowPyrLK`), a RANSAC
homography through them (`cv2.findHomography`). The focal length is known only at the end (the scene may give
it), so the homographies are kept and `result(focal)` turns each into a rotation, R = the nearest rotation to
K^-1 H K, and chains them: d_t = R d_(t-1), so frame t's axes -> the first's is R_t = R_(t-1) R^T.

A pair with too few tracked corners or RANSAC inliers (a cut, heavy blur, a person filling the picture) is not
guessed: its frame keeps the previous rotation, is marked not measured, and a new segment starts. Where the
rotation alone does not explain the background (its residual over `translation_px`: parallax, the camera moved
through the scene) the pair is counted; enough of them flag the clip as `translating`.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from detector.config import CameraMotionConfig
from pose_lifting.sequence import CameraMotion

LK_WINDOW = (21, 21)
LK_LEVELS = 3
ROUND_TRIP_PX = 0.5  # a corner tracked forward then back must land this close to where it started
RESIDUAL_PERCENTILE = 75  # parallax shows in a share of the background (the near or the far part), not all
REDETECT_FRACTION = 0.6  # corners carried from the last pair are topped up below this share of max_corners


class CameraMotionTracker:
    """Fed the clip's frames in order, one at a time (as the detector's first pass decodes them)."""

    def __init__(self, config: CameraMotionConfig, width: int, height: int) -> None:
        self.config, self.width, self.height = config, width, height
        scale = min(1.0, config.max_side / max(width, height))
        self.size = (max(1, round(width * scale)), max(1, round(height * scale)))  # the reduced (width, height)
        self.scale = self.size[0] / width  # video pixels -> reduced pixels
        self.previous: np.ndarray | None = None
        self.corners: np.ndarray | None = None  # (N, 1, 2) float32 on the previous frame, reduced pixels
        self.pairs: list[tuple[np.ndarray, np.ndarray] | None] = []  # per frame after the first: matched points

    def add(self, image: np.ndarray, boxes: np.ndarray) -> None:
        """One frame (BGR or grey uint8, any size with the video's aspect ratio) and every person's box in video
        pixels (N, 4: x1, y1, x2, y2)."""
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if grey.shape[1::-1] != self.size:
            grey = cv2.resize(grey, self.size, interpolation=cv2.INTER_AREA)
        mask = self._background(boxes)
        if self.previous is not None:
            self.pairs.append(self._match(grey, mask))
        self.previous = grey
        self._top_up_corners(grey, mask)

    def _background(self, boxes: np.ndarray) -> np.ndarray:
        """255 where no person is (boxes widened by `box_margin`), at the reduced size."""
        mask = np.full(self.size[::-1], 255, np.uint8)
        for x1, y1, x2, y2 in np.asarray(boxes, np.float64).reshape(-1, 4) * self.scale:
            grow_x, grow_y = self.config.box_margin * (x2 - x1), self.config.box_margin * (y2 - y1)
            left, top = max(0, int(x1 - grow_x)), max(0, int(y1 - grow_y))
            mask[top : int(np.ceil(y2 + grow_y)) + 1, left : int(np.ceil(x2 + grow_x)) + 1] = 0
        return mask

    def _match(self, grey: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The background corners of the previous frame and where they went (both (N, 2)), forward-backward
        checked; None when too few follow."""
        if self.corners is None or len(self.corners) < self.config.min_matches:
            self.corners = None
            return None
        start = self.corners.reshape(-1, 2)
        lk = {"winSize": LK_WINDOW, "maxLevel": LK_LEVELS}
        ahead, found, _ = cv2.calcOpticalFlowPyrLK(self.previous, grey, self.corners, None, **lk)
        back, found_back, _ = cv2.calcOpticalFlowPyrLK(grey, self.previous, ahead, None, **lk)
        error = np.linalg.norm((back - self.corners).reshape(-1, 2), axis=1)
        good = (found[:, 0] == 1) & (found_back[:, 0] == 1) & (error < ROUND_TRIP_PX)
        landing = ahead.reshape(-1, 2)
        inside = (landing >= 0).all(axis=1) & (landing[:, 0] < self.size[0]) & (landing[:, 1] < self.size[1])
        good &= inside
        good[inside] &= mask[landing[inside, 1].astype(int), landing[inside, 0].astype(int)] > 0
        self.corners = ahead[good]  # carried into the next pair
        if good.sum() < self.config.min_matches:
            return None
        return start[good], landing[good]

    def _top_up_corners(self, grey: np.ndarray, mask: np.ndarray) -> None:
        """Corners to follow into the next frame: the ones carried over, topped up from the background."""
        carried = self.corners if self.corners is not None else np.empty((0, 1, 2), np.float32)
        if len(carried) < REDETECT_FRACTION * self.config.max_corners:
            spaced = mask.copy()
            for x, y in carried.reshape(-1, 2):
                cv2.circle(spaced, (int(x), int(y)), self.config.min_corner_distance, 0, -1)
            fresh = cv2.goodFeaturesToTrack(
                grey, self.config.max_corners - len(carried), self.config.corner_quality,
                self.config.min_corner_distance, mask=spaced,
            )
            if fresh is not None:
                carried = np.concatenate([carried, fresh.astype(np.float32)])
        self.corners = carried

    def result(self, focal_px: float) -> CameraMotion:
        """Every frame's rotation, with the focal length (video pixels) the homographies are read with."""
        focal = focal_px * self.scale
        k = np.array([[focal, 0.0, self.size[0] / 2], [0.0, focal, self.size[1] / 2], [0.0, 0.0, 1.0]])
        k_inv = np.linalg.inv(k)
        frames = len(self.pairs) + (self.previous is not None)
        rotations = np.tile(np.eye(3), (frames, 1, 1))
        measured, segments, residual = np.ones(frames, bool), np.zeros(frames, int), np.full(frames, np.nan)
        for t, pair in enumerate(self.pairs, start=1):
            turn = None if pair is None else pair_rotation(*pair, k, k_inv, self.config)
            segments[t] = segments[t - 1]
            if turn is None:
                rotations[t], measured[t], segments[t] = rotations[t - 1], False, segments[t - 1] + 1
                continue
            relative, residual[t] = turn
            rotations[t] = rotations[t - 1] @ relative.T
        moved = residual[measured & np.isfinite(residual)] > self.config.translation_px
        translating = bool(len(moved) and moved.mean() >= self.config.translation_fraction)
        return CameraMotion(rotations, measured, segments, residual, translating, float(focal_px))


def nearest_rotation(matrix: np.ndarray) -> np.ndarray:
    """The rotation nearest to a 3x3 matrix (up to scale), by SVD with the determinant made +1."""
    u, _, vt = np.linalg.svd(matrix)
    return u @ np.diag([1.0, 1.0, np.linalg.det(u @ vt)]) @ vt


def pair_rotation(
    before: np.ndarray, after: np.ndarray, k: np.ndarray, k_inv: np.ndarray, config: CameraMotionConfig
) -> tuple[np.ndarray, float] | None:
    """(R, residual): the rotation taking the first frame's rays to the second's, from matched points (N, 2),
    and the upper quartile of the points' distances (reduced-size pixels) from where R alone puts them; None when the
    homography has too little support (a cut or a failed pair)."""
    homography, inliers = cv2.findHomography(before, after, cv2.RANSAC, config.ransac_px)
    if homography is None or inliers.sum() < max(config.min_matches, config.min_inlier_fraction * len(before)):
        return None
    relative = nearest_rotation(k_inv @ homography @ k)
    moved = cv2.perspectiveTransform(before[None].astype(np.float64), k @ relative @ k_inv)[0]
    # every tracked corner counts: RANSAC would leave out the near (or far) ones that parallax moves differently
    return relative, float(np.percentile(np.linalg.norm(moved - after, axis=1), RESIDUAL_PERCENTILE))


def camera_motion(
    frames: Iterable[np.ndarray],
    boxes: Iterable[np.ndarray],
    width: int,
    height: int,
    focal_px: float,
    config: CameraMotionConfig | None = None,
) -> CameraMotion:
    """The rotations of a whole clip at once: frames (BGR or grey) with every person's boxes (video pixels)."""
    tracker = CameraMotionTracker(config or CameraMotionConfig(), width, height)
    for frame, frame_boxes in zip(frames, boxes):
        tracker.add(frame, frame_boxes)
    return tracker.result(focal_px)
