"""Follow every person across frames with an Ultralytics tracker, and pick the video's main subject.

The tracker (ByteTrack by default, or BoT-SORT) is built from Ultralytics' own config files and fed each
frame's person boxes in order, exactly as `model.track` does, but outside the predictor so that frames can be
batched through the model. Its memory for lost people is set in seconds and converted with the video's fps.

Stitching: a tracker loses a person in fast motion (a jump, a spin) and gives them a new id. `stitch_tracks`
joins a track that starts within `max_gap_s` after another ends, near where it ended and at a similar size,
so that one person keeps one id.

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
        self.new_track_score = float(settings.new_track_thresh)  # the least box score that starts a track
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


def stitch_tracks(
    frame_index: np.ndarray, track_ids: np.ndarray, boxes: np.ndarray, fps: float, max_gap_s: float
) -> np.ndarray:
    """New track ids where each track that continues an earlier one (starts at most `max_gap_s` after it ends,
    its first box centre within one box size of the other's last centre, box sizes within a factor of 2) takes
    the earlier track's id. Tracks are joined in order of their start; each track continues at most one other."""
    ids = track_ids.copy()
    size = np.sqrt(np.clip(boxes[:, 2] - boxes[:, 0], 1, None) * np.clip(boxes[:, 3] - boxes[:, 1], 1, None))
    centre = 0.5 * (boxes[:, :2] + boxes[:, 2:4])
    spans = {}
    for track in np.unique(ids):
        rows = np.flatnonzero(ids == track)
        first, last = rows[np.argmin(frame_index[rows])], rows[np.argmax(frame_index[rows])]
        spans[int(track)] = (first, last)
    open_ends = []  # (row of the last box, track id) of tracks that may still be continued
    for track, (first, last) in sorted(spans.items(), key=lambda item: frame_index[item[1][0]]):
        best = None
        for k, (end, earlier) in enumerate(open_ends):
            gap = (frame_index[first] - frame_index[end]) / fps
            ratio = size[first] / size[end]
            distance = np.linalg.norm(centre[first] - centre[end]) / size[end]
            if 0 < gap <= max_gap_s and 0.5 <= ratio <= 2.0 and distance <= 1.0 and (best is None or gap < best[0]):
                best = (gap, k, earlier)
        if best is not None:
            open_ends.pop(best[1])
            ids[ids == track] = best[2]
            track = best[2]
        open_ends.append((last, track))
    return ids


def rank_tracks(track_ids: np.ndarray, boxes: np.ndarray) -> list[int]:
    """Track ids ordered by presence times size (see the module docstring), the main subject first."""
    sizes = box_sizes(boxes)
    ids = np.unique(track_ids)
    weight = {int(i): float(sizes[track_ids == i].sum()) for i in ids}
    return sorted(weight, key=lambda i: (-weight[i], i))


def box_sizes(boxes: np.ndarray) -> np.ndarray:
    """sqrt(width * height) of (N, 4) boxes: what `rank_tracks` sums."""
    return np.sqrt(np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None))


def choose_track(ranked: list[int], wanted: int | None) -> int:
    """The requested track id if it exists, else the top-ranked one."""
    if wanted is None:
        return ranked[0]
    if wanted not in ranked:
        raise TrackNotFoundError(f"there is no person with track id {wanted}; the tracks found are {sorted(ranked)}")
    return wanted
