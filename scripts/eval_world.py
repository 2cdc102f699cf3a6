"""How well the world frame is recovered: held-out mocap filmed by virtual cameras of known pitch, roll and height.

    python -m scripts.eval_world [--data-dir data] [--model student] [--noise] [--fov-known | --fov DEG]

Each held-out sequence (pose_lifting.data.mocap.HELD_OUT) is projected through tilted static cameras, lifted by
the shipped lifter from the exact (or detector-like noisy) 2D, and placed in the world by every method of
pose_lifting.world. Per method, averaged over sequences and cameras:

- up error: angle between the recovered and the true up direction (degrees);
- camera height error (cm), and the error of the pelvis' height above the ground (cm);
- trajectory error: mean horizontal distance between the recovered and the true pelvis path, both in the world
  frame built from the true ground, divided by the true path's length (%), and the ratio of the path lengths;
- foot sliding: horizontal travel of an ankle during one detected contact (cm), beside the mocap's own.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import gaussian_filter1d

from pose_lifting.camera import cameras_looking_at
from pose_lifting.data.mocap import load_mocap, split
from pose_lifting.generators import AugmentConfig, add_detector_noise
from pose_lifting.lifter import Lifter
from pose_lifting.sequence import Pose2DSequence
from pose_lifting.skeleton import JOINT_INDEX
from pose_lifting.world import (
    METHODS,
    WorldConfig,
    detect_contacts,
    foot_sliding,
    foot_speeds,
    world_motion,
    world_rotation,
)

# (yaw, pitch, roll) in degrees: level, looking down, a tilted hand-held phone
CAMERAS = ((45.0, 5.0, 0.0), (135.0, 20.0, 10.0), (225.0, 25.0, 25.0), (315.0, 15.0, -20.0))
WIDTH, HEIGHT, FOCAL = 1000.0, 562.0, 0.9  # landscape 16:9, focal = 0.9 x width (58 degrees across)
DISTANCE_M = 4.0  # beyond the subject's travel from its mean position


@dataclass
class Case:
    """One sequence through one camera: the 2D, the truth in camera axes, and the camera's true up and height."""

    name: str
    pixels: np.ndarray  # (T, 17, 2)
    camera_poses: np.ndarray  # (T, 17, 3) absolute, camera axes
    up: np.ndarray  # (3,) true up in camera axes
    camera_height: float


def cases(sequences, noise: bool) -> list[Case]:
    rng = np.random.default_rng(0)
    out = []
    for seq in sequences:
        pelvis = seq.poses[:, JOINT_INDEX["pelvis"]]
        travel = np.linalg.norm(pelvis[:, [0, 2]] - pelvis[:, [0, 2]].mean(axis=0), axis=1).max()
        yaw, pitch, roll = (np.radians(np.array(values)) for values in zip(*CAMERAS))
        n = len(CAMERAS)
        target = np.repeat(pelvis.mean(axis=0, keepdims=True), n, axis=0)
        distance, focal = np.full(n, DISTANCE_M + travel), np.full(n, FOCAL * WIDTH)
        cameras = cameras_looking_at(target, yaw, pitch, roll, distance, focal, np.full(n, WIDTH), np.full(n, HEIGHT))
        points = cameras.to_camera(np.repeat(seq.poses[None].astype(np.float64), n, axis=0))
        pixels = cameras.project(points).astype(np.float32)
        if noise:
            pixels += add_detector_noise(pixels, rng, AugmentConfig())
        for c in range(n):
            up = cameras.rotation[c] @ np.array([0.0, 1.0, 0.0])
            out.append(Case(f"{seq.name} cam{c}", pixels[c], points[c], up, float(cameras.centre[c, 1])))
    return out


def true_world(case: Case) -> np.ndarray:
    """The truth in the world frame of pose_lifting.world, built from the true up and the ground at y = 0."""
    rotation = world_rotation(case.up)
    pelvis = case.camera_poses[0, JOINT_INDEX["pelvis"]]
    ground = -case.camera_height  # the ground plane's offset along up, from the camera
    origin = pelvis - (pelvis @ case.up - ground) * case.up
    return (case.camera_poses - origin) @ rotation.T


def path_length(xz: np.ndarray, fps: float) -> float:
    smooth = gaussian_filter1d(xz, 0.25 * fps, axis=0, mode="nearest")
    return float(np.linalg.norm(np.diff(smooth, axis=0), axis=1).sum())


def measure(case: Case, lifted, config: WorldConfig, fps: float) -> dict[str, float]:
    sequence = Pose2DSequence(case.pixels, np.ones(case.pixels.shape[:2]), fps, int(WIDTH), int(HEIGHT))
    motion = world_motion(lifted, sequence, config)
    truth = true_world(case)
    pelvis = JOINT_INDEX["pelvis"]
    est_xz, true_xz = motion.root[:, [0, 2]], truth[:, pelvis, [0, 2]]
    true_path = path_length(true_xz, fps)
    return {
        "up_deg": float(np.degrees(np.arccos(np.clip(motion.up_camera @ case.up, -1, 1)))),
        "camera_height_cm": 100 * abs(motion.camera_height_m - case.camera_height),
        "pelvis_height_cm": 100 * float(np.mean(np.abs(motion.root[:, 1] - truth[:, pelvis, 1]))),
        "trajectory_pct": 100 * float(np.linalg.norm(est_xz - true_xz, axis=1).mean()) / max(true_path, 1e-6),
        "path_ratio": path_length(est_xz, fps) / max(true_path, 1e-6),
        "sliding_cm": 100 * foot_sliding(motion.poses, motion.contacts),
        "used_ground": float(motion.method == "ground"),
    }


def truth_sliding(case: Case, fps: float, config: WorldConfig) -> float:
    """The mocap's own ankle travel per contact, contacts detected on the truth with the same thresholds."""
    truth = true_world(case)
    ankles = truth[:, [JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"]]]
    up = np.array([0.0, 1.0, 0.0])
    contacts = detect_contacts(ankles[..., 1] - config.ankle_height_m, foot_speeds(ankles, up, fps), config)
    return 100 * foot_sliding(truth, contacts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--model", default="student")
    parser.add_argument("--noise", action="store_true", help="detector-like noise on the 2D")
    parser.add_argument("--fov", type=float, default=None, help="assumed horizontal FOV (default: the true one)")
    parser.add_argument("--no-foot-lock", action="store_true")
    args = parser.parse_args()
    true_fov = float(np.degrees(2 * np.arctan(0.5 / FOCAL)))
    base = WorldConfig(fov_deg=args.fov or true_fov, foot_lock=not args.no_foot_lock)
    _, heldout = split(load_mocap(args.data_dir))
    lifter = Lifter.from_pretrained(args.model, "cpu")
    all_cases = cases(heldout, args.noise)
    fps = heldout[0].fps
    rows: dict[str, list[dict[str, float]]] = {method: [] for method in METHODS}
    for case in all_cases:
        sequence = Pose2DSequence(case.pixels, np.ones(case.pixels.shape[:2]), fps, int(WIDTH), int(HEIGHT))
        lifted = lifter.lift(sequence, flip_test=True)
        for method in METHODS:
            result = measure(case, lifted, replace(base, method=method), fps)
            rows[method].append(result)
            print(f"{case.name:22s} {method:8s} " + " ".join(f"{k} {v:6.2f}" for k, v in result.items()), flush=True)
    noise = "noisy" if args.noise else "exact"
    print(f"\nmodel {args.model}, {noise} 2D, assumed FOV {base.fov_deg:.1f} deg (true {true_fov:.1f}), ", end="")
    print(f"foot lock {base.foot_lock}, {len(all_cases)} views")
    keys = list(rows[METHODS[0]][0])
    print("| method | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for method, results in rows.items():
        print(f"| {method} | " + " | ".join(f"{np.nanmean([r[k] for r in results]):.2f}" for k in keys) + " |")
    print(f"mocap's own sliding: {np.nanmean([truth_sliding(c, fps, base) for c in all_cases]):.2f} cm per contact")


if __name__ == "__main__":
    main()
