"""How well training poses cover test poses: each test pose's distance to its nearest training pose after a
similarity Procrustes fit (rotation, scale, translation), in mm per joint (issue 44).

A lifter interpolates between the poses it has seen; a test pose far from all of them is where it guesses. The
16 joints other than the pelvis are compared (the pelvis is the root the others hang from). The nearest pose is
found by the closed form of the similarity fit (normalised shapes: residual 1 - (s1 + s2 + d s3)^2 from the
singular values of their cross-covariance, d the sign of its determinant), then measured as the mean per-joint
distance after `metrics.procrustes_align`, the same alignment as P-MPJPE.
"""

from __future__ import annotations

import numpy as np
import torch

from pose_lifting.metrics import procrustes_align
from pose_lifting.skeleton import JOINT_INDEX, NUM_JOINTS

COVERAGE_JOINTS = tuple(j for j in range(NUM_JOINTS) if j != JOINT_INDEX["pelvis"])


def _normalised(poses: np.ndarray) -> torch.Tensor:
    """(N, K, 3) shapes: centred, unit Frobenius norm, float32."""
    shapes = torch.from_numpy(np.asarray(poses, dtype=np.float32))
    shapes = shapes - shapes.mean(dim=1, keepdim=True)
    return shapes / shapes.flatten(1).norm(dim=1).clamp_min(1e-9)[:, None, None]


def nearest_poses(test: np.ndarray, train: np.ndarray, chunk: int = 32) -> np.ndarray:
    """(N,) index into `train` (M, 17, 3) of the pose nearest to each of `test` (N, 17, 3) after a similarity fit."""
    joints = list(COVERAGE_JOINTS)
    queries, pool = _normalised(test[:, joints]), _normalised(train[:, joints])
    nearest = []
    with torch.no_grad():
        for start in range(0, len(queries), chunk):
            cross = torch.einsum("nkc,mkd->nmcd", queries[start : start + chunk], pool)
            singular = torch.linalg.svdvals(cross)
            fit = singular[..., 0] + singular[..., 1] + torch.sign(torch.linalg.det(cross)) * singular[..., 2]
            nearest.append(fit.argmax(dim=1).numpy())
    return np.concatenate(nearest)


def nearest_pose_distance(test: np.ndarray, train: np.ndarray) -> np.ndarray:
    """(N,) mm: each test pose's mean per-joint distance to its nearest training pose after a similarity fit."""
    joints = list(COVERAGE_JOINTS)
    match = train[nearest_poses(test, train)][:, joints].astype(np.float64)
    target = test[:, joints].astype(np.float64)
    return np.linalg.norm(procrustes_align(match, target) - target, axis=-1).mean(axis=1) * 1000
