"""Blender as a client of our exports: import a .bvh or .glb with bpy and write the joints' positions per frame.

    .venv-blender/bin/python scripts/blender_joints.py clip.bvh [more.bvh ...] joints.json [--fps 30] [--png frame.png]

Runs inside the Blender Python environment (`make blender`: bpy from PyPI in .venv-blender, which needs an older
NumPy than the app's venv, hence a venv of its own). Uses Blender's own importers (`import_anim.bvh`,
`import_scene.gltf`) with their default axis conversion (several BVHs go into one scene), reads every pose
bone's head in world space over the imported actions' frames, and turns Blender's Z-up axes back into the
files' Y-up (x, z, -y). The JSON holds
`skeletons`, one per armature (a .glb of several people has one per person), each with its `name`, its bones'
`names` and `positions` (frames, joints, 3), and for a .glb with a camera `camera_forward` (frames, 3), the
direction it looks in, and `camera_location` (3,). `--png` also renders one frame of the .glb's mesh with Cycles.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import bpy
from mathutils import Vector


def import_files(paths: list[Path], fps: float) -> list[bpy.types.Object]:
    """Import the files into one empty scene (BVHs of several people: the scene); its armatures, by name."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps = max(1, round(fps))
    scene.render.fps_base = scene.render.fps / fps
    for path in paths:
        if path.suffix.lower() == ".bvh":
            bpy.ops.import_anim.bvh(
                filepath=str(path),
                global_scale=1.0,
                frame_start=1,
                use_fps_scale=False,
                rotate_mode="NATIVE",
                axis_forward="-Z",
                axis_up="Y",
            )
        else:
            bpy.ops.import_scene.gltf(filepath=str(path))
    return sorted((obj for obj in scene.objects if obj.type == "ARMATURE"), key=lambda obj: obj.name)


def frame_range(armatures: list[bpy.types.Object]) -> range:
    """The frames of all the armatures' actions together."""
    ranges = [armature.animation_data.action.frame_range for armature in armatures]
    return range(int(round(min(r[0] for r in ranges))), int(round(max(r[1] for r in ranges))) + 1)


def joint_positions(armature: bpy.types.Object, frames: range) -> dict:
    """The armature's name, its bones' names and their heads' positions in each frame."""
    scene = bpy.context.scene
    positions = []
    for frame in frames:
        scene.frame_set(frame)
        heads = [armature.matrix_world @ bone.head for bone in armature.pose.bones]
        positions.append([[h.x, h.z, -h.y] for h in heads])
    return {"name": armature.name, "names": [bone.name for bone in armature.pose.bones], "positions": positions}


def camera_track(frames: range) -> dict:
    """The imported filming camera's viewing direction per frame, and its location."""
    cameras = [obj for obj in bpy.context.scene.objects if obj.type == "CAMERA"]
    if not cameras:
        return {}
    camera, scene = cameras[0], bpy.context.scene
    forward = []
    for frame in frames:
        scene.frame_set(frame)
        look = camera.matrix_world.to_3x3() @ Vector((0.0, 0.0, -1.0))
        forward.append([look.x, look.z, -look.y])
    where = camera.matrix_world.translation
    return {"camera_forward": forward, "camera_location": [where.x, where.z, -where.y]}


def render_png(path: Path, armature: bpy.types.Object, frame: int) -> None:
    """One Cycles frame of the imported mesh on a grey floor, seen from the front-left."""
    scene = bpy.context.scene
    scene.frame_set(frame)
    bpy.ops.mesh.primitive_plane_add(size=12, location=(0, 0, 0))
    centre = armature.matrix_world @ armature.pose.bones[0].head
    bpy.ops.object.camera_add(location=(centre.x + 3.5, centre.y - 4.5, 1.8))
    camera = bpy.context.object
    direction = centre - camera.location
    camera.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()
    scene.camera = camera
    bpy.ops.object.light_add(type="SUN", rotation=(math.radians(40), 0, math.radians(30)))
    scene.world = bpy.data.worlds.new("sky")
    scene.world.color = (0.4, 0.45, 0.5)
    scene.render.engine = "CYCLES"
    scene.cycles.samples = 16
    scene.render.resolution_x, scene.render.resolution_y = 640, 480
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", type=Path, nargs="+", help="one .glb, or one or more .bvh (imported together)")
    parser.add_argument("out", type=Path, help="the JSON to write")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--png", type=Path, help="also render the middle frame (a .glb's mesh) to this PNG")
    args = parser.parse_args()
    armatures = import_files([path.resolve() for path in args.files], args.fps)
    frames = frame_range(armatures)
    skeletons = [joint_positions(armature, frames) for armature in armatures]
    args.out.write_text(json.dumps({"skeletons": skeletons} | camera_track(frames)))
    if args.png:
        render_png(args.png.resolve(), armatures[0], (frames.start + frames.stop) // 2)


if __name__ == "__main__":
    main()
