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
`--validation-share 0.1` keeps the last tenth of every training sequence out of training and logs the lifter's
errors on it (exact, YOLO-like and BlazePose-like 2D; from epoch 0, the starting weights) beside the held-out
check, so that `choose_epoch` (`python -m pose_lifting.export --choose-epoch`) picks an epoch of a
`--keep-epochs` run without looking at the held-out sequences.
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
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from pose_lifting.cli_options import KEEP, add_options, from_options
from pose_lifting.datasets import DEFAULT_NORMALIZATION, DataConfig, View, add_data_arguments, data_config, load_data
from pose_lifting.devices import Device, resolve_device
from pose_lifting.distill import SCJDObjective
from pose_lifting.generators import AugmentConfig, Batch, Sampler
from pose_lifting.lifter import Lifter, save_checkpoint
from pose_lifting.losses import DistillConfig
from pose_lifting.metrics import mpjpe, p_mpjpe
from pose_lifting.model import DENSE27, STUDENT, TEACHER, LifterConfig, PoseLifter
from pose_lifting.normalization import InputConfig, normalize_windows, with_scores
from pose_lifting.sampling import Target, sparse_indices, video_windows

PRESETS = {"teacher": TEACHER, "student": STUDENT, "plain": STUDENT, "dense27": DENSE27}
ARCHITECTURE_OPTIONS = {"teacher_embed_dim": "head_width"}  # LifterConfig fields under another option name
# how a run used its machine, not what it learned: left out of the command that reproduces it (export.py)
MACHINE_OPTIONS = ("device", "threads", "workers", "checkpoint_minutes", "max_minutes", "keep_epochs", "compile")
# AugmentConfig fields with an option (the others are fixed design)
AUGMENT_OPTIONS = {"noise": "train_noise", "detector_fraction": "detector_fraction",
                   "blazepose_fraction": "blazepose_fraction", "limb_mix": "limb_mix", "angle_offset": "angle_offset",
                   "orientation": "orientation", "speed": "speed"}
AUGMENT_SKIP = tuple(f.name for f in fields(AugmentConfig) if f.name not in AUGMENT_OPTIONS)
# the validation check's 2D: log key -> the held-out noise (datasets.HeldoutNoise) it is made with
VALIDATION_NOISE = {"val_exact": "none", "val_detector": "detector", "val_blazepose": "blazepose"}


@dataclass
class TrainConfig:
    model: Literal["teacher", "student", "plain", "dense27"] = "student"  # student: SCJD; plain: sparse, no teacher
    out: str = "runs/student"  # run folder; on the command line runs/<model> by default
    teacher: str | None = None  # inference checkpoint of the teacher, for --model student
    init: str | None = None  # inference checkpoint to start from (fresh optimiser), e.g. to train shipped weights on
    epochs: int = 50
    epoch_size: int = 100_000  # random windows per epoch; 0: one pass's worth (command line: 0 for --data h36m)
    batch_size: int = 256  # over all processes
    lr: float = 1e-3
    lr_decay: float = 0.98
    weight_decay: float = 0.1
    seed: int = 0
    threads: int = 0  # CPU threads; 0 = PyTorch's default
    device: Device = "auto"
    checkpoint_minutes: float = 5.0  # last.pt is written this often within an epoch, and at every epoch's end
    max_minutes: float = 0.0  # wall-time budget: stop at the last epoch end that fits (0: no limit)
    keep_epochs: bool = False  # also keep every epoch's inference checkpoint as model_e<N>.pt
    workers: int = 0  # background sampling processes (0: in this process, exactly resumable)
    amp: Literal["auto", "bf16", "none"] = "auto"  # bf16 autocast: "auto" (on GPUs with bf16), "bf16" or "none"
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
    """bf16 autocast: on by default on GPUs that support it, off by default on the CPU, where these small matrices
    do not repay the casts (docs/benchmarks.md)."""
    if amp == "auto":
        return device.type == "cuda" and torch.cuda.is_bf16_supported()
    return amp == "bf16"


def to_tensors(
    batch: Batch, inputs: InputConfig, device: torch.device, scores: bool = False, target: Target = "centre"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised dense windows (with `scores`, the batch's scores as a third channel) and targets on the device."""
    windows = normalize_windows(
        torch.from_numpy(batch.windows).to(device), batch.width, batch.height, inputs.normalization, target
    )
    if scores:
        values = np.ones(batch.windows.shape[:3], np.float32) if batch.scores is None else batch.scores
        windows = with_scores(windows, torch.from_numpy(values).to(device))
    return windows, torch.from_numpy(batch.target).to(device)


@torch.no_grad()
def quick_heldout(
    model: PoseLifter,
    views: list[View],
    inputs: InputConfig,
    every: int,
    device: torch.device,
    prefix: str = "heldout",
) -> dict[str, float]:
    """MPJPE / P-MPJPE (mm) on windows around every `every`-th frame of the views (`<prefix>_mpjpe`, ...), as
    `Lifter.lift` builds them but without flips; the full evaluation is pose_lifting.evaluate."""
    model.eval()
    c = model.config
    frames = sparse_indices(c.receptive_field, c.stride, c.target)
    preds, targets = [], []
    for view in views:
        index = video_windows(len(view.pixels), c.receptive_field, 1, c.target)[::every]
        windows = torch.from_numpy(view.pixels[index]).to(device)
        windows = normalize_windows(windows, view.width, view.height, inputs.normalization, c.target)
        if c.score_input:
            scores = np.ones(view.pixels.shape[:2], np.float32) if view.scores is None else view.scores
            windows = with_scores(windows, torch.from_numpy(scores[index].astype(np.float32)).to(device))
        windows = windows[:, frames]
        preds += [model(windows[chunk : chunk + 512]).float().cpu().numpy() for chunk in range(0, len(windows), 512)]
        targets.append(view.target[::every])
    model.train()
    pred, target = np.concatenate(preds), np.concatenate(targets)
    return {f"{prefix}_mpjpe": mpjpe(pred, target), f"{prefix}_p_mpjpe": p_mpjpe(pred, target)}


def epoch_checks(run: Run) -> dict[str, float]:
    """The per-epoch log's held-out check and, with a validation split, the validation check."""
    every, checks = run.config.eval_every_frames, {}
    for prefix, views in {"heldout": run.heldout, **run.validation}.items():
        checks |= quick_heldout(run.student, views, run.inputs, every, run.device, prefix)
    return checks


def choose_epoch(run: Path, tolerance_mm: float = 1.0) -> Path:
    """The kept checkpoint (model_e<N>.pt) of the epoch with the lowest validation P-MPJPE on detector-like 2D
    (the mean of the YOLO-like and BlazePose-like checks) among the epochs whose exact-2D validation MPJPE is
    within `tolerance_mm` of epoch 0's (the starting weights); reads only the training log's validation checks."""
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    records = [r for r in records if "val_exact_mpjpe" in r]
    start = next((r for r in records if r["epoch"] == 0), None)
    if start is None:
        raise SystemExit(f"{run}/log.jsonl has no epoch-0 validation check: train with --validation-share")
    kept = [r for r in records if r["epoch"] > 0 and (run / f"model_e{r['epoch']:03d}.pt").exists()]
    within = [r for r in kept if r["val_exact_mpjpe"] <= start["val_exact_mpjpe"] + tolerance_mm]
    if not within:
        raise SystemExit(f"no kept epoch of {run} is within {tolerance_mm:g} mm of epoch 0's exact-2D validation MPJPE")
    best = min(within, key=lambda r: (r["val_detector_p_mpjpe"] + r["val_blazepose_p_mpjpe"]) / 2)
    return run / f"model_e{best['epoch']:03d}.pt"


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
    `model` if `load`, and return its history (what trained it) for the new checkpoints. A lifter without the
    score channel can start one with it (`--score-input`): the channel's weights start at zero. A lifter of one
    target frame can start one of another (`--target last` from a centre-frame student: the causal lifter)."""
    start = Lifter.from_pretrained(path, "cpu")
    adds_scores = model.config.score_input and not start.config.score_input
    c = model.config
    if replace(start.config, drop_path=c.drop_path, score_input=c.score_input, target=c.target) != c:
        raise SystemExit(f"--init {path} holds another architecture: {start.config}")
    if start.config.score_input and not model.config.score_input:
        raise SystemExit(f"--init {path} reads the 2D scores: pass --score-input")
    check_inputs(start, inputs, f"--init {path}")
    if load:
        weights = start.model.state_dict()
        if adds_scores:  # the score channel's weights start at zero: the same function as the --init lifter
            embed = weights["joint_embed.weight"]
            weights["joint_embed.weight"] = torch.cat([embed, torch.zeros_like(embed[:, :1])], dim=1)
        model.load_state_dict(weights)
    keys = ("train", "poses_seen", "train_seconds", "started_from")
    return {"path": path} | {k: start.info[k] for k in keys if k in start.info}


@dataclass
class RunState:
    """Where a run stands, saved in last.pt beside the weights and the optimiser's state."""

    epoch: int = 1
    step: int = 0  # steps done in this epoch
    seconds: float = 0.0  # time spent in training steps, not in checkpoints or held-out checks
    poses_seen: int = 0
    sums: dict[str, float | torch.Tensor] = field(default_factory=dict)  # this epoch's loss sums over `count` steps
    count: int = 0


@dataclass
class Run:
    """What a training run is built of: its processes, data, models and optimiser."""

    config: TrainConfig
    out: Path
    rank: int
    world: int
    device: torch.device
    inputs: InputConfig  # as the config's, at the data's frame rate
    sampler: Sampler
    heldout: list[View]  # rank 0's; empty elsewhere
    validation: dict[str, list[View]]  # rank 0's, by VALIDATION_NOISE's keys; empty without a validation split
    per_rank: int  # batch size of each process
    steps_per_epoch: int
    student: PoseLifter
    objective: SCJDObjective
    step_model: torch.nn.Module  # the objective, wrapped in DDP when there are several processes
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    started_from: dict | None  # what trained the --init weights
    last_save: float = 0.0  # time.time() of the last checkpoint

    @property
    def resume(self) -> Path:
        return self.out / "last.pt"


def build_run(config: TrainConfig) -> Run:
    """Processes, data, the student (and its teacher), the optimiser and its schedule."""
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
    sampler = data.sampler(arch.receptive_field, config.seed + rank, arch.target)
    heldout = data.heldout_views() if rank == 0 else []
    validation = {}
    if rank == 0 and config.data.validation_share > 0:
        validation = {key: data.validation_views(noise) for key, noise in VALIDATION_NOISE.items()}
    per_rank = config.batch_size // world
    if per_rank < 1:
        raise SystemExit(f"--batch-size {config.batch_size} is smaller than the {world} processes")
    steps_per_epoch = max(1, (config.epoch_size or len(sampler)) // config.batch_size)

    student = PoseLifter(arch).to(device)
    resuming = (out / "last.pt").exists()
    started_from = start_from(student, config.init, inputs, load=not resuming) if config.init else None
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
    return Run(config, out, rank, world, device, inputs, sampler, heldout, validation, per_rank, steps_per_epoch,
               student, objective, step_model, optimizer, scheduler, started_from, last_save=time.time())


def load_state(run: Run) -> RunState:
    """A fresh state, or the one in last.pt with the weights, optimiser and random streams put back."""
    if not run.resume.exists():
        return RunState()
    saved = torch.load(run.resume, map_location="cpu", weights_only=False)
    missing, unexpected = run.objective.load_state_dict(saved["objective"], strict=False)
    if unexpected or any(not k.startswith("teacher.") for k in missing):
        raise SystemExit(f"{run.resume} holds another model (missing {missing}, unexpected {unexpected})")
    run.optimizer.load_state_dict(saved["optimizer"])
    run.scheduler.load_state_dict(saved["scheduler"])
    state = RunState(saved["epoch"], saved["step"], saved["seconds"], saved["poses_seen"],
                     saved.get("epoch_sums", {}), saved.get("epoch_steps", 0))
    if len(saved["sampler_rng"]) == run.world:
        run.sampler.rng.bit_generator.state = saved["sampler_rng"][run.rank]
        if "torch_rng" in saved:
            torch.set_rng_state(saved["torch_rng"][run.rank])
        if run.device.type == "cuda" and saved.get("cuda_rng"):
            torch.cuda.set_rng_state(saved["cuda_rng"][run.rank], run.device)
    else:  # another number of processes: fresh random streams, different on every rank
        run.sampler.rng = np.random.default_rng([run.config.seed, run.rank, state.poses_seen])
    if run.rank == 0:
        print(f"resuming {run.resume}: epoch {state.epoch}, step {state.step}, {state.poses_seen:,} poses seen")
    return state


def random_states(run: Run) -> list[dict]:
    """Every process's random streams, gathered on every rank."""
    rngs = {
        "sampler": run.sampler.rng.bit_generator.state,
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state(run.device) if run.device.type == "cuda" else None,
    }
    if run.world == 1:
        return [rngs]
    gathered = [None] * run.world
    dist.all_gather_object(gathered, rngs)
    return gathered


def save_state(run: Run, state: RunState) -> None:
    """last.pt (everything to resume, written atomically) and the inference checkpoint model.pt; rank 0 writes."""
    rngs = random_states(run)
    if run.rank != 0:
        return
    config = json.loads(json.dumps(asdict(run.config)))
    payload = {
        "objective": {k: v for k, v in run.objective.state_dict().items() if not k.startswith("teacher.")},
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict(),
        "epoch": state.epoch,
        "step": state.step,
        "seconds": state.seconds,
        "poses_seen": state.poses_seen,
        "epoch_sums": {k: float(v) for k, v in state.sums.items()},
        "epoch_steps": state.count,
        "sampler_rng": [r["sampler"] for r in rngs],
        "torch_rng": [r["torch"] for r in rngs],
        "cuda_rng": [r["cuda"] for r in rngs] if run.device.type == "cuda" else None,
        "config": config,
    }
    torch.save(payload, run.out / "last.tmp")
    os.replace(run.out / "last.tmp", run.resume)
    history = {"started_from": run.started_from} if run.started_from else {}
    save_checkpoint(run.out / "model.pt", run.student, run.inputs, run.config.model, train=config,
                    epoch=state.epoch, poses_seen=state.poses_seen, train_seconds=state.seconds, **history)


def train_step(run: Run, state: RunState, batch: Batch, bf16: bool) -> dict[str, torch.Tensor]:
    c = run.student.config
    windows, target = to_tensors(batch, run.inputs, run.device, c.score_input, c.target)
    with torch.autocast(run.device.type, dtype=torch.bfloat16, enabled=bf16):
        losses = run.step_model(windows, target, state.epoch)
    run.optimizer.zero_grad(set_to_none=True)
    losses["total"].backward()
    run.optimizer.step()
    state.step += 1
    state.count += 1
    state.poses_seen += run.per_rank * run.world
    for k, v in losses.items():  # summed on the device: no wait for the GPU every step
        state.sums[k] = state.sums.get(k, 0.0) + v.detach().float()
    return losses


def train_epoch(run: Run, state: RunState, batches: Iterator[Batch]) -> None:
    """The rest of this epoch's steps, with a checkpoint every `checkpoint_minutes`."""
    config = run.config
    bf16 = use_bf16(config.amp, run.device)
    desc = f"{config.model} epoch {state.epoch}/{config.epochs}"
    bar = tqdm(total=run.steps_per_epoch, initial=state.step, desc=desc, disable=run.rank != 0, dynamic_ncols=True)
    started = time.time()
    while state.step < run.steps_per_epoch:
        losses = train_step(run, state, next(batches), bf16)
        if state.step % 10 == 0:
            bar.set_postfix(reg_mm=f"{1000 * losses['reg'].item():.1f}")
        bar.update()
        due = time.time() - run.last_save >= 60 * config.checkpoint_minutes
        # every rank must join the checkpoint's gather at the same step; rank 0's clock decides
        in_epoch = state.step < run.steps_per_epoch and (run.world == 1 or state.step % 10 == 0)
        if in_epoch and rank0_decides(due, run.world, run.device):
            state.seconds += time.time() - started
            save_state(run, state)
            run.last_save = started = time.time()
    bar.close()
    state.seconds += time.time() - started


def end_epoch(run: Run, state: RunState) -> None:
    """Log the epoch with the held-out check, step the schedule, save, and start the next epoch."""
    record = {
        "epoch": state.epoch,
        "lr": run.scheduler.get_last_lr()[0],
        "poses_seen": state.poses_seen,
        "train_seconds": round(state.seconds, 1),
    }
    record |= {f"train_{k}": float(v) / max(1, state.count) for k, v in state.sums.items()}
    if run.rank == 0:
        record |= epoch_checks(run)
        with (run.out / "log.jsonl").open("a") as log:
            log.write(json.dumps(record) + "\n")
        print(json.dumps(record))
    run.scheduler.step()
    state.epoch, state.step, state.sums, state.count = state.epoch + 1, 0, {}, 0
    save_state(run, state)
    if run.config.keep_epochs and run.rank == 0:
        shutil.copyfile(run.out / "model.pt", run.out / f"model_e{state.epoch - 1:03d}.pt")
    run.last_save = time.time()


def log_start(run: Run) -> None:
    """Epoch 0 of the log: the starting weights' checks, the baseline that `choose_epoch` compares epochs with."""
    record = {"epoch": 0, "poses_seen": 0} | epoch_checks(run)
    with (run.out / "log.jsonl").open("a") as log:
        log.write(json.dumps(record) + "\n")
    print(json.dumps(record))


def out_of_time(run: Run, began: float, epochs_done: int) -> bool:
    """Would one more epoch, as long as the average so far, end past `--max-minutes`? (Rank 0 decides.)"""
    if not run.config.max_minutes:
        return False
    elapsed = time.time() - began
    late = elapsed * (epochs_done + 1) / epochs_done > 60 * run.config.max_minutes
    return rank0_decides(late, run.world, run.device)


def train(config: TrainConfig) -> Path:
    """Train (or resume) the run in `config.out`; returns its inference checkpoint."""
    began = time.time()
    run = build_run(config)
    state = load_state(run)
    batches = batch_stream(run.sampler, run.per_rank, config.workers, [config.seed, run.rank, state.poses_seen])
    first_epoch = state.epoch
    if run.validation and run.rank == 0 and state.epoch == 1 and state.step == 0:
        log_start(run)
    run.last_save = time.time()
    run.objective.train()
    while state.epoch <= config.epochs:
        train_epoch(run, state, batches)
        end_epoch(run, state)
        if out_of_time(run, began, state.epoch - first_epoch) and state.epoch <= config.epochs:
            if run.rank == 0:
                print(f"stopping after epoch {state.epoch - 1}: one more would end past {config.max_minutes:g} minutes")
            break
    if run.world > 1:
        dist.destroy_process_group()
    return run.out / "model.pt"


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """The TrainConfig of a command line: one option per config field, architecture defaults from --model."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser, TrainConfig, defaults=replace(TrainConfig(), out=None, epoch_size=None))
    add_options(parser.add_argument_group("architecture (default: the --model preset's)"), LifterConfig,
                names=ARCHITECTURE_OPTIONS, skip=("num_joints",), defaults=KEEP)
    normalization_help = "2D input normalisation (default: subject for mocap, screen for h36m as in the paper)"
    add_options(parser.add_argument_group("2D input"), InputConfig, skip=("fps",), defaults=KEEP,
                help={"normalization": normalization_help})
    add_options(parser.add_argument_group("distillation: Eq. (8)'s weights and Eq. (1)'s schedule"), DistillConfig)
    data_options = parser.add_argument_group("data")
    add_data_arguments(data_options, training=True)
    add_options(data_options, AugmentConfig, names=AUGMENT_OPTIONS, skip=AUGMENT_SKIP)
    args = parser.parse_args(argv)
    architecture = from_options(args, LifterConfig, base=PRESETS[args.model])
    try:
        architecture.num_frames  # noqa: B018 -- checks that the stride divides the receptive field
    except ValueError as error:
        parser.error(str(error))
    data = replace(data_config(parser, args), augment=from_options(args, AugmentConfig, skip=AUGMENT_SKIP))
    normalization = DEFAULT_NORMALIZATION.get(data.source, InputConfig.normalization)
    epoch_size = 0 if data.source == "h36m" else TrainConfig.epoch_size
    return from_options(
        args,
        TrainConfig,
        out=args.out or f"runs/{args.model}",
        epoch_size=epoch_size if args.epoch_size is None else args.epoch_size,
        architecture=architecture,
        inputs=from_options(args, InputConfig, base=InputConfig(normalization)),
        distill=from_options(args, DistillConfig),
        data=data,
    )


if __name__ == "__main__":
    print(f"model written to {train(parse_args())}")
