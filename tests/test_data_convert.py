"""Conversion of mocap to Human3.6M-17 in metres, Y up, 30 fps; resampling; sanity checks; prepare's caching."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pose_lifting.data import prepare
from pose_lifting.data.convert import (
    MOCAP_FPS,
    convert,
    knee_forwardness,
    resample,
    sanity_problems,
)
from pose_lifting.data.mocap import HELD_OUT, MocapSequence, load_mocap, split
from pose_lifting.data.sources import CLIMB_JOINTS, SOURCES, Source
from pose_lifting.skeleton import HEAD_TOP_EXTENSION, JOINT_INDEX, complete_torso

J = JOINT_INDEX

# A MotionBuilder-style rig in centimetres, Y up, facing +z: the person's left is +x. Knees bend forward (+z).
RIG_BVH_HEAD = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Chest
  {
    OFFSET 0 20 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT Neck
    {
      OFFSET 0 30 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      JOINT Head
      {
        OFFSET 0 15 0
        CHANNELS 3 Zrotation Xrotation Yrotation
        End Site
        {
          OFFSET 0 15 0
        }
      }
    }
SHOULDERS
  }
LEGS
}
MOTION
"""
ARM = """    JOINT {side}Collar
    {{
      OFFSET {sign}5 25 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      JOINT {side}Shoulder
      {{
        OFFSET {sign}12 0 0
        CHANNELS 3 Zrotation Xrotation Yrotation
        JOINT {side}Elbow
        {{
          OFFSET 0 -28 0
          CHANNELS 3 Zrotation Xrotation Yrotation
          JOINT {side}Wrist
          {{
            OFFSET 0 -25 0
            CHANNELS 3 Zrotation Xrotation Yrotation
            End Site
            {{
              OFFSET 0 -5 0
            }}
          }}
        }}
      }}
    }}
"""
LEG = """  JOINT {side}Hip
  {{
    OFFSET {sign}10 0 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT {side}Knee
    {{
      OFFSET 0 -42 5
      CHANNELS 3 Zrotation Xrotation Yrotation
      JOINT {side}Ankle
      {{
        OFFSET 0 -42 -5
        CHANNELS 3 Zrotation Xrotation Yrotation
        End Site
        {{
          OFFSET 0 -5 10
        }}
      }}
    }}
  }}
"""
N_CHANNELS = 6 + 3 * (3 + 2 * 4 + 2 * 3)


def rig_bvh(n_frames: int, frame_time: float) -> str:
    """The rig above; the root walks along +z at 1 m/s and every joint keeps its rest rotation."""
    arms = "".join(ARM.format(side=side, sign=sign) for side, sign in (("Left", ""), ("Right", "-")))
    legs = "".join(LEG.format(side=side, sign=sign) for side, sign in (("Left", ""), ("Right", "-")))
    text = RIG_BVH_HEAD.replace("SHOULDERS\n", arms).replace("LEGS\n", legs)
    rows = []
    for k in range(n_frames):
        values = np.zeros(N_CHANNELS)
        values[:3] = [0.0, 90.0, 100.0 * k * frame_time]
        rows.append(" ".join(f"{v:g}" for v in values))
    return text + f"Frames: {n_frames}\nFrame Time: {frame_time}\n" + "\n".join(rows) + "\n"


def bvh_source(**changes) -> Source:
    return replace(SOURCES["boxing"], package="test", files={"rig": "rig.bvh"}, **changes)


@pytest.fixture
def rig_file(tmp_path):
    path = tmp_path / "rig.bvh"
    path.write_text(rig_bvh(n_frames=121, frame_time=1 / 120))  # 1 s at 120 Hz
    return path


def test_bvh_rig_converts_to_h36m_metres_y_up_30fps(rig_file) -> None:
    poses, original_fps = convert(bvh_source(), rig_file, [])
    assert original_fps == 120.0
    assert poses.shape == (31, 17, 3) and poses.dtype == np.float32  # 1 s at 30 fps, both ends kept
    first = poses[0]
    np.testing.assert_allclose(first[J["left_hip"]], [0.10, 0.90, 0.0], atol=1e-6)  # cm -> m, left at +x
    np.testing.assert_allclose(first[J["right_knee"]], [-0.10, 0.48, 0.05], atol=1e-6)
    np.testing.assert_allclose(first[J["left_wrist"]], [0.17, 0.82, 0.0], atol=1e-6)
    np.testing.assert_allclose(first[J["neck_nose"]], [0.0, 1.55, 0.0], atol=1e-6)  # Head joint
    np.testing.assert_allclose(first[J["head"]], [0.0, 1.70, 0.0], atol=1e-6)  # Head end site
    # torso from hips and shoulders (complete_torso), not from the rig's Hips and Chest joints
    np.testing.assert_allclose(first[J["pelvis"]], [0.0, 0.90, 0.0], atol=1e-6)
    np.testing.assert_allclose(first[J["thorax"]], [0.0, 1.35, 0.0], atol=1e-6)
    np.testing.assert_allclose(first[J["spine"]], [0.0, 1.125, 0.0], atol=1e-6)
    np.testing.assert_allclose(poses, complete_torso(poses.copy()), atol=1e-6)
    # the walk along z at 1 m/s survives resampling: frame k at k / 30 s
    np.testing.assert_allclose(poses[:, J["pelvis"], 2], np.arange(31) / 30.0, atol=1e-5)
    assert sanity_problems(poses) == []
    assert knee_forwardness(poses) > 0


def test_swapped_left_and_right_are_detected(rig_file) -> None:
    poses, _ = convert(bvh_source(), rig_file, [])
    mirrored = poses * np.array([-1.0, 1.0, 1.0], dtype=np.float32)  # a mirror swaps the body's sides
    assert knee_forwardness(mirrored) < 0
    assert any("swapped" in problem for problem in sanity_problems(mirrored))


def test_wrong_units_are_detected(rig_file) -> None:
    poses, _ = convert(bvh_source(to_metres=1.0), rig_file, [])  # centimetres taken for metres
    assert any("outside" in problem for problem in sanity_problems(poses))


@pytest.mark.parametrize(("source_fps", "n_frames"), [(120.0, 241), (24.0, 49), (100.0, 201), (60.0, 121)])
def test_resampling_to_30fps_keeps_the_duration(source_fps: float, n_frames: int) -> None:
    times = np.arange(n_frames) / source_fps  # 2 s
    signal = np.stack([times, np.sin(times)], axis=-1)
    out = resample(signal, times)
    assert len(out) == 61  # 2 s at 30 fps, both ends
    grid = np.arange(61) / MOCAP_FPS
    np.testing.assert_allclose(out[:, 0], grid, atol=1e-9)  # linear in time: exact on a linear signal
    np.testing.assert_allclose(out[:, 1], np.sin(grid), atol=1e-3)


def test_rounded_bvh_frame_times_keep_every_frame(tmp_path) -> None:
    path = tmp_path / "rig.bvh"
    path.write_text(rig_bvh(n_frames=1201, frame_time=0.0083333))  # 10 s at 120 Hz, frame time written rounded
    poses, original_fps = convert(bvh_source(), path, [])
    assert original_fps == 120.0 and len(poses) == 301


def test_climbing_arrays_turn_z_up_to_y_up_and_get_a_head_top(tmp_path) -> None:
    rest = {  # Z up, facing -y: the person's left is +x
        "Hips": (0, 0, 1.0),
        "LeftUpLeg": (0.1, 0, 0.95),
        "RightUpLeg": (-0.1, 0, 0.95),
        "LeftLeg": (0.1, -0.05, 0.5),
        "RightLeg": (-0.1, -0.05, 0.5),
        "LeftFoot": (0.1, 0, 0.08),
        "RightFoot": (-0.1, 0, 0.08),
        "LeftArm": (0.18, 0, 1.45),
        "RightArm": (-0.18, 0, 1.45),
        "LeftForeArm": (0.18, 0, 1.17),
        "RightForeArm": (-0.18, 0, 1.17),
        "LeftHand": (0.18, 0, 0.92),
        "RightHand": (-0.18, 0, 0.92),
        "Neck": (0, 0, 1.5),
        "Head": (0, 0, 1.65),
    }
    frames = np.zeros((13, len(CLIMB_JOINTS), 3), dtype=np.float32)
    for name, position in rest.items():
        frames[:, CLIMB_JOINTS.index(name)] = position
    path = tmp_path / "climb.npy"
    np.save(path, frames)
    poses, fps = convert(SOURCES["climb"], path, [])
    assert fps == 120.0 and poses.shape == (4, 17, 3)  # 0.1 s at 30 fps
    np.testing.assert_allclose(poses[0, J["left_hip"]], [0.1, 0.95, 0.0], atol=1e-6)
    np.testing.assert_allclose(poses[0, J["left_knee"]], [0.1, 0.5, 0.05], atol=1e-6)  # -y forward -> +z
    head_top = 1.65 + HEAD_TOP_EXTENSION * (1.65 - 1.45)  # neck_nose + ratio x (neck_nose - thorax)
    np.testing.assert_allclose(poses[0, J["head"]], [0.0, head_top, 0.0], atol=1e-6)
    assert knee_forwardness(poses) > 0


def test_prepare_writes_once_then_reuses(tmp_path, rig_file) -> None:
    source = bvh_source()
    roots = {"test": rig_file.parent}
    out_dir = tmp_path / "mocap"
    first = prepare.prepare_source("rigsource", source, roots, {}, out_dir, force=False)
    assert [o.status for o in first] == ["converted"]
    second = prepare.prepare_source("rigsource", source, roots, {}, out_dir, force=False)
    assert [o.status for o in second] == ["cached"]
    missing = prepare.prepare_source("rigsource", source, {}, {"test": "offline"}, out_dir, force=False)
    assert [o.status for o in missing] == ["missing"]
    (loaded,) = load_mocap(tmp_path)
    assert loaded.name == "rig" and loaded.fps == MOCAP_FPS and loaded.poses.shape == (31, 17, 3)
    np.testing.assert_array_equal(loaded.poses, first[0].sequence.poses)


def test_held_out_split_is_by_whole_sequence() -> None:
    sequences = [MocapSequence(name, "s", "x", np.zeros((2, 17, 3)), MOCAP_FPS, "l") for name in ("a", *HELD_OUT, "b")]
    train, held_out = split(sequences)
    assert [s.name for s in train] == ["a", "b"]
    assert {s.name for s in held_out} == set(HELD_OUT)
    assert "cmu_01_01" in HELD_OUT  # the CMU take that assimp's 01_01.bvh repeats
    assert not any("01_01" in path for source in SOURCES.values() for path in source.files.values())
