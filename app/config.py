"""Everything a pipeline run can change (`PipelineConfig`, with defaults for a laptop CPU), and the errors whose
message is all a user needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app import render
from detector import DetectorConfig, DetectorError
from detector.config import KeypointModel
from detector.examples import ExampleUnavailableError
from pose_lifting.devices import DEVICES, Device, detector_device
from pose_lifting.files import OutputWriteError
from pose_lifting.world import WorldConfig


class InputError(ValueError):
    """The input file or the settings cannot be processed; the message says why and what to do."""


# errors caused by the input or the set-up, whose message is all a user needs (no stack trace)
USER_ERRORS = (InputError, DetectorError, ExampleUnavailableError, OutputWriteError)


@dataclass
class PipelineConfig:
    """Everything a run can change, with defaults for a laptop CPU."""

    models: tuple[str, ...] = ("student",)  # lifter names (weights/<name>.pt) or checkpoint paths; first is main
    device: Device = "auto"  # auto (GPU when present), cpu or cuda, for the detector and the lifters
    all_tracks: bool = False  # lift every person (CSV gets a person_id column); default: the main subject only
    flip_test: bool = True  # average each pose with the lift of the mirrored input
    max_frames: int | None = None  # process at most this many frames (None: no cap)
    max_duration_s: float | None = 60.0  # process at most this many seconds of video (None: no cap)
    keypoints: KeypointModel = DetectorConfig.keypoints  # 2D keypoints: yolo, BlazePose lite / full / heavy (default)
    imgsz: int | None = None  # YOLO's inference resolution (longest side); default: 640 with yolo keypoints, else 512
    # sparse 2D: the 2D keypoints measured on one frame in `keypoint_stride` (default: every frame), YOLO on one in
    # `yolo_stride` (None: from the frame rate, at least 15 looks a second: 1 at 25 fps, 2 at 30, 4 at 60; with lite
    # keypoints 7.5 a second), the rest interpolated (docs/benchmarks.md)
    keypoint_stride: int = DetectorConfig.keypoint_stride
    yolo_stride: int | None = None
    video_height: int = 480  # height of the side-by-side video (its 3D panel is square)
    gif_size: int = 320  # the 3D GIF is gif_size x gif_size pixels
    gif_max_frames: int = 600  # longer clips skip frames in the GIF (it still plays at the video's speed)
    overlay_video: bool = False  # also write <stem>_2d.mp4, the video with the 2D skeleton alone (for the page)
    # also write <stem>.trc and run OpenSim's scaling and inverse kinematics: <stem>_scaled.osim, <stem>_ik.mot
    opensim: bool = False
    keypoints_fps: float | None = None  # frame rate of a keypoints file that does not give one (else: its video's)
    keypoints_size: tuple[int, int] | None = None  # picture (width, height) of such a file, pixels (else: its video's)
    view: render.PanelView = field(default_factory=render.PanelView)  # the 3D panel's virtual camera
    world: WorldConfig = field(default_factory=WorldConfig)  # ground, up and trajectory (field of view: fov_deg)

    def __post_init__(self) -> None:
        if not self.models:
            raise InputError("choose at least one lifter model")
        if self.device not in DEVICES:
            raise InputError(f"device must be {', '.join(DEVICES)}, got {self.device!r}")

    def detector_config(self) -> DetectorConfig:
        return DetectorConfig(
            device=detector_device(self.device),
            imgsz=self.imgsz,
            max_frames=self.max_frames,
            max_duration_s=self.max_duration_s,
            keypoints=self.keypoints,
            keypoint_stride=self.keypoint_stride,
            yolo_stride=self.yolo_stride,
            all_tracks=self.all_tracks,
            fov_deg=self.world.fov_deg,
        )
