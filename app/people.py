"""The page's person picker: for every tracked person a thumbnail crop from the video and the time in view.

Each person's thumbnail is their best-seen frame (the tallest box of confident joints), cropped around them; the
video is decoded once, at a small size, up to the last of those frames. A keypoints file has no video, so its
person is drawn as a 2D skeleton on grey.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from app import render
from app.pipeline import DetectedPeople, is_keypoint_input
from detector import read_video
from pose_lifting.sequence import Pose2DSequence

THUMB_HEIGHT = 180
DECODE_SIDE = 640  # frames are decoded this small for the crops
MIN_SCORE = 0.3  # joints scored below this do not count towards a person's box


@dataclass
class PersonCard:
    """One person as the picker offers them."""

    track_id: int
    image: np.ndarray  # RGB thumbnail, THUMB_HEIGHT pixels high
    start_s: float  # first and last frame in view, seconds from the start of the video
    end_s: float
    seconds: float  # time in view
    main: bool  # the main subject (present longest and largest)

    @property
    def label(self) -> str:
        main = ", main subject" if self.main else ""
        return f"#{self.track_id}{main}: {self.seconds:.1f} s in view ({self.start_s:.1f}-{self.end_s:.1f} s)"


def person_cards(detected: DetectedPeople) -> list[PersonCard]:
    """A card per detected person, main subject first."""
    best = [_best_frame(person) for person in detected.people]
    if not is_keypoint_input(detected.source):  # a video (keypoint files: .npz, .json, .zip or a folder)
        images = _video_crops(detected, best)
    else:
        images = [_skeleton_image(person, t) for person, t in zip(detected.people, best)]
    cards = []
    for index, (person, image) in enumerate(zip(detected.people, images)):
        times = person.times()
        seconds = len(person) / person.fps
        cards.append(PersonCard(person.track_id, image, float(times[0]), float(times[-1]), seconds, index == 0))
    return cards


def _best_frame(person: Pose2DSequence) -> int:
    """The frame (in the sequence) where the person's confident joints span the tallest box."""
    confident = (person.scores >= MIN_SCORE) & np.isfinite(person.keypoints).all(axis=-1)
    y = person.keypoints[..., 1]
    top, bottom = np.where(confident, y, np.inf).min(axis=1), np.where(confident, y, -np.inf).max(axis=1)
    height = np.where(confident.any(axis=1), bottom - top, 0.0)
    return int(np.argmax(height * confident.mean(axis=1)))


def _box(keypoints: np.ndarray, scores: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """A 3:4 box around the confident joints (all joints if none is), padded, inside the image."""
    points = keypoints[scores >= MIN_SCORE] if (scores >= MIN_SCORE).any() else keypoints
    points = points[np.isfinite(points).all(axis=1)]
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    box_height = max(y1 - y0, 20.0) * 1.3
    box_width = max(box_height * 0.75, (x1 - x0) * 1.2)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = int(max(0, cx - box_width / 2)), int(max(0, cy - box_height / 2))
    return left, top, int(min(width, cx + box_width / 2)), int(min(height, cy + box_height / 2))


def _thumbnail(image: np.ndarray) -> np.ndarray:
    scale = THUMB_HEIGHT / image.shape[0]
    return cv2.resize(image, (max(1, round(image.shape[1] * scale)), THUMB_HEIGHT), interpolation=cv2.INTER_AREA)


def _video_crops(detected: DetectedPeople, best: list[int]) -> list[np.ndarray]:
    last = max(person.first_frame + t for person, t in zip(detected.people, best))
    crops: list[np.ndarray | None] = [None] * len(best)
    for index, frame in enumerate(read_video(detected.source).frames(limit=last + 1, max_side=DECODE_SIDE)):
        for i, (person, t) in enumerate(zip(detected.people, best)):
            if person.first_frame + t != index:
                continue
            scale = frame.image.shape[0] / person.height
            left, top, right, bottom = _box(person.keypoints[t] * scale, person.scores[t], *frame.image.shape[1::-1])
            crops[i] = _thumbnail(np.ascontiguousarray(frame.image[top:bottom, left:right]))
    return [crop if crop is not None else _skeleton_image(p, t) for crop, p, t in zip(crops, detected.people, best)]


def _skeleton_image(person: Pose2DSequence, t: int) -> np.ndarray:
    left, top, right, bottom = _box(person.keypoints[t], person.scores[t], person.width, person.height)
    canvas = np.full((person.height, person.width, 3), 90, np.uint8)
    render.draw_2d(canvas, person.keypoints[t], person.scores[t])
    return _thumbnail(canvas[top:bottom, left:right])
