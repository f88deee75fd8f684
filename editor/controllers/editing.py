"""Edits of the scene, from the panels or the menus, turned into undoable commands."""

from __future__ import annotations

import json
import logging
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QMimeData, QObject, Signal
from PySide6.QtGui import QGuiApplication, QUndoCommand

from editor import commands as cmd
from editor.controllers import STATUS_SECONDS
from editor.controllers.document import DocumentController
from editor.controllers.shown_scene import ShownSceneController
from editor.gizmos import Transform
from editor.inspector import InspectorPanel
from editor.live_changes import PlayModeChange
from editor.scene_tree import SceneTreeView
from editor.scene_view import SceneView
from runtime import Color, Handle, Scene, Visual, VisualKind
from runtime.plugins import describe_error
from runtime.scene import Entity, ScriptColumns
from runtime.scenefile import (
    SceneFileError,
    dumps_scene_data,
    scene_from_data,
    scene_to_data,
    unencodable_text,
)
from runtime.scripting import Script, script_type_id

log = logging.getLogger("hotplay.editor")

#: The clipboard format of copied entities: a scene file holding just them.
ENTITIES_MIME = "application/x-hotplay-entities+json"

_PALETTE = ("#8ecae6", "#ffb703", "#fb8500", "#90be6d", "#f28482", "#b5838d", "#a8dadc")


class EditingController(QObject):
    """Pushes a command on the document's undo stack for every edit of the edited scene.

    The panels only report what the user did (a field edited, an entity
    dragged, renamed or dropped elsewhere); nothing is pushed while a game
    plays, since the edited scene is frozen then.

    Args:
        document: the edited document (its scene and undo stack).
        shown: the shown scene and its selection.
        is_playing: whether a game runs.
        scene_view: reports moves; new entities appear at its centre.
        scene_tree: reports renames and drops.
        inspector: reports field edits and script additions and removals.
        parent: the owning window.

    Signals:
        statusReported(str, str, float): a message for the status bar (text, kind, seconds).
    """

    statusReported = Signal(str, str, float)

    def __init__(
        self,
        document: DocumentController,
        shown: ShownSceneController,
        is_playing: Callable[[], bool],
        scene_view: SceneView,
        scene_tree: SceneTreeView,
        inspector: InspectorPanel,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.shown = shown
        self._is_playing = is_playing
        self._scene_view = scene_view
        scene_view.transformFinished.connect(self._on_view_transform_finished)
        scene_tree.renameRequested.connect(self._on_tree_rename_requested)
        scene_tree.reparentRequested.connect(self._on_tree_reparent_requested)
        inspector.attributeEdited.connect(self._on_attribute_edited)
        inspector.scriptFieldEdited.connect(self._on_script_field_edited)
        inspector.addScriptRequested.connect(self._on_add_script_requested)
        inspector.removeScriptRequested.connect(self._on_remove_script_requested)
        inspector.discardStashRequested.connect(self._on_discard_stash_requested)
        # Every reload migrates the edited scene: what it changes in the document's
        # data becomes one undoable step (never a change behind the user's back).
        document.game.add_reload_participant(self._on_reload_prepared)

    @property
    def _target(self) -> cmd.EditTarget:
        return self.document.edit_target

    def add_entity(self, *, child: bool = False) -> Handle | None:
        """Add an entity (a root, or a child of the selected one) and select it."""
        if self._is_playing():
            return None
        selected = self.shown.selected
        parent = selected if child and selected is not None else Handle.NONE
        scene = self.document.scene
        visual = Visual(VisualKind.RECT, color=Color.parse(_PALETTE[len(scene) % len(_PALETTE)]))
        center = self._scene_view.camera.center if not parent else None
        command = cmd.AddEntity(self._target, "Entity", parent, visual, center)
        self._push(command)
        if command.handle is not None:
            self.shown.select(command.handle)
        return command.handle

    def _selected_roots(self, scene: Scene | None = None) -> tuple[Handle, ...]:
        """The selected entities of `scene` (the edited one) without those under another."""
        scene = scene or self.document.scene
        return scene.outermost(h for h in self.shown.selection if h in scene)

    def delete_selected(self) -> None:
        """Delete the selected entities and their children (one undoable step)."""
        roots = self._selected_roots()
        if not roots or self._is_playing():
            return
        self._macro(
            f"Delete {len(roots)} entities",
            [cmd.DeleteEntity(self._target, h) for h in roots],
        )

    def duplicate_selected(self) -> Handle | None:
        """Duplicate the selected entities with their children and select the copies.

        Returns:
            The copy of the primary selected entity.
        """
        roots = self._selected_roots()
        if not roots or self._is_playing():
            return None
        commands = [cmd.DuplicateEntity(self._target, h) for h in roots]
        self._macro(f"Duplicate {len(roots)} entities", commands)
        copies = tuple(c.handle for c in commands if c.handle is not None)
        self.shown.select_many(copies)
        return copies[0] if copies else None

    def add_script_to_selected(self, type_id: str) -> None:
        """Add a script of `type_id` to every selected entity (one undoable step)."""
        handles = self.shown.selection
        if handles and not self._is_playing():
            name = type_id.rpartition(":")[2]
            self._macro(
                f"Add {name} to {len(handles)} entities",
                [cmd.AddScript(self._target, h, type_id) for h in handles],
            )

    def copy_selected(self) -> bool:
        """Put the selected entities, with children and scripts, on the clipboard.

        The clipboard holds a scene file with just them (JSON, never pickle), so
        another scene or another editor can paste them.

        Returns:
            Whether anything was copied.
        """
        # While playing, this copies from the running game: its entities as they are now.
        source = self.shown.scene or self.document.scene
        roots = self._selected_roots(source)
        if not roots:
            return False
        clip = Scene(name="clipboard")
        for h in roots:
            ents = cmd.build_subtree(cmd.capture_subtree(source, h), self._target.resolve)
            ents[0].parent = Handle.NONE
            clip.insert_subtree(ents, Handle.NONE, None)
        text = dumps_scene_data(scene_to_data(clip))
        mime = QMimeData()
        mime.setData(ENTITIES_MIME, text.encode("utf-8"))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        self.statusReported.emit(f"copied {len(clip)} entities", "info", STATUS_SECONDS)
        return True

    def paste(self) -> tuple[Handle, ...]:
        """Paste entities from the clipboard next to the selection and select them.

        They go under the primary selected entity's parent (the top level if
        nothing is selected), with new handles; scripts of types no plugin
        defines become placeholders that keep their data.

        Returns:
            The pasted entities (none if the clipboard holds no entities).
        """
        if self._is_playing():
            return ()
        subtrees = self._clipboard_subtrees()
        if not subtrees:
            return ()
        selected = self.shown.selected
        scene = self.document.scene
        parent = scene[selected].parent if selected is not None and selected in scene else None
        command = cmd.PasteEntities(self._target, subtrees, parent or Handle.NONE)
        self._push(command)
        self.shown.select_many(tuple(command.handles))
        return tuple(command.handles)

    def _clipboard_subtrees(self) -> list[list[cmd.EntityData]]:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return []
        if mime.hasFormat(ENTITIES_MIME):
            text = bytes(mime.data(ENTITIES_MIME).data()).decode("utf-8", "replace")
        elif mime.hasText() and mime.text().lstrip().startswith("{"):
            text = mime.text()  # pasted from a text editor: accept a scene file too
        else:
            return []
        try:
            clip = scene_from_data(json.loads(text), self._target.resolve, source="<clipboard>")
        except (ValueError, SceneFileError) as exc:
            self.statusReported.emit(f"cannot paste: {exc}", "error", STATUS_SECONDS)
            return []
        return [cmd.capture_subtree(clip, h) for h in clip.roots]

    def _macro(self, text: str, commands: Sequence[QUndoCommand]) -> None:
        """Push several commands as one undo step (one alone keeps its own text)."""
        if len(commands) == 1:
            self._push(commands[0])
            return
        stack = self.document.undo_stack
        stack.beginMacro(text)
        try:
            for c in commands:
                self._push(c)
        finally:
            stack.endMacro()

    def keep_play_changes(self, changes: list[PlayModeChange]) -> None:
        """Apply the play-mode changes kept at Stop to the edited scene, as one undoable step.

        Changes of entities spawned while playing are not in the edited scene: they
        are left out, and the status bar says how many.
        """
        command = cmd.KeepPlayChanges(self._target, changes)
        if not command.empty:
            self._push(command)
        skipped = len(command.skipped)
        applied = len(changes) - skipped
        text = f"kept {applied} play-mode change{'s' if applied != 1 else ''} (Undo reverts them)"
        if skipped:
            text += (
                f"; {skipped} left out: their entity was spawned while playing, "
                "or its script is not in the edited scene"
            )
        log.info("%s", text)
        self.statusReported.emit(text, "ok" if not skipped else "warning", STATUS_SECONDS)

    def _push(self, command: QUndoCommand) -> None:
        if self._is_playing():
            return  # the edited scene is frozen while a copy plays
        try:
            self.document.undo_stack.push(command)
        except Exception as exc:  # a command that cannot apply must not crash the editor
            log.error("edit failed: %s", describe_error(exc))
            self.statusReported.emit(f"edit failed: {exc}", "error", STATUS_SECONDS)

    def _refuse_unencodable(self, what: str, value: Any) -> bool:
        """Report and refuse a value holding text no file can store (a lone surrogate).

        Returns:
            Whether the value was refused.
        """
        bad = unencodable_text(value)
        if bad is None:
            return False
        message = f"{what} not changed: {bad!r} holds a character no file can store"
        log.warning("%s", message)
        self.statusReported.emit(message, "error", STATUS_SECONDS)
        return True

    def _on_attribute_edited(self, handle: Handle, attribute: str, value: Any) -> None:
        e = self.document.scene.get(handle)
        if e is None or self._is_playing() or self._refuse_unencodable(attribute, value):
            return
        old = getattr(e, attribute)
        if old == value and type(old) is type(value):
            return
        self._push(cmd.SetEntityAttribute(self._target, handle, attribute, value, old))

    def _on_script_field_edited(
        self, handle: Handle, index: int, type_id: str, field: str, value: Any
    ) -> None:
        e = self.document.scene.get(handle)
        if e is None or self._is_playing() or index >= len(e.scripts):
            return
        if self._refuse_unencodable(field, value):
            return
        old = getattr(e.scripts[index], field)
        if old == value and type(old) is type(value):
            return
        self._push(cmd.SetScriptField(self._target, handle, index, type_id, field, value, old))

    def _on_discard_stash_requested(
        self, handle: Handle, index: int, type_id: str, key: str
    ) -> None:
        self._push(cmd.DiscardStash(self._target, handle, index, type_id, key))

    def _on_reload_prepared(self, _fresh: dict[str, Any]) -> Callable[[], None] | None:
        """A reload participant: the edited scene's scripts before the swap; compare after.

        Only the objects are kept (columns built in C): a reload never changes the
        attributes of an object it replaces, and of those it keeps, it changes only
        the attributes of the classes it migrates in place, whose attributes are
        copied here. Only a script replaced, or migrated in place, is compared as
        plain data, after.
        """
        scene = self.document.scene
        if scene not in self.document.game.scenes:
            return None  # set aside while a copy plays: this reload leaves it alone
        before = scene.script_columns()
        in_place = self.document.game.migrating_in_place
        was: dict[int, tuple[type, dict[str, Any]]] = {}
        if in_place:
            was = {
                k: (type(s), dict(vars(s)))
                for k, s in enumerate(before.scripts)
                if type(s) in in_place
            }
        return lambda: self._on_reload_committed(scene, before, was)

    def _on_reload_committed(
        self, scene: Any, before: ScriptColumns, was: dict[int, tuple[type, dict[str, Any]]]
    ) -> None:
        if scene is not self.document.scene:
            return
        after = scene.script_columns()
        if len(after.scripts) == len(before.scripts) and all(
            map(operator.is_, after.entities, before.entities)
        ):
            pairs = zip(before.scripts, after.scripts, before.entities, before.indices, strict=True)
            replaced = [p for p in pairs if p[0] is not p[1]]
            replaced += [
                (_as_it_was(*was[k]), after.scripts[k], before.entities[k], before.indices[k])
                for k in was
                if after.scripts[k] is before.scripts[k]
            ]
        else:  # not a reload's doing, but be safe: match by entity and index
            now = {(e.handle, i): s for e, i, s in zip(*_columns(after), strict=True)}
            replaced = []
            for k, (e, i, old_script) in enumerate(zip(*_columns(before), strict=True)):
                new_script = now.get((e.handle, i))
                if new_script is not None and new_script is not old_script:
                    replaced.append((old_script, new_script, e, i))
                elif new_script is not None and k in was:
                    replaced.append((_as_it_was(*was[k]), new_script, e, i))
        resolve = self.document.edit_target.resolve
        same_type_id: dict[tuple[type, type], bool] = {}
        changes = []
        for old_script, s, e, i in replaced:
            attrs = vars(old_script)
            classes = (type(old_script), type(s))
            if classes not in same_type_id:
                same_type_id[classes] = script_type_id(old_script) == script_type_id(s)
            if same_type_id[classes] and vars(s) == attrs:
                continue  # the same state under the new code: nothing for the file
            old = cmd.ScriptData.of(old_script)
            after_data = cmd.ScriptData.of(s)
            # A change is what the saved file, opened with the new code, would not
            # give: fields added at their default or set aside in the stash are not.
            if after_data != cmd.ScriptData.of(old.build(resolve)):
                changes.append((e.handle, i, old, after_data))
        if changes:
            # Pushed even while a game plays: the reload changed the edited scene then too.
            self.document.undo_stack.push(cmd.ReloadChangedScripts(self._target, changes))

    def _on_add_script_requested(self, handle: Handle, type_id: str) -> None:
        self._push(cmd.AddScript(self._target, handle, type_id))

    def _on_remove_script_requested(self, handle: Handle, index: int) -> None:
        self._push(cmd.RemoveScript(self._target, handle, index))

    def _on_view_transform_finished(
        self, verb: str, before: Mapping[Handle, Transform], after: Mapping[Handle, Transform]
    ) -> None:
        scene = self.document.scene
        if len(after) == 1:
            text = f"{verb} {scene[next(iter(after))].name}"
        else:
            text = f"{verb} {len(after)} entities"
        self._push(cmd.SetTransforms(self._target, before, after, text))

    def _on_tree_rename_requested(self, handle: Handle, name: str) -> None:
        old = self.document.scene[handle].name
        self._push(cmd.SetEntityAttribute(self._target, handle, "name", name, old, "Rename"))

    def _on_tree_reparent_requested(
        self, handle: Handle, new_parent: Handle, index: int | None
    ) -> None:
        self._push(cmd.ReparentEntity(self._target, handle, new_parent, index))
        self.shown.select(handle)


def _columns(c: ScriptColumns) -> tuple[list[Entity], list[int], list[Script]]:
    return c.entities, c.indices, c.scripts


def _as_it_was(cls: type, attrs: dict[str, Any]) -> Script:
    """A stand-in for a script as it was before a reload migrated it in place (only read)."""
    stand_in: Script = object.__new__(cls)
    object.__setattr__(stand_in, "__dict__", attrs)
    return stand_in
