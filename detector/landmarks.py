"""The BlazePose landmark model on one 256x256 crop: 33 body landmarks (+ 2 alignment points) with their scores.

The model (LiteRT, XNNPACK on the CPU) returns 39 x (x, y, z, visibility, presence) in crop pixels, the two
scores as logits, a pose-presence probability, and 64x64 heatmaps. As MediaPipe's graph does, x and y are
refined by the heatmap (the sigmoid-weighted mean over a 7x7 window around each landmark, where its peak is at
least 0.5). Landmark 33 is the hips' midpoint and 34 the point whose distance from it sets the next crop.

BlazePose's 33 landmarks include the 17 COCO keypoints (`TO_COCO`), the heels and the foot tips (`FEET`).
A joint's score is the geometric mean of its visibility and presence: an occluded but present joint (low
visibility, high presence) keeps a usable score, a joint outside the crop (low presence) does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.crop import Crop
from detector.landmark_assets import landmark_model_path

INPUT_SIZE = 256
NUM_OUTPUTS = 39
HEATMAP_KERNEL = 7
HEATMAP_MIN_PEAK = 0.5
BLAZEPOSE_NAMES: tuple[str, ...] = (  # MediaPipe's names of the 33 body landmarks, in order
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
CENTRE, SCALE = 33, 34  # alignment points: the next crop's centre and scale
# COCO-17 order (detector.remap.COCO_NAMES): nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles
TO_COCO = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
FEET = (29, 30, 31, 32)  # left_heel, right_heel, left_foot_index, right_foot_index
FEET_NAMES = ("left_heel", "right_heel", "left_foot_index", "right_foot_index")
# left/right pairs among the 33 body landmarks, by name (mouth_left / mouth_right included)
MIRROR_PAIRS = tuple(
    (i, BLAZEPOSE_NAMES.index(name.replace("left", "right")))
    for i, name in enumerate(BLAZEPOSE_NAMES)
    if "left" in name
)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(x, np.float32)))  # overflow-free


@dataclass
class Landmarks:
    """One person's 39 landmarks in image pixels, and the model's confidence in them."""

    points: np.ndarray  # (39, 2) image pixels
    visibility: np.ndarray  # (39,) in [0, 1]
    presence: np.ndarray  # (39,) in [0, 1]
    pose_score: float  # probability that a person is in the crop

    @property
    def scores(self) -> np.ndarray:
        return np.sqrt(self.visibility * self.presence)

    def coco(self) -> tuple[np.ndarray, np.ndarray]:
        """(17, 2) COCO keypoints and (17,) scores."""
        return self.points[list(TO_COCO)], self.scores[list(TO_COCO)]

    def feet(self) -> tuple[np.ndarray, np.ndarray]:
        """(4, 2) heels and foot tips (`FEET_NAMES` order) and (4,) scores."""
        return self.points[list(FEET)], self.scores[list(FEET)]

    def mirrored(self) -> Landmarks:
        """The same landmarks with left and right labels exchanged."""
        order = np.arange(NUM_OUTPUTS)
        for left, right in MIRROR_PAIRS:
            order[left], order[right] = right, left
        return Landmarks(self.points[order], self.visibility[order], self.presence[order], self.pose_score)


def refine_from_heatmap(points: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """(N, 2) crop-pixel points moved to the sigmoid-weighted mean of their (H, W, N) heatmap near them."""
    rows, cols, _ = heatmap.shape
    stride = INPUT_SIZE / cols
    refined = points.copy()
    half = (HEATMAP_KERNEL - 1) // 2
    for j, (x, y) in enumerate(points):
        col, row = int(x / stride), int(y / stride)
        if not (0 <= col < cols and 0 <= row < rows):
            continue
        r0, r1, c0, c1 = max(0, row - half), min(rows, row + half + 1), max(0, col - half), min(cols, col + half + 1)
        weights = sigmoid(heatmap[r0:r1, c0:c1, j])
        if weights.max() < HEATMAP_MIN_PEAK:
            continue
        grid_rows, grid_cols = np.mgrid[r0:r1, c0:c1]
        total = weights.sum()
        # MediaPipe's convention: a heatmap cell's index times the stride (its corner) is its position
        refined[j] = stride * np.array([(weights * grid_cols).sum(), (weights * grid_rows).sum()]) / total
    return refined


class LandmarkModel:
    """A BlazePose landmark model ("lite", "full" or "heavy"): `model(image, crop)` -> `Landmarks` in image pixels."""

    def __init__(self, name: str, threads: int = 2) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.name = name
        self.file = landmark_model_path(name)
        self._interpreter = Interpreter(model_path=str(self.file), num_threads=threads)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = {tuple(d["shape"][1:]): d["index"] for d in self._interpreter.get_output_details()}
        self._landmarks, self._flag = outputs[(NUM_OUTPUTS * 5,)], outputs[(1,)]
        self._heatmap = outputs[(64, 64, NUM_OUTPUTS)]

    def __call__(self, image: np.ndarray, crop: Crop) -> Landmarks:
        """Landmarks of the person in `crop` of an RGB uint8 image."""
        pixels = crop.warp(image, INPUT_SIZE).astype(np.float32) / 255.0
        self._interpreter.set_tensor(self._input, pixels[None])
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._landmarks).reshape(NUM_OUTPUTS, 5)
        heatmap = self._interpreter.get_tensor(self._heatmap)[0]
        points = refine_from_heatmap(raw[:, :2], heatmap)
        return Landmarks(
            points=crop.to_image(points, INPUT_SIZE),
            visibility=sigmoid(raw[:, 3]),
            presence=sigmoid(raw[:, 4]),
            pose_score=float(self._interpreter.get_tensor(self._flag).reshape(())),
        )
