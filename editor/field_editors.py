"""Editors for field values, one per supported field type.

`editor_for` picks the editor of an annotation: numbers, bools, strings,
`Vec2`, `Color`, entity `Handle`, enums; ``list[T]`` and ``T | None`` of those;
dataclasses whose members have editors. Anything else (dicts, tuples...) is
shown read-only. A plugin can add its own editors (see `editor.extensions`),
which are asked first.

Container editors always commit a whole new value (a new list, a new
dataclass instance): the inspector turns it into one undoable command.

Every editor has the same small protocol: `set_value` (no signal), the
``edited(object)`` signal when the user commits a new value, and
`set_read_only`.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from typing import Any, Union, get_args, get_origin

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from runtime import Color, Handle, Scene, Vec2
from runtime.fields import type_name, zero_value

_BIG = 1e9


class FieldEditor(QWidget):
    """Base of the value editors.

    Signals:
        edited(object): the user committed a new value.
    """

    edited = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._value: Any = None

    def value(self) -> Any:
        """The value shown."""
        return self._value

    def set_value(self, value: Any) -> None:
        """Show a value (does not emit `edited`)."""
        self._value = value
        self._show(value)

    def set_read_only(self, read_only: bool) -> None:
        """Allow or forbid editing."""
        for w in self.findChildren(QWidget):
            w.setEnabled(not read_only)

    def commit(self, value: Any) -> None:
        """Emit `edited` if the value really changed (as if the user typed it)."""
        if value != self._value or type(value) is not type(self._value):
            self._value = value
            self.edited.emit(value)

    def _show(self, value: Any) -> None:
        raise NotImplementedError


def _spin(decimals: int = 3) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
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


class IntEditor(FieldEditor):
    """An ``int`` field."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QSpinBox()
        self.box.setRange(-(2**31), 2**31 - 1)
        self.box.setKeyboardTracking(False)
        self.box.valueChanged.connect(self._on_value_changed)
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


class HandleEditor(FieldEditor):
    """An entity `Handle` field: a list of the scene's entities."""

    def __init__(self, scene: Scene, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.combo = QComboBox()
        self.combo.activated.connect(self._on_activated)
        self._layout.addWidget(self.combo, 1)

    def _show(self, value: Any) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem("(none)", 0)
        for e in self.scene:
            self.combo.addItem(f"{e.name}  #{int(e.handle)}", int(e.handle))
        i = self.combo.findData(int(value))
        if i < 0:
            self.combo.addItem(f"missing entity #{int(value)}", int(value))
            i = self.combo.count() - 1
        self.combo.setCurrentIndex(i)
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


def _small_button(text: str, tip: str, name: str) -> QToolButton:
    b = QToolButton()
    b.setObjectName(name)
    b.setText(text)
    b.setToolTip(tip)
    b.setAutoRaise(True)
    b.setFixedSize(18, 22)
    return b


class _ListRow(QWidget):
    """One item of a `ListEditor`: its index, its editor and its buttons."""

    def __init__(self, editor: FieldEditor) -> None:
        super().__init__()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.index_label = QLabel()
        self.index_label.setFixedWidth(14)
        self.index_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.index_label.setStyleSheet("color: #7d8590")
        self.editor = editor
        self.up = _small_button("▲", "Move this item up", "moveUpButton")
        self.down = _small_button("▼", "Move this item down", "moveDownButton")
        self.remove = _small_button("\u2212", "Remove this item", "removeItemButton")
        lay.addWidget(self.index_label)
        lay.addSpacing(2)
        lay.addWidget(editor, 1)
        for b in (self.up, self.down, self.remove):
            lay.addWidget(b)


class ListEditor(FieldEditor):
    """A ``list[T]`` field of simple items: one row per item with T's editor.

    Add (+), remove (minus) and move (▲ ▼) buttons; every change, including an edit
    of one item, commits a whole new list.
    """

    def __init__(
        self, item_type: Any, make_item: Callable[[], FieldEditor], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.item_type = item_type
        self._make_item = make_item
        self._read_only = False
        self.rows: list[_ListRow] = []
        body = QWidget()
        col = QVBoxLayout(body)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(3)
        self._rows_layout = QVBoxLayout()
        self._rows_layout.setContentsMargins(0, 0, 0, 0)
        self._rows_layout.setSpacing(3)
        col.addLayout(self._rows_layout)
        foot = QHBoxLayout()
        foot.setContentsMargins(0, 0, 0, 0)
        self.count_label = QLabel()
        self.count_label.setStyleSheet("color: #7d8590")
        self.add_button = _small_button(
            "+", f"Add an item ({type_name(item_type)})", "addItemButton"
        )
        self.add_button.clicked.connect(self._on_add)
        foot.addWidget(self.count_label, 1)
        foot.addWidget(self.add_button)
        col.addLayout(foot)
        self._layout.addWidget(body, 1)

    def set_value(self, value: Any) -> None:  # noqa: D102 (base-class API)
        # A copy: the editor never shares (or mutates) the script's own list.
        super().set_value(list(value) if isinstance(value, (list, tuple)) else [])

    def set_read_only(self, read_only: bool) -> None:  # noqa: D102 (base-class API)
        self._read_only = read_only
        self.add_button.setVisible(not read_only)
        for row in self.rows:
            self._apply_read_only(row)

    def _apply_read_only(self, row: _ListRow) -> None:
        row.editor.set_read_only(self._read_only)
        for b in (row.up, row.down, row.remove):
            b.setVisible(not self._read_only)

    def _show(self, value: Any) -> None:
        while len(self.rows) > len(value):
            row = self.rows.pop()
            self._rows_layout.removeWidget(row)
            row.hide()
            row.deleteLater()  # may be the sender of the click being handled
        while len(self.rows) < len(value):
            row = _ListRow(self._make_item())
            row.editor.edited.connect(lambda v, r=row: self._on_item_edited(r, v))
            row.up.clicked.connect(lambda _=False, r=row: self._on_move(r, -1))
            row.down.clicked.connect(lambda _=False, r=row: self._on_move(r, 1))
            row.remove.clicked.connect(lambda _=False, r=row: self._on_remove(r))
            self._apply_read_only(row)
            self._rows_layout.addWidget(row)
            self.rows.append(row)
        n = len(value)
        for i, (row, item) in enumerate(zip(self.rows, value, strict=True)):
            row.index_label.setText(str(i))
            row.editor.set_value(item)
            row.up.setEnabled(i > 0)
            row.down.setEnabled(i < n - 1)
        self.count_label.setText("empty" if n == 0 else f"{n} item{'s' if n != 1 else ''}")

    def _change(self, new: list[Any]) -> None:
        self.commit(new)
        self._show(self._value)  # also when the inspector skips this editor (focus)

    def _new_item(self) -> Any:
        if self._value and self.item_type is not str:
            return self._value[-1]  # a copy of the last item: the usual next waypoint
        return zero_value(self.item_type)

    def _on_add(self) -> None:
        self._change([*self._value, self._new_item()])

    def _on_item_edited(self, row: _ListRow, value: Any) -> None:
        if row in self.rows:
            new = list(self._value)
            new[self.rows.index(row)] = value
            self._change(new)

    def _on_remove(self, row: _ListRow) -> None:
        if row in self.rows:
            new = list(self._value)
            del new[self.rows.index(row)]
            self._change(new)

    def _on_move(self, row: _ListRow, step: int) -> None:
        if row not in self.rows:
            return
        i = self.rows.index(row)
        j = i + step
        if 0 <= j < len(self._value):
            new = list(self._value)
            new[i], new[j] = new[j], new[i]
            self._change(new)


class OptionalEditor(FieldEditor):
    """A ``T | None`` field: a "set" check box and T's editor (disabled when unset)."""

    def __init__(self, inner: FieldEditor, empty: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._read_only = False
        #: The value offered when "set" is checked: the last one shown or typed.
        self._last = empty
        self.check = QCheckBox("set")
        self.check.setObjectName("optionalSet")
        self.check.setToolTip("Unchecked: the field is None")
        self.check.toggled.connect(self._on_toggled)
        self.inner = inner
        self.inner.edited.connect(self._on_inner_edited)
        self._layout.addWidget(self.check, 0, Qt.AlignmentFlag.AlignTop)
        self._layout.addWidget(self.inner, 1)

    def set_read_only(self, read_only: bool) -> None:  # noqa: D102 (base-class API)
        self._read_only = read_only
        self.check.setEnabled(not read_only)
        self._sync()

    def _sync(self) -> None:
        self.inner.set_read_only(self._read_only or not self.check.isChecked())

    def _show(self, value: Any) -> None:
        if value is not None:
            self._last = value
        self.check.blockSignals(True)
        self.check.setChecked(value is not None)
        self.check.blockSignals(False)
        self.inner.set_value(self._last)
        self._sync()

    def _on_toggled(self, on: bool) -> None:
        self._sync()
        self.commit(self._last if on else None)

    def _on_inner_edited(self, value: Any) -> None:
        self._last = value
        if self.check.isChecked():
            self.commit(value)


class DataclassEditor(FieldEditor):
    """A dataclass field: one editor per member; an edit commits a whole new instance."""

    def __init__(self, members: dict[str, FieldEditor], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.members = members
        frame = QFrame()
        frame.setObjectName("dataclassFrame")
        frame.setStyleSheet("#dataclassFrame { border-left: 2px solid #3d4350; }")
        form = QFormLayout(frame)
        form.setContentsMargins(8, 0, 0, 0)
        form.setVerticalSpacing(3)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for name, ed in members.items():
            ed.setObjectName(f"member:{name}")
            ed.edited.connect(lambda v, n=name: self._on_member_edited(n, v))
            label = QLabel(name)
            label.setStyleSheet("color: #aab1bd")
            form.addRow(label, ed)
        self._layout.addWidget(frame, 1)

    def set_value(self, value: Any) -> None:  # noqa: D102 (base-class API)
        super().set_value(copy.copy(value))  # never share the script's own instance

    def set_read_only(self, read_only: bool) -> None:  # noqa: D102 (base-class API)
        for ed in self.members.values():
            ed.set_read_only(read_only)

    def _show(self, value: Any) -> None:
        for name, ed in self.members.items():
            ed.set_value(getattr(value, name))

    def _on_member_edited(self, name: str, value: Any) -> None:
        try:
            new = dataclasses.replace(self._value, **{name: value})
        except Exception:  # a member its constructor refuses: show the current value
            self._show(self._value)
            return
        self.commit(new)


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
