"""The protocol every field editor follows (see `editor.field_editors`).

`set_value` shows a value without a signal, the ``edited(object)`` signal
reports a value the user committed, and `set_read_only` allows or forbids
editing. Text an editor cannot take (a number out of range) is refused with a
message under it (`show_refusal`), never silently changed into another value.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget


class FieldEditor(QWidget):
    """Base of the value editors.

    Signals:
        edited(object): the user committed a new value.
    """

    edited = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        self._layout = QHBoxLayout()
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        column.addLayout(self._layout)
        #: Why the last text typed was refused (hidden until then, and after a good value).
        self.message = QLabel()
        self.message.setObjectName("fieldRefusedMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #ff6b6b")
        self.message.hide()
        column.addWidget(self.message)
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

    def show_refusal(self, why: str) -> None:
        """Say under the editor why typed text was not taken (the value shown stays)."""
        self.message.setText(why)
        self.message.show()

    def commit(self, value: Any) -> None:
        """Emit `edited` if the value really changed (as if the user typed it)."""
        self.message.hide()
        if value != self._value or type(value) is not type(self._value):
            self._value = value
            self.edited.emit(value)

    def _show(self, value: Any) -> None:
        raise NotImplementedError
