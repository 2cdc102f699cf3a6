"""Follow every person across frames with an Ultralytics tracker, and pick the video's main subject.

The tracker (ByteTrack by default, or BoT-SORT) is built from Ultralytics' own config files and fed each
frame's person boxes in order, exactly as `model.track` does, but outside the predictor so that frames can be
batched through the model. Its memory for lost people is set in seconds and converted with the video's fps.

Main subject: the track with the largest sum, over the frames it is detected in, of its box size
sqrt(width * height). A person present twice as long, or twice as large, counts twice as much, so a passer-by
crossing the frame loses to the person the video is about.
"""

from __future__ import annotations

import numpy as np

from detector.errors import ModelError, TrackNotFoundError
from detector.model import FrameDetections


class PersonTracker:
    """Assigns a persistent id to each person box, one frame at a time."""

    def __init__(self, tracker: str, fps: float, buffer_s: float) -> None:
        from ultralytics.engine.results import Boxes
        from ultralytics.trackers.track import TRACKER_MAP
        from ultralytics.utils import YAML, IterableSimpleNamespace
        from ultralytics.utils.checks import check_yaml

        try:
            settings = IterableSimpleNamespace(**YAML.load(check_yaml(tracker)))
        except Exception as error:  # a missing or malformed yaml
            raise ModelError(f"cannot read the tracker config '{tracker}': {error}") from error
        if settings.tracker_type not in ("bytetrack", "botsort") or getattr(settings, "with_reid", False):
            raise ModelError(
                f"tracker '{tracker}' is not supported; use 'bytetrack.yaml' or 'botsort.yaml' (without ReID, "
                "which needs extra weights)"
            )
        settings.track_buffer = max(1, round(buffer_s * fps))
        self._tracker = TRACKER_MAP[settings.tracker_type](args=settings)
        self._boxes = Boxes

    def update(self, detections: FrameDetections, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Track one frame (BGR image); return the ids of the tracked people and their indices in `detections`."""
        data = np.concatenate(
            [detections.boxes, detections.box_scores[:, None], np.zeros((len(detections), 1), np.float32)], axis=1
        )
        tracks = self._tracker.update(self._boxes(data, image.shape[:2]), image)
        if len(tracks) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return tracks[:, 4].astype(np.int64), tracks[:, -1].astype(np.int64)


def rank_tracks(track_ids: np.ndarray, boxes: np.ndarray) -> list[int]:
    """Track ids ordered by presence times size (see the module docstring), the main subject first."""
    sizes = np.sqrt(np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None))
    ids = np.unique(track_ids)
    weight = {int(i): float(sizes[track_ids == i].sum()) for i in ids}
    return sorted(weight, key=lambda i: (-weight[i], i))


def choose_track(ranked: list[int], wanted: int | None) -> int:
    """The requested track id if it exists, else the top-ranked one."""
    if wanted is None:
        return ranked[0]
    if wanted not in ranked:
        raise TrackNotFoundError(f"there is no person with track id {wanted}; the tracks found are {sorted(ranked)}")
    return wanted
