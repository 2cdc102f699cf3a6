"""Human3.6M VideoPose3D files: small files of the same format, the 32->17 selection, split, camera transform."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pose_lifting.data.h36m import (
    KEEP_JOINTS,
    TEST_SUBJECTS,
    TRAIN_SUBJECTS,
    iterate_clips,
    load_cameras,
    load_poses_2d,
    load_poses_3d,
)
from tests.synthetic_data import H36M_ACTIONS as ACTIONS
from tests.synthetic_data import write_h36m_files


@pytest.fixture
def h36m_files(tmp_path):
    return write_h36m_files(tmp_path)


def test_3d_keeps_the_17_standard_joints(h36m_files) -> None:
    poses = load_poses_3d(h36m_files[0])
    assert set(poses) == {*TRAIN_SUBJECTS, *TEST_SUBJECTS}
    walking = poses["S1"]["Walking"]
    assert walking.shape == (10, 17, 3)
    np.testing.assert_allclose(walking[0, :, 2], np.array(KEEP_JOINTS) / 100.0, atol=1e-7)
    keypoints, metadata = load_poses_2d(h36m_files[1])
    assert len(keypoints["S9"]["Walking"]) == 4 and keypoints["S9"]["Walking"][0].shape == (10, 17, 2)
    assert metadata["num_joints"] == 17


def test_clips_follow_the_subject_split(h36m_files) -> None:
    train = list(iterate_clips(*h36m_files))
    test = list(iterate_clips(*h36m_files, subjects=TEST_SUBJECTS))
    assert {c.subject for c in train} == set(TRAIN_SUBJECTS) and {c.subject for c in test} == set(TEST_SUBJECTS)
    assert len(train) == len(TRAIN_SUBJECTS) * len(ACTIONS) * 4
    for clip in train:
        assert clip.keypoints.shape[1:] == (17, 2) and clip.poses.shape[1:] == (17, 3)
        assert len(clip.keypoints) == len(clip.poses) == (9 if clip.camera_index == 2 else 10)
        assert (clip.width, clip.height) in ((1000, 1002), (1000, 1000))


def test_camera_transform_on_a_known_camera(tmp_path, h36m_files) -> None:
    # a camera 5 m behind the origin along world -y, looking along +y, image y down = world -z:
    # camera axes x = world x, y = world -z, z = world y; quaternion of that rotation (camera-to-world)
    rotation = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    w = np.sqrt(1.0 + np.trace(rotation)) / 2.0
    quaternion = [w, (rotation[2, 1] - rotation[1, 2]) / (4 * w), 0.0, 0.0]
    intrinsic = {"id": "c", "res_w": 640, "res_h": 480, "center": [320, 240], "focal_length": [500, 500]}
    pose = {"orientation": quaternion, "translation": [0.0, -5000.0, 0.0]}
    cameras = tmp_path / "cameras.json"
    cameras.write_text(json.dumps({"intrinsics": [intrinsic] * 4, "extrinsics": {"S1": [pose] * 4}}))
    camera = load_cameras(cameras)["S1"][0]
    np.testing.assert_allclose(camera.world_to_camera(np.array([0.5, 1.0, 2.0])), [0.5, -2.0, 6.0], atol=1e-9)
    clip = next(iterate_clips(*h36m_files, cameras_path=cameras, subjects=("S1",)))
    # joint j is at world height KEEP_JOINTS[j] cm: camera y = -height, depth 5 m
    np.testing.assert_allclose(clip.poses[0, :, 1], -np.array(KEEP_JOINTS) / 100.0, atol=1e-6)
    np.testing.assert_allclose(clip.poses[0, :, 2], 5.0, atol=1e-6)
    assert (clip.width, clip.height) == (640, 480)


def test_shipped_calibration_sees_the_capture_volume() -> None:
    cameras = load_cameras()
    assert set(cameras) == {*TRAIN_SUBJECTS, *TEST_SUBJECTS}
    for subject_cameras in cameras.values():
        for camera in subject_cameras:
            floor, head = camera.world_to_camera(np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.7]]))
            assert 3.5 < floor[2] < 6.5  # the centre of the room is in front, 4-6 m away
            assert head[1] < floor[1]  # image y points down, world z up
            pixel = camera.focal_length * floor[:2] / floor[2] + camera.center
            assert np.all((pixel > 0) & (pixel < [camera.width, camera.height]))


def test_coco_layout_detections_are_refused(tmp_path) -> None:
    path = tmp_path / "data_2d_h36m_detectron_pt_coco.npz"
    np.savez(path, positions_2d={"S1": {}}, metadata={"layout_name": "coco"})
    with pytest.raises(ValueError, match="coco"):
        load_poses_2d(path)
