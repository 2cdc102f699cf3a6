"""The lift step's models: the lifter menu and loading (once per file version and device), each lifter run over
the chosen people, their placing in one world frame, and the comparison of two lifters.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np

from app.config import InputError, PipelineConfig
from app.results import Comparison, ModelRun
from pose_lifting.angles import joint_angles
from pose_lifting.lifter import WEIGHTS_DIR, Lifter, missing_weights_message, weights_path
from pose_lifting.progress import Progress
from pose_lifting.scene_world import scene_world
from pose_lifting.sequence import Pose2DSequence
from pose_lifting.world import UP_SOURCES, WorldConfig, WorldMotion


def model_choices(weights_dir: Path = WEIGHTS_DIR) -> dict[str, tuple[str, ...]]:
    """The lifter menu: each shipped weights file by name (student and teacher first), plus "both" (the student
    and its teacher, compared) when both are shipped. With nothing shipped, "student", whose loading error then
    says how to train it."""
    shipped = sorted(p.stem for p in weights_dir.glob("*.pt"))
    pair = [name for name in ("student", "teacher") if name in shipped]
    choices = {name: (name,) for name in pair + [name for name in shipped if name not in pair]}
    if "student" in choices and "teacher" in choices:
        choices["both"] = ("student", "teacher")
    return choices or {"student": ("student",)}


def load_lifter(name_or_path: str | Path, device: str = "auto") -> Lifter:
    """A lifter from weights/ or a checkpoint path, loaded once per file version and device."""
    path = weights_path(name_or_path)
    if not path.is_file():
        raise InputError(missing_weights_message(path))
    return _cached_lifter(str(path.resolve()), path.stat().st_mtime, device)


def load_lifters(config: PipelineConfig) -> list[Lifter]:
    """The lifters of `config.models`, in order (cached: cheap to call again)."""
    return [load_lifter(name, config.device) for name in config.models]


@functools.lru_cache(maxsize=4)
def _cached_lifter(path: str, mtime: float, device: str) -> Lifter:
    try:
        return Lifter.from_pretrained(path, device)
    except RuntimeError as error:  # e.g. --device cuda without a GPU
        raise InputError(str(error)) from error


def lift_with(
    label: str, lifter: Lifter, people: list[Pose2DSequence], config: PipelineConfig, progress: Progress
) -> ModelRun:
    tick = time.perf_counter()
    poses = [
        lifter.lift(p, flip_test=config.flip_test, progress=lambda f, m, i=i: progress((i + f) / len(people), m))
        for i, p in enumerate(people)
    ]
    lift_s = time.perf_counter() - tick
    return ModelRun(label, lifter.name, poses, lift_s, lifter.mflops, lifter.num_params, str(lifter.device))


def place_in_world(runs: list[ModelRun], people: list[Pose2DSequence], config: WorldConfig) -> list[str]:
    """Fill each run's `world`: everyone in one world frame (`pose_lifting.scene_world`; None for a person who could
    not be placed). Returns what the user should know: who could not be placed, what the sizes assume."""
    warnings: list[str] = []
    for index, run in enumerate(runs):
        placed = scene_world(run.poses, people, config)
        run.world = placed.people
        if index == 0:
            warnings += placed.notes
        else:  # a second model: only where its world differs in what it says
            warnings += [f"{run.label}: {note}" for note in placed.notes if note not in warnings]
    main = runs[0].world[0] if runs and runs[0].world else None
    return warnings + ([] if main is None else up_warnings(main, config))


def measure_angles(runs: list[ModelRun], people: list[Pose2DSequence]) -> list[str]:
    """Fill each run's `angles` from its world motions (pose_lifting.angles); a warning where the main subject's
    2D has no heels or foot tips (the ankle's dorsiflexion is then not measured)."""
    for run in runs:
        run.angles = [None if motion is None else joint_angles(motion.poses, motion.feet) for motion in run.world]
    if people and people[0].feet is None:
        return ["the 2D keypoints have no heels or foot tips: ankle dorsiflexion is not measured (empty in "
                "_angles.csv) and OpenSim's ankle angles stay at 0"]
    return []


def up_warnings(motion: WorldMotion, config: WorldConfig) -> list[str]:
    """Where the scene's up was there but not used, say why (a wrong vanishing point, or a person lying down?)."""
    if motion.method == "scene" or np.isnan(motion.scene_body_deg) or config.method != "auto":
        return []
    if motion.scene_confidence < config.min_scene_confidence:
        return []
    return [
        f"the scene's vertical lines point {motion.scene_body_deg:.0f} degrees away from the person's posture "
        f"(more than {config.max_scene_body_deg:.0f}); {UP_SOURCES[motion.method]} instead "
        "(--world-method scene uses the lines anyway)"
    ]


def compare(a: ModelRun, b: ModelRun) -> Comparison:
    """Per-joint distance between two models' main-subject poses, in millimetres."""
    distance = 1000 * np.linalg.norm(a.poses[0].poses - b.poses[0].poses, axis=-1)
    return Comparison((a.label, b.label), a.poses[0].times(), distance)
