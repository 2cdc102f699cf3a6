"""What the pipeline's steps hand each other and the front ends: the people found (`DetectedPeople`), each
lifter's output (`ModelRun`), the comparison of two lifters, and the whole run's `PipelineResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.config import InputError
from pose_lifting.sequence import CameraMotion, Pose2DSequence, Pose3DSequence, SceneGeometry
from pose_lifting.world import WorldMotion


@dataclass
class ModelRun:
    """One lifter's output: a 3D sequence per person (same order as the 2D people) and its cost."""

    label: str  # "student", "teacher" or a checkpoint's file stem; names its CSV
    lifter_name: str  # the name stored in the checkpoint
    poses: list[Pose3DSequence]
    lift_s: float
    mflops: float  # per lifted pose, without flip test
    num_params: int
    device: str
    world: list[WorldMotion | None] = field(default_factory=list)  # per person; None where it could not be placed
    # per person (T, len(pose_lifting.angles.ANGLE_NAMES)) joint angles in degrees from the world poses; None where
    # the person could not be placed
    angles: list[np.ndarray | None] = field(default_factory=list)

    def ms_per_frame(self) -> float:
        return 1000 * self.lift_s / max(1, sum(len(p) for p in self.poses))


@dataclass
class Comparison:
    """The main subject's per-joint distance between two models' 3D poses (after centring both at the pelvis)."""

    labels: tuple[str, str]
    times: np.ndarray  # (T,) seconds
    distance_mm: np.ndarray  # (T, 17)

    @property
    def mean_mm(self) -> float:
        return float(self.distance_mm.mean())


@dataclass
class PipelineResult:
    """Everything one run produced: what was processed, its 2D and 3D people, the files, the costs and warnings."""

    source: Path
    num_frames: int  # frames of the input processed
    timestamps: np.ndarray  # (num_frames,) seconds of each processed frame in the input
    fps: float
    width: int
    height: int
    people: list[Pose2DSequence]  # H36M 2D per person, main subject first
    models: list[ModelRun]
    timings: dict[str, float]  # seconds per stage: detect (and the camera's part of it), lift, render, export, total
    files: dict[str, Path]  # mp4, gif, npz, json, and csv:<label> per model
    warnings: list[str]
    comparison: Comparison | None
    scene: SceneGeometry | None = None  # the clip's up and focal length from its lines (a video only)
    camera: CameraMotion | None = None  # the camera's rotation per processed frame (a video only)

    def ms_per_frame(self) -> dict[str, float]:
        return {stage: 1000 * seconds / self.num_frames for stage, seconds in self.timings.items()}

    def end_to_end_fps(self) -> float:
        return self.num_frames / self.timings["total"]


@dataclass
class DetectedPeople:
    """What the detection step hands the lift step: every person found, the frame times and the warnings."""

    source: Path
    people: list[Pose2DSequence]  # every tracked person (H36M 2D), main subject first; one for a keypoints file
    timestamps: np.ndarray  # (T,) seconds of each processed frame
    warnings: list[str]
    detect_s: float
    scene: SceneGeometry | None = None  # the clip's up and focal length from its lines (a video only)
    camera: CameraMotion | None = None  # the camera's rotation per processed frame (a video only)
    detect_parts: dict[str, float] = field(default_factory=dict)  # of detect_s: "yolo", "2D keypoints", "camera"

    @property
    def num_frames(self) -> int:
        return len(self.timestamps)

    def choose(self, track_ids: list[int]) -> list[Pose2DSequence]:
        """The people with these track ids, main subject first; unknown ids are an InputError."""
        known = {p.track_id for p in self.people}
        unknown = sorted(set(track_ids) - known)
        if unknown or not track_ids:
            raise InputError(f"choose at least one of the people found ({sorted(known)}), not {unknown or 'none'}")
        return [p for p in self.people if p.track_id in track_ids]
