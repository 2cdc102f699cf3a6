"""Benchmark (not a test): what sparse 2D costs the lifter, two ways; docs/benchmarks.md and docs/detector.md.

    python -m scripts.sparse_2d_accuracy student [--strides 1 2 3 4] [--settings exact detector blazepose]
    python -m scripts.sparse_2d_accuracy --clip [VIDEO ...] [--rates 25 30 60] [--frames N] [--keypoints heavy]
        [--strides 2 4] [--yolo-strides 2 4] [--json FILE]

Held-out mocap (the default): its 2D is measured on one frame in L only and linearly interpolated in between,
exactly as the detector does (`detector.sparse.interpolate_rows`), then lifted. The mocap is at the lifters'
30 fps, so stride L measures every L/30 s. Besides the overall columns, "fastest" is the quarter of the held-out
views with the fastest joints (mean 2D joint speed), where interpolation errs most.

`--clip`: real videos (default: the example clip, and Debian opencv-doc's vtest.avi where installed), where there
is no 3D truth, so the sparse path is measured against the dense one (every frame through YOLO and the landmark
model), both lifted by the same lifter (`--lifter`, smoothing `--smoothing`) on the frames both tracked:

- 3D per frame: the mean distance after aligning each frame of the sparse path's 3D to the dense path's (rotation,
  scale, translation), the P-MPJPE of the sparse 3D against the dense 3D;
- 3D sequence: the same after one alignment for the whole sequence (seq-MPJPE), which also sees the sparse path
  drifting or lagging;
- 2D: the distance of each joint from the dense 2D, in % of the person's median box height (mean over joints,
  and the worst joint);

for each clip at each of `--rates` (the clip's own frames re-encoded at that frame rate, `retimed`: the motion
per frame stays the clip's, the motion per second scales with the rate), for the landmark model at each stride in
`--strides` with YOLO on every frame, for YOLO at each of `--yolo-strides` with the landmark model on every frame,
for the default, and for the dense 2D itself thinned to one frame in each of `--strides` and interpolated (what
interpolation alone costs). The subject is the dense run's main subject (in a run whose YOLO looked sparsely, the
track that overlaps it most). "measured" is the share of the subject's frames the landmark model ran on, "2D s"
the landmark pass's time and "YOLO s" pass 1's (YOLO, tracking and the camera step). `--json` also keeps, per
row, the 3D and 2D differences frame by frame (`mm_frames`, `px_2d_frames` from `first_frame`) and what the
landmark stage's guard rails did (re-seeded crops, fallbacks to YOLO, left/right swaps): where a path departs.
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from time import perf_counter

import av
import numpy as np

from detector import DetectionResult, DetectorConfig, example_video_path
from detector.cache import cache_dir
from detector.detect import Tracked, build_result, frame_limit, refine_keypoints, track_people
from detector.errors import NoPersonError
from detector.sparse import box_iou, interpolate_rows, measured_rows, resolve_stride
from detector.video import Video, read_video
from pose_lifting.datasets import DataConfig, View, load_data
from pose_lifting.evaluate import lift_view, summarize
from pose_lifting.lifter import Lifter, SmoothingConfig
from pose_lifting.metrics import all_metrics, procrustes_align
from pose_lifting.sequence import Pose2DSequence
from pose_lifting.skeleton import JOINT_NAMES

SETTINGS = {
    "exact": {"mocap_cameras": ("h36m",)},
    "detector": {"mocap_noise": "detector", "mocap_noise_strength": 1.0},
    "blazepose": {"mocap_noise": "blazepose", "mocap_noise_strength": 1.0},
}
COLUMNS = ("mpjpe", "p_mpjpe", "accel", "bone_std")


def sparse_view(view: View, stride: int) -> View:
    """The view with its 2D measured on frames 0, L, 2L, ... and the last, interpolated in between."""
    frames = np.arange(len(view.pixels))
    measured = (frames % stride == 0) | (frames == frames[-1])
    pixels = view.pixels.copy()
    arrays = [pixels] + ([view.scores.copy()] if view.scores is not None else [])
    interpolate_rows(frames, np.zeros_like(frames), measured, arrays)
    return replace(view, pixels=arrays[0], scores=arrays[1] if view.scores is not None else None)


def joint_speed(view: View) -> float:
    return float(np.linalg.norm(np.diff(view.pixels, axis=0), axis=-1).mean() / max(view.height, 1))


ROW_ARRAYS = ("frame_index", "track_id", "keypoints_coco", "scores_coco", "boxes", "box_scores", "feet",
              "feet_scores", "from_landmarks")
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


@dataclass(frozen=True)
class Setting:
    """One way to measure a clip: YOLO's stride and the landmark model's."""

    label: str
    yolo_stride: int
    keypoint_stride: int


def clip_settings(args: argparse.Namespace, keypoints: str, fps: float) -> list[Setting]:
    """The dense run first, then each sparse setting of `args`, then the default at `fps`."""
    default = DetectorConfig(keypoints=keypoints)
    rows = [Setting("dense", 1, 1)]
    rows += [Setting(f"2D stride {k}", 1, k) for k in args.strides if k > 1]
    rows += [Setting(f"YOLO stride {y}", y, 1) for y in args.yolo_strides if y > 1]
    yolo_stride = resolve_stride(default.yolo_stride, fps, default.yolo_rate_hz)
    rows.append(Setting("default", yolo_stride, default.keypoint_stride))
    return rows


def retimed(clip: Path, fps: float, frames: int | None) -> Path:
    """The clip's first `frames` frames (all if None) as a video at `fps`: the same pictures re-encoded (H.264,
    near-lossless) and played at another rate, so the motion per frame is the clip's own and the motion per second
    scales with the rate. The clip itself when nothing changes; cached (data/cache/retimed/)."""
    video = read_video(clip)
    if abs(video.fps - fps) < 1e-3 and frames is None:
        return clip
    target = cache_dir() / "retimed" / f"{clip.stem}_{frames or 'all'}_{fps:g}fps.mp4"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part.mp4")
    with av.open(str(partial), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000),
                                      options={"crf": "12", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = video.width, video.height, "yuv420p"
        for frame in video.frames(frames):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame.image, format="rgb24")))
        container.mux(stream.encode())
    partial.replace(target)
    return target


def matching_track(rows: dict[str, np.ndarray], reference: DetectionResult) -> int:
    """The track of `rows` whose boxes overlap the reference's main subject most (summed IoU over the frames)."""
    mine = reference.track_id == reference.main_track_id
    boxes = dict(zip(reference.frame_index[mine], reference.boxes[mine]))
    overlap: dict[int, float] = {}
    for frame, track, box in zip(rows["frame_index"], rows["track_id"], rows["boxes"]):
        if frame in boxes:
            overlap[int(track)] = overlap.get(int(track), 0.0) + float(box_iou(box[None], boxes[frame][None])[0, 0])
    return max(overlap, key=overlap.get)


def detect_setting(video: Video, passes: dict[int, tuple[Tracked, float]], setting: Setting, base: DetectorConfig,
                   reference: DetectionResult | None) -> tuple[DetectionResult, dict[str, float]]:
    """The clip measured as `setting` says (the rest as `base`; pass 1 reused between settings with the same YOLO
    stride), its subject the reference's (None: this is the reference); with pass 1's and the landmark pass's
    seconds and the share of the subject's frames the landmark model measured."""
    config = replace(base, keypoint_stride=setting.keypoint_stride, yolo_stride=setting.yolo_stride)
    if setting.yolo_stride not in passes:
        tick = perf_counter()
        tracked = track_people(video, frame_limit(video, config)[0], config, lambda fraction, message: None)
        passes[setting.yolo_stride] = tracked, perf_counter() - tick
    tracked, yolo_s = passes[setting.yolo_stride]
    main = tracked.main if reference is None else matching_track(tracked.rows, reference)
    tracked = replace(tracked, main=main)
    stage = refine_keypoints(video, tracked, [main], config, lambda fraction, message: None)
    share = stage.counts.person_frames / max(int((tracked.rows["track_id"] == main).sum()), 1)
    counts = stage.counts
    costs = {"yolo_s": yolo_s, "landmark_s": stage.total_s, "measured": share, "reseeded": counts.reseeded,
             "fallbacks": counts.fallbacks, "side_swaps": counts.side_swaps}
    return build_result(video, tracked, stage, config, []), costs


def subject_between(result: DetectionResult, first: int, last: int) -> Pose2DSequence:
    """The main subject's sequence from its rows in frames first..last only (the lifter sees nothing else)."""
    keep = (result.track_id == result.main_track_id) & (result.frame_index >= first) & (result.frame_index <= last)
    return replace(result, **{name: getattr(result, name)[keep] for name in ROW_ARRAYS},
                   ranking=[result.main_track_id]).main_track()


def thinned(result: DetectionResult, stride: int) -> DetectionResult:
    """The dense result with its subject's 2D kept on one frame in `stride` and interpolated in between: what
    interpolation alone costs, without anything else the sparse path does."""
    rows = np.flatnonzero(result.track_id == result.main_track_id)
    keypoints, scores = result.keypoints_coco.copy(), result.scores_coco.copy()
    frames, tracks = result.frame_index[rows], result.track_id[rows]
    picked, values = measured_rows(frames, tracks, stride), [keypoints[rows], scores[rows]]
    interpolate_rows(frames, tracks, picked, values)
    keypoints[rows], scores[rows] = values
    return replace(result, keypoints_coco=keypoints, scores_coco=scores)


def against_dense(dense: DetectionResult, sparse: DetectionResult, lifter: Lifter, smoothing: SmoothingConfig
                  ) -> dict[str, float | list[float]]:
    """The sparse path's subject against the dense path's (see the module doc), on the frames both tracked."""
    spans = [(r.frame_index[r.track_id == r.main_track_id].min(), r.frame_index[r.track_id == r.main_track_id].max())
             for r in (dense, sparse)]
    first, last = max(span[0] for span in spans), min(span[1] for span in spans)
    sequences = [subject_between(r, first, last) for r in (dense, sparse)]
    start = max(s.first_frame for s in sequences)
    end = min(s.first_frame + len(s) for s in sequences)
    poses, points = [], []
    for sequence in sequences:
        window = slice(start - sequence.first_frame, end - sequence.first_frame)
        poses.append(lifter.lift(sequence, flip_test=True, smoothing=smoothing).poses[window])
        points.append(sequence.keypoints[window])
    mine = (dense.track_id == dense.main_track_id) & (dense.frame_index >= start) & (dense.frame_index < end)
    height = float(np.median(dense.boxes[mine, 3] - dense.boxes[mine, 1]))
    joints = 100 * np.linalg.norm(points[1] - points[0], axis=-1).mean(0) / height
    reference, moved = poses[0], poses[1]
    frame_errors = np.linalg.norm(procrustes_align(moved, reference) - reference, axis=-1).mean(-1)
    per_frame = frame_errors.mean()
    whole = procrustes_align(moved.reshape(1, -1, 3), reference.reshape(1, -1, 3)).reshape(moved.shape)
    return {
        "frames": int(end - start),
        "lost_frames": int(max(0, spans[0][1] - spans[0][0] + 1 - (end - start))),
        "mm_per_frame": float(1000 * per_frame),
        "mm_sequence": float(1000 * np.linalg.norm(whole - reference, axis=-1).mean()),
        "percent_2d": float(joints.mean()),
        "percent_2d_worst": float(joints.max()),
        "worst_joint": JOINT_NAMES[int(joints.argmax())],
        "percent_2d_joints": [float(value) for value in joints],
        "first_frame": int(start),  # the per-frame series (JSON only) start here
        "mm_frames": [round(1000 * float(value), 2) for value in frame_errors],
        "px_2d_frames": [round(float(value), 2) for value in np.linalg.norm(points[1] - points[0], axis=-1).mean(-1)],
    }


def clip_table(args: argparse.Namespace) -> None:
    """Print (and with --json write) the sparse path against the dense one on real clips (see the module doc)."""
    clips = [Path(c) for c in args.clip] or [example_video_path()] + ([VTEST] if VTEST.is_file() else [])
    lifter, smoothing = Lifter.from_pretrained(args.lifter, "cpu"), SmoothingConfig(args.smoothing)
    print("| clip | fps | 2D | setting | YOLO stride | measured | YOLO s | 2D s | 2D % (worst joint) | "
          "3D per frame mm | 3D sequence mm |\n|---|---|---|---|---|---|---|---|---|---|---|")
    table = []
    for clip, keypoints, fps in itertools.product(clips, args.keypoints, args.rates):
        video = read_video(retimed(clip, fps, args.frames))
        passes: dict[int, tuple[Tracked, float]] = {}
        base = DetectorConfig(keypoints=keypoints)
        dense = None
        for setting in clip_settings(args, keypoints, fps):
            row = {"clip": clip.name, "fps": fps, "keypoints": keypoints, "setting": setting.label,
                   "yolo_stride": setting.yolo_stride}
            try:
                result, costs = detect_setting(video, passes, setting, base, dense)
            except NoPersonError:  # YOLO at a stride can miss every person a dense YOLO tracked
                print(f"| {clip.name} | {fps:g} | {keypoints} | {setting.label} | no person tracked |", flush=True)
                table.append(row | {"no_person": True})
                continue
            row |= costs
            if dense is None:
                dense = result
            else:
                row |= against_dense(dense, result, lifter, smoothing)
            table.append(row)
            print_row(row)
        for stride in (k for k in args.strides if k > 1):
            row = {"clip": clip.name, "fps": fps, "keypoints": keypoints, "setting": f"dense, 1 in {stride} kept",
                   "yolo_stride": 1} | against_dense(dense, thinned(dense, stride), lifter, smoothing)
            table.append(row)
            print_row(row)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(table, indent=1))


def print_row(row: dict) -> None:
    costs = [f"{100 * row['measured']:.0f} %" if "measured" in row else "-"]
    costs += [f"{row[key]:.1f}" if key in row else "-" for key in ("yolo_s", "landmark_s")]
    if "mm_per_frame" in row:
        accuracy = [f"{row['percent_2d']:.2f} ({row['percent_2d_worst']:.2f} {row['worst_joint']})",
                    f"{row['mm_per_frame']:.2f}", f"{row['mm_sequence']:.2f}"]
    else:
        accuracy = ["(the reference)", "0", "0"]
    cells = [row["clip"], f"{row['fps']:g}", row["keypoints"], row["setting"], str(row["yolo_stride"])]
    print("| " + " | ".join(cells + costs + accuracy) + " |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", default="student", help="held-out mocap: a shipped name or a checkpoint")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--strides", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=["exact", "detector"])
    parser.add_argument("--json", type=Path)
    clips = parser.add_argument_group("real clips (--clip)")
    clips.add_argument("--clip", nargs="*", help="measure real videos instead (none named: the example and vtest.avi)")
    clips.add_argument("--rates", type=float, nargs="+", default=[25.0, 30.0, 60.0], help="frame rates to play at")
    clips.add_argument("--frames", type=int, help="use each clip's first N frames")
    clips.add_argument("--keypoints", nargs="+", default=["heavy"], choices=["lite", "full", "heavy"])
    clips.add_argument("--yolo-strides", type=int, nargs="+", default=[], help="YOLO's strides (landmarks dense)")
    clips.add_argument("--lifter", default="student")
    clips.add_argument("--smoothing", default="phase+savgol", help="the lifter's smoothing (SmoothingConfig)")
    args = parser.parse_args(argv)
    if args.clip is not None:
        return clip_table(args)
    lifter = Lifter.from_pretrained(args.model, "cpu")
    results: dict = {}
    print("| 2D | stride (interval) | MPJPE | P-MPJPE | accel (m/s^2) | bone std (mm) | fastest quarter: P-MPJPE |")
    print("|---|---|---|---|---|---|---|")
    for setting in args.settings:
        views = load_data(DataConfig(data_dir=args.data_dir, **SETTINGS[setting])).heldout_views()
        speeds = np.array([joint_speed(v) for v in views])
        fastest = speeds >= np.quantile(speeds, 0.75)
        for stride in args.strides:
            lifted = [(v, all_metrics(lift_view(lifter, sparse_view(v, stride)), v.target, fps=v.fps)) for v in views]
            overall = summarize(lifted)["overall"]
            fast = summarize([row for row, keep in zip(lifted, fastest) if keep])["overall"]
            results.setdefault(setting, {})[stride] = {"overall": overall, "fastest": fast}
            values = " | ".join(f"{overall[k]:.2f}" if k == "accel" else f"{overall[k]:.1f}" for k in COLUMNS)
            interval = 1000 * stride / views[0].fps
            print(f"| {setting} | {stride} ({interval:.0f} ms) | {values} | {fast['p_mpjpe']:.1f} |", flush=True)
            if args.json:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
