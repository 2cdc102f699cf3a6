"""The world frame: a synthetic walker with planted feet, filmed by a tilted camera, placed back on the ground."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pose_lifting.camera import cameras_looking_at
from pose_lifting.sequence import Pose2DSequence, Pose3DSequence
from pose_lifting.skeleton import JOINT_INDEX, JOINT_NAMES, root_relative
from pose_lifting.world import (
    WorldConfig,
    focal_length,
    foot_points,
    foot_sliding,
    ray_rotations,
    root_translation,
    world_motion,
    world_rotation,
)
from tests.synthetic_data import STANDING_POSE

FPS = 30.0
WIDTH, HEIGHT = 960, 540
J = JOINT_INDEX


def walker(frames: int = 150, lean_deg: float = 12.0, ankle_height: float = 0.08, turn_deg: float = 60.0):
    """(T, 17, 3) world poses (Y up, ground at 0) of a person walking along an arc with planted feet, the upper
    body leaning forward by `lean_deg`, and (T, 2) bool stance (left, right), and (T, 2, 2, 3) heel and foot
    tip positions (on the ground while in stance)."""
    t = np.arange(frames) / FPS
    period, stance, speed = 1.0, 0.6, 1.2  # seconds per cycle, stance fraction, m/s
    stride = speed * period
    heading = np.radians(turn_deg) * t / t[-1]  # walking direction turns gradually
    poses = np.zeros((frames, 17, 3))
    contacts = np.zeros((frames, 2), bool)
    feet = np.zeros((frames, 2, 2, 3))
    along = speed * t
    lean = np.radians(lean_deg)
    upper = STANDING_POSE - STANDING_POSE[J["pelvis"]]
    for side, (name, offset) in enumerate((("left", 0.0), ("right", 0.5))):
        phase = t / period + offset
        cycle, fraction = np.floor(phase), phase % 1.0
        swing = np.clip((fraction - stance) / (1 - stance), 0, 1)
        smooth = swing * swing * (3 - 2 * swing)
        foot_along = stride * (cycle + smooth - offset + 0.3)  # mid-stance under the pelvis
        lift = 0.08 * np.sin(np.pi * swing)
        contacts[:, side] = fraction < stance
        lateral = 0.1 if name == "left" else -0.1
        for k, (ahead, height) in enumerate(((-0.06, 0.0), (0.14, 0.0))):  # heel, foot tip (local to the ankle)
            feet[:, side, k] = np.stack([np.full(frames, lateral), height + lift, foot_along + ahead], -1)
        poses[:, J[f"{name}_ankle"]] = np.stack([np.full(frames, lateral), ankle_height + lift, foot_along], -1)
        poses[:, J[f"{name}_hip"]] = np.stack([np.full(frames, lateral), np.full(frames, 0.95), along], -1)
        knee = 0.5 * (poses[:, J[f"{name}_hip"]] + poses[:, J[f"{name}_ankle"]])
        poses[:, J[f"{name}_knee"]] = knee + np.array([0.0, 0.0, 0.06])
    poses[:, J["pelvis"]] = np.stack([np.zeros(frames), np.full(frames, 0.95), along], -1)
    tilt = np.array([[1, 0, 0], [0, np.cos(lean), np.sin(lean)], [0, -np.sin(lean), np.cos(lean)]])
    for name in JOINT_NAMES[J["spine"] :]:  # the upper body: spine to the wrists
        poses[:, J[name]] = poses[:, J["pelvis"]] + tilt @ upper[J[name]]
    # bend the straight path into an arc: each frame's points turn about the path point by the heading
    path = np.zeros((frames, 3))
    step = np.stack([np.sin(heading), np.zeros(frames), np.cos(heading)], -1) * speed / FPS
    path[1:] = np.cumsum(step[:-1], axis=0)
    rotations = np.stack(
        [np.array([[np.cos(h), 0, np.sin(h)], [0, 1, 0], [-np.sin(h), 0, np.cos(h)]]) for h in heading]
    )

    def bend(points: np.ndarray) -> np.ndarray:
        local = points - np.array([0.0, 0.0, 1.0]) * along.reshape(-1, *([1] * (points.ndim - 2)), 1)
        flat = local.reshape(frames, -1, 3) @ rotations.transpose(0, 2, 1)
        return (flat + path[:, None]).reshape(points.shape)

    return bend(poses), contacts, bend(feet)


def film(world: np.ndarray, pitch_deg: float = 20.0, roll_deg: float = 10.0, fov_deg: float = 60.0):
    """Camera-axes points and pixels of world points (T, ..., 3) seen by a camera 5 m from the walk's middle;
    also the camera's true up (camera axes) and height."""
    focal = focal_length(WIDTH, HEIGHT, fov_deg)[1]
    target = world[:, J["pelvis"]].mean(axis=0, keepdims=True)
    camera = cameras_looking_at(
        target,
        np.radians([200.0]),
        np.radians([pitch_deg]),
        np.radians([roll_deg]),
        np.array([6.0]),
        np.array([focal]),
        np.array([WIDTH]),
        np.array([HEIGHT]),
    )
    return camera, camera.rotation[0] @ np.array([0.0, 1.0, 0.0]), float(camera.centre[0, 1])


def sequences(world: np.ndarray, feet: np.ndarray | None = None, fov_deg: float = 60.0, **camera):
    """(lifted Pose3DSequence in camera axes, Pose2DSequence, true up, true camera height) for world poses."""
    cameras, up, height = film(world, fov_deg=fov_deg, **camera)
    points = cameras.to_camera(world[None])[0]
    pixels = cameras.project(points[None])[0]
    pose2d = Pose2DSequence(pixels, np.ones(pixels.shape[:2]), FPS, WIDTH, HEIGHT)
    if feet is not None:  # the detector's heels and foot tips (issue 12): left_heel, right_heel, left/right tip
        feet_pixels = cameras.project(cameras.to_camera(feet[None])[0][None])[0]
        pose2d.feet = feet_pixels[:, [0, 1, 0, 1], [0, 0, 1, 1]]
        pose2d.feet_scores = np.ones((len(world), 4))
    return as_lifted(points, pixels, focal_length(WIDTH, HEIGHT, fov_deg)[1]), pose2d, up, height


def as_lifted(points: np.ndarray, pixels: np.ndarray, focal: float, size: tuple[int, int] = (WIDTH, HEIGHT)
              ) -> Pose3DSequence:
    """What the lifter gives for camera-axes poses (T, 17, 3) and their pixels (in a picture of `size`): the
    root-relative pose as a camera looking straight at the pelvis sees it (it cannot tell where in the picture the
    person is), which the world step turns back onto the pelvis' ray."""
    rays = ray_rotations(pixels[:, J["pelvis"]].astype(np.float64), focal, np.array(size) / 2)
    return Pose3DSequence(np.einsum("tji,tkj->tki", rays, root_relative(points)), FPS, "truth")


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


def test_root_translation_recovers_the_camera_axes_pelvis_from_exact_2d():
    world, _, _ = walker()
    cameras, _, _ = film(world)
    points = cameras.to_camera(world[None])[0]
    pixels = cameras.project(points[None])[0]
    focal = focal_length(WIDTH, HEIGHT, 60.0)[1]
    root = root_translation(root_relative(points), pixels, np.ones(pixels.shape[:2]), focal, cameras.principal[0])
    assert np.abs(root - points[:, J["pelvis"]]).max() < 1e-6


def test_the_ground_plane_finds_up_where_the_leaning_body_and_the_tilted_camera_miss():
    world, _, _ = walker(lean_deg=15.0)
    lifted, pose2d, up, height = sequences(world)
    errors = {}
    for method in ("ground", "body", "upright"):
        motion = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0, method=method))
        errors[method] = angle_deg(motion.up_camera, up)
    assert errors["ground"] < 1.5
    assert errors["body"] > 3.0 and errors["upright"] > 15.0
    motion = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0))
    assert motion.method == "ground" and motion.num_contacts > 50
    assert abs(motion.camera_height_m - height) < 0.05


def test_the_world_frame_is_y_up_on_the_ground_with_the_person_starting_above_the_origin():
    world, contacts, _ = walker()
    lifted, pose2d, up, _ = sequences(world)
    motion = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0))
    assert np.allclose(motion.root[0, [0, 2]], 0.0, atol=1e-6)
    rotation = motion.rotation
    assert np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-9) and np.linalg.det(rotation) > 0
    right = np.array([1.0, 0.0, 0.0]) - motion.up_camera[0] * motion.up_camera
    assert np.allclose(rotation[0], right / np.linalg.norm(right))
    # the truth in the same frame: ankles planted 8 cm above the ground, the path as walked
    truth = (pose2d_points(world) - motion.origin) @ rotation.T
    ankles = motion.poses[:, [J["left_ankle"], J["right_ankle"]], 1]
    assert abs(np.median(ankles[contacts]) - 0.08) < 0.03
    error = np.linalg.norm(motion.root - truth[:, J["pelvis"]], axis=-1)
    assert error.mean() < 0.05 and error.max() < 0.15  # smoothing and the foot lock move it a little
    path = np.linalg.norm(np.diff(world[:, J["pelvis"], [0, 2]], axis=0), axis=1).sum()
    travelled = np.linalg.norm(np.diff(motion.root[:, [0, 2]], axis=0), axis=1).sum()
    assert 0.9 < travelled / path < 1.1


def test_an_off_centre_person_is_turned_from_their_ray_into_the_camera_s_axes():
    """The lifter gives the pose as seen straight on (`as_lifted`); a walker crossing the picture is off its centre
    by up to ~20 degrees. Turned onto the pelvis' ray, the feet stay on the ground; left as lifted, the person
    leans by the angle off the axis and the lowest joint bobs."""
    world, _, feet = walker()
    lifted, pose2d, up, _ = sequences(world, feet)
    turned = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0))
    as_seen = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0, ray_correction=False))
    truth = (pose2d_points(world) - turned.origin) @ turned.rotation.T

    def lowest_std(poses: np.ndarray) -> float:
        return float(poses[..., 1].min(axis=1).std())

    assert lowest_std(turned.poses) < lowest_std(truth) + 0.005 and angle_deg(turned.up_camera, up) < 1.0
    assert lowest_std(as_seen.poses) > lowest_std(truth) + 0.02
    no_offset = np.array([[WIDTH / 2, HEIGHT / 2], [np.nan, 0.0]])  # the centre, and a pixel that is not there
    assert np.allclose(ray_rotations(no_offset, 500.0, no_offset[0]), np.eye(3))


def pose2d_points(world: np.ndarray) -> np.ndarray:
    """The exact camera-axes joints (T, 17, 3) behind `sequences`' 2D."""
    return film(world)[0].to_camera(world[None])[0]


def test_contacts_follow_the_stance_and_planted_feet_barely_slide():
    world, stance, _ = walker()
    lifted, pose2d, _, _ = sequences(world)
    motion = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0))
    agreement = (motion.contacts == stance).mean()
    assert agreement > 0.8, agreement
    assert foot_sliding(motion.poses, motion.contacts) < 0.03
    assert foot_sliding(motion.poses, np.zeros_like(stance)) != foot_sliding(motion.poses, np.zeros_like(stance))


def test_heels_put_the_ground_at_the_soles_whatever_the_ankle_height():
    world, stance, feet = walker(ankle_height=0.16)  # 8 cm above the assumed ankle height
    config = WorldConfig(fov_deg=60.0)
    lifted, pose2d, _, height = sequences(world)
    without = world_motion(lifted, pose2d, config)
    lifted, pose2d, _, height = sequences(world, feet)
    with_feet = world_motion(lifted, pose2d, config)
    assert abs(without.camera_height_m - height) > 0.06
    # the heel is 6 cm behind the ankle and the walk comes towards the camera: it sits ~3 cm high
    assert abs(with_feet.camera_height_m - height) < 0.045
    ankles = with_feet.poses[:, [J["left_ankle"], J["right_ankle"]], 1]
    assert abs(np.median(ankles[stance]) - 0.16) < 0.045


def test_a_person_standing_still_falls_back_on_the_body_prior_without_crashing():
    world = np.repeat(STANDING_POSE[None].astype(np.float64), 20, axis=0)
    world[..., 1] -= 0.02  # the fixture's ankles are 10 cm up: 8 cm, as assumed
    lifted, pose2d, up, height = sequences(world, pitch_deg=15.0, roll_deg=0.0)
    motion = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0))
    assert motion.method == "body"
    assert angle_deg(motion.up_camera, up) < 2.0
    assert abs(motion.camera_height_m - height) < 0.05
    single = world_motion(
        Pose3DSequence(lifted.poses[:1], FPS, "x"),
        Pose2DSequence(pose2d.keypoints[:1], pose2d.scores[:1], FPS, WIDTH, HEIGHT),
    )
    assert single.poses.shape == (1, 17, 3) and np.isfinite(single.poses).all()


def test_the_default_field_of_view_is_a_phone_s_across_the_longer_side():
    landscape, portrait = focal_length(1920, 1080), focal_length(1080, 1920)
    assert landscape[1] == pytest.approx(portrait[1])
    assert landscape[0] == pytest.approx(65.0) and portrait[0] < 40.0
    with pytest.raises(ValueError, match="field of view"):
        WorldConfig(fov_deg=0.0)


def test_world_rotation_maps_up_to_y():
    up = np.array([0.1, -0.95, 0.3]) / np.linalg.norm([0.1, -0.95, 0.3])
    assert np.allclose(world_rotation(up) @ up, [0.0, 1.0, 0.0])


def test_the_summary_is_strict_json_even_without_contacts():
    world = np.repeat(STANDING_POSE[None].astype(np.float64), 5, axis=0)
    world[..., 0] += 0.1 * np.arange(5)[:, None]  # 3 m/s sideways: no foot is ever still
    lifted, pose2d, _, _ = sequences(world)
    summary = world_motion(lifted, pose2d, WorldConfig(fov_deg=60.0)).summary()
    assert summary["foot_sliding_cm"] is None and summary["ground_spread_m"] is None and summary["method"] == "body"
    json.loads(json.dumps(summary, allow_nan=False))


def test_foot_tips_meet_their_foot_plane_and_are_left_out_seen_end_on():
    """A person seen from the side (hips along the camera's z): a foot tip's ray meets the foot's upright plane at
    the true tip; seen from the front (hips across the picture), the ray runs along that plane: no tip."""
    focal, principal, up = 1000.0, np.array([320.0, 240.0]), np.array([0.0, -1.0, 0.0])
    config = WorldConfig()
    cases = ((2, np.array([0.2, 0.03, 0.0]), True), (0, np.array([0.0, 0.03, -0.2]), False))
    for hips_along, tip_offset, placed in cases:
        absolute = np.zeros((1, 17, 3))
        absolute[0, :, 2] = 4.0  # everyone 4 m in front of the camera
        side = np.eye(3)[hips_along] * 0.1
        absolute[0, JOINT_INDEX["right_hip"]] += -side
        absolute[0, JOINT_INDEX["left_hip"]] += side
        for name, sign in (("left", 1.0), ("right", -1.0)):
            absolute[0, JOINT_INDEX[f"{name}_ankle"]] += sign * side + np.array([0.0, 0.9, 0.0])
        ankles = absolute[0, [JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"]]]
        heels = ankles + np.array([-0.05, 0.06, 0.0]) * (1 if hips_along == 2 else 0)
        heels[:, 2] = ankles[:, 2]  # at the ankle's distance, as world.py places them
        tips = heels + tip_offset
        points = np.concatenate([heels, tips])
        pixels = focal * points[:, :2] / points[:, 2:] + principal
        person = Pose2DSequence(np.zeros((1, 17, 2)), np.ones((1, 17)), 30.0, 640, 480,
                                feet=pixels[None], feet_scores=np.ones((1, 4)))
        feet = foot_points(absolute, person, up, focal, principal, np.eye(3)[None], config)
        assert feet[0, :2] == pytest.approx(heels, abs=1e-6)
        if placed:
            assert feet[0, 2:] == pytest.approx(tips, abs=1e-6)
        else:
            assert np.isnan(feet[0, 2:]).all()
