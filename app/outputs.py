"""The export step's files and arrays: per model the world CSV, a BVH per person and one GLB with everyone, the
joint angles' CSV, the OpenSim files, and the frame-aligned arrays and metadata of `<stem>_pose.npz` / `.json`,
with the coordinate frames they are in.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from app.bvh import solve_rig, write_bvh
from app.glb import FilmingCamera, Skeleton, write_glb
from app.opensim_ik import TooShortToScale, run_opensim
from app.results import ModelRun, PipelineResult
from pose_lifting.angles import ANGLE_NAMES
from pose_lifting.files import atomic_output
from pose_lifting.sequence import Pose2DSequence, write_pose_csv
from pose_lifting.skeleton import JOINT_NAMES, NUM_JOINTS
from pose_lifting.world import FEET, WorldMotion

COORDINATES = "camera axes: x right, y down, z away from the camera; metres; pelvis at the origin in every frame"


WORLD_COORDINATES = (
    "world: Y up, metres, the ground at y = 0, x along the camera's right on the ground, z towards the camera; "
    "one world for everyone, the main subject's pelvis starting above the origin, each person moving along their "
    "estimated trajectory"
)


CAMERA_COORDINATES = (
    "camera_rotations (T, 3, 3): frame t's camera axes -> the first frame's (p_first = R_t p_t); "
    "world_camera_orientation_<model> (T, 3, 3): camera axes -> world, world_camera_position_<model> (3,)"
)


def write_world_files(
    out_dir: Path, stem: str, runs: list[ModelRun], video_times: np.ndarray, all_tracks: bool, size: tuple[int, int]
) -> dict[str, Path]:
    """Per model: `<stem>_3d_world.csv` (file key `world_csv:<label>`), a BVH per person (`bvh:<label>:<person>`)
    and one GLB with everyone and the filming camera (`glb:<label>`; `size`: the video's width and height); model
    and person names join the stem only where there are several.

    The BVHs and the GLB share one timeline: frame 0 is the first frame with a lifted person in it. With several
    people each BVH spans all of it, holding its person's first pose before they appear and their last after
    they leave, so that BVHs imported together play in step; the GLB hides a person while they are absent."""
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
        start = min(pose.first_frame for pose, _ in placed)
        frames = max(pose.first_frame + len(pose) for pose, _ in placed) - start
        skeletons = []
        for pose, motion in placed:
            person = f"{name}_person{pose.track_id}" if len(run.poses) > 1 else name
            rig = solve_rig(motion.poses)
            skeletons.append(Skeleton(rig, f"person{pose.track_id}", pose.first_frame - start))
            if len(run.poses) > 1:
                rig = solve_rig(held(motion.poses, pose.first_frame - start, frames))
            files[f"bvh:{run.label}:{pose.track_id}"] = write_bvh(out_dir / f"{person}.bvh", rig, motion.fps)
        motion = placed[0][1]
        orientations = camera_orientations([(pose.first_frame, m) for pose, m in placed], start, frames)
        camera = FilmingCamera(motion.camera_position, orientations, motion.focal_px, *size)
        files[f"glb:{run.label}"] = write_glb(out_dir / f"{name}.glb", skeletons, motion.fps, camera)
    return files


def held(poses: np.ndarray, start: int, frames: int) -> np.ndarray:
    """(frames, ...) `poses` placed from frame `start`, its first pose held before and its last after."""
    index = np.clip(np.arange(frames) - start, 0, len(poses) - 1)
    return poses[index]


def camera_orientations(placed: list[tuple[int, WorldMotion]], start: int, frames: int) -> np.ndarray:
    """(frames, 3, 3) the camera's orientation in the world (camera axes -> world) in each frame from `start`, from
    the placed people's (first frame, motion): they share one world and one camera. A frame where nobody was
    placed takes the nearest one's."""
    orientations = np.full((frames, 3, 3), np.nan)
    for first, motion in placed:
        lo, hi = max(first - start, 0), min(first - start + len(motion), frames)
        orientations[lo:hi] = motion.camera_rotations[lo - (first - start) : hi - (first - start)]
    return fill_nearest(orientations)


def fill_nearest(values: np.ndarray) -> np.ndarray:
    """(T, ...) values whose rows with a NaN take the nearest row without one (unchanged if every row has one)."""
    known = np.flatnonzero(np.isfinite(values.reshape(len(values), -1)).all(axis=1))
    if not len(known):
        return values
    return values[known[np.abs(known[None] - np.arange(len(values))[:, None]).argmin(axis=1)]]


def write_angle_files(
    out_dir: Path, stem: str, runs: list[ModelRun], video_times: np.ndarray, all_tracks: bool
) -> dict[str, Path]:
    """`<stem>_angles.csv` per model (file key `angles:<label>`): frame, time_s, (person_id,) then one column per
    angle of `pose_lifting.angles.ANGLE_NAMES`, degrees. One person: a row for every video frame, empty cells where
    they are absent (or an angle is undefined); several (`all_tracks`): each person's rows over their span."""
    files = {}
    for run in runs:
        placed = [(pose, angles) for pose, angles in zip(run.poses, run.angles) if angles is not None]
        if not placed:
            continue
        name = f"{stem}_angles.csv" if len(runs) == 1 else f"{stem}_{run.label}_angles.csv"
        with atomic_output(out_dir / name) as partial, partial.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["frame", "time_s"] + (["person_id"] if all_tracks else []) + list(ANGLE_NAMES))
            for pose, angles in placed if all_tracks else placed[:1]:
                rows = dict(enumerate(angles, start=pose.first_frame))
                person = [pose.track_id] if all_tracks else []
                for frame in sorted(rows) if all_tracks else range(len(video_times)):
                    values = rows.get(frame)
                    cells = [""] * len(ANGLE_NAMES) if values is None else [
                        f"{v:.2f}" if np.isfinite(v) else "" for v in values]
                    writer.writerow([frame, f"{video_times[frame]:.4f}", *person, *cells])
        files[f"angles:{run.label}"] = out_dir / name
    return files


def write_opensim_files(
    out_dir: Path, stem: str, runs: list[ModelRun], video_times: np.ndarray
) -> tuple[dict[str, Path], list[str]]:
    """Per model and person `<name>.trc`, `<name>_scaled.osim`, `<name>_ik.mot` (app.opensim_ik; file keys
    `trc:<label>:<person>`, ...), named as the BVH; warnings for people too briefly in view to scale."""
    files, warnings = {}, []
    for run in runs:
        name = stem if len(runs) == 1 else f"{stem}_{run.label}"
        for pose, motion in zip(run.poses, run.world):
            if motion is None:
                continue
            person = f"{name}_person{pose.track_id}" if len(run.poses) > 1 else name
            times = video_times[pose.first_frame : pose.first_frame + len(motion)]
            try:
                written = run_opensim(motion.poses, times, motion.feet, out_dir / person)
            except TooShortToScale as error:
                warnings.append(f"{run.label}: person {pose.track_id} is {error}; no OpenSim files")
                continue
            files |= {f"{kind}:{run.label}:{pose.track_id}": path for kind, path in written.items()}
    return files, warnings


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
        arrays[f"angles_{run.label}"] = np.full((len(result.people), result.num_frames, len(ANGLE_NAMES)), np.nan,
                                                np.float32)
        for person, (p, angles) in enumerate(zip(result.people, run.angles)):
            if angles is not None:
                arrays[f"angles_{run.label}"][person, p.first_frame : p.first_frame + len(p)] = angles
    if result.camera is not None:
        arrays["camera_rotations"] = result.camera.rotations[: result.num_frames].astype(np.float32)
        arrays["camera_measured"] = result.camera.measured[: result.num_frames].astype(np.uint8)
    meta = {
        "source": result.source.name,
        "fps": result.fps,
        "width": result.width,
        "height": result.height,
        "joint_names": list(JOINT_NAMES),
        "angle_names": list(ANGLE_NAMES),
        "angles": "angles_<model> (person, frame, angle): degrees, pose_lifting.angles; NaN where undefined",
        "coordinates_3d": COORDINATES,
        "coordinates_world": WORLD_COORDINATES,
        "world": {run.label: world_summary(run, result.people) for run in result.models},
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
    """One model's world outputs. Per person and frame, (person, frame, ...) with NaN where a person is absent or
    was not placed: poses, root trajectory, foot contacts (1/0 for FEET); per person their scale (their size
    against the lifted one). Shared by everyone (one world, one camera; NaN if nobody was placed): the camera ->
    world rotation, the camera's height above the ground and the spread of the planted soles about it (metres),
    the camera's orientation in each frame (camera axes -> world) and its position in the world."""
    label, count = run.label, len(people)
    arrays = {
        f"world_poses_3d_{label}": np.full((count, num_frames, NUM_JOINTS, 3), np.nan, np.float32),
        f"world_root_{label}": np.full((count, num_frames, 3), np.nan, np.float32),
        f"world_contacts_{label}": np.full((count, num_frames, len(FEET)), np.nan, np.float32),
        f"world_scale_{label}": np.full(count, np.nan, np.float32),
        f"world_rotation_{label}": np.full((3, 3), np.nan, np.float32),
        f"world_camera_height_{label}": np.float32(np.nan),
        f"world_ground_spread_{label}": np.float32(np.nan),
        f"world_camera_orientation_{label}": np.full((num_frames, 3, 3), np.nan, np.float32),
        f"world_camera_position_{label}": np.full(3, np.nan, np.float32),
    }
    placed = [(p.first_frame, motion) for p, motion in zip(people, run.world) if motion is not None]
    for person, (p, motion) in enumerate(zip(people, run.world)):
        if motion is None:
            continue
        span = slice(p.first_frame, p.first_frame + len(p))
        arrays[f"world_poses_3d_{label}"][person, span] = motion.poses
        arrays[f"world_root_{label}"][person, span] = motion.root
        arrays[f"world_contacts_{label}"][person, span] = motion.contacts
        arrays[f"world_scale_{label}"][person] = motion.scale
    if placed:
        motion = placed[0][1]
        arrays[f"world_rotation_{label}"][:] = motion.rotation
        arrays[f"world_camera_height_{label}"] = np.float32(motion.camera_height_m)
        arrays[f"world_ground_spread_{label}"] = np.float32(motion.spread_m)
        arrays[f"world_camera_orientation_{label}"][:] = camera_orientations(placed, 0, num_frames)
        arrays[f"world_camera_position_{label}"][:] = motion.camera_position
    return arrays


PERSON_SUMMARY = ("contact_fraction", "foot_sliding_cm", "scale")  # WorldMotion.summary's per-person entries


def world_summary(run: ModelRun, people: list[Pose2DSequence]) -> dict | None:
    """One model's world metadata: what everyone shares (up, ground, camera, lens), then each person's own."""
    summaries = [None if motion is None else motion.summary() for motion in run.world]
    first = next((summary for summary in summaries if summary is not None), None)
    if first is None:
        return None
    return {
        "shared": {key: value for key, value in first.items() if key not in PERSON_SUMMARY},
        "people": [
            None if summary is None else {"track_id": p.track_id} | {key: summary[key] for key in PERSON_SUMMARY}
            for p, summary in zip(people, summaries)
        ],
    }
