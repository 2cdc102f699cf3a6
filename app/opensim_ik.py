"""World poses into OpenSim: a TRC of the joints, a full-body model scaled to the person, inverse kinematics.

    trc = write_trc("clip.trc", world_poses, times, feet)                  # always possible (no OpenSim needed)
    files = run_opensim(world_poses, times, feet, "outputs/clip")          # clip.trc, clip_scaled.osim, clip_ik.mot

- TRC: one marker per joint, named after it (`pose_lifting.skeleton.JOINT_NAMES`, then the heels and foot tips
  where the detector gave them), metres, in OpenSim's axes: Y up as our world, turned about Y so that the person
  faces OpenSim's +X in the first frame (its model faces +X, and IK starts from its default pose).
- Model: `Model_Pose2Sim_simple.osim` from the pose2sim wheel (app/opensim_assets.py). Our marker set is written
  here, from the model itself: each joint's marker sits at the model's joint centre (the joint's frame on its
  parent body: the hip joints on the pelvis, the knees on the femurs, the ankles on the tibias, the shoulders on
  the torso, the elbows on the humeri, the wrists on the radii), so that a marker and our joint mean the same
  point. The head top, nose, heels and foot tips, which are not joint centres, take Pose2Sim's Halpe26 marker
  locations. The pelvis, spine and thorax are midpoints of other joints and are left out of the IK.
- Scaling (ours, not OpenSim's ScaleTool: the result is the same, the ratio of a distance between our joints to
  the same distance on the model, applied to the segments): every bone's length is the median over the clip, left
  and right averaged (`skeleton.bone_lengths_symmetric`; constant in our world output). Femur: hip-knee; tibia and
  foot: knee-ankle; humerus: shoulder-elbow; forearm and hand: elbow-wrist; pelvis and torso: the hip centres to
  the shoulder centres along Y and X, the hip width (pelvis) and shoulder width (torso) along Z; head: our
  thorax -> neck_nose -> head bones against the model's mid-shoulders to head top. The markers are placed after
  scaling, at the scaled model's joint centres.
- IK (`IKConfig`): marker weights 1 for the limb joints, less for the head (its markers are not joint centres) and
  the feet (their depth comes from one view, world.py); the lumbar flexion is held near 0 by a weak coordinate task,
  because our 17 joints carry no pelvic landmark: the pelvis' tilt follows the trunk (as pose_lifting.angles
  defines it). Output `<stem>_ik.mot`, degrees.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.config import InputError
from app.opensim_assets import model_path
from pose_lifting.angles import pelvis_frame
from pose_lifting.files import atomic_output
from pose_lifting.skeleton import JOINT_INDEX, JOINT_NAMES, bone_lengths_symmetric

FOOT_MARKERS = ("left_heel", "right_heel", "left_foot_index", "right_foot_index")  # WorldMotion.feet's columns
# the model's joint whose frame on its parent body is each joint marker's place
JOINT_CENTRES = {
    "right_hip": "hip_r", "left_hip": "hip_l", "right_knee": "walker_knee_r", "left_knee": "walker_knee_l",
    "right_ankle": "ankle_r", "left_ankle": "ankle_l", "right_shoulder": "acromial_r", "left_shoulder": "acromial_l",
    "right_elbow": "elbow_r", "left_elbow": "elbow_l", "right_wrist": "radius_hand_r", "left_wrist": "radius_hand_l",
}  # fmt: skip
# markers that are not joint centres: (body, location in it) from Pose2Sim's Markers_Halpe26.xml (Head, Nose,
# RHeel / LHeel, RBigToe / LBigToe); OpenSim's Z points to the right, so the left side has -z
SURFACE_MARKERS = {
    "head": ("head", (0.0159224, 0.164131, 0.0)),
    "neck_nose": ("head", (0.116266, 0.0126096, 0.0)),
    "right_heel": ("calcn_r", (0.013586, 0.023304, -0.001887)),
    "left_heel": ("calcn_l", (0.013586, 0.023304, 0.001887)),
    "right_foot_index": ("toes_r", (0.064664, 0.009869, -0.014580)),
    "left_foot_index": ("toes_l", (0.064664, 0.009869, 0.014580)),
}
# our bone (parent joint, child joint) whose length scales each body
SEGMENT_BONES = {
    "femur": ("hip", "knee"), "tibia": ("knee", "ankle"), "talus": ("knee", "ankle"), "calcn": ("knee", "ankle"),
    "toes": ("knee", "ankle"), "humerus": ("shoulder", "elbow"), "ulna": ("elbow", "wrist"),
    "radius": ("elbow", "wrist"), "hand": ("elbow", "wrist"),
}  # fmt: skip
# default values the IK starts from where the model's own are far from a person standing (its arms are raised)
START_POSE = {"arm_add_r": 0.0, "arm_add_l": 0.0}


class TooShortToScale(InputError):
    """A person in view for too few frames to scale a model to (the run goes on without their OpenSim files)."""


@dataclass
class IKConfig:
    """OpenSim scaling and inverse kinematics: who is long enough to scale, and the IK's weights."""

    min_frames: int = 15  # fewer frames in view: the bone lengths are not trusted, no model is scaled
    joint_weight: float = 1.0  # hips, knees, ankles, shoulders, elbows, wrists
    head_weight: float = 0.1  # head top and nose (surface points of the model's head, placed by hand)
    foot_weight: float = 0.5  # heels and foot tips (one view gives their depth: world.py)
    lumbar_weight: float = 0.1  # the coordinate task holding the lumbar flexion at 0 (the pelvis follows the trunk)
    accuracy: float = 1e-5  # the IK solver's convergence

    def weight(self, marker: str) -> float:
        if marker in ("head", "neck_nose"):
            return self.head_weight
        return self.foot_weight if marker in FOOT_MARKERS else self.joint_weight


def facing_turn(poses: np.ndarray) -> np.ndarray:
    """(3, 3) the turn about Y that takes the person's first-frame facing (the pelvis' anterior axis) to +X."""
    forward = pelvis_frame(poses[:1])[0, :, 0]
    heading = np.arctan2(forward[2], forward[0])  # from +X towards +Z
    c, s = np.cos(heading), np.sin(heading)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def marker_table(poses: np.ndarray, feet: np.ndarray | None) -> tuple[list[str], np.ndarray]:
    """Marker names and positions (T, M, 3) in OpenSim's axes: the joints, then the feet where given."""
    names = list(JOINT_NAMES) + (list(FOOT_MARKERS) if feet is not None else [])
    points = poses if feet is None else np.concatenate([poses, feet], axis=1)
    return names, points @ facing_turn(poses).T


def write_trc(path: str | Path, poses: np.ndarray, times: np.ndarray, feet: np.ndarray | None = None) -> Path:
    """Write world poses (T, 17, 3) (and feet (T, 4, 3), NaN where missing) as an OpenSim TRC (see the module
    doc); `times` (T,) seconds. Missing markers are NaN, as OpenSim reads them."""
    path = Path(path)
    names, points = marker_table(np.asarray(poses, np.float64), None if feet is None else np.asarray(feet))
    count = len(points)
    rate = 1.0 / np.median(np.diff(times)) if count > 1 else 30.0
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
        f"{rate:.4f}\t{rate:.4f}\t{count}\t{len(names)}\tm\t{rate:.4f}\t1\t{count}",
        "Frame#\tTime\t" + "\t\t\t".join(names) + "\t\t",
        "\t\t" + "\t".join(f"{axis}{i + 1}" for i in range(len(names)) for axis in "XYZ"),
        "",
    ]
    for frame, (t, row) in enumerate(zip(times, points)):
        cells = [f"{v:.5f}" if np.isfinite(v) else "NaN" for v in row.reshape(-1)]
        lines.append("\t".join([str(frame + 1), f"{t:.5f}", *cells]))
    with atomic_output(path) as partial:
        partial.write_text("\n".join(lines) + "\n")
    return path


def _opensim():
    """The opensim module, quiet; an InputError says how to install it."""
    try:
        import opensim
    except ImportError as error:
        raise InputError("--opensim needs the `opensim` package: `pip install -r requirements.txt`") from error
    opensim.Logger.setLevelString("Error")
    opensim.Logger.removeFileSink()  # else it writes opensim.log into the working folder
    return opensim


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence what OpenSim's C++ prints on the process' standard output (the IK tool's model summary)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def check_opensim() -> None:
    """Fail early (an InputError that says what to do) when OpenSim or its model is missing."""
    _opensim()
    model_path()


def joint_centres(model) -> dict[str, tuple[str, np.ndarray]]:
    """Each joint marker's (body, location in it): the model's joint frame on its parent body."""
    centres = {}
    for marker, joint_name in JOINT_CENTRES.items():
        frame = model.getJointSet().get(joint_name).getParentFrame()
        base = frame.findBaseFrame()
        centres[marker] = (base.getName(), frame.findTransformInBaseFrame().p().to_numpy().copy())
    return centres


def _in_ground(model, state, body: str, location: np.ndarray) -> np.ndarray:
    frame = model.getBodySet().get(body)
    return frame.findStationLocationInGround(state, _opensim().Vec3(*location)).to_numpy().copy()


def scale_factors(model, state, lengths: np.ndarray) -> dict[str, np.ndarray]:
    """Per body (x, y, z) factors that give the model our bone lengths (17,) (`bone_lengths_symmetric`)."""
    points = {name: _in_ground(model, state, *place) for name, place in joint_centres(model).items()}
    points["head"] = _in_ground(model, state, *SURFACE_MARKERS["head"])
    mid = {part: 0.5 * (points[f"left_{part}"] + points[f"right_{part}"]) for part in ("hip", "shoulder")}
    j = JOINT_INDEX
    ours = _our_points(lengths)
    trunk = ours["trunk"] / np.linalg.norm(mid["shoulder"] - mid["hip"])
    hips = 2 * lengths[j["right_hip"]] / np.linalg.norm(points["left_hip"] - points["right_hip"])
    shoulders = 2 * lengths[j["right_shoulder"]] / np.linalg.norm(points["left_shoulder"] - points["right_shoulder"])
    factors = {
        "pelvis": np.array([trunk, trunk, hips]),
        "sacrum": np.array([trunk, trunk, hips]),
        "torso": np.array([trunk, trunk, shoulders]),
        "head": np.full(3, ours["head"] / np.linalg.norm(points["head"] - mid["shoulder"])),
    }
    for segment, (parent, child) in SEGMENT_BONES.items():
        model_length = np.linalg.norm(points[f"right_{child}"] - points[f"right_{parent}"])
        factor = lengths[j[f"right_{child}"]] / model_length
        factors |= {f"{segment}_r": np.full(3, factor), f"{segment}_l": np.full(3, factor)}
    return factors


def _our_points(lengths: np.ndarray) -> dict[str, float]:
    """Our trunk (mid-hips to mid-shoulders: pelvis -> spine -> thorax) and head (thorax -> neck_nose -> head)
    lengths from the bone lengths (17,); the chains are straight in our skeleton's torso convention."""
    j = JOINT_INDEX
    return {"trunk": lengths[j["spine"]] + lengths[j["thorax"]], "head": lengths[j["neck_nose"]] + lengths[j["head"]]}


def scaled_model(lengths: np.ndarray, feet: bool):
    """The full-body model scaled to our bone lengths, with our markers at its (scaled) joint centres."""
    opensim = _opensim()
    model = opensim.Model(str(model_path()))
    for coordinate, value in START_POSE.items():
        model.getCoordinateSet().get(coordinate).setDefaultValue(value)
    state = model.initSystem()
    factors = scale_factors(model, state, lengths)
    scales = opensim.ScaleSet()
    for body, factor in factors.items():
        scale = opensim.Scale()
        scale.setSegmentName(body)
        scale.setScaleFactors(opensim.Vec3(*factor))
        scale.setApply(True)
        scales.cloneAndAppend(scale)
    model.scale(state, scales, True)
    model.initSystem()
    places = joint_centres(model)
    for name, (body, location) in SURFACE_MARKERS.items():  # hand-placed points scale with their body
        if feet or name not in FOOT_MARKERS:
            places[name] = (body, np.asarray(location) * factors.get(body, np.ones(3)))
    for name, (body, location) in places.items():
        model.addMarker(opensim.Marker(name, model.getBodySet().get(body), opensim.Vec3(*location)))
    model.finalizeConnections()
    model.initSystem()
    return model


def inverse_kinematics(
    model, trc: Path, mot: Path, markers: list[str], times: tuple[float, float], config: IKConfig
) -> Path:
    """Run OpenSim's IK of `model` on the TRC's markers (those the model has) from `times[0]` to `times[1]`,
    writing `mot` (degrees)."""
    opensim = _opensim()
    tool = opensim.InverseKinematicsTool()
    tool.setModel(model)
    tool.setMarkerDataFileName(str(trc))
    tool.setStartTime(times[0])
    tool.setEndTime(times[1])
    tool.setOutputMotionFileName(str(mot))
    tool.set_accuracy(config.accuracy)
    tool.set_report_errors(False)
    tasks = tool.getIKTaskSet()
    for name in markers:
        if model.getMarkerSet().contains(name):
            task = opensim.IKMarkerTask()
            task.setName(name)
            task.setWeight(config.weight(name))
            tasks.cloneAndAppend(task)
    lumbar = opensim.IKCoordinateTask()
    lumbar.setName("L5_S1_Flex_Ext")
    lumbar.setWeight(config.lumbar_weight)
    lumbar.setValueType(opensim.IKCoordinateTask.DefaultValue)
    tasks.cloneAndAppend(lumbar)
    tool.set_results_directory(str(mot.parent))
    with _quiet_stdout():
        done = tool.run()
    if not done:
        raise InputError(f"OpenSim's inverse kinematics failed on {trc.name}")
    return mot


def run_opensim(
    poses: np.ndarray, times: np.ndarray, feet: np.ndarray | None, prefix: str | Path, config: IKConfig | None = None
) -> dict[str, Path]:
    """`<prefix>.trc`, `<prefix>_scaled.osim` and `<prefix>_ik.mot` for one person's world poses (T, 17, 3) at
    `times` (T,); `feet` (T, 4, 3) or None. `TooShortToScale` when the person is too briefly in view to scale; an
    `InputError` when OpenSim or its model is missing."""
    config = config or IKConfig()
    prefix = Path(prefix)
    if len(poses) < config.min_frames:
        raise TooShortToScale(f"in view for {len(poses)} frames, fewer than {config.min_frames}: too short to scale an "
                         "OpenSim model to")
    trc = write_trc(prefix.with_suffix(".trc"), poses, times, feet)
    model = scaled_model(bone_lengths_symmetric(np.asarray(poses, np.float64)), feet is not None)
    osim = prefix.parent / f"{prefix.name}_scaled.osim"
    with atomic_output(osim) as partial:
        model.printToXML(str(partial))
    names, _ = marker_table(poses[:1], None if feet is None else feet[:1])
    mot = prefix.parent / f"{prefix.name}_ik.mot"
    with atomic_output(mot) as partial:
        inverse_kinematics(model, trc, partial, names, (float(times[0]), float(times[-1])), config)
    return {"trc": trc, "osim": osim, "mot": mot}


def read_mot(path: str | Path) -> tuple[list[str], np.ndarray]:
    """An OpenSim .mot/.sto table: column names (the first is time) and values (rows, columns)."""
    lines = Path(path).read_text().splitlines()
    end = next(i for i, line in enumerate(lines) if line.strip().lower() == "endheader")
    names = lines[end + 1].split("\t")
    values = np.array([[float(v) for v in line.split("\t")] for line in lines[end + 2 :] if line.strip()])
    return [name.strip() for name in names], values
