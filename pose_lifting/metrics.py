"""Pose-error metrics: MPJPE, P-MPJPE, N-MPJPE, MPJVE, acceleration error, bone-length stability, PCK and AUC.

Inputs are (N, J, 3) arrays in metres; metrics return millimetres (MPJVE: mm per frame), m/s^2 (acceleration
error) or percentages.
"""

from __future__ import annotations

import numpy as np

from pose_lifting.skeleton import bone_lengths


def mpjpe(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean per-joint position error (protocol 1)."""
    return float(np.linalg.norm(pred - target, axis=-1).mean() * 1000)


def procrustes_align(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Align each predicted pose to its target with the best similarity transform (rotation, scale, translation)."""
    mu_t, mu_p = target.mean(axis=1, keepdims=True), pred.mean(axis=1, keepdims=True)
    t, p = target - mu_t, pred - mu_p
    norm_t = np.linalg.norm(t, axis=(1, 2), keepdims=True)
    norm_p = np.linalg.norm(p, axis=(1, 2), keepdims=True)
    t, p = t / norm_t, p / norm_p
    u, s, vt = np.linalg.svd(np.swapaxes(t, 1, 2) @ p)
    v = np.swapaxes(vt, 1, 2)
    rotation = v @ np.swapaxes(u, 1, 2)
    # no reflections: flip the last singular vector where the determinant is negative
    sign = np.sign(np.linalg.det(rotation))
    v[:, :, -1] *= sign[:, None]
    s[:, -1] *= sign
    rotation = v @ np.swapaxes(u, 1, 2)
    scale = s.sum(axis=1)[:, None, None] * norm_t / norm_p
    return scale * (pred - mu_p) @ rotation + mu_t


def p_mpjpe(pred: np.ndarray, target: np.ndarray) -> float:
    """MPJPE after Procrustes alignment (protocol 2)."""
    return mpjpe(procrustes_align(pred, target), target)


def per_joint_p_mpjpe(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(J,) mean error of each joint after Procrustes alignment of every pose (mm)."""
    return np.linalg.norm(procrustes_align(pred, target) - target, axis=-1).mean(axis=0) * 1000


def acceleration_ratio(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean per-joint acceleration magnitude of one sequence's prediction over the truth's (root-relative poses):
    below 1, the lifter moves more slowly and smoothly than the person; above 1, it shakes."""
    return float(np.linalg.norm(np.diff(pred, 2, axis=0), axis=-1).mean()
                 / max(np.linalg.norm(np.diff(target, 2, axis=0), axis=-1).mean(), 1e-12))


def n_mpjpe(pred: np.ndarray, target: np.ndarray) -> float:
    """MPJPE after the best per-pose scale of the prediction (protocol 3)."""
    scale = (pred * target).sum(axis=(1, 2), keepdims=True) / (pred * pred).sum(axis=(1, 2), keepdims=True)
    return mpjpe(scale * pred, target)


def mpjve(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean per-joint velocity error between consecutive frames of one sequence (mm per frame)."""
    return mpjpe(np.diff(pred, axis=0), np.diff(target, axis=0))


def acceleration_error(pred: np.ndarray, target: np.ndarray, fps: float) -> float:
    """Mean per-joint error of the acceleration (second differences x fps^2) of one sequence, m/s^2: how much
    the prediction shakes that the motion does not (HMMR's and VIBE's metric)."""
    return float(np.linalg.norm(np.diff(pred, 2, axis=0) - np.diff(target, 2, axis=0), axis=-1).mean() * fps**2)


def bone_length_std(pred: np.ndarray) -> float:
    """Standard deviation over one sequence's frames of each bone's length, mean over bones (mm): a rigid body's
    bones keep their lengths, so what varies is the lifter's instability."""
    return float(bone_lengths(pred).std(axis=0).mean() * 1000)


PCK_THRESHOLDS_MM = np.linspace(0, 150, 31)  # the MPI-INF-3DHP convention for AUC


def pck(pred: np.ndarray, target: np.ndarray, threshold_mm: float = 150.0) -> float:
    """Percentage of joints within `threshold_mm` of the ground truth."""
    return float((np.linalg.norm(pred - target, axis=-1) * 1000 <= threshold_mm).mean() * 100)


def auc(pred: np.ndarray, target: np.ndarray) -> float:
    """Area under the PCK curve for thresholds 0-150 mm, as a percentage."""
    return float(np.mean([pck(pred, target, t) for t in PCK_THRESHOLDS_MM]))


def all_metrics(
    pred: np.ndarray, target: np.ndarray, sequential: bool = True, fps: float | None = None
) -> dict[str, float]:
    """Every metric for one sequence (MPJVE and bone-length stability only when frames are consecutive, the
    acceleration error also needs their frame rate)."""
    out = {
        "mpjpe": mpjpe(pred, target),
        "p_mpjpe": p_mpjpe(pred, target),
        "n_mpjpe": n_mpjpe(pred, target),
        "pck150": pck(pred, target),
        "auc": auc(pred, target),
    }
    if sequential and len(pred) > 1:
        out["mpjve"] = mpjve(pred, target)
        out["bone_std"] = bone_length_std(pred)
    if sequential and fps and len(pred) > 2:
        out["accel"] = acceleration_error(pred, target, fps)
    return out
