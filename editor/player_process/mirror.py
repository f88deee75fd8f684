"""A `Scene` in the editor that mirrors the scene running in the player process.

The panels (scene view, tree, inspector) show scenes, so the separate-process
game is shown as one: `RemoteSceneMirror` fills a plain `Scene` from the
child's ``tree`` and ``entity`` messages (`runtime.channel.entity_payload`),
through the scene's own API, so the panels hear the usual events. Scripts are
built from the editor's loaded classes (the same code the child runs; a type
the editor does not know becomes a `PlaceholderScript`). Entities keep their
handles: the ones of the edited scene are the same entities, so a change made
live can be kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from runtime import Entity, Handle, PlaceholderScript, Scene, Script
from runtime.fields import PlainDataError, declared_fields, from_plain, to_plain
from runtime.player import visual_from_plain
from runtime.scene import EntityChanged, SceneError
from runtime.scripting import instantiate, script_type_id

log = logging.getLogger("hotplay.editor")

#: Finds the script class of a type id in the editor's loaded plugins.
TypeResolver = Callable[[str], "type[Script] | None"]

_ATTRIBUTES = ("name", "enabled", "position", "rotation", "scale")


class RemoteSceneMirror:
    """The editor's copy of the player's scene, kept up to date from its messages.

    Args:
        resolve: the script class of a type id (the editor's registry).
        name: the scene's name until the first tree arrives.
    """

    def __init__(self, resolve: TypeResolver, name: str = "remote") -> None:
        self.resolve = resolve
        self.scene = Scene(name=name)

    def update(self, payload: dict[str, Any]) -> None:
        """Apply a ``tree`` message: spawn, remove, move and refresh entities as needed."""
        entities = [e for e in payload.get("entities", []) if isinstance(e, dict)]
        scene = self.scene
        scene.name = str(payload.get("scene", scene.name)) or scene.name
        seen: set[Handle] = set()
        for data in entities:  # depth first: a parent comes before its children
            seen.add(Handle(int(data.get("handle", 0))))
            self.update_entity(data)
        for gone in [e.handle for e in scene if e.handle not in seen]:
            if gone in scene:  # a removed parent took its children along
                scene.remove(gone)

    def update_entity(self, data: dict[str, Any]) -> None:
        """Apply one entity's data (an ``entity`` message, or an item of a ``tree``)."""
        scene = self.scene
        h = Handle(int(data.get("handle", 0)))
        parent = Handle(int(data.get("parent", 0)))
        if not h:
            return
        if parent and parent not in scene:
            parent = Handle.NONE  # its parent comes with the next tree
        try:
            if h not in scene:
                scene.spawn(str(data.get("name", "Entity")), parent=parent, handle=h)
            elif scene[h].parent != parent:
                scene.reparent(h, parent)
        except SceneError as exc:
            log.warning("remote entity %d not mirrored: %s", int(h), exc)
            return
        e = scene[h]
        for attribute in _ATTRIBUTES:
            if attribute in data and _differs(getattr(e, attribute), data[attribute]):
                scene.set_attr(h, attribute, data[attribute])
        if "visual" in data:
            self._update_visual(e, data["visual"])
        if "scripts" in data:
            self._update_scripts(e, [s for s in data["scripts"] if isinstance(s, dict)])

    def _update_visual(self, e: Entity, raw: Any) -> None:
        try:
            visual = None if raw is None else visual_from_plain(to_plain(raw))
        except (ValueError, PlainDataError) as exc:
            log.warning("remote entity %d: its visual is not mirrored: %s", int(e.handle), exc)
            return
        if visual != e.visual:
            self.scene.set_attr(e.handle, "visual", visual)

    def _update_scripts(self, e: Entity, scripts: list[dict[str, Any]]) -> None:
        types = [str(s.get("type", "")) for s in scripts]
        # Rebuilt when a type changed, or when the editor reloaded the class (its
        # fields may differ): the mirror is not in the editor's game, which migrates
        # only its own scenes.
        if types != [script_type_id(s) for s in e.scripts] or any(
            type(s) is not (self.resolve(t) or PlaceholderScript)
            for s, t in zip(e.scripts, types, strict=True)
        ):
            built = [
                self._build_script(t, dict(s.get("fields", {})))
                for t, s in zip(types, scripts, strict=True)
            ]
            self.scene.set_attr(e.handle, "scripts", built)
            return
        changed = False
        for script, data in zip(e.scripts, scripts, strict=True):
            if type(script) is PlaceholderScript:
                continue
            specs = declared_fields(type(script))
            for name, raw in dict(data.get("fields", {})).items():
                spec = specs.get(name)
                if spec is None:
                    continue
                try:
                    value = from_plain(to_plain(raw), spec.annotation)
                except PlainDataError:
                    continue  # shown as it was; the next tree may fit
                if _differs(getattr(script, name, None), value):
                    setattr(script, name, value)
                    changed = True
        if changed:
            self.scene.notify(EntityChanged(e.handle, "scripts"))

    def _build_script(self, type_id: str, fields: dict[str, Any]) -> Script:
        cls = self.resolve(type_id)
        if cls is None:
            return PlaceholderScript(
                type_id, fields, f"the editor has no plugin defining {type_id}"
            )
        values: dict[str, Any] = {}
        specs = declared_fields(cls)
        for name, raw in fields.items():
            spec = specs.get(name)
            if spec is None:
                continue
            try:
                values[name] = from_plain(to_plain(raw), spec.annotation)
            except PlainDataError:
                continue  # its default until the next tree
        script: Script = instantiate(cls, values)
        return script


def _differs(old: Any, new: Any) -> bool:
    return old != new or type(old) is not type(new)
