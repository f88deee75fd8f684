"""The inspector: the selected entity's name, transform, visual and scripts.

The panel only shows values and reports edits as signals; the editing
controller turns those into undoable commands ("attributes down, messages
up"). It is rebuilt when the selection or the set of scripts changes (add,
remove, hot reload) and only refreshed in place when values change, so an
editor being typed into keeps its focus. Model events and reloads only mark
it dirty (`schedule_rebuild`): it is rebuilt once, on the next turn of the
event loop, never inside the model's own transaction.

While a game plays the panel is a *live* inspector (`set_mode`): it shows the
running scene, its edits go to the running game, and each field changed there
is marked from the `editor.live_changes.PlayModeChanges` (● changed, ✔ kept),
with *Keep* on the field's context menu and on the entity's header.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from editor.field_editor import FieldEditor
from editor.field_editors import (
    ColorEditor,
    CustomEditor,
    FloatEditor,
    IntEditor,
    ReadOnlyEditor,
    StrEditor,
    Vec2Editor,
    editor_for,
)
from editor.live_changes import ChangeKey, PlayModeChanges, attribute_key, field_key
from editor.theme import themed_icon
from runtime import Color, Handle, PlaceholderScript, Scene, Script, Visual, VisualKind
from runtime.fields import declared_fields, type_name
from runtime.scripting import script_type_id, stash_of

_NO_VISUAL = "none"
_CHANGED_STYLE = "color: #e9a23b; font-weight: bold"
_KEPT_STYLE = "color: #7bc67b; font-weight: bold"
_MODE_NOTES = {
    "playing": "Playing: values are live, and edits change the running game at its next "
    "frame. Changed fields are marked ●; Keep (right-click a field, or the entity's Keep "
    "button) applies them to the edited scene when Play stops.",
    "paused": "Paused: the values are those of the paused game; edits still change it. "
    "Step or resume to run it on.",
    "preview": "A past frame, from the timeline: read-only. Continue live or Replay from "
    "here to play on from it.",
}


class InspectorPanel(QScrollArea):
    """Shows and edits one entity of a scene.

    Signals:
        attributeEdited(Handle, str, object): an entity attribute got a new value.
        scriptFieldEdited(Handle, int, str, str, object): (entity, script index,
            type id, field name, value).
        addScriptRequested(Handle, str): add a script of this type id.
        removeScriptRequested(Handle, int): remove the script at this index.
        keepRequested(object, object): keep play-mode changes: of one value (a
            `ChangeKey`), else of an entity (a `Handle`), else (both ``None``) all.
        discardStashRequested(Handle, int, str, str): drop a stale value from a script's
            stash: (entity, script index, type id, stash key).
        openScriptRequested(str): open the source of this script type id.
        rebuilt(): the form was built again (`rebuild`).
    """

    attributeEdited = Signal(object, str, object)
    keepRequested = Signal(object, object)
    scriptFieldEdited = Signal(object, int, str, str, object)
    addScriptRequested = Signal(object, str)
    removeScriptRequested = Signal(object, int)
    discardStashRequested = Signal(object, int, str, str)
    openScriptRequested = Signal(str)
    rebuilt = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMinimumWidth(300)
        self._scene: Scene | None = None
        self._handle: Handle | None = None
        self._mode = "editing"
        self._live_changes: PlayModeChanges | None = None
        #: Row label and editor of every value that can carry a play-mode change mark.
        self._marked_rows: dict[ChangeKey, tuple[QLabel, QWidget]] = {}
        self.mode_note: QLabel | None = None
        self.keep_entity_button: QToolButton | None = None
        self._script_types: list[tuple[str, type[Script]]] = []
        self._custom: list[CustomEditor] = []
        #: (read the current value, editor) of every editor shown, for `refresh_values`.
        self._bindings: list[tuple[Callable[[], Any], FieldEditor]] = []
        self._field_editors: dict[tuple[int, str], FieldEditor] = {}
        self._stash_rows: dict[tuple[int, str], QToolButton] = {}
        self.add_script_button: QToolButton | None = None
        self._new_script_action: QAction | None = None
        # Zero-timeout and single-shot: a pending rebuild runs once the events
        # queued now are handled, however many changes marked the panel dirty.
        self._rebuild_timer = QTimer(self)
        self._rebuild_timer.setSingleShot(True)
        self._rebuild_timer.setInterval(0)
        self._rebuild_timer.timeout.connect(self.rebuild)
        self.rebuild()

    # --- what is shown ---------------------------------------------------------------

    @property
    def handle(self) -> Handle | None:
        """The entity shown, or ``None``."""
        return self._handle

    @property
    def mode(self) -> str:
        """``editing``, ``playing``, ``paused`` or ``preview`` (a past frame, read-only)."""
        return self._mode

    def set_scene(self, scene: Scene | None, *, mode: str = "editing") -> None:
        """Show entities of `scene`: the edited one, or the running game's (live)."""
        self._scene = scene
        self._mode = mode
        self.rebuild()

    def set_mode(self, mode: str) -> None:
        """The game started, paused or resumed: say so (the scene shown stays)."""
        if mode != self._mode:
            self._mode = mode
            if self.mode_note is not None and mode in _MODE_NOTES:
                self.mode_note.setText(_MODE_NOTES[mode])
            else:
                self.rebuild()

    def set_live_changes(self, changes: PlayModeChanges) -> None:
        """The play-mode changes to mark (noted by the play controller)."""
        self._live_changes = changes
        changes.changed.connect(self._show_change_marks)

    def change_mark(self, key: ChangeKey) -> str:
        """How a value is marked: ``""``, ``"changed"`` or ``"kept"`` (for tests)."""
        label = self._marked_rows.get(key)
        return str(label[0].property("liveChange") or "") if label is not None else ""

    def set_entity(self, handle: Handle | None) -> None:
        """Show another entity (``None``: nothing)."""
        if handle != self._handle:
            self._handle = handle
            self.rebuild()

    def set_script_types(self, types: list[tuple[str, type[Script]]]) -> None:
        """The script types the add-script menu offers (the loaded plugins' types)."""
        self._script_types = list(types)
        self._fill_add_menu()

    def set_custom_editors(self, editors: list[CustomEditor]) -> None:
        """Field editors provided by plugins (tried first), used from the next rebuild."""
        self._custom = list(editors)
        self.schedule_rebuild()

    def set_new_script_action(self, action: QAction) -> None:
        """The window's New Script… action, offered at the end of the add-script menu."""
        self._new_script_action = action
        self._fill_add_menu()

    def open_script_action(self, index: int) -> QAction | None:
        """The Open Script action of the script shown at `index` (for tests and automation)."""
        form = self.widget()
        group = form.findChild(QGroupBox, f"script:{index}") if form is not None else None
        return group.findChild(QAction, "openScriptAction") if group is not None else None

    def script_field_editor(self, index: int, field: str) -> FieldEditor | None:
        """The editor of a script field, as shown now (for tests and plugins)."""
        return self._field_editors.get((index, field))

    def shown_fields(self, index: int) -> list[str]:
        """The field names shown for the script at `index`."""
        return [f for (i, f) in self._field_editors if i == index]

    def shown_stash(self, index: int) -> list[str]:
        """The stale stash entries shown for the script at `index`."""
        return [k for (i, k) in self._stash_rows if i == index]

    def discard_button(self, index: int, key: str) -> QToolButton | None:
        """The Discard button of a stash entry, as shown now (for tests)."""
        return self._stash_rows.get((index, key))

    # --- building ---------------------------------------------------------------------

    def schedule_rebuild(self) -> None:
        """Mark the form out of date: it is rebuilt once, on the next turn of the event loop."""
        if not self._rebuild_timer.isActive():
            self._rebuild_timer.start()

    def rebuild_if_dirty(self) -> None:
        """Run a pending `schedule_rebuild` now (an edit of the user's shows at once)."""
        if self._rebuild_timer.isActive():
            self.rebuild()

    def rebuild(self) -> None:
        """Build the form again from the model now (selection or scripts changed)."""
        self._rebuild_timer.stop()  # this rebuild is the one that was pending
        self._bindings = []
        self._field_editors = {}
        self._marked_rows = {}
        self._stash_rows = {}
        self.add_script_button = None
        self.mode_note = None
        self.keep_entity_button = None
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(8)
        e = self._entity()
        if e is None:
            hint = QLabel("Select an entity in the scene or the tree to inspect it.")
            hint.setWordWrap(True)
            hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
            hint.setStyleSheet("color: #7d8590; padding: 24px")
            lay.addWidget(hint)
            lay.addStretch(1)
            self.setWidget(page)
            self.rebuilt.emit()
            return
        rows = [self._header(e.handle), self._transform_group(e.handle)]
        rows.append(self._visual_group(e.handle))
        rows += [self._script_group(e.handle, i, s) for i, s in enumerate(e.scripts)]
        for row in rows:
            # A past frame of the timeline is not the game: nothing there can be edited.
            row.setEnabled(self._mode != "preview")
            lay.addWidget(row)
        if self._mode == "editing":
            lay.addWidget(self._add_script_row())
        else:
            note = QLabel(_MODE_NOTES.get(self._mode, ""))
            note.setObjectName("inspectorModeNote")
            note.setWordWrap(True)
            note.setStyleSheet("color: #7d8590")
            lay.addWidget(note)
            self.mode_note = note
        lay.addStretch(1)
        self.setWidget(page)
        self.refresh_values()
        self._show_change_marks()
        self.rebuilt.emit()

    def refresh_values(self, *, force: bool = False) -> None:
        """Show the model's current values in every editor.

        Args:
            force: also overwrite the editor being typed into (after undo/redo).
        """
        e = self._entity()
        if e is None:
            return
        focus = QApplication.focusWidget()
        for read, ed in self._bindings:
            if not force and focus is not None and ed.isAncestorOf(focus):
                continue  # do not overwrite what the user is typing
            # A script gone since the last rebuild raises here; the next event rebuilds.
            with contextlib.suppress(LookupError, AttributeError):
                ed.set_value(read())

    def _entity(self) -> Any:
        if self._scene is None or self._handle is None:
            return None
        return self._scene.get(self._handle)

    def _bind(self, editor: FieldEditor, read: Callable[[], Any]) -> FieldEditor:
        self._bindings.append((read, editor))
        return editor

    def _header(self, h: Handle) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        name = QLineEdit()
        name.setObjectName("entityName")
        name.setPlaceholderText("name")
        font = name.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        name.setFont(font)
        name.setText(self._scene[h].name)  # type: ignore[index]
        name.editingFinished.connect(lambda: self._on_name_edited(h, name.text()))
        enabled = QCheckBox("enabled")
        enabled.setObjectName("entityEnabled")
        enabled.setChecked(self._scene[h].enabled)  # type: ignore[index]
        enabled.toggled.connect(lambda on: self.attributeEdited.emit(h, "enabled", bool(on)))
        tag = QLabel(f"#{int(h)}")
        tag.setStyleSheet("color: #7d8590")
        tag.setToolTip("The entity's handle: scripts refer to entities by it")
        name_mark, enabled_mark = QLabel(), QLabel()  # empty until changed while playing
        for mark, key, editor in (
            (name_mark, attribute_key(h, "name"), name),
            (enabled_mark, attribute_key(h, "enabled"), enabled),
        ):
            mark.setObjectName("changeMark")
            mark.setProperty("plainText", "")
            self._marked_rows[key] = (mark, editor)
        row.addWidget(name_mark)
        row.addWidget(name, 1)
        row.addWidget(enabled_mark)
        row.addWidget(enabled)
        row.addWidget(tag)
        if self._mode != "editing":
            keep = QToolButton()
            keep.setObjectName("keepEntityChangesButton")
            keep.setText("Keep")
            keep.clicked.connect(lambda: self.keepRequested.emit(h, None))
            row.addWidget(keep)
            self.keep_entity_button = keep
        return box

    def _on_name_edited(self, h: Handle, text: str) -> None:
        e = self._entity()
        if e is not None and text and text != e.name:
            self.attributeEdited.emit(h, "name", text)

    def _transform_group(self, h: Handle) -> QGroupBox:
        group = QGroupBox("Transform")
        form = _form(group)
        pos = self._bind(Vec2Editor(), lambda: self._scene[h].position)  # type: ignore[index]
        pos.edited.connect(lambda v: self.attributeEdited.emit(h, "position", v))
        rot = self._bind(FloatEditor(step=5.0), lambda: self._scene[h].rotation)  # type: ignore[index]
        rot.edited.connect(lambda v: self.attributeEdited.emit(h, "rotation", v))
        scale = self._bind(Vec2Editor(), lambda: self._scene[h].scale)  # type: ignore[index]
        scale.edited.connect(lambda v: self.attributeEdited.emit(h, "scale", v))
        pos.setObjectName("positionEditor")
        rot.setObjectName("rotationEditor")
        scale.setObjectName("scaleEditor")
        self._add_row(form, "Position", pos, attribute_key(h, "position"))
        self._add_row(form, "Rotation", rot, attribute_key(h, "rotation"))
        self._add_row(form, "Scale", scale, attribute_key(h, "scale"))
        return group

    def _add_row(self, form: QFormLayout, text: str, editor: QWidget, key: ChangeKey) -> QLabel:
        """A labelled row whose label shows the value's play-mode change mark."""
        label = QLabel(text)
        label.setProperty("plainText", text)
        label.setToolTip(editor.toolTip())
        if self._mode != "editing":
            label.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            label.customContextMenuRequested.connect(
                lambda pos: self._keep_menu(key).exec(label.mapToGlobal(pos))
            )
        form.addRow(label, editor)
        self._marked_rows[key] = (label, editor)
        return label

    def _keep_menu(self, key: ChangeKey) -> QMenu:
        menu = QMenu(self)
        menu.setObjectName("keepChangesMenu")
        field = menu.addAction("Keep this change after Play")
        field.setEnabled(self._live_changes is not None and self._live_changes.get(key) is not None)
        if not field.isEnabled():
            field.setToolTip("This value was not changed while playing")
        field.triggered.connect(lambda: self.keepRequested.emit(None, key))
        entity = menu.addAction("Keep the changes of this entity")
        entity.triggered.connect(lambda: self.keepRequested.emit(key[0], None))
        everything = menu.addAction("Keep all play-mode changes")
        everything.triggered.connect(lambda: self.keepRequested.emit(None, None))
        menu.setToolTipsVisible(True)
        return menu

    def _show_change_marks(self) -> None:
        """Mark the rows whose value was changed while playing: ● changed, ✔ kept."""
        changes = self._live_changes
        for key, (label, editor) in self._marked_rows.items():
            c = changes.get(key) if changes is not None and self._mode != "editing" else None
            state = "" if c is None else ("kept" if c.kept else "changed")
            if (label.property("liveChange") or "") == state:
                continue
            label.setProperty("liveChange", state)
            text = str(label.property("plainText") or "")
            label.setText({"": text, "changed": f"● {text}", "kept": f"✔ {text}"}[state].strip())
            label.setStyleSheet({"": "", "changed": _CHANGED_STYLE, "kept": _KEPT_STYLE}[state])
            label.setToolTip(
                {
                    "": editor.toolTip(),
                    "changed": "changed while playing: it is lost at Stop unless you Keep it "
                    "(right-click)",
                    "kept": "changed while playing and kept: it applies to the edited scene "
                    "when Play stops",
                }[state]
            )
        if self.keep_entity_button is not None and self._handle is not None:
            mine = changes.of_entity(self._handle) if changes is not None else []
            self.keep_entity_button.setEnabled(any(not c.kept for c in mine))
            self.keep_entity_button.setToolTip(
                "Keep this entity's play-mode changes: they apply to the edited scene "
                "when Play stops"
                if any(not c.kept for c in mine)
                else (
                    "Nothing to keep: every change of this entity is kept already"
                    if mine
                    else "Nothing to keep: this entity was not changed while playing"
                )
            )

    def _visual_group(self, h: Handle) -> QGroupBox:
        group = QGroupBox("Visual")
        form = _form(group)
        e = self._scene[h]  # type: ignore[index]
        kind = QComboBox()
        kind.setObjectName("visualKind")
        kind.addItem("None", _NO_VISUAL)
        for k in VisualKind:
            kind.addItem(k.value.capitalize(), k.value)
        kind.setCurrentIndex(kind.findData(e.visual.kind.value if e.visual else _NO_VISUAL))
        kind.activated.connect(lambda i: self._on_kind_chosen(h, kind.itemData(i)))
        self._add_row(form, "Kind", kind, attribute_key(h, "visual"))
        v = e.visual
        if v is None:
            return group

        def visual_field(name: str, editor: FieldEditor, label: str) -> None:
            editor.setObjectName(f"visual_{name}")
            self._bind(editor, lambda: getattr(self._scene[h].visual, name))  # type: ignore[index]
            editor.edited.connect(lambda val: self._on_visual_edited(h, name, val))
            self._add_row(form, label, editor, attribute_key(h, f"visual.{name}"))

        visual_field("size", Vec2Editor(), "Size")
        visual_field("color", ColorEditor(), "Colour")
        visual_field("z", IntEditor(), "Z order")
        if v.kind is VisualKind.IMAGE or v.image:
            visual_field("image", StrEditor(), "Image")
        if v.kind is VisualKind.TEXT:
            visual_field("text", StrEditor(), "Text")
            visual_field("font_size", FloatEditor(), "Font size")
        return group

    def _on_kind_chosen(self, h: Handle, kind: str) -> None:
        e = self._entity()
        if e is None:
            return
        if kind == _NO_VISUAL:
            if e.visual is not None:
                self.attributeEdited.emit(h, "visual", None)
            return
        old = e.visual
        if old is not None and old.kind.value == kind:
            return
        new = old.copy() if old is not None else Visual(color=Color(140, 180, 220))
        new.kind = VisualKind(kind)
        if new.kind is VisualKind.TEXT and not new.text:
            new.text = e.name
        self.attributeEdited.emit(h, "visual", new)

    def _on_visual_edited(self, h: Handle, name: str, value: Any) -> None:
        e = self._entity()
        if e is None or e.visual is None:
            return
        self.attributeEdited.emit(h, "visual", dataclasses.replace(e.visual, **{name: value}))

    def _script_group(self, h: Handle, index: int, s: Script) -> QGroupBox:
        tid = script_type_id(s)
        group = QGroupBox()
        group.setObjectName(f"script:{index}")
        outer = QVBoxLayout(group)
        outer.setContentsMargins(8, 6, 8, 8)
        head = QHBoxLayout()
        title = QLabel(f"<b>{tid.rpartition(':')[2]}</b>  <span style='color:#7d8590'>{tid}</span>")
        title.setToolTip((type(s).__doc__ or "").strip() or tid)
        head.addWidget(title, 1)
        if type(s) is not PlaceholderScript:
            open_script = QAction("Open Script", group)
            open_script.setObjectName("openScriptAction")
            open_script.setIcon(themed_icon("file-code-outline"))
            open_script.setToolTip(f"Open {tid.rpartition(':')[2]} in your text editor")
            open_script.triggered.connect(lambda: self.openScriptRequested.emit(tid))
            open_button = QToolButton()
            open_button.setObjectName("openScriptButton")
            open_button.setAutoRaise(True)
            open_button.setDefaultAction(open_script)
            head.addWidget(open_button)
        if self._mode == "editing":
            remove = QToolButton()
            remove.setObjectName("removeScriptButton")
            remove.setAutoRaise(True)
            remove.setIcon(themed_icon("close"))
            remove.setToolTip(f"Remove {tid.rpartition(':')[2]} from this entity")
            remove.clicked.connect(lambda: self.removeScriptRequested.emit(h, index))
            head.addWidget(remove)
        outer.addLayout(head)
        body = QWidget()
        form = _form(body)
        outer.addWidget(body)
        if type(s) is PlaceholderScript:
            why = QLabel(
                f"⚠ The class of this script is missing ({s.reason}). Its data is kept "
                "read-only and saved unchanged; it comes back to life when the code does."
            )
            why.setObjectName("placeholderReason")
            why.setWordWrap(True)
            why.setStyleSheet("color: #e9c46a")
            outer.insertWidget(1, why)
            for name, value in s.data.items():
                kept = ReadOnlyEditor("kept data of a missing script class")
                kept.set_value(value)
                self._field_editors[(index, name)] = kept
                form.addRow(name, kept)
            self._stash_group(outer, h, index, tid, s)
            return group
        specs = declared_fields(type(s))
        if not specs:
            empty = QLabel("no fields")
            empty.setStyleSheet("color: #7d8590")
            form.addRow(empty)
        for name, spec in specs.items():
            ed = editor_for(spec.annotation, self._scene, self._custom)  # type: ignore[arg-type]
            ed.setObjectName(f"field:{name}")
            ed.setToolTip(f"{name}: {type_name(spec.annotation)} = {spec.default!r}")
            self._bind(ed, _script_reader(self, h, index, name))
            ed.edited.connect(lambda v, n=name: self.scriptFieldEdited.emit(h, index, tid, n, v))
            self._field_editors[(index, name)] = ed
            self._add_row(form, name, ed, field_key(h, index, tid, name))
        self._stash_group(outer, h, index, tid, s)
        return group

    def _stash_group(self, outer: QVBoxLayout, h: Handle, index: int, tid: str, s: Script) -> None:
        """The values hot reloads set aside for this script: stale, read-only, discardable."""
        stash = stash_of(s)
        if not stash:
            return
        box = QGroupBox("Stale data from removed fields")
        box.setObjectName(f"stash:{index}")
        box.setToolTip(
            "Values a code reload set aside: their field was removed, or their value no "
            "longer fits the field's type. They are saved with the scene and come back "
            "when the field does. Discard what you no longer need."
        )
        form = _form(box)
        for key, value in stash.items():
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            shown = ReadOnlyEditor("stale data from a removed field")
            shown.set_value(value)
            line.addWidget(shown, 1)
            discard = QToolButton()
            discard.setObjectName("discardStashButton")
            discard.setText("Discard")
            discard.setToolTip(f"Forget the stale value of {key} (undoable)")
            # The running game's stash is its own: only the edited scene's is discarded.
            discard.setEnabled(self._mode == "editing")
            discard.clicked.connect(
                lambda _=False, k=key: self.discardStashRequested.emit(h, index, tid, k)
            )
            line.addWidget(discard)
            self._stash_rows[(index, key)] = discard
            label = QLabel(f"<i>{key}</i>")
            label.setStyleSheet("color: #e9c46a")
            form.addRow(label, row)
        outer.addWidget(box)

    def _add_script_row(self) -> QWidget:
        button = QToolButton()
        button.setObjectName("addScriptButton")
        button.setText("Add script")
        button.setIcon(themed_icon("plus-box-outline"))
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        menu = QMenu(button)
        menu.setObjectName("addScriptMenu")
        button.setMenu(menu)
        self.add_script_button = button
        self._fill_add_menu()
        return button

    def _fill_add_menu(self) -> None:
        button = self.add_script_button
        if button is None:
            return
        menu = button.menu()
        menu.clear()
        if not self._script_types:
            a = menu.addAction("No script types in the loaded plugins")
            a.setEnabled(False)
        for tid, cls in self._script_types:
            a = QAction(f"{cls.__qualname__}   ({tid})", menu)
            a.setData(tid)
            a.setToolTip((cls.__doc__ or "").strip())
            a.triggered.connect(lambda _=False, t=tid: self._on_add_script(t))
            menu.addAction(a)
        if self._new_script_action is not None:
            menu.addSeparator()
            menu.addAction(self._new_script_action)

    def _on_add_script(self, type_id: str) -> None:
        if self._handle is not None:
            self.addScriptRequested.emit(self._handle, type_id)

    def add_script_actions(self) -> list[QAction]:
        """The actions of the add-script menu (one per script type)."""
        if self.add_script_button is None:
            return []
        return [a for a in self.add_script_button.menu().actions() if a.data()]


def _script_reader(panel: InspectorPanel, h: Handle, index: int, name: str) -> Callable[[], Any]:
    def read() -> Any:
        return getattr(panel._scene[h].scripts[index], name)  # type: ignore[index]

    return read


def _form(parent: QWidget) -> QFormLayout:
    form = QFormLayout(parent)
    form.setContentsMargins(8, 6, 8, 6)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return form
