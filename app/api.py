"""The page's processing as a documented Gradio API endpoint, `/lift` (see docs/api.md for a client example).

    from gradio_client import Client, handle_file
    files, status = Client("http://127.0.0.1:7860/").predict(handle_file("clip.mp4"), "student", api_name="/lift")

In: a video, a photo (png, jpg, webp), or a 2D keypoints / detection `.npz` / `.json`, or a `.zip` of OpenPose
JSON (the frame rate and size of files that lack them from the server's `--fps` / `--size`), and the lifter choice
(the page's menu). Out: the output files (side-by-side mp4 and 3D GIF, a photo's PNGs instead; CSV per model, the
world CSV, BVH, GLB, npz, json) and a status dict (`ok`, `message`, `source`, `request`, `num_frames`, `fps`,
`people`, `warnings`, `files`). Each request writes into its own folder of the server's `OutputStore` under a name
built from the upload's name with only safe characters, so no uploaded name can place a file outside it. The
endpoint shares the page's queue (one pipeline at a time) and stops when the client cancels (`job.cancel()`).
"""

from __future__ import annotations

import errno
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import gradio as gr

from app import storage
from app.jobs import PIPELINE_QUEUE, Cancelled, cancellable
from app.pipeline import KEYPOINT_SUFFIXES, USER_ERRORS, PipelineConfig, PipelineResult, run_pipeline
from detector.video import STILL_SUFFIXES

log = logging.getLogger(__name__)
VIDEO_TYPES = (".mp4", ".mov", ".m4v", ".avi", ".webm", ".mkv", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts")
# videos FFmpeg decodes; photos; keypoint files (.zip: OpenPose JSON)
ACCEPTED_TYPES = VIDEO_TYPES + STILL_SUFFIXES + KEYPOINT_SUFFIXES


def failure(message: str) -> tuple[list[str], dict]:
    return [], {"ok": False, "message": message}


def check_upload(path: Path) -> str | None:
    """Why this upload cannot be processed, or None."""
    if not path.is_file():
        return f"the upload '{path.name}' did not arrive; send it again"
    if path.suffix.lower() not in ACCEPTED_TYPES:
        return f"'{path.name}' is not a file type this server reads; send one of {', '.join(ACCEPTED_TYPES)}"
    return None


def summary(result: PipelineResult, upload_name: str, out_dir: Path) -> dict:
    """The status dict the endpoint returns on success."""
    return {
        "ok": True,
        "message": f"done: {upload_name}, {result.num_frames} frames, {len(result.people)} person(s)",
        "source": upload_name,
        "request": out_dir.name,
        "num_frames": result.num_frames,
        "fps": result.fps,
        "people": len(result.people),
        "warnings": list(result.warnings),
        "files": {kind: path.name for kind, path in result.files.items()},
        "timings_s": result.timings,
    }


def lift(
    source: str | None,
    choice: str,
    config: PipelineConfig,
    models: dict[str, tuple[str, ...]],
    progress: gr.Progress,
) -> tuple[list[str], dict]:
    """Process one upload into a fresh request folder; failures become `ok: False` and no files."""
    if not source:
        return failure("send a video or a keypoints .npz")
    if choice not in models:
        return failure(f"unknown lifter {choice!r}; choose one of {', '.join(models)}")
    upload = Path(source)
    problem = check_upload(upload)
    if problem:
        return failure(problem)
    out_dir = storage.active_store().request_dir(upload)
    # the input is linked under a safe name, so every output name derives from safe characters only
    safe_input = out_dir / "input" / f"{storage.safe_stem(upload.name)}{upload.suffix.lower()}"
    safe_input.parent.mkdir()
    safe_input.symlink_to(upload.resolve())
    try:
        result = run_pipeline(
            safe_input, out_dir, replace(config, models=models[choice]), lambda f, m: progress(f, desc=m)
        )
    except Cancelled:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise
    except USER_ERRORS as error:
        shutil.rmtree(out_dir, ignore_errors=True)
        return failure(f"could not process '{upload.name}': {error}")
    except OSError as error:
        shutil.rmtree(out_dir, ignore_errors=True)
        if error.errno == errno.ENOSPC:
            return failure("the server's disk is full; no files were kept. Try again later")
        log.exception("pipeline failed on %s", upload)
        return failure(f"something went wrong ({type(error).__name__}: {error})")
    except Exception as error:  # a bug, not bad input: answer, and log the traceback for us
        shutil.rmtree(out_dir, ignore_errors=True)
        log.exception("pipeline failed on %s", upload)
        return failure(f"something went wrong ({type(error).__name__}: {error}); please report it")
    files = [str(path) for path in result.files.values()]
    return files, summary(result, upload.name, out_dir)


def register_api(demo: gr.Blocks, config: PipelineConfig, models: dict[str, tuple[str, ...]]) -> None:
    """Add the `/lift` endpoint to the page (call inside `with gr.Blocks() as demo:`); it has no visible parts."""
    with gr.Column(visible=False):
        source = gr.File(label="video or keypoints file", file_types=list(ACCEPTED_TYPES))
        choice = gr.Dropdown(list(models), value=next(iter(models)), label="lifter")
        files = gr.File(label="output files", file_count="multiple")
        status = gr.JSON(label="status")
        trigger = gr.Button()

    def on_lift(path, chosen, progress=gr.Progress()) -> tuple[list[str], dict]:  # noqa: B008 (Gradio's idiom)
        return lift(path, chosen, config, models, progress)

    trigger.click(
        cancellable(on_lift),
        [source, choice],
        [files, status],
        api_name="lift",
        api_description="A video or keypoints file and the lifter choice in; the output files and a status out.",
        concurrency_id=PIPELINE_QUEUE,
    )
