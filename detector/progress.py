"""Progress on the terminal for the `progress(fraction, message)` callback of long steps: a bar (tqdm) on a
terminal, plain lines where the output goes to a file or a pipe (a log would get one endless bar line)."""

from __future__ import annotations

import re
import sys
import time
from typing import TextIO

from tqdm import tqdm


class TerminalProgress:
    """Callable progress: `detect(path, progress=bar)`; use as a context manager to close it."""

    def __init__(self, stream: TextIO | None = None, step_percent: int = 10) -> None:
        self.stream = stream or sys.stderr
        self.step_percent = step_percent  # plain lines: one per this many percent, and one per new stage
        self.started = time.monotonic()
        self._bar = None
        if self.stream.isatty():
            self._bar = tqdm(total=100, file=self.stream, bar_format="{percentage:3.0f}%|{bar:30}| {elapsed} {desc}")
        self._printed: tuple[int, str] | None = None  # (percent, stage) of the last plain line

    def __call__(self, fraction: float, message: str) -> None:
        percent = round(100 * min(max(fraction, 0.0), 1.0))
        if self._bar is not None:
            self._bar.n = percent
            self._bar.set_description_str(message, refresh=True)
            return
        stage = re.sub(r"\d+", "#", message)  # "frame 9 of 230" and "frame 10 of 230" are one stage
        if self._printed is None or stage != self._printed[1] or percent >= self._printed[0] + self.step_percent:
            print(f"{percent:3d}% [{time.monotonic() - self.started:6.1f} s] {message}", file=self.stream, flush=True)
            self._printed = (percent, stage)

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.close()
