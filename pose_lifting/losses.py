"""The SCJD losses (paper Eqs. 1-8) and the pose-error metrics.

Shapes: B windows, f^S student frames, f^T teacher frames, J joints, C^S / C^T feature widths.
The teacher is frozen: its features arrive detached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class DistillConfig:
    """Weights and schedule of the SCJD objective, paper defaults (Sec. IV-A)."""

    alpha: float = 1.0  # L_emb
    beta: float = 1.0  # L_attn
    gamma: float = 0.01  # L_temp
    switch_epoch: int = 20  # N: evenly spaced teacher frames up to epoch N, top-K pooling after
    top_k: int = 3  # K


def mpjpe(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean per-joint position error: mean Euclidean distance over joints (and batch)."""
    return (pred - target).norm(dim=-1).mean()


def loss_reg(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. (7): MPJPE between the predicted and ground-truth centre-frame poses, (B, J, 3)."""
    return mpjpe(pred, target)


def aligned_teacher_frames(num_student_frames: int, stride: int) -> torch.Tensor:
    """Index p -> the teacher frame that student frame p was sampled from (the centres coincide)."""
    return torch.arange(num_student_frames) * stride + (stride - 1) // 2


def pooled_teacher_embedding(student: torch.Tensor, teacher: torch.Tensor, stride: int, top_k: int) -> torch.Tensor:
    """Dynamic feature fusion (Sec. III-C, Fig. 2c): for every student frame p, the mean of the top-K
    teacher frames k in [p - (L-1), p + (L-1)] (around the aligned teacher frame) by cosine similarity
    of the whole frame's joint features with FC(F^S_p).

    student: (B, f^S, J, C^T), already through FC; teacher: (B, f^T, J, C^T). Returns (B, f^S, J, C^T).
    """
    batch, student_frames = student.shape[:2]
    teacher_frames = teacher.shape[1]
    centres = aligned_teacher_frames(student_frames, stride).to(teacher.device)
    candidates = centres[:, None] + torch.arange(-(stride - 1), stride, device=teacher.device)[None, :]
    valid = (candidates >= 0) & (candidates < teacher_frames)
    windows = teacher[:, candidates.clamp(0, teacher_frames - 1)]  # (B, f^S, 2L-1, J, C)
    similarity = F.cosine_similarity(student.flatten(2)[:, :, None], windows.flatten(3), dim=-1)
    similarity = similarity.masked_fill(~valid, float("-inf"))
    top = similarity.topk(min(top_k, candidates.shape[1]), dim=-1).indices  # (B, f^S, K)
    chosen = torch.gather(windows, 2, top[..., None, None].expand(-1, -1, -1, *windows.shape[3:]))
    return chosen.mean(dim=2)


def loss_emb(
    student_embedding: torch.Tensor,
    teacher_embedding: torch.Tensor,
    stride: int,
    epoch: int,
    config: DistillConfig,
) -> torch.Tensor:
    """Eq. (1): joint-embedding distillation with dynamic feature fusion.

    student_embedding: FC(F^S), (B, f^S, J, C^T); teacher_embedding: F^T, (B, f^T, J, C^T).
    Up to epoch N the target is the evenly spaced teacher frame, after N the top-K pooled frames.
    """
    if epoch <= config.switch_epoch:
        frames = aligned_teacher_frames(student_embedding.shape[1], stride).to(teacher_embedding.device)
        target = teacher_embedding[:, frames]
    else:
        target = pooled_teacher_embedding(student_embedding.detach(), teacher_embedding, stride, config.top_k)
    return (student_embedding - target).norm(dim=-1).mean()  # (1/J) sum_i ||.||_2, averaged over B and p


def adjacent_joint_attention(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Eq. (3): M(F) = F F^tr / sqrt(C) (x) M_mask, for features (..., J, C) -> (..., J, J)."""
    return features @ features.transpose(-1, -2) / math.sqrt(features.shape[-1]) * mask


def loss_attn(
    student_spatial: torch.Tensor, teacher_spatial: torch.Tensor, stride: int, mask: torch.Tensor
) -> torch.Tensor:
    """Eq. (4): sum over joint pairs of |M_ij(F^S) - M_ij(F^T)|, per student frame and its aligned teacher frame.

    student_spatial: (B, f^S, J, C^S); teacher_spatial: (B, f^T, J, C^T); mask: (J, J).
    """
    frames = aligned_teacher_frames(student_spatial.shape[1], stride).to(teacher_spatial.device)
    difference = adjacent_joint_attention(student_spatial, mask) - adjacent_joint_attention(
        teacher_spatial[:, frames], mask
    )
    return difference.abs().sum(dim=(-1, -2)).mean()


def loss_temp(student_upsampled: torch.Tensor, teacher_temporal: torch.Tensor) -> torch.Tensor:
    """Eq. (6): (1/f^T) sum_i ||Y^S_hat_i - Y^T_i||_2 over the recovered sequence, (B, f^T, J*C^T)."""
    return (student_upsampled - teacher_temporal).norm(dim=-1).mean()


def loss_total(
    reg: torch.Tensor, emb: torch.Tensor, attn: torch.Tensor, temp: torch.Tensor, config: DistillConfig
) -> torch.Tensor:
    """Eq. (8): L_total = L_reg + alpha L_emb + beta L_attn + gamma L_temp."""
    return reg + config.alpha * emb + config.beta * attn + config.gamma * temp
