"""Up and focal length from the scene's lines: synthetic streets filmed by cameras of known pitch, roll and focal
length (clutter and pixel noise included), a level camera, no vertical structure, masked people, a panning camera,
the example clip's buildings, and its frames turned by known rotations at the size the step reads them."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from detector.config import SceneConfig
from detector.scene import estimate_scene, line_segments, vanishing_from_segments, vertical_vanishing_point
from detector.video import read_video
from pose_lifting.world import focal_length
from tests.test_camera_motion import filmed

WORLD_UP = np.array([0.0, 1.0, 0.0])  # the synthetic world: x right, y up, z ahead


def camera(pitch_deg: float, roll_deg: float, yaw_deg: float = 30.0) -> np.ndarray:
    """World -> camera axes (x right, y down, z forward) of a camera turned by yaw about the vertical, looking
    down by pitch, rolled by roll; the true up in its axes is camera(...) @ WORLD_UP."""
    turn = Rotation.from_euler("YXZ", [yaw_deg, pitch_deg, -roll_deg], degrees=True).as_matrix()
    return np.diag([1.0, -1.0, 1.0]) @ turn.T  # camera axes with y up -> y down


def street(
    rotation: np.ndarray,
    focal: float,
    size: tuple[int, int],
    rng: np.random.Generator,
    edges: tuple[int, int, int] = (60, 40, 40),
    clutter: int = 60,
) -> np.ndarray:
    """(N, 4) pixel segments: 3D edges along the vertical and two square horizontal directions (`edges` of each),
    starting at random pixels 5-20 m away and 0.5-3 m long, seen through `rotation` and `focal`; `clutter`
    random segments; 0.5 px noise on every end; those leaving the picture or shorter than LSD keeps dropped."""
    width, height = size
    k = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1.0]])
    pieces = []
    for direction, count in zip(np.eye(3)[[1, 0, 2]], edges, strict=True):
        starts = rng.uniform([0, 0], [width, height], (count, 2))
        rays = np.hstack([starts, np.ones((count, 1))]) @ np.linalg.inv(k).T
        ends = rays * rng.uniform(5, 20, (count, 1)) + rng.choice([-1, 1], (count, 1)) * rng.uniform(
            0.5, 3.0, (count, 1)
        ) * (rotation @ direction)
        ahead = ends[:, 2] > 0.5
        projected = ends[ahead] @ k.T
        pieces.append(np.hstack([starts[ahead], projected[:, :2] / projected[:, 2:]]))
    pieces.append(rng.uniform(0, 1, (clutter, 4)) * [width, height, width, height])
    segments = np.vstack(pieces) + rng.normal(0, 0.5, (sum(len(piece) for piece in pieces), 4))
    inside = np.all((segments >= 0) & (segments < [width, height, width, height]), axis=1)
    lengths = np.hypot(segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1])
    return segments[inside & (lengths >= SceneConfig().min_length * np.hypot(width, height))]


def drawn(segments: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A grey picture of the segments (light lines on a dark ground), for the whole path through LSD."""
    image = np.full((size[1], size[0]), 40, np.uint8)
    for x1, y1, x2, y2 in np.round(segments).astype(int):
        cv2.line(image, (x1, y1), (x2, y2), 220, 3, cv2.LINE_AA)
    return image


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0))))


@pytest.mark.parametrize(
    ("pitch", "roll", "focal", "size"),
    [(20.0, 5.0, 1500.0, (1920, 1080)), (-10.0, -15.0, 900.0, (1080, 1920)), (30.0, 0.0, 1200.0, (1920, 1080))],
)
def test_up_and_focal_come_back_from_a_tilted_camera_s_lines(pitch, roll, focal, size):
    rotation = camera(pitch, roll)
    true_up = rotation @ WORLD_UP
    segments = street(rotation, focal, size, np.random.default_rng(1))
    config = SceneConfig()
    up, inliers = vertical_vanishing_point(segments, focal, *size, config, np.random.default_rng(0))
    assert angle_deg(up, true_up) < 0.5 and up[1] < 0
    assert 30 <= inliers.sum() <= 70  # the visible verticals, not the horizontals or much clutter
    prior = 0.85 * focal  # a prior 15 % short: the vanishing points in pixels do not depend on it
    found = vanishing_from_segments(segments, prior, *size, config, np.random.default_rng(0))
    assert found.focal_px is not None and abs(found.focal_px / focal - 1) < 0.03, found.focal_px
    assert angle_deg(found.up(found.focal_px, *size), true_up) < 0.5
    assert angle_deg(found.up(prior, *size), true_up) > 1.0  # the wrong focal turns up: the test above can fail


def test_a_level_camera_s_parallel_verticals_give_up_but_no_focal():
    size, focal = (1920, 1080), 1200.0
    rotation = camera(0.0, 4.0)
    found = vanishing_from_segments(
        street(rotation, focal, size, np.random.default_rng(2)), focal, *size, SceneConfig(), np.random.default_rng(0)
    )
    assert found.vertical_vp is not None and abs(found.vertical_vp[2]) < 1e-3  # at infinity
    assert angle_deg(found.up(focal, *size), rotation @ WORLD_UP) < 0.5
    assert found.focal_px is None  # a vertical vanishing point at infinity says nothing of the focal length


def test_no_vertical_structure_gives_no_up_and_no_confidence():
    size, focal, config = (1920, 1080), 1200.0, SceneConfig()
    rng = np.random.default_rng(3)
    clutter = street(camera(20.0, 0.0), focal, size, rng, edges=(0, 0, 0), clutter=150)
    horizontal = street(camera(20.0, 0.0), focal, size, rng, edges=(0, 60, 60), clutter=0)
    for segments in (clutter, horizontal, np.zeros((0, 4))):
        assert vertical_vanishing_point(segments, focal, *size, config, rng) is None
    noise = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    blank = np.full((360, 640, 3), 128, np.uint8)
    scene = estimate_scene(
        [noise, blank, drawn(horizontal, size)], [np.zeros((0, 4))] * 3, [0, 9, 18], size, focal, config
    )
    assert scene.up is None and scene.confidence == 0.0 and scene.num_lines == 0 and scene.focal_px is None
    assert scene.frames == (0, 9, 18)


def test_segments_on_people_s_boxes_are_dropped():
    image = np.zeros((400, 600), np.uint8)
    for x in (50, 150, 400, 500):  # verticals from y = 40 to 360
        cv2.line(image, (x, 40), (x, 360), 255, 2)
    cv2.line(image, (0, 385), (160, 385), 255, 2)  # its midpoint outside the box, 40 % of it inside
    config = SceneConfig()
    every = line_segments(image, np.zeros((0, 4)), config)
    assert {50, 150, 400, 500} <= set(np.round(every[:, 0] / 50).astype(int) * 50)
    assert (np.abs(every[:, 1] - every[:, 3]) < 3).any()  # the horizontal one
    person = np.array([[120.0, 10.0, 430.0, 380.0]])  # over x = 150 and 400, widened by 10 %: x 89 .. 461
    kept = line_segments(image, person, config)
    assert {50, 500} == set(np.round(kept[:, 0] / 50).astype(int) * 50)
    assert (np.abs(kept[:, 1] - kept[:, 3]) > 300).all()  # only the two verticals outside the box


def test_a_panning_camera_s_frames_combine_in_the_first_frame_s_axes():
    size, focal, config = (1920, 1080), 1300.0, SceneConfig()
    first, second = camera(15.0, 5.0, yaw_deg=30.0), camera(25.0, 2.0, yaw_deg=50.0)  # a pan and a tilt between
    images = [
        drawn(street(view, focal, size, np.random.default_rng(seed), clutter=20), size)
        for seed, view in enumerate((first, second))
    ]
    boxes = [np.zeros((0, 4))] * 2
    prior = focal_length(*size, None)[1]
    second_to_first = first @ second.T  # p_first = R p_second
    turned = estimate_scene(images, boxes, [0, 30], size, prior, config, np.stack([np.eye(3), second_to_first]))
    true_up = first @ WORLD_UP
    assert angle_deg(turned.up, true_up) < 0.5 and turned.spread_deg < 0.5
    assert turned.focal_px is not None and abs(turned.focal_px / focal - 1) < 0.05  # in the video's pixels
    assert turned.confidence > 0.5 and turned.frames == (0, 30)
    ignored = estimate_scene(images, boxes, [0, 30], size, prior, config)  # the camera's turn not known
    assert angle_deg(ignored.up, true_up) > 2.0 and ignored.spread_deg > 3.0
    assert ignored.confidence < 0.7 * turned.confidence


def test_the_example_clip_s_buildings_give_an_up_near_its_level_camera_s(example_video):
    video = read_video(example_video)
    frames = [frame.image for frame in video.frames(121, bgr=True, max_side=640)][::60]
    prior = focal_length(video.width, video.height, None)[1]
    scene = estimate_scene(
        frames, [np.zeros((0, 4))] * len(frames), [0, 60, 120], (video.width, video.height), prior, SceneConfig()
    )
    tilt = angle_deg(scene.up, np.array([0.0, -1.0, 0.0]))
    print(
        f"example clip: up {tilt:.2f} deg from -y, {scene.num_lines} lines, focal {scene.focal_px}, "
        f"spread {scene.spread_deg:.2f} deg, confidence {scene.confidence:.2f}"
    )
    assert scene.confidence > 0 and tilt < 15.0


def test_real_frames_turned_by_known_rotations_keep_their_up_at_the_size_the_step_reads(example_video):
    """The example clip's five scene frames, decoded as the detector hands them over (`detail`), filmed again by
    cameras turned by known rotations (rolls, tilts, pans; the central 60 %): the clip's up must turn with the
    camera, R^T u, u read from the unturned frames. Read at YOLO's 512 px instead (what the step did), the thin
    lines are lost and two of the turns miss by 2.8 and 3.0 degrees."""
    config = SceneConfig()
    video = read_video(example_video)
    chosen = set(np.linspace(0, video.num_frames - 1, config.frames).round().astype(int).tolist())
    decoded = list(video.frames(bgr=True, max_side=512, keep=chosen.__contains__, detail=chosen.__contains__,
                                detail_side=config.max_side))
    assert all(frame.detail is not None and frame.detail.shape[1] == video.width for frame in decoded)
    focal = focal_length(video.width, video.height, None)[1]
    turns = [(0, 0, 0), (0, 0, 6), (0, 0, -6), (5, 0, 3), (-4, 6, -3), (0, 8, 0)]  # x (tilt), y (pan), z (roll)
    rotations = Rotation.from_euler("xyz", turns, degrees=True).as_matrix()
    views = [filmed(frame.detail, rotations, focal) for frame in decoded]  # [frame][turn]
    height, width = views[0][0].shape[:2]

    def clip_up(turn: int, side: int) -> np.ndarray:
        images = [frame_views[turn] for frame_views in views]
        scene = estimate_scene(images, [np.zeros((0, 4))] * len(images), list(range(len(images))), (width, height),
                               focal, replace(config, max_side=side))
        return scene.up

    truth = clip_up(0, config.max_side)
    errors = [angle_deg(clip_up(k, config.max_side), rotations[k].T @ truth) for k in range(1, len(turns))]
    assert max(errors) < 2.0, errors
    shrunk = [angle_deg(clip_up(k, 512), rotations[k].T @ truth) for k in range(1, len(turns))]
    assert max(shrunk) > 2.0, f"512 px no longer loses the lines: {shrunk}"  # the test can tell the two apart
