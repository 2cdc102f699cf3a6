"""`LiveDetector`: frames in as they come (a webcam, a stream), the main person's 2D keypoints out, one frame at a
time, with nothing from the future.

The same stages as `detect` on a file, made causal:
- YOLO pose and the tracker run on one processed frame in `yolo_every` (and whenever nobody is followed); between
  them the last detection is held (a file interpolates it, which needs the next one);
- the main subject is the track with the largest sum of box sizes so far (`tracking.rank_tracks`' measure, as it
  grows); they keep the role while YOLO still finds them;
- the top-down BlazePose stage follows them frame by frame (`topdown.refine_person`: crop, guard rails, left/right)
  and the landmark one-euro filter (`smoothing.LANDMARK_FILTER`, causal already) smooths them as it does on a file;
- COCO-17 to the Human3.6M-17 joints (`remap.coco_to_h36m`). A frame where the landmarks fail keeps YOLO's keypoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter

import cv2
import numpy as np

from detector.config import DetectorConfig
from detector.crop import crop_from_box
from detector.landmarks import LandmarkModel
from detector.model import FrameDetections, PoseModel
from detector.remap import coco_to_h36m
from detector.smoothing import LANDMARK_FILTER, OneEuroFilter
from detector.topdown import Person, StageCounts, TrackState, refine_person
from detector.tracking import PersonTracker, box_sizes
from detector.video import Frame


@dataclass
class LivePose2D:
    """The main subject in one frame: H36M-17 keypoints for the lifter, COCO-17 and feet for drawing."""

    index: int
    time: float
    track_id: int
    keypoints: np.ndarray  # (17, 2) H36M joints, pixels
    scores: np.ndarray  # (17,)
    coco: np.ndarray  # (17, 2) COCO keypoints, pixels
    coco_scores: np.ndarray  # (17,)
    box: np.ndarray  # (4,) x1, y1, x2, y2 of the last YOLO detection
    from_landmarks: bool


@dataclass
class StageTimes:
    """Seconds spent per stage, summed over the frames processed (for per-frame costs)."""

    frames: int = 0
    yolo_s: float = 0.0
    landmarks_s: float = 0.0

    def per_frame_ms(self) -> dict[str, float]:
        frames = max(self.frames, 1)
        return {"yolo": 1000 * self.yolo_s / frames, "keypoints": 1000 * self.landmarks_s / frames}


class LiveDetector:
    """Call it on each frame (RGB, with its time in seconds) in order; it returns the main subject or None."""

    def __init__(self, config: DetectorConfig, yolo_every: int, fps: float) -> None:
        if yolo_every < 1:
            raise ValueError(f"yolo_every must be at least 1, got {yolo_every}")
        self.config = config
        self.yolo_every = yolo_every
        self.yolo = PoseModel(config)
        self.tracker = PersonTracker(config.tracker, fps / yolo_every, config.track_buffer_s)
        yolo_only = config.keypoints == "yolo"
        self.landmarks = None if yolo_only else LandmarkModel(config.keypoints, config.landmark_threads)
        self.presence: dict[int, float] = {}  # track id -> sum of its box sizes so far
        self.main: int | None = None
        self.person: Person | None = None  # the main subject's last YOLO detection
        self.state = TrackState()
        self.counts = StageCounts()
        self.keypoint_filter = OneEuroFilter(LANDMARK_FILTER)
        self.times = StageTimes()
        self.index = 0

    def warm_up(self, width: int = 640, height: int = 480) -> None:
        """Run each model once on a blank frame, so that the first real frame does not pay for their start."""
        blank = np.zeros((height, width, 3), np.uint8)
        self.yolo.predict([blank], self.yolo.inference_size(width, height))
        if self.landmarks is not None:
            self.landmarks(blank, crop_from_box(np.array([0, 0, width, height], np.float32), 1.0))

    def __call__(self, image: np.ndarray, time: float) -> LivePose2D | None:
        index = self.index
        self.index += 1
        self.times.frames += 1
        if index % self.yolo_every == 0 or self.person is None:
            tick = perf_counter()
            self._look(image)
            self.times.yolo_s += perf_counter() - tick
        if self.person is None:
            return None
        tick = perf_counter()
        pose = self._keypoints(Frame(index, time, image))
        self.times.landmarks_s += perf_counter() - tick
        return pose

    def _look(self, image: np.ndarray) -> None:
        """YOLO and the tracker on this frame: who is the main subject, and where."""
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        found = self.yolo.predict([bgr], self.yolo.inference_size(image.shape[1], image.shape[0]))[0]
        ids, rows = self.tracker.update(found, bgr)
        sizes = box_sizes(found.boxes[rows]) if len(rows) else np.zeros(0)
        for track, size in zip(ids.tolist(), sizes.tolist()):
            self.presence[track] = self.presence.get(track, 0.0) + size
        if self.main not in ids:  # lost (or no one yet): the most present of those in view takes over
            self.main = max(ids.tolist(), key=lambda t: self.presence[t]) if len(ids) else None
            self.state.reset()
            self.keypoint_filter.reset()
        self.person = None if self.main is None else person_of(found, int(rows[ids.tolist().index(self.main)]))

    def _keypoints(self, frame: Frame) -> LivePose2D:
        person = self.person
        if self.landmarks is None:
            coco, scores, from_landmarks = person.keypoints, person.scores, False
        else:
            refined = refine_person(self.landmarks, frame, person, self.state, self.config, self.counts)
            coco, scores, from_landmarks = refined.keypoints, refined.scores, refined.from_landmarks
            if refined.restart or not from_landmarks:
                self.keypoint_filter.reset()
            if from_landmarks and self.config.smooth_keypoints:
                coco = self.keypoint_filter(coco, frame.time, refined.size)
        joints, joint_scores = coco_to_h36m(coco, scores)
        return LivePose2D(frame.index, frame.time, int(self.main), joints, joint_scores, coco, scores, person.box,
                          from_landmarks)


def person_of(found: FrameDetections, row: int) -> Person:
    return Person(found.boxes[row], found.keypoints[row], found.keypoint_scores[row])
