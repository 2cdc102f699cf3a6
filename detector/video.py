"""Read the videos people upload: upright RGB frames streamed one at a time, with the container's fps and timestamps.

Any container and codec FFmpeg (through PyAV) decodes works: mp4, mov, avi, webm, mkv, ... Phone clips store
portrait video sideways with a rotation in their metadata (the display matrix); frames come out rotated upright
and `width`/`height` are the upright size. Timestamps come from the container, so variable-frame-rate clips keep
their real timing; `fps` is the container's average rate (frames over duration), the rate the lifter's window,
measured in frames, assumes. Frames are decoded lazily and never all held in memory. A photo (`STILL_SUFFIXES`)
reads as a video of one frame (FFmpeg's image decoders).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TypeVar

import av
import numpy as np

from detector.errors import CorruptVideoError, EmptyVideoError, NotAVideoError, VideoNotFoundError

SUPPORTED = "mp4, mov, avi, webm, mkv (or any other format FFmpeg decodes), or a photo: png, jpg, webp"
STILL_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")  # a photo: one frame, read as a video of one frame
T = TypeVar("T")


@dataclass
class Frame:
    """One decoded frame: its index in the video, its time in seconds from the first frame, its upright pixels."""

    index: int
    time: float
    image: np.ndarray  # (H, W, 3) uint8, RGB (or BGR when asked for)
    detail: np.ndarray | None = None  # the same frame larger, where asked for (`Video.frames`' detail), else None


@dataclass
class Video:
    """An opened video: what the container says about it, and its frames on demand (iterate for RGB arrays)."""

    path: Path
    fps: float
    width: int  # upright size, after rotation
    height: int
    num_frames: int
    timestamps: np.ndarray  # (num_frames,) seconds from the first frame, from the container's packet times
    rotation: int  # degrees counter-clockwise applied to the stored frames to make them upright: 0, 90, 180, 270
    codec: str
    warnings: list[str] = field(default_factory=list)  # problems met while decoding, for the user

    @property
    def duration_s(self) -> float:
        return float(self.timestamps[-1]) + 1.0 / self.fps if self.num_frames else 0.0

    def __len__(self) -> int:
        return self.num_frames

    def scaled_size(self, max_side: int | None) -> tuple[int, int]:
        """(width, height) with the longest side at most `max_side`, aspect ratio kept."""
        scale = min(1.0, max_side / max(self.width, self.height)) if max_side else 1.0
        return max(1, round(self.width * scale)), max(1, round(self.height * scale))

    def __iter__(self) -> Iterator[np.ndarray]:
        return (frame.image for frame in self.frames())

    def frames(
        self,
        limit: int | None = None,
        bgr: bool = False,
        max_side: int | None = None,
        threads: int = 0,
        keep: Callable[[int], bool] | None = None,
        detail: Callable[[int], bool] | None = None,
        detail_side: int | None = None,
    ) -> Iterator[Frame]:
        """Decode the frames in order (at most `limit`), upright, RGB or (for OpenCV/Ultralytics) BGR.

        `max_side` shrinks frames whose longest side is larger, keeping the aspect ratio; FFmpeg scales (area
        averaging) while it converts the pixel format, cheaper than converting at full size and resizing after.
        `threads` is the number of FFmpeg decoding threads (0: FFmpeg picks, one per core). With `keep`, only the
        frames whose index it accepts are converted and yielded (the others are decoded, as the codec needs, and
        dropped: sparse 2D). With `detail`, the frames whose index it accepts also carry `Frame.detail`, the same
        decoded frame converted again with its longest side at most `detail_side` (None: full size): a few frames
        read finely (the scene's lines) without decoding the video twice.
        """
        pixel_format = "bgr24" if bgr else "rgb24"
        width, height = self.scaled_size(max_side)
        detail_width, detail_height = self.scaled_size(detail_side)
        if self.rotation in (90, 270):
            width, height = height, width  # the stored frames are sideways
            detail_width, detail_height = detail_height, detail_width
        with _open(self.path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            stream.codec_context.thread_count = threads
            start, decoded, damaged = None, 0, 0
            for frame in _decodable_frames(container, stream):
                if frame is None:
                    damaged += 1
                    continue
                if limit is not None and decoded >= limit:
                    break
                time = frame.time if frame.time is not None else decoded / self.fps
                start = time if start is None else start
                if keep is not None and not keep(decoded):
                    decoded += 1
                    continue
                image = self._upright(frame, width, height, pixel_format)
                fine = None
                if detail is not None and detail(decoded):
                    fine = self._upright(frame, detail_width, detail_height, pixel_format)
                yield Frame(decoded, float(time - start), image, fine)
                decoded += 1
        if damaged and not decoded:
            raise CorruptVideoError(
                f"no frame of '{self.path.name}' could be decoded ({damaged} damaged packets); "
                "the file may be truncated or damaged, try re-exporting it"
            )
        if damaged:
            self.warnings.append(
                f"'{self.path.name}' is damaged: {damaged} unreadable part(s) were skipped and {decoded} frames "
                "were read; poses are missing where the video is damaged. Re-export the video for a complete result"
            )

    def _upright(self, frame: av.VideoFrame, width: int, height: int, pixel_format: str) -> np.ndarray:
        """A decoded frame converted to `pixel_format` at (width, height) as stored, then turned upright."""
        image = frame.to_ndarray(width=width, height=height, format=pixel_format, interpolation="AREA")
        return np.ascontiguousarray(np.rot90(image, k=self.rotation // 90))


def is_still_image(path: str | Path) -> bool:
    """A photo (by its name's suffix), which the detector and the pipeline take as one frame."""
    return Path(path).suffix.lower() in STILL_SUFFIXES


def read_video(path: str | Path) -> Video:
    """Open a video and read its metadata (decoding only the first frame); raise a `DetectorError` if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise VideoNotFoundError(f"no video file at '{path}'")
    if path.stat().st_size == 0:
        raise EmptyVideoError(f"'{path.name}' is empty (0 bytes); the upload may have failed, try again")
    with _open(path) as container:
        if not container.streams.video:
            raise NotAVideoError(f"'{path.name}' has no video stream (is it an audio file?); supported: {SUPPORTED}")
        stream = container.streams.video[0]
        first, times = _first_frame_and_packet_times(path, container, stream)
        rate, declared_frames = stream.average_rate or stream.guessed_rate, stream.frames
        codec = stream.codec_context.name
    if first is None:
        raise EmptyVideoError(f"'{path.name}' contains no video frames")
    rotation = int(round(first.rotation / 90.0)) * 90 % 360
    fps = _fps(path, rate, times)
    if times is None:
        times = np.arange(max(declared_frames, 1)) / fps
    width, height = (first.height, first.width) if rotation in (90, 270) else (first.width, first.height)
    return Video(path, fps, width, height, len(times), times, rotation, codec)


def _decodable_frames(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> Iterator[av.VideoFrame | None]:
    """The stream's frames, with None for each packet that fails to decode; a demuxing error ends the stream."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.FFmpegError:
            yield None
            return
        try:
            yield from packet.decode()  # the empty flush packet at the end drains the decoder
        except av.FFmpegError:
            yield None


def prefetch(items: Iterable[T], depth: int) -> Iterator[T]:
    """Iterate `items` in a background thread, up to `depth` ahead, so that decoding overlaps the consumer's work.

    Exceptions raised while producing are re-raised in the consumer; stopping early stops the thread.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put((done, None))
        except Exception as error:  # handed to the consumer, which re-raises it
            buffer.put((done, error))

    thread = threading.Thread(target=produce, daemon=True, name="video-decoder")
    thread.start()
    try:
        while True:
            item, error = buffer.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r")
    except av.FFmpegError as error:
        raise NotAVideoError(
            f"'{path.name}' is not a video file that can be read ({error.strerror}); supported: {SUPPORTED}"
        ) from error


def _first_frame_and_packet_times(
    path: Path, container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> tuple[av.VideoFrame | None, np.ndarray | None]:
    """One demuxing pass: the first decoded frame, and the presentation times of all packets from 0 (None if the
    container has none)."""
    first, stamps = None, []
    try:
        for packet in container.demux(stream):
            if packet.size > 0:
                stamps.append(packet.pts)
            if first is None:
                first = next(iter(packet.decode()), None)  # an empty packet at the end flushes the decoder
    except av.FFmpegError as error:
        raise NotAVideoError(f"the video stream of '{path.name}' cannot be decoded: {error}") from error
    if not stamps or any(stamp is None for stamp in stamps):
        return first, None
    stamps = np.sort(np.asarray(stamps, dtype=np.float64))
    return first, (stamps - stamps[0]) * float(stream.time_base)


def _fps(path: Path, rate: Fraction | None, times: np.ndarray | None) -> float:
    """The container's average frame rate; else frames over duration from the packet times."""
    if rate and 0 < float(rate) < 1000:
        return float(rate)
    if times is not None and len(times) > 1 and times[-1] > 0:
        return (len(times) - 1) / float(times[-1])
    raise NotAVideoError(f"'{path.name}' does not state its frame rate and it cannot be inferred from its timestamps")
