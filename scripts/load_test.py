"""Several users at once: start `python -m app` on a free port of 127.0.0.1 and send it 4 clients x 3 requests
through `gradio_client` (the `/lift` API), mixed videos (2-3 s cuts of the example) and keypoint .npz files.

    python scripts/load_test.py [--clients 4] [--requests 3] [--timeout-s 2400] [--json results.json]

Checks that every answer is complete (status ok, all five files, the mp4 has as many frames as were processed)
and belongs to its own request (its own folder, named after its own upload, whose npz names that upload and
has that upload's frame count: no crossed outputs), that queued users were told their place in the queue, and
that the server empties its output folder when it stops. Reports each request's latency (waiting in the queue,
processing) and the server's peak memory (resident, with its children, sampled every 0.2 s). Exits 1 if any
check fails. Everything is bounded: the requests, each answer's wait, and the whole run (`--timeout-s`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil
from gradio_client import Client, handle_file
from gradio_client.utils import Status

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.export import Mp4Writer  # noqa: E402 (after the path set-up)
from detector import example_video_path, read_video  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXPECTED_FILES = {"mp4", "gif", "npz", "json"}  # and one csv per model


@dataclass
class LoadConfig:
    clients: int = 4
    requests: int = 3  # per client, one after the other
    model: str = "student"
    clip_seconds: tuple[float, ...] = (2.0, 2.5, 3.0)  # the video cuts of the example
    width: int = 640  # the cuts are scaled to this width (smaller uploads)
    timeout_s: float = 2400.0  # the whole run
    json: Path | None = None


@dataclass
class Outcome:
    client: int
    index: int
    upload: str
    expected_frames: int
    submitted: float
    started: float | None = None  # first status that says it is processing
    finished: float | None = None
    ranks: list[int] = field(default_factory=list)  # queue places the client was told while waiting
    status: dict | None = None
    problems: list[str] = field(default_factory=list)

    def row(self) -> dict:
        wait = (self.started or self.finished or self.submitted) - self.submitted
        total = (self.finished or time.monotonic()) - self.submitted
        return {
            "client": self.client,
            "request": self.index,
            "upload": self.upload,
            "frames": self.expected_frames,
            "queue_wait_s": round(wait, 1),
            "processing_s": round(total - wait, 1),
            "latency_s": round(total, 1),
            "queue_places_seen": sorted(set(self.ranks)),
            "ok": not self.problems,
            "problems": self.problems,
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_inputs(config: LoadConfig, folder: Path) -> list[list[tuple[Path, int]]]:
    """Per client, its uploads with their expected frame counts: videos and keypoint files in turn."""
    example = read_video(example_video_path())
    uploads = []
    for client in range(config.clients):
        mine = []
        for index in range(config.requests):
            name = f"client{client}_request{index}"
            if (client + index) % 2 == 0:
                seconds = config.clip_seconds[(client + index) % len(config.clip_seconds)]
                frames = round(seconds * example.fps)
                path = folder / f"{name}_clip.mp4"
                with Mp4Writer(path, example.fps) as out:
                    for frame in example.frames(limit=frames, max_side=config.width):
                        out.write(frame.image[: frame.image.shape[0] // 2 * 2])
            else:
                frames = 40 + 10 * client + index  # a distinct length per request
                path = keypoints_file(folder / f"{name}_keypoints.npz", frames)
            mine.append((path, frames))
        uploads.append(mine)
    return uploads


def keypoints_file(path: Path, frames: int) -> Path:
    """A 2D keypoints .npz (the pipeline's format): a figure in H36M layout walking across a 640x480 image."""
    legs = [[0, 0], [-12, 0], [-12, 45], [-12, 90], [12, 0], [12, 45], [12, 90]]
    spine_and_arms = [[0, -25], [0, -50], [0, -60], [0, -75], [18, -50], [40, -30], [45, -5], [-18, -50], [-40, -30]]
    skeleton = 2 * np.array(legs + spine_and_arms + [[-45, -5]], np.float32)
    shift = np.linspace(-100, 100, frames)[:, None, None] * np.array([1, 0], np.float32)
    keypoints = (skeleton[None] + np.array([320, 240], np.float32) + shift).astype(np.float32)
    keypoints[:, 13, 1] -= 50 * np.abs(np.sin(np.arange(frames) / 4))
    scores = np.full((frames, 17), 0.9, np.float32)
    np.savez(path, keypoints=keypoints, scores=scores, fps=30.0, width=640, height=480, layout="h36m")
    return path


class MemoryWatch(threading.Thread):
    """Samples the resident memory of a process and its children until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.stopped = psutil.Process(pid), 0, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.2):
            try:
                family = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in family if p.is_running()))
            except psutil.Error:
                return


def start_server(port: int, output_root: Path) -> subprocess.Popen:
    env = os.environ | {"GRADIO_ANALYTICS_ENABLED": "False"}
    command = [sys.executable, "-m", "app", "--port", str(port), "--output-root", str(output_root)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit(f"the server did not start: {server.stdout.read() if server.stdout else ''}")


def run_client(
    url: str, client: int, uploads: list[tuple[Path, int]], config: LoadConfig, deadline: float, outcomes: list[Outcome]
) -> None:
    """One user: sends its uploads one after the other, watching each job's status until it is done."""
    api = Client(url, verbose=False)
    for index, (path, frames) in enumerate(uploads):
        outcome = Outcome(client, index, path.name, frames, time.monotonic())
        outcomes.append(outcome)
        job = api.submit(handle_file(str(path)), config.model, api_name="/lift")
        while not job.done() and time.monotonic() < deadline:
            update = job.status()
            if update.code == Status.IN_QUEUE and update.rank is not None:
                outcome.ranks.append(update.rank)
            if outcome.started is None and update.code in (Status.PROCESSING, Status.PROGRESS):
                outcome.started = time.monotonic()
            time.sleep(0.1)
        try:
            files, outcome.status = job.result(timeout=max(1.0, deadline - time.monotonic()))
        except Exception as error:  # a timeout or a server error: recorded, the run goes on
            outcome.problems.append(f"no answer: {type(error).__name__}: {error}")
            continue
        finally:
            outcome.finished = time.monotonic()
        outcome.problems += check_answer(outcome, [Path(f) for f in files])


def check_answer(outcome: Outcome, files: list[Path]) -> list[str]:
    """What is wrong with one answer: incomplete, or not this request's."""
    status, stem = outcome.status or {}, Path(outcome.upload).stem
    if not status.get("ok"):
        return [f"failed: {status.get('message')}"]
    problems = []
    kinds = set(status["files"])
    if not kinds >= EXPECTED_FILES or not any(kind.startswith("csv:") for kind in kinds) or len(files) != len(kinds):
        problems.append(f"incomplete: {sorted(kinds)}, {len(files)} files")
    if status["source"] != outcome.upload or not all(f.name.startswith(stem) for f in files):
        problems.append(f"crossed: asked for {outcome.upload}, got {status['source']} / {[f.name for f in files]}")
    if status["num_frames"] != outcome.expected_frames:
        problems.append(f"{status['num_frames']} frames processed, {outcome.expected_frames} sent")
    npz = next((f for f in files if f.suffix == ".npz"), None)
    if npz is not None:
        with np.load(npz) as data:
            meta, frames = json.loads(str(data["meta"])), data["keypoints_2d"].shape[1]
        if frames != outcome.expected_frames or stem not in meta["source"]:
            problems.append(f"crossed npz: {meta['source']} with {frames} frames")
    mp4 = next((f for f in files if f.suffix == ".mp4"), None)
    if mp4 is None or read_video(mp4).num_frames != status["num_frames"]:
        problems.append("the mp4 is missing or has the wrong number of frames")
    return problems


def queued_behind_another(outcome: Outcome, outcomes: list[Outcome]) -> bool:
    """Whether another request ran for over a second while this one was already submitted and not yet started."""
    if outcome.started is None:
        return False
    return any(
        other.started is not None
        and other.finished is not None
        and other.started < outcome.started
        and other.finished - max(outcome.submitted, other.started) > 1.0
        for other in outcomes
        if other is not outcome
    )


def main(argv: list[str] | None = None) -> int:
    defaults = LoadConfig()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=defaults.clients)
    parser.add_argument("--requests", type=int, default=defaults.requests)
    parser.add_argument("--model", default=defaults.model)
    parser.add_argument("--timeout-s", type=float, default=defaults.timeout_s)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    config = LoadConfig(args.clients, args.requests, args.model, timeout_s=args.timeout_s, json=args.json)

    work = Path(tempfile.mkdtemp(prefix="scjd-load-"))
    (work / "inputs").mkdir()
    uploads = make_inputs(config, work / "inputs")
    port, output_root = free_port(), work / "server"
    server = start_server(port, output_root)
    memory = MemoryWatch(server.pid)
    memory.start()
    url = f"http://127.0.0.1:{port}/"
    started = time.monotonic()
    deadline = started + config.timeout_s
    outcomes: list[Outcome] = []
    clients = [
        threading.Thread(target=run_client, args=(url, c, uploads[c], config, deadline, outcomes))
        for c in range(config.clients)
    ]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(max(1.0, deadline - time.monotonic()))
    wall = time.monotonic() - started
    memory.stopped.set()
    request_folders = sorted(p.name for p in (output_root / "requests").iterdir())
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(60)
    except subprocess.TimeoutExpired:
        server.kill()
    left = [str(p) for p in output_root.rglob("*") if p.is_file()]

    rows = [o.row() for o in sorted(outcomes, key=lambda o: (o.client, o.index))]
    requests_seen = [o.status.get("request") for o in outcomes if o.status]
    waited = [o for o in outcomes if queued_behind_another(o, outcomes)]
    checks = {
        "all answered, complete, none crossed": len(rows) == config.clients * config.requests
        and all(row["ok"] for row in rows),
        "each answer in its own folder": len(set(requests_seen)) == len(requests_seen) == len(request_folders),
        "queued users were told their place": bool(waited) and all(o.ranks for o in waited),
        "the output folder is empty after the server stopped": not left,
    }
    report = {
        "command": " ".join(["python scripts/load_test.py", *sys.argv[1:]]),
        "wall_s": round(wall, 1),
        "server_peak_rss_mb": round(memory.peak / 2**20),
        "load_average_1_5_15min": os.getloadavg(),
        "cpus": os.cpu_count(),
        "checks": checks,
        "requests": rows,
    }
    for row in rows:
        print(json.dumps(row))
    print(json.dumps({k: v for k, v in report.items() if k != "requests"}, indent=1))
    if config.json:
        config.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
