"""Blender as a real client: its own BVH and glTF importers read our files; its joints match ours frame by frame.

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
from app.glb import write_glb
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


def blender_joints(python: str, path: Path, out: Path) -> np.ndarray:
    """(frames, 17, 3) joint positions after Blender imported `path`, in our joint order and Y-up axes."""
    done = subprocess.run([python, str(CLIENT), str(path), str(out), "--fps", str(FPS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(out.read_text())
    order = [found["names"].index(name) for name in JOINT_NAMES]
    return np.array(found["positions"])[:, order]


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


def test_the_client_runs_under_blender_only():
    assert "bpy" not in sys.modules  # the app's venv never imports Blender
