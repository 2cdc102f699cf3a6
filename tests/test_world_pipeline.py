"""The pipeline's world outputs: world CSV, BVH and GLB per person, the npz/JSON world arrays and metadata."""

from __future__ import annotations

import csv
import json

import numpy as np

from app import cli
from app.bvh import forward_kinematics, read_bvh
from app.glb import read_glb
from app.pipeline import PipelineConfig, run_pipeline
from pose_lifting.sequence import csv_header
from pose_lifting.world import WorldConfig
from tests.test_app import checkpoints, keypoints_file  # noqa: F401  (checkpoints is a fixture)


def test_a_run_writes_world_csv_bvh_glb_and_world_arrays(checkpoints, tmp_path):  # noqa: F811
    source = keypoints_file(tmp_path / "walk.npz", frames=60)
    config = PipelineConfig(models=(str(checkpoints["student"]),), world=WorldConfig(fov_deg=50.0))
    result = run_pipeline(source, tmp_path / "out", config)
    label = result.models[0].label
    for key, name in (
        (f"world_csv:{label}", "walk_3d_world.csv"),
        (f"bvh:{label}:0", "walk.bvh"),
        (f"glb:{label}", "walk.glb"),
    ):
        assert result.files[key].name == name and result.files[key].stat().st_size > 0
    with result.files[f"world_csv:{label}"].open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == csv_header() and len(rows) == 61
    world = np.array(rows[1:])[:, 2:].astype(float).reshape(60, 17, 3)
    motion = result.models[0].world[0]
    assert np.allclose(world, motion.poses, atol=1e-4)
    assert np.allclose(world[0, 0, [0, 2]], 0.0, atol=1e-4)  # the pelvis starts above the origin
    # the BVH's root follows the CSV's pelvis (the untrained lifter's bones wobble too much to compare the rest)
    bvh = read_bvh(result.files[f"bvh:{label}:0"])
    assert len(bvh.motion) == 60 and np.allclose(forward_kinematics(bvh)[:, 0], world[:, 0], atol=1e-4)
    document, _ = read_glb(result.files[f"glb:{label}"])
    assert len(document["animations"][0]["channels"]) == 18 + 1  # the joints, the root's path, the camera
    assert [node["name"] for node in document["nodes"]][-1] == "camera"
    with np.load(result.files["npz"]) as data:
        assert data[f"world_poses_3d_{label}"].shape == (1, 60, 17, 3)
        assert data[f"world_contacts_{label}"].shape == (1, 60, 2)
        assert data[f"world_rotation_{label}"].shape == (3, 3)
        assert np.isfinite(data[f"world_camera_height_{label}"])
        assert data[f"world_camera_orientation_{label}"].shape == (60, 3, 3)
        assert data[f"world_scale_{label}"].tolist() == [1.0]
        # a keypoints file has no pictures: a still camera, its orientation the world rotation in every frame
        assert np.allclose(data[f"world_camera_orientation_{label}"], data[f"world_rotation_{label}"], atol=1e-6)
        assert "camera_rotations" not in data
        meta = json.loads(str(data["meta"]))
    summary = meta["world"][label]["shared"]
    assert summary["fov_deg"] == 50.0 and summary["method"] in ("ground", "body")
    assert meta["world"][label]["people"][0]["scale"] == 1.0
    assert summary["focal_source"] == "user" and meta["scene"] is None and meta["camera"] is None
    assert "world" in json.loads(result.files["json"].read_text())


def test_the_cli_takes_a_field_of_view_and_rejects_an_impossible_one(checkpoints, tmp_path, capsys):  # noqa: F811
    source = keypoints_file(tmp_path / "walk.npz", frames=30)
    argv = [str(source), "--out", str(tmp_path / "out"), "--checkpoint", str(checkpoints["student"])]
    assert cli.main(argv + ["--fov", "200"]) == 1
    assert "field of view" in capsys.readouterr().err
    assert cli.main(argv + ["--fov", "70"]) == 0
    assert (tmp_path / "out" / "walk.bvh").is_file()
