"""`detect`: a video file in, every person's tracked 2D keypoints out (`DetectionResult`).

Frames are decoded in a background thread (`video.prefetch`) while the model runs on the previous batch, so
decoding costs little wall time; each batch goes through the pose model in one call, then frame by frame
through the tracker. Only the keypoints are kept, never the frames, so memory does not grow with the video.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path
from time import perf_counter

import numpy as np

from detector.config import DetectorConfig
from detector.errors import NoPersonError, VideoTooShortError
from detector.model import PoseModel
from detector.result import DetectionResult
from detector.tracking import PersonTracker, choose_track, rank_tracks, stitch_tracks
from detector.video import Frame, Video, prefetch, read_video
from pose_lifting.progress import Progress


def detect(path: str | Path, config: DetectorConfig | None = None, progress: Progress | None = None) -> DetectionResult:
    """Detect and track the people in a video; `progress(fraction, message)` is called as frames are done."""
    config = config or DetectorConfig()
    report = progress or (lambda fraction, message: None)
    started = perf_counter()
    report(0.0, "opening the video")
    video = read_video(path)
    limit, warnings = frame_limit(video, config)
    if limit < config.min_frames:
        raise _too_short(video, limit, config)

    report(0.0, "loading the pose model")
    model = PoseModel(config)
    tracker = PersonTracker(config.tracker, video.fps, config.track_buffer_s)
    imgsz = model.inference_size(video.width, video.height)
    loaded = perf_counter()

    rows: dict[str, list[np.ndarray]] = {name: [] for name in ("frame_index", "track_id", "keypoints_coco",
                                                               "scores_coco", "boxes", "box_scores")}  # fmt: skip
    times: list[float] = []
    waited = inference = tracking = 0.0
    # frames are decoded at the inference size; keypoints and boxes are scaled back to the video's pixels
    scaled_width, scaled_height = video.scaled_size(config.imgsz)
    to_video = np.array([video.width / scaled_width, video.height / scaled_height], np.float32)
    box_to_video = np.tile(to_video, 2)
    threads = config.decode_threads if config.decode_threads is not None else int(model.device == "cpu")
    frames = video.frames(limit, bgr=True, max_side=config.imgsz, threads=threads)
    batches = prefetch(_batched(frames, config.batch_size), config.prefetch_batches)
    with closing(batches):
        while True:
            tick = perf_counter()
            batch = next(batches, None)
            waited += perf_counter() - tick
            if batch is None:
                break
            tick = perf_counter()
            detections = model.predict([frame.image for frame in batch], imgsz)
            inference += perf_counter() - tick
            tick = perf_counter()
            for frame, found in zip(batch, detections):
                ids, index = tracker.update(found, frame.image)
                rows["frame_index"].append(np.full(len(ids), frame.index))
                rows["track_id"].append(ids)
                rows["keypoints_coco"].append(found.keypoints[index] * to_video)
                rows["scores_coco"].append(found.keypoint_scores[index])
                rows["boxes"].append(found.boxes[index] * box_to_video)
                rows["box_scores"].append(found.box_scores[index])
                times.append(frame.time)
            tracking += perf_counter() - tick
            report(min(1.0, len(times) / limit), f"detecting people: frame {len(times)} of {limit}")

    warnings += video.warnings  # damaged parts skipped while decoding
    if len(times) < config.min_frames:
        raise _too_short(video, len(times), config)
    arrays = {name: np.concatenate(parts) for name, parts in rows.items()}
    if len(arrays["track_id"]) == 0:
        raise NoPersonError(
            f"no person was found in '{video.path.name}' ({len(times)} frames). The detector needs a person whose "
            "body is clearly visible; try a brighter or closer shot"
        )
    if config.stitch_gap_s > 0:
        arrays["track_id"] = stitch_tracks(
            arrays["frame_index"], arrays["track_id"], arrays["boxes"], video.fps, config.stitch_gap_s
        )
    main = choose_track(rank_tracks(arrays["track_id"], arrays["boxes"]), config.track_id)
    elapsed = perf_counter() - started
    timings = {"load_s": loaded - started, "decode_wait_s": waited, "inference_s": inference,
               "tracking_s": tracking, "total_s": elapsed,
               "ms_per_frame": 1000 * (perf_counter() - loaded) / len(times)}  # fmt: skip
    report(1.0, f"found {len(np.unique(arrays['track_id']))} people in {len(times)} frames")
    return DetectionResult.from_detections(
        **arrays, timestamps=np.asarray(times), fps=video.fps, width=video.width, height=video.height,
        main_track_id=main, keypoint_threshold=config.keypoint_threshold, source=video.path.name, model=model.name,
        timings=timings, warnings=warnings,
    )  # fmt: skip


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


def _too_short(video: Video, frames: int, config: DetectorConfig) -> VideoTooShortError:
    return VideoTooShortError(
        f"'{video.path.name}' has {frames} frame{'s' if frames != 1 else ''} to process; at least {config.min_frames} "
        "are needed (one frame is a still image: there is no motion to track or lift). Upload a video clip"
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
