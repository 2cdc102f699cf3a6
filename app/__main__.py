"""`python -m app [--port 7860] [--share] [--device auto|cpu|cuda] ...`: start the browser app on 127.0.0.1.

The pipeline options are app.cli's (every PipelineConfig field); the page chooses the lifter.
"""

from __future__ import annotations

import argparse
import tempfile

from app.cli import add_config_options, config_from_options
from app.pipeline import PipelineConfig
from app.ui import build_ui


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="also open a public Gradio link (off by default)")
    add_config_options(parser)
    args = parser.parse_args(argv)
    config = config_from_options(args, PipelineConfig().models)
    demo = build_ui(config)
    # quiet: Gradio's own banner would tell the user to "set share=True in launch()"; our flag is --share
    demo.launch(
        server_name="127.0.0.1",
        server_port=args.port,
        share=args.share,
        max_file_size="1gb",
        allowed_paths=[tempfile.gettempdir()],
        quiet=True,
        prevent_thread_lock=True,
    )
    print(f"* Running on {demo.local_url}")
    print(f"* Public link: {demo.share_url}" if demo.share_url else "* Start with --share for a public link.")
    demo.block_thread()


if __name__ == "__main__":
    main()
