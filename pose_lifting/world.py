"""A world frame for lifted poses: ground and up direction, the root's path through the scene, foot contacts.

Pure geometry on one person's lifted 3D poses (camera axes, pelvis at the origin), their 2D keypoints and what
the picture says about the camera (`Pose2DSequence.scene`: up and focal length from the scene's lines;
`Pose2DSequence.camera`: the camera's rotation in each frame); nothing here is learnt.

0. Where the person is in the picture: the lifter sees each window centred on the pelvis and scaled to the
   person (`pose_lifting.normalization`), so it cannot know how far off the picture's centre the person stands;
   it gives the pose as seen by a camera looking straight at them. Each frame's lifted pose is turned by the
   smallest rotation from the optical axis to the pelvis' pixel ray (`ray_rotations`), into the camera's true
   axes (`ray_correction`; off-centre people otherwise lean by their angle off the axis, and a turning camera,
   which moves the person across the picture, tilts them as it turns).
   A turning camera: every frame's poses, root and heel rays are turned by that frame's camera rotation into the
   first frame's camera axes ("reference axes"), so that everything below happens in one still world. A still
   camera (no `camera`) has the identity in every frame.

1. Root trajectory: per frame, the translation that best projects the lifted skeleton onto the 2D keypoints
   (linear least squares, weighted by the keypoint scores, in that frame's camera axes) with the focal length:
   the user's field of view, else the one a turning camera showed, else the scene's estimate, else a phone's.
   Depth comes from the skeleton's metric size against its size in pixels, so a wrong focal length scales the
   depth (not the lateral position). Turned into reference axes and smoothed over time, depth more than the
   image-plane position.
2. Sole points: each foot's lowest point. The detector's heels (`Pose2DSequence.feet`, when it has them) are
   placed on their pixel rays at the ankle's horizontal distance from the camera (in the upright plane through
   the ankle that faces the camera), so the heel's drop below the ankle costs nothing; without them the sole is
   `ankle_height_m` below the ankle. Foot tips are not used: a foot tip is up to a foot's length nearer or
   farther than the ankle, which under a camera that looks down would put it up to ~7 cm too low or high; a
   heel is within a few centimetres of the ankle's distance.
   For the joint angles (`WorldMotion.feet`, pose_lifting.angles) the foot tips are placed where their pixel ray
   meets the foot's upright plane through its heel, square to the hip line (the plane a foot moves in when the
   ankle bends); where the ray runs within `min_tip_ray_deg` of that plane (a foot seen end on) the tip is NaN.
3. Up direction and ground, by one of `METHODS`:
   - "auto" (the default): the scene's up when it is confident and within `max_scene_body_deg` of the body
     prior (a wrong vanishing point, or a tilted building, is not trusted blindly), else "ground";
   - "scene": the scene's up whenever it has one (else "ground"); the ground then only needs its height, the
     median sole height of the contacts, and the contacts' own plane is kept as a check (`check_deg`);
   - "ground": RANSAC plane through the sole points of the feet that are still and low, its normal kept within
     `max_tilt_deg` of the body prior, refined by a least-squares fit that falls back on the body prior in the
     directions where the contacts do not spread (a straight walk fixes the tilt along the path only);
     contacts and plane are re-estimated together a few times;
   - "body": the body prior alone, the mean direction from the mid-ankles to the thorax;
   - "upright": the camera's own up (-y), i.e. an untilted camera.
   The ground height is the plane's offset (for "body" and "upright": a low percentile of the sole heights).
   `WorldMotion.method` says which source was used, `UP_SOURCES` says it in words.
4. World frame: Y up, metres, the ground at y = 0, x along the first frame camera's right projected on the ground,
   z = x cross y (towards the camera), the first frame's pelvis above the origin. Each frame's camera orientation
   in the world is `WorldMotion.camera_rotations`.
5. Foot contacts per frame and foot: sole within `contact_height_m` of the ground and the ankle slower than
   `contact_speed_m_s`. With `foot_lock`, the root's horizontal motion is corrected so that planted feet stay
   put, pulled back towards the image-based trajectory with the time constant `lock_time_constant_s`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from scipy.ndimage import gaussian_filter1d

from pose_lifting.sequence import CameraMotion, Pose2DSequence, Pose3DSequence, SceneGeometry
from pose_lifting.skeleton import JOINT_INDEX

WorldMethod = Literal["auto", "scene", "ground", "body", "upright"]
METHODS: tuple[str, ...] = get_args(WorldMethod)
UP_SOURCES = {  # what the page and the warnings say of the method used
    "scene": "up from the scene's vertical lines",
    "ground": "up from the feet on the ground",
    "body": "up from the body's mean posture",
    "upright": "up assumed from an upright camera",
}
FEET = ("left", "right")  # the order of the contact columns
ANKLES = (JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"])
# the heels' columns of Pose2DSequence.feet (left_heel, right_heel, left_foot_index, right_foot_index) per foot
HEEL_COLUMNS = (0, 1)
DEFAULT_LONG_SIDE_FOV_DEG = 65.0  # a phone's main camera (26 mm equivalent) across the picture's longer side


@dataclass
class WorldConfig:
    """How the world frame is estimated; the defaults suit a person walking in a phone video."""

    fov_deg: float | None = None  # horizontal field of view, degrees (none: a phone's, 65 across the longer side)
    ray_correction: bool = True  # turn each lifted pose from the pelvis' ray into the camera's axes (step 0)
    method: WorldMethod = "auto"  # up from the scene's lines or the feet (auto), or one source (see the module doc)
    min_scene_confidence: float = 0.3  # the scene's up is used by "auto" from this confidence (detector.scene)
    max_scene_body_deg: float = 45.0  # ... and at most this far from the body prior (a leaning body: docs/world.md)
    smooth_s: float = 0.05  # Gaussian sigma of the root's image-plane position over time
    depth_smooth_s: float = 0.25  # Gaussian sigma of the root's depth (noisier: it comes from the skeleton's size)
    ankle_height_m: float = 0.08  # the sole below the ankle joint where the detector gives no heel
    min_foot_score: float = 0.3  # heels scored lower are not used
    min_tip_ray_deg: float = 15.0  # a foot tip whose ray is nearer its foot's upright plane than this is not placed
    contact_height_m: float = 0.06  # a foot touches the ground when its sole is at most this high
    contact_speed_m_s: float = 0.6  # ... and its ankle moves slower than this
    ransac_iterations: int = 300
    ransac_inlier_m: float = 0.04  # distance to the plane within which a sole point supports it
    max_tilt_deg: float = 45.0  # ground normals further than this from the body prior are rejected
    prior_spread_m: float = 0.15  # contacts spreading less than this along a direction defer to the body prior
    refinements: int = 3  # rounds of (contacts -> plane)
    min_contacts: int = 12  # fewer contact points than this: the body prior is used instead of the plane
    foot_lock: bool = True
    lock_time_constant_s: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"world method must be one of {METHODS}, got {self.method!r}")
        if self.fov_deg is not None and not 1.0 <= self.fov_deg <= 170.0:
            raise ValueError(f"the field of view must be between 1 and 170 degrees, got {self.fov_deg}")


@dataclass
class WorldMotion:
    """One person's motion in the world frame (Y up, metres, ground at y = 0), frame-aligned with the lift."""

    poses: np.ndarray  # (T, 17, 3) world positions, root trajectory included
    root: np.ndarray  # (T, 3) the pelvis' world position
    contacts: np.ndarray  # (T, 2) bool, columns FEET (left, right)
    rotation: np.ndarray  # (3, 3) camera axes -> world: world = rotation @ (camera point - origin)
    origin: np.ndarray  # (3,) the world origin in camera axes (on the ground below the first pelvis)
    up_camera: np.ndarray  # (3,) the estimated up direction in camera axes
    camera_height_m: float  # the camera's height above the ground
    spread_m: float  # RMS distance of the contact soles to the ground (how sure the ground is); NaN if none
    num_contacts: int  # sole points that supported the ground plane
    method: str  # the source of up actually used: "scene", "ground", "body" or "upright" (see UP_SOURCES)
    fov_deg: float  # horizontal field of view used
    focal_px: float
    fps: float
    camera_rotations: np.ndarray  # (T, 3, 3) each frame's camera axes -> world (the camera's orientation)
    focal_source: str = "assumed"  # "user" (--fov), "scene" (orthogonal vanishing points), "turning" (the camera's
    # turning, detector.camera_motion) or "assumed" (a phone's)
    scene_confidence: float = 0.0  # the scene's confidence in its up (0: no scene, or no vertical lines)
    check_deg: float = float("nan")  # angle between the up used and the contacts' own plane (scene up only)
    scene_body_deg: float = float("nan")  # angle between the scene's up and the body prior (NaN: no scene up)
    camera_max_angle_deg: float = 0.0  # the camera's largest turn from the first frame
    camera_translating: bool = False  # the camera moved (not only turned): the path is relative to the camera
    scale: float = 1.0  # the person's size against the lifted one (1 alone; several people: scene_world.py)
    # (T, 4, 3) world heels and foot tips (left_heel, right_heel, left_foot_index, right_foot_index), NaN where
    # not measured or not placed; None where the 2D has no feet
    feet: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.poses)

    @property
    def camera_position(self) -> np.ndarray:
        """(3,) the camera's centre in the world (it turns about it; a camera that moves is flagged instead)."""
        return -self.rotation @ self.origin

    def horizon(self, t: int, width: int, height: int) -> np.ndarray:
        """Frame t's horizon in its pixels, the line (a, b, c) with a u + b v + c = 0: the image of the directions
        square to up, K^-T up_t with up_t the world's up in frame t's camera axes."""
        up = self.camera_rotations[t].T @ np.array([0.0, 1.0, 0.0])
        centre = np.array([width / 2, height / 2])
        return np.array([up[0] / self.focal_px, up[1] / self.focal_px, up[2] - centre @ up[:2] / self.focal_px])

    def summary(self) -> dict:
        """The scalars and the rotation, for the JSON metadata (None where a value is undefined, e.g. no contacts)."""
        sliding = foot_sliding(self.poses, self.contacts)
        return {
            "method": self.method,
            "up_source": UP_SOURCES[self.method],
            "scene_confidence": self.scene_confidence,
            "check_deg": None if np.isnan(self.check_deg) else self.check_deg,
            "scene_body_deg": None if np.isnan(self.scene_body_deg) else self.scene_body_deg,
            "focal_source": self.focal_source,
            "camera_max_angle_deg": self.camera_max_angle_deg,
            "camera_translating": self.camera_translating,
            "fov_deg": self.fov_deg,
            "focal_px": self.focal_px,
            "camera_height_m": self.camera_height_m,
            "ground_spread_m": None if np.isnan(self.spread_m) else self.spread_m,
            "ground_contacts": self.num_contacts,
            "up_camera": self.up_camera.tolist(),
            "rotation": self.rotation.tolist(),
            "origin_camera": self.origin.tolist(),
            "contact_fraction": self.contacts.mean(axis=0).tolist(),
            "foot_sliding_cm": None if np.isnan(sliding) else 100 * sliding,
            "scale": self.scale,
        }


def focal_length(width: float, height: float, fov_deg: float | None = None) -> tuple[float, float]:
    """(horizontal field of view in degrees, focal length in pixels) of a `width` x `height` picture."""
    if fov_deg is None:
        focal = 0.5 * max(width, height) / np.tan(np.radians(DEFAULT_LONG_SIDE_FOV_DEG) / 2)
        return float(np.degrees(2 * np.arctan(0.5 * width / focal))), float(focal)
    return float(fov_deg), float(0.5 * width / np.tan(np.radians(fov_deg) / 2))


def chosen_focal(pose2d: Pose2DSequence, fov_deg: float | None) -> tuple[float, float, str]:
    """(field of view, focal length, its source): the user's field of view, else the one the camera's turning
    showed, else the scene's, else a phone's (detector.camera says why in that order)."""
    scene, camera = pose2d.scene, pose2d.camera
    found = {"turning": camera.focal_px if camera is not None and camera.focal_estimated else None,
             "scene": None if scene is None else scene.focal_px}
    for source, focal in found.items():
        if fov_deg is None and focal is not None:
            return float(np.degrees(2 * np.arctan(0.5 * pose2d.width / focal))), float(focal), source
    fov, focal = focal_length(pose2d.width, pose2d.height, fov_deg)
    return fov, focal, "assumed" if fov_deg is None else "user"


def root_translation(
    poses: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, focal: float, principal: np.ndarray
) -> np.ndarray:
    """(T, 3) camera-axes translations t that best project `poses + t` (T, J, 3) onto `keypoints` (T, J, 2).

    u - cx = f (X + tx) / (Z + tz) is linear in t once multiplied out: f tx - (u - cx) tz = (u - cx) Z - f X,
    and likewise for y; each frame's 2J equations are solved by score-weighted least squares.
    """
    uv = keypoints - principal
    weights = np.clip(scores, 1e-3, None)[..., None]  # (T, J, 1)
    rows, rhs = [], []
    for axis in range(2):
        row = np.zeros(uv.shape[:2] + (3,))
        row[..., axis] = focal
        row[..., 2] = -uv[..., axis]
        rows.append(row)
        rhs.append(uv[..., axis] * poses[..., 2] - focal * poses[..., axis])
    a = np.concatenate(rows, axis=1)  # (T, 2J, 3)
    b = np.concatenate(rhs, axis=1)  # (T, 2J)
    w = np.concatenate([weights, weights], axis=1)
    normal = np.einsum("tji,tjk->tik", a * w, a)
    return np.linalg.solve(normal, np.einsum("tji,tj->ti", a * w, b)[..., None])[..., 0]


def ray_rotations(pixels: np.ndarray, focal: float, principal: np.ndarray) -> np.ndarray:
    """(T, 3, 3) per frame, the smallest rotation taking the optical axis (0, 0, 1) onto the ray through the pixel
    (T, 2); the identity where the pixel is not finite."""
    rays = np.concatenate([(pixels - principal) / focal, np.ones((len(pixels), 1))], axis=1)
    rays = np.where(np.isfinite(rays).all(axis=1, keepdims=True), rays, [0.0, 0.0, 1.0])
    rays /= np.linalg.norm(rays, axis=1, keepdims=True)
    # Rodrigues for the axis z x ray: R = I + [a]x + [a]x^2 / (1 + cos), a = z x ray, cos = ray_z (never -1 here)
    axis = np.stack([-rays[:, 1], rays[:, 0], np.zeros(len(rays))], axis=1)
    cross = np.zeros((len(rays), 3, 3))
    cross[:, 0, 2], cross[:, 1, 2] = axis[:, 1], -axis[:, 0]
    cross[:, 2, 0], cross[:, 2, 1] = -axis[:, 1], axis[:, 0]
    return np.eye(3) + cross + cross @ cross / (1.0 + rays[:, 2])[:, None, None]


def smooth_trajectory(root: np.ndarray, fps: float, config: WorldConfig) -> np.ndarray:
    """Gaussian smoothing over time: x and y by `smooth_s`, depth by `depth_smooth_s`."""
    out = root.copy()
    for axis, sigma_s in ((0, config.smooth_s), (1, config.smooth_s), (2, config.depth_smooth_s)):
        if sigma_s > 0 and len(root) > 1:
            out[:, axis] = gaussian_filter1d(root[:, axis], sigma_s * fps, mode="nearest")
    return out


def sole_points(
    absolute: np.ndarray,
    pose2d: Pose2DSequence,
    up: np.ndarray,
    focal: float,
    principal: np.ndarray,
    config: WorldConfig,
    rotations: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each foot's lowest sole point along `up`: heights (T, 2) (from the camera) and points (T, 2, 3).

    Candidates: the ankle, `ankle_height_m` above the sole, and, where the detector gives it with a score of at
    least `min_foot_score`, the heel on its pixel ray at the ankle's horizontal distance, at the sole. Points and
    `up` are in reference axes; `rotations` (T, 3, 3) turn each frame's pixel rays into them (None: a still camera).
    """
    ankles = absolute[:, list(ANKLES)]  # (T, 2, 3)
    soles = ankles - config.ankle_height_m * up
    heights = soles @ up
    feet = getattr(pose2d, "feet", None)
    if feet is None:
        return heights, soles
    heels = heel_points(ankles, feet, up, focal, principal, rotations)
    heel_heights = heels @ up
    usable = np.isfinite(heel_heights) & (heel_heights < heights)
    feet_scores = getattr(pose2d, "feet_scores", None)
    if feet_scores is not None:
        usable &= feet_scores[:, list(HEEL_COLUMNS)] >= config.min_foot_score
    return np.where(usable, heel_heights, heights), np.where(usable[..., None], heels, soles)


def pixel_rays(pixels: np.ndarray, focal: float, principal: np.ndarray, rotations: np.ndarray | None) -> np.ndarray:
    """(T, F, 3) rays (z = 1 in the frame's own axes) through pixels (T, F, 2), turned into reference axes."""
    rays = np.concatenate([(pixels - principal) / focal, np.ones(pixels.shape[:2] + (1,))], -1)
    return rays if rotations is None else np.einsum("tij,tfj->tfi", rotations, rays)


def heel_points(
    ankles: np.ndarray, feet: np.ndarray, up: np.ndarray, focal: float, principal: np.ndarray,
    rotations: np.ndarray | None,
) -> np.ndarray:
    """(T, 2, 3) the heels (left, right) on their pixel rays at their ankle's (T, 2, 3) horizontal distance."""
    views = np.tile(np.eye(3), (len(ankles), 1, 1)) if rotations is None else rotations
    viewing = views[:, :, 2]  # (T, 3) each frame's viewing direction
    forward = viewing - (viewing @ up)[:, None] * up  # ... along the ground
    rays = pixel_rays(feet[:, list(HEEL_COLUMNS)], focal, principal, rotations)
    return rays * (np.einsum("tfi,ti->tf", ankles, forward) / np.einsum("tfi,ti->tf", rays, forward))[..., None]


def foot_points(
    absolute: np.ndarray, pose2d: Pose2DSequence, up: np.ndarray, focal: float, principal: np.ndarray,
    rotations: np.ndarray, config: WorldConfig,
) -> np.ndarray | None:
    """(T, 4, 3) heels and foot tips in reference axes (columns as `Pose2DSequence.feet`), NaN where scored below
    `min_foot_score` or a tip's ray runs within `min_tip_ray_deg` of its foot's plane (module doc, step 2)."""
    feet = getattr(pose2d, "feet", None)
    if feet is None:
        return None
    heels = heel_points(absolute[:, list(ANKLES)], feet, up, focal, principal, rotations)
    hips = absolute[:, JOINT_INDEX["right_hip"]] - absolute[:, JOINT_INDEX["left_hip"]]
    normal = hips - (hips @ up)[:, None] * up
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)  # (T, 3) square to each foot's upright plane
    rays = pixel_rays(feet[:, [2, 3]], focal, principal, rotations)
    along = np.einsum("tfi,ti->tf", rays, normal)
    tips = rays * (np.einsum("tfi,ti->tf", heels, normal) / along)[..., None]
    grazing = np.abs(along) / np.linalg.norm(rays, axis=-1) < np.sin(np.radians(config.min_tip_ray_deg))
    points = np.concatenate([heels, np.where(grazing[..., None], np.nan, tips)], axis=1)
    scores = pose2d.feet_scores if pose2d.feet_scores is not None else np.ones(feet.shape[:2])
    return np.where((scores >= config.min_foot_score)[..., None], points, np.nan)


def foot_speeds(points: np.ndarray, up: np.ndarray, fps: float) -> np.ndarray:
    """(T, 2) speed along the ground (m/s) of (T, 2, 3) points, central differences."""
    if len(points) < 2:
        return np.zeros(points.shape[:2])
    velocity = np.gradient(points, axis=0) * fps
    along_ground = velocity - (velocity @ up)[..., None] * up
    return np.linalg.norm(along_ground, axis=-1)


def detect_contacts(heights: np.ndarray, speeds: np.ndarray, config: WorldConfig) -> np.ndarray:
    """(T, 2) bool: the sole is close to the ground (heights measured from it) and the foot nearly still."""
    return (heights < config.contact_height_m) & (speeds < config.contact_speed_m_s)


def body_up(poses: np.ndarray) -> np.ndarray:
    """The body prior: the mean direction from the mid-ankles to the thorax, in the poses' axes (unit)."""
    ankles = poses[:, list(ANKLES)].mean(axis=1)
    body = poses[:, JOINT_INDEX["thorax"]] - ankles
    mean = (body / np.linalg.norm(body, axis=-1, keepdims=True)).mean(axis=0)
    return mean / np.linalg.norm(mean)


def fit_plane(points: np.ndarray, prior: np.ndarray, prior_spread_m: float) -> tuple[np.ndarray, float]:
    """Unit normal n (on the prior's side) and offset d of the plane n . p = d through (N, 3) points.

    Minimises sum (n . (p - mean))^2 + N s^2 (1 - (n . prior)^2), s = `prior_spread_m`: the smallest eigenvector
    of scatter - N s^2 prior prior^T. Along directions where the points spread much more than s the data wins;
    where they spread less (a straight walk seen across its path), the prior does.
    """
    centre = points.mean(axis=0)
    offsets = points - centre
    scatter = offsets.T @ offsets - len(points) * prior_spread_m**2 * np.outer(prior, prior)
    normal = np.linalg.eigh(scatter)[1][:, 0]
    normal = normal if normal @ prior >= 0 else -normal
    return normal, float(normal @ centre)


def ransac_ground(
    points: np.ndarray, prior: np.ndarray, config: WorldConfig, rng: np.random.Generator
) -> tuple[np.ndarray, float, np.ndarray] | None:
    """Robust ground plane through sole points (N, 3): (normal, offset, inlier mask); None when no three points
    span a triangle (feet that never leave two spots: there is no plane to fit)."""
    min_cos = np.cos(np.radians(config.max_tilt_deg))
    best, best_count = np.ones(len(points), bool), 0
    for _ in range(config.ransac_iterations):
        a, b, c = points[rng.choice(len(points), 3, replace=False)]
        normal = np.cross(b - a, c - a)
        size = np.linalg.norm(normal)
        if size < 0.01:  # (nearly) collinear: the triangle's sides multiply to under 0.01 m^2
            continue
        normal = normal / size
        normal = normal if normal @ prior >= 0 else -normal
        if normal @ prior < min_cos:
            continue
        inliers = np.abs(points @ normal - normal @ a) < config.ransac_inlier_m
        if inliers.sum() > best_count:
            best, best_count = inliers, int(inliers.sum())
    if not best_count:
        return None
    normal, offset = fit_plane(points[best], prior, config.prior_spread_m)
    return normal, offset, best


def world_rotation(up: np.ndarray) -> np.ndarray:
    """Camera axes -> world (rows: world x, y, z in camera axes): y = up, x = the camera's right on the ground."""
    right = np.array([1.0, 0.0, 0.0]) - up[0] * up
    if np.linalg.norm(right) < 1e-6:  # looking straight down: keep the camera's down (image bottom) as -z
        right = np.cross(up, np.array([0.0, 0.0, 1.0]))
    right /= np.linalg.norm(right)
    return np.stack([right, up, np.cross(right, up)])


def lock_feet(root: np.ndarray, poses: np.ndarray, contacts: np.ndarray, fps: float, time_constant_s: float):
    """World root (T, 3) whose horizontal motion keeps planted ankles still, drawn towards `root` over time.

    Between two frames where a foot is in contact in both, the root moves by its own step minus the mean slip
    of those feet; otherwise by its own step. A complementary filter (gain 1 / (fps * time constant)) pulls
    the result back to the image-based path, so that errors of the legs' stride do not accumulate.
    """
    gain = min(1.0, 1.0 / max(fps * time_constant_s, 1.0))
    ankles = poses[:, list(ANKLES)] + root[:, None]  # (T, 2, 3)
    out = root.copy()
    for t in range(1, len(root)):
        step = root[t] - root[t - 1]
        planted = contacts[t] & contacts[t - 1]
        if planted.any():
            slip = (ankles[t, planted] - ankles[t - 1, planted]).mean(axis=0)
            step = step - slip * np.array([1.0, 0.0, 1.0])
        guess = out[t - 1] + step
        out[t, [0, 2]] = guess[[0, 2]] + gain * (root[t, [0, 2]] - guess[[0, 2]])
    return out


def foot_sliding(poses: np.ndarray, contacts: np.ndarray) -> float:
    """Mean horizontal path (metres) an ankle travels during one contact (runs of 2+ frames); NaN if none."""
    paths = []
    for foot, ankle in enumerate(ANKLES):
        steps = np.linalg.norm(np.diff(poses[:, ankle, :][:, [0, 2]], axis=0), axis=-1)
        both = contacts[1:, foot] & contacts[:-1, foot]
        run = 0.0
        for t, inside in enumerate(both):
            if inside:
                run += steps[t]
            if run > 0 and (not inside or t == len(both) - 1):
                paths.append(run)
                run = 0.0
    return float(np.mean(paths)) if paths else float("nan")


def camera_rotations(pose2d: Pose2DSequence) -> np.ndarray:
    """(T, 3, 3) each frame's camera axes -> the first video frame's (identity for a still camera)."""
    camera: CameraMotion | None = pose2d.camera
    return np.tile(np.eye(3), (len(pose2d), 1, 1)) if camera is None else camera.rotations


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> float:
    """The angle between two unit vectors, degrees."""
    return float(np.degrees(np.arccos(np.clip(a @ b, -1.0, 1.0))))


def scene_up(scene: SceneGeometry | None, prior: np.ndarray, config: WorldConfig) -> np.ndarray | None:
    """The scene's up where the method trusts it: always for "scene"; for "auto" only when confident enough and
    near the body prior (a wrong vanishing point or a tilted building is caught here); never otherwise."""
    if scene is None or scene.up is None or config.method not in ("auto", "scene"):
        return None
    if config.method == "scene":
        return scene.up
    agrees = angle_between_deg(scene.up, prior) <= config.max_scene_body_deg
    return scene.up if scene.confidence >= config.min_scene_confidence and agrees else None


def ground_height(
    absolute: np.ndarray, pose2d: Pose2DSequence, up: np.ndarray, focal: float, principal: np.ndarray,
    rotations: np.ndarray, config: WorldConfig,
) -> tuple[float, np.ndarray, np.ndarray]:
    """With up known (from the scene): the ground's height along it, the median sole height of the contacts,
    contacts and ground re-estimated `refinements` times; (height, sole heights (T, 2), soles (T, 2, 3))."""
    heights, soles = sole_points(absolute, pose2d, up, focal, principal, config, rotations)
    ground = float(np.percentile(heights.min(axis=1), 10))
    speeds = foot_speeds(absolute[:, list(ANKLES)], up, pose2d.fps)
    for _ in range(config.refinements):
        contacts = detect_contacts(heights - ground, speeds, config)
        if contacts.sum() < config.min_contacts:
            break
        ground = float(np.median(heights[contacts]))
    return ground, heights, soles


def world_motion(pose3d: Pose3DSequence, pose2d: Pose2DSequence, config: WorldConfig | None = None) -> WorldMotion:
    """The world frame of one lifted person (see the module doc); `pose2d` is the sequence that was lifted."""
    config = config or WorldConfig()
    fps = pose3d.fps
    fov, focal, focal_source = chosen_focal(pose2d, config.fov_deg)
    principal = np.array([pose2d.width / 2, pose2d.height / 2])
    views = camera_rotations(pose2d)
    own_poses = pose3d.poses.astype(np.float64)
    if config.ray_correction:  # step 0: from the pelvis' ray into the camera's axes
        pelvis_pixels = pose2d.keypoints[:, JOINT_INDEX["pelvis"]].astype(np.float64)
        own_poses = np.einsum("tij,tkj->tki", ray_rotations(pelvis_pixels, focal, principal), own_poses)
    # every frame turned into the reference axes (step 0): poses, then the root found in the frame's own axes
    poses = np.einsum("tij,tkj->tki", views, own_poses)
    root = root_translation(own_poses, pose2d.keypoints, pose2d.scores, focal, principal)
    root = smooth_trajectory(np.einsum("tij,tj->ti", views, root), fps, config)
    absolute = poses + root[:, None]
    ankles = absolute[:, list(ANKLES)]

    prior = body_up(poses)
    trusted = scene_up(pose2d.scene, prior, config)
    method = "scene" if trusted is not None else {"auto": "ground", "scene": "ground"}.get(config.method, config.method)
    up = {"upright": np.array([0.0, -1.0, 0.0]), "body": prior, "ground": prior, "scene": trusted}[method]
    spread, supporting, check = float("nan"), 0, float("nan")
    if method == "scene":
        ground, heights, soles = ground_height(absolute, pose2d, up, focal, principal, views, config)
        contacts = detect_contacts(heights - ground, foot_speeds(ankles, up, fps), config)
        if contacts.sum() >= config.min_contacts:
            plane = ransac_ground(soles[contacts], up, config, np.random.default_rng(config.seed))
            if plane is not None:
                check = angle_between_deg(plane[0], up)
    else:
        heights, soles = sole_points(absolute, pose2d, up, focal, principal, config, views)
        ground = float(np.percentile(heights.min(axis=1), 10))
    if method == "ground":
        rng = np.random.default_rng(config.seed)
        for _ in range(config.refinements):
            contacts = detect_contacts(heights - ground, foot_speeds(ankles, up, fps), config)
            points = soles[contacts]
            if len(points) < config.min_contacts:
                break
            plane = ransac_ground(points, prior, config, rng)
            if plane is None:
                break
            up, ground, inliers = plane
            spread, supporting = float(np.sqrt(np.mean((points[inliers] @ up - ground) ** 2))), int(inliers.sum())
            heights, soles = sole_points(absolute, pose2d, up, focal, principal, config, views)
        if not supporting:
            method = "body"
    rotation = world_rotation(up)
    pelvis = absolute[0, JOINT_INDEX["pelvis"]]
    origin = pelvis - (pelvis @ up - ground) * up
    world_root = (root - origin) @ rotation.T
    relative = poses @ rotation.T
    contacts = detect_contacts(heights - ground, foot_speeds(ankles, up, fps), config)
    if config.foot_lock:
        world_root = lock_feet(world_root, relative, contacts, fps, config.lock_time_constant_s)
    feet = foot_points(absolute, pose2d, up, focal, principal, views, config)
    if feet is not None:
        feet = (feet - root[:, None]) @ rotation.T + world_root[:, None]
    if method != "ground":
        contact_heights = (heights - ground)[contacts]
        spread = float(np.sqrt(np.mean(contact_heights**2))) if len(contact_heights) else float("nan")
    camera, scene = pose2d.camera, pose2d.scene
    return WorldMotion(
        poses=(relative + world_root[:, None]).astype(np.float32),
        root=world_root.astype(np.float32),
        contacts=contacts,
        rotation=rotation,
        origin=origin,
        up_camera=up,
        camera_height_m=float(-ground),
        spread_m=spread,
        num_contacts=supporting,
        method=method,
        fov_deg=fov,
        focal_px=focal,
        fps=fps,
        camera_rotations=np.einsum("ij,tjk->tik", rotation, views),
        focal_source=focal_source,
        scene_confidence=0.0 if scene is None else float(scene.confidence),
        check_deg=check,
        scene_body_deg=float("nan") if scene is None or scene.up is None else angle_between_deg(scene.up, prior),
        camera_max_angle_deg=0.0 if camera is None else float(camera.angles_deg().max()),
        camera_translating=bool(camera is not None and camera.translating),
        feet=None if feet is None else feet.astype(np.float32),
    )
