"""The status bar's passing message never widens the window."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMainWindow

from editor.status_bar import EditorStatusBar


def test_a_long_message_does_not_raise_the_windows_minimum_width(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    bar = EditorStatusBar()
    window.setStatusBar(bar)
    window.resize(800, 400)
    window.show()
    qtbot.waitExposed(window)
    text = "reload of bouncy failed, kept previous code: reload refused: " + "x" * 600
    bar.show_message(text, "error", 5)
    QApplication.processEvents()
    # Cut at the bar's width: the window keeps its size and could still shrink.
    assert window.width() == 800
    assert window.minimumSizeHint().width() < 400 < bar.message.sizeHint().width()
    assert bar.message.text() == text and bar.message.toolTip() == text
