"""OpenSim itself on our files (as Blender is for the BVH): the TRC it reads, the scaled model, IK on held-out mocap
against the IK of the truth, and the messages for people too briefly in view or 2D without feet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app import cli
from app.config import InputError
from app.lifting import measure_angles
from app.opensim_assets import model_path
from app.opensim_ik import FOOT_MARKERS, read_mot, run_opensim, write_trc
from app.results import ModelRun
from pose_lifting.angles import ANGLE_NAMES, joint_angles
from pose_lifting.data.mocap import read_sequence
from pose_lifting.datasets import mocap_views, static_cameras
from pose_lifting.evaluate import lift_view
from pose_lifting.lifter import Lifter
from pose_lifting.sequence import Pose2DSequence
from pose_lifting.skeleton import JOINT_INDEX, JOINT_NAMES
from tests.test_angles import standing
from tests.test_app import checkpoints, keypoints_file  # noqa: F401 (checkpoints: a fixture)

opensim = pytest.importorskip("opensim")
DATA = Path(__file__).resolve().parents[1] / "data"
HELD_OUT_CLIP = DATA / "mocap" / "climb_4.npz"


def have_model() -> bool:
    try:
        model_path()
    except InputError:
        return False
    return True


needs_model = pytest.mark.skipif(not have_model(), reason="no OpenSim model: run `python -m app.opensim_assets`")


def test_opensim_reads_our_trc_in_its_axes(tmp_path):
    pose, feet = standing()
    poses = np.repeat(pose[None], 5, axis=0) + np.linspace(0, 0.4, 5)[:, None, None] * np.array([0, 0, 1.0])
    feet = np.repeat(feet[None], 5, axis=0)
    feet[2, 3] = np.nan  # a foot tip not placed in one frame
    times = 1.0 + np.arange(5) / 30
    table = opensim.TimeSeriesTableVec3(str(write_trc(tmp_path / "clip.trc", poses, times, feet)))
    assert list(table.getColumnLabels()) == list(JOINT_NAMES) + list(FOOT_MARKERS)
    assert table.getNumRows() == 5
    assert np.allclose(list(table.getIndependentColumn()), times, atol=1e-5)
    assert table.getTableMetaDataAsString("Units") == "m"
    knee = table.getDependentColumn("right_knee")
    # the person faces the camera (+z in our world): OpenSim's +X is their forward, Y stays up, their right is +Z
    first = np.array([knee[0].get(i) for i in range(3)])
    assert first == pytest.approx([0.0, 0.55, 0.1], abs=1e-5)
    moved = np.array([knee[4].get(i) for i in range(3)])
    assert moved[0] - first[0] == pytest.approx(0.4, abs=1e-5)  # walked towards the camera: forward
    tip = table.getDependentColumn("right_foot_index")[2]
    assert np.isnan(tip.get(0))


@needs_model
def test_too_short_to_scale_is_a_clear_message(tmp_path):
    pose, _ = standing()
    with pytest.raises(InputError, match="too short to scale"):
        run_opensim(np.repeat(pose[None], 4, axis=0), np.arange(4) / 30, None, tmp_path / "brief")
    assert not list(tmp_path.iterdir())


def test_two_d_without_feet_says_the_ankle_is_not_measured():
    pose, _ = standing()
    poses = np.repeat(pose[None], 3, axis=0)
    person = Pose2DSequence(np.zeros((3, 17, 2)), np.ones((3, 17)), 30.0, 640, 480)

    class Motion:  # the parts of a WorldMotion the angles use
        feet = None

    Motion.poses = poses
    run = ModelRun("student", "student", [], 0.0, 0.0, 0, "cpu", world=[Motion()])
    warnings = measure_angles([run], [person])
    assert any("no heels or foot tips" in w and "dorsiflexion" in w for w in warnings)
    assert np.isnan(run.angles[0][:, ANGLE_NAMES.index("ankle_dorsiflexion_r")]).all()
    assert run.angles[0][:, ANGLE_NAMES.index("knee_flexion_r")] == pytest.approx(0.0, abs=1e-6)


@needs_model
@pytest.mark.skipif(not HELD_OUT_CLIP.is_file(), reason="no prepared mocap in data/")
def test_ik_of_the_lifted_clip_recovers_the_truths_knee_and_hip_flexion(tmp_path):
    sequence = read_sequence(HELD_OUT_CLIP)
    sequence.poses = sequence.poses[:60]
    truth = sequence.poses.astype(np.float64)
    times = np.arange(len(truth)) / sequence.fps
    truth_files = run_opensim(truth, times, None, tmp_path / "truth")
    assert truth_files["osim"].is_file() and truth_files["trc"].is_file()
    names, truth_ik = read_mot(truth_files["mot"])
    truth_ik = dict(zip(names, truth_ik.T))
    # our markers sit at the model's joint centres: the truth's IK knee angle is its geometric knee flexion
    geometric = joint_angles(truth)
    for side in "rl":
        knee = geometric[:, ANGLE_NAMES.index(f"knee_flexion_{side}")]
        assert np.mean(np.abs(truth_ik[f"knee_angle_{side}"] - knee)) < 4.0

    view = next(iter(mocap_views([sequence], ("h36m",), "none")))
    camera = static_cameras(sequence.poses, "h36m")
    lifted = lift_view(Lifter.from_pretrained("student", "cpu"), view).astype(np.float64)
    world = lifted @ camera.rotation[0] + truth[:, JOINT_INDEX["pelvis"]][:, None]
    names, ours = read_mot(run_opensim(world, times, None, tmp_path / "lifted")["mot"])
    ours = dict(zip(names, ours.T))
    for coordinate in ("knee_angle_r", "knee_angle_l", "hip_flexion_r", "hip_flexion_l"):
        error = np.mean(np.abs(ours[coordinate] - truth_ik[coordinate]))
        assert error < 8.0, coordinate


@needs_model
def test_cli_opensim_writes_angles_trc_model_and_ik_and_prints_the_ranges(checkpoints, tmp_path, capsys):  # noqa: F811
    source = keypoints_file(tmp_path / "walk.npz", frames=40)
    out = tmp_path / "out"
    assert cli.main([str(source), "--out", str(out), "--checkpoint", str(checkpoints["student"]), "--opensim"]) == 0
    printed = capsys.readouterr().out
    assert "joint angles of #" in printed and "knee_flexion_r" in printed
    assert "no heels or foot tips" in printed  # an .npz of 17 joints has no feet
    header, *rows = (out / "walk_angles.csv").read_text().splitlines()
    assert header.split(",") == ["frame", "time_s", *ANGLE_NAMES]
    assert len(rows) == 40
    table = opensim.TimeSeriesTableVec3(str(out / "walk.trc"))
    assert table.getNumRows() == 40 and list(table.getColumnLabels()) == list(JOINT_NAMES)
    model = opensim.Model(str(out / "walk_scaled.osim"))
    assert model.getMarkerSet().getSize() == 14  # 12 joint centres, head top and nose
    names, values = read_mot(out / "walk_ik.mot")
    assert "knee_angle_r" in names and len(values) == 40 and np.isfinite(values).all()


@needs_model
def test_a_person_in_view_for_a_few_frames_gets_a_warning_not_a_crash(checkpoints, tmp_path, capsys):  # noqa: F811
    source = keypoints_file(tmp_path / "brief.npz", frames=8)
    out = tmp_path / "out"
    assert cli.main([str(source), "--out", str(out), "--checkpoint", str(checkpoints["student"]), "--opensim"]) == 0
    printed = capsys.readouterr().out
    assert "in view for 8 frames, fewer than 15: too short to scale an OpenSim model to; no OpenSim files" in printed
    assert (out / "brief_angles.csv").is_file() and not (out / "brief.trc").exists()
