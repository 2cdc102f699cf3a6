"""Writers for the app's downloads: an H.264 mp4 and a GIF written frame by frame, a PNG (a photo's pictures),
and npz/JSON result files.

The CSV of 3D joints is written by `pose_lifting.sequence.write_pose_csv` (its header is defined there, once).
The mp4 is H.264 (yuv420p, `faststart`) so that browsers play it; builds of FFmpeg without an H.264 encoder
fall back to MPEG-4 Part 2, which downloads fine but may not play inline.

`WriteBehind` hands the frames to the writers in a background thread, so that encoding (which releases the GIL)
overlaps the drawing of the next frames.

Every file is written whole (`pose_lifting.files`): under a temporary name, renamed into place once complete;
a write that fails (a full disk) leaves nothing behind and raises `OutputWriteError`.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import cv2
import numpy as np
from PIL import Image

from pose_lifting.files import atomic_output, partial_path, write_failed


def h264_available() -> bool:
    return "libx264" in av.codecs_available


MILLISECOND = Fraction(1, 1000)  # the time base of frames written with their own times
WRITE_FAILURES = (OSError, av.FFmpegError)  # what a failed write of an mp4 or GIF raises


class Mp4Writer:
    """`with Mp4Writer(path, fps) as out: out.write(rgb_frame)`; every frame must have the first frame's size.
    Frames given their `time` (seconds, increasing) keep it (a live take's frames come at an uneven rate); else
    they follow each other at `fps`."""

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path = Path(path)
        self.fps = fps
        try:
            self.container = av.open(
                str(partial_path(self.path)), "w", format="mp4", options={"movflags": "+faststart"}
            )
        except WRITE_FAILURES as error:
            raise write_failed(self.path, error) from error
        self.stream: av.video.stream.VideoStream | None = None

    def write(self, image: np.ndarray, time: float | None = None) -> None:
        try:
            self._encode(image, time)
        except WRITE_FAILURES as error:
            self.abort()
            raise write_failed(self.path, error) from error

    def _encode(self, image: np.ndarray, time: float | None) -> None:
        if self.stream is None:
            codec, options = ("libx264", {"preset": "veryfast", "crf": "23"}) if h264_available() else ("mpeg4", {})
            self.stream = self.container.add_stream(codec, rate=Fraction(self.fps).limit_denominator(1001))
            self.stream.options = options
            self.stream.height, self.stream.width = image.shape[:2]
            self.stream.pix_fmt = "yuv420p"
            if time is not None:
                self.stream.codec_context.time_base = MILLISECOND
        # OpenCV's RGB -> I420 conversion is several times faster than the encoder's own
        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
        if time is not None:
            frame.pts, frame.time_base = round(time / MILLISECOND), MILLISECOND
        self.container.mux(self.stream.encode(frame))

    def close(self) -> None:
        """Flush the encoder and move the finished file into place."""
        with atomic_output(self.path, WRITE_FAILURES):
            if self.stream is not None:
                self.container.mux(self.stream.encode())
            self.container.close()

    def abort(self) -> None:
        """Drop the partial file (after a failure elsewhere)."""
        with contextlib.suppress(OSError, av.FFmpegError):
            self.container.close()
        partial_path(self.path).unlink(missing_ok=True)

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if error is None:
            self.close()
        else:
            self.abort()


class GifWriter:
    """Collects frames (as 256-colour images) and writes a looping GIF that plays at `fps` on close."""

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path = Path(path)
        self.fps = fps
        self.frames: list[Image.Image] = []

    def write(self, image: np.ndarray) -> None:
        self.frames.append(Image.fromarray(image).quantize(colors=64, method=Image.Quantize.FASTOCTREE))

    def durations_ms(self) -> list[int]:
        """Per-frame delays; GIF counts in hundredths of a second, so they alternate to keep the average exact."""
        ticks = np.round(np.arange(len(self.frames) + 1) * 100.0 / self.fps).astype(int)
        return (np.diff(ticks) * 10).tolist()

    def close(self) -> None:
        if self.frames:
            first, *rest = self.frames
            with atomic_output(self.path, WRITE_FAILURES) as partial:
                # optimize=False: the same pixels, no larger, in a third of the time (Pillow's palette pruning)
                first.save(partial, format="GIF", save_all=True, append_images=rest, duration=self.durations_ms(),
                           loop=0, optimize=False)

    def __enter__(self) -> GifWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if error is None:
            self.close()


class WriteBehind:
    """`with WriteBehind() as behind: behind.write(mp4.write, frame)`: the calls run in order in one background
    thread, at most `depth` frames behind; a frame must not change once handed over. The thread's first error is
    raised in the caller, at its next `write` or when the block ends; leaving the block waits for every frame."""

    def __init__(self, depth: int = 8) -> None:
        self.calls: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True, name="video-writer")

    def _run(self) -> None:
        while (call := self.calls.get()) is not None:
            if self.error is None:  # after a failure the rest are dropped, never written out of order
                write, image = call
                try:
                    write(image)
                except BaseException as error:  # handed to the caller, which re-raises it
                    self.error = error

    def write(self, write: Callable[[np.ndarray], None], image: np.ndarray) -> None:
        self._raise()
        self.calls.put((write, image))

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def __enter__(self) -> WriteBehind:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.calls.put(None)
        self.thread.join()
        if error is None:
            self._raise()


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """An RGB image as a PNG."""
    path = Path(path)
    with atomic_output(path, WRITE_FAILURES) as partial:
        Image.fromarray(image).save(partial, format="PNG")
    return path


def write_json(path: str | Path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """`meta` and the arrays as nested lists (NaN, where a person is absent, becomes null), 4 decimals."""
    path = Path(path)
    lists = {
        name: np.where(np.isfinite(a), np.round(a, 4), None).tolist() if a.dtype.kind == "f" else a.tolist()
        for name, a in arrays.items()
    }
    with atomic_output(path) as partial:
        partial.write_text(json.dumps(meta | lists))
    return path
