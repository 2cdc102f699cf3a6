"""The SCJD teacher and student lifters (paper Sec. III and supplementary Sec. VI).

Both are PoseFormer-style: a spatial transformer over the J joints of every frame (joint embedding plus
a learnable spatial positional embedding), then a temporal transformer over the frames (learnable
temporal positional embedding), pre-LayerNorm blocks of MHSA + FFN. They predict the 3D pose of the
centre frame of their window (a causal lifter, `LifterConfig.target = "last"`, that of its last frame).

- Teacher: dense f^T = 81 frames, C^T = 32, PoseFormer's head (a 1x1 convolution that weighs the
  frames, LayerNorm, linear layer to J x 3).
- Sparse student: f^S = f^T / L frames sampled with stride L (see sampling.py), C^S = 16, and the head
  of Eq. (5): a 1D deconvolution upsamples the temporal features to f^T frames, a linear layer widens
  them to J x C^T (these are the features that Eq. (6) distils), a 1D convolution aggregates the
  frames, a linear projection gives J x 3. This head is part of the student at inference too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from pose_lifting.sampling import Target, check_window, target_index
from pose_lifting.skeleton import NUM_JOINTS


@dataclass
class LifterConfig:
    """Architecture of one lifter; a checkpoint stores it so that it always rebuilds its own model."""

    receptive_field: int = 81  # frames the window spans (f^T for the teacher and for the sparse student)
    stride: int = 1  # L: sparse sampling stride; the model sees receptive_field / stride frames
    embed_dim: int = 32  # C: feature width per joint
    depth: int = 4  # transformer blocks in each of the spatial and temporal encoders
    num_heads: int = 8
    mlp_ratio: float = 2.0
    drop_path: float = 0.1  # stochastic depth, as PoseFormer
    num_joints: int = NUM_JOINTS
    upsample_head: bool = False  # the Eq. (5) head of the sparse student
    teacher_embed_dim: int = 32  # C^T: width the Eq. (5) head lifts the student's features to
    deconv_stride: int = 3  # the deconvolution's kernel = stride; frames are first repeated L / deconv_stride times
    score_input: bool = False  # the 2D keypoints' scores as a third input channel (x, y, score), as MotionBERT
    target: Target = "centre"  # the frame it predicts: the window's centre (the paper) or its last (causal, live)

    @property
    def num_frames(self) -> int:
        return check_window(self.receptive_field, self.stride)

    @property
    def target_index(self) -> int:
        """Index of the predicted frame in the dense window of `receptive_field` frames."""
        return target_index(self.receptive_field, self.target)

    @property
    def input_channels(self) -> int:
        """Values per joint and frame: normalised x, y, and the detector's score with `score_input`."""
        return 3 if self.score_input else 2

    def to_dict(self) -> dict:
        return asdict(self)


# The configurations of the paper (Table IV and VI).
TEACHER = LifterConfig(receptive_field=81, stride=1, embed_dim=32)
STUDENT = LifterConfig(receptive_field=81, stride=3, embed_dim=16, upsample_head=True)
DENSE27 = LifterConfig(receptive_field=27, stride=1, embed_dim=16)  # Table IV row 1: no sparse sampling


class LifterFeatures(NamedTuple):
    """What a forward pass exposes for distillation; shapes for batch B, F frames, J joints, C width."""

    pose: torch.Tensor  # (B, J, 3) 3D pose of the target frame
    joint_embedding: torch.Tensor  # (B, F, J, C) after the joint embedding and spatial positional embedding
    spatial: torch.Tensor  # (B, F, J, C) spatial-encoder output, per frame
    temporal: torch.Tensor  # (B, F, J*C) temporal-encoder output (Y in Sec. III-D)
    upsampled: torch.Tensor | None  # (B, f^T, J*C^T) the student's recovered sequence of Eq. (5)


class DropPath(nn.Module):
    """Stochastic depth: drops a whole residual branch per sample while training."""

    def __init__(self, prob: float) -> None:
        super().__init__()
        self.prob = prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.prob == 0.0:
            return x
        keep = torch.rand(x.shape[0], *([1] * (x.dim() - 1)), device=x.device, dtype=x.dtype) >= self.prob
        return x * keep / (1.0 - self.prob)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v over (..., tokens, d).

    On the CPU through PyTorch's fused kernel, which is faster there. On GPUs written out: the fused kernels are
    built for long sequences and wide heads, not 17 joint tokens of 4 channels per head, and fail beyond 65,535
    sequences (one batch of 1024 windows of 81 frames holds 82,944). Measurements: docs/benchmarks.md.
    """
    return written_out_attention(q, k, v) if q.is_cuda else F.scaled_dot_product_attention(q, k, v)


def written_out_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """What the fused kernel computes, as three plain batched operations."""
    return (q @ k.transpose(-1, -2) * q.shape[-1] ** -0.5).softmax(dim=-1) @ v


class Attention(nn.Module):
    """Multi-head self-attention."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"width {dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, dim = x.shape
        q, k, v = self.qkv(x).reshape(batch, tokens, 3, self.num_heads, dim // self.num_heads).permute(2, 0, 3, 1, 4)
        return self.proj(attend(q, k, v).transpose(1, 2).reshape(batch, tokens, dim))


class Block(nn.Module):
    """Pre-LayerNorm transformer encoder layer: x + MHSA(LN(x)), then x + FFN(LN(x))."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, drop_path: float) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


def encoder(dim: int, config: LifterConfig) -> nn.Sequential:
    rates = torch.linspace(0, config.drop_path, config.depth).tolist()
    return nn.Sequential(*[Block(dim, config.num_heads, config.mlp_ratio, rate) for rate in rates])


class UpsampleHead(nn.Module):
    """The sparse student's head, Eq. (5) and Sec. III-D: deconv to f^T frames, FC to C^T, aggregate, project."""

    def __init__(self, config: LifterConfig) -> None:
        super().__init__()
        width, teacher_width = config.num_joints * config.embed_dim, config.num_joints * config.teacher_embed_dim
        kernel = config.deconv_stride if config.stride % config.deconv_stride == 0 else config.stride
        # A stride-L deconvolution whose taps are shared in groups of L / kernel: the same 0.39 M parameters
        # and 36 MFLOPs for every f^S, as Tables I and VI report for f^S = 27 and 9.
        self.repeats = config.stride // kernel
        self.deconv = nn.ConvTranspose1d(width, width, kernel_size=kernel, stride=kernel)
        self.fc = nn.Linear(width, teacher_width)
        self.aggregate = nn.Conv1d(config.receptive_field, 1, kernel_size=1)
        self.norm = nn.LayerNorm(teacher_width)
        self.project = nn.Linear(teacher_width, config.num_joints * 3)

    def forward(self, temporal: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = temporal.repeat_interleave(self.repeats, dim=1) if self.repeats > 1 else temporal
        upsampled = self.fc(self.deconv(x.transpose(1, 2)).transpose(1, 2))  # Eq. (5): FC(f_deconv(Y^S))
        pooled = self.aggregate(upsampled).squeeze(1)
        return self.project(self.norm(pooled)), upsampled


class PoseHead(nn.Module):
    """PoseFormer's head: a learned weighted mean over frames, LayerNorm, linear layer to J x 3."""

    def __init__(self, config: LifterConfig) -> None:
        super().__init__()
        width = config.num_joints * config.embed_dim
        self.aggregate = nn.Conv1d(config.num_frames, 1, kernel_size=1)
        self.norm = nn.LayerNorm(width)
        self.project = nn.Linear(width, config.num_joints * 3)

    def forward(self, temporal: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.project(self.norm(self.aggregate(temporal).squeeze(1))), None


class PoseLifter(nn.Module):
    """Spatial then temporal transformer; input (B, F, J, 2) normalised 2D (with `score_input`, (B, F, J, 3): the
    scores as a third channel), output (B, J, 3) root-relative 3D."""

    def __init__(self, config: LifterConfig) -> None:
        super().__init__()
        self.config = config
        joints, width = config.num_joints, config.embed_dim
        self.joint_embed = nn.Linear(config.input_channels, width)
        self.spatial_pos = nn.Parameter(torch.zeros(1, joints, width))
        self.spatial_blocks = encoder(width, config)
        self.spatial_norm = nn.LayerNorm(width)
        self.temporal_pos = nn.Parameter(torch.zeros(1, config.num_frames, joints * width))
        self.temporal_blocks = encoder(joints * width, config)
        self.temporal_norm = nn.LayerNorm(joints * width)
        if config.upsample_head and config.stride == 1:
            raise ValueError("the upsampling head needs a sparse student (stride > 1)")
        self.head = UpsampleHead(config) if config.upsample_head else PoseHead(config)
        nn.init.trunc_normal_(self.spatial_pos, std=0.02)
        nn.init.trunc_normal_(self.temporal_pos, std=0.02)

    def forward_features(self, x: torch.Tensor) -> LifterFeatures:
        batch, frames, joints, channels = x.shape
        c = self.config
        if (frames, joints, channels) != (c.num_frames, c.num_joints, c.input_channels):
            raise ValueError(f"expected (B, {c.num_frames}, {c.num_joints}, {c.input_channels}), got {tuple(x.shape)}")
        embedding = self.joint_embed(x) + self.spatial_pos  # F^S / F^T of Sec. III-C
        spatial = self.spatial_norm(self.spatial_blocks(embedding.reshape(batch * frames, joints, -1)))
        spatial = spatial.reshape(batch, frames, joints, -1)
        temporal = self.temporal_norm(self.temporal_blocks(spatial.reshape(batch, frames, -1) + self.temporal_pos))
        pose, upsampled = self.head(temporal)
        return LifterFeatures(pose.reshape(batch, joints, 3), embedding, spatial, temporal, upsampled)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x).pose

    @property
    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def count_flops(model: PoseLifter, attention_products: bool = True) -> int:
    """Floating-point operations of one forward pass for one pose (one window), no flip augmentation.

    Counted by torch.utils.flop_counter: 2 FLOPs per multiply-add of every matmul and convolution; element-wise
    work (LayerNorm, GELU, softmax, additions) is not counted. `attention_products=False` leaves out the
    attention's Q K^T and A V, as the paper's Tables I and VI do.
    """
    from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

    # the counter knows no formula for the fused CPU attention kernel that `attend` uses
    cpu_attention = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu
    formula = {cpu_attention: lambda q, k, v, *args, **kwargs: sdpa_flop_count(q, k, v)}
    c = model.config
    x = torch.zeros(1, c.num_frames, c.num_joints, c.input_channels, device=model.spatial_pos.device)
    was_training = model.training
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False, custom_mapping=formula) as counter:
        model(x)
    model.train(was_training)
    if attention_products:
        return counter.get_total_flops()
    attention = (cpu_attention, torch.ops.aten.bmm)
    return sum(n for op, n in counter.get_flop_counts()["Global"].items() if op not in attention)
