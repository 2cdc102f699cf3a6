"""Test-time smoothing of the lifted 3D (lifter.SmoothingConfig): the phase average of a sparse student, the
frame-rate-aware Savitzky-Golay filter, the constant bone lengths, the default and its off-switch; the
acceleration and bone metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pose_lifting.lifter import Lifter, SmoothingConfig, savgol_frames, smooth_poses
from pose_lifting.metrics import acceleration_error, all_metrics, bone_length_std
from pose_lifting.model import LifterConfig, PoseLifter
from pose_lifting.normalization import InputConfig
from pose_lifting.sequence import Pose2DSequence
from pose_lifting.skeleton import JOINT_INDEX, bone_lengths_symmetric, with_bone_lengths
from tests.synthetic_data import walking


def test_the_phase_average_is_the_mean_of_the_l_windows_around_each_frame() -> None:
    poses = np.random.default_rng(0).normal(size=(20, 17, 3)).astype(np.float32)
    out = smooth_poses(poses, 30.0, 3, SmoothingConfig("phase"))
    np.testing.assert_allclose(out[5], poses[4:7].mean(axis=0), rtol=1e-5)  # windows centred on t-1, t, t+1
    np.testing.assert_allclose(out[0], (2 * poses[0] + poses[1]) / 3, rtol=1e-5)  # edges repeat
    np.testing.assert_allclose(smooth_poses(poses, 30.0, 9, SmoothingConfig("phase"))[10], poses[6:15].mean(0), 1e-5)
    np.testing.assert_array_equal(smooth_poses(poses, 30.0, 1, SmoothingConfig("phase")), poses)  # dense: as is


def test_the_filter_spans_the_same_time_at_every_frame_rate() -> None:
    assert savgol_frames(0.25, 30.0, 2) == 9 and savgol_frames(0.25, 60.0, 2) == 15
    assert savgol_frames(0.25, 8.0, 2) == 3 and savgol_frames(0.0, 30.0, 3) == 5  # long enough for the polynomial
    t = np.arange(60) / 30.0
    smooth = (np.sin(2 * np.pi * 0.5 * t)[:, None, None] * np.ones((1, 17, 3))).astype(np.float32)  # slow motion
    noisy = smooth + np.random.default_rng(1).normal(scale=0.01, size=smooth.shape).astype(np.float32)
    out = smooth_poses(noisy, 30.0, 3, SmoothingConfig("savgol"))
    assert np.abs(out - smooth).mean() < 0.6 * np.abs(noisy - smooth).mean()  # the noise goes
    kept = smooth_poses(smooth, 30.0, 3, SmoothingConfig("savgol"))
    np.testing.assert_allclose(kept, smooth, atol=5e-3)  # but not the motion
    assert smooth_poses(noisy[:2], 30.0, 3, SmoothingConfig("savgol")).shape == (2, 17, 3)  # too short to filter
    np.testing.assert_array_equal(smooth_poses(noisy, 30.0, 3, SmoothingConfig("none")), noisy)
    with pytest.raises(ValueError, match="smoothing"):
        SmoothingConfig("kalman")


def test_the_bones_step_gives_every_bone_its_median_length_and_keeps_its_direction() -> None:
    walk = walking(30, 0).astype(np.float64)
    target = with_bone_lengths(walk, bone_lengths_symmetric(walk))  # rigid and symmetric
    np.testing.assert_allclose(with_bone_lengths(target, bone_lengths_symmetric(target)), target, atol=1e-9)
    stretched = target.copy()
    knee, ankle = JOINT_INDEX["left_knee"], JOINT_INDEX["left_ankle"]
    stretched[::3, ankle] += 0.3 * (stretched[::3, ankle] - stretched[::3, knee])  # a third of the frames: shin +30 %
    out = with_bone_lengths(stretched, bone_lengths_symmetric(stretched))
    np.testing.assert_allclose(out, target, atol=1e-9)  # the median length is the truth, the direction was kept
    assert bone_length_std(stretched) > 0.005 and bone_length_std(out) < 1e-6
    smoothed = smooth_poses(stretched, 30.0, 3, SmoothingConfig("phase+savgol"))
    np.testing.assert_allclose(smooth_poses(stretched, 30.0, 3, SmoothingConfig("phase+savgol+bones")),
                               with_bone_lengths(smoothed, bone_lengths_symmetric(smoothed)), atol=1e-6)  # last


def tiny_lifter(smoothing: SmoothingConfig | None = None) -> Lifter:
    torch.manual_seed(0)
    model = PoseLifter(LifterConfig(receptive_field=9, stride=3, embed_dim=4, num_heads=2, depth=1, upsample_head=True))
    return Lifter(model, InputConfig(), "tiny", "cpu", smoothing=smoothing)


def test_lift_smooths_by_default_and_can_be_switched_off() -> None:
    keypoints = np.random.default_rng(2).uniform(100, 900, size=(40, 17, 2))
    sequence = Pose2DSequence(keypoints, np.ones((40, 17)), 30.0, 1000, 1000)
    lifter = tiny_lifter()
    raw = lifter.lift(sequence, smoothing=SmoothingConfig("none")).poses
    default = lifter.lift(sequence)
    np.testing.assert_allclose(default.poses, smooth_poses(raw, 30.0, 3, lifter.smoothing), atol=1e-6)
    assert not np.allclose(default.poses, raw) and "smooth_s" in default.timings
    off = tiny_lifter(SmoothingConfig("none")).lift(sequence).poses
    np.testing.assert_array_equal(off, raw)


def test_acceleration_error_and_bone_length_stability() -> None:
    target = walking(30, 0).astype(np.float64)
    assert acceleration_error(target, target, 30.0) == 0.0
    shaken = target.copy()
    shaken[10, 3, 0] += 0.01  # one joint 1 cm off in one frame: second differences 1, -2, 1 cm
    expected = (0.01 + 0.02 + 0.01) * 30.0**2 / ((30 - 2) * 17)
    assert acceleration_error(shaken, target, 30.0) == pytest.approx(expected)
    assert bone_length_std(np.repeat(target[:1], 30, axis=0)) == pytest.approx(0.0, abs=1e-6)
    assert bone_length_std(shaken) > bone_length_std(target)
    metrics = all_metrics(shaken, target, fps=30.0)
    assert {"accel", "mpjve", "bone_std"} <= set(metrics) and "accel" not in all_metrics(shaken, target)
