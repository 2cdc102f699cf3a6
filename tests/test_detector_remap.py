"""COCO-17 -> H36M-17 remap, joint by joint on a constructed person, and the gap filling over time."""

from __future__ import annotations

import numpy as np
import pytest

from detector.gaps import fill_gaps
from detector.remap import COCO, coco_to_h36m
from pose_lifting.skeleton import JOINT_INDEX as H36M

# a person facing the camera, in pixels (y down), and a score for every keypoint
PERSON = {
    "nose": ((100, 60), 0.9),
    "left_eye": ((106, 54), 0.8),
    "right_eye": ((94, 54), 0.8),
    "left_ear": ((112, 58), 0.5),
    "right_ear": ((88, 58), 0.5),
    "left_shoulder": ((124, 100), 0.95),
    "right_shoulder": ((76, 100), 0.85),
    "left_elbow": ((130, 140), 0.7),
    "right_elbow": ((70, 141), 0.6),
    "left_wrist": ((133, 178), 0.4),
    "right_wrist": ((66, 179), 0.3),
    "left_hip": ((114, 190), 0.75),
    "right_hip": ((86, 192), 0.65),
    "left_knee": ((116, 250), 0.55),
    "right_knee": ((84, 251), 0.45),
    "left_ankle": ((117, 310), 0.35),
    "right_ankle": ((83, 312), 0.25),
}


def constructed() -> tuple[np.ndarray, np.ndarray]:
    keypoints = np.zeros((17, 2), np.float32)
    scores = np.zeros(17, np.float32)
    for name, (xy, score) in PERSON.items():
        keypoints[COCO[name]], scores[COCO[name]] = xy, score
    return keypoints, scores


@pytest.mark.parametrize(
    "name",
    ["left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
     "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"],
)
def test_limb_joints_map_directly_with_their_side(name):
    joints, scores = coco_to_h36m(*constructed())
    np.testing.assert_allclose(joints[H36M[name]], PERSON[name][0])
    assert scores[H36M[name]] == pytest.approx(PERSON[name][1])


def test_torso_joints():
    joints, scores = coco_to_h36m(*constructed())
    np.testing.assert_allclose(joints[H36M["pelvis"]], (100, 191))  # mid-hips
    np.testing.assert_allclose(joints[H36M["thorax"]], (100, 100))  # mid-shoulders
    np.testing.assert_allclose(joints[H36M["spine"]], (100, 145.5))  # mid(pelvis, thorax)
    assert scores[H36M["pelvis"]] == pytest.approx(0.65)  # min of the hips
    assert scores[H36M["thorax"]] == pytest.approx(0.85)  # min of the shoulders
    assert scores[H36M["spine"]] == pytest.approx(0.65)  # min of pelvis and thorax


def test_neck_nose_is_the_nose():
    joints, scores = coco_to_h36m(*constructed())
    np.testing.assert_allclose(joints[H36M["neck_nose"]], (100, 60))
    assert scores[H36M["neck_nose"]] == pytest.approx(0.9)


def test_head_top_extrapolates_the_face_centre_away_from_the_thorax():
    joints, scores = coco_to_h36m(*constructed())
    # face centre, score-weighted: y = (0.9*60 + 0.8*54*2 + 0.5*58*2) / 3.5 = 56.6857; x = 100 by symmetry
    # head = F + 0.6 (F - T) with T = (100, 100): y = 56.6857 - 0.6 * 43.3143 = 30.6971
    np.testing.assert_allclose(joints[H36M["head"]], (100, 30.6971), atol=1e-3)
    assert scores[H36M["head"]] == pytest.approx(0.7)  # mean face score (3.5 / 5), below the thorax's 0.85


def test_head_follows_a_tilted_neck_and_uses_a_plain_mean_without_face_scores():
    keypoints, scores = constructed()
    keypoints[COCO["nose"] : COCO["right_ear"] + 1] = [(140, 60), (146, 54), (134, 54), (152, 58), (128, 58)]
    scores[COCO["nose"] : COCO["right_ear"] + 1] = 0
    joints, joint_scores = coco_to_h36m(keypoints, scores)
    face = np.array([140, 56.8])  # plain mean
    np.testing.assert_allclose(joints[H36M["head"]], face + 0.6 * (face - (100, 100)), atol=1e-4)
    assert joint_scores[H36M["head"]] == 0


def test_upright_person_keeps_the_vertical_order_and_batches_work():
    keypoints, scores = constructed()
    joints, joint_scores = coco_to_h36m(np.tile(keypoints, (3, 2, 1, 1)), np.tile(scores, (3, 2, 1)))
    assert joints.shape == (3, 2, 17, 2) and joint_scores.shape == (3, 2, 17)
    ys = [joints[0, 0, H36M[name], 1] for name in ("head", "neck_nose", "thorax", "spine", "pelvis")]
    assert ys == sorted(ys)


def test_fill_gaps_interpolates_over_time_holds_the_edges_and_keeps_scores():
    times = np.array([0.0, 0.1, 0.2, 0.5, 0.6])  # variable frame rate
    keypoints = np.zeros((5, 17, 2), np.float32)
    keypoints[:, :, 0] = [[0], [10], [20], [50], [60]]
    scores = np.full((5, 17), 0.9, np.float32)
    keypoints[2] = np.nan  # a missed frame
    scores[2] = 0
    scores[0, 3] = 0.1  # a low-confidence joint at the start
    keypoints[0, 3] = (99, 99)
    scores[3, 5] = 0.05  # and one in the middle
    keypoints[3, 5] = (-40, -40)
    filled = fill_gaps(times, keypoints, scores, threshold=0.3)
    assert filled[2, 0, 0] == pytest.approx(10 + (50 - 10) * (0.2 - 0.1) / (0.5 - 0.1))  # linear in time: 20
    np.testing.assert_allclose(filled[0, 3], (10, 0))  # held from the first confident frame
    assert filled[3, 5, 0] == pytest.approx(10 + 50 * (0.5 - 0.1) / (0.6 - 0.1))  # between 0.1 s and 0.6 s
    np.testing.assert_allclose(filled[4], keypoints[4])  # measured values untouched
    assert np.isfinite(filled).all()


def test_fill_gaps_uses_low_scores_when_a_joint_is_never_confident():
    times = np.arange(3) / 30
    keypoints = np.array([[[0, 0]] * 17, [[np.nan, np.nan]] * 17, [[6, 6]] * 17], np.float32)
    scores = np.array([[0.1] * 17, [0] * 17, [0.1] * 17], np.float32)
    np.testing.assert_allclose(fill_gaps(times, keypoints, scores, threshold=0.3)[1], [[3, 3]] * 17)
