"""The rotated square crop the BlazePose landmark model reads, and the maps between crop and image pixels.

A crop is a square of side `side` image pixels centred at `centre`, turned by `angle` (radians, clockwise on
screen since y points down) so that the body's up (hips -> shoulders) points up in the crop. BlazePose's
conventions: the centre is the hips' midpoint; the side is 2.5x the distance from it to the "scale" alignment
point (landmark 34), or, seeded from a 2D detector, about 3.2x the hips-shoulders distance.

Coordinates are continuous: pixel (i, j) covers [i, i + 1) x [j, j + 1), so its centre is (i + 0.5, j + 0.5),
in the image as in the crop (`size` x `size` pixels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Crop:
    centre: tuple[float, float]  # image pixels
    side: float  # image pixels
    angle: float  # radians; 0: the crop's up is the image's up

    def linear(self, size: int) -> np.ndarray:
        """(2, 2) matrix taking a crop offset (pixels from the crop centre) to an image offset."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        return (self.side / size) * np.array([[c, -s], [s, c]])

    def to_image(self, points: np.ndarray, size: int) -> np.ndarray:
        """(..., 2) crop pixels -> image pixels."""
        offsets = np.asarray(points, np.float64) - size / 2
        return (offsets @ self.linear(size).T + self.centre).astype(np.float32)

    def to_crop(self, points: np.ndarray, size: int) -> np.ndarray:
        """(..., 2) image pixels -> crop pixels (the inverse of `to_image`)."""
        offsets = np.asarray(points, np.float64) - self.centre
        return (offsets @ np.linalg.inv(self.linear(size)).T + size / 2).astype(np.float32)

    def warp(self, image: np.ndarray, size: int) -> np.ndarray:
        """The crop's `size` x `size` pixels from `image` (bilinear; outside the image, its edge repeated)."""
        linear = self.linear(size)
        # pixel indices are continuous coordinates minus 0.5; the map goes crop index -> image index
        shift = np.asarray(self.centre) - linear @ np.full(2, size / 2) + linear @ np.full(2, 0.5) - 0.5
        matrix = np.concatenate([linear, shift[:, None]], axis=1)
        return cv2.warpAffine(
            image, matrix, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
        )


def upright_angle(start: np.ndarray, end: np.ndarray) -> float:
    """The crop angle that turns the image direction start -> end to the crop's up, in [-pi, pi)."""
    dx, dy = float(end[0] - start[0]), float(end[1] - start[1])
    angle = math.pi / 2 - math.atan2(-dy, dx)
    return (angle + math.pi) % (2 * math.pi) - math.pi


def crop_from_alignment(centre: np.ndarray, scale_point: np.ndarray, scale: float = 1.25) -> Crop:
    """BlazePose's crop from its two alignment points: side 2 x scale x their distance, centre -> scale up."""
    distance = float(np.linalg.norm(np.asarray(scale_point) - centre))
    return Crop((float(centre[0]), float(centre[1])), 2 * scale * distance, upright_angle(centre, scale_point))


def crop_from_torso(hips: np.ndarray, shoulders: np.ndarray, side_factor: float) -> Crop:
    """A first crop from a 2D detector's torso: centred at the hips' midpoint, hips -> shoulders up."""
    distance = float(np.linalg.norm(np.asarray(shoulders) - hips))
    return Crop((float(hips[0]), float(hips[1])), side_factor * distance, upright_angle(hips, shoulders))


def crop_from_box(box: np.ndarray, margin: float) -> Crop:
    """An upright crop around a person box (x1, y1, x2, y2), its longer side times `margin`."""
    centre = 0.5 * (np.asarray(box[:2]) + box[2:4])
    side = margin * float(max(box[2] - box[0], box[3] - box[1]))
    return Crop((float(centre[0]), float(centre[1])), side, 0.0)
