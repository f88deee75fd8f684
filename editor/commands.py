"""Undoable scene edits (`QUndoCommand` subclasses).

Every command refers to entities by `Handle`, to scripts by their index on the
entity *and* their type id, and to script fields by name; values of script
fields are kept as plain data (what a scene file stores) and converted with the
field's *current* declared type when applied. No command holds a Python object
of plugin code, so the undo history stays usable across hot reloads (Fyrox
has to flush its undo stacks at this point; we do not).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QUndoCommand

from editor.gizmos import Transform
from runtime import Entity, Handle, PlaceholderScript, Scene, Script, Visual
from runtime.fields import declared_fields, from_plain, to_plain
from runtime.reload.stash import object_from_data
from runtime.scene import EntityChanged, ScriptsReplaced
from runtime.scripting import script_plain_fields, script_type_id, set_stash, stash_of

log = logging.getLogger("hotplay.editor")

#: Finds the script class of a type id in the plugins loaded *now*.
TypeResolver = Callable[[str], "type[Script] | None"]

_MERGE_ATTR = 1001
_MERGE_FIELD = 1002
_MERGE_RELOAD = 1003


# --- plain data for scripts and subtrees -----------------------------------------------


@dataclass(frozen=True, slots=True)
class ScriptData:
    """A script as stored in a scene file: its type id, plain field values and stash."""

    type_id: str
    fields: dict[str, Any]
    stash: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, script: Script) -> ScriptData:
        """The data of a live script (or placeholder)."""
        return cls(script_type_id(script), script_plain_fields(script), dict(stash_of(script)))

    def build(self, resolve: TypeResolver) -> Script:
        """A script from the current code, losing nothing.

        Data the code no longer has a field for, or that does not fit its field,
        goes to the script's stash, as a hot reload does (`object_from_data`). A
        type no plugin defines (any more) gives a `PlaceholderScript` that keeps the data.
        """
        cls = resolve(self.type_id)
        if cls is None:
            placeholder = PlaceholderScript(
                self.type_id, dict(self.fields), f"no plugin defines {self.type_id}"
            )
            set_stash(placeholder, self.stash)
            return placeholder
        script: Script = object_from_data(cls, self.fields, self.stash)
        return script


@dataclass(frozen=True, slots=True)
class EntityData:
    """An entity without its place in a tree: what delete and duplicate keep."""

    handle: Handle
    name: str
    position: Any
    rotation: float
    scale: Any
    enabled: bool
    visual: Visual | None
    scripts: tuple[ScriptData, ...]
    children: tuple[Handle, ...]

    @classmethod
    def of(cls, e: Entity) -> EntityData:
        """Capture an entity (its scripts as plain data)."""
        return cls(
            e.handle,
            e.name,
            e.position,
            e.rotation,
            e.scale,
            e.enabled,
            e.visual.copy() if e.visual is not None else None,
            tuple(ScriptData.of(s) for s in e.scripts),
            tuple(e.children),
        )

    def build(self, resolve: TypeResolver, handle: Handle | None = None) -> Entity:
        """A new entity from this data, with scripts of the current code."""
        e = Entity(
            self.handle if handle is None else handle,
            self.name,
            position=self.position,
            rotation=self.rotation,
            scale=self.scale,
            visual=self.visual.copy() if self.visual is not None else None,
            scripts=[s.build(resolve) for s in self.scripts],
            enabled=self.enabled,
        )
        return e


def capture_subtree(scene: Scene, handle: Handle) -> list[EntityData]:
    """An entity and its descendants as data, depth first (root first)."""
    return [EntityData.of(e) for e in scene.subtree(handle)]


def build_subtree(
    data: list[EntityData], resolve: TypeResolver, remap: dict[Handle, Handle] | None = None
) -> list[Entity]:
    """Entities from `capture_subtree` data, children linked, handles optionally renamed."""
    remap = remap or {}
    out = [d.build(resolve, remap.get(d.handle)) for d in data]
    for d, e in zip(data, out, strict=True):
        e.children = [remap.get(c, c) for c in d.children]
    by_handle = {e.handle: e for e in out}
    for e in out:
        for c in e.children:
            by_handle[c].parent = e.handle
    return out


# --- the context commands work in -------------------------------------------------------


class EditTarget:
    """What commands edit: the edited scene and the script types loaded now.

    Commands keep this object, never a script: `scene` is replaced when another
    scene is opened (and the undo stack is cleared then), `resolve` always asks
    the game's current registry.
    """

    def __init__(self, scene: Scene, resolve: TypeResolver) -> None:
        self.scene = scene
        self.resolve = resolve


def _find_script(e: Entity, index: int, type_id: str) -> int:
    """The index of the script a command means.

    `index` if its type still matches, else the first script of that type (the
    scripts were reordered by another edit).
    """
    if 0 <= index < len(e.scripts) and script_type_id(e.scripts[index]) == type_id:
        return index
    for i, s in enumerate(e.scripts):
        if script_type_id(s) == type_id:
            return i
    raise LookupError(f"entity {int(e.handle)} ({e.name!r}) has no script {type_id}")


# --- commands ----------------------------------------------------------------------------


class SetEntityAttribute(QUndoCommand):
    """Set an entity attribute (name, position, rotation, scale, enabled, visual)."""

    def __init__(
        self,
        target: EditTarget,
        handle: Handle,
        attribute: str,
        value: Any,
        old: Any,
        text: str = "",
    ) -> None:
        super().__init__(text or f"Change {attribute}")
        self.target = target
        self.handle = handle
        self.attribute = attribute
        self.value = value.copy() if isinstance(value, Visual) else value
        self.old = old.copy() if isinstance(old, Visual) else old

    def _set(self, value: Any) -> None:
        v = value.copy() if isinstance(value, Visual) else value
        self.target.scene.set_attr(self.handle, self.attribute, v)

    def redo(self) -> None:  # noqa: D102 (base-class API)
        self._set(self.value)

    def undo(self) -> None:  # noqa: D102 (base-class API)
        self._set(self.old)

    def id(self) -> int:  # noqa: D102 (base-class API)
        return _MERGE_ATTR

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: D102 (base-class API)
        # Consecutive edits of one attribute (spin box arrows, typing) are one step.
        if (
            isinstance(other, SetEntityAttribute)
            and other.handle == self.handle
            and other.attribute == self.attribute
            and self.attribute != "visual"
        ):
            self.value = other.value
            return True
        return False


class SetScriptField(QUndoCommand):
    """Set one declared field of one script, by (entity, script index + type id, field name)."""

    def __init__(
        self,
        target: EditTarget,
        handle: Handle,
        index: int,
        type_id: str,
        field: str,
        value: Any,
        old: Any,
    ) -> None:
        super().__init__(f"Change {type_id.rpartition(':')[2]}.{field}")
        self.target = target
        self.handle = handle
        self.index = index
        self.type_id = type_id
        self.field = field
        # Plain data, converted with the field's type at the time of applying.
        self.value = to_plain(value)
        self.old = to_plain(old)
        #: What this edit changed, for merging (``None``: a structural edit, never merged).
        self.part = _edited_part(old, value)

    def _set(self, plain: Any) -> None:
        scene = self.target.scene
        e = scene[self.handle]
        i = _find_script(e, self.index, self.type_id)
        s = e.scripts[i]
        spec = declared_fields(type(s)).get(self.field)
        if spec is None:
            log.warning(
                "cannot change %s.%s: the field no longer exists in the code",
                self.type_id,
                self.field,
            )
            return
        setattr(s, self.field, from_plain(plain, spec.annotation))
        scene.notify(EntityChanged(self.handle, "scripts"))

    def redo(self) -> None:  # noqa: D102 (base-class API)
        self._set(self.value)

    def undo(self) -> None:  # noqa: D102 (base-class API)
        self._set(self.old)

    def id(self) -> int:  # noqa: D102 (base-class API)
        return _MERGE_FIELD

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: D102 (base-class API)
        if isinstance(other, SetScriptField) and (
            other.handle,
            other.index,
            other.type_id,
            other.field,
        ) == (self.handle, self.index, self.type_id, self.field):
            # One step per field, list item or dataclass member being typed into;
            # adding, removing or moving items and setting/unsetting are steps of their own.
            if self.part is None or other.part != self.part:
                return False
            self.value = other.value
            return True
        return False


def _edited_part(old: Any, new: Any) -> Any:
    """Which part of a field value an edit changed, for merging consecutive edits.

    ``"value"``, ``("item", i)`` or ``("member", name)``; ``None`` for a structural
    change (list items added, removed or moved; an optional set or unset).
    """
    if (old is None) != (new is None):
        return None
    if type(old) is list and type(new) is list:
        if len(old) != len(new):
            return None
        changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        return ("item", changed[0]) if len(changed) == 1 else None
    if type(old) is type(new) and dataclasses.is_dataclass(old) and not isinstance(old, type):
        changed_members = [
            f.name for f in dataclasses.fields(old) if getattr(old, f.name) != getattr(new, f.name)
        ]
        if len(changed_members) == 1:
            return ("member", changed_members[0])
    return "value"


class AddScript(QUndoCommand):
    """Add a script of a type id (with its declared defaults) to an entity."""

    def __init__(
        self, target: EditTarget, handle: Handle, type_id: str, index: int | None = None
    ) -> None:
        super().__init__(f"Add script {type_id.rpartition(':')[2]}")
        self.target = target
        self.handle = handle
        self.data = ScriptData(type_id, {})
        self.index = index

    def redo(self) -> None:  # noqa: D102 (base-class API)
        e = self.target.scene[self.handle]
        idx = len(e.scripts) if self.index is None else self.index
        self.index = idx
        e.scripts.insert(idx, self.data.build(self.target.resolve))
        self.target.scene.notify(ScriptsReplaced((self.handle,)))

    def undo(self) -> None:  # noqa: D102 (base-class API)
        e = self.target.scene[self.handle]
        assert self.index is not None
        i = _find_script(e, self.index, self.data.type_id)
        # Keep what was typed into the new script, for redo.
        self.data = ScriptData.of(e.scripts.pop(i))
        self.target.scene.notify(ScriptsReplaced((self.handle,)))


class RemoveScript(QUndoCommand):
    """Remove a script from an entity (undo puts it back with its field values)."""

    def __init__(self, target: EditTarget, handle: Handle, index: int) -> None:
        s = target.scene[handle].scripts[index]
        self.data = ScriptData.of(s)
        super().__init__(f"Remove script {self.data.type_id.rpartition(':')[2]}")
        self.target = target
        self.handle = handle
        self.index = index

    def redo(self) -> None:  # noqa: D102 (base-class API)
        e = self.target.scene[self.handle]
        i = _find_script(e, self.index, self.data.type_id)
        self.data = ScriptData.of(e.scripts.pop(i))
        self.index = i
        self.target.scene.notify(ScriptsReplaced((self.handle,)))

    def undo(self) -> None:  # noqa: D102 (base-class API)
        e = self.target.scene[self.handle]
        e.scripts.insert(min(self.index, len(e.scripts)), self.data.build(self.target.resolve))
        self.target.scene.notify(ScriptsReplaced((self.handle,)))


class AddEntity(QUndoCommand):
    """Create an entity (a root, or a child of `parent`)."""

    def __init__(
        self,
        target: EditTarget,
        name: str,
        parent: Handle = Handle.NONE,
        visual: Visual | None = None,
        position: Any = None,
    ) -> None:
        super().__init__(f"Add {name}")
        self.target = target
        self.name = name
        self.parent = parent
        self.visual = visual
        self.position = position
        self.handle: Handle | None = None

    def redo(self) -> None:  # noqa: D102 (base-class API)
        attrs: dict[str, Any] = {}
        if self.visual is not None:
            attrs["visual"] = self.visual.copy()
        if self.position is not None:
            attrs["position"] = self.position
        e = self.target.scene.spawn(self.name, parent=self.parent, handle=self.handle, **attrs)
        self.handle = e.handle  # redo recreates the same handle: later commands refer to it

    def undo(self) -> None:  # noqa: D102 (base-class API)
        assert self.handle is not None
        self.target.scene.remove(self.handle)


class DeleteEntity(QUndoCommand):
    """Delete an entity with its subtree; undo restores it with the same handles."""

    def __init__(self, target: EditTarget, handle: Handle) -> None:
        super().__init__(f"Delete {target.scene[handle].name}")
        self.target = target
        self.handle = handle
        self.parent = Handle.NONE
        self.index = 0
        self.data: list[EntityData] = []

    def redo(self) -> None:  # noqa: D102 (base-class API)
        scene = self.target.scene
        e = scene[self.handle]
        self.parent = e.parent
        self.index = scene.siblings_of(self.handle).index(self.handle)
        self.data = capture_subtree(scene, self.handle)
        scene.remove(self.handle)

    def undo(self) -> None:  # noqa: D102 (base-class API)
        ents = build_subtree(self.data, self.target.resolve)
        self.target.scene.insert_subtree(ents, self.parent, self.index)


class DuplicateEntity(QUndoCommand):
    """Copy an entity with its subtree next to it (new handles, same data)."""

    def __init__(self, target: EditTarget, handle: Handle) -> None:
        super().__init__(f"Duplicate {target.scene[handle].name}")
        self.target = target
        self.source = handle
        self.remap: dict[Handle, Handle] = {}
        self.handle: Handle | None = None

    def redo(self) -> None:  # noqa: D102 (base-class API)
        scene = self.target.scene
        data = capture_subtree(scene, self.source)
        if not self.remap:
            self.remap = {d.handle: scene.allocate_handle() for d in data}
        ents = build_subtree(data, self.target.resolve, self.remap)
        ents[0].name = _copy_name(ents[0].name, {e.name for e in scene})
        src = scene[self.source]
        index = scene.siblings_of(self.source).index(self.source) + 1
        scene.insert_subtree(ents, src.parent, index)
        self.handle = ents[0].handle

    def undo(self) -> None:  # noqa: D102 (base-class API)
        assert self.handle is not None
        self.target.scene.remove(self.handle)


class ReparentEntity(QUndoCommand):
    """Move an entity under another parent (or to the roots) at an index."""

    def __init__(
        self, target: EditTarget, handle: Handle, new_parent: Handle, index: int | None
    ) -> None:
        scene = target.scene
        super().__init__(f"Move {scene[handle].name}")
        self.target = target
        self.handle = handle
        self.old_parent = scene[handle].parent
        self.old_index = scene.siblings_of(handle).index(handle)
        self.new_parent = new_parent
        self.index = index

    def redo(self) -> None:  # noqa: D102 (base-class API)
        self.target.scene.reparent(self.handle, self.new_parent, self.index)

    def undo(self) -> None:  # noqa: D102 (base-class API)
        self.target.scene.reparent(self.handle, self.old_parent, self.old_index)


class SetTransforms(QUndoCommand):
    """Set position, rotation and scale of several entities at once (one gizmo drag)."""

    def __init__(
        self,
        target: EditTarget,
        before: Mapping[Handle, Transform],
        after: Mapping[Handle, Transform],
        text: str,
    ) -> None:
        super().__init__(text)
        self.target = target
        self.before = dict(before)
        self.after = dict(after)

    def _set(self, transforms: dict[Handle, Transform]) -> None:
        scene = self.target.scene
        for h, t in transforms.items():
            # Always announced, even when a drag already put the values in place
            # (live feedback sets them without events).
            scene.set_attr(h, "position", t.position)
            scene.set_attr(h, "rotation", t.rotation)
            scene.set_attr(h, "scale", t.scale)

    def redo(self) -> None:  # noqa: D102 (base-class API)
        self._set(self.after)

    def undo(self) -> None:  # noqa: D102 (base-class API)
        self._set(self.before)


class PasteEntities(QUndoCommand):
    """Insert copied subtrees (scene-file data) under `parent`, with new handles.

    Args:
        target: the edited scene.
        subtrees: each pasted root with its descendants, as `capture_subtree` gives them.
        parent: where the copies go (`Handle.NONE`: the top level).
    """

    def __init__(
        self, target: EditTarget, subtrees: list[list[EntityData]], parent: Handle
    ) -> None:
        n = len(subtrees)
        super().__init__(f"Paste {subtrees[0][0].name}" if n == 1 else f"Paste {n} entities")
        self.target = target
        self.subtrees = subtrees
        self.parent = parent
        self.remap: dict[Handle, Handle] = {}
        #: The pasted roots, in order.
        self.handles: list[Handle] = []

    def redo(self) -> None:  # noqa: D102 (base-class API)
        scene = self.target.scene
        if not self.remap:
            # Handles from the clipboard may be taken here: every copy gets a new one,
            # and redo after undo gives the same ones back.
            self.remap = {d.handle: scene.allocate_handle() for t in self.subtrees for d in t}
        self.handles = []
        for data in self.subtrees:
            ents = build_subtree(data, self.target.resolve, self.remap)
            if data[0].name in {e.name for e in scene}:
                ents[0].name = _copy_name(ents[0].name, {e.name for e in scene})
            scene.insert_subtree(ents, self.parent, None)
            self.handles.append(ents[0].handle)

    def undo(self) -> None:  # noqa: D102 (base-class API)
        for h in reversed(self.handles):
            self.target.scene.remove(h)


class ReloadChangedScripts(QUndoCommand):
    """What a hot reload changed in the edited scene's data, as one undoable step.

    The reload has already made the change when this is pushed (its first
    `redo` does nothing). Undo rebuilds the scripts from their data before the
    reload with the code loaded *now*, losing nothing (`ScriptData.build`);
    redo rebuilds them from their data after it. Consecutive reloads merge into
    one step, and a step whose reloads cancel out (a save written in two parts
    whose second part brought every value back) disappears from the history.

    Args:
        target: the edited scene and the script types loaded now.
        changes: ``(entity, script index, data before, data after)`` of each script
            whose data the reload changed.
    """

    def __init__(
        self, target: EditTarget, changes: list[tuple[Handle, int, ScriptData, ScriptData]]
    ) -> None:
        super().__init__(_reload_text(len(changes)))
        self.target = target
        self.before = {(h, i): b for h, i, b, _ in changes}
        self.after = {(h, i): a for h, i, _, a in changes}
        self._done = True  # made by the reload itself

    def _apply(self, data: dict[tuple[Handle, int], ScriptData]) -> None:
        scene = self.target.scene
        touched: dict[Handle, None] = {}
        for (h, i), d in data.items():
            e = scene.get(h)
            if e is None or i >= len(e.scripts):
                continue
            e.scripts[i] = d.build(self.target.resolve)
            touched[h] = None
        if touched:
            scene.notify(ScriptsReplaced(tuple(touched)))

    def redo(self) -> None:  # noqa: D102 (base-class API)
        if self._done:
            self._done = False
            return
        self._apply(self.after)

    def undo(self) -> None:  # noqa: D102 (base-class API)
        self._apply(self.before)

    def id(self) -> int:  # noqa: D102 (base-class API)
        return _MERGE_RELOAD

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: D102 (base-class API)
        if not isinstance(other, ReloadChangedScripts):
            return False
        for key, data in other.before.items():
            self.before.setdefault(key, data)
        self.after.update(other.after)
        for key in [k for k, d in self.after.items() if self.before.get(k) == d]:
            del self.before[key], self.after[key]
        self.setText(_reload_text(len(self.after)))
        # Nothing left: the reloads undid each other and the step leaves the history.
        self.setObsolete(not self.after)
        return True


def _reload_text(scripts: int) -> str:
    return f"Code reload changed {scripts} script{'s' if scripts != 1 else ''}"


class DiscardStash(QUndoCommand):
    """Drop one value a hot reload set aside in a script's stash (undo puts it back)."""

    def __init__(self, target: EditTarget, handle: Handle, index: int, type_id: str, key: str):
        super().__init__(f"Discard stale {type_id.rpartition(':')[2]}.{key}")
        self.target = target
        self.handle = handle
        self.index = index
        self.type_id = type_id
        self.key = key
        self.value: Any = None

    def _script(self) -> Script:
        e = self.target.scene[self.handle]
        return e.scripts[_find_script(e, self.index, self.type_id)]

    def redo(self) -> None:  # noqa: D102 (base-class API)
        s = self._script()
        stash = dict(stash_of(s))
        self.value = stash.pop(self.key)
        set_stash(s, stash)
        self.target.scene.notify(ScriptsReplaced((self.handle,)))  # its rows change

    def undo(self) -> None:  # noqa: D102 (base-class API)
        s = self._script()
        set_stash(s, {**stash_of(s), self.key: self.value})
        self.target.scene.notify(ScriptsReplaced((self.handle,)))  # its rows change


def _copy_name(name: str, taken: set[str]) -> str:
    base = name.rstrip("0123456789").rstrip() or name
    n = 2
    while f"{base} {n}" in taken:
        n += 1
    return f"{base} {n}"


class KeepPlayChanges(QUndoCommand):
    """Apply changes made while playing to the edited scene, as one step.

    Only entities of the edited scene can take changes: one spawned while
    playing is not in it, so its changes are left out (`skipped` says which);
    so are changes of a script the edited entity no longer has.

    Args:
        target: the edited scene.
        changes: the kept `editor.live_changes.PlayModeChange` list, in the order made.
    """

    def __init__(self, target: EditTarget, changes: list[Any]) -> None:
        super().__init__("Keep play-mode changes")
        self.target = target
        #: The changes left out (their entity or script is not in the edited scene).
        self.skipped: list[Any] = []
        self._steps: list[QUndoCommand] = []
        scene = target.scene
        visuals: dict[Handle, Visual | None] = {}
        for c in changes:
            e = scene.get(c.handle)
            if e is None:
                self.skipped.append(c)
            elif c.attribute == "scripts":
                try:
                    i = _find_script(e, c.script, c.type_id)
                    old = getattr(e.scripts[i], c.field)
                except (LookupError, AttributeError):
                    self.skipped.append(c)
                    continue
                step = SetScriptField(target, c.handle, i, c.type_id, c.field, c.value, old)
                self._steps.append(step)
            elif c.attribute == "visual" or c.attribute.startswith("visual."):
                # One visual per entity, built from the edited one: a change of its
                # colour does not bring back the size the game had at that moment.
                v = visuals.get(c.handle, e.visual.copy() if e.visual is not None else None)
                if c.attribute == "visual":
                    v = c.value.copy() if c.value is not None else None
                elif v is not None:
                    v = dataclasses.replace(v, **{c.attribute.partition(".")[2]: c.value})
                visuals[c.handle] = v
            else:
                old = getattr(e, c.attribute)
                self._steps.append(SetEntityAttribute(target, c.handle, c.attribute, c.value, old))
        for h, v in visuals.items():
            self._steps.append(SetEntityAttribute(target, h, "visual", v, scene[h].visual))

    @property
    def empty(self) -> bool:
        """Whether nothing applies to the edited scene."""
        return not self._steps

    def redo(self) -> None:  # noqa: D102 (base-class API)
        for step in self._steps:
            step.redo()

    def undo(self) -> None:  # noqa: D102 (base-class API)
        for step in reversed(self._steps):
            step.undo()
