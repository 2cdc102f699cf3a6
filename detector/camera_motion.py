"""The camera's rotation in every frame, from how the background moves between frames (pans, tilts, hand-held).

A camera that only turns moves every background pixel by the homography H = K R K^-1. Per frame pair: corners
of the background (people's boxes masked out; `cv2.goodFeaturesToTrack`) on the previous grey frame, at a
reduced size, followed into the current one by pyramidal Lucas-Kanade (`cv2.calcOpticalFlowPyrLK`), a RANSAC
homography through them (`cv2.findHomography`). The focal length is known only at the end (the scene may give
it), so the homographies are kept and `result(focal)` turns each into a rotation, R = the nearest rotation to
K^-1 H K, and chains them: d_t = R d_(t-1), so frame t's axes -> the first's is R_t = R_(t-1) R^T.

A camera that turns also shows its focal length (`turning_focal`): the homographies chained over a segment map
its first frame's pixels to a later frame's exactly, whatever the focal, and only the true one makes K^-1 H K a
rotation. Where the camera turned by at least `focal_min_turn_deg`, the focal that does so best (a search over a
log grid, refined by a parabola) is given, if the misfit rises steeply on both sides of it.

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
FOCAL_SEARCH_OCTAVES = 1.5  # `turning_focal` searches 2^-1.5 .. 2^1.5 x the prior focal ...
FOCAL_SEARCH_STEPS = 61  # ... on this many log-spaced steps


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
        self._homographies: list[np.ndarray | None] | None = None  # per pair, found once (`homographies`)

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

    def homographies(self) -> list[np.ndarray | None]:
        """Each frame pair's RANSAC homography (reduced pixels, previous -> current), None where it failed (too
        few matches or inliers: a cut or a failed pair)."""
        if self._homographies is None:
            self._homographies = [None if pair is None else pair_homography(*pair, self.config) for pair in self.pairs]
        return self._homographies

    def intrinsics(self, focal_px: float) -> np.ndarray:
        """K at the reduced size for a focal length in video pixels."""
        focal = focal_px * self.scale
        return np.array([[focal, 0.0, self.size[0] / 2], [0.0, focal, self.size[1] / 2], [0.0, 0.0, 1.0]])

    def turning_focal(self, prior_px: float) -> float | None:
        """The focal length (video pixels) that makes the chained homographies rotations (module doc), or None
        where the camera turned less than `focal_min_turn_deg` from the start of a segment, or the misfit does not
        rise by `focal_min_contrast` at 20 % from its minimum on both sides (the focal is then not fixed)."""
        chained, start = [], np.eye(3)
        for homography in self.homographies():
            start = np.eye(3) if homography is None else homography @ start
            chained.append(start)
        if not chained:
            return None
        chained = np.stack(chained)
        turned = np.array([rotation_angle_deg(nearest_rotation(self._normalised(c, prior_px))) for c in chained])
        chosen = chained[turned >= self.config.focal_min_turn_deg]
        if len(chosen) == 0:
            return None

        def misfit(focal_px: float) -> float:
            return sum(float(np.sum((a - nearest_rotation(a)) ** 2)) for a in self._normalised(chosen, focal_px))

        grid = prior_px * 2.0 ** np.linspace(-FOCAL_SEARCH_OCTAVES, FOCAL_SEARCH_OCTAVES, FOCAL_SEARCH_STEPS)
        values = np.array([misfit(focal) for focal in grid])
        best = int(values.argmin())
        if best in (0, len(grid) - 1):
            return None
        # a parabola through the minimum and its neighbours, in log focal
        low, mid, high = values[best - 1 : best + 2]
        step = np.log(grid[1] / grid[0])
        shift = 0.5 * (low - high) / max(low - 2 * mid + high, 1e-30)
        focal = float(grid[best] * np.exp(np.clip(shift, -1.0, 1.0) * step))
        least = max(misfit(focal), 1e-30)
        if min(misfit(1.2 * focal), misfit(focal / 1.2)) < self.config.focal_min_contrast * least:
            return None
        return focal

    def _normalised(self, homographies: np.ndarray, focal_px: float) -> np.ndarray:
        """K^-1 H K with unit determinant, for (..., 3, 3) reduced-pixel homographies."""
        k = self.intrinsics(focal_px)
        turned = np.linalg.inv(k) @ homographies @ k
        return turned / np.cbrt(np.linalg.det(turned))[..., None, None]

    def result(self, focal_px: float, focal_estimated: bool = False) -> CameraMotion:
        """Every frame's rotation, with the focal length (video pixels) the homographies are read with;
        `focal_estimated` marks a focal from `turning_focal`."""
        k = self.intrinsics(focal_px)
        k_inv = np.linalg.inv(k)
        frames = len(self.pairs) + (self.previous is not None)
        rotations = np.tile(np.eye(3), (frames, 1, 1))
        measured, segments, residual = np.ones(frames, bool), np.zeros(frames, int), np.full(frames, np.nan)
        for t, (pair, homography) in enumerate(zip(self.pairs, self.homographies(), strict=True), start=1):
            turn = None if homography is None else pair_rotation(*pair, homography, k, k_inv)
            segments[t] = segments[t - 1]
            if turn is None:
                rotations[t], measured[t], segments[t] = rotations[t - 1], False, segments[t - 1] + 1
                continue
            relative, residual[t] = turn
            rotations[t] = rotations[t - 1] @ relative.T
        moved = residual[measured & np.isfinite(residual)] > self.config.translation_px
        translating = bool(len(moved) and moved.mean() >= self.config.translation_fraction)
        return CameraMotion(rotations, measured, segments, residual, translating, float(focal_px),
                            focal_estimated=focal_estimated)


def nearest_rotation(matrix: np.ndarray) -> np.ndarray:
    """The rotation nearest to a 3x3 matrix (up to scale), by SVD with the determinant made +1."""
    u, _, vt = np.linalg.svd(matrix)
    return u @ np.diag([1.0, 1.0, np.linalg.det(u @ vt)]) @ vt


def rotation_angle_deg(rotation: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip((np.trace(rotation) - 1) / 2, -1.0, 1.0))))


def pair_homography(before: np.ndarray, after: np.ndarray, config: CameraMotionConfig) -> np.ndarray | None:
    """The RANSAC homography taking matched points (N, 2) of one frame to the next; None when it has too little
    support (a cut or a failed pair)."""
    homography, inliers = cv2.findHomography(before, after, cv2.RANSAC, config.ransac_px)
    if homography is None or inliers.sum() < max(config.min_matches, config.min_inlier_fraction * len(before)):
        return None
    return homography


def pair_rotation(
    before: np.ndarray, after: np.ndarray, homography: np.ndarray, k: np.ndarray, k_inv: np.ndarray
) -> tuple[np.ndarray, float]:
    """(R, residual): the rotation taking the first frame's rays to the second's, from their homography, and the
    upper quartile of the matched points' (N, 2) distances (reduced-size pixels) from where R alone puts them."""
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
