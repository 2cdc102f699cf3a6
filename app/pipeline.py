"""The one pipeline both front ends call: a video (or a 2D keypoints file) in, 3D poses, renders and files out.

    result = run_pipeline("clip.mp4", "outputs", PipelineConfig(models=("student", "teacher")))

It runs in two steps, so that the page can lift another person without detecting again:
`detect_people` (video -> `detector.detect`: decode, YOLO pose, tracking, BlazePose 2D, COCO -> H36M) returns a
`DetectedPeople` with every tracked person; `lift_people` lifts the chosen ones (`Lifter.lift` per model: sparse
windows, flip test) and writes `<stem>_side_by_side.mp4` and `<stem>_3d.gif` (render.py, export.py),
`<stem>_3d.csv` (one per model when there are two: `<stem>_student_3d.csv`, `<stem>_teacher_3d.csv`),
`<stem>_pose.npz` and `<stem>_pose.json`; in the world frame (pose_lifting.world: Y up, ground at y = 0, the root
moving through the scene) `<stem>_3d_world.csv`, `<stem>.bvh` and `<stem>.glb` (one BVH and GLB per person).
`run_pipeline` runs both steps, for the main subject (or everyone). A 2D keypoints file skips the detector: a
keypoints `.npz` (`keypoints` (T, 17, 2) pixels, `scores` (T, 17), `fps`, `width`, `height`, `layout` "coco" or
"h36m"), a folder or `.zip` of OpenPose JSON, a COCO keypoint results or MMPose predictions `.json`
(`detector.keypoint_files`; frame rate and size from `keypoints_fps` / `keypoints_size` where the file lacks
them), or a detection file saved by `python -m detector`.

Coordinate frame of the camera-axes outputs (`<stem>_3d.csv`, `poses_3d_*`): the lifter's camera axes, x to the
right of the image, y down, z away from the camera, in metres, with the pelvis of each person at the origin in
every frame. The world outputs and the 3D panel use `WORLD_COORDINATES`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from app import export, render
from app.bvh import solve_rig, write_bvh
from app.glb import FilmingCamera, write_glb
from detector import DetectionResult, DetectorConfig, DetectorError, detect, read_video
from detector.config import KeypointModel
from detector.examples import ExampleUnavailableError
from detector.keypoint_files import KeypointFileError, read_keypoint_file
from detector.result import FORMAT as DETECTION_FORMAT
from detector.video import prefetch
from pose_lifting.devices import DEVICES, Device, detector_device
from pose_lifting.files import OutputWriteError, atomic_output, write_npz
from pose_lifting.lifter import WEIGHTS_DIR, Lifter, missing_weights_message, weights_path
from pose_lifting.progress import Progress
from pose_lifting.sequence import CameraMotion, Pose2DSequence, Pose3DSequence, SceneGeometry, write_pose_csv
from pose_lifting.skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS
from pose_lifting.world import FEET, UP_SOURCES, WorldConfig, WorldMotion, world_motion

COORDINATES = "camera axes: x right, y down, z away from the camera; metres; pelvis at the origin in every frame"
WORLD_COORDINATES = (
    "world: Y up, metres, the ground at y = 0, x along the camera's right on the ground, z towards the camera; "
    "each person's pelvis starts above the origin and moves along the estimated trajectory"
)
CAMERA_COORDINATES = (
    "camera_rotations (T, 3, 3): frame t's camera axes -> the first frame's (p_first = R_t p_t); "
    "world_camera_orientation_<model> (P, T, 3, 3): camera axes -> world, world_camera_position_<model> (P, 3)"
)
OUT_OF_VIEW = "chosen person out of view"
KEYPOINT_SUFFIXES = (".npz", ".json", ".zip")  # with folders: the inputs that are 2D keypoints, not videos


class InputError(ValueError):
    """The input file or the settings cannot be processed; the message says why and what to do."""


# errors caused by the input or the set-up, whose message is all a user needs (no stack trace)
USER_ERRORS = (InputError, DetectorError, ExampleUnavailableError, OutputWriteError)


@dataclass
class PipelineConfig:
    """Everything a run can change, with defaults for a laptop CPU."""

    models: tuple[str, ...] = ("student",)  # lifter names (weights/<name>.pt) or checkpoint paths; first is main
    device: Device = "auto"  # auto (GPU when present), cpu or cuda, for the detector and the lifters
    all_tracks: bool = False  # lift every person (CSV gets a person_id column); default: the main subject only
    flip_test: bool = True  # average each pose with the lift of the mirrored input
    max_frames: int | None = None  # process at most this many frames (None: no cap)
    max_duration_s: float | None = 60.0  # process at most this many seconds of video (None: no cap)
    keypoints: KeypointModel = DetectorConfig.keypoints  # 2D keypoints: yolo (fast), BlazePose full / heavy (accurate)
    imgsz: int | None = None  # YOLO's inference resolution (longest side); default: 640 with yolo keypoints, else 512
    video_height: int = 480  # height of the side-by-side video (its 3D panel is square)
    gif_size: int = 320  # the 3D GIF is gif_size x gif_size pixels
    gif_max_frames: int = 600  # longer clips skip frames in the GIF (it still plays at the video's speed)
    overlay_video: bool = False  # also write <stem>_2d.mp4, the video with the 2D skeleton alone (for the page)
    keypoints_fps: float | None = None  # frame rate of a keypoints file that does not give one (else: its video's)
    keypoints_size: tuple[int, int] | None = None  # picture (width, height) of such a file, pixels (else: its video's)
    view: render.PanelView = field(default_factory=render.PanelView)  # the 3D panel's virtual camera
    world: WorldConfig = field(default_factory=WorldConfig)  # ground, up and trajectory (field of view: fov_deg)

    def __post_init__(self) -> None:
        if not self.models:
            raise InputError("choose at least one lifter model")
        if self.device not in DEVICES:
            raise InputError(f"device must be {', '.join(DEVICES)}, got {self.device!r}")

    def detector_config(self) -> DetectorConfig:
        return DetectorConfig(
            device=detector_device(self.device),
            imgsz=self.imgsz,
            max_frames=self.max_frames,
            max_duration_s=self.max_duration_s,
            keypoints=self.keypoints,
            all_tracks=self.all_tracks,
            fov_deg=self.world.fov_deg,
        )


@dataclass
class ModelRun:
    """One lifter's output: a 3D sequence per person (same order as the 2D people) and its cost."""

    label: str  # "student", "teacher" or a checkpoint's file stem; names its CSV
    lifter_name: str  # the name stored in the checkpoint
    poses: list[Pose3DSequence]
    lift_s: float
    mflops: float  # per lifted pose, without flip test
    num_params: int
    device: str
    world: list[WorldMotion | None] = field(default_factory=list)  # per person; None where it could not be placed

    def ms_per_frame(self) -> float:
        return 1000 * self.lift_s / max(1, sum(len(p) for p in self.poses))


@dataclass
class Comparison:
    """The main subject's per-joint distance between two models' 3D poses (after centring both at the pelvis)."""

    labels: tuple[str, str]
    times: np.ndarray  # (T,) seconds
    distance_mm: np.ndarray  # (T, 17)

    @property
    def mean_mm(self) -> float:
        return float(self.distance_mm.mean())


@dataclass
class PipelineResult:
    """Everything one run produced: what was processed, its 2D and 3D people, the files, the costs and warnings."""

    source: Path
    num_frames: int  # frames of the input processed
    timestamps: np.ndarray  # (num_frames,) seconds of each processed frame in the input
    fps: float
    width: int
    height: int
    people: list[Pose2DSequence]  # H36M 2D per person, main subject first
    models: list[ModelRun]
    timings: dict[str, float]  # seconds per stage: detect (and the camera's part of it), lift, render, export, total
    files: dict[str, Path]  # mp4, gif, npz, json, and csv:<label> per model
    warnings: list[str]
    comparison: Comparison | None
    scene: SceneGeometry | None = None  # the clip's up and focal length from its lines (a video only)
    camera: CameraMotion | None = None  # the camera's rotation per processed frame (a video only)

    def ms_per_frame(self) -> dict[str, float]:
        return {stage: 1000 * seconds / self.num_frames for stage, seconds in self.timings.items()}

    def end_to_end_fps(self) -> float:
        return self.num_frames / self.timings["total"]


@dataclass
class DetectedPeople:
    """What the detection step hands the lift step: every person found, the frame times and the warnings."""

    source: Path
    people: list[Pose2DSequence]  # every tracked person (H36M 2D), main subject first; one for a keypoints file
    timestamps: np.ndarray  # (T,) seconds of each processed frame
    warnings: list[str]
    detect_s: float
    scene: SceneGeometry | None = None  # the clip's up and focal length from its lines (a video only)
    camera: CameraMotion | None = None  # the camera's rotation per processed frame (a video only)
    camera_s: float = 0.0  # of detect_s, the time the camera's motion and the scene's lines took

    @property
    def num_frames(self) -> int:
        return len(self.timestamps)

    def choose(self, track_ids: list[int]) -> list[Pose2DSequence]:
        """The people with these track ids, main subject first; unknown ids are an InputError."""
        known = {p.track_id for p in self.people}
        unknown = sorted(set(track_ids) - known)
        if unknown or not track_ids:
            raise InputError(f"choose at least one of the people found ({sorted(known)}), not {unknown or 'none'}")
        return [p for p in self.people if p.track_id in track_ids]


def run_pipeline(
    input_path: str | Path, out_dir: str | Path, config: PipelineConfig | None = None, progress: Progress | None = None
) -> PipelineResult:
    """Process one input file and write every output into `out_dir`; `progress(fraction, message)` as it goes."""
    config = config or PipelineConfig()
    report = progress or (lambda fraction, message: None)
    load_lifters(config)  # fail early on missing weights, before the long detection
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
        return DetectedPeople(input_path, people, timestamps, warnings, time.perf_counter() - tick)
    camera_s = detections.timings.get("camera_s", 0.0)
    return DetectedPeople(input_path, people, timestamps, warnings, time.perf_counter() - tick, detections.scene,
                          detections.camera, camera_s)


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
    timings = {"detect": detected.detect_s, "camera (in detect)": detected.camera_s}
    warnings = list(detected.warnings)
    lifters = load_lifters(config)

    labels = [weights_path(name).stem for name in config.models]
    share = 0.25 / len(lifters)
    devices = [lifter.device.type for lifter in lifters]
    runs = [
        _lift(label, lifter, people, config, _span(report, share * i, share * (i + 1)))
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
    timings["world"] = time.perf_counter() - tick

    tick = time.perf_counter()
    stem = input_path.stem
    files = {"mp4": out_dir / f"{stem}_side_by_side.mp4", "gif": out_dir / f"{stem}_3d.gif"}
    if config.overlay_video:
        files["mp4:2d"] = out_dir / f"{stem}_2d.mp4"
    first = people[0]
    is_video = not is_keypoint_input(input_path)
    frames = _video_frames(input_path, num_frames, config) if is_video else _blank_frames(first, num_frames, config)
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
    comparison = compare(runs[0], runs[1]) if len(runs) > 1 else None
    timings["export"] = time.perf_counter() - tick
    timings["total"] = detected.detect_s + time.perf_counter() - started
    result = PipelineResult(input_path, num_frames, timestamps[:num_frames], first.fps, first.width, first.height,
                            people, runs, timings, files, warnings, comparison, detected.scene, detected.camera)
    arrays, meta = result_arrays(result)
    files["npz"] = write_npz(out_dir / f"{stem}_pose.npz", arrays, meta)
    files["json"] = export.write_json(out_dir / f"{stem}_pose.json", arrays, meta)
    report(1.0, f"done: {num_frames} frames at {result.end_to_end_fps():.1f} fps")
    return result


def model_choices(weights_dir: Path = WEIGHTS_DIR) -> dict[str, tuple[str, ...]]:
    """The lifter menu: each shipped weights file by name (student and teacher first), plus "both" (the student
    and its teacher, compared) when both are shipped. With nothing shipped, "student", whose loading error then
    says how to train it."""
    shipped = sorted(p.stem for p in weights_dir.glob("*.pt"))
    pair = [name for name in ("student", "teacher") if name in shipped]
    choices = {name: (name,) for name in pair + [name for name in shipped if name not in pair]}
    if "student" in choices and "teacher" in choices:
        choices["both"] = ("student", "teacher")
    return choices or {"student": ("student",)}


def load_lifter(name_or_path: str | Path, device: str = "auto") -> Lifter:
    """A lifter from weights/ or a checkpoint path, loaded once per file version and device."""
    path = weights_path(name_or_path)
    if not path.is_file():
        raise InputError(missing_weights_message(path))
    return _cached_lifter(str(path.resolve()), path.stat().st_mtime, device)


def load_lifters(config: PipelineConfig) -> list[Lifter]:
    """The lifters of `config.models`, in order (cached: cheap to call again)."""
    return [load_lifter(name, config.device) for name in config.models]


@functools.lru_cache(maxsize=4)
def _cached_lifter(path: str, mtime: float, device: str) -> Lifter:
    try:
        return Lifter.from_pretrained(path, device)
    except RuntimeError as error:  # e.g. --device cuda without a GPU
        raise InputError(str(error)) from error


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
    return replace(person, keypoints=person.keypoints[:count], scores=person.scores[:count], timestamps=times)


def _lift(
    label: str, lifter: Lifter, people: list[Pose2DSequence], config: PipelineConfig, progress: Progress
) -> ModelRun:
    tick = time.perf_counter()
    poses = [
        lifter.lift(p, flip_test=config.flip_test, progress=lambda f, m, i=i: progress((i + f) / len(people), m))
        for i, p in enumerate(people)
    ]
    lift_s = time.perf_counter() - tick
    return ModelRun(label, lifter.name, poses, lift_s, lifter.mflops, lifter.num_params, str(lifter.device))


def place_in_world(runs: list[ModelRun], people: list[Pose2DSequence], config: WorldConfig) -> list[str]:
    """Fill each run's `world` (one `WorldMotion` per person); returns warnings for people that could not be placed."""
    warnings = []
    for run in runs:
        run.world = []
        for person, pose in zip(people, run.poses):
            try:
                run.world.append(world_motion(pose, person, config))
            except (ValueError, np.linalg.LinAlgError) as error:
                run.world.append(None)
                warnings.append(f"{run.label}: person {person.track_id} could not be placed in the world ({error})")
    main = runs[0].world[0] if runs and runs[0].world else None
    return warnings + ([] if main is None else up_warnings(main, config))


def up_warnings(motion: WorldMotion, config: WorldConfig) -> list[str]:
    """Where the scene's up was there but not used, say why (a wrong vanishing point, or a person lying down?)."""
    if motion.method == "scene" or np.isnan(motion.scene_body_deg) or config.method != "auto":
        return []
    if motion.scene_confidence < config.min_scene_confidence:
        return []
    return [
        f"the scene's vertical lines point {motion.scene_body_deg:.0f} degrees away from the person's posture "
        f"(more than {config.max_scene_body_deg:.0f}); {UP_SOURCES[motion.method]} instead "
        "(--world-method scene uses the lines anyway)"
    ]


def write_world_files(
    out_dir: Path, stem: str, runs: list[ModelRun], video_times: np.ndarray, all_tracks: bool, size: tuple[int, int]
) -> dict[str, Path]:
    """`<stem>_3d_world.csv` per model and `<stem>.bvh` / `<stem>.glb` per model and person (file keys
    `world_csv:<label>`, `bvh:<label>:<person>`, `glb:<label>:<person>`); model and person names join the stem
    only where there are several. Each GLB holds the filming camera (`size`: the video's width and height)."""
    files = {}
    for run in runs:
        name = stem if len(runs) == 1 else f"{stem}_{run.label}"
        placed = [(pose, motion) for pose, motion in zip(run.poses, run.world) if motion is not None]
        if not placed:
            continue
        sequences = [replace(pose, poses=motion.poses) for pose, motion in placed]
        times = None if all_tracks else video_times
        path = out_dir / f"{name}_3d_world.csv"
        files[f"world_csv:{run.label}"] = write_pose_csv(path, sequences, with_person_id=all_tracks, video_times=times)
        for pose, motion in placed:
            person = f"{name}_person{pose.track_id}" if len(run.poses) > 1 else name
            rig = solve_rig(motion.poses)
            files[f"bvh:{run.label}:{pose.track_id}"] = write_bvh(out_dir / f"{person}.bvh", rig, motion.fps)
            camera = FilmingCamera(motion.camera_position, motion.camera_rotations, motion.focal_px, *size)
            files[f"glb:{run.label}:{pose.track_id}"] = write_glb(out_dir / f"{person}.glb", rig, motion.fps, camera)
    return files


def compare(a: ModelRun, b: ModelRun) -> Comparison:
    """Per-joint distance between two models' main-subject poses, in millimetres."""
    distance = 1000 * np.linalg.norm(a.poses[0].poses - b.poses[0].poses, axis=-1)
    return Comparison((a.label, b.label), a.poses[0].times(), distance)


def _video_frames(path: Path, num_frames: int, config: PipelineConfig) -> Iterator[np.ndarray]:
    """The video's frames again (the detector keeps none), decoded at the output height in a background thread."""
    video = read_video(path)
    max_side = round(config.video_height * max(video.width, video.height) / video.height)
    return prefetch((frame.image for frame in video.frames(limit=num_frames, max_side=max_side)), depth=8)


def _blank_frames(person: Pose2DSequence, num_frames: int, config: PipelineConfig) -> Iterator[np.ndarray]:
    """A grey canvas of the keypoints' image size (scaled to the output height) for keypoint-file inputs."""
    width = round(person.width * config.video_height / person.height)
    canvas = np.full((config.video_height, width, 3), 90, np.uint8)
    return (canvas.copy() for _ in range(num_frames))


def render_videos(
    frames: Iterator[np.ndarray],
    num_frames: int,
    people: list[Pose2DSequence],
    runs: list[ModelRun],
    fps: float,
    files: dict[str, Path],
    config: PipelineConfig,
    progress: Progress,
) -> None:
    """Write the side-by-side mp4 (2D overlay | 3D panel), the 3D GIF and, if `files` names one, the 2D-overlay
    mp4 ("mp4:2d") in one pass over the frames.

    The first model's skeletons are drawn in left/right colours, the second model's (if any) in its own colour
    beneath them, in the world frame (`panel_skeleton`): on the ground, which slides beneath the main person as
    they move, with their path over the last seconds. Where the scene's lines gave up, a faint horizon crosses
    the video. The GIF starts at the first frame with a chosen person in view. With several people, each 3D
    skeleton is shifted sideways by its pelvis' place in the image (`spread`), so that they stand apart.
    """
    first = people[0]
    main_world = runs[0].world[0] if runs[0].world else None
    horizon = main_world if main_world is not None and main_world.method == "scene" else None  # the scene gave it
    gif_start = min(p.first_frame for p in people)  # the GIF opens on a pose, never on an empty grid
    gif_step = int(np.ceil(max(1, num_frames - gif_start) / config.gif_max_frames))
    gif_panel = render.Panel3D(replace(config.view, size=config.gif_size))
    models = render.model_legend([run.label for run in runs])
    shifts = [spread(p) if len(people) > 1 else np.zeros((len(p), 3), np.float32) for p in people]
    panel = None
    overlay_path = files.get("mp4:2d")
    with (
        export.Mp4Writer(files["mp4"], fps) as mp4,
        export.GifWriter(files["gif"], fps / gif_step) as gif,
        export.Mp4Writer(overlay_path, fps) if overlay_path else contextlib.nullcontext() as overlay,
    ):
        for index, image in enumerate(frames):
            if panel is None:
                panel = render.Panel3D(replace(config.view, size=image.shape[0]))
            scale = np.array([image.shape[1] / people[0].width, image.shape[0] / people[0].height], np.float32)
            skeletons: list[list[np.ndarray]] = [[] for _ in runs]
            if horizon is not None and 0 <= index - first.first_frame < len(horizon):
                line = horizon.horizon(index - first.first_frame, first.width, first.height)
                render.draw_horizon(image, line * np.array([1 / scale[0], 1 / scale[1], 1.0]))
            for person, p in enumerate(people):
                t = index - p.first_frame
                if not 0 <= t < len(p):
                    continue
                render.draw_2d(image, p.keypoints[t] * scale, p.scores[t])
                for model in range(len(runs)):
                    pose = panel_skeleton(runs, model, person, t, config.view.floor_m)
                    skeletons[model].append(pose + shifts[person][t])
            render.legend(image, render.SIDE_LEGEND)
            main, second = skeletons[0], [pose for other in skeletons[1:] for pose in other]
            ground = panel_ground(runs[0].world[0] if runs[0].world else None, index - first.first_frame, config.view)
            key = models if main else [(OUT_OF_VIEW, render.TEXT_COLOUR)]
            mp4.write(render.side_by_side(image, render.legend(panel.draw(main, second, *ground), key)))
            if index >= gif_start and (index - gif_start) % gif_step == 0:
                gif.write(render.legend(gif_panel.draw(main, second, *ground), key))
            if overlay is not None:
                overlay.write(image[:, : image.shape[1] // 2 * 2])
            if index % 10 == 0:
                progress(index / num_frames, f"rendering: frame {index} of {num_frames}")


def spread(person: Pose2DSequence) -> np.ndarray:
    """(T, 3) sideways shifts that stand several people apart in 3D: about 2 m per frame height of image x."""
    shift = np.zeros((len(person), 3), np.float32)
    shift[:, 0] = 2.0 * (person.keypoints[:, JOINT_INDEX["pelvis"], 0] - person.width / 2) / person.height
    return shift


def world_to_panel(points: np.ndarray, centre: np.ndarray, floor_m: float) -> np.ndarray:
    """World points (..., 3) in the 3D panel's camera-like axes (x right, y down, z away from the video camera),
    with world (x, z) = `centre` in the middle and the ground `floor_m` below it."""
    return np.stack([points[..., 0] - centre[0], floor_m - points[..., 1], centre[1] - points[..., 2]], axis=-1)


def panel_skeleton(runs: list[ModelRun], model: int, person: int, t: int, floor_m: float) -> np.ndarray:
    """What the panel draws for one model's person at frame t: the world pose, centred on the first model's
    pelvis (so that models drift apart where their trajectories do); the camera-axes pose if not placed."""
    motion = runs[model].world[person] if runs[model].world else None
    if motion is None:
        return runs[model].poses[person].poses[t]
    reference = runs[0].world[person] or motion
    return world_to_panel(motion.poses[t], reference.root[t, [0, 2]], floor_m)


TRAIL_S = 4.0  # seconds of the main person's path drawn on the ground


def panel_ground(motion: WorldMotion | None, t: int, view: render.PanelView) -> tuple:
    """(ground shift, trail) for `Panel3D.draw`: the grid slides with the main person, whose last seconds of path
    are drawn on it; () when the person is not placed or not in the picture."""
    if motion is None or not 0 <= t < len(motion):
        return ()
    centre = motion.root[t, [0, 2]]
    path = motion.root[max(0, t - int(TRAIL_S * motion.fps)) : t + 1].copy()
    path[:, 1] = 0.0
    return (float(centre[0]), -float(centre[1])), world_to_panel(path, centre, view.floor_m)


def result_arrays(result: PipelineResult) -> tuple[dict[str, np.ndarray], dict]:
    """Frame-aligned arrays (person, frame, ...) with NaN where a person is absent, and the metadata."""
    shape = (len(result.people), result.num_frames, NUM_JOINTS)
    arrays = {
        "timestamps": np.asarray(result.timestamps, np.float64),
        "person_id": np.array([p.track_id for p in result.people], np.int64),
        "keypoints_2d": np.full(shape + (2,), np.nan, np.float32),
        "scores_2d": np.full(shape, np.nan, np.float32),
    }
    for run in result.models:
        arrays[f"poses_3d_{run.label}"] = np.full(shape + (3,), np.nan, np.float32)
    for person, p in enumerate(result.people):
        span = slice(p.first_frame, p.first_frame + len(p))
        arrays["keypoints_2d"][person, span] = p.keypoints
        arrays["scores_2d"][person, span] = p.scores
        for run in result.models:
            arrays[f"poses_3d_{run.label}"][person, span] = run.poses[person].poses
    for run in result.models:
        arrays |= world_arrays(run, result.people, result.num_frames)
    if result.camera is not None:
        arrays["camera_rotations"] = result.camera.rotations[: result.num_frames].astype(np.float32)
        arrays["camera_measured"] = result.camera.measured[: result.num_frames].astype(np.uint8)
    meta = {
        "source": result.source.name,
        "fps": result.fps,
        "width": result.width,
        "height": result.height,
        "joint_names": list(JOINT_NAMES),
        "coordinates_3d": COORDINATES,
        "coordinates_world": WORLD_COORDINATES,
        "world": {run.label: [None if m is None else m.summary() for m in run.world] for run in result.models},
        "scene": None if result.scene is None else result.scene.summary(),
        "camera": None if result.camera is None else result.camera.summary() | {"coordinates": CAMERA_COORDINATES},
        "keypoints_2d": "pixels, x right, y down, Human3.6M joint order",
        "models": {
            run.label: {
                "lifter": run.lifter_name,
                "mflops": run.mflops,
                "num_params": run.num_params,
                "device": run.device,
                "ms_per_frame": run.ms_per_frame(),
            }
            for run in result.models
        },
        "timings_s": result.timings,
        "ms_per_frame": result.ms_per_frame(),
        "warnings": result.warnings,
        "comparison_mean_mm": result.comparison.mean_mm if result.comparison else None,
    }
    return arrays, json.loads(json.dumps(meta, default=float))


def world_arrays(run: ModelRun, people: list[Pose2DSequence], num_frames: int) -> dict[str, np.ndarray]:
    """One model's world outputs, (person, frame, ...) with NaN where a person is absent or was not placed:
    poses, root trajectory, foot contacts (1/0 for FEET), and per person the camera -> world rotation, the
    camera's height above the ground and the spread of the contacts about it (metres); per person and frame the
    camera's orientation in the world (camera axes -> world), and per person its position in the world."""
    label, count = run.label, len(people)
    arrays = {
        f"world_poses_3d_{label}": np.full((count, num_frames, NUM_JOINTS, 3), np.nan, np.float32),
        f"world_root_{label}": np.full((count, num_frames, 3), np.nan, np.float32),
        f"world_contacts_{label}": np.full((count, num_frames, len(FEET)), np.nan, np.float32),
        f"world_rotation_{label}": np.full((count, 3, 3), np.nan, np.float32),
        f"world_camera_height_{label}": np.full(count, np.nan, np.float32),
        f"world_ground_spread_{label}": np.full(count, np.nan, np.float32),
        f"world_camera_orientation_{label}": np.full((count, num_frames, 3, 3), np.nan, np.float32),
        f"world_camera_position_{label}": np.full((count, 3), np.nan, np.float32),
    }
    for person, (p, motion) in enumerate(zip(people, run.world)):
        if motion is None:
            continue
        span = slice(p.first_frame, p.first_frame + len(p))
        arrays[f"world_poses_3d_{label}"][person, span] = motion.poses
        arrays[f"world_root_{label}"][person, span] = motion.root
        arrays[f"world_contacts_{label}"][person, span] = motion.contacts
        arrays[f"world_rotation_{label}"][person] = motion.rotation
        arrays[f"world_camera_height_{label}"][person] = motion.camera_height_m
        arrays[f"world_ground_spread_{label}"][person] = motion.spread_m
        arrays[f"world_camera_orientation_{label}"][person, span] = motion.camera_rotations
        arrays[f"world_camera_position_{label}"][person] = motion.camera_position
    return arrays


def _span(progress: Progress, start: float, end: float) -> Progress:
    """A progress callback for one stage that maps its 0..1 onto start..end of the whole run."""
    return lambda fraction, message: progress(start + (end - start) * min(max(fraction, 0.0), 1.0), message)
