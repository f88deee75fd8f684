"""Editors for field values, one per supported field type.

`editor_for` picks the editor of an annotation: numbers, bools, strings,
`Vec2`, `Color`, entity `Handle`, enums; ``list[T]`` and ``T | None`` of those;
dataclasses whose members have editors. Anything else (dicts, tuples...) is
shown read-only. A plugin can add its own editors (see `editor.extensions`),
which are asked first.

The container editors live in `editor.container_editors`; every editor
follows the protocol of `editor.field_editor.FieldEditor`.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from typing import Any, Union, get_args, get_origin

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QKeyEvent, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from editor.container_editors import DataclassEditor, ListEditor, OptionalEditor
from editor.field_editor import FieldEditor
from runtime import Color, Handle, Scene, Vec2
from runtime.fields import type_name, zero_value

_NO_INDEX = QModelIndex()
_DISPLAY = Qt.ItemDataRole.DisplayRole

_BIG = 1e9


class FloatSpinBox(QDoubleSpinBox):
    """A float spin box that refuses typed numbers out of its range instead of clamping.

    Signals:
        refused(str): typed text was not taken; says why (the value shown stays).
    """

    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editingFinished.connect(self._refuse_out_of_range)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: D102 (base-class API)
        # Qt does not finish editing on Enter when the text is not acceptable.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._refuse_out_of_range()
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: D102 (base-class API)
        self._refuse_out_of_range()
        super().focusOutEvent(event)

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:  # noqa: D102
        number = self._typed_number(text)
        if number is not None and not self.minimum() <= number <= self.maximum():
            # Qt would call this Invalid and drop the keystroke, or clamp on Enter:
            # take the text, and refuse it with a message when it is committed.
            return QValidator.State.Intermediate, text, pos
        return super().validate(text, pos)

    def _typed_number(self, text: str) -> float | None:
        body = text.strip().removeprefix(self.prefix()).removesuffix(self.suffix()).strip()
        try:
            return float(body.replace(self.locale().groupSeparator(), ""))
        except ValueError:
            return None

    def _refuse_out_of_range(self) -> None:
        number = self._typed_number(self.lineEdit().text())
        if number is not None and not self.minimum() <= number <= self.maximum():
            self.refused.emit(
                f"{self.lineEdit().text().strip()[:30]} is out of range: this field holds "
                f"{self.minimum():g} to {self.maximum():g}; value not changed"
            )
            self.lineEdit().setText(self.textFromValue(self.value()))


def _spin(decimals: int = 3) -> FloatSpinBox:
    box = FloatSpinBox()
    box.setRange(-_BIG, _BIG)
    box.setDecimals(decimals)
    box.setKeyboardTracking(False)  # one edit per committed value, not per keystroke
    box.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
    box.setMinimumWidth(60)
    return box


class FloatEditor(FieldEditor):
    """A ``float`` field."""

    def __init__(self, parent: QWidget | None = None, *, step: float = 1.0) -> None:
        super().__init__(parent)
        self.box = _spin()
        self.box.refused.connect(self.show_refusal)
        self.box.setSingleStep(step)
        self.box.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.UpDownArrows)
        self.box.valueChanged.connect(self._on_value_changed)
        self._layout.addWidget(self.box)

    def _show(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setValue(float(value))
        self.box.blockSignals(False)

    def _on_value_changed(self, v: float) -> None:
        self.commit(float(v))


#: The integers a field may hold: what msgpack (snapshots, the player channel) and a
#: scene file both store. Qt's QSpinBox holds only 32 bits, and clamps silently.
INT_MIN, INT_MAX = -(2**63), 2**64 - 1


class IntSpinBox(QAbstractSpinBox):
    """A spin box of Python ints in [`INT_MIN`, `INT_MAX`]; text beyond that is refused.

    Signals:
        valueChanged(object): a new value was committed (Enter, focus out, arrows).
        refused(str): typed text was not taken; says why (the value shown stays).
    """

    valueChanged = Signal(object)
    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._value = 0
        self.setKeyboardTracking(False)
        self.lineEdit().setText("0")
        self.editingFinished.connect(self._on_editing_finished)

    def value(self) -> int:
        """The value shown."""
        return self._value

    def setValue(self, value: int) -> None:
        """Show `value` and commit it (emits `valueChanged` when it differs)."""
        value = int(value)
        if not INT_MIN <= value <= INT_MAX:
            self.refused.emit(_int_range_message(str(value)))
            self.lineEdit().setText(str(self._value))
            return
        changed = value != self._value
        self._value = value
        self.lineEdit().setText(str(value))
        if changed:
            self.valueChanged.emit(value)

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:  # noqa: D102
        body = text.strip()
        digits = body[1:] if body[:1] in ("+", "-") else body
        if not digits:
            return QValidator.State.Intermediate, text, pos
        if not digits.isdigit():
            return QValidator.State.Invalid, text, pos
        # Digits out of range are accepted as text: Enter then says why they are
        # refused, instead of the keystroke vanishing without a word.
        return QValidator.State.Acceptable, text, pos

    def stepBy(self, steps: int) -> None:  # noqa: D102 (base-class API)
        self.setValue(max(INT_MIN, min(INT_MAX, self._value + steps)))

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:  # noqa: D102 (base-class API)
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self._value > INT_MIN:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        if self._value < INT_MAX:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        return flags

    def _on_editing_finished(self) -> None:
        text = self.lineEdit().text().strip()
        digits = text.lstrip("+-")
        if not digits.isdigit():
            self.lineEdit().setText(str(self._value))
            return
        # Checked on the length first: int() of a huge literal raises (int_max_str_digits).
        if len(digits) > 20:
            self.refused.emit(_int_range_message(text))
            self.lineEdit().setText(str(self._value))
            return
        self.setValue(int(text))


def _int_range_message(text: str) -> str:
    shown = text if len(text) <= 30 else text[:27] + "…"
    return f"{shown} is out of range: an int field holds {INT_MIN} to {INT_MAX}; value not changed"


class IntEditor(FieldEditor):
    """An ``int`` field; a value out of range is refused with a message under the box."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = IntSpinBox()
        self.box.valueChanged.connect(self._on_value_changed)
        self.box.refused.connect(self.show_refusal)
        self._layout.addWidget(self.box)

    def _show(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setValue(int(value))
        self.box.blockSignals(False)

    def _on_value_changed(self, v: int) -> None:
        self.commit(int(v))


class BoolEditor(FieldEditor):
    """A ``bool`` field."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QCheckBox()
        self.box.toggled.connect(self._on_toggled)
        self._layout.addWidget(self.box)
        self._layout.addStretch(1)

    def _show(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)

    def _on_toggled(self, checked: bool) -> None:
        self.commit(bool(checked))


class StrEditor(FieldEditor):
    """A ``str`` field (committed on Enter or when focus leaves)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line = QLineEdit()
        self.line.editingFinished.connect(self._on_editing_finished)
        self._layout.addWidget(self.line)

    def _show(self, value: Any) -> None:
        self.line.setText(str(value))

    def _on_editing_finished(self) -> None:
        self.commit(self.line.text())


class Vec2Editor(FieldEditor):
    """A `Vec2` field: one spin box for x, one for y.

    The boxes are `x_box` and `y_box`: plain `x`/`y` would hide `QWidget.x()`/`y()`.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.x_box = _spin()
        self.y_box = _spin()
        self.x_box.refused.connect(self.show_refusal)
        self.y_box.refused.connect(self.show_refusal)
        self.x_box.setPrefix("x ")
        self.y_box.setPrefix("y ")
        for box in (self.x_box, self.y_box):
            box.valueChanged.connect(self._on_value_changed)
            self._layout.addWidget(box, 1)

    def _show(self, value: Any) -> None:
        for box, v in ((self.x_box, value[0]), (self.y_box, value[1])):
            box.blockSignals(True)
            box.setValue(float(v))
            box.blockSignals(False)

    def _on_value_changed(self, _v: float) -> None:
        self.commit(Vec2(self.x_box.value(), self.y_box.value()))


class ColorEditor(FieldEditor):
    """A `Color` field: a swatch that opens a colour dialog, and its hex text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.swatch = QToolButton()
        self.swatch.setFixedSize(28, 20)
        self.swatch.setToolTip("Choose a colour")
        self.swatch.clicked.connect(self._on_swatch_clicked)
        self.hex = QLineEdit()
        self.hex.setMaxLength(9)
        self.hex.setPlaceholderText("#rrggbb")
        self.hex.editingFinished.connect(self._on_hex_edited)
        self._layout.addWidget(self.swatch)
        self._layout.addWidget(self.hex, 1)

    def _show(self, value: Any) -> None:
        c: Color = value
        self.hex.setText(c.hex)
        self.swatch.setStyleSheet(
            f"background: rgba({c[0]},{c[1]},{c[2]},{c[3]}); border: 1px solid #555;"
        )

    def _on_hex_edited(self) -> None:
        try:
            c = Color.parse(self.hex.text())
        except ValueError:
            self._show(self._value)  # not a colour: show the current one again
            return
        self._show(c)
        self.commit(c)

    def _on_swatch_clicked(self) -> None:
        c: Color = self._value
        q = QColorDialog.getColor(
            QColor(c[0], c[1], c[2], c[3]),
            self,
            "Choose a colour",
            QColorDialog.ColorDialogOption.ShowAlphaChannel,
        )
        if q.isValid():
            new = Color(q.red(), q.green(), q.blue(), q.alpha())
            self._show(new)
            self.commit(new)


class EntityListModel(QAbstractListModel):
    """The rows of an entity picker: "(none)", entities by handle, read when drawn.

    Only the handles are kept; names are read from the scene as rows are shown,
    so a row costs nothing until it is on screen.

    Args:
        scene: where the entities' names come from.
    """

    def __init__(self, scene: Scene) -> None:
        super().__init__()
        self.scene = scene
        self.handles: list[int] = [0]

    def set_handles(self, handles: list[int]) -> None:
        """Show these rows (``0`` is "(none)")."""
        self.beginResetModel()
        self.handles = handles
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _NO_INDEX) -> int:  # noqa: D102 (Qt API)
        return 0 if parent.isValid() else len(self.handles)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _DISPLAY) -> Any:  # noqa: D102 (Qt API)
        if not index.isValid() or index.row() >= len(self.handles):
            return None
        h = self.handles[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return h
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if not h:
            return "(none)"
        e = self.scene.get(h)
        return f"{e.name}  #{h}" if e is not None else f"missing entity #{h}"


class EntityCombo(QComboBox):
    """A combo box of the scene's entities that lists them all only when it opens.

    Closed, it holds "(none)" and the value shown: showing a value costs the
    same in a scene of ten entities or of 100,000 (the inspector shows values
    many times a second while a game plays).
    """

    def __init__(self, scene: Scene) -> None:
        super().__init__()
        self.entities = EntityListModel(scene)
        self.setModel(self.entities)
        self._value = 0

    def show_value(self, value: int) -> None:
        """Show `value` (a handle, ``0``: none) as the current row."""
        self._value = value
        self.entities.set_handles([0, value] if value else [0])
        self.setCurrentIndex(len(self.entities.handles) - 1)

    def showPopup(self) -> None:  # noqa: D102 (Qt API)
        handles = [0, *(int(e.handle) for e in self.entities.scene)]
        if self._value and self._value not in self.entities.scene:
            handles.append(self._value)  # a missing entity stays choosable, as it is shown
        self.blockSignals(True)
        self.entities.set_handles(handles)
        self.setCurrentIndex(handles.index(self._value) if self._value else 0)
        self.blockSignals(False)
        super().showPopup()


class HandleEditor(FieldEditor):
    """An entity `Handle` field: a list of the scene's entities."""

    def __init__(self, scene: Scene, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.combo = EntityCombo(scene)
        self.combo.activated.connect(self._on_activated)
        self._layout.addWidget(self.combo, 1)

    def _show(self, value: Any) -> None:
        self.combo.blockSignals(True)
        self.combo.show_value(int(value))
        self.combo.blockSignals(False)

    def _on_activated(self, index: int) -> None:
        self.commit(Handle(self.combo.itemData(index)))


class EnumEditor(FieldEditor):
    """An `enum.Enum` field: its members by name."""

    def __init__(self, enum_type: type[enum.Enum], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enum_type = enum_type
        self.combo = QComboBox()
        for m in enum_type:
            self.combo.addItem(m.name, m.name)
        self.combo.activated.connect(self._on_activated)
        self._layout.addWidget(self.combo, 1)

    def _show(self, value: Any) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(max(0, self.combo.findData(getattr(value, "name", ""))))
        self.combo.blockSignals(False)

    def _on_activated(self, index: int) -> None:
        self.commit(self.enum_type[self.combo.itemData(index)])


class ReadOnlyEditor(FieldEditor):
    """A value without an editor (lists, dicts, dataclasses, placeholder data): its text."""

    def __init__(self, hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setWordWrap(True)
        self.label.setStyleSheet("color: #9aa0aa")
        self.hint = hint
        self._layout.addWidget(self.label, 1)

    def _show(self, value: Any) -> None:
        text = repr(value)
        self.label.setText(text if len(text) <= 200 else text[:197] + "...")
        self.label.setToolTip(self.hint or text[:2000])

    def set_read_only(self, read_only: bool) -> None:  # noqa: D102 (base-class API)
        pass  # always read-only


#: A plugin-provided editor: (predicate on the annotation, factory).
CustomEditor = tuple[Callable[[Any], bool], Callable[[Any, Scene], FieldEditor]]


def editor_for(
    annotation: Any,
    scene: Scene,
    custom: list[CustomEditor] | tuple[CustomEditor, ...] = (),
    *,
    _depth: int = 0,
) -> FieldEditor:
    """An editor fitting a declared field type (custom editors are tried first)."""
    for accepts, factory in custom:
        try:
            if accepts(annotation):
                return factory(annotation, scene)
        except Exception:  # a broken plugin editor must not break the inspector
            continue
    if annotation is bool:
        return BoolEditor()
    if annotation is int:
        return IntEditor()
    if annotation is float:
        return FloatEditor()
    if annotation is str:
        return StrEditor()
    if annotation is Vec2:
        return Vec2Editor()
    if annotation is Color:
        return ColorEditor()
    if annotation is Handle:
        return HandleEditor(scene)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return EnumEditor(annotation)
    if _depth < _MAX_DEPTH:
        ed = _container_editor(annotation, scene, custom, _depth + 1)
        if ed is not None:
            return ed
    return ReadOnlyEditor(f"{type_name(annotation)}: edit this field in code or in the scene file")


_MAX_DEPTH = 3  # containers nested deeper (or recursive dataclasses) are read-only
_SIMPLE = (bool, int, float, str, Vec2, Color, Handle)


def _optional_inner(annotation: Any) -> Any:
    """T of ``T | None`` (one T only), else ``None``."""
    if get_origin(annotation) not in (Union, types.UnionType):
        return None
    args = [a for a in get_args(annotation) if a is not type(None)]
    if len(args) != 1 or len(args) == len(get_args(annotation)):
        return None
    return args[0]


def _is_simple(annotation: Any) -> bool:
    """A type with a one-line built-in editor and a natural empty value (``T | None`` too)."""
    inner = _optional_inner(annotation)
    if inner is not None:
        return _is_simple(inner)
    return annotation in _SIMPLE or (
        isinstance(annotation, type) and issubclass(annotation, enum.Enum)
    )


def _container_editor(annotation: Any, scene: Scene, custom: Any, depth: int) -> FieldEditor | None:
    """The editor of a list, optional or dataclass field, or ``None``."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is list and len(args) == 1 and _is_simple(args[0]):
        item = args[0]
        return ListEditor(item, lambda: editor_for(item, scene, custom, _depth=depth))
    inner = _optional_inner(annotation)
    if inner is not None:
        if not (_is_simple(inner) or get_origin(inner) is list or dataclasses.is_dataclass(inner)):
            return None
        try:
            # The value offered when "set" is checked on a field that was None.
            empty = (
                inner()
                if isinstance(inner, type) and dataclasses.is_dataclass(inner)
                else zero_value(inner)
            )
        except Exception:  # a dataclass that needs arguments
            return None
        ed = editor_for(inner, scene, custom, _depth=depth)
        if isinstance(ed, ReadOnlyEditor):
            ed.deleteLater()
            return None
        return OptionalEditor(ed, empty)
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        try:
            hints = typing.get_type_hints(annotation)
        except Exception:
            return None
        fields = dataclasses.fields(annotation)
        if not fields or any(not f.init for f in fields):
            return None  # dataclasses.replace cannot rebuild it
        members = {
            f.name: editor_for(hints.get(f.name, Any), scene, custom, _depth=depth) for f in fields
        }
        return DataclassEditor(members)
    return None
