"""A terminal progress bar (tqdm) that fits the `progress(fraction, message)` callback of long steps."""

from __future__ import annotations

from tqdm import tqdm


class TerminalProgress:
    """Callable progress bar: `detect(path, progress=bar)`; use as a context manager to close it."""

    def __init__(self) -> None:
        self._bar = tqdm(total=100, bar_format="{percentage:3.0f}%|{bar:30}| {elapsed} {desc}")

    def __call__(self, fraction: float, message: str) -> None:
        self._bar.n = round(100 * min(max(fraction, 0.0), 1.0))
        self._bar.set_description_str(message, refresh=True)

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._bar.close()
