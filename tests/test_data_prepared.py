"""Checks on the real prepared mocap in data/mocap, after `python -m pose_lifting.data.prepare` (else skipped)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pose_lifting.data.convert import MOCAP_FPS, knee_forwardness, sanity_problems
from pose_lifting.data.mocap import HELD_OUT, load_mocap, split
from pose_lifting.skeleton import JOINT_INDEX

DATA = Path(__file__).resolve().parents[1] / "data"
pytestmark = pytest.mark.skipif(not (DATA / "mocap" / "index.json").is_file(), reason="no prepared mocap in data/")


@pytest.fixture(scope="module")
def sequences():
    return load_mocap(DATA)


def test_every_prepared_sequence_is_plausible(sequences) -> None:
    for sequence in sequences:
        assert sequence.fps == MOCAP_FPS and sequence.poses.shape[1:] == (17, 3)
        assert sanity_problems(sequence.poses) == [], sequence.name
        assert knee_forwardness(sequence.poses) > 0.02, sequence.name
        femur = np.linalg.norm(
            sequence.poses[:, JOINT_INDEX["left_hip"]] - sequence.poses[:, JOINT_INDEX["left_knee"]], axis=-1
        )
        assert 0.35 <= np.median(femur) <= 0.5, sequence.name


def test_index_matches_the_files_and_the_split(sequences) -> None:
    index = json.loads((DATA / "mocap" / "index.json").read_text())
    assert {entry["name"] for entry in index["sequences"]} == {s.name for s in sequences}
    assert index["held_out"] == list(HELD_OUT)
    train, held_out = split(sequences)
    assert {s.name for s in held_out} <= set(HELD_OUT) and not {s.name for s in train} & set(HELD_OUT)
