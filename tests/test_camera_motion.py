"""The camera's rotation per frame: real frames warped by known pans and tilts, a still camera, a cut, a person."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from detector.camera_motion import CameraMotionTracker, camera_motion
from detector.config import CameraMotionConfig
from detector.video import read_video
from pose_lifting.world import focal_length

WIDTH = 640  # the frames' size here (the detector hands over 512 px frames; the tracker reads them at 384)


@pytest.fixture(scope="module")
def frames(example_video) -> list[np.ndarray]:
    """The example clip's first 20 frames (a camera on a tripod, one person walking), 640 px wide, BGR."""
    return [frame.image for frame in read_video(example_video).frames(20, bgr=True, max_side=WIDTH)]


def pan_and_tilt(count: int) -> np.ndarray:
    """(T, 3, 3) frame t's camera axes -> the first's: a 10-degree pan and back, a 4-degree tilt, a little roll."""
    phase = np.sin(np.pi * np.arange(count) / (count - 1))
    angles = np.stack([4.0 * phase, 10.0 * phase, 1.5 * np.sin(2 * np.pi * np.arange(count) / count)], -1)
    return Rotation.from_euler("xyz", angles, degrees=True).as_matrix()


def filmed(image: np.ndarray, rotations: np.ndarray, focal: float) -> list[np.ndarray]:
    """What a camera turned by each rotation sees of a (wider) picture: the first frame's pixel x appears at
    K R_t^T K^-1 x; the view is the middle of the picture, so that no warp reaches its border."""
    import cv2

    height, width = image.shape[:2]
    out_w, out_h = width // 2 * 2 - 2 * (width // 5), height - 2 * (height // 5)
    k = np.array([[focal, 0, out_w / 2], [0, focal, out_h / 2], [0, 0, 1.0]])
    shift = np.array([[1, 0, (width - out_w) / 2], [0, 1, (height - out_h) / 2], [0, 0, 1.0]])
    views = []
    for rotation in rotations:
        into_view = k @ rotation.T @ np.linalg.inv(k) @ np.linalg.inv(shift)
        views.append(cv2.warpPerspective(image, into_view, (out_w, out_h), flags=cv2.INTER_LINEAR))
    return views


def angle_errors(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.degrees(Rotation.from_matrix(np.swapaxes(found, 1, 2) @ truth).magnitude())


def test_known_pans_and_tilts_of_a_real_frame_are_recovered_within_a_degree(frames):
    truth = pan_and_tilt(36)
    focal = focal_length(WIDTH, 360, None)[1]
    views = filmed(frames[0], truth, focal)
    height, width = views[0].shape[:2]
    none = [np.zeros((0, 4))] * len(views)
    motion = camera_motion(views, none, width, height, focal)
    errors = angle_errors(motion.rotations, truth)
    assert motion.measured.all() and motion.segments.max() == 0 and not motion.translating
    assert errors.max() < 1.0, errors
    off = camera_motion(views, none, width, height, 1.1 * focal)  # the assumed focal length 10 % off
    assert angle_errors(off.rotations, truth).max() < 1.5


@pytest.mark.parametrize("scale", [0.7, 1.0, 1.5])
def test_a_turning_camera_shows_its_focal_length(frames, scale):
    """A real frame filmed again by a camera of known focal length that pans 10 and tilts 4 degrees: the focal
    that makes the chained homographies rotations is the true one, from a prior a phone's (off by 1 / scale)."""
    truth = pan_and_tilt(36)
    focal = scale * focal_length(WIDTH, 360, None)[1]
    views = filmed(frames[0], truth, focal)
    height, width = views[0].shape[:2]
    tracker = CameraMotionTracker(CameraMotionConfig(), width, height)
    for view in views:
        tracker.add(view, np.zeros((0, 4)))
    found = tracker.turning_focal(focal_length(width, height, None)[1])
    assert found is not None and abs(found / focal - 1) < 0.05, (found, focal)
    motion = tracker.result(found, focal_estimated=True)
    assert motion.focal_estimated and angle_errors(motion.rotations, truth).max() < 1.0
    still = CameraMotionTracker(CameraMotionConfig(), width, height)
    for _ in range(6):
        still.add(views[0], np.zeros((0, 4)))
    assert still.turning_focal(focal) is None  # a camera that does not turn says nothing of its focal


def test_frames_smaller_than_the_video_give_the_same_rotations(frames):
    import cv2

    truth = pan_and_tilt(12)
    focal = focal_length(WIDTH, 360, None)[1]
    views = filmed(frames[0], truth, focal)
    height, width = views[0].shape[:2]
    small = [cv2.resize(view, (width // 2, height // 2), interpolation=cv2.INTER_AREA) for view in views]
    motion = camera_motion(small, [np.zeros((0, 4))] * len(small), width, height, focal)  # video-size focal
    assert angle_errors(motion.rotations, truth).max() < 1.0


def test_a_still_camera_gives_identity_and_a_walking_person_in_a_box_does_not_turn_it(frames, example_video):
    from detector import DetectorConfig, detect

    boxes = detect(example_video, DetectorConfig(max_frames=len(frames), keypoints="yolo")).boxes
    height, width = frames[0].shape[:2]
    video_width = read_video(example_video).width
    per_frame = [boxes[i : i + 1] * width / video_width for i in range(len(frames))]  # one person per frame
    motion = camera_motion(frames, per_frame, width, height, focal_length(width, height, None)[1])
    assert motion.measured.all() and motion.segments.max() == 0
    assert motion.angles_deg().max() < 0.3 and not motion.translating


def test_a_cut_starts_a_new_segment_and_holds_the_rotation(frames):
    truth = pan_and_tilt(16)[:8]
    focal = focal_length(WIDTH, 360, None)[1]
    views = filmed(frames[0], truth, focal)
    rng = np.random.default_rng(0)
    other = (rng.random(views[0].shape[:2]) * 255).astype(np.uint8)  # another shot altogether
    other = np.repeat(other[..., None], 3, axis=-1)
    shot = views + [other, other.copy()]
    height, width = views[0].shape[:2]
    motion = camera_motion(shot, [np.zeros((0, 4))] * len(shot), width, height, focal)
    assert not motion.measured[8] and motion.segments[8] == 1
    assert np.allclose(motion.rotations[8], motion.rotations[7])
    assert angle_errors(motion.rotations[:8], truth).max() < 1.0


def test_a_camera_moving_sideways_past_near_and_far_things_is_flagged(frames):
    """Parallax: a far picture and a near strip of another slide by different amounts as the camera moves."""
    far = frames[0][60:300, 40:560]
    near = np.ascontiguousarray(frames[5][240:, ::-1])
    shot = []
    for t in range(12):
        view = far[:, 2 * t : 2 * t + 440].copy()  # 2 px a frame far away ...
        strip = near[:80, 14 * t : 14 * t + 440]  # ... 14 px a frame near by
        view[-80:] = strip
        shot.append(view)
    height, width = shot[0].shape[:2]
    motion = camera_motion(shot, [np.zeros((0, 4))] * len(shot), width, height, focal_length(width, height, None)[1])
    assert motion.translating


def test_a_slow_tilt_drift_is_taken_out_by_the_scene_s_vertical_lines():
    from detector.camera import correct_drift
    from detector.config import CameraMotionConfig
    from pose_lifting.sequence import CameraMotion, SceneGeometry

    frames = 300
    truth = pan_and_tilt(frames)
    up = np.array([0.0, -0.96, 0.28]) / np.linalg.norm([0.0, -0.96, 0.28])  # the first frame's up (tilted down)
    seen = (0, 75, 150, 225, 299)
    own = np.einsum("kji,kj->ki", truth[list(seen)], np.tile(up, (len(seen), 1)))  # each frame's up: R_t^T up
    scene = SceneGeometry(up, 0.9, None, 200, 0.5, seen, own)
    drift = Rotation.from_rotvec(np.outer(np.arange(frames), [np.radians(6.0) / frames, 0.0, 0.0])).as_matrix()
    still = np.ones(frames, bool), np.zeros(frames, int), np.zeros(frames)
    drifted = CameraMotion(drift @ truth, *still)
    fixed = correct_drift(drifted, scene, CameraMotionConfig())
    assert 5.0 < fixed.drift_deg < 7.0
    assert angle_errors(fixed.rotations, truth).max() < 0.2 < angle_errors(drifted.rotations, truth).max()
    small = CameraMotion(Rotation.from_rotvec([0.01, 0, 0]).as_matrix() @ truth, *still)  # 0.6 degrees: kept as is
    assert correct_drift(small, scene, CameraMotionConfig()) is small


@pytest.mark.parametrize("boxes_given", [True, False])
def test_a_textured_person_sliding_across_a_still_shot_is_masked_by_its_box(frames, boxes_given):
    """Without its box the block's texture wins the corners and drags the "camera" along: the mask matters."""
    rng = np.random.default_rng(1)
    block = np.repeat(np.repeat((rng.random((40, 20, 3)) * 255).astype(np.uint8), 5, axis=0), 5, axis=1)
    shot, boxes = [], []
    for t in range(20):
        view = frames[0].copy()
        x = 20 + 8 * t
        view[10:210, x : x + 100] = block
        shot.append(view)
        boxes.append(np.array([[x, 10, x + 100, 210]], float) if boxes_given else np.zeros((0, 4)))
    height, width = shot[0].shape[:2]
    motion = camera_motion(shot, boxes, width, height, focal_length(width, height, None)[1])
    if boxes_given:
        assert motion.angles_deg().max() < 0.3
    else:
        assert motion.angles_deg().max() > 1.0
