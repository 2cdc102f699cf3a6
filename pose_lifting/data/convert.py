"""Turn any mocap source into Human3.6M-17 poses: metres, right-handed Y up, torso by `complete_torso`, 30 fps.

Every sequence is resampled to one canonical rate, `MOCAP_FPS` = 30 fps, by linear interpolation in time:
in-the-wild video runs at 24-60 fps and the lifter resamples its input to its training rate, so training
windows must span the same time at every source (mocap is recorded at 30-120 Hz). The duration is kept: a
sequence of duration D seconds becomes floor(D * 30) + 1 frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_lifting.data import asf_amc, bvh, deepmimic, vrml
from pose_lifting.data.sources import CLIMB_JOINTS, RIGS, Rig, Source
from pose_lifting.skeleton import HEAD_TOP_EXTENSION, JOINT_INDEX, NUM_JOINTS, complete_torso

MOCAP_FPS = 30.0
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # (x, y, z) -> (x, z, -y)


@dataclass
class PointMotion:
    """What a reader gives back: named 3D points over time, in the source's units and axes."""

    names: list[str]
    positions: np.ndarray  # (T, P, 3)
    times: np.ndarray  # (T,) seconds from the first frame


def _read_bvh(path: Path, rig: Rig) -> PointMotion:
    motion = bvh.read_bvh(path)
    joints = {joint.name: joint for joint in motion.joints}
    for name, extra in rig.offset_fixes.items():
        joints[name].offset = joints[name].offset + np.asarray(extra)
    positions = bvh.forward_kinematics(motion)
    return PointMotion(motion.names, positions, np.arange(len(positions)) / motion.fps)


def read_points(source: Source, path: Path, assets: list[Path]) -> PointMotion:
    """Read one file of `source` (its `assets` unpacked at the given paths) into named points over time."""
    rig = RIGS[source.rig]
    if source.reader == "bvh":
        return _read_bvh(path, rig)
    if source.reader == "asf_amc":
        skeleton, positions = asf_amc.read_asf_amc(assets[0], path)
        names = [bone.name for bone in skeleton.bones]
    elif source.reader == "climb_npy":
        positions = np.load(path).astype(np.float64)
        names = list(CLIMB_JOINTS)
    elif source.reader in ("deepmimic", "isaac_amp"):
        humanoid = deepmimic.read_urdf(assets[0])
        read = deepmimic.read_deepmimic if source.reader == "deepmimic" else deepmimic.read_isaac_amp
        names, positions, times = read(path, humanoid)
        return PointMotion(names, positions, times)
    elif source.reader == "vrml":
        return PointMotion(*vrml.read_vrml_animation(path, MOCAP_FPS))
    else:
        raise ValueError(f"unknown reader {source.reader!r}")
    if source.fps is None:
        raise ValueError(f"{path}: the source table must give the frame rate of {source.reader} files")
    return PointMotion(names, positions, np.arange(len(positions)) / source.fps)


def map_rig(points: PointMotion, rig: Rig) -> np.ndarray:
    """Human3.6M-17 joints (T, 17, 3) from a source's points: torso completed, head top added where missing."""
    index = {name: i for i, name in enumerate(points.names)}
    poses = np.zeros((len(points.positions), NUM_JOINTS, 3))
    for joint, point in rig.joints.items():
        poses[:, JOINT_INDEX[joint]] = points.positions[:, index[point]]
    complete_torso(poses)
    if "head" not in rig.joints:
        face, thorax = poses[:, JOINT_INDEX["neck_nose"]], poses[:, JOINT_INDEX["thorax"]]
        poses[:, JOINT_INDEX["head"]] = face + HEAD_TOP_EXTENSION * (face - thorax)
    return poses


def resample(poses: np.ndarray, times: np.ndarray, fps: float = MOCAP_FPS) -> np.ndarray:
    """Linearly interpolate poses (T, ...) sampled at `times` (increasing seconds) onto a grid of `fps`.

    Files write rounded frame times (0.033333 s for 30 fps), so a grid point up to 5 % of an output frame past
    the last sample still counts, and takes the last pose.
    """
    times = np.asarray(times, dtype=np.float64)
    n_out = int(np.floor((times[-1] - times[0]) * fps + 0.05)) + 1
    grid = times[0] + np.arange(n_out) / fps
    left = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, max(len(times) - 2, 0))
    right = np.minimum(left + 1, len(times) - 1)
    span = np.where(right > left, times[right] - times[left], 1.0)
    weight = np.clip((grid - times[left]) / span, 0.0, 1.0).reshape((-1,) + (1,) * (poses.ndim - 1))
    return (1.0 - weight) * poses[left] + weight * poses[right]


def nominal_fps(times: np.ndarray) -> float:
    """The recording rate: 1 / median frame interval, rounded to 0.01 fps."""
    return round(1.0 / float(np.median(np.diff(times))), 2)


def convert(
    source: Source, path: Path, assets: list[Path], span: tuple[float, float] | None = None
) -> tuple[np.ndarray, float]:
    """One file of a source (the seconds of `span` of it) -> (poses (T, 17, 3) float32 at MOCAP_FPS in metres Y up,
    original fps)."""
    points = read_points(source, path, assets)
    if span is not None:
        keep = (points.times >= span[0] - 1e-6) & (points.times <= span[1] + 1e-6)
        if keep.sum() < 2:
            raise ValueError(f"{path}: no frames between {span[0]} and {span[1]} s")
        points = PointMotion(points.names, points.positions[keep], points.times[keep] - points.times[keep][0])
    poses = map_rig(points, RIGS[source.rig]) * source.to_metres
    if source.z_up:
        poses = poses @ Z_UP_TO_Y_UP.T
    return resample(poses, points.times).astype(np.float32), nominal_fps(points.times)


def forward_direction(poses: np.ndarray) -> np.ndarray:
    """Unit facing direction (T, 3) of each pose: (left hip - right hip) x (thorax - pelvis).

    With Y up, a person facing +z has the left hip at +x; left x up = forward in a right-handed frame.
    """
    j = JOINT_INDEX
    left = poses[:, j["left_hip"]] - poses[:, j["right_hip"]]
    up = poses[:, j["thorax"]] - poses[:, j["pelvis"]]
    forward = np.cross(left, up)
    return forward / np.maximum(np.linalg.norm(forward, axis=-1, keepdims=True), 1e-9)


def knee_forwardness(poses: np.ndarray) -> float:
    """Mean distance (m) by which the knees sit in front of their hip-ankle lines, along the facing direction.

    Knees only bend forward, so this is positive for a correctly handed skeleton and negative when left and
    right are swapped (or the skeleton mirrored).
    """
    j = JOINT_INDEX
    forward = forward_direction(poses)
    offsets = [
        poses[:, j[f"{side}_knee"]] - 0.5 * (poses[:, j[f"{side}_hip"]] + poses[:, j[f"{side}_ankle"]])
        for side in ("left", "right")
    ]
    return float(np.mean([np.einsum("ti,ti->t", offset, forward).mean() for offset in offsets]))


# plausible adult ranges (metres) of the median length of some bones, for the sanity check
BONE_RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("right_hip", "right_knee"): (0.33, 0.55),
    ("right_knee", "right_ankle"): (0.30, 0.55),
    ("left_hip", "left_knee"): (0.33, 0.55),
    ("left_knee", "left_ankle"): (0.30, 0.55),
    ("left_shoulder", "left_elbow"): (0.20, 0.40),
    ("right_shoulder", "right_elbow"): (0.20, 0.40),
    ("left_elbow", "left_wrist"): (0.18, 0.35),
    ("right_elbow", "right_wrist"): (0.18, 0.35),
    ("pelvis", "thorax"): (0.35, 0.65),
    ("thorax", "head"): (0.15, 0.40),
}


def sanity_problems(poses: np.ndarray) -> list[str]:
    """What looks wrong with a converted sequence: implausible bone lengths, swapped sides, not Y up."""
    j = JOINT_INDEX
    problems = []
    for (a, b), (low, high) in BONE_RANGES.items():
        length = float(np.median(np.linalg.norm(poses[:, j[a]] - poses[:, j[b]], axis=-1)))
        if not low <= length <= high:
            problems.append(f"{a}-{b} {length:.3f} m outside [{low}, {high}]")
    if knee_forwardness(poses) <= 0:
        problems.append("knees bend backwards: left and right look swapped")
    if np.median(poses[:, j["head"], 1] - poses[:, j["pelvis"], 1]) <= 0:
        problems.append("the head is mostly below the pelvis: not Y up")
    if not np.all(np.isfinite(poses)):
        problems.append("non-finite coordinates")
    return problems
