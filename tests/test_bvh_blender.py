"""Blender as a real client: its own BVH and glTF importers read our files (one person, or a scene of several); its
joints match ours frame by frame.

Blender runs from its own venv (`make blender`, see requirements-blender.txt) through scripts/blender_joints.py.
`make test` sets BLENDER_PYTHON, and then a missing Blender fails these tests; run bare, they use
.venv-blender when it exists and are skipped otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.bvh import solve_rig, write_bvh
from app.glb import Skeleton, write_glb
from app.outputs import held
from pose_lifting.skeleton import JOINT_NAMES
from tests.test_bvh import FPS, filming_camera, rigid_motion

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "scripts" / "blender_joints.py"


@pytest.fixture(scope="module")
def blender_python() -> str:
    required = os.environ.get("BLENDER_PYTHON")
    path = Path(required or ROOT / ".venv-blender" / "bin" / "python")
    if not path.is_absolute():
        path = ROOT / path
    if not path.exists():
        if required:
            pytest.fail(f"BLENDER_PYTHON={required} does not exist: run `make blender`")
        pytest.skip("Blender (bpy) is not installed: `make blender`")
    return str(path)


def blender_skeletons(python: str, paths: list[Path], out: Path) -> dict[str, np.ndarray]:
    """Each armature's (frames, 17, 3) joint positions after Blender imported `paths` (one scene), by armature
    name, in our joint order and Y-up axes."""
    command = [python, str(CLIENT), *map(str, paths), str(out), "--fps", str(FPS)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(out.read_text())["skeletons"]
    return {s["name"]: np.array(s["positions"])[:, [s["names"].index(name) for name in JOINT_NAMES]] for s in found}


def blender_joints(python: str, path: Path, out: Path) -> np.ndarray:
    """(frames, 17, 3) joint positions of the one armature Blender imported from `path`."""
    (positions,) = blender_skeletons(python, [path], out).values()
    return positions


@pytest.mark.parametrize("writer", [write_bvh, write_glb], ids=["bvh", "glb"])
def test_blender_imports_our_file_with_the_same_joint_positions_every_frame(writer, blender_python, tmp_path):
    positions = rigid_motion()
    path = writer(tmp_path / f"motion{'.bvh' if writer is write_bvh else '.glb'}", solve_rig(positions), FPS)
    found = blender_joints(blender_python, path, tmp_path / "joints.json")
    assert found.shape == positions.shape
    error = np.linalg.norm(found - positions, axis=-1)
    assert error.max() < 0.01, error.max()


def test_blender_shows_the_glb_s_filming_camera_turning_as_it_did(blender_python, tmp_path):
    positions = rigid_motion()
    camera = filming_camera(len(positions))
    path = write_glb(tmp_path / "filmed.glb", solve_rig(positions), FPS, camera)
    out = tmp_path / "joints.json"
    blender_joints(blender_python, path, out)
    found = json.loads(out.read_text())
    assert np.allclose(found["camera_location"], camera.position, atol=1e-4)
    forward = np.array(found["camera_forward"])
    assert forward.shape == (len(positions), 3)
    assert np.degrees(np.arccos(np.clip((forward * camera.orientations[:, :, 2]).sum(-1), -1, 1))).max() < 0.5


def test_blender_finds_every_person_of_a_scene_glb_and_every_bvh_in_step(blender_python, tmp_path):
    """Two people, the second entering at frame 10 and leaving before the end: the .glb has a skin each, posed
    as ours while they are in the picture and shrunk to a point while not; their BVHs, which hold the first and
    last poses outside, imported together give the same scene."""
    first, second = rigid_motion(40), rigid_motion(20, seed=1) + np.array([2.0, 0.0, -1.0])
    skeletons = [Skeleton(solve_rig(first), "person1"), Skeleton(solve_rig(second), "person2", start=10)]
    path = write_glb(tmp_path / "scene.glb", skeletons, FPS, filming_camera(40))
    found = blender_skeletons(blender_python, [path], tmp_path / "scene.json")
    assert set(found) >= {"person1", "person2"} and len(found) == 2, list(found)
    a, b = (next(v for k, v in found.items() if k.startswith(name)) for name in ("person1", "person2"))
    assert a.shape == b.shape == (40, 17, 3)
    assert np.linalg.norm(a - first, axis=-1).max() < 0.01
    assert np.linalg.norm(b[10:30] - second, axis=-1).max() < 0.01
    spans = np.ptp(b, axis=1).max(axis=-1)  # the skeleton's extent per frame
    assert spans[:10].max() < 1e-3 and spans[30:].max() < 1e-3 and spans[10:30].min() > 0.5
    bvhs = [write_bvh(tmp_path / "person1.bvh", solve_rig(first), FPS),
            write_bvh(tmp_path / "person2.bvh", solve_rig(held(second, 10, 40)), FPS)]
    together = list(blender_skeletons(blender_python, bvhs, tmp_path / "bvh.json").values())
    assert len(together) == 2
    assert np.linalg.norm(together[1][10:30] - second, axis=-1).max() < 0.01


def test_the_client_runs_under_blender_only():
    assert "bpy" not in sys.modules  # the app's venv never imports Blender
