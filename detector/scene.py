"""Gravity ("up") and the focal length from the scene's straight lines: vertical and horizontal vanishing points.

Buildings, poles, doors and window frames are vertical; their edges, seen through a pinhole camera, meet in the
image at the vertical vanishing point, whatever the camera's pitch and roll. Per frame: line segments
(`cv2.createLineSegmentDetector`, people's boxes masked out) and, for each, its interpretation plane through the
camera centre; the vertical direction is the one most planes contain (RANSAC over pairs of planes, refined by
least squares), which is "up" in the camera's axes (x right, y down, z forward). The remaining segments give a
horizontal vanishing point; the vertical and the horizontal directions are orthogonal in the world, which fixes
the focal length: (v - c)·(h - c) + f^2 = 0 for the principal point c and finite vanishing points v, h. A frame's
focal is given only where its expected error is small: a nearly level camera's vertical vanishing point lies
far outside the picture, where a tenth of a degree in up moves the focal by a lot.

All the geometry is homogeneous: a level camera's verticals are parallel in the image (their vanishing point is at
infinity) and still give up, only not the focal. Vanishing points are kept in pixels, where they do not depend on
the focal, so that up can be recomputed once the frames have agreed on a focal. `estimate_scene` combines a few
frames spread over a clip, turned into the first frame's axes where the camera pans (`detector.camera_motion`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from detector.config import SceneConfig
from pose_lifting.sequence import SceneGeometry

IMAGE_UP = np.array([0.0, -1.0, 0.0])  # camera axes have y down
BOX_OVERLAP = 0.25  # a segment with this share of its length inside a person's box is dropped (arms, legs, edges)
AGREEMENT_DEG = 5.0  # frames whose ups spread this much (RMS) halve the confidence
MISFIT_PX = 3.0  # segments missing a vanishing point by this much (sin(angle) x length, ~pixels) stop pulling it
REFINE_STEPS = 4  # reweighted least-squares steps per refinement, the cut-off from 8 x MISFIT_PX down
LINE_NOISE_PX = 0.5  # the least scatter assumed of a segment's misfit (LSD's endpoints, pixels)
MAX_FOCAL_ERROR = 0.05  # a frame's focal whose expected relative error is larger is not given
MIN_VP_ELEVATION_DEG = 5.0  # vanishing directions closer to the image plane give no focal (error ~ 1 / sin 2 angle)


@dataclass
class FrameVanishing:
    """One frame's vanishing points."""

    vertical_vp: np.ndarray | None  # (3,) homogeneous pixel coordinates of the vertical vanishing point, or None
    inliers: int  # vertical segments supporting it
    segments: int  # segments considered (after the length filter and the box masking)
    focal_px: float | None  # from the vertical and an orthogonal horizontal vanishing point, where found

    def up(self, focal_px: float, width: int, height: int) -> np.ndarray | None:
        """Unit up direction in this frame's camera axes (negative y), K^-1 vertical_vp for this focal."""
        if self.vertical_vp is None:
            return None
        direction = np.linalg.solve(intrinsics(focal_px, width, height), self.vertical_vp)
        direction = direction / np.linalg.norm(direction)
        return -direction if direction[1] > 0 else direction


def intrinsics(focal_px: float, width: int, height: int) -> np.ndarray:
    """The pinhole camera matrix K: square pixels, the principal point at the image centre."""
    return np.array([[focal_px, 0.0, width / 2], [0.0, focal_px, height / 2], [0.0, 0.0, 1.0]])


def line_segments(image: np.ndarray, boxes: np.ndarray, config: SceneConfig) -> np.ndarray:
    """(N, 4) x1, y1, x2, y2 in the given image's pixels: LSD segments on the grey image, those shorter than
    `config.min_length` x the image diagonal dropped, and those in people's boxes (M, 4) x1 y1 x2 y2 (same pixels,
    widened by `config.box_margin`) dropped: a box holding the segment's midpoint or `BOX_OVERLAP` of its length.
    People's limbs and clothes make long straight edges that point anywhere; they are not the scene."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    found = cv2.createLineSegmentDetector(cv2.LSD_REFINE_STD).detect(grey)[0]
    if found is None:
        return np.zeros((0, 4))
    segments = found.reshape(-1, 4).astype(np.float64)
    height, width = grey.shape[:2]
    lengths = np.hypot(segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1])
    segments = segments[lengths >= config.min_length * np.hypot(width, height)]
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) == 0 or len(segments) == 0:
        return segments
    margin = config.box_margin * (boxes[:, 2:] - boxes[:, :2])
    widened = np.concatenate([boxes[:, :2] - margin, boxes[:, 2:] + margin], axis=1)
    midpoints = 0.5 * (segments[:, :2] + segments[:, 2:])
    mid_inside = np.all((midpoints[:, None] >= widened[None, :, :2]) & (midpoints[:, None] <= widened[None, :, 2:]), -1)
    masked = mid_inside.any(1) | (share_inside(segments, widened) >= BOX_OVERLAP).any(1)
    return segments[~masked]


def share_inside(segments: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(N, M) share of each segment's length inside each box (Liang-Barsky clipping of p + t (q - p), t in 0..1)."""
    start, step = segments[:, None, :2], segments[:, None, 2:] - segments[:, None, :2]  # (N, 1, 2)
    low, high = boxes[None, :, :2], boxes[None, :, 2:]  # (1, M, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_low, t_high = (low - start) / step, (high - start) / step
    enter, leave = np.minimum(t_low, t_high), np.maximum(t_low, t_high)
    # a segment parallel to an axis (no step along it) is inside along that axis everywhere or nowhere
    parallel = step == 0
    within = (start >= low) & (start <= high)
    enter = np.where(parallel, np.where(within, -np.inf, np.inf), enter)
    leave = np.where(parallel, np.where(within, np.inf, -np.inf), leave)
    first = np.maximum(enter.max(-1), 0.0)
    last = np.minimum(leave.min(-1), 1.0)
    return np.clip(last - first, 0.0, 1.0)


def plane_normals(segments: np.ndarray, focal_px: float, width: int, height: int) -> np.ndarray:
    """(N, 3) unit normals of the segments' interpretation planes, normalize(K^-1 p1 x K^-1 p2)."""
    ones = np.ones((len(segments), 1))
    k_inverse = np.linalg.inv(intrinsics(focal_px, width, height))
    rays_1 = np.hstack([segments[:, :2], ones]) @ k_inverse.T
    rays_2 = np.hstack([segments[:, 2:], ones]) @ k_inverse.T
    normals = np.cross(rays_1, rays_2)
    return normals / np.linalg.norm(normals, axis=1, keepdims=True)


def segment_lengths(segments: np.ndarray) -> np.ndarray:
    return np.hypot(segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1])


def pair_directions(
    normals: np.ndarray, lengths: np.ndarray, count: int, min_angle_deg: float, rng: np.random.Generator
) -> np.ndarray:
    """(<= count, 3) unit candidate directions, each the line where two random segments' planes meet. Longer
    segments are drawn more often (their planes are better measured); pairs of nearly the same plane (the two edges
    of one thick line) are skipped, since they fix no direction."""
    if len(normals) < 2:
        return np.zeros((0, 3))
    chance = lengths / lengths.sum()
    first = rng.choice(len(normals), size=count, p=chance)
    second = rng.choice(len(normals), size=count, p=chance)
    directions = np.cross(normals[first], normals[second])
    sizes = np.linalg.norm(directions, axis=1)
    keep = sizes > np.sin(np.radians(min_angle_deg))
    return directions[keep] / sizes[keep, None]


def consistent(normals: np.ndarray, directions: np.ndarray, inlier_deg: float) -> np.ndarray:
    """(N, D) bool: direction d lies within inlier_deg of segment n's plane (|n·d| = sin of that angle)."""
    return np.abs(normals @ directions.T) < np.sin(np.radians(inlier_deg))


def refined_direction(normals: np.ndarray, lengths: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The direction closest to lying in all these planes, starting from `direction`: the smallest singular vector
    of the weighted normals, reweighted a few times. A plane's angle to the true direction scatters as (pixel
    noise) / length, so sin(angle) x length is a misfit in pixels: the weights are length^2 (inverse variance)
    times Tukey's biweight of that misfit, its cut-off halved each step down to `MISFIT_PX` (a rough start is
    pulled in first), so that a long clutter line that passed the angle test does not pull the estimate."""
    for cutoff in MISFIT_PX * 2.0 ** np.arange(REFINE_STEPS - 1, -1, -1):
        misfit = np.abs(normals @ direction) * lengths / cutoff
        weights = lengths**2 * np.clip(1 - misfit**2, 0, None) ** 2
        if np.count_nonzero(weights) < 2:
            break
        refined = np.linalg.svd(normals * np.sqrt(weights)[:, None], full_matrices=False)[2][-1]
        direction = refined if refined @ direction >= 0 else -refined
    return direction


def vertical_vanishing_point(
    segments: np.ndarray, focal_px: float, width: int, height: int, config: SceneConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray] | None:
    """(up: unit (3,) in camera axes with negative y, (N,) bool inlier mask), or None where fewer than
    `config.min_inliers` segments support any vertical. RANSAC over pairs of segments (their planes meet in the
    candidate direction), candidates within `max_tilt_deg` of the image's up; inliers within `inlier_deg`; the
    best refined by least squares, its inliers chosen again, and refined once more."""
    if len(segments) < 2:
        return None
    normals = plane_normals(segments, focal_px, width, height)
    lengths = segment_lengths(segments)
    # only a plane within max_tilt of the image's up axis can hold a direction that close to it
    could_be_vertical = np.abs(normals @ IMAGE_UP) <= np.sin(np.radians(config.max_tilt_deg + config.inlier_deg))
    if could_be_vertical.sum() < max(2, config.min_inliers):
        return None
    candidates = pair_directions(
        normals[could_be_vertical], lengths[could_be_vertical], config.ransac_iterations, 2 * config.inlier_deg, rng
    )
    candidates = candidates * np.where(candidates @ IMAGE_UP < 0, -1.0, 1.0)[:, None]  # all pointing up
    candidates = candidates[candidates @ IMAGE_UP >= np.cos(np.radians(config.max_tilt_deg))]
    if len(candidates) == 0:
        return None
    support = consistent(normals, candidates, config.inlier_deg)
    best = support.sum(0).argmax()
    up, inliers = candidates[best], support[:, best]
    for _ in range(2):  # refine, choose the inliers again around the refined direction, refine
        if inliers.sum() < 2:
            return None
        up = refined_direction(normals[inliers], lengths[inliers], up)
        inliers = consistent(normals, up[None], config.inlier_deg)[:, 0]
    if inliers.sum() < config.min_inliers or up @ IMAGE_UP < np.cos(np.radians(config.max_tilt_deg)):
        return None
    return up, inliers


def orthogonal_focal(vertical: np.ndarray, horizontals: np.ndarray, focal_px: float) -> np.ndarray:
    """(D,) the focal f that makes the vertical and each horizontal orthogonal, (v - c)·(h - c) + f^2 = 0, for
    directions in the prior's camera axes (focal f0: v - c = f0 (vx, vy) / vz), so f^2 = -f0^2 (vx hx + vy hy) /
    (vz hz). NaN where no focal does (f^2 <= 0), or where, at that focal, either direction lies within
    `MIN_VP_ELEVATION_DEG` of the image plane: a vanishing point far outside the picture (at infinity, in the
    limit: a level camera's verticals) fixes the focal only loosely."""
    along_image = horizontals[:, :2] @ vertical[:2]
    depth = horizontals[:, 2] * vertical[2]
    with np.errstate(divide="ignore", invalid="ignore"):
        focal = focal_px * np.sqrt(-along_image / depth)
        shrink = focal_px / focal  # the image-plane components at focal f are f0 / f of those at f0
        steep = np.sin(np.radians(MIN_VP_ELEVATION_DEG))
        for direction in (np.broadcast_to(vertical, horizontals.shape), horizontals):
            in_plane = np.linalg.norm(direction[:, :2], axis=1) * shrink
            focal = np.where(np.abs(direction[:, 2]) >= steep * np.hypot(in_plane, direction[:, 2]), focal, np.nan)
    return focal


def direction_error(normals: np.ndarray, lengths: np.ndarray, direction: np.ndarray) -> float:
    """Standard error (radians) of a direction refined from these segments: their misfits (sin(angle) x length,
    ~pixels; the RMS over those within `MISFIT_PX`, at least `LINE_NOISE_PX`) over the second singular value of
    the length-weighted normals, the direction's worst-determined turn."""
    rows = normals * lengths[:, None]
    misfit = np.abs(rows @ direction)
    close = misfit < MISFIT_PX
    if close.sum() < 3:
        return float("inf")
    noise = max(LINE_NOISE_PX, float(np.sqrt(np.mean(misfit[close] ** 2))))
    return noise / float(np.linalg.svd(rows[close], compute_uv=False)[1])


def focal_error(
    directions: tuple[np.ndarray, np.ndarray], errors: tuple[float, float], focal: float, focal_px: float
) -> float:
    """Relative standard error of the focal from two orthogonal vanishing directions (prior camera axes) with
    these angular errors: a direction at angle a to the image plane moves its vanishing point along (and so the
    focal) by error / sin 2a, relative."""
    total = 0.0
    for direction, error in zip(directions, errors, strict=True):
        elevation = np.arctan2(abs(direction[2]), np.linalg.norm(direction[:2]) * focal_px / focal)
        total += (error / np.sin(2 * elevation)) ** 2
    return float(np.sqrt(total))


def vanishing_from_segments(
    segments: np.ndarray, focal_px: float, width: int, height: int, config: SceneConfig, rng: np.random.Generator
) -> FrameVanishing:
    """`frame_vanishing` on segments already found (N, 4) in a width x height image; `focal_px` is the prior.
    The focal is kept only where its expected error (`focal_error`) is under `MAX_FOCAL_ERROR`: a nearly level
    camera's vertical vanishing point lies far outside the picture, where a small error in up is a large one in
    the focal."""
    vertical = vertical_vanishing_point(segments, focal_px, width, height, config, rng)
    if vertical is None:
        return FrameVanishing(None, 0, len(segments), None)
    up, inliers = vertical
    vertical_vp = intrinsics(focal_px, width, height) @ up
    found = FrameVanishing(vertical_vp / np.linalg.norm(vertical_vp), int(inliers.sum()), len(segments), None)
    horizontal = horizontal_vanishing(segments[~inliers], up, focal_px, width, height, config, rng)
    if horizontal is None:
        return found
    focal = float(orthogonal_focal(up, horizontal[0][None], focal_px)[0])
    normals, lengths = plane_normals(segments, focal_px, width, height), segment_lengths(segments)
    errors = (
        direction_error(normals[inliers], lengths[inliers], up),
        direction_error(normals[~inliers][horizontal[1]], lengths[~inliers][horizontal[1]], horizontal[0]),
    )
    if focal_error((up, horizontal[0]), errors, focal, focal_px) <= MAX_FOCAL_ERROR:
        found.focal_px = focal
    return found


def horizontal_vanishing(
    segments: np.ndarray,
    up: np.ndarray,
    focal_px: float,
    width: int,
    height: int,
    config: SceneConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(unit direction in the prior's camera axes, (N,) bool inlier mask) of the best-supported horizontal
    vanishing point among these (non-vertical) segments whose implied focal (`orthogonal_focal`) lies within
    [min_focal_ratio, max_focal_ratio] x the image's longer side; None where none has `min_inliers`."""
    if len(segments) < config.min_inliers:
        return None
    normals = plane_normals(segments, focal_px, width, height)
    lengths = segment_lengths(segments)
    candidates = pair_directions(normals, lengths, config.ransac_iterations, 2 * config.inlier_deg, rng)
    longest = max(width, height)

    def plausible(directions: np.ndarray) -> np.ndarray:
        focal = orthogonal_focal(up, directions, focal_px)
        with np.errstate(invalid="ignore"):
            return (focal >= config.min_focal_ratio * longest) & (focal <= config.max_focal_ratio * longest)

    candidates = candidates[plausible(candidates)]
    if len(candidates) == 0:
        return None
    support = consistent(normals, candidates, config.inlier_deg)
    best = support.sum(0).argmax()
    horizontal, inliers = candidates[best], support[:, best]
    if inliers.sum() < config.min_inliers:
        return None
    for _ in range(2):  # as for the vertical: refine, choose the inliers again, refine
        horizontal = refined_direction(normals[inliers], lengths[inliers], horizontal)
        inliers = consistent(normals, horizontal[None], config.inlier_deg)[:, 0]
    if not plausible(horizontal[None])[0] or inliers.sum() < config.min_inliers:
        return None
    return horizontal, inliers


def frame_vanishing(
    image: np.ndarray, boxes: np.ndarray, focal_px: float, config: SceneConfig, rng: np.random.Generator
) -> FrameVanishing:
    """One frame (BGR or grey uint8; boxes (M, 4) and the prior `focal_px` in its pixels): the vertical vanishing
    point and, from the remaining segments, a horizontal one orthogonal to it, which gives the focal."""
    height, width = image.shape[:2]
    segments = line_segments(image, boxes, config)
    return vanishing_from_segments(segments, focal_px, width, height, config, rng)


def estimate_scene(
    images: list[np.ndarray],
    boxes: list[np.ndarray],
    frame_indices: list[int],
    video_size: tuple[int, int],
    focal_px: float,
    config: SceneConfig,
    rotations: np.ndarray | None = None,
) -> SceneGeometry:
    """Up and focal from several frames spread over a clip, in the first frame's camera axes and the video's pixels:
    `measure_frames`, then `combine_frames` (see both)."""
    found = measure_frames(images, boxes, video_size, focal_px, config)
    return combine_frames(found, frame_indices, video_size, focal_px, config, rotations)


def measure_frames(
    images: list[np.ndarray], boxes: list[np.ndarray], video_size: tuple[int, int], focal_px: float,
    config: SceneConfig,
) -> list[FrameVanishing | None]:
    """Each frame's vanishing points in video pixels (None where it has no vertical one). `images` (any size;
    shrunk to `config.max_side` where larger), `boxes` (M, 4) per image in video pixels, `video_size` (width,
    height), `focal_px` the prior focal in video pixels (for the RANSAC angle tests)."""
    rng = np.random.default_rng(config.seed)
    video_width, video_height = video_size
    found: list[FrameVanishing | None] = []
    for image, frame_boxes in zip(images, boxes, strict=True):
        image = shrunk(image, config.max_side)
        height, width = image.shape[:2]
        to_image = np.array([width / video_width, height / video_height])
        scale = max(width, height) / max(video_width, video_height)
        image_boxes = np.asarray(frame_boxes, dtype=np.float64).reshape(-1, 4) * np.tile(to_image, 2)
        vanishing = frame_vanishing(image, image_boxes, focal_px * scale, config, rng)
        if vanishing.vertical_vp is None:
            found.append(None)
            continue
        vertical_vp = np.diag([1 / to_image[0], 1 / to_image[1], 1.0]) @ vanishing.vertical_vp
        focal = None if vanishing.focal_px is None else vanishing.focal_px / scale
        found.append(FrameVanishing(vertical_vp / np.linalg.norm(vertical_vp), vanishing.inliers,
                                    vanishing.segments, focal))
    return found


def combine_frames(
    found: list[FrameVanishing | None],
    frame_indices: list[int],
    video_size: tuple[int, int],
    focal_px: float,
    config: SceneConfig,
    rotations: np.ndarray | None = None,
    known_focal: float | None = None,
) -> SceneGeometry:
    """The frames' vanishing points (`measure_frames`) combined into the clip's `SceneGeometry`; `rotations`
    (K, 3, 3) each frame's camera axes -> the first frame's (a panning camera), where known; `known_focal`, a
    focal length known otherwise (a turning camera's, `detector.camera_motion`), which the ups are computed with.

    The focal is the median of the frames' estimates (None where none gave one); each frame's up is recomputed with
    `known_focal`, else it (vanishing points in pixels do not depend on it), turned into the first frame's axes,
    and the ups are averaged weighted by their inliers. spread_deg is the RMS angle of the frame ups to that mean
    (NaN for fewer than two). confidence = min(1, num_lines / (full_confidence_lines x frames read)) / (1 +
    (spread_deg / AGREEMENT_DEG)^2) (the disagreement factor is 1 for a single frame); 0 with up None where no
    frame found a vertical vanishing point. `frame_ups` keeps each frame's up in its own axes (for the drift
    correction).
    """
    video_width, video_height = video_size
    frames = tuple(int(index) for index in frame_indices)
    read = [k for k, vanishing in enumerate(found) if vanishing is not None]
    frame_ups = np.full((len(found), 3), np.nan)
    if not read:
        return SceneGeometry(None, 0.0, None, 0, float("nan"), frames, frame_ups)
    measured = [found[k] for k in read]
    focals = [vanishing.focal_px for vanishing in measured if vanishing.focal_px is not None]
    focal = float(np.median(focals)) if focals else None
    reading = known_focal or focal or focal_px
    own = np.array([vanishing.up(reading, video_width, video_height) for vanishing in measured])
    turns = np.tile(np.eye(3), (len(read), 1, 1)) if rotations is None else np.asarray(rotations, np.float64)[read]
    ups = np.einsum("kij,kj->ki", turns, own)
    frame_ups[read] = own
    weights = np.array([vanishing.inliers for vanishing in measured], dtype=np.float64)
    up = weights @ ups
    up = up / np.linalg.norm(up)
    num_lines = int(weights.sum())
    if len(ups) >= 2:
        angles = np.degrees(np.arccos(np.clip(ups @ up, -1.0, 1.0)))
        spread = float(np.sqrt(np.mean(angles**2)))
        agreement = 1.0 / (1.0 + (spread / AGREEMENT_DEG) ** 2)
    else:
        spread, agreement = float("nan"), 1.0
    support = min(1.0, num_lines / (config.full_confidence_lines * max(1, len(found))))
    return SceneGeometry(up, support * agreement, focal, num_lines, spread, frames, frame_ups)


def shrunk(image: np.ndarray, max_side: int) -> np.ndarray:
    """The image with its longest side at most max_side (area averaging, aspect ratio kept)."""
    height, width = image.shape[:2]
    scale = max_side / max(width, height)
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
