"""Ship a trained run: copy its fp16 checkpoint to weights/ and write the model card from measured numbers.

    python -m pose_lifting.export runs/student --name student
    python -m pose_lifting.export runs/small_ft --name small --choose-epoch   # the epoch the validation split picks
    python -m pose_lifting.export runs/small_ft --name small --weights-dir /tmp/candidate   # measure, ship nothing

The card holds the architecture, the command that trained it, the training data with licences, epochs,
poses seen and wall time (all read from the run), and held-out metrics that this command measures with
`pose_lifting.evaluate` (exact 2D through Human3.6M-like and phone cameras; the training's Gaussian noise, a
detector's structured errors and BlazePose-like ones at strength 1 through the Human3.6M-like ones; flip
test-time augmentation, the lifter's default smoothing).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from pose_lifting.cli_options import to_argv
from pose_lifting.datasets import DATA_OPTIONS, EVALUATION_FIELDS, DataConfig, load_data
from pose_lifting.evaluate import evaluate_checkpoint
from pose_lifting.generators import AugmentConfig
from pose_lifting.lifter import WEIGHTS_DIR, Lifter
from pose_lifting.losses import DistillConfig
from pose_lifting.model import LifterConfig
from pose_lifting.normalization import InputConfig
from pose_lifting.train import (
    ARCHITECTURE_OPTIONS,
    AUGMENT_OPTIONS,
    AUGMENT_SKIP,
    MACHINE_OPTIONS,
    TrainConfig,
    choose_epoch,
)

# the card's held-out settings: DataConfig's mocap_cameras, mocap_noise and mocap_noise_strength
SETTINGS = {
    "exact 2D": (("h36m", "phone"), "none", 1.0),
    "noisy 2D": (("h36m",), "gaussian", 1.0),
    "detector 2D": (("h36m",), "detector", 1.0),
    "BlazePose 2D": (("h36m",), "blazepose", 1.0),
}


def training_command(train: dict) -> str:
    """The command line that reproduces a run, from the TrainConfig stored in its checkpoint (as a dict)."""
    data = {k: v for k, v in train.get("data", {}).items() if k not in ("h36m_cameras", *EVALUATION_FIELDS)}
    argv = to_argv(train, TrainConfig, skip=MACHINE_OPTIONS)
    argv += to_argv(train["architecture"], LifterConfig, names=ARCHITECTURE_OPTIONS, skip=("num_joints",))
    argv += to_argv(train["inputs"], InputConfig, skip=("fps",))
    argv += to_argv(data or {"source": "mocap"}, DataConfig, names=DATA_OPTIONS)
    argv += to_argv(train.get("data", {}).get("augment", {}), AugmentConfig, names=AUGMENT_OPTIONS, skip=AUGMENT_SKIP)
    if train.get("teacher"):
        argv += to_argv(train["distill"], DistillConfig)
    return "python -m pose_lifting.train " + " ".join(argv)


def history(started_from: dict | None) -> list[str]:
    """Card lines for the checkpoints a run started from (`--init`), the most recent first."""
    lines = []
    while started_from:
        lines.append(
            f"It started from the weights then at `{started_from['path']}` (fresh optimiser), which were trained by "
            f"`{training_command(started_from['train'])}` ({started_from['poses_seen']:,} poses, "
            f"{duration(started_from['train_seconds'])})."
        )
        started_from = started_from.get("started_from")
    return lines


def data_table(data_dir: Path, leave_out: tuple[str, ...] = ()) -> list[str]:
    """The prepared sequences; a source the run kept out of training (`--leave-out`) is marked so."""
    index = json.loads((data_dir / "mocap" / "index.json").read_text())
    rows = ["| sequence | source | split | frames (30 fps) | licence |", "|---|---|---|---|---|"]
    for s in index["sequences"]:
        split = "left out (`--leave-out`)" if s["source"] in leave_out else s["split"]
        rows.append(f"| {s['name']} | {s['source']} | {split} | {s['frames']} | {s['licence']} |")
    return rows


def metrics_rows(results: dict[str, dict]) -> list[str]:
    rows = [
        "| 2D input | cameras | MPJPE | P-MPJPE | N-MPJPE | MPJVE | accel (m/s^2) | PCK@150 | AUC |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for setting, result in results.items():
        o = result["overall"]
        rows.append(
            f"| {setting} | {', '.join(result['cameras'])} | {o['mpjpe']:.1f} | {o['p_mpjpe']:.1f} | "
            f"{o['n_mpjpe']:.1f} | {o['mpjve']:.2f} | {o['accel']:.2f} | {o['pck150']:.1f} | {o['auc']:.1f} |"
        )
    per_source = ["| source (exact 2D) | MPJPE | P-MPJPE | frames x views |", "|---|---|---|---|"]
    for source, m in results["exact 2D"]["per_source"].items():
        per_source.append(f"| {source} | {m['mpjpe']:.1f} | {m['p_mpjpe']:.1f} | {m['frames']} |")
    return rows + [""] + per_source


def duration(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def ship(run: Path, name: str, weights_dir: Path) -> tuple[dict, Path]:
    """Copy a run's checkpoint to `weights_dir/<name>.pt` under its shipped name; the checkpoint and the copy."""
    source = run if run.is_file() else run / "model.pt"
    checkpoint = torch.load(source, map_location="cpu", weights_only=True)
    weights_dir.mkdir(parents=True, exist_ok=True)
    target = weights_dir / f"{name}.pt"
    trained_as = checkpoint.get("trained_as", checkpoint["name"])  # shipped weights measured again keep theirs
    torch.save(checkpoint | {"name": name, "trained_as": trained_as}, target)
    return checkpoint | {"trained_as": trained_as}, target


def measure(target: Path, lifter: Lifter, data_dir: Path) -> dict[str, dict]:
    """The held-out results of every card setting, as `python -m pose_lifting.evaluate --json` writes them."""
    results = {}
    for setting, (cameras, noise, strength) in SETTINGS.items():
        config = DataConfig(
            data_dir=str(data_dir), mocap_cameras=cameras, mocap_noise=noise, mocap_noise_strength=strength
        )
        results[setting] = evaluate_checkpoint(target, lifter, config, load_data(config).heldout_views())
    return results


def architecture_section(lifter: Lifter) -> list[str]:
    c = lifter.config
    return [
        "## Architecture",
        f"SCJD {'sparse student' if c.stride > 1 else 'dense lifter'}: {c.num_frames} input frames sampled with stride "
        f"{c.stride} over a {c.receptive_field}-frame receptive field, C = {c.embed_dim}, {c.depth} spatial + "
        f"{c.depth} temporal blocks, {c.num_heads} heads, MLP ratio {c.mlp_ratio}, "
        f"{'Eq. (5) upsampling head' if c.upsample_head else 'PoseFormer head'}. "
        f"{lifter.num_params / 1e6:.3f} M parameters, {lifter.mflops:.1f} MFLOPs per pose (no flip). "
        + ("It predicts the centre frame of its window (the paper's)." if c.target == "centre" else
           "It predicts the last frame of its window: causal, no look-ahead (for live video; the held-out metrics "
           "below use the file lift's smoothing over time, which a live lift does not have: docs/results.md)."),
        f"Input: 2D keypoints (Human3.6M order), `{lifter.inputs.normalization}` normalisation, "
        f"resampled to {lifter.inputs.fps:g} fps. Output: 3D joints in metres, camera axes, pelvis at the origin.",
    ]


def training_section(checkpoint: dict, notes: tuple[str, ...]) -> list[str]:
    train = checkpoint["train"]
    return [
        "## Training",
        f"Command: `{training_command(train)}`",
        "",
        f"Stopped after epoch {checkpoint['epoch'] - 1} of {train['epochs']} "
        f"({checkpoint['poses_seen']:,} poses seen, {duration(checkpoint['train_seconds'])} of training wall time, "
        f"{train['epoch_size']:,} random windows per epoch; the schedule assumes all {train['epochs']} epochs).",
        *history(checkpoint.get("started_from")),
        f"AdamW, weight decay {train['weight_decay']:g}, learning rate {train['lr']:g} decayed x{train['lr_decay']:g} "
        "per epoch; virtual cameras with the augmentation of `pose_lifting/generators.py`.",
        *notes,
    ]


def data_section(data_dir: Path, leave_out: tuple[str, ...] = ()) -> list[str]:
    return [
        "## Data",
        "Real mocap from registry packages, prepared by `python -m pose_lifting.data.prepare`. Held-out sequences "
        "are never used in training.",
        "",
        *data_table(data_dir, leave_out),
        "",
        "The weights are released under AGPL-3.0 with the project. LAFAN1 (CC BY-NC-ND 4.0) restricts "
        "commercial use of what is derived from it: treat these weights as research-only.",
    ]


def export(run: Path, name: str, data_dir: Path, weights_dir: Path = WEIGHTS_DIR, notes: tuple[str, ...] = ()) -> Path:
    """`run`: a run folder (its model.pt) or one of its checkpoints (e.g. model_e012.pt of `--keep-epochs`);
    `notes`: lines for the card's training section that the checkpoint cannot know (the machine, a wrapper script)."""
    checkpoint, target = ship(run, name, weights_dir)
    lifter = Lifter.from_pretrained(target, device="cpu")
    results = measure(target, lifter, data_dir)
    (weights_dir / f"{name}.json").write_text(json.dumps(results, indent=2))
    lines = [
        f"# Model card: `{name}` (trained as `--model {checkpoint['trained_as']}`)",
        "",
        f"File: `weights/{name}.pt` (fp16, {target.stat().st_size / 1e6:.1f} MB). "
        f'Load: `Lifter.from_pretrained("{name}")`.',
        "",
        *architecture_section(lifter),
        "",
        *training_section(checkpoint, notes),
        "",
        *data_section(data_dir, tuple(checkpoint["train"].get("data", {}).get("leave_out", ()))),
        "",
        f"## Held-out metrics (mm; measured by `python -m pose_lifting.export {run} --name {name}`)",
        "Whole held-out sequences, every frame, static cameras at four headings, flip test-time augmentation, "
        f"smoothing `{results['exact 2D']['smoothing']}` (the lifter's default).",
        "",
        *metrics_rows(results),
        "",
    ]
    card = weights_dir / f"{name}.md"
    card.write_text("\n".join(lines))
    return card


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="training run folder holding model.pt, or a checkpoint of one")
    parser.add_argument("--name", required=True, help="shipped name, e.g. student or teacher")
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--weights-dir", type=Path, default=WEIGHTS_DIR, help="where the weights and card go")
    parser.add_argument("--note", action="append", default=[], help="a line for the card's training section")
    parser.add_argument("--choose-epoch", type=float, nargs="?", const=1.0, metavar="TOLERANCE_MM",
                        help="ship the kept epoch that the run's validation split picks (train.choose_epoch): the "
                        "best on detector-like 2D within TOLERANCE_MM (default 1) of the start's exact-2D MPJPE")
    args = parser.parse_args(argv)
    run, notes = args.run, list(args.note)
    if args.choose_epoch is not None:
        run = choose_epoch(args.run, args.choose_epoch)
        notes.append(f"Epoch chosen on the validation split (`--choose-epoch {args.choose_epoch:g}`): `{run.name}`, "
                     "the lowest detector-like validation P-MPJPE within the exact-2D tolerance; the held-out "
                     "sequences played no part in the choice.")
        print(f"chosen: {run}")
    print(f"model card written to {export(run, args.name, args.data_dir, args.weights_dir, tuple(notes))}")


if __name__ == "__main__":
    main()
