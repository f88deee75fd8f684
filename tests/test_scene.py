"""The scene model: a tree of entities addressed by handles, with change events."""

from __future__ import annotations

import dataclasses

import pytest

from runtime.scene import (
    Entity,
    EntityAdded,
    EntityChanged,
    EntityMoved,
    EntityRemoved,
    Scene,
    SceneError,
    SceneEvent,
    Visual,
    VisualKind,
)
from runtime.scripting import Script
from runtime.values import Color, Handle, Vec2


class Marker(Script):
    tag: str = ""


class Other(Script):
    pass


@pytest.fixture
def tree() -> Scene:
    """root(1) -> a(2) -> a1(3); root(1) -> b(4); other(5)."""
    s = Scene(name="tree")
    root = s.spawn("root")
    a = s.spawn("a", parent=root.handle)
    s.spawn("a1", parent=a.handle)
    s.spawn("b", parent=root.handle)
    s.spawn("other")
    return s


@pytest.fixture
def events(tree: Scene) -> list[SceneEvent]:
    seen: list[SceneEvent] = []
    tree.subscribe(seen.append)
    return seen


def names(scene: Scene) -> list[str]:
    return [e.name for e in scene]


def test_spawn_allocates_increasing_handles() -> None:
    s = Scene()
    a, b = s.spawn("a"), s.spawn("b")
    assert (a.handle, b.handle) == (1, 2)
    assert type(a.handle) is Handle
    assert s.roots == [1, 2]
    assert len(s) == 2 and 1 in s and 3 not in s
    assert s[1] is a and s.get(2) is b and s.get(9) is None


def test_getitem_of_unknown_handle_names_the_scene() -> None:
    with pytest.raises(KeyError, match="no entity 9 in scene 'untitled'"):
        Scene()[9]


def test_iteration_is_depth_first_in_sibling_order(tree: Scene) -> None:
    assert names(tree) == ["root", "a", "a1", "b", "other"]
    assert [e.name for e in tree.subtree(Handle(1))] == ["root", "a", "a1", "b"]
    assert tree.find("a1") is tree[3]
    assert tree.find("nope") is None
    tree.spawn("a1")
    assert [int(e.handle) for e in tree.find_all("a1")] == [3, 6]


def test_handles_are_never_reused(tree: Scene) -> None:
    tree.remove(Handle(5))
    assert tree.spawn("new").handle == 6
    assert tree.next_handle == 7


def test_spawn_with_explicit_handle_and_refusals(tree: Scene) -> None:
    e = tree.spawn("x", handle=Handle(40))
    assert e.handle == 40 and tree.next_handle == 41
    with pytest.raises(SceneError, match="already used"):
        tree.spawn("dup", handle=Handle(40))
    with pytest.raises(SceneError, match="invalid"):
        tree.spawn("zero", handle=Handle(0))
    with pytest.raises(SceneError, match="parent 99 does not exist"):
        tree.spawn("orphan", parent=Handle(99))
    assert tree.find("orphan") is None


def test_spawn_at_index(tree: Scene) -> None:
    tree.spawn("first", parent=Handle(1), index=0)
    tree.spawn("last", parent=Handle(1), index=99)
    assert [tree[h].name for h in tree[1].children] == ["first", "a", "b", "last"]


def test_remove_takes_the_subtree(tree: Scene, events: list[SceneEvent]) -> None:
    removed = tree.remove(Handle(2))
    assert [e.name for e in removed] == ["a", "a1"]
    assert 2 not in tree and 3 not in tree
    assert tree[1].children == [4]
    assert events == [EntityRemoved(Handle(2), Handle(1))]


def test_insert_subtree_undoes_remove(tree: Scene, events: list[SceneEvent]) -> None:
    before = names(tree)
    removed = tree.remove(Handle(2))
    tree.insert_subtree(removed, Handle(1), 0)
    assert names(tree) == before
    assert tree[2].parent == 1 and tree[3].parent == 2
    assert events[-1] == EntityAdded(Handle(2))


def test_insert_subtree_with_a_used_handle_changes_nothing(tree: Scene) -> None:
    removed = tree.remove(Handle(2))
    tree.spawn("taken", handle=Handle(3))  # the handle of a1, inside the removed subtree
    before = (dict(tree.entities), list(tree.roots), list(tree[1].children))
    with pytest.raises(SceneError, match="handle 3 is already used"):
        tree.insert_subtree(removed, Handle(1), None)
    assert (dict(tree.entities), list(tree.roots), list(tree[1].children)) == before
    assert 2 not in tree


def test_reparent_moves_and_announces(tree: Scene, events: list[SceneEvent]) -> None:
    tree.reparent(Handle(4), Handle(2), 0)
    assert tree[2].children == [4, 3]
    assert tree[4].parent == 2
    assert tree[1].children == [2]
    tree.reparent(Handle(2), Handle.NONE)
    assert tree.roots == [1, 5, 2]
    assert tree[2].parent == Handle.NONE
    assert events == [
        EntityMoved(Handle(4), Handle(1), Handle(2)),
        EntityMoved(Handle(2), Handle(1), Handle.NONE),
    ]


@pytest.mark.parametrize("target", [1, 2, 3])
def test_reparent_under_itself_or_a_descendant_is_refused(tree: Scene, target: int) -> None:
    before = names(tree)
    with pytest.raises(SceneError, match="under itself"):
        tree.reparent(Handle(1), Handle(target))
    assert names(tree) == before
    assert tree[1].parent == Handle.NONE


def test_reparent_to_a_missing_parent_is_a_scene_error(tree: Scene) -> None:
    before = names(tree)
    with pytest.raises(SceneError, match="parent 99 does not exist"):
        tree.reparent(Handle(4), Handle(99))
    assert names(tree) == before
    assert tree[4].parent == 1


def test_set_attr_announces_and_protects_structure(tree: Scene, events: list[SceneEvent]) -> None:
    tree.set_attr(Handle(2), "position", Vec2(3, 4))
    assert tree[2].position == Vec2(3, 4)
    assert events == [EntityChanged(Handle(2), "position")]
    for attr in ("parent", "children", "handle", "nonsense"):
        with pytest.raises(SceneError, match="not an editable entity attribute"):
            tree.set_attr(Handle(2), attr, None)


def test_unsubscribe_stops_events(tree: Scene, events: list[SceneEvent]) -> None:
    tree.unsubscribe(events.append)
    tree.spawn("quiet")
    assert events == []
    tree.unsubscribe(events.append)  # twice is harmless


def test_is_ancestor(tree: Scene) -> None:
    assert tree.is_ancestor(Handle(1), Handle(3))
    assert tree.is_ancestor(Handle(3), Handle(3))
    assert not tree.is_ancestor(Handle(3), Handle(1))
    assert not tree.is_ancestor(Handle(5), Handle(3))


def test_world_transform_composes_parents() -> None:
    s = Scene()
    p = s.spawn("p", position=Vec2(100, 0), rotation=90.0, scale=Vec2(2, 2))
    c = s.spawn("c", parent=p.handle, position=Vec2(10, 0), rotation=10.0, scale=Vec2(0.5, 3))
    pos, rot, scale = s.world_transform(c.handle)
    # The child's offset is scaled by 2, then turned 90 degrees clockwise on screen (+x -> +y).
    assert pos.x == pytest.approx(100.0) and pos.y == pytest.approx(20.0)
    assert rot == pytest.approx(100.0)
    assert scale == Vec2(1.0, 6.0)
    assert s.world_transform(p.handle) == (Vec2(100, 0), 90.0, Vec2(2, 2))


def test_entity_script_lookup_by_type() -> None:
    m, o = Marker(tag="t"), Other()
    e = Entity(Handle(1), "e", scripts=[o, m])
    assert e.script(Marker) is m
    assert e.script(Other) is o
    assert Entity(Handle(2)).script(Marker) is None


def test_entity_defaults_and_visual_copy() -> None:
    e = Entity(Handle(1))
    assert (e.name, e.position, e.rotation, e.scale, e.enabled) == (
        "Entity",
        Vec2.ZERO,
        0.0,
        Vec2.ONE,
        True,
    )
    assert e.visual is None and e.scripts == [] and e.children == []
    v = Visual(VisualKind.TEXT, Vec2(1, 2), Color.RED, 3, "", "hi", 12.0)
    c = v.copy()
    assert c == v and c is not v
    c.text = "changed"
    assert v.text == "hi"


def test_set_script_field_announces_and_checks() -> None:
    from runtime import Script
    from runtime.scene import EntityChanged, SceneError

    class Counter(Script):
        n: int = 0

    scene = Scene()
    e = scene.spawn("C", scripts=[Counter()])
    events: list[object] = []
    scene.subscribe(events.append)
    scene.set_script_field(e.handle, 0, "n", 5)
    assert e.scripts[0].n == 5
    assert events == [EntityChanged(e.handle, "scripts")]
    with pytest.raises(SceneError):
        scene.set_script_field(e.handle, 0, "missing", 1)
    with pytest.raises(SceneError):
        scene.set_script_field(e.handle, 3, "n", 1)


def test_a_visual_s_copy_has_every_field_and_is_its_own_object() -> None:
    # `Visual.copy` sets members one by one: a field added to `Visual` must be copied too.
    values = {
        "kind": VisualKind.TEXT,
        "size": Vec2(3.0, 4.0),
        "color": Color(10, 20, 30),
        "z": 7,
        "image": "a.png",
        "text": "hi",
        "font_size": 21.0,
    }
    assert set(values) == {f.name for f in dataclasses.fields(Visual)}
    original = Visual(**values)
    copy = original.copy()
    assert copy == original and copy is not original
    copy.z = 8
    assert original.z == 7
