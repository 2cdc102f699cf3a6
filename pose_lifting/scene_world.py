"""One world for everyone in a video: one up, one ground, one camera, and each person placed where they stand.

`pose_lifting.world` places one person. With several, each is first placed alone by `world_motion` (without the
foot lock), which gives their path in the first frame's camera axes (the reference axes: depth from their lifted
size and the focal length, the camera's turns undone). Then, once for the video:

1. Up and ground from everyone. The scene's up where `world.scene_up` trusts it against everyone's mean posture
   (the body prior of all people together), the ground at the median height of everyone's planted soles.
   Else, for the methods that use the feet ("auto", "scene", "ground"), the RANSAC plane (`world.ransac_ground`)
   through everyone's planted soles at their lifted sizes: people standing in different places span a plane
   where one person standing still cannot. Each person's planted feet are found against their own ground along
   the current up (`world.ground_height`), and feet and plane are re-estimated together. A person with fewer
   than `min_inliers` of their planted soles on the plane (a lifted size that does not fit them, or a raised
   floor) is left out of it, the furthest off first, so that the plane does not tilt to pass through them.
   Else everyone's body prior ("body", and the fallback without a plane) or the camera's up ("upright").
   Whatever the up, a person whose own ground is less than `min_camera_height_m` below the camera (a box, a
   stage: a camera is held or set up above the floor) is left out of the ground while someone else's is not.
2. Sizes. A person's depth comes from their lifted size, and the lifter gives everyone about an adult's size: a
   child is placed too far away and, under a camera that looks down, sinks below the ground (a wrong focal
   length scales every depth alike; it does not set people apart). Assumed: everyone stands on the one ground.
   Each person is scaled about the camera centre (skeleton and path together, so that their picture does not
   change) by `scale = ground / h`, h the height of their own ground along the common up: they stand on the
   common ground. The main subject, where their feet agree with the plane, keeps the lifted size: the ground
   is put through their planted feet (it moves by less than `ransac_inlier_m`) and sets the scene's scale. A
   scale outside `min_scale` .. `max_scale` is not applied (1: the person is taken to stand on something raised
   or lower, and the notes say so), nor is one for a person with fewer than `min_contacts` planted soles (or
   than their frames: a photo has one), or where the camera is less than `min_camera_height_m` above the ground
   (heights no longer tell distance).
3. Placement: `world.world_rotation` of the common up, the origin on the ground below the main subject's first
   pelvis (the first person given), each person's contacts found against the common ground, then the foot lock.

`SceneWorld.notes` say in words what was assumed: whose size sets the scale, who was scaled and by how much, who
could not be. One person alone is `world_motion`'s world, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from pose_lifting.sequence import Pose2DSequence, Pose3DSequence
from pose_lifting.skeleton import JOINT_INDEX
from pose_lifting.world import (
    ANKLES,
    WorldConfig,
    WorldMotion,
    angle_between_deg,
    body_up,
    detect_contacts,
    foot_points,
    foot_speeds,
    ground_height,
    lock_feet,
    ransac_ground,
    scene_up,
    world_motion,
    world_rotation,
)


@dataclass
class SceneWorldConfig:
    """How several people share one world (sizes); up and ground follow `WorldConfig`."""

    # a person is sized only to between these: a child of ~0.9 m against the lifter's adult of ~1.75 m, a tall
    # adult or a lift a little small; further off, their feet are taken to be on something (a box, a stage)
    min_scale: float = 0.5
    max_scale: float = 1.25
    min_camera_height_m: float = 0.5  # below this camera height, sole heights do not tell distance: no sizing
    note_scale: float = 0.1  # scales further than this from 1 are named in the notes
    min_inliers: float = 0.5  # a person with a smaller share of planted soles on the ground plane is left out


@dataclass
class SceneWorld:
    """Everyone's motion in one world frame (same order as the people given; None where one could not be placed)."""

    people: list[WorldMotion | None]
    notes: list[str] = field(default_factory=list)  # what was assumed, in words, for the user


@dataclass
class _Alone:
    """One person as placed alone, back in the reference axes."""

    root: np.ndarray  # (T, 3) pelvis path
    relative: np.ndarray  # (T, 17, 3) joints about the pelvis
    views: np.ndarray  # (T, 3, 3) each frame's camera axes -> reference axes
    motion: WorldMotion

    @property
    def absolute(self) -> np.ndarray:
        return self.relative + self.root[:, None]


def scene_world(
    lifted: list[Pose3DSequence],
    people: list[Pose2DSequence],
    config: WorldConfig | None = None,
    sizes: SceneWorldConfig | None = None,
) -> SceneWorld:
    """Everyone's world motion in one frame (see the module doc); `people[0]` is the main subject."""
    config, sizes = config or WorldConfig(), sizes or SceneWorldConfig()
    if len(people) == 1:
        motion, notes = _world_motion(lifted[0], people[0], config)
        return SceneWorld([motion], notes)
    alone, notes = _place_alone(lifted, people, config)
    placed = [i for i, person in enumerate(alone) if person is not None]
    if not placed:
        return SceneWorld([None] * len(people), notes)
    everyone = [alone[i] for i in placed]
    pose2d = [people[i] for i in placed]
    frame = common_ground(everyone, pose2d, config, sizes)
    heights = [_planted_height(person, p, frame.up, config) for person, p in zip(everyone, pose2d)]
    main_agrees = placed[0] == 0 and 0 in frame.agreeing and heights[0] is not None
    ground = heights[0] if main_agrees else frame.ground
    wanted = [_wanted_scale(ground, height, sizes) for height in heights]
    scales = [_scale(value, sizes) for value in wanted]
    rotation = world_rotation(frame.up)
    reference = scales[0] * everyone[0].absolute[0, JOINT_INDEX["pelvis"]]
    origin = reference - (reference @ frame.up - ground) * frame.up
    result: list[WorldMotion | None] = [None] * len(people)
    for index, person, p, scale in zip(placed, everyone, pose2d, scales):
        result[index] = _place(person, p, scale, frame, ground, rotation, origin, config)
    notes += _size_notes(people, placed, wanted, scales, ground, main_agrees, sizes)
    return SceneWorld(result, notes)


def _world_motion(
    pose3d: Pose3DSequence, pose2d: Pose2DSequence, config: WorldConfig
) -> tuple[WorldMotion | None, list[str]]:
    """`world_motion`, or None and a note saying why the person could not be placed."""
    try:
        return world_motion(pose3d, pose2d, config), []
    except (ValueError, np.linalg.LinAlgError) as error:
        return None, [f"person {pose2d.track_id} could not be placed in the world ({error})"]


def _place_alone(
    lifted: list[Pose3DSequence], people: list[Pose2DSequence], config: WorldConfig
) -> tuple[list[_Alone | None], list[str]]:
    """Each person placed by `world_motion` alone (no foot lock), turned back into the reference axes."""
    alone: list[_Alone | None] = []
    notes = []
    for pose3d, pose2d in zip(lifted, people):
        motion, failed = _world_motion(pose3d, pose2d, replace(config, foot_lock=False))
        notes += failed
        if motion is None:
            alone.append(None)
            continue
        # world = R (camera - origin)  =>  camera = R^T world + origin; row vectors: world @ R + origin
        root = motion.root.astype(np.float64) @ motion.rotation + motion.origin
        relative = (motion.poses - motion.root[:, None]).astype(np.float64) @ motion.rotation
        views = np.einsum("ji,tjk->tik", motion.rotation, motion.camera_rotations)
        alone.append(_Alone(root, relative, views, motion))
    return alone, notes


@dataclass
class CommonGround:
    """The one up and ground of a video, in the reference axes (as `WorldMotion` has them for one person)."""

    up: np.ndarray  # (3,) unit
    ground: float  # the ground's height along `up` (negative: below the camera), at the lifted sizes
    method: str  # "scene", "ground", "body" or "upright"
    spread_m: float  # RMS distance of the planted soles to the ground (NaN: none)
    num_contacts: int  # soles that supported the plane ("ground") or that were planted (other methods)
    prior: np.ndarray  # (3,) everyone's body prior
    check_deg: float = float("nan")  # scene up only: the angle to the planted soles' own plane (NaN: none)
    agreeing: tuple[int, ...] = ()  # the people (indices) whose planted feet the ground went through


def common_ground(
    everyone: list[_Alone], people: list[Pose2DSequence], config: WorldConfig, sizes: SceneWorldConfig
) -> CommonGround:
    """Up and ground once, from the scene and from everyone's planted soles (step 1 of the module doc)."""
    prior = body_up(np.concatenate([person.relative for person in everyone]))
    trusted = scene_up(people[0].scene, prior, config)
    method = "scene" if trusted is not None else {"auto": "ground", "scene": "ground"}.get(config.method, config.method)
    if method == "ground":
        plane = agreeing_plane(everyone, people, prior, config, sizes)
        if plane is not None:
            return plane
        method = "body"
    up = {"upright": np.array([0.0, -1.0, 0.0]), "body": prior, "scene": trusted}[method]
    planted = [_planted(person, p, up, config) for person, p in zip(everyone, people)]
    soles = _off_raised(planted, sizes)
    points = np.concatenate(soles)
    check = float("nan")
    if method == "scene" and len(points) >= config.min_contacts:
        plane = ransac_ground(points, up, config, np.random.default_rng(config.seed))
        check = float("nan") if plane is None else angle_between_deg(plane[0], up)
    if not len(points):  # nobody's feet were planted: everyone's own lowest soles
        ground = float(np.median([own for own, _, _ in planted]))
        return CommonGround(up, ground, method, float("nan"), 0, prior, check)
    ground = float(np.median(points @ up))
    spread = float(np.sqrt(np.mean((points @ up - ground) ** 2)))
    agreeing = tuple(i for i, planted in enumerate(soles) if len(planted))
    return CommonGround(up, ground, method, spread, len(points), prior, check, agreeing)


def agreeing_plane(
    everyone: list[_Alone], people: list[Pose2DSequence], prior: np.ndarray, config: WorldConfig,
    sizes: SceneWorldConfig,
) -> CommonGround | None:
    """The RANSAC ground plane through the planted soles of the people whose lifted sizes agree with it; planted
    feet and plane re-estimated together `refinements` times (as for one person), people on something raised
    left out (`_off_raised`). None where the soles give no plane (fewer than `min_contacts`, or no three spanning
    a triangle)."""
    rng = np.random.default_rng(config.seed)
    up, found = prior, None
    for _ in range(config.refinements):
        planted = [_planted(person, p, up, config) for person, p in zip(everyone, people)]
        fit = _plane_of_agreeing(_off_raised(planted, sizes), prior, config, sizes, rng)
        if fit is None:
            break
        found, up = fit, fit[0][0]
    if found is None:
        return None
    (normal, offset, inliers), points, agreeing = found
    spread = float(np.sqrt(np.mean((points[inliers] @ normal - offset) ** 2)))
    return CommonGround(normal, offset, "ground", spread, int(inliers.sum()), prior, float("nan"), tuple(agreeing))


def _off_raised(planted: list[tuple[float, np.ndarray, np.ndarray]], sizes: SceneWorldConfig) -> list[np.ndarray]:
    """Each person's planted soles (from `_planted`), emptied for a person whose own ground is less than
    `min_camera_height_m` below the camera (a box, a stage: a camera is held or set up above the floor) while
    someone else's is not: the ground is the others'."""
    below = [-own >= sizes.min_camera_height_m for own, _, _ in planted]
    return [feet if below[i] or not any(below) else feet[:0] for i, (_, _, feet) in enumerate(planted)]


def _plane_of_agreeing(
    soles: list[np.ndarray], prior: np.ndarray, config: WorldConfig, sizes: SceneWorldConfig, rng: np.random.Generator
) -> tuple[tuple, np.ndarray, list[int]] | None:
    """((normal, offset, inliers), the soles fitted, the people who agree) from each person's planted soles (N, 3).

    A person with fewer than `min_inliers` of their soles on the plane (their lifted size, or a raised floor, puts
    them off it) is left out, the one furthest off first, and the plane fitted again to the others: otherwise it
    tilts to pass through both (sizes are set afterwards, step 2 of the module doc)."""
    agreeing = [i for i, planted in enumerate(soles) if len(planted)]
    while agreeing:
        points = np.concatenate([soles[i] for i in agreeing])
        plane = ransac_ground(points, prior, config, rng) if len(points) >= config.min_contacts else None
        if plane is None:
            return None
        normal, offset, _ = plane
        share = {i: np.mean(np.abs(soles[i] @ normal - offset) < config.ransac_inlier_m) for i in agreeing}
        worst = min(agreeing, key=share.__getitem__)
        if share[worst] >= sizes.min_inliers or len(agreeing) == 1:
            return plane, points, agreeing
        agreeing.remove(worst)
    return None


def _planted(
    person: _Alone, pose2d: Pose2DSequence, up: np.ndarray, config: WorldConfig
) -> tuple[float, np.ndarray, np.ndarray]:
    """One person's own ground along `up` (`world.ground_height`: the median height of their planted soles, at
    the lifted size), their sole heights (T, 2) and their planted soles (N, 3)."""
    focal, principal = person.motion.focal_px, np.array([pose2d.width / 2, pose2d.height / 2])
    ground, heights, soles = ground_height(person.absolute, pose2d, up, focal, principal, person.views, config)
    speeds = foot_speeds(person.absolute[:, list(ANKLES)], up, person.motion.fps)
    return ground, heights, soles[detect_contacts(heights - ground, speeds, config)]


def _planted_height(person: _Alone, pose2d: Pose2DSequence, up: np.ndarray, config: WorldConfig) -> float | None:
    """The person's own ground along `up` (see `_planted`); None with fewer than `min_contacts` planted soles (or
    than their frames, for someone seen in fewer frames: a photo has one)."""
    ground, _, planted = _planted(person, pose2d, up, config)
    return ground if len(planted) >= min(config.min_contacts, len(pose2d)) else None


def _wanted_scale(ground: float, height: float | None, sizes: SceneWorldConfig) -> float | None:
    """The factor that puts planted soles at `height` onto the ground (step 2); None where it cannot be told."""
    if height is None or -ground < sizes.min_camera_height_m or height >= 0:
        return None
    return ground / height


def _scale(wanted: float | None, sizes: SceneWorldConfig) -> float:
    """The scale used: the wanted one within `min_scale` .. `max_scale`, else 1 (the lifted size)."""
    return wanted if wanted is not None and sizes.min_scale <= wanted <= sizes.max_scale else 1.0


def _place(
    person: _Alone,
    pose2d: Pose2DSequence,
    scale: float,
    frame: CommonGround,
    ground: float,
    rotation: np.ndarray,
    origin: np.ndarray,
    config: WorldConfig,
) -> WorldMotion:
    """One person in the common world: scaled about the camera, turned, contacts against the common ground; the
    heels and foot tips (`world.foot_points`, for the joint angles) placed with them."""
    motion, up, fps = person.motion, frame.up, person.motion.fps
    absolute = scale * person.absolute
    heights = scale * _planted(person, pose2d, up, config)[1]
    contacts = detect_contacts(heights - ground, foot_speeds(absolute[:, list(ANKLES)], up, fps), config)
    world_root = (scale * person.root - origin) @ rotation.T
    relative = scale * person.relative @ rotation.T
    if config.foot_lock:
        world_root = lock_feet(world_root, relative, contacts, fps, config.lock_time_constant_s)
    principal = np.array([pose2d.width / 2, pose2d.height / 2])
    feet = foot_points(absolute, pose2d, up, motion.focal_px, principal, person.views, config)
    if feet is not None:
        feet = ((feet - scale * person.root[:, None]) @ rotation.T + world_root[:, None]).astype(np.float32)
    scene = pose2d.scene
    return replace(
        motion,
        poses=(relative + world_root[:, None]).astype(np.float32),
        root=world_root.astype(np.float32),
        contacts=contacts,
        rotation=rotation,
        origin=origin,
        up_camera=up,
        camera_height_m=float(-ground),
        spread_m=frame.spread_m,
        num_contacts=frame.num_contacts,
        method=frame.method,
        camera_rotations=np.einsum("ij,tjk->tik", rotation, person.views),
        check_deg=frame.check_deg,
        scene_body_deg=(
            float("nan") if scene is None or scene.up is None else angle_between_deg(scene.up, frame.prior)
        ),
        scale=scale,
        feet=feet,
    )


def _size_notes(
    people: list[Pose2DSequence],
    placed: list[int],
    wanted: list[float | None],
    scales: list[float],
    ground: float,
    main_agrees: bool,
    sizes: SceneWorldConfig,
) -> list[str]:
    """What the sizes assume, in words (step 2 of the module doc)."""
    count = f"one world for {len(placed)} people"
    if -ground < sizes.min_camera_height_m:
        return [
            f"{count}; the camera is {-ground:.2f} m above the ground, too low to tell distance from where the feet "
            "stand: everyone is placed at the lifted size"
        ]
    main = people[0].track_id
    if main_agrees:
        notes = [f"{count}, all assumed to stand on one ground: person {main} keeps the lifter's size (it sets the "
                 "scale), the others are sized to stand on the same ground"]
    else:
        notes = [f"{count}, all assumed to stand on one ground: the ground's height is where the planted feet of "
                 "most people agree at the lifted sizes, and each person is sized to stand on it"]
    for index, value, scale in zip(placed, wanted, scales):
        who = people[index].track_id
        if value is None:
            notes.append(f"person {who} has too few planted feet, or stands above the camera: kept at the lifted size")
        elif scale != value:
            where = "above" if value > 1 else "below"
            notes.append(
                f"person {who} stands {where} the common ground (standing on it would take {value:.2f} x the lifted "
                "size): kept at the lifted size, on something raised or lower, or not a size the lifter can give"
            )
        elif abs(scale - 1.0) > sizes.note_scale:
            notes.append(
                f"person {who} is drawn {scale:.2f} x the lifted size, {scale:.2f} x as far from the camera, to "
                f"stand on the ground (a {'smaller' if scale < 1 else 'larger'} person than the lifter assumes, or "
                "not on the same ground)"
            )
    return notes
