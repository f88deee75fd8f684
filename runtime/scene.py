"""The scene model: a tree of entities with transforms, visuals and scripts.

Plain Python, no Qt. Structural changes (add, remove, reparent, edit through
`Scene.set_attr`) are announced to observers as small immutable events, which
is how the editor keeps its views in sync. Per-frame changes made by running
scripts (``entity.position = ...``) are not announced: a view of a playing
scene redraws every frame instead.
"""

from __future__ import annotations

import enum
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from runtime.fields import declared_fields
from runtime.scripting import Script
from runtime.values import Color, Handle, Vec2


class VisualKind(enum.StrEnum):
    """What an entity draws."""

    RECT = "rect"
    ELLIPSE = "ellipse"
    IMAGE = "image"
    TEXT = "text"


@dataclass(slots=True)
class Visual:
    """How an entity looks: a shape, an image from ``assets/`` or a text, centred on it."""

    kind: VisualKind = VisualKind.RECT
    size: Vec2 = Vec2(32.0, 32.0)  # noqa: RUF009 - immutable value
    color: Color = Color.WHITE
    z: int = 0
    image: str = ""
    text: str = ""
    font_size: float = 16.0

    def copy(self) -> Visual:
        """An independent copy (all members are immutable values).

        Made member by member past ``__init__``: a look-ahead copies every
        visual of the scene at each save, and this takes a fifth less than the
        constructor's call (tests/test_scene.py checks that every field is copied).
        """
        c: Visual = _new(Visual)
        c.kind = self.kind
        c.size = self.size
        c.color = self.color
        c.z = self.z
        c.image = self.image
        c.text = self.text
        c.font_size = self.font_size
        return c


_new = object.__new__


class Entity:
    """A node of the scene tree.

    `position` is relative to the parent; `rotation` is in degrees, clockwise
    on screen. `children` and `parent` are handles; use the `Scene` methods to
    change the tree.
    """

    __slots__ = (
        "children",
        "enabled",
        "handle",
        "name",
        "parent",
        "position",
        "rotation",
        "scale",
        "scripts",
        "visual",
    )

    def __init__(
        self,
        handle: Handle,
        name: str = "Entity",
        *,
        position: Vec2 = Vec2.ZERO,
        rotation: float = 0.0,
        scale: Vec2 = Vec2.ONE,
        visual: Visual | None = None,
        scripts: Iterable[Script] = (),
        enabled: bool = True,
    ) -> None:
        self.handle = handle
        self.name = name
        self.position = position
        self.rotation = rotation
        self.scale = scale
        self.visual = visual
        self.scripts: list[Script] = list(scripts)
        self.enabled = enabled
        self.parent = Handle.NONE
        self.children: list[Handle] = []

    def script(self, cls: type[Script]) -> Any:
        """The first script of type `cls` on this entity, or ``None``.

        Matched by type id, so it finds the script after a hot reload too.
        """
        from runtime.scripting import type_id_of

        tid = type_id_of(cls)
        for s in self.scripts:
            if type_id_of(type(s)) == tid:
                return s
        return None

    def __repr__(self) -> str:
        return f"<Entity {int(self.handle)} {self.name!r} at {self.position!r}>"


_scripts_of = operator.attrgetter("scripts")


@dataclass(frozen=True, slots=True)
class ScriptColumns:
    """Scripts of a scene as three columns of the same length (`Scene.script_columns`).

    What the engine's walks over every script take (the hot reload, the update
    list): each step over a column is a ``map`` in C, not a Python loop.

    Attributes:
        entities: the entity of each script.
        indices: its index in that entity's scripts.
        scripts: the scripts.
    """

    entities: list[Entity]
    indices: list[int]
    scripts: list[Script]

    def where(self, keep: Iterable[bool]) -> ScriptColumns:
        """The scripts for which `keep` (one flag per script) is true, in order."""
        keep = list(keep)
        if all(keep):
            return self
        return ScriptColumns(
            list(itertools.compress(self.entities, keep)),
            list(itertools.compress(self.indices, keep)),
            list(itertools.compress(self.scripts, keep)),
        )


# --- events -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntityAdded:
    """An entity (with its subtree) was added."""

    handle: Handle


@dataclass(frozen=True, slots=True)
class EntityRemoved:
    """An entity (with its subtree) was removed."""

    handle: Handle
    parent: Handle


@dataclass(frozen=True, slots=True)
class EntityChanged:
    """An attribute of an entity was changed through `Scene.set_attr` or `Scene.notify`."""

    handle: Handle
    attribute: str


@dataclass(frozen=True, slots=True)
class EntityMoved:
    """An entity got a new parent or a new place among its siblings."""

    handle: Handle
    old_parent: Handle
    new_parent: Handle


@dataclass(frozen=True, slots=True)
class ScriptsReplaced:
    """Script objects were rebuilt (hot reload, script added or removed), or their stash changed.

    Attributes:
        handles: the entities whose scripts changed.
        by_reload: told by a hot reload, after it swapped the new scripts in (a
            running scene has already rebuilt its update list for them).
    """

    handles: tuple[Handle, ...]
    by_reload: bool = False


SceneEvent = EntityAdded | EntityRemoved | EntityChanged | EntityMoved | ScriptsReplaced


class SceneError(ValueError):
    """An operation would break the tree (unknown handle, a cycle)."""


@dataclass(eq=False)
class Scene:
    """A tree of entities, addressed by handles that are never reused."""

    name: str = "untitled"
    entities: dict[Handle, Entity] = field(default_factory=dict)
    roots: list[Handle] = field(default_factory=list)
    next_handle: int = 1
    background: Color = Color(24, 26, 33)  # noqa: RUF009 - immutable value
    _observers: list[Callable[[SceneEvent], None]] = field(default_factory=list, repr=False)

    # --- observing ------------------------------------------------------------

    def subscribe(self, observer: Callable[[SceneEvent], None]) -> None:
        """Call `observer` with each structural change (see the event classes)."""
        self._observers.append(observer)

    def unsubscribe(self, observer: Callable[[SceneEvent], None]) -> None:
        """Stop calling `observer`."""
        if observer in self._observers:
            self._observers.remove(observer)

    def notify(self, event: SceneEvent) -> None:
        """Announce a change to the observers."""
        for obs in list(self._observers):
            obs(event)

    # --- queries ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.entities)

    def __contains__(self, handle: object) -> bool:
        return handle in self.entities

    def __getitem__(self, handle: int) -> Entity:
        try:
            return self.entities[handle]  # type: ignore[index]
        except KeyError:
            raise KeyError(f"no entity {int(handle)} in scene {self.name!r}") from None

    def get(self, handle: int) -> Entity | None:
        """The entity with this handle, or ``None``."""
        return self.entities.get(handle)  # type: ignore[call-overload]

    def __iter__(self) -> Iterator[Entity]:
        """Every entity, depth first, in sibling order."""
        if len(self.roots) == len(self.entities):
            # Every entity is a root (a flat scene, the common large case): the order is
            # the roots', and a map in C walks it without resuming a generator per entity.
            return map(self.entities.__getitem__, tuple(self.roots))
        return self._depth_first()

    def _depth_first(self) -> Iterator[Entity]:
        stack = list(reversed(self.roots))
        ents = self.entities
        pop = stack.pop
        while stack:
            e = ents[pop()]
            yield e
            if e.children:  # most entities have none: skip the call (a reload walks them all)
                stack.extend(reversed(e.children))

    def script_columns(self) -> ScriptColumns:
        """Every script of the scene in tree order (as `__iter__` visits entities), as columns."""
        entities = list(self)
        lists = list(map(_scripts_of, entities))
        scripts = list(itertools.chain.from_iterable(lists))
        counts = list(map(len, lists))
        if counts.count(1) == len(counts):  # one script each: the columns are at hand
            return ScriptColumns(entities, [0] * len(entities), scripts)
        return ScriptColumns(
            list(itertools.chain.from_iterable(map(itertools.repeat, entities, counts))),
            list(itertools.chain.from_iterable(map(range, counts))),
            scripts,
        )

    def find(self, name: str) -> Entity | None:
        """The first entity (depth first) with this name."""
        return next((e for e in self if e.name == name), None)

    def find_all(self, name: str) -> list[Entity]:
        """Every entity with this name."""
        return [e for e in self if e.name == name]

    def siblings_of(self, handle: Handle) -> list[Handle]:
        """The list `handle` is in: its parent's children or the roots (the real list)."""
        parent = self.entities[handle].parent
        return self.entities[parent].children if parent else self.roots

    def outermost(self, handles: Iterable[Handle]) -> tuple[Handle, ...]:
        """`handles` (in their order) without those below another one of them.

        What a multi-entity move, delete or copy acts on: a child goes with its parent.
        """
        handles = tuple(handles)
        chosen = set(handles)
        out = []
        for h in handles:
            p = self[h].parent
            while p and p not in chosen:
                p = self[p].parent
            if not p:
                out.append(h)
        return tuple(out)

    def subtree(self, handle: Handle) -> list[Entity]:
        """The entity and all its descendants, depth first."""
        out: list[Entity] = []
        stack = [handle]
        while stack:
            e = self.entities[stack.pop()]
            out.append(e)
            stack.extend(reversed(e.children))
        return out

    def is_ancestor(self, ancestor: Handle, handle: Handle) -> bool:
        """Whether `ancestor` is `handle` or above it in the tree."""
        h = handle
        while h:
            if h == ancestor:
                return True
            h = self.entities[h].parent
        return False

    def world_transform(self, handle: Handle) -> tuple[Vec2, float, Vec2]:
        """The entity's position, rotation and scale in scene coordinates."""
        chain = []
        h = handle
        while h:
            e = self.entities[h]
            chain.append(e)
            h = e.parent
        pos, rot, scale = Vec2.ZERO, 0.0, Vec2.ONE
        for e in reversed(chain):
            local = Vec2(e.position[0] * scale[0], e.position[1] * scale[1]).rotated(rot)
            pos = pos + local
            rot += e.rotation
            scale = Vec2(scale[0] * e.scale[0], scale[1] * e.scale[1])
        return pos, rot, scale

    # --- changes ----------------------------------------------------------------

    def allocate_handle(self) -> Handle:
        """A handle never used in this scene."""
        h = Handle(self.next_handle)
        self.next_handle += 1
        return h

    def spawn(
        self,
        name: str = "Entity",
        *,
        parent: Handle = Handle.NONE,
        index: int | None = None,
        handle: Handle | None = None,
        **attrs: Any,
    ) -> Entity:
        """Create an entity under `parent` (a root by default) and return it.

        Keyword arguments are `Entity` attributes: ``position``, ``rotation``,
        ``scale``, ``visual``, ``scripts``, ``enabled``.
        """
        if handle is None:
            handle = self.allocate_handle()
        elif handle in self.entities or handle <= 0:
            raise SceneError(f"handle {int(handle)} is already used or invalid")
        else:
            self.next_handle = max(self.next_handle, int(handle) + 1)
        if parent and parent not in self.entities:
            raise SceneError(f"parent {int(parent)} does not exist")
        e = Entity(Handle(handle), name, **attrs)
        self.entities[e.handle] = e
        self._link(e.handle, parent, index)
        self.notify(EntityAdded(e.handle))
        return e

    def insert_subtree(self, entities: list[Entity], parent: Handle, index: int | None) -> None:
        """Put back a subtree removed by `remove` (undo of a delete), keeping its handles."""
        root = entities[0]
        if parent and parent not in self.entities:
            raise SceneError(f"parent {int(parent)} does not exist")
        # Check everything before changing anything: a failed insert leaves no half-tree.
        for e in entities:
            if e.handle in self.entities:
                raise SceneError(f"handle {int(e.handle)} is already used")
        for e in entities:
            self.entities[e.handle] = e
            self.next_handle = max(self.next_handle, int(e.handle) + 1)
        self._link(root.handle, parent, index)
        self.notify(EntityAdded(root.handle))

    def remove(self, handle: Handle) -> list[Entity]:
        """Remove an entity and its subtree; return them, depth first (root first)."""
        e = self[handle]
        removed = self.subtree(handle)
        parent = e.parent
        self.siblings_of(handle).remove(handle)
        for r in removed:
            del self.entities[r.handle]
        e.parent = Handle.NONE
        self.notify(EntityRemoved(handle, parent))
        return removed

    def reparent(self, handle: Handle, new_parent: Handle, index: int | None = None) -> None:
        """Move an entity under `new_parent` (``Handle.NONE``: to the roots) at `index`.

        Raises:
            SceneError: `new_parent` is the entity itself or one of its descendants.
        """
        e = self[handle]
        if new_parent and new_parent not in self.entities:
            raise SceneError(f"cannot move {e.name!r}: parent {int(new_parent)} does not exist")
        if new_parent and self.is_ancestor(handle, new_parent):
            raise SceneError(f"cannot move {e.name!r} under itself")
        old_parent = e.parent
        self.siblings_of(handle).remove(handle)
        self._link(handle, new_parent, index)
        self.notify(EntityMoved(handle, old_parent, new_parent))

    def set_attr(self, handle: Handle, attribute: str, value: Any) -> None:
        """Set an entity attribute (name, position, visual, ...) and announce it."""
        e = self[handle]
        if attribute not in Entity.__slots__ or attribute in ("handle", "parent", "children"):
            raise SceneError(f"{attribute!r} is not an editable entity attribute")
        setattr(e, attribute, value)
        self.notify(EntityChanged(handle, attribute))

    def set_script_field(self, handle: Handle, index: int, name: str, value: Any) -> None:
        """Set a declared field of the `index`-th script of an entity, and announce it.

        Raises:
            SceneError: no such script, or the field is not declared by its class.
        """
        e = self[handle]
        if not 0 <= index < len(e.scripts):
            raise SceneError(f"entity {int(handle)} has no script #{index}")
        s = e.scripts[index]
        if name not in declared_fields(type(s)):
            raise SceneError(f"{type(s).__qualname__} has no field {name!r}")
        setattr(s, name, value)
        self.notify(EntityChanged(handle, "scripts"))

    def _link(self, handle: Handle, parent: Handle, index: int | None) -> None:
        siblings = self.entities[parent].children if parent else self.roots
        if index is None or index >= len(siblings):
            siblings.append(handle)
        else:
            siblings.insert(max(0, index), handle)
        self.entities[handle].parent = parent
