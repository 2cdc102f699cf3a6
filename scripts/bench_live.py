"""Benchmark live 3D: `python -m app.live CLIP --realtime` for each 2D keypoints model and lifter, one after another;
with `--browser`, the page's Live tab in headless Chromium whose fake camera plays the clip.

    python -m scripts.bench_live [CLIP] [--keypoints lite full heavy] [--models student_causal student]
        [--seconds S] [--max-side 640] [--out docs/runs/live]
    python -m scripts.bench_live [CLIP] --browser [--keypoints lite] [--models student_causal student] [--seconds S]

Each run plays the clip (default: the bundled Sports2D demo, 30 fps, 230 frames, shrunk to 640 px as a webcam
gives it) at its own speed through a fresh `LiveSession`, dropping what the lift misses, headless, the take kept
but not processed. Prints a Markdown table: frames processed a second, the delay (median and 90th percentile,
from a frame's arrival to its 3D pose), the share of frames dropped, and each stage's milliseconds a processed
frame; the JSON of every run goes to `--out`.

`--browser`: the app (shipped weights) on a free port, Chromium (/usr/bin/chromium) with its fake camera playing
the clip (written as a 640 x 360 .y4m, looped by Chromium), the Live tab started with each lifter (the models' menu
words) and keypoint model; its readout (`#live-status`: frames processed a second, delay from capture to the 3D
shown) is read once a second for `--seconds` (default 10) after the first 3D pose; prints the median and the range.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import tempfile
from pathlib import Path

import cv2
import numpy as np

from app import live
from detector import example_video_path, read_video

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
CAMERA_SIZE = (640, 360)


def write_y4m(clip: Path, path: Path, frames: int | None = None, size: tuple[int, int] = CAMERA_SIZE) -> Path:
    """The clip's first frames as a raw YUV 4:2:0 .y4m at 30 fps, the file Chromium's fake camera plays."""
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F30:1 Ip A1:1 C420jpeg\n".encode())
        for frame in read_video(clip).frames(limit=frames):
            small = cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA)
            out.write(b"FRAME\n" + cv2.cvtColor(small, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_runs(clip: Path, keypoints: list[str], models: list[str], seconds: float) -> None:
    """The Live tab in Chromium with the clip as its camera, for each keypoint model and lifter choice."""
    from playwright.sync_api import sync_playwright

    from app.live_web import LIVE_MODELS
    from app.ui import KEYPOINT_WORDS, build_ui

    words = {models_: word for word, models_ in LIVE_MODELS.items()}
    demo = build_ui()
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    print("\n| keypoints | lifter | fps median (range) | delay median (range) ms |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        camera = write_y4m(clip, Path(folder) / "camera.y4m")
        fake = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={camera}"]
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS + fake)
        for keypoint_model in keypoints:
            for model in models:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"http://127.0.0.1:{port}")
                page.get_by_role("tab", name="Live").click()
                page.locator("#live-lifter").get_by_label(words[(model,)], exact=True).check()
                page.locator("#live-keypoints").get_by_label(KEYPOINT_WORDS[keypoint_model], exact=True).check()
                page.locator("#live-start").click()
                status = page.locator("#live-status")
                status.filter(has_text="ms latency").wait_for(timeout=120_000)
                readings = []
                for _ in range(int(seconds)):
                    page.wait_for_timeout(1000)
                    readings.append(status.inner_text())
                page.close()
                fps = [float(re.match(r"([\d.]+) fps", text).group(1)) for text in readings]
                delay = [float(re.search(r"(\d+) ms latency", text).group(1)) for text in readings]
                print(f"| {keypoint_model} | {model} | {np.median(fps):.1f} ({min(fps):.1f}-{max(fps):.1f}) | "
                      f"{np.median(delay):.0f} ({min(delay):.0f}-{max(delay):.0f}) |", flush=True)
        browser.close()
    demo.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clip", nargs="?", type=Path, help="default: the bundled example clip")
    parser.add_argument("--keypoints", nargs="+", default=["lite", "full", "heavy"])
    parser.add_argument("--models", nargs="+", default=["student_causal", "student"],
                        help="lifters, one run each (weights/<name>.pt or checkpoint paths)")
    parser.add_argument("--seconds", type=float, help="play only this much of the clip")
    parser.add_argument("--max-side", type=int, default=640)
    parser.add_argument("--out", type=Path, default=Path("docs/runs/live"))
    parser.add_argument("--browser", action="store_true", help="the page's Live tab in Chromium instead")
    args = parser.parse_args(argv)
    clip = args.clip or example_video_path()
    if args.browser:
        return browser_runs(clip, args.keypoints, args.models, args.seconds or 10)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for keypoints in args.keypoints:
        for model in args.models:
            report = args.out / f"{clip.stem}_{keypoints}_{Path(model).stem}.json"
            with tempfile.TemporaryDirectory() as takes:
                argv = [str(clip), "--realtime", "--headless", "--no-process", "--max-side", str(args.max_side),
                        "--keypoints", keypoints, "--model", model, "--out", takes, "--json", str(report)]
                if args.seconds:
                    argv += ["--seconds", str(args.seconds)]
                if live.main(argv) != 0:
                    raise SystemExit(f"the run with {keypoints} and {model} failed")
            rows.append(json.loads(report.read_text()))
    print("\n| keypoints | lifter | fps | delay median / p90 ms | dropped | YOLO ms | keypoints ms | lift ms |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        stages = row["stage_ms"]
        lift = next(value for name, value in stages.items() if name.startswith("lift"))
        dropped = row["frames_dropped"] / row["frames_offered"]
        print(f"| {row['keypoints']} | {Path(row['models'][0]).stem} | {row['fps']:.1f} | "
              f"{row['latency_ms_median']:.0f} / {row['latency_ms_p90']:.0f} | {100 * dropped:.0f} % | "
              f"{stages['yolo']:.1f} | {stages['keypoints']:.1f} | {lift:.1f} |")


if __name__ == "__main__":
    main()
