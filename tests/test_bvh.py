"""BVH and GLB exports: forward kinematics of the files gives back the world positions; the files' structure."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from app.bvh import Rig, forward_kinematics, read_bvh, rig_positions, solve_rig, write_bvh
from app.glb import FilmingCamera, read_glb, write_glb
from pose_lifting.skeleton import BONES, JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, PARENTS, bone_lengths_symmetric
from tests.test_world import walker

FPS = 25.0


def rigid_motion(frames: int = 40, seed: int = 0) -> np.ndarray:
    """(T, 17, 3) world positions of a skeleton with constant bone lengths (a solved walker's rig), every joint
    turning smoothly and the root travelling: what forward kinematics must give back exactly."""
    rig = solve_rig(walker(frames)[0])
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None] / FPS
    angles = 0.4 * np.sin(2 * np.pi * (rng.uniform(0.2, 1.0, (1, NUM_JOINTS * 3)) * t + rng.uniform(0, 1)))
    extra = Rotation.from_rotvec(angles.reshape(-1, 3)).as_matrix().reshape(frames, NUM_JOINTS, 3, 3)
    moved = Rig(rig.names, rig.parents, rig.offsets, rig.end_sites, rig.root, rig.rotations @ extra)
    return rig_positions(moved)


def test_bvh_forward_kinematics_gives_back_constant_length_motion_within_1_cm(tmp_path):
    positions = rigid_motion()
    path = write_bvh(tmp_path / "rigid.bvh", solve_rig(positions), FPS)
    bvh = read_bvh(path)
    assert bvh.names == list(JOINT_NAMES) and bvh.parents == list(PARENTS)
    error = np.linalg.norm(forward_kinematics(bvh) - positions, axis=-1)
    assert error.max() < 0.01, error.max()


def test_bvh_header_root_channels_frame_rate_and_symmetric_median_bones(tmp_path):
    poses = walker(60)[0]
    poses[:, JOINT_INDEX["left_knee"]] += 0.01  # left and right thighs differ: the file uses their mean
    path = write_bvh(tmp_path / "walk.bvh", solve_rig(poses), FPS)
    bvh = read_bvh(path)
    assert bvh.channels[0] == ["Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation"]
    assert all(c == ["Zrotation", "Xrotation", "Yrotation"] for c in bvh.channels[1:])
    assert len(bvh.motion) == 60 and abs(bvh.frame_time - 1 / FPS) < 1e-7
    assert np.allclose(bvh.motion[:, :3], poses[:, JOINT_INDEX["pelvis"]], atol=1e-5)  # the root's path
    lengths = np.linalg.norm(bvh.offsets, axis=1)
    expected = bone_lengths_symmetric(poses)
    assert np.allclose(lengths, expected, atol=1e-5)
    thigh = [np.median(np.linalg.norm(poses[:, c] - poses[:, p], axis=-1)) for p, c in BONES if c in (2, 5)]
    assert np.isclose(lengths[JOINT_INDEX["left_knee"]], np.mean(thigh), atol=1e-5)
    assert lengths[JOINT_INDEX["left_knee"]] == lengths[JOINT_INDEX["right_knee"]]


def accessor(document: dict, binary: bytes, index: int) -> np.ndarray:
    """An accessor's data as float32/uint16 rows."""
    spec = document["accessors"][index]
    view = document["bufferViews"][spec["bufferView"]]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[spec["type"]]
    dtype = {5126: np.float32, 5123: np.uint16}[spec["componentType"]]
    data = np.frombuffer(binary, dtype, spec["count"] * width, view["byteOffset"])
    return data.reshape(spec["count"], width)


def test_glb_animation_gives_back_the_positions_and_its_skin_binds_every_bone(tmp_path):
    positions = rigid_motion()
    document, binary = read_glb(write_glb(tmp_path / "rigid.glb", solve_rig(positions), FPS))
    nodes = document["nodes"]
    assert [n["name"] for n in nodes[:NUM_JOINTS]] == list(JOINT_NAMES)
    assert document["skins"][0]["joints"] == list(range(NUM_JOINTS))
    (animation,) = document["animations"]
    times = accessor(document, binary, animation["samplers"][0]["input"])[:, 0]
    assert np.allclose(times, np.arange(len(positions)) / FPS)
    root, rotations = None, np.zeros((len(positions), NUM_JOINTS, 4))
    for channel in animation["channels"]:
        values = accessor(document, binary, animation["samplers"][channel["sampler"]]["output"])
        if channel["target"]["path"] == "translation":
            root = values
        else:
            rotations[:, channel["target"]["node"]] = values
    # forward kinematics from the file's node tree (independent of app.bvh)
    world = np.zeros((len(positions), NUM_JOINTS, 3, 3))
    found = np.zeros_like(positions)
    for joint in range(NUM_JOINTS):
        local = Rotation.from_quat(rotations[:, joint]).as_matrix()
        parent = next((p for p, n in enumerate(nodes) if joint in n.get("children", [])), None)
        if parent is None:
            found[:, joint], world[:, joint] = root, local
        else:
            found[:, joint] = found[:, parent] + world[:, parent] @ np.array(nodes[joint]["translation"])
            world[:, joint] = world[:, parent] @ local
    assert np.linalg.norm(found - positions, axis=-1).max() < 0.01
    primitive = document["meshes"][0]["primitives"][0]
    owners = set(accessor(document, binary, primitive["attributes"]["JOINTS_0"])[:, 0].tolist())
    assert owners == {p for p, _ in BONES}


def filming_camera(frames: int) -> FilmingCamera:
    """A camera 4 m in front of the origin, 1.5 m up, panning 20 degrees and back over the clip."""
    pan = np.radians(20.0) * np.sin(np.pi * np.arange(frames) / max(frames - 1, 1))
    facing_back = np.diag([1.0, -1.0, -1.0])  # camera x, y (down), z (forward) -> world x, -y, -z
    turns = Rotation.from_euler("y", pan[:, None]).as_matrix() @ facing_back
    return FilmingCamera(np.array([0.0, 1.5, 4.0]), turns, 1000.0, 1280, 720)


def test_the_glb_s_camera_node_turns_as_the_filming_camera_did(tmp_path):
    positions = rigid_motion()
    camera = filming_camera(len(positions))
    document, binary = read_glb(write_glb(tmp_path / "filmed.glb", solve_rig(positions), FPS, camera))
    (node,) = [n for n in document["nodes"] if n.get("name") == "camera"]
    assert node["translation"] == [0.0, 1.5, 4.0]
    (lens,) = document["cameras"]
    assert lens["perspective"]["yfov"] == pytest.approx(2 * np.arctan(360 / 1000))
    assert document["nodes"].index(node) in document["scenes"][0]["nodes"]
    (animation,) = document["animations"]
    (channel,) = [c for c in animation["channels"] if c["target"]["node"] == document["nodes"].index(node)]
    turns = Rotation.from_quat(accessor(document, binary, animation["samplers"][channel["sampler"]]["output"]))
    looks = turns.apply([0.0, 0.0, -1.0])  # a glTF camera looks along its -z
    assert np.allclose(looks, camera.orientations[:, :, 2], atol=1e-5)
    ups = turns.apply([0.0, 1.0, 0.0])
    assert np.allclose(ups, -camera.orientations[:, :, 1], atol=1e-5)
