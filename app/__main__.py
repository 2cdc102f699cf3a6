"""`python -m app [--port 7860] [--host 127.0.0.1] [--share] [--device auto|cpu|cuda] ...`: start the browser app.

The server's options are ServerConfig's (where it listens, what it accepts, how long it keeps outputs); the
pipeline options are app.cli's (every PipelineConfig field); the page chooses the lifter. It serves on
127.0.0.1 (this machine only) unless `--host` says otherwise, refuses uploads over `--max-upload-mb`, keeps
each request's files for `--retention-s` and all of them within `--max-disk-mb` below `--output-root`, which
is emptied at start and at exit (app/storage.py). The page's processing is also the `/lift` API (docs/api.md).
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from app import storage
from app.cli import add_config_options, config_from_options
from app.pipeline import PipelineConfig
from app.ui import build_ui
from pose_lifting.cli_options import add_options, from_options


@dataclass
class ServerConfig:
    """How the server listens, what it accepts, and how long it keeps outputs."""

    port: int = 7860  # port to serve on
    host: str = "127.0.0.1"  # address to bind; 0.0.0.0 serves the local network (anyone there can use it)
    share: bool = False  # also open a public Gradio link
    max_upload_mb: float = 500.0  # refuse uploads larger than this many MB
    output_root: str = str(storage.default_root())  # folder for uploads and outputs (emptied at start and exit)
    retention_s: float = 3600.0  # seconds each request's files stay downloadable
    max_disk_mb: float = 2048.0  # MB all uploads and outputs may take together; the oldest go first

    def storage_config(self) -> storage.StorageConfig:
        return storage.StorageConfig(Path(self.output_root), self.retention_s, self.max_disk_mb)


def parse_args(argv: list[str] | None = None) -> tuple[ServerConfig, PipelineConfig]:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__.split("\n\n")[0])
    add_options(parser.add_argument_group("server"), ServerConfig)
    add_config_options(parser)
    args = parser.parse_args(argv)
    return from_options(args, ServerConfig), config_from_options(args, PipelineConfig().models)


def main(argv: list[str] | None = None) -> None:
    server, config = parse_args(argv)
    store = storage.install(storage.OutputStore(server.storage_config()))
    store.clear()
    atexit.register(store.clear)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops Gradio as Ctrl-C does, then atexit runs
    # Gradio keeps uploads and copies of served outputs in its own cache; under the root, the retention and the
    # cap cover it. Gradio reads this when the page is built and launched.
    os.environ["GRADIO_TEMP_DIR"] = str(store.gradio_cache)
    demo = build_ui(config)
    demo.delete_cache = (max(60, int(server.retention_s // 4)), int(server.retention_s))
    # quiet: Gradio's own banner would tell the user to "set share=True in launch()"; our flag is --share
    demo.launch(
        server_name=server.host,
        server_port=server.port,
        share=server.share,
        max_file_size=int(server.max_upload_mb * 2**20),
        allowed_paths=[str(store.requests)],
        quiet=True,
        prevent_thread_lock=True,
    )
    print(f"* Running on {demo.local_url}")
    print(f"* Public link: {demo.share_url}" if demo.share_url else "* Start with --share for a public link.")
    demo.block_thread()


if __name__ == "__main__":
    main()
