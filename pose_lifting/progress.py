"""The progress callback of every long step (detection, lifting, rendering): `progress(fraction, message)`."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """The callback of a caller that does not watch."""


def span(progress: Progress, start: float, end: float) -> Progress:
    """A callback for one stage that maps its 0..1 onto start..end of the whole run."""
    return lambda fraction, message: progress(start + (end - start) * min(max(fraction, 0.0), 1.0), message)
