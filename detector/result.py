"""What the detector found in a video: every tracked person's keypoints per frame, saved as .npz or .json.

The result keeps the measurements, one row per (frame, person) detection: COCO-17 keypoints with their scores
(from the keypoint model named in `keypoint_model`, or YOLO's where it did not run or fell back, see
`from_landmarks`), the heels and foot tips where BlazePose measured them, the person box, its track id.
`tracks()` and `main_track()` turn them into gap-free `Pose2DSequence`s for the lifter: each covers its track's
frames from first to last detection, gaps filled by `gaps.fill_gaps` in COCO layout and only then remapped to
H36M (the one place the remap runs, so the derived joints stay consistent), with the video's timestamps so that
every sequence lines up with the video. What the picture says about the camera (the scene's up and focal
length, the camera's rotation per frame) is kept for the whole clip and handed to every sequence. Version 1
files (YOLO only, no feet) and version 2 files (no camera) are still read.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from detector.errors import ResultFileError
from detector.gaps import fill_gaps
from detector.remap import coco_to_h36m
from detector.tracking import choose_track, rank_tracks
from pose_lifting.files import write_npz
from pose_lifting.sequence import CameraMotion, Pose2DSequence, SceneGeometry

FORMAT = "scjd-detections"
VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
ARRAYS = ("frame_index", "track_id", "keypoints_coco", "scores_coco", "boxes", "box_scores", "timestamps")
FOOT_ARRAYS = ("feet", "feet_scores", "from_landmarks")  # absent from version 1 files
CAMERA_ARRAYS = ("rotations", "measured", "segments", "residual_px")  # stored as camera_<name>, from version 3
CAMERA_VALUES = ("scene", "camera")
STORED_CAMERA = tuple(f"camera_{name}" for name in CAMERA_ARRAYS)


@dataclass
class DetectionResult:
    """Per-detection arrays (D rows) plus per-frame timestamps (T frames) and the video's fps and size."""

    frame_index: np.ndarray  # (D,) frame of each detection
    track_id: np.ndarray  # (D,) person id, stable across frames
    keypoints_coco: np.ndarray  # (D, 17, 2) pixels in the upright frame
    scores_coco: np.ndarray  # (D, 17)
    boxes: np.ndarray  # (D, 4) x1, y1, x2, y2 pixels
    box_scores: np.ndarray  # (D,)
    timestamps: np.ndarray  # (T,) seconds of each processed frame
    fps: float
    width: int
    height: int
    main_track_id: int
    keypoint_threshold: float  # joints scored below this are interpolated in the sequences
    source: str = ""  # the video's file name
    model: str = ""  # the person detector's weights
    keypoint_model: str = "yolo"  # where the keypoints come from: "yolo" or BlazePose "lite" / "full" / "heavy"
    feet: np.ndarray | None = None  # (D, 4, 2) left/right heel, left/right foot tip; NaN where not measured
    feet_scores: np.ndarray | None = None  # (D, 4)
    from_landmarks: np.ndarray | None = None  # (D,) True where the keypoints come from the landmark model
    ranking: list[int] = field(default_factory=list)  # track ids, main subject's rank first (computed if empty)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, and ms_per_frame
    warnings: list[str] = field(default_factory=list)  # things the user should know, e.g. a truncated video
    scene: SceneGeometry | None = None  # up and focal length from the scene's lines (detector.scene)
    camera: CameraMotion | None = None  # the camera's rotation in each processed frame (detector.camera_motion)

    def __post_init__(self) -> None:
        self.frame_index = np.asarray(self.frame_index, dtype=np.int64)
        self.track_id = np.asarray(self.track_id, dtype=np.int64)
        rows = len(self.track_id)
        self.feet = np.full((rows, 4, 2), np.nan) if self.feet is None else self.feet
        self.feet_scores = np.zeros((rows, 4)) if self.feet_scores is None else self.feet_scores
        self.from_landmarks = np.zeros(rows, bool) if self.from_landmarks is None else self.from_landmarks
        for name in ("keypoints_coco", "scores_coco", "boxes", "box_scores", "feet", "feet_scores"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.float32))
        self.from_landmarks = np.asarray(self.from_landmarks, dtype=bool)
        self.timestamps = np.asarray(self.timestamps, dtype=np.float64)
        if not self.ranking and rows:
            self.ranking = rank_tracks(self.track_id, self.boxes)
        self.ranking = [int(track) for track in self.ranking]

    @property
    def num_frames(self) -> int:
        return len(self.timestamps)

    def track_ids(self) -> list[int]:
        """All track ids, the main subject's rank first (presence times size, see `tracking`)."""
        return self.ranking

    def track(self, track_id: int) -> Pose2DSequence:
        """One person's gap-filled H36M sequence, from their first to their last detected frame."""
        rows = self.track_id == choose_track(self.track_ids(), track_id)
        frames = self.frame_index[rows]
        first, last = int(frames.min()), int(frames.max())
        span = last - first + 1
        keypoints = np.full((span, 17, 2), np.nan, np.float32)
        scores = np.zeros((span, 17), np.float32)
        keypoints[frames - first] = self.keypoints_coco[rows]
        scores[frames - first] = self.scores_coco[rows]
        times = self.timestamps[first : last + 1]
        keypoints = fill_gaps(times, keypoints, scores, self.keypoint_threshold)
        joints, joint_scores = coco_to_h36m(keypoints, scores)
        feet, feet_scores = None, None
        if self.from_landmarks[rows].any():
            feet = np.full((span, 4, 2), np.nan, np.float32)
            feet_scores = np.zeros((span, 4), np.float32)
            feet[frames - first] = self.feet[rows]
            feet_scores[frames - first] = self.feet_scores[rows]
            feet = fill_gaps(times, feet, feet_scores, self.keypoint_threshold)
        camera = None if self.camera is None else self.camera.slice(first, last + 1)
        return Pose2DSequence(
            joints, joint_scores, self.fps, self.width, self.height, track_id, times, first, feet, feet_scores,
            self.scene, camera,
        )

    def main_track(self) -> Pose2DSequence:
        """The main subject's sequence (the chosen or the top-ranked track)."""
        return self.track(self.main_track_id)

    def tracks(self) -> list[Pose2DSequence]:
        """Every person's sequence, main subject first."""
        return [self.track(i) for i in self.track_ids()]

    def save(self, path: str | Path) -> Path:
        """Write to `.npz` (arrays + JSON metadata) or `.json` (everything as lists)."""
        path = Path(path)
        arrays = {name: getattr(self, name) for name in ARRAYS + FOOT_ARRAYS}
        meta = {"format": FORMAT, "version": VERSION}
        skipped = ARRAYS + FOOT_ARRAYS + CAMERA_VALUES
        meta |= {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skipped}
        if self.scene is not None:
            meta["scene"] = self.scene.summary()
        if self.camera is not None:
            arrays |= {f"camera_{name}": getattr(self.camera, name) for name in CAMERA_ARRAYS}
            focal = self.camera.focal_px
            meta["camera"] = {"translating": self.camera.translating, "focal_px": focal if np.isfinite(focal) else None,
                              "drift_deg": self.camera.drift_deg, "focal_estimated": self.camera.focal_estimated}
        if path.suffix == ".npz":
            write_npz(path, arrays, meta)
        elif path.suffix == ".json":
            path.write_text(json.dumps(meta | {name: value.tolist() for name, value in arrays.items()}))
        else:
            raise ResultFileError(f"cannot save detections as '{path.suffix}'; use .npz or .json")
        return path

    @classmethod
    def load(cls, path: str | Path) -> DetectionResult:
        """Read a result written by `save`."""
        path = Path(path)
        if path.suffix not in (".npz", ".json"):
            raise ResultFileError(f"cannot read detections from '{path.suffix}'; use .npz or .json")
        try:
            if path.suffix == ".npz":
                with np.load(path, allow_pickle=False) as data:
                    meta = json.loads(str(data["meta"]))
                    arrays = {name: data[name] for name in ARRAYS + FOOT_ARRAYS + STORED_CAMERA if name in data}
            else:
                meta = json.loads(path.read_text())
                names = ARRAYS + FOOT_ARRAYS + STORED_CAMERA
                arrays = {name: np.asarray(meta.pop(name)) for name in names if name in meta}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as error:
            raise ResultFileError(f"'{path.name}' is not a readable detection file: {error}") from error
        version = meta.pop("version", None)
        if meta.pop("format", None) != FORMAT or version not in READABLE_VERSIONS or not set(ARRAYS) <= set(arrays):
            raise ResultFileError(f"'{path.name}' is not a {FORMAT} file (v{VERSION}, or v1 without feet)")
        for name in ("keypoints_h36m", "scores_h36m"):  # version 1 stored the remap too; it is derived
            meta.pop(name, None)
        scene, camera = meta.pop("scene", None), meta.pop("camera", None)
        if scene is not None:
            meta["scene"] = SceneGeometry(
                scene["up_camera"], scene["confidence"], scene["focal_px"], scene["num_lines"],
                float("nan") if scene["spread_deg"] is None else scene["spread_deg"], tuple(scene["frames"]),
                scene.get("frame_ups"),
            )
        if camera is not None:
            parts = [arrays.pop(f"camera_{name}") for name in CAMERA_ARRAYS]
            focal = float("nan") if camera["focal_px"] is None else camera["focal_px"]
            meta["camera"] = CameraMotion(*parts, camera["translating"], focal, camera.get("drift_deg", 0.0),
                                          camera.get("focal_estimated", False))
        return cls(**arrays, **meta)
