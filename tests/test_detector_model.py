"""The whole detector on real media: package pictures made into clips, the Sports2D demo clip, a phone-style clip."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

from detector import DetectionResult, DetectorConfig, ModelError, NoPersonError, TrackNotFoundError, detect
from detector.model import PACKAGED_SHA256, packaged_weights, resolve_weights
from pose_lifting.skeleton import JOINT_INDEX as H36M
from tests.conftest import package_image


def still_clip(make_video, image: np.ndarray, name: str, frames: int = 4):
    return make_video(name, [image] * frames)


def test_packaged_weights_are_checked_and_nothing_is_downloaded(make_video, tmp_path):
    assert hashlib.sha256(packaged_weights().read_bytes()).hexdigest() == PACKAGED_SHA256
    with pytest.raises(ModelError, match="not a local file.*allow a download"):
        resolve_weights(DetectorConfig(model="yolo11x-pose.pt"))
    fake = tmp_path / "fake.pt"
    fake.write_text("not a checkpoint")
    with pytest.raises(ModelError, match="could not load the pose model"):
        detect(still_clip(make_video, package_image("zidane.jpg"), "zidane.mp4"), DetectorConfig(model=str(fake)))


@pytest.mark.parametrize(("image", "people", "clearly_visible"), [("bus.jpg", 4, 3), ("zidane.jpg", 2, 2)])
def test_picture_with_several_people_gives_that_many_tracks(make_video, image, people, clearly_visible):
    """bus.jpg: three people in full view and one cut by the left edge; zidane.jpg: two people, upper bodies.
    YOLO's own keypoints (at its 640 default); BlazePose's on the same pictures: test_detector_topdown.py."""
    picture = package_image(image)
    result = detect(still_clip(make_video, picture, f"{image}.mp4"), DetectorConfig(keypoints="yolo"))
    assert len(result.track_ids()) == people
    height, width = picture.shape[:2]
    visible = 0
    for sequence in result.tracks():
        assert len(sequence) == 4 and (sequence.width, sequence.height) == (width, height)
        joints, scores = sequence.keypoints[0], sequence.scores[0]
        box = result.boxes[(result.track_id == sequence.track_id) & (result.frame_index == 0)][0]
        margin = 0.1 * (box[2:] - box[:2])
        confident = joints[scores > 0.5, :]
        assert ((confident >= box[:2] - margin) & (confident <= box[2:] + margin)).all(), "joints in the person's box"
        if (scores > 0.5).sum() >= 8:
            visible += 1
            assert joints[H36M["head"], 1] < joints[H36M["thorax"], 1] < joints[H36M["pelvis"], 1], "upright order"
    assert visible == clearly_visible


def test_chosen_track_id_must_exist(make_video):
    with pytest.raises(TrackNotFoundError, match="there is no person with track id 99"):
        detect(still_clip(make_video, package_image("zidane.jpg"), "zidane.mp4"), DetectorConfig(track_id=99))


def test_video_with_no_people_says_so(make_video):
    facade = np.ascontiguousarray(package_image("bus.jpg")[:330])  # the building above the bus, nobody in it
    with pytest.raises(NoPersonError, match="no person was found in 'empty_street.mp4' \\(3 frames\\)"):
        detect(still_clip(make_video, facade, "empty_street.mp4", frames=3))


def test_rotated_phone_video_is_detected_upright(make_video):
    upright = cv2.resize(package_image("zidane.jpg")[:, 700:1060], (270, 540))  # portrait: one person
    stored = np.ascontiguousarray(np.rot90(upright, k=1))  # stored sideways, display matrix says -90 degrees
    result = detect(make_video("portrait.mp4", [stored] * 3, rotation=-90))
    assert (result.width, result.height) == (270, 540)
    sequence = result.main_track()
    nose, pelvis = sequence.keypoints[0, H36M["neck_nose"]], sequence.keypoints[0, H36M["thorax"]]
    assert nose[1] < pelvis[1] and abs(pelvis[1] - nose[1]) > abs(pelvis[0] - nose[0]), "the person stands upright"


@pytest.fixture(scope="module")
def example_result(example_video):
    progress = []
    result = detect(example_video, DetectorConfig(), progress=lambda fraction, message: progress.append(fraction))
    return result, progress


def test_real_clip_gives_one_continuous_main_track(example_result):
    result, _ = example_result
    assert (result.fps, result.width, result.height, result.num_frames) == (30.0, 1768, 994, 230)
    sequence = result.main_track()
    frames = result.frame_index[result.track_id == result.main_track_id]
    assert len(sequence) >= 150, "the walking person is in view for more than 5 s"
    assert len(np.unique(frames)) >= 0.95 * len(sequence), "detected in nearly every frame of the track"
    assert np.isfinite(sequence.keypoints).all()
    steps = np.linalg.norm(np.diff(sequence.keypoints[:, H36M["pelvis"]], axis=0), axis=-1)
    assert steps.max() < 0.05 * result.width, "no jump to another person"
    np.testing.assert_allclose(np.diff(sequence.times()), 1 / 30, atol=1e-3)


def test_real_clip_reports_progress_and_timings(example_result):
    result, progress = example_result
    assert progress[-1] == 1.0 and all(0 <= value <= 1 for value in progress)
    assert progress == sorted(progress) and len(progress) > 10
    assert result.timings["ms_per_frame"] > 0 and result.model == "yolo11n-pose.pt"


def test_real_result_round_trips_through_a_file(example_result, tmp_path):
    result, _ = example_result
    loaded = DetectionResult.load(result.save(tmp_path / "detections.npz"))
    np.testing.assert_allclose(loaded.main_track().keypoints, result.main_track().keypoints)
    assert loaded.keypoints_coco.shape == (len(loaded.track_id), 17, 2)


def test_loading_the_detector_leaves_pytorchs_thread_count_alone():
    import torch
    from ultralytics.utils import NUM_THREADS  # what Ultralytics' CPU setup would pin PyTorch to

    from detector.model import PoseModel

    before = torch.get_num_threads()
    torch.set_num_threads(NUM_THREADS + 1)
    try:
        PoseModel(DetectorConfig(device="cpu"))
        assert torch.get_num_threads() == NUM_THREADS + 1
    finally:
        torch.set_num_threads(before)
