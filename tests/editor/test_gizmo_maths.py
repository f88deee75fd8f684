"""Gizmo geometry and drag maths (`editor.gizmos`), without a window."""

import pytest

from editor.gizmos import (
    AXIS_LENGTH,
    RING_RADIUS,
    GizmoDrag,
    GizmoLayout,
    GizmoMode,
    GizmoPart,
    Snap,
    world_to_parent,
)
from runtime import Scene, Vec2


def _close(a, b, eps=1e-6):
    return abs(a[0] - b[0]) < eps and abs(a[1] - b[1]) < eps


@pytest.mark.parametrize(
    ("mode", "offset", "part"),
    [
        (GizmoMode.MOVE, (40, 0), GizmoPart.MOVE_X),
        (GizmoMode.MOVE, (0, 40), GizmoPart.MOVE_Y),
        (GizmoMode.MOVE, (2, -3), GizmoPart.MOVE_FREE),
        (GizmoMode.MOVE, (40, 40), None),
        (GizmoMode.MOVE, (-40, 0), None),
        (GizmoMode.SCALE, (AXIS_LENGTH, 1), GizmoPart.SCALE_X),
        (GizmoMode.SCALE, (0, AXIS_LENGTH), GizmoPart.SCALE_Y),
        (GizmoMode.SCALE, (0, 0), GizmoPart.SCALE_UNIFORM),
        (GizmoMode.ROTATE, (0, -RING_RADIUS), GizmoPart.ROTATE),
        (GizmoMode.ROTATE, (0, 0), None),
    ],
)
def test_layout_hit_test(mode, offset, part):
    layout = GizmoLayout(mode, Vec2(100, 100))
    assert layout.hit(Vec2(100 + offset[0], 100 + offset[1])) is part


def test_scale_layout_follows_the_rotation():
    layout = GizmoLayout(GizmoMode.SCALE, Vec2(0, 0), angle=90.0)
    assert layout.hit(Vec2(0, 40)) is GizmoPart.SCALE_X
    assert layout.hit(Vec2(40, 0)) is None


def test_axis_moves_keep_the_other_coordinate_and_snap_to_the_grid():
    scene = Scene()
    e = scene.spawn("E", position=Vec2(5, 7))
    drag = GizmoDrag(scene, GizmoPart.MOVE_X, (e.handle,), Vec2(5, 7))
    assert drag.transforms_at(Vec2(18, 40), Snap())[e.handle].position == Vec2(18, 7)
    snapped = drag.transforms_at(Vec2(18, 40), Snap(True, grid=16))[e.handle].position
    assert snapped == Vec2(16, 7)  # x on the grid, y untouched
    free = GizmoDrag(scene, GizmoPart.MOVE_FREE, (e.handle,), Vec2(5, 7))
    assert free.transforms_at(Vec2(30, 30), Snap(True, grid=10))[e.handle].position == Vec2(30, 30)


def test_move_of_a_child_is_in_its_parents_space():
    scene = Scene()
    parent = scene.spawn("P", position=Vec2(100, 0), rotation=90.0, scale=Vec2(2, 2))
    child = scene.spawn("C", parent=parent.handle, position=Vec2(10, 0))
    world, _, _ = scene.world_transform(child.handle)
    drag = GizmoDrag(scene, GizmoPart.MOVE_FREE, (child.handle,), world)
    t = drag.transforms_at(world + Vec2(0, 20), Snap())[child.handle]
    child.position = t.position
    assert _close(scene.world_transform(child.handle)[0], world + Vec2(0, 20))
    assert _close(world_to_parent(scene, child.handle, world), Vec2(10, 0))


def test_rotation_orbits_the_pivot_and_snaps_to_the_angle_step():
    scene = Scene()
    a = scene.spawn("A", position=Vec2(0, 0))
    b = scene.spawn("B", position=Vec2(10, 0), rotation=5.0)
    drag = GizmoDrag(scene, GizmoPart.ROTATE, (a.handle, b.handle), Vec2(50, 0))
    out = drag.transforms_at(Vec2(0, 50), Snap())  # a quarter turn, clockwise on screen
    assert out[a.handle].rotation == pytest.approx(90.0)
    assert _close(out[a.handle].position, Vec2(0, 0))
    assert out[b.handle].rotation == pytest.approx(95.0)
    assert _close(out[b.handle].position, Vec2(0, 10))
    snapped = drag.transforms_at(Vec2(50, 12), Snap(True, angle=15))  # about 13.5 degrees
    assert snapped[a.handle].rotation == pytest.approx(15.0)
    # B lands on the step too (5 + 13.5 -> 15), and orbits by what it really turned.
    assert snapped[b.handle].rotation == pytest.approx(15.0)
    assert _close(snapped[b.handle].position, Vec2(10, 0).rotated(10.0))


def test_scale_handles_multiply_each_scale():
    scene = Scene()
    e = scene.spawn("E", scale=Vec2(2, 3))
    x = GizmoDrag(scene, GizmoPart.SCALE_X, (e.handle,), Vec2(10, 0))
    assert x.transforms_at(Vec2(25, 9), Snap())[e.handle].scale == Vec2(5, 3)
    uniform = GizmoDrag(scene, GizmoPart.SCALE_UNIFORM, (e.handle,), Vec2(10, 0))
    assert uniform.transforms_at(Vec2(0, 20), Snap())[e.handle].scale == Vec2(4, 6)
    snapped = x.transforms_at(Vec2(15.5, 0), Snap(True, scale=0.5))[e.handle].scale
    assert snapped == Vec2(3, 3)  # a factor of 1.55 snaps to 1.5
