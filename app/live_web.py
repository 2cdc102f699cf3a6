"""The page's Live tab: the webcam's frames to a `LiveSession` and its 2D and 3D back, as they come.

Gradio's streaming image input carried a frame every ~0.4 s here (2-core CPU, headless Chromium), far from the
15 a second the lift keeps up with, so the tab streams by itself: its script (app/static/live.js) captures the
webcam, posts each frame as a JPEG to `POST /live/frame` (this module's route on the page's server), draws the 2D
skeleton over the video and hands the 3D pose to the page's viewer (app/static/viewer.js, in its live mode). It
posts at the camera's rate with at most two frames in flight; a frame that arrives while another is processed
waits in a one-frame slot, and a newer one replaces it (`LiveSession.offer`: the replaced one is answered
`{"dropped": true}`), so no queue forms and the delay cannot grow. *Start* (`#live-start`) opens a session
with the tab's settings and gives the script its token; *Stop* (`#live-stop`) ends it: the take is written as an
mp4 and processed as an ordinary video (every download). One live session runs at a time (the CPU is shared); a
new Start ends the previous one.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import gradio as gr
import numpy as np
from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from app import storage
from app.live_session import LiveConfig, LiveSession, LiveUpdate
from app.pipeline import USER_ERRORS, InputError
from app.viewer import live_payload
from pose_lifting.lifter import WEIGHTS_DIR

STATIC = Path(__file__).parent / "static"
MAX_FRAME_BYTES = 4_000_000  # a JPEG frame larger than this is refused
LIVE_TEMPLATE = '<div class="scjd-live"></div>'
LIVE_MODELS = {  # the tab's lifter words -> models (the first is drawn in the left/right colours)
    "causal student (no look-ahead)": ("student_causal",),
    "student (1.3 s look-ahead)": ("student",),
    "student beside the teacher (both 1.3 s look-ahead)": ("student", "teacher"),
}


def live_model_choices(weights_dir: Path = WEIGHTS_DIR) -> dict[str, tuple[str, ...]]:
    """The tab's lifter menu: the choices whose weights are shipped (all of them when none is, so that Start
    says what is missing)."""
    shipped = {path.stem for path in weights_dir.glob("*.pt")}
    choices = {words: models for words, models in LIVE_MODELS.items() if set(models) <= shipped}
    return choices or dict(LIVE_MODELS)


@dataclass
class LiveTab:
    viewer: gr.HTML  # #live-viewer: the webcam, its 2D, the 3D and the readout
    lifter: gr.Radio
    keypoints: gr.Radio  # the page's words for the BlazePose models (fast: lite first)
    start: gr.Button
    stop: gr.Button
    status: gr.Markdown


class LiveSessions:
    """The one running live session, by token."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token: str | None = None
        self.session: LiveSession | None = None

    def start(self, config: LiveConfig) -> str:
        session = LiveSession(config)  # loads and warms up the models before it takes frames
        with self.lock:
            self.token, self.session = secrets.token_urlsafe(16), session
            return self.token

    def get(self, token: str) -> LiveSession:
        with self.lock:
            if token != self.token or self.session is None:
                raise HTTPException(404, "this live take has ended (another may have started)")
            return self.session

    def stop(self, token: str) -> LiveSession | None:
        with self.lock:
            if token != self.token:
                return None
            session, self.token, self.session = self.session, None, None
        with session.busy:  # the frame being processed finishes first
            return session


SESSIONS = LiveSessions()


def frame_route(request_body: bytes, token: str, t: float) -> dict:
    """One posted frame through `LiveSession.offer`: processed, or dropped for a newer one."""
    session = SESSIONS.get(token)
    if len(request_body) > MAX_FRAME_BYTES:
        raise HTTPException(413, f"a frame may be at most {MAX_FRAME_BYTES} bytes")
    try:
        update = session.offer(request_body, t)
    except InputError as error:
        raise HTTPException(400, str(error)) from error
    if update is None:
        return {"dropped": True, "dropped_total": session.dropped}
    return answer(session, update)


def answer(session: LiveSession, update: LiveUpdate) -> dict:
    """What the script needs: the 2D (pixels of the posted frame), the 3D payload, and the readout's parts, times
    in the script's own clock."""
    pose = update.poses[0]
    return {
        "dropped": False,
        "dropped_total": update.dropped,
        "keypoints": None if update.pose2d is None else np.round(update.pose2d.keypoints, 1).tolist(),
        "pose_time": None if pose is None else pose.time + session.start,
        "payload": live_payload(update, [lifter.name for lifter in session.stream_lifters]),
        "server_fps": round(update.fps, 2),
        "lifters": session.lifter_readout(),
    }


def add_routes(app) -> None:
    """`POST /live/frame?token=...&t=<seconds>` with a JPEG body, on the page's FastAPI server."""

    async def post_frame(request: Request, token: str, t: float) -> dict:
        return await run_in_threadpool(frame_route, await request.body(), token, t)

    app.add_api_route("/live/frame", post_frame, methods=["POST"])


def live_section(models: dict[str, tuple[str, ...]], keypoint_models: dict[str, str]) -> LiveTab:
    """The Live tab's components (inside the page's input tabs)."""
    gr.Markdown(
        "Live 3D from your webcam: press *Start*, allow the camera, and move. The 3D follows as fast as this "
        "computer lifts (the readout gives the frames processed a second and the delay; frames that come while "
        "one is processed are dropped). *Stop* ends the take and processes it as a video, with every download."
    )
    viewer = gr.HTML(
        None,
        html_template=LIVE_TEMPLATE,
        css_template=(STATIC / "viewer.css").read_text() + (STATIC / "live.css").read_text(),
        js_on_load=(STATIC / "viewer.js").read_text() + "\n" + (STATIC / "live.js").read_text()
        + "\nmountLive(element, props, watch);",
        apply_default_css=False,
        elem_id="live-viewer",
    )
    with gr.Row():
        lifter = gr.Radio(list(models), value=next(iter(models)), label="Live lifter", elem_id="live-lifter")
        keypoints = gr.Radio(list(keypoint_models), value=next(iter(keypoint_models)), label="Live 2D keypoints",
                             elem_id="live-keypoints")
    with gr.Row():
        start = gr.Button("Start", variant="primary", elem_id="live-start")
        stop = gr.Button("Stop and process the take", elem_id="live-stop")
    status = gr.Markdown(elem_id="live-message")
    return LiveTab(viewer, lifter, keypoints, start, stop, status)


def on_start(config: LiveConfig, models: tuple[str, ...], keypoints: str) -> tuple:
    """A new session with these lifters and keypoint model (lite, full or heavy): its token (for the script) in
    the viewer's value, and a message."""
    config = replace(config, models=models, keypoints=keypoints)
    try:
        token = SESSIONS.start(config)
    except USER_ERRORS as error:
        return gr.skip(), f"**Cannot start:** {error}"
    names = ", ".join(lifter.name for lifter in SESSIONS.session.lifters)
    return json.dumps({"token": token}), f"Live with {names}, BlazePose {config.keypoints} keypoints."


def on_stop(value: str | None) -> tuple[str | None, str]:
    """End the session; the take's mp4 (or None when there is none) and a message."""
    token = json.loads(value)["token"] if value else None
    session = SESSIONS.stop(token) if token else None
    if session is None:
        return None, "No live take is running."
    folder = storage.active_store().request_dir(Path("live_take.mp4"))
    take = session.save_take(folder / "live_take.mp4")
    if take is None:
        return None, "The take held no frames: press Start, allow the camera, then Stop."
    seconds, note = session.take.times[-1], session.take_note()
    message = f"Take of {seconds:.1f} s ({len(session.take.times)} frames) processed as a video below."
    return str(take), message + (f" Note: {note}." if note else "")
