"""Train a lifter: the dense teacher, the SCJD-distilled sparse student, or a baseline without distillation.

    python -m pose_lifting.train --model teacher --out runs/teacher
    python -m pose_lifting.train --model student --teacher runs/teacher/model.pt --out runs/student
    python -m pose_lifting.train --model plain   --out runs/plain      # sparse student, L_reg only
    python -m pose_lifting.train --model dense27 --out runs/dense27    # 27 consecutive frames, L_reg only

Data: the registry mocap prepared by `python -m pose_lifting.data.prepare`, turned into 2D by random
virtual cameras every batch. An "epoch" is `--epoch-size` random windows. Adam(W) with weight decay 0.1 and
an exponential learning-rate decay per epoch (paper: 1e-3, x0.98). `runs/<name>/last.pt` holds everything
needed to resume (written every few minutes and every epoch; rerun the same command to continue);
`runs/<name>/model.pt` is the fp16 inference checkpoint; `runs/<name>/log.jsonl` one line per epoch.
Several processes (GPUs, nodes) train with PyTorch's DDP when launched by `torchrun`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from pose_lifting.distill import SCJDObjective
from pose_lifting.evaluate import view_windows, views
from pose_lifting.generators import AugmentConfig, Batch, WindowSampler
from pose_lifting.lifter import resolve_device, save_checkpoint
from pose_lifting.losses import DistillConfig
from pose_lifting.metrics import mpjpe, p_mpjpe
from pose_lifting.model import DENSE27, STUDENT, TEACHER, LifterConfig, PoseLifter
from pose_lifting.normalization import InputConfig, normalize_windows

PRESETS = {"teacher": TEACHER, "student": STUDENT, "plain": STUDENT, "dense27": DENSE27}


@dataclass
class TrainConfig:
    model: str = "student"  # teacher | student (SCJD) | plain (sparse, no distillation) | dense27
    out: str = "runs/student"
    teacher: str | None = None  # inference checkpoint of the teacher, for --model student
    data_dir: str = "data"
    epochs: int = 50
    epoch_size: int = 100_000  # random windows per epoch
    batch_size: int = 256  # over all processes
    lr: float = 1e-3
    lr_decay: float = 0.98
    weight_decay: float = 0.1
    seed: int = 0
    threads: int = 0  # CPU threads; 0 = PyTorch's default
    device: str = "auto"
    checkpoint_minutes: float = 5.0
    amp: str = "auto"  # bf16 autocast: "auto" (where the CPU or GPU has fast bf16), "bf16" or "none"
    eval_every_frames: int = 5  # held-out centre frames for the per-epoch check
    architecture: LifterConfig = field(default_factory=LifterConfig)
    inputs: InputConfig = field(default_factory=InputConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)


def setup_distributed(device: str) -> tuple[int, int, torch.device]:
    """(rank, world size, device); initialises the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, resolve_device(device)
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device != "cpu"
    dist.init_process_group("nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(local)
        return rank, world, torch.device("cuda", local)
    return rank, world, torch.device("cpu")


def use_bf16(amp: str, device: torch.device) -> bool:
    """bf16 autocast halves the training time on CPUs with AMX/AVX512-BF16 and on recent GPUs."""
    if amp == "auto":
        if device.type == "cuda":
            return torch.cuda.is_bf16_supported()
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return amp == "bf16"


def to_tensors(batch: Batch, inputs: InputConfig, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    windows = normalize_windows(
        torch.from_numpy(batch.windows),
        torch.from_numpy(batch.width),
        torch.from_numpy(batch.height),
        inputs.normalization,
    )
    return windows.to(device), torch.from_numpy(batch.target).to(device)


@torch.no_grad()
def quick_heldout(
    model: PoseLifter, batches: list[Batch], inputs: InputConfig, device: torch.device
) -> dict[str, float]:
    """MPJPE / P-MPJPE (mm) on fixed held-out windows; the full evaluation is pose_lifting.evaluate."""
    from pose_lifting.sampling import sparse_indices

    model.eval()
    frames = sparse_indices(model.config.receptive_field, model.config.stride)
    preds, targets = [], []
    for batch in batches:
        windows, target = to_tensors(batch, inputs, device)
        for chunk in range(0, len(windows), 512):
            preds.append(model(windows[chunk : chunk + 512, frames]).float().cpu().numpy())
        targets.append(target.cpu().numpy())
    model.train()
    pred, target = np.concatenate(preds), np.concatenate(targets)
    return {"heldout_mpjpe": mpjpe(pred, target), "heldout_p_mpjpe": p_mpjpe(pred, target)}


def load_teacher(path: str, device: torch.device) -> PoseLifter:
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    teacher = PoseLifter(LifterConfig(**checkpoint["config"]))
    teacher.load_state_dict({k: v.float() for k, v in checkpoint["state_dict"].items()})
    return teacher.to(device)


def train(config: TrainConfig) -> Path:
    from pose_lifting.data.mocap import load_mocap, split

    rank, world, device = setup_distributed(config.device)
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed + rank)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)

    train_seqs, heldout_seqs = split(load_mocap(config.data_dir))
    arch = config.architecture
    sampler = WindowSampler(
        [s.poses for s in train_seqs], arch.receptive_field, config.augment, seed=config.seed + rank
    )
    heldout = view_windows(list(views(heldout_seqs)), arch.receptive_field, config.eval_every_frames)

    student = PoseLifter(arch).to(device)
    teacher = None
    if config.model == "student":
        if not config.teacher:
            raise SystemExit("--model student distils from a teacher: pass --teacher runs/teacher/model.pt")
        teacher = load_teacher(config.teacher, device)
    objective = SCJDObjective(student, teacher, config.distill).to(device)
    trainable = [p for p in objective.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)
    step_model = torch.nn.parallel.DistributedDataParallel(objective) if world > 1 else objective

    epoch, step, seconds, poses_seen = 1, 0, 0.0, 0
    resume = out / "last.pt"
    if resume.exists():
        state = torch.load(resume, map_location="cpu", weights_only=False)
        objective.load_state_dict(state["objective"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        epoch, step, seconds, poses_seen = state["epoch"], state["step"], state["seconds"], state["poses_seen"]
        sampler.rng.bit_generator.state = (
            state["sampler_rng"][rank] if rank < len(state["sampler_rng"]) else state["sampler_rng"][0]
        )
        if rank == 0:
            print(f"resuming {resume}: epoch {epoch}, step {step}, {poses_seen:,} poses seen")

    def save_state() -> None:
        rngs = [sampler.rng.bit_generator.state]
        if world > 1:
            gathered: list = [None] * world
            dist.all_gather_object(gathered, rngs[0])
            rngs = gathered
        if rank == 0:
            payload = {
                "objective": {k: v for k, v in objective.state_dict().items() if not k.startswith("teacher.")},
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "epoch": epoch,
                "step": step,
                "seconds": seconds,
                "poses_seen": poses_seen,
                "sampler_rng": rngs,
                "config": json.loads(json.dumps(asdict(config))),
            }
            torch.save(payload, out / "last.tmp")
            os.replace(out / "last.tmp", resume)
            save_checkpoint(
                out / "model.pt",
                student,
                config.inputs,
                config.model,
                train=payload["config"],
                epoch=epoch,
                poses_seen=poses_seen,
                train_seconds=seconds,
            )

    bf16 = use_bf16(config.amp, device)
    per_rank = config.batch_size // world
    steps_per_epoch = max(1, config.epoch_size // config.batch_size)
    last_save = time.time()
    objective.train()
    while epoch <= config.epochs:
        bar = tqdm(
            total=steps_per_epoch,
            initial=step,
            desc=f"{config.model} epoch {epoch}/{config.epochs}",
            disable=rank != 0,
            dynamic_ncols=True,
        )
        sums: dict[str, float] = {}
        count = 0
        epoch_start = time.time()
        while step < steps_per_epoch:
            windows, target = to_tensors(sampler.sample(per_rank), config.inputs, device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                losses = step_model(windows, target, epoch)
            optimizer.zero_grad(set_to_none=True)
            losses["total"].backward()
            optimizer.step()
            step += 1
            count += 1
            poses_seen += config.batch_size
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v)
            bar.set_postfix(reg_mm=f"{1000 * float(losses['reg']):.1f}")
            bar.update()
            if time.time() - last_save > 60 * config.checkpoint_minutes:
                seconds += time.time() - epoch_start
                epoch_start = time.time()
                save_state()
                last_save = time.time()
        bar.close()
        seconds += time.time() - epoch_start
        record = {
            "epoch": epoch,
            "lr": scheduler.get_last_lr()[0],
            "poses_seen": poses_seen,
            "train_seconds": round(seconds, 1),
        }
        record |= {f"train_{k}": v / max(1, count) for k, v in sums.items()}
        if rank == 0:
            record |= quick_heldout(student, heldout, config.inputs, device)
            with (out / "log.jsonl").open("a") as log:
                log.write(json.dumps(record) + "\n")
            print(json.dumps(record))
        scheduler.step()
        epoch, step = epoch + 1, 0
        save_state()
        last_save = time.time()
    if world > 1:
        dist.destroy_process_group()
    return out / "model.pt"


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = TrainConfig()
    parser.add_argument("--model", choices=sorted(PRESETS), default=defaults.model)
    parser.add_argument("--out", help="run folder (default runs/<model>)")
    for name in (
        "teacher",
        "data_dir",
        "epochs",
        "epoch_size",
        "batch_size",
        "lr",
        "lr_decay",
        "weight_decay",
        "seed",
        "threads",
        "device",
        "checkpoint_minutes",
    ):
        value = getattr(defaults, name)
        parser.add_argument(
            "--" + name.replace("_", "-"), type=type(value) if value is not None else str, default=value
        )
    parser.add_argument("--embed-dim", type=int, help="C (default: the preset's)")
    parser.add_argument("--depth", type=int, help="transformer blocks per encoder (default: the preset's)")
    parser.add_argument("--stride", type=int, help="sparse sampling stride L (default: the preset's)")
    parser.add_argument("--drop-path", type=float, help="stochastic depth rate (default: the preset's)")
    parser.add_argument("--normalization", choices=("screen", "subject"), default=defaults.inputs.normalization)
    parser.add_argument("--switch-epoch", type=int, default=defaults.distill.switch_epoch, help="N of Eq. (1)")
    args = parser.parse_args(argv)
    overrides = {
        k: getattr(args, k) for k in ("embed_dim", "depth", "stride", "drop_path") if getattr(args, k) is not None
    }
    architecture = replace(PRESETS[args.model], **overrides)
    values = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
    values["out"] = args.out or f"runs/{args.model}"
    return TrainConfig(
        **values,
        architecture=architecture,
        inputs=InputConfig(normalization=args.normalization),
        distill=DistillConfig(switch_epoch=args.switch_epoch),
    )


if __name__ == "__main__":
    print(f"model written to {train(parse_args())}")
