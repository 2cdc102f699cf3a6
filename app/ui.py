"""The browser app: a thin Gradio page over `run_pipeline` (upload or example in; video, GIF, plot, files out).

`build_ui()` returns the Blocks; `python -m app` launches it on 127.0.0.1. Requests queue one at a time (the
pipeline uses every core), so several users wait their turn instead of competing. Bad input is shown as a
message in the page, never as a stack trace.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import gradio as gr

from app import storage
from app.api import register_api
from app.jobs import PIPELINE_QUEUE, cancellable
from app.pipeline import (
    COORDINATES,
    USER_ERRORS,
    PipelineConfig,
    PipelineResult,
    missing_weights_message,
    model_choices,
    run_pipeline,
    weights_path,
)
from app.render import distance_figure
from detector import example_video_path

log = logging.getLogger(__name__)
OUTPUTS = 6  # status, video, gif, files, plot, model table


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


def message_only(text: str) -> tuple:
    """Outputs that show `text` as the status and clear everything else."""
    return (text,) + (None,) * (OUTPUTS - 1)


def process(source: str | None, choice: str, config: PipelineConfig, models: dict, progress: gr.Progress) -> tuple:
    """Run the pipeline for the UI; every failure becomes a status message and empty outputs."""
    if not source:
        return message_only("**Upload a video or a keypoints .npz first** (or press *Run the example clip*).")
    out_dir = storage.active_store().request_dir(source)
    try:
        result = run_pipeline(
            source,
            out_dir,
            replace(config, models=models[choice]),
            lambda fraction, message: progress(fraction, desc=message),
        )
    except USER_ERRORS as error:
        return message_only(f"**Could not process this file.** {error}")
    except Exception as error:  # a bug, not bad input: keep the page usable, log the traceback for us
        log.exception("pipeline failed on %s", source)
        return message_only(f"**Something went wrong** ({type(error).__name__}: {error}). Please report it.")
    status = [f"**Done:** {result.source.name}, {result.num_frames} frames, {len(result.people)} person(s)."]
    status += [f"\n\nWarning: {warning}" for warning in result.warnings]
    plot = (
        distance_figure(result.comparison.labels, result.comparison.times, result.comparison.distance_mm)
        if result.comparison
        else None
    )
    return (
        "".join(status),
        str(result.files["mp4"]),
        str(result.files["gif"]),
        [str(path) for path in result.files.values()],
        plot,
        model_table(result),
    )


def build_ui(config: PipelineConfig | None = None, models: dict[str, tuple[str, ...]] | None = None) -> gr.Blocks:
    """The page; `models` maps each choice (student, teacher, both) to lifter names or checkpoint paths."""
    config = config or PipelineConfig()
    models = models or model_choices()
    with gr.Blocks(title="SCJD: video to 3D skeleton") as demo:
        gr.Markdown(
            "# Video to 3D skeleton\nUpload a short video of one person (or a 2D keypoints `.npz`), choose the "
            "lifter, and get the 3D skeleton beside the video. *both* (listed when a student and its teacher are "
            f"shipped in weights/) runs the two and compares them. 3D coordinates: {COORDINATES}."
        )
        missing = missing_weights(models)
        if missing:
            gr.Markdown("**Lifter weights missing:** " + " ".join(missing_weights_message(p) for p in missing))
        with gr.Row():
            with gr.Column():
                upload = gr.File(label="Video or keypoints .npz", file_types=None, elem_id="upload")
                choice = gr.Radio(list(models), value=next(iter(models)), label="Lifter")
                with gr.Row():
                    azimuth = gr.Slider(-180, 180, config.view.azimuth_deg, step=5, label="3D view: turn (degrees)")
                    elevation = gr.Slider(-10, 80, config.view.elevation_deg, step=5, label="3D view: look down")
                with gr.Row():
                    run = gr.Button("Lift to 3D", variant="primary", elem_id="run")
                    example = gr.Button("Run the example clip", elem_id="example")
                    cancel = gr.Button("Cancel", elem_id="cancel")
            with gr.Column():
                status = gr.Markdown(elem_id="status")
                video = gr.Video(label="Video with 2D overlay | 3D skeleton", elem_id="video")
        with gr.Row():
            gif = gr.Image(label="3D animation (GIF)", type="filepath", elem_id="gif")
            files = gr.File(label="Downloads", file_count="multiple", elem_id="files")
        with gr.Accordion("Teacher vs student", open=True):
            plot = gr.Plot(label="Per-joint distance over time (choose 'both')")
            table = gr.Markdown(elem_id="models")
        outputs = [status, video, gif, files, plot, table]

        def with_view(turn: float, down: float) -> PipelineConfig:
            return replace(config, view=replace(config.view, azimuth_deg=turn, elevation_deg=down))

        def on_upload(path, chosen, turn, down, progress=gr.Progress()) -> tuple:  # noqa: B008 (Gradio's idiom)
            return process(path, chosen, with_view(turn, down), models, progress)

        def on_example(chosen, turn, down, progress=gr.Progress()) -> tuple:  # noqa: B008 (Gradio's idiom)
            try:
                path = str(example_video_path())
            except USER_ERRORS as error:
                return message_only(f"**The example clip is unavailable.** {error}")
            return process(path, chosen, with_view(turn, down), models, progress)

        upload_inputs, example_inputs = [upload, choice, azimuth, elevation], [choice, azimuth, elevation]
        runs = [
            run.click(cancellable(on_upload), upload_inputs, outputs, concurrency_id=PIPELINE_QUEUE),
            example.click(cancellable(on_example), example_inputs, outputs, concurrency_id=PIPELINE_QUEUE),
        ]
        cancel.click(lambda: message_only("Cancelled."), None, outputs, cancels=runs)
        register_api(demo, config, models)
    demo.queue(default_concurrency_limit=1, max_size=32)
    return demo
