"""Training-pair generation: camera conventions, limb scaling, flips, the mocap and pre-projected pair samplers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pose_lifting.camera import CameraConfig, cameras_looking_at, random_cameras, rotation_yaw_pitch_roll
from pose_lifting.generators import (
    BONE_GROUPS,
    AugmentConfig,
    BlazePoseNoiseConfig,
    DetectorNoiseConfig,
    PairSampler,
    WindowSampler,
    detector_errors,
    flip_batch,
    mirror_pixels,
    project_windows,
    random_bone_scale,
    scale_limbs,
    subject_size,
)
from pose_lifting.skeleton import BONES, FLIP_PERMUTATION, JOINT_INDEX, NUM_JOINTS, bone_lengths, root_relative
from tests.synthetic_data import STANDING_POSE, walking, yaw_matrix

EXACT = AugmentConfig(noise_px=(0.0, 0.0), outlier_fraction=0.0, camera=CameraConfig(principal_jitter=0.0))


def one_camera(yaw: float, pitch: float = 0.0, roll: float = 0.0, target=(0.0, 1.0, 0.0)):
    return cameras_looking_at(
        np.array([target]),
        yaw=np.array([yaw]),
        pitch=np.array([pitch]),
        roll=np.array([roll]),
        distance=np.array([4.0]),
        focal=np.array([1000.0]),
        width=np.array([1000.0]),
        height=np.array([800.0]),
    )


@pytest.mark.parametrize("heading", np.radians([0.0, 70.0, 180.0, 290.0]))
@pytest.mark.parametrize("pitch", np.radians([-10.0, 0.0, 30.0]))
def test_a_subject_facing_the_camera_has_its_left_hip_on_the_image_right(heading, pitch) -> None:
    pose = STANDING_POSE @ yaw_matrix(heading).T
    j = JOINT_INDEX
    left = pose[j["left_hip"]] - pose[j["right_hip"]]
    facing = np.cross(left, [0.0, 1.0, 0.0])  # forward of a right-handed body: left x up
    facing /= np.linalg.norm(facing)
    assert facing @ (pose[j["neck_nose"]] - pose[j["head"]]) > 0  # the nose points where the body faces
    for camera_yaw, left_on_the_right in ((heading + np.pi, True), (heading, False)):  # in front of them, behind
        camera = one_camera(camera_yaw, pitch)
        assert np.sign(camera.rotation[0, 2] @ facing) == (-1 if left_on_the_right else 1)  # looks at them or not
        pixels = camera.project(camera.to_camera(pose[None]))[0]
        assert (pixels[j["left_hip"], 0] > pixels[j["right_hip"], 0]) == left_on_the_right
        assert pixels[j["head"], 1] < pixels[j["left_ankle"], 1]  # image y grows downwards


def test_a_point_straight_ahead_lands_on_the_principal_point() -> None:
    rng = np.random.default_rng(0)
    cameras = random_cameras(rng.normal(size=(64, 3)), rng, CameraConfig())
    ahead = cameras.centre + cameras.rotation[:, 2] * rng.uniform(1, 10, size=(64, 1))
    points = cameras.to_camera(ahead[:, None])
    np.testing.assert_allclose(points[:, 0, :2], 0.0, atol=1e-9)
    np.testing.assert_allclose(cameras.project(points)[:, 0], cameras.principal, atol=1e-6)
    assert not np.allclose(cameras.principal, np.stack([cameras.width, cameras.height], -1) / 2)  # jittered


def test_camera_rotations_are_orthonormal_and_right_handed() -> None:
    rng = np.random.default_rng(1)
    rotation = rotation_yaw_pitch_roll(*rng.uniform(-np.pi, np.pi, size=(3, 100)))
    np.testing.assert_allclose(
        rotation @ rotation.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (100, 3, 3)), atol=1e-12
    )
    np.testing.assert_allclose(np.linalg.det(rotation), 1.0, atol=1e-12)


def test_scale_limbs_multiplies_each_bone_and_keeps_left_right_twins_equal() -> None:
    rng = np.random.default_rng(2)
    poses = walking(12, seed=0).reshape(3, 4, NUM_JOINTS, 3)  # (B, f, J, 3)
    factors = rng.uniform(0.5, 1.5, size=(3, len(BONES))).astype(np.float32)
    scaled = scale_limbs(poses, factors)
    np.testing.assert_allclose(bone_lengths(scaled), bone_lengths(poses) * factors[:, None], rtol=1e-5)
    np.testing.assert_array_equal(scaled[..., 0, :], poses[..., 0, :])  # the root stays

    twin = {b: next(g for g in BONE_GROUPS if b in g) for b in range(len(BONES))}
    assert sum(len(g) == 2 for g in BONE_GROUPS) == 6  # hip, thigh, shin, shoulder, upper arm, forearm
    grouped = random_bone_scale(rng, 5, (0.85, 1.15))
    assert grouped.min() >= 0.85 and grouped.max() <= 1.15
    symmetric = np.repeat(STANDING_POSE[None, None], 5, axis=0)
    lengths = bone_lengths(scale_limbs(symmetric, grouped))[:, 0]
    for b, group in twin.items():
        np.testing.assert_allclose(grouped[:, b], grouped[:, group[0]])
        np.testing.assert_allclose(lengths[:, b], lengths[:, group[0]], rtol=1e-5)


def test_mirrored_pixels_and_flipped_targets_are_the_projection_of_the_mirrored_3d() -> None:
    rng = np.random.default_rng(3)
    world = walking(40, seed=1)[np.arange(8)[:, None] * 4 + np.arange(9)]  # (8 windows, 9 frames, J, 3)
    cameras = random_cameras(world[:, 4, 0], rng, CameraConfig(principal_jitter=0.0))
    points = cameras.to_camera(world)
    mirrored_3d = points[:, :, list(FLIP_PERMUTATION)] * np.array([-1.0, 1.0, 1.0], np.float32)
    batch = flip_batch(project_windows(world, cameras), np.ones(8, bool))
    np.testing.assert_allclose(batch.windows, cameras.project(mirrored_3d), atol=1e-3)
    np.testing.assert_allclose(batch.target, root_relative(mirrored_3d[:, 4]), atol=1e-6)
    np.testing.assert_allclose(mirror_pixels(batch.windows, batch.width), cameras.project(points), atol=1e-3)


def test_window_sampler_flips_exactly_the_chosen_windows() -> None:
    sequences = [walking(50, seed) for seed in range(2)]
    plain = WindowSampler(sequences, 9, replace(EXACT, flip=0.0), seed=4).sample(32)
    flipped = WindowSampler(sequences, 9, replace(EXACT, flip=1.0), seed=4).sample(32)
    np.testing.assert_allclose(flipped.windows, mirror_pixels(plain.windows, plain.width), atol=1e-3)
    np.testing.assert_allclose(flipped.target[:, list(FLIP_PERMUTATION), 0], -plain.target[..., 0], atol=1e-6)


def test_window_sampler_batches() -> None:
    lengths = (30, 7, 50)
    sequences = [walking(n, seed) for seed, n in enumerate(lengths)]
    sampler = WindowSampler(sequences, 27, AugmentConfig(), seed=5)
    assert len(sampler) == sum(lengths)
    batch = sampler.sample(64)
    assert batch.windows.shape == (64, 27, NUM_JOINTS, 2) and batch.target.shape == (64, NUM_JOINTS, 3)
    assert batch.width.shape == batch.height.shape == (64,)
    for array in (batch.windows, batch.target, batch.width, batch.height):
        assert array.dtype == np.float32 and np.isfinite(array).all()
    np.testing.assert_allclose(batch.target[:, JOINT_INDEX["pelvis"]], 0.0)  # root-relative
    assert 1.3 < np.median(np.ptp(batch.target[..., 1], axis=1)) < 2.0  # a person's height, in metres
    assert (batch.target[:, :, 2] ** 2 + batch.target[:, :, 0] ** 2).max() < 2.0**2  # not the camera distance


def test_time_warp_stays_within_one_sequence_in_order() -> None:
    lengths = (30, 7, 50)
    # every coordinate of frame t of sequence k is 1000 k + t: a window's values tell where its frames came from
    marked = [np.full((n, NUM_JOINTS, 3), 1000.0 * k) + np.arange(n)[:, None, None] for k, n in enumerate(lengths)]
    sampler = WindowSampler(marked, 27, AugmentConfig(), seed=6)
    times = sampler.windows_3d(256)[:, :, 0, 0].astype(np.float64)  # (B, f)
    sequence = np.floor(times[:, 13] / 1000).astype(int)
    times -= 1000 * sequence[:, None]
    last = np.array(lengths)[sequence][:, None] - 1
    assert (times >= -1e-3).all() and (times <= last + 1e-3).all()
    steps = np.diff(times, axis=1)
    assert (steps >= -1e-3).all()  # in order; edges repeat the first and last frame
    inside = (times[:, :-1] > 1e-3) & (times[:, 1:] < last - 1e-3)
    assert steps[inside].min() >= 0.7 - 1e-3 and steps[inside].max() <= 1.4 + 1e-3
    assert steps[inside].max() - steps[inside].min() > 0.5  # the speed varies
    assert set(sequence) == {0, 1, 2}


def test_pair_sampler_takes_windows_and_targets_from_one_sequence() -> None:
    lengths, sizes = (20, 5), [(1000.0, 1002.0), (640.0, 480.0)]
    keypoints = [
        np.zeros((n, NUM_JOINTS, 2), np.float32) + np.arange(n)[:, None, None] + 100 * k for k, n in enumerate(lengths)
    ]
    poses = [walking(n, seed) for seed, n in enumerate(lengths)]
    batch = PairSampler(keypoints, poses, sizes, 9, flip=0.0, seed=7).sample(128)
    frame = batch.windows[:, :, 0, 0]  # 100 k + t
    sequence, centre = (frame[:, 4] // 100).astype(int), (frame[:, 4] % 100).astype(int)
    expected = np.clip(centre[:, None] + np.arange(-4, 5), 0, np.array(lengths)[sequence][:, None] - 1)
    np.testing.assert_array_equal(frame, expected + 100 * sequence[:, None])  # edges repeat, as at inference
    np.testing.assert_array_equal(batch.width, np.array(sizes)[sequence, 0])
    np.testing.assert_array_equal(batch.height, np.array(sizes)[sequence, 1])
    for b in range(len(batch.target)):
        np.testing.assert_allclose(batch.target[b], root_relative(poses[sequence[b]][centre[b]]), atol=1e-6)

    flipped = PairSampler(keypoints, poses, sizes, 9, flip=1.0, seed=7).sample(128)
    np.testing.assert_allclose(flipped.windows, mirror_pixels(batch.windows, batch.width))
    np.testing.assert_allclose(flipped.target[:, list(FLIP_PERMUTATION), 0], -batch.target[..., 0])
    with pytest.raises(ValueError, match="same length"):
        PairSampler(keypoints, poses[::-1], sizes, 9)


def long_views(views: int = 12, frames: int = 600) -> np.ndarray:
    """(B, f, J, 2) exact pixels of walking people through random cameras, clip-long (20 s at 30 fps)."""
    from pose_lifting.skeleton import complete_torso

    rng = np.random.default_rng(0)
    world = complete_torso(np.stack([walking(frames, seed) for seed in range(views)]))
    return project_windows(world, random_cameras(world[:, frames // 2, 0], rng, CameraConfig())).windows


def error_statistics(config, views: np.ndarray, seed: int = 3) -> dict[str, float]:
    """Mean, steady (per-joint clip average), jitter (frame-to-frame / sqrt 2), per-joint steady; fractions of size."""
    noisy, _ = detector_errors(views, np.random.default_rng(seed), config)
    error = (noisy - views) / subject_size(views)[:, None, None, None]
    steady = np.linalg.norm(error.mean(axis=1), axis=-1)  # (B, J)
    return {
        "mean": float(np.linalg.norm(error, axis=-1).mean()),
        "steady": float(steady.mean()),
        "jitter": float(np.linalg.norm(np.diff(error, axis=1), axis=-1).mean() / np.sqrt(2)),
        "per_joint": steady.mean(axis=0),
    }


def test_the_blazepose_profile_has_heavys_sizes_at_strength_1() -> None:
    # issue 27: BlazePose heavy on the held-back clip, 3.2 % mean, 2.7 % steady, ~0.4 % frame-to-frame jitter
    views = long_views()
    stats = error_statistics(BlazePoseNoiseConfig().scaled(1.0), views)
    assert stats["mean"] == pytest.approx(0.032, rel=0.15)
    assert stats["steady"] == pytest.approx(0.027, rel=0.15)
    assert stats["jitter"] == pytest.approx(0.004, rel=0.3)
    assert stats["steady"] / stats["mean"] > 0.75  # mostly steady, unlike the YOLO-like model
    yolo = error_statistics(DetectorNoiseConfig().scaled(1.0), views)
    assert yolo["mean"] > 1.3 * stats["mean"] and yolo["jitter"] > 3 * stats["jitter"]
    per_joint = stats["per_joint"]
    j = JOINT_INDEX
    feet, hands = per_joint[[j["left_ankle"], j["right_ankle"]]].mean(), per_joint[[j["left_wrist"], j["right_wrist"]]]
    assert feet > 1.5 * per_joint[[j["left_shoulder"], j["right_shoulder"]]].mean()  # BlazePose's feet err most
    assert feet > hands.mean()
    half = error_statistics(BlazePoseNoiseConfig().scaled(0.5), views)
    assert half["mean"] == pytest.approx(stats["mean"] / 2, rel=0.2)  # strength scales every size


def test_the_blazepose_profile_is_a_detector_noise_config_with_its_own_defaults() -> None:
    profile = BlazePoseNoiseConfig()
    assert isinstance(profile, DetectorNoiseConfig)
    assert isinstance(profile.scaled(1.0), BlazePoseNoiseConfig) and profile.scaled(1.0).strength == (1.0, 1.0)
    assert profile.joint_bias != DetectorNoiseConfig().joint_bias
    assert set(profile.joint_jitter) <= set(JOINT_INDEX) and set(profile.joint_bias) <= set(JOINT_INDEX)
    assert DetectorNoiseConfig().joint_jitter == {}  # the YOLO-like model is unchanged


def test_mix_gives_blazepose_its_own_share() -> None:
    sequences = [walking(200, seed) for seed in range(3)]
    with pytest.raises(ValueError):
        AugmentConfig(noise="mix", detector_fraction=0.6, blazepose_fraction=0.5)
    base = replace(EXACT, flip=0.0, blazepose=BlazePoseNoiseConfig().scaled(1.0))
    exact = WindowSampler(sequences, 27, base, seed=5).sample(64)
    for noise, fractions, kind in (("blazepose", (0.0, 0.0), "all"), ("mix", (0.0, 1.0), "all"),
                                   ("mix", (0.0, 0.0), "gaussian")):
        aug = replace(base, noise=noise, detector_fraction=fractions[0], blazepose_fraction=fractions[1])
        batch = WindowSampler(sequences, 27, aug, seed=5).sample(64)
        error = np.linalg.norm(batch.windows - exact.windows, axis=-1) / subject_size(exact.windows)[:, None, None]
        assert batch.scores.shape == batch.windows.shape[:3]  # for a lifter that reads them (score_input)
        if kind == "all":
            assert (error.mean(axis=(1, 2)) > 0.01).all()
            assert (batch.scores < 1).all() and (batch.scores >= 0).all()  # the error model's own scores
        else:  # EXACT's gaussian noise is 0 px; exact 2D is sure of every joint
            np.testing.assert_allclose(batch.windows, exact.windows)
            assert (batch.scores == 1).all()
