"""`python -m app [--port 7860] [--share] [--device auto|cpu|cuda]`: start the browser app on 127.0.0.1."""

from __future__ import annotations

import argparse
import tempfile

from app.pipeline import PipelineConfig
from app.ui import build_ui


def main(argv: list[str] | None = None) -> None:
    defaults = PipelineConfig()
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="also open a public Gradio link (off by default)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=defaults.device)
    parser.add_argument(
        "--max-duration", type=float, default=defaults.max_duration_s, help="seconds of video processed at most"
    )
    args = parser.parse_args(argv)
    config = PipelineConfig(device=args.device, max_duration_s=args.max_duration or None)
    build_ui(config).launch(
        server_name="127.0.0.1", server_port=args.port, share=args.share, max_file_size="1gb",
        allowed_paths=[tempfile.gettempdir()],
    )  # fmt: skip


if __name__ == "__main__":
    main()
