"""What the picture says about the camera, on the real clips we have: the scene's up against the feet's, and known
pans and tilts recovered with the world unchanged.

    python -m scripts.eval_camera [--frames 120] [--out /tmp/eval_camera] [--json F] [--scene-side 512]

1. Scene against ground: each clip (the Sports2D example, vtest.avi from Debian's opencv-doc) through the app's
   pipeline at its defaults (student, BlazePose full, world method auto); beside it the same lifted person placed
   by the feet alone (method ground, reliable for walking). Columns: the scene's confidence, its vertical lines,
   focal length (field of view) where found, the angle between the scene's up and the feet's, each one's angle
   from the camera's -y, the lowest joint's height (median / std, cm) per method, and the camera step's share of
   the end-to-end time. Still images (the Ultralytics bus and zidane) give the scene's up alone.
2. Synthetic camera motion: the central 60 % of each clip's frames, filmed again by a camera that turns (a 12
   degree pan and back, a 4-degree tilt, a little roll; the homography K R_t^T K^-1 of the first frame's focal
   length) and by a still one, both through the pipeline with the true field of view. Columns: the recovered
   rotation's error (mean / max, degrees), and the world outputs of the turning run against the still run:
   pelvis path (mean / max distance, cm; None where the two runs chose different main subjects), lowest joint's
   height (median / std, cm, each run), and the same with the camera motion switched off (what the app did
   before).

`--scene-side` reads the scene's frames at most that large instead of `SceneConfig.max_side` (512: YOLO's
frames, what the step read before issue 40).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from importlib.metadata import distribution
from pathlib import Path

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from app.export import Mp4Writer
from app.pipeline import PipelineConfig, run_pipeline
from detector import example_video_path, read_video
from detector.camera import CameraObserver
from detector.config import DetectorConfig
from pose_lifting.world import WorldConfig, focal_length, world_motion

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")  # apt-get install opencv-doc
IMAGES = ("ultralytics/assets/bus.jpg", "ultralytics/assets/zidane.jpg")
CROP = 0.6  # the view filmed again: its margins hold the largest turn (12 degrees of pan at a 65-degree lens)


def clips() -> dict[str, Path]:
    found = {"sports2d_demo": example_video_path()}
    if VTEST.is_file():
        found["vtest"] = VTEST
    return found


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0))))


def lowest_joint_cm(poses: np.ndarray) -> tuple[float, float]:
    lowest = 100 * poses[..., 1].min(axis=1)
    return float(np.median(lowest)), float(lowest.std())


def scene_against_ground(name: str, path: Path, out: Path, frames: int) -> dict:
    result = run_pipeline(path, out / name, PipelineConfig(max_frames=frames))
    run, person = result.models[0], result.people[0]
    placed = run.world[0]
    feet = world_motion(run.poses[0], person, WorldConfig(method="ground"))
    scene = result.scene
    camera_ms = 1000 * result.timings["camera (in detect)"] / result.num_frames
    row = {
        "clip": name,
        "frames": result.num_frames,
        "method": placed.method,
        "scene_confidence": scene.confidence if scene else None,
        "scene_lines": scene.num_lines if scene else 0,
        "scene_fov_deg": placed.fov_deg if placed.focal_source == "scene" else None,
        "scene_vs_feet_deg": angle_deg(scene.up, feet.up_camera) if scene and scene.up is not None else None,
        "scene_from_camera_y_deg": angle_deg(scene.up, np.array([0, -1.0, 0])) if scene and scene.up is not None
        else None,
        "feet_from_camera_y_deg": angle_deg(feet.up_camera, np.array([0, -1.0, 0])),
        "lowest_auto_cm": lowest_joint_cm(placed.poses),
        "lowest_feet_cm": lowest_joint_cm(feet.poses),
        "camera_ms_per_frame": camera_ms,
        "camera_share_pct": 100 * result.timings["camera (in detect)"] / result.timings["total"],
    }
    return row


def still_image_scene(member: str) -> dict:
    image = cv2.imread(str(distribution("ultralytics").locate_file(member)))
    height, width = image.shape[:2]
    observer = CameraObserver(replace(DetectorConfig(), camera_motion=replace(DetectorConfig().camera_motion,
                                                                               enabled=False)), width, height, 1)
    small = cv2.resize(image, None, fx=512 / max(width, height), fy=512 / max(width, height))
    observer.add(0, small, np.zeros((0, 4)), image)  # as the detector hands a frame over: YOLO's, and the detail
    scene, _, _ = observer.finish()
    up = scene.up
    return {
        "image": Path(member).name,
        "scene_confidence": scene.confidence,
        "scene_lines": scene.num_lines,
        "scene_from_camera_y_deg": None if up is None else angle_deg(up, np.array([0, -1.0, 0])),
        "focal_px": scene.focal_px,
    }


def turning(count: int) -> np.ndarray:
    """(T, 3, 3) frame t's camera axes -> the first's: a 12-degree pan and back, a 4-degree tilt, a little roll."""
    phase = np.sin(np.pi * np.arange(count) / (count - 1))
    angles = np.stack([4.0 * phase, 12.0 * phase, 1.5 * np.sin(2 * np.pi * np.arange(count) / count)], -1)
    return Rotation.from_euler("xyz", angles, degrees=True).as_matrix()


def refilm(path: Path, out: Path, frames: int, rotations: np.ndarray | None) -> tuple[Path, float, int]:
    """The clip's central CROP filmed by a camera turned by `rotations` (None: still); (file, fov, frames)."""
    video = read_video(path)
    focal = focal_length(video.width, video.height, None)[1]
    width, height = int(CROP * video.width) // 2 * 2, int(CROP * video.height) // 2 * 2
    k = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1.0]])
    shift = np.array([[1, 0, (video.width - width) / 2], [0, 1, (video.height - height) / 2], [0, 0, 1.0]])
    written = 0
    with Mp4Writer(out, video.fps) as writer:
        for frame in video.frames(frames):
            turn = np.eye(3) if rotations is None else rotations[frame.index]
            into_view = k @ turn.T @ np.linalg.inv(k) @ np.linalg.inv(shift)
            writer.write(cv2.warpPerspective(frame.image, into_view, (width, height), flags=cv2.INTER_LINEAR))
            written += 1
    return out, float(np.degrees(2 * np.arctan(0.5 * width / focal))), written


def camera_motion_check(name: str, path: Path, out: Path, frames: int) -> dict:
    count = min(frames, read_video(path).num_frames)
    truth = turning(count)
    folder = out / f"{name}_motion"
    folder.mkdir(parents=True, exist_ok=True)
    still_path, fov, _ = refilm(path, folder / f"{name}_still.mp4", count, None)
    turned_path, _, _ = refilm(path, folder / f"{name}_turned.mp4", count, truth)
    config = PipelineConfig(max_frames=count, world=WorldConfig(fov_deg=fov))
    still = run_pipeline(still_path, folder / "still", config)
    turned = run_pipeline(turned_path, folder / "turned", config)
    person = turned.people[0]
    found = turned.camera.rotations[: turned.num_frames]
    errors = np.degrees(Rotation.from_matrix(np.swapaxes(found, 1, 2) @ truth[: len(found)]).magnitude())
    ignored = world_motion(turned.models[0].poses[0], replace(person, camera=None), config.world)

    def against_still(motion, first: int) -> tuple[float, float] | None:
        """Mean / max pelvis distance to the still run's, or None where the runs chose different main subjects
        (a crowd: the turned picture may rank another pedestrian first)."""
        reference = still.models[0].world[0]
        offset = first - still.people[0].first_frame
        frames_both = min(len(motion.root), len(reference.root) - offset)
        if offset < 0 or frames_both < 0.5 * len(reference.root):
            return None
        gap = 100 * np.linalg.norm(motion.root[:frames_both] - reference.root[offset : offset + frames_both], axis=-1)
        return float(gap.mean()), float(gap.max())

    placed = turned.models[0].world[0]
    return {
        "clip": name,
        "frames": turned.num_frames,
        "rotation_error_mean_deg": float(errors.mean()),
        "rotation_error_max_deg": float(errors.max()),
        "measured_fraction": float(turned.camera.measured.mean()),
        "pelvis_gap_cm": against_still(placed, person.first_frame),
        "pelvis_gap_without_cm": against_still(ignored, person.first_frame),
        "lowest_still_cm": lowest_joint_cm(still.models[0].world[0].poses),
        "lowest_turned_cm": lowest_joint_cm(placed.poses),
        "lowest_without_cm": lowest_joint_cm(ignored.poses),
        "up_turned_vs_still_deg": angle_deg(placed.up_camera, still.models[0].world[0].up_camera),
    }


def read_scene_at(side: int) -> None:
    """Every pipeline run of this process reads the scene's frames at most `side` large."""
    chosen = PipelineConfig.detector_config

    def detector_config(self: PipelineConfig) -> DetectorConfig:
        config = chosen(self)
        return replace(config, scene=replace(config.scene, max_side=side))

    PipelineConfig.detector_config = detector_config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--out", type=Path, default=Path("/tmp/eval_camera"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--scene-side", type=int, help="the scene's reading size (default: SceneConfig.max_side)")
    args = parser.parse_args(argv)
    if args.scene_side:
        read_scene_at(args.scene_side)
    report = {"scene": [], "images": [], "motion": []}
    for name, path in clips().items():
        report["scene"].append(scene_against_ground(name, path, args.out, args.frames))
        print(json.dumps(report["scene"][-1]), flush=True)
    for member in IMAGES:
        report["images"].append(still_image_scene(member))
        print(json.dumps(report["images"][-1]), flush=True)
    for name, path in clips().items():
        report["motion"].append(camera_motion_check(name, path, args.out, args.frames))
        print(json.dumps(report["motion"][-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
