"""DetectionResult on constructed detections: main-track choice, per-track sequences, gaps, save and load."""

from __future__ import annotations

import numpy as np
import pytest

from detector import DetectionResult, ResultFileError, TrackNotFoundError
from detector.remap import COCO
from pose_lifting.sequence import CameraMotion, SceneGeometry
from pose_lifting.skeleton import JOINT_INDEX as H36M


def person(x: float, height: float) -> np.ndarray:
    """A stick figure's 17 COCO keypoints standing at x, feet at y = 400."""
    keypoints = np.zeros((17, 2), np.float32)
    keypoints[:, 0] = x
    keypoints[:, 1] = 400 - height * np.linspace(1.0, 0.0, 17)
    keypoints[COCO["left_hip"], 0], keypoints[COCO["right_hip"], 0] = x + 10, x - 10
    return keypoints


def constructed_result(**overrides) -> DetectionResult:
    """Track 7: a tall person in frames 0-9 but missing in frame 4; track 3: a small one in frames 2-4."""
    rows = [(f, 7, person(100 + f, 300), 300) for f in range(10) if f != 4]
    rows += [(f, 3, person(400, 100), 100) for f in (2, 3, 4)]
    frame_index, track_id, keypoints, heights = (np.array(column) for column in zip(*rows))
    scores = np.full((len(rows), 17), 0.9, np.float32)
    scores[0, COCO["left_wrist"]] = 0.1  # a low-confidence joint in track 7's first frame
    boxes = np.stack(
        [keypoints[:, :, 0].min(1) - 20, 400 - heights, keypoints[:, :, 0].max(1) + 20, np.full(len(rows), 400)], axis=1
    )
    info = dict(
        timestamps=np.arange(10) / 25,
        fps=25.0,
        width=640,
        height=480,
        main_track_id=7,
        keypoint_threshold=0.3,
        source="made.mp4",
        model="test",
        timings={"total_s": 1.0},
    )
    return DetectionResult(
        frame_index, track_id, keypoints, scores, boxes, np.full(len(rows), 0.8), **(info | overrides)
    )


def test_tracks_are_ranked_by_presence_and_size():
    result = constructed_result()
    assert result.track_ids() == [7, 3]
    assert [sequence.track_id for sequence in result.tracks()] == [7, 3]


def test_main_track_spans_its_frames_with_gaps_filled_and_scores_kept():
    sequence = constructed_result().main_track()
    assert (len(sequence), sequence.fps, sequence.width, sequence.height) == (10, 25.0, 640, 480)
    np.testing.assert_allclose(sequence.times(), np.arange(10) / 25)
    # the missed frame 4 is interpolated between frames 3 and 5 (x = 103 and 105), with score 0
    assert sequence.keypoints[4, H36M["pelvis"], 0] == pytest.approx(104)
    assert (sequence.scores[4] == 0).all() and (sequence.scores[3] > 0.5).all()
    # the low-confidence left wrist of frame 0 is held from frame 1, its low score kept
    assert sequence.keypoints[0, H36M["left_wrist"], 0] == pytest.approx(101)
    assert sequence.scores[0, H36M["left_wrist"]] == pytest.approx(0.1)


def test_each_track_is_its_own_sequence_aligned_by_time():
    small = constructed_result().track(3)
    assert len(small) == 3 and small.track_id == 3
    np.testing.assert_allclose(small.times(), [0.08, 0.12, 0.16])
    np.testing.assert_allclose(small.keypoints[:, H36M["pelvis"], 0], 400)


def test_unknown_track_id_names_the_tracks_found():
    with pytest.raises(TrackNotFoundError, match=r"track id 5; the tracks found are \[3, 7\]"):
        constructed_result().track(5)


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_save_and_load_round_trip(tmp_path, suffix):
    result = constructed_result(warnings=["only the first 10 frames"])
    loaded = DetectionResult.load(result.save(tmp_path / f"detections{suffix}"))
    for name in ("frame_index", "track_id", "keypoints_coco", "scores_coco", "boxes", "box_scores", "timestamps"):
        np.testing.assert_allclose(getattr(loaded, name), getattr(result, name), err_msg=name)
    for name in ("fps", "width", "height", "main_track_id", "keypoint_threshold", "source", "model", "timings",
                 "warnings"):
        assert getattr(loaded, name) == getattr(result, name), name
    np.testing.assert_allclose(loaded.main_track().keypoints, result.main_track().keypoints)


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_the_scene_and_the_camera_s_rotations_round_trip_and_reach_each_track(tmp_path, suffix):
    angles = np.radians(np.arange(10.0))
    rotations = np.stack([[[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]] for a in angles])
    measured = np.arange(10) != 6
    camera = CameraMotion(rotations, measured, (np.arange(10) >= 6).astype(int), np.full(10, 0.3), True, 900.0,
                          focal_estimated=True)
    scene = SceneGeometry(np.array([0.0, -0.9, 0.1]), 0.8, 1234.5, 77, 1.2, (0, 5, 9))
    loaded = DetectionResult.load(constructed_result(scene=scene, camera=camera).save(tmp_path / f"d{suffix}"))
    np.testing.assert_allclose(loaded.camera.rotations, rotations)
    assert (loaded.camera.measured == measured).all() and loaded.camera.translating and loaded.camera.focal_px == 900
    assert loaded.camera.focal_estimated
    np.testing.assert_allclose(loaded.scene.up, scene.up)
    assert (loaded.scene.focal_px, loaded.scene.num_lines, loaded.scene.frames) == (1234.5, 77, (0, 5, 9))
    small = loaded.track(3)  # frames 2-4: the camera's rotations of those frames, the clip's scene
    np.testing.assert_allclose(small.camera.rotations, rotations[2:5])
    assert small.camera.focal_estimated
    assert small.scene is loaded.scene
    assert constructed_result().main_track().camera is None


def test_bad_result_files_give_clear_errors(tmp_path):
    with pytest.raises(ResultFileError, match="use .npz or .json"):
        constructed_result().save(tmp_path / "detections.csv")
    garbage = tmp_path / "detections.json"
    garbage.write_text("{not json")
    with pytest.raises(ResultFileError, match="detections.json' is not a readable detection file"):
        DetectionResult.load(garbage)
    other = tmp_path / "other.json"
    other.write_text('{"format": "something-else"}')
    with pytest.raises(ResultFileError, match="not a scjd-detections file"):
        DetectionResult.load(other)


def test_a_track_lost_in_fast_motion_is_stitched_back_but_other_people_are_not():
    from detector.tracking import stitch_tracks

    def box(x: float, size: float = 100.0) -> list[float]:
        return [x - size / 2, 100, x + size / 2, 100 + size]

    rows = [(f, 1, box(100 + 2 * f)) for f in range(10)]  # the jumper, lost after frame 9 ...
    rows += [(f, 5, box(125 + 2 * f)) for f in range(13, 20)]  # ... found again 4 frames later as track 5
    rows += [(f, 6, box(600)) for f in range(12, 20)]  # somebody else, far away, starting at the same time
    rows += [(f, 2, box(110)) for f in range(5, 15)]  # a second person beside the first, overlapping in time
    frame_index, track_ids, boxes = (np.array(column) for column in zip(*rows))
    stitched = stitch_tracks(frame_index, track_ids, boxes.astype(np.float32), fps=25.0, max_gap_s=0.5)
    assert set(stitched[track_ids == 5]) == {1}
    assert set(stitched[track_ids == 6]) == {6} and set(stitched[track_ids == 2]) == {2}
    too_late = stitch_tracks(frame_index, track_ids, boxes.astype(np.float32), fps=25.0, max_gap_s=0.1)
    assert np.array_equal(too_late, track_ids)
