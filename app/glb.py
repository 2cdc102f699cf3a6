"""glTF 2.0 binary (.glb) export of a rig: an animated, skinned stick figure that browsers and Blender open.

    write_glb("clip.glb", solve_rig(world_poses), fps)
    write_glb("scene.glb", [Skeleton(solve_rig(a), "person1"), Skeleton(solve_rig(b), "person2", start=40)], fps)

One node per Human3.6M joint (named after it, the hierarchy of app.bvh), translated by its constant offset and
rotated per frame; the pelvis also moves along the world path. Several people are several skeletons on one
timeline, each with its own skin, hidden (scaled to nothing) while they are not in the picture. A mesh of one
slim double pyramid per bone, each bound wholly to the bone's parent joint, makes the skeleton visible; the skin
turns the nodes into an armature in Blender. glTF's axes are ours (Y up, metres, right-handed), so nothing is
converted. With a `FilmingCamera`, a perspective camera node turns as the real camera did, so that Blender and
glTF viewers show the shot as it was filmed. The bytes are written here (JSON chunk + binary chunk), no glTF library.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from app.bvh import Rig, rig_positions

FLOAT, UNSIGNED_SHORT = 5126, 5123
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
BONE_MATERIAL = {"baseColorFactor": [0.85, 0.55, 0.2, 1.0], "metallicFactor": 0.0, "roughnessFactor": 0.8}
# a glTF camera looks along its -z with +y up; ours along +z with y down: the same x, y and z flipped
GLTF_FROM_CAMERA_AXES = np.diag([1.0, -1.0, -1.0])


@dataclass
class FilmingCamera:
    """The camera that filmed the clip, in the world: where it stood and how it turned, and its lens."""

    position: np.ndarray  # (3,) world
    orientations: np.ndarray  # (T, 3, 3) camera axes (x right, y down, z forward) -> world
    focal_px: float
    width: int
    height: int

    def node_rotations(self) -> np.ndarray:
        """(T, 4) the camera node's glTF rotation quaternions (x, y, z, w)."""
        return Rotation.from_matrix(self.orientations @ GLTF_FROM_CAMERA_AXES).as_quat()

    def perspective(self) -> dict:
        yfov = 2 * np.arctan(0.5 * self.height / self.focal_px)
        return {"yfov": float(yfov), "aspectRatio": self.width / self.height, "znear": 0.05, "zfar": 1000.0}


class _Buffer:
    """The binary chunk: 4-byte aligned views, one accessor each."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def add(self, array: np.ndarray, kind: str, component: int, target: int | None = None, bounds: bool = False):
        raw = np.ascontiguousarray(array).tobytes()
        view = {"buffer": 0, "byteOffset": len(self.data), "byteLength": len(raw)}
        if target:
            view["target"] = target
        self.data += raw + b"\0" * (-len(raw) % 4)
        self.views.append(view)
        width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[kind]
        accessor = {"bufferView": len(self.views) - 1, "componentType": component, "count": len(array), "type": kind}
        if bounds:
            flat = np.asarray(array, np.float64).reshape(len(array), width)
            accessor |= {"min": flat.min(axis=0).tolist(), "max": flat.max(axis=0).tolist()}
        self.accessors.append(accessor)
        return len(self.accessors) - 1


def bone_mesh(rest: np.ndarray, parents: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A double pyramid along each bone of the rest positions (J, 3): vertices, triangle indices, owning joint."""
    vertices, faces, owners = [], [], []
    for child, parent in enumerate(parents):
        if parent < 0:
            continue
        start, end = rest[parent], rest[child]
        axis = end - start
        length = np.linalg.norm(axis)
        direction = axis / length
        side = np.cross(direction, [0.0, 0.0, 1.0] if abs(direction[2]) < 0.9 else [1.0, 0.0, 0.0])
        side /= np.linalg.norm(side)
        other = np.cross(direction, side)
        radius = min(0.1 * length, 0.03)
        ring = [start + 0.2 * axis + radius * (np.cos(a) * side + np.sin(a) * other) for a in np.arange(4) * np.pi / 2]
        base = len(vertices)
        vertices += [start, end, *ring]
        for k in range(4):
            a, b = base + 2 + k, base + 2 + (k + 1) % 4
            faces += [(base, b, a), (base + 1, a, b)]
        owners += [parent] * 6
    return np.array(vertices, np.float32), np.array(faces, np.uint16), np.array(owners)


@dataclass
class Skeleton:
    """One skinned skeleton of a .glb: its rig, its name, and the frame of the file's timeline where it starts
    (before it, and after its last frame, it is scaled to nothing: a person who enters late or leaves early)."""

    rig: Rig
    name: str = "skeleton"
    start: int = 0


def write_glb(
    path: str | Path, skeletons: Rig | list[Skeleton], fps: float, camera: FilmingCamera | None = None
) -> Path:
    """Write the skeletons' animation as a .glb at `fps` (one keyframe per frame, linear interpolation), with the
    filming camera as an animated camera node named "camera" when given (one orientation per frame of the file's
    timeline, from 0 to the last frame of any skeleton). A bare `Rig` is one skeleton from frame 0.

    Each skeleton is its joints' nodes (named after the joints), a mesh node and a skin named after it, under a
    node of its name when there are several; Blender and glTF viewers show one armature per skin."""
    skeletons = [Skeleton(skeletons)] if isinstance(skeletons, Rig) else skeletons
    document = _Document(max(s.start + len(s.rig.root) for s in skeletons), fps)
    for skeleton in skeletons:
        document.add_skeleton(skeleton, grouped=len(skeletons) > 1)
    if camera is not None:
        document.add_camera(camera)
    return document.write(Path(path))


class _Document:
    """A glTF document being built: nodes, meshes, skins, the animation's samplers and channels, one buffer."""

    def __init__(self, frames: int, fps: float) -> None:
        self.frames, self.fps = frames, fps
        self.buffer = _Buffer()
        self.nodes: list[dict] = []
        self.meshes: list[dict] = []
        self.skins: list[dict] = []
        self.samplers: list[dict] = []
        self.channels: list[dict] = []
        self.scene: list[int] = []  # the scene's root nodes
        self.cameras: list[dict] = []
        self.times = self.keyframes(0, frames)

    def keyframes(self, start: int, count: int) -> int:
        """The accessor of the times of `count` frames from frame `start`."""
        return self.buffer.add(((start + np.arange(count)) / self.fps).astype(np.float32), "SCALAR", FLOAT, bounds=True)

    def animate(self, node: int, path: str, times: int, values: np.ndarray, interpolation: str = "LINEAR") -> None:
        kind = {3: "VEC3", 4: "VEC4"}[values.shape[1]]
        output = self.buffer.add(values.astype(np.float32), kind, FLOAT)
        self.samplers.append({"input": times, "output": output, "interpolation": interpolation})
        self.channels.append({"sampler": len(self.samplers) - 1, "target": {"node": node, "path": path}})

    def add_skeleton(self, skeleton: Skeleton, grouped: bool) -> None:
        """The skeleton's joint nodes, its bone mesh and skin, its animation and, where it is not there from the
        first frame to the last, its visibility (a step scale track on the root)."""
        rig, first = skeleton.rig, len(self.nodes)
        count, frames = len(rig.names), len(rig.root)
        unposed = np.broadcast_to(np.eye(3), (1, count, 3, 3))
        rest = rig_positions(Rig(rig.names, rig.parents, rig.offsets, {}, np.zeros((1, 3)), unposed))[0]
        vertices, faces, owners = bone_mesh(rest, rig.parents)
        joints = np.zeros((len(vertices), 4), np.uint16)
        joints[:, 0] = owners
        weights = np.zeros((len(vertices), 4), np.float32)
        weights[:, 0] = 1.0
        attributes = {
            "POSITION": self.buffer.add(vertices, "VEC3", FLOAT, ARRAY_BUFFER, bounds=True),
            "JOINTS_0": self.buffer.add(joints, "VEC4", UNSIGNED_SHORT, ARRAY_BUFFER),
            "WEIGHTS_0": self.buffer.add(weights, "VEC4", FLOAT, ARRAY_BUFFER),
        }
        indices = self.buffer.add(faces.reshape(-1), "SCALAR", UNSIGNED_SHORT, ELEMENT_ARRAY_BUFFER)
        inverse_bind = np.tile(np.eye(4, dtype=np.float32), (count, 1, 1))
        inverse_bind[:, 3, :3] = -rest  # column-major: the translation is the last column, stored as the 4th row
        bind = self.buffer.add(inverse_bind.reshape(count, 16), "MAT4", FLOAT)

        quaternions = Rotation.from_matrix(rig.rotations.reshape(-1, 3, 3)).as_quat().reshape(frames, count, 4)
        times = self.times if skeleton.start == 0 and frames == self.frames else self.keyframes(skeleton.start, frames)
        self.animate(first, "translation", times, rig.root)
        for joint in range(count):
            self.animate(first + joint, "rotation", times, quaternions[:, joint])
        self.add_visibility(first, skeleton.start, frames)
        for joint in range(count):
            translation = rig.root[0] if joint == 0 else rig.offsets[joint]
            node = {"name": rig.names[joint], "translation": translation.tolist(),
                    "rotation": quaternions[0, joint].tolist()}
            kids = [first + c for c in range(count) if rig.parents[c] == joint]
            if kids:
                node["children"] = kids
            self.nodes.append(node)
        primitive = {"attributes": attributes, "indices": indices, "material": 0}
        self.meshes.append({"name": "bones", "primitives": [primitive]})
        self.skins.append({"name": skeleton.name, "joints": list(range(first, first + count)),
                           "inverseBindMatrices": bind, "skeleton": first})
        mesh_node = len(self.nodes)
        self.nodes.append({"name": f"{skeleton.name}_mesh", "mesh": len(self.meshes) - 1, "skin": len(self.skins) - 1})
        if grouped:  # one node per person, holding their skeleton and its mesh
            self.scene.append(len(self.nodes))
            self.nodes.append({"name": skeleton.name, "children": [first, mesh_node]})
        else:
            self.scene += [first, mesh_node]

    def add_visibility(self, root: int, start: int, frames: int) -> None:
        """A step scale track on the root: 0 before frame `start` and from `start + frames` on, 1 between."""
        keys, scales = [], []
        if start > 0:
            keys, scales = [0], [0.0]
        if start > 0 or start + frames < self.frames:
            keys.append(start)
            scales.append(1.0)
        if start + frames < self.frames:
            keys.append(start + frames)
            scales.append(0.0)
        if keys:
            times = self.buffer.add((np.array(keys) / self.fps).astype(np.float32), "SCALAR", FLOAT, bounds=True)
            self.animate(root, "scale", times, np.repeat(np.array(scales)[:, None], 3, axis=1), "STEP")

    def add_camera(self, camera: FilmingCamera) -> None:
        turns = camera.node_rotations()
        self.animate(len(self.nodes), "rotation", self.times, turns)
        self.scene.append(len(self.nodes))
        self.nodes.append({"name": "camera", "camera": 0, "translation": camera.position.tolist(),
                           "rotation": turns[0].astype(np.float32).tolist()})
        self.cameras.append({"name": "filming_camera", "type": "perspective", "perspective": camera.perspective()})

    def write(self, path: Path) -> Path:
        """The JSON chunk and the binary chunk, written byte by byte."""
        document = {
            "asset": {"version": "2.0", "generator": "scjd-pose app.glb"},
            "scene": 0,
            "scenes": [{"nodes": self.scene}],
            "nodes": self.nodes,
            "meshes": self.meshes,
            "materials": [{"name": "bone", "pbrMetallicRoughness": BONE_MATERIAL}],
            "skins": self.skins,
            "animations": [{"name": "motion", "samplers": self.samplers, "channels": self.channels}],
            "buffers": [{"byteLength": len(self.buffer.data)}],
            "bufferViews": self.buffer.views,
            "accessors": self.buffer.accessors,
        } | ({"cameras": self.cameras} if self.cameras else {})
        text = json.dumps(document, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 4)
        binary = bytes(self.buffer.data)
        total = 12 + 8 + len(text) + 8 + len(binary)
        with path.open("wb") as handle:
            handle.write(struct.pack("<4sII", b"glTF", 2, total))
            handle.write(struct.pack("<I4s", len(text), b"JSON") + text)
            handle.write(struct.pack("<I4s", len(binary), b"BIN\0") + binary)
        return path


def read_glb(path: str | Path) -> tuple[dict, bytes]:
    """The JSON document and the binary chunk of a .glb file."""
    data = Path(path).read_bytes()
    magic, version, total = struct.unpack_from("<4sII", data)
    if magic != b"glTF" or version != 2 or total != len(data):
        raise ValueError(f"{path} is not a glTF 2.0 binary file")
    json_length = struct.unpack_from("<I", data, 12)[0]
    document = json.loads(data[20 : 20 + json_length])
    binary_length = struct.unpack_from("<I", data, 20 + json_length)[0]
    start = 28 + json_length
    return document, data[start : start + binary_length]
