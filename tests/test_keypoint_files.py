"""Keypoint files from other tools (detector.keypoint_files) and our keypoints .npz: the layouts' joint-by-joint
mapping, the people, the frame rate and size, the lift, and generated broken files that must end in an InputError."""

from __future__ import annotations

import copy
import json
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from app import cli
from app.export import Mp4Writer
from app.pipeline import InputError, PipelineConfig, read_keypoints, read_people, run_pipeline
from detector.keypoint_files import BODY_25, COCO_18, MIN_JOINTS
from detector.remap import COCO_NAMES, DIRECT, coco_to_h36m
from pose_lifting.skeleton import JOINT_INDEX
from tests.test_app import checkpoints, keypoints_file  # noqa: F401  (checkpoints is a fixture)

SIZE = (640, 480)
CONFIG = PipelineConfig(keypoints_fps=30.0, keypoints_size=SIZE)


def coco_walk(frames: int, x0: float = 200.0, seed: int = 0) -> np.ndarray:
    """(frames, 17, 2) COCO keypoints of a person moving right, every joint at its own place."""
    rng = np.random.default_rng(seed)
    body = rng.uniform(0, 150, (17, 2)) + [x0, 150]
    return (body[None] + np.arange(frames)[:, None, None] * [4.0, 0.0]).astype(np.float32)


def openpose_person(coco: np.ndarray, names: tuple[str, ...], score: float = 0.9, person_id: int = -1) -> dict:
    """One OpenPose person whose COCO joints are `coco` (17, 2); the other joints of the layout lie elsewhere."""
    triples = np.zeros((len(names), 3))
    for index, name in enumerate(names):
        triples[index] = (*coco[COCO_NAMES.index(name)], score) if name in COCO_NAMES else (600.0 - index, 5.0, 0.5)
    return {"person_id": [person_id], "pose_keypoints_2d": triples.ravel().tolist()}


def write_openpose(folder: Path, frames: list[list[dict]], stem: str = "clip") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for frame, people in enumerate(frames):
        (folder / f"{stem}_{frame:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
    return folder


@pytest.mark.parametrize("names", [BODY_25, COCO_18], ids=["BODY_25", "COCO-18"])
def test_openpose_layouts_map_joint_by_joint_to_h36m(names, tmp_path):
    coco = coco_walk(6)
    folder = write_openpose(tmp_path / "clip", [[openpose_person(frame, names)] for frame in coco])
    people, times = read_keypoint_file_via_pipeline(folder)
    (person,) = people
    assert len(person) == 6 and np.allclose(times, np.arange(6) / 30)
    for name in DIRECT:  # the joints H36M shares with OpenPose, by name
        flat = np.array(openpose_person(coco[2], names)["pose_keypoints_2d"]).reshape(-1, 3)
        assert np.allclose(person.keypoints[2, JOINT_INDEX[name]], flat[names.index(name), :2]), name
    joints, scores = coco_to_h36m(coco, np.full((6, 17), 0.9))  # and the derived joints as for COCO keypoints
    assert np.allclose(person.keypoints, joints, atol=1e-4) and np.allclose(person.scores, scores)


FOOT_NAMES = ("left_heel", "right_heel", "left_big_toe", "right_big_toe")  # Pose2DSequence.feet's columns here


def with_feet(person: dict, names: tuple[str, ...], t: int) -> tuple[dict, np.ndarray]:
    """The OpenPose person with its heels and toes at their own places in frame t, and those (4, 2) places."""
    triples = np.array(person["pose_keypoints_2d"]).reshape(-1, 3)
    feet = np.array([[300.0 + 11 * k + 4 * t, 400.0 + 7 * k] for k in range(4)])
    for k, name in enumerate(FOOT_NAMES):
        triples[names.index(name)] = (*feet[k], 0.6 + 0.1 * k)
    for name in ("left_small_toe", "right_small_toe"):  # elsewhere: they must not be taken for the toes
        triples[names.index(name)] = (10.0, 10.0, 0.99)
    return {**person, "pose_keypoints_2d": triples.ravel().tolist()}, feet


def test_body25_heels_and_big_toes_become_the_feet_joint_by_joint(tmp_path):
    coco = coco_walk(6)
    people, places = zip(*(with_feet(openpose_person(coco[t], BODY_25), BODY_25, t) for t in range(6)))
    frames = [[person] for person in people]
    missed = copy.deepcopy(frames[3][0])  # frame 3's right heel is missing (OpenPose's 0, 0, 0)
    flat = np.array(missed["pose_keypoints_2d"]).reshape(-1, 3)
    flat[BODY_25.index("right_heel")] = 0
    frames[3] = [{**missed, "pose_keypoints_2d": flat.ravel().tolist()}]
    (person,) = read_keypoint_file_via_pipeline(write_openpose(tmp_path / "clip", frames))[0]
    assert person.feet.shape == (6, 4, 2) and person.feet_scores.shape == (6, 4)
    # left_heel, right_heel, left_foot_index, right_foot_index (detector.landmarks.FEET_NAMES) <- BODY_25's
    for column, name in enumerate(("left_heel", "right_heel", "left_big_toe", "right_big_toe")):
        for t in range(6):
            if (t, name) == (3, "right_heel"):
                continue
            assert np.allclose(person.feet[t, column], places[t][column]), (t, name)
            assert np.isclose(person.feet_scores[t, column], 0.6 + 0.1 * column), (t, name)
    assert np.allclose(person.feet[3, 1], (places[2][1] + places[4][1]) / 2)  # filled over time, score 0
    assert person.feet_scores[3, 1] == 0


def test_a_body25_file_longer_than_max_frames_is_cut_with_its_feet(tmp_path):
    coco = coco_walk(10)
    folder = write_openpose(tmp_path / "clip", [[openpose_person(frame, BODY_25)] for frame in coco])
    (person,), times, warnings, _ = read_people(folder, replace(CONFIG, max_frames=5), lambda *_: None)
    assert len(person) == len(times) == 5 and person.feet.shape == (5, 4, 2) and warnings


def test_layouts_without_feet_give_none_and_mmpose_halpe_and_wholebody_give_theirs(tmp_path):
    coco = coco_walk(4)
    folder = write_openpose(tmp_path / "coco18", [[openpose_person(frame, COCO_18)] for frame in coco])
    assert read_keypoint_file_via_pipeline(folder)[0][0].feet is None
    for count, feet_at in ((26, {"left_big_toe": 20, "right_big_toe": 21, "left_heel": 24, "right_heel": 25}),
                           (133, {"left_big_toe": 17, "left_heel": 19, "right_big_toe": 20, "right_heel": 22})):
        points = np.full((4, count, 2), 50.0)
        points[:, :17] = coco
        for k, name in enumerate(FOOT_NAMES):
            points[:, feet_at[name]] = [320.0 + 10 * k, 450.0]
        frames = [{"frame_id": t, "instances": [{"keypoints": points[t].tolist(),
                                                 "keypoint_scores": [0.9] * count}]} for t in range(4)]
        path = tmp_path / f"mmpose{count}.json"
        path.write_text(json.dumps({"meta_info": {}, "instance_info": frames}))
        (person,) = read_keypoint_file_via_pipeline(path)[0]
        assert person.feet.shape == (4, 4, 2), count
        for column, name in enumerate(("left_heel", "right_heel", "left_big_toe", "right_big_toe")):
            assert np.allclose(person.feet[:, column], points[:, feet_at[name]]), (count, name)
        assert np.allclose(person.keypoints, coco_to_h36m(coco, np.full((4, 17), 0.9))[0], atol=1e-4)


def read_keypoint_file_via_pipeline(path: Path, config: PipelineConfig = CONFIG):
    people, times, warnings, detections = read_people(path, config, lambda *_: None)
    assert detections is None and warnings == []
    return people, times


def test_openpose_frames_come_from_the_file_numbers_and_people_are_matched_by_position(tmp_path):
    left, right = coco_walk(8, 100.0, seed=1), coco_walk(8, 420.0, seed=2)
    frames = [[openpose_person(right[t], BODY_25), openpose_person(left[t], BODY_25)][:: (-1) ** t] for t in range(8)]
    for t in (6, 7):  # the right person leaves after frame 5
        frames[t] = [openpose_person(left[t], BODY_25)]
    folder = write_openpose(tmp_path / "json", frames)
    (folder / "clip_000000000003_keypoints.json").rename(folder / "z_000000000003_keypoints.json")  # order: numbers
    people, _ = read_keypoint_file_via_pipeline(folder)
    assert [len(p) for p in people] == [8, 6]  # present longest first
    main, other = (coco_to_h36m(walk, np.full((8, 17), 0.9))[0] for walk in (left, right))
    assert np.allclose(people[0].keypoints, main, atol=1e-4)
    assert np.allclose(people[1].keypoints, other[:6], atol=1e-4)


def test_openpose_person_ids_track_people_and_a_zip_reads_like_its_folder(tmp_path):
    a, b = coco_walk(5, 100.0, seed=3), coco_walk(5, 400.0, seed=4)
    # ids say who is who even where the positions would say otherwise (b jumps onto a's place in frame 3)
    frames = [[openpose_person(a[t], COCO_18, person_id=7), openpose_person(b[t] if t != 3 else a[t], COCO_18,
                                                                            person_id=5)] for t in range(5)]
    frames[0] = frames[0][:1]
    folder = write_openpose(tmp_path / "clip", frames)
    archive = tmp_path / "clip.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(folder.iterdir()):
            out.write(path, f"output/{path.name}")
    for source in (folder, archive):
        people, _ = read_keypoint_file_via_pipeline(source)
        assert [(p.track_id, p.first_frame, len(p)) for p in people] == [(7, 0, 5), (5, 1, 4)]
        assert np.allclose(people[1].keypoints[2], coco_to_h36m(a[3], np.full(17, 0.9))[0], atol=1e-4)


def coco_result(image_id: int | str, coco: np.ndarray, score: float = 0.8) -> dict:
    triples = np.column_stack([coco, np.full(17, score)])
    return {"image_id": image_id, "category_id": 1, "keypoints": triples.ravel().tolist(), "score": 0.95}


def test_coco_results_order_frames_by_image_id_and_keep_several_people(tmp_path):
    a, b = coco_walk(4, 100.0, seed=5), coco_walk(4, 420.0, seed=6)
    ids = [30, 10, 40, 20]  # frames in order of the sorted ids: 10, 20, 30, 40
    rank = np.argsort(np.argsort(ids))
    entries = [coco_result(ids[i], walk[rank[i]]) for i in range(4) for walk in (a, b)]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(entries[:-1]))  # b is missing from the last image (id 20: frame 1)
    people, times = read_keypoint_file_via_pipeline(path)
    assert len(times) == 4 and [len(p) for p in people] == [4, 4]
    assert np.allclose(people[0].keypoints, coco_to_h36m(a, np.full((4, 17), 0.8))[0], atol=1e-4)
    assert np.allclose(people[1].keypoints[[0, 2, 3]], coco_to_h36m(b, np.full((4, 17), 0.8))[0][[0, 2, 3]],
                       atol=1e-4)
    assert people[1].scores[1].max() == 0  # b's missing frame is filled, with score 0


@pytest.mark.parametrize("wrapped", [False, True], ids=["frame list", "meta_info + instance_info"])
def test_mmpose_predictions_in_both_forms(wrapped, tmp_path):
    walk = coco_walk(5, seed=7)
    scores = np.linspace(0.5, 1.0, 17)
    frames = [{"frame_id": t, "instances": [{"keypoints": walk[t].tolist(), "keypoint_scores": scores.tolist(),
                                             "bbox": [[0, 0, 10, 10]], "bbox_score": 0.9}]} for t in range(5)]
    document = {"meta_info": {"dataset_name": "coco", "num_keypoints": 17}, "instance_info": frames}
    path = tmp_path / "predictions.json"
    path.write_text(json.dumps(document if wrapped else frames))
    (person,) = read_keypoint_file_via_pipeline(path)[0]
    joints, joint_scores = coco_to_h36m(walk, np.tile(scores, (5, 1)))
    assert np.allclose(person.keypoints, joints, atol=1e-4) and np.allclose(person.scores, joint_scores)


def test_frame_rate_and_size_come_from_the_file_then_the_options_then_a_video_beside_it(tmp_path):
    path = tmp_path / "clip.json"
    path.write_text(json.dumps([coco_result(t, coco_walk(3)[t]) for t in range(3)]))
    with pytest.raises(InputError, match=r"--fps F and --size WxH .*clip\.mp4"):
        read_people(path, PipelineConfig(), lambda *_: None)
    with Mp4Writer(tmp_path / "clip.mp4", 25.0) as video:
        for _ in range(3):
            video.write(np.zeros((240, 320, 3), np.uint8))
    (person,) = read_keypoint_file_via_pipeline(path, PipelineConfig())[0]
    assert (person.fps, person.width, person.height) == (25.0, 320, 240)
    (person,) = read_keypoint_file_via_pipeline(path, PipelineConfig(keypoints_fps=50.0))[0]
    assert (person.fps, person.width, person.height) == (50.0, 320, 240)  # --fps given, the size from the video
    npz = keypoints_file(tmp_path / "clip.npz")  # 30 fps, 640 x 480 in the file win over the options
    (person,) = read_keypoint_file_via_pipeline(npz, PipelineConfig(keypoints_fps=50.0, keypoints_size=(99, 99)))[0]
    assert (person.fps, person.width, person.height) == (30.0, 640, 480)


def test_the_cli_reads_size_as_w_x_h_and_refuses_other_text():
    args = cli.parse_args(["clip_json", "--fps", "24", "--size", "1920x1080"])
    config = cli.config_from_options(args, ("student",))
    assert (config.keypoints_fps, config.keypoints_size) == (24.0, (1920, 1080))
    assert cli.config_from_options(cli.parse_args(["a.mp4"]), ("student",)).keypoints_size is None
    with pytest.raises(SystemExit):
        cli.parse_args(["clip_json", "--size", "1920"])


def test_missing_coordinates_are_filled_over_time_like_detector_gaps(tmp_path):
    walk = coco_walk(6)
    walk[3, COCO_NAMES.index("left_wrist")] = np.nan
    walk[4, COCO_NAMES.index("right_knee")] = [np.inf, 10.0]
    walk[1, COCO_NAMES.index("left_ankle")] = [1e9, -1e9]  # far outside the picture
    walk[5, : 17 - MIN_JOINTS + 1] = np.nan  # too few joints left: the whole frame is missed
    path = keypoints_file(tmp_path / "gaps.npz", frames=6, layout="coco", keypoints=walk)
    (person,), _, _ = read_keypoints(path, PipelineConfig())
    assert np.isfinite(person.keypoints).all()
    wrist = person.keypoints[:, JOINT_INDEX["left_wrist"]]
    assert np.allclose(wrist[3], (wrist[2] + wrist[4]) / 2) and person.scores[3, JOINT_INDEX["left_wrist"]] == 0
    assert person.scores[4, JOINT_INDEX["right_knee"]] == 0 and person.scores[1, JOINT_INDEX["left_ankle"]] == 0
    assert (person.scores[5] == 0).all() and np.allclose(person.keypoints[5], person.keypoints[4])  # held
    one_frame = walk.copy()
    one_frame[1:] = np.nan
    with pytest.raises(InputError, match="no person has 2 frames with at least 6 valid joints"):
        read_keypoints(keypoints_file(tmp_path / "one.npz", frames=6, keypoints=one_frame), PipelineConfig())


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"keypoints": np.array([[1, "a"]] * 3, dtype=object)}, "keypoints cannot be read .*Object arrays"),
        ({"fps": np.inf}, "'bad.npz': fps must be a frame rate from 1 to 1000, got inf"),
        ({"width": -640}, "width must be from 16 to 16384 pixels, got -640"),
        ({"height": np.array([480, 480])}, r"height must be one number, got shape \(2,\)"),
        ({"scores": np.ones((50, 17, 1))}, r"scores \(T, 17\), got \(50, 17, 2\) and \(50, 17, 1\)"),
        ({"keypoints": np.ones((50, 17, 2), np.complex64)}, "keypoints must hold numbers, got dtype complex64"),
        ({"layout": np.array(3)}, "layout must be the text 'coco' or 'h36m'"),
    ],
)
def test_a_bad_keypoints_npz_is_a_one_line_input_error_naming_the_field(override, message, tmp_path):
    path = keypoints_file(tmp_path / "bad.npz", **override)
    with pytest.raises(InputError, match=message) as caught:
        read_people(path, PipelineConfig(), lambda *_: None)
    assert "\n" not in str(caught.value)


def test_the_three_files_that_crashed_now_lift_or_say_why(checkpoints, tmp_path):  # noqa: F811
    config = PipelineConfig(models=(str(checkpoints["student"]),))
    walk = keypoints_file(tmp_path / "w.npz", frames=30)
    keypoints = np.load(walk)["keypoints"].copy()
    keypoints[::4, 5] = np.nan
    result = run_pipeline(keypoints_file(tmp_path / "nan.npz", frames=30, keypoints=keypoints), tmp_path / "o", config)
    assert np.isfinite(result.models[0].poses[0].poses).all() and result.models[0].world[0] is not None
    for name, override, message in (
        ("object.npz", {"scores": np.array([None] * 30, dtype=object)}, "scores cannot be read"),
        ("fps.npz", {"fps": np.nan}, "fps must be a frame rate"),
    ):
        with pytest.raises(InputError, match=message):
            run_pipeline(keypoints_file(tmp_path / name, frames=30, **override), tmp_path / "o", config)


def test_an_openpose_folder_of_a_clips_keypoints_lifts_to_the_same_3d_as_its_npz(checkpoints, tmp_path, capsys):  # noqa: F811
    npz = keypoints_file(tmp_path / "walk.npz", frames=30, layout="coco")
    coco = np.load(npz)["keypoints"]
    folder = write_openpose(tmp_path / "walk", [[openpose_person(frame, BODY_25)] for frame in coco], stem="walk")
    student = str(checkpoints["student"])
    expected = run_pipeline(npz, tmp_path / "npz", PipelineConfig(models=(student,))).models[0].poses[0].poses
    argv = [str(folder), "--out", str(tmp_path / "folder"), "--checkpoint", student, "--fps", "30", "--size", "640x480"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    with np.load(tmp_path / "folder" / "walk_pose.npz") as lifted:
        assert np.allclose(lifted["poses_3d_student"][0], expected, atol=1e-5)


# Generated files: whatever they hold, the reader gives valid people or an InputError, never another exception.
# Each starts from a well-formed file and gets up to a few mutations, so that both outcomes are common.

ODD_NUMBERS = st.sampled_from([np.nan, np.inf, -np.inf, 1e30, -1e30, -5.0, 0.0, 1e6])
PLAIN = st.floats(0, 480, width=32)
COORDINATES = st.one_of(PLAIN, PLAIN, PLAIN, ODD_NUMBERS)  # mostly plausible, so that many files can be read
SCORES = st.one_of(st.floats(0.125, 1, width=32), st.floats(0.125, 1, width=32), ODD_NUMBERS)
BAD_VALUES = st.one_of(
    ODD_NUMBERS.map(np.array),
    st.integers(-2**40, 2**40).map(np.array),
    st.text(max_size=3).map(np.array),
    hnp.arrays(st.sampled_from(["float64", "int8", "bool", "complex64", "U3"]), hnp.array_shapes(max_side=5)),
    st.just(np.array([{"x": 1}, None], dtype=object)),  # np.load must not unpickle it
)
NPZ_KEYS = ("keypoints", "scores", "layout", "fps", "width", "height")


@st.composite
def npz_contents(draw) -> dict[str, np.ndarray]:
    frames = draw(st.integers(1, 8))
    content = {
        "keypoints": draw(hnp.arrays("float32", (frames, 17, 2), elements=COORDINATES)),
        "scores": draw(hnp.arrays("float32", (frames, 17), elements=SCORES)),
        "layout": np.array(draw(st.sampled_from(["coco", "h36m", b"coco"]))),
        "fps": np.array(draw(st.sampled_from([30.0, 25, 59.94]))),
        "width": np.array(draw(st.sampled_from([640, 640.0, 1920]))),
        "height": np.array(draw(st.sampled_from([480, 1080, 480.0]))),
    }
    for key in draw(st.lists(st.sampled_from(NPZ_KEYS), max_size=3)):
        mutation = draw(st.sampled_from(["value", "drop", "dtype", "extra dimension"]))
        if mutation == "value":
            content[key] = draw(BAD_VALUES)
        elif mutation == "drop":
            content.pop(key, None)
        elif key in content and content[key].dtype.kind in "iuf" and mutation == "dtype":
            with np.errstate(invalid="ignore", over="ignore"):  # NaN and inf cast to integers: any value will do
                content[key] = content[key].astype(draw(st.sampled_from(["float16", "int16", "uint8", "bool", "U4"])))
        elif key in content:
            content[key] = content[key][None]
    return content


def assert_valid(people, times) -> None:
    assert people and len(times) >= max(p.first_frame + len(p) for p in people)
    for person in people:
        assert person.keypoints.shape == (len(person), 17, 2) and np.isfinite(person.keypoints).all()
        assert ((person.scores >= 0) & (person.scores <= 1)).all()
        assert 1 <= person.fps <= 1000 and min(person.width, person.height) >= 16
        assert person.feet is None or person.feet.shape == (len(person), 4, 2)


def read_or_input_error(path: Path, config: PipelineConfig) -> str:
    """"read" or "error", after checking that the people are valid or the error is one line."""
    try:
        people, times, _, _ = read_people(path, config, lambda *_: None)
    except InputError as error:
        assert str(error) and "\n" not in str(error)
        return "error"
    assert_valid(people, times)
    return "read"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(npz_contents(), st.booleans())
def test_generated_npz_files_give_people_or_an_input_error(content, with_options):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.npz"
        np.savez(path, **content)
        event(read_or_input_error(path, CONFIG if with_options else PipelineConfig()))


JSON_ANY = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), COORDINATES, st.text(max_size=4)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["people", "pose_keypoints_2d", "person_id", "image_id", "keypoints", "instances", "frame_id",
         "keypoint_scores", "instance_info"]), inner, max_size=4),
    max_leaves=12,
)


# keypoints in one small patch, so that the frames' people are matched into tracks
NEARBY = st.one_of(st.floats(200, 280), st.floats(200, 280), st.floats(200, 280), ODD_NUMBERS.map(float))


def triples(count: int):
    return st.lists(st.tuples(NEARBY, NEARBY, SCORES), min_size=count, max_size=count).map(
        lambda rows: [float(value) for row in rows for value in row])


OPENPOSE_PERSON = st.fixed_dictionaries({
    "person_id": st.sampled_from([[-1], [0], [1], -1, 2]),
    "pose_keypoints_2d": st.sampled_from([25, 18]).flatmap(triples),
})
OPENPOSE_FRAME = st.fixed_dictionaries(
    {"version": st.just(1.3), "people": st.lists(OPENPOSE_PERSON, min_size=1, max_size=2)}
)
COCO_RESULTS = st.lists(st.fixed_dictionaries({
    "image_id": st.one_of(st.integers(0, 6), st.sampled_from(["a", "b"])), "category_id": st.just(1),
    "keypoints": triples(17), "score": st.floats(0, 1)}), min_size=3, max_size=8)
MMPOSE_INSTANCE = st.fixed_dictionaries({
    "keypoints": st.lists(st.lists(NEARBY, min_size=2, max_size=2), min_size=17, max_size=17),
    "keypoint_scores": st.lists(SCORES.map(float), min_size=17, max_size=17)})
MMPOSE_FRAMES = st.lists(st.fixed_dictionaries({"frame_id": st.integers(0, 8),
                                                "instances": st.lists(MMPOSE_INSTANCE, min_size=1, max_size=2)}),
                         min_size=2, max_size=5)
MMPOSE_WRAPPED = st.fixed_dictionaries({"meta_info": st.just({"num_keypoints": 17}), "instance_info": MMPOSE_FRAMES})


@st.composite
def mutated(draw, documents) -> object:
    """A document with up to three of its values (anywhere in the tree) replaced by arbitrary JSON, or dropped."""
    document = copy.deepcopy(draw(documents))  # strategies may hand out shared lists
    for _ in range(draw(st.integers(0, 3))):
        places = slots(document)
        if not places:
            break
        node, key = draw(st.sampled_from(places))
        if isinstance(node, dict) and draw(st.booleans()):
            del node[key]
        else:
            node[key] = draw(JSON_ANY)
    return document


def slots(node: object) -> list[tuple[dict | list, str | int]]:
    """Every (container, key) in a JSON tree."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    return [place for key, child in children for place in [(node, key), *slots(child)]]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["folder", "zip", "coco", "mmpose", "mmpose wrapped", "any", "broken"]), st.data())
def test_generated_json_files_give_people_or_an_input_error(form, data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.json"
        if form in ("folder", "zip"):  # OpenPose: one file per frame, now and then one without a frame number
            path = Path(folder) / "generated"
            path.mkdir()
            names = [f"clip_{t:012d}_keypoints.json" for t in range(data.draw(st.integers(2, 4)))]
            names += ["notes.json"] if data.draw(st.integers(0, 9)) == 9 else []
            for name in names:
                (path / name).write_text(json.dumps(data.draw(mutated(OPENPOSE_FRAME))))
            if form == "zip":
                with zipfile.ZipFile(path.with_suffix(".zip"), "w") as archive:
                    for name in names:
                        archive.write(path / name, f"out/{name}")
                path = path.with_suffix(".zip")
        else:
            documents = {"coco": COCO_RESULTS, "mmpose": MMPOSE_FRAMES, "mmpose wrapped": MMPOSE_WRAPPED}
            text = json.dumps(data.draw(mutated(documents.get(form, JSON_ANY))))
            path.write_bytes(text.encode()[: len(text) // 2] + b"\xff" if form == "broken" else text.encode())
        event(f"{form}: {read_or_input_error(path, CONFIG)}")


def test_the_pages_keypoints_tab_lifts_an_openpose_zip_with_its_frame_rate_and_size(checkpoints, tmp_path):  # noqa: F811
    from app import storage
    from app.ui import Handlers, build_ui

    student = (str(checkpoints["student"]),)
    page = build_ui(PipelineConfig(), {"student": student})
    upload = next(block for block in page.blocks.values() if getattr(block, "elem_id", None) == "upload")
    assert set(upload.file_types) == {".npz", ".json", ".zip"}  # the command line's keypoint files
    coco = coco_walk(30)
    folder = write_openpose(tmp_path / "walk", [[openpose_person(frame, BODY_25)] for frame in coco], stem="walk")
    archive = tmp_path / "walk.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(folder.iterdir()):
            out.write(path, f"walk_json/{path.name}")
    handlers = Handlers(PipelineConfig(), {"student": student})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storage, "_active", storage.OutputStore(storage.StorageConfig(tmp_path / "out", 3600, 512)))
        status, *_ = handlers.on_detect(None, None, str(archive), None, "", "keypoints", "student", "fast", None)
        assert "does not give its frame rate" in status and "--fps" in status  # the fields' labels name them
        status, *_ = handlers.on_detect(None, None, str(archive), 30, "640 x", "keypoints", "student", "fast", None)
        assert "Could not process" in status and "picture size" in status
        status, box, gallery, chosen, cached = handlers.on_detect(None, None, str(archive), 30, "640x480",
                                                                  "keypoints", "student", "fast", None)
        assert status.startswith("**1 person found, lifting #") and len(gallery) == 1
        assert (cached.detected.people[0].fps, cached.detected.people[0].width) == (30.0, 640)
        lifted = handlers.on_lift(cached, chosen["value"], "student", "fast")
    assert lifted[0].startswith("**Done:** walk.zip, 30 frames"), lifted[0]
    assert {Path(path).name for path in lifted[3]} >= {"walk_3d.csv", "walk_pose.npz", "walk.bvh"}
    with np.load(next(path for path in lifted[3] if path.endswith("_pose.npz"))) as saved:
        assert np.isfinite(saved["poses_3d_student"]).all()
