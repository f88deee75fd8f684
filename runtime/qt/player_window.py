"""The player window: ``python -m runtime play`` without ``--headless``.

`run_window` shows a `PlayerWindow` for a `runtime.player.PlayerSession` that
`runtime.player.run_player` started (channel, Release checks, the `Game`), and
runs the Qt event loop until the window closes: after ``--frames``, a stop
request from the editor, the user closing it, or SIGTERM. The window draws
through `runtime.qt.render.SceneRenderer`, as the editor's scene view does, and
feeds the game the keyboard through `runtime.qt.keys.key_name`.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from PySide6.QtCore import QRectF, QSizeF, Qt, QTimer
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QFocusEvent,
    QFont,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import QApplication, QWidget

from runtime.clock import FixedStepClock
from runtime.player import PlayerSession
from runtime.qt.keys import key_name
from runtime.qt.render import Camera, SceneRenderer


class PlayerWindow(QWidget):
    """Shows a running game and feeds it the keyboard.

    A precise ~60 Hz timer runs as many fixed steps as wall time asks for (a
    few at most, so a stalled window does not cause a burst), then repaints.

    Args:
        session: the game and its channel.
        show_fps: draw frames per second and frame time in a corner.
        frames: close after this many frames (``None``: run until closed).
    """

    MAX_FRAMES_PER_TICK = 4

    def __init__(
        self,
        session: PlayerSession,
        *,
        show_fps: bool = False,
        frames: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.game = session.game
        self.show_fps = show_fps
        self.frame_limit = frames
        self.error: BaseException | None = None
        self.renderer = SceneRenderer(self.game.project.assets_dir)
        self.camera = Camera()
        self._view_rect = self._initial_view()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setWindowTitle(
            f"{self.game.project.name} — {self.game.scene.name} ({self.game.profile})"
        )
        self.resize(800, 600)
        self._overlay_font = QFont()
        self._overlay_font.setPixelSize(14)
        self.painted = 0
        #: The last failed reload (code or image), drawn across the bottom until the
        #: next reload succeeds; ``""`` when there is none.
        self.problem = ""
        session.image_loader = self._reload_image
        self.game.on_reload(self._on_reload)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(max(1, int(1000 * self.game.fixed_dt)))
        self._timer.timeout.connect(self._on_tick)
        self._clock = FixedStepClock(self.game.fixed_dt, self.MAX_FRAMES_PER_TICK)
        self._clock.start()
        self._timer.start()

    def _initial_view(self) -> QRectF:
        """What the camera frames: everything visible at the start, the origin included."""
        rect = self.renderer.bounds(self.game.scene)
        if rect.isEmpty():
            rect = QRectF(-400, -300, 800, 600)
        return rect.united(QRectF(-1, -1, 2, 2))

    # --- the loop -----------------------------------------------------------------------

    def _on_tick(self) -> None:
        frames = self._clock.frames_due()
        if self.frame_limit is not None:
            frames = min(frames, self.frame_limit - self.session.frames_run)
        try:
            self.session.tick(frames)
        except Exception as exc:  # a runtime bug: end the player with the traceback
            self.error = exc
            self.close()
            return
        if self.session.stop_requested or (
            self.frame_limit is not None and self.session.frames_run >= self.frame_limit
        ):
            self.close()
            return
        self.update()

    def _on_reload(self, report: Any) -> None:
        # The game thread is this one: the next paint shows it.
        self.problem = "" if report.ok else str(report)
        self.update()

    def _reload_image(self, rel: str) -> str | None:
        error = self.renderer.reload_image(rel)
        self.problem = f"image {rel} not reloaded, the old one is kept: {error}" if error else ""
        self.update()
        return error

    def _paint_problem(self, painter: QPainter) -> None:
        """The failed reload as one line across the bottom (the editor's log has the rest)."""
        first = self.problem.splitlines()[0] if self.problem else ""
        painter.setFont(self._overlay_font)
        bar = QRectF(0, self.height() - 28, self.width(), 28)
        painter.fillRect(bar, QColor(150, 30, 30, 220))
        painter.setPen(QColor(255, 235, 235))
        text = painter.fontMetrics().elidedText(
            first, Qt.TextElideMode.ElideRight, max(0, self.width() - 16)
        )
        painter.drawText(bar.adjusted(8, 0, -8, 0), int(Qt.AlignmentFlag.AlignVCenter), text)

    # --- Qt events ----------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the scene, and the FPS overlay when asked."""
        painter = QPainter(self)
        try:
            size = QSizeF(self.width(), self.height())
            self.renderer.paint(painter, self.game.scene, size, self.camera)
            if self.show_fps:
                s = self.session
                text = f"{s.fps:.0f} fps  {s.frame_ms:.2f} ms"
                if s.paused:
                    text += "  (paused)"
                painter.setFont(self._overlay_font)
                painter.setPen(QColor(0, 0, 0, 160))
                painter.drawText(QRectF(9, 7, 300, 20), int(Qt.AlignmentFlag.AlignLeft), text)
                painter.setPen(QColor(255, 255, 255))
                painter.drawText(QRectF(8, 6, 300, 20), int(Qt.AlignmentFlag.AlignLeft), text)
            if self.problem:
                self._paint_problem(painter)
        finally:
            painter.end()
        self.painted += 1

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the whole scene in view."""
        self.camera.fit(self._view_rect, QSizeF(event.size()))
        super().resizeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """A key went down: tell the game (auto-repeat is not a new press)."""
        name = key_name(event.key())
        if name is None:
            super().keyPressEvent(event)
            return
        if not event.isAutoRepeat():
            self.game.input.press(name)
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        """A key went up."""
        name = key_name(event.key())
        if name is None:
            super().keyReleaseEvent(event)
            return
        if not event.isAutoRepeat():
            self.game.input.release(name)
        event.accept()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        """Keys released while another window has focus would stay down: let go of all."""
        self.game.input.release_all()
        super().focusOutEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the loop; the player exits when the window is gone."""
        self._timer.stop()
        self.session.stop_requested = True
        super().closeEvent(event)


def run_window(session: PlayerSession, args: argparse.Namespace) -> int:
    """Show the session in a window until it closes (`runtime.player.WindowRunner`).

    Args:
        session: the started game and its channel.
        args: the parsed ``play`` arguments (``--show-fps``, ``--frames``).

    Returns:
        0 once the window has closed.

    Raises:
        Exception: what the runtime raised while the window ran a frame.
    """
    app = QApplication.instance() or QApplication([sys.argv[0] or "hotplay"])
    window = PlayerWindow(session, show_fps=args.show_fps, frames=args.frames)
    previous = signal.signal(signal.SIGTERM, lambda *_: window.close())
    try:
        window.show()
        # The timer runs until the window closes; the window closing ends exec().
        app.exec()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if window.error is not None:
        raise window.error
    return 0
