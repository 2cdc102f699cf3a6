"""Cancellable page and API handlers: the pipeline stops when its user presses cancel or closes the page.

Gradio cancels an event by cancelling its asyncio task; a plain (sync) handler runs on in its thread, keeping
the only worker busy. `cancellable(handler)` runs the handler in a thread and hands it a progress callback that
raises `Cancelled` once the request is cancelled (the task is cancelled: a cancel button's `cancels=`, or
`gradio_client`'s `job.cancel()`) or abandoned (the page was closed: Gradio marks the event dead). The
pipeline reports progress every few frames, so the worker is free within about a second and the next request in
the queue starts.

    run.click(cancellable(on_upload), inputs, outputs, concurrency_id=PIPELINE_QUEUE)
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

import gradio as gr
from gradio.context import LocalContext

PIPELINE_QUEUE = "pipeline"  # every event that runs the pipeline shares this concurrency group (one at a time)


class Cancelled(BaseException):
    """The request was cancelled or its page closed; a BaseException so that `except Exception` lets it through."""


class StoppableProgress:
    """Wraps a `gr.Progress`: each report first checks that the request is still wanted."""

    def __init__(self, progress: gr.Progress, stop: threading.Event) -> None:
        self.progress = progress
        self.stop = stop

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.stop.is_set() or not event_alive():
            raise Cancelled("the request was cancelled")
        return self.progress(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.progress, name)


def event_alive() -> bool:
    """False once Gradio has dropped the current event (its page was closed); True outside Gradio."""
    blocks, event_id = LocalContext.blocks.get(None), LocalContext.event_id.get(None)
    queue = getattr(blocks, "_queue", None)
    if queue is None or event_id is None:
        return True
    events = [event for job in queue.active_jobs if job for event in job if event._id == event_id]
    return all(event.alive for event in events)


def cancellable(handler: Callable[..., Any]) -> Callable[..., Any]:
    """An async version of `handler` (which takes a `gr.Progress` default argument) that stops when cancelled."""
    signature = inspect.signature(handler)
    progress_names = [name for name, p in signature.parameters.items() if isinstance(p.default, gr.Progress)]
    if not progress_names:
        raise TypeError(f"{handler.__name__} needs a `progress=gr.Progress()` parameter to be cancellable")

    @functools.wraps(handler)
    async def run(*args: Any, **kwargs: Any) -> Any:
        stop = threading.Event()
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        bound.arguments[progress_names[0]] = StoppableProgress(bound.arguments[progress_names[0]], stop)
        call = functools.partial(handler, *bound.args, **bound.kwargs)
        worker = asyncio.get_running_loop().run_in_executor(None, contextvars.copy_context().run, call)
        try:
            return await asyncio.shield(worker)
        except asyncio.CancelledError:
            stop.set()
            with contextlib.suppress(Cancelled, Exception):
                await worker  # the pipeline stops at its next progress report; then the worker slot is free
            raise
        except Cancelled as error:  # the page was closed: no one reads this
            raise gr.Error("The request was cancelled.") from error

    return run
