"""The detector's local cache folder: example media and Ultralytics' settings live here, never in git.

Default `<repo>/data/cache` (git-ignored); set `SCJD_CACHE_DIR` to put it elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache folder, created on first use."""
    path = Path(os.environ.get("SCJD_CACHE_DIR") or Path(__file__).resolve().parents[1] / "data" / "cache")
    path.mkdir(parents=True, exist_ok=True)
    return path
