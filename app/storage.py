"""Where the server keeps what users upload and download, and for how long: one root folder, one folder per request.

    store = OutputStore(StorageConfig(root=Path("/tmp/scjd-app"), retention_s=3600, max_total_mb=2048))
    out_dir = store.request_dir("clip.mp4")   # <root>/requests/<time>-<id>-clip/

Layout under the root: `requests/` holds each request's outputs; `gradio/` is Gradio's own cache (uploads and the
copies of outputs it serves, `GRADIO_TEMP_DIR`). Everything under both is an entry that expires `retention_s`
after it was written; before each request the oldest entries are also removed until the root holds at most
`max_total_mb`. `python -m app` empties the root at start and at exit, so nothing outlives the server.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)
SAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
MAX_STEM = 60  # characters of the uploaded name kept in output names (file systems allow 255 bytes in all)


def default_root() -> Path:
    return Path(tempfile.gettempdir()) / "scjd-app"


@dataclass
class StorageConfig:
    """How long outputs stay downloadable and how much disk they may take."""

    root: Path = field(default_factory=default_root)  # every upload and output lives below this folder
    retention_s: float = 3600.0  # a request's files are deleted this long after they were written
    max_total_mb: float = 2048.0  # before each request, the oldest entries go until the root holds at most this


def safe_stem(name: str) -> str:
    """A file-name stem made of [A-Za-z0-9._-] only, from any uploaded name (paths, `..`, odd characters)."""
    stem = Path(name.replace("\\", "/")).name
    stem = stem.rsplit(".", 1)[0] if "." in stem.strip(".") else stem
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    cleaned = SAFE_CHARACTERS.sub("_", ascii_stem).strip("._-")[:MAX_STEM]
    return cleaned or "upload"


def folder_size(path: Path) -> int:
    """Bytes of the regular files below `path` (links are not followed)."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


class OutputStore:
    """Hands out per-request folders below one root and deletes old ones (by age, then by total size)."""

    def __init__(self, config: StorageConfig | None = None) -> None:
        self.config = config or StorageConfig()
        self.root = Path(self.config.root).resolve()
        self.requests = self.root / "requests"
        self.gradio_cache = self.root / "gradio"

    def request_dir(self, upload: str | Path | None = None) -> Path:
        """A new, empty folder for one request's outputs, after removing expired and over-cap entries (except the
        one holding `upload`, the request's own input)."""
        self.cleanup(keep=upload)
        stem = safe_stem(Path(upload).name) if upload else "request"
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}-{stem}"
        folder = self.requests / name
        folder.mkdir(parents=True)
        return folder

    def contains(self, path: str | Path) -> bool:
        """Whether `path` (resolved, links followed) lies inside the root."""
        return Path(path).resolve().is_relative_to(self.root)

    def entries(self) -> list[Path]:
        """Request folders and Gradio cache folders, oldest first."""
        found = [p for parent in (self.requests, self.gradio_cache) if parent.is_dir() for p in parent.iterdir()]
        return sorted(found, key=_modified)

    def total_bytes(self) -> int:
        return sum(folder_size(entry) for entry in self.entries())

    def cleanup(self, now: float | None = None, keep: str | Path | None = None) -> list[Path]:
        """Delete entries older than the retention, then the oldest until the cap holds, never the entry holding
        `keep`; return what went."""
        now = time.time() if now is None else now
        removed = []
        entries = self.entries()
        sizes = {entry: folder_size(entry) for entry in entries}
        total = sum(sizes.values())
        cap = self.config.max_total_mb * 2**20
        kept = Path(keep).resolve() if keep else None
        for entry in entries:
            if kept is not None and kept.is_relative_to(entry):
                continue
            if now - _modified(entry) > self.config.retention_s or total > cap:
                _remove(entry)
                total -= sizes[entry]
                removed.append(entry)
        if removed:
            log.info("removed %d old output folders; %.1f MB kept under %s", len(removed), total / 2**20, self.root)
        return removed

    def clear(self) -> None:
        """Remove everything below the root (at start and at exit: no one can download from a stopped server)."""
        for parent in (self.requests, self.gradio_cache):
            if parent.exists():
                _remove(parent)


def _modified(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except FileNotFoundError:  # removed meanwhile by Gradio's own cache cleaner
        return 0.0


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


_active = OutputStore()


def active_store() -> OutputStore:
    """The store this process's server uses (`python -m app` installs one built from its options)."""
    return _active


def install(store: OutputStore) -> OutputStore:
    global _active
    _active = store
    return store
