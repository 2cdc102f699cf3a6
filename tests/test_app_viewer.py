"""The page's pieces without a browser: the two pipeline steps, the 3D viewer's payload, the person cards, legends."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from app import pipeline, render, videos
from app.people import THUMB_HEIGHT, person_cards
from app.pipeline import InputError, PipelineConfig, detect_people, lift_people
from app.viewer import payload_json, viewer_payload
from detector import DetectionResult
from tests.test_app import STANDING, keypoints_file

pytest_plugins = ["tests.test_app"]  # its fixtures: the tiny checkpoints
FRAMES = 30
LATE = 12  # the second person walks in at this frame
STATIC = Path(__file__).parents[1] / "app" / "static"


@pytest.fixture
def two_people(tmp_path) -> Path:
    """A detection file: person 1 standing left all along, person 2 on the right from frame LATE."""
    places = {1: 200, 2: 440}
    rows = [(frame, track) for frame in range(FRAMES) for track in places if track == 1 or frame >= LATE]
    frames, tracks = (np.array(column) for column in zip(*rows))
    detections = DetectionResult(
        frame_index=frames,
        track_id=tracks,
        keypoints_coco=np.stack([STANDING[:, :2] * 150 + np.array([places[track], 240]) for track in tracks]),
        scores_coco=np.full((len(rows), 17), 0.9),
        boxes=np.array([[places[track] - 100, 100, places[track] + 100, 400] for track in tracks]),
        box_scores=np.full(len(rows), 0.9),
        timestamps=np.arange(FRAMES) / 30.0,
        fps=30.0,
        width=640,
        height=480,
        main_track_id=1,
        keypoint_threshold=0.3,
    )
    return detections.save(tmp_path / "two.npz")


def both(checkpoints) -> PipelineConfig:
    return PipelineConfig(models=(str(checkpoints["student"]), str(checkpoints["teacher"])), overlay_video=True)


def test_another_person_is_lifted_from_the_same_detections(two_people, checkpoints, tmp_path, monkeypatch):
    detected = detect_people(two_people, both(checkpoints))
    assert [p.track_id for p in detected.people] == [1, 2] and detected.num_frames == FRAMES
    monkeypatch.setattr(pipeline, "read_people", lambda *args: pytest.fail("the lift step must not detect again"))
    main = lift_people(detected, tmp_path / "main", both(checkpoints))
    other = lift_people(detected, tmp_path / "other", both(checkpoints), track_ids=[2])
    assert [p.track_id for p in main.people] == [1] and [p.track_id for p in other.people] == [2]
    assert other.people[0].first_frame == LATE and other.models[0].poses[0].poses.shape == (FRAMES - LATE, 17, 3)
    assert other.files["mp4:2d"].is_file() and other.files["mp4:2d"].name == "two_2d.mp4"
    everyone = lift_people(detected, tmp_path / "all", both(checkpoints), track_ids=[2, 1])
    assert [p.track_id for p in everyone.people] == [1, 2]  # the main subject first, whatever the order asked
    with pytest.raises(InputError, match="choose at least one of the people found"):
        lift_people(detected, tmp_path / "x", both(checkpoints), track_ids=[7])


def test_the_payload_stands_people_upright_on_a_floor_at_their_feet(two_people, checkpoints, tmp_path):
    result = lift_people(detect_people(two_people, both(checkpoints)), tmp_path, both(checkpoints), [1, 2])
    for run in result.models:  # the tiny models are untrained: give them a known pose, standing (camera axes)
        run.poses = [replace(seq, poses=np.repeat(STANDING[None], len(seq), axis=0)) for seq in run.poses]
        run.world = []  # and no world motion: the viewer's camera-axes fallback
    payload = json.loads(payload_json(result))
    assert payload["num_frames"] == FRAMES and payload["fps"] == 30.0
    assert [model["label"] for model in payload["models"]] == ["student", "teacher"]
    people = payload["models"][0]["people"]
    assert [(p["track_id"], p["first_frame"], len(p["poses"])) for p in people] == [(1, 0, FRAMES), (2, LATE, 18)]
    poses = [np.array(p["poses"]) for p in people]
    assert poses[0].shape == (FRAMES, 17, 3)
    head, pelvis = payload["joint_names"].index("head"), payload["joint_names"].index("pelvis")
    ankle = payload["joint_names"].index("right_ankle")
    for pose in poses:
        assert (pose[:, head, 1] > pose[:, pelvis, 1] + 0.5).all()  # upright: y up
        assert np.allclose(pose[:, ankle, 1], payload["floor_y"], atol=1e-3)  # the floor at the lowest joint
    assert poses[1][:, pelvis, 0].mean() > poses[0][:, pelvis, 0].mean() + 0.9  # 240 px to the right: 1 m
    assert payload["sides"].count("left") == payload["sides"].count("right") == 6
    assert set(payload["colours"]) == {"left", "right", "centre", "second"}


def test_the_payload_shows_world_motion_on_the_ground_with_its_path(two_people, checkpoints, tmp_path):
    result = lift_people(detect_people(two_people, both(checkpoints)), tmp_path, both(checkpoints), [2])
    motion = result.models[0].world[0]
    assert motion is not None
    payload = viewer_payload(result)
    person = payload["models"][0]["people"][0]
    assert payload["floor_y"] == 0.0
    assert np.allclose(person["poses"], motion.poses, atol=1e-3)
    assert np.allclose(person["trajectory"], motion.root, atol=1e-3)
    # the filming camera where the world motion puts it (the tiny untrained lifter's person stands at the lens)
    camera = payload["camera"]
    assert np.allclose(camera["position"], motion.camera_position, atol=1e-3)
    assert abs(camera["position"][1] - motion.camera_height_m) < 1e-3
    # one orientation per frame of the clip, the person's own where they are in the picture
    assert camera["first_frame"] == 0 and len(camera["forward"]) == FRAMES
    assert np.allclose(camera["forward"][LATE:], motion.camera_rotations[:, :, 2], atol=1e-3)


def test_several_people_stand_in_one_world_each_in_their_colour_in_the_payload_and_the_video(
    two_people, checkpoints, tmp_path
):
    config = PipelineConfig(models=(str(checkpoints["student"]),))
    result = lift_people(detect_people(two_people, config), tmp_path, config, [1, 2])
    first, second = result.models[0].world
    assert np.allclose(first.rotation, second.rotation)  # one world
    payload = viewer_payload(result)
    people = payload["models"][0]["people"]
    for person, motion in zip(people, (first, second)):  # where they stand: no sideways spread any more
        assert np.allclose(person["poses"], motion.poses, atol=1e-3)
    assert [(p["colour"], p["label"]) for p in people] == [(None, "#1"), ("#00c8aa", "#2")]
    assert render.person_colour(1) == (0, 200, 170)
    scene = videos.panel_scene(result.models[0], result.people, FRAMES, config.view)
    assert np.allclose(scene.centres, first.root[:, [0, 2]])  # the panel follows the chosen person
    frame = av.open(str(result.files["mp4"]))
    image = next(f.to_ndarray(format="rgb24") for i, f in enumerate(frame.decode(video=0)) if i == LATE + 5)
    for half in (image[:, : image.shape[1] // 2], image[:, image.shape[1] // 2 :]):  # 2D overlay, 3D panel
        assert (np.abs(half.reshape(-1, 3).astype(int) - render.person_colour(1)).sum(axis=1) < 40).sum() > 20


def test_the_payload_names_the_joints_where_teacher_and_student_differ_most(two_people, checkpoints, tmp_path):
    result = lift_people(detect_people(two_people, both(checkpoints)), tmp_path, both(checkpoints), [2])
    comparison = viewer_payload(result)["comparison"]
    assert comparison["first_frame"] == LATE and len(comparison["mean_mm"]) == FRAMES - LATE
    assert "student vs teacher" in comparison["title"] and "choose" not in comparison["title"]
    worst = {joint["joint"]: np.mean(joint["mm"]) for joint in comparison["worst"]}
    per_joint = dict(zip(viewer_payload(result)["joint_names"], result.comparison.distance_mm.mean(axis=0)))
    assert len(worst) == 3 and min(worst.values()) >= max(v for k, v in per_joint.items() if k not in worst)
    assert max(worst.values()) >= np.mean(comparison["mean_mm"])
    student = PipelineConfig(models=(str(checkpoints["student"]),))
    single = lift_people(detect_people(two_people, student), tmp_path / "one", student)
    assert viewer_payload(single)["comparison"] is None


def test_person_cards_give_each_person_a_thumbnail_and_time_in_view(two_people, tmp_path):
    cards = person_cards(detect_people(two_people, PipelineConfig()))
    assert [card.track_id for card in cards] == [1, 2] and [card.main for card in cards] == [True, False]
    assert all(card.image.shape[0] == THUMB_HEIGHT and card.image.shape[2] == 3 for card in cards)
    assert cards[1].seconds == pytest.approx((FRAMES - LATE) / 30.0)
    assert cards[0].label.startswith("#1, main subject: 1.0 s in view") and "(0.4-1.0 s)" in cards[1].label
    keypoints = person_cards(detect_people(keypoints_file(tmp_path / "walk.npz"), PipelineConfig()))
    assert len(keypoints) == 1 and keypoints[0].image.std() > 0  # the 2D skeleton drawn on grey


def test_legends_show_the_left_and_right_colours():
    image = render.legend(np.zeros((60, 400, 3), np.uint8), render.model_legend(["student", "teacher"]))
    colours = {tuple(c) for c in image[:24].reshape(-1, 3)}
    assert {render.LEFT_COLOUR, render.RIGHT_COLOUR, render.SECOND_COLOUR} <= colours


def test_the_viewer_loads_nothing_from_the_internet():
    for path in STATIC.iterdir():
        text = path.read_text()
        assert "http:" not in text and "https:" not in text and "import " not in text, path
