"""The top-down keypoint stage: BlazePose landmarks for chosen YOLO tracks, frame by frame, in full-resolution frames.

For each person and frame: the crop (seeded from YOLO's torso, later placed by the previous frame's filtered
alignment points), the landmark model, then the guard rails, in this order:
1. the landmarks must agree with the person's own YOLO detection (most of them inside its box, their median
   distance to YOLO's confident keypoints within `max_disagreement` box heights); a followed crop that
   disagrees (it slid onto someone passing in front, or lost the person) is re-seeded from YOLO at once;
2. a crop that still fails (no person in it, or still disagreeing) gives YOLO's keypoints for that frame
   (counted: the result's warnings say how many);
3. left/right: the labels are exchanged when YOLO's labelling and the previous frame's output, those of them
   that are clear about it, say so by a majority (counted too);
4. the one-euro filter smooths the alignment points that place the next crop.
The landmarks themselves are smoothed afterwards, on every frame of the track (`smooth_rows`), so that the filter
sees the same frame rate whether the landmark model measured every frame or one in a stride (sparse 2D).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from time import perf_counter

import numpy as np

from detector.config import DetectorConfig
from detector.crop import Crop, crop_from_alignment, crop_from_box, crop_from_torso
from detector.landmarks import CENTRE, FEET, SCALE, LandmarkModel, Landmarks
from detector.remap import COCO
from detector.smoothing import ALIGNMENT_FILTER, OneEuroFilter
from detector.video import Frame

TORSO = [COCO[name] for name in ("left_hip", "right_hip", "left_shoulder", "right_shoulder")]
LIMBS = np.arange(COCO["left_shoulder"], COCO["right_ankle"] + 1)  # left/right pairs alternate from here
MIRROR_COCO = np.array([0, 2, 1, 4, 3] + [j + 1 if j % 2 else j - 1 for j in LIMBS])
CLEAR_VOTE = 0.5  # a labelling is clear when the other one fits at most half as well
SEED_HIP_SCORE = 0.1  # YOLO hips scored at least this may place the first crop
INSIDE_SHARE = 0.8  # of the confident landmarks, at least this share must lie in the person's box
NUM_BODY = 33


@dataclass
class Person:
    """One person's YOLO detection in one frame: the prior the stage checks itself against."""

    box: np.ndarray  # (4,) x1, y1, x2, y2
    keypoints: np.ndarray  # (17, 2) COCO
    scores: np.ndarray  # (17,)

    @property
    def height(self) -> float:
        return max(float(self.box[3] - self.box[1]), 1.0)


@dataclass
class Refined:
    """The stage's output for one person-frame."""

    keypoints: np.ndarray  # (17, 2) COCO
    scores: np.ndarray  # (17,)
    feet: np.ndarray  # (4, 2) `landmarks.FEET_NAMES` order; NaN where YOLO's keypoints were kept
    feet_scores: np.ndarray  # (4,)
    from_landmarks: bool
    size: float = 0.0  # the landmarks' object size (pixels), the one-euro filter's speed unit
    restart: bool = False  # the crop was placed afresh: the landmarks' filter starts again here


@dataclass
class StageCounts:
    """What the guard rails did, over all person-frames."""

    person_frames: int = 0
    reseeded: int = 0
    fallbacks: int = 0
    side_swaps: int = 0

    def warnings(self, model: str) -> list[str]:
        notes = []
        if self.fallbacks:
            notes.append(
                f"BlazePose {model} found no clear person in {self.fallbacks} of {self.person_frames} person-frames "
                "(occluded or out of the crop); YOLO's keypoints were kept there"
            )
        if self.reseeded:
            notes.append(
                f"BlazePose's crop was placed again from YOLO's detection {self.reseeded} times (it had slid off its "
                "person, e.g. onto somebody passing in front)"
            )
        if self.side_swaps:
            notes.append(
                f"BlazePose's left/right labels were exchanged in {self.side_swaps} person-frames to agree with "
                "YOLO's labelling and the previous frame"
            )
        return notes


@dataclass
class TrackState:
    """What one person's stage carries from frame to frame."""

    crop: Crop | None = None
    frame: int = -2  # the last frame the landmark model measured
    box_centre: np.ndarray | None = None  # the person's YOLO box centre in that frame
    previous: np.ndarray | None = None  # last output's COCO keypoints, relative to that frame's box centre
    alignment_filter: OneEuroFilter = field(default_factory=lambda: OneEuroFilter(ALIGNMENT_FILTER))
    measured: Measured | None = None  # the last measured frame's raw alignment points

    def reset(self) -> None:
        self.crop, self.previous, self.box_centre, self.measured = None, None, None, None
        self.alignment_filter.reset()


@dataclass(frozen=True)
class Measured:
    """A measured frame's raw alignment points, with what the filter needs to step from them."""

    frame: int
    time: float
    points: np.ndarray  # (2, 2) centre and scale alignment points
    size: float


def filtered_alignment(state: TrackState, now: Measured) -> np.ndarray:
    """The alignment points of `now` through the track's one-euro filter. After skipped frames (sparse 2D) the
    filter first steps through them, their points interpolated between the last measured frame's and these: it
    smooths by the time between its steps, and so it follows the person as it would have measuring every frame."""
    last = state.measured
    gap = 0 if last is None else now.frame - last.frame
    for step in range(1, gap):
        w = step / gap
        between = (1 - w) * last.points + w * now.points
        state.alignment_filter(between, (1 - w) * last.time + w * now.time, (1 - w) * last.size + w * now.size)
    state.measured = now
    return state.alignment_filter(now.points, now.time, now.size)


def seed_crop(person: Person, config: DetectorConfig) -> Crop:
    """The first crop from YOLO: centred at the hips, hips -> shoulders up, `seed_side` torso lengths wide and at
    least wide enough to hold the person's box, when the shoulders are confident and the hips at least guessed
    (hips cut by the frame's edge score low but are placed well enough); else around the box."""
    hips, shoulders = person.keypoints[TORSO[:2]].mean(0), person.keypoints[TORSO[2:]].mean(0)
    hip_scores, shoulder_scores = person.scores[TORSO[:2]], person.scores[TORSO[2:]]
    if not ((shoulder_scores >= config.keypoint_threshold).all() and (hip_scores >= SEED_HIP_SCORE).all()):
        return crop_from_box(person.box, 1.25)
    crop = crop_from_torso(hips, shoulders, config.seed_side)
    x1, y1, x2, y2 = person.box
    corners = crop.to_crop(np.array([[x1, y1], [x2, y1], [x1, y2], [x2, y2]]), 2)  # crop side 2: offsets -1..1
    reach = float(np.abs(corners - 1).max())  # how far the box reaches from the hips, in crop half-sides
    # a foreshortened torso or an outstretched limb: grow the crop until it holds the whole box
    return Crop(crop.centre, crop.side * max(1.0, reach), crop.angle)


def agrees(landmarks: Landmarks, person: Person, config: DetectorConfig) -> bool:
    """Whether the landmarks describe the person YOLO detected: a person in the crop, most (`INSIDE_SHARE`) of the
    confident landmarks within the box (grown by a tenth of its size), and their median distance to YOLO's
    confident keypoints at most `max_disagreement` box heights. The distance is to the nearer of the same-named
    landmark and its mirror, so that a left/right swap (handled separately) does not count as disagreement."""
    if landmarks.pose_score < config.min_pose_score:
        return False
    coco, scores = landmarks.coco()
    margin = 0.1 * max(person.box[2] - person.box[0], person.height)
    inside = ((coco >= person.box[:2] - margin) & (coco <= person.box[2:] + margin)).all(-1)
    confident = scores >= config.keypoint_threshold
    if not confident.any() or inside[confident].mean() < INSIDE_SHARE:
        return False
    trusted = person.scores >= config.keypoint_threshold
    if trusted.sum() < 3:
        return True
    direct = np.linalg.norm(coco - person.keypoints, axis=-1)
    mirrored = np.linalg.norm(coco[MIRROR_COCO] - person.keypoints, axis=-1)
    return float(np.median(np.minimum(direct, mirrored)[trusted])) <= config.max_disagreement * person.height


def side_vote(coco: np.ndarray, reference: np.ndarray, weights: np.ndarray) -> int:
    """+1 if `reference` clearly says the limb labels of `coco` are mirrored, -1 if clearly not, else 0."""
    if weights[LIMBS].sum() < 4:
        return 0
    direct = (np.linalg.norm(coco[LIMBS] - reference[LIMBS], axis=-1) * weights[LIMBS]).sum()
    mirrored = (np.linalg.norm(coco[MIRROR_COCO[LIMBS]] - reference[LIMBS], axis=-1) * weights[LIMBS]).sum()
    if mirrored < CLEAR_VOTE * direct:
        return 1
    if direct < CLEAR_VOTE * mirrored:
        return -1
    return 0


def consistent_sides(
    landmarks: Landmarks, person: Person, state: TrackState, threshold: float
) -> tuple[Landmarks, bool]:
    """The landmarks with left/right as YOLO and the previous output say (a majority of their clear votes). The
    previous output is moved with the person's box since (sparse 2D: it may be frames ago), so that it votes on the
    limbs' pose, not on where the person has moved meanwhile."""
    coco, _ = landmarks.coco()
    votes = side_vote(coco, person.keypoints, (person.scores >= threshold).astype(np.float32))
    if state.previous is not None:
        votes += side_vote(coco - box_centre(person), state.previous, np.ones(len(coco), np.float32))
    if votes > 0:
        return landmarks.mirrored(), True
    return landmarks, False


def followed_crop(state: TrackState, person: Person, frame: int) -> Crop | None:
    """The crop placed by the last measured frame of this unbroken run of the track (None at its start).

    On the next frame it is used as it is (as MediaPipe does): it follows the person one frame late. After `gap`
    frames since the last measured one (sparse 2D) it is moved with the person's YOLO box, by the box's motion up
    to the frame before this one ((gap - 1) / gap of its motion since the last measured frame), so that it lies
    where the crop of a landmark model measuring every frame would: moved by the whole motion, it led that crop by
    one frame, and the landmarks differed from the dense ones by that much more (`scripts.sparse_2d_accuracy`)."""
    if state.crop is None:
        return None
    gap = frame - state.frame
    if gap <= 1 or state.box_centre is None:
        return state.crop
    shift = (gap - 1) / gap * (box_centre(person) - state.box_centre)
    return Crop(tuple(np.asarray(state.crop.centre) + shift), state.crop.side, state.crop.angle)


def box_centre(person: Person) -> np.ndarray:
    return (person.box[:2] + person.box[2:]) / 2


def run_model(
    model: LandmarkModel, image: np.ndarray, person: Person, state: TrackState, frame: int, config: DetectorConfig
) -> tuple[Landmarks, bool, bool, bool]:
    """The landmarks from the followed crop, or from a crop seeded from YOLO when there is none or the landmarks
    disagree with it; whether they agree with YOLO, whether a followed crop was re-seeded, and whether the crop was
    seeded (placed afresh) at all."""
    crop = followed_crop(state, person, frame)
    if crop is not None:
        landmarks = model(image, crop)
        if agrees(landmarks, person, config):
            return landmarks, True, False, False
    state.reset()
    landmarks = model(image, seed_crop(person, config))
    return landmarks, agrees(landmarks, person, config), crop is not None, True


def refine_person(
    model: LandmarkModel,
    frame: Frame,
    person: Person,
    state: TrackState,
    config: DetectorConfig,
    counts: StageCounts,
) -> Refined:
    """One person in one frame through the stage (see the module docstring)."""
    counts.person_frames += 1
    landmarks, ok, reseeded, seeded = run_model(model, frame.image, person, state, frame.index, config)
    counts.reseeded += reseeded
    state.frame, state.box_centre = frame.index, box_centre(person)
    if not ok:
        counts.fallbacks += 1
        state.reset()
        no_feet = np.full((len(FEET), 2), np.nan, np.float32)
        return Refined(person.keypoints, person.scores, no_feet, np.zeros(len(FEET), np.float32), from_landmarks=False)
    landmarks, swapped = consistent_sides(landmarks, person, state, config.keypoint_threshold)
    counts.side_swaps += swapped
    body = landmarks.points[:NUM_BODY]
    size = float(np.mean(body.max(0) - body.min(0)))
    alignment = landmarks.points[[CENTRE, SCALE]]
    if config.smooth_keypoints:
        alignment = filtered_alignment(state, Measured(frame.index, frame.time, alignment, size))
    state.crop = crop_from_alignment(alignment[0], alignment[1])
    coco, scores = landmarks.coco()
    state.previous = coco - box_centre(person)
    feet, feet_scores = landmarks.feet()
    return Refined(coco, scores, feet, feet_scores, from_landmarks=True, size=size, restart=seeded)


@dataclass
class StageOutput:
    """Per detection row: keypoints (YOLO's where the stage did not run or fell back), feet, and the counts."""

    keypoints: np.ndarray  # (D, 17, 2)
    scores: np.ndarray  # (D, 17)
    feet: np.ndarray  # (D, 4, 2), NaN where not measured
    feet_scores: np.ndarray  # (D, 4)
    from_landmarks: np.ndarray  # (D,) bool
    sizes: np.ndarray  # (D,) the landmarks' object size (the one-euro filter's speed unit), 0 where not measured
    restarts: np.ndarray  # (D,) bool: the crop was placed afresh there (the landmarks' filter starts again)
    counts: StageCounts
    landmark_s: float = 0.0  # seconds in the stage itself (crops, model, guard rails), decoding excluded
    load_s: float = 0.0
    total_s: float = 0.0  # the whole pass, decoding included


def refine_tracks(
    frames: Iterator[Frame],
    rows_by_frame: dict[int, list[int]],
    people: list[Person],
    track_ids: np.ndarray,
    starts: np.ndarray,
    model: LandmarkModel,
    config: DetectorConfig,
) -> StageOutput:
    """Run the stage on the detection rows listed per frame (`rows_by_frame`), reading `frames` in order; at the
    `starts` rows (the first of an unbroken run of their track) the crop is seeded from YOLO."""
    count = len(people)
    output = StageOutput(
        keypoints=np.stack([p.keypoints for p in people]).astype(np.float32) if count else np.zeros((0, 17, 2)),
        scores=np.stack([p.scores for p in people]).astype(np.float32) if count else np.zeros((0, 17)),
        feet=np.full((count, len(FEET), 2), np.nan, np.float32),
        feet_scores=np.zeros((count, len(FEET)), np.float32),
        from_landmarks=np.zeros(count, bool),
        sizes=np.zeros(count, np.float32),
        restarts=np.zeros(count, bool),
        counts=StageCounts(),
    )
    states: dict[int, TrackState] = {}
    for frame in frames:
        tick = perf_counter()
        for row in rows_by_frame.get(frame.index, []):
            state = states.setdefault(int(track_ids[row]), TrackState())
            if starts[row]:
                state.reset()
            refined = refine_person(model, frame, people[row], state, config, output.counts)
            output.keypoints[row], output.scores[row] = refined.keypoints, refined.scores
            output.feet[row], output.feet_scores[row] = refined.feet, refined.feet_scores
            output.from_landmarks[row] = refined.from_landmarks
            output.sizes[row], output.restarts[row] = refined.size, refined.restart
        output.landmark_s += perf_counter() - tick
    return output
