"""The world frame with what the picture says about the camera: the scene's up and focal, a turning camera."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from pose_lifting.sequence import CameraMotion, Pose2DSequence, SceneGeometry
from pose_lifting.skeleton import JOINT_INDEX
from pose_lifting.world import UP_SOURCES, WorldConfig, focal_length, world_motion
from tests.test_world import FPS, HEIGHT, WIDTH, angle_deg, as_lifted, film, sequences, walker

J = JOINT_INDEX
ANKLES = [J["left_ankle"], J["right_ankle"]]


def test_a_confident_scene_up_fixes_the_lean_the_body_and_feet_get_wrong():
    world, _, _ = walker(lean_deg=25.0, frames=40)  # too short a walk for a good ground plane
    lifted, pose2d, up, height = sequences(world)
    plain = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0))
    pose2d.scene = SceneGeometry(up=up, confidence=0.9, focal_px=None, num_lines=120, spread_deg=0.4)
    fused = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0))
    assert fused.method == "scene" and fused.summary()["up_source"] == UP_SOURCES["scene"]
    assert angle_deg(fused.up_camera, up) < 1e-6
    assert abs(fused.camera_height_m - height) < 0.05  # the contacts still give the ground's height
    assert angle_deg(plain.up_camera, up) > 2 * angle_deg(fused.up_camera, up) + 1.0


def test_a_scene_up_far_from_the_body_or_unsure_is_not_trusted():
    world, _, _ = walker(lean_deg=5.0)
    lifted, pose2d, up, _ = sequences(world)
    wrong = Rotation.from_rotvec([np.radians(50.0), 0.0, 0.0]).apply(up)  # a vanishing point 50 degrees off
    pose2d.scene = SceneGeometry(up=wrong, confidence=1.0, focal_px=None, num_lines=80, spread_deg=0.5)
    caught = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0))
    assert caught.method == "ground" and angle_deg(caught.up_camera, up) < 1.5
    prior = Rotation.from_rotvec([np.radians(40.0), 0.0, 0.0]).apply(caught.up_camera)
    pose2d.scene = SceneGeometry(up=prior, confidence=1.0, focal_px=None, num_lines=80, spread_deg=0.5)
    # 40 degrees from the body prior is still used: a body can lean that much (climbing mocap: 39-42 degrees)
    assert world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0)).method == "scene"
    pose2d.scene = SceneGeometry(up=wrong, confidence=1.0, focal_px=None, num_lines=80, spread_deg=0.5)
    forced = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0, method="scene"))
    assert forced.method == "scene" and angle_deg(forced.up_camera, wrong) < 1e-6
    pose2d.scene = SceneGeometry(up=up, confidence=0.1, focal_px=None, num_lines=6, spread_deg=float("nan"))
    assert world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0)).method == "ground"
    pose2d.scene = SceneGeometry(up=None, confidence=0.0, focal_px=None, num_lines=0, spread_deg=float("nan"))
    assert world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0)).method == "ground"


def test_the_scene_s_focal_length_replaces_the_assumed_one_but_not_the_user_s():
    world, _, _ = walker()
    lifted, pose2d, up, _ = sequences(world, fov_deg=50.0)
    true_focal = focal_length(WIDTH, HEIGHT, 50.0)[1]
    pose2d.scene = SceneGeometry(up=up, confidence=0.9, focal_px=true_focal, num_lines=90, spread_deg=0.3)
    motion = world_motion(lifted, pose2d)
    assert motion.focal_source == "scene" and abs(motion.fov_deg - 50.0) < 1e-6
    assumed = world_motion(lifted, Pose2DSequence(pose2d.keypoints, pose2d.scores, FPS, WIDTH, HEIGHT))
    assert assumed.focal_source == "assumed" and abs(assumed.focal_px - true_focal) > 50
    # the depth scale follows the focal: with the true one the camera's height is right
    assert abs(motion.camera_height_m - film(world, fov_deg=50.0)[2]) < 0.05
    assert world_motion(lifted, pose2d, WorldConfig(fov_deg=70.0)).focal_source == "user"
    pose2d.scene = None  # no focal from the lines: a turning camera's own, where it showed one
    pose2d.camera = CameraMotion.still(len(world))
    pose2d.camera.focal_px, pose2d.camera.focal_estimated = true_focal, True
    turning = world_motion(lifted, pose2d)
    assert turning.focal_source == "turning" and abs(turning.fov_deg - 50.0) < 1e-6
    assert world_motion(lifted, pose2d, WorldConfig(fov_deg=70.0)).focal_source == "user"


def turning_camera(frames: int) -> np.ndarray:
    """(T, 3, 3) frame t's camera axes -> the first's: a pan of 12 degrees and back, a 4-degree tilt, some roll."""
    phase = np.sin(np.pi * np.arange(frames) / (frames - 1))
    angles = np.stack([4.0 * phase, 12.0 * phase, 2.0 * np.sin(2 * np.pi * np.arange(frames) / frames)], -1)
    return Rotation.from_euler("xyz", angles, degrees=True).as_matrix()


def test_a_turning_camera_gives_the_same_world_as_a_still_one():
    world, stance, feet = walker()
    still_lifted, still_2d, _, _ = sequences(world, feet)
    still = world_motion(still_lifted, still_2d, WorldConfig(fov_deg=60.0))

    cameras, _, _ = film(world)
    rotations = turning_camera(len(world))
    first = cameras.to_camera(world[None])[0]  # the first frame's camera axes
    turned = np.einsum("tji,tkj->tki", rotations, first)  # p_t = R_t^T p_first
    focal = focal_length(WIDTH, HEIGHT, 60.0)[1]
    principal = np.array([WIDTH / 2, HEIGHT / 2])

    def project(points: np.ndarray) -> np.ndarray:
        return focal * points[..., :2] / points[..., 2:] + principal

    heels = np.einsum("tji,tkj->tki", rotations, cameras.to_camera(feet[None])[0].reshape(len(world), 4, 3))
    pose2d = Pose2DSequence(project(turned), np.ones(turned.shape[:2]), FPS, WIDTH, HEIGHT,
                            feet=project(heels).reshape(len(world), 2, 2, 2)[:, [0, 1, 0, 1], [0, 0, 1, 1]],
                            feet_scores=np.ones((len(world), 4)))
    lifted = as_lifted(turned, pose2d.keypoints, focal)
    config = WorldConfig(fov_deg=60.0)
    ignored = world_motion(lifted, pose2d, config)  # today's behaviour: the camera's turns move the person
    pose2d.camera = CameraMotion(rotations, np.ones(len(world), bool), np.zeros(len(world), int),
                                 np.zeros(len(world)), focal_px=focal)
    placed = world_motion(lifted, pose2d, config)

    def feet_height(motion) -> np.ndarray:
        return motion.poses[:, ANKLES, 1][stance]

    assert np.abs(placed.root - still.root).max() < 0.03
    assert abs(np.median(feet_height(placed)) - np.median(feet_height(still))) < 0.01
    assert feet_height(placed).std() < feet_height(still).std() + 0.005
    assert np.abs(ignored.root - still.root).max() > 0.3  # without the rotations the person swings through the scene
    # without turning the lifted poses onto their rays, the person, whom the camera moves across the picture, tilts
    unturned = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0, ray_correction=False))
    assert np.abs(unturned.root - still.root).max() > 0.1
    assert placed.camera_max_angle_deg > 10.0
    # the camera's orientation in the world: its viewing axis turns by the pan, and is still's in frame 0
    assert np.allclose(placed.camera_rotations[0], still.camera_rotations[0], atol=1e-3)
    assert 10.0 < angle_deg(placed.camera_rotations[len(world) // 2][:, 2], placed.camera_rotations[0][:, 2]) < 14.0


def test_a_still_camera_s_motion_changes_nothing():
    world, _, feet = walker()
    lifted, pose2d, _, _ = sequences(world, feet)
    before = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0))
    pose2d.camera = CameraMotion.still(len(world))
    after = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0))
    assert np.allclose(before.poses, after.poses, atol=1e-6) and after.camera_max_angle_deg == 0.0


def test_without_pictures_auto_and_scene_are_exactly_today_s_ground_method():
    world, _, feet = walker()
    lifted, pose2d, _, _ = sequences(world, feet)
    ground = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0, method="ground"))
    for method in ("auto", "scene"):
        other = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0, method=method))
        assert other.method == "ground" and np.array_equal(other.poses, ground.poses)
