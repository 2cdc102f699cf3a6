"""Live 3D from a camera, or from a video played as if it were one.

    python -m app.live                          # the first camera (--camera N for another)
    python -m app.live VIDEO --realtime         # a video at its own speed: frames the lift misses are dropped
    python -m app.live VIDEO                    # every frame of a video, as fast as it goes (per-stage costs)

A window shows the 2D skeleton beside the 3D one (`--headless`, or no display: a line of frame rate and delay per
second). The take ends with q or Esc in the window, Ctrl+C, `--seconds`, or the video's end; it is then written to
`--out` (`<name>_take.mp4`) and processed as an ordinary video there (every download), unless `--no-process`.
`--json FILE` writes the take's frame rate, delay, drops and per-stage costs (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from app.live_session import LiveConfig, LiveSession, LiveUpdate
from app.pipeline import USER_ERRORS, PipelineConfig, run_pipeline
from app.render import Panel3D, draw_2d, side_by_side
from app.viewer import UPRIGHT
from detector import TerminalProgress, read_video
from detector.video import Frame
from pose_lifting.cli_options import add_options, from_options

LIVE_OPTION_NAMES = {"models": "model"}
WINDOW = "SCJD live (q to stop)"


def realtime(frames: Iterator[Frame], clock=time.perf_counter, sleep=time.sleep) -> Iterator[tuple[Frame, float, int]]:
    """The frames of a video as a camera would give them: each at its own time from the start, and, when the
    consumer comes back late, only the newest one that has arrived (the ones before it are dropped, as a camera
    with a one-frame buffer drops them). Yields (frame, its arrival, frames dropped before it)."""
    start = clock()
    pending = next(frames, None)
    while pending is not None:
        following = next(frames, None)
        dropped = 0
        while following is not None and start + following.time <= clock():  # a newer frame has arrived already
            pending, following, dropped = following, next(frames, None), dropped + 1
        arrival = start + pending.time
        if arrival > clock():
            sleep(arrival - clock())
        yield pending, arrival, dropped
        pending = following


def camera_frames(index: int) -> Iterator[tuple[Frame, float, int]]:
    """Frames from camera `index` (OpenCV), as they come; the driver keeps only the newest."""
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        raise SystemExit(f"camera {index} cannot be opened (is it there, and free?); try --camera 1, or a video")
    capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
    start, count = time.perf_counter(), 0
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                return
            arrival = time.perf_counter()
            yield Frame(count, arrival - start, cv2.cvtColor(image, cv2.COLOR_BGR2RGB)), arrival, 0
            count += 1
    finally:
        capture.release()


def every_frame(frames: Iterator[Frame]) -> Iterator[tuple[Frame, float, int]]:
    for frame in frames:
        yield frame, time.perf_counter(), 0


class Display:
    """The window (2D beside 3D), or, headless, a line of the readout per second."""

    def __init__(self, headless: bool) -> None:
        self.headless = headless
        self.panel = None if headless else Panel3D()
        self.printed = -1.0

    def show(self, image: np.ndarray, update: LiveUpdate, now: float) -> bool:
        """Show one frame and its update; False when the user asked to stop."""
        if self.headless:
            if now - self.printed >= 1.0:
                print(update.status, flush=True)
                self.printed = now
            return True
        poses = [pose.pose * UPRIGHT for pose in update.poses if pose is not None]  # back to camera axes
        panel = self.panel.draw(poses[:1], second=poses[1:])
        frame = image.copy()
        if update.pose2d is not None:
            draw_2d(frame, update.pose2d.keypoints, update.pose2d.scores)
        frame = cv2.resize(frame, (int(frame.shape[1] * panel.shape[0] / frame.shape[0]), panel.shape[0]))
        picture = side_by_side(frame, panel)
        cv2.putText(picture, update.status[:110], (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
        cv2.imshow(WINDOW, cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
        return cv2.waitKey(1) & 0xFF not in (ord("q"), 27)

    def close(self) -> None:
        if not self.headless:
            cv2.destroyAllWindows()


def run(session: LiveSession, source: Iterator[tuple[Frame, float, int]], display: Display,
        seconds: float | None) -> dict:
    """Feed the source to the session until it ends (or `seconds`, or the user stops); the take's summary."""
    updates, latencies, offered = 0, [], 0
    first = last = None
    try:
        for frame, arrival, dropped in source:
            session.dropped += dropped
            offered += dropped + 1
            update = session.process(frame.image, frame.time, arrival)
            updates += 1
            last = now = time.perf_counter()
            first = now if first is None else first
            if update.latency_ms is not None:
                latencies.append(update.latency_ms)
            if not display.show(frame.image, update, now) or (seconds is not None and frame.time >= seconds):
                break
    except KeyboardInterrupt:
        pass
    return {
        "frames_offered": offered,
        "frames_processed": updates,
        "frames_dropped": session.dropped,
        "fps": (updates - 1) / (last - first) if updates > 1 else None,
        "latency_ms_median": float(np.median(latencies)) if latencies else None,
        "latency_ms_p90": float(np.percentile(latencies, 90)) if latencies else None,
        "stage_ms": session.timings(),
        "models": list(session.config.models),
        "keypoints": session.config.keypoints,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.live", description=__doc__.split("\n")[0])
    parser.add_argument("video", nargs="?", type=Path, help="a video to play as a camera (default: a camera)")
    parser.add_argument("--camera", type=int, default=0, help="the camera's number (default 0)")
    parser.add_argument("--realtime", action="store_true", help="play VIDEO at its own speed, dropping what is missed")
    parser.add_argument("--max-side", type=int, default=640,
                        help="shrink a VIDEO's frames to this longest side, a webcam's size (0: as they are)")
    parser.add_argument("--seconds", type=float, help="end the take after this many seconds")
    parser.add_argument("--headless", action="store_true", help="no window: print the readout once a second")
    parser.add_argument("--out", type=Path, default=Path("outputs/live"), help="where the take and its outputs go")
    parser.add_argument("--no-process", action="store_true", help="keep the take, do not process it at the end")
    parser.add_argument("--json", type=Path, help="write the take's frame rate, delay and per-stage costs here")
    add_options(parser, LiveConfig, names=LIVE_OPTION_NAMES)
    args = parser.parse_args(argv)
    if args.realtime and args.video is None:
        parser.error("--realtime plays a VIDEO")
    try:
        config = from_options(args, LiveConfig)
        session = LiveSession(config)
        if args.video is None:
            source, name = camera_frames(args.camera), f"camera{args.camera}"
        else:
            frames = read_video(args.video).frames(max_side=args.max_side or None)
            source, name = (realtime(frames) if args.realtime else every_frame(frames)), args.video.stem
        headless = args.headless or (sys.platform.startswith("linux") and not os.environ.get("DISPLAY"))
        display = Display(headless)
        try:
            summary = run(session, source, display, args.seconds)
        finally:
            display.close()
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    take = session.save_take(args.out / f"{name}_take.mp4")
    if take is None:
        print("the take is too short to keep", file=sys.stderr)
        return 1
    print(f"take: {take}" + (f" ({session.take_note()})" if session.take_note() else ""))
    if not args.no_process:
        result = run_pipeline(take, args.out, PipelineConfig(), TerminalProgress())  # as any video: the defaults
        print("\n".join(str(path) for path in result.files.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
