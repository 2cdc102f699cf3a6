"""How the terms of Eq. (8) pull on a distilled student: each term's weighted value, the norm of its gradient
on the student's parameters, and that gradient's cosine with L_reg's.

    python -m scripts.loss_balance runs/student/last.pt --teacher runs/teacher/model.pt [--batches 8]

STATE is a distillation run's `last.pt` (its student, the FC of Eq. (1) and its training configuration: data,
loss weights, epoch) or its inference checkpoint `model.pt`, which lacks the FC of Eq. (1): that FC is then fitted
by least squares to the teacher's aligned frames on the first batch. The batches are drawn as training draws
them, with a fixed seed. The paper sets the weights so that the terms are "of the same order of magnitude"
(Sec. IV, Table VII); this shows whether they are, in the quantity the optimiser sees. A cosine below zero
means that the term pulls against the pose error.
"""

from __future__ import annotations

import argparse
from dataclasses import fields, is_dataclass, replace

import torch

from pose_lifting.datasets import DataConfig, load_data
from pose_lifting.distill import SCJDObjective
from pose_lifting.losses import DistillConfig, aligned_teacher_frames
from pose_lifting.model import LifterConfig, PoseLifter
from pose_lifting.normalization import InputConfig
from pose_lifting.train import load_teacher, to_tensors

TERMS = ("reg", "emb", "attn", "temp")
SPATIAL = ("student.joint_embed.", "student.spatial_")  # the spatial encoder and the embedding before it


def dataclass_from(cls: type, values: dict):
    """A dataclass from its asdict() JSON form: nested dataclasses rebuilt, lists back to tuples."""
    defaults, kwargs = cls(), {}
    for name in {f.name for f in fields(cls)} & values.keys():
        value, default = values[name], getattr(defaults, name)
        if is_dataclass(default) and isinstance(value, dict):
            value = dataclass_from(type(default), value)
        kwargs[name] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)


def load_objective(state_path: str, teacher_path: str) -> tuple[SCJDObjective, dict]:
    state = torch.load(state_path, map_location="cpu", weights_only=False)
    has_fc = "objective" in state  # last.pt has the FC of Eq. (1), model.pt only the student
    config = state["config"] if has_fc else state["train"]
    data = load_data(dataclass_from(DataConfig, config["data"]))
    inputs = dataclass_from(InputConfig, config["inputs"] | {"fps": data.fps})
    teacher = load_teacher(teacher_path, inputs, torch.device("cpu"))
    architecture = dataclass_from(LifterConfig, config["architecture"])
    student = PoseLifter(replace(architecture, teacher_embed_dim=teacher.config.embed_dim))  # as train.py builds it
    objective = SCJDObjective(student, teacher, dataclass_from(DistillConfig, config["distill"]))
    if has_fc:
        objective.load_state_dict(state["objective"], strict=False)
    else:
        student.load_state_dict({k: v.float() for k, v in state["state_dict"].items()})
    objective.train()
    return objective, {"data": data, "inputs": inputs, "has_fc": has_fc} | {
        k: state[k] for k in ("epoch", "poses_seen")
    }


@torch.no_grad()
def fit_embed_fc(objective: SCJDObjective, windows: torch.Tensor) -> None:
    """Least-squares FC of Eq. (1) from the student's joint embedding to the teacher's at the aligned frames."""
    student = objective.student.forward_features(windows[:, objective.student_frames]).joint_embedding
    teacher = objective.teacher.forward_features(windows[:, objective.teacher_frames]).joint_embedding
    frames = aligned_teacher_frames(student.shape[1], objective.stride)
    inputs = torch.cat([student.flatten(0, 2), torch.ones(student[..., :1].numel(), 1)], dim=1)
    solution = torch.linalg.lstsq(inputs, teacher[:, frames].flatten(0, 2)).solution
    objective.embed_fc.weight.copy_(solution[:-1].T)
    objective.embed_fc.bias.copy_(solution[-1])


def term_weights(config: DistillConfig) -> dict[str, float]:
    """Each term's weight in Eq. (8)."""
    return {"reg": 1.0, "emb": config.alpha, "attn": config.beta, "temp": config.gamma}


def term_gradients(
    objective: SCJDObjective, losses: dict[str, torch.Tensor], weights: dict[str, float]
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The gradient of each weighted term of Eq. (8) on every trainable parameter, flattened into one vector, and
    the mask of that vector's spatial-encoder entries (the only ones L_attn reaches)."""
    named = [(name, p) for name, p in objective.named_parameters() if p.requires_grad]
    parameters = [p for _, p in named]
    spatial = torch.cat([torch.full((p.numel(),), name.startswith(SPATIAL)) for name, p in named])
    gradients = {}
    for term in TERMS:
        grads = torch.autograd.grad(weights[term] * losses[term], parameters, retain_graph=True, allow_unused=True)
        gradients[term] = torch.cat(
            [(g if g is not None else torch.zeros_like(p)).flatten() for g, p in zip(grads, parameters)]
        )
    return gradients, spatial


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("state", help="a distillation run's last.pt or model.pt")
    parser.add_argument("--teacher", required=True, help="the teacher's inference checkpoint")
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    objective, run = load_objective(args.state, args.teacher)
    weights = term_weights(objective.config)
    sampler = run["data"].sampler(objective.student.config.receptive_field, args.seed)
    # per term: weighted value; gradient norm and cosine with L_reg's, on all parameters and on the spatial encoder
    sums = {term: torch.zeros(5) for term in TERMS}
    batches = [
        to_tensors(sampler.sample(args.batch_size), run["inputs"], torch.device("cpu")) for _ in range(args.batches)
    ]
    if not run["has_fc"]:
        fit_embed_fc(objective, batches[0][0])
    for windows, target in batches:
        losses = objective(windows, target, run["epoch"])
        gradients, spatial = term_gradients(objective, losses, weights)
        reg = gradients["reg"]
        for term in TERMS:
            grad = gradients[term]
            sums[term] += torch.stack(
                [
                    weights[term] * losses[term].detach(),
                    grad.norm(),
                    torch.nn.functional.cosine_similarity(grad, reg, dim=0),
                    grad[spatial].norm(),
                    torch.nn.functional.cosine_similarity(grad[spatial], reg[spatial], dim=0),
                ]
            )
    print(f"{args.state} after {run['poses_seen']:,} poses, {args.batches} batches of {args.batch_size}\n")
    print("| term | weight | weighted value | gradient norm | cosine with L_reg's | spatial encoder: norm | cosine |")
    print("|---|---|---|---|---|---|---|")
    for term in TERMS:
        value, norm, cosine, spatial_norm, spatial_cosine = (sums[term] / args.batches).tolist()
        print(
            f"| L_{term} | {weights[term]:g} | {value:.4f} | {norm:.4f} | {cosine:+.3f} "
            f"| {spatial_norm:.4f} | {spatial_cosine:+.3f} |"
        )


if __name__ == "__main__":
    main()
