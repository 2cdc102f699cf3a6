"""The browser app: a Gradio page over the pipeline's two steps (find the people, then lift the chosen ones).

`build_ui()` returns the Blocks, built part by part (the inputs, the people, the 3D view, the downloads: one
function each, returning its components); `wire_events` then connects them to `Handlers`. `python -m app`
launches it on 127.0.0.1. The page takes a video (an upload, a webcam recording or the bundled example), a
photo or a 2D keypoints file, whichever tab is open; it shows every person found (thumbnail, time in view) with
the main subject chosen, and lifts another choice from the cached detections without detecting again. The video
with its 2D skeleton (a photo: the photo) plays beside a live 3D viewer (app/static/viewer.js, fed by
app/viewer.py) that follows the video's clock, everyone lifted standing in one world; turning the view happens in the
browser and never reruns the pipeline. Requests queue one at a time, in one queue with the /lift API (the
pipeline uses every core); *Cancel*, or closing the page, stops a running one and frees the worker
(app/jobs.py). Bad input is shown as a message in the page, never as a stack trace.
"""

from __future__ import annotations

import logging
import shutil
from argparse import ArgumentTypeError
from dataclasses import dataclass, field, replace
from pathlib import Path

import gradio as gr

from app import storage
from app.api import register_api
from app.cli import picture_size
from app.jobs import PIPELINE_QUEUE, Cancelled, cancellable
from app.live_session import LiveConfig
from app.live_web import LiveTab, add_routes, live_model_choices, live_section, on_start, on_stop
from app.people import PersonCard, person_cards
from app.pipeline import (
    COORDINATES,
    KEYPOINT_SUFFIXES,
    USER_ERRORS,
    WORLD_COORDINATES,
    DetectedPeople,
    InputError,
    PipelineConfig,
    PipelineResult,
    detect_people,
    lift_people,
    load_lifters,
    model_choices,
    weights_path,
)
from app.viewer import payload_json, world_caption
from detector import example_video_path, examples_dir
from pose_lifting.lifter import missing_weights_message

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
KEYPOINT_MODELS = {"fast": "lite", "balanced": "full", "accurate": "heavy"}  # the page's words (docs/benchmarks.md)
KEYPOINT_WORDS = {model: word for word, model in KEYPOINT_MODELS.items()}
VIEWER_TEMPLATE = '<div class="scjd-viewer"></div>'
LIFTED = 8  # the outputs a lift fills (lift_outputs)
KEYPOINTS_LABEL = (
    "2D keypoints instead of a video (the command line's inputs): a keypoints .npz, a detection file "
    "(python -m detector), a .zip of OpenPose JSON (BODY_25 or COCO-18; Pose2Sim, Sports2D), COCO keypoint "
    "results .json, or MMPose / RTMPose predictions .json"
)


@dataclass
class Detection:
    """The page's cache of one detection: what it was run on, and what it found."""

    source: str
    keypoints: str
    detected: DetectedPeople
    cards: list[PersonCard]  # one per detected person, in the same order
    picture: tuple = (None, None)  # the frame rate and size given for a keypoints file that lacks them


def missing_weights(models: dict[str, tuple[str, ...]]) -> list[Path]:
    """Lifter checkpoints the model choices need that do not exist."""
    paths = {weights_path(name) for names in models.values() for name in names}
    return sorted(path for path in paths if not path.is_file())


def model_table(result: PipelineResult) -> str:
    """Markdown: each model's cost, then each stage's ms/frame."""
    rows = ["| model | checkpoint | MFLOPs / pose | parameters | lift ms/frame | device |", "|---|---|---|---|---|---|"]
    rows += [
        f"| {run.label} | {run.lifter_name} | {run.mflops:.1f} | {run.num_params:,} | {run.ms_per_frame():.2f} "
        f"| {run.device} |"
        for run in result.models
    ]
    stages = " / ".join(f"{stage} {ms:.1f}" for stage, ms in result.ms_per_frame().items())
    rows += ["", f"ms/frame by stage: {stages}; {result.end_to_end_fps():.1f} fps end to end"]
    if result.comparison:
        a, b = result.comparison.labels
        rows.append(f"\nmean distance {a} vs {b}: **{result.comparison.mean_mm:.1f} mm** per joint")
    return "\n".join(rows)


def people_status(detected: DetectedPeople, track_ids: list[int]) -> str:
    """The status line: how many people were found and which are lifted, e.g. '2 people found, lifting #1'."""
    found = len(detected.people)
    return f"{found} {'person' if found == 1 else 'people'} found, lifting {', '.join(f'#{i}' for i in track_ids)}"


def warnings_text(warnings: list[str]) -> str:
    return "".join(f"\n\nWarning: {warning}" for warning in warnings)


def error_message(error: Exception, source: str) -> str:
    """The status for a failed step: the message for bad input, a short report for a bug (logged in full)."""
    if isinstance(error, USER_ERRORS):
        return f"**Could not process this file.** {error}"
    log.exception("pipeline failed on %s", source)
    return f"**Something went wrong** ({type(error).__name__}: {error}). Please report it."


@dataclass
class Inputs:
    """The top of the page: the video (or keypoints file), the model choices, the buttons and the status line."""

    video: gr.Video
    photo: gr.Image
    keypoints_file: gr.File
    keypoints_fps: gr.Number
    keypoints_size: gr.Textbox
    tabs: gr.Tabs
    tab: gr.State  # the open tab's id: which input a run takes ("video", "photo" or "keypoints")
    tab_pages: list[gr.Tab]
    example: gr.Button
    keypoints: gr.Radio
    lifter: gr.Radio
    opensim: gr.Checkbox
    run: gr.Button
    cancel: gr.Button
    status: gr.Markdown
    live: LiveTab  # the Live tab (app/live_web.py); its Stop hands the take to the video tab's run


@dataclass
class People:
    """The person picker, hidden until people are found."""

    box: gr.Column
    gallery: gr.Gallery
    chosen: gr.CheckboxGroup
    lift: gr.Button


@dataclass
class View:
    """The video (or photo) with its 2D skeleton beside the live 3D viewer and the viewer's caption."""

    video: gr.Video
    photo: gr.Image  # shown instead of the video for a photo
    viewer: gr.HTML
    caption: gr.Markdown


@dataclass
class Downloads:
    """The models' table, the GIF (a photo's 3D view) and the run's files."""

    table: gr.Markdown
    gif: gr.Image
    files: gr.File


def intro(models: dict[str, tuple[str, ...]]) -> None:
    """The page's title and how to use it, and which lifter weights are missing."""
    gr.Markdown(
        "# Video to 3D skeleton\nUpload a short video, record one with the webcam, use the example clip, or "
        "upload a photo; the page finds everyone in it, lifts the main subject to 3D, and plays the video beside "
        "a 3D view that you can turn, zoom and move with the mouse. Pick other people below to lift them too: "
        "they stand where they are, in one world. *both* (listed when a student and its teacher are shipped in "
        "weights/) runs the two and compares them."
    )
    missing = missing_weights(models)
    if missing:
        gr.Markdown("**Lifter weights missing:** " + " ".join(missing_weights_message(p) for p in missing))


def input_section(
    config: PipelineConfig, models: dict[str, tuple[str, ...]], live_models: dict[str, tuple[str, ...]]
) -> Inputs:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3), gr.Tabs() as tabs:
            with gr.Tab("Video", id="video") as video_tab:
                source_video = gr.Video(
                    label="Your video (upload or webcam)",  # short: a phone shows the label beside the icons
                    sources=["upload", "webcam"],
                    elem_id="input_video",
                )  # no fixed height: a fixed one cut off the upload / camera buttons under the player
            with gr.Tab("Photo", id="photo") as photo_tab:
                photo = gr.Image(
                    label="Your photo (PNG, JPEG, WebP): everyone in it in 3D, from this one picture",
                    type="filepath",
                    sources=["upload", "clipboard"],
                    elem_id="input_photo",
                )
            with gr.Tab("2D keypoints file", id="keypoints") as keypoints_tab:
                keypoints_file = gr.File(label=KEYPOINTS_LABEL, file_types=list(KEYPOINT_SUFFIXES), elem_id="upload")
                with gr.Row():  # what OpenPose, COCO and MMPose files do not say (else: the server's --fps, --size)
                    keypoints_fps = gr.Number(
                        label="Frame rate (--fps), where the file lacks it", elem_id="keypoints_fps"
                    )
                    keypoints_size = gr.Textbox(
                        label="Picture size WxH (--size), where the file lacks it",
                        placeholder="1920x1080",
                        elem_id="keypoints_size",
                    )
            with gr.Tab("Live", id="live"):
                live = live_section(live_models, KEYPOINT_MODELS)
        with gr.Column(scale=2):
            example = gr.Button("Use the example clip", elem_id="example")
            start = KEYPOINT_WORDS.get(config.keypoints, "balanced")  # the page offers three of the four models
            keypoints = gr.Radio(list(KEYPOINT_MODELS), value=start, label="2D keypoints", elem_id="keypoints")
            lifter = gr.Radio(list(models), value=next(iter(models)), label="Lifter", elem_id="lifter")
            opensim = gr.Checkbox(
                value=config.opensim,
                label="OpenSim: also write a TRC, a scaled full-body model and its inverse kinematics (a few seconds)",
                elem_id="opensim",
            )
            with gr.Row():
                run = gr.Button("Find the people and lift to 3D", variant="primary", elem_id="run", scale=3)
                cancel = gr.Button("Cancel", elem_id="cancel", scale=1)
            status = gr.Markdown("Choose a video or a photo, then press the button.", elem_id="status")
    return Inputs(source_video, photo, keypoints_file, keypoints_fps, keypoints_size, tabs, gr.State("video"),
                  [video_tab, photo_tab, keypoints_tab], example, keypoints, lifter, opensim, run, cancel,
                  status, live)


def people_section() -> People:
    with gr.Column(elem_id="people", visible=False) as box:  # shown once people are found
        gr.Markdown(
            "### People\nEveryone the detector tracked; click a picture to lift that person, or tick several "
            "and press *Lift the chosen people*."
        )
        gallery = gr.Gallery(
            label="People found",
            columns=6,
            height=250,
            allow_preview=False,
            object_fit="contain",
            fit_columns=False,
            elem_id="people_gallery",
        )
        with gr.Row():
            chosen = gr.CheckboxGroup(label="Lift", show_select_all=True, elem_id="people_choice", scale=4)
            lift = gr.Button("Lift the chosen people", elem_id="lift_people", scale=1)
    return People(box, gallery, chosen, lift)


def view_section() -> View:
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            video = gr.Video(label="Video with the 2D skeleton", elem_id="video", autoplay=False)
            photo = gr.Image(label="Photo with the 2D skeleton", elem_id="photo", visible=False, type="filepath")
        with gr.Column(scale=1):
            viewer = gr.HTML(
                None,
                html_template=VIEWER_TEMPLATE,
                css_template=(STATIC / "viewer.css").read_text(),
                js_on_load=(STATIC / "viewer.js").read_text() + "\nmountViewer(element, props, watch);",
                apply_default_css=False,
                elem_id="viewer",
            )
            caption = gr.Markdown(elem_id="world_caption")
            gr.Markdown(
                f"3D view, {WORLD_COORDINATES}. A person who could not be placed in the world is shown in the "
                f"lifter's {COORDINATES}, turned upright, on a floor at their feet."
            )
    return View(video, photo, viewer, caption)


def downloads_section() -> Downloads:
    table = gr.Markdown(elem_id="models")
    with gr.Row():
        gif = gr.Image(label="3D animation", type="filepath", elem_id="gif", height=320)
        files = gr.File(label="Downloads", file_count="multiple", elem_id="files")
    return Downloads(table, gif, files)


def lift_outputs(inputs: Inputs, view: View, downloads: Downloads) -> list[gr.components.Component]:
    """What a lift fills, in the order `Handlers.on_lift` returns them (LIFTED of them)."""
    return [inputs.status, view.video, downloads.gif, downloads.files, view.viewer, downloads.table, view.caption,
            view.photo]


def status_only(message: str) -> tuple:
    """A lift's outputs when only its status changes."""
    return (message, *(gr.skip() for _ in range(LIFTED - 1)))


@dataclass
class Handlers:
    """The page's event handlers for one pipeline config and its lifter choices."""

    config: PipelineConfig
    models: dict[str, tuple[str, ...]]
    live_models: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the Live tab's lifter choices

    def settings(self, lifter: str, keypoint_words: str, opensim: bool = False) -> PipelineConfig:
        models = self.models[lifter]
        return replace(self.config, models=models, keypoints=KEYPOINT_MODELS[keypoint_words], overlay_video=True,
                       opensim=bool(opensim or self.config.opensim))

    @staticmethod
    def on_example() -> tuple:
        """The example clip in the video tab, which is opened."""
        try:
            return str(example_video_path()), gr.Tabs(selected="video"), "video"
        except USER_ERRORS as error:
            gr.Warning(f"The example clip is unavailable. {error}")
            return None, gr.skip(), gr.skip()

    @staticmethod
    def picture(fps: float | None, size: str | None) -> tuple[float | None, tuple[int, int] | None]:
        """The page's frame rate and "WxH" size for a keypoints file (None where left empty)."""
        try:
            return (None if fps is None else float(fps)), (picture_size(size) if size and size.strip() else None)
        except (ValueError, ArgumentTypeError) as error:
            raise InputError(f"picture size: {error}") from error

    def on_detect(
        self, path, photo, keypoints_file, fps, size, tab, lifter, keypoint_words, cached,
        progress=gr.Progress(),  # noqa: B008
    ) -> tuple:
        """Find the people in the open tab's input (`tab`: "video", "photo" or "keypoints")."""
        source = {"video": path, "photo": photo, "keypoints": keypoints_file}[tab]
        empty = (gr.Column(visible=False), None, gr.update(choices=[], value=[]))
        if not source:
            what = {"video": "a video", "photo": "a photo", "keypoints": "a 2D keypoints file"}[tab]
            return (f"**Upload {what} first** (or press *Use the example clip*).", *empty, None)
        run_config = self.settings(lifter, keypoint_words)
        try:
            picture = self.picture(fps, size) if tab == "keypoints" else (None, None)
        except InputError as error:
            return (error_message(error, source), *empty, None)
        if cached and (cached.source, cached.keypoints, cached.picture) == (source, run_config.keypoints, picture):
            found = cached
        else:
            try:
                load_lifters(run_config)  # missing weights fail before the long detection
                # the picker offers every person; the page's frame rate and size win over the server's options
                everyone = replace(
                    run_config,
                    all_tracks=True,
                    keypoints_fps=picture[0] or run_config.keypoints_fps,
                    keypoints_size=picture[1] or run_config.keypoints_size,
                )
                people = detect_people(source, everyone, lambda f, message: progress(f, desc=message))
                found = Detection(source, run_config.keypoints, people, person_cards(people), picture)
            except Exception as error:  # noqa: BLE001 (every failure becomes a message in the page)
                return (error_message(error, source), *empty, None)
        main = found.detected.people[0].track_id
        choices = [(card.label, card.track_id) for card in found.cards]
        return (
            f"**{people_status(found.detected, [main])}** ...",
            gr.Column(visible=True),
            [(card.image, card.label) for card in found.cards],
            gr.update(choices=choices, value=[main]),
            found,
        )

    def on_lift(
        self, cached, track_ids, lifter, keypoint_words, opensim=False, progress=gr.Progress()  # noqa: B008
    ) -> tuple:
        if cached is None:  # nothing detected (or the detection failed): clear the last results
            return (gr.skip(), *(None for _ in range(LIFTED - 1)))
        if not track_ids:
            return status_only("**Tick at least one person** to lift.")
        people = cached.detected
        out_dir = storage.active_store().request_dir(cached.source)
        try:
            result = lift_people(
                people,
                out_dir,
                self.settings(lifter, keypoint_words, opensim),
                list(track_ids),
                lambda f, message: progress(f, desc=message),
            )
        except Cancelled:  # stopped by Cancel or a closed page: leave no half-written outputs
            shutil.rmtree(out_dir, ignore_errors=True)
            raise
        except Exception as error:  # noqa: BLE001 (every failure becomes a message in the page)
            return status_only(error_message(error, cached.source))
        done = people_status(people, [p.track_id for p in result.people]).replace("lifting", "lifted")
        photo = "png:2d" in result.files
        frames = "a photo" if photo else f"{result.num_frames} frames"
        summary = f"**Done:** {result.source.name}, {frames}; {done}."
        return (
            summary + warnings_text(result.warnings),
            gr.Video(None if photo else str(result.files["mp4:2d"]), visible=not photo),
            gr.Image(str(result.files["png:3d" if photo else "gif"]), label="3D view" if photo else "3D animation"),
            [str(path) for path in result.files.values()],
            payload_json(result),
            model_table(result),
            world_caption(result),
            gr.Image(str(result.files["png:2d"]) if photo else None, visible=photo),
        )

    def on_live_start(self, lifter: str, keypoint_words: str) -> tuple:
        live = LiveConfig(device=self.config.device)
        return on_start(live, self.live_models[lifter], KEYPOINT_MODELS[keypoint_words])

    @staticmethod
    def on_live_stop(value: str | None) -> tuple:
        """The take, processed as a video: it goes into the video tab, which is opened, and the run follows."""
        take, message = on_stop(value)
        if take is None:
            raise gr.Error(message)
        return take, message, gr.Tabs(selected="video"), "video"

    @staticmethod
    def on_pick(cached, evt: gr.SelectData) -> list[int]:
        return [cached.detected.people[evt.index].track_id]


def wire_events(
    handlers: Handlers, detection: gr.State, inputs: Inputs, people: People, view: View, downloads: Downloads
) -> None:
    """The page's events: detect then lift, lift another choice, pick from the gallery, and cancel any of them."""
    private = {"api_visibility": "private"}
    pipeline = {"concurrency_id": PIPELINE_QUEUE, **private}  # one queue with the /lift API
    inputs.example.click(handlers.on_example, None, [inputs.video, inputs.tabs, inputs.tab], **private)
    for page, name in zip(inputs.tab_pages, ("video", "photo", "keypoints")):  # a run takes the open tab's input
        page.select(lambda name=name: name, None, inputs.tab, **private)
    lifted = lift_outputs(inputs, view, downloads)
    lift_inputs = [detection, people.chosen, inputs.lifter, inputs.keypoints, inputs.opensim]
    detect_inputs = [
        inputs.video, inputs.photo, inputs.keypoints_file, inputs.keypoints_fps, inputs.keypoints_size, inputs.tab,
        inputs.lifter, inputs.keypoints, detection,
    ]
    detect_outputs = [inputs.status, people.box, people.gallery, people.chosen, detection]
    lift_chosen = cancellable(handlers.on_lift)
    detect_run = inputs.run.click(cancellable(handlers.on_detect), detect_inputs, detect_outputs, **pipeline)
    live = inputs.live
    live.start.click(handlers.on_live_start, [live.lifter, live.keypoints], [live.viewer, live.status],
                     concurrency_id="live", **private)
    take = live.stop.click(handlers.on_live_stop, live.viewer, [inputs.video, live.status, inputs.tabs, inputs.tab],
                           concurrency_id="live", **private)
    take_run = take.success(cancellable(handlers.on_detect), detect_inputs, detect_outputs, **pipeline)
    runs = [
        detect_run,
        detect_run.success(lift_chosen, lift_inputs, lifted, **pipeline),  # .success: not after a cancel
        take_run,
        take_run.success(lift_chosen, lift_inputs, lifted, **pipeline),
        people.lift.click(lift_chosen, lift_inputs, lifted, **pipeline),
        people.gallery.select(handlers.on_pick, detection, people.chosen, **private).then(
            lift_chosen, lift_inputs, lifted, **pipeline
        ),
    ]
    inputs.cancel.click(lambda: "Cancelled.", None, inputs.status, cancels=runs, queue=False, **private)


class Page(gr.Blocks):
    """The page's Blocks: `launch` adds the page's CSS (app/static/page.css; Gradio 6 takes CSS only there) and
    lets Gradio serve the example clip: its cache folder (`SCJD_CACHE_DIR`, or a `data/` linked from elsewhere)
    can lie outside the working directory and the temp folder, the only places Gradio serves files from."""

    def launch(self, *args, css: str | None = None, allowed_paths: list[str] | None = None,
               prevent_thread_lock: bool = False, **kwargs):
        css = (STATIC / "page.css").read_text() + (css or "")
        launched = super().launch(*args, css=css, allowed_paths=[*(allowed_paths or []), str(examples_dir())],
                                  prevent_thread_lock=True, **kwargs)
        add_routes(self.server_app)  # the Live tab's frames (app/live_web.py)
        if not prevent_thread_lock:
            self.block_thread()
        return launched


def build_ui(
    config: PipelineConfig | None = None,
    models: dict[str, tuple[str, ...]] | None = None,
    live_models: dict[str, tuple[str, ...]] | None = None,
) -> gr.Blocks:
    """The page; `models` maps each choice (student, teacher, both) to lifter names or checkpoint paths, and
    `live_models` the Live tab's choices."""
    config = config or PipelineConfig()
    models = models or model_choices()
    live_models = live_models or live_model_choices()
    with Page(title="SCJD: video to 3D skeleton", fill_width=True) as demo:
        intro(models)
        detection = gr.State(None)  # the session's cached Detection
        inputs = input_section(config, models, live_models)
        people = people_section()
        view = view_section()
        downloads = downloads_section()
        wire_events(Handlers(config, models, live_models), detection, inputs, people, view, downloads)
        register_api(demo, config, models)  # the API's endpoints for programs, apart from the page's own events
    demo.queue(default_concurrency_limit=1, max_size=32)
    return demo
