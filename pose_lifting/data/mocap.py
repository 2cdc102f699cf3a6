"""Prepared real mocap for training: `MocapSequence`, `load_mocap` and the one held-out split.

`python -m pose_lifting.data.prepare` writes `<data>/mocap/<name>.npz` (poses float32 (T, 17, 3) in metres,
right-handed Y up, Human3.6M order, 30 fps, torso by `complete_torso`) and `<data>/mocap/index.json`.

Held out (no training run may touch them), whole sequences from three sources:
- "cmu_01_01": CMU subject 01, trial 01. assimp's `01_01.bvh` is the same take; it is never converted.
- "climb_4": climbing sequence 4.
- "mocapbank": the mocapbank clip, a performer and rig found nowhere else in the data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_lifting.skeleton import NUM_JOINTS

HELD_OUT: tuple[str, ...] = ("cmu_01_01", "climb_4", "mocapbank")
MOCAP_DIR = "mocap"
INDEX_FILE = "index.json"


@dataclass
class MocapSequence:
    """One real motion in the Human3.6M 17-joint layout."""

    name: str
    source: str  # key of sources.SOURCES
    subject: str
    poses: np.ndarray  # (T, 17, 3) float32, metres, right-handed, Y up
    fps: float  # always convert.MOCAP_FPS for prepared data
    licence: str
    original_fps: float = 0.0

    def __post_init__(self) -> None:
        self.poses = np.asarray(self.poses, dtype=np.float32)
        if self.poses.ndim != 3 or self.poses.shape[1:] != (NUM_JOINTS, 3):
            raise ValueError(f"{self.name}: poses must be (T, {NUM_JOINTS}, 3), got {self.poses.shape}")

    def __len__(self) -> int:
        return len(self.poses)

    @property
    def seconds(self) -> float:
        return len(self) / self.fps


def save_sequence(sequence: MocapSequence, path: Path) -> None:
    """Write one sequence as .npz (poses plus its metadata as 0-d arrays)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        poses=sequence.poses,
        fps=np.float32(sequence.fps),
        source=sequence.source,
        subject=sequence.subject,
        licence=sequence.licence,
        original_fps=np.float32(sequence.original_fps),
    )


def read_sequence(path: Path) -> MocapSequence:
    """Read one .npz written by `save_sequence`; the file stem is the sequence name."""
    with np.load(path) as data:
        return MocapSequence(
            name=path.stem,
            source=str(data["source"]),
            subject=str(data["subject"]),
            poses=data["poses"],
            fps=float(data["fps"]),
            licence=str(data["licence"]),
            original_fps=float(data["original_fps"]),
        )


def load_mocap(data_dir: str | Path = "data") -> list[MocapSequence]:
    """All prepared sequences under `<data_dir>/mocap`, sorted by name (training and held-out alike)."""
    folder = Path(data_dir) / MOCAP_DIR
    paths = sorted(folder.glob("*.npz"))
    if not paths:
        raise FileNotFoundError(f"no prepared mocap in {folder}: run `python -m pose_lifting.data.prepare`")
    return [read_sequence(path) for path in paths]


def split(sequences: list[MocapSequence]) -> tuple[list[MocapSequence], list[MocapSequence]]:
    """(training sequences, held-out sequences) by `HELD_OUT`."""
    train = [s for s in sequences if s.name not in HELD_OUT]
    held_out = [s for s in sequences if s.name in HELD_OUT]
    return train, held_out


def write_index(sequences: list[MocapSequence], data_dir: str | Path = "data") -> Path:
    """Write `<data_dir>/mocap/index.json`: one entry per sequence with its metadata and split."""
    path = Path(data_dir) / MOCAP_DIR / INDEX_FILE
    entries = [
        {
            "name": s.name,
            "source": s.source,
            "subject": s.subject,
            "frames": len(s),
            "seconds": round(s.seconds, 2),
            "fps": s.fps,
            "original_fps": s.original_fps,
            "licence": s.licence,
            "split": "held_out" if s.name in HELD_OUT else "train",
        }
        for s in sequences
    ]
    path.write_text(json.dumps({"held_out": list(HELD_OUT), "sequences": entries}, indent=1) + "\n")
    return path
