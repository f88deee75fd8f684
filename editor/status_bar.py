"""The main window's status bar: a passing message, the play mode, the profile and statistics."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

from editor.play import PlayState
from runtime import BuildProfile

_KIND_COLORS = {"ok": "#4ade80", "error": "#ff6b6b", "warning": "#e9c46a", "info": "#c8ccd4"}
_MODES = {PlayState.STOPPED: "editing", PlayState.PLAYING: "playing", PlayState.PAUSED: "paused"}
_MODE_COLORS = {"editing": "#c8ccd4", "playing": "#4ade80", "paused": "#e9c46a"}


class EditorStatusBar(QStatusBar):
    """Shows one message for a few seconds, and the mode, profile, FPS and entity count.

    The labels are public (``message``, ``mode_label``, ``profile_label``,
    ``fps_label``, ``entities_label``): tests read them, each has an object name.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel()
        self.message.setObjectName("statusMessage")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long message (a refused reload names the file, line, script and entity) is
        # cut at the bar's width, whole in its tooltip and the log: its width must not
        # become the window's minimum, which pushed the inspector off the screen.
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.addWidget(self.message, 1)
        self.mode_label = QLabel()
        self.mode_label.setObjectName("statusMode")
        self.profile_label = QLabel()
        self.profile_label.setObjectName("statusProfile")
        self.fps_label = QLabel()
        self.fps_label.setObjectName("statusFps")
        self.entities_label = QLabel()
        self.entities_label.setObjectName("statusEntities")
        for w in (self.fps_label, self.entities_label, self.profile_label, self.mode_label):
            w.setContentsMargins(8, 0, 8, 0)
            self.addPermanentWidget(w)
        self._state = PlayState.STOPPED
        self._clear = QTimer(self)
        self._clear.setSingleShot(True)
        self._clear.timeout.connect(self.message.clear)

    def show_message(self, text: str, kind: str, seconds: float) -> None:
        """Show `text` for `seconds` (kind: ok/error/warning/info, which sets its colour)."""
        self.message.setText(text)
        self.message.setToolTip(text)
        self.message.setProperty("kind", kind)
        self.message.setStyleSheet(f"color: {_KIND_COLORS.get(kind, '#c8ccd4')}")
        self._clear.start(int(seconds * 1000))

    def show_mode(self, state: PlayState, profile: BuildProfile, entities: int) -> None:
        """Show the play mode and the profile; while editing, the edited scene's size."""
        mode = _MODES[state]
        self.mode_label.setText(f"● {mode}")
        self.mode_label.setStyleSheet(f"color: {_MODE_COLORS[mode]}; font-weight: bold")
        self.profile_label.setText(profile.display_name)
        self._state = state
        if state is PlayState.PAUSED:
            self.fps_label.setText("paused")  # not "0 FPS": no frame runs, none is slow
        if state is PlayState.STOPPED:
            self.fps_label.setText("")
            self.show_entity_count(entities)

    def show_entity_count(self, entities: int) -> None:
        """Show how many entities the scene has."""
        self.entities_label.setText(f"{entities} entities")

    def show_stats(self, stats: dict[str, Any]) -> None:
        """Show a running game's statistics (``fps``, ``entities``; what is missing stays)."""
        if self._state is PlayState.PAUSED or stats.get("paused"):
            self.fps_label.setText("paused")
        elif "fps" in stats:
            self.fps_label.setText(f"{stats['fps']:.0f} FPS")
        if "entities" in stats:
            self.entities_label.setText(f"{stats['entities']} entities")

    def stop(self) -> None:
        """Keep the current message (the window is closing)."""
        self._clear.stop()
