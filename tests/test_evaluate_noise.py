"""`python -m pose_lifting.evaluate --noise none|gaussian|detector --noise-strength S --smoothing M` on small
synthetic mocap."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pose_lifting import evaluate
from pose_lifting.lifter import save_checkpoint
from pose_lifting.model import LifterConfig, PoseLifter
from pose_lifting.normalization import InputConfig
from tests.synthetic_data import write_mocap


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("noise")
    torch.manual_seed(0)
    model = PoseLifter(LifterConfig(receptive_field=9, stride=3, embed_dim=4, num_heads=2, depth=1, upsample_head=True))
    return write_mocap(folder / "data"), save_checkpoint(folder / "tiny.pt", model, InputConfig(), "tiny")


def run(setup, tmp_path, *flags: str) -> dict:
    data, checkpoint = setup
    out = tmp_path / "out.json"
    evaluate.main(
        [str(checkpoint), "--data-dir", str(data), "--device", "cpu", "--cameras", "h36m", "--json", str(out), *flags]
    )
    return json.loads(out.read_text())[0]


def test_the_noise_option_chooses_the_2d_errors(setup, tmp_path, capsys) -> None:
    exact = run(setup, tmp_path, "--smoothing", "none")
    gaussian = run(setup, tmp_path, "--noise", "--smoothing", "none")  # a bare --noise: the old behaviour
    detector = run(setup, tmp_path, "--noise", "detector", "--noise-strength", "1.5", "--smoothing", "none")
    clean = run(setup, tmp_path, "--noise", "detector", "--noise-strength", "0", "--smoothing", "none")
    assert (exact["noise"], gaussian["noise"], detector["noise"]) == ("none", "gaussian", "detector")
    assert detector["noise_strength"] == 1.5 and "noise_strength" not in gaussian
    for result in (exact, gaussian, detector):
        assert result["overall"]["frames"] == 3 * 4 * 30 and result["smoothing"] == "none"
        for key in ("mpjpe", "p_mpjpe", "mpjve", "accel", "bone_std"):
            assert np.isfinite(result["overall"][key])
    assert detector["overall"]["accel"] > exact["overall"]["accel"]  # the errors reach the 3D
    assert gaussian["overall"]["mpjpe"] != exact["overall"]["mpjpe"]
    assert clean["overall"]["mpjpe"] == pytest.approx(exact["overall"]["mpjpe"], abs=2.0)  # strength 0: exact 2D
    assert "accel" in capsys.readouterr().out


def test_smoothing_defaults_to_the_lifters_and_lowers_the_acceleration_error(setup, tmp_path) -> None:
    raw = run(setup, tmp_path, "--noise", "detector", "--smoothing", "none")
    default = run(setup, tmp_path, "--noise", "detector")
    assert default["smoothing"] == "phase+savgol+bones"
    assert default["overall"]["accel"] < raw["overall"]["accel"]
