"""A live take: frames in as a camera gives them, the 2D overlay and the 3D poses out as they are made, the take
kept to be processed as an ordinary video when it ends. The page's Live tab and `python -m app.live` share it.

Per frame (`LiveSession.process`): the detector's causal stages (`detector.live.LiveDetector`), then each lifter
(`pose_lifting.streaming.StreamLifter`: a causal student answers for this frame, a centre-frame one for the frame
(f - 1) / 2 model frames back), the 3D turned upright (the lifter's camera axes, y up) on a floor at the lowest
joint seen so far: the world frame of a file (gravity from the scene, the camera's motion) needs the whole take,
which Stop processes. The frame goes into the take (JPEG in memory, up to `max_take_s`).

Frames that arrive while a frame is still being processed are dropped, never queued: the newest waits in a
one-frame slot and takes the next turn, any older one there is dropped (`offer`), so that the delay cannot grow
past one frame's processing: the readout counts the drops. Delay (latency) = now - the arrival of the frame whose
3D is shown.
"""

from __future__ import annotations

import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

import cv2
import numpy as np
import torch

from app.config import InputError
from app.export import Mp4Writer
from app.lifting import load_lifter
from app.viewer import UPRIGHT
from detector import DetectorConfig
from detector.config import KeypointModel
from detector.live import LiveDetector, LivePose2D
from pose_lifting.devices import Device, detector_device
from pose_lifting.skeleton import NUM_JOINTS
from pose_lifting.streaming import StreamLifter, StreamPose

RATE_WINDOW_S = 2.0  # the readout's frame rate counts the frames processed in the last this many seconds


@dataclass
class LiveConfig:
    """Everything a live take can change, with defaults for a laptop CPU."""

    models: tuple[str, ...] = ("student_causal",)  # lifters, first shown first (weights/<name>.pt or paths)
    keypoints: KeypointModel = "lite"  # BlazePose lite keeps up on 2 cores; full / heavy are slower
    yolo_every: int = 4  # YOLO finds and tracks people on one processed frame in this many
    imgsz: int = 320  # YOLO's input size (longest side); it only finds and re-seeds the person
    flip_test: bool = False  # average each pose with the lift of the mirrored input (twice the lift's cost)
    # torch threads while a frame is processed: one frame is too small to share, and idle threads spinning beside
    # the browser (which films and draws on the same cores) slowed the lift several times over
    torch_threads: int = 1
    expected_fps: float = 30.0  # the camera's frame rate (the tracker's memory; the readout's "keeps up")
    max_take_s: float = 300.0  # the take keeps at most this much video for the processing at Stop
    device: Device = "auto"

    def __post_init__(self) -> None:
        if not self.models:
            raise InputError("choose at least one lifter model")
        if self.yolo_every < 1 or self.imgsz < 32 or self.max_take_s <= 0:
            raise InputError("yolo_every must be >= 1, imgsz >= 32 and max_take_s > 0")


@dataclass
class LiveUpdate:
    """What one processed frame gives: its 2D, each lifter's newest pose, and the readout."""

    pose2d: LivePose2D | None
    poses: list[StreamPose | None]  # per lifter: upright (y up) metres, pelvis at the origin; None: not yet
    floor_y: float  # height of the floor under the first lifter's poses (its lowest joint so far)
    fps: float  # frames processed per second, lately
    latency_ms: float | None  # now - the arrival of the frame whose (first lifter's) 3D pose this is
    dropped: int  # frames dropped so far (they arrived while another was processed)
    status: str  # the readout, e.g. "17.8 fps, 420 ms latency"


@dataclass
class Take:
    """The frames of a take, JPEG-compressed, with their times from its first frame."""

    times: list[float] = field(default_factory=list)
    frames: list[bytes] = field(default_factory=list)
    full: bool = False

    def add(self, image: np.ndarray, time: float, jpeg: bytes | None = None) -> None:
        """Keep a frame: its JPEG as it came (a browser's), else the RGB image compressed."""
        if jpeg is None:
            ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
            if not ok:
                return
            jpeg = encoded.tobytes()
        self.times.append(time)
        self.frames.append(jpeg)

    def save(self, path: Path) -> Path:
        """The take as an mp4 whose frames keep their times (the frame rate of a live take is uneven)."""
        with Mp4Writer(path, max(1.0, len(self.times) / max(self.times[-1], 1e-3))) as out:
            for time, jpeg in zip(self.times, self.frames):
                image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
                out.write(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), time)
        return path


def decode_jpeg(data: bytes) -> np.ndarray:
    """RGB pixels of a JPEG (or PNG) frame; InputError if it is not one."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError("the frame is not a JPEG or PNG image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class LiveSession:
    """One live take. `process` for a frame source that waits for it (the CLI), `offer` for one that does not (the
    page's stream: a frame offered while another is processed is dropped)."""

    def __init__(self, config: LiveConfig | None = None) -> None:
        self.config = config or LiveConfig()
        c = self.config
        self.lifters = [load_lifter(name, c.device) for name in c.models]
        detector = DetectorConfig(keypoints=c.keypoints, imgsz=c.imgsz, device=detector_device(c.device),
                                  landmark_threads=1)
        self.detector = LiveDetector(detector, c.yolo_every, c.expected_fps)
        self.detector.warm_up()
        for lifter in self.lifters:  # the first pass of a model costs more than the next ones
            lifter.predict_windows(torch.zeros(1, lifter.config.receptive_field, NUM_JOINTS, 2))
        self.stream_lifters: list[StreamLifter] = []
        self.take = Take()
        self.start: float | None = None  # stream time of the first frame
        self.arrivals: deque[tuple[float, float]] = deque()  # (stream time, arrival) of recent frames
        self.done: deque[float] = deque()  # when recent frames finished
        self.lowest = np.inf
        self.dropped = 0
        self.lift_ms = [0.0] * len(self.lifters)
        self.lifted = [0] * len(self.lifters)
        self.busy = threading.Lock()  # held while a frame is processed
        self.slot = threading.Condition()  # guards `processing` and the one-frame slot of `offer`
        self.processing = False
        self.waiting: int | None = None  # the ticket of the frame in the slot
        self.offered = 0
        self.last: LiveUpdate | None = None
        self.last_time = -np.inf

    def offer(self, jpeg: bytes, time: float, arrival: float | None = None) -> LiveUpdate | None:
        """A JPEG frame from a source that does not wait (the page's posts, each in its own thread): processed at
        once when nothing is; else it waits in a one-frame slot, where a newer frame replaces it (it is then
        dropped: None). So no queue forms: a frame waits for at most the one being processed. It is decoded only
        if processed, and kept in the take as it came."""
        arrival = perf_counter() if arrival is None else arrival
        with self.slot:
            self.offered += 1
            ticket = self.offered
            if self.waiting is not None:
                self.dropped += 1  # the frame waiting there is replaced
            self.waiting = ticket
            while self.processing and self.waiting == ticket:
                self.slot.wait()
            if self.waiting != ticket:
                return None
            self.waiting, self.processing = None, True
        try:
            with self.busy:
                return self.process(decode_jpeg(jpeg), time, arrival, jpeg)
        finally:
            with self.slot:
                self.processing = False
                self.slot.notify_all()

    @contextmanager
    def threads(self):
        """torch's thread count as `torch_threads` while a frame is processed (the file pipeline's afterwards)."""
        before = torch.get_num_threads()
        torch.set_num_threads(self.config.torch_threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def process(self, image: np.ndarray, time: float, arrival: float | None = None, jpeg: bytes | None = None
                ) -> LiveUpdate:
        """One RGB frame at stream time `time` (seconds, increasing), which arrived at `arrival` (perf_counter;
        default now); `jpeg`: the same frame compressed, for the take, where it came so."""
        arrival = perf_counter() if arrival is None else arrival
        if self.start is None:
            self._begin(image, time)
        time -= self.start
        if self.last is not None and time <= self.last_time:
            return self.last  # a frame older than the last one (a camera that repeats, or posts that crossed)
        self.last_time = time
        with self.threads():
            pose2d = self.detector(image, time)
            poses = [None] * len(self.stream_lifters)
            if pose2d is not None:
                poses = [self._lift(i, lifter, pose2d) for i, lifter in enumerate(self.stream_lifters)]
        if len(self.take.times) and time > self.config.max_take_s:
            self.take.full = True
        else:
            self.take.add(image, time, jpeg)
        self.arrivals.append((time, arrival))
        now = perf_counter()
        self.done.append(now)
        while now - self.done[0] > RATE_WINDOW_S:
            self.done.popleft()
        while self.arrivals[-1][0] - self.arrivals[0][0] > 2 * max(s.delay_s for s in self.stream_lifters) + 1:
            self.arrivals.popleft()
        latency = None if poses[0] is None else 1000 * (now - self._arrival_of(poses[0].time))
        self.last = LiveUpdate(pose2d, poses, self.lowest, self._rate(), latency, self.dropped, "")
        self.last.status = self._readout(self.last)
        return self.last

    def _begin(self, image: np.ndarray, time: float) -> None:
        height, width = image.shape[:2]
        self.stream_lifters = [StreamLifter(lifter, width, height, self.config.flip_test) for lifter in self.lifters]
        self.start = time

    def _lift(self, index: int, lifter: StreamLifter, pose2d: LivePose2D) -> StreamPose | None:
        lifted = lifter.push(pose2d.time, pose2d.keypoints)
        if lifted is None:
            return None
        self.lift_ms[index] += lifted.lift_ms
        self.lifted[index] += 1
        lifted.pose = lifted.pose * UPRIGHT
        if index == 0:
            self.lowest = min(self.lowest, float(lifted.pose[:, 1].min()))
        return lifted

    def _arrival_of(self, time: float) -> float:
        """When the frame at stream time `time` arrived (interpolated between the frames processed)."""
        times, arrivals = np.array(self.arrivals).T
        return float(np.interp(time, times, arrivals, left=arrivals[0] - (times[0] - time)))

    def _rate(self) -> float:
        if len(self.done) < 2:
            return 0.0
        return (len(self.done) - 1) / max(self.done[-1] - self.done[0], 1e-6)

    def _readout(self, update: LiveUpdate) -> str:
        words = [f"{update.fps:.1f} fps"]
        words.append("waiting for the 3D" if update.latency_ms is None else f"{update.latency_ms:.0f} ms latency")
        if update.pose2d is None:
            words.append("nobody in view")
        words.append(f"{update.dropped} frames dropped")
        return "; ".join([", ".join(words), *self.lifter_readout()])

    def lifter_readout(self) -> list[str]:
        """Per lifter: its cost a frame, its look-ahead, and whether it alone would keep up with the camera (a
        frame lifted in less than the camera's frame interval, `expected_fps`)."""
        parts = []
        camera = self.config.expected_fps
        for lifter, total, count in zip(self.stream_lifters, self.lift_ms, self.lifted):
            if count:
                ms = total / count
                pace = "keeps up with" if ms < 1000 / camera else "cannot keep up with"
                parts.append(f"{lifter.name} {ms:.1f} ms a frame, {lifter.delay_s:.2f} s look-ahead ({pace} "
                             f"{camera:.0f} fps)")
        return parts

    def timings(self) -> dict[str, float]:
        """Milliseconds per processed frame, per stage (the detector's, then each lifter's)."""
        stages = self.detector.times.per_frame_ms()
        for lifter, total, count in zip(self.stream_lifters, self.lift_ms, self.lifted):
            stages[f"lift {lifter.name}"] = total / max(count, 1)
        return stages

    def take_note(self) -> str | None:
        """What the take left out, if anything (it keeps at most `max_take_s`)."""
        if not self.take.full:
            return None
        return f"the take kept only its first {self.config.max_take_s:g} s (LiveConfig.max_take_s)"

    def save_take(self, path: str | Path) -> Path | None:
        """Write the take as an mp4 (None when it holds fewer than two frames)."""
        if len(self.take.times) < 2:
            return None
        return self.take.save(Path(path))
