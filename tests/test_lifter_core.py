"""The SCJD lifter core: skeleton, sparse sampling, models, the four losses, flip, checkpoints."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from pose_lifting.distill import SCJDObjective
from pose_lifting.lifter import Lifter, save_checkpoint
from pose_lifting.losses import (
    DistillConfig,
    aligned_teacher_frames,
    loss_attn,
    loss_emb,
    loss_reg,
    loss_temp,
    pooled_teacher_embedding,
)
from pose_lifting.model import STUDENT, TEACHER, PoseLifter, count_flops, written_out_attention
from pose_lifting.normalization import InputConfig, flip_horizontal, normalize_windows
from pose_lifting.report import PAPER_ROWS, measure
from pose_lifting.sampling import sparse_indices, sparse_slice, video_windows
from pose_lifting.sequence import Pose2DSequence
from pose_lifting.skeleton import BONES, FLIP_PERMUTATION, NUM_JOINTS, PARENTS, adjacent_joint_mask

TINY_TEACHER = replace(TEACHER, receptive_field=9, embed_dim=8, depth=1, num_heads=2, drop_path=0.0)
TINY_STUDENT = replace(
    STUDENT, receptive_field=9, embed_dim=4, depth=1, num_heads=2, drop_path=0.0, teacher_embed_dim=8
)


def test_skeleton_mask_has_exactly_the_16_bones_and_is_symmetric():
    mask = adjacent_joint_mask()
    assert mask.shape == (NUM_JOINTS, NUM_JOINTS)
    assert np.array_equal(mask, mask.T)
    assert mask.sum() == 2 * 16 and len(BONES) == 16
    assert np.trace(mask) == 0
    for parent, child in BONES:
        assert mask[parent, child] == 1 and PARENTS[child] == parent


def test_flip_permutation_is_an_involution_that_swaps_sides():
    perm = np.array(FLIP_PERMUTATION)
    assert np.array_equal(perm[perm], np.arange(NUM_JOINTS))
    assert perm[1] == 4 and perm[11] == 14 and perm[0] == 0


@pytest.mark.parametrize("stride,expected", [(3, 27), (9, 9), (27, 3), (1, 81)])
def test_sparse_sampling_keeps_the_centre_and_receptive_field(stride, expected):
    idx = sparse_indices(81, stride)
    assert len(idx) == expected
    assert idx[len(idx) // 2] == 40  # the centre frames coincide
    assert np.all(np.diff(idx) == stride)
    assert idx[0] == 40 - stride * (expected // 2) and idx[-1] == 40 + stride * (expected // 2)
    assert np.array_equal(aligned_teacher_frames(expected, stride).numpy(), idx)
    assert np.array_equal(np.arange(81)[sparse_slice(81, stride)], idx)


def test_sampling_rejects_windows_without_a_centre():
    with pytest.raises(ValueError):
        sparse_indices(81, 2)
    with pytest.raises(ValueError):
        sparse_indices(80, 1)


def test_video_windows_replicate_the_edges():
    windows = video_windows(5, 9, 3)
    assert windows.shape == (5, 3)
    assert windows[0].tolist() == [0, 0, 3] and windows[4].tolist() == [1, 4, 4]


@pytest.mark.parametrize("row", PAPER_ROWS, ids=lambda r: r.name)
def test_every_configuration_has_the_right_shapes(row):
    model = PoseLifter(row.config).eval()
    c = row.config
    out = model.forward_features(torch.randn(2, c.num_frames, NUM_JOINTS, 2))
    assert out.pose.shape == (2, NUM_JOINTS, 3)
    assert out.joint_embedding.shape == out.spatial.shape == (2, c.num_frames, NUM_JOINTS, c.embed_dim)
    assert out.temporal.shape == (2, c.num_frames, NUM_JOINTS * c.embed_dim)
    if c.upsample_head:
        assert out.upsampled.shape == (2, c.receptive_field, NUM_JOINTS * c.teacher_embed_dim)
    else:
        assert out.upsampled is None


def test_parameter_counts_match_the_paper_for_teacher_and_c16_students():
    for row in measure():
        if row["model"].startswith("teacher") or "C16" in row["model"]:
            assert abs(row["params_diff_pct"]) <= 2.0, row


def test_flops_without_attention_products_match_the_paper_for_every_student_and_baseline():
    for row in measure():
        if not row["model"].startswith("teacher") and "C8" not in row["model"]:
            assert abs(row["mflops_diff_pct"]) <= 0.5, row
        assert row["mflops"] > row["mflops_no_attention"], row  # the fused CPU attention kernel is counted too


def test_flops_are_counted_wherever_the_model_lives():
    on_cpu = count_flops(PoseLifter(TINY_STUDENT))
    assert on_cpu > 0 and count_flops(PoseLifter(TINY_STUDENT).to("meta")) == on_cpu  # meta stands in for a GPU


def test_the_gpu_attention_path_computes_what_the_fused_kernel_computes():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 5, 2, 17, 4).unbind(0)
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    assert torch.allclose(written_out_attention(q, k, v), expected, atol=1e-6)


def test_losses_vanish_where_student_and_teacher_agree_and_grow_where_they_differ():
    torch.manual_seed(0)
    config = DistillConfig()
    teacher_emb = torch.randn(2, 9, NUM_JOINTS, 8)
    agree = teacher_emb[:, sparse_indices(9, 3)]
    for epoch in (1, config.switch_epoch + 1):
        # after N the pooled target averages K teacher frames: make those frames identical to agree exactly
        same = agree.repeat_interleave(3, dim=1)
        assert loss_emb(agree, same, 3, epoch, config).item() == pytest.approx(0, abs=1e-6)
        assert loss_emb(agree + 0.5, same, 3, epoch, config).item() > 0.1
    mask = torch.from_numpy(adjacent_joint_mask())
    spatial = torch.randn(2, 9, NUM_JOINTS, 8)
    assert loss_attn(spatial[:, sparse_indices(9, 3)], spatial, 3, mask).item() == pytest.approx(0, abs=1e-5)
    assert loss_attn(torch.randn(2, 3, NUM_JOINTS, 4), spatial, 3, mask).item() > 0.1
    temporal = torch.randn(2, 9, 40)
    assert loss_temp(temporal, temporal).item() == 0
    assert loss_temp(temporal + 1, temporal).item() == pytest.approx(np.sqrt(40), rel=1e-4)
    pose = torch.randn(2, NUM_JOINTS, 3)
    assert loss_reg(pose, pose).item() == 0 and loss_reg(
        pose + torch.tensor([0.0, 0.0, 0.1]), pose
    ).item() == pytest.approx(0.1)


def test_attention_loss_only_sees_adjacent_joints():
    mask = torch.from_numpy(adjacent_joint_mask())
    teacher = torch.randn(1, 3, NUM_JOINTS, 8)
    student = teacher[:, [1]].clone()
    # moving the head changes only its bone pair; a mask-free loss would also see the other 16 pairs
    base = loss_attn(student, teacher, 3, mask)
    student[..., 10, :] += 1.0
    changed = loss_attn(student, teacher, 3, mask) - base
    assert changed.item() > 0
    only_head_pairs = mask.clone()
    only_head_pairs[:, :] = 0
    only_head_pairs[9, 10] = only_head_pairs[10, 9] = 1
    rest = mask - only_head_pairs
    assert loss_attn(student, teacher, 3, rest).item() == pytest.approx(
        loss_attn(teacher[:, [1]], teacher, 3, rest).item()
    )


def test_dynamic_topk_pooling_picks_the_most_similar_teacher_frames():
    torch.manual_seed(1)
    student = torch.randn(1, 3, NUM_JOINTS, 8)  # 3 student frames, stride 3 -> 9 teacher frames
    teacher = -student.repeat_interleave(3, dim=1).clone()  # every teacher frame dissimilar ...
    # ... except two frames near student frame 1 (aligned teacher frame 4; window 2..6): 3 and 6
    teacher[:, 3] = student[:, 1] * 2.0
    teacher[:, 6] = student[:, 1] + 0.01 * torch.randn_like(student[:, 1])
    pooled = pooled_teacher_embedding(student, teacher, stride=3, top_k=2)
    assert torch.allclose(pooled[:, 1], (teacher[:, 3] + teacher[:, 6]) / 2)
    # frame 7 lies outside the window [2, 6] and is never chosen, however similar
    teacher[:, 7] = student[:, 1]
    assert torch.allclose(pooled_teacher_embedding(student, teacher, 3, 2)[:, 1], (teacher[:, 3] + teacher[:, 6]) / 2)


def test_distillation_gradients_reach_the_student_but_not_the_teacher():
    teacher = PoseLifter(TINY_TEACHER)
    objective = SCJDObjective(PoseLifter(TINY_STUDENT), teacher).train()
    losses = objective(torch.randn(4, 9, NUM_JOINTS, 2), torch.randn(4, NUM_JOINTS, 3), epoch=25)
    assert set(losses) == {"total", "reg", "emb", "attn", "temp"}
    losses["total"].backward()
    assert objective.student.joint_embed.weight.grad.abs().sum() > 0
    assert objective.student.head.deconv.weight.grad.abs().sum() > 0
    assert objective.embed_fc.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in teacher.parameters())
    assert not teacher.training


def test_a_sparse_teacher_distils_a_sparser_student_at_the_frames_it_sees():
    teacher = PoseLifter(replace(TINY_STUDENT, receptive_field=27, stride=3, embed_dim=8))  # 9 of 27 frames
    student = PoseLifter(replace(TINY_STUDENT, receptive_field=27, stride=9))  # 3 of 27 frames
    objective = SCJDObjective(student, teacher).train()
    assert objective.stride == 3 and list(range(27))[objective.teacher_frames] == list(range(1, 27, 3))
    dense = torch.randn(2, 27, NUM_JOINTS, 2)
    losses = objective(dense, torch.randn(2, NUM_JOINTS, 3), epoch=1)
    with torch.no_grad():
        taught = teacher.forward_features(dense[:, 1::3])
        learned = student.forward_features(dense[:, 4::9])
    assert losses["attn"].item() == pytest.approx(loss_attn(learned.spatial, taught.spatial, 3, objective.mask).item())
    assert losses["temp"].item() == pytest.approx(loss_temp(learned.upsampled[:, 1::3], taught.temporal).item())
    with pytest.raises(ValueError, match="denser"):
        SCJDObjective(PoseLifter(replace(TINY_STUDENT, receptive_field=27)), teacher)  # same stride


def test_the_compiled_training_step_computes_what_the_eager_one_does():
    torch.manual_seed(0)
    objective = SCJDObjective(PoseLifter(TINY_STUDENT), PoseLifter(TINY_TEACHER)).train()
    dense, target = torch.randn(4, 9, NUM_JOINTS, 2), torch.randn(4, NUM_JOINTS, 3)
    eager = objective(dense, target, epoch=1)
    objective.compile_features()
    compiled = objective(dense, target, epoch=1)
    for name, value in eager.items():
        assert compiled[name].item() == pytest.approx(value.item(), rel=1e-4), name
    compiled["total"].backward()
    assert objective.student.joint_embed.weight.grad.abs().sum() > 0


def test_a_tiny_model_overfits_a_tiny_batch():
    torch.manual_seed(0)
    objective = SCJDObjective(PoseLifter(TINY_STUDENT), PoseLifter(TINY_TEACHER)).train()
    x, y = torch.randn(8, 9, NUM_JOINTS, 2), torch.randn(8, NUM_JOINTS, 3) * 0.3
    optimizer = torch.optim.Adam([p for p in objective.parameters() if p.requires_grad], lr=3e-3)
    first = None
    for _ in range(150):
        losses = objective(x, y, epoch=1)
        optimizer.zero_grad()
        losses["total"].backward()
        optimizer.step()
        first = first if first is not None else losses["reg"].item()
    assert losses["reg"].item() < 0.3 * first


def test_flip_test_time_augmentation_is_exact_on_a_symmetric_input():
    torch.manual_seed(0)
    lifter = Lifter(PoseLifter(TINY_STUDENT), InputConfig(), "tiny", device="cpu")
    half = torch.randn(1, 9, NUM_JOINTS, 2)
    symmetric = 0.5 * (half + flip_horizontal(half, FLIP_PERMUTATION))  # mirror image of itself
    assert torch.allclose(flip_horizontal(symmetric, FLIP_PERMUTATION), symmetric)
    pred = lifter.predict_windows(symmetric, flip_test=True)
    assert torch.allclose(flip_horizontal(pred, FLIP_PERMUTATION), pred, atol=1e-6)
    plain = lifter.predict_windows(symmetric, flip_test=False)
    assert not torch.allclose(flip_horizontal(plain, FLIP_PERMUTATION), plain, atol=1e-6)


def test_screen_and_subject_normalisation():
    windows = torch.tensor([[[[0.0, 0.0]] * NUM_JOINTS]]).repeat(1, 3, 1, 1)
    windows[..., 0, :] = torch.tensor([500.0, 250.0])
    windows[..., 10, :] = torch.tensor([500.0, 50.0])
    screen = normalize_windows(windows, 1000.0, 500.0, "screen")
    assert torch.allclose(screen[0, 0, 0], torch.tensor([0.0, 0.0]))
    subject = normalize_windows(windows, 1000.0, 500.0, "subject")
    assert torch.allclose(subject[0, 1, 0], torch.tensor([0.0, 0.0]))  # centre pelvis at the origin
    assert subject.abs().max() <= 2.0 + 1e-5  # coordinates within the window's box, in half box sizes


def test_checkpoint_round_trip_and_lifting_a_short_sequence(tmp_path):
    torch.manual_seed(0)
    model = PoseLifter(TINY_STUDENT)
    path = save_checkpoint(tmp_path / "tiny.pt", model, InputConfig(fps=30.0), "tiny")
    lifter = Lifter.from_pretrained(path, device="cpu")
    assert lifter.config == TINY_STUDENT and lifter.name == "tiny"
    seq = Pose2DSequence(
        np.random.rand(5, NUM_JOINTS, 2) * 500, np.ones((5, NUM_JOINTS)), fps=60.0, width=640, height=480
    )
    out = lifter.lift(seq)
    assert out.poses.shape == (5, NUM_JOINTS, 3) and np.isfinite(out.poses).all()
    with pytest.raises(FileNotFoundError, match="do not exist yet"):
        Lifter.from_pretrained(tmp_path / "missing.pt")


@pytest.mark.parametrize("capacity", [16, 0])
def test_a_gpu_out_of_memory_halves_the_batch_and_at_the_end_falls_back_to_the_cpu(tmp_path, monkeypatch, capacity):
    torch.manual_seed(0)
    lifter = Lifter.from_pretrained(
        save_checkpoint(tmp_path / "tiny.pt", PoseLifter(TINY_STUDENT), InputConfig(fps=30.0), "tiny"), device="cpu"
    )
    seq = Pose2DSequence(
        np.random.rand(40, NUM_JOINTS, 2) * 500, np.ones((40, NUM_JOINTS)), fps=30.0, width=640, height=480
    )
    expected = lifter.lift(seq).poses
    predict, calls = lifter.predict_windows, []

    def gpu_with_room_for(windows: torch.Tensor, flip_test: bool = False) -> torch.Tensor:
        """A stand-in GPU that holds `capacity` windows; it computes on the CPU."""
        device = lifter.device
        calls.append((device.type, len(windows)))
        if device.type == "cuda" and len(windows) > capacity:
            raise torch.cuda.OutOfMemoryError("simulated")
        lifter.device = torch.device("cpu")
        try:
            return predict(windows, flip_test)
        finally:
            lifter.device = device

    lifter.device = torch.device("cuda")
    monkeypatch.setattr(lifter, "predict_windows", gpu_with_room_for)
    np.testing.assert_allclose(lifter.lift(seq, batch_size=64).poses, expected, atol=1e-5)
    if capacity:  # halved twice, then every batch of 16 fits
        assert calls == [("cuda", 40), ("cuda", 32), ("cuda", 16), ("cuda", 16), ("cuda", 8)]
        assert lifter.device.type == "cuda"
    else:  # nothing fits: down to 16 windows, then the CPU
        assert calls == [("cuda", 40), ("cuda", 32), ("cuda", 16), ("cpu", 16), ("cpu", 16), ("cpu", 8)]
        assert lifter.device.type == "cpu"


def test_csv_has_one_row_per_video_frame_with_empty_cells_where_the_person_is_absent(tmp_path):
    import csv

    from pose_lifting.sequence import Pose3DSequence, csv_header, write_pose_csv

    seq = Pose3DSequence(np.ones((3, NUM_JOINTS, 3), np.float32), fps=30.0, model="tiny", first_frame=2)
    path = write_pose_csv(tmp_path / "a.csv", [seq], video_times=np.arange(6) / 30.0)
    rows = list(csv.reader(path.open()))
    assert rows[0] == csv_header() and len(rows) == 1 + 6
    assert [r[0] for r in rows[1:]] == ["0", "1", "2", "3", "4", "5"]
    assert rows[1][2:] == [""] * 51 and rows[3][2] == "1.00000" and rows[6][2:] == [""] * 51
    people = write_pose_csv(tmp_path / "b.csv", [seq], with_person_id=True)
    assert [r[0] for r in list(csv.reader(people.open()))[1:]] == ["2", "3", "4"]
