"""Typed values at the lifter's boundary: a 2D keypoint sequence in, a 3D pose sequence out.

The detector produces `Pose2DSequence`s (Human3.6M layout, pixels); `Lifter.lift` turns one into a
`Pose3DSequence` (metres, camera axes, pelvis at the origin) that writes itself to CSV.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pose_lifting.skeleton import JOINT_NAMES, NUM_JOINTS


@dataclass
class Pose2DSequence:
    """One person's 2D keypoints over a video, Human3.6M joint order."""

    keypoints: np.ndarray  # (T, 17, 2) pixels, x right, y down
    scores: np.ndarray  # (T, 17) confidence in [0, 1]; interpolated joints keep a low score
    fps: float
    width: int
    height: int
    track_id: int = 0
    timestamps: np.ndarray | None = None  # (T,) seconds; None means frame / fps

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, dtype=np.float32)
        self.scores = np.asarray(self.scores, dtype=np.float32)
        if self.keypoints.ndim != 3 or self.keypoints.shape[1:] != (NUM_JOINTS, 2):
            raise ValueError(f"keypoints must be (T, {NUM_JOINTS}, 2), got {self.keypoints.shape}")
        if self.scores.shape != self.keypoints.shape[:2]:
            raise ValueError(f"scores must be {self.keypoints.shape[:2]}, got {self.scores.shape}")
        if len(self.keypoints) == 0:
            raise ValueError("the keypoint sequence is empty")
        if not (self.fps > 0 and self.width > 0 and self.height > 0):
            raise ValueError(f"fps, width and height must be positive, got {self.fps}, {self.width}, {self.height}")

    def __len__(self) -> int:
        return len(self.keypoints)

    def times(self) -> np.ndarray:
        """Seconds of each frame from the start of the video."""
        if self.timestamps is not None:
            return np.asarray(self.timestamps, dtype=np.float64)
        return np.arange(len(self)) / self.fps


@dataclass
class Pose3DSequence:
    """One person's 3D poses: metres, camera axes (x right, y down, z away from the camera), pelvis at 0."""

    poses: np.ndarray  # (T, 17, 3)
    fps: float
    model: str
    track_id: int = 0
    timestamps: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    def __len__(self) -> int:
        return len(self.poses)

    def times(self) -> np.ndarray:
        if self.timestamps is not None:
            return np.asarray(self.timestamps, dtype=np.float64)
        return np.arange(len(self)) / self.fps

    def to_csv(self, path: str | Path, with_person_id: bool = False) -> Path:
        """Write one row per frame: frame, time_s, [person_id,] then <joint>_x/_y/_z for each joint."""
        return write_pose_csv(path, [self], with_person_id=with_person_id)


def csv_header(with_person_id: bool = False) -> list[str]:
    header = ["frame", "time_s"] + (["person_id"] if with_person_id else [])
    return header + [f"{name}_{axis}" for name in JOINT_NAMES for axis in "xyz"]


def write_pose_csv(path: str | Path, sequences: list[Pose3DSequence], with_person_id: bool = False) -> Path:
    """Write several people's sequences into one CSV (a person_id column tells them apart)."""
    path = Path(path)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(csv_header(with_person_id))
        for seq in sequences:
            for frame, (t, pose) in enumerate(zip(seq.times(), seq.poses)):
                row = [frame, f"{t:.4f}"] + ([seq.track_id] if with_person_id else [])
                writer.writerow(row + [f"{v:.5f}" for v in pose.reshape(-1)])
    return path
