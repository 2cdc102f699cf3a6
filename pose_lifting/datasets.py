"""Where a lifter's training windows and held-out views come from: prepared mocap filmed by virtual cameras, or
Human3.6M in VideoPose3D's files (the paper's protocol).

Both sources give train.py a sampler of `Batch`es (generators.py), and train.py's per-epoch check and
evaluate.py the same held-out `View`s of whole sequences, so training and evaluation have one code path:

- "mocap": `<data_dir>/mocap` (see pose_lifting.data.mocap), 30 fps. Training windows through random virtual
  cameras with every augmentation of generators.py; held out: the `HELD_OUT` sequences through fixed static
  cameras, "h36m" (Human3.6M-like: 1000 x 1002 px, focal 1145 px, 5 m, four headings) and "phone" (portrait
  562 x 1000 px, focal 1.55 x width, closer, four headings), with exact 2D, independent Gaussian noise or a
  detector's structured errors at a fixed strength (generators.py; seeded). With `validation_share`, the last
  share of every training sequence is kept out of training as a validation set (`validation_views`), through the
  same static cameras, so that a run can choose among its epochs without looking at the held-out sequences.
- "h36m": the 2D keypoints of a `data_2d_h36m_<detections>.npz` (e.g. CPN's) paired with `data_3d_h36m.npz`
  in each camera's axes, 50 fps. Training on S1, S5, S6, S7, S8 with pose-level flips only; held out: every
  frame of S9 and S11 from the four cameras, grouped by action (VideoPose3D's names without the take number).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, get_args

import numpy as np

from pose_lifting.camera import Cameras, cameras_looking_at
from pose_lifting.cli_options import add_options, from_options
from pose_lifting.data.convert import MOCAP_FPS
from pose_lifting.data.h36m import DEFAULT_CAMERAS, TEST_SUBJECTS, TRAIN_SUBJECTS, H36MClip, iterate_clips
from pose_lifting.data.mocap import MocapSequence, load_mocap, split
from pose_lifting.generators import (
    AugmentConfig,
    PairSampler,
    Sampler,
    WindowSampler,
    detector_errors,
    gaussian_noise,
)
from pose_lifting.sampling import Target
from pose_lifting.skeleton import JOINT_INDEX, root_relative

Source = Literal["mocap", "h36m"]
SOURCES = get_args(Source)
# DataConfig fields of the evaluation only (evaluate.py's own options), not shared by the training command
EVALUATION_FIELDS = ("mocap_cameras", "mocap_noise", "mocap_noise_strength")
TRAINING_FIELDS = ("validation_share",)  # DataConfig fields of the training command only
# held-out 2D: exact, training's Gaussian noise, a detector's (YOLO-like), the top-down BlazePose stage's
HeldoutNoise = Literal["none", "gaussian", "detector", "blazepose"]
HELDOUT_NOISE = get_args(HeldoutNoise)
DEFAULT_NORMALIZATION = {"h36m": "screen"}  # VideoPose3D's, the paper's protocol; else InputConfig's default
H36M_FPS = 50.0

YAWS = (45.0, 135.0, 225.0, 315.0)
CAMERA_SETS = {
    # name: (width, height, focal / width, pitch deg, distance m beyond the subject's travel)
    "h36m": (1000.0, 1002.0, 1.145, 10.0, 5.0),
    "phone": (562.0, 1000.0, 1.55, 5.0, 3.5),
}


@dataclass
class DataConfig:
    """Which data a lifter trains and is evaluated on."""

    source: Source = "mocap"  # mocap or Human3.6M
    data_dir: str = "data"  # mocap: the prepared data folder
    h36m_3d: str | None = None  # h36m: VideoPose3D's data_3d_h36m.npz
    h36m_2d: str | None = None  # h36m: 2D keypoints, e.g. data_2d_h36m_cpn_ft_h36m_dbb.npz
    h36m_cameras: str = str(DEFAULT_CAMERAS)  # h36m: calibration JSON
    mocap_cameras: tuple[str, ...] = ("h36m",)  # mocap: camera sets of the held-out views
    mocap_noise: HeldoutNoise = "none"  # mocap: errors on the held-out 2D (fixed seed)
    mocap_noise_strength: float = 1.0  # mocap, "detector" / "blazepose": strength (1: YOLO11n-pose / BlazePose heavy)
    validation_share: float = 0.0  # mocap: the last share of every training sequence, for validation, not training
    # mocap: sources (sources.SOURCES keys) kept out of training whose sequences become the held-out views instead of
    # HELD_OUT's (which stay out of training too): the generalization benchmark's leave-one-source-out
    leave_out: tuple[str, ...] = ()
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        if not 0 <= self.validation_share < 1:
            raise ValueError(f"validation_share must be in [0, 1), got {self.validation_share}")


@dataclass
class View:
    """One held-out sequence seen by one fixed camera."""

    sequence: str
    source: str  # what results are broken down by: the mocap source, or the Human3.6M action
    camera: str
    pixels: np.ndarray  # (T, J, 2)
    target: np.ndarray  # (T, J, 3) camera axes, metres, pelvis at 0
    width: float
    height: float
    fps: float
    scores: np.ndarray | None = None  # (T, J) the detector's scores where the 2D has detector errors


class TrainingData(Protocol):
    """A data source: training windows and the held-out views."""

    fps: float  # every sequence's frame rate; a lifter trained on it resamples other videos to it

    def sampler(self, receptive_field: int, seed: int, target: Target = "centre") -> Sampler: ...

    def heldout_views(self) -> list[View]: ...

    def validation_views(self, noise: HeldoutNoise) -> list[View]: ...


def static_cameras(poses: np.ndarray, camera_set: str) -> Cameras:
    """Four static cameras around the sequence's mean pelvis, far enough to keep the whole motion in front."""
    width, height, focal, pitch, distance = CAMERA_SETS[camera_set]
    pelvis = poses[:, JOINT_INDEX["pelvis"]]
    travel = np.linalg.norm(pelvis[:, [0, 2]] - pelvis[:, [0, 2]].mean(axis=0), axis=1).max()
    n = len(YAWS)
    return cameras_looking_at(
        np.repeat(pelvis.mean(axis=0, keepdims=True), n, axis=0),
        yaw=np.radians(YAWS),
        pitch=np.full(n, np.radians(pitch)),
        roll=np.zeros(n),
        distance=np.full(n, distance + travel),
        focal=np.full(n, focal * width),
        width=np.full(n, width),
        height=np.full(n, height),
    )


def mocap_views(
    sequences: list[MocapSequence],
    camera_sets: tuple[str, ...] = ("h36m",),
    noise: HeldoutNoise = "none",
    strength: float = 1.0,
    augment: AugmentConfig | None = None,
) -> Iterator[View]:
    """Every held-out sequence through every camera of the chosen sets, with `noise` ("detector" / "blazepose" at
    `strength`, with the sizes of `augment.detector` / `augment.blazepose`), seeded."""
    if noise not in HELDOUT_NOISE:
        raise ValueError(f"noise must be one of {HELDOUT_NOISE}, got {noise!r}")
    augment = augment or AugmentConfig()
    rng = np.random.default_rng(0)
    for seq in sequences:
        for camera_set in camera_sets:
            cameras = static_cameras(seq.poses, camera_set)
            world = np.repeat(seq.poses[None].astype(np.float64), len(YAWS), axis=0)  # (C, T, J, 3)
            points = cameras.to_camera(world)
            pixels = cameras.project(points).astype(np.float32)  # (cameras, T, J, 2) as (B, f, J, 2)
            scores = None
            if noise == "gaussian":
                pixels += gaussian_noise(pixels, rng, augment)
            elif noise == "detector":
                pixels, scores = detector_errors(pixels, rng, augment.detector.scaled(strength), seq.fps)
            elif noise == "blazepose":
                pixels, scores = detector_errors(pixels, rng, augment.blazepose.scaled(strength), seq.fps)
            target = root_relative(points).astype(np.float32)
            for c in range(len(YAWS)):
                yield View(
                    seq.name,
                    seq.source,
                    f"{camera_set}{int(YAWS[c])}",
                    pixels[c],
                    target[c],
                    float(cameras.width[c]),
                    float(cameras.height[c]),
                    seq.fps,
                    None if scores is None else scores[c],
                )


class MocapData:
    """Prepared mocap: virtual cameras for training, static cameras for the held-out sequences."""

    def __init__(self, config: DataConfig):
        self.config = config
        sequences = load_mocap(config.data_dir)
        train, self.heldout_sequences = split(sequences)
        if config.leave_out:
            unknown = set(config.leave_out) - {s.source for s in sequences}
            if unknown:
                raise ValueError(f"no prepared mocap of the source(s) {sorted(unknown)} to leave out")
            train = [s for s in train if s.source not in config.leave_out]
            self.heldout_sequences = [s for s in sequences if s.source in config.leave_out]
        self.train_sequences, self.validation_sequences = split_validation(train, config.validation_share)
        self.fps = MOCAP_FPS

    def sampler(self, receptive_field: int, seed: int, target: Target = "centre") -> WindowSampler:
        poses = [s.poses for s in self.train_sequences]
        return WindowSampler(poses, receptive_field, self.config.augment, seed, self.fps, target)

    def heldout_views(self) -> list[View]:
        c = self.config
        return list(
            mocap_views(self.heldout_sequences, c.mocap_cameras, c.mocap_noise, c.mocap_noise_strength, c.augment)
        )

    def validation_views(self, noise: HeldoutNoise) -> list[View]:
        """The validation segments through the Human3.6M-like cameras with `noise` at strength 1 (empty without
        `validation_share`)."""
        return list(mocap_views(self.validation_sequences, ("h36m",), noise, 1.0, self.config.augment))


def split_validation(
    sequences: list[MocapSequence], share: float
) -> tuple[list[MocapSequence], list[MocapSequence]]:
    """(training, validation): the last `share` of every sequence's frames is its validation segment (at least one
    frame where share > 0), the rest stays for training; no frame is in both."""
    if share <= 0:
        return sequences, []
    train, validation = [], []
    for seq in sequences:
        cut = len(seq) - max(1, round(share * len(seq)))
        train.append(replace(seq, poses=seq.poses[:cut]))
        validation.append(replace(seq, name=f"{seq.name} (validation)", poses=seq.poses[cut:]))
    return train, validation


class H36MData:
    """Human3.6M's 2D/3D pairs: S1, S5, S6, S7, S8 for training, S9 and S11 held out."""

    def __init__(self, config: DataConfig):
        self.config = config
        self.fps = H36M_FPS

    def clips(self, subjects: tuple[str, ...]) -> Iterator[H36MClip]:
        c = self.config
        return iterate_clips(c.h36m_3d, c.h36m_2d, cameras_path=c.h36m_cameras, subjects=subjects)

    def sampler(self, receptive_field: int, seed: int, target: Target = "centre") -> PairSampler:
        clips = list(self.clips(TRAIN_SUBJECTS))
        return PairSampler(
            [clip.keypoints for clip in clips],
            [clip.poses for clip in clips],
            [(clip.width, clip.height) for clip in clips],
            receptive_field,
            flip=self.config.augment.flip,
            seed=seed,
            target=target,
        )

    def heldout_views(self) -> list[View]:
        return [
            View(
                f"{clip.subject} {clip.action}",
                clip.action.split(" ")[0],
                f"camera{clip.camera_index}",
                clip.keypoints,
                root_relative(clip.poses),
                float(clip.width),
                float(clip.height),
                self.fps,
            )
            for clip in self.clips(TEST_SUBJECTS)
        ]

    def validation_views(self, noise: HeldoutNoise) -> list[View]:
        """Human3.6M runs keep the paper's protocol: no validation split."""
        return []


def load_data(config: DataConfig) -> TrainingData:
    if config.source == "mocap":
        return MocapData(config)
    if config.source == "h36m":
        return H36MData(config)
    raise ValueError(f"unknown data source {config.source!r}; expected one of {SOURCES}")


DATA_OPTIONS = {"source": "data"}  # DataConfig fields under another option name


def add_data_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup, training: bool = False) -> None:
    """The data options shared by the training and evaluation commands (with `training`, the training's own)."""
    add_options(parser, DataConfig, names=DATA_OPTIONS, skip=EVALUATION_FIELDS + (() if training else TRAINING_FIELDS))


def data_config(parser: argparse.ArgumentParser, args: argparse.Namespace, **options) -> DataConfig:
    """The `DataConfig` of parsed `add_data_arguments` options (plus `options`); h36m needs both of its files."""
    if args.source == "h36m" and not (args.h36m_3d and args.h36m_2d):
        parser.error("--data h36m needs --h36m-3d and --h36m-2d")
    return from_options(args, DataConfig, skip=EVALUATION_FIELDS, **options)
