"""Small synthetic data for tests: a standing skeleton, walking mocap sequences, Human3.6M-format files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pose_lifting.data.h36m import TEST_SUBJECTS, TRAIN_SUBJECTS
from pose_lifting.data.mocap import HELD_OUT, MocapSequence, save_sequence, write_index
from pose_lifting.skeleton import JOINT_INDEX, JOINT_NAMES

# A person standing in a right-handed Y-up world, metres, facing +Z: their left is +X (knees and nose point +Z).
STANDING = {
    "pelvis": (0.0, 1.0, 0.0),
    "right_hip": (-0.1, 1.0, 0.0),
    "right_knee": (-0.1, 0.55, 0.03),
    "right_ankle": (-0.1, 0.1, 0.0),
    "left_hip": (0.1, 1.0, 0.0),
    "left_knee": (0.1, 0.55, 0.03),
    "left_ankle": (0.1, 0.1, 0.0),
    "spine": (0.0, 1.25, 0.0),
    "thorax": (0.0, 1.5, 0.0),
    "neck_nose": (0.0, 1.6, 0.08),
    "head": (0.0, 1.72, 0.0),
    "left_shoulder": (0.18, 1.45, 0.0),
    "left_elbow": (0.2, 1.18, 0.0),
    "left_wrist": (0.22, 0.92, 0.05),
    "right_shoulder": (-0.18, 1.45, 0.0),
    "right_elbow": (-0.2, 1.18, 0.0),
    "right_wrist": (-0.22, 0.92, 0.05),
}
STANDING_POSE = np.array([STANDING[name] for name in JOINT_NAMES], dtype=np.float32)  # (17, 3)


def yaw_matrix(angle: float) -> np.ndarray:
    """Rotation by `angle` radians about the world's Y (up) axis; +Z turns towards +X."""
    cos, sin = np.cos(angle), np.sin(angle)
    return np.array([[cos, 0.0, sin], [0.0, 1.0, 0.0], [-sin, 0.0, cos]])


def walking(frames: int, seed: int) -> np.ndarray:
    """(T, 17, 3) a person walking forward with swinging legs and arms, turned to a random heading."""
    rng = np.random.default_rng(seed)
    phase = np.linspace(0, 4 * np.pi, frames)[:, None]
    poses = np.repeat(STANDING_POSE[None], frames, axis=0).astype(np.float64)
    j = JOINT_INDEX
    for side, sign in (("left", 1.0), ("right", -1.0)):
        swing = sign * np.sin(phase)
        poses[:, [j[f"{side}_knee"]], 2] += 0.15 * swing
        poses[:, [j[f"{side}_ankle"]], 2] += 0.3 * swing
        poses[:, [j[f"{side}_wrist"]], 2] -= 0.2 * swing
    poses[..., 2] += np.linspace(0, 2.0, frames)[:, None]  # walking forward 2 m
    poses = poses @ yaw_matrix(rng.uniform(0, 2 * np.pi)).T
    return (poses + rng.normal(scale=0.005, size=poses.shape)).astype(np.float32)


def write_mocap(data_dir: Path, train_frames: int = 60, heldout_frames: int = 30) -> Path:
    """`<data_dir>/mocap/*.npz` and index.json as `pose_lifting.data.prepare` writes them: three training
    sequences and the held-out names."""
    names = [(f"walk_{i}", train_frames) for i in range(3)] + [(name, heldout_frames) for name in HELD_OUT]
    sequences = [
        MocapSequence(name, f"source_{seed % 2}", "s", walking(frames, seed), 30.0, "test")
        for seed, (name, frames) in enumerate(names)
    ]
    for sequence in sequences:
        save_sequence(sequence, data_dir / "mocap" / f"{sequence.name}.npz")
    write_index(sequences, data_dir)
    return data_dir


H36M_ACTIONS = ("Walking", "Sitting 1")


def write_h36m_files(folder: Path, frames: int = 10) -> tuple[Path, Path]:
    """data_3d_h36m.npz (32 joints, joint j at height j cm) and data_2d_h36m_gt.npz (4 cameras, 17 joints)."""
    rng = np.random.default_rng(0)
    positions_3d, positions_2d = {}, {}
    for subject in (*TRAIN_SUBJECTS, *TEST_SUBJECTS):
        positions_3d[subject], positions_2d[subject] = {}, {}
        for action in H36M_ACTIONS:
            world = np.zeros((frames, 32, 3), dtype=np.float32)
            world[:, :, 2] = np.arange(32) / 100.0
            positions_3d[subject][action] = world
            # one camera's detections are a frame shorter, as in the real detection files
            positions_2d[subject][action] = [rng.uniform(0, 1000, (frames - (c == 2), 17, 2)) for c in range(4)]
    metadata = {"layout_name": "h36m", "num_joints": 17, "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3]]}
    path_3d, path_2d = folder / "data_3d_h36m.npz", folder / "data_2d_h36m_gt.npz"
    np.savez_compressed(path_3d, positions_3d=positions_3d)
    np.savez_compressed(path_2d, positions_2d=positions_2d, metadata=metadata)
    return path_3d, path_2d
