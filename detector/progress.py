"""A terminal progress bar (tqdm) that fits the `progress(fraction, message)` callback of long steps."""

from __future__ import annotations

from tqdm import tqdm


class TerminalProgress:
    """Callable progress bar: `detect(path, progress=bar)`; use as a context manager to close it."""

    def __init__(self, description: str = "detecting") -> None:
        self._bar = tqdm(total=100, desc=description, unit="%", bar_format="{l_bar}{bar}| {postfix}")

    def __call__(self, fraction: float, message: str) -> None:
        self._bar.n = round(100 * min(max(fraction, 0.0), 1.0))
        self._bar.set_postfix_str(message, refresh=True)

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._bar.close()
