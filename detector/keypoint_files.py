"""Read 2D keypoints that other tools wrote, and our own keypoints `.npz`, into `Pose2DSequence`s (Human3.6M-17,
pixels), so that the lifter can take the output of any 2D pose detector.

    people, timestamps = read_keypoint_file("clip_json/", fps=30.0, size=(1920, 1080))   # main subject first

The formats, told apart by `read_keypoint_file`:

- a folder or `.zip` of OpenPose per-frame JSON files: `people[].pose_keypoints_2d`, flat x, y, c triples in the
  BODY_25 or the COCO-18 layout (told apart by the count, 75 or 54); each file's frame is the last number in its
  name (`clip_000000000012_keypoints.json`);
- a COCO keypoint results `.json`: a list of `{"image_id", "category_id", "keypoints": 51 numbers, "score"}`, the
  frames in the order of the sorted image ids;
- an MMPose / RTMPose predictions `.json` (`--save-predictions`): `{"meta_info", "instance_info": [{"frame_id",
  "instances": [{"keypoints": [[x, y], ...], "keypoint_scores": [...]}]}]}`, or the bare list of frames;
- a keypoints `.npz`: `keypoints` (T, 17, 2) pixels, `scores` (T, 17), `layout` ("coco" or "h36m"), `fps`, `width`,
  `height`.

Every layout is written once below with its joint names and mapped to COCO-17 by name; `coco_to_h36m` does the
final remap after the gaps are filled, as for the detector's own tracks (`fill_gaps` in COCO layout). The heels
and big toes of the layouts that have them (BODY_25, MMPose's Halpe-26 and COCO-WholeBody) become the sequence's
`feet` (heels and foot tips, as BlazePose's), cleaned and filled the same way; the world step stands the body on
them. A joint is
measured where its coordinates are finite, within one picture size of the picture, and its score is above 0;
anything else (NaN, inf, far off, OpenPose's 0, 0, 0) is a missing joint, and a frame with fewer than MIN_JOINTS
measured joints a missed frame; both are filled over time. People are told apart by OpenPose's `person_id` where
every detection has one (not -1), else each frame's people continue the nearest people of the frames before
(greedy, by mean keypoint position); the person present longest comes first. The frame rate and the picture size
come from the file where it has them, else from the caller (`--fps`, `--size`), else from a video of the same
name beside the file. Every problem is a `KeypointFileError` whose one-line message names the file and the field.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from detector.config import DetectorConfig
from detector.errors import DetectorError
from detector.gaps import fill_gaps
from detector.remap import COCO_NAMES, coco_to_h36m
from detector.video import Video, read_video
from pose_lifting.sequence import Pose2DSequence
from pose_lifting.skeleton import NUM_JOINTS

# OpenPose's layouts in its keypoint order, under the COCO-17 names where the joint is the same
BODY_25: tuple[str, ...] = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye",
    "left_eye", "right_ear", "left_ear", "left_big_toe", "left_small_toe", "left_heel", "right_big_toe",
    "right_small_toe", "right_heel",
)
COCO_18: tuple[str, ...] = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye",
    "right_ear", "left_ear",
)
OPENPOSE_LAYOUTS = {3 * len(names): (label, names) for label, names in (("BODY_25", BODY_25), ("COCO-18", COCO_18))}
# MMPose's body layouts that begin with COCO-17's keypoints: COCO, Halpe-26, COCO-WholeBody-133
MMPOSE_COUNTS = (17, 26, 133)
# the foot keypoints after COCO-17's in Halpe-26 (17-25) and COCO-WholeBody (17-22; its face and hands follow)
HALPE_26: tuple[str, ...] = (*COCO_NAMES, "head", "neck", "hip", "left_big_toe", "right_big_toe", "left_small_toe",
                             "right_small_toe", "left_heel", "right_heel")
WHOLEBODY_FEET: tuple[str, ...] = (*COCO_NAMES, "left_big_toe", "left_small_toe", "left_heel", "right_big_toe",
                                   "right_small_toe", "right_heel")
MMPOSE_LAYOUTS = {17: COCO_NAMES, 26: HALPE_26, 133: WHOLEBODY_FEET}  # the 133's first 23 keypoints are named
# Pose2DSequence.feet's columns (detector.landmarks.FEET_NAMES: left_heel, right_heel, left_foot_index,
# right_foot_index) by their names in these layouts: BlazePose's foot index is the tip of the foot, the big toe here
FOOT_JOINTS: tuple[str, ...] = ("left_heel", "right_heel", "left_big_toe", "right_big_toe")
COCO_RESULT_VALUES = 3 * len(COCO_NAMES)  # x, y, score per keypoint

MIN_JOINTS = 6  # of 17: a frame with fewer measured joints says too little about the body and counts as missed
MIN_FRAMES = 2  # a person needs this many frames with MIN_JOINTS measured joints
THRESHOLD = DetectorConfig.keypoint_threshold  # joints scored below this are interpolated, as in the detector
FPS_RANGE = (1.0, 1000.0)  # the lifter resamples to its own rate: a wrong rate far off would make huge sequences
SIDE_RANGE = (16, 16384)  # pixels, each side of the picture
MAX_ASPECT = 8.0  # longest over shortest side; the render's canvas is sized from the picture
MAX_SPAN = 1_000_000  # frames from the first to the last; a longer timeline is a numbering mistake
MATCH_DISTANCE = 0.2  # of the picture's diagonal: how far a person's mean keypoint may move between their frames
MATCH_GAP = 30  # frames a person may go unseen and still be continued
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".webm", ".mkv", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts")


class KeypointFileError(DetectorError):
    """A keypoint file cannot be read: the message names the file and the field, and says what to do."""


def coco_indices(names: tuple[str, ...]) -> np.ndarray:
    """For each COCO-17 keypoint, its index in a layout given by joint names."""
    return np.array([names.index(name) for name in COCO_NAMES])


def foot_indices(names: tuple[str, ...]) -> np.ndarray | None:
    """For each FOOT_JOINTS keypoint, its index in a layout given by joint names; None if the layout lacks them."""
    if not set(FOOT_JOINTS) <= set(names):
        return None
    return np.array([names.index(name) for name in FOOT_JOINTS])


@dataclass
class Detections:
    """What a JSON file says, before cleaning and tracking: one row per (frame, person), COCO-17 keypoints."""

    frames: list[int] = field(default_factory=list)
    person_ids: list[int | None] = field(default_factory=list)  # None: the file does not say who it is
    keypoints: list[np.ndarray] = field(default_factory=list)  # (17, 2) each
    scores: list[np.ndarray] = field(default_factory=list)  # (17,) each
    feet: list[np.ndarray] = field(default_factory=list)  # (4, 2) each, FOOT_JOINTS; NaN where the layout has none
    feet_scores: list[np.ndarray] = field(default_factory=list)  # (4,) each
    with_feet: list[bool] = field(default_factory=list)  # whether the detection's layout has heels and toes

    def add(self, frame: int, person_id: int | None, points: np.ndarray, scores: np.ndarray,
            names: tuple[str, ...] = COCO_NAMES) -> None:
        """One person in one frame: (J, 2) `points` and (J,) `scores` in the layout of the joint `names`."""
        self.frames.append(frame)
        self.person_ids.append(person_id)
        self.keypoints.append(points[coco_indices(names)])
        self.scores.append(scores[coco_indices(names)])
        feet = foot_indices(names)
        self.with_feet.append(feet is not None)
        self.feet.append(np.full((len(FOOT_JOINTS), 2), np.nan) if feet is None else points[feet])
        self.feet_scores.append(np.zeros(len(FOOT_JOINTS)) if feet is None else scores[feet])


def read_keypoint_file(
    path: str | Path, fps: float | None = None, size: tuple[int, int] | None = None
) -> tuple[list[Pose2DSequence], np.ndarray]:
    """Every person in a keypoint file (module doc), main subject first, and the timestamps of all its frames;
    `fps` and `size` (width, height) are used where the file does not give them."""
    path = Path(path)
    if path.is_dir() or path.suffix.lower() == ".zip":
        detections, stem = read_openpose(path)
        stems = [path.stem, stem]
    elif path.suffix.lower() == ".json":
        detections, stems = read_json(path), [path.stem]
    elif path.suffix.lower() == ".npz":
        return read_npz(path, fps, size)
    else:
        raise KeypointFileError(f"'{path.name}' is not a keypoint file: give a folder or .zip (OpenPose), or .json")
    picture = resolve_picture(path, stems, {}, fps, size)
    return track_people(detections, *picture, path.name)


def read_npz(
    path: Path, fps: float | None = None, size: tuple[int, int] | None = None
) -> tuple[list[Pose2DSequence], np.ndarray]:
    """The one person of a keypoints `.npz` (module doc) and its frames' timestamps."""
    name = path.name
    content = _npz_arrays(path)
    missing = [key for key in ("keypoints", "scores", "layout") if key not in content]
    if missing:
        raise KeypointFileError(
            f"'{name}' lacks {', '.join(missing)}; a keypoints file holds keypoints (T, 17, 2) pixels, scores (T, 17), "
            "layout ('coco' or 'h36m'), and fps, width, height (or give --fps and --size)"
        )
    layout = _npz_layout(content["layout"], name)
    keypoints, scores = content["keypoints"], content["scores"]
    for key, array in (("keypoints", keypoints), ("scores", scores)):
        if array.dtype.kind not in "iuf":
            raise KeypointFileError(f"'{name}': {key} must hold numbers, got dtype {array.dtype}")
    if keypoints.ndim != 3 or keypoints.shape[1:] != (NUM_JOINTS, 2) or scores.shape != keypoints.shape[:2]:
        raise KeypointFileError(
            f"'{name}': keypoints must be (T, 17, 2) and scores (T, 17), got {keypoints.shape} and {scores.shape}"
        )
    found = {key: _npz_number(content, key, name) for key in ("fps", "width", "height")}
    fps, width, height = resolve_picture(path, [path.stem], found, fps, size)
    keypoints, scores = clean(keypoints, scores, width, height)
    if np.isfinite(keypoints).all(-1).any(-1).sum() < MIN_FRAMES:
        raise KeypointFileError(_too_few(name))
    times = np.arange(len(keypoints)) / fps
    return [gap_free(times, keypoints, scores, layout, fps, width, height)], times


def read_openpose(path: Path) -> tuple[Detections, str]:
    """The detections of an OpenPose folder or `.zip` of per-frame JSON files, and the files' name before the frame
    number (OpenPose names them after the video)."""
    files = _openpose_files(path)
    numbered: dict[int, str] = {}
    for member in files:
        numbers = re.findall(r"\d+", Path(member).stem)
        if not numbers:
            raise KeypointFileError(f"'{path.name}': cannot tell the frame of '{member}' (no number in its name)")
        frame = int(numbers[-1])
        if frame in numbered:
            raise KeypointFileError(f"'{path.name}': '{numbered[frame]}' and '{member}' are both frame {frame}")
        numbered[frame] = member
    detections = Detections()
    for frame, member in sorted(numbered.items()):
        where = f"'{path.name}': {member}"
        document = _parse_json(files[member], where)
        if not isinstance(document, dict):
            raise KeypointFileError(f"{where} must be an OpenPose object with 'people'")
        _openpose_people(document, frame, where, detections)
    first = Path(numbered[min(numbered)]).stem
    stem = first[: first.rfind(re.findall(r"\d+", first)[-1])].rstrip("_-. ")
    return detections, stem


def read_json(path: Path) -> Detections:
    """The detections of a COCO keypoint results, MMPose predictions or single OpenPose frame `.json`."""
    try:
        text = path.read_bytes()
    except OSError as error:
        raise KeypointFileError(f"'{path.name}' cannot be read: {error}") from error
    document = _parse_json(text, f"'{path.name}'")
    detections = Detections()
    where = f"'{path.name}'"
    if isinstance(document, dict) and "people" in document:
        _openpose_people(document, 0, where, detections)
    elif isinstance(document, dict) and "instance_info" in document:
        _mmpose(document["instance_info"], f"{where}: instance_info", detections)
    elif isinstance(document, list) and document and isinstance(document[0], dict) and "image_id" in document[0]:
        _coco_results(document, where, detections)
    elif isinstance(document, list) and document and isinstance(document[0], dict):
        _mmpose(document, where, detections)
    else:
        raise KeypointFileError(
            f"{where} is not a keypoint file this tool reads: OpenPose ('people'), COCO keypoint results (a list of "
            "'image_id', 'keypoints'), MMPose predictions ('instance_info'), or a detection file of python -m detector"
        )
    return detections


def resolve_picture(
    path: Path, stems: Iterable[str], found: dict[str, float | None], fps: float | None, size: tuple[int, int] | None
) -> tuple[float, int, int]:
    """The frame rate, width and height: the file's (`found`), else `fps` and `size` (--fps, --size), else a video
    beside the file named after one of `stems`; each checked."""
    given = {"fps": fps, "width": None if size is None else size[0], "height": None if size is None else size[1]}
    option = {"fps": "--fps", "width": "--size", "height": "--size"}
    values: dict[str, float] = {}
    origins: dict[str, str] = {}
    for key in ("fps", "width", "height"):
        if found.get(key) is not None:
            values[key], origins[key] = found[key], key
        elif given[key] is not None:
            values[key], origins[key] = given[key], option[key]
    missing = [key for key in ("fps", "width", "height") if key not in values]
    video = _video_beside(path, stems) if missing else None
    if missing and video is None:
        stem = next(iter(stems))
        raise KeypointFileError(
            f"'{path.name}' does not give its {' and '.join('frame rate' if k == 'fps' else k for k in missing)}: "
            f"give --fps F and --size WxH (e.g. --fps 30 --size 1920x1080), or put its video beside it ({stem}.mp4)"
        )
    for key in missing:
        values[key], origins[key] = getattr(video, key), f"the video '{video.path.name}'"
    return _checked_picture(values, origins, path.name)


def clean(keypoints: np.ndarray, scores: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(..., J, 2) keypoints with NaN and (..., J) scores (clipped to 0..1) with 0 wherever a joint is not measured
    (module doc); a frame with fewer than MIN_JOINTS measured joints loses them all."""
    keypoints, scores, measured = _measured(keypoints, scores, width, height)
    measured &= (measured.sum(-1) >= MIN_JOINTS)[..., None]
    return (
        np.where(measured[..., None], keypoints, np.nan).astype(np.float32),
        np.where(measured, scores, 0.0).astype(np.float32),
    )


def _measured(keypoints: np.ndarray, scores: np.ndarray, width: int, height: int):
    """Keypoints and scores as float64 (scores clipped to 0..1, NaN 0) and where each joint is measured (module doc)."""
    keypoints = np.asarray(keypoints, np.float64)
    scores = np.nan_to_num(np.asarray(scores, np.float64), nan=0.0, posinf=0.0, neginf=0.0).clip(0.0, 1.0)
    limits = np.array([width, height], np.float64)
    with np.errstate(invalid="ignore"):
        inside = ((keypoints >= -limits) & (keypoints <= 2 * limits)).all(-1)  # False for NaN
    return keypoints, scores, inside & (scores > 0)


def clean_feet(
    feet: np.ndarray, scores: np.ndarray, width: int, height: int, frames_measured: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(..., 4, 2) heels and toes with NaN and (..., 4) scores with 0 where not measured (as `clean`), and in the
    frames whose body was missed (`frames_measured` False)."""
    feet, scores, measured = _measured(feet, scores, width, height)
    measured &= frames_measured[..., None]
    return (
        np.where(measured[..., None], feet, np.nan).astype(np.float32),
        np.where(measured, scores, 0.0).astype(np.float32),
    )


def gap_free(
    times: np.ndarray,
    keypoints: np.ndarray,
    scores: np.ndarray,
    layout: str,
    fps: float,
    width: int,
    height: int,
    track_id: int = 0,
    first_frame: int = 0,
    feet: np.ndarray | None = None,
    feet_scores: np.ndarray | None = None,
) -> Pose2DSequence:
    """A cleaned track (`clean`, at least one frame measured) as a Pose2DSequence: gaps filled over time in its own
    layout ("coco" or "h36m"), a joint never measured put at its frame's mean joint with score 0, then COCO is
    remapped to H36M. Cleaned `feet` (`clean_feet`) are filled over time too; a foot point never measured stays NaN
    (as the detector's), and feet never measured at all are None."""
    if feet is not None and np.isfinite(feet).all(-1).any():
        feet = fill_gaps(times, feet, feet_scores, THRESHOLD)
    else:
        feet, feet_scores = None, None
    filled = fill_gaps(times, keypoints, scores, THRESHOLD)
    never = ~np.isfinite(filled).all(-1)
    if never.any():
        centre = np.nanmean(filled, axis=1, keepdims=True)
        filled = np.where(never[..., None], centre, filled)
    if layout == "coco":
        filled, scores = coco_to_h36m(filled, scores)
    return Pose2DSequence(filled, scores, fps, width, height, track_id, times, first_frame, feet, feet_scores)


def track_people(
    detections: Detections, fps: float, width: int, height: int, name: str
) -> tuple[list[Pose2DSequence], np.ndarray]:
    """Each person's gap-free sequence from their first to their last measured frame (the person present longest
    first), and the timestamps of every frame from the file's first to its last."""
    if not detections.frames:
        raise KeypointFileError(f"'{name}' holds no people")
    start, end = min(detections.frames), max(detections.frames)
    if end - start >= MAX_SPAN:
        raise KeypointFileError(f"'{name}': frames {start} to {end} span more than {MAX_SPAN} frames")
    frames = np.array([frame - start for frame in detections.frames], np.int64)
    keypoints, scores = clean(np.stack(detections.keypoints), np.stack(detections.scores), width, height)
    measured = np.isfinite(keypoints).all(-1).sum(-1)
    keep = measured > 0
    feet, feet_scores = clean_feet(np.stack(detections.feet), np.stack(detections.feet_scores), width, height, keep)
    with_feet = np.array(detections.with_feet)[keep]
    ids = [person for person, kept in zip(detections.person_ids, keep) if kept]
    frames, keypoints, scores, measured = frames[keep], keypoints[keep], scores[keep], measured[keep]
    feet, feet_scores = feet[keep], feet_scores[keep]
    if all(person is not None for person in ids):
        tracks = np.array(ids, np.int64)
    else:
        reach = MATCH_DISTANCE * float(np.hypot(width, height))
        tracks = match_people(frames, np.nanmean(keypoints, axis=1), reach)
    times = np.arange(end - start + 1) / fps
    people = []
    for track in np.unique(tracks):
        rows = np.flatnonzero(tracks == track)
        if len(np.unique(frames[rows])) < MIN_FRAMES:
            continue
        rows = rows[np.argsort(measured[rows], kind="stable")]  # two of one person in a frame: the fuller one wins
        first, last = int(frames[rows].min()), int(frames[rows].max())
        track_keypoints = np.full((last - first + 1, len(COCO_NAMES), 2), np.nan, np.float32)
        track_scores = np.zeros((last - first + 1, len(COCO_NAMES)), np.float32)
        track_keypoints[frames[rows] - first] = keypoints[rows]
        track_scores[frames[rows] - first] = scores[rows]
        track_feet, track_feet_scores = None, None
        if with_feet[rows].any():
            track_feet = np.full((last - first + 1, len(FOOT_JOINTS), 2), np.nan, np.float32)
            track_feet_scores = np.zeros((last - first + 1, len(FOOT_JOINTS)), np.float32)
            track_feet[frames[rows] - first] = feet[rows]
            track_feet_scores[frames[rows] - first] = feet_scores[rows]
        span = slice(first, last + 1)
        people.append(gap_free(times[span], track_keypoints, track_scores, "coco", fps, width, height, int(track),
                               first, track_feet, track_feet_scores))
    if not people:
        raise KeypointFileError(_too_few(name))
    presence = {p.track_id: len(np.unique(frames[tracks == p.track_id])) for p in people}
    people.sort(key=lambda p: (-presence[p.track_id], p.first_frame, p.track_id))
    return people, times


def match_people(frames: np.ndarray, centres: np.ndarray, reach: float) -> np.ndarray:
    """A track number for each detection: frame by frame, each person continues the nearest track (by the mean
    keypoint `centres`) seen within MATCH_GAP frames and `reach` pixels, closest pairs first; the rest start tracks."""
    tracks = np.zeros(len(frames), np.int64)
    last_seen: list[tuple[int, np.ndarray]] = []  # per track: its last frame and centre there
    for frame in np.unique(frames):
        here = np.flatnonzero(frames == frame)
        live = [t for t, (seen, _) in enumerate(last_seen) if frame - seen <= MATCH_GAP]
        pairs = sorted(
            (float(np.linalg.norm(centres[i] - last_seen[t][1])), int(i), t) for i in here for t in live
        )
        matched: dict[int, int] = {}
        for distance, i, t in pairs:
            if distance <= reach and i not in matched and t not in matched.values():
                matched[i] = t
        for i in here:
            if i not in matched:
                matched[i] = len(last_seen)
                last_seen.append((int(frame), centres[i]))
            tracks[i] = matched[i]
            last_seen[matched[i]] = (int(frame), centres[i])
    return tracks


def _too_few(name: str) -> str:
    return (
        f"'{name}': no person has {MIN_FRAMES} frames with at least {MIN_JOINTS} valid joints (finite, in the "
        "picture, score above 0); check the file's coordinates and --size"
    )


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        message = f"'{path.name}' is not a readable .npz file (truncated or damaged?): {error}"
        raise KeypointFileError(message) from error
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise KeypointFileError(f"'{path.name}' holds one bare array; save named arrays with np.savez")
    content = {}
    with data:
        for key in data.files:
            try:
                content[key] = data[key]
            except ValueError as error:  # object arrays: reading them would unpickle, which can run code
                message = f"'{path.name}': {key} cannot be read ({error}); store numbers or text"
                raise KeypointFileError(message) from error
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
                raise KeypointFileError(f"'{path.name}': {key} is damaged: {error}") from error
    return content


def _npz_layout(value: np.ndarray, name: str) -> str:
    text = value.reshape(()).item() if value.dtype.kind in "US" and value.size == 1 else None
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    if text not in ("coco", "h36m"):
        shown = repr(text)[:40] if text is not None else f"shape {value.shape} dtype {value.dtype}"
        raise KeypointFileError(f"'{name}': layout must be the text 'coco' or 'h36m', got {shown}")
    return text


def _npz_number(content: dict[str, np.ndarray], key: str, name: str) -> float | None:
    if key not in content:
        return None
    value = content[key]
    if value.dtype.kind not in "iuf" or value.size != 1 or value.ndim > 1:
        raise KeypointFileError(f"'{name}': {key} must be one number, got shape {value.shape} dtype {value.dtype}")
    return float(value.reshape(()))


def _checked_picture(values: dict[str, float], origins: dict[str, str], name: str) -> tuple[float, int, int]:
    what = {key: key if origin == key else f"the {key} from {origin}" for key, origin in origins.items()}
    fps = float(values["fps"])
    if not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:  # False for NaN
        raise KeypointFileError(
            f"'{name}': {what['fps']} must be a frame rate from {FPS_RANGE[0]:g} to {FPS_RANGE[1]:g}, got {fps:g}"
        )
    sides = []
    for key in ("width", "height"):
        side = float(values[key])
        if not SIDE_RANGE[0] <= side <= SIDE_RANGE[1]:
            raise KeypointFileError(
                f"'{name}': {what[key]} must be from {SIDE_RANGE[0]} to {SIDE_RANGE[1]} pixels, got {side:g}"
            )
        sides.append(round(side))
    width, height = sides
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise KeypointFileError(f"'{name}': a {width} x {height} picture is over {MAX_ASPECT:g} times wider than high")
    return fps, width, height


def _video_beside(path: Path, stems: Iterable[str]) -> Video | None:
    """The first readable video beside `path` named after one of `stems`, or None."""
    for stem in stems:
        for suffix in VIDEO_SUFFIXES:
            candidate = path.parent / f"{stem}{suffix}"
            if stem and candidate.is_file() and candidate != path:
                try:
                    return read_video(candidate)
                except DetectorError:
                    continue
    return None


def _openpose_files(path: Path) -> dict[str, bytes]:
    """Name -> content of every .json file in the folder or zip (zips: at any depth, without macOS's extras)."""
    try:
        if path.is_dir():
            members = sorted(p for p in path.iterdir() if p.suffix.lower() == ".json" and p.is_file())
            files = {p.name: p.read_bytes() for p in members}
        else:
            with zipfile.ZipFile(path) as archive:
                files = {
                    info.filename: archive.read(info)
                    for info in archive.infolist()
                    if info.filename.lower().endswith(".json") and not info.is_dir()
                    and not info.filename.startswith("__MACOSX/")
                }
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError) as error:
        raise KeypointFileError(f"'{path.name}' cannot be read (damaged or encrypted?): {error}") from error
    if not files:
        raise KeypointFileError(f"'{path.name}' holds no .json files (OpenPose writes one per frame with --write_json)")
    return files


def _parse_json(text: bytes, where: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:  # ValueError covers bad JSON and bad UTF-8
        raise KeypointFileError(f"{where} is not readable JSON: {error}") from error


def _openpose_people(document: dict, frame: int, where: str, detections: Detections) -> None:
    people = document.get("people")
    if not isinstance(people, list):
        raise KeypointFileError(f"{where}: 'people' must be a list")
    for index, person in enumerate(people):
        at = f"{where}: people[{index}]"
        if not isinstance(person, dict):
            raise KeypointFileError(f"{at} must be an object with 'pose_keypoints_2d'")
        flat = _numbers(person.get("pose_keypoints_2d"), f"{at}.pose_keypoints_2d")
        if len(flat) not in OPENPOSE_LAYOUTS:
            raise KeypointFileError(
                f"{at}.pose_keypoints_2d has {len(flat)} numbers; BODY_25 has 75 (x, y, c per joint), COCO-18 54"
            )
        triples = flat.reshape(-1, 3)
        person_id = _person_id(person.get("person_id"), f"{at}.person_id")
        detections.add(frame, person_id, triples[:, :2], triples[:, 2], OPENPOSE_LAYOUTS[len(flat)][1])


def _coco_results(document: list, where: str, detections: Detections) -> None:
    entries = []
    for index, entry in enumerate(document):
        at = f"{where}: [{index}]"
        image = entry.get("image_id") if isinstance(entry, dict) else None
        if isinstance(image, bool) or not isinstance(image, (int, str)):
            raise KeypointFileError(f"{at} must be an object with an 'image_id' (a number or a name)")
        flat = _numbers(entry.get("keypoints"), f"{at}.keypoints")
        if len(flat) != COCO_RESULT_VALUES:
            raise KeypointFileError(f"{at}.keypoints has {len(flat)} numbers; COCO-17 has 51 (x, y, score per joint)")
        entries.append((image, flat.reshape(-1, 3)))
    images = sorted({image for image, _ in entries}, key=lambda image: (isinstance(image, str), image))
    frame = {image: index for index, image in enumerate(images)}
    for image, triples in entries:
        detections.add(frame[image], None, triples[:, :2], triples[:, 2])


def _mmpose(frames: object, where: str, detections: Detections) -> None:
    if not isinstance(frames, list):
        raise KeypointFileError(f"{where} must be a list of frames")
    if frames and all(isinstance(entry, dict) and "instances" in entry for entry in frames):
        for index, entry in enumerate(frames):
            frame = entry.get("frame_id", index)
            if isinstance(frame, bool) or not isinstance(frame, int):
                raise KeypointFileError(f"{where}: [{index}].frame_id must be a whole number, got {repr(frame)[:40]}")
            _mmpose_instances(entry["instances"], frame, f"{where}: [{index}].instances", detections)
    else:  # one image's predictions: the list of instances itself
        _mmpose_instances(frames, 0, where, detections)


def _mmpose_instances(instances: object, frame: int, where: str, detections: Detections) -> None:
    if not isinstance(instances, list):
        raise KeypointFileError(f"{where} must be a list of instances")
    for index, instance in enumerate(instances):
        at = f"{where}[{index}]"
        if not isinstance(instance, dict):
            raise KeypointFileError(f"{at} must be an object with 'keypoints' and 'keypoint_scores'")
        points = instance.get("keypoints")
        if not isinstance(points, list) or not all(isinstance(p, list) and len(p) == 2 for p in points):
            raise KeypointFileError(f"{at}.keypoints must be a list of [x, y]")
        xy = _numbers([value for point in points for value in point], f"{at}.keypoints").reshape(-1, 2)
        scores = _numbers(instance.get("keypoint_scores"), f"{at}.keypoint_scores")
        if len(xy) not in MMPOSE_COUNTS or len(scores) != len(xy):
            raise KeypointFileError(
                f"{at} has {len(xy)} keypoints and {len(scores)} scores; expected one score per keypoint, and "
                f"{', '.join(map(str, MMPOSE_COUNTS))} keypoints (COCO, Halpe, COCO-WholeBody)"
            )
        names = MMPOSE_LAYOUTS[len(xy)]
        detections.add(frame, None, xy[: len(names)], scores[: len(names)], names)


def _numbers(value: object, where: str) -> np.ndarray:
    """A JSON list of numbers as floats; null (and a number too large for a float) is NaN, a missing value."""
    if not isinstance(value, list) or not all(
        v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in value
    ):
        raise KeypointFileError(f"{where} must be a list of numbers")
    return np.array([np.nan if v is None or abs(v) > 1e300 else float(v) for v in value], np.float64)


def _person_id(value: object, where: str) -> int | None:
    """OpenPose's person_id ([-1] or a number, -1: not tracked) as a number, or None."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value is None or value == -1:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**62:
        raise KeypointFileError(f"{where} must be a whole number or [number], got {repr(value)[:40]}")
    return value
