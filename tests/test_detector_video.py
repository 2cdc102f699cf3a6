"""Video reading: containers and codecs people upload, rotation metadata, variable frame rate, bad files."""

from __future__ import annotations

import threading

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from detector import (
    DetectorConfig,
    EmptyVideoError,
    NotAVideoError,
    VideoNotFoundError,
    VideoTooShortError,
    detect,
    read_video,
)
from detector.detect import frame_limit
from detector.video import STILL_SUFFIXES, is_still_image, prefetch
from tests.conftest import package_image


def small_clip(width: int, height: int, count: int = 6) -> list[np.ndarray]:
    """A real image (zidane.jpg) resized, panning a little so that frames differ."""
    image = cv2.resize(package_image("zidane.jpg"), (width + 2 * count, height))
    return [np.ascontiguousarray(image[:, 2 * i : 2 * i + width]) for i in range(count)]


@pytest.mark.parametrize(
    ("name", "codec", "width", "height"),
    [
        ("clip.mp4", "libx264", 320, 180),
        ("clip.mov", "libx264", 320, 180),
        ("clip.avi", "mpeg4", 320, 180),
        ("clip.webm", "libvpx-vp9", 320, 180),
        ("odd.mkv", "ffv1", 321, 181),  # odd sizes need a codec without chroma subsampling constraints
    ],
)
def test_reads_common_containers(make_video, name, codec, width, height):
    frames = small_clip(width, height)
    video = read_video(make_video(name, frames, fps=24.0, codec=codec))
    assert (video.width, video.height, video.num_frames, video.fps) == (width, height, 6, 24.0)
    np.testing.assert_allclose(video.timestamps, np.arange(6) / 24.0, atol=1e-3)
    decoded = list(video)
    assert len(decoded) == 6
    assert all(frame.shape == (height, width, 3) and frame.dtype == np.uint8 for frame in decoded)
    error = np.abs(np.stack(decoded).astype(float) - np.stack(frames)).mean()
    assert error < 12, f"decoded frames differ from the source by {error:.1f} grey levels"


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_rotated_phone_video_comes_out_upright(make_video, rotation):
    upright = package_image("zidane.jpg")[:, 700:1060]  # portrait crop, 360 x 720
    upright = cv2.resize(upright, (180, 360))
    stored = np.ascontiguousarray(np.rot90(upright, k=-rotation // 90))  # sideways, as the phone's sensor saw it
    video = read_video(make_video("phone.mp4", [stored] * 3, rotation=rotation))
    assert (video.width, video.height) == (180, 360)
    frame = next(iter(video)).astype(float)
    assert np.abs(frame - upright).mean() < 10 < np.abs(frame - np.rot90(upright, 2)).mean()


def test_variable_frame_rate_keeps_container_timestamps(make_video):
    times = [0.0, 0.04, 0.08, 0.2, 0.24, 0.5, 0.54]
    path = make_video("vfr.mkv", small_clip(160, 90, len(times)), fps=25.0, codec="libx264", times=times)
    video = read_video(path)
    np.testing.assert_allclose(video.timestamps, times, atol=2e-3)
    np.testing.assert_allclose([frame.time for frame in video.frames()], times, atol=2e-3)
    assert video.num_frames == len(times)


def test_frames_can_be_shrunk_while_decoding(make_video):
    video = read_video(make_video("clip.mp4", small_clip(320, 180)))
    frame = next(video.frames(max_side=160, bgr=True))
    assert frame.image.shape == (90, 160, 3)
    assert video.scaled_size(1000) == (320, 180)


def test_a_few_frames_come_also_larger_from_the_same_decoding(make_video):
    frames = small_clip(320, 180, 4)
    stored = [np.ascontiguousarray(np.rot90(frame, k=-1)) for frame in frames]  # a phone's sideways portrait clip
    for video in (read_video(make_video("clip.mp4", frames)), read_video(make_video("phone.mp4", stored, rotation=90))):
        decoded = list(video.frames(max_side=160, bgr=True, detail=lambda index: index in (0, 2), detail_side=None))
        assert [frame.detail is not None for frame in decoded] == [True, False, True, False]
        assert all(frame.image.shape == (90, 160, 3) for frame in decoded)  # the small frames as before
        assert decoded[2].detail.shape == (180, 320, 3)  # upright, full size
        error = np.abs(decoded[2].detail[..., ::-1].astype(float) - frames[2]).mean()
        assert error < 12, f"the detail differs from the source by {error:.1f} grey levels"
        halved = next(video.frames(max_side=64, detail=lambda index: True, detail_side=200))
        assert halved.detail.shape == (112, 200, 3) and halved.image.shape == (36, 64, 3)


def test_text_file_renamed_mp4_is_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("shopping list: milk, eggs\n" * 20)
    with pytest.raises(NotAVideoError, match="notes.mp4.*not a video file"):
        detect(path)


def test_zero_byte_file_is_empty(tmp_path):
    path = tmp_path / "upload.mp4"
    path.touch()
    with pytest.raises(EmptyVideoError, match="upload.mp4.*0 bytes"):
        detect(path)


def test_missing_file(tmp_path):
    with pytest.raises(VideoNotFoundError, match="no video file"):
        read_video(tmp_path / "absent.mp4")


def test_audio_only_file_has_no_video_stream(tmp_path):
    path = tmp_path / "voice.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        samples = np.zeros((1, 1024), np.float32)
        for _ in range(4):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = 16000
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    with pytest.raises(NotAVideoError, match="no video stream"):
        read_video(path)


def test_one_frame_video_is_too_short_but_a_photo_reads_as_one_frame(make_video, tmp_path):
    path = make_video("still.mp4", small_clip(160, 90, 1))
    with pytest.raises(VideoTooShortError, match="1 frame to process; a video needs at least 2.*as a photo"):
        detect(path)
    for suffix in STILL_SUFFIXES:  # PNG, JPEG, WebP
        photo = tmp_path / f"photo{suffix}"
        Image.fromarray(small_clip(160, 90, 1)[0]).save(photo)
        video = read_video(photo)
        assert is_still_image(photo) and len(video) == 1 and (video.width, video.height) == (160, 90)
        assert next(iter(video)).shape == (90, 160, 3)


def test_max_duration_limits_frames_with_a_warning(make_video):
    video = read_video(make_video("clip.mp4", small_clip(160, 90, 10), fps=10.0))
    assert frame_limit(video, DetectorConfig()) == (10, [])
    limit, warnings = frame_limit(video, DetectorConfig(max_duration_s=0.5))
    assert limit == 5 and "only the first 5 of 10 frames" in warnings[0]
    assert frame_limit(video, DetectorConfig(max_frames=3, max_duration_s=0.5))[0] == 3


def test_invalid_setting_is_named():
    with pytest.raises(ValueError, match="imgsz=0"):
        DetectorConfig(imgsz=0)


def test_prefetch_keeps_order_passes_errors_and_stops_early():
    assert list(prefetch(range(50), depth=3)) == list(range(50))

    def failing():
        yield 1
        raise RuntimeError("decoder broke")

    with pytest.raises(RuntimeError, match="decoder broke"):
        list(prefetch(failing(), depth=2))

    items = prefetch(iter(range(10**9)), depth=2)
    assert next(items) == 0
    items.close()
    assert not any(thread.name == "video-decoder" for thread in threading.enumerate())


def test_command_line_prints_the_error_for_bad_input(tmp_path, capsys):
    from detector.__main__ import main

    path = tmp_path / "notes.mp4"
    path.write_text("not a video")
    assert main([str(path), "--out", str(tmp_path / "out.npz")]) == 1
    assert "error: 'notes.mp4' is not a video file" in capsys.readouterr().err
    assert not (tmp_path / "out.npz").exists()
