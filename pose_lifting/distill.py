"""The SCJD training objective: a sparse student learning from ground truth and a frozen dense teacher.

`SCJDObjective` holds the student, the frozen teacher, the FC of Eq. (1) that widens the student's joint
embedding to the teacher's, and the adjacent-joint mask of Eq. (2); called on a batch of dense windows it
returns every term of Eq. (8). Without a teacher it is the plain supervised objective (L_reg only).

The paper's teacher is dense (stride 1). A teacher that is itself sparse over the same receptive field works
the same way as long as the student's stride is a multiple of its own (e.g. a stride-9 student distilled from
a stride-3 one): L is then the ratio of the two strides, and Eq. (6) compares the student's recovered
sequence at the frames the teacher sees.
"""

from __future__ import annotations

import torch
from torch import nn

from pose_lifting.losses import DistillConfig, loss_attn, loss_emb, loss_reg, loss_temp, loss_total
from pose_lifting.model import PoseLifter
from pose_lifting.sampling import sparse_slice
from pose_lifting.skeleton import adjacent_joint_mask


class SCJDObjective(nn.Module):
    def __init__(self, student: PoseLifter, teacher: PoseLifter | None = None, config: DistillConfig | None = None):
        super().__init__()
        self.student = student
        self.teacher = teacher
        self.config = config or DistillConfig()
        self.register_buffer("mask", torch.from_numpy(adjacent_joint_mask()), persistent=False)
        s, t = student.config, teacher.config if teacher else None
        # slices: views of the windows, no copies
        self.student_frames = sparse_slice(s.receptive_field, s.stride, s.target)
        self.student_features = student.forward_features  # compile_features() swaps in compiled versions
        self.teacher_features = teacher.forward_features if teacher is not None else None
        if teacher is not None:
            if t.receptive_field != s.receptive_field or s.stride % t.stride or s.stride == t.stride:
                raise ValueError("the teacher must see the student's receptive field, denser by a whole factor")
            if (s.target, t.target) != ("centre", "centre"):  # losses.aligned_teacher_frames: the centres coincide
                raise ValueError("distillation is the paper's, for centre-frame lifters: train a causal one as plain")
            if not s.upsample_head or s.teacher_embed_dim != t.embed_dim:
                raise ValueError("a distilled student needs the Eq. (5) head at the teacher's width")
            teacher.requires_grad_(False)
            self.stride = s.stride // t.stride  # L of Sec. III-B between the two frame sequences
            self.teacher_frames = sparse_slice(t.receptive_field, t.stride)  # all frames for the paper's teacher
            self.embed_fc = nn.Linear(s.embed_dim, t.embed_dim)  # FC of Eq. (1)

    def compile_features(self) -> None:
        """Run both models' forward passes through torch.compile in this objective only (the models themselves,
        used for checks and checkpoints, stay eager): it fuses the many small element-wise kernels that a
        narrow transformer spends its GPU time on."""
        self.student_features = torch.compile(self.student.forward_features)
        if self.teacher is not None:
            self.teacher_features = torch.compile(self.teacher.forward_features)

    def train(self, mode: bool = True) -> SCJDObjective:
        super().train(mode)
        if self.teacher is not None:
            self.teacher.eval()  # frozen: no dropout or stochastic depth in the targets
        return self

    def forward(self, dense_windows: torch.Tensor, target: torch.Tensor, epoch: int) -> dict[str, torch.Tensor]:
        """dense_windows: (B, f^T, J, 2 or 3) normalised 2D (and scores); target: (B, J, 3). Returns the losses,
        'total' included."""
        student = self.student_features(dense_windows[:, self.student_frames])
        reg = loss_reg(student.pose, target)  # Eq. (7)
        if self.teacher is None:
            return {"total": reg, "reg": reg}
        with torch.no_grad():
            channels = self.teacher.config.input_channels  # a teacher without the score channel reads x, y
            teacher = self.teacher_features(dense_windows[:, self.teacher_frames, :, :channels])
        emb = loss_emb(self.embed_fc(student.joint_embedding), teacher.joint_embedding, self.stride, epoch, self.config)
        attn = loss_attn(student.spatial, teacher.spatial, self.stride, self.mask)  # Eqs. (3)-(4)
        temp = loss_temp(student.upsampled[:, self.teacher_frames], teacher.temporal)  # Eq. (6)
        total = loss_total(reg, emb, attn, temp, self.config)  # Eq. (8)
        return {"total": total, "reg": reg, "emb": emb, "attn": attn, "temp": temp}
