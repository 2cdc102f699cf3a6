"""The joint angles' accuracy on held-out mocap: angles from the lifted 3D against angles from the true 3D, and
OpenSim IK of our TRC against OpenSim IK of the true 3D's TRC (docs/angles.md).

    python -m scripts.eval_angles --noise none --max-frames 300 --json docs/runs/angles_exact.json
    python -m scripts.eval_angles --noise blazepose --max-frames 300 --json docs/runs/angles_blazepose.json

Every held-out sequence (pose_lifting.data.mocap.HELD_OUT) through the four static Human3.6M-like cameras of
pose_lifting.evaluate, with exact or detector-like 2D, lifted by `Lifter.lift` (the app's path). The lifted poses
(camera axes, pelvis at 0) are turned into the mocap's world by the true camera rotation and put on the true
pelvis path, so that the numbers measure the lifted pose, not the world step's up (docs/world.md measures that).
Mocap has no heels or foot tips: ankle dorsiflexion is not measured here.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from app.opensim_ik import read_mot, run_opensim
from pose_lifting.angles import ANGLE_NAMES, joint_angles
from pose_lifting.data.mocap import load_mocap, split
from pose_lifting.datasets import HELDOUT_NOISE, YAWS, mocap_views, static_cameras
from pose_lifting.evaluate import lift_view
from pose_lifting.lifter import Lifter
from pose_lifting.skeleton import JOINT_INDEX

SAGITTAL = ("hip_flexion", "knee_angle", "arm_flex", "elbow_flex")  # the coordinates, both sides
HEADINGS = ("pelvis_rotation", "trunk_rotation")  # angles about the vertical: differences wrap at 180


def angle_errors(estimate: np.ndarray, truth: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """Per-name absolute differences (frames,), NaN where either is undefined; headings wrap."""
    out = {}
    for name, a, b in zip(names, estimate.T, truth.T):
        difference = a - b
        if name in HEADINGS:
            difference = (difference + 180.0) % 360.0 - 180.0
        out[name] = np.abs(difference)
    return out


def ik_angles(poses: np.ndarray, fps: float, prefix: Path) -> tuple[list[str], np.ndarray]:
    files = run_opensim(poses, np.arange(len(poses)) / fps, None, prefix)
    names, values = read_mot(files["mot"])
    return names[1:], values[:, 1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="student")
    parser.add_argument("--noise", choices=HELDOUT_NOISE, default="none")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--max-frames", type=int, default=None, help="the first frames of each sequence only")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    lifter = Lifter.from_pretrained(args.model, "cpu")
    _, heldout = split(load_mocap(args.data_dir))
    if args.max_frames:
        heldout = [type(s)(**(vars(s) | {"poses": s.poses[: args.max_frames]})) for s in heldout]
    ours: dict[str, list[np.ndarray]] = {name: [] for name in ANGLE_NAMES}
    ik: dict[str, list[np.ndarray]] = {}
    sagittal = [f"{c}_{s}" for c in SAGITTAL for s in "rl"]
    per_sequence: dict[str, list[float]] = {}
    tick = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for seq in heldout:
            truth = seq.poses.astype(np.float64)
            truth_angles = joint_angles(truth)
            truth_names, truth_ik = ik_angles(truth, seq.fps, Path(folder) / f"{seq.name}_truth")
            cameras = static_cameras(seq.poses, "h36m")
            root = truth[:, JOINT_INDEX["pelvis"]]
            views = mocap_views([seq], ("h36m",), args.noise)
            for c, view in enumerate(views):
                lifted = lift_view(lifter, view).astype(np.float64)
                world = lifted @ cameras.rotation[c] + root[:, None]  # camera axes -> the mocap's world
                for name, error in angle_errors(joint_angles(world), truth_angles, list(ANGLE_NAMES)).items():
                    ours[name].append(error)
                names, values = ik_angles(world, seq.fps, Path(folder) / f"{seq.name}_{c}")
                assert names == truth_names
                errors = angle_errors(values, truth_ik, names)
                for name, error in errors.items():
                    ik.setdefault(name, []).append(error)
                per_sequence.setdefault(seq.name, []).append(float(np.mean([errors[n].mean() for n in sagittal])))
                print(f"{seq.name} camera {int(YAWS[c])}: done ({time.perf_counter() - tick:.0f} s)", flush=True)
    ours_mae = {name: float(np.nanmean(np.concatenate(v))) for name, v in ours.items() if np.isfinite(
        np.concatenate(v)).any()}
    ik_mae = {name: float(np.nanmean(np.concatenate(v))) for name, v in ik.items()}
    result = {
        "model": args.model,
        "noise": args.noise,
        "frames": int(sum(len(s) for s in heldout)),
        "views": 4 * len(heldout),
        "angles_mae_deg": ours_mae,
        "ik_mae_deg": ik_mae,
        "ik_sagittal_mae_deg": float(np.mean([ik_mae[name] for name in sagittal])),
        "ik_sagittal_mae_deg_per_sequence": {name: float(np.mean(v)) for name, v in per_sequence.items()},
        "angles_sagittal_mae_deg": float(np.mean([ours_mae[n] for n in (
            "hip_flexion_r", "hip_flexion_l", "knee_flexion_r", "knee_flexion_l", "shoulder_flexion_r",
            "shoulder_flexion_l", "elbow_flexion_r", "elbow_flexion_l")])),
    }
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
