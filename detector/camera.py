"""What the picture says about the camera over a clip, gathered while the detector's first pass decodes it.

`CameraObserver.add` sees every frame (at YOLO's reduced size) with every person's box: the camera-motion
tracker follows the background from frame to frame (`camera_motion`), and a few frames spread over the clip are
kept for the scene's lines (`scene`), at the larger size the decoder hands over for them (`scene_frames`: a room's
thin verticals do not survive YOLO's 512 px; docs/world.md). `finish` turns them into the clip's `CameraMotion`
(the rotation of each frame) and `SceneGeometry` (up and focal length), both in the first frame's camera axes:

1. the scene's lines on the kept frames, each frame's up turned into the first frame's axes by the rotations
   measured with the prior focal length (the user's field of view, else a phone's);
2. the focal length, where the user gave no field of view: where the camera turned enough, the one its turning
   shows (`CameraMotionTracker.turning_focal`, marked `CameraMotion.focal_estimated`; on a turned real clip it
   was 7 % off where the scene's was 90 % off, docs/world.md), else the scene's; the rotations are computed with
   it and the frames' lines combined again (their vanishing points, measured once, do not depend on it);
3. drift: chained rotations drift slowly; the kept frames' own vertical lines say where up is in each of them,
   and a tilt drift linear in time, fitted to where the rotations put those ups, is taken out when it exceeds
   `min_drift_deg` over the clip (`correct_drift`; turning about up itself is not observable from the lines);
4. the warnings a user needs: cuts, frame pairs that failed, a camera that moved rather than turned.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.spatial.transform import Rotation

from detector.camera_motion import CameraMotionTracker
from detector.config import CameraMotionConfig, DetectorConfig
from detector.scene import combine_frames, measure_frames
from pose_lifting.sequence import CameraMotion, SceneGeometry
from pose_lifting.world import focal_length


class CameraObserver:
    """Fed each frame of the first pass in order; `finish` gives the clip's camera motion and scene geometry."""

    def __init__(self, config: DetectorConfig, width: int, height: int, frames: int) -> None:
        self.config, self.size = config, (width, height)
        self.prior_focal = focal_length(width, height, config.fov_deg)[1]
        self.motion = CameraMotionTracker(config.camera_motion, width, height) if config.camera_motion.enabled else None
        count = min(config.scene.frames, frames) if config.scene.enabled else 0
        self.scene_frames = set(np.linspace(0, frames - 1, count).round().astype(int).tolist()) if count else set()
        self.kept: list[tuple[int, np.ndarray, np.ndarray]] = []  # (frame index, image, boxes in video pixels)
        self.frames = 0
        self.last_boxes = np.zeros((0, 4), np.float32)  # the boxes of the last frame added

    def add(self, index: int, image: np.ndarray, boxes: np.ndarray, detail: np.ndarray | None = None) -> None:
        """One frame (BGR, any size with the video's aspect ratio) and every person's box in video pixels;
        `detail`, the same frame larger (up to `SceneConfig.max_side`), where the decoder gave it: one of
        `scene_frames`, whose lines are read on it."""
        self.last_boxes = boxes
        if self.motion is not None:
            self.motion.add(image, boxes)
        if index in self.scene_frames:
            self.kept.append((index, image if detail is None else detail, boxes))
        self.frames += 1

    def finish(self) -> tuple[SceneGeometry | None, CameraMotion | None, list[str]]:
        """(scene geometry, camera motion, warnings); None for a step that is switched off."""
        motion = self.motion.result(self.prior_focal) if self.motion is not None and self.frames else None
        scene = None
        turning = None
        if motion is not None and not motion.translating and self.config.fov_deg is None:
            turning = self.motion.turning_focal(self.prior_focal)
            if turning is not None:  # the camera's turning fixed the focal: the rotations with it
                motion = self.motion.result(turning, focal_estimated=True)
        if self.kept:
            indices, images, boxes = (list(column) for column in zip(*self.kept))
            found = measure_frames(images, boxes, self.size, self.prior_focal, self.config.scene)

            def combined(motion: CameraMotion | None) -> SceneGeometry:
                turns = None if motion is None else motion.rotations[indices]
                return combine_frames(found, indices, self.size, self.prior_focal, self.config.scene, turns, turning)

            scene = combined(motion)
            if scene.focal_px is not None and motion is not None and self.config.fov_deg is None and turning is None:
                # the rotations again, with the scene's focal (a field of view the user gave is kept)
                motion = self.motion.result(scene.focal_px)
                scene = combined(motion)
        if motion is not None:
            motion = correct_drift(motion, scene, self.config.camera_motion)
        return scene, motion, motion_warnings(motion) if motion is not None else []


def correct_drift(motion: CameraMotion, scene: SceneGeometry | None, config: CameraMotionConfig) -> CameraMotion:
    """The rotations with their tilt drift taken out where the scene's lines show one (see the module doc)."""
    if scene is None or scene.up is None or scene.frame_ups is None or scene.confidence < config.drift_min_confidence:
        return motion
    seen = np.isfinite(scene.frame_ups).all(axis=1) & (np.array(scene.frames) < len(motion))
    if seen.sum() < 3:
        return motion
    frames = np.array(scene.frames)[seen]
    predicted = np.einsum("kij,kj->ki", motion.rotations[frames], scene.frame_ups[seen])  # in the first frame's axes
    # the small rotations taking each predicted up onto the clip's up, fitted as rate x frame (zero at frame 0)
    axes = np.cross(predicted, scene.up)
    sines = np.linalg.norm(axes, axis=1, keepdims=True)
    errors = axes / np.maximum(sines, 1e-12) * np.arcsin(np.clip(sines, 0.0, 1.0))
    rate = frames @ errors / max(float(frames @ frames), 1e-12)
    drift_deg = float(np.degrees(np.linalg.norm(rate) * (len(motion) - 1)))
    if drift_deg < config.min_drift_deg:
        return motion
    corrections = Rotation.from_rotvec(np.arange(len(motion))[:, None] * rate).as_matrix()
    return replace(motion, rotations=corrections @ motion.rotations, drift_deg=drift_deg)


def motion_warnings(motion: CameraMotion) -> list[str]:
    """What the user should know about the camera's motion."""
    warnings = []
    cuts = int(motion.segments.max()) if len(motion) else 0
    failed = int((~motion.measured).sum())
    if failed:
        warnings.append(
            f"the camera's motion could not be followed in {failed} of {len(motion)} frames ({cuts} cut(s) or "
            "frame pairs without enough background); after each, the camera is taken to point where it last did"
        )
    if motion.translating:
        warnings.append(
            "the camera moved through the scene (not only turned): the world path is relative to the camera, "
            "and distances travelled may be off"
        )
    return warnings
