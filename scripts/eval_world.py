"""How well the world frame is recovered: held-out mocap filmed by virtual cameras of known pitch, roll and height.

    python -m scripts.eval_world [--data-dir data] [--model student] [--smoothing phase+savgol] [--exact-only]
                                 [--no-ray-correction]

Each held-out sequence (pose_lifting.data.mocap.HELD_OUT) is projected through four tilted static cameras (pitch
5-25 degrees, roll up to 25), lifted by the shipped lifter from the exact and from detector-like noisy 2D, and
placed in the world by every method of pose_lifting.world, with the true field of view, without the foot lock,
and with the default (phone) field of view. Per method, averaged over the views of each sequence and over all:

- up_deg: angle between the recovered and the true up direction (the person's lean error, degrees);
- camera_height_cm and pelvis_height_cm: errors of the camera's and of the pelvis' height above the ground;
- trajectory_pct: mean horizontal distance between the recovered and the true pelvis path, both in the world
  frame built from the true ground, over the true path's length; path_ratio: recovered / true path length;
- lowest_std_cm: the standard deviation of the lowest joint's height over the sequence (how much the feet bob);
- sliding_cm: horizontal travel of an ankle during one of the mocap's own planted spans (ankle within 5 cm of
  its lowest and under 0.3 m/s), beside the mocap's own (mocap_sliding_cm); contact_agreement: fraction of
  (frame, foot) where the detected contacts agree with those spans.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import gaussian_filter1d

from pose_lifting.camera import cameras_looking_at
from pose_lifting.data.mocap import load_mocap, split
from pose_lifting.generators import AugmentConfig, gaussian_noise
from pose_lifting.lifter import SMOOTHING_METHODS, Lifter, SmoothingConfig
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
            pixels += gaussian_noise(pixels, rng, AugmentConfig())
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


def true_contacts(case: Case, fps: float) -> np.ndarray:
    """(T, 2) the mocap's own planted feet: ankle within 5 cm of its lowest (5th percentile) and under 0.3 m/s."""
    ankles = true_world(case)[:, [JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"]]]
    low = np.percentile(ankles[..., 1], 5, axis=0)
    config = WorldConfig(contact_height_m=0.05, contact_speed_m_s=0.3)
    return detect_contacts(ankles[..., 1] - low, foot_speeds(ankles, np.array([0.0, 1.0, 0.0]), fps), config)


def measure(case: Case, lifted, config: WorldConfig, fps: float) -> dict[str, float]:
    sequence = Pose2DSequence(case.pixels, np.ones(case.pixels.shape[:2]), fps, int(WIDTH), int(HEIGHT))
    motion = world_motion(lifted, sequence, config)
    truth = true_world(case)
    pelvis = JOINT_INDEX["pelvis"]
    est_xz, true_xz = motion.root[:, [0, 2]], truth[:, pelvis, [0, 2]]
    true_path = path_length(true_xz, fps)
    contacts = true_contacts(case, fps)
    return {
        "up_deg": float(np.degrees(np.arccos(np.clip(motion.up_camera @ case.up, -1, 1)))),
        "lowest_std_cm": 100 * float(motion.poses[..., 1].min(axis=1).std()),
        "camera_height_cm": 100 * abs(motion.camera_height_m - case.camera_height),
        "pelvis_height_cm": 100 * float(np.mean(np.abs(motion.root[:, 1] - truth[:, pelvis, 1]))),
        "trajectory_pct": 100 * float(np.linalg.norm(est_xz - true_xz, axis=1).mean()) / max(true_path, 1e-6),
        "path_ratio": path_length(est_xz, fps) / max(true_path, 1e-6),
        "sliding_cm": 100 * foot_sliding(motion.poses, contacts),
        "mocap_sliding_cm": 100 * foot_sliding(truth, contacts),
        "contact_agreement": float((motion.contacts == contacts).mean()),
        "used_ground": float(motion.method == "ground"),
    }


def table(title: str, rows: dict[str, list[dict[str, float]]], groups: dict[str, list[bool]]) -> None:
    """Means per group of views and method, as a Markdown table."""
    print(f"\n{title}")
    keys = list(rows[METHODS[0]][0])
    print("| sequence | method | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 2) + "|")
    for group, members in groups.items():
        for method, results in rows.items():
            chosen = [r for r, member in zip(results, members) if member]
            means = [np.nanmean([r[k] for r in chosen]) for k in keys]
            print(f"| {group} | {method} | " + " | ".join(f"{v:.2f}" for v in means) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--model", default="student")
    parser.add_argument("--smoothing", choices=SMOOTHING_METHODS, help="of the lifted 3D (default: the lifter's)")
    parser.add_argument("--exact-only", action="store_true", help="only the exact 2D (half the time)")
    parser.add_argument("--no-ray-correction", action="store_true", help="WorldConfig.ray_correction off (before)")
    args = parser.parse_args()
    true_fov = float(np.degrees(2 * np.arctan(0.5 / FOCAL)))
    # (title, detector-like noise, world config) of each table; the default FOV is the phone assumption
    variants = [
        ("exact 2D, true FOV", False, WorldConfig(fov_deg=true_fov)),
        ("exact 2D, true FOV, no foot lock", False, WorldConfig(fov_deg=true_fov, foot_lock=False)),
        (f"exact 2D, default FOV ({WorldConfig().fov_deg or 'phone'})", False, WorldConfig()),
        ("noisy 2D, true FOV", True, WorldConfig(fov_deg=true_fov)),
    ]
    _, heldout = split(load_mocap(args.data_dir))
    lifter = Lifter.from_pretrained(args.model, "cpu")
    lifter.smoothing = SmoothingConfig(args.smoothing) if args.smoothing else lifter.smoothing
    fps = heldout[0].fps
    for noise in (False,) if args.exact_only else (False, True):
        views = cases(heldout, noise)
        groups = {"all": [True] * len(views)} | {
            seq.name: [case.name.startswith(seq.name + " ") for case in views] for seq in heldout
        }
        sequences = [Pose2DSequence(c.pixels, np.ones(c.pixels.shape[:2]), fps, int(WIDTH), int(HEIGHT)) for c in views]
        lifted = [lifter.lift(sequence) for sequence in sequences]
        for title, variant_noise, base in variants:
            if variant_noise != noise:
                continue
            base = replace(base, ray_correction=not args.no_ray_correction)
            rows = {m: [measure(c, p, replace(base, method=m), fps) for c, p in zip(views, lifted)] for m in METHODS}
            table(f"model {args.model}, {title} (true {true_fov:.1f} deg), {len(views)} views", rows, groups)


if __name__ == "__main__":
    main()
