"""The render step: the side-by-side MP4 (the 2D overlay beside the 3D panel), the 3D GIF and the 2D-overlay MP4,
drawn in one pass over the video's frames (decoded again, at the output size) or a grey canvas for keypoint files;
for a photo, the same pictures as PNGs.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from app import export, render
from app.config import PipelineConfig
from app.outputs import fill_nearest
from app.results import ModelRun
from detector import read_video
from detector.video import prefetch
from pose_lifting.progress import Progress
from pose_lifting.sequence import Pose2DSequence
from pose_lifting.skeleton import JOINT_INDEX
from pose_lifting.world import WorldMotion

OUT_OF_VIEW = "chosen person out of view"


def video_frames(path: Path, num_frames: int, config: PipelineConfig) -> Iterator[np.ndarray]:
    """The video's frames again (the detector keeps none), decoded at the output height in a background thread."""
    video = read_video(path)
    max_side = round(config.video_height * max(video.width, video.height) / video.height)
    return prefetch((frame.image for frame in video.frames(limit=num_frames, max_side=max_side)), depth=8)


def blank_frames(person: Pose2DSequence, num_frames: int, config: PipelineConfig) -> Iterator[np.ndarray]:
    """A grey canvas of the keypoints' image size (scaled to the output height) for keypoint-file inputs."""
    width = round(person.width * config.video_height / person.height)
    canvas = np.full((config.video_height, width, 3), 90, np.uint8)
    return (canvas.copy() for _ in range(num_frames))


class FrameDrawer:
    """Draws one video frame at a time: the 2D skeletons over the picture and the 3D panel of the world frame.

    The 3D panel shows the world frame (`panel_scene`): everyone where they stand, on the ground, which slides
    beneath the chosen person (the first) as they move, with their path over the last seconds; with several
    people the view draws back to hold them. The chosen person has the left/right colours, every other person a
    colour of their own and their label, in the 2D overlay too. The first model's skeletons are drawn so, the
    second model's (if any) in its own colour beneath them. Where the scene's lines gave up, a faint horizon
    crosses the picture.
    """

    def __init__(self, people: list[Pose2DSequence], runs: list[ModelRun], num_frames: int, config: PipelineConfig):
        self.people, self.runs, self.floor_m = people, runs, config.view.floor_m
        self.main_world = runs[0].world[0] if runs[0].world else None
        scene_up = self.main_world is not None and self.main_world.method == "scene"
        self.horizon = self.main_world if scene_up else None  # where the scene's lines gave up
        self.scene = panel_scene(runs[0], people, num_frames, config.view)
        self.models = render.model_legend([run.label for run in runs])
        several = len(people) > 1
        self.styles = [(render.person_colour(i), f"#{p.track_id}" if several else None) for i, p in enumerate(people)]
        self.apart = [spread(p) if several else np.zeros((len(p), 3), np.float32) for p in people]
        self.panels: dict[int, render.Panel3D] = {}  # by size

    def panel(self, size: int) -> render.Panel3D:
        if size not in self.panels:
            self.panels[size] = render.Panel3D(replace(self.scene.view, size=size))
        return self.panels[size]

    def draw(self, index: int, image: np.ndarray, sizes: tuple[int, ...]) -> list[np.ndarray]:
        """Draw the 2D skeletons on frame `index` (in place); the 3D panel at each of `sizes`, with its key."""
        first = self.people[0]
        scale = np.array([image.shape[1] / first.width, image.shape[0] / first.height], np.float32)
        if self.horizon is not None and 0 <= index - first.first_frame < len(self.horizon):
            line = self.horizon.horizon(index - first.first_frame, first.width, first.height)
            render.draw_horizon(image, line * np.array([1 / scale[0], 1 / scale[1], 1.0]))
        skeletons: list[list[np.ndarray]] = [[] for _ in self.runs]
        shown = []
        centre = self.scene.centres[index]
        for person, p in enumerate(self.people):
            t = index - p.first_frame
            if not 0 <= t < len(p):
                continue
            render.draw_2d(image, p.keypoints[t] * scale, p.scores[t], 0.05, *self.styles[person])
            shown.append(self.styles[person])
            for model in range(len(self.runs)):
                pose = panel_skeleton(self.runs, model, person, t, centre, self.floor_m, self.apart[person][t])
                skeletons[model].append(pose)
        render.legend(image, render.SIDE_LEGEND)
        main, second = skeletons[0], [pose for other in skeletons[1:] for pose in other]
        ground = panel_ground(self.main_world, index - first.first_frame, centre, self.scene.view)
        key = self.models if main else [(OUT_OF_VIEW, render.TEXT_COLOUR)]
        return [render.legend(self.panel(size).draw(main, second, *ground, people=shown), key) for size in sizes]


def render_videos(
    frames: Iterator[np.ndarray],
    num_frames: int,
    people: list[Pose2DSequence],
    runs: list[ModelRun],
    fps: float,
    files: dict[str, Path],
    config: PipelineConfig,
    progress: Progress,
) -> None:
    """Write the side-by-side mp4 (2D overlay | 3D panel), the 3D GIF and, if `files` names one, the 2D-overlay
    mp4 ("mp4:2d") in one pass over the frames (`FrameDrawer`), the encoding behind the drawing
    (`export.WriteBehind`). The GIF starts at the first frame with a chosen person in view."""
    drawer = FrameDrawer(people, runs, num_frames, config)
    gif_start = min(p.first_frame for p in people)  # the GIF opens on a pose, never on an empty grid
    gif_step = int(np.ceil(max(1, num_frames - gif_start) / config.gif_max_frames))
    overlay_path = files.get("mp4:2d")
    with (
        export.Mp4Writer(files["mp4"], fps) as mp4,
        export.GifWriter(files["gif"], fps / gif_step) as gif,
        export.Mp4Writer(overlay_path, fps) if overlay_path else contextlib.nullcontext() as overlay,
        export.WriteBehind() as behind,
    ):
        for index, image in enumerate(frames):
            in_gif = index >= gif_start and (index - gif_start) % gif_step == 0
            panels = drawer.draw(index, image, (image.shape[0], config.gif_size) if in_gif else (image.shape[0],))
            behind.write(mp4.write, render.side_by_side(image, panels[0]))
            if in_gif:
                behind.write(gif.write, panels[1])
            if overlay is not None:
                behind.write(overlay.write, image[:, : image.shape[1] // 2 * 2])
            if index % 10 == 0:
                progress(index / num_frames, f"rendering: frame {index} of {num_frames}")


def render_still(
    image: np.ndarray, people: list[Pose2DSequence], runs: list[ModelRun], files: dict[str, Path],
    config: PipelineConfig,
) -> None:
    """A photo's pictures (`FrameDrawer`): the side-by-side PNG ("png": the photo with its 2D skeletons | the 3D
    view), the 3D view alone ("png:3d", as large as the side-by-side's height) and, if `files` names one, the
    photo with its 2D skeletons ("png:2d")."""
    (panel,) = FrameDrawer(people, runs, 1, config).draw(0, image, (image.shape[0],))
    pictures = {"png": render.side_by_side(image, panel), "png:3d": panel, "png:2d": image}
    for key, picture in pictures.items():
        if key in files:
            export.write_png(files[key], picture)


def spread(person: Pose2DSequence) -> np.ndarray:
    """(T, 3) sideways shifts for a person drawn without a world place (the lifter's camera axes, pelvis at the
    origin): about 2 m per frame height of image x, so that they do not stand inside the others."""
    shift = np.zeros((len(person), 3), np.float32)
    shift[:, 0] = 2.0 * (person.keypoints[:, JOINT_INDEX["pelvis"], 0] - person.width / 2) / person.height
    return shift


def world_to_panel(points: np.ndarray, centre: np.ndarray, floor_m: float) -> np.ndarray:
    """World points (..., 3) in the 3D panel's camera-like axes (x right, y down, z away from the video camera),
    with world (x, z) = `centre` in the middle and the ground `floor_m` below it."""
    return np.stack([points[..., 0] - centre[0], floor_m - points[..., 1], centre[1] - points[..., 2]], axis=-1)


@dataclass
class PanelScene:
    """Where the 3D panel looks: its view (drawn back to hold everyone) and, per video frame, the world (x, z)
    under its centre."""

    view: render.PanelView
    centres: np.ndarray  # (num_frames, 2)


def panel_scene(run: ModelRun, people: list[Pose2DSequence], num_frames: int, view: render.PanelView) -> PanelScene:
    """The panel follows the chosen person (the first; where they are not in the picture, the middle of those
    who are, else the nearest frame's centre) and draws back so that the others, up to their 95th percentile
    distance from that centre, stay in the picture: a point x metres off the centre needs a distance of about
    x focal / 0.45 (the panel's half width)."""
    roots = np.full((len(people), num_frames, 2), np.nan)
    for index, (p, motion) in enumerate(zip(people, run.world or [None] * len(people))):
        if motion is not None:
            roots[index, p.first_frame : p.first_frame + len(p)] = motion.root[:, [0, 2]]
    with warnings.catch_warnings():  # frames where nobody is placed: all-NaN means, filled below
        warnings.simplefilter("ignore", RuntimeWarning)
        middle = np.nanmean(roots, axis=0)
    centres = fill_nearest(np.where(np.isfinite(roots[0]), roots[0], middle))
    centres = np.nan_to_num(centres)  # nobody placed at all: the origin
    offsets = np.linalg.norm(roots - centres[None], axis=-1)
    reach = float(np.percentile(offsets[np.isfinite(offsets)], 95)) if np.isfinite(offsets).any() else 0.0
    if reach < 0.5:
        return PanelScene(view, centres)
    distance = max(view.distance_m, (reach + 0.6) * view.focal / 0.45)
    half = max(view.grid_half_m, 0.5 * np.ceil(2 * (reach + 1.0)))
    return PanelScene(replace(view, distance_m=distance, grid_half_m=half), centres)


def panel_skeleton(
    runs: list[ModelRun], model: int, person: int, t: int, centre: np.ndarray, floor_m: float, apart: np.ndarray
) -> np.ndarray:
    """What the panel draws for one model's person at frame t: the world pose about the panel's `centre` (so that
    models drift apart where their trajectories do); if not placed, the camera-axes pose shifted by `apart`
    (`spread`)."""
    motion = runs[model].world[person] if runs[model].world else None
    if motion is None:
        return runs[model].poses[person].poses[t] + apart
    return world_to_panel(motion.poses[t], centre, floor_m)


TRAIL_S = 4.0  # seconds of the main person's path drawn on the ground


def panel_ground(motion: WorldMotion | None, t: int, centre: np.ndarray, view: render.PanelView) -> tuple:
    """(ground shift, trail) for `Panel3D.draw`: the grid slides with the panel's centre; the chosen person's last
    seconds of path are drawn on it while they are in the picture; () when they are not placed."""
    if motion is None:
        return ()
    shift = (float(centre[0]), -float(centre[1]))
    if not 0 <= t < len(motion):
        return shift, None
    path = motion.root[max(0, t - int(TRAIL_S * motion.fps)) : t + 1].copy()
    path[:, 1] = 0.0
    return shift, world_to_panel(path, centre, view.floor_m)
