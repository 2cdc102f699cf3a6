"""At what size the scene's lines should be read: line count, up error and cost against the reading size.

    python -m scripts.eval_scene [--sides 512 768 1024 1280 1920] [--json F]

`detector.scene` reads a few frames of a clip; this measures, for each longest side it could read them at, how
many vertical segments it finds, how far its up is from a known up, and what it costs (ms per frame, LSD and the
vanishing points; this machine, whatever else runs on it).

Known ups:
1. synthetic: `tests/test_scene.py`'s streets (vertical and horizontal 3D edges, clutter) filmed by cameras of
   known pitch, roll and focal length, drawn 1 px wide into a 1920 x 1080 picture (a room's thin verticals);
2. real frames turned by known rotations: the five frames the step reads of each clip (the Sports2D example,
   1768 x 994; vtest.avi, 768 x 576) and the stills we have (Ultralytics bus.jpg, 810 x 1080 portrait; zidane.jpg;
   OpenCV's building.jpg), people's boxes from the app's YOLO masked as the step masks them, each filmed again by
   a camera turned by a known rotation (`WARPS`: rolls, tilts and pans of up to 6 degrees; the homography
   K R^T K^-1, the view the central `CROP` so that no border shows). The truth for a turned frame is R^T u, with u
   the unturned frame's up read at full resolution: this measures what the reading size loses (lines too thin
   or too short to survive the downscaling), not a bias of the scene itself (a leaning wall), which a rotation
   keeps.
Per medium and size: the vertical segments per frame (mean), the share of (frame, warp) with an up, the median and
the largest error over those, and per warp the error and confidence of the frames combined (`combine_frames`, what
the world step's fusion gets), to measure the confidence rule against the truth.
"""

from __future__ import annotations

import argparse
import json
import time
from importlib.metadata import distribution
from pathlib import Path

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from detector import example_video_path, read_video
from detector.config import DetectorConfig, SceneConfig
from detector.model import PoseModel
from detector.scene import FrameVanishing, combine_frames, measure_frames
from pose_lifting.world import focal_length
from tests.test_scene import WORLD_UP, camera, street

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")  # apt-get install opencv-doc
BUILDING = Path("/usr/share/doc/opencv-doc/examples/data/building.jpg")
STILLS = ("ultralytics/assets/bus.jpg", "ultralytics/assets/zidane.jpg")
WARPS = ((0, 0, 0), (0, 0, 6), (0, 0, -6), (4, 0, 3), (-4, 5, -3), (3, -6, 0))  # x (tilt), y (pan), z (roll), deg
CROP = 0.7  # the turned view: the central 70 % of the picture, so that no warp reaches its border
SYNTHETIC = ((20.0, 5.0, 1500.0), (30.0, -8.0, 1100.0), (25.0, 12.0, 1300.0), (-10.0, 3.0, 1000.0))
SYNTHETIC_SIZE = (1920, 1080)


def clip_frames(path: Path, config: SceneConfig) -> list[np.ndarray]:
    """The frames the step reads (spread evenly over the clip), full resolution, BGR."""
    video = read_video(path)
    wanted = set(np.linspace(0, video.num_frames - 1, config.frames).round().astype(int).tolist())
    return [frame.image for frame in video.frames(bgr=True, keep=wanted.__contains__)]


def media(config: SceneConfig) -> dict[str, list[np.ndarray]]:
    found = {"sports2d_demo": clip_frames(example_video_path(), config)}
    if VTEST.is_file():
        found["vtest"] = clip_frames(VTEST, config)
    for member in STILLS:
        found[Path(member).name] = [cv2.imread(str(distribution("ultralytics").locate_file(member)))]
    if BUILDING.is_file():
        found[BUILDING.name] = [cv2.imread(str(BUILDING))]
    return found


def people(model: PoseModel, image: np.ndarray) -> np.ndarray:
    """(M, 4) people's boxes in the image's pixels, found by the app's YOLO at its input size."""
    height, width = image.shape[:2]
    scale = 512 / max(width, height)
    small = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    return model.predict([small], model.inference_size(*small.shape[1::-1]))[0].boxes / scale


def turned(image: np.ndarray, boxes: np.ndarray, rotation: np.ndarray, focal: float):
    """(view, boxes in it): the central CROP of the picture seen by a camera turned by `rotation` (frame axes ->
    the picture's), the picture's pixel x appearing at K R^T K^-1 x."""
    height, width = image.shape[:2]
    out_w, out_h = int(CROP * width) // 2 * 2, int(CROP * height) // 2 * 2
    k = np.array([[focal, 0, out_w / 2], [0, focal, out_h / 2], [0, 0, 1.0]])
    shift = np.array([[1, 0, (width - out_w) / 2], [0, 1, (height - out_h) / 2], [0, 0, 1.0]])
    into_view = k @ rotation.T @ np.linalg.inv(k) @ np.linalg.inv(shift)
    view = cv2.warpPerspective(image, into_view, (out_w, out_h), flags=cv2.INTER_LINEAR)
    seen = cv2.warpPerspective(np.full((height, width), 255, np.uint8), into_view, (out_w, out_h),
                               flags=cv2.INTER_NEAREST)
    if seen.min() == 0:  # the picture's border would show: a long straight edge that is not the scene
        raise ValueError(f"the turn {rotation.tolist()} shows the picture's border; turn less or crop more")
    if len(boxes) == 0:
        return view, np.zeros((0, 4))
    corners = boxes[:, [[0, 1], [2, 1], [0, 3], [2, 3]]].reshape(-1, 1, 2).astype(np.float64)
    moved = cv2.perspectiveTransform(corners, into_view).reshape(-1, 4, 2)
    return view, np.concatenate([moved.min(1), moved.max(1)], axis=1)


def read(images: list[np.ndarray], boxes: list[np.ndarray], focal: float, side: int | None):
    """(each frame's vanishing points, ms per frame) read at most `side` large (None: as they are)."""
    height, width = images[0].shape[:2]
    config = SceneConfig(max_side=side or max(width, height))
    tick = time.perf_counter()
    found = measure_frames(images, boxes, (width, height), focal, config)
    return found, 1000 * (time.perf_counter() - tick) / len(images)


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0))))


def summary(name: str, side: int | None, found: list[FrameVanishing | None], errors: list[float], ms: list[float],
            clips: list[tuple[float, float]]) -> dict:
    """One row: `errors` per (frame, warp) with a known up (NaN: no up found), `clips` (error, confidence) of the
    frames combined per warp (`combine_frames`: what the world step gets; a still's single frame alone)."""
    ups = [error for error in errors if np.isfinite(error)]
    clip_errors = [error for error, _ in clips]
    return {
        "medium": name,
        "side": side,
        "vertical_lines_per_frame": float(np.mean([0 if f is None else f.inliers for f in found])),
        "frames_with_up": float(np.mean([f is not None for f in found])),
        "median_error_deg": float(np.median(ups)) if ups else None,
        "max_error_deg": float(np.max(ups)) if ups else None,
        "within_2_deg": float(np.mean([e <= 2.0 for e in errors])) if errors else None,
        "ms_per_frame": float(np.median(ms)),
        "clip_max_error_deg": float(np.nanmax(clip_errors)) if clips else None,
        "clip_confidence": float(np.mean([confidence for _, confidence in clips])) if clips else None,
        "clips": [[error, confidence] for error, confidence in clips],  # per warp: (error, confidence)
    }


def real_rows(sides: list[int | None]) -> list[dict]:
    config = SceneConfig()
    model = PoseModel(DetectorConfig())
    rows = []
    for name, images in media(config).items():
        boxes = [people(model, image) for image in images]
        height, width = images[0].shape[:2]
        focal = focal_length(width, height, None)[1]
        views = {warp: [turned(image, box, Rotation.from_euler("xyz", warp, degrees=True).as_matrix(), focal)
                        for image, box in zip(images, boxes, strict=True)] for warp in WARPS}
        reference, _ = read([view for view, _ in views[WARPS[0]]], [box for _, box in views[WARPS[0]]], focal, None)
        size = views[WARPS[0]][0][0].shape[1::-1]
        truth = [None if f is None else f.up(focal, *size) for f in reference]
        indices = list(range(len(images)))
        clip_truth = combine_frames(reference, indices, size, focal, config).up
        for side in sides:
            found_all, errors, ms, clips = [], [], [], []
            for warp, pairs in views.items():
                rotation = Rotation.from_euler("xyz", warp, degrees=True).as_matrix()
                found, cost = read([view for view, _ in pairs], [box for _, box in pairs], focal, side)
                ms.append(cost)
                found_all += found
                for frame, up in zip(found, truth, strict=True):
                    if up is not None:
                        errors.append(np.nan if frame is None else angle_deg(frame.up(focal, *size), rotation.T @ up))
                if clip_truth is not None:
                    clip = combine_frames(found, indices, size, focal, config)
                    error = np.nan if clip.up is None else angle_deg(clip.up, rotation.T @ clip_truth)
                    clips.append((error, clip.confidence))
            rows.append(summary(name, side, found_all, errors, ms, clips))
            print(json.dumps(rows[-1]), flush=True)
    return rows


def thin_lines(segments: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A grey picture of the segments drawn 1 px wide (a room's door frames, window bars, shelf edges)."""
    image = np.full((size[1], size[0]), 60, np.uint8)
    for x1, y1, x2, y2 in np.round(segments).astype(int):
        cv2.line(image, (x1, y1), (x2, y2), 200, 1, cv2.LINE_AA)
    return image


def synthetic_rows(sides: list[int | None]) -> list[dict]:
    rows = []
    images, truths, focals = [], [], []
    for seed, (pitch, roll, focal) in enumerate(SYNTHETIC):
        rotation = camera(pitch, roll)
        segments = street(rotation, focal, SYNTHETIC_SIZE, np.random.default_rng(seed), edges=(30, 30, 30))
        images.append(thin_lines(segments, SYNTHETIC_SIZE))
        truths.append(rotation @ WORLD_UP)
        focals.append(focal)
    for side in sides:
        found_all, errors, ms = [], [], []
        for image, up, focal in zip(images, truths, focals, strict=True):
            found, cost = read([image], [np.zeros((0, 4))], focal, side)
            found_all += found
            ms.append(cost)
            errors.append(np.nan if found[0] is None else angle_deg(found[0].up(focal, *SYNTHETIC_SIZE), up))
        rows.append(summary("synthetic 1 px lines", side, found_all, errors, ms, []))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sides", type=int, nargs="+", default=[512, 768, 1024, 1280, 1920],
                        help="longest sides to read at (a side past a picture's own reads it as it is)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows = synthetic_rows(args.sides) + real_rows(args.sides)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
