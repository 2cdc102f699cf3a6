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
    first_frame: int = 0  # index of the sequence's first frame in the video (a person may appear late)
    # the heels and foot tips where the 2D model gives them (BlazePose): (T, 4, 2) pixels in the order
    # left_heel, right_heel, left_foot_index, right_foot_index, and their (T, 4) scores; None otherwise
    feet: np.ndarray | None = None
    feet_scores: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, dtype=np.float32)
        self.scores = np.asarray(self.scores, dtype=np.float32)
        if (self.feet is None) != (self.feet_scores is None):
            raise ValueError("feet and feet_scores come together (both arrays or both None)")
        if self.feet is not None:
            self.feet = np.asarray(self.feet, dtype=np.float32)
            self.feet_scores = np.asarray(self.feet_scores, dtype=np.float32)
            if self.feet.shape != (len(self.keypoints), 4, 2) or self.feet_scores.shape != self.feet.shape[:2]:
                raise ValueError(
                    f"feet must be (T, 4, 2) and feet_scores (T, 4), got {self.feet.shape} and {self.feet_scores.shape}"
                )
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
    first_frame: int = 0  # index of the sequence's first frame in the video

    def __len__(self) -> int:
        return len(self.poses)

    def times(self) -> np.ndarray:
        if self.timestamps is not None:
            return np.asarray(self.timestamps, dtype=np.float64)
        return np.arange(len(self)) / self.fps

    def to_csv(self, path: str | Path, video_times: np.ndarray | None = None) -> Path:
        """Write one row per frame: frame, time_s, then <joint>_x/_y/_z for each joint (see `write_pose_csv`)."""
        return write_pose_csv(path, [self], video_times=video_times)


def csv_header(with_person_id: bool = False) -> list[str]:
    header = ["frame", "time_s"] + (["person_id"] if with_person_id else [])
    return header + [f"{name}_{axis}" for name in JOINT_NAMES for axis in "xyz"]


def write_pose_csv(
    path: str | Path,
    sequences: list[Pose3DSequence],
    with_person_id: bool = False,
    video_times: np.ndarray | None = None,
) -> Path:
    """Write people's 3D poses as CSV; `frame` is the video's frame index.

    With `video_times` (one person, no person_id), there is one row for every frame of the video, with empty
    joint cells where the person is not in the picture. Otherwise each person has a row for every frame from
    their first to their last appearance, told apart by the person_id column.
    """
    path = Path(path)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(csv_header(with_person_id))
        if video_times is not None and not with_person_id:
            (seq,) = sequences
            poses = {seq.first_frame + i: pose for i, pose in enumerate(seq.poses)}
            for frame, t in enumerate(video_times):
                pose = poses.get(frame)
                cells = [""] * (3 * NUM_JOINTS) if pose is None else [f"{v:.5f}" for v in pose.reshape(-1)]
                writer.writerow([frame, f"{t:.4f}", *cells])
            return path
        for seq in sequences:
            for i, (t, pose) in enumerate(zip(seq.times(), seq.poses)):
                row = [seq.first_frame + i, f"{t:.4f}"] + ([seq.track_id] if with_person_id else [])
                writer.writerow(row + [f"{v:.5f}" for v in pose.reshape(-1)])
    return path
