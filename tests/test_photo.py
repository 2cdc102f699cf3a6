"""A photo: one frame through the whole pipeline, everyone in it lifted (the lifter's window, that frame repeated)
and placed in one world, with the outputs that make sense for one frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import ultralytics
from PIL import Image

from app.lifting import load_lifter
from app.pipeline import PipelineConfig, run_pipeline
from pose_lifting.sequence import Pose2DSequence
from tests.test_app import STANDING, checkpoints  # noqa: F401  (checkpoints is a fixture)

BUS = Path(ultralytics.__file__).parent / "assets" / "bus.jpg"  # a street photo with four people


def test_the_lifter_lifts_a_single_frame(checkpoints):  # noqa: F811
    lifter = load_lifter(checkpoints["student"])
    keypoints = STANDING[None, :, :2] * 150 + np.array([320, 240])
    lifted = lifter.lift(Pose2DSequence(keypoints, np.full((1, 17), 0.9), 30.0, 640, 480))
    assert lifted.poses.shape == (1, 17, 3) and np.isfinite(lifted.poses).all()


@pytest.mark.skipif(not BUS.is_file(), reason="ultralytics' bus.jpg is not installed")
def test_a_photo_lifts_everyone_into_one_world_with_pictures_instead_of_videos(checkpoints, tmp_path):  # noqa: F811
    photo = tmp_path / "street.webp"
    Image.open(BUS).save(photo)
    config = PipelineConfig(models=(str(checkpoints["student"]),), all_tracks=True, keypoints="yolo")
    result = run_pipeline(photo, tmp_path / "out", config)
    assert result.num_frames == 1 and len(result.people) >= 3
    assert {"png", "png:3d", "npz", "json", "world_csv:student", "glb:student"} <= set(result.files)
    assert not {"mp4", "gif"} & set(result.files)
    with Image.open(result.files["png"]) as picture:
        assert picture.height == config.video_height and picture.width > picture.height
    worlds = result.models[0].world
    assert all(motion is not None and motion.poses.shape == (1, 17, 3) for motion in worlds)
    assert all(np.array_equal(motion.rotation, worlds[0].rotation) for motion in worlds)  # one world
    with np.load(result.files["npz"]) as data:
        assert data["world_poses_3d_student"].shape == (len(result.people), 1, 17, 3)
        assert np.isfinite(data["world_poses_3d_student"]).all()
