"""Pose and motion augmentation (limb mixing, joint-angle offsets, tilts), the coverage measure, leaving sources out."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pose_lifting.coverage import nearest_pose_distance, nearest_poses
from pose_lifting.datasets import DataConfig, MocapData
from pose_lifting.generators import AugmentConfig, WindowSampler
from pose_lifting.motion_augment import (
    MotionAugmentConfig,
    augment_motion,
    hinge_angle,
    hip_angles,
    mix_limbs,
    offset_joints,
    plausible,
)
from pose_lifting.skeleton import JOINT_INDEX, bone_lengths
from tests.synthetic_data import STANDING_POSE, walking, write_mocap, yaw_matrix

J = JOINT_INDEX
NO_OFFSETS = MotionAugmentConfig(
    offset_joint=1.0,
    **{name: (0.0, 0.0) for name in ("hip_flexion", "hip_abduction", "knee_flexion", "shoulder_flexion",
                                      "shoulder_abduction", "elbow_flexion", "trunk_flexion", "trunk_lean",
                                      "trunk_twist", "neck_flexion")},
)


def windows(count: int = 16, frames: int = 21, seed: int = 0) -> np.ndarray:
    """(count, frames, 17, 3) walking windows at different headings."""
    return np.stack([walking(frames, seed + i) for i in range(count)]).astype(np.float32)


def standing(frames: int = 5, heading: float = 0.7) -> np.ndarray:
    return np.repeat((STANDING_POSE @ yaw_matrix(heading).T)[None, None], frames, axis=1).astype(np.float32)


@pytest.mark.parametrize("angle", [30.0, 90.0])
def test_a_knee_offset_bends_the_knee_by_exactly_that_angle(angle) -> None:
    pose = standing()
    before = hinge_angle(pose, J["left_hip"], J["left_knee"], J["left_ankle"])
    config = replace(NO_OFFSETS, knee_flexion=(angle, angle))
    after = offset_joints(pose, np.random.default_rng(0), config, np.ones(1, bool))
    bent = hinge_angle(after, J["left_hip"], J["left_knee"], J["left_ankle"])
    np.testing.assert_allclose(bent - before, angle, atol=0.5)
    shank = after[0, 0, J["left_ankle"]] - after[0, 0, J["left_knee"]]
    facing = (yaw_matrix(0.7) @ [0.0, 0.0, 1.0])
    assert shank @ facing < 0  # the knee bends backwards: the foot goes behind the body


def test_hip_flexion_and_abduction_offsets_read_back_as_hip_angles() -> None:
    pose = standing()
    flexion0, abduction0 = hip_angles(pose, "right")
    flexed = offset_joints(pose, np.random.default_rng(0), replace(NO_OFFSETS, hip_flexion=(40.0, 40.0)),
                           np.ones(1, bool))
    np.testing.assert_allclose(hip_angles(flexed, "right")[0] - flexion0, 40.0, atol=1.0)
    spread = offset_joints(pose, np.random.default_rng(0), replace(NO_OFFSETS, hip_abduction=(25.0, 25.0)),
                           np.ones(1, bool))
    np.testing.assert_allclose(hip_angles(spread, "right")[1] - abduction0, 25.0, atol=1.0)
    # the foot of a flexed hip comes forward, of an abducted one outward (to the right of a right leg)
    forward, left = yaw_matrix(0.7) @ [0.0, 0.0, 1.0], yaw_matrix(0.7) @ [1.0, 0.0, 0.0]
    assert (flexed - pose)[0, 0, J["right_ankle"]] @ forward > 0.2
    assert (spread - pose)[0, 0, J["right_ankle"]] @ left < -0.1


def test_every_augmentation_keeps_every_bone_length_within_a_millimetre() -> None:
    poses, donors = windows(), windows(seed=100)
    rng = np.random.default_rng(3)
    out = augment_motion(poses, donors, rng, MotionAugmentConfig(), limb_mix=1.0, angle_offset=1.0, orientation=1.0)
    assert np.abs(out - poses).max() > 0.1  # something changed
    np.testing.assert_allclose(bone_lengths(out), bone_lengths(poses), atol=1e-3)


def frame_jump(poses: np.ndarray) -> np.ndarray:
    """(B,) largest frame-to-frame move of any joint in each window (m)."""
    return np.linalg.norm(np.diff(poses, axis=1), axis=-1).max(axis=(1, 2))


def test_mixed_limbs_move_no_faster_than_the_motions_they_come_from() -> None:
    poses, donors = windows(frames=81, seed=0), windows(frames=81, seed=50)  # the lifter's window
    mixed = mix_limbs(poses, donors, np.random.default_rng(1), replace(MotionAugmentConfig(), mix_limb=1.0),
                      np.ones(len(poses), bool))
    assert np.abs(mixed - poses).max() > 0.05
    for joint in (J["right_hip"], J["left_shoulder"], J["thorax"]):  # the seams do not move
        np.testing.assert_array_equal(mixed[:, :, joint], poses[:, :, joint])
    # no jump at a seam: a grafted limb moves with its body and by its own motion, so its fastest joint may move
    # faster than either source's, but by far less than the bone lengths a seam would jump by
    assert (frame_jump(mixed) <= 1.5 * np.maximum(frame_jump(poses), frame_jump(donors))).all()


def test_offsets_held_over_a_window_add_no_jump() -> None:
    poses = windows()
    shifted = offset_joints(poses, np.random.default_rng(2), replace(MotionAugmentConfig(), offset_joint=1.0),
                            np.ones(len(poses), bool))
    assert (frame_jump(shifted) <= 1.5 * frame_jump(poses) + 0.002).all()


def test_implausible_results_fall_back_to_the_original_window() -> None:
    pose = standing()
    config = MotionAugmentConfig()
    overbent = offset_joints(pose, np.random.default_rng(0), replace(NO_OFFSETS, knee_flexion=(175.0, 175.0)),
                             np.ones(1, bool))
    assert not plausible(overbent, pose, config).any()
    into_the_body = pose.copy()
    into_the_body[:, :, J["left_wrist"]] = pose[:, :, J["spine"]] + 0.02
    assert not plausible(into_the_body, pose, config).any()
    assert plausible(pose, pose, config).all()
    out = augment_motion(pose, None, np.random.default_rng(0), replace(NO_OFFSETS, knee_flexion=(175.0, 175.0)),
                         limb_mix=0.0, angle_offset=1.0, orientation=0.0)
    np.testing.assert_array_equal(out, pose)


def test_a_tilt_turns_the_body_about_its_centre_pelvis() -> None:
    pose = standing(frames=3)
    config = replace(MotionAugmentConfig(), tilt=(180.0, 180.0))
    upside_down = augment_motion(pose, None, np.random.default_rng(0), config, 0.0, 0.0, orientation=1.0)
    np.testing.assert_allclose(upside_down[0, 1, J["pelvis"]], pose[0, 1, J["pelvis"]], atol=1e-6)
    assert upside_down[0, 1, J["head"], 1] < upside_down[0, 1, J["left_ankle"], 1]


def test_the_sampler_with_motion_augmentation_is_deterministic_under_a_seed(tmp_path) -> None:
    sequences = [walking(120, seed) for seed in range(3)]
    augment = AugmentConfig(limb_mix=0.5, angle_offset=0.5, orientation=0.2)
    first, second, other = (WindowSampler(sequences, 27, augment, seed=s).augmented_windows_3d(32) for s in (7, 7, 8))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)
    # without the new shares, the sampler draws exactly what it drew before they existed
    plain = WindowSampler(sequences, 27, AugmentConfig(), seed=7)
    assert plain.augment.limb_mix == plain.augment.angle_offset == plain.augment.orientation == 0.0


def test_nearest_pose_distance_sees_through_rotation_scale_and_translation() -> None:
    test = windows(count=4, frames=5)[:, 2]  # (4, 17, 3)
    turned = 1.3 * test @ yaw_matrix(1.1).T + np.array([2.0, 0.5, -1.0])
    pool = np.concatenate([windows(count=6, frames=5, seed=40)[:, 0], turned[::-1]])
    np.testing.assert_array_equal(nearest_poses(test, pool), [9, 8, 7, 6])
    np.testing.assert_allclose(nearest_pose_distance(test, pool), 0.0, atol=1e-3)
    bent = test.copy()
    bent[:, J["left_wrist"]] += [0.0, 0.17, 0.0]  # one joint of 16 moved 17 cm: 10.6 mm per joint unaligned, and
    # the least-squares fit spreads the error over the other joints without removing it
    assert 10.0 < nearest_pose_distance(bent, test).mean() < 22.0


def test_leave_out_keeps_a_source_out_of_training_and_tests_on_it(tmp_path) -> None:
    write_mocap(tmp_path)
    data = MocapData(DataConfig(data_dir=str(tmp_path), leave_out=("source_1",)))
    assert {s.source for s in data.train_sequences} == {"source_0"}
    assert data.heldout_sequences and {s.source for s in data.heldout_sequences} == {"source_1"}
    assert not {s.name for s in data.train_sequences} & {"cmu_01_01", "climb_4", "mocapbank"}
    with pytest.raises(ValueError, match="no prepared mocap"):
        MocapData(DataConfig(data_dir=str(tmp_path), leave_out=("nowhere",)))
