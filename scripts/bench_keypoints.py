"""Benchmark the 2D keypoint models (YOLO's own, BlazePose lite / full / heavy) on every real clip we have.

    python -m scripts.bench_keypoints [--max-frames 300] [--models yolo lite full heavy] [--render outputs/bench]
    python -m scripts.bench_keypoints --end-to-end [--imgsz 384 640]   # the whole app on a 1080p clip

Clips: the Sports2D example (main subject), Debian opencv-doc's vtest.avi (pedestrians; the main track), and
Ultralytics' bus.jpg / zidane.jpg as 2-frame clips (every person). YOLO tracks each clip once; each model then
runs on the same tracks. Per clip and model, on the refined tracks:
- ms and CPU ms per person-frame of the keypoint stage (YOLO: its inference per frame, all people at once);
- jitter: the mean second difference of every COCO joint track, over the body height (median box height);
- L/R swaps: frames whose limb labels fit the previous frame's better mirrored (at most half the distance);
- agreement: the median distance of the COCO keypoints to YOLO's and to heavy's, over the box height;
- the 3D side: the main track lifted by the shipped `student`; the standard deviation over time of each of
  its 16 bone lengths, averaged, in mm (a rigid skeleton has none);
- the stage's fallbacks and left/right corrections.
With `--end-to-end`: `run_pipeline` (as `python -m app.cli`) on scripts.bench_detector's 1080p clip per model and
YOLO size: end-to-end fps, each stage's ms/frame, and the process's CPU seconds per frame (a figure that load
from other processes changes less than wall time).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from detector import DetectionResult, DetectorConfig, example_video_path, read_video
from detector.detect import build_result, people_to_refine, refine_keypoints, track_people
from detector.topdown import LIMBS, MIRROR_COCO, StageCounts
from pose_lifting.lifter import Lifter
from pose_lifting.skeleton import bone_lengths
from tests.conftest import package_image, write_video

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")  # apt-get install opencv-doc


@dataclass
class Row:
    clip: str
    model: str
    person_frames: int
    ms: float
    cpu_ms: float
    jitter: float
    swaps: int
    vs_yolo: float
    vs_heavy: float
    bone_std_mm: float
    fallbacks: int
    corrected: int


def clips(work: Path) -> dict[str, tuple[Path, bool]]:
    """name -> (video, refine every person)."""
    found = {"sports2d demo": (example_video_path(), False)}
    if VTEST.is_file():
        found["vtest.avi"] = (VTEST, False)
    else:
        print(f"skipping vtest.avi: {VTEST} is missing (apt-get install opencv-doc)")
    for image in ("bus.jpg", "zidane.jpg"):
        found[image] = (write_video(work / f"{image}.mp4", [package_image(image)] * 2), True)
    return found


def jitter_and_swaps(result: DetectionResult, tracks: list[int]) -> tuple[float, int]:
    """Mean second difference over body height, and left/right flips between consecutive frames."""
    jitters, swaps = [], 0
    for track in tracks:
        rows = np.flatnonzero(result.track_id == track)
        rows = rows[np.argsort(result.frame_index[rows])]
        keypoints, height = result.keypoints_coco[rows], np.median(result.boxes[rows, 3] - result.boxes[rows, 1])
        consecutive = np.diff(result.frame_index[rows]) == 1
        if len(rows) >= 3:
            both = consecutive[1:] & consecutive[:-1]
            second = np.linalg.norm(keypoints[2:] - 2 * keypoints[1:-1] + keypoints[:-2], axis=-1)[both]
            if len(second):
                jitters.append(second.mean() / height)
        for t in np.flatnonzero(consecutive):
            now, before = keypoints[t + 1, LIMBS], keypoints[t, LIMBS]
            direct = np.linalg.norm(now - before, axis=-1).sum()
            mirrored = np.linalg.norm(keypoints[t + 1, MIRROR_COCO[LIMBS]] - before, axis=-1).sum()
            swaps += bool(mirrored < 0.5 * direct)
    return (float(np.mean(jitters)) if jitters else float("nan")), swaps


def agreement(result: DetectionResult, other: DetectionResult | None, rows: np.ndarray) -> float:
    if other is None or not len(rows):
        return float("nan")
    height = result.boxes[rows, 3] - result.boxes[rows, 1]
    distance = np.linalg.norm(result.keypoints_coco[rows] - other.keypoints_coco[rows], axis=-1)
    return float(np.median(distance / height[:, None]))


def bone_std_mm(result: DetectionResult, lifter: Lifter) -> float:
    sequence = result.main_track()
    if len(sequence) < 10:
        return float("nan")
    return float(1000 * bone_lengths(lifter.lift(sequence).poses).std(axis=0).mean())


def render(result: DetectionResult, video_path: Path, path: Path) -> None:
    """A frame in the middle of the main track with its keypoints (left red, right blue, feet yellow)."""
    frames = result.frame_index[result.track_id == result.main_track_id]
    target = int(np.median(frames))
    image = next(f.image for f in read_video(video_path).frames(target + 1) if f.index == target)
    image = np.ascontiguousarray(image[..., ::-1])
    for row in np.flatnonzero(result.frame_index == target):
        if not result.from_landmarks[row] and result.keypoint_model != "yolo":
            continue
        x1, y1, x2, y2 = result.boxes[row].astype(int)
        cv2.rectangle(image, (x1, y1), (x2, y2), (0, 200, 0), 2)
        radius = max(2, int((y2 - y1) / 80))
        for j, (point, score) in enumerate(zip(result.keypoints_coco[row], result.scores_coco[row])):
            colour = (255, 255, 255) if j == 0 else (0, 0, 255) if j % 2 else (255, 0, 0)
            cv2.circle(image, tuple(point.astype(int)), radius if score > 0.5 else 1, colour, -1)
        for point in result.feet[row]:
            if np.isfinite(point).all():
                cv2.circle(image, tuple(point.astype(int)), radius, (0, 255, 255), -1)
    cv2.imwrite(str(path), image)


@dataclass
class Detections:
    """One clip tracked once by YOLO, then refined by each keypoint model on the same tracks."""

    results: dict[str, DetectionResult]
    costs: dict[str, tuple[float, float]]  # model -> (ms, CPU ms) per person-frame of its keypoint stage
    counts: dict[str, StageCounts]
    tracks: list[int]  # the refined tracks
    rows: np.ndarray  # their detections' rows


def detect_models(video_path: Path, models: list[str], base: DetectorConfig) -> Detections:
    """Every 2D model on the same tracks; every frame measured unless `base` sets the strides (these benchmarks
    compare the models' own per-frame errors and costs, not the sparse 2D's interpolation)."""
    base = replace(base, keypoint_stride=base.keypoint_stride or 1, yolo_stride=base.yolo_stride or 1)
    video = read_video(video_path)
    limit = min(video.num_frames, base.max_frames or video.num_frames)
    tracked = track_people(video, limit, replace(base, keypoints="yolo"), lambda f, m: None)
    tracks = people_to_refine(tracked, base)
    rows = np.flatnonzero(np.isin(tracked.rows["track_id"], tracks))
    found = Detections({}, {}, {}, tracks, rows)
    for model in models:
        config = replace(base, keypoints=model)
        if model == "yolo":
            found.results[model] = build_result(video, tracked, None, config, [])
            found.costs[model] = (1000 * tracked.timings["inference_s"] / len(tracked.times), float("nan"))
            found.counts[model] = StageCounts(person_frames=len(rows))
        else:
            cpu = time.process_time()
            stage = refine_keypoints(video, tracked, tracks, config, lambda f, m: None)
            frames = max(1, stage.counts.person_frames)
            found.costs[model] = (1000 * stage.landmark_s / frames, 1000 * (time.process_time() - cpu) / frames)
            found.counts[model] = stage.counts
            found.results[model] = build_result(video, tracked, stage, config, [])
    return found


def bench_clip(name: str, video_path: Path, every_person: bool, args: argparse.Namespace, lifter: Lifter) -> list[Row]:
    base = DetectorConfig(max_frames=args.max_frames, all_tracks=every_person, imgsz=args.imgsz)
    found = detect_models(video_path, args.models, base)
    results, costs, counts, tracks, rows = found.results, found.costs, found.counts, found.tracks, found.rows
    if args.render:
        for model, result in results.items():
            render(result, video_path, args.render / f"{Path(name).stem.replace(' ', '_')}_{model}.png")
    table = []
    for model, result in results.items():
        jitter, swaps = jitter_and_swaps(result, tracks)
        vs_yolo, vs_heavy = (agreement(result, results.get(other), rows) for other in ("yolo", "heavy"))
        stage = counts[model]
        row = Row(
            name,
            model,
            stage.person_frames,
            *costs[model],
            jitter,
            swaps,
            vs_yolo,
            vs_heavy,
            bone_std_mm(result, lifter),
            stage.fallbacks,
            stage.side_swaps,
        )
        table.append(row)
    return table


def end_to_end(models: list[str], sizes: list[int], frames: int, work: Path) -> None:
    from app.pipeline import PipelineConfig, run_pipeline
    from scripts.bench_detector import make_1080p_clip

    clip = make_1080p_clip(frames)
    print("| keypoints | YOLO imgsz | fps end to end | detect ms/frame | lift | render | CPU s / frame |")
    print("|---|---|---|---|---|---|---|")
    for model in models:
        for imgsz in sizes:
            cpu = time.process_time()
            result = run_pipeline(clip, work / "end_to_end", PipelineConfig(keypoints=model, imgsz=imgsz))
            cpu_per_frame = (time.process_time() - cpu) / result.num_frames
            ms = result.ms_per_frame()
            cells = [model, imgsz, f"{result.end_to_end_fps():.1f}", f"{ms['detect']:.0f}", f"{ms['lift']:.0f}"]
            print("| " + " | ".join(map(str, cells + [f"{ms['render']:.0f}", f"{cpu_per_frame:.3f}"])) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_keypoints", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["yolo", "lite", "full", "heavy"])
    parser.add_argument("--max-frames", type=int, default=300, help="frames per clip at most")
    parser.add_argument("--imgsz", type=int, default=None, help="YOLO's inference size (default: the detector's)")
    parser.add_argument("--render", type=Path, default=None, help="write a PNG per clip and model into this folder")
    parser.add_argument("--work", type=Path, default=Path("outputs/bench_keypoints"))
    parser.add_argument("--end-to-end", action="store_true", help="time the whole app on a 1080p clip instead")
    parser.add_argument("--sizes", type=int, nargs="+", default=[384, 640], help="YOLO sizes for --end-to-end")
    parser.add_argument("--clip-frames", type=int, default=90, help="length of the 1080p clip for --end-to-end")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.end_to_end:
        end_to_end(args.models, args.sizes, args.clip_frames, args.work)
        return
    if args.render:
        args.render.mkdir(parents=True, exist_ok=True)
    lifter = Lifter.from_pretrained("student", "cpu")
    columns = [
        "clip",
        "model",
        "person-frames",
        "ms / person-frame",
        "CPU ms",
        "jitter (x1000)",
        "L/R swaps",
        "vs YOLO",
        "vs heavy",
        "3D bone std (mm)",
        "fallbacks",
        "L/R corrected",
    ]
    print("| " + " | ".join(columns) + " |\n" + "|---" * len(columns) + "|")
    for name, (path, every_person) in clips(args.work).items():
        for r in bench_clip(name, path, every_person, args, lifter):
            cells = [
                r.clip,
                r.model,
                r.person_frames,
                f"{r.ms:.1f}",
                f"{r.cpu_ms:.1f}",
                f"{1000 * r.jitter:.1f}",
                r.swaps,
                f"{r.vs_yolo:.3f}",
                f"{r.vs_heavy:.3f}",
                f"{r.bone_std_mm:.1f}",
                r.fallbacks,
                r.corrected,
            ]
            print("| " + " | ".join(map(str, cells)) + " |", flush=True)


if __name__ == "__main__":
    main()
