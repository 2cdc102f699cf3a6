"""`python -m app [--port 7860] [--host 127.0.0.1] [--device auto|cpu|cuda] ...`: start the browser app and its API.

Serves on 127.0.0.1 (this machine only) unless `--host` says otherwise. Uploads over `--max-upload-mb` are
refused at the door; each request's files stay downloadable for `--retention-s` seconds, and all of them
together take at most `--max-disk-mb` (oldest go first) below `--output-root`, which is emptied at start and
at exit (see app/storage.py).
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
from dataclasses import dataclass, field, fields
from pathlib import Path

from app import storage
from app.pipeline import PipelineConfig


@dataclass
class ServerConfig:
    """How the server listens, what it accepts, and how long it keeps outputs."""

    port: int = 7860
    host: str = "127.0.0.1"  # 0.0.0.0 to serve the local network (then anyone there can use it)
    share: bool = False  # also open a public Gradio link
    max_upload_mb: float = 500.0  # larger uploads are refused with a message
    output_root: Path = field(default_factory=storage.default_root)  # every upload and output lives below it
    retention_s: float = 3600.0  # a request's files are deleted this long after they were written
    max_disk_mb: float = 2048.0  # cap on all uploads and outputs together; the oldest go first

    def storage_config(self) -> storage.StorageConfig:
        return storage.StorageConfig(Path(self.output_root), self.retention_s, self.max_disk_mb)


HELP = {
    "port": "port to serve on",
    "host": "address to bind; the default serves this machine only",
    "share": "also open a public Gradio link (off by default)",
    "max_upload_mb": "refuse uploads larger than this many MB",
    "output_root": "folder for uploads and outputs (emptied at start and at exit)",
    "retention_s": "seconds each request's files stay downloadable",
    "max_disk_mb": "MB all uploads and outputs may take together (oldest removed first)",
}


def parse_args(argv: list[str] | None = None) -> tuple[ServerConfig, PipelineConfig]:
    defaults, pipeline_defaults = ServerConfig(), PipelineConfig()
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    for option in fields(ServerConfig):
        flag, value = f"--{option.name.replace('_', '-')}", getattr(defaults, option.name)
        if isinstance(value, bool):
            parser.add_argument(flag, action="store_true", help=HELP[option.name])
        else:
            parser.add_argument(flag, type=type(value), default=value, help=f"{HELP[option.name]} ({value})")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=pipeline_defaults.device)
    seconds = pipeline_defaults.max_duration_s
    parser.add_argument(
        "--max-duration", type=float, default=seconds, help=f"seconds of video processed, 0: all ({seconds})"
    )
    args = vars(parser.parse_args(argv))
    pipeline = PipelineConfig(device=args.pop("device"), max_duration_s=args.pop("max_duration") or None)
    return ServerConfig(**args), pipeline


def main(argv: list[str] | None = None) -> None:
    server, pipeline = parse_args(argv)
    store = storage.install(storage.OutputStore(server.storage_config()))
    store.clear()
    atexit.register(store.clear)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops Gradio as Ctrl-C does, then atexit runs
    # Gradio keeps uploads and copies of served outputs in its own cache: put it under the root too, so that the
    # retention and the cap cover it; it is read when the page is built, so set it first
    os.environ["GRADIO_TEMP_DIR"] = str(store.gradio_cache)
    from app.ui import build_ui

    demo = build_ui(pipeline)
    demo.delete_cache = (max(60, int(server.retention_s // 4)), int(server.retention_s))
    demo.launch(
        server_name=server.host,
        server_port=server.port,
        share=server.share,
        max_file_size=int(server.max_upload_mb * 2**20),
        allowed_paths=[str(store.requests)],
    )


if __name__ == "__main__":
    main()
