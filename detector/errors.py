"""Errors the detector raises for bad input, each with a message a user can act on.

The UI shows `str(error)` as it is, so every message names the file and says what to do. All of them
are `DetectorError`s (a `ValueError`), so callers can catch the whole family at once.
"""

from __future__ import annotations


class DetectorError(ValueError):
    """Base class: the video or the settings cannot give a 2D keypoint sequence."""


class VideoNotFoundError(DetectorError):
    """The path does not exist or is not a file."""


class EmptyVideoError(DetectorError):
    """The file is zero bytes or holds no decodable video frames."""


class NotAVideoError(DetectorError):
    """The file is not a container FFmpeg can read, or it has no video stream."""


class CorruptVideoError(DetectorError):
    """Decoding failed part-way through the video."""


class VideoTooShortError(DetectorError):
    """The video has fewer frames than `DetectorConfig.min_frames`."""


class NoPersonError(DetectorError):
    """No person was detected and tracked in any frame."""


class TrackNotFoundError(DetectorError):
    """The requested track id is not among the tracks found."""


class ModelError(DetectorError):
    """The pose model cannot be found, fails its checksum, or is not a pose model."""


class ResultFileError(DetectorError):
    """A saved detection result cannot be read."""
