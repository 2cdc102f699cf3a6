"""Fast drawing with OpenCV and numpy: the 2D skeleton over video frames and a 3D skeleton panel.

The 3D panel projects the skeleton through a fixed virtual camera that orbits the pelvis (`PanelView`: azimuth,
elevation, distance), over a ground grid drawn once per panel, so a frame costs a few dozen line draws
(well over 30 frames per second on a laptop CPU).
Poses come in camera axes (x right, y down, z away from the camera, metres); y down is drawn down the
screen, so people stand upright. Left limbs are blue, right limbs orange, the spine and head grey; a second
model (the teacher) is magenta. With several people, the chosen one has these colours and the others a colour
each (`person_colour`), with their label above the head. `legend` writes the colours' key into a frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pose_lifting.skeleton import BONES, LEFT_JOINTS, RIGHT_JOINTS

# RGB colours: every image here is RGB, as the video reader gives it and the writers take it
LEFT_COLOUR = (66, 133, 244)
RIGHT_COLOUR = (255, 140, 0)
CENTRE_COLOUR = (200, 200, 200)
SECOND_COLOUR = (236, 72, 190)  # the second model's skeleton (the teacher) when two are overlaid: magenta
TEXT_COLOUR = (255, 255, 255)
BACKGROUND = (24, 26, 32)
GRID_COLOUR = (60, 64, 74)
TRAIL_COLOUR = (120, 200, 120)  # the pelvis' path over the ground
# the other people's colours beside the chosen one (who has the left/right colours): teal, yellow, violet, red,
# sky, pink, khaki; none of them the sides', the second model's or the trail's
PERSON_COLOURS = ((0, 200, 170), (255, 214, 0), (171, 130, 255), (240, 90, 90), (90, 200, 255), (255, 150, 200),
                  (200, 190, 120))


def bone_colour(parent: int, child: int) -> tuple[int, int, int]:
    """Left limbs blue, right limbs orange, the rest grey."""
    if child in LEFT_JOINTS:
        return LEFT_COLOUR
    if child in RIGHT_JOINTS:
        return RIGHT_COLOUR
    return CENTRE_COLOUR


BONE_COLOURS = [bone_colour(p, c) for p, c in BONES]
SIDE_LEGEND = [("left", LEFT_COLOUR), ("right", RIGHT_COLOUR)]  # the person's own left and right
HEAD = 10  # the head's joint index, where a person's label goes


def person_colour(index: int) -> tuple[int, int, int] | None:
    """The colour of the index-th person drawn; None for the first, the chosen person, drawn in left/right colours."""
    return None if index == 0 else PERSON_COLOURS[(index - 1) % len(PERSON_COLOURS)]


@dataclass
class PanelView:
    """The virtual camera of the 3D panel: it looks at the pelvis from `distance` metres away."""

    size: int = 480  # the panel is size x size pixels
    azimuth_deg: float = 35.0  # turn around the vertical axis; 0 looks from where the video camera stood
    elevation_deg: float = 12.0  # look down from above the ground
    distance_m: float = 4.5
    focal: float = 1.9  # in panel widths; larger zooms in
    floor_m: float = 0.95  # the ground plane this far below the panel's centre (world poses stand on it)
    grid_half_m: float = 2.0  # the grid spans +-this in x and z, one line per half metre


class Panel3D:
    """Draws 3D skeletons through one `PanelView`; the background with its ground grid is drawn once and reused."""

    def __init__(self, view: PanelView | None = None) -> None:
        self.view = view or PanelView()
        yaw, pitch = np.radians(self.view.azimuth_deg), np.radians(self.view.elevation_deg)
        turn = np.array([[np.cos(yaw), 0, -np.sin(yaw)], [0, 1, 0], [np.sin(yaw), 0, np.cos(yaw)]])
        tilt = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
        self.rotation = (tilt @ turn).T  # applied to row vectors
        # copied for every panel: filling a new image with a colour costs numpy ~80x more than copying one
        self.canvas = np.full((self.view.size, self.view.size, 3), BACKGROUND, np.uint8)
        self.background = self._draw_grid()

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) metres in camera axes -> (..., 2) panel pixels, fixed-point (x16) for anti-aliased drawing."""
        view = self.view
        p = points @ self.rotation
        depth = np.maximum(p[..., 2] + view.distance_m, 0.1)
        f = view.focal * view.size
        uv = np.stack([p[..., 0] / depth, p[..., 1] / depth], axis=-1) * f + np.array([0.5, 0.42]) * view.size
        return np.round(uv * 16).astype(np.int32)

    def _draw_grid(self, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
        """The background; `shift` (x, z metres) slides the lines back, so that a ground that follows a walking
        person still moves beneath them."""
        view = self.view
        image = self.canvas.copy()
        ticks = np.arange(-view.grid_half_m, view.grid_half_m + 1e-6, 0.5)
        edge = view.grid_half_m
        dx, dz = (-value % 0.5 for value in shift)
        ends = np.empty((len(ticks), 2, 2, 3))  # (tick, its line of constant x / of constant z, end, xyz)
        ends[..., 1] = view.floor_m
        ends[:, 0, :, 0], ends[:, 0, :, 2] = (ticks + dx)[:, None], (-edge, edge)
        ends[:, 1, :, 0], ends[:, 1, :, 2] = (-edge, edge), (ticks + dz)[:, None]
        for start, end in self.project(ends).reshape(-1, 2, 2).tolist():  # one projection for the whole grid
            cv2.line(image, start, end, GRID_COLOUR, 1, cv2.LINE_AA, shift=4)
        return image

    def draw(
        self,
        skeletons: list[np.ndarray],
        second: list[np.ndarray] | None = None,
        ground_shift: tuple[float, float] | None = None,
        trail: np.ndarray | None = None,
        people: list[tuple[tuple[int, int, int] | None, str | None]] | None = None,
    ) -> np.ndarray:
        """A new RGB panel with each (17, 3) skeleton and each `second` skeleton in SECOND_COLOUR, thinner;
        `ground_shift` slides the grid (see `_draw_grid`), `trail` (N, 3) is drawn as a line (the path).
        `people` gives each skeleton its (colour, label): a colour of None is the left/right colours, drawn
        thicker and on top (the chosen person); a label is written above the head. Default: left/right, no label."""
        image = self.background.copy() if ground_shift is None else self._draw_grid(ground_shift)
        if trail is not None and len(trail) > 1:
            cv2.polylines(image, [self.project(trail)], False, TRAIL_COLOUR, 2, cv2.LINE_AA, shift=4)
        thick = max(2, self.view.size // 160)
        for pose in second or []:
            draw_skeleton(image, self.project(pose), SECOND_COLOUR, thick - 1)
        styles = people or [(None, None)] * len(skeletons)
        order = sorted(range(len(skeletons)), key=lambda i: styles[i][0] is None)  # the chosen one last, on top
        for i in order:
            colour, label = styles[i]
            points = self.project(skeletons[i])
            draw_skeleton(image, points, colour, thick if colour is None else max(1, thick - 1))
            if label:
                draw_label(image, points[HEAD], label, colour or TEXT_COLOUR)
        return image


def draw_skeleton(
    image: np.ndarray,
    points: np.ndarray,
    colour: tuple[int, int, int] | None,
    thickness: int,
    visible: np.ndarray | None = None,
) -> None:
    """Draw bones between (17, 2) fixed-point (x16) pixel points, in place; `colour` None: left/right colours.

    Bones with an invisible end (`visible` False) are skipped.
    """
    for (parent, child), bone in zip(BONES, BONE_COLOURS):
        if visible is not None and not (visible[parent] and visible[child]):
            continue
        cv2.line(image, tuple(points[parent]), tuple(points[child]), colour or bone, thickness, cv2.LINE_AA, shift=4)
    radius = max(2, thickness) * 16
    for joint, point in enumerate(points):
        if visible is None or visible[joint]:
            cv2.circle(image, tuple(point), radius, colour or CENTRE_COLOUR, -1, cv2.LINE_AA, shift=4)


def draw_2d(
    image: np.ndarray,
    keypoints: np.ndarray,
    scores: np.ndarray,
    min_score: float = 0.05,
    colour: tuple[int, int, int] | None = None,
    label: str | None = None,
) -> None:
    """Draw a (17, 2) pixel skeleton on an RGB frame in place; joints scored below `min_score` are left out.
    `colour` None: the left/right colours; `label` is written above the head."""
    thickness = max(2, image.shape[0] // 240)
    points = np.round(keypoints * 16).astype(np.int32)
    visible = np.isfinite(keypoints).all(-1) & (scores >= min_score)
    draw_skeleton(image, points, colour, thickness, visible=visible)
    if label and visible[HEAD]:
        draw_label(image, points[HEAD], label, colour or TEXT_COLOUR)


def draw_label(image: np.ndarray, point: np.ndarray, text: str, colour: tuple[int, int, int]) -> None:
    """`text` centred a little above a fixed-point (x16) pixel point, in `colour` on a dark outline, in place."""
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.5
    (width, _), _ = cv2.getTextSize(text, font, scale, 1)
    x, y = int(point[0]) // 16 - width // 2, int(point[1]) // 16 - 12
    cv2.putText(image, text, (x, y), font, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(image, text, (x, y), font, scale, colour, 1, cv2.LINE_AA)


HORIZON_COLOUR = (120, 220, 255)


def draw_horizon(image: np.ndarray, line: np.ndarray, opacity: float = 0.45) -> None:
    """A faint horizon across the frame in place: `line` (a, b, c), a u + b v + c = 0 in the frame's pixels."""
    a, b, c = line
    width = image.shape[1]
    if abs(b) < 1e-9 * max(abs(a), 1e-12):  # a vertical horizon: the camera rolled by 90 degrees
        return
    left, right = -c / b, -(c + a * (width - 1)) / b
    ends = np.array([[0, left], [width - 1, right]])
    inside, start, end = cv2.clipLine((0, 0, width, image.shape[0]), *(tuple(np.round(e).astype(int)) for e in ends))
    if not inside:
        return
    top, bottom = max(0, min(start[1], end[1]) - 2), min(image.shape[0], max(start[1], end[1]) + 3)
    band = image[top:bottom].copy()
    cv2.line(band, (start[0], start[1] - top), (end[0], end[1] - top), HORIZON_COLOUR, 1, cv2.LINE_AA)
    image[top:bottom] = cv2.addWeighted(band, opacity, image[top:bottom], 1 - opacity, 0)


def side_by_side(frame: np.ndarray, panel: np.ndarray) -> np.ndarray:
    """The video frame (already at the panel's height) left, the 3D panel right; width made even for H.264."""
    image = np.concatenate([frame, panel], axis=1)
    return image if image.shape[1] % 2 == 0 else image[:, :-1]


def model_legend(labels: list[str]) -> list[tuple[str, tuple[int, int, int]]]:
    """The 3D panel's key: the first model's left and right colours, then each further model's colour."""
    first = [(f"{labels[0]} left", LEFT_COLOUR), ("right", RIGHT_COLOUR)]
    return first + [(label, SECOND_COLOUR) for label in labels[1:]]


def legend(image: np.ndarray, entries: list[tuple[str, tuple[int, int, int]]]) -> np.ndarray:
    """Write a colour key (a swatch and a word per entry) on a dark strip along the top-left corner, in place;
    returns `image`."""
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.45
    widths = [cv2.getTextSize(text, font, scale, 1)[0][0] for text, _ in entries]
    strip = image[:26, : min(image.shape[1], 8 + sum(widths) + 26 * len(entries))]
    strip[:] = strip // 3  # darken what is behind the key, so that it reads over sky or snow
    x, y = 8, 18
    for (text, colour), width in zip(entries, widths):
        cv2.rectangle(image, (x, y - 10), (x + 10, y), colour, -1)
        cv2.putText(image, text, (x + 14, y), font, scale, TEXT_COLOUR, 1, cv2.LINE_AA)
        x += width + 26
    return image
