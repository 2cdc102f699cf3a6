"""The one pipeline both front ends call: a video (or a 2D keypoints file) in, 3D poses, renders and files out.

    result = run_pipeline("clip.mp4", "outputs", PipelineConfig(models=("student", "teacher")))

It runs in two steps, so that the page can lift another person without detecting again:
`detect_people` (video -> `detector.detect`: decode, YOLO pose, tracking, BlazePose 2D, COCO -> H36M) returns a
`DetectedPeople` with every tracked person; `lift_people` lifts the chosen ones (`Lifter.lift` per model: sparse
windows, flip test) and writes `<stem>_side_by_side.mp4` and `<stem>_3d.gif` (render.py, export.py; for a photo,
`<stem>_side_by_side.png` and `<stem>_3d.png`: one frame, the lifter's window that frame repeated),
`<stem>_3d.csv` (one per model when there are two: `<stem>_student_3d.csv`, `<stem>_teacher_3d.csv`),
`<stem>_pose.npz` and `<stem>_pose.json`; in the world frame (pose_lifting.world: Y up, ground at y = 0, the root
moving through the scene, everyone in one world: pose_lifting.scene_world) `<stem>_3d_world.csv`, a `<stem>.bvh`
per person and one `<stem>.glb` with everyone; the joint angles `<stem>_angles.csv` (pose_lifting.angles), and
with `opensim` `<stem>.trc`, `<stem>_scaled.osim` and `<stem>_ik.mot` per person (app.opensim_ik).
`run_pipeline` runs both steps, for the main subject (or everyone). A 2D keypoints file skips the detector: a
keypoints `.npz` (`keypoints` (T, 17, 2) pixels, `scores` (T, 17), `fps`, `width`, `height`, `layout` "coco" or
"h36m"), a folder or `.zip` of OpenPose JSON, a COCO keypoint results or MMPose predictions `.json`
(`detector.keypoint_files`; frame rate and size from `keypoints_fps` / `keypoints_size` where the file lacks
them), or a detection file saved by `python -m detector`.

The stages, each in its own module: `inputs` (video -> detector, or a keypoints / detection file -> the people's
2D), `lifting` (the lifters over the chosen people, then the world frame), `videos` (the MP4s and the GIF),
`outputs` (world CSV, BVH, GLB, the NPZ/JSON arrays); `config` holds `PipelineConfig`, `results` what the steps
hand each other. This module runs them in order and writes the files.

Coordinate frame of the camera-axes outputs (`<stem>_3d.csv`, `poses_3d_*`): the lifter's camera axes, x to the
right of the image, y down, z away from the camera, in metres, with the pelvis of each person at the origin in
every frame. The world outputs and the 3D panel use `WORLD_COORDINATES`.
"""

from __future__ import annotations

import time
from pathlib import Path

from app import export
from app.config import USER_ERRORS, InputError, PipelineConfig
from app.inputs import KEYPOINT_SUFFIXES, is_keypoint_input, read_keypoints, read_people, run_detector
from app.lifting import compare, lift_with, load_lifter, load_lifters, measure_angles, model_choices, place_in_world
from app.opensim_ik import check_opensim
from app.outputs import (
    CAMERA_COORDINATES,
    COORDINATES,
    WORLD_COORDINATES,
    result_arrays,
    write_angle_files,
    write_opensim_files,
    write_world_files,
)
from app.results import Comparison, DetectedPeople, ModelRun, PipelineResult
from app.videos import blank_frames, render_still, render_videos, video_frames
from detector.video import is_still_image
from pose_lifting.files import atomic_output, write_npz
from pose_lifting.lifter import weights_path
from pose_lifting.progress import Progress
from pose_lifting.sequence import write_pose_csv

# the detector's parts of the detect time (`DetectionResult.timings`), reported per stage
DETECT_PARTS = {"yolo": "inference_s", "2D keypoints": "landmark_pass_s", "camera": "camera_s"}

__all__ = [  # the pipeline's public face: the steps, and what they take and give (defined in the stage modules)
    "CAMERA_COORDINATES",
    "COORDINATES",
    "KEYPOINT_SUFFIXES",
    "USER_ERRORS",
    "WORLD_COORDINATES",
    "Comparison",
    "DetectedPeople",
    "InputError",
    "ModelRun",
    "PipelineConfig",
    "PipelineResult",
    "detect_people",
    "is_keypoint_input",
    "lift_people",
    "load_lifter",
    "load_lifters",
    "model_choices",
    "read_keypoints",
    "read_people",
    "run_detector",
    "run_pipeline",
    "weights_path",
]


def run_pipeline(
    input_path: str | Path, out_dir: str | Path, config: PipelineConfig | None = None, progress: Progress | None = None
) -> PipelineResult:
    """Process one input file and write every output into `out_dir`; `progress(fraction, message)` as it goes."""
    config = config or PipelineConfig()
    report = progress or (lambda fraction, message: None)
    load_lifters(config)  # fail early on missing weights (or OpenSim's model), before the long detection
    if config.opensim:
        check_opensim()
    detected = detect_people(input_path, config, _span(report, 0.0, 0.6))
    return lift_people(detected, out_dir, config, progress=_span(report, 0.6, 1.0))


def detect_people(input_path: str | Path, config: PipelineConfig, progress: Progress | None = None) -> DetectedPeople:
    """The detection step: every tracked person in the input, main subject first."""
    tick = time.perf_counter()
    input_path = Path(input_path)
    people, timestamps, warnings, detections = read_people(
        input_path, config, progress or (lambda fraction, message: None)
    )
    if detections is None:
        none = dict.fromkeys(DETECT_PARTS, 0.0)
        return DetectedPeople(input_path, people, timestamps, warnings, time.perf_counter() - tick, detect_parts=none)
    parts = {name: detections.timings.get(key, 0.0) for name, key in DETECT_PARTS.items()}
    return DetectedPeople(input_path, people, timestamps, warnings, time.perf_counter() - tick, detections.scene,
                          detections.camera, parts)


def lift_people(
    detected: DetectedPeople,
    out_dir: str | Path,
    config: PipelineConfig,
    track_ids: list[int] | None = None,
    progress: Progress | None = None,
) -> PipelineResult:
    """The lift step: lift the people with `track_ids` (None: the main subject, or everyone with all_tracks),
    render them and write every output into `out_dir`."""
    report = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if track_ids is None:
        people = detected.people if config.all_tracks else detected.people[:1]
    else:
        people = detected.choose(track_ids)
    num_frames, timestamps, input_path = detected.num_frames, detected.timestamps, detected.source
    timings = {"detect": detected.detect_s} | {f"{name} (in detect)": s for name, s in detected.detect_parts.items()}
    warnings = list(detected.warnings)
    lifters = load_lifters(config)
    if config.opensim:
        check_opensim()  # a missing OpenSim or model fails before the lift

    labels = [weights_path(name).stem for name in config.models]
    share = 0.25 / len(lifters)
    devices = [lifter.device.type for lifter in lifters]
    runs = [
        lift_with(label, lifter, people, config, _span(report, share * i, share * (i + 1)))
        for i, (label, lifter) in enumerate(zip(labels, lifters))
    ]
    timings["lift"] = sum(run.lift_s for run in runs)
    warnings += [
        f"the GPU ran out of memory; {run.label} lifted on the CPU instead"
        for run, device in zip(runs, devices)
        if device == "cuda" and run.device == "cpu"
    ]
    tick = time.perf_counter()
    warnings += place_in_world(runs, people, config.world)
    warnings += measure_angles(runs, people)
    timings["world"] = time.perf_counter() - tick

    tick = time.perf_counter()
    stem = input_path.stem
    first = people[0]
    is_video = not is_keypoint_input(input_path)
    frames = video_frames(input_path, num_frames, config) if is_video else blank_frames(first, num_frames, config)
    if is_still_image(input_path):  # a photo: its pictures as PNGs
        files = {"png": out_dir / f"{stem}_side_by_side.png", "png:3d": out_dir / f"{stem}_3d.png"}
        if config.overlay_video:
            files["png:2d"] = out_dir / f"{stem}_2d.png"
        render_still(next(frames), people, runs, files, config)
    else:
        files = {"mp4": out_dir / f"{stem}_side_by_side.mp4", "gif": out_dir / f"{stem}_3d.gif"}
        if config.overlay_video:
            files["mp4:2d"] = out_dir / f"{stem}_2d.mp4"
        render_videos(frames, num_frames, people, runs, first.fps, files, config, _span(report, 0.25, 0.93))
    timings["render"] = time.perf_counter() - tick

    tick = time.perf_counter()
    report(0.93, "writing the files")
    several = config.all_tracks or len(people) > 1  # the CSVs get a person_id column
    for run in runs:
        name = f"{stem}_3d.csv" if len(runs) == 1 else f"{stem}_{run.label}_3d.csv"
        with atomic_output(out_dir / name) as partial:
            write_pose_csv(partial, run.poses, several, video_times=timestamps[:num_frames])
        files[f"csv:{run.label}"] = out_dir / name
    files.update(write_world_files(out_dir, stem, runs, timestamps[:num_frames], several, (first.width, first.height)))
    files.update(write_angle_files(out_dir, stem, runs, timestamps[:num_frames], several))
    comparison = compare(runs[0], runs[1]) if len(runs) > 1 else None
    timings["export"] = time.perf_counter() - tick
    if config.opensim:
        tick = time.perf_counter()
        report(0.95, "OpenSim: scaling and inverse kinematics")
        opensim_files, opensim_warnings = write_opensim_files(out_dir, stem, runs, timestamps[:num_frames])
        files.update(opensim_files)
        warnings += opensim_warnings
        timings["opensim"] = time.perf_counter() - tick
    timings["total"] = detected.detect_s + time.perf_counter() - started
    result = PipelineResult(input_path, num_frames, timestamps[:num_frames], first.fps, first.width, first.height,
                            people, runs, timings, files, warnings, comparison, detected.scene, detected.camera)
    arrays, meta = result_arrays(result)
    files["npz"] = write_npz(out_dir / f"{stem}_pose.npz", arrays, meta)
    files["json"] = export.write_json(out_dir / f"{stem}_pose.json", arrays, meta)
    report(1.0, f"done: {num_frames} frames at {result.end_to_end_fps():.1f} fps")
    return result


def _span(progress: Progress, start: float, end: float) -> Progress:
    """A progress callback for one stage that maps its 0..1 onto start..end of the whole run."""
    return lambda fraction, message: progress(start + (end - start) * min(max(fraction, 0.0), 1.0), message)
