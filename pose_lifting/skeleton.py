"""The Human3.6M 17-joint skeleton: joint names and order, parents, bones, left/right pairs.

This is the one place that defines the joint layout; the detector's remap, the training data,
the models' adjacent-joint mask (paper Eq. 2), the renderers and the CSV header all import it.
"""

from __future__ import annotations

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "spine",
    "thorax",
    "neck_nose",
    "head",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
)
NUM_JOINTS = len(JOINT_NAMES)
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

# parent of each joint; the pelvis is the root
PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)

# the 16 bones as (parent, child)
BONES: tuple[tuple[int, int], ...] = tuple((p, c) for c, p in enumerate(PARENTS) if p >= 0)

LEFT_JOINTS: tuple[int, ...] = (4, 5, 6, 11, 12, 13)
RIGHT_JOINTS: tuple[int, ...] = (1, 2, 3, 14, 15, 16)

# joint order after a horizontal flip: every left joint swaps with its right twin
FLIP_PERMUTATION: tuple[int, ...] = tuple(
    {**dict(zip(LEFT_JOINTS, RIGHT_JOINTS)), **dict(zip(RIGHT_JOINTS, LEFT_JOINTS))}.get(j, j)
    for j in range(NUM_JOINTS)
)


def adjacent_joint_mask() -> np.ndarray:
    """M_mask of Eq. (2): 1 where joints i and j are the two ends of one bone, else 0 (J x J, symmetric)."""
    mask = np.zeros((NUM_JOINTS, NUM_JOINTS), dtype=np.float32)
    for parent, child in BONES:
        mask[parent, child] = mask[child, parent] = 1.0
    return mask


def bone_lengths(poses: np.ndarray) -> np.ndarray:
    """Lengths of the 16 bones of poses shaped (..., 17, 3) -> (..., 16)."""
    parents = [p for p, _ in BONES]
    children = [c for _, c in BONES]
    return np.linalg.norm(poses[..., children, :] - poses[..., parents, :], axis=-1)


def bone_lengths_symmetric(poses: np.ndarray) -> np.ndarray:
    """(17,) length of the bone ending at each joint (root: 0) of (T, 17, 3) poses: medians over the sequence,
    left and right twins averaged."""
    lengths = np.zeros(NUM_JOINTS)
    for parent, child in BONES:
        lengths[child] = np.nanmedian(np.linalg.norm(poses[:, child] - poses[:, parent], axis=-1))
    for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS):
        lengths[left] = lengths[right] = 0.5 * (lengths[left] + lengths[right])
    return lengths


def with_bone_lengths(poses: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(T, 17, 3) poses with every bone at its (17,) length, its direction kept, chained out from the pelvis."""
    out = poses.copy()
    for parent, child in BONES:  # every parent comes before its children
        direction = poses[:, child] - poses[:, parent]
        norm = np.linalg.norm(direction, axis=-1, keepdims=True)
        out[:, child] = out[:, parent] + lengths[child] * direction / np.maximum(norm, 1e-9)
    return out


def root_relative(poses: np.ndarray) -> np.ndarray:
    """Poses (..., 17, D) moved so that the pelvis is at the origin."""
    return poses - poses[..., JOINT_INDEX["pelvis"] : JOINT_INDEX["pelvis"] + 1, :]


# The head joint is the top of the head; where a source has no point there (COCO keypoints, some mocap rigs), it
# lies k |F - T| beyond the face centre F on the line from the thorax T: anthropometric tables put it 0.55-0.65.
HEAD_TOP_EXTENSION = 0.6  # k


def complete_torso(joints: np.ndarray) -> np.ndarray:
    """Set pelvis, thorax and spine from the hips and shoulders, in place, for (..., 17, D) arrays.

    Mocap skeletons and image detectors disagree on where the torso joints are; both sides of the
    lifter define them the same way so that training data and detector output meet:
    pelvis = mid-hips, thorax = mid-shoulders, spine = mid(pelvis, thorax).
    """
    j = JOINT_INDEX
    joints[..., j["pelvis"], :] = 0.5 * (joints[..., j["left_hip"], :] + joints[..., j["right_hip"], :])
    joints[..., j["thorax"], :] = 0.5 * (joints[..., j["left_shoulder"], :] + joints[..., j["right_shoulder"], :])
    joints[..., j["spine"], :] = 0.5 * (joints[..., j["pelvis"], :] + joints[..., j["thorax"], :])
    return joints
