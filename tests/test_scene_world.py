"""One world for several people: held-out mocap people at known places, filmed by one virtual camera, come out
where they stood, on one ground, whatever size the lifter gave them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pose_lifting.camera import cameras_looking_at
from pose_lifting.data.mocap import read_sequence
from pose_lifting.scene_world import scene_world
from pose_lifting.sequence import Pose2DSequence, Pose3DSequence, SceneGeometry
from pose_lifting.skeleton import JOINT_INDEX
from pose_lifting.world import WorldConfig, focal_length, world_motion
from tests.test_world import as_lifted, walker

MOCAP = Path(__file__).resolve().parents[1] / "data" / "mocap"
FPS, WIDTH, HEIGHT, FOV = 30.0, 1280, 720, 60.0
LATE = 40  # the second person enters at this frame
J = JOINT_INDEX


def people_world(source: str) -> tuple[np.ndarray, np.ndarray]:
    """Two people's world poses (Y up, their planted ankles ~10 cm above y = 0): the first walks about x = -1 m,
    z = 0 for 150 frames; the second stays about x = 1.5 m, z = 3 m (nearer the camera), from frame LATE on."""
    if source == "mocap":
        if not (MOCAP / "cmu_01_01.npz").is_file():
            pytest.skip("no prepared mocap in data/ (python -m pose_lifting.data.prepare)")
        first = read_sequence(MOCAP / "cmu_01_01.npz").poses[:150]  # held out: walking about a playground
        second = read_sequence(MOCAP / "mocapbank.npz").poses[: 150 - LATE]  # held out: moving on the spot
    else:
        first, second = walker(150)[0], walker(150 - LATE, turn_deg=-90.0)[0]
    placed = []
    for poses, (x, z) in ((first, (-1.0, 0.0)), (second, (1.5, 3.0))):
        poses = np.array(poses, np.float64)
        poses[..., 1] -= np.median(poses[..., 1].min(axis=1)) - 0.1
        centre = poses[:, J["pelvis"]].mean(axis=0)
        placed.append(poses + np.array([x - centre[0], 0.0, z - centre[2]]))
    return placed[0], placed[1]


def the_camera(pitch_deg: float):
    """The one camera that films the test's people: 7 m from the scene's middle, pitched down by `pitch_deg`."""
    focal = focal_length(WIDTH, HEIGHT, FOV)[1]
    return cameras_looking_at(np.array([[0.0, 1.0, 1.5]]), np.radians([180.0]), np.radians([pitch_deg]),
                              np.radians([5.0]), np.array([7.0]), np.array([focal]), np.array([WIDTH]),
                              np.array([HEIGHT]))


def film(worlds: list[np.ndarray], firsts: list[int], pitch_deg: float, sizes: tuple[float, ...] = (1.0, 1.0),
         feet: list[np.ndarray] | None = None):
    """Each person's lifted 3D (as the lifter gives it: seen straight on, pelvis at 0, scaled by `sizes`: a lifter
    that gets a size wrong) and exact 2D through one camera 7 m from the scene's middle (with the detector's heels
    and foot tips from `feet`, (T, 2, 2, 3) per person, where given); and the camera's true up (camera axes)."""
    focal = focal_length(WIDTH, HEIGHT, FOV)[1]
    camera = the_camera(pitch_deg)
    lifted, people = [], []
    for track, (world, first, size) in enumerate(zip(worlds, firsts, sizes), start=1):
        points = camera.to_camera(world[None])[0]
        pixels = camera.project(points[None])[0]
        seen = as_lifted(points, pixels, focal, (WIDTH, HEIGHT)).poses  # as the lifter sees them: straight on
        lifted.append(Pose3DSequence(size * seen, FPS, "truth", track, first_frame=first))
        people.append(Pose2DSequence(pixels, np.ones(pixels.shape[:2]), FPS, WIDTH, HEIGHT, track, first_frame=first))
        if feet is not None:
            feet_pixels = camera.project(camera.to_camera(feet[track - 1][None])[0][None])[0]
            people[-1].feet = feet_pixels[:, [0, 1, 0, 1], [0, 0, 1, 1]]
            people[-1].feet_scores = np.ones((len(world), 4))
    return lifted, people, camera.rotation[0] @ np.array([0.0, 1.0, 0.0])


def apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Horizontal pelvis distance in the frames both share (b from frame LATE of a)."""
    return np.linalg.norm((a[LATE:, J["pelvis"]] - b[:, J["pelvis"]])[:, [0, 2]], axis=-1)


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b, -1.0, 1.0))))


@pytest.mark.parametrize("source", ["mocap", "synthetic"])
@pytest.mark.parametrize("pitch_deg", [5.0, 20.0])
def test_two_people_come_out_in_one_world_as_far_apart_as_they_stood_both_on_the_ground(source, pitch_deg):
    first, second = people_world(source)
    lifted, people, up = film([first, second], [0, LATE], pitch_deg)
    config = WorldConfig(fov_deg=FOV)
    a, b = scene_world(lifted, people, config).people
    ratio = apart(a.poses, b.poses).mean() / apart(first, second).mean()
    assert 0.9 < ratio < 1.1, ratio
    assert np.allclose(a.rotation, b.rotation) and a.camera_height_m == b.camera_height_m  # one world
    assert np.allclose(a.root[0, [0, 2]], 0.0, atol=1e-6)  # the main subject starts above the origin
    assert angle_deg(a.up_camera, up) < 2.0
    for motion in (a, b):  # on the ground: the lowest joint's median as in the mocap (10 cm), within 5 cm
        assert abs(np.median(motion.poses[..., 1].min(axis=1)) - 0.1) < 0.05


def test_a_person_lifted_too_small_is_sized_to_stand_on_the_ground_and_told():
    first, second = people_world("synthetic")
    lifted, people, _ = film([first, second], [0, LATE], 15.0, sizes=(1.0, 0.85))
    placed = scene_world(lifted, people, WorldConfig(fov_deg=FOV))
    a, b = placed.people
    assert a.scale == 1.0 and b.scale == pytest.approx(1 / 0.85, abs=0.03)
    assert 0.9 < apart(a.poses, b.poses).mean() / apart(first, second).mean() < 1.1
    assert abs(np.median(b.poses[..., 1].min(axis=1)) - 0.1) < 0.05
    assert any("person 2 is drawn 1.1" in note for note in placed.notes), placed.notes


def test_a_person_who_would_need_too_large_a_size_keeps_the_lifted_one_and_is_told():
    first, second = people_world("synthetic")
    lifted, people, _ = film([first, second], [0, LATE], 15.0, sizes=(1.0, 0.6))
    placed = scene_world(lifted, people, WorldConfig(fov_deg=FOV))
    assert [motion.scale for motion in placed.people] == [1.0, 1.0]
    assert any("person 2 stands above the common ground (standing on it would take 1.6" in note
               for note in placed.notes), placed.notes


def test_a_main_subject_on_a_box_above_the_camera_leaves_the_ground_to_the_others_under_the_scenes_up():
    """The example clip's first 90 frames: the scene's up is trusted and the main subject, in more frames than the
    other person, stands on a box higher than the camera. The ground is the other person's, not the median of
    everyone's planted soles (the box top, above the camera: "the camera is -0.30 m above the ground")."""
    first, second = people_world("synthetic")
    camera_height = the_camera(15.0).centre[0, 1]
    box = camera_height + 0.3
    lifted, people, up = film([first + np.array([0.0, box, 0.0]), second], [0, LATE], 15.0)
    people[0].scene = SceneGeometry(up, confidence=1.0, focal_px=None, num_lines=100, spread_deg=0.5)
    placed = scene_world(lifted, people, WorldConfig(fov_deg=FOV))
    a, b = placed.people
    assert a.method == "scene"
    assert a.camera_height_m == b.camera_height_m == pytest.approx(camera_height, abs=0.1)
    assert abs(np.median(b.poses[..., 1].min(axis=1)) - 0.1) < 0.05  # the other person on the ground
    assert abs(np.median(a.poses[..., 1].min(axis=1)) - (box + 0.1)) < 0.1  # the main subject on the box
    assert any("person 1 has too few planted feet, or stands above the camera" in note for note in placed.notes)


def test_heels_and_foot_tips_come_into_the_one_world_with_their_person():
    """The joint angles' feet (`WorldMotion.feet`) follow each person into the shared world, sizing included: each
    heel and tip as far from its ankle as the truth's, as closely as when the person is placed alone."""
    (first, _, first_feet), (second, _, second_feet) = walker(150), walker(150 - LATE, turn_deg=-90.0)
    offset = np.array([2.5, 0.0, 3.0])
    lifted, people, _ = film([first, second + offset], [0, LATE], 15.0, sizes=(1.0, 0.85),
                             feet=[first_feet, second_feet + offset])
    config = WorldConfig(fov_deg=FOV)
    together = scene_world(lifted, people, config).people
    assert together[1].scale == pytest.approx(1 / 0.85, abs=0.03)

    def foot_error(motion, truth, feet, size=1.0) -> float:  # heel and tip distances to the ankle against truth
        ankles = motion.poses[:, [J["left_ankle"], J["right_ankle"]], None]
        found = np.linalg.norm(motion.feet.reshape(-1, 2, 2, 3).swapaxes(1, 2) - ankles, axis=-1) / size
        true = np.linalg.norm(feet - truth[:, [J["left_ankle"], J["right_ankle"]], None], axis=-1)
        return float(np.nanmax(np.abs(found - true)))

    for motion, pose3d, pose2d, truth, feet, size in zip(
        together, lifted, people, (first, second), (first_feet, second_feet), (1.0, 0.85)
    ):
        alone = world_motion(Pose3DSequence(pose3d.poses / size, FPS, "truth"), pose2d, config)
        assert foot_error(motion, truth, feet, motion.scale * size) < foot_error(alone, truth, feet) + 0.01


def test_one_person_alone_is_exactly_the_single_person_world():
    world = walker(60)[0]
    lifted, people, _ = film([world], [0], 15.0, sizes=(1.0,))
    (motion,) = scene_world(lifted, people, WorldConfig(fov_deg=FOV)).people
    alone = world_motion(lifted[0], people[0], WorldConfig(fov_deg=FOV))
    assert np.array_equal(motion.poses, alone.poses) and motion.method == alone.method


def test_a_photo_of_two_people_places_both_from_one_frame():
    first, second = people_world("synthetic")
    lifted, people, _ = film([first[LATE : LATE + 1], second[:1]], [0, 0], 15.0)
    a, b = scene_world(lifted, people, WorldConfig(fov_deg=FOV)).people
    assert a.poses.shape == b.poses.shape == (1, 17, 3)
    truth = np.linalg.norm((first[LATE, J["pelvis"]] - second[0, J["pelvis"]])[[0, 2]])
    found = np.linalg.norm((a.poses[0, J["pelvis"]] - b.poses[0, J["pelvis"]])[[0, 2]])
    assert abs(found / truth - 1) < 0.1
