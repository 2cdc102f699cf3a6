"""Writing result files whole: each is written under a temporary name and renamed into place once complete.

A file that exists is therefore complete; a write that fails (a full disk) leaves nothing behind and raises
`OutputWriteError`, whose message is meant for the user. Used by the app's downloads and the detector's files.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np


class OutputWriteError(RuntimeError):
    """An output file could not be written (usually: the disk is full); nothing half-written is left."""


def partial_path(path: Path) -> Path:
    """The temporary name a file is written under before it is renamed to `path`."""
    return path.with_name(f".{path.name}.partial")


def write_failed(path: Path, error: BaseException) -> OutputWriteError:
    """Remove the partial file of `path` and describe the failure for the user."""
    partial_path(path).unlink(missing_ok=True)
    reason = getattr(error, "strerror", None) or str(error)
    return OutputWriteError(
        f"the server could not write {path.name} ({reason}); no partial file was kept. If the disk is full, free "
        "space (or lower the server's --max-disk-mb) and try again"
    )


@contextlib.contextmanager
def atomic_output(path: str | Path, failures: tuple[type[BaseException], ...] = (OSError,)) -> Iterator[Path]:
    """`with atomic_output(final) as partial:` write `partial`; it becomes `final` only if the block succeeds.
    An error of a `failures` type becomes an `OutputWriteError`; any other error still removes the partial file."""
    path = Path(path)
    try:
        yield partial_path(path)
        os.replace(partial_path(path), path)
    except failures as error:
        raise write_failed(path, error) from error
    except BaseException:
        partial_path(path).unlink(missing_ok=True)
        raise


def write_npz(path: str | Path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Arrays as they are, `meta` as a JSON string under the key `meta`."""
    path = Path(path)
    with atomic_output(path) as partial, partial.open("wb") as handle:
        np.savez_compressed(handle, meta=np.array(json.dumps(meta)), **arrays)
    return path
