"""Acclaim ASF/AMC motion (the CMU mocap database's own format): parse both files and run forward kinematics.

ASF: every bone has a unit `direction` and `length` (in the world frame at rest), an `axis` (Euler angles and
order of its local frame C) and its rotational `dof`s. AMC: per frame, the root's translation and rotation
and each bone's dof values in degrees. Kinematics of the Acclaim spec: a bone's world rotation is
G = G_parent @ C @ M @ C^-1 with M the Euler rotation of its dofs, and its end point is the end point of its
parent (the root's position for the root's children) plus length * G @ direction. A bone's position here is
its END point, so "rfemur" is the right knee. Positions stay in the file's length units; `convert` scales them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_lifting.data.rotations import euler_rotation


@dataclass
class AsfBone:
    """One ASF bone; the root is a bone of length zero."""

    name: str
    parent: int  # index into AsfSkeleton.bones, -1 for the root
    direction: np.ndarray  # (3,) unit vector at rest, world frame
    length: float
    axis: np.ndarray  # (3,) degrees (or radians, see AsfSkeleton.degrees), in the order of axis_order
    axis_order: str  # e.g. "XYZ": rotate about x, then y, then z
    dofs: tuple[str, ...]  # e.g. ("rx", "ry", "rz"); the root's come from ":root order"


@dataclass
class AsfSkeleton:
    """A parsed ASF file; bones in an order where parents come first."""

    bones: list[AsfBone]
    degrees: bool

    def index(self, name: str) -> int:
        return next(i for i, bone in enumerate(self.bones) if bone.name == name)


def _sections(text: str) -> dict[str, list[list[str]]]:
    """Split ASF text into ':keyword' sections of tokenised, comment-free lines."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(":"):
            keyword, *rest = line[1:].split()
            current = sections.setdefault(keyword, [])
            if rest:
                current.append(rest)
        else:
            current.append(line.split())
    return sections


def parse_asf(text: str) -> AsfSkeleton:
    """Parse the text of an ASF skeleton file."""
    sections = _sections(text)
    degrees = any(line[:2] == ["angle", "deg"] for line in sections.get("units", []))
    root_fields = {line[0].lower(): line[1:] for line in sections["root"]}
    root_axis_order = root_fields.get("axis", ["XYZ"])[0]
    root_dofs = tuple(token.lower() for token in root_fields["order"])
    orientation = np.array([float(v) for v in root_fields.get("orientation", ["0", "0", "0"])])
    definitions: dict[str, AsfBone] = {
        "root": AsfBone("root", -1, np.zeros(3), 0.0, orientation, root_axis_order, root_dofs)
    }
    bone: dict[str, list[str]] = {}
    for line in sections["bonedata"]:
        key = line[0].lower()
        if key == "begin":
            bone = {}
        elif key == "end":
            definitions[bone["name"][0]] = AsfBone(
                name=bone["name"][0],
                parent=-1,
                direction=np.array([float(v) for v in bone["direction"]]),
                length=float(bone["length"][0]),
                axis=np.array([float(v) for v in bone["axis"][:3]]),
                axis_order=bone["axis"][3],
                dofs=tuple(token.lower() for token in bone.get("dof", [])),
            )
        else:
            bone[key] = line[1:]
    children: dict[str, list[str]] = {}
    for line in sections["hierarchy"]:
        if line[0].lower() not in ("begin", "end"):
            children.setdefault(line[0], []).extend(line[1:])
    ordered: list[AsfBone] = []
    queue = ["root"]
    while queue:
        name = queue.pop(0)
        parent = len(ordered)
        ordered.append(definitions[name])
        for child in children.get(name, []):
            definitions[child].parent = parent
            queue.append(child)
    return AsfSkeleton(ordered, degrees)


def parse_amc(text: str, skeleton: AsfSkeleton) -> dict[str, np.ndarray]:
    """Parse AMC text into {bone name: (T, number of dofs) values}; bones absent from a frame read as 0."""
    frames: list[dict[str, list[float]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ":")):
            continue
        tokens = line.split()
        if len(tokens) == 1 and tokens[0].isdigit():
            frames.append({})
        elif frames:
            frames[-1][tokens[0]] = [float(v) for v in tokens[1:]]
    values = {}
    for bone in skeleton.bones:
        if bone.dofs:
            zeros = [0.0] * len(bone.dofs)
            values[bone.name] = np.array([frame.get(bone.name, zeros) for frame in frames])
    return values


def _rotation(order: str, angles: np.ndarray) -> np.ndarray:
    """Rotate about order[0] first, then order[1], ... in the fixed frame: R = R_last @ ... @ R_first."""
    return euler_rotation(order[::-1], angles[..., ::-1])


def forward_kinematics(skeleton: AsfSkeleton, values: dict[str, np.ndarray]) -> np.ndarray:
    """World end points (T, B, 3) of every bone in `skeleton.bones` order (the root: its position), file units."""
    n_frames = len(next(iter(values.values())))
    to_rad = np.deg2rad if skeleton.degrees else np.asarray
    positions = np.zeros((n_frames, len(skeleton.bones), 3))
    rotations = np.zeros((n_frames, len(skeleton.bones), 3, 3))
    for b, bone in enumerate(skeleton.bones):
        c = _rotation(bone.axis_order, to_rad(bone.axis))
        dof_values = values.get(bone.name, np.zeros((n_frames, 0)))
        angles = np.zeros((n_frames, 3))
        translation = np.zeros((n_frames, 3))
        for k, dof in enumerate(bone.dofs):
            target = angles if dof[0] == "r" else translation
            target[:, "xyz".index(dof[1])] = dof_values[:, k]
        local = c @ _rotation("xyz", to_rad(angles)) @ c.T
        if bone.parent < 0:
            positions[:, b], rotations[:, b] = translation, local
        else:
            rotations[:, b] = rotations[:, bone.parent] @ local
            direction = np.einsum("tij,j->ti", rotations[:, b], bone.direction)
            positions[:, b] = positions[:, bone.parent] + bone.length * direction
    return positions


def read_asf_amc(asf_path: str | Path, amc_path: str | Path) -> tuple[AsfSkeleton, np.ndarray]:
    """Read an ASF/AMC pair -> (skeleton, world end points (T, B, 3) in the ASF's length units)."""
    skeleton = parse_asf(Path(asf_path).read_text(encoding="utf-8", errors="replace"))
    values = parse_amc(Path(amc_path).read_text(encoding="utf-8", errors="replace"), skeleton)
    return skeleton, forward_kinematics(skeleton, values)
