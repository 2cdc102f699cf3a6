"""BVH export of world-frame poses: the Human3.6M-17 hierarchy rooted at the pelvis, metres, Y up.

    rig = solve_rig(world_poses)                 # (T, 17, 3) world positions -> offsets + joint rotations
    write_bvh("clip.bvh", rig, fps)              # every frame, at the video's frame rate
    positions = forward_kinematics(read_bvh("clip.bvh"))   # (T, 17, 3) back again

The rig (`solve_rig`, shared with the glTF export):
- Bone lengths are constant: each bone's median over the sequence, the left and right twins averaged.
- Rest pose (all rotations zero): facing +z, left along +x, legs and spine straight, arms out sideways (a T-pose);
  the hips and shoulders sit at the sequence's median angle to the spine and neck (see below).
- Rotations come from the bone directions. The pelvis' frame: y along pelvis -> spine, x along the hip line
  (right -> left hip) made perpendicular to it; the thorax' likewise from thorax -> neck_nose and the shoulder
  line. Every other joint with a child turns its bone by the smallest rotation from where its parent carries it
  onto the observed direction, so its twist about the bone is the parent's (no added twist). Leaves (ankles,
  wrists, head) keep their parent's orientation; their End Sites are a foot (forward), hands and head top.
- Forward kinematics reproduces every joint whose bone lengths are constant, except that a hip's (shoulder's)
  angle to the spine (neck) that moves away from its median moves that joint by bone length x angle change.
- Channels: the root has Xposition Yposition Zposition (the pelvis' world path) and every joint
  Zrotation Xrotation Yrotation, i.e. the local rotation is Rz @ Rx @ Ry (intrinsic ZXY Euler angles), degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from pose_lifting.skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, PARENTS, bone_lengths_symmetric

ROTATION_ORDER = "ZXY"
J = JOINT_INDEX
# rest direction of each joint's offset from its parent (facing +z, left +x, up +y); hips/shoulders get an angle
UP, DOWN, LEFT, RIGHT, FORWARD = (0, 1, 0), (0, -1, 0), (1, 0, 0), (-1, 0, 0), (0, 0, 1)
REST_DIRECTIONS = {
    "right_hip": RIGHT,
    "right_knee": DOWN,
    "right_ankle": DOWN,
    "left_hip": LEFT,
    "left_knee": DOWN,
    "left_ankle": DOWN,
    "spine": UP,
    "thorax": UP,
    "neck_nose": UP,
    "head": UP,
    "left_shoulder": LEFT,
    "left_elbow": LEFT,
    "left_wrist": LEFT,
    "right_shoulder": RIGHT,
    "right_elbow": RIGHT,
    "right_wrist": RIGHT,
}
# End Site length and direction of each leaf: a foot forward, the hands outwards, the top of the head
END_SITES = {
    "right_ankle": (0.12, FORWARD),
    "left_ankle": (0.12, FORWARD),
    "head": (0.08, UP),
    "left_wrist": (0.08, LEFT),
    "right_wrist": (0.08, RIGHT),
}
# joints whose frame comes from two directions: (joint, primary child, left child, right child)
BRANCHES = (("pelvis", "spine", "left_hip", "right_hip"), ("thorax", "neck_nose", "left_shoulder", "right_shoulder"))


@dataclass
class Rig:
    """A skeleton with constant offsets and per-frame rotations; positions follow by forward kinematics."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray  # (J, 3) each joint's offset from its parent in the parent's rest frame (root: 0)
    end_sites: dict[int, np.ndarray]  # joint index -> End Site offset
    root: np.ndarray  # (T, 3) root position per frame
    rotations: np.ndarray  # (T, J, 3, 3) each joint's rotation relative to its parent (root: to the world)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _frames(primary: np.ndarray, lateral: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations whose columns are x = lateral made perpendicular to y, y = primary, z = x cross y."""
    y = _unit(primary)
    x = _unit(lateral - (lateral * y).sum(-1, keepdims=True) * y)
    return np.stack([x, y, np.cross(x, y)], axis=-1)


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T, 3, 3) smallest rotations taking unit vectors a onto b (any axis at 180 degrees)."""
    axis = np.cross(a, b)
    sin, cos = np.linalg.norm(axis, axis=-1), (a * b).sum(-1)
    fallback = np.cross(a, np.where(np.abs(a[..., :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]]))
    axis = np.where((sin < 1e-9)[..., None], fallback, axis)
    rotvec = _unit(axis) * np.arctan2(sin, cos)[..., None]
    return Rotation.from_rotvec(rotvec).as_matrix()


def solve_rig(poses: np.ndarray) -> Rig:
    """The rig of (T, 17, 3) world positions (see the module doc)."""
    poses = np.asarray(poses, np.float64)
    lengths = bone_lengths_symmetric(poses)
    directions = {name: np.asarray(d, np.float64) for name, d in REST_DIRECTIONS.items()}
    world = np.zeros((len(poses), NUM_JOINTS, 3, 3))
    for joint, primary, left, right in BRANCHES:
        frame = _frames(poses[:, J[primary]] - poses[:, J[joint]], poses[:, J[left]] - poses[:, J[right]])
        world[:, J[joint]] = frame
        side = np.einsum("tji,tj->ti", frame, _unit(poses[:, J[left]] - poses[:, J[joint]]))
        angle = np.nanmedian(np.arctan2(side[:, 1], side[:, 0]))  # the left child's tilt towards the primary
        directions[left] = np.array([np.cos(angle), np.sin(angle), 0.0])
        directions[right] = np.array([-np.cos(angle), np.sin(angle), 0.0])
    offsets = np.zeros((NUM_JOINTS, 3))
    for joint in range(1, NUM_JOINTS):
        offsets[joint] = lengths[joint] * directions[JOINT_NAMES[joint]]
    branch_joints = {J[b[0]] for b in BRANCHES}
    children = {p: [c for c in range(NUM_JOINTS) if PARENTS[c] == p] for p in range(NUM_JOINTS)}
    for joint in range(1, NUM_JOINTS):  # parents come before children in the H36M order
        if joint in branch_joints:
            continue
        parent_frame = world[:, PARENTS[joint]]
        if not children[joint]:
            world[:, joint] = parent_frame
            continue
        (child,) = children[joint]
        carried = parent_frame @ _unit(offsets[child])
        observed = _unit(poses[:, child] - poses[:, joint])
        world[:, joint] = _swing(carried, observed) @ parent_frame
    local = world.copy()
    for joint in range(1, NUM_JOINTS):
        local[:, joint] = world[:, PARENTS[joint]].transpose(0, 2, 1) @ world[:, joint]
    end_sites = {J[name]: length * np.asarray(d, np.float64) for name, (length, d) in END_SITES.items()}
    return Rig(JOINT_NAMES, PARENTS, offsets, end_sites, poses[:, J["pelvis"]].copy(), local)


def rig_positions(rig: Rig) -> np.ndarray:
    """(T, J, 3) joint positions of a rig by forward kinematics."""
    count = len(rig.names)
    positions = np.zeros((len(rig.root), count, 3))
    world = np.zeros((len(rig.root), count, 3, 3))
    for joint in range(count):
        parent = rig.parents[joint]
        if parent < 0:
            positions[:, joint], world[:, joint] = rig.root + rig.offsets[joint], rig.rotations[:, joint]
            continue
        positions[:, joint] = positions[:, parent] + world[:, parent] @ rig.offsets[joint]
        world[:, joint] = world[:, parent] @ rig.rotations[:, joint]
    return positions


def write_bvh(path: str | Path, rig: Rig, fps: float) -> Path:
    """Write the rig as BVH (metres, ZXY Euler angles in degrees) with one motion row per frame at `fps`."""
    path = Path(path)
    lines = ["HIERARCHY"]

    def joint_block(joint: int, depth: int) -> None:
        pad = "  " * depth
        kind = "ROOT" if rig.parents[joint] < 0 else "JOINT"
        lines.append(f"{pad}{kind} {rig.names[joint]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET " + " ".join(f"{v:.6f}" for v in rig.offsets[joint]))
        position = "Xposition Yposition Zposition " if kind == "ROOT" else ""
        lines.append(f"{pad}  CHANNELS {6 if kind == 'ROOT' else 3} {position}Zrotation Xrotation Yrotation")
        for child in (c for c in range(len(rig.names)) if rig.parents[c] == joint):
            joint_block(child, depth + 1)
        if joint in rig.end_sites:
            site = " ".join(f"{v:.6f}" for v in rig.end_sites[joint])
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET {site}", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    joint_block(0, 0)
    order = _depth_first(rig.parents)
    euler = Rotation.from_matrix(rig.rotations.reshape(-1, 3, 3)).as_euler(ROTATION_ORDER, degrees=True)
    euler = euler.reshape(len(rig.root), len(rig.names), 3)
    lines += ["MOTION", f"Frames: {len(rig.root)}", f"Frame Time: {1.0 / fps:.8f}"]
    for t in range(len(rig.root)):
        values = list(rig.root[t]) + [v for j in order for v in euler[t, j]]
        lines.append(" ".join(f"{v:.6f}" for v in values))
    path.write_text("\n".join(lines) + "\n")
    return path


def _depth_first(parents: tuple[int, ...]) -> list[int]:
    """Joints in the order a BVH hierarchy lists them (depth first, children in index order)."""
    order: list[int] = []

    def visit(joint: int) -> None:
        order.append(joint)
        for child in (c for c in range(len(parents)) if parents[c] == joint):
            visit(child)

    visit(parents.index(-1))
    return order


@dataclass
class BvhFile:
    """A parsed BVH file: the hierarchy in file order and the motion table."""

    names: list[str]
    parents: list[int]
    offsets: np.ndarray  # (J, 3)
    channels: list[list[str]]  # per joint, e.g. ["Xposition", ..., "Zrotation", "Xrotation", "Yrotation"]
    frame_time: float
    motion: np.ndarray  # (frames, total channels)


def read_bvh(path: str | Path) -> BvhFile:
    """Parse a BVH file (any channel order; End Sites are skipped)."""
    tokens = Path(path).read_text().split()
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []
    stack: list[int] = []
    i = tokens.index("HIERARCHY") + 1
    in_end_site = False
    while tokens[i] != "MOTION":
        token = tokens[i]
        if token in ("ROOT", "JOINT"):
            names.append(tokens[i + 1])
            parents.append(stack[-1] if stack else -1)
            i += 2
        elif token == "End":
            in_end_site = True
            i += 2
        elif token == "{":
            if not in_end_site:
                stack.append(len(names) - 1)
            i += 1
        elif token == "}":
            if in_end_site:
                in_end_site = False
            else:
                stack.pop()
            i += 1
        elif token == "OFFSET":
            if not in_end_site:
                offsets.append([float(v) for v in tokens[i + 1 : i + 4]])
            i += 4
        elif token == "CHANNELS":
            count = int(tokens[i + 1])
            channels.append(tokens[i + 2 : i + 2 + count])
            i += 2 + count
        else:
            raise ValueError(f"{path}: unexpected token {token!r} in the hierarchy")
    frames = int(tokens[tokens.index("Frames:") + 1])
    frame_time = float(tokens[tokens.index("Time:") + 1])
    start = tokens.index("Time:") + 2
    width = sum(len(c) for c in channels)
    motion = np.array(tokens[start : start + frames * width], np.float64).reshape(frames, width)
    return BvhFile(names, parents, np.array(offsets), channels, frame_time, motion)


def _axis_rotation(axis: str, degrees: np.ndarray) -> np.ndarray:
    return Rotation.from_euler(axis.lower(), degrees[:, None], degrees=True).as_matrix()


def forward_kinematics(bvh: BvhFile) -> np.ndarray:
    """(frames, J, 3) joint positions: each joint's channels applied in the order the file lists them."""
    frames = len(bvh.motion)
    positions = np.zeros((frames, len(bvh.names), 3))
    world = np.zeros((frames, len(bvh.names), 3, 3))
    column = 0
    for joint, (parent, channels) in enumerate(zip(bvh.parents, bvh.channels)):
        local = np.broadcast_to(np.eye(3), (frames, 3, 3)).copy()
        translation = np.broadcast_to(bvh.offsets[joint], (frames, 3)).copy()
        for name in channels:
            values = bvh.motion[:, column]
            column += 1
            if name.endswith("position"):
                translation[:, "XYZ".index(name[0])] += values
            else:
                local = local @ _axis_rotation(name[0], values)
        if parent < 0:
            positions[:, joint], world[:, joint] = translation, local
        else:
            positions[:, joint] = positions[:, parent] + np.einsum("tij,tj->ti", world[:, parent], translation)
            world[:, joint] = world[:, parent] @ local
    return positions
