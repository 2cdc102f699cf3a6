"""Typed values at the lifter's boundary: a 2D keypoint sequence in, a 3D pose sequence out.

The detector produces `Pose2DSequence`s (Human3.6M layout, pixels); `Lifter.lift` turns one into a
`Pose3DSequence` (metres, camera axes, pelvis at the origin) that writes itself to CSV. What the picture says
about the camera (`SceneGeometry`: gravity and focal length from the scene's lines; `CameraMotion`: the camera's
rotation per frame) rides along with the 2D, for the world frame (`pose_lifting.world`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pose_lifting.skeleton import JOINT_NAMES, NUM_JOINTS


@dataclass
class SceneGeometry:
    """Gravity and focal length from the scene's straight lines (detector.scene), in the first frame's camera axes
    (x right, y down, z forward)."""

    up: np.ndarray | None  # (3,) unit "up" (against gravity); None where the scene has no vertical structure
    confidence: float  # 0 (nothing to go on) .. 1 (many vertical lines, frames agree)
    focal_px: float | None  # from two orthogonal vanishing points; None where the scene did not give it
    num_lines: int  # vertical line segments that supported `up`, over all frames read
    spread_deg: float  # how far the frames' own estimates of up lie from `up` (RMS, degrees); NaN for one frame
    frames: tuple[int, ...] = ()  # the video frames read
    frame_ups: np.ndarray | None = None  # (K, 3) each frame's own up in its own camera axes (NaN: none found)

    def __post_init__(self) -> None:
        if self.frame_ups is not None:  # None rows (from JSON) are frames without an up
            rows = [[np.nan] * 3 if row is None else row for row in self.frame_ups]
            self.frame_ups = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
        if self.up is not None:
            self.up = np.asarray(self.up, dtype=np.float64)
            self.up = self.up / np.linalg.norm(self.up)

    def summary(self) -> dict:
        return {
            "up_camera": None if self.up is None else self.up.tolist(),
            "confidence": self.confidence,
            "focal_px": self.focal_px,
            "num_lines": self.num_lines,
            "spread_deg": None if not np.isfinite(self.spread_deg) else self.spread_deg,
            "frames": list(self.frames),
            "frame_ups": None if self.frame_ups is None else [
                row.tolist() if np.isfinite(row).all() else None for row in self.frame_ups
            ],
        }


@dataclass
class CameraMotion:
    """The camera's rotation in every frame of a clip (detector.camera_motion), relative to its first frame."""

    rotations: np.ndarray  # (T, 3, 3) frame t's camera axes -> the first frame's: p_first = R_t @ p_t
    measured: np.ndarray  # (T,) bool: False where the rotation was held over (a cut or a frame pair that failed)
    segments: np.ndarray  # (T,) int: 0 from the start, one more after each cut
    residual_px: np.ndarray  # (T,) rotation-only model's background error, tracker pixels (NaN: none)
    translating: bool = False  # the rotation-only model did not explain the background: the camera moved
    focal_px: float = float("nan")  # the focal length the rotations were computed with
    drift_deg: float = 0.0  # the tilt drift the scene's vertical lines corrected over the clip (0: none applied)
    focal_estimated: bool = False  # focal_px was measured from the camera's turning (else the one it was given)

    def __post_init__(self) -> None:
        self.rotations = np.asarray(self.rotations, dtype=np.float64)
        self.measured = np.asarray(self.measured, dtype=bool)
        self.segments = np.asarray(self.segments, dtype=np.int64)
        self.residual_px = np.asarray(self.residual_px, dtype=np.float64)
        count = len(self.rotations)
        if self.rotations.shape != (count, 3, 3) or not (
            self.measured.shape == self.segments.shape == self.residual_px.shape == (count,)
        ):
            raise ValueError("camera motion: rotations (T, 3, 3) and measured, segments, residual_px (T,)")

    def __len__(self) -> int:
        return len(self.rotations)

    @classmethod
    def still(cls, frames: int) -> CameraMotion:
        """A camera that never turns."""
        return cls(np.tile(np.eye(3), (frames, 1, 1)), np.ones(frames, bool), np.zeros(frames, int), np.zeros(frames))

    def slice(self, start: int, stop: int) -> CameraMotion:
        """Frames start..stop-1, still relative to the clip's first frame."""
        part = slice(start, stop)
        return CameraMotion(self.rotations[part], self.measured[part], self.segments[part], self.residual_px[part],
                            self.translating, self.focal_px, self.drift_deg, self.focal_estimated)

    def angles_deg(self) -> np.ndarray:
        """(T,) each frame's rotation angle from the first frame, degrees."""
        cosine = (np.trace(self.rotations, axis1=1, axis2=2) - 1) / 2
        return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))

    def summary(self) -> dict:
        angles = self.angles_deg()
        residuals = self.residual_px[np.isfinite(self.residual_px)]
        return {
            "max_angle_deg": float(angles.max()) if len(angles) else 0.0,
            "measured_fraction": float(self.measured.mean()) if len(self.measured) else 1.0,
            "segments": int(self.segments.max()) + 1 if len(self.segments) else 1,
            "translating": self.translating,
            "median_residual_px": float(np.median(residuals)) if len(residuals) else None,
            "focal_px": None if not np.isfinite(self.focal_px) else self.focal_px,
            "drift_deg": self.drift_deg,
            "focal_estimated": self.focal_estimated,
        }


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
    scene: SceneGeometry | None = None  # the clip's gravity and focal length from its lines, where measured
    camera: CameraMotion | None = None  # the camera's rotation in each of this sequence's frames, where measured

    def __post_init__(self) -> None:
        if self.camera is not None and len(self.camera) != len(self.keypoints):
            raise ValueError(f"camera motion has {len(self.camera)} frames, the keypoints {len(self.keypoints)}")
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
