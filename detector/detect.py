"""`detect`: a video file in, every person's tracked 2D keypoints out (`DetectionResult`).

Two passes over the video, because the people to refine are known only once the whole clip is tracked:
1. `track_people`: frames decoded at YOLO's inference size (FFmpeg scales while converting, in a background
   thread, `video.prefetch`) go through the YOLO pose model a batch at a time, then frame by frame through the
   tracker; only the boxes and keypoints are kept, never the frames, so memory does not grow with the video.
   The same frames, with every person's box, show the camera's motion and the scene's lines (`camera.py`; the
   few frames whose lines are read are also converted at up to `SceneConfig.max_side`, from the same decoding).
2. `refine_keypoints` (unless `keypoints="yolo"`): the chosen people's frames, decoded again at full
   resolution, go through the top-down BlazePose stage (`topdown.py`).
Tracks are stitched and ranked once, between the passes. Both passes can measure sparsely, one frame in
`yolo_stride` (by default chosen from the frame rate) / `keypoint_stride`, the rest interpolated (`sparse.py`).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from time import perf_counter

import numpy as np

from detector.camera import CameraObserver
from detector.config import DetectorConfig
from detector.errors import NoPersonError, VideoTooShortError
from detector.landmarks import LandmarkModel
from detector.model import FrameDetections, PoseModel
from detector.result import DetectionResult
from detector.smoothing import LANDMARK_FILTER, smooth_rows
from detector.sparse import (
    LookSchedule,
    fill_between_detections,
    interpolate_rows,
    measured_rows,
    resolve_stride,
    run_starts,
)
from detector.topdown import Person, StageOutput, refine_tracks
from detector.tracking import PersonTracker, choose_track, rank_tracks, stitch_tracks
from detector.video import Frame, Video, is_still_image, prefetch, read_video
from pose_lifting.progress import Progress
from pose_lifting.sequence import CameraMotion, SceneGeometry

ROWS = ("frame_index", "track_id", "keypoints_coco", "scores_coco", "boxes", "box_scores")


@dataclass
class Tracked:
    """Pass 1's output: one row per (frame, person) detection, the frames' times, and where the time went."""

    rows: dict[str, np.ndarray]
    times: np.ndarray
    model: str
    ranking: list[int]  # track ids, the main subject's rank first (tracks stitched first, if asked)
    main: int
    timings: dict[str, float] = field(default_factory=dict)
    scene: SceneGeometry | None = None
    camera: CameraMotion | None = None
    warnings: list[str] = field(default_factory=list)


def detect(
    path: str | Path | Video, config: DetectorConfig | None = None, progress: Progress | None = None
) -> DetectionResult:
    """Detect and track the people in a video (a path, or a `Video` already opened, whose metadata is then not read
    again); `progress(fraction, message)` is called as frames are done."""
    config = config or DetectorConfig()
    report = progress or (lambda fraction, message: None)
    started = perf_counter()
    report(0.0, "opening the video")
    video = path if isinstance(path, Video) else read_video(path)
    # sparse 2D: YOLO's stride at this video's frame rate
    config = replace(config, yolo_stride=resolve_stride(config.yolo_stride, video.fps, config.yolo_rate_hz))
    limit, warnings = frame_limit(video, config)
    if limit < min_frames(video, config):
        raise _too_short(video, limit, config)
    split = 1.0 if config.keypoints == "yolo" else 0.4
    tracked = track_people(video, limit, config, lambda f, m: report(split * f, m))
    stage = None
    if config.keypoints != "yolo":
        chosen = people_to_refine(tracked, config)
        stage = refine_keypoints(video, tracked, chosen, config, lambda f, m: report(split + (1 - split) * f, m))
    # + the camera's motion, and the damaged parts skipped
    result = build_result(video, tracked, stage, config, warnings + tracked.warnings + video.warnings)
    result.timings["total_s"] = perf_counter() - started
    result.timings["ms_per_frame"] = 1000 * (result.timings["total_s"] - result.timings["load_s"]) / len(tracked.times)
    report(1.0, f"found {len(tracked.ranking)} people in {len(tracked.times)} frames")
    return result


def build_result(
    video: Video, tracked: Tracked, stage: StageOutput | None, config: DetectorConfig, warnings: list[str]
) -> DetectionResult:
    """The detection result from pass 1's rows, with pass 2's keypoints, feet and counts where it ran."""
    rows, timings, extra = dict(tracked.rows), dict(tracked.timings), {}
    if stage is not None:
        rows["keypoints_coco"], rows["scores_coco"] = stage.keypoints, stage.scores
        extra = dict(feet=stage.feet, feet_scores=stage.feet_scores, from_landmarks=stage.from_landmarks)
        warnings = warnings + stage.counts.warnings(config.keypoints)
        timings |= stage_timings(stage)
    return DetectionResult(
        **rows,
        **extra,
        timestamps=tracked.times,
        fps=video.fps,
        width=video.width,
        height=video.height,
        main_track_id=tracked.main,
        keypoint_threshold=config.keypoint_threshold,
        source=video.path.name,
        model=tracked.model,
        keypoint_model=config.keypoints if stage is not None else "yolo",
        ranking=tracked.ranking,
        timings=timings,
        warnings=warnings,
        scene=tracked.scene,
        camera=tracked.camera,
    )


def track_people(video: Video, limit: int, config: DetectorConfig, report: Progress) -> Tracked:
    """Pass 1: YOLO pose and the tracker on the first `limit` frames, decoded at the inference size; tracks
    stitched (if asked) and ranked."""
    started = perf_counter()
    report(0.0, "loading the pose model")
    model = PoseModel(config)
    stride = config.yolo_stride or 1
    tracker = PersonTracker(config.tracker, video.fps / stride, config.track_buffer_s)
    imgsz = model.inference_size(video.width, video.height)
    # frames are decoded at the inference size; keypoints and boxes are scaled back to the video's pixels
    scaled_width, scaled_height = video.scaled_size(config.yolo_imgsz)
    to_video = np.array([video.width / scaled_width, video.height / scaled_height], np.float32)
    threads = config.decode_threads if config.decode_threads is not None else int(model.device == "cpu")
    observer = CameraObserver(config, video.width, video.height, limit)
    frames = video.frames(  # the few frames the scene's lines are read on come also at up to its size
        limit, bgr=True, max_side=config.yolo_imgsz, threads=threads,
        detail=observer.scene_frames.__contains__, detail_side=config.scene.max_side,
    )
    timings = {"load_s": perf_counter() - started, "decode_wait_s": 0.0, "inference_s": 0.0, "tracking_s": 0.0}
    timings["camera_s"] = 0.0  # camera motion and the scene's lines
    parts: dict[str, list[np.ndarray]] = {name: [] for name in ROWS}
    times: list[float] = []
    schedule = LookSchedule(stride, limit - 1, tracker.new_track_score)  # sparse 2D: the frames YOLO looks at
    pending: list[Frame] = []  # frames after the last look: tracked with the next batch, which may look at them

    def look(frames: list[Frame]) -> dict[int, FrameDetections]:
        found = _timed(timings, "inference_s", functools.partial(model.predict, [f.image for f in frames], imgsz))
        return {frame.index: detections for frame, detections in zip(frames, found)}

    with closing(prefetch(_batched(frames, config.batch_size), config.prefetch_batches)) as batches:
        while (batch := _timed(timings, "decode_wait_s", lambda: next(batches, None))) is not None:
            frames_now = pending + batch
            found = look([frame for frame in batch if schedule.regular(frame.index)])
            tick, inference_s = perf_counter(), timings["inference_s"]
            times += [frame.time for frame in batch]
            tracked: list[tuple[Frame, np.ndarray, np.ndarray]] = []
            for frame in [f for f in frames_now if f.index in found]:
                tracker, changed, steps = track_look(frame, found, frames_now, schedule, tracker, look)
                schedule.looked(frame.index, found[frame.index], steps[-1][1], changed)
                tracked += steps
            done = max((position for position, f in enumerate(frames_now) if f.index in found), default=-1) + 1
            pending = frames_now[done:]
            for frame, ids, index in tracked:
                detections = found[frame.index]
                parts["frame_index"].append(np.full(len(ids), frame.index))
                parts["track_id"].append(ids)
                parts["keypoints_coco"].append(detections.keypoints[index] * to_video)
                parts["scores_coco"].append(detections.keypoint_scores[index])
                parts["boxes"].append(detections.boxes[index] * np.tile(to_video, 2))
                parts["box_scores"].append(detections.box_scores[index])
            timings["tracking_s"] += perf_counter() - tick - (timings["inference_s"] - inference_s)
            boxes = {index: detections.boxes * np.tile(to_video, 2) for index, detections in found.items()}
            _timed(timings, "camera_s", functools.partial(observe, observer, batch, boxes))
            report(min(1.0, len(times) / limit), f"detecting people: frame {len(times)} of {limit}")
    if len(times) < min_frames(video, config):
        raise _too_short(video, len(times), config)
    rows = {name: np.concatenate(values) for name, values in parts.items()}  # frame 0 is always looked at
    rows = fill_between_detections(rows, stride, ("keypoints_coco", "scores_coco", "boxes", "box_scores"))
    if len(rows["track_id"]) == 0:
        raise NoPersonError(
            f"no person was found in '{video.path.name}' ({len(times)} frames). The detector needs a person whose "
            "body is clearly visible; try a brighter or closer shot"
        )
    if config.stitch_gap_s > 0:
        rows["track_id"] = stitch_tracks(
            rows["frame_index"], rows["track_id"], rows["boxes"], video.fps, config.stitch_gap_s
        )
    ranking = rank_tracks(rows["track_id"], rows["boxes"])
    scene, camera, camera_warnings = _timed(timings, "camera_s", observer.finish)
    main = choose_track(ranking, config.track_id)
    return Tracked(rows, np.asarray(times), model.name, ranking, main, timings, scene, camera, camera_warnings)


def track_look(
    frame: Frame,
    found: dict[int, FrameDetections],
    frames: list[Frame],
    schedule: LookSchedule,
    tracker: PersonTracker,
    look: Callable[[list[Frame]], dict[int, FrameDetections]],
) -> tuple[PersonTracker, bool, list[tuple[Frame, np.ndarray, np.ndarray]]]:
    """A regular look through the tracker; where the people changed since the last one (`LookSchedule`), YOLO looks
    at the frames between them too (their detections added to `found`) and the tracker takes them all in order.
    Returns the tracker, whether the people changed, and (frame, track ids, detection indices) per frame tracked."""
    skipped = [f for f in frames if f.index in schedule.skipped(frame.index)]
    trial = copy.deepcopy(tracker) if skipped else tracker
    ids, index = trial.update(found[frame.index], frame.image)
    changed = schedule.changed_since(found[frame.index], ids)
    if not skipped or not (changed or schedule.changed):
        return trial, changed, [(frame, ids, index)]
    found |= look(skipped)
    steps = [(f, *tracker.update(found[f.index], f.image)) for f in skipped + [frame]]
    return tracker, changed, steps


def observe(observer: CameraObserver, batch: list[Frame], boxes: dict[int, np.ndarray]) -> None:
    """The camera observer sees each frame with every person found in it (tracked or not), boxes in video pixels;
    on a frame YOLO skipped (sparse 2D), the boxes of the last frame it looked at."""
    for frame in batch:
        observer.add(frame.index, frame.image, boxes.get(frame.index, observer.last_boxes), frame.detail)


def people_to_refine(tracked: Tracked, config: DetectorConfig) -> list[int]:
    """The track ids the keypoint model runs on: every track, or the main subject and any requested ones."""
    if config.all_tracks:
        return list(tracked.ranking)
    others = [choose_track(tracked.ranking, int(i)) for i in config.keypoint_tracks or () if i != tracked.main]
    return [tracked.main] + others


def refine_keypoints(
    video: Video, tracked: Tracked, track_ids: list[int], config: DetectorConfig, report: Progress
) -> StageOutput:
    """Pass 2: the BlazePose stage (model `config.keypoints`) on the rows of `track_ids`, in full-resolution frames."""
    tick = perf_counter()
    report(0.0, f"loading the BlazePose {config.keypoints} landmark model")
    model = LandmarkModel(config.keypoints, config.landmark_threads)
    rows = tracked.rows
    people = [Person(*row) for row in zip(rows["boxes"], rows["keypoints_coco"], rows["scores_coco"])]
    chosen = np.flatnonzero(np.isin(rows["track_id"], track_ids))
    measured = np.ones(len(people), bool)  # the other people's rows keep YOLO's keypoints
    measured[chosen] = measured_rows(rows["frame_index"][chosen], rows["track_id"][chosen], config.keypoint_stride)
    rows_by_frame: dict[int, list[int]] = {}
    for row in chosen[measured[chosen]]:
        rows_by_frame.setdefault(int(rows["frame_index"][row]), []).append(int(row))
    last = max(rows_by_frame) + 1
    load_s = perf_counter() - tick

    def frames() -> Iterator[Frame]:
        with closing(prefetch(video.frames(last, threads=1, keep=rows_by_frame.__contains__), depth=4)) as decoded:
            for count, frame in enumerate(decoded):
                if count % 10 == 0:
                    report(frame.index / last, f"2D keypoints ({config.keypoints}): frame {frame.index} of {last}")
                yield frame

    starts = run_starts(rows["frame_index"], rows["track_id"])
    stage = refine_tracks(frames(), rows_by_frame, people, rows["track_id"], starts, model, config)
    interpolate_rows(  # the rows between two measured ones (sparse 2D)
        rows["frame_index"],
        rows["track_id"],
        measured,
        [stage.keypoints, stage.scores, stage.feet, stage.feet_scores, stage.from_landmarks, stage.sizes],
    )
    if config.smooth_keypoints:  # on every frame, measured or interpolated, as a landmark model measuring each would
        points = smooth_rows(
            rows["frame_index"],
            rows["track_id"],
            tracked.times,
            np.concatenate([stage.keypoints, stage.feet], axis=1),
            stage.sizes,
            stage.from_landmarks,
            stage.restarts,
            LANDMARK_FILTER,
        )
        stage.keypoints, stage.feet = points[:, : stage.keypoints.shape[1]], points[:, stage.keypoints.shape[1] :]
    stage.load_s = load_s
    stage.total_s = perf_counter() - tick
    return stage


def stage_timings(stage: StageOutput) -> dict[str, float]:
    frames = max(stage.counts.person_frames, 1)
    return {
        "landmark_load_s": stage.load_s,
        "landmark_s": stage.landmark_s,
        "landmark_pass_s": stage.total_s,
        "landmark_ms_per_person_frame": 1000 * stage.landmark_s / frames,
    }


def frame_limit(video: Video, config: DetectorConfig) -> tuple[int, list[str]]:
    """How many frames to process under `max_frames` / `max_duration_s`, and a warning if that cuts the video."""
    limit = video.num_frames
    if config.max_frames is not None:
        limit = min(limit, config.max_frames)
    if config.max_duration_s is not None:
        limit = min(limit, int(np.searchsorted(video.timestamps, config.max_duration_s)))
    if limit >= video.num_frames:
        return video.num_frames, []
    kept = limit / video.fps
    return limit, [
        f"only the first {limit} of {video.num_frames} frames ({kept:.1f} of {video.duration_s:.1f} s) were "
        f"processed (max_frames={config.max_frames}, max_duration_s={config.max_duration_s}); trim the video "
        "or raise the limit to process all of it"
    ]


def min_frames(video: Video, config: DetectorConfig) -> int:
    """The fewest frames to process: one for a photo, `min_frames` for a video."""
    return 1 if is_still_image(video.path) else config.min_frames


def _timed(timings: dict[str, float], key: str, step: Callable):
    tick = perf_counter()
    value = step()
    timings[key] += perf_counter() - tick
    return value


def _too_short(video: Video, frames: int, config: DetectorConfig) -> VideoTooShortError:
    return VideoTooShortError(
        f"'{video.path.name}' has {frames} frame{'s' if frames != 1 else ''} to process; a video needs at least "
        f"{config.min_frames}. Upload a longer clip, or a single picture as a photo (png, jpg, webp)"
    )


def _batched(frames: Iterable[Frame], size: int) -> Iterator[list[Frame]]:
    batch: list[Frame] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
