"""The detection step's inputs: a video through the detector (retried on the CPU when the GPU runs out of memory),
a detection file read back, or a 2D keypoints file of another tool (`detector.keypoint_files`), each turned into
the people's 2D sequences, main subject first.
"""

from __future__ import annotations

import contextlib
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from app.config import InputError, PipelineConfig
from detector import DetectionResult, detect
from detector.keypoint_files import KeypointFileError, read_keypoint_file
from detector.result import FORMAT as DETECTION_FORMAT
from pose_lifting.progress import Progress
from pose_lifting.sequence import Pose2DSequence

KEYPOINT_SUFFIXES = (".npz", ".json", ".zip")  # with folders: the inputs that are 2D keypoints, not videos


def run_detector(path: Path, config: PipelineConfig, progress: Progress) -> DetectionResult:
    """The detector stage; a GPU that runs out of memory is retried on the CPU."""
    detector_config = config.detector_config()
    try:
        return detect(path, detector_config, progress)
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        result = detect(path, replace(detector_config, device="cpu"), progress)
        result.warnings.append("the GPU ran out of memory; the detector ran on the CPU instead")
        return result


def read_people(
    path: Path, config: PipelineConfig, progress: Progress
) -> tuple[list[Pose2DSequence], np.ndarray, list[str], DetectionResult | None]:
    """Every 2D person (main subject first), the timestamps of all processed frames, warnings for the user, and
    the detections they come from (None for a keypoints file).

    A video goes through the detector; a detection file (`python -m detector --out x.npz/.json`) is read back;
    any other `.npz`, `.json`, `.zip` or a folder is a keypoints file (see the module doc).
    """
    if not is_keypoint_input(path):
        detections = run_detector(path, config, progress)
    elif _is_detection_file(path):
        detections = DetectionResult.load(path)
    else:
        return *read_keypoints(path, config), None
    others = [detections.track(i) for i in detections.track_ids() if i != detections.main_track_id]
    people = [detections.main_track()] + others
    return people, detections.timestamps, list(detections.warnings), detections


def is_keypoint_input(path: Path) -> bool:
    """A keypoints or detection file, or a folder of them, rather than a video."""
    return path.is_dir() or path.suffix.lower() in KEYPOINT_SUFFIXES


def _is_detection_file(path: Path) -> bool:
    if path.is_dir() or path.suffix.lower() == ".zip":
        return False
    if path.suffix.lower() == ".json":  # unreadable JSON is left to the keypoint reader, which says why
        with contextlib.suppress(OSError, ValueError, RecursionError):
            document = json.loads(path.read_bytes())
            return isinstance(document, dict) and document.get("format") == DETECTION_FORMAT
        return False
    try:
        with np.load(path, allow_pickle=False) as data:
            return "meta" in data.files
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError) as error:  # AttributeError: one .npy
        raise InputError(f"'{path.name}' is not a readable .npz file (truncated or damaged?): {error}") from error


def read_keypoints(path: Path, config: PipelineConfig) -> tuple[list[Pose2DSequence], np.ndarray, list[str]]:
    """The people of a 2D keypoints file (see the module doc), main subject first, and the timestamps of its
    frames, cut to max_frames / max_duration_s with a warning."""
    try:
        people, timestamps = read_keypoint_file(path, config.keypoints_fps, config.keypoints_size)
    except KeypointFileError as error:
        raise InputError(str(error)) from error
    limit = len(timestamps) if config.max_frames is None else min(len(timestamps), config.max_frames)
    if config.max_duration_s is not None:
        limit = min(limit, int(np.searchsorted(timestamps, config.max_duration_s)))
    if limit >= len(timestamps):
        return people, timestamps, []
    people = [_first_frames(p, limit - p.first_frame) for p in people if p.first_frame < limit]
    if not people:
        raise InputError(f"'{path.name}': nobody is in the first {limit} frames; raise max_frames / max_duration_s")
    warning = (
        f"only the first {limit} of {len(timestamps)} frames were processed (max_frames={config.max_frames}, "
        f"max_duration_s={config.max_duration_s}); raise the limit to process all of them"
    )
    return people, timestamps[:limit], [warning]


def _first_frames(person: Pose2DSequence, count: int) -> Pose2DSequence:
    times = None if person.timestamps is None else person.timestamps[:count]
    feet = {} if person.feet is None else {"feet": person.feet[:count], "feet_scores": person.feet_scores[:count]}
    return replace(person, keypoints=person.keypoints[:count], scores=person.scores[:count], timestamps=times, **feet)
