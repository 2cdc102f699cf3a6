"""New, plausible training motion made from the mocap we have: per-limb mixing between windows, joint-angle
offsets held over a window, and whole-body orientations beyond upright (issue 44).

Every change is a rotation of a limb's bones about the joint they hang from, so no bone changes length. All of
them act on whole windows (B, f, J, 3) of a Y-up world, with rotation axes that move with the body and angles
that stay the same over the window, so the motion stays as smooth as its sources:

- `mix_limbs`: a limb (a leg, an arm, the head) takes the bone directions of the same limb, or of its mirrored
  twin, in another window, expressed in that window's body frame (the pelvis frame for legs, the thorax frame
  for arms and the head) and put back in this body's frame, hung from this body's hip or shoulder with this
  body's bone lengths. The seam is the hip or shoulder joint, which does not move.
- `offset_joints`: hip flexion / abduction, knee flexion, shoulder flexion / abduction, elbow flexion, trunk
  flexion / lean / twist, neck flexion, each an angle drawn per window from `MotionAugmentConfig`'s ranges.
- `reorient`: the whole window turned about its centre frame's pelvis by a tilt of up to 180 degrees about a
  horizontal axis (leaning, lying, upside down).

`plausible` checks what is checked: hip, knee and elbow angles within anatomical ranges, and elbows, wrists,
knees and ankles out of a capsule around the spine (pelvis to thorax), each no worse than in the window the
change started from; a window that fails keeps its original motion. Not checked: self-contact between two
limbs, feet through the ground (the lifter's target is root-relative), joint rotation about a bone's own axis
(the 17 joints carry no twist), and whether a mixed combination is one a person would choose to make.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pose_lifting.skeleton import JOINT_INDEX, PARENTS

J = JOINT_INDEX


def _descendants(joint: int) -> list[int]:
    """The joint and every joint below it in the tree."""
    out = [joint]
    for child, parent in enumerate(PARENTS):
        if parent >= 0 and parent in out and child not in out:
            out.append(child)  # PARENTS lists every parent before its children
    return out


@dataclass(frozen=True)
class Limb:
    """A chain of joints whose bones `mix_limbs` exchanges: hung from `root`, in the body frame of `frame`."""

    joints: tuple[int, ...]  # the chain below the root, parents first
    root: int
    frame: str  # "pelvis" or "thorax"
    twin: str  # the mirrored limb's name (its own name for the head)


LIMB_FRAMES = ("pelvis", "thorax")
LIMBS: dict[str, Limb] = {
    "right_leg": Limb((J["right_knee"], J["right_ankle"]), J["right_hip"], "pelvis", "left_leg"),
    "left_leg": Limb((J["left_knee"], J["left_ankle"]), J["left_hip"], "pelvis", "right_leg"),
    "right_arm": Limb((J["right_elbow"], J["right_wrist"]), J["right_shoulder"], "thorax", "left_arm"),
    "left_arm": Limb((J["left_elbow"], J["left_wrist"]), J["left_shoulder"], "thorax", "right_arm"),
    "head": Limb((J["neck_nose"], J["head"]), J["thorax"], "thorax", "head"),
}


@dataclass(frozen=True)
class MotionAugmentConfig:
    """Ranges of the pose and motion augmentation (degrees). How often each kind is applied is a share in
    `generators.AugmentConfig` (`limb_mix`, `angle_offset`, `orientation`), chosen by the generalization benchmark."""

    mix_limb: float = 0.5  # in a mixed window, each limb's chance to come from the other window
    mix_mirrored: float = 0.5  # ... and the chance that it is its mirrored twin's motion (left for right)
    offset_joint: float = 0.35  # in an offset window, each joint's chance to get an offset
    hip_flexion: tuple[float, float] = (-20.0, 60.0)
    hip_abduction: tuple[float, float] = (-10.0, 35.0)  # positive: away from the body
    knee_flexion: tuple[float, float] = (-20.0, 70.0)
    shoulder_flexion: tuple[float, float] = (-30.0, 90.0)
    shoulder_abduction: tuple[float, float] = (-20.0, 70.0)
    elbow_flexion: tuple[float, float] = (-20.0, 70.0)
    trunk_flexion: tuple[float, float] = (-15.0, 45.0)
    trunk_lean: tuple[float, float] = (-20.0, 20.0)
    trunk_twist: tuple[float, float] = (-30.0, 30.0)
    neck_flexion: tuple[float, float] = (-20.0, 35.0)
    tilt: tuple[float, float] = (20.0, 180.0)  # whole-body tilt from upright, about a random horizontal axis
    # anatomical ranges that `plausible` checks (degrees)
    hip_flexion_range: tuple[float, float] = (-40.0, 160.0)  # against the pelvis-spine line: the lumbar spine's share
    hip_abduction_range: tuple[float, float] = (-40.0, 70.0)
    hinge_range: tuple[float, float] = (0.0, 160.0)  # knee and elbow flexion
    torso_radius: float = 0.11  # metres: elbows, wrists, knees and ankles stay this far from the spine
    frame_smoothing: int = 9  # frames the body axes that carry mixed limbs and offsets are averaged over


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _smooth_over_time(v: np.ndarray, frames: int) -> np.ndarray:
    """(B, f, 3) vectors averaged over a centred box of `frames` frames (edges repeat)."""
    if frames <= 1 or v.shape[1] < 2:
        return v
    half = frames // 2
    padded = np.concatenate([np.repeat(v[:, :1], half, axis=1), v, np.repeat(v[:, -1:], half, axis=1)], axis=1)
    total = np.cumsum(np.concatenate([np.zeros_like(v[:, :1]), padded], axis=1), axis=1)
    return (total[:, 2 * half + 1 :] - total[:, : -2 * half - 1]) / (2 * half + 1)


def body_frame(poses: np.ndarray, frame: str, smooth: int = 1) -> np.ndarray:
    """(..., 3, 3) body axes as columns (left, up, forward) of (..., J, 3) Y-up poses: from the hips and spine
    ("pelvis") or from the shoulders and the spine's top ("thorax"). With `smooth` > 1, poses are (B, f, J, 3)
    windows and the axes are averaged over that many frames: a frame built from two close joints turns with their
    noise, and a limb carried by it would swing with it."""
    if frame == "pelvis":
        lateral = poses[..., J["left_hip"], :] - poses[..., J["right_hip"], :]
        up = poses[..., J["spine"], :] - poses[..., J["pelvis"], :]
    else:
        lateral = poses[..., J["left_shoulder"], :] - poses[..., J["right_shoulder"], :]
        up = poses[..., J["thorax"], :] - poses[..., J["spine"], :]
    lateral = _unit(_smooth_over_time(_unit(lateral), smooth))
    up = _smooth_over_time(_unit(up), smooth)
    up = _unit(up - (up * lateral).sum(-1, keepdims=True) * lateral)
    return np.stack([lateral, up, np.cross(lateral, up)], axis=-1)


def rotate(v: np.ndarray, axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rodrigues: vectors (..., 3) rotated about unit `axis` (..., 3) by `angle` (...) radians (right-handed)."""
    cos, sin = np.cos(angle)[..., None], np.sin(angle)[..., None]
    return v * cos + np.cross(axis, v) * sin + axis * (axis * v).sum(-1, keepdims=True) * (1 - cos)


def rotate_subtree(poses: np.ndarray, joint: int, pivot: int, axis: np.ndarray, angle: np.ndarray) -> None:
    """Turn `joint` and everything below it about joint `pivot`, in place; axis (B, f, 3), angle (B,) radians.
    Rows with a zero angle are left alone (and cost nothing)."""
    rows = np.flatnonzero(angle)
    if not len(rows):
        return
    below = _descendants(joint)
    part = poses[rows][:, :, below]
    centre = poses[rows, :, pivot][:, :, None]
    turn = angle[rows, None, None].astype(poses.dtype)
    poses[rows[:, None, None], np.arange(poses.shape[1])[None, :, None], np.array(below)[None, None]] = (
        centre + rotate(part - centre, axis[rows][:, :, None], turn)
    )


def hinge_angle(poses: np.ndarray, upper: int, middle: int, lower: int) -> np.ndarray:
    """(...) degrees of flexion at `middle`: 0 with the two bones in line."""
    a, b = _unit(poses[..., middle, :] - poses[..., upper, :]), _unit(poses[..., lower, :] - poses[..., middle, :])
    return np.degrees(np.arccos(np.clip((a * b).sum(-1), -1, 1)))


def hip_angles(poses: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
    """(flexion, abduction) of one thigh in degrees, in the pelvis frame: 0 hanging straight down; flexion is the
    angle in the sagittal plane (forwards positive), abduction the angle out of it (away from the midline)."""
    thigh = poses[..., J[f"{side}_knee"], :] - poses[..., J[f"{side}_hip"], :]
    local = np.einsum("...ij,...i->...j", body_frame(poses, "pelvis"), thigh)  # (left, up, forward)
    outward = local[..., 0] if side == "left" else -local[..., 0]
    length = np.maximum(np.linalg.norm(local, axis=-1), 1e-9)
    flexion = np.degrees(np.arctan2(local[..., 2], -local[..., 1]))
    return flexion, np.degrees(np.arcsin(np.clip(outward / length, -1, 1)))


def _hinge_axis(poses: np.ndarray, upper: int, middle: int, axes: np.ndarray, bends_forward: bool) -> np.ndarray:
    """(B, f, 3) axis about which a positive angle bends the knee (backwards) or the elbow (forwards) further: the
    body's left axis (`axes`: body_frame's columns) carried along with the upper bone by the shortest turn from
    hanging straight down, so that it neither flips nor jitters when the limb is straight, as the bones' own plane
    would."""
    bone = _unit(poses[..., middle, :] - poses[..., upper, :])
    down = -axes[..., 1]
    turn = np.cross(down, bone)
    sin = np.linalg.norm(turn, axis=-1)
    angle = np.arctan2(sin, (down * bone).sum(-1))
    axis = rotate(axes[..., 0], turn / np.maximum(sin, 1e-9)[..., None], np.where(sin > 1e-6, angle, 0.0))
    return -axis if bends_forward else axis


def mix_limbs(
    poses: np.ndarray, donors: np.ndarray, rng: np.random.Generator, config: MotionAugmentConfig, chosen: np.ndarray
) -> np.ndarray:
    """Windows (B, f, J, 3) whose `chosen` (B,) rows take some limbs' motion from `donors` (B, f, J, 3)."""
    out = poses.copy()
    smooth = config.frame_smoothing
    frames = {name: (body_frame(poses, name, smooth), body_frame(donors, name, smooth)) for name in LIMB_FRAMES}
    for limb in LIMBS.values():
        take = chosen & (rng.random(len(poses)) < config.mix_limb)
        if not take.any():
            continue
        mirrored = rng.random(len(poses)) < config.mix_mirrored
        own, donor_axes = frames[limb.frame]
        for from_twin in (False, True):
            rows = take & (mirrored == from_twin)
            if not rows.any():
                continue
            source = LIMBS[limb.twin] if from_twin else limb
            parents, donor_parents = (limb.root, *limb.joints[:-1]), (source.root, *source.joints[:-1])
            for joint, parent, donor_joint, donor_parent in zip(limb.joints, parents, source.joints, donor_parents):
                bone = donors[rows, :, donor_joint] - donors[rows, :, donor_parent]
                local = np.einsum("bfij,bfi->bfj", donor_axes[rows], bone)
                if from_twin:
                    local[..., 0] *= -1  # the twin's motion, mirrored through the body's midplane
                length = np.linalg.norm(poses[rows, :, joint] - poses[rows, :, parent], axis=-1, keepdims=True)
                direction = _unit(np.einsum("bfij,bfj->bfi", own[rows], local))
                out[rows, :, joint] = out[rows, :, parent] + length * direction
    return out


def _angles(rng: np.random.Generator, size: int, degrees: tuple[float, float], chosen: np.ndarray) -> np.ndarray:
    """(size,) radians from the range for the chosen rows, zero elsewhere."""
    return np.where(chosen, np.radians(rng.uniform(*degrees, size=size)), 0.0).astype(np.float32)


def offset_joints(
    poses: np.ndarray, rng: np.random.Generator, config: MotionAugmentConfig, chosen: np.ndarray
) -> np.ndarray:
    """Windows (B, f, J, 3) with joint-angle offsets, each held over its window, in the `chosen` (B,) rows."""
    out = poses.copy()
    size = len(poses)

    def pick() -> np.ndarray:
        return chosen & (rng.random(size) < config.offset_joint)

    # the trunk first (it carries the arms and the head), about the pelvis, in the pelvis frame; the hips do not move
    # with it, so the legs keep the frame of the pelvis before the trunk turned
    pelvis = body_frame(out, "pelvis", config.frame_smoothing)
    for column, degrees in ((0, config.trunk_flexion), (2, config.trunk_lean), (1, config.trunk_twist)):
        rotate_subtree(out, J["spine"], J["pelvis"], pelvis[..., column], _angles(rng, size, degrees, pick()))
    thorax = body_frame(out, "thorax", config.frame_smoothing)
    rotate_subtree(out, J["neck_nose"], J["thorax"], thorax[..., 0], _angles(rng, size, config.neck_flexion, pick()))
    for side, sign in (("left", 1.0), ("right", -1.0)):
        # flexion turns a limb forwards (about the left axis, negated); abduction away from the midline
        hip, knee, ankle = J[f"{side}_hip"], J[f"{side}_knee"], J[f"{side}_ankle"]
        rotate_subtree(out, knee, hip, -pelvis[..., 0], _angles(rng, size, config.hip_flexion, pick()))
        rotate_subtree(out, knee, hip, sign * pelvis[..., 2], _angles(rng, size, config.hip_abduction, pick()))
        axis = _hinge_axis(out, hip, knee, pelvis, bends_forward=False)
        rotate_subtree(out, ankle, knee, axis, _angles(rng, size, config.knee_flexion, pick()))
        shoulder, elbow, wrist = J[f"{side}_shoulder"], J[f"{side}_elbow"], J[f"{side}_wrist"]
        rotate_subtree(out, elbow, shoulder, -thorax[..., 0], _angles(rng, size, config.shoulder_flexion, pick()))
        rotate_subtree(out, elbow, shoulder, sign * thorax[..., 2],
                       _angles(rng, size, config.shoulder_abduction, pick()))
        axis = _hinge_axis(out, shoulder, elbow, thorax, bends_forward=True)
        rotate_subtree(out, wrist, elbow, axis, _angles(rng, size, config.elbow_flexion, pick()))
    return out


def reorient(
    poses: np.ndarray, rng: np.random.Generator, config: MotionAugmentConfig, chosen: np.ndarray
) -> np.ndarray:
    """Windows (B, f, J, 3) whose `chosen` rows are tilted about a random horizontal axis through the centre
    frame's pelvis by an angle from `config.tilt`."""
    size = len(poses)
    heading = rng.uniform(0, 2 * np.pi, size)
    axis = np.stack([np.cos(heading), np.zeros(size), np.sin(heading)], axis=-1)
    angle = _angles(rng, size, config.tilt, chosen)
    rows = np.flatnonzero(angle)
    out = poses.copy()
    centre = poses[rows, poses.shape[1] // 2, J["pelvis"]][:, None, None]
    out[rows] = centre + rotate(poses[rows] - centre, axis[rows, None, None], angle[rows, None, None])
    return out


def _spine_distance(poses: np.ndarray) -> np.ndarray:
    """(B, f, 8) distance of elbows, wrists, knees and ankles from the segment pelvis -> thorax."""
    limbs = [J[f"{s}_{p}"] for s in ("left", "right") for p in ("elbow", "wrist", "knee", "ankle")]
    start, end = poses[:, :, J["pelvis"], None], poses[:, :, J["thorax"], None]
    axis = end - start
    along = ((poses[:, :, limbs] - start) * axis).sum(-1, keepdims=True) / np.maximum((axis**2).sum(-1, keepdims=True),
                                                                                        1e-9)
    nearest = start + np.clip(along, 0, 1) * axis
    return np.linalg.norm(poses[:, :, limbs] - nearest, axis=-1)


def _violation(poses: np.ndarray, config: MotionAugmentConfig) -> np.ndarray:
    """(B, 2) worst excess per window: degrees beyond the anatomical ranges, metres into the spine's capsule."""
    degrees = []
    for side in ("left", "right"):
        flexion, abduction = hip_angles(poses, side)
        degrees += [config.hip_flexion_range[0] - flexion, flexion - config.hip_flexion_range[1],
                    config.hip_abduction_range[0] - abduction, abduction - config.hip_abduction_range[1]]
        for upper, middle, lower in (("hip", "knee", "ankle"), ("shoulder", "elbow", "wrist")):
            hinge = hinge_angle(poses, J[f"{side}_{upper}"], J[f"{side}_{middle}"], J[f"{side}_{lower}"])
            degrees += [config.hinge_range[0] - hinge, hinge - config.hinge_range[1]]
    angle_excess = np.max([d.max(axis=1) for d in degrees], axis=0).clip(min=0)
    depth = (config.torso_radius - _spine_distance(poses)).max(axis=(1, 2)).clip(min=0)
    return np.stack([angle_excess, depth], axis=-1)


def plausible(augmented: np.ndarray, original: np.ndarray, config: MotionAugmentConfig) -> np.ndarray:
    """(B,) whether each augmented window is no further outside the anatomical ranges (1 degree of slack) and no
    deeper inside the spine's capsule (1 cm of slack) than the window it was made from."""
    excess = _violation(augmented, config) - _violation(original, config)
    return (excess[:, 0] <= 1.0) & (excess[:, 1] <= 0.01)


def augment_motion(
    poses: np.ndarray,
    donors: np.ndarray | None,
    rng: np.random.Generator,
    config: MotionAugmentConfig,
    limb_mix: float,
    angle_offset: float,
    orientation: float,
) -> np.ndarray:
    """Windows (B, f, J, 3) with limbs mixed from `donors` (in a share `limb_mix` of them), joint-angle offsets
    (share `angle_offset`) and tilts (share `orientation`); implausible results fall back to the original window.
    A share of 0 draws no random numbers, so runs without this augmentation keep their random streams."""
    size = len(poses)
    mixed = rng.random(size) < limb_mix if limb_mix > 0 and donors is not None else np.zeros(size, bool)
    offset = rng.random(size) < angle_offset if angle_offset > 0 else np.zeros(size, bool)
    out = poses.astype(np.float32)  # a copy
    rows = np.flatnonzero(mixed | offset)  # only the windows that change are worked on
    if len(rows):
        original = out[rows]
        changed = original
        if mixed.any():
            changed = mix_limbs(changed, donors[rows], rng, config, mixed[rows])
        if offset.any():
            changed = offset_joints(changed, rng, config, offset[rows])
        keep = plausible(changed, original, config)
        out[rows[keep]] = changed[keep]
    if orientation > 0:
        out = reorient(out, rng, config, rng.random(size) < orientation)
    return out
