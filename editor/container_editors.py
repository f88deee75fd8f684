"""Editors of container fields: ``list[T]``, ``T | None`` and dataclasses.

They are built from the editors of their items or members (`editor.field_editors.editor_for`
chooses those) and always commit a whole new value (a new list, a new dataclass
instance), which the inspector turns into one undoable command.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from editor.field_editor import FieldEditor
from runtime.fields import type_name, zero_value


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
