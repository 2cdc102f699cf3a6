"""Pose-error metrics in millimetres: MPJPE, P-MPJPE, N-MPJPE, MPJVE, PCK and AUC.

Inputs are (N, J, 3) arrays in metres; all metrics return millimetres or percentages.
"""

from __future__ import annotations

import numpy as np


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


def n_mpjpe(pred: np.ndarray, target: np.ndarray) -> float:
    """MPJPE after the best per-pose scale of the prediction (protocol 3)."""
    scale = (pred * target).sum(axis=(1, 2), keepdims=True) / (pred * pred).sum(axis=(1, 2), keepdims=True)
    return mpjpe(scale * pred, target)


def mpjve(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean per-joint velocity error between consecutive frames of one sequence (mm per frame)."""
    return mpjpe(np.diff(pred, axis=0), np.diff(target, axis=0))


PCK_THRESHOLDS_MM = np.linspace(0, 150, 31)  # the MPI-INF-3DHP convention for AUC


def pck(pred: np.ndarray, target: np.ndarray, threshold_mm: float = 150.0) -> float:
    """Percentage of joints within `threshold_mm` of the ground truth."""
    return float((np.linalg.norm(pred - target, axis=-1) * 1000 <= threshold_mm).mean() * 100)


def auc(pred: np.ndarray, target: np.ndarray) -> float:
    """Area under the PCK curve for thresholds 0-150 mm, as a percentage."""
    return float(np.mean([pck(pred, target, t) for t in PCK_THRESHOLDS_MM]))


def all_metrics(pred: np.ndarray, target: np.ndarray, sequential: bool = True) -> dict[str, float]:
    """Every metric for one sequence (MPJVE only when frames are consecutive)."""
    out = {
        "mpjpe": mpjpe(pred, target),
        "p_mpjpe": p_mpjpe(pred, target),
        "n_mpjpe": n_mpjpe(pred, target),
        "pck150": pck(pred, target),
        "auc": auc(pred, target),
    }
    if sequential and len(pred) > 1:
        out["mpjve"] = mpjve(pred, target)
    return out
