"""The live 3D viewer's data: one JSON-ready dict with every lifted pose per frame (`viewer_payload`).

The page's viewer (app/static/viewer.js) draws it in a Y-up frame, metres. `display_poses` is the one place that
chooses those poses: each person's world motion (pose_lifting.scene_world: one world for everyone, ground at
y = 0, x right, z towards the camera) with its pelvis path as the trajectory; where a person could not be placed
in the world, the lifter's camera axes turned upright (a half turn about x), pelvis at the origin, on a floor at
their feet (the median over frames of the lowest joint), spread sideways by their place in the image, without a
trajectory. The chosen person (the first) keeps the left/right colours, every other person has a colour and a
label of their own, as in the video's 3D panel; the view starts far enough back to hold everyone. The filming
camera comes with its position and, per frame, its forward, up and right directions, so that the viewer can
draw it. The main subject's joint angles (pose_lifting.angles, first model) come per frame with their ranges,
for the angle chart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from app.outputs import camera_orientations
from app.pipeline import PipelineResult
from app.render import CENTRE_COLOUR, LEFT_COLOUR, RIGHT_COLOUR, SECOND_COLOUR, person_colour
from app.videos import spread
from pose_lifting.angles import ANGLE_NAMES, DEFAULT_PLOTTED, angle_ranges
from pose_lifting.skeleton import BONES, JOINT_NAMES, LEFT_JOINTS, RIGHT_JOINTS
from pose_lifting.world import UP_SOURCES

if TYPE_CHECKING:  # the live session draws with this module's UPRIGHT
    from app.live_session import LiveUpdate

UPRIGHT = np.array([1.0, -1.0, -1.0], np.float32)  # camera axes (y down, z away) -> y up, z towards the camera
WORST_JOINTS = 3  # the comparison names this many joints where the two models differ most
GRID_STEP_M = 0.5
VIEW_DISTANCE_M = 3.8  # the viewer's own starting distance (viewer.js), for one person
# with several: this many metres back per metre of their reach from the first chosen person (+1 m), whom the view
# follows; the view's half-width is a third of its distance, and someone to a side is also nearer the eye
VIEW_PER_REACH = 3.2


@dataclass
class DisplayPoses:
    """One person's poses as the viewer shows them."""

    poses: np.ndarray  # (T, 17, 3) metres, Y up
    floor_y: float  # the height of the ground under them
    trajectory: np.ndarray | None  # (T, 3) the pelvis' path, drawn on the floor; None when it is not known


def display_poses(result: PipelineResult, model: int, person: int) -> DisplayPoses:
    """The poses the viewer draws for one model's lift of one person (see the module doc)."""
    run = result.models[model]
    motion = run.world[person] if run.world else None
    if motion is not None:
        return DisplayPoses(motion.poses, 0.0, motion.root)
    apart = spread(result.people[person]) if len(result.people) > 1 else np.zeros((len(result.people[person]), 3))
    upright = (run.poses[person].poses + apart[:, None]) * UPRIGHT
    return DisplayPoses(upright, float(np.median(upright[..., 1].min(axis=1))), None)


def viewer_payload(result: PipelineResult) -> dict:
    """Everything the viewer needs, JSON-ready: frames, bones and their sides, colours, each model's people
    (track id, first frame, poses, trajectory, colour and label), the floor and its grid, the starting view
    distance, the filming camera and the teacher-student comparison."""
    shown = [[display_poses(result, m, p) for p in range(len(result.people))] for m in range(len(result.models))]
    everyone = np.concatenate([person.poses for person in shown[0]])
    floor = min(person.floor_y for person in shown[0])
    centre = everyone.reshape(-1, 3).mean(axis=0)
    half = GRID_STEP_M * np.ceil((np.abs(everyone[..., [0, 2]]).max() + 1.0) / GRID_STEP_M)
    pelvises = everyone[:, 0, [0, 2]]
    looked_at = np.median(shown[0][0].poses[:, 0, [0, 2]], axis=0)  # the view follows the first chosen person
    reach = float(np.percentile(np.linalg.norm(pelvises - looked_at, axis=1), 95))
    return {
        "fps": result.fps,
        "num_frames": result.num_frames,
        **skeleton_style(),
        "floor_y": floor,
        "grid": {"min": -float(half), "max": float(half), "step": GRID_STEP_M},
        "target": [float(centre[0]), floor + 0.9, float(centre[2])],
        "distance": max(VIEW_DISTANCE_M, VIEW_PER_REACH * (reach + 1.0)) if len(result.people) > 1 else VIEW_DISTANCE_M,
        "models": [
            {"label": run.label, "people": [_person(p, i, shown[m][i], len(result.people)) for i, p in
                                            enumerate(result.people)]}
            for m, run in enumerate(result.models)
        ],
        "comparison": _comparison(result),
        "camera": _camera(result),
        "angles": _angles(result),
    }


def skeleton_style() -> dict:
    """The joints, bones, their sides and the colours: what every payload draws with."""
    return {
        "joint_names": list(JOINT_NAMES),
        "bones": [list(bone) for bone in BONES],
        "sides": [_side(child) for _, child in BONES],
        "colours": {
            "left": hex_colour(LEFT_COLOUR),
            "right": hex_colour(RIGHT_COLOUR),
            "centre": hex_colour(CENTRE_COLOUR),
            "second": hex_colour(SECOND_COLOUR),
        },
    }


def live_payload(update: LiveUpdate, labels: list[str]) -> dict:
    """One live frame for the viewer's live mode: each lifter's newest pose (upright, pelvis above the origin, on
    the floor under it so far), the first lifter's in the left/right colours; no clock, chart or camera."""
    floor = update.floor_y if np.isfinite(update.floor_y) else -0.9
    models = [
        {"label": label, "people": [{"track_id": update.pose2d.track_id if update.pose2d else 0, "first_frame": 0,
                                     "poses": [np.round(pose.pose, 3).tolist()], "trajectory": None,
                                     "colour": None, "label": None}]}
        for label, pose in zip(labels, update.poses) if pose is not None
    ]
    waiting = "nobody in view" if update.pose2d is None else "the 3D comes once the lifter's window is filled"
    return {
        "live": True,
        "message": "" if models else waiting,
        "fps": 30.0,
        "num_frames": 1,
        **skeleton_style(),
        "floor_y": floor,
        "grid": {"min": -2.0, "max": 2.0, "step": GRID_STEP_M},
        "target": [0.0, floor + 0.9, 0.0],
        "distance": VIEW_DISTANCE_M,
        "models": models,
        "comparison": None,
        "camera": None,
        "angles": None,
    }


def _angles(result: PipelineResult) -> dict | None:
    """The main subject's joint angles (first model) per frame, degrees (null where undefined), each angle's
    minimum, maximum and range, and the angles plotted by default; None where the subject was not placed."""
    run = result.models[0]
    angles = run.angles[0] if run.angles else None
    if angles is None:
        return None
    ranges = angle_ranges(angles)
    values = np.where(np.isfinite(angles), np.round(angles, 1), None)
    return {
        "title": f"joint angles of #{result.people[0].track_id} ({run.label}), degrees",
        "first_frame": result.people[0].first_frame,
        "names": [name for name in ANGLE_NAMES if name in ranges],
        "values": {name: values[:, i].tolist() for i, name in enumerate(ANGLE_NAMES) if name in ranges},
        "ranges": {name: [round(v, 1) for v in span] for name, span in ranges.items()},
        "plotted": [name for name in DEFAULT_PLOTTED if name in ranges],
    }


def _camera(result: PipelineResult) -> dict | None:
    """The filming camera as the viewer draws it, in every frame of the clip (None if nobody was placed)."""
    run = result.models[0]
    placed = [(p.first_frame, motion) for p, motion in zip(result.people, run.world or []) if motion is not None]
    if not placed:
        return None
    motion = placed[0][1]
    turns = camera_orientations(placed, 0, result.num_frames)
    return {
        "first_frame": 0,
        "position": np.round(motion.camera_position, 3).tolist(),
        "forward": np.round(turns[:, :, 2], 4).tolist(),
        "up": np.round(-turns[:, :, 1], 4).tolist(),
        "right": np.round(turns[:, :, 0], 4).tolist(),
        "fov_deg": motion.fov_deg,
        "aspect": result.width / result.height,
    }


def world_caption(result: PipelineResult) -> str:
    """The 3D view's caption in words: where "up" came from and how sure it is, the field of view and its source,
    and how the camera moved (the main subject, first model)."""
    run = result.models[0]
    motion = run.world[0] if run.world else None
    if motion is None:
        return "The main subject could not be placed in the world: shown in the lifter's camera axes."
    source = UP_SOURCES[motion.method]
    if motion.method == "scene":
        source += f" (confidence {motion.scene_confidence:.2f})"
    lens = {"scene": "from the scene's lines", "turning": "from the camera's turning", "user": "as given",
            "assumed": "assumed, a phone's"}[motion.focal_source]
    words = [f"{source[0].upper()}{source[1:]}", f"field of view {motion.fov_deg:.0f} degrees ({lens})"]
    if motion.camera_max_angle_deg >= 1.0:
        words.append(f"the camera turned up to {motion.camera_max_angle_deg:.0f} degrees (followed)")
    if motion.camera_translating:
        words.append("the camera moved through the scene: the path is relative to it")
    return "; ".join(words) + "."


def payload_json(result: PipelineResult) -> str:
    """`viewer_payload` as the JSON text the page's viewer component takes."""
    return json.dumps(viewer_payload(result), separators=(",", ":"))


def _person(person, index: int, shown: DisplayPoses, count: int) -> dict:
    """One person's entry; `colour` None: the chosen person, in the left/right colours; `label` with several."""
    trajectory = None if shown.trajectory is None else np.round(shown.trajectory, 3).tolist()
    colour = person_colour(index)
    return {
        "track_id": person.track_id,
        "first_frame": person.first_frame,
        "poses": np.round(shown.poses, 3).tolist(),
        "trajectory": trajectory,
        "colour": None if colour is None else hex_colour(colour),
        "label": f"#{person.track_id}" if count > 1 else None,
    }


def _comparison(result: PipelineResult) -> dict | None:
    """The main subject's mean distance over joints and the worst joints' distances, per frame, in mm."""
    comparison = result.comparison
    if comparison is None:
        return None
    worst = np.argsort(-comparison.distance_mm.mean(axis=0))[:WORST_JOINTS]
    a, b = comparison.labels
    return {
        "title": f"{a} vs {b}: distance between their 3D joints, #{result.people[0].track_id}",
        "first_frame": result.people[0].first_frame,
        "mean_mm": np.round(comparison.distance_mm.mean(axis=1), 1).tolist(),
        "worst": [{"joint": JOINT_NAMES[j], "mm": np.round(comparison.distance_mm[:, j], 1).tolist()} for j in worst],
    }


def _side(joint: int) -> str:
    return "left" if joint in LEFT_JOINTS else "right" if joint in RIGHT_JOINTS else "centre"


def hex_colour(colour: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in colour)
