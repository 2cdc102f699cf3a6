"""Human3.6M in VideoPose3D's files: 3D poses, 2D keypoints per camera, camera calibration, the standard split.

- `data_3d_h36m.npz`: `positions_3d[subject][action]` -> (T, 32, 3) metres, world coordinates (Z up).
- `data_2d_h36m_<detections>.npz`: `positions_2d[subject][action]` -> 4 arrays (T, 17, 2) pixels, one per camera
  in the order of the calibration, and `metadata` (num_joints, keypoints_symmetry, layout_name).
- Cameras: `h36m_cameras.json` beside this module (the dataset's published calibration, see its "about"), or
  a JSON file of the same structure given by the user (`--cameras`).

`iterate_clips` pairs them per (subject, action, camera): 2D pixels, 3D in that camera's coordinates (metres,
x right, y down, z forward), image size. Protocol: train on S1, S5, S6, S7, S8; test on S9, S11. The 17 joints
are those of `pose_lifting.skeleton` (VideoPose3D's order); 32-joint arrays keep `KEEP_JOINTS`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_lifting.data.rotations import quaternion_matrix
from pose_lifting.skeleton import NUM_JOINTS, complete_torso

KEEP_JOINTS: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
TRAIN_SUBJECTS: tuple[str, ...] = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS: tuple[str, ...] = ("S9", "S11")
DEFAULT_CAMERAS = Path(__file__).with_name("h36m_cameras.json")


@dataclass
class Camera:
    """One calibrated Human3.6M camera (distortion listed for completeness; the 2D files are already pixels)."""

    id: str
    width: int
    height: int
    focal_length: np.ndarray  # (2,) pixels
    center: np.ndarray  # (2,) pixels
    radial_distortion: np.ndarray  # (3,)
    tangential_distortion: np.ndarray  # (2,)
    rotation: np.ndarray  # (3, 3) camera-to-world
    position: np.ndarray  # (3,) camera centre in world coordinates, metres

    def world_to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (..., 3) metres -> this camera's coordinates R^T (X - c) (x right, y down, z forward)."""
        return (np.asarray(points, dtype=np.float64) - self.position) @ self.rotation


def load_cameras(path: str | Path = DEFAULT_CAMERAS) -> dict[str, list[Camera]]:
    """Cameras per subject from a calibration JSON ("intrinsics": 4 cameras, "extrinsics": subject -> 4 poses)."""
    spec = json.loads(Path(path).read_text())
    cameras = {}
    for subject, poses in spec["extrinsics"].items():
        cameras[subject] = [
            Camera(
                id=str(intrinsic["id"]),
                width=int(intrinsic["res_w"]),
                height=int(intrinsic["res_h"]),
                focal_length=np.array(intrinsic["focal_length"], dtype=np.float64),
                center=np.array(intrinsic["center"], dtype=np.float64),
                radial_distortion=np.array(intrinsic.get("radial_distortion", [0, 0, 0]), dtype=np.float64),
                tangential_distortion=np.array(intrinsic.get("tangential_distortion", [0, 0]), dtype=np.float64),
                rotation=quaternion_matrix(np.array(pose["orientation"])),
                position=np.array(pose["translation"], dtype=np.float64) / 1000.0,  # millimetres -> metres
            )
            for intrinsic, pose in zip(spec["intrinsics"], poses, strict=True)
        ]
    return cameras


def select_17(joints: np.ndarray) -> np.ndarray:
    """Human3.6M's 32 joints (..., 32, D) -> the 17 of the lifter; 17-joint arrays pass unchanged."""
    if joints.shape[-2] == NUM_JOINTS:
        return joints
    if joints.shape[-2] != 32:
        raise ValueError(f"expected 32 or {NUM_JOINTS} joints, got {joints.shape[-2]}")
    return joints[..., KEEP_JOINTS, :]


def load_poses_3d(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """`positions_3d` of a data_3d_h36m.npz: subject -> action -> (T, 17, 3) metres, world coordinates."""
    with np.load(path, allow_pickle=True) as data:
        positions = data["positions_3d"].item()
    return {
        subject: {action: select_17(np.asarray(poses, dtype=np.float32)) for action, poses in actions.items()}
        for subject, actions in positions.items()
    }


def load_poses_2d(path: str | Path) -> tuple[dict[str, dict[str, list[np.ndarray]]], dict]:
    """`positions_2d` of a data_2d_h36m_<det>.npz (subject -> action -> per-camera (T, 17, 2) pixels), metadata."""
    with np.load(path, allow_pickle=True) as data:
        positions = data["positions_2d"].item()
        metadata = data["metadata"].item() if "metadata" in data.files else {}
    layout = metadata.get("layout_name", "h36m")
    if layout not in ("h36m", "gt"):
        raise ValueError(f"{path}: keypoint layout {layout!r}; only Human3.6M-layout keypoints are read")
    keypoints = {
        subject: {
            action: [select_17(np.asarray(view, dtype=np.float32)[..., :2]) for view in views]
            for action, views in actions.items()
        }
        for subject, actions in positions.items()
    }
    return keypoints, metadata


@dataclass
class H36MClip:
    """One (subject, action, camera) of Human3.6M: matching 2D and 3D, trimmed to the same length."""

    subject: str
    action: str
    camera_index: int
    keypoints: np.ndarray  # (T, 17, 2) pixels
    poses: np.ndarray  # (T, 17, 3) metres, camera coordinates
    width: int
    height: int


def iterate_clips(
    poses_3d_path: str | Path,
    poses_2d_path: str | Path,
    cameras_path: str | Path = DEFAULT_CAMERAS,
    subjects: tuple[str, ...] = TRAIN_SUBJECTS,
    torso_from_limbs: bool = False,
) -> Iterator[H36MClip]:
    """Yield every (subject, action, camera) of `subjects` present in both files.

    Where the 2D and 3D of an action differ in length (the detection files are a few frames shorter for some
    actions), both are cut to the shorter one. `torso_from_limbs` applies `skeleton.complete_torso` to the 2D
    and 3D, the convention of the mocap training data and of the detector's remap; off, Human3.6M's own torso
    joints stay (the standard protocol).
    """
    poses_3d = load_poses_3d(poses_3d_path)
    keypoints, _ = load_poses_2d(poses_2d_path)
    cameras = load_cameras(cameras_path)
    for subject in subjects:
        for action in sorted(set(poses_3d.get(subject, {})) & set(keypoints.get(subject, {}))):
            world = poses_3d[subject][action]
            for index, (view, camera) in enumerate(zip(keypoints[subject][action], cameras[subject], strict=True)):
                length = min(len(view), len(world))
                points_2d = view[:length].astype(np.float32)
                points_3d = camera.world_to_camera(world[:length]).astype(np.float32)
                if torso_from_limbs:
                    complete_torso(points_2d)
                    complete_torso(points_3d)
                yield H36MClip(subject, action, index, points_2d, points_3d, camera.width, camera.height)
