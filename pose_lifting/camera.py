"""Virtual pinhole cameras: place a camera around a subject in a Y-up world and project to pixels.

Camera axes follow OpenCV (x right, y down, z forward), so projected y grows downwards as in images.
The defaults mirror Human3.6M's cameras (focal ~1145 px, ~1000 x 1000 px images, 3.5-7 m away); training
widens every range so that phone videos (portrait, wide or long lenses, tilted) are covered too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ASPECTS = (16 / 9, 9 / 16, 4 / 3, 3 / 4, 1.0)  # width / height of the virtual images


@dataclass
class CameraConfig:
    """Ranges that random training cameras are drawn from (degrees, metres, fractions of image width)."""

    image_long_side: float = 1000.0
    yaw: tuple[float, float] = (0.0, 360.0)
    pitch: tuple[float, float] = (-15.0, 35.0)  # positive looks down on the subject
    roll: tuple[float, float] = (-10.0, 10.0)
    distance: tuple[float, float] = (3.5, 7.0)
    focal: tuple[float, float] = (0.6, 2.0)  # focal length / image width
    principal_jitter: float = 0.05  # principal point offset, fraction of the image size
    aim_jitter: float = 0.5  # metres the aim point strays from the pelvis, so people are not always centred


@dataclass
class Cameras:
    """A batch of cameras: world->camera rotations and centres, intrinsics, image sizes."""

    rotation: np.ndarray  # (B, 3, 3) world -> camera
    centre: np.ndarray  # (B, 3) camera position in the world
    focal: np.ndarray  # (B,) pixels
    principal: np.ndarray  # (B, 2) pixels
    width: np.ndarray  # (B,)
    height: np.ndarray  # (B,)

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (B, ..., 3) -> camera coordinates (B, ..., 3), in the points' precision."""
        shape, dtype = points.shape, points.dtype
        flat = points.reshape(shape[0], -1, 3) - self.centre[:, None].astype(dtype)
        return (flat @ self.rotation.transpose(0, 2, 1).astype(dtype)).reshape(shape)

    def project(self, points_camera: np.ndarray) -> np.ndarray:
        """Camera points (B, ..., 3) -> pixels (B, ..., 2) in the points' precision; depth is kept at least 10 cm."""
        dtype = points_camera.dtype
        depth = np.maximum(points_camera[..., 2:3], dtype.type(0.1))
        expand = (slice(None),) + (None,) * (points_camera.ndim - 2)
        focal, principal = self.focal.astype(dtype)[expand][..., None], self.principal.astype(dtype)[expand]
        return points_camera[..., :2] / depth * focal + principal


def rotation_yaw_pitch_roll(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """World (Y up) -> camera (x right, y down, z forward) rotations for cameras whose forward axis has
    the given heading `yaw` around the world Y axis, tilted down by `pitch`, rolled by `roll` (radians)."""
    forward = np.stack([np.sin(yaw) * np.cos(pitch), -np.sin(pitch), np.cos(yaw) * np.cos(pitch)], axis=-1)
    right = np.stack([-np.cos(yaw), np.zeros_like(yaw), np.sin(yaw)], axis=-1)  # forward x world up
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward], axis=-2)  # rows: camera axes in world coordinates
    cos, sin = np.cos(roll), np.sin(roll)
    zeros, ones = np.zeros_like(roll), np.ones_like(roll)
    roll_matrix = np.stack(
        [np.stack([cos, -sin, zeros], -1), np.stack([sin, cos, zeros], -1), np.stack([zeros, zeros, ones], -1)], -2
    )
    return roll_matrix @ rotation


def cameras_looking_at(
    target: np.ndarray,
    yaw: np.ndarray,
    pitch: np.ndarray,
    roll: np.ndarray,
    distance: np.ndarray,
    focal: np.ndarray,
    width: np.ndarray,
    height: np.ndarray,
    principal_offset: np.ndarray | None = None,
) -> Cameras:
    """Cameras `distance` metres from world points `target` (B, 3), looking at them."""
    rotation = rotation_yaw_pitch_roll(yaw, pitch, roll)
    centre = target - rotation[:, 2] * distance[:, None]
    principal = np.stack([width, height], axis=-1) / 2
    if principal_offset is not None:
        principal = principal + principal_offset * np.stack([width, height], axis=-1)
    return Cameras(rotation, centre, focal, principal, width, height)


def random_cameras(target: np.ndarray, rng: np.random.Generator, config: CameraConfig) -> Cameras:
    """Training cameras around world points `target` (B, 3), drawn from `config`'s ranges."""
    n = len(target)
    aspect = np.asarray(ASPECTS)[rng.integers(len(ASPECTS), size=n)]
    long_side = config.image_long_side
    width = np.where(aspect >= 1, long_side, long_side * aspect)
    height = np.where(aspect >= 1, long_side / aspect, long_side)
    aim = target + rng.normal(scale=config.aim_jitter / 2, size=(n, 3)).clip(-config.aim_jitter, config.aim_jitter)
    return cameras_looking_at(
        aim,
        yaw=np.radians(rng.uniform(*config.yaw, size=n)),
        pitch=np.radians(rng.uniform(*config.pitch, size=n)),
        roll=np.radians(rng.uniform(*config.roll, size=n)),
        distance=rng.uniform(*config.distance, size=n),
        focal=rng.uniform(*config.focal, size=n) * width,
        width=width,
        height=height,
        principal_offset=rng.uniform(-config.principal_jitter, config.principal_jitter, size=(n, 2)),
    )
