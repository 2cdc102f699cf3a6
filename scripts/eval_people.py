"""Several people in one world, before and after issue 42: pelvis separation, depth order, feet on the ground.

    python -m scripts.eval_people INPUT... [--max-frames 300] [--keypoints heavy] [--min-seconds 1] [--cache DIR]

Each input (a video, a photo or a detection file) is detected once with every track (the detections are kept in
`--cache`, so that a second run only lifts), every person seen at least `--min-seconds` (a photo: everyone) is
lifted by the shipped student, and placed twice: each person alone (`pose_lifting.world.world_motion`, what the
app did before: one world per person) and everyone in one world (`pose_lifting.scene_world`). Per input and
placement:

- close_pct: per pair of people, the share of the frames both are in where their pelvises are closer than
  0.4 m; the worst pair, and the number of pairs above 5 %;
- order_pct: over the pairs' shared frames where their lower ankles' image rows differ by more than 5 % of the
  picture's height, the share where the one lower in the picture (the nearer, for people on one ground seen from
  above) is the nearer to the camera in the world;
- lowest_cm: each person's median over frames of their lowest joint's height above the ground: min and max over
  the people, and how many lie outside -5 .. 20 cm.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from app.config import PipelineConfig
from app.inputs import read_people
from app.lifting import load_lifter
from detector import DetectionResult
from detector.video import is_still_image
from pose_lifting.scene_world import scene_world
from pose_lifting.sequence import Pose2DSequence
from pose_lifting.skeleton import JOINT_INDEX
from pose_lifting.world import ANKLES, WorldConfig, WorldMotion, world_motion

CLOSE_M = 0.4
ORDER_MARGIN = 0.05  # of the picture's height
PELVIS = JOINT_INDEX["pelvis"]


def detections(path: Path, config: PipelineConfig, cache: Path) -> Path:
    """The input's detection file with every track (made once, kept in `cache`)."""
    if path.suffix.lower() in (".npz", ".json"):
        return path
    saved = cache / f"{path.stem}_{config.keypoints}_{config.max_frames}.npz"
    if not saved.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        people, times, _, found = read_people(path, config, lambda fraction, message: None)
        found.save(saved)
    return saved


def per_frame(people: list[Pose2DSequence], values: list[np.ndarray], frames: int) -> np.ndarray:
    """(P, frames, ...) NaN where a person is absent."""
    out = np.full((len(people), frames) + values[0].shape[1:], np.nan)
    for index, (p, value) in enumerate(zip(people, values)):
        out[index, p.first_frame : p.first_frame + len(p)] = value
    return out


def measures(people: list[Pose2DSequence], worlds: list[WorldMotion], frames: int) -> dict[str, float]:
    pelvis = per_frame(people, [w.poses[:, PELVIS] for w in worlds], frames)
    distance = per_frame(people, [np.linalg.norm(w.poses[:, PELVIS] - w.camera_position, axis=-1) for w in worlds],
                         frames)
    feet_row = per_frame(people, [p.keypoints[:, list(ANKLES), 1].max(axis=1) for p in people], frames)
    height = people[0].height
    close, agree, judged = [], 0, 0
    for a, b in itertools.combinations(range(len(people)), 2):
        shared = np.isfinite(pelvis[a, :, 0]) & np.isfinite(pelvis[b, :, 0])
        if not shared.any():
            continue
        gap = np.linalg.norm(pelvis[a, shared] - pelvis[b, shared], axis=-1)
        close.append(100 * float(np.mean(gap < CLOSE_M)))
        rows = feet_row[a, shared] - feet_row[b, shared]
        clear = np.abs(rows) > ORDER_MARGIN * height
        nearer_world = distance[a, shared] < distance[b, shared]
        agree += int(np.sum((rows > 0)[clear] == nearer_world[clear]))
        judged += int(clear.sum())
    lowest = np.array([100 * np.median(w.poses[..., 1].min(axis=1)) for w in worlds])
    return {
        "pairs": len(close),
        "close_worst_pct": max(close, default=float("nan")),
        "close_pairs_over_5pct": sum(c > 5 for c in close),
        "order_pct": 100 * agree / judged if judged else float("nan"),
        "order_frames": judged,
        "lowest_min_cm": float(lowest.min()),
        "lowest_max_cm": float(lowest.max()),
        "lowest_outside": int(np.sum((lowest < -5) | (lowest > 20))),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", type=Path)
    parser.add_argument("--max-frames", type=int, default=300)
    parser.add_argument("--keypoints", default="heavy")
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/eval_people"))
    args = parser.parse_args(argv)
    config = PipelineConfig(all_tracks=True, keypoints=args.keypoints, max_frames=args.max_frames)
    lifter = load_lifter("student", "cpu")
    world = WorldConfig()
    print("| input | people | placement | pairs | worst pair close % | pairs close > 5 % | depth order % (pair-frames) "
          "| lowest joint median, cm (min / max) | people outside -5..20 cm |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in args.inputs:
        found = DetectionResult.load(detections(path, config, args.cache))
        still = is_still_image(path) or len(found.timestamps) == 1  # a photo, or its detection file
        people = [found.main_track()] + [found.track(i) for i in found.track_ids() if i != found.main_track_id]
        people = [p for p in people if still or len(p) >= args.min_seconds * p.fps]
        lifted = [lifter.lift(p) for p in people]
        frames = max(p.first_frame + len(p) for p in people)
        shared = scene_world(lifted, people, world)
        placements = {
            "alone (before)": [world_motion(pose, p, world) for pose, p in zip(lifted, people)],
            "one world (after)": shared.people,
        }
        for name, worlds in placements.items():
            m = measures(people, worlds, frames)
            print(f"| {path.name} | {len(people)} | {name} | {m['pairs']} | {m['close_worst_pct']:.0f} "
                  f"| {m['close_pairs_over_5pct']} | {m['order_pct']:.0f} ({m['order_frames']}) "
                  f"| {m['lowest_min_cm']:.1f} / {m['lowest_max_cm']:.1f} | {m['lowest_outside']} |")
        print("\n".join(f"    note: {note}" for note in shared.notes))


if __name__ == "__main__":
    main()
