"""Live 3D (issue 45): a stream lifts as a file does, frames that arrive while the server is busy are dropped and
the delay stays bounded, a video played in real time drops what a slow consumer missed, and `python -m app.live`
plays a real clip through the real detector and writes its take."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from app import live
from app.live_session import LiveConfig, LiveSession
from detector import read_video
from detector.live import LivePose2D, StageTimes
from detector.video import Frame
from pose_lifting.lifter import Lifter, SmoothingConfig
from pose_lifting.sequence import Pose2DSequence
from pose_lifting.streaming import StreamLifter

pytest_plugins = ["tests.test_app"]  # its fixtures: the tiny checkpoints and the short example clip


def walking(frames: int) -> np.ndarray:
    """(T, 17, 2) pixels of a skeleton that sways and drifts, different in every frame."""
    rng = np.random.default_rng(3)
    base = rng.uniform(200, 400, (17, 2)).astype(np.float32)
    t = np.arange(frames)[:, None, None]
    return (base + 40 * np.sin(0.2 * t + np.arange(17)[None, :, None]) + 2 * t).astype(np.float32)


@pytest.mark.parametrize("name", ["student", "student_causal"])
def test_a_stream_lifts_each_frame_as_the_file_lift_does(checkpoints, name):
    lifter = Lifter.from_pretrained(checkpoints[name], "cpu")
    fps = lifter.inputs.fps
    keypoints = walking(40)
    sequence = Pose2DSequence(keypoints, np.ones((40, 17), np.float32), fps, 640, 480)
    expected = lifter.lift(sequence, flip_test=False, smoothing=SmoothingConfig("none")).poses
    stream = StreamLifter(lifter, 640, 480, flip_test=False)
    lifted = [stream.push(i / fps, keypoints[i]) for i in range(40)]
    lag = round(stream.delay_s * fps)  # 0 for the causal student, (9 - 1) / 2 for the centre one
    assert lag == (0 if name == "student_causal" else 4)
    assert all(pose is None for pose in lifted[:lag])
    for i, pose in enumerate(lifted[lag:]):
        assert pose.time == pytest.approx(i / fps)
        np.testing.assert_allclose(pose.pose, expected[i], atol=1e-4)


class SlowDetector:
    """A stage that takes `seconds` per frame and always finds the same person."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.times = StageTimes()

    def __call__(self, image: np.ndarray, time_s: float) -> LivePose2D:
        time.sleep(self.seconds)
        points = walking(1)[0]
        return LivePose2D(0, time_s, 1, points, np.ones(17), np.zeros((17, 2)), np.ones(17), np.zeros(4), True)


def test_frames_offered_while_one_is_processed_are_dropped_but_the_newest_and_the_delay_stays_bounded(checkpoints):
    session = LiveSession(LiveConfig(models=(str(checkpoints["student_causal"]),)))
    stage_s = 0.1
    session.detector = SlowDetector(stage_s)
    image = cv2.imencode(".jpg", np.zeros((48, 64, 3), np.uint8))[1].tobytes()
    offered, rate, finished = 60, 30.0, {}
    start = time.perf_counter()

    def offer(i: int) -> None:
        arrival = time.perf_counter()
        if session.offer(image, i / rate, arrival) is not None:
            finished[i] = time.perf_counter() - arrival

    with ThreadPoolExecutor(max_workers=offered) as pool:  # as a server calls a handler per arriving frame
        for i in range(offered):
            time.sleep(max(0.0, start + i / rate - time.perf_counter()))
            pool.submit(offer, i)
    processed = len(finished)
    assert processed + session.dropped == offered
    assert 0.5 * offered / rate / stage_s <= processed <= 1.5 * offered / rate / stage_s  # about 20, the rest dropped
    # a frame waits for at most the one being processed: the delay does not grow
    assert max(finished.values()) < 2 * stage_s + 0.1
    assert session.last.latency_ms < 1000 * (2 * stage_s + 0.1)
    assert f"{session.dropped} frames dropped" in session.last.status


def test_a_video_in_real_time_gives_the_newest_frame_and_drops_the_ones_a_slow_consumer_missed():
    clock = {"now": 0.0}
    frames = iter([Frame(i, i * 0.1, np.zeros((1, 1, 3), np.uint8)) for i in range(10)])
    got = []
    for frame, arrival, dropped in live.realtime(frames, clock=lambda: clock["now"],
                                                  sleep=lambda s: clock.__setitem__("now", clock["now"] + s)):
        got.append((frame.index, round(arrival, 3), dropped))
        clock["now"] += 0.25  # the consumer takes 2.5 frame intervals
    # frame 0 at 0 s; back at 0.25 s frames 1 and 2 have arrived: 2 is given, 1 dropped; back at 0.5 s: 5 (3, 4
    # dropped); and so on
    assert got == [(0, 0.0, 0), (2, 0.2, 1), (5, 0.5, 2), (7, 0.7, 1), (9, 0.9, 1)]


def test_the_live_command_plays_a_clip_in_real_time_and_keeps_its_take(checkpoints, short_clip, tmp_path):
    report = tmp_path / "live.json"
    code = live.main([str(short_clip), "--realtime", "--headless", "--no-process", "--seconds", "2",
                      "--model", str(checkpoints["student_causal"]), str(checkpoints["teacher"]),
                      "--out", str(tmp_path), "--json", str(report)])
    assert code == 0
    summary = json.loads(report.read_text())
    assert summary["frames_processed"] >= 10 and summary["fps"] > 0
    assert summary["frames_processed"] + summary["frames_dropped"] == summary["frames_offered"]
    assert set(summary["stage_ms"]) >= {"yolo", "keypoints", "lift tiny-causal", "lift tiny-teacher"}
    take = read_video(tmp_path / f"{short_clip.stem}_take.mp4")
    assert take.num_frames == summary["frames_processed"]
    # the frames keep their times, gaps included: the take lasts as long as the clip (its last frame is never dropped)
    assert take.duration_s == pytest.approx(read_video(short_clip).duration_s, abs=0.05)


def test_a_lifter_that_reads_scores_is_refused_live(checkpoints, tmp_path):
    lifter = Lifter.from_pretrained(checkpoints["student"], "cpu")
    lifter.model.config.score_input = True
    with pytest.raises(ValueError, match="scores"):
        StreamLifter(lifter, 640, 480)


def test_the_frame_route_refuses_an_unknown_take_and_a_frame_that_is_not_a_picture(checkpoints):
    from fastapi import HTTPException

    from app import live_web

    token = live_web.SESSIONS.start(LiveConfig(models=(str(checkpoints["student_causal"]),)))
    try:
        with pytest.raises(HTTPException) as ended:
            live_web.frame_route(b"", "another-token", 0.0)
        assert ended.value.status_code == 404
        with pytest.raises(HTTPException) as garbage:
            live_web.frame_route(b"not a jpeg", token, 0.0)
        assert garbage.value.status_code == 400
        picture = cv2.imencode(".jpg", np.zeros((48, 64, 3), np.uint8))[1].tobytes()
        answer = live_web.frame_route(picture, token, 0.5)
        assert answer["dropped"] is False and answer["keypoints"] is None  # nobody in a black frame
        assert answer["payload"]["models"] == [] and answer["payload"]["message"] == "nobody in view"
    finally:
        live_web.SESSIONS.stop(token)
    assert live_web.on_stop(json_token(token)) == (None, "No live take is running.")


def json_token(token: str) -> str:
    return json.dumps({"token": token})


def test_a_take_longer_than_its_cap_says_what_it_left_out(checkpoints, tmp_path):
    session = LiveSession(LiveConfig(models=(str(checkpoints["student_causal"]),), max_take_s=0.2))
    session.detector = SlowDetector(0.0)
    for i in range(10):
        session.process(np.zeros((48, 64, 3), np.uint8), i * 0.1)
    assert session.take.times[-1] <= 0.2 and "first 0 s" not in (session.take_note() or "")
    assert "the take kept only its first" in session.take_note()
    assert read_video(session.save_take(tmp_path / "take.mp4")).num_frames == len(session.take.times) == 3
