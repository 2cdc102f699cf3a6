"""Blender as a client of our exports: import a .bvh or .glb with bpy and write the joints' positions per frame.

    .venv-blender/bin/python scripts/blender_joints.py clip.bvh joints.json [--fps 30] [--png frame.png]

Runs inside the Blender Python environment (`make blender`: bpy from PyPI in .venv-blender, which needs an older
NumPy than the app's venv, hence a venv of its own). Uses Blender's own importers (`import_anim.bvh`,
`import_scene.gltf`) with their default axis conversion, reads every pose bone's head in world space over the
imported action's frames, and turns Blender's Z-up axes back into the files' Y-up (x, z, -y). The JSON holds
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


def import_file(path: Path, fps: float) -> bpy.types.Object:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps = max(1, round(fps))
    scene.render.fps_base = scene.render.fps / fps
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
    (armature,) = [obj for obj in scene.objects if obj.type == "ARMATURE"]
    return armature


def joint_positions(armature: bpy.types.Object) -> tuple[list[str], list[list[list[float]]]]:
    scene = bpy.context.scene
    start, end = (int(round(f)) for f in armature.animation_data.action.frame_range)
    names = [bone.name for bone in armature.pose.bones]
    frames = []
    for frame in range(start, end + 1):
        scene.frame_set(frame)
        heads = [armature.matrix_world @ bone.head for bone in armature.pose.bones]
        frames.append([[h.x, h.z, -h.y] for h in heads])
    return names, frames


def camera_track(armature: bpy.types.Object) -> dict:
    """The imported filming camera's viewing direction per frame of the armature's action, and its location."""
    cameras = [obj for obj in bpy.context.scene.objects if obj.type == "CAMERA"]
    if not cameras:
        return {}
    camera, scene = cameras[0], bpy.context.scene
    start, end = (int(round(f)) for f in armature.animation_data.action.frame_range)
    forward = []
    for frame in range(start, end + 1):
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
    parser.add_argument("file", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--png", type=Path, help="also render the middle frame (a .glb's mesh) to this PNG")
    args = parser.parse_args()
    armature = import_file(args.file.resolve(), args.fps)
    names, frames = joint_positions(armature)
    args.out.write_text(json.dumps({"names": names, "positions": frames} | camera_track(armature)))
    if args.png:
        start, end = armature.animation_data.action.frame_range
        render_png(args.png.resolve(), armature, int((start + end) / 2))


if __name__ == "__main__":
    main()
