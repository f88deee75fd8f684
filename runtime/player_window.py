"""The player: ``python -m runtime play`` with a window, or headless with a channel.

`run_player` is what `runtime.cli` calls for ``play`` without ``--headless``
(a Qt window) and for ``play --headless --channel ADDR`` (the editor's headless
child). Both run the same `PlayerSession`: a `Game`, the editor channel
(`runtime.channel`) when there is one, pause/step/stop commands, statistics
once a second, the scene tree on request, and each hot reload report printed to
stdout and sent to the editor. In ``Debug (HR)`` the game's own watcher picks up
saved plugin files and `Game.step` applies them between frames.

The window draws through `runtime.qt_render.SceneRenderer`, the editor's
drawing module. Besides `runtime.qt_render`, this is the only runtime module
that imports Qt, and nothing in the core imports it.

Exit codes: 0 after ``--frames``, a stop request, a closed window or SIGTERM;
1 when the game cannot start or the runtime fails (the traceback goes to
stderr and, when connected, to the editor as an ``error`` message). A plugin
calling ``os._exit(n)`` ends the process with ``n``, which the editor reports.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import logging
import os
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

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

from runtime.channel import (
    TOKEN_ENV,
    ChannelClient,
    ChannelClosed,
    ChannelError,
    Message,
    error_payload,
    report_payload,
    scene_tree_payload,
)
from runtime.clock import FixedStepClock
from runtime.game import Game
from runtime.profiles import BuildProfile
from runtime.qt_render import Camera, SceneRenderer

log = logging.getLogger("hotplay.player")


class ChannelLogHandler(logging.Handler):
    """Sends log records to the editor as ``log`` messages (from any thread)."""

    def __init__(self, channel: ChannelClient, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.channel = channel
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        """Send one record (records logged while sending are dropped, not recursed into)."""
        if getattr(self._busy, "on", False):
            return  # a record logged while sending one: never recurse
        self._busy.on = True
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            self.channel.send(
                "log",
                level=record.levelno,
                logger=record.name,
                message=message,
                created=record.created,
            )
        except Exception:
            pass  # a log record the channel cannot carry is still on stderr
        finally:
            self._busy.on = False


class PlayerSession:
    """A running game and its link to the editor; no Qt (the window and the headless loop drive it).

    Args:
        game: the game to run (the session does not close it).
        channel: the connection to the editor, or ``None``.
        out: where reload reports are printed.
        clock: the wall clock (seconds).
    """

    STATS_INTERVAL = 1.0

    def __init__(
        self,
        game: Game,
        channel: ChannelClient | None = None,
        *,
        out: TextIO | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.game = game
        self.channel = channel
        self.out = out if out is not None else sys.stdout
        self.clock = clock
        self.paused = False
        self.steps_requested = 0
        self.stop_requested = False
        self.frames_run = 0
        self.fps = 0.0
        self.frame_ms = 0.0
        self._window_frames = 0
        self._window_busy = 0.0
        self._window_start = clock()
        game.on_reload(self._on_reload)

    # --- commands from the editor -----------------------------------------------------

    def handle_messages(self) -> None:
        """Apply every command the editor sent since the last call."""
        if self.channel is None or self.channel.closed:
            return
        try:
            messages = self.channel.poll()
        except ChannelClosed as exc:
            log.info("the editor closed the channel (%s); stopping", exc)
            self.stop_requested = True
            return
        finally:
            for problem in self.channel.rejected:
                log.error("rejected a frame from the editor: %s", problem)
            self.channel.rejected.clear()
        for msg in messages:
            self._on_message(msg)

    def _on_message(self, msg: Message) -> None:
        if msg.type == "stop":
            self.stop_requested = True
        elif msg.type == "pause":
            self.paused = True
            self.send_stats()
        elif msg.type == "resume":
            self.paused = False
            self.steps_requested = 0
            self.send_stats()
        elif msg.type == "step":
            # At once, so a request that follows (the tree) sees the frames.
            self.paused = True
            self.steps_requested += max(0, min(int(msg["frames"]), 10_000))
            self.advance(self.steps_requested)
        elif msg.type == "request_tree":
            self.send("tree", **scene_tree_payload(self.game))

    # --- frames -----------------------------------------------------------------------

    def advance(self, frames: int = 1) -> int:
        """Run up to `frames` frames (fewer when paused: only requested steps); return how many."""
        if self.paused:
            frames = min(frames, self.steps_requested) if self.steps_requested else 0
            self.steps_requested -= frames
            if frames == 0:
                # Saved code still reloads while paused, so the tree shows it.
                self.game.apply_pending_reloads()
        if frames <= 0:
            return 0
        t0 = self.clock()
        self.game.step(frames)
        self._window_busy += self.clock() - t0
        self._window_frames += frames
        self.frames_run += frames
        return frames

    def tick(self, frames: int = 1) -> int:
        """One turn of the loop: commands, then frames, then statistics when due."""
        self.handle_messages()
        ran = 0 if self.stop_requested else self.advance(frames)
        self.maybe_send_stats()
        return ran

    def maybe_send_stats(self) -> None:
        """Measure FPS and frame time and send ``stats`` once per `STATS_INTERVAL`."""
        now = self.clock()
        span = now - self._window_start
        if span < self.STATS_INTERVAL:
            return
        self.fps = self._window_frames / span
        self.frame_ms = (
            self._window_busy / self._window_frames * 1000.0 if self._window_frames else 0.0
        )
        self._window_frames = 0
        self._window_busy = 0.0
        self._window_start = now
        self.send_stats()

    def stats(self) -> dict[str, Any]:
        """The ``stats`` message payload."""
        s = self.game.stats()
        return {
            "fps": float(self.fps),
            "frame_ms": float(self.frame_ms),
            "entities": int(s["entities"]),
            "frame": int(s["frame"]),
            "time": float(s["time"]),
            "reloads": int(s["reloads"]),
            "paused": self.paused,
        }

    def send_stats(self) -> None:
        """Send the statistics now."""
        self.send("stats", **self.stats())

    def send(self, msg_type: str, **payload: Any) -> None:
        """Send a message to the editor, if connected (encoding problems are logged)."""
        if self.channel is None or self.channel.closed:
            return
        try:
            self.channel.send(msg_type, **payload)
        except ChannelError as exc:
            log.error("could not send %s to the editor: %s", msg_type, exc)

    def _on_reload(self, report: Any) -> None:
        print(f"[frame {self.game.frame}] {report}", file=self.out, flush=True)
        self.send("reload", report=report_payload(report))


# --- the window ---------------------------------------------------------------------------

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


# --- entry point ----------------------------------------------------------------------------


def run_player(args: argparse.Namespace, profile: BuildProfile, project: Path) -> int:
    """Run ``hotplay play`` with a window, or headless when connected to the editor.

    Args:
        args: the parsed ``play`` arguments (`runtime.cli.build_parser`).
        profile: the build profile.
        project: the project folder.

    Returns:
        The process exit code.
    """
    t0 = time.perf_counter()
    from runtime.build import MANIFEST, release_dir, stale_sources
    from runtime.project import Project, ProjectError

    # A crash in native code (a C extension, Qt) then prints the Python stack of
    # every thread to stderr, which the editor shows, instead of dying silently.
    faulthandler.enable()
    from runtime.scenefile import SceneFileError

    channel: ChannelClient | None = None
    if args.channel:
        token = os.environ.pop(TOKEN_ENV, "")  # plugin code and its children need not see it
        try:
            channel = ChannelClient.connect(
                args.channel, token, profile=profile.value, scene=str(args.scene or "")
            )
        except (OSError, ValueError) as exc:
            print(
                f"hotplay: error: cannot reach the editor at {args.channel}: {exc}", file=sys.stderr
            )
            return 1
    handler = ChannelLogHandler(channel) if channel is not None else None
    root_logger = logging.getLogger()
    if handler is not None:
        root_logger.addHandler(handler)
    if not getattr(args, "verbose", False):
        # Each reload is printed and sent as a report; its INFO log line would say it twice.
        logging.getLogger("hotplay.reload").setLevel(logging.WARNING)

    def fail(exc: BaseException, *, with_traceback: bool) -> int:
        if with_traceback:
            traceback.print_exception(exc, file=sys.stderr)
        else:
            print(f"hotplay: error: {exc}", file=sys.stderr)
        sys.stderr.flush()
        if channel is not None and not channel.closed:
            with contextlib.suppress(ChannelError):
                channel.send("error", **error_payload(exc))
            channel.flush(1.0)
        return 1

    try:
        try:
            bytecode_dir: Path | None = None
            if profile.precompiled:
                proj = Project.open(project)
                bytecode_dir = Path(args.build_dir) if args.build_dir else release_dir(proj)
                if not (bytecode_dir / MANIFEST).is_file():
                    raise ProjectError(
                        f"no Release build in {bytecode_dir}: "
                        f"run `python -m runtime build --profile release` first"
                    )
                if not sys.flags.optimize:
                    log.warning("the Release profile should run under `python -O`")
                stale = stale_sources(bytecode_dir, proj.plugins_dir)
                if stale:
                    log.warning(
                        "changed since the last Release build (not running): %s", ", ".join(stale)
                    )
            game = Game(
                project,
                profile=profile,
                scene=args.scene,
                quiet_ms=args.quiet_ms,
                bytecode_dir=bytecode_dir,
            )
        except (ProjectError, SceneFileError) as exc:
            return fail(exc, with_traceback=False)
        except Exception as exc:
            return fail(exc, with_traceback=True)
        with game:
            session = PlayerSession(game, channel)
            if profile.hot_reload:
                print(f"watching {game.project.plugins_dir} for changes", flush=True)
            try:
                if args.headless:
                    started = time.perf_counter()
                    _run_headless(session, args)
                    wall = time.perf_counter() - started
                    print(game.summary(session.frames_run, wall, started - t0), flush=True)
                    return 0
                return _run_window(session, args)
            except Exception as exc:
                return fail(exc, with_traceback=True)
    finally:
        if handler is not None:
            root_logger.removeHandler(handler)
        if channel is not None:
            channel.flush(1.0)
            channel.close()


def _run_window(session: PlayerSession, args: argparse.Namespace) -> int:
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


def _run_headless(session: PlayerSession, args: argparse.Namespace) -> None:
    """The plain loop: frames paced to real time, the channel read between them."""
    frames = args.frames
    realtime = args.realtime if args.realtime is not None else frames is None
    dt = session.game.fixed_dt

    def on_term(*_: object) -> None:
        session.stop_requested = True

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        next_at = time.perf_counter()
        while not session.stop_requested and (frames is None or session.frames_run < frames):
            session.tick(1)
            if not realtime:
                continue
            next_at += dt
            if next_at < time.perf_counter():
                next_at = time.perf_counter()  # fell behind: do not try to catch up
                continue
            _wait_until(session, next_at)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _wait_until(session: PlayerSession, deadline: float) -> None:
    """Wait for the next frame, handling editor commands as they arrive."""
    while not session.stop_requested:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return
        channel = session.channel
        if channel is None or channel.closed:
            time.sleep(remaining)
            return
        readable, _, _ = select.select([channel], [], [], remaining)
        if readable:
            session.handle_messages()
