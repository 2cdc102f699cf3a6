"""Joint angles (pose_lifting.angles) on constructed world poses whose angles are known by construction."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from pose_lifting.angles import ANGLE_NAMES, angle_ranges, joint_angles
from pose_lifting.skeleton import JOINT_INDEX as J
from pose_lifting.skeleton import NUM_JOINTS

# the zero pose, world frame (Y up, facing the camera along +z, the person's right along -x), metres
STANDING = {
    "pelvis": (0, 1.0, 0), "right_hip": (-0.1, 1.0, 0), "right_knee": (-0.1, 0.55, 0), "right_ankle": (-0.1, 0.1, 0),
    "left_hip": (0.1, 1.0, 0), "left_knee": (0.1, 0.55, 0), "left_ankle": (0.1, 0.1, 0), "spine": (0, 1.25, 0),
    "thorax": (0, 1.5, 0), "neck_nose": (0, 1.6, 0.08), "head": (0, 1.78, 0), "left_shoulder": (0.18, 1.5, 0),
    "left_elbow": (0.18, 1.2, 0), "left_wrist": (0.18, 0.95, 0), "right_shoulder": (-0.18, 1.5, 0),
    "right_elbow": (-0.18, 1.2, 0), "right_wrist": (-0.18, 0.95, 0),
}  # fmt: skip
FEET = np.array([[0.1, 0.02, -0.05], [-0.1, 0.02, -0.05], [0.1, 0.02, 0.17], [-0.1, 0.02, 0.17]])
FORWARD, UP, LEFT = np.array([0, 0, 1.0]), np.array([0, 1.0, 0]), np.array([1.0, 0, 0])


def standing() -> tuple[np.ndarray, np.ndarray]:
    pose = np.zeros((NUM_JOINTS, 3))
    for name, point in STANDING.items():
        pose[J[name]] = point
    return pose, FEET.copy()


def turn(points: np.ndarray, axis: np.ndarray, degrees: float, about: np.ndarray) -> np.ndarray:
    """Points rotated by `degrees` about `axis` (right-hand rule) through the point `about`."""
    rotation = Rotation.from_rotvec(np.radians(degrees) * axis)
    return rotation.apply(points - about) + about


def angles_of(pose: np.ndarray, feet: np.ndarray | None = None) -> dict[str, float]:
    values = joint_angles(pose[None], None if feet is None else feet[None])[0]
    return dict(zip(ANGLE_NAMES, values))


def move(pose: np.ndarray, joints: list[str], axis: np.ndarray, degrees: float, about: str) -> np.ndarray:
    out = pose.copy()
    index = [J[name] for name in joints]
    out[index] = turn(pose[index], axis, degrees, pose[J[about]])
    return out


def test_zero_pose_reads_zero_and_rotations_of_straight_limbs_are_undefined():
    pose, feet = standing()
    angles = angles_of(pose, feet)
    for name, value in angles.items():
        if name.startswith(("hip_rotation", "shoulder_rotation")):
            assert np.isnan(value), name
        else:
            assert value == pytest.approx(0.0, abs=1e-6), name


def test_knee_bent_exactly_90_reads_90_and_the_hip_its_flexion():
    pose, _ = standing()
    # right thigh forward and level (hip flexion 90), the shank hanging straight down (knee flexion 90)
    pose[J["right_knee"]] = pose[J["right_hip"]] + 0.45 * FORWARD
    pose[J["right_ankle"]] = pose[J["right_knee"]] - 0.45 * UP
    angles = angles_of(pose)
    assert angles["knee_flexion_r"] == pytest.approx(90.0)
    assert angles["hip_flexion_r"] == pytest.approx(90.0)
    assert angles["hip_abduction_r"] == pytest.approx(0.0, abs=1e-6)
    assert angles["hip_rotation_r"] == pytest.approx(0.0, abs=1e-6)
    assert angles["knee_flexion_l"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("degrees", [-40.0, 25.0, 60.0])
def test_hip_abduction_and_internal_rotation_signs_on_both_sides(degrees):
    pose, _ = standing()
    # each leg swung out sideways by `degrees` (negative: across the midline), both sides mirrored
    pose = move(pose, ["right_knee", "right_ankle"], FORWARD, -degrees, "right_hip")
    pose = move(pose, ["left_knee", "left_ankle"], FORWARD, degrees, "left_hip")
    angles = angles_of(pose)
    assert angles["hip_abduction_r"] == pytest.approx(degrees)
    assert angles["hip_abduction_l"] == pytest.approx(degrees)
    # knees bent 90 with the shanks back, then the thighs turned about their own axis: the foot out is internal
    pose, _ = standing()
    for side, sign in (("right", 1.0), ("left", -1.0)):
        pose[J[f"{side}_ankle"]] = pose[J[f"{side}_knee"]] - 0.45 * FORWARD
        pose = move(pose, [f"{side}_ankle"], UP, sign * 30.0, f"{side}_knee")
    angles = angles_of(pose)
    assert angles["knee_flexion_r"] == pytest.approx(90.0)
    assert angles["hip_rotation_r"] == pytest.approx(30.0)
    assert angles["hip_rotation_l"] == pytest.approx(30.0)


def test_shoulder_flexion_abduction_rotation_and_elbow():
    pose, _ = standing()
    arm = ["right_elbow", "right_wrist"]
    forward = move(pose, arm, LEFT, -90.0, "right_shoulder")  # about the person's left axis: the arm goes forward
    assert angles_of(forward)["shoulder_flexion_r"] == pytest.approx(90.0)
    sideways = move(pose, arm, FORWARD, -60.0, "right_shoulder")
    assert angles_of(sideways)["shoulder_abduction_r"] == pytest.approx(60.0)
    # elbow bent 90 with the forearm forward: rotation 0; the forearm turned across the belly: internal 90
    bent = pose.copy()
    bent[J["right_wrist"]] = bent[J["right_elbow"]] + 0.25 * FORWARD
    angles = angles_of(bent)
    assert angles["elbow_flexion_r"] == pytest.approx(90.0)
    assert angles["shoulder_rotation_r"] == pytest.approx(0.0, abs=1e-6)
    bent[J["right_wrist"]] = bent[J["right_elbow"]] + 0.25 * LEFT
    assert angles_of(bent)["shoulder_rotation_r"] == pytest.approx(90.0)
    bent[J["left_wrist"]] = bent[J["left_elbow"]] - 0.25 * LEFT
    assert angles_of(bent)["shoulder_rotation_l"] == pytest.approx(90.0)


def test_trunk_lean_tilts_pelvis_and_flexes_hips():
    pose, _ = standing()
    upper = ["spine", "thorax", "neck_nose", "head", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder",
             "right_elbow", "right_wrist"]
    lean = move(pose, upper, LEFT, 30.0, "pelvis")  # about the person's left axis: the top goes forward
    angles = angles_of(lean)
    assert angles["trunk_flexion"] == pytest.approx(30.0)
    assert angles["pelvis_tilt"] == pytest.approx(30.0)
    assert angles["hip_flexion_r"] == pytest.approx(30.0)
    assert angles["shoulder_flexion_r"] == pytest.approx(0.0, abs=1e-6)  # the arms go with the trunk
    side = move(pose, upper, FORWARD, 20.0, "pelvis")  # about the forward axis: the top to the right (-x)
    angles = angles_of(side)
    assert angles["trunk_lateral_lean"] == pytest.approx(20.0)
    assert angles["trunk_pelvis_lateral_bend"] == pytest.approx(20.0)
    twist = move(pose, upper, UP, 25.0, "pelvis")  # shoulders turned to the left of the hips
    angles = angles_of(twist)
    assert angles["trunk_pelvis_rotation"] == pytest.approx(25.0)
    assert angles["trunk_rotation"] == pytest.approx(25.0)
    assert angles["pelvis_rotation"] == pytest.approx(0.0, abs=1e-6)


def test_pelvis_obliquity_and_neck_flexion():
    pose, _ = standing()
    hiked = move(pose, ["right_hip", "right_knee", "right_ankle"], FORWARD, 0.0, "pelvis")
    hiked[[J["right_hip"], J["right_knee"], J["right_ankle"]]] += 0.1 * np.tan(np.radians(10)) * UP
    hiked[[J["left_hip"], J["left_knee"], J["left_ankle"]]] -= 0.1 * np.tan(np.radians(10)) * UP
    assert angles_of(hiked)["pelvis_obliquity"] == pytest.approx(10.0)
    nod = move(pose, ["head"], LEFT, 35.0, "thorax")
    assert angles_of(nod)["neck_flexion"] == pytest.approx(35.0)


def test_ankle_dorsiflexion_from_heel_and_foot_tip():
    pose, feet = standing()
    feet[3] = turn(feet[3], LEFT, -20.0, feet[1])  # right foot tip up by 20 degrees about the heel
    angles = angles_of(pose, feet)
    assert angles["ankle_dorsiflexion_r"] == pytest.approx(20.0)
    assert angles["ankle_dorsiflexion_l"] == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(angles_of(pose)["ankle_dorsiflexion_r"])  # no feet: not measured


def test_angles_do_not_depend_on_where_the_person_faces_or_stands():
    pose, feet = standing()
    pose[J["right_knee"]] = pose[J["right_hip"]] + 0.45 * FORWARD
    pose[J["right_ankle"]] = pose[J["right_knee"]] - 0.45 * UP
    pose[J["left_wrist"]] = pose[J["left_elbow"]] + 0.25 * FORWARD
    before = angles_of(pose, feet)
    turned_pose = turn(pose, UP, 70.0, np.zeros(3)) + np.array([2.0, 0.0, -3.0])
    turned_feet = turn(feet, UP, 70.0, np.zeros(3)) + np.array([2.0, 0.0, -3.0])
    after = angles_of(turned_pose, turned_feet)
    for name in ANGLE_NAMES:
        expected = before[name] + (70.0 if name in ("pelvis_rotation", "trunk_rotation") else 0.0)
        assert after[name] == pytest.approx(expected, abs=1e-6, nan_ok=True), name


def test_ranges_skip_undefined_angles():
    pose, _ = standing()
    bent = pose.copy()
    bent[J["right_ankle"]] = bent[J["right_knee"]] - 0.45 * FORWARD
    angles = joint_angles(np.stack([pose, bent]))
    ranges = angle_ranges(angles)
    assert ranges["knee_flexion_r"] == pytest.approx((0.0, 90.0, 90.0))
    assert "ankle_dorsiflexion_r" not in ranges
