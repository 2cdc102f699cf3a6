"""Batches of (2D window, 3D centre pose) training pairs: from 3D mocap with virtual cameras, or from pairs
of 2D keypoints and 3D poses that a dataset ships already projected (Human3.6M).

Every window is a dense receptive field of frames around a centre frame (edges repeat the first or last
frame, as at inference). `WindowSampler` (mocap) augments with what in-the-wild video brings: time-warp
(speed), limb-length scaling (body proportions), random cameras (camera.py), 2D noise and outlier joints
like a detector's, horizontal flips. `PairSampler` (given pairs) only flips, the paper's pose-level
augmentation. Held-out views with fixed cameras are made in evaluate.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from pose_lifting.camera import CameraConfig, Cameras, random_cameras
from pose_lifting.sampling import window_offsets
from pose_lifting.skeleton import BONES, FLIP_PERMUTATION, JOINT_INDEX, LEFT_JOINTS, RIGHT_JOINTS, root_relative


@dataclass
class AugmentConfig:
    """Training augmentation ranges."""

    speed: tuple[float, float] = (0.7, 1.4)  # time-warp factor
    limb_scale: tuple[float, float] = (0.85, 1.15)  # per bone pair, same factor left and right
    noise_px: tuple[float, float] = (2.0, 4.0)  # Gaussian 2D noise, standard deviation in pixels
    outlier_fraction: float = 0.02  # joints that get a large error, like a detector's mistakes
    outlier_scale: float = 0.05  # ... of the subject's 2D size
    flip: float = 0.5
    camera: CameraConfig = field(default_factory=CameraConfig)


@dataclass
class Batch:
    """Dense 2D windows in pixels with their images' sizes, and the centre frames' 3D poses."""

    windows: np.ndarray  # (B, f, J, 2) pixels
    width: np.ndarray  # (B,)
    height: np.ndarray  # (B,)
    target: np.ndarray  # (B, J, 3) camera coordinates, metres, pelvis at the origin


class Sampler(Protocol):
    """What the training loop draws batches from; `rng` holds all of its randomness (saved to resume)."""

    rng: np.random.Generator

    def __len__(self) -> int: ...  # training frames

    def sample(self, batch_size: int) -> Batch: ...


def _bone_groups() -> list[list[int]]:
    """Indices into BONES, grouping each left bone with its right twin so both get the same scale."""
    twin = dict(zip(LEFT_JOINTS, RIGHT_JOINTS)) | dict(zip(RIGHT_JOINTS, LEFT_JOINTS))
    child_to_bone = {child: b for b, (_, child) in enumerate(BONES)}
    groups, seen = [], set()
    for b, (_, child) in enumerate(BONES):
        if b in seen:
            continue
        group = [b] + ([child_to_bone[twin[child]]] if child in twin else [])
        seen.update(group)
        groups.append(group)
    return groups


BONE_GROUPS = _bone_groups()


def random_bone_scale(rng: np.random.Generator, batch_size: int, limb_scale: tuple[float, float]) -> np.ndarray:
    """(B, 16) length factors, one per bone group: a left bone and its right twin always get the same one."""
    groups = rng.uniform(*limb_scale, size=(batch_size, len(BONE_GROUPS))).astype(np.float32)
    bone_scale = np.empty((batch_size, len(BONES)), dtype=np.float32)
    for g, bones in enumerate(BONE_GROUPS):
        bone_scale[:, bones] = groups[:, g : g + 1]
    return bone_scale


def scale_limbs(poses: np.ndarray, bone_scale: np.ndarray) -> np.ndarray:
    """Rebuild (B, f, J, 3) poses from the root with every bone's length multiplied by (B, 16) factors."""
    out = poses.copy()
    for b, (parent, child) in enumerate(BONES):  # BONES is ordered so that parents come first
        out[:, :, child] = out[:, :, parent] + (poses[:, :, child] - poses[:, :, parent]) * bone_scale[:, None, b, None]
    return out


class WindowSampler:
    """Random training windows from a set of 3D sequences (Y-up world, metres, one frame rate)."""

    def __init__(self, sequences: Sequence[np.ndarray], receptive_field: int, augment: AugmentConfig, seed: int = 0):
        if not sequences:
            raise ValueError("no training sequences")
        self.frames = np.concatenate(sequences).astype(np.float32)
        self.lengths = np.array([len(s) for s in sequences])
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]])
        self.offsets = window_offsets(receptive_field, 1).astype(np.float64)
        self.augment = augment
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.frames)

    def windows_3d(self, batch_size: int) -> np.ndarray:
        """(B, f, J, 3) world windows around random centre frames, time-warped, linearly interpolated."""
        rng = self.rng
        seq = rng.choice(len(self.lengths), size=batch_size, p=self.lengths / self.lengths.sum())
        centre = rng.uniform(0, self.lengths[seq] - 1)
        speed = rng.uniform(*self.augment.speed, size=batch_size)
        times = np.clip(centre[:, None] + speed[:, None] * self.offsets[None], 0, (self.lengths[seq] - 1)[:, None])
        low = np.floor(times).astype(np.int64)
        high = np.minimum(low + 1, (self.lengths[seq] - 1)[:, None])
        weight = (times - low)[..., None, None].astype(np.float32)
        base = self.starts[seq][:, None]
        return self.frames[base + low] * (1 - weight) + self.frames[base + high] * weight

    def sample(self, batch_size: int) -> Batch:
        rng, aug = self.rng, self.augment
        world = scale_limbs(self.windows_3d(batch_size), random_bone_scale(rng, batch_size, aug.limb_scale))
        centre = world.shape[1] // 2
        cameras = random_cameras(world[:, centre, JOINT_INDEX["pelvis"]], rng, aug.camera)
        batch = project_windows(world, cameras)
        batch.windows += add_detector_noise(batch.windows, rng, aug)
        return flip_batch(batch, rng.random(batch_size) < aug.flip)


class PairSampler:
    """Random training windows from sequences of matching 2D keypoints (pixels) and 3D poses (camera axes),
    every frame equally likely, with the paper's pose-level horizontal flip."""

    def __init__(
        self,
        keypoints: Sequence[np.ndarray],
        poses: Sequence[np.ndarray],
        sizes: Sequence[tuple[float, float]],
        receptive_field: int,
        flip: float = 0.5,
        seed: int = 0,
    ):
        if not keypoints:
            raise ValueError("no training sequences")
        if any(len(k) != len(p) for k, p in zip(keypoints, poses, strict=True)):
            raise ValueError("every 2D sequence needs a 3D sequence of the same length")
        self.keypoints = np.concatenate(keypoints).astype(np.float32)
        self.poses = np.concatenate(poses).astype(np.float32)
        self.lengths = np.array([len(k) for k in keypoints])
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]])
        self.sequence_of_frame = np.repeat(np.arange(len(self.lengths)), self.lengths)
        self.sizes = np.asarray(sizes, dtype=np.float32)  # (sequences, 2) image width, height
        self.offsets = window_offsets(receptive_field, 1)
        self.flip = flip
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.keypoints)

    def sample(self, batch_size: int) -> Batch:
        centre = self.rng.integers(len(self), size=batch_size)
        seq = self.sequence_of_frame[centre]
        first, last = self.starts[seq, None], (self.starts[seq] + self.lengths[seq] - 1)[:, None]
        frames = np.clip(centre[:, None] + self.offsets[None], first, last)  # edges repeat, as at inference
        size = self.sizes[seq]
        batch = Batch(self.keypoints[frames], size[:, 0].copy(), size[:, 1].copy(), root_relative(self.poses[centre]))
        return flip_batch(batch, self.rng.random(batch_size) < self.flip)


def flip_batch(batch: Batch, flip: np.ndarray) -> Batch:
    """Mirror the chosen (B,) samples in place: 2D left-right in their images, 3D x -> -x, left and right swap."""
    batch.windows[flip] = mirror_pixels(batch.windows[flip], batch.width[flip])
    batch.target[flip] = batch.target[flip][:, list(FLIP_PERMUTATION)] * np.array([-1.0, 1.0, 1.0], np.float32)
    return batch


def project_windows(world: np.ndarray, cameras: Cameras) -> Batch:
    """Project (B, f, J, 3) world windows; the target is the centre frame in camera axes, pelvis at 0."""
    camera_points = cameras.to_camera(world)
    target = root_relative(camera_points[:, world.shape[1] // 2])
    pixels = cameras.project(camera_points)
    return Batch(
        pixels.astype(np.float32),
        cameras.width.astype(np.float32),
        cameras.height.astype(np.float32),
        target.astype(np.float32),
    )


def add_detector_noise(windows: np.ndarray, rng: np.random.Generator, aug: AugmentConfig) -> np.ndarray:
    """Noise like a 2D detector's: Gaussian jitter everywhere, and a few joints far off. (B, f, J, 2) float32."""
    batch = len(windows)
    sigma = rng.uniform(*aug.noise_px, size=(batch, 1, 1, 1)).astype(np.float32)
    noise = rng.standard_normal(size=windows.shape, dtype=np.float32) * sigma
    by_joint = np.ascontiguousarray(np.moveaxis(windows, 2, -1))  # (B, f, 2, J): reductions over J run 5x faster
    size = (by_joint.max(axis=-1) - by_joint.min(axis=-1)).max(axis=-1).mean(axis=1)  # (B,) subject size
    outliers = np.nonzero(rng.random(windows.shape[:3]) < aug.outlier_fraction)  # (window, frame, joint) indices
    scale = (aug.outlier_scale * size[outliers[0]]).astype(np.float32)[:, None]
    noise[outliers] += rng.standard_normal(size=(len(outliers[0]), 2), dtype=np.float32) * scale
    return noise


def mirror_pixels(windows: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Mirror pixel windows (B, f, J, 2) left-right in images of the given widths, swapping left and right joints."""
    mirrored = windows[:, :, list(FLIP_PERMUTATION)].copy()
    mirrored[..., 0] = width[:, None, None] - mirrored[..., 0]
    return mirrored
