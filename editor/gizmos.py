"""Transform gizmos: where the handles are, which one a point hits, what a drag does.

Pure geometry on `Vec2`, no Qt: the scene view draws the handles of a
`GizmoLayout` and feeds a `GizmoDrag` the mouse's scene positions; tests drive
both without a window.

Handles are laid out in view pixels around the pivot (the first selected
entity's world position), so they keep their size at every zoom; a drag works
in scene coordinates. Move and rotate act in world space about the pivot; scale
acts along the axes of the first selected entity, each entity's own scale
multiplied (as in Unity and Godot, scale handles are local).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass

from runtime import Handle, Scene, Vec2

#: Length of an axis handle, in view pixels.
AXIS_LENGTH = 72.0
#: Half the side of the square at the end of an axis (scale) and of the free-move square.
KNOB = 6.0
#: Radius of the rotation ring, in view pixels.
RING_RADIUS = 60.0
#: How far from a handle a press still grabs it, in view pixels.
GRAB = 6.0


class GizmoMode(enum.Enum):
    """Which handles the selection shows (toolbar toggles W, E, R)."""

    MOVE = "move"
    ROTATE = "rotate"
    SCALE = "scale"


class GizmoPart(enum.Enum):
    """One grabbable part of a gizmo."""

    MOVE_X = "move x"
    MOVE_Y = "move y"
    MOVE_FREE = "move"
    ROTATE = "rotate"
    SCALE_X = "scale x"
    SCALE_Y = "scale y"
    SCALE_UNIFORM = "scale"


@dataclass(frozen=True, slots=True)
class Snap:
    """Snapping of moves to a grid and of rotations to an angle step.

    Attributes:
        enabled: whether drags snap (Ctrl inverts it during a drag).
        grid: the grid step, in scene units.
        angle: the angle step, in degrees.
        scale: the scale step (a factor of 1 + n * scale).
    """

    enabled: bool = False
    grid: float = 16.0
    angle: float = 15.0
    scale: float = 0.1

    def position(self, value: float) -> float:
        """A coordinate on the nearest grid line."""
        return round(value / self.grid) * self.grid if self.grid > 0 else value

    def rotation(self, degrees: float) -> float:
        """An angle rounded to the nearest step."""
        return round(degrees / self.angle) * self.angle if self.angle > 0 else degrees

    def factor(self, factor: float) -> float:
        """A scale factor rounded to the nearest step."""
        return round(factor / self.scale) * self.scale if self.scale > 0 else factor


@dataclass(frozen=True, slots=True)
class Transform:
    """An entity's local transform: what a gizmo drag changes."""

    position: Vec2
    rotation: float
    scale: Vec2


@dataclass(frozen=True, slots=True)
class GizmoLayout:
    """The handles of one mode around a pivot, in view pixels.

    Attributes:
        mode: which handles.
        pivot: the gizmo's centre in view pixels.
        angle: the direction of the x axis in degrees (0 except for scale, which
            follows the first selected entity's rotation).
    """

    mode: GizmoMode
    pivot: Vec2
    angle: float = 0.0

    @property
    def x_axis(self) -> Vec2:
        """The unit vector of the gizmo's x handle."""
        return Vec2(1.0, 0.0).rotated(self.angle)

    @property
    def y_axis(self) -> Vec2:
        """The unit vector of the gizmo's y handle (down on screen, as scene y)."""
        return Vec2(0.0, 1.0).rotated(self.angle)

    def axis_end(self, part: GizmoPart) -> Vec2:
        """The view point at the tip of an axis handle."""
        axis = self.x_axis if part in (GizmoPart.MOVE_X, GizmoPart.SCALE_X) else self.y_axis
        return self.pivot + axis * AXIS_LENGTH

    def hit(self, point: Vec2) -> GizmoPart | None:
        """The part under a view point, or ``None``; the most specific part wins."""
        d = point - self.pivot
        if self.mode is GizmoMode.ROTATE:
            return GizmoPart.ROTATE if abs(abs(d) - RING_RADIUS) <= GRAB else None
        if abs(d[0]) <= KNOB + 2 and abs(d[1]) <= KNOB + 2:
            return GizmoPart.MOVE_FREE if self.mode is GizmoMode.MOVE else GizmoPart.SCALE_UNIFORM
        if self.mode is GizmoMode.MOVE:
            axes = ((GizmoPart.MOVE_X, self.x_axis), (GizmoPart.MOVE_Y, self.y_axis))
        else:
            axes = ((GizmoPart.SCALE_X, self.x_axis), (GizmoPart.SCALE_Y, self.y_axis))
        for part, axis in axes:
            along = d[0] * axis[0] + d[1] * axis[1]
            across = abs(d[0] * axis[1] - d[1] * axis[0])
            if 0 <= along <= AXIS_LENGTH + KNOB and across <= GRAB:
                return part
        return None


def world_to_parent(scene: Scene, handle: Handle, point: Vec2) -> Vec2:
    """A scene point in the coordinates of the entity's parent (what `position` means)."""
    parent = scene[handle].parent
    if not parent:
        return point
    origin, rot, scale = scene.world_transform(parent)
    d = (point - origin).rotated(-rot)
    return Vec2(d[0] / (scale[0] or 1.0), d[1] / (scale[1] or 1.0))


class GizmoDrag:
    """One drag of a gizmo part (or of the selection itself): the transforms it gives.

    Args:
        scene: the edited scene (read for world transforms; never changed here).
        part: the grabbed part (`GizmoPart.MOVE_FREE` for a drag of an entity's body).
        handles: the entities moved, the first one's axes and position are the gizmo's.
        start: the press point, in scene coordinates.
    """

    def __init__(
        self, scene: Scene, part: GizmoPart, handles: tuple[Handle, ...], start: Vec2
    ) -> None:
        self.scene = scene
        self.part = part
        self.start = start
        #: The local transforms before the drag (what undo restores).
        self.before: dict[Handle, Transform] = {}
        self._world: dict[Handle, tuple[Vec2, float]] = {}
        for h in handles:
            e = scene[h]
            self.before[h] = Transform(e.position, e.rotation, e.scale)
            pos, rot, _ = scene.world_transform(h)
            self._world[h] = (pos, rot)
        first = handles[0]
        self.pivot, self.axis_angle = self._world[first]

    def current(self) -> dict[Handle, Transform]:
        """The dragged entities' local transforms as they are now (after live feedback)."""
        out = {}
        for h in self.before:
            e = self.scene[h]
            out[h] = Transform(e.position, e.rotation, e.scale)
        return out

    def transforms_at(self, point: Vec2, snap: Snap) -> dict[Handle, Transform]:
        """The local transform of every dragged entity with the mouse at scene `point`."""
        if self.part in (GizmoPart.MOVE_X, GizmoPart.MOVE_Y, GizmoPart.MOVE_FREE):
            return self._moved(point - self.start, snap)
        if self.part is GizmoPart.ROTATE:
            return self._rotated(point, snap)
        return self._scaled(point, snap)

    def _moved(self, delta: Vec2, snap: Snap) -> dict[Handle, Transform]:
        if self.part is GizmoPart.MOVE_X:
            delta = Vec2(delta[0], 0.0)
        elif self.part is GizmoPart.MOVE_Y:
            delta = Vec2(0.0, delta[1])
        if snap.enabled:
            # The pivot entity lands on the grid; the others keep their offsets to it.
            target = self.pivot + delta
            x = snap.position(target[0]) if self.part is not GizmoPart.MOVE_Y else target[0]
            y = snap.position(target[1]) if self.part is not GizmoPart.MOVE_X else target[1]
            delta = Vec2(x, y) - self.pivot
        out = {}
        for h, t in self.before.items():
            world = self._world[h][0] + delta
            out[h] = Transform(world_to_parent(self.scene, h, world), t.rotation, t.scale)
        return out

    def _rotated(self, point: Vec2, snap: Snap) -> dict[Handle, Transform]:
        a0 = _angle_of(self.start - self.pivot)
        a1 = _angle_of(point - self.pivot)
        delta = (a1 - a0 + 180.0) % 360.0 - 180.0
        out = {}
        for h, t in self.before.items():
            rotation = t.rotation + delta
            if snap.enabled:
                rotation = snap.rotation(rotation)
            turned = rotation - t.rotation
            # Every entity orbits the pivot (the first one, sitting on it, stays put).
            world = self.pivot + (self._world[h][0] - self.pivot).rotated(turned)
            out[h] = Transform(world_to_parent(self.scene, h, world), rotation, t.scale)
        return out

    def _scaled(self, point: Vec2, snap: Snap) -> dict[Handle, Transform]:
        x_axis = Vec2(1.0, 0.0).rotated(self.axis_angle)
        y_axis = Vec2(0.0, 1.0).rotated(self.axis_angle)
        d0, d1 = self.start - self.pivot, point - self.pivot
        fx = fy = 1.0
        if self.part is GizmoPart.SCALE_X:
            fx = _ratio(_dot(d1, x_axis), _dot(d0, x_axis))
        elif self.part is GizmoPart.SCALE_Y:
            fy = _ratio(_dot(d1, y_axis), _dot(d0, y_axis))
        else:
            fx = fy = _ratio(abs(d1), abs(d0))
        if snap.enabled:
            fx, fy = snap.factor(fx), snap.factor(fy)
        out = {}
        for h, t in self.before.items():
            scale = Vec2(t.scale[0] * fx, t.scale[1] * fy)
            out[h] = Transform(t.position, t.rotation, scale)
        return out


def apply_transforms(scene: Scene, transforms: Mapping[Handle, Transform]) -> None:
    """Set transforms directly, without events (live feedback during a drag)."""
    for h, t in transforms.items():
        e = scene.get(h)
        if e is not None:
            e.position, e.rotation, e.scale = t.position, t.rotation, t.scale


def _angle_of(v: Vec2) -> float:
    return math.degrees(math.atan2(v[1], v[0]))


def _dot(a: Vec2, b: Vec2) -> float:
    return a[0] * b[0] + a[1] * b[1]


def _ratio(now: float, then: float) -> float:
    # A press right on the pivot has no direction to scale along: leave the scale alone.
    return now / then if abs(then) > 1e-6 else 1.0
