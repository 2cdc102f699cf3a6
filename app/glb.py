"""glTF 2.0 binary (.glb) export of a rig: an animated, skinned stick figure that browsers and Blender open.

    write_glb("clip.glb", solve_rig(world_poses), fps)

One node per Human3.6M joint (named after it, the hierarchy of app.bvh), translated by its constant offset and
rotated per frame; the pelvis also moves along the world path. A mesh of one slim double pyramid per bone, each
bound wholly to the bone's parent joint, makes the skeleton visible; the skin turns the nodes into an armature
in Blender. glTF's axes are ours (Y up, metres, right-handed), so nothing is converted. With a `FilmingCamera`,
a perspective camera node turns as the real camera did, so that Blender and glTF viewers show the shot as it was
filmed. The bytes are written here (JSON chunk + binary chunk) with no glTF library.
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


def write_glb(path: str | Path, rig: Rig, fps: float, camera: FilmingCamera | None = None) -> Path:
    """Write the rig's animation as a .glb at `fps` (one keyframe per frame, linear interpolation), with the
    filming camera as an animated camera node named "camera" when given (as many frames as the rig)."""
    path = Path(path)
    count = len(rig.names)
    unposed = np.broadcast_to(np.eye(3), (1, count, 3, 3))
    rest = rig_positions(Rig(rig.names, rig.parents, rig.offsets, {}, np.zeros((1, 3)), unposed))[0]
    buffer = _Buffer()
    vertices, faces, owners = bone_mesh(rest, rig.parents)
    joints = np.zeros((len(vertices), 4), np.uint16)
    joints[:, 0] = owners
    weights = np.zeros((len(vertices), 4), np.float32)
    weights[:, 0] = 1.0
    position = buffer.add(vertices, "VEC3", FLOAT, ARRAY_BUFFER, bounds=True)
    joint_ids = buffer.add(joints, "VEC4", UNSIGNED_SHORT, ARRAY_BUFFER)
    weight_ids = buffer.add(weights, "VEC4", FLOAT, ARRAY_BUFFER)
    indices = buffer.add(faces.reshape(-1), "SCALAR", UNSIGNED_SHORT, ELEMENT_ARRAY_BUFFER)
    inverse_bind = np.tile(np.eye(4, dtype=np.float32), (count, 1, 1))
    inverse_bind[:, 3, :3] = -rest  # column-major: the translation is the last column, stored as the 4th row
    bind_id = buffer.add(inverse_bind.reshape(count, 16), "MAT4", FLOAT)

    times = buffer.add((np.arange(len(rig.root)) / fps).astype(np.float32), "SCALAR", FLOAT, bounds=True)
    quaternions = Rotation.from_matrix(rig.rotations.reshape(-1, 3, 3)).as_quat().reshape(len(rig.root), count, 4)
    outputs = [buffer.add(rig.root.astype(np.float32), "VEC3", FLOAT)]
    outputs += [buffer.add(quaternions[:, joint].astype(np.float32), "VEC4", FLOAT) for joint in range(count)]
    samplers = [{"input": times, "output": output, "interpolation": "LINEAR"} for output in outputs]
    channels = [{"sampler": 0, "target": {"node": 0, "path": "translation"}}]
    channels += [{"sampler": 1 + joint, "target": {"node": joint, "path": "rotation"}} for joint in range(count)]

    nodes = []
    for joint in range(count):
        translation = rig.root[0] if joint == 0 else rig.offsets[joint]
        node = {
            "name": rig.names[joint],
            "translation": translation.tolist(),
            "rotation": quaternions[0, joint].tolist(),
        }
        kids = [c for c in range(count) if rig.parents[c] == joint]
        if kids:
            node["children"] = kids
        nodes.append(node)
    nodes.append({"name": "skeleton_mesh", "mesh": 0, "skin": 0})
    extra: dict = {}
    if camera is not None:
        turns = camera.node_rotations().astype(np.float32)
        samplers.append({"input": times, "output": buffer.add(turns, "VEC4", FLOAT), "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": len(nodes), "path": "rotation"}})
        nodes.append({"name": "camera", "camera": 0, "translation": camera.position.tolist(),
                      "rotation": turns[0].tolist()})
        extra["cameras"] = [{"name": "filming_camera", "type": "perspective", "perspective": camera.perspective()}]
    attributes = {"POSITION": position, "JOINTS_0": joint_ids, "WEIGHTS_0": weight_ids}
    primitive = {"attributes": attributes, "indices": indices, "material": 0}
    document = {
        "asset": {"version": "2.0", "generator": "scjd-pose app.glb"},
        "scene": 0,
        "scenes": [{"nodes": [0, count] + ([count + 1] if camera is not None else [])}],
        "nodes": nodes,
        "meshes": [{"name": "bones", "primitives": [primitive]}],
        "materials": [{"name": "bone", "pbrMetallicRoughness": BONE_MATERIAL}],
        "skins": [{"joints": list(range(count)), "inverseBindMatrices": bind_id, "skeleton": 0}],
        "animations": [{"name": "motion", "samplers": samplers, "channels": channels}],
        "buffers": [{"byteLength": len(buffer.data)}],
        "bufferViews": buffer.views,
        "accessors": buffer.accessors,
    } | extra
    text = json.dumps(document, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    binary = bytes(buffer.data)
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
