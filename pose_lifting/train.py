"""Train a lifter: the dense teacher, the SCJD-distilled sparse student, or a baseline without distillation.

    python -m pose_lifting.train --model teacher --out runs/teacher
    python -m pose_lifting.train --model student --teacher runs/teacher/model.pt --out runs/student
    python -m pose_lifting.train --model plain   --out runs/plain      # sparse student, L_reg only
    python -m pose_lifting.train --model dense27 --out runs/dense27    # 27 consecutive frames, L_reg only
    python -m pose_lifting.train --data h36m --h36m-3d data_3d_h36m.npz \
        --h36m-2d data_2d_h36m_cpn_ft_h36m_dbb.npz --model teacher --out runs/h36m_teacher

Data (see pose_lifting.datasets): by default the registry mocap prepared by `python -m pose_lifting.data.prepare`,
turned into 2D by random virtual cameras every batch; an "epoch" is `--epoch-size` random windows. With
`--data h36m`, the paper's protocol: Human3.6M's 2D detections and 3D poses (S1, S5, S6, S7, S8), screen
normalisation, pose-level flips, an epoch is one pass's worth of windows, checked on S9 and S11 after every epoch.
Adam(W) with weight decay 0.1 and an exponential learning-rate decay per epoch (paper: 1e-3, x0.98).
`runs/<name>/last.pt` holds everything needed to resume, random states included (written every few minutes and
every epoch; rerun the same command, or raise `--epochs`, to continue); `runs/<name>/model.pt` is the fp16
inference checkpoint (`--keep-epochs` also keeps each epoch's as `model_e<N>.pt`); `runs/<name>/log.jsonl` one
line per epoch. `--max-minutes` ends a run at the last epoch boundary that fits in a time budget.
`--workers N` draws batches in N background processes, for a GPU that would otherwise wait on the CPU.
`--init CHECKPOINT` starts from trained weights with a fresh optimiser (last.pt, with the optimiser's state, is
too large to carry between machines for the teacher; its fp16 model.pt is not).
Several processes (GPUs, nodes) train with PyTorch's DDP when launched by `torchrun`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from pose_lifting.datasets import DEFAULT_NORMALIZATION, DataConfig, View, add_data_arguments, data_config, load_data
from pose_lifting.distill import SCJDObjective
from pose_lifting.generators import NOISE_MODELS, AugmentConfig, Batch, Sampler
from pose_lifting.lifter import Lifter, resolve_device, save_checkpoint
from pose_lifting.losses import DistillConfig
from pose_lifting.metrics import mpjpe, p_mpjpe
from pose_lifting.model import DENSE27, STUDENT, TEACHER, LifterConfig, PoseLifter
from pose_lifting.normalization import NORMALIZATIONS, InputConfig, normalize_windows
from pose_lifting.sampling import sparse_indices, video_windows

PRESETS = {"teacher": TEACHER, "student": STUDENT, "plain": STUDENT, "dense27": DENSE27}


@dataclass
class TrainConfig:
    model: str = "student"  # teacher | student (SCJD) | plain (sparse, no distillation) | dense27
    out: str = "runs/student"
    teacher: str | None = None  # inference checkpoint of the teacher, for --model student
    init: str | None = None  # inference checkpoint to start from (fresh optimiser), e.g. to train shipped weights on
    epochs: int = 50
    epoch_size: int = 100_000  # random windows per epoch; 0: as many as the training data has frames
    batch_size: int = 256  # over all processes
    lr: float = 1e-3
    lr_decay: float = 0.98
    weight_decay: float = 0.1
    seed: int = 0
    threads: int = 0  # CPU threads; 0 = PyTorch's default
    device: str = "auto"
    checkpoint_minutes: float = 5.0
    max_minutes: float = 0.0  # wall-time budget: stop at the last epoch end that fits (0: no limit)
    keep_epochs: bool = False  # also keep every epoch's inference checkpoint as model_e<N>.pt
    workers: int = 0  # background sampling processes (0: in this process, exactly resumable)
    amp: str = "auto"  # bf16 autocast: "auto" (on GPUs with bf16), "bf16" or "none"
    compile: bool = False  # the training step's forward passes through torch.compile (a minute to compile)
    eval_every_frames: int = 5  # held-out centre frames for the per-epoch check
    architecture: LifterConfig = field(default_factory=LifterConfig)
    inputs: InputConfig = field(default_factory=InputConfig)  # its fps is set from the data
    distill: DistillConfig = field(default_factory=DistillConfig)
    data: DataConfig = field(default_factory=DataConfig)


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
    """bf16 autocast: on by default on GPUs that support it, off by default on the CPU: on this project's 2-core
    AMX Xeon it made the C16 student's step 1.3x and a C8 student's 1.9x slower (these matrices are too small
    to repay the casts) and the teacher's and the distilled student's only 1.2x faster
    (`python -m scripts.bench_training`)."""
    if amp == "auto":
        return device.type == "cuda" and torch.cuda.is_bf16_supported()
    return amp == "bf16"


def to_tensors(batch: Batch, inputs: InputConfig, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised dense windows and targets on the device."""
    windows = normalize_windows(
        torch.from_numpy(batch.windows).to(device), batch.width, batch.height, inputs.normalization
    )
    return windows, torch.from_numpy(batch.target).to(device)


@torch.no_grad()
def quick_heldout(
    model: PoseLifter, views: list[View], inputs: InputConfig, every: int, device: torch.device
) -> dict[str, float]:
    """MPJPE / P-MPJPE (mm) on windows around every `every`-th frame of the held-out views, as `Lifter.lift`
    builds them but without flips; the full evaluation is pose_lifting.evaluate."""
    model.eval()
    frames = sparse_indices(model.config.receptive_field, model.config.stride)
    preds, targets = [], []
    for view in views:
        index = video_windows(len(view.pixels), model.config.receptive_field, 1)[::every]
        windows = torch.from_numpy(view.pixels[index]).to(device)
        windows = normalize_windows(windows, view.width, view.height, inputs.normalization)[:, frames]
        preds += [model(windows[chunk : chunk + 512]).float().cpu().numpy() for chunk in range(0, len(windows), 512)]
        targets.append(view.target[::every])
    model.train()
    pred, target = np.concatenate(preds), np.concatenate(targets)
    return {"heldout_mpjpe": mpjpe(pred, target), "heldout_p_mpjpe": p_mpjpe(pred, target)}


class _Batches(torch.utils.data.IterableDataset):
    """Endless training batches drawn in a DataLoader worker, each worker with its own random stream."""

    def __init__(self, sampler: Sampler, batch_size: int, seed: list[int]):
        self.sampler, self.batch_size, self.seed = sampler, batch_size, seed

    def __iter__(self) -> Iterator[Batch]:
        self.sampler.rng = np.random.default_rng([*self.seed, torch.utils.data.get_worker_info().id])
        while True:
            yield self.sampler.sample(self.batch_size)


def batch_stream(sampler: Sampler, batch_size: int, workers: int, seed: list[int]) -> Iterator[Batch]:
    """Training batches: drawn here, exactly resumable from the sampler's saved random state, or by `workers`
    background processes, which keep a GPU busy but continue a resumed run with fresh random streams."""
    if workers == 0:
        while True:
            yield sampler.sample(batch_size)
    loader = torch.utils.data.DataLoader(
        _Batches(sampler, batch_size, seed), batch_size=None, num_workers=workers, prefetch_factor=4
    )
    yield from loader


def rank0_decides(flag: bool, world: int, device: torch.device) -> bool:
    """Rank 0's `flag` on every rank, so that all of them enter a collective (a checkpoint) at the same step."""
    if world == 1:
        return flag
    tensor = torch.tensor([float(flag)], device=device)
    dist.broadcast(tensor, 0)
    return bool(tensor.item())


def check_inputs(lifter: Lifter, inputs: InputConfig, what: str) -> None:
    """Stop unless `lifter` was trained on 2D input prepared as this run prepares it."""
    if (lifter.inputs.normalization, lifter.inputs.fps) != (inputs.normalization, inputs.fps):
        raise SystemExit(
            f"{what} was trained on {lifter.inputs.normalization}-normalised {lifter.inputs.fps:g} fps "
            f"input, this run gets {inputs.normalization}-normalised {inputs.fps:g} fps input"
        )


def load_teacher(path: str, inputs: InputConfig, device: torch.device) -> PoseLifter:
    """The frozen teacher of a distilled student; its 2D input must be prepared as the student's is."""
    teacher = Lifter.from_pretrained(path, str(device))
    check_inputs(teacher, inputs, f"the teacher {path}")
    return teacher.model


def start_from(model: PoseLifter, path: str, inputs: InputConfig, load: bool) -> dict:
    """Check that an inference checkpoint has `model`'s architecture and input preparation, copy its weights into
    `model` if `load`, and return its history (what trained it) for the new checkpoints."""
    start = Lifter.from_pretrained(path, "cpu")
    if replace(start.config, drop_path=model.config.drop_path) != model.config:
        raise SystemExit(f"--init {path} holds another architecture: {start.config}")
    check_inputs(start, inputs, f"--init {path}")
    if load:
        model.load_state_dict(start.model.state_dict())
    keys = ("train", "poses_seen", "train_seconds", "started_from")
    return {"path": path} | {k: start.info[k] for k in keys if k in start.info}


def train(config: TrainConfig) -> Path:
    began = time.time()
    rank, world, device = setup_distributed(config.device)
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed + rank)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)

    data = load_data(config.data)
    inputs = replace(config.inputs, fps=data.fps)
    arch = config.architecture
    teacher = None
    if config.model == "student":
        if not config.teacher:
            raise SystemExit("--model student distils from a teacher: pass --teacher runs/teacher/model.pt")
        teacher = load_teacher(config.teacher, inputs, device)
        arch = replace(arch, teacher_embed_dim=teacher.config.embed_dim)  # C^T of the Eq. (5) head
    sampler = data.sampler(arch.receptive_field, config.seed + rank)
    heldout = data.heldout_views() if rank == 0 else []
    per_rank = config.batch_size // world
    if per_rank < 1:
        raise SystemExit(f"--batch-size {config.batch_size} is smaller than the {world} processes")
    steps_per_epoch = max(1, (config.epoch_size or len(sampler)) // config.batch_size)

    student = PoseLifter(arch).to(device)
    resume = out / "last.pt"
    started_from = start_from(student, config.init, inputs, load=not resume.exists()) if config.init else None
    objective = SCJDObjective(student, teacher, config.distill).to(device)
    if config.compile:
        objective.compile_features()
    trainable = [p for p in objective.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)
    # The frozen teacher's parameters need no gradient, so DDP leaves them out; no buffer changes while training.
    step_model = objective
    if world > 1:
        step_model = torch.nn.parallel.DistributedDataParallel(objective, broadcast_buffers=False)

    epoch, step, seconds, poses_seen = 1, 0, 0.0, 0
    sums: dict[str, float | torch.Tensor] = {}  # this epoch's loss sums over `count` steps
    count = 0
    if resume.exists():
        state = torch.load(resume, map_location="cpu", weights_only=False)
        missing, unexpected = objective.load_state_dict(state["objective"], strict=False)
        if unexpected or any(not k.startswith("teacher.") for k in missing):
            raise SystemExit(f"{resume} holds another model (missing {missing}, unexpected {unexpected})")
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        epoch, step, seconds, poses_seen = state["epoch"], state["step"], state["seconds"], state["poses_seen"]
        sums, count = state.get("epoch_sums", {}), state.get("epoch_steps", 0)
        if len(state["sampler_rng"]) == world:
            sampler.rng.bit_generator.state = state["sampler_rng"][rank]
            if "torch_rng" in state:
                torch.set_rng_state(state["torch_rng"][rank])
            if device.type == "cuda" and state.get("cuda_rng"):
                torch.cuda.set_rng_state(state["cuda_rng"][rank], device)
        else:  # another number of processes: fresh random streams, different on every rank
            sampler.rng = np.random.default_rng([config.seed, rank, poses_seen])
        if rank == 0:
            print(f"resuming {resume}: epoch {epoch}, step {step}, {poses_seen:,} poses seen")

    def save_state() -> None:
        rngs = {
            "sampler": sampler.rng.bit_generator.state,
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        }
        gathered = [rngs]
        if world > 1:
            gathered = [None] * world
            dist.all_gather_object(gathered, rngs)
        if rank == 0:
            payload = {
                "objective": {k: v for k, v in objective.state_dict().items() if not k.startswith("teacher.")},
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "epoch": epoch,
                "step": step,
                "seconds": seconds,
                "poses_seen": poses_seen,
                "epoch_sums": {k: float(v) for k, v in sums.items()},
                "epoch_steps": count,
                "sampler_rng": [r["sampler"] for r in gathered],
                "torch_rng": [r["torch"] for r in gathered],
                "cuda_rng": [r["cuda"] for r in gathered] if device.type == "cuda" else None,
                "config": json.loads(json.dumps(asdict(config))),
            }
            torch.save(payload, out / "last.tmp")
            os.replace(out / "last.tmp", resume)
            save_checkpoint(
                out / "model.pt",
                student,
                inputs,
                config.model,
                train=payload["config"],
                epoch=epoch,
                poses_seen=poses_seen,
                train_seconds=seconds,
                **({"started_from": started_from} if started_from else {}),
            )

    bf16 = use_bf16(config.amp, device)
    batches = batch_stream(sampler, per_rank, config.workers, [config.seed, rank, poses_seen])
    first_epoch = epoch
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
        started = time.time()  # `seconds` counts training steps, not checkpoints or held-out checks
        while step < steps_per_epoch:
            windows, target = to_tensors(next(batches), inputs, device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                losses = step_model(windows, target, epoch)
            optimizer.zero_grad(set_to_none=True)
            losses["total"].backward()
            optimizer.step()
            step += 1
            count += 1
            poses_seen += per_rank * world
            for k, v in losses.items():  # summed on the device: no wait for the GPU every step
                sums[k] = sums.get(k, 0.0) + v.detach().float()
            if step % 10 == 0:
                bar.set_postfix(reg_mm=f"{1000 * losses['reg'].item():.1f}")
            bar.update()
            due = time.time() - last_save >= 60 * config.checkpoint_minutes
            if step < steps_per_epoch and (world == 1 or step % 10 == 0) and rank0_decides(due, world, device):
                seconds += time.time() - started
                save_state()
                last_save = started = time.time()
        bar.close()
        seconds += time.time() - started
        record = {
            "epoch": epoch,
            "lr": scheduler.get_last_lr()[0],
            "poses_seen": poses_seen,
            "train_seconds": round(seconds, 1),
        }
        record |= {f"train_{k}": float(v) / max(1, count) for k, v in sums.items()}
        if rank == 0:
            record |= quick_heldout(student, heldout, inputs, config.eval_every_frames, device)
            with (out / "log.jsonl").open("a") as log:
                log.write(json.dumps(record) + "\n")
            print(json.dumps(record))
        scheduler.step()
        epoch, step, sums, count = epoch + 1, 0, {}, 0
        save_state()
        if config.keep_epochs and rank == 0:
            shutil.copyfile(out / "model.pt", out / f"model_e{epoch - 1:03d}.pt")
        last_save = time.time()
        if config.max_minutes:  # would one more epoch, as long as the average so far, end past the budget?
            elapsed = time.time() - began
            out_of_time = elapsed * (epoch - first_epoch + 1) / (epoch - first_epoch) > 60 * config.max_minutes
            if rank0_decides(out_of_time, world, device) and epoch <= config.epochs:
                if rank == 0:
                    print(f"stopping after epoch {epoch - 1}: one more would end past {config.max_minutes:g} minutes")
                break
    if world > 1:
        dist.destroy_process_group()
    return out / "model.pt"


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = TrainConfig()
    parser.add_argument("--model", choices=sorted(PRESETS), default=defaults.model)
    parser.add_argument("--out", help="run folder (default runs/<model>)")
    add_data_arguments(parser)
    for name in (
        "teacher",
        "init",
        "epochs",
        "batch_size",
        "lr",
        "lr_decay",
        "weight_decay",
        "seed",
        "threads",
        "device",
        "checkpoint_minutes",
        "max_minutes",
        "workers",
        "eval_every_frames",
    ):
        value = getattr(defaults, name)
        parser.add_argument(
            "--" + name.replace("_", "-"), type=type(value) if value is not None else str, default=value
        )
    parser.add_argument(
        "--epoch-size",
        type=int,
        help=f"random windows per epoch; 0: one pass's worth (default: {defaults.epoch_size} for mocap, 0 for h36m)",
    )
    parser.add_argument("--keep-epochs", action="store_true", help="keep every epoch's model as model_e<N>.pt")
    parser.add_argument("--amp", choices=("auto", "bf16", "none"), default=defaults.amp, help="bf16 autocast")
    parser.add_argument("--compile", action="store_true", help="torch.compile the training step's forward passes")
    parser.add_argument("--receptive-field", type=int, help="frames a window spans (default: the preset's)")
    parser.add_argument("--embed-dim", type=int, help="C (default: the preset's)")
    parser.add_argument("--depth", type=int, help="transformer blocks per encoder (default: the preset's)")
    parser.add_argument("--num-heads", type=int, help="attention heads (default: the preset's)")
    parser.add_argument("--stride", type=int, help="sparse sampling stride L (default: the preset's)")
    parser.add_argument("--drop-path", type=float, help="stochastic depth rate (default: the preset's)")
    parser.add_argument(
        "--head-width", type=int, help="per-joint width of the Eq. (5) head, C^T (default: the teacher's, else 32)"
    )
    parser.add_argument(
        "--normalization",
        choices=NORMALIZATIONS,
        help="2D input normalisation (default: subject for mocap, screen for h36m as in the paper)",
    )
    parser.add_argument(
        "--train-noise", choices=NOISE_MODELS, default=AugmentConfig.noise, help="mocap: 2D error model of training"
    )
    parser.add_argument("--switch-epoch", type=int, default=defaults.distill.switch_epoch, help="N of Eq. (1)")
    for name, term in (("alpha", "L_emb"), ("beta", "L_attn"), ("gamma", "L_temp")):
        default = getattr(defaults.distill, name)
        parser.add_argument(f"--{name}", type=float, default=default, help=f"weight of {term} in Eq. (8) ({default:g})")
    args = parser.parse_args(argv)
    names = ("receptive_field", "embed_dim", "depth", "num_heads", "stride", "drop_path")
    architecture = replace(PRESETS[args.model], **{k: getattr(args, k) for k in names if getattr(args, k) is not None})
    if args.head_width is not None:
        architecture = replace(architecture, teacher_embed_dim=args.head_width)
    try:
        architecture.num_frames  # noqa: B018 -- checks that the stride divides the receptive field
    except ValueError as error:
        parser.error(str(error))
    values = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
    values["out"] = args.out or f"runs/{args.model}"
    if args.epoch_size is None:
        values["epoch_size"] = 0 if args.source == "h36m" else defaults.epoch_size
    return TrainConfig(
        **values,
        architecture=architecture,
        inputs=InputConfig(
            normalization=args.normalization or DEFAULT_NORMALIZATION.get(args.source, defaults.inputs.normalization)
        ),
        distill=DistillConfig(switch_epoch=args.switch_epoch, alpha=args.alpha, beta=args.beta, gamma=args.gamma),
        data=data_config(parser, args, augment=AugmentConfig(noise=args.train_noise)),
    )


if __name__ == "__main__":
    print(f"model written to {train(parse_args())}")
