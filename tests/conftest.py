"""Shared test fixtures: real images shipped by packages, small videos written on the fly, the example clip."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest


def package_image(name: str) -> np.ndarray:
    """An RGB image shipped with Ultralytics (`bus.jpg`: 4 people, `zidane.jpg`: 2 people)."""
    import cv2
    import ultralytics

    path = Path(ultralytics.__file__).parent / "assets" / name
    image = cv2.imread(str(path))
    assert image is not None, f"missing package image {path}"
    return np.ascontiguousarray(image[..., ::-1])


def write_video(
    path: Path,
    frames: Sequence[np.ndarray],
    fps: float = 25.0,
    codec: str = "libx264",
    rotation: int | None = None,
    times: Sequence[float] | None = None,
) -> Path:
    """Encode RGB frames; `rotation` sets the display matrix (degrees counter-clockwise, as phones do),
    `times` gives each frame's presentation time in seconds (variable frame rate)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        if times is not None:
            stream.codec_context.time_base = stream.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            if times is not None:
                frame.pts, frame.time_base = round(times[index] * 1000), Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


@pytest.fixture
def make_video(tmp_path: Path) -> Callable[..., Path]:
    """`make_video(name, frames, **options)` writes a clip into the test's temporary folder."""
    return lambda name, frames, **options: write_video(tmp_path / name, frames, **options)


@pytest.fixture(scope="session")
def example_video() -> Path:
    """The Sports2D demo clip (fetched from PyPI once into data/cache); skipped if PyPI is unreachable."""
    from detector.examples import ExampleUnavailableError, example_video_path

    try:
        return example_video_path()
    except ExampleUnavailableError as error:
        pytest.skip(f"example clip unavailable (package index unreachable?): {error}")
