"""Qt keys to the key names scripts use (`runtime.input.InputState`).

One table for every Qt widget that feeds a game the keyboard: the player
window and the editor's scene view while playing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

_KEYS: dict[Qt.Key, str] = {
    Qt.Key.Key_Left: "left",
    Qt.Key.Key_Right: "right",
    Qt.Key.Key_Up: "up",
    Qt.Key.Key_Down: "down",
    Qt.Key.Key_Space: "space",
    Qt.Key.Key_Return: "enter",
    Qt.Key.Key_Enter: "enter",
    Qt.Key.Key_Escape: "escape",
    Qt.Key.Key_Shift: "shift",
    Qt.Key.Key_Control: "ctrl",
    Qt.Key.Key_Alt: "alt",
    Qt.Key.Key_Tab: "tab",
    Qt.Key.Key_Backspace: "backspace",
}
for _i in range(26):
    _KEYS[Qt.Key(Qt.Key.Key_A.value + _i)] = chr(ord("a") + _i)
for _i in range(10):
    _KEYS[Qt.Key(Qt.Key.Key_0.value + _i)] = str(_i)


def key_name(key: int | Qt.Key) -> str | None:
    """The `runtime.input.InputState` name of a Qt key (``Qt.Key_Left`` -> ``left``), if any."""
    try:
        return _KEYS.get(Qt.Key(key))
    except ValueError:
        return None
