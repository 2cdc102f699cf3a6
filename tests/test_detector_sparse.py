"""Sparse 2D: which rows are measured, the interpolation between them, the crop and the left/right labels followed
across skipped frames, YOLO at a stride, and the output's shape unchanged."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detector import DetectorConfig, detect
from detector.crop import Crop
from detector.landmarks import BLAZEPOSE_NAMES, CENTRE, NUM_OUTPUTS, SCALE, Landmarks
from detector.model import FrameDetections
from detector.sparse import (
    LookSchedule,
    fill_between_detections,
    interpolate_rows,
    measured_rows,
    people_changed,
    resolve_stride,
)
from detector.topdown import MIRROR_COCO, Person, StageCounts, TrackState, followed_crop, refine_person
from detector.video import Frame
from tests.conftest import package_image

SHIFT_PX = 4  # the picture pans this far per frame
IMAGE = np.zeros((400, 600, 3), np.uint8)


def test_the_stride_comes_from_the_frame_rate_unless_given():
    assert [resolve_stride(None, fps, 15.0) for fps in (10, 25, 30, 50, 60, 120)] == [1, 1, 2, 3, 4, 8]
    assert resolve_stride(3, 25.0, 15.0) == 3


def test_the_fast_choice_runs_yolo_at_half_the_landmark_rate():
    lite, heavy = DetectorConfig(keypoints="lite"), DetectorConfig(keypoints="heavy")
    at_30 = [resolve_stride(None, 30.0, config.yolo_rate_hz) for config in (lite, heavy)]
    assert at_30 == [4, 2] and resolve_stride(None, 30.0, lite.min_rate_hz) == 2  # lite's landmarks: every 2nd
    assert resolve_stride(None, 60.0, lite.yolo_rate_hz) == 8


def test_measured_rows_are_the_stride_and_both_ends_of_each_unbroken_run():
    frames = np.array([0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 2, 3, 4, 5])
    tracks = np.array([1] * 11 + [2] * 4)
    measured = measured_rows(frames, tracks, 3)
    assert frames[measured & (tracks == 1)].tolist() == [0, 3, 6, 7, 10, 12]  # 7 ends a run, 10 starts one
    assert frames[measured & (tracks == 2)].tolist() == [2, 3, 5]
    assert measured_rows(frames, tracks, 1).all()


def test_interpolation_between_measured_rows_is_exact_on_linear_tracks():
    frames = np.concatenate([np.arange(11), np.arange(3, 9)])
    tracks = np.array([5] * 11 + [9] * 6)
    truth = np.stack([frames * 2.5 + 7, -frames * 1.5 + tracks], axis=1)[:, None, :].repeat(17, 1).astype(np.float32)
    measured = measured_rows(frames, tracks, 4)
    keypoints = np.where(measured[:, None, None], truth, np.float32(1e6))  # rubbish where not measured
    flags = measured.copy()
    interpolate_rows(frames, tracks, measured, [keypoints, flags])
    np.testing.assert_allclose(keypoints, truth, rtol=1e-6)
    assert flags.all()  # between two measured rows the flag holds


def test_yolo_rows_between_detections_a_stride_apart_are_filled_and_longer_gaps_kept():
    frames, tracks = np.array([0, 3, 6, 12, 14]), np.array([1, 1, 1, 1, 1])  # 14: the clip's last frame
    boxes = np.stack([frames * 3.0, frames * 0.0, frames * 3.0 + 50, frames * 0.0 + 100], axis=1)
    rows = {"frame_index": frames, "track_id": tracks, "boxes": boxes, "box_scores": np.full(5, 0.9)}
    filled = fill_between_detections(rows, 3, ("boxes", "box_scores"))
    assert filled["frame_index"].tolist() == [0, 1, 2, 3, 4, 5, 6, 12, 13, 14]  # 6 -> 12: a gap, not skipped frames
    np.testing.assert_allclose(filled["boxes"][:, 0], filled["frame_index"] * 3.0)
    assert (filled["track_id"] == 1).all()


def test_a_followed_crop_moves_with_the_persons_box_across_skipped_frames():
    crop = Crop((100.0, 200.0), 150.0, 0.1)
    state = TrackState(crop=crop, frame=6, box_centre=np.array([100.0, 210.0]))
    moved = Person(np.array([30.0, 60.0, 190.0, 380.0]), np.zeros((17, 2)), np.zeros(17))  # centre (110, 220)
    carried = followed_crop(state, moved, 9)  # 3 frames on: moved as the dense crop, one frame late, would be
    np.testing.assert_allclose(carried.centre, (100.0 + 10.0 * 2 / 3, 200.0 + 10.0 * 2 / 3))
    assert (carried.side, carried.angle) == (crop.side, crop.angle)
    assert followed_crop(state, moved, 7) is crop  # the next frame: as MediaPipe, unmoved
    assert followed_crop(TrackState(), moved, 7) is None  # a track's first frame: seeded from YOLO


FIGURE = {  # a person facing the camera (their left on the image's right), image pixels
    "nose": (0, 60), "shoulder": (20, 100), "elbow": (25, 140), "wrist": (28, 180), "hip": (12, 200),
    "knee": (12, 270), "ankle": (12, 340),
}
NEAREST = {"eye": "nose", "ear": "nose", "mouth": "nose", "pinky": "wrist", "index": "wrist", "thumb": "wrist",
           "heel": "ankle", "foot": "ankle"}


def figure_landmarks(x: float) -> Landmarks:
    """BlazePose's 39 outputs of FIGURE standing at `x` (the hands and face on their wrist and nose)."""
    points = np.zeros((NUM_OUTPUTS, 2), np.float32)
    for index, name in enumerate(BLAZEPOSE_NAMES):
        side = -1 if name.startswith("right") else 1
        part = next((part for part in FIGURE if part in name), None) or next(v for k, v in NEAREST.items() if k in name)
        dx, y = FIGURE[part]
        points[index] = (x + (0 if part == "nose" else side * dx), y)
    points[CENTRE], points[SCALE] = (x, 200), (x, 20)
    return Landmarks(points, np.full(NUM_OUTPUTS, 0.9, np.float32), np.full(NUM_OUTPUTS, 0.9, np.float32), 1.0)


def test_left_and_right_stay_as_the_dense_path_has_them_across_skipped_frames():
    """A person moving fast (10 px a frame, as far in 4 frames as their shoulders are apart) whom YOLO labels
    mirrored from frame 1 on. Measured on every frame, the previous frame's output outvotes YOLO and the labels stay
    the landmark model's; measured on frames 0 and 4 only, the previous output (4 frames and a shoulder width
    behind) must still vote, and the labels must stay the same."""

    def person(frame: int) -> Person:
        coco, _ = figure_landmarks(200.0 + 10 * frame).coco()
        keypoints = coco[MIRROR_COCO] if frame > 0 else coco
        return Person(np.array([150.0 + 10 * frame, 40.0, 250.0 + 10 * frame, 360.0]), keypoints, np.full(17, 0.9))

    def run(frames: list[int], stride: int) -> tuple[np.ndarray, int]:
        state, counts = TrackState(), StageCounts()
        config = DetectorConfig(keypoint_stride=stride, smooth_keypoints=False)
        for frame in frames:
            landmarks = figure_landmarks(200.0 + 10 * frame)
            refined = refine_person(lambda image, crop, found=landmarks: found, Frame(frame, frame / 30, IMAGE),
                                    person(frame), state, config, counts)
        return refined.keypoints, counts.side_swaps

    (dense, dense_swaps), (sparse, sparse_swaps) = run([0, 1, 2, 3, 4], 1), run([0, 4], 4)
    assert dense_swaps == 0
    assert sparse_swaps == 0
    np.testing.assert_allclose(sparse, dense)


def test_yolo_at_a_stride_begins_and_ends_a_track_where_the_dense_path_does(make_video):
    """The person is in view from frame 7 to 19. ByteTrack confirms a new person on their second sighting: densely
    at frame 8. YOLO at stride 3 sees them first at 9; since the people changed between its looks at 6 and 9 it
    looks at 7 and 8 too, and at 10 and 11 (where the track is confirmed), so the track begins at 8 as densely.
    They leave after 19: YOLO at 21 finds nobody, looks at 20, and the track ends at 19 as densely."""
    clip = make_video("late.mp4", panning_clip(27, first_visible=7, last_visible=19), fps=30.0)
    dense = detect(clip, DetectorConfig(keypoints="yolo", yolo_stride=1)).main_track()
    sparse = detect(clip, DetectorConfig(keypoints="yolo", yolo_stride=3)).main_track()
    assert (dense.first_frame, dense.first_frame + len(dense)) == (8, 20)
    assert (sparse.first_frame, sparse.first_frame + len(sparse)) == (8, 20)


def test_yolo_looks_between_its_looks_only_where_the_people_changed():
    def seen(*boxes: tuple[float, float, float, float], scores: tuple[float, ...] = (0.9, 0.9)) -> FrameDetections:
        count = len(boxes)
        return FrameDetections(np.array(boxes, np.float32).reshape(count, 4), np.array(scores[:count], np.float32),
                               np.zeros((count, 17, 2), np.float32), np.zeros((count, 17), np.float32))

    one, moved, two = seen((0, 0, 100, 200)), seen((10, 0, 110, 200)), seen((0, 0, 100, 200), (300, 0, 400, 200))
    assert not people_changed(one, moved, 0.25, 0.3)  # the same person, moved
    assert people_changed(one, two, 0.25, 0.3) and people_changed(two, one, 0.25, 0.3)  # one came, one left
    faint = seen((0, 0, 100, 200), (300, 0, 400, 200), scores=(0.9, 0.1))  # too faint to start a track
    assert not people_changed(one, faint, 0.25, 0.3)
    schedule = LookSchedule(stride=4, last=20, min_score=0.25)
    assert [i for i in range(21) if schedule.regular(i)] == [0, 4, 8, 12, 16, 20]
    schedule.looked(0, one, np.array([1]), changed=False)
    assert list(schedule.skipped(4)) == [1, 2, 3]
    assert not schedule.changed_since(moved, np.array([1]))
    assert schedule.changed_since(two, np.array([1]))  # a confident box without a counterpart
    assert schedule.changed_since(moved, np.array([1, 2]))  # the tracker began a track
    assert schedule.changed_since(moved, np.array([], np.int64))  # ... or lost one


def panning_clip(frames: int, first_visible: int = 0, last_visible: int | None = None) -> list[np.ndarray]:
    """zidane.jpg at half size, panning SHIFT_PX per frame; black before `first_visible` (a late entrant) and
    after `last_visible`."""
    picture = cv2.resize(package_image("zidane.jpg"), (640, 360), interpolation=cv2.INTER_AREA)
    last = frames - 1 if last_visible is None else last_visible
    clip = []
    for index in range(frames):
        moved = np.zeros_like(picture)
        moved[:, SHIFT_PX * index :] = picture[:, : picture.shape[1] - SHIFT_PX * index]
        clip.append(moved if first_visible <= index <= last else np.zeros_like(picture))
    return clip


@pytest.fixture(scope="module")
def panning_video(tmp_path_factory):
    from tests.conftest import write_video

    return write_video(tmp_path_factory.mktemp("sparse") / "pan.mp4", panning_clip(13), fps=30.0)


def test_sparse_2d_follows_the_person_and_keeps_every_frame_and_shape(panning_video):
    dense = detect(panning_video, DetectorConfig(keypoints="lite", keypoint_stride=1, yolo_stride=1))
    sparse = detect(panning_video, DetectorConfig(keypoints="lite", keypoint_stride=3, yolo_stride=3))
    assert len(sparse.timestamps) == len(dense.timestamps) == 13
    one, other = dense.main_track(), sparse.main_track()
    assert other.keypoints.shape == one.keypoints.shape and other.feet.shape == one.feet.shape
    assert not any("placed again" in warning for warning in sparse.warnings)  # the crop followed its person
    height = float(np.ptp(one.keypoints[:, :, 1]))
    error = np.linalg.norm(other.keypoints - one.keypoints, axis=-1).mean(-1) / height
    assert error.max() < 0.05, error  # within 5 % of the body's height of the dense 2D, skipped frames included


def test_yolo_at_a_stride_gives_the_dense_2d_on_the_example_clip(example_video):
    """The recorded case: on the example clip (the walker enters at frame 38 and leaves at the left edge at 200),
    YOLO at stride 2 used to begin her track a frame late and end it two frames early, and the followed landmark
    crops then went their own way: up to 113 px (a wrist) and 35-42 mm in 3D from the dense path. Now her track
    spans the same frames and her 2D (landmarks on every frame) is the dense path's on most frames. (Alone this
    test saw every frame within 0.1 px; in the full suite the chain of followed crops once parted on some frames,
    up to 185 px, from a difference not yet found, as at other strides in docs/benchmarks.md.)"""
    results = [detect(example_video, DetectorConfig(keypoints="lite", yolo_stride=stride)) for stride in (1, 2)]
    dense, sparse = (result.main_track() for result in results)
    assert (sparse.first_frame, len(sparse)) == (dense.first_frame, len(dense))
    apart = np.linalg.norm(sparse.keypoints - dense.keypoints, axis=-1).mean(-1)
    assert np.median(apart) < 0.5, apart
