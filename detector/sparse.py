"""Sparse 2D: the detector measures one frame in `stride` and interpolates the rest, as the SCJD student reads one
frame in three.

The lifter's student reads its 81-frame window at stride 3, and the 2D between its samples is nearly redundant
(docs/benchmarks.md measures what each stride costs); the detector is where the time goes, so it measures sparsely:

- YOLO (pass 1) runs on the frames whose index is a multiple of its stride, and on the last (`LookSchedule`);
  where a person appears or leaves between two such looks it looks at every frame between them, and between the
  next two (where ByteTrack confirms a new person, on their second sighting), so that tracks begin and end on
  the frames a dense YOLO gives them: a track begun a look later seeds the landmark crop on another frame, and
  the 3D of the first and last second of the track differed from the dense path's by up to 40 mm. Each track's
  boxes and keypoints on the frames between are interpolated linearly between its detections
  (`fill_between_detections`), never across a longer gap, which stays a gap for the gap filler;
- the landmark model (pass 2) measures each person on the frames `measured_rows` picks (a multiple of its stride,
  and the first and last frame of every unbroken run of the track, so that every other row lies between two
  measured ones) and the rows in between are interpolated (`interpolate_rows`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from detector.model import FrameDetections


def resolve_stride(stride: int | None, fps: float, min_rate_hz: float) -> int:
    """`stride` if given; else the largest stride that still measures at least `min_rate_hz` times a second."""
    if stride is not None:
        return stride
    return max(1, int(fps / min_rate_hz + 1e-6))


class LookSchedule:
    """The frames YOLO looks at: one in `stride` and the last (`regular`), and all the frames between two of those
    looks where the people changed (`changed_since`): a confident box without a counterpart in the previous look, or
    the tracker's people not the same after it (a track begun or lost), or such a change at the look before."""

    def __init__(self, stride: int, last: int, min_score: float, min_iou: float = 0.3) -> None:
        self.stride, self.last, self.min_score, self.min_iou = stride, last, min_score, min_iou
        self.index = -1  # the last regular look, its detections and the tracks the tracker gave there
        self.found: FrameDetections | None = None
        self.tracks: set[int] = set()
        self.changed = False  # whether the people changed at the last regular look

    def regular(self, index: int) -> bool:
        return index % self.stride == 0 or index == self.last

    def skipped(self, index: int) -> range:
        """The frames between the last regular look and the regular look at `index`."""
        return range(self.index + 1, index)

    def changed_since(self, found: FrameDetections, tracks: np.ndarray) -> bool:
        """Whether the people changed between the last regular look and one that found `found`, where the tracker,
        skipping the frames between, gives `tracks`. YOLO looks at those frames if so, or if they changed at the
        last regular look (`changed`)."""
        if self.found is None:
            return False
        return people_changed(self.found, found, self.min_score, self.min_iou) or set(tracks.tolist()) != self.tracks

    def looked(self, index: int, found: FrameDetections, tracks: np.ndarray, changed: bool) -> None:
        self.index, self.found, self.tracks, self.changed = index, found, set(tracks.tolist()), changed


def people_changed(before: FrameDetections, after: FrameDetections, min_score: float, min_iou: float) -> bool:
    """Whether a box scored at least `min_score` (enough to start a track) in one of two looks overlaps no box of
    the other by `min_iou`: a person appeared or left (or moved too far to tell)."""
    overlap = box_iou(before.boxes, after.boxes)
    lost = (before.box_scores >= min_score) & ~(overlap >= min_iou).any(axis=1)
    new = (after.box_scores >= min_score) & ~(overlap >= min_iou).any(axis=0)
    return bool(lost.any() or new.any())


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of boxes (N, 4) and (M, 4), x1 y1 x2 y2."""
    low, high = np.maximum(a[:, None, :2], b[None, :, :2]), np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=-1)
    areas_a, areas_b = np.prod(a[:, 2:] - a[:, :2], axis=-1), np.prod(b[:, 2:] - b[:, :2], axis=-1)
    return inter / np.maximum(areas_a[:, None] + areas_b[None, :] - inter, 1e-9)


def runs_of(frames: np.ndarray) -> list[np.ndarray]:
    """Positions (into the sorted `frames`) of each unbroken run of consecutive frame numbers."""
    if len(frames) == 0:
        return []
    breaks = np.flatnonzero(np.diff(frames) != 1) + 1
    return np.split(np.arange(len(frames)), breaks)


def track_rows(frame_index: np.ndarray, track_id: np.ndarray) -> Iterator[np.ndarray]:
    """Each track's rows in frame order, one unbroken run of consecutive frames at a time."""
    for track in np.unique(track_id):
        rows = np.flatnonzero(track_id == track)
        rows = rows[np.argsort(frame_index[rows], kind="stable")]
        for run in runs_of(frame_index[rows]):
            yield rows[run]


def run_starts(frame_index: np.ndarray, track_id: np.ndarray) -> np.ndarray:
    """(D,) bool: the first row of each unbroken run of a track."""
    starts = np.zeros(len(frame_index), bool)
    for rows in track_rows(frame_index, track_id):
        starts[rows[0]] = True
    return starts


def measured_rows(frame_index: np.ndarray, track_id: np.ndarray, stride: int) -> np.ndarray:
    """(D,) bool: the detection rows the landmark model measures at a fixed `stride` (all of them at stride 1)."""
    measured = frame_index % stride == 0
    for rows in track_rows(frame_index, track_id):
        measured[rows[[0, -1]]] = True
    return measured


def interpolate_rows(
    frame_index: np.ndarray, track_id: np.ndarray, measured: np.ndarray, arrays: list[np.ndarray]
) -> None:
    """Fill, in place, every unmeasured row of `arrays` (each (D, ...)) linearly in time between the same track's
    measured rows before and after it (which `measured_rows` guarantees); a flag (bool) holds where both of them
    hold it. NaN (unmeasured feet) next to a row stays NaN."""
    for track in np.unique(track_id):
        rows = np.flatnonzero(track_id == track)
        rows = rows[np.argsort(frame_index[rows], kind="stable")]
        known = measured[rows]
        if known.all():
            continue
        frames = frame_index[rows].astype(np.float64)
        after = np.clip(np.searchsorted(frames[known], frames[~known]), 1, known.sum() - 1)
        left, right = rows[known][after - 1], rows[known][after]
        weight = (frames[~known] - frame_index[left]) / np.maximum(frame_index[right] - frame_index[left], 1)
        for array in arrays:
            if array.dtype == bool:  # a flag holds where both neighbours hold it
                array[rows[~known]] = array[left] & array[right]
                continue
            w = weight.reshape((-1,) + (1,) * (array.ndim - 1)).astype(array.dtype)
            array[rows[~known]] = (1 - w) * array[left] + w * array[right]


def fill_between_detections(rows: dict[str, np.ndarray], stride: int, interpolated: tuple[str, ...]) -> dict:
    """Pass 1's rows with each track's frames between two of its detections at most `stride` apart added: the columns
    named in `interpolated` linear in time, the other columns copied from the detection before. Sorted by frame."""
    if stride == 1 or len(rows["frame_index"]) == 0:
        return rows
    frame_index, track_id = rows["frame_index"], rows["track_id"]
    new: dict[str, list[np.ndarray]] = {name: [values] for name, values in rows.items()}
    for track in np.unique(track_id):
        found = np.flatnonzero(track_id == track)
        found = found[np.argsort(frame_index[found], kind="stable")]
        lengths = np.diff(frame_index[found])
        gaps = np.flatnonzero((lengths > 1) & (lengths <= stride))  # shorter than the stride: at the clip's end
        if len(gaps) == 0:
            continue
        before, after, lengths = found[gaps], found[gaps + 1], lengths[gaps]
        steps = np.concatenate([np.arange(1, length) for length in lengths])
        left, right = np.repeat(before, lengths - 1), np.repeat(after, lengths - 1)
        weight = steps / np.repeat(lengths, lengths - 1)
        for name, values in rows.items():
            if name == "frame_index":
                new[name].append(frame_index[left] + steps)
            elif name in interpolated:
                w = weight.reshape((-1,) + (1,) * (values.ndim - 1)).astype(values.dtype)
                new[name].append((1 - w) * values[left] + w * values[right])
            else:
                new[name].append(values[left])
    merged = {name: np.concatenate(parts) for name, parts in new.items()}
    order = np.argsort(merged["frame_index"], kind="stable")
    return {name: values[order] for name, values in merged.items()}
