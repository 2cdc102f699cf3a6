"""The timed peer (not a test, never an app dependency): MediaPipe's legacy pose solution on the same clips as
`scripts.bench_app`, writing only its landmarks, as a user of it would. It runs in a venv of its own:

    python3 -m venv .venv-mediapipe
    .venv-mediapipe/bin/pip install --no-deps mediapipe==0.10.14
    .venv-mediapipe/bin/pip install absl-py attrs flatbuffers "numpy<2" "protobuf>=4.25.3,<5" \
        opencv-python-headless matplotlib av
    .venv-mediapipe/bin/python scripts/bench_mediapipe.py \
        --heavy-model data/cache/blazepose/pose_landmark_heavy.tflite \
        --complexity 1 2 -- clip1.mp4 clip2.mp4

The wheel has no heavy landmark model; `--heavy-model` copies ours (the same file, from the npm package) into it.
Each clip: decoded with PyAV (upright, RGB), every frame through `mp.solutions.pose.Pose` (video mode), the 33
image and world landmarks written to an `.npz`; the wall time includes the model's load. One JSON line per
(complexity, clip) on stdout: {"complexity", "clip", "frames", "wall_s"}.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import av
import numpy as np


def upright_frames(path: Path):
    """RGB frames, rotated upright as the container's display matrix says (as the app reads them)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rotation = 0
        for frame in container.decode(stream):
            rotation = int(getattr(frame, "rotation", 0) or 0) % 360
            yield np.ascontiguousarray(np.rot90(frame.to_ndarray(format="rgb24"), k=rotation // 90))


def run(clip: Path, complexity: int, out: Path) -> dict:
    import mediapipe as mp

    started = time.perf_counter()
    image_landmarks, world_landmarks = [], []
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=complexity) as pose:
        for image in upright_frames(clip):
            found = pose.process(image)
            missing = np.full((33, 4), np.nan, np.float32)
            image_landmarks.append(
                missing if found.pose_landmarks is None else
                np.array([[p.x, p.y, p.z, p.visibility] for p in found.pose_landmarks.landmark], np.float32)
            )
            world_landmarks.append(
                missing if found.pose_world_landmarks is None else
                np.array([[p.x, p.y, p.z, p.visibility] for p in found.pose_world_landmarks.landmark], np.float32)
            )
    np.savez_compressed(out / f"{clip.stem}_c{complexity}.npz", image=np.stack(image_landmarks),
                        world=np.stack(world_landmarks))
    return {"complexity": complexity, "clip": clip.name, "frames": len(image_landmarks),
            "wall_s": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="+", type=Path)
    parser.add_argument("--complexity", type=int, nargs="+", default=[1, 2], help="1: full, 2: heavy")
    parser.add_argument("--heavy-model", type=Path, help="pose_landmark_heavy.tflite to copy into the wheel")
    args = parser.parse_args()
    if args.heavy_model:
        import mediapipe as mp

        target = Path(mp.__file__).parent / "modules" / "pose_landmark" / "pose_landmark_heavy.tflite"
        if not target.exists():
            shutil.copyfile(args.heavy_model, target)
    with tempfile.TemporaryDirectory() as folder:
        for complexity in args.complexity:
            for clip in args.clips:
                print(json.dumps(run(clip, complexity, Path(folder))), flush=True)


if __name__ == "__main__":
    main()
