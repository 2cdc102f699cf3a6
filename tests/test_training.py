"""The training and evaluation commands end to end on tiny models and synthetic data: logs, checkpoints, exact
resumption, distillation, DDP, Human3.6M files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pose_lifting import evaluate, export, train
from pose_lifting.generators import WindowSampler
from pose_lifting.lifter import Lifter
from scripts import loss_balance
from tests.synthetic_data import write_h36m_files, write_mocap

ROOT = Path(__file__).resolve().parents[1]
# 9-frame windows (3 for the stride-3 student), C = 4, one block, batches of 16
TINY = "--receptive-field 9 --embed-dim 4 --num-heads 2 --depth 1 --batch-size 16 --device cpu --threads 1 --amp none"
MOCAP_EPOCH = "--epoch-size 32"  # 2 steps


def run(out: Path, data: Path, extra: str = "") -> Path:
    return train.train(train.parse_args(f"{TINY} {MOCAP_EPOCH} --data-dir {data} --out {out} {extra}".split()))


def log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def without_time(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "train_seconds"} for r in records]


@pytest.fixture(scope="module")
def mocap(tmp_path_factory) -> Path:
    return write_mocap(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def tiny_teacher(tmp_path_factory, mocap) -> Path:
    out = tmp_path_factory.mktemp("teacher")
    return run(out, mocap, "--model teacher --embed-dim 8 --epochs 1")


def test_a_run_logs_every_epoch_and_resumes_exactly_where_it_stopped(tmp_path, mocap, monkeypatch) -> None:
    straight = tmp_path / "straight"
    run(straight, mocap, "--model plain --epochs 3 --depth 2")
    records = log(straight)
    assert [r["epoch"] for r in records] == [1, 2, 3] and records[-1]["poses_seen"] == 3 * 32
    for r in records:
        assert np.isfinite([r["train_reg"], r["heldout_mpjpe"], r["heldout_p_mpjpe"]]).all()
    assert records[1]["lr"] == pytest.approx(1e-3 * 0.98)
    lifter = Lifter.from_pretrained(straight / "model.pt", device="cpu")
    assert lifter.config.receptive_field == 9 and lifter.config.stride == 3 and lifter.config.embed_dim == 4
    assert lifter.inputs.normalization == "subject" and lifter.inputs.fps == 30.0 and lifter.info["epoch"] == 4

    # Interrupted in the middle of epoch 2, right after a checkpoint (one every step), then resumed twice.
    interrupted = tmp_path / "interrupted"
    sample, calls = WindowSampler.sample, []

    def crash_at_the_fourth_batch(self, batch_size):
        calls.append(batch_size)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return sample(self, batch_size)

    monkeypatch.setattr(WindowSampler, "sample", crash_at_the_fourth_batch)
    with pytest.raises(KeyboardInterrupt):
        run(interrupted, mocap, "--model plain --epochs 2 --depth 2 --checkpoint-minutes 0")
    monkeypatch.undo()
    assert len(log(interrupted)) == 1
    run(interrupted, mocap, "--model plain --epochs 2 --depth 2")
    assert len(log(interrupted)) == 2
    run(interrupted, mocap, "--model plain --epochs 3 --depth 2")  # more epochs: continues at epoch 3, not from scratch
    assert without_time(log(interrupted)) == without_time(records)


def test_a_student_distils_from_a_teacher(tmp_path, mocap, tiny_teacher) -> None:
    out = tmp_path / "student"
    run(out, mocap, f"--model student --teacher {tiny_teacher} --epochs 2 --switch-epoch 1")
    records = log(out)
    assert len(records) == 2
    for r in records:  # epoch 1 aligns evenly spaced teacher frames, epoch 2 pools the top K
        assert all(np.isfinite(r[f"train_{k}"]) and r[f"train_{k}"] > 0 for k in ("reg", "emb", "attn", "temp"))
    student = Lifter.from_pretrained(out / "model.pt", device="cpu")
    assert student.config.upsample_head and student.config.teacher_embed_dim == 8  # the teacher's C
    with pytest.raises(SystemExit, match="screen-normalised"):
        run(tmp_path / "mismatch", mocap, f"--model student --teacher {tiny_teacher} --normalization screen")
    with pytest.raises(SystemExit, match="teacher"):
        run(tmp_path / "no_teacher", mocap, "--model student")


def test_a_distillation_loss_can_be_left_out_as_in_table_v(tmp_path, mocap, tiny_teacher) -> None:
    out = tmp_path / "no_attn"
    run(out, mocap, f"--model student --teacher {tiny_teacher} --epochs 1 --beta 0")
    (record,) = log(out)
    assert record["train_attn"] > 0  # still measured, but not in Eq. (8)'s sum
    assert record["train_total"] == pytest.approx(
        record["train_reg"] + record["train_emb"] + 0.01 * record["train_temp"], rel=1e-4
    )
    config = train.parse_args(["--model", "student", "--alpha", "0", "--gamma", "0.5"])
    assert (config.distill.alpha, config.distill.beta, config.distill.gamma) == (0.0, 1.0, 0.5)


def test_loss_balance_reports_each_terms_gradient_on_a_run_and_its_inference_checkpoint(
    tmp_path, mocap, tiny_teacher, capsys
) -> None:
    out = tmp_path / "no_attn"
    run(out, mocap, f"--model student --teacher {tiny_teacher} --epochs 1 --beta 0")
    emb = {}
    for state in ("last.pt", "model.pt"):  # model.pt has no FC of Eq. (1): it is fitted
        loss_balance.main([str(out / state), "--teacher", str(tiny_teacher), "--batches", "2", "--batch-size", "8"])
        rows = {
            line.split("|")[1].strip(): line.split("|")[2:-1]
            for line in capsys.readouterr().out.splitlines()
            if line.startswith("| L_")
        }
        assert list(rows) == ["L_reg", "L_emb", "L_attn", "L_temp"]
        assert [float(x) for x in rows["L_reg"][3:6:2]] == [1.0, 1.0]  # cosines with itself
        assert float(rows["L_attn"][0]) == 0 and float(rows["L_attn"][2]) == 0  # --beta 0: no weight, no pull
        assert float(rows["L_emb"][2]) > 0 and float(rows["L_emb"][4]) > 0  # L_emb reaches the spatial encoder
        for term in ("L_reg", "L_emb", "L_temp"):  # the spatial encoder's entries are a part of the whole gradient
            assert 0 < float(rows[term][4]) < float(rows[term][2])
        emb[state] = float(rows["L_emb"][1])
    assert emb["model.pt"] < emb["last.pt"]  # the least-squares FC fits better than two training steps did


def test_a_time_budget_ends_a_run_at_an_epoch_boundary_and_epochs_can_be_kept(tmp_path, mocap) -> None:
    out = tmp_path / "budget"
    run(out, mocap, "--model plain --epochs 5 --max-minutes 0.0001 --keep-epochs")
    assert [r["epoch"] for r in log(out)] == [1]  # a second epoch would end past the budget
    assert sorted(p.name for p in out.glob("model*.pt")) == ["model.pt", "model_e001.pt"]
    assert Lifter.from_pretrained(out / "model_e001.pt", device="cpu").info["epoch"] == 2


def test_a_run_can_start_from_trained_weights(tmp_path, mocap, tiny_teacher) -> None:
    import torch

    run(tmp_path / "same", mocap, f"--model teacher --embed-dim 8 --epochs 1 --init {tiny_teacher} --lr 0")
    before = Lifter.from_pretrained(tiny_teacher, device="cpu").model.state_dict()
    after = Lifter.from_pretrained(tmp_path / "same" / "model.pt", device="cpu").model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # a zero learning rate keeps them as they were
    with pytest.raises(SystemExit, match="another architecture"):
        run(tmp_path / "other", mocap, f"--model teacher --epochs 1 --init {tiny_teacher}")

    note = "Trained on a test machine."
    card = export.export(tmp_path / "same" / "model.pt", "tiny", mocap, tmp_path / "weights", notes=(note,)).read_text()
    assert note in card and " min of training wall time" in card
    assert f"--init {tiny_teacher}" in card and f"It started from the weights then at `{tiny_teacher}`" in card
    assert card.count("python -m pose_lifting.train --model teacher") == 2  # both runs' commands
    metrics = json.loads((tmp_path / "weights" / "tiny.json").read_text())
    assert set(metrics) == {"exact 2D", "noisy 2D", "detector 2D", "BlazePose 2D"}
    assert metrics["exact 2D"]["overall"]["mpjpe"] > 0
    assert Lifter.from_pretrained(tmp_path / "weights" / "tiny.pt", device="cpu").name == "tiny"


def test_background_workers_draw_batches_with_their_own_random_streams(tmp_path, mocap) -> None:
    from pose_lifting.datasets import DataConfig, load_data

    sampler = load_data(DataConfig(data_dir=str(mocap))).sampler(9, seed=0)
    stream = train.batch_stream(sampler, 8, workers=2, seed=[0])
    first, second = next(stream), next(stream)  # one from each worker
    assert first.windows.shape == second.windows.shape == (8, 9, 17, 2) and first.target.shape == (8, 17, 3)
    assert not np.allclose(first.windows, second.windows)
    run(tmp_path, mocap, "--model plain --epochs 1 --workers 2")
    assert log(tmp_path)[0]["poses_seen"] == 32


@pytest.mark.slow
def test_two_processes_train_a_distilled_student_with_ddp(tmp_path, mocap, tiny_teacher) -> None:
    out = tmp_path / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command += ["-m", "pose_lifting.train", *f"{TINY} {MOCAP_EPOCH} --data-dir {mocap} --out {out}".split()]
    command += ["--model", "student", "--teacher", str(tiny_teacher), "--epochs", "2"]
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    records = log(out)
    assert [r["epoch"] for r in records] == [1, 2] and records[-1]["poses_seen"] == 2 * 32
    assert "train_emb" in records[0]
    import torch

    state = torch.load(out / "last.pt", weights_only=False)
    assert len(state["sampler_rng"]) == 2 and state["sampler_rng"][0] != state["sampler_rng"][1]
    assert Lifter.from_pretrained(out / "model.pt", device="cpu").config.stride == 3


def test_human36m_training_and_evaluation(tmp_path, capsys) -> None:
    path_3d, path_2d = write_h36m_files(tmp_path, frames=12)
    files = f"--data h36m --h36m-3d {path_3d} --h36m-2d {path_2d}"
    config = train.parse_args(files.split())
    assert config.inputs.normalization == "screen" and config.epoch_size == 0  # the paper's protocol
    assert (
        train.parse_args(f"{files} --normalization subject --epoch-size 64".split()).inputs.normalization == "subject"
    )

    out = tmp_path / "run"
    # one pass per epoch: 5 subjects x 2 actions x 4 cameras x ~12 frames -> 29 steps of 16
    checkpoint = train.train(train.parse_args(f"{TINY} {files} --out {out} --model dense27 --epochs 1".split()))
    assert log(out)[0]["poses_seen"] == (5 * 2 * (4 * 12 - 1)) // 16 * 16
    assert np.isfinite(log(out)[0]["heldout_mpjpe"])
    lifter = Lifter.from_pretrained(checkpoint, device="cpu")
    assert lifter.inputs.normalization == "screen" and lifter.inputs.fps == 50.0

    capsys.readouterr()
    evaluate.main([str(checkpoint), *files.split(), "--device", "cpu", "--json", str(tmp_path / "h36m.json")])
    assert "MPJPE" in capsys.readouterr().out
    (result,) = json.loads((tmp_path / "h36m.json").read_text())
    assert set(result["per_source"]) == {"Walking", "Sitting"}  # actions without the take number
    assert result["overall"]["frames"] == 2 * 2 * (4 * 12 - 1)  # every frame of S9 and S11, four cameras
    assert np.isfinite(result["source_mean"]["mpjpe"]) and result["data"] == "h36m"
    with pytest.raises(SystemExit):
        train.parse_args(["--data", "h36m"])  # the files are needed


def test_evaluate_prints_metrics_and_writes_json(tmp_path, mocap, tiny_teacher, capsys) -> None:
    capsys.readouterr()
    out = tmp_path / "results.json"
    evaluate.main([str(tiny_teacher), "--data-dir", str(mocap), "--device", "cpu", "--json", str(out), "--noise"])
    printed = capsys.readouterr().out
    assert "MPJPE" in printed and "P-MPJPE" in printed
    (result,) = json.loads(out.read_text())
    assert result["noise"] and result["cameras"] == ["h36m", "phone"]
    assert result["overall"]["frames"] == 3 * 2 * 4 * 30  # 3 held-out sequences, 2 camera sets of 4
    assert set(result["per_source"]) == {"source_0", "source_1"}
    for key in ("mpjpe", "p_mpjpe", "n_mpjpe", "mpjve", "pck150", "auc"):
        assert np.isfinite(result["overall"][key])


def test_flags_that_cannot_build_a_model_are_refused() -> None:
    with pytest.raises(SystemExit):
        train.parse_args(["--model", "student", "--receptive-field", "10"])  # no centre frame
    with pytest.raises(SystemExit):
        train.parse_args(["--model", "student", "--receptive-field", "25"])  # stride 3 does not divide it
    config = train.parse_args(["--model", "student", "--receptive-field", "27", "--num-heads", "4"])
    assert config.architecture.num_frames == 9 and config.architecture.num_heads == 4


def test_the_scores_can_be_a_third_input_channel(tmp_path, mocap) -> None:
    import torch

    from pose_lifting.model import STUDENT, LifterConfig, PoseLifter, count_flops
    from pose_lifting.sequence import Pose2DSequence

    assert not LifterConfig().score_input and LifterConfig().input_channels == 2  # shipped weights load as they were
    assert not Lifter.from_pretrained("small", device="cpu").config.score_input
    config = LifterConfig(receptive_field=9, stride=3, embed_dim=4, depth=1, num_heads=2, upsample_head=True,
                          teacher_embed_dim=8, score_input=True)
    model = PoseLifter(config).eval()
    assert model.joint_embed.in_features == 3
    assert model(torch.zeros(5, 3, 17, 3)).shape == (5, 17, 3)
    with pytest.raises(ValueError, match="17, 3"):
        model(torch.zeros(5, 3, 17, 2))
    assert count_flops(model) > 0
    assert STUDENT.input_channels == 2

    out = run(tmp_path / "scores", mocap, "--model plain --stride 3 --score-input --epochs 1 --train-noise mix "
              "--detector-fraction 0.3 --blazepose-fraction 0.3")
    lifter = Lifter.from_pretrained(out, device="cpu")
    assert lifter.config.score_input and lifter.model.joint_embed.in_features == 3
    plain = run(tmp_path / "plain", mocap, "--model plain --stride 3 --epochs 1")
    extra = f"--model plain --stride 3 --epochs 1 --lr 0 --score-input --init {plain}"
    started = run(tmp_path / "started", mocap, extra)
    before, after = (Lifter.from_pretrained(p, device="cpu").model for p in (plain, started))
    x = torch.randn(4, 3, 17, 2)
    torch.testing.assert_close(after(torch.cat([x, torch.rand(4, 3, 17, 1)], -1)), before(x))  # same function
    rng = np.random.default_rng(0)
    keypoints = rng.uniform(100, 400, size=(20, 17, 2)).astype(np.float32)
    sure, doubtful = np.ones((20, 17), np.float32), np.full((20, 17), 0.2, np.float32)
    lifted = [lifter.lift(Pose2DSequence(keypoints, s, 30.0, 500, 500)).poses for s in (sure, doubtful)]
    assert lifted[0].shape == (20, 17, 3)
    assert not np.allclose(lifted[0], lifted[1])  # the scores reach the model
    assert "--score-input" in export.training_command(lifter.info["train"])


def test_a_validation_split_keeps_frames_out_of_training_and_chooses_an_epoch(tmp_path, mocap) -> None:
    from pose_lifting.data.mocap import load_mocap, split
    from pose_lifting.datasets import split_validation

    sequences, _ = split(load_mocap(mocap))
    train_part, validation = split_validation(sequences, 0.25)
    for whole, head, tail in zip(sequences, train_part, validation):
        assert len(head) + len(tail) == len(whole) and len(tail) >= 1  # every frame in exactly one of the two
        assert np.array_equal(np.concatenate([head.poses, tail.poses]), whole.poses)

    out = tmp_path / "validated"
    run(out, mocap, "--model plain --epochs 3 --keep-epochs --validation-share 0.25")
    records = log(out)
    assert [r["epoch"] for r in records] == [0, 1, 2, 3]  # epoch 0: the starting weights
    assert all({"val_exact_mpjpe", "val_detector_p_mpjpe", "val_blazepose_p_mpjpe"} <= set(r) for r in records)
    chosen = train.choose_epoch(out, tolerance_mm=1e6)
    scores = {r["epoch"]: r["val_detector_p_mpjpe"] + r["val_blazepose_p_mpjpe"] for r in records[1:]}
    assert chosen.name == f"model_e{min(scores, key=scores.get):03d}.pt"
    export.main([str(out), "--name", "tiny", "--data-dir", str(mocap), "--weights-dir", str(tmp_path / "weights"),
                 "--choose-epoch", "1e6"])  # what shipping runs, into a scratch folder
    card = (tmp_path / "weights" / "tiny.md").read_text()
    assert f"`{chosen.name}`, the lowest detector-like validation P-MPJPE" in card
    with pytest.raises(SystemExit, match="within"):
        train.choose_epoch(out, tolerance_mm=-1e6)  # no epoch can be that much better on exact 2D
    (tmp_path / "log.jsonl").write_text('{"epoch": 1}\n')  # a run without the validation split
    with pytest.raises(SystemExit, match="epoch-0"):
        train.choose_epoch(tmp_path, 1.0)
