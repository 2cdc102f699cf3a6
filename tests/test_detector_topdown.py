"""The top-down BlazePose stage: crop geometry, the 33 -> 17 mapping, the models' set-up checks, the guard rails,
and the keypoints on real pictures against YOLO's."""

from __future__ import annotations

import io
import json
import math
import tarfile

import numpy as np
import pytest

from detector import DetectionResult, DetectorConfig, ModelError, detect
from detector.crop import Crop, crop_from_alignment, crop_from_torso, upright_angle
from detector.landmark_assets import SHA256, extract_models, file_name, landmark_model_path
from detector.landmarks import BLAZEPOSE_NAMES, FEET_NAMES, LandmarkModel, Landmarks
from detector.remap import COCO, COCO_NAMES
from detector.smoothing import LANDMARK_FILTER, OneEuroFilter
from detector.topdown import Person, StageCounts, TrackState, consistent_sides, refine_person
from detector.video import Frame
from pose_lifting.sequence import Pose2DSequence
from tests.conftest import package_image

AGREEMENT = 0.05  # box heights: BlazePose's median distance to YOLO's confident keypoints, person in the picture


def labelled_landmarks() -> Landmarks:
    """Landmark i at x = i, so that every output says which landmark it came from."""
    points = np.stack([np.arange(39), np.zeros(39)], axis=1).astype(np.float32)
    return Landmarks(points, np.full(39, 0.9, np.float32), np.full(39, 0.9, np.float32), 1.0)


def test_crop_maps_image_to_crop_and_back_exactly():
    crop = Crop(centre=(412.5, 230.25), side=301.0, angle=0.7)
    points = np.array([[0.0, 0.0], [128.0, 128.0], [255.5, 3.25], [17.0, 240.0]])
    np.testing.assert_allclose(crop.to_crop(crop.to_image(points, 256), 256), points, atol=1e-4)
    np.testing.assert_allclose(crop.to_image([[128.0, 128.0]], 256), [crop.centre], atol=1e-4)
    # the crop's top edge centre lies half a side from the centre, along the rotated up direction
    top = crop.to_image([[128.0, 0.0]], 256)[0]
    np.testing.assert_allclose(top - crop.centre, 150.5 * np.array([math.sin(0.7), -math.cos(0.7)]), atol=1e-3)


def test_crop_pixels_come_from_where_the_map_says():
    image = np.zeros((400, 600, 3), np.uint8)
    image[150:154, 300:304] = 255  # a bright 4x4 square, centre (302, 152) in continuous coordinates
    crop = Crop(centre=(320.0, 180.0), side=128.0, angle=-0.4)
    pixels = crop.warp(image, 256)[..., 0].astype(np.float64)
    rows, cols = np.mgrid[: pixels.shape[0], : pixels.shape[1]]
    found = np.array([(pixels * (cols + 0.5)).sum(), (pixels * (rows + 0.5)).sum()]) / pixels.sum()
    np.testing.assert_allclose(found, crop.to_crop([[302.0, 152.0]], 256)[0], atol=0.05)


def test_crop_conventions_follow_blazepose():
    assert upright_angle(np.array([10.0, 100.0]), np.array([10.0, 50.0])) == pytest.approx(0.0)  # upright
    assert upright_angle(np.array([0.0, 0.0]), np.array([1.0, 0.0])) == pytest.approx(math.pi / 2)  # lying
    crop = crop_from_alignment(np.array([100.0, 200.0]), np.array([100.0, 120.0]))
    assert (crop.centre, crop.side, crop.angle) == ((100.0, 200.0), pytest.approx(200.0), pytest.approx(0.0))
    seeded = crop_from_torso(np.array([50.0, 300.0]), np.array([50.0, 200.0]), side_factor=3.2)
    assert seeded.centre == (50.0, 300.0) and seeded.side == pytest.approx(320.0)


def test_the_33_landmarks_give_coco_17_joint_by_joint_and_the_feet():
    coco, _ = labelled_landmarks().coco()
    for k, name in enumerate(COCO_NAMES):
        assert BLAZEPOSE_NAMES[int(coco[k, 0])] == name, name
    feet, _ = labelled_landmarks().feet()
    assert [BLAZEPOSE_NAMES[int(x)] for x in feet[:, 0]] == list(FEET_NAMES)
    mirrored, _ = labelled_landmarks().mirrored().coco()
    for k, name in enumerate(COCO_NAMES):
        other = name.replace("left", "@").replace("right", "left").replace("@", "right")
        assert BLAZEPOSE_NAMES[int(mirrored[k, 0])] == other, name


def test_a_missing_or_damaged_model_file_says_how_to_get_it(tmp_path):
    with pytest.raises(ModelError, match="`make setup` or `python -m detector.landmark_assets`.*--keypoints yolo"):
        landmark_model_path("heavy", tmp_path)
    (tmp_path / file_name("lite")).write_bytes(b"not a model")
    with pytest.raises(ModelError, match="sha256 .* expected f17bfbec"):
        landmark_model_path("lite", tmp_path)
    with pytest.raises(ModelError, match="unknown BlazePose landmark model 'huge'"):
        landmark_model_path("huge", tmp_path)
    with pytest.raises(ValueError, match="keypoints must be one of yolo, lite, full, heavy"):
        DetectorConfig(keypoints="huge")


def npm_tarball(path, contents: dict[str, bytes]):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in contents.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_the_npm_tarball_is_checked_file_by_file(tmp_path):
    real = {file_name(name): landmark_model_path(name).read_bytes() for name in SHA256}
    written = extract_models(npm_tarball(tmp_path / "good.tgz", real | {"pose.js": b"//"}), tmp_path / "good")
    assert sorted(p.name for p in (tmp_path / "good").iterdir()) == sorted(real) and len(written) == 3
    assert landmark_model_path("full", tmp_path / "good").stat().st_size == len(real[file_name("full")])
    heavy = bytearray(real[file_name("heavy")])
    heavy[1000] ^= 0xFF  # one damaged byte
    tampered = real | {file_name("heavy"): bytes(heavy)}
    with pytest.raises(ModelError, match="pose_landmark_heavy.tflite has sha256"):
        extract_models(npm_tarball(tmp_path / "bad.tgz", tampered), tmp_path / "bad")
    assert not (tmp_path / "bad" / file_name("heavy")).exists()


def test_one_euro_filter_calms_a_still_point_and_follows_a_moving_one():
    rng = np.random.default_rng(0)
    still, moving = OneEuroFilter(LANDMARK_FILTER), OneEuroFilter(LANDMARK_FILTER)
    noisy = [still(np.array([[100.0, 100.0]]) + rng.normal(0, 2, (1, 2)), t / 30, 200.0) for t in range(90)]
    assert np.std(np.concatenate(noisy[30:])) < 1.5  # from 2 px of noise (MediaPipe's settings smooth lightly)
    followed = [moving(np.array([[10.0 * t, 0.0]]), t / 30, 200.0) for t in range(30)]
    assert abs(followed[-1][0, 0] - 290.0) < 15  # a fast point (300 px/s) lags by less than 2 frames


def yolo_person(image_name: str, track: int = 0) -> tuple[np.ndarray, Person]:
    """A real picture and one of its people as YOLO sees them."""
    from detector.model import PoseModel

    image = package_image(image_name)
    found = PoseModel(DetectorConfig(device="cpu")).predict([np.ascontiguousarray(image[..., ::-1])], 640)[0]
    order = np.argsort(-(found.boxes[:, 3] - found.boxes[:, 1]))
    k = order[track]
    return image, Person(found.boxes[k], found.keypoints[k], found.keypoint_scores[k])


def test_a_crop_without_the_person_falls_back_to_yolo_and_is_counted():
    image, person = yolo_person("zidane.jpg")
    model, counts, config = LandmarkModel("lite"), StageCounts(), DetectorConfig()
    empty = np.zeros_like(image)  # the person is gone from the frame (e.g. fully occluded)
    refined = refine_person(model, Frame(0, 0.0, empty), person, TrackState(), config, counts)
    assert not refined.from_landmarks and counts.fallbacks == 1
    np.testing.assert_array_equal(refined.keypoints, person.keypoints)
    assert np.isnan(refined.feet).all() and (refined.feet_scores == 0).all()
    assert "in 1 of 1 person-frames" in counts.warnings("lite")[0]
    ok = refine_person(model, Frame(1, 0.04, image), person, TrackState(), config, counts)
    assert ok.from_landmarks and counts.fallbacks == 1


def test_a_followed_crop_that_slid_off_its_person_is_reseeded_from_yolo():
    image, person = yolo_person("zidane.jpg")
    model, counts, config = LandmarkModel("lite"), StageCounts(), DetectorConfig()
    state = TrackState(crop=Crop((200.0, 500.0), 500.0, 0.0), frame=0)  # last frame's crop, on the other man
    refined = refine_person(model, Frame(1, 0.04, image), person, state, config, counts)
    assert counts.reseeded == 1 and refined.from_landmarks
    box_height = person.box[3] - person.box[1]
    confident = person.scores > 0.5
    distance = np.linalg.norm(refined.keypoints - person.keypoints, axis=-1)[confident]
    assert np.median(distance) < AGREEMENT * box_height


def test_left_and_right_follow_yolo_and_the_previous_frame():
    image, person = yolo_person("zidane.jpg")
    hips, shoulders = person.keypoints[[COCO["left_hip"], COCO["right_hip"]]].mean(0), person.keypoints[5:7].mean(0)
    landmarks = LandmarkModel("lite")(image, crop_from_torso(hips, shoulders, 3.2))
    kept, swapped = consistent_sides(landmarks, person, TrackState(), 0.3)
    assert not swapped and kept is landmarks
    fixed, swapped = consistent_sides(landmarks.mirrored(), person, TrackState(), 0.3)
    assert swapped
    np.testing.assert_allclose(fixed.coco()[0], landmarks.coco()[0])


@pytest.mark.parametrize(("image", "refined_people"), [("bus.jpg", 3), ("zidane.jpg", 2)])
def test_blazepose_keypoints_lie_in_each_persons_box_and_agree_with_yolo(make_video, image, refined_people):
    """bus.jpg: three people in full view, one cut by the left edge; zidane.jpg: two people whose hips are cut by
    the frame's lower edge, one bent over. People cut by the frame's edge get 3x the tolerance."""
    picture = package_image(image)
    clip = make_video(f"{image}.mp4", [picture] * 2)
    result = detect(clip, DetectorConfig(keypoints="heavy", all_tracks=True))
    yolo = detect(clip, DetectorConfig(keypoints="yolo", imgsz=512))  # the same YOLO pass as beside heavy
    assert np.array_equal(result.track_id, yolo.track_id) and result.keypoint_model == "heavy"
    refined = np.flatnonzero(result.from_landmarks & (result.frame_index == 0))
    assert len(refined) >= refined_people
    for row in refined:
        box, height = result.boxes[row], result.boxes[row, 3] - result.boxes[row, 1]
        margin = 0.1 * (box[2:] - box[:2])
        confident = result.keypoints_coco[row][result.scores_coco[row] > 0.5]
        assert ((confident >= box[:2] - margin) & (confident <= box[2:] + margin)).all(), "inside the box"
        trusted = yolo.scores_coco[row] > 0.5
        distance = np.linalg.norm(result.keypoints_coco[row] - yolo.keypoints_coco[row], axis=-1)[trusted]
        edge = 0.01 * np.array(picture.shape[1::-1])  # within 1 % of the frame's border
        cut = (box[:2] <= edge).any() or (box[2:] >= picture.shape[1::-1] - edge).any()
        agreement = 3 * AGREEMENT if cut else AGREEMENT
        assert np.median(distance) < agreement * height, f"agrees with YOLO (track {result.track_id[row]})"
    sequence = result.main_track()
    assert sequence.feet is not None and sequence.feet.shape == (2, 4, 2)


def test_detection_files_keep_the_feet_and_version_1_files_still_load(tmp_path):
    rows = 4
    feet = np.arange(rows * 8, dtype=np.float32).reshape(rows, 4, 2)
    arrays = dict(
        frame_index=np.arange(rows),
        track_id=np.ones(rows),
        keypoints_coco=np.ones((rows, 17, 2)),
        scores_coco=np.full((rows, 17), 0.9),
        boxes=np.tile([0, 0, 10, 20], (rows, 1)),
        box_scores=np.ones(rows),
        timestamps=np.arange(rows) / 25,
    )
    feet_arrays = dict(feet=feet, feet_scores=np.full((rows, 4), 0.8), from_landmarks=np.ones(rows, bool))
    info = dict(fps=25.0, width=64, height=48, main_track_id=1, keypoint_threshold=0.3, keypoint_model="heavy")
    result = DetectionResult(**arrays, **feet_arrays, **info)
    loaded = DetectionResult.load(result.save(tmp_path / "v2.npz"))
    assert loaded.keypoint_model == "heavy"
    np.testing.assert_array_equal(loaded.main_track().feet, feet)
    with np.load(tmp_path / "v2.npz") as data:
        meta = json.loads(str(data["meta"])) | {"version": 1}
        old = {name: data[name] for name in data.files if name not in ("meta", "feet", "feet_scores", "from_landmarks")}
    np.savez(tmp_path / "v1.npz", meta=np.array(json.dumps(meta)), keypoints_h36m=np.zeros((rows, 17, 2)), **old)
    v1 = DetectionResult.load(tmp_path / "v1.npz")
    assert v1.main_track().feet is None and np.isnan(v1.feet).all()


def test_pose_sequences_check_the_feet_they_carry():
    keypoints, scores = np.zeros((3, 17, 2)), np.ones((3, 17))
    assert Pose2DSequence(keypoints, scores, 30.0, 64, 48).feet is None
    with pytest.raises(ValueError, match=r"feet must be \(T, 4, 2\)"):
        Pose2DSequence(keypoints, scores, 30.0, 64, 48, feet=np.zeros((3, 2, 2)), feet_scores=np.ones((3, 2)))
    with pytest.raises(ValueError, match="come together"):
        Pose2DSequence(keypoints, scores, 30.0, 64, 48, feet=np.zeros((3, 4, 2)))
