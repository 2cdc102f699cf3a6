"""Read an animated skeleton from a VRML97 (.wrl) file: a hierarchy of Transform nodes driven by Position- and
OrientationInterpolators through ROUTEs from one TimeSensor, as 3ds Max's VRML exporter writes a Biped.

Only what such files need is read: nodes (with DEF/USE), fields of numbers, strings and nodes, and ROUTE
statements wherever they appear. Each Transform's world matrix is VRML's T * C * R * SR * S * SR^-1 * C^-1 chain
(Biped bones carry non-uniform scales), its origin is the joint's position; rotations are interpolated with
spherical linear interpolation, translations and scales linearly. Points are named after the Transforms' DEF names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TOKEN = re.compile(r'"[^"]*"|[{}\[\]]|[^\s{}\[\],]+')
ANIMATED = {"translation": "position", "rotation": "orientation", "scale": "position", "scaleOrientation": "orientation"}


@dataclass
class Node:
    type: str
    name: str | None
    fields: dict[str, list] = field(default_factory=dict)


@dataclass
class Scene:
    roots: list[Node]
    defs: dict[str, Node]
    routes: list[tuple[str, str]]  # ("Node.eventOut", "Node.eventIn")


class _Parser:
    def __init__(self, text: str):
        text = re.sub(r"#[^\n]*", "", text)
        self.tokens, self.i = TOKEN.findall(text), 0
        self.defs: dict[str, Node] = {}
        self.routes: list[tuple[str, str]] = []

    def peek(self, ahead: int = 0) -> str | None:
        k = self.i + ahead
        return self.tokens[k] if k < len(self.tokens) else None

    def take(self) -> str:
        self.i += 1
        return self.tokens[self.i - 1]

    def starts_node(self) -> bool:
        token = self.peek()
        return token in ("DEF", "USE") or (token is not None and token[0].isupper() and self.peek(1) == "{")

    def route(self) -> None:
        self.take()  # ROUTE
        source, _, target = self.take(), self.take(), self.take()
        self.routes.append((source, target))

    def node(self) -> Node:
        name = None
        if self.peek() == "USE":
            self.take()
            return self.defs[self.take()]
        if self.peek() == "DEF":
            self.take()
            name = self.take()
        node = Node(self.take(), name)
        if self.take() != "{":
            raise ValueError(f"VRML: expected '{{' after {node.type}")
        while self.peek() != "}":
            if self.peek() == "ROUTE":
                self.route()
                continue
            key = self.take()
            node.fields[key] = self.value()
        self.take()
        if name:
            self.defs[name] = node
        return node

    def value(self) -> list:
        if self.peek() == "[":
            self.take()
            items: list = []
            while self.peek() != "]":
                if self.peek() == "ROUTE":
                    self.route()
                elif self.starts_node():
                    items.append(self.node())
                else:
                    items.append(self.take())
            self.take()
            return items
        if self.starts_node():
            return [self.node()]
        values = []
        while self.peek() is not None and _is_scalar(self.peek()):
            values.append(self.take())
        return values

    def scene(self) -> Scene:
        roots = []
        while self.peek() is not None:
            if self.peek() == "ROUTE":
                self.route()
            else:
                roots.append(self.node())
        return Scene(roots, self.defs, self.routes)


def _is_scalar(token: str) -> bool:
    if token in ("TRUE", "FALSE") or token.startswith('"'):
        return True
    try:
        float(token)
    except ValueError:
        return False
    return True


def parse(text: str) -> Scene:
    return _Parser(text).scene()


def _axis_angle_matrix(value: np.ndarray) -> np.ndarray:
    """(..., 4) axis-angle -> (..., 3, 3) rotation."""
    axis = value[..., :3] / np.maximum(np.linalg.norm(value[..., :3], axis=-1, keepdims=True), 1e-12)
    angle = value[..., 3][..., None, None]
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    k = np.stack([np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1), np.stack([-y, x, zero], -1)], -2)
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def _quaternions(axis_angles: np.ndarray) -> np.ndarray:
    axis = axis_angles[:, :3] / np.maximum(np.linalg.norm(axis_angles[:, :3], axis=1, keepdims=True), 1e-12)
    half = axis_angles[:, 3:] / 2
    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=1)


def _slerp_axis_angles(keys: np.ndarray, values: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """OrientationInterpolator at `fractions`: (N, 4) axis-angle keyValues -> (F, 4)."""
    q = _quaternions(values)
    for k in range(1, len(q)):  # the shorter way round between consecutive keys
        if q[k] @ q[k - 1] < 0:
            q[k] = -q[k]
    right = np.clip(np.searchsorted(keys, fractions, side="right"), 1, len(keys) - 1)
    left = right - 1
    span = np.maximum(keys[right] - keys[left], 1e-12)
    t = np.clip((fractions - keys[left]) / span, 0, 1)[:, None]
    q0, q1 = q[left], q[right]
    cos = np.clip((q0 * q1).sum(1, keepdims=True), -1, 1)
    theta = np.arccos(cos)
    sin = np.sin(theta)
    small = sin < 1e-6
    w0 = np.where(small, 1 - t, np.sin((1 - t) * theta) / np.where(small, 1, sin))
    w1 = np.where(small, t, np.sin(t * theta) / np.where(small, 1, sin))
    out = w0 * q0 + w1 * q1
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    angle = 2 * np.arccos(np.clip(out[:, :1], -1, 1))
    axis = out[:, 1:] / np.maximum(np.sqrt(np.clip(1 - out[:, :1] ** 2, 0, None)), 1e-12)
    return np.concatenate([axis, angle], axis=1)


def _interpolate(node: Node, kind: str, fractions: np.ndarray) -> np.ndarray:
    keys = np.array(node.fields["key"], dtype=np.float64)
    values = np.array(node.fields["keyValue"], dtype=np.float64).reshape(len(keys), -1)
    if kind == "orientation":
        return _slerp_axis_angles(keys, values, fractions)
    return np.stack([np.interp(fractions, keys, values[:, d]) for d in range(values.shape[1])], axis=1)


def _field(node: Node, key: str, default: tuple[float, ...], frames: int) -> np.ndarray:
    return np.repeat(np.array([float(v) for v in node.fields.get(key, default)])[None], frames, axis=0)


def read_vrml_animation(path: Path, fps: float = 30.0) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(Transform names, world origins (T, P, 3) in the file's units and axes, times (T,) seconds) of a VRML file
    whose Transforms are animated by interpolators routed from its TimeSensor, sampled at `fps` over one cycle."""
    scene = parse(Path(path).read_text(encoding="latin-1"))
    timers = [n for n in scene.defs.values() if n.type == "TimeSensor"]
    if len(timers) != 1:
        raise ValueError(f"{path}: expected one TimeSensor, found {len(timers)}")
    cycle = float(timers[0].fields["cycleInterval"][0])
    times = np.arange(int(np.floor(cycle * fps)) + 1) / fps
    fractions = times / cycle
    animated: dict[tuple[str, str], np.ndarray] = {}
    for source, target in scene.routes:
        interpolator = scene.defs.get(source.split(".")[0])
        if interpolator is None or not interpolator.type.endswith("Interpolator"):
            continue
        node, event = target.split(".")
        key = event.removeprefix("set_")
        animated[(node, key)] = _interpolate(interpolator, ANIMATED[key], fractions)

    names: list[str] = []
    origins: list[np.ndarray] = []
    frames = len(times)

    def visit(node: Node, parent: np.ndarray) -> None:
        if node.type != "Transform":
            return
        value = {
            key: animated.get((node.name, key), _field(node, key, default, frames))
            for key, default in (("translation", (0, 0, 0)), ("rotation", (0, 0, 1, 0)), ("scale", (1, 1, 1)),
                                 ("scaleOrientation", (0, 0, 1, 0)), ("center", (0, 0, 0)))
        }
        rotation, scale_orientation = _axis_angle_matrix(value["rotation"]), _axis_angle_matrix(value["scaleOrientation"])
        scale = np.einsum("fij,fj->fij", np.repeat(np.eye(3)[None], frames, axis=0), value["scale"])
        linear = rotation @ scale_orientation @ scale @ np.swapaxes(scale_orientation, 1, 2)
        local = np.repeat(np.eye(4)[None], frames, axis=0)
        local[:, :3, :3] = linear
        centre = value["center"]
        local[:, :3, 3] = value["translation"] + centre - np.einsum("fij,fj->fi", linear, centre)
        world = parent @ local
        if node.name:
            names.append(node.name)
            origins.append(world[:, :3, 3])
        for child in node.fields.get("children", []):
            if isinstance(child, Node):
                visit(child, world)

    for root in scene.roots:
        visit(root, np.repeat(np.eye(4)[None], frames, axis=0))
    return names, np.stack(origins, axis=1), times
