"""Detector stage: any video in, tracked Human3.6M 2D keypoint sequences out (knows nothing about 3D).

from detector import detect, DetectorConfig, read_video
result = detect("clip.mp4", DetectorConfig(imgsz=640))
sequence = result.main_track()  # pose_lifting.sequence.Pose2DSequence, H36M-17, pixels
"""

from detector.config import DetectorConfig
from detector.detect import detect
from detector.errors import (
    CorruptVideoError,
    DetectorError,
    EmptyVideoError,
    ModelError,
    NoPersonError,
    NotAVideoError,
    ResultFileError,
    TrackNotFoundError,
    VideoNotFoundError,
    VideoTooShortError,
)
from detector.examples import example_video_path, examples_dir
from detector.progress import TerminalProgress
from detector.remap import coco_to_h36m
from detector.result import DetectionResult
from detector.video import Video, read_video

__all__ = [
    "CorruptVideoError",
    "DetectionResult",
    "DetectorConfig",
    "DetectorError",
    "EmptyVideoError",
    "ModelError",
    "NoPersonError",
    "NotAVideoError",
    "ResultFileError",
    "TerminalProgress",
    "TrackNotFoundError",
    "Video",
    "VideoNotFoundError",
    "VideoTooShortError",
    "coco_to_h36m",
    "detect",
    "example_video_path",
    "examples_dir",
    "read_video",
]
