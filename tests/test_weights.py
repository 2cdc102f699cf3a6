"""The shipped weights: each loads with one call, lifts, is small fp16, and its card shows its measured metrics."""

import json

import pytest
import torch

from app.pipeline import model_choices
from pose_lifting.lifter import WEIGHTS_DIR, Lifter

SHIPPED = sorted(WEIGHTS_DIR.glob("*.pt"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_weights_load_lift_and_match_their_card(path):
    lifter = Lifter.from_pretrained(path.stem, device="cpu")
    config = lifter.model.config
    with torch.no_grad():
        pose = lifter.model(torch.zeros(2, config.num_frames, config.num_joints, 2))
    assert pose.shape == (2, config.num_joints, 3) and torch.isfinite(pose).all()

    assert path.stat().st_size < 20e6
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    assert all(value.dtype == torch.float16 for value in state.values())

    card = path.with_suffix(".md").read_text()
    metrics = json.loads(path.with_suffix(".json").read_text())
    for setting, result in metrics.items():
        cameras, overall = ", ".join(result["cameras"]), result["overall"]
        assert f"| {setting} | {cameras} | {overall['mpjpe']:.1f} | {overall['p_mpjpe']:.1f} |" in card
    assert "python -m pose_lifting.train" in card and "licence" in card


def test_the_app_offers_the_teacher_against_student_view_with_the_shipped_pair():
    choices = model_choices()
    assert list(choices)[:2] == ["student", "teacher"] and choices["both"] == ("student", "teacher")
    assert {path.stem for path in SHIPPED} <= set(choices)
