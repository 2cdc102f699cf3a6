"""DeepMimic motion clips (pybullet's `humanoid3d_*.txt`) and the Isaac Lab AMP humanoid clips (`humanoid_*.npz`).

DeepMimic: a JSON file whose frames are [duration, root position (3), root quaternion (4), then per joint of
the humanoid in the order of `DEEPMIMIC_JOINTS` a quaternion (spherical joints) or an angle (revolute knees and
elbows)], quaternions stored w, x, y, z, root position in metres, Y up. Forward kinematics runs on the joint
offsets of pybullet's `humanoid.urdf`, read from the file by a small URDF reader and scaled by 0.25 (the
global scaling pybullet's DeepMimic environment loads it with). Both files use the same humanoid.

The humanoid has no head joint: its head is a collision sphere on the "neck" link. Its centre (about nose
level) is returned as the point "head_centre", its top (centre + radius along the neck's up axis) as "head_top".

Isaac Lab's AMP clips store the world positions and rotations of the same humanoid's 15 bodies (Z up); the
head points come from the same sphere, placed on the "head" body.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_lifting.data.rotations import axis_angle_rotation, quaternion_matrix

URDF_SCALE = 0.25  # pybullet's DeepMimic environment loads humanoid.urdf with globalScaling=0.25
DEEPMIMIC_JOINTS: tuple[str, ...] = (
    "chest",
    "neck",
    "right_hip",
    "right_knee",
    "right_ankle",
    "right_shoulder",
    "right_elbow",
    "left_hip",
    "left_knee",
    "left_ankle",
    "left_shoulder",
    "left_elbow",
)
HEAD_LINK = "neck"


@dataclass
class UrdfJoint:
    """A URDF joint: parent and child link, origin offset in the parent link's frame, rotation axis."""

    name: str
    parent: str
    child: str
    kind: str  # "spherical", "revolute", "fixed"
    offset: np.ndarray  # (3,) metres after scaling
    axis: np.ndarray  # (3,) unit, used by revolute joints


@dataclass
class UrdfHumanoid:
    """The kinematic tree of a URDF plus the head sphere (centre, radius) in the head link's frame."""

    joints: list[UrdfJoint]  # parents before children
    root_link: str
    head_centre: np.ndarray
    head_radius: float


def _vector(text: str | None, default: str = "0 0 0") -> np.ndarray:
    return np.array([float(v) for v in (text or default).split()])


def read_urdf(path: str | Path, scale: float = URDF_SCALE) -> UrdfHumanoid:
    """Read joint offsets and the head link's collision sphere from a URDF file (fixed rpy = 0 assumed)."""
    text = Path(path).read_text(encoding="utf-8").rstrip("\x00\r\n ")  # pybullet's copy ends with a NUL byte
    root = ElementTree.fromstring(text)
    joints = []
    for element in root.iter("joint"):
        origin = element.find("origin")
        if origin is not None and np.any(_vector(origin.get("rpy"))):
            raise ValueError(f"joint {element.get('name')} has a rotated origin, which this reader does not handle")
        axis = element.find("axis")
        joints.append(
            UrdfJoint(
                name=element.get("name", ""),
                parent=element.find("parent").get("link", ""),
                child=element.find("child").get("link", ""),
                kind=element.get("type", "fixed"),
                offset=scale * _vector(origin.get("xyz") if origin is not None else None),
                axis=_vector(axis.get("xyz") if axis is not None else None, "0 0 1"),
            )
        )
    children = {joint.child for joint in joints}
    root_link = next(j.parent for j in joints if j.parent not in children)
    ordered, known = [], {root_link}
    while len(ordered) < len(joints):
        for joint in joints:
            if joint.parent in known and joint.child not in known:
                ordered.append(joint)
                known.add(joint.child)
    head = next(link for link in root.iter("link") if link.get("name") == HEAD_LINK)
    collision = head.find("collision")
    return UrdfHumanoid(
        joints=ordered,
        root_link=root_link,
        head_centre=scale * _vector(collision.find("origin").get("xyz")),
        head_radius=scale * float(collision.find("geometry/sphere").get("radius")),
    )


def head_points(position: np.ndarray, rotation: np.ndarray, humanoid: UrdfHumanoid, up: np.ndarray) -> np.ndarray:
    """Head sphere centre and top (T, 2, 3) from the head link's position (T, 3) and rotation (T, 3, 3).

    `up` is the link's local up axis: y in the URDF (Y up), z for the Isaac Lab bodies (Z up).
    """
    centre_local = np.linalg.norm(humanoid.head_centre) * up
    top_local = centre_local + humanoid.head_radius * up
    centre = position + np.einsum("tij,j->ti", rotation, centre_local)
    top = position + np.einsum("tij,j->ti", rotation, top_local)
    return np.stack([centre, top], axis=1)


def read_deepmimic(path: str | Path, humanoid: UrdfHumanoid) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A DeepMimic clip -> (point names, world positions (T, P, 3) metres Y up, frame times (T,) seconds)."""
    frames = np.array(json.loads(Path(path).read_text())["Frames"], dtype=np.float64)
    times = np.concatenate([[0.0], np.cumsum(frames[:-1, 0])])
    root_position, columns = frames[:, 1:4], frames[:, 4:]
    local_rotations = {humanoid.root_link: quaternion_matrix(columns[:, 0:4])}
    column = 4
    kinds = {joint.name: joint for joint in humanoid.joints}
    for name in DEEPMIMIC_JOINTS:
        joint = kinds[name]
        if joint.kind == "spherical":
            local_rotations[joint.child] = quaternion_matrix(columns[:, column : column + 4])
            column += 4
        else:
            local_rotations[joint.child] = axis_angle_rotation(joint.axis, columns[:, column])
            column += 1
    if column != columns.shape[1]:
        raise ValueError(f"{path}: {columns.shape[1] + 4} values per frame, the humanoid needs {column + 4}")
    positions = {humanoid.root_link: root_position}
    rotations = {humanoid.root_link: local_rotations[humanoid.root_link]}
    identity = np.broadcast_to(np.eye(3), (len(frames), 3, 3))
    for joint in humanoid.joints:
        parent_rotation = rotations[joint.parent]
        positions[joint.child] = positions[joint.parent] + parent_rotation @ joint.offset
        rotations[joint.child] = parent_rotation @ local_rotations.get(joint.child, identity)
    heads = head_points(positions[HEAD_LINK], rotations[HEAD_LINK], humanoid, np.array([0.0, 1.0, 0.0]))
    names = [*positions, "head_centre", "head_top"]
    return names, np.concatenate([np.stack(list(positions.values()), axis=1), heads], axis=1), times


def read_isaac_amp(path: str | Path, humanoid: UrdfHumanoid) -> tuple[list[str], np.ndarray, np.ndarray]:
    """An Isaac Lab AMP clip -> (body names + head points, world positions (T, P, 3) metres Z up, times (T,))."""
    data = np.load(path)
    names = [str(name) for name in data["body_names"]]
    positions = data["body_positions"].astype(np.float64)
    head = names.index("head")
    rotation = quaternion_matrix(data["body_rotations"][:, head])
    heads = head_points(positions[:, head], rotation, humanoid, np.array([0.0, 0.0, 1.0]))
    times = np.arange(len(positions)) / float(data["fps"])
    return [*names, "head_centre", "head_top"], np.concatenate([positions, heads], axis=1), times
