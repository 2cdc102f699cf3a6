"""Rotation matrices from Euler angles, axis-angle pairs and quaternions, batched over frames (numpy)."""

from __future__ import annotations

import numpy as np


def axis_rotation(axis: str, angles: np.ndarray) -> np.ndarray:
    """Rotations about one coordinate axis ('x', 'y' or 'z') by `angles` radians (...,) -> (..., 3, 3)."""
    angles = np.asarray(angles, dtype=np.float64)
    c, s = np.cos(angles), np.sin(angles)
    one, zero = np.ones_like(angles), np.zeros_like(angles)
    rows = {
        "x": ((one, zero, zero), (zero, c, -s), (zero, s, c)),
        "y": ((c, zero, s), (zero, one, zero), (-s, zero, c)),
        "z": ((c, -s, zero), (s, c, zero), (zero, zero, one)),
    }[axis.lower()]
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


def euler_rotation(order: str, angles: np.ndarray) -> np.ndarray:
    """Intrinsic Euler rotation R = R_order[0] @ R_order[1] @ ... for angles (..., len(order)) in radians.

    This is the BVH convention: channels "Zrotation Xrotation Yrotation" give R = Rz @ Rx @ Ry, applied to
    column vectors in the joint's frame. For the ASF "axis XYZ" convention (rotate about x, then y, then z
    in the fixed frame) pass the reversed order "ZYX".
    """
    angles = np.asarray(angles, dtype=np.float64)
    result = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3)).copy()
    for k, axis in enumerate(order):
        result = result @ axis_rotation(axis, angles[..., k])
    return result


def quaternion_matrix(wxyz: np.ndarray) -> np.ndarray:
    """Rotation matrices from quaternions (..., 4) stored w, x, y, z (normalised here) -> (..., 3, 3)."""
    q = np.asarray(wxyz, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=-1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=-1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1),
        ],
        axis=-2,
    )


def axis_angle_rotation(axis: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotations by `angles` radians (...,) about one unit `axis` (3,) -> (..., 3, 3) (Rodrigues' formula)."""
    k = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    cross = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    angles = np.asarray(angles, dtype=np.float64)[..., None, None]
    return np.eye(3) + np.sin(angles) * cross + (1.0 - np.cos(angles)) * (cross @ cross)
