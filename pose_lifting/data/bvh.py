"""BVH motion files: parse the hierarchy and motion, and run forward kinematics to world joint positions.

Every joint's rotation channels are applied in the order the file lists them (R = R_c1 @ R_c2 @ R_c3, the
BVH convention). Position channels, where a joint has them, replace its OFFSET (the root's, and those of
rigs exported with per-joint translation). End sites are points named "<joint>/end".
Positions come back in the file's own units and axes; `convert` turns them into metres, Y up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_lifting.data.rotations import euler_rotation


@dataclass
class BvhJoint:
    """One joint of the hierarchy; end sites are joints without channels."""

    name: str
    parent: int  # index into BvhMotion.joints, -1 for the root
    offset: np.ndarray  # (3,) in the file's units
    channels: tuple[str, ...]  # e.g. ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")
    first_channel: int  # column of the first channel in the motion array


@dataclass
class BvhMotion:
    """A parsed BVH file: joints in file order (parents before children) and the raw channel values."""

    joints: list[BvhJoint]
    frame_time: float  # seconds
    values: np.ndarray  # (T, total channels)

    @property
    def fps(self) -> float:
        """The frame rate; files write the frame time rounded (0.033333), so a rate within 0.01 % of a whole
        number of frames per second is that whole number."""
        rate = 1.0 / self.frame_time
        return float(round(rate)) if abs(rate - round(rate)) < 1e-4 * rate else rate

    @property
    def names(self) -> list[str]:
        return [joint.name for joint in self.joints]


def parse_bvh(text: str) -> BvhMotion:
    """Parse the text of a BVH file."""
    tokens = text.split()
    joints: list[BvhJoint] = []
    stack: list[int] = []
    n_channels = 0
    i = 0
    while tokens[i] != "MOTION":
        token = tokens[i]
        if token in ("ROOT", "JOINT"):
            name, i = tokens[i + 1], i + 2
            joints.append(BvhJoint(name, stack[-1] if stack else -1, np.zeros(3), (), n_channels))
        elif token == "End":  # "End Site"
            parent = stack[-1]
            name, i = f"{joints[parent].name}/end", i + 2
            joints.append(BvhJoint(name, parent, np.zeros(3), (), n_channels))
        elif token == "{":
            stack.append(len(joints) - 1)
            i += 1
        elif token == "}":
            stack.pop()
            i += 1
        elif token == "OFFSET":
            joints[stack[-1]].offset = np.array([float(v) for v in tokens[i + 1 : i + 4]])
            i += 4
        elif token == "CHANNELS":
            count = int(tokens[i + 1])
            joints[stack[-1]].channels = tuple(tokens[i + 2 : i + 2 + count])
            joints[stack[-1]].first_channel = n_channels
            n_channels += count
            i += 2 + count
        else:  # HIERARCHY
            i += 1
    n_frames = int(tokens[i + 2])  # MOTION Frames: N
    frame_time = float(tokens[i + 5])  # Frame Time: dt
    values = np.array(tokens[i + 6 : i + 6 + n_frames * n_channels], dtype=np.float64)
    if values.size != n_frames * n_channels:
        raise ValueError(f"BVH motion has {values.size} values, expected {n_frames} x {n_channels}")
    return BvhMotion(joints, frame_time, values.reshape(n_frames, n_channels))


def read_bvh(path: str | Path) -> BvhMotion:
    """Parse a BVH file from disk."""
    return parse_bvh(Path(path).read_text(encoding="utf-8", errors="replace"))


def forward_kinematics(motion: BvhMotion) -> np.ndarray:
    """World positions (T, J, 3) of every joint and end site, in the order of `motion.joints`, file units."""
    n_frames = len(motion.values)
    positions = np.zeros((n_frames, len(motion.joints), 3))
    rotations = np.zeros((n_frames, len(motion.joints), 3, 3))
    for j, joint in enumerate(motion.joints):
        values = motion.values[:, joint.first_channel : joint.first_channel + len(joint.channels)]
        translation = np.broadcast_to(joint.offset, (n_frames, 3)).copy()
        rot_order, rot_columns = "", []
        for k, channel in enumerate(joint.channels):
            axis, kind = channel[0].lower(), channel[1:].lower()
            if kind == "position":
                translation[:, "xyz".index(axis)] = values[:, k]
            else:
                rot_order += axis
                rot_columns.append(k)
        local = euler_rotation(rot_order, np.deg2rad(values[:, rot_columns]))
        if joint.parent < 0:
            positions[:, j], rotations[:, j] = translation, local
        else:
            parent_rotation = rotations[:, joint.parent]
            positions[:, j] = positions[:, joint.parent] + np.einsum("tij,tj->ti", parent_rotation, translation)
            rotations[:, j] = parent_rotation @ local
    return positions
