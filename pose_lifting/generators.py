"""Batches of (2D window, 3D target pose) training pairs: from 3D mocap with virtual cameras, or from pairs
of 2D keypoints and 3D poses that a dataset ships already projected (Human3.6M).

Every window is a dense receptive field of frames around its target frame, the centre (or, for a causal lifter,
ending at it: `sampling.Target`); edges repeat the first or last frame, as at inference. `WindowSampler` (mocap)
augments with what in-the-wild video brings: new motion (limbs mixed between windows, joint-angle offsets, tilted
bodies: motion_augment.py), time-warp (speed), limb-length scaling (body proportions), random cameras (camera.py),
2D errors, horizontal flips.
The 2D errors are independent Gaussian noise with a few outlier joints (`gaussian_noise`), the
structured errors of a real keypoint detector (`detector_errors`, `DetectorNoiseConfig`: steady per-joint
bias that drifts slowly, joint-definition offsets, jitter, outliers, brief left/right swaps, missing joints;
sized to YOLO11n-pose), the same kinds of error sized to the app's top-down BlazePose stage
(`BlazePoseNoiseConfig`), or a mix, drawn per window (`AugmentConfig.detector_fraction`, `blazepose_fraction`).
`PairSampler` (given pairs) only flips, the paper's pose-level augmentation. Held-out views with fixed cameras
are made in datasets.py, with the same error models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, get_args

import numpy as np

from pose_lifting.camera import CameraConfig, Cameras, random_cameras
from pose_lifting.motion_augment import MotionAugmentConfig, augment_motion
from pose_lifting.sampling import Target, target_index, window_offsets
from pose_lifting.skeleton import (
    BONES,
    FLIP_PERMUTATION,
    JOINT_INDEX,
    JOINT_NAMES,
    LEFT_JOINTS,
    RIGHT_JOINTS,
    complete_torso,
    root_relative,
)

NoiseModel = Literal["gaussian", "detector", "blazepose", "mix"]
NOISE_MODELS = get_args(NoiseModel)
TORSO_JOINTS = tuple(JOINT_INDEX[name] for name in ("pelvis", "spine", "thorax"))  # derived, as detector/remap.py
MEAN_LENGTH_PER_SIGMA = float(np.sqrt(np.pi / 2))  # mean length of a 2D error vector with N(0, sigma^2) per axis


def _default_joint_bias() -> dict[str, float]:
    # YOLO11n-pose on the held-back clip: head 6-15 %, ankles 4-11 % against a 3.5 % mean (issue 17)
    return {
        "head": 3.0,
        "neck_nose": 1.3,
        "left_ankle": 2.2,
        "right_ankle": 2.2,
        "left_wrist": 1.4,
        "right_wrist": 1.4,
        "left_knee": 1.1,
        "right_knee": 1.1,
    }


@dataclass
class DetectorNoiseConfig:
    """2D errors like a real keypoint detector's. Every size is a fraction of the subject's 2D size (the window's
    mean per-frame bounding-box long side: a standing person's height) and means the mean length of the 2D error
    vector; rates and durations are per second and in seconds (`fps` converts them to frames).

    Defaults at strength 1 are sized to YOLO11n-pose as measured on the project's held-back real clip (a 3D
    reference kept outside the project; issue 17): 5.0 % mean error, 3.5 % of it a bias steady over the clip
    (head 6-15 %, ankles 4-11 %). BlazePose heavy measured 3.2 % (2.7 % bias, 0.4 % frame-to-frame jitter),
    about strength 0.65. `python -m scripts.detector_noise_stats` prints what these defaults produce. The
    disagreement between YOLO and BlazePose on our own clips (issue 12's top-down stage) can refine them.
    """

    strength: tuple[float, float] = (0.0, 1.5)  # per-window factor on every size and rate: clean 2D to 1.5x YOLO
    bias: float = 0.025  # steady per-joint offset (x `joint_bias`); with the hip offsets: YOLO's 3.5 % steady part
    joint_bias: dict[str, float] = field(default_factory=_default_joint_bias)  # per-joint factors, 1 if absent
    drift: float = 0.028  # slowly moving part of the bias (AR(1) process) ...
    drift_seconds: float = 1.0  # ... with this correlation time: the non-steady part YOLO's 5.0 - 3.5 % leaves
    hip_widening: float = 0.4  # COCO hips are marked on the outside of the hips: the 2D hip distance grows by this
    head_along_neck: float = 0.15  # the head top is extrapolated from the face: error along thorax->head, x length
    jitter: float = 0.016  # white per-frame noise; BlazePose heavy 0.4 %, YOLO's not measured apart from drift
    outlier_rate: float = 0.015  # fraction of joints and frames far off ...
    outlier: float = 0.12  # ... by this mean length
    swap_rate: float = 0.1  # per second and limb (knee + ankle, elbow + wrist): left and right swap ...
    swap_seconds: float = 0.15  # ... for up to this long
    missing_rate: float = 0.05  # per second and joint: undetected, interpolated over time as detector/gaps.py ...
    missing_seconds: float = 0.3  # ... for up to this long
    detected_score: tuple[float, float] = (0.6, 1.0)  # scores of correctly detected joints
    doubtful_score: tuple[float, float] = (0.3, 0.6)  # of outliers and swapped joints
    missing_score: tuple[float, float] = (0.0, 0.3)  # below the detector's keypoint threshold (0.3)

    joint_jitter: dict[str, float] = field(default_factory=dict)  # per-joint factors on `jitter`, 1 if absent

    def scaled(self, strength: float) -> DetectorNoiseConfig:
        """The same errors at one fixed strength (held-out views)."""
        return replace(self, strength=(strength, strength))


def _blazepose_joint_bias() -> dict[str, float]:
    # half uniform, half the pattern of BlazePose's own steady error on our real clip (scripts.blazepose_profile:
    # heavy's and full's three-cornered-hat estimates, left and right averaged, over their mean): ankles and knees
    # most, then elbows, wrists; head, shoulders and hips least; not YOLO's head-and-ankles pattern
    return {
        "left_ankle": 1.8, "right_ankle": 1.8,
        "left_knee": 1.2, "right_knee": 1.2,
        "left_elbow": 1.0, "right_elbow": 1.0,
        "left_wrist": 0.8, "right_wrist": 0.8,
        "head": 0.75, "neck_nose": 0.7,
        "left_shoulder": 0.7, "right_shoulder": 0.7,
        "left_hip": 0.6, "right_hip": 0.6,
    }  # fmt: skip


def _blazepose_joint_jitter() -> dict[str, float]:
    # BlazePose heavy's own frame-to-frame jitter per joint on our real clip over its mean (scripts.blazepose_profile)
    return {
        "left_ankle": 2.1, "right_ankle": 2.1,
        "left_knee": 1.4, "right_knee": 1.4,
        "left_hip": 1.2, "right_hip": 1.2,
        "left_wrist": 0.95, "right_wrist": 0.95,
        "left_shoulder": 0.8, "right_shoulder": 0.8,
        "left_elbow": 0.65, "right_elbow": 0.65,
        "head": 0.55, "neck_nose": 0.3,
    }  # fmt: skip


@dataclass
class BlazePoseNoiseConfig(DetectorNoiseConfig):
    """2D errors like the app's top-down BlazePose stage's (`detector/topdown.py`): the same kinds of error as
    `DetectorNoiseConfig` (`detector_errors` draws them), sized differently. At strength 1: BlazePose heavy on the
    project's held-back real clip (issue 27: 3.2 % of the body's 2D size on average, 2.7 % of it a steady
    per-joint bias, about 0.4 % frame-to-frame jitter); what the defaults produce on the held-out mocap is in
    docs/noise.md (`python -m scripts.detector_noise_stats --profile blazepose`). Which joints err most, and
    which jitter most, follow what BlazePose's own error is on our real clip, estimated from how heavy, full, lite
    and YOLO disagree (`python -m scripts.blazepose_profile`): a top-down model that sees the crop at 256 px
    is steady, and errs most at the feet and knees. The joint-definition offsets are YOLO's: on our clip YOLO
    and heavy differ by only 1 % steadily, so both put the hips and the head where COCO's keypoints are.
    """

    strength: tuple[float, float] = (0.0, 1.5)  # 1 = heavy; full's larger own error on our clip: about 1.06
    bias: float = 0.026  # steady per-joint offset (x `joint_bias`): with the hip and head offsets, heavy's 2.7 %
    joint_bias: dict[str, float] = field(default_factory=_blazepose_joint_bias)
    drift: float = 0.018  # slowly moving part: what heavy's 3.2 % mean leaves after its 2.7 % steady part ...
    drift_seconds: float = 2.0  # ... slow enough to keep the frame-to-frame jitter at heavy's 0.4 %
    jitter: float = 0.003  # white per-frame noise (x `joint_jitter`): with the drift's steps, heavy's 0.4 %
    joint_jitter: dict[str, float] = field(default_factory=_blazepose_joint_jitter)
    outlier_rate: float = 0.003  # rare far-off points: the crop follows the body, a landmark seldom jumps
    outlier: float = 0.08
    swap_rate: float = 0.03  # heavy swapped no limbs on our clips, full a few frames: rare
    missing_rate: float = 0.02  # a failed crop keeps YOLO's keypoints (counted as a warning), seldom a gap


@dataclass
class AugmentConfig:
    """Training augmentation ranges."""

    speed: tuple[float, float] = (0.7, 1.4)  # time-warp factor
    limb_scale: tuple[float, float] = (0.85, 1.15)  # per bone pair, same factor left and right
    noise: NoiseModel = "gaussian"  # 2D errors: independent "gaussian" noise, a "detector"'s (YOLO-like), a
    # "blazepose" stage's, or a "mix": each window one of them, in the shares below
    detector_fraction: float = 0.5  # mix: share of windows with a detector's errors, the others get gaussian noise
    blazepose_fraction: float = 0.0  # mix: share of windows with BlazePose's errors (taken from the gaussian share)
    noise_px: tuple[float, float] = (2.0, 4.0)  # gaussian: 2D noise, standard deviation in pixels
    outlier_fraction: float = 0.02  # gaussian: joints that get a large error
    outlier_scale: float = 0.05  # ... of the subject's 2D size
    detector: DetectorNoiseConfig = field(default_factory=DetectorNoiseConfig)
    blazepose: BlazePoseNoiseConfig = field(default_factory=BlazePoseNoiseConfig)
    flip: float = 0.5
    camera: CameraConfig = field(default_factory=CameraConfig)
    # new motion from the mocap (motion_augment.py): shares of windows with limbs from another window, with
    # joint-angle offsets, tilted away from upright; 0 keeps the random streams of runs without them
    limb_mix: float = 0.0
    angle_offset: float = 0.0
    orientation: float = 0.0
    motion: MotionAugmentConfig = field(default_factory=MotionAugmentConfig)

    def __post_init__(self) -> None:
        if self.noise not in NOISE_MODELS:
            raise ValueError(f"noise must be one of {NOISE_MODELS}, got {self.noise!r}")
        if not 0 <= self.detector_fraction <= 1:
            raise ValueError(f"detector_fraction must be in [0, 1], got {self.detector_fraction}")
        if not 0 <= self.blazepose_fraction <= 1 - self.detector_fraction:
            raise ValueError(
                f"blazepose_fraction must be in [0, 1 - detector_fraction], got {self.blazepose_fraction}"
            )


@dataclass
class Batch:
    """Dense 2D windows in pixels with their images' sizes, and the target frames' 3D poses."""

    windows: np.ndarray  # (B, f, J, 2) pixels
    width: np.ndarray  # (B,)
    height: np.ndarray  # (B,)
    target: np.ndarray  # (B, J, 3) camera coordinates, metres, pelvis at the origin
    scores: np.ndarray | None = None  # (B, f, J) the 2D's scores: the detector models' own, 1 elsewhere


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

    def __init__(
        self,
        sequences: Sequence[np.ndarray],
        receptive_field: int,
        augment: AugmentConfig,
        seed: int = 0,
        fps: float = 30.0,
        target: Target = "centre",
    ):
        if not sequences:
            raise ValueError("no training sequences")
        self.frames = np.concatenate(sequences).astype(np.float32)
        self.lengths = np.array([len(s) for s in sequences])
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]])
        self.offsets = window_offsets(receptive_field, 1, target).astype(np.float64)
        self.target_index = target_index(receptive_field, target)
        self.augment = augment
        self.fps = fps
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.frames)

    def windows_3d(self, batch_size: int) -> np.ndarray:
        """(B, f, J, 3) world windows around random target frames, time-warped, linearly interpolated."""
        rng = self.rng
        seq = rng.choice(len(self.lengths), size=batch_size, p=self.lengths / self.lengths.sum())
        target = rng.uniform(0, self.lengths[seq] - 1)
        speed = rng.uniform(*self.augment.speed, size=batch_size)
        times = np.clip(target[:, None] + speed[:, None] * self.offsets[None], 0, (self.lengths[seq] - 1)[:, None])
        low = np.floor(times).astype(np.int64)
        high = np.minimum(low + 1, (self.lengths[seq] - 1)[:, None])
        weight = (times - low)[..., None, None].astype(np.float32)
        base = self.starts[seq][:, None]
        return self.frames[base + low] * (1 - weight) + self.frames[base + high] * weight

    def augmented_windows_3d(self, batch_size: int) -> np.ndarray:
        """(B, f, J, 3) world windows with the pose and motion augmentation and limb-length scaling."""
        rng, aug = self.rng, self.augment
        world = self.windows_3d(batch_size)
        if aug.limb_mix or aug.angle_offset or aug.orientation:
            donors = self.windows_3d(batch_size) if aug.limb_mix else None
            world = augment_motion(world, donors, rng, aug.motion, aug.limb_mix, aug.angle_offset, aug.orientation)
        return scale_limbs(world, random_bone_scale(rng, batch_size, aug.limb_scale))

    def sample(self, batch_size: int) -> Batch:
        rng, aug = self.rng, self.augment
        world = self.augmented_windows_3d(batch_size)
        cameras = random_cameras(world[:, self.target_index, JOINT_INDEX["pelvis"]], rng, aug.camera)
        batch = project_windows(world, cameras, self.target_index)
        if aug.noise == "mix":
            share = rng.random(batch_size)
            detected = share < aug.detector_fraction
            blazepose = ~detected & (share < aug.detector_fraction + aug.blazepose_fraction)
        else:
            detected = np.full(batch_size, aug.noise == "detector")
            blazepose = np.full(batch_size, aug.noise == "blazepose")
        batch.scores = np.ones(batch.windows.shape[:3], dtype=np.float32)  # exact or Gaussian: sure of every joint
        for chosen, config in ((detected, aug.detector), (blazepose, aug.blazepose)):
            if chosen.any():
                noisy, scores = detector_errors(batch.windows[chosen], rng, config, self.fps)
                batch.windows[chosen], batch.scores[chosen] = noisy, scores
        gaussian = ~(detected | blazepose)
        if gaussian.any():
            batch.windows[gaussian] += gaussian_noise(batch.windows[gaussian], rng, aug)
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
        target: Target = "centre",
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
        self.offsets = window_offsets(receptive_field, 1, target)
        self.flip = flip
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.keypoints)

    def sample(self, batch_size: int) -> Batch:
        target = self.rng.integers(len(self), size=batch_size)
        seq = self.sequence_of_frame[target]
        first, last = self.starts[seq, None], (self.starts[seq] + self.lengths[seq] - 1)[:, None]
        frames = np.clip(target[:, None] + self.offsets[None], first, last)  # edges repeat, as at inference
        size = self.sizes[seq]
        batch = Batch(self.keypoints[frames], size[:, 0].copy(), size[:, 1].copy(), root_relative(self.poses[target]))
        return flip_batch(batch, self.rng.random(batch_size) < self.flip)


def flip_batch(batch: Batch, flip: np.ndarray) -> Batch:
    """Mirror the chosen (B,) samples in place: 2D left-right in their images, 3D x -> -x, left and right swap."""
    batch.windows[flip] = mirror_pixels(batch.windows[flip], batch.width[flip])
    if batch.scores is not None:
        batch.scores[flip] = batch.scores[flip][:, :, list(FLIP_PERMUTATION)]
    batch.target[flip] = batch.target[flip][:, list(FLIP_PERMUTATION)] * np.array([-1.0, 1.0, 1.0], np.float32)
    return batch


def project_windows(world: np.ndarray, cameras: Cameras, target_frame: int | None = None) -> Batch:
    """Project (B, f, J, 3) world windows; the target is frame `target_frame` (default: the centre) in camera
    axes, pelvis at 0."""
    camera_points = cameras.to_camera(world)
    target = root_relative(camera_points[:, world.shape[1] // 2 if target_frame is None else target_frame])
    pixels = cameras.project(camera_points)
    return Batch(
        pixels.astype(np.float32),
        cameras.width.astype(np.float32),
        cameras.height.astype(np.float32),
        target.astype(np.float32),
    )


def subject_size(windows: np.ndarray) -> np.ndarray:
    """(B,) the subject's 2D size in (B, f, J, 2) windows: the mean over frames of the bounding box's long side."""
    by_joint = np.ascontiguousarray(np.moveaxis(windows, 2, -1))  # (B, f, 2, J): reductions over J run 5x faster
    return (by_joint.max(axis=-1) - by_joint.min(axis=-1)).max(axis=-1).mean(axis=1)


def gaussian_noise(windows: np.ndarray, rng: np.random.Generator, aug: AugmentConfig) -> np.ndarray:
    """Independent noise: Gaussian jitter in pixels everywhere, and a few joints far off. (B, f, J, 2) float32."""
    sigma = rng.uniform(*aug.noise_px, size=(len(windows), 1, 1, 1)).astype(np.float32)
    noise = rng.standard_normal(size=windows.shape, dtype=np.float32) * sigma
    size = subject_size(windows)
    outliers = np.nonzero(rng.random(windows.shape[:3]) < aug.outlier_fraction)  # (window, frame, joint) indices
    scale = (aug.outlier_scale * size[outliers[0]]).astype(np.float32)[:, None]
    noise[outliers] += rng.standard_normal(size=(len(outliers[0]), 2), dtype=np.float32) * scale
    return noise


def random_events(
    rng: np.random.Generator, shape: tuple[int, int, int], probability: np.ndarray, max_frames: int
) -> np.ndarray:
    """(B, f, K) mask of events that start at a frame with (B, 1, 1) `probability` and last 1..max_frames frames."""
    starts = rng.random(shape) < probability
    length = rng.integers(1, max(1, max_frames) + 1, size=shape)
    mask = np.zeros(shape, dtype=bool)
    # frame t is covered by an event that started `offset` frames earlier (never more frames back than there are)
    for offset in range(min(max(1, max_frames), shape[1])):
        mask[:, offset:] |= (starts & (length > offset))[:, : shape[1] - offset]
    return mask


def fill_missing(windows: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Replace unobserved (B, f, J) points of (B, f, J, 2) windows by linear interpolation over time between the
    nearest observed frames, holding the first / last observed value at the edges (as detector/gaps.py does)."""
    frames = windows.shape[1]
    index = np.arange(frames)[None, :, None]
    previous = np.maximum.accumulate(np.where(observed, index, -1), axis=1)
    following = np.flip(np.minimum.accumulate(np.flip(np.where(observed, index, frames), axis=1), axis=1), axis=1)
    has_previous, has_following = previous >= 0, following < frames
    low = np.where(has_previous, previous, following).clip(0, frames - 1)
    high = np.where(has_following, following, previous).clip(0, frames - 1)
    weight = np.where(high > low, (index - low) / np.maximum(high - low, 1), 0.0)[..., None]
    b, j = np.arange(len(windows))[:, None, None], np.arange(windows.shape[2])[None, None, :]
    filled = windows[b, low, j] * (1 - weight) + windows[b, high, j] * weight
    keep = observed | ~(has_previous | has_following)  # a joint never observed in the window stays as it is
    return np.where(keep[..., None], windows, filled).astype(np.float32)


def detector_errors(
    windows: np.ndarray, rng: np.random.Generator, config: DetectorNoiseConfig, fps: float = 30.0
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (B, f, J, 2) pixel windows as a keypoint detector would report them, and its (B, f, J) scores.

    Each window gets a strength in `config.strength` that scales every size and rate. The errors, in this order:
    joint-definition offsets (hips wider, head top along the neck), a steady per-joint bias plus a slow AR(1)
    drift, white jitter, outliers, brief left/right limb swaps; then missing joints are interpolated over time and
    the torso joints are rebuilt from the hips and shoulders (`skeleton.complete_torso`), as the detector's remap
    does. Deterministic for a given `rng` state.
    """
    batch, frames, joints, _ = windows.shape
    j = JOINT_INDEX
    strength = rng.uniform(*config.strength, size=(batch, 1, 1, 1))
    scale = strength * subject_size(windows)[:, None, None, None]  # (B, 1, 1, 1) pixels per unit of size
    out = windows.astype(np.float64)

    hip_vector = out[:, :, j["left_hip"]] - out[:, :, j["right_hip"]]
    out[:, :, j["left_hip"]] += 0.5 * config.hip_widening * strength[:, :, 0] * hip_vector
    out[:, :, j["right_hip"]] -= 0.5 * config.hip_widening * strength[:, :, 0] * hip_vector
    neck = out[:, :, j["head"]] - out[:, :, j["thorax"]]
    along = rng.standard_normal((batch, 1, 1)) * config.head_along_neck * strength[:, :, 0]
    out[:, :, j["head"]] += along * neck

    factor = np.array([config.joint_bias.get(name, 1.0) for name in JOINT_NAMES])[None, None, :, None]
    sigma = scale / MEAN_LENGTH_PER_SIGMA
    out += rng.standard_normal((batch, 1, joints, 2)) * sigma * config.bias * factor
    rho = np.exp(-1.0 / max(config.drift_seconds * fps, 1e-6))
    drift = rng.standard_normal((batch, joints, 2))
    innovations = rng.standard_normal((batch, frames, joints, 2)) * np.sqrt(1 - rho**2)
    for t in range(frames):
        drift = drift if t == 0 else rho * drift + innovations[:, t]
        out[:, t] += drift * sigma[:, 0] * config.drift
    jitter_factor = np.array([config.joint_jitter.get(name, 1.0) for name in JOINT_NAMES])[None, None, :, None]
    out += rng.standard_normal(out.shape) * sigma * config.jitter * jitter_factor

    outlier = rng.random((batch, frames, joints)) < config.outlier_rate * strength[..., 0]
    outlier_sigma = (sigma * config.outlier)[np.nonzero(outlier)[0], 0, 0]
    out[outlier] += rng.standard_normal((len(outlier_sigma), 2)) * outlier_sigma

    limbs = [(j[f"left_{a}"], j[f"right_{a}"]) for a in ("knee", "ankle", "elbow", "wrist")]
    limb_groups = ((0, 1), (2, 3))  # legs, arms
    swap_start = config.swap_rate / fps * strength[..., 0]
    swapped = random_events(rng, (batch, frames, len(limb_groups)), swap_start, round(config.swap_seconds * fps))
    doubtful = outlier.copy()
    for g, group in enumerate(limb_groups):
        for left, right in (limbs[i] for i in group):
            mask = swapped[:, :, g]
            out[mask, left], out[mask, right] = out[mask, right].copy(), out[mask, left].copy()
            doubtful[:, :, left] |= mask
            doubtful[:, :, right] |= mask

    missing = random_events(
        rng, (batch, frames, joints), config.missing_rate / fps * strength[..., 0], round(config.missing_seconds * fps)
    )
    missing[:, :, list(TORSO_JOINTS)] = False
    out = fill_missing(out, ~missing)
    complete_torso(out)

    scores = rng.uniform(*config.detected_score, size=(batch, frames, joints))
    scores = np.where(doubtful, rng.uniform(*config.doubtful_score, size=scores.shape), scores)
    scores = np.where(missing, rng.uniform(*config.missing_score, size=scores.shape), scores)
    scores[..., j["pelvis"]] = scores[..., [j["left_hip"], j["right_hip"]]].min(axis=-1)
    scores[..., j["thorax"]] = scores[..., [j["left_shoulder"], j["right_shoulder"]]].min(axis=-1)
    scores[..., j["spine"]] = np.minimum(scores[..., j["pelvis"]], scores[..., j["thorax"]])
    return out.astype(np.float32), scores.astype(np.float32)


def mirror_pixels(windows: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Mirror pixel windows (B, f, J, 2) left-right in images of the given widths, swapping left and right joints."""
    mirrored = windows[:, :, list(FLIP_PERMUTATION)].copy()
    mirrored[..., 0] = width[:, None, None] - mirrored[..., 0]
    return mirrored
