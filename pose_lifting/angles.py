"""Joint angles from world-frame poses (Human3.6M 17 joints, Y up, metres), every frame, in degrees.

    angles = joint_angles(world_poses, feet)      # (T, len(ANGLE_NAMES)), NaN where undefined

The zero pose is the anatomical position: standing upright, facing forward, arms hanging at the sides, knees and
elbows straight, the feet flat. Body frames follow ISB (Wu et al. 2002, 2005): X anterior, Y superior, Z to the
right, for both sides:
- pelvis: Z along left hip -> right hip; Y the trunk's direction (pelvis -> thorax) made square to Z. The 17 joints
  carry no pelvic landmark (no ASIS/PSIS), so the pelvis' sagittal tilt is the trunk's (as in an OpenSim model whose
  lumbar flexion is held near 0); its obliquity and rotation come from the hip line.
- trunk (thorax): Y along pelvis -> thorax, Z along left -> right shoulder made square to Y.
- thigh: Y along knee -> hip; X the direction from the ankle to the knee made square to Y (the knee's bending
  plane). Shank and foot: the knee -> ankle and heel -> foot tip lines.
- upper arm: Y along elbow -> shoulder; X the direction from the elbow to the wrist made square to Y (the elbow's
  bending plane).
Where the knee (elbow) is straighter than `AngleConfig.min_bend_deg`, the bending plane is undefined: the thigh's
(upper arm's) X is then the pelvis' (trunk's), and the hip (shoulder) rotation is NaN.

Angles and signs (positive first):
- hip_flexion / abduction / rotation: thigh in the pelvis frame, Grood-Suntay joint coordinate system (intrinsic
  Z-X-Y: flexion about the pelvis' Z, ab/adduction about the floating axis, rotation about the thigh);
  flexion = knee forward, abduction = knee away from the midline, rotation = internal.
- knee_flexion: angle between thigh and shank, 0 straight, 90 at a right angle (unsigned: a hyperextended knee
  reads as slightly flexed); elbow_flexion likewise between upper arm and forearm.
- ankle_dorsiflexion: 90 minus the angle between the shank (ankle -> knee) and the foot (heel -> foot tip); toes
  up = positive. Only where the detector gave heels and foot tips (else NaN).
- shoulder_flexion / abduction / rotation: upper arm in the trunk frame, intrinsic Z-X-Y as the hip (as OpenSim's
  arm_flex, arm_add, arm_rot); flexion = arm forward, abduction = arm out sideways, rotation = internal (forearm
  towards the belly). At 90 degrees of abduction flexion and rotation are gimbal-locked (as in OpenSim).
- pelvis_tilt / obliquity / rotation and trunk_flexion / lateral_lean / rotation: the segment against the world's
  vertical, intrinsic Y-X-Z (Baker 2001: rotation about the vertical, then obliquity, then tilt, so that tilt and
  obliquity do not depend on the heading); tilt / flexion = top forward, obliquity = right hip up, lateral lean =
  top to the right, rotation = turned to the person's left from facing the camera (world +z).
- trunk_pelvis_lateral_bend / rotation: the trunk in the pelvis frame (intrinsic Z-X-Y; its flexion is 0 by the
  pelvis' definition); bend = top to the right, rotation = shoulders turned to the left of the hips.
- neck_flexion: the thorax -> head top line in the trunk's sagittal plane, forward = positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from pose_lifting.skeleton import JOINT_INDEX

J = JOINT_INDEX
SIDES = {"r": "right", "l": "left"}
# the feet's columns of Pose2DSequence.feet / WorldMotion.feet: heel and foot tip per side
FOOT_COLUMNS = {"l": (0, 2), "r": (1, 3)}
BODY_ANGLES = (
    "pelvis_tilt", "pelvis_obliquity", "pelvis_rotation",
    "trunk_flexion", "trunk_lateral_lean", "trunk_rotation",
    "trunk_pelvis_lateral_bend", "trunk_pelvis_rotation", "neck_flexion",
)  # fmt: skip
SIDE_ANGLES = (
    "hip_flexion", "hip_abduction", "hip_rotation", "knee_flexion", "ankle_dorsiflexion",
    "shoulder_flexion", "shoulder_abduction", "shoulder_rotation", "elbow_flexion",
)  # fmt: skip
ANGLE_NAMES: tuple[str, ...] = BODY_ANGLES + tuple(f"{a}_{s}" for s in SIDES for a in SIDE_ANGLES)
DEFAULT_PLOTTED = ("knee_flexion_r", "knee_flexion_l", "hip_flexion_r", "hip_flexion_l", "trunk_flexion")
# the world frame's axes as the anatomical reference: facing the camera (+z), up +y, the person's right along -x
FACING_CAMERA = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # columns: X anterior, Y up, Z right


@dataclass
class AngleConfig:
    """Where the angles give up."""

    min_bend_deg: float = 20.0  # a straighter knee (elbow) leaves the hip (shoulder) rotation undefined: NaN


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _square_to(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """The unit part of v (..., 3) square to the unit `axis` (..., 3)."""
    return _unit(v - np.sum(v * axis, axis=-1, keepdims=True) * axis)


def frame_from_yx(y: np.ndarray, x_hint: np.ndarray) -> np.ndarray:
    """(..., 3, 3) right-handed frames, columns X, Y, Z: Y along `y`, X along `x_hint` made square to it."""
    y = _unit(y)
    x = _square_to(x_hint, y)
    return np.stack([x, y, np.cross(x, y)], axis=-1)


def frame_from_yz(y: np.ndarray, z_hint: np.ndarray) -> np.ndarray:
    """(..., 3, 3) right-handed frames, columns X, Y, Z: Y along `y`, Z along `z_hint` made square to it."""
    y = _unit(y)
    z = _square_to(z_hint, y)
    return np.stack([np.cross(y, z), y, z], axis=-1)


def pelvis_frame(poses: np.ndarray) -> np.ndarray:
    """(T, 3, 3): Z along the hip line (to the right), Y the trunk made square to it."""
    right = _unit(poses[:, J["right_hip"]] - poses[:, J["left_hip"]])
    up = _square_to(poses[:, J["thorax"]] - poses[:, J["pelvis"]], right)
    return np.stack([np.cross(up, right), up, right], axis=-1)


def trunk_frame(poses: np.ndarray) -> np.ndarray:
    """(T, 3, 3): Y along pelvis -> thorax, Z along the shoulder line made square to it."""
    return frame_from_yz(poses[:, J["thorax"]] - poses[:, J["pelvis"]],
                         poses[:, J["right_shoulder"]] - poses[:, J["left_shoulder"]])


def euler_deg(parent: np.ndarray, child: np.ndarray, order: str) -> np.ndarray:
    """(T, 3) intrinsic Euler angles (degrees) of the child frame in the parent frame, in scipy's `order`
    (upper case: intrinsic); NaN rows where either frame is undefined."""
    relative = np.einsum("tji,tjk->tik", parent, child)
    out = np.full((len(relative), 3), np.nan)
    finite = np.isfinite(relative).all(axis=(1, 2))
    if finite.any():
        out[finite] = Rotation.from_matrix(relative[finite]).as_euler(order, degrees=True)
    return out


def between_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T,) angle between the vectors a and b (T, 3), degrees."""
    cosine = np.sum(_unit(a) * _unit(b), axis=-1)
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


def limb_frame(proximal: np.ndarray, middle: np.ndarray, distal: np.ndarray, parent: np.ndarray,
               min_bend_deg: float, distal_forward: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A thigh's or upper arm's frame (T, 3, 3), Y along middle -> proximal, X the bending plane's forward
    direction (middle -> distal with `distal_forward`, as a forearm; else distal -> middle, as a shank) where the
    limb bends at least `min_bend_deg`, else the parent frame's (T, 3, 3) X
    (its -Y where the limb points along that X; the twist is undefined there, and only flexion and abduction,
    which depend on Y alone, are used); with the bend (T,) in degrees and where the plane was used (T,) bool."""
    bend = between_deg(middle - proximal, distal - middle)
    bent = bend >= min_bend_deg
    along = _unit(proximal - middle)
    parallel = np.abs(np.sum(along * parent[:, :, 0], axis=-1)) > 0.9
    fallback = np.where(parallel[:, None], -parent[:, :, 1], parent[:, :, 0])
    hint = np.where(bent[:, None], (distal - middle) * (1.0 if distal_forward else -1.0), fallback)
    return frame_from_yx(along, hint), bend, bent


def joint_angles(poses: np.ndarray, feet: np.ndarray | None = None, config: AngleConfig | None = None) -> np.ndarray:
    """(T, len(ANGLE_NAMES)) angles in degrees (see the module doc) of world poses (T, 17, 3); `feet` (T, 4, 3):
    world heels and foot tips (left_heel, right_heel, left_foot_index, right_foot_index), NaN where not measured."""
    config = config or AngleConfig()
    poses = np.asarray(poses, np.float64)
    count = len(poses)
    pelvis, trunk = pelvis_frame(poses), trunk_frame(poses)
    world = np.broadcast_to(FACING_CAMERA, (count, 3, 3))
    values: dict[str, np.ndarray] = {}

    rotation, obliquity, tilt = euler_deg(world, pelvis, "YXZ").T
    values |= {"pelvis_tilt": -tilt, "pelvis_obliquity": -obliquity, "pelvis_rotation": rotation}
    rotation, lean, tilt = euler_deg(world, trunk, "YXZ").T
    values |= {"trunk_flexion": -tilt, "trunk_lateral_lean": lean, "trunk_rotation": rotation}
    _, bend, twist = euler_deg(pelvis, trunk, "ZXY").T
    values |= {"trunk_pelvis_lateral_bend": bend, "trunk_pelvis_rotation": twist}
    head = np.einsum("tji,tj->ti", trunk, poses[:, J["head"]] - poses[:, J["thorax"]])
    values["neck_flexion"] = np.degrees(np.arctan2(head[:, 0], head[:, 1]))

    for side, name in SIDES.items():
        mirror = 1.0 if side == "r" else -1.0  # abduction and internal rotation have opposite signs on the left
        hip, knee, ankle = (poses[:, J[f"{name}_{joint}"]] for joint in ("hip", "knee", "ankle"))
        thigh, knee_bend, bent = limb_frame(hip, knee, ankle, pelvis, config.min_bend_deg, False)
        flexion, adduction, inward = euler_deg(pelvis, thigh, "ZXY").T
        values |= {
            f"hip_flexion_{side}": flexion,
            f"hip_abduction_{side}": -mirror * adduction,
            f"hip_rotation_{side}": np.where(bent, mirror * inward, np.nan),
            f"knee_flexion_{side}": knee_bend,
            f"ankle_dorsiflexion_{side}": _dorsiflexion(knee, ankle, feet, side),
        }
        shoulder, elbow, wrist = (poses[:, J[f"{name}_{joint}"]] for joint in ("shoulder", "elbow", "wrist"))
        arm, elbow_bend, bent = limb_frame(shoulder, elbow, wrist, trunk, config.min_bend_deg, True)
        flexion, adduction, inward = euler_deg(trunk, arm, "ZXY").T
        values |= {
            f"shoulder_flexion_{side}": flexion,
            f"shoulder_abduction_{side}": -mirror * adduction,
            f"shoulder_rotation_{side}": np.where(bent, mirror * inward, np.nan),
            f"elbow_flexion_{side}": elbow_bend,
        }
    return np.stack([values[name] for name in ANGLE_NAMES], axis=1)


def _dorsiflexion(knee: np.ndarray, ankle: np.ndarray, feet: np.ndarray | None, side: str) -> np.ndarray:
    if feet is None:
        return np.full(len(knee), np.nan)
    heel, tip = (feet[:, column] for column in FOOT_COLUMNS[side])
    return 90.0 - between_deg(knee - ankle, tip - heel)


def angle_ranges(angles: np.ndarray) -> dict[str, tuple[float, float, float]]:
    """Each angle's (minimum, maximum, range) over the frames where it is defined (angles (T, A)); angles never
    defined are left out."""
    out = {}
    for name, column in zip(ANGLE_NAMES, np.asarray(angles).T):
        finite = column[np.isfinite(column)]
        if len(finite):
            low, high = float(finite.min()), float(finite.max())
            out[name] = (low, high, high - low)
    return out
