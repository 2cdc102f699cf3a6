"""A whole collection of videos on this machine or a Ray cluster: the CLI's pipeline, one video per task.

    python -m app.batch INPUT... --out DIR [--workers N] [--threads T] [--address ADDRESS] [--force]
    python -m app.batch "clips/**/*.mp4" season/ --out outputs/season --keypoints heavy

INPUT is what `python -m app.cli` takes (videos, keypoint and detection files, folders, quoted globs; every
pipeline option too). Each input's outputs, the same files as `app.cli` writes, go into a folder of its own,
`DIR/<stem>/`, written under `DIR/.partial/` and renamed into place once complete (with `batch.json`, the record
of the run); a rerun skips the inputs whose folder is complete (same file, same settings) and `--force` redoes
them. A failing input is recorded and the others go on. `DIR/summary.csv` and `DIR/summary.json` list every
input's status (done, skipped, failed), its error, frames, people, duration, speed and warnings; the exit status
is 1 if any input failed.

Ray: a local instance by default, an existing cluster with `--address` (docs/batch.md). One Ray actor per worker
slot loads the lifters once and processes video after video, with `--threads` CPU threads for PyTorch, LiteRT
(BlazePose) and OpenCV, so that workers x threads fit the cores; on a machine with GPUs each worker takes one.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import json
import math
import os
import shutil
import sys
import time
import traceback
import uuid
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from app.cli import add_run_options, expand_inputs, run_config
from app.pipeline import USER_ERRORS, PipelineConfig, load_lifters, run_pipeline
from detector import DetectorConfig
from detector.model import PoseModel

RECORD = "batch.json"  # in each input's output folder: what was run, on what, and what it gave
PARTIAL = ".partial"  # DIR/.partial/: folders being written
SUMMARY_FIELDS = ("input", "status", "error", "frames", "people", "duration_s", "seconds", "cpu_s", "fps",
                  "warnings", "output", "worker")
MEMORY_PER_WORKER_GB = 2.0  # a worker: peak RSS 1.2 GB measured on 60 frames of the 1768x994 example clip


@dataclass
class WorkerConfig(PipelineConfig):
    """PipelineConfig with the BlazePose (LiteRT) interpreter's thread count, which the detector takes from its
    own config (`DetectorConfig.landmark_threads`) and PipelineConfig leaves at its default."""

    landmark_threads: int = 2

    def detector_config(self) -> DetectorConfig:
        config = super().detector_config()
        config.landmark_threads = self.landmark_threads
        return config


def settings_key(config: PipelineConfig) -> str:
    """A short hash of everything that changes the outputs (not the thread counts)."""
    values = {f.name: getattr(config, f.name) for f in fields(PipelineConfig)}
    text = json.dumps(values, default=lambda v: asdict(v) if hasattr(v, "__dataclass_fields__") else str(v),
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def source_key(path: Path) -> dict:
    """The input's identity: its resolved path, size and modification time (a folder: its newest file's)."""
    path = path.resolve()
    stats = [path.stat()] + ([p.stat() for p in path.rglob("*") if p.is_file()] if path.is_dir() else [])
    return {"source": str(path), "size": sum(s.st_size for s in stats), "mtime_ns": max(s.st_mtime_ns for s in stats)}


def one_line(text: str, limit: int = 400) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def output_names(inputs: list[Path]) -> list[str]:
    """Each input's folder name under DIR: its stem, with _2, _3, ... where stems repeat (in input order)."""
    names, used = [], set()
    for path in inputs:
        stem, name, count = path.stem or "input", path.stem or "input", 1
        while name.lower() in used:
            count += 1
            name = f"{stem}_{count}"
        used.add(name.lower())
        names.append(name)
    return names


def complete_record(folder: Path, source: dict, settings: str) -> dict | None:
    """The record of a complete earlier run of this input with these settings in `folder`, else None."""
    try:
        record = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return None
    same = record.get("status") == "done" and record.get("settings") == settings and all(
        record.get(key) == value for key, value in source.items()
    )
    files = record.get("files", [])
    return record if same and files and all((folder / name).is_file() for name in files) else None


def process(path: Path, folder: Path, config: PipelineConfig, source: dict, settings: str, worker: str) -> dict:
    """Run the pipeline on one input into a temporary folder beside `folder`, then rename it into place.
    Returns the summary row; a failure is a row too (status failed, the error in one line and its traceback)."""
    started, cpu = time.perf_counter(), time.process_time()
    partial = folder.parent / PARTIAL / f"{folder.name}.{uuid.uuid4().hex[:8]}"
    row = {"input": str(path), "output": str(folder), "worker": worker}
    try:
        result = run_pipeline(path, partial, config)
        seconds = time.perf_counter() - started
        row |= {
            "status": "done", "error": "", "frames": result.num_frames, "people": len(result.people),
            "duration_s": round(result.num_frames / result.fps, 3) if result.fps else None,
            "seconds": round(seconds, 2), "cpu_s": round(time.process_time() - cpu, 2),
            "fps": round(result.end_to_end_fps(), 2), "warnings": result.warnings,
        }
        files = sorted(p.name for p in partial.iterdir())
        finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        record = row | source | {"settings": settings, "files": files, "finished": finished}
        (partial / RECORD).write_text(json.dumps(record, indent=1, default=str))
        replace_folder(partial, folder)
        return row
    except Exception as error:  # recorded; the other inputs go on
        shutil.rmtree(partial, ignore_errors=True)
        message = str(error) if isinstance(error, USER_ERRORS) else f"{type(error).__name__}: {error}"
        seconds = round(time.perf_counter() - started, 2)
        return row | {"status": "failed", "output": "", "error": one_line(message), "seconds": seconds,
                      "traceback": None if isinstance(error, USER_ERRORS) else traceback.format_exc()}


def replace_folder(new: Path, folder: Path) -> None:
    """Put the complete folder `new` at `folder`, replacing an older one (which is moved aside first)."""
    old = None
    if folder.exists():
        old = new.with_name(new.name + ".old")
        os.replace(folder, old)
    os.replace(new, folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


class Worker:
    """One worker slot (a Ray actor): sets its thread counts, loads the lifters once, then runs input after input."""

    def __init__(self, config: PipelineConfig, threads: int) -> None:
        import platform

        import cv2
        import torch

        torch.set_num_threads(threads)
        with contextlib.suppress(RuntimeError):  # only possible before the first parallel work
            torch.set_num_interop_threads(threads)
        cv2.setNumThreads(threads)
        base = {f.name: getattr(config, f.name) for f in fields(PipelineConfig)}
        self.config = WorkerConfig(**base, landmark_threads=threads)
        self.threads = threads
        load_lifters(self.config)  # once; run_pipeline finds them in its cache
        # Ultralytics' imports and first-use set-up (about 3.5 s here) once; detect() then loads YOLO per video
        # in 0.01 s (a fresh model each time, as in app.cli: its tracker keeps state between frames)
        with contextlib.suppress(*USER_ERRORS):  # a model that fails to load fails each input, with its message
            PoseModel(self.config.detector_config())

        device = "cuda" if torch.cuda.is_available() and config.device != "cpu" else "cpu"
        self.name = f"{platform.node()}:{os.getpid()} ({device}, {threads} threads)"

    def ready(self) -> str:
        return self.name

    def run(self, path: str, folder: str, source: dict, settings: str) -> dict:
        return process(Path(path), Path(folder), self.config, source, settings, self.name)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def memory_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return math.inf


def plan_workers(cpus: int, gpus: int, nodes_cpus: list[int], workers: int | None, threads: int | None,
                 memory: float, use_gpu: bool) -> tuple[int, int]:
    """(workers, threads per worker): by default one worker per GPU where there are GPUs, else one per core (as
    many as the memory allows), each with the cores / workers threads so that workers x threads fit the cores."""
    if workers is None:
        if use_gpu and gpus:
            workers = gpus
        else:
            workers = max(1, cpus // (threads or 1))
            if math.isfinite(memory):
                workers = max(1, min(workers, int(memory // MEMORY_PER_WORKER_GB)))
    if threads is None:
        per_node = math.ceil(workers / max(1, len(nodes_cpus)))
        threads = max(1, min(nodes_cpus or [cpus]) // per_node)
    return workers, threads


class Progress:
    """A tqdm bar over the inputs on a terminal, else one plain line per finished input."""

    def __init__(self, total: int, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.total, self.count = total, 0
        self.bar = None
        if self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=self.stream, unit="video", dynamic_ncols=True)

    def __call__(self, row: dict) -> None:
        self.count += 1
        status = row["status"]
        detail = row["error"] if status == "failed" else (
            f"{row.get('frames')} frames, {row.get('fps')} fps" if status == "done" else "complete already")
        line = f"[{self.count}/{self.total}] {Path(row['input']).name}: {status} ({detail})"
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
            self.bar.update(1)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def write_summary(out: Path, rows: list[dict], meta: dict) -> None:
    """DIR/summary.csv (one row per input, warnings joined by " | ") and DIR/summary.json, each written whole."""
    text = io.StringIO()
    writer = csv.DictWriter(text, SUMMARY_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row | {"warnings": " | ".join(one_line(w) for w in row.get("warnings") or [])})
    for name, content in (("summary.csv", text.getvalue()), ("summary.json", json.dumps(
            meta | {"inputs": rows}, indent=1, default=str))):
        partial = out / f".{name}.partial"
        partial.write_text(content)
        os.replace(partial, out / name)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app.batch", description=__doc__.split("\n\n")[0])
    add_run_options(parser)
    parser.add_argument("--workers", type=int, help="worker slots (Ray actors); default: one per GPU, else per core")
    parser.add_argument("--threads", type=int, help="CPU threads per worker; default: the cores / workers")
    parser.add_argument("--address", help="an existing Ray cluster (e.g. 10.0.0.5:6379, or auto); default: a "
                        "local Ray instance on this machine")
    parser.add_argument("--force", action="store_true", help="redo the inputs whose outputs are complete already")
    args = parser.parse_args(argv)
    if not args.inputs and not args.example:
        parser.error("give at least one INPUT, or --example")
    if (args.workers is not None and args.workers < 1) or (args.threads is not None and args.threads < 1):
        parser.error("--workers and --threads must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = run_config(args)
        inputs = expand_inputs(args.inputs, args.example, exclude=args.out)
        load_lifters(config)  # missing or damaged weights: said once, here, before any worker starts
    except (*USER_ERRORS, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / PARTIAL, ignore_errors=True)  # what an interrupted run left half-written
    (out / PARTIAL).mkdir()
    settings = settings_key(config)
    started = time.perf_counter()
    rows: list[dict | None] = [None] * len(inputs)
    todo = []
    for index, (path, name) in enumerate(zip(inputs, output_names(inputs))):
        folder = out.resolve() / name
        try:
            source = source_key(path)
        except OSError as error:
            rows[index] = {"input": str(path), "status": "failed", "output": "", "worker": "",
                           "error": one_line(f"{path}: {error.strerror or error}")}
            continue
        record = None if args.force else complete_record(folder, source, settings)
        if record is not None:
            rows[index] = {k: record.get(k) for k in SUMMARY_FIELDS} | {"status": "skipped", "input": str(path)}
        else:
            todo.append((index, path, folder, source))

    progress = Progress(len(inputs))
    for row in rows:
        if row is not None:
            progress(row)
    meta = {"settings": settings, "config": asdict(config), "workers": 0, "threads": 0}
    try:
        if todo:
            meta |= run_on_ray(todo, rows, config, settings, args, progress,
                               lambda: write_summary(out, [r for r in rows if r is not None], meta))
    except KeyboardInterrupt:
        fail_all([item for item in todo if rows[item[0]] is None], rows, None,
                 "interrupted (Ctrl-C); run the same command again to go on")
        print("interrupted: the finished inputs are kept; run the same command again to go on", file=sys.stderr)
    except Exception as error:  # Ray could not start, or the cluster went away
        fail_all([item for item in todo if rows[item[0]] is None], rows, progress,
                 one_line(f"Ray: {type(error).__name__}: {error}"))
    finally:
        progress.close()
        shutil.rmtree(out / PARTIAL, ignore_errors=True)
    wall = time.perf_counter() - started
    done = [r for r in rows if r["status"] == "done"]
    frames = sum(r.get("frames") or 0 for r in done)
    meta |= {"wall_s": round(wall, 2), "frames_done": frames, "throughput_fps": round(frames / wall, 2) if wall else 0}
    write_summary(out, rows, meta)
    counts = {status: sum(r["status"] == status for r in rows) for status in ("done", "skipped", "failed")}
    print(f"{counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed; {frames} frames in "
          f"{wall:.1f} s ({meta['throughput_fps']} fps overall, {meta['workers']} workers x {meta['threads']} "
          f"threads); summary: {out / 'summary.csv'}")
    for row in rows:
        if row["status"] == "failed":
            print(f"error: {row['input']}: {row['error']}", file=sys.stderr)
    return int(counts["failed"] > 0)


def run_on_ray(todo: list, rows: list, config: PipelineConfig, settings: str, args: argparse.Namespace,
               progress: Progress, checkpoint) -> dict:
    """Start (or join) Ray, start the workers, hand each idle worker the next input (largest first) until all are
    done; fills `rows`. Returns the plan (workers, threads, where)."""
    local = args.address is None
    if not local and (Path.home() / ".ray" / "auth_token").is_file():
        os.environ.setdefault("RAY_AUTH_MODE", "token")  # Ray 2.60's client does not turn it on by itself
    import ray  # after: Ray reads RAY_AUTH_MODE when it is imported

    if local:
        cores, gpus = available_cores(), _local_gpus(config)
        workers, threads = plan_workers(cores, gpus, [cores], args.workers, args.threads, memory_gb(), True)
        ray.init(num_cpus=max(cores, workers * threads), num_gpus=gpus, include_dashboard=False,
                 log_to_driver=False, logging_level="warning", runtime_env=_runtime_env())
    else:
        ray.init(address=args.address, log_to_driver=False, logging_level="warning", runtime_env=_runtime_env())
    try:
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        node_cpus = [int(n["Resources"].get("CPU", 0)) for n in nodes if n["Resources"].get("CPU", 0) >= 1]
        total = ray.cluster_resources()
        cpus, gpus = int(total.get("CPU", 1)), int(total.get("GPU", 0))
        use_gpu = gpus > 0 and config.device != "cpu"
        if not local:
            workers, threads = plan_workers(cpus, gpus, node_cpus, args.workers, args.threads, math.inf, use_gpu)
        options = {"num_cpus": threads, "num_gpus": 1 if use_gpu else 0, "max_restarts": 2, "max_task_retries": 0}
        actor = ray.remote(**options)(Worker)
        pool = [actor.remote(config, threads) for _ in range(min(workers, len(todo)))]
        print(f"{len(todo)} input(s) on {len(pool)} worker(s) x {threads} thread(s)"
              f"{' x 1 GPU' if use_gpu else ''} ({'local Ray' if local else 'Ray cluster ' + args.address}, "
              f"{cpus} CPUs, {gpus} GPUs, {len(nodes)} node(s))", file=sys.stderr, flush=True)
        queue = sorted(todo, key=lambda item: -item[3]["size"])  # largest first: the last to finish is short
        waiting = {worker.ready.remote(): (worker, None) for worker in pool}
        while waiting:
            refs, _ = ray.wait(list(waiting), num_returns=1)
            worker, item = waiting.pop(refs[0])
            try:
                value = ray.get(refs[0])
            except (ray.exceptions.RayActorError, ray.exceptions.RayTaskError) as error:
                value = error
            if item is not None:  # an input finished (or its worker died)
                index, path, folder, _ = item
                if isinstance(value, dict):
                    rows[index] = value
                else:
                    rows[index] = {"input": str(path), "status": "failed", "output": "", "worker": "",
                                   "error": one_line(f"the worker died ({type(value).__name__}): {value}"),
                                   "traceback": str(value)}
                progress(rows[index])
                checkpoint()
                if not isinstance(value, dict):  # a restarted worker must load again before the next input
                    waiting[worker.ready.remote()] = (worker, None)
                    continue
            elif not isinstance(value, str):  # a worker that could not start (or has no restarts left)
                if not waiting and queue:
                    fail_all(queue, rows, progress, f"no worker could start: {one_line(str(value))}")
                    queue = []
                continue
            if queue:
                index, path, folder, source = queue.pop(0)
                waiting[worker.run.remote(str(path.resolve()), str(folder), source, settings)] = (
                    worker, (index, path, folder, source))
        return {"workers": len(pool), "threads": threads, "gpu_per_worker": int(use_gpu),
                "ray": "local" if local else args.address}
    finally:
        ray.shutdown()


def fail_all(queue: list, rows: list, progress: Progress | None, message: str) -> None:
    for index, path, _, _ in queue:
        rows[index] = {"input": str(path), "status": "failed", "output": "", "worker": "", "error": message}
        if progress is not None:
            progress(rows[index])


def _local_gpus(config: PipelineConfig) -> int:
    if config.device == "cpu":
        return 0
    import torch

    return torch.cuda.device_count()


def _runtime_env() -> dict:
    """The workers import this checkout (on a cluster: the same path on every machine, docs/batch.md)."""
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return {"env_vars": {"PYTHONPATH": path}}


if __name__ == "__main__":
    sys.exit(main())
