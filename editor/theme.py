"""The editor's dark theme (a Fusion palette matching the scene view's background) and icons."""

from __future__ import annotations

# qtawesome draws through qtpy, which picks the binding already imported (PySide6:
# `editor` imports it first) and otherwise the only one installed.
import qtawesome
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

_STYLESHEET = """
QToolTip { color: #e6e6e6; background: #2b2f38; border: 1px solid #3d4350; }
QDockWidget::title { background: #2a2e37; padding: 4px 6px; }
QGroupBox { border: 1px solid #363b46; border-radius: 4px; margin-top: 14px; padding-top: 4px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; color: #aab1bd; }
QToolBar { spacing: 4px; border: none; }
QStatusBar { background: #1f2229; }
QStatusBar::item { border: none; }
"""


def apply_dark_theme(app: QApplication) -> None:
    """Fusion style with a dark palette (set once, before windows are built)."""
    app.setStyle("Fusion")
    p = QPalette()
    base, window, text = QColor(30, 33, 40), QColor(40, 44, 52), QColor(220, 223, 228)
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor(36, 40, 48))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor(43, 47, 56))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, QColor(48, 53, 63))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor(255, 90, 90))
    p.setColor(QPalette.ColorRole.Link, QColor(122, 162, 247))
    p.setColor(QPalette.ColorRole.Highlight, QColor(56, 105, 170))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(125, 133, 144))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(110, 116, 128))
    app.setPalette(p)
    app.setStyleSheet(_STYLESHEET)


#: Icon accents that read on both themes: play green, stop red, pause amber.
ICON_ACCENTS = {"play": "#3fb950", "stop": "#f85149", "pause": "#d29922"}


def themed_icon(name: str, accent: str | None = None) -> QIcon:
    """A Material Design icon (QtAwesome's ``mdi6`` set) in the palette's colours.

    The colour is read from the application palette when the icon is made, so the
    same call gives light icons on the dark theme and dark ones on a light theme;
    disabled icons take the palette's disabled text colour.

    Args:
        name: the ``mdi6`` icon name, such as ``"content-duplicate"``.
        accent: a colour for the enabled icon instead of the text colour.
    """
    palette = QGuiApplication.palette()
    normal = QColor(accent) if accent else palette.color(QPalette.ColorRole.ButtonText)
    disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText)
    icon: QIcon = qtawesome.icon(
        f"mdi6.{name}", color=normal, color_disabled=disabled, color_active=normal
    )
    return icon
