"""Mocap readers on small hand-made files: BVH, ASF/AMC, DeepMimic, VRML forward kinematics and channel orders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pose_lifting.data import asf_amc, bvh, deepmimic, vrml
from pose_lifting.data.rotations import euler_rotation, quaternion_matrix

CHAIN_BVH = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Spine
  {
    OFFSET 0 10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 5 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.033333
1 2 3 0 0 0 0 0 0
0 0 0 90 0 0 0 0 90
"""


def test_bvh_forward_kinematics_of_a_chain() -> None:
    motion = bvh.parse_bvh(CHAIN_BVH)
    assert motion.names == ["Hips", "Spine", "Spine/end"]
    assert motion.fps == 30.0  # 0.033333 s is 30 fps written rounded
    positions = bvh.forward_kinematics(motion)
    # frame 0: rest pose moved to (1, 2, 3)
    np.testing.assert_allclose(positions[0], [[1, 2, 3], [1, 12, 3], [1, 17, 3]], atol=1e-9)
    # frame 1: the root turns 90 degrees about z, so the spine points along -x; the spine's own 90 degrees
    # about its y axis (along the bone) leaves the end site on the same line
    np.testing.assert_allclose(positions[1], [[0, 0, 0], [-10, 0, 0], [-15, 0, 0]], atol=1e-9)


@pytest.mark.parametrize(
    ("order", "expected"),
    [("Xrotation Yrotation", [0.0, 1.0, 0.0]), ("Yrotation Xrotation", [0.0, 0.0, -1.0])],
)
def test_bvh_rotation_channels_apply_in_file_order(order: str, expected: list[float]) -> None:
    text = f"""HIERARCHY
ROOT A
{{
  OFFSET 0 0 0
  CHANNELS 2 {order}
  End Site
  {{
    OFFSET 1 0 0
  }}
}}
MOTION
Frames: 1
Frame Time: 0.01
90 90
"""
    positions = bvh.forward_kinematics(bvh.parse_bvh(text))
    np.testing.assert_allclose(positions[0, 1], expected, atol=1e-9)


def test_bvh_position_channels_replace_the_offset() -> None:
    text = """HIERARCHY
ROOT A
{
  OFFSET 5 5 5
  CHANNELS 3 Xposition Yposition Zposition
  JOINT B
  {
    OFFSET 0 9 0
    CHANNELS 6 Xposition Yposition Zposition Xrotation Yrotation Zrotation
  }
}
MOTION
Frames: 1
Frame Time: 0.04
1 0 0 0 2 0 0 0 0
"""
    motion = bvh.parse_bvh(text)
    assert motion.fps == 25.0
    np.testing.assert_allclose(bvh.forward_kinematics(motion)[0], [[1, 0, 0], [1, 2, 0]], atol=1e-9)


def test_euler_and_quaternion_rotations_agree() -> None:
    angle = np.deg2rad(30.0)
    quaternion = np.array([np.cos(angle / 2), 0.0, 0.0, np.sin(angle / 2)])  # 30 degrees about z
    np.testing.assert_allclose(quaternion_matrix(quaternion), euler_rotation("z", np.array([angle])), atol=1e-12)


ASF = """# test skeleton
:version 1.10
:name test
:units
  mass 1.0
  length 0.45
  angle deg
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name upper
     direction 1 0 0
     length 10
     axis 0 0 90 XYZ
    dof rx ry rz
  end
  begin
     id 2
     name lower
     direction 0 -1 0
     length 4
     axis 0 0 0 XYZ
  end
:hierarchy
  begin
    root upper
    upper lower
  end
"""

AMC = """:FULLY-SPECIFIED
:DEGREES
1
root 1 2 3 0 0 0
upper 0 0 0
2
root 0 0 0 0 0 0
upper 90 0 0
"""


def test_asf_amc_forward_kinematics_uses_bone_axes() -> None:
    skeleton = asf_amc.parse_asf(ASF)
    assert [bone.name for bone in skeleton.bones] == ["root", "upper", "lower"]
    positions = asf_amc.forward_kinematics(skeleton, asf_amc.parse_amc(AMC, skeleton))
    # frame 1: rest; bone end points follow direction x length from the parent's end
    np.testing.assert_allclose(positions[0], [[1, 2, 3], [11, 2, 3], [11, -2, 3]], atol=1e-9)
    # frame 2: rx = 90 in the bone's frame, whose x axis the ASF axis (0 0 90) turns onto world y: the bone
    # turns 90 degrees about world y, carrying its child along; x -> -z
    np.testing.assert_allclose(positions[1], [[0, 0, 0], [0, 0, -10], [0, -4, -10]], atol=1e-9)


URDF_JOINTS = {  # joint name: (parent link, kind, offset before the 0.25 scale)
    "root": ("base", "fixed", (0, 0, 0)),
    "chest": ("root", "spherical", (0, 1, 0)),
    "neck": ("chest", "spherical", (0, 1, 0)),
    "right_hip": ("root", "spherical", (0, 0, 0.4)),
    "right_knee": ("right_hip", "revolute", (0, -2, 0)),
    "right_ankle": ("right_knee", "spherical", (0, -2, 0)),
    "right_shoulder": ("chest", "spherical", (0, 1, 0.8)),
    "right_elbow": ("right_shoulder", "revolute", (0, -1, 0)),
    "right_wrist": ("right_elbow", "fixed", (0, -1, 0)),
    "left_hip": ("root", "spherical", (0, 0, -0.4)),
    "left_knee": ("left_hip", "revolute", (0, -2, 0)),
    "left_ankle": ("left_knee", "spherical", (0, -2, 0)),
    "left_shoulder": ("chest", "spherical", (0, 1, -0.8)),
    "left_elbow": ("left_shoulder", "revolute", (0, -1, 0)),
    "left_wrist": ("left_elbow", "fixed", (0, -1, 0)),
}


def write_humanoid_urdf(path) -> None:
    """A DeepMimic-like humanoid: the joint names of humanoid.urdf, simple offsets, a head sphere on "neck"."""
    links = ["base", *URDF_JOINTS]
    lines = ['<robot name="test">']
    for link in links:
        lines.append(f'<link name="{link}">')
        if link == "neck":
            lines.append('<collision><origin rpy="0 0 0" xyz="0 0.8 0"/><geometry><sphere radius="0.4"/></geometry>')
            lines.append("</collision>")
        lines.append("</link>")
    for name, (parent, kind, offset) in URDF_JOINTS.items():
        lines.append(f'<joint name="{name}" type="{kind}"><parent link="{parent}"/><child link="{name}"/>')
        lines.append(f'<origin rpy="0 0 0" xyz="{offset[0]} {offset[1]} {offset[2]}"/>')
        if kind == "revolute":
            lines.append('<axis xyz="0 0 1"/>')
        lines.append("</joint>")
    lines.append("</robot>")
    path.write_text("\n".join(lines) + "\x00")  # pybullet's file ends with a NUL byte too


def deepmimic_frame(root_position, knee_angle: float) -> list[float]:
    identity = [1.0, 0.0, 0.0, 0.0]
    per_joint = {"right_knee": [knee_angle], "right_elbow": [0.0], "left_knee": [0.0], "left_elbow": [0.0]}
    values = [0.5, *root_position, *identity]
    for joint in deepmimic.DEEPMIMIC_JOINTS:
        values += per_joint.get(joint, identity)
    return values


def test_deepmimic_forward_kinematics_on_urdf_offsets(tmp_path) -> None:
    urdf = tmp_path / "humanoid.urdf"
    write_humanoid_urdf(urdf)
    humanoid = deepmimic.read_urdf(urdf)
    clip = tmp_path / "clip.txt"
    frames = [deepmimic_frame([0, 1, 0], 0.0), deepmimic_frame([0, 1, 0], np.pi / 2)]
    clip.write_text(json.dumps({"Loop": "none", "Frames": frames}))
    names, positions, times = deepmimic.read_deepmimic(clip, humanoid)
    np.testing.assert_allclose(times, [0.0, 0.5])
    at = {name: positions[:, i] for i, name in enumerate(names)}
    np.testing.assert_allclose(at["right_hip"][0], [0, 1, 0.1], atol=1e-9)
    np.testing.assert_allclose(at["right_ankle"][0], [0, 0, 0.1], atol=1e-9)
    np.testing.assert_allclose(at["head_centre"][0], [0, 1.7, 0], atol=1e-9)  # neck at 1.5, sphere centre +0.2
    np.testing.assert_allclose(at["head_top"][0], [0, 1.8, 0], atol=1e-9)  # + radius 0.1
    # knee bent 90 degrees about z: the shin turns from -y to +x
    np.testing.assert_allclose(at["right_ankle"][1], [0.5, 0.5, 0.1], atol=1e-9)


CHAIN_WRL = """#VRML V2.0 utf8
# a root scaled by 2 along its own x (turned by the scale orientation) carrying a bone turned by an interpolator
DEF Root Transform {
  translation 1 0 0
  scale 2 1 1
  scaleOrientation 0 0 1 1.5708
  children [
  DEF Timer TimeSensor { loop TRUE cycleInterval 2 },
  DEF Arm-ROT-INTERP OrientationInterpolator { key [0, 1] keyValue [0 0 1 0, 0 0 1 1.5708] },
  DEF Arm Transform {
    translation 0 1 0
    children [
      DEF Hand Transform { translation 1 0 0 }
      Shape { geometry Box { size 1 1 1 } }
    ]
  }
  ROUTE Timer.fraction_changed TO Arm-ROT-INTERP.set_fraction
  ROUTE Arm-ROT-INTERP.value_changed TO Arm.set_rotation
  ]
}
"""


def test_vrml_animation_follows_scale_orientation_and_slerps_rotations(tmp_path) -> None:
    path = tmp_path / "chain.wrl"
    path.write_text(CHAIN_WRL)
    names, positions, times = vrml.read_vrml_animation(path, fps=2.0)
    assert names == ["Root", "Arm", "Hand"]
    np.testing.assert_allclose(times, [0.0, 0.5, 1.0, 1.5, 2.0])
    # the scale orientation turns the root's x scale onto its y axis: the arm's offset (0, 1, 0) doubles
    np.testing.assert_allclose(positions[:, 1], [[1.0, 2.0, 0.0]] * 5, atol=1e-4)
    # the hand turns from +x towards +y about z, a quarter turn over the cycle, at a constant rate (slerp); the
    # root's scale stretches its y offset twofold
    angles = np.degrees(np.arctan2((positions[:, 2, 1] - 2.0) / 2, positions[:, 2, 0] - 1.0))
    np.testing.assert_allclose(angles, [0.0, 22.5, 45.0, 67.5, 90.0], atol=0.1)
