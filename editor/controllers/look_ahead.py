"""Look-ahead in the editor: a hot reload first runs the new code some frames ahead.

The runtime tries a reload's new code on a copy of the running scenes before
it commits (`runtime.Game.look_ahead_frames`); a hook that raises or runs over
the budget there refuses the reload, and the game goes on with the old code,
reported like any failed reload. The runtime leaves it off unless the project
turns it on; the editor, where code is changed while it runs, turns it on.

Where the number of frames comes from, first found wins:

1. the editor's own choice for this project (the Play menu's *Look Ahead
   Before Reloads*), kept in the project's ``.hotplay/settings.ini`` as
   ``lookAheadFrames``;
2. the project's ``hotplay.toml``: ``[reload] look_ahead_frames``;
3. `EDITOR_DEFAULT_FRAMES`.

It applies to the editor's game (in-editor Play and the edited scene) and
goes to a separate-process player on its command line.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from editor.controllers import STATUS_SECONDS
from runtime import Game

log = logging.getLogger("hotplay.editor")

#: Frames the new code runs ahead when neither the editor nor the project says.
EDITOR_DEFAULT_FRAMES = 30
#: The choices the menu offers (with the project's own number, when it is another).
MENU_FRAMES = (0, 10, 30, 60, 120)
#: The key of the editor's choice in the project's settings.
SETTINGS_KEY = "lookAheadFrames"


class LookAheadController(QObject):
    """The number of look-ahead frames: chosen, remembered, applied to the game.

    Args:
        game: the window's game (its project's ``hotplay.toml`` is read).
        settings: the project's settings (``.hotplay/settings.ini``).
        parent: the owning window (the menu's parent).

    Signals:
        statusReported(str, str, float): a message for the status bar (text, kind, seconds).
    """

    statusReported = Signal(str, str, float)

    def __init__(self, game: Game, settings: QSettings, parent: QWidget) -> None:
        super().__init__(parent)
        self._game = game
        self._settings = settings
        self.menu = QMenu("Look Ahead Before &Reloads", parent)
        self.menu.setObjectName("lookAheadMenu")
        self.menu.setToolTipsVisible(True)
        self._group = QActionGroup(self.menu)
        choices = sorted({*MENU_FRAMES, self.project_frames or 0})
        for frames in choices:
            text = "Off" if frames == 0 else f"{frames} frames"
            if frames == self.project_frames:
                text += " (the project's)"
            elif frames == EDITOR_DEFAULT_FRAMES and self.project_frames is None:
                text += " (default)"
            action = QAction(text, self.menu)
            action.setCheckable(True)
            action.setData(frames)
            action.setToolTip(
                "Hot reloads apply at once, without trying the new code first"
                if frames == 0
                else f"Before a hot reload commits, the new code runs {frames} frames ahead on "
                "a copy of the game; a script that raises there refuses the reload"
            )
            self._group.addAction(action)
            self.menu.addAction(action)
        self._group.triggered.connect(self._on_chosen)
        self.apply()

    @property
    def project_frames(self) -> int | None:
        """The project's own number (``hotplay.toml``), ``None`` when it sets none."""
        return self._game.project.look_ahead_frames

    @property
    def frames(self) -> int:
        """The look-ahead frames in force in the editor (0: off)."""
        chosen = self._settings.value(SETTINGS_KEY)
        if chosen is not None:
            try:
                return max(0, int(str(chosen)))
            except ValueError:
                pass  # a hand-edited settings file: fall back to the project's
        project = self.project_frames
        return project if project is not None else EDITOR_DEFAULT_FRAMES

    def set_frames(self, frames: int) -> None:
        """Choose the look-ahead frames for this project in the editor (0: off), and apply."""
        self._settings.setValue(SETTINGS_KEY, max(0, frames))
        self.apply()
        self.statusReported.emit(
            "look-ahead off: hot reloads apply at once"
            if frames <= 0
            else f"look-ahead on: a hot reload first runs {frames} frames ahead",
            "ok",
            STATUS_SECONDS,
        )

    def apply(self) -> None:
        """Give the game the number in force, and check it in the menu."""
        frames = self.frames
        self._game.look_ahead_frames = frames
        for action in self._group.actions():
            action.setChecked(action.data() == frames)
        log.debug("look-ahead: %d frames", frames)

    def _on_chosen(self, action: QAction) -> None:
        self.set_frames(int(action.data()))
