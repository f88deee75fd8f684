"""The timeline: looking at the last seconds of a game, rewinding and replaying them.

While a game plays, the runtime records it (`runtime.history`). Scrubbing the
`editor.timeline.TimelineBar` pauses the game and shows the state at a past
frame (`runtime.Game.preview`, a scratch scene: the live game is not touched)
in the scene view, the tree and a read-only inspector. From there, "Continue
live" (or Resume) puts the live game back at that frame (`runtime.Game.rewind`)
and plays on; "Replay from here with the current code" does too, then plays
the recorded input up to where the game was (`runtime.Game.replay`), so the
same seconds run again under a fix just saved.

The game is reached through a `RecordedGame`: the editor's own `Game` for
in-editor play (`InEditorHistory`), or a play target that asks another
process (`editor.player_process.play_target.SeparateProcessPlay`), whose
answers come later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication

from editor.controllers import STATUS_SECONDS
from editor.controllers.play import PlayController
from editor.controllers.shown_scene import ShownSceneController
from editor.play import InEditorPlay, PlayState, PlayTarget
from editor.timeline import TimelineBar, TimelineRange
from runtime import Game, Scene
from runtime.history import HistoryError, PastFrames
from runtime.reports import ReloadReport

log = logging.getLogger("hotplay.editor")

#: Called with a recorded frame and the scene as it was then.
ShowPast = Callable[[int, Scene], None]


@runtime_checkable
class RecordedGame(Protocol):
    """A game whose last seconds the timeline can show, rewind and replay."""

    def history_range(self) -> TimelineRange | None:
        """The frames recorded now (``None``: nothing)."""

    def why_no_history(self) -> str:
        """Why `history_range` is ``None``, for the bar's tooltip."""

    def request_preview(self, frame: int, show: ShowPast) -> None:
        """Have `show` called with the scene at `frame` (now, or when it arrives).

        Raises:
            runtime.history.HistoryError: `frame` is not recorded (a game in this process).
        """

    def rewind_to(self, frame: int) -> None:
        """Take the live game back to `frame` under the current code."""

    def replay_from(self, frame: int) -> None:
        """Take the live game back to `frame`, then play the recorded input up to now."""


class InEditorHistory:
    """The `RecordedGame` of in-editor play: the editor's own `Game`, answering at once.

    Args:
        game: the window's game.
    """

    def __init__(self, game: Game) -> None:
        self._game = game
        # A drag forward asks for frame after frame: each is played on from the one shown
        # before, not rebuilt from its keyframe.
        self._past = PastFrames(game)

    def history_range(self) -> TimelineRange | None:  # noqa: D102 (protocol API)
        history = self._game.history
        if history is None or not history.keyframes:
            return None
        return TimelineRange(
            first=history.first_frame,
            live=history.last_frame,
            dt=history.dt,
            keyframes=tuple(k.frame for k in history.keyframes),
        )

    def why_no_history(self) -> str:  # noqa: D102 (protocol API)
        if self._game.history is None:
            return (
                "the game is not recorded: the project turns history off "
                "(hotplay.toml: [history] seconds = 0)"
            )
        return "nothing recorded yet: the game has not run a frame"

    def request_preview(self, frame: int, show: ShowPast) -> None:  # noqa: D102 (protocol API)
        show(frame, self._past.scene_at(frame))

    def forget_preview(self) -> None:
        """Drop the past frame kept for the next scrub (the live game is shown again)."""
        self._past.forget()

    def rewind_to(self, frame: int) -> None:  # noqa: D102 (protocol API)
        game = self._game
        game.rewind((game.frame - frame) * game.fixed_dt)

    def replay_from(self, frame: int) -> None:  # noqa: D102 (protocol API)
        self._game.replay(frame)


class TimelineController(QObject):
    """Keeps the timeline bar in step with the game's history, and acts on it.

    Args:
        game: the window's game (the in-editor game runs in it).
        play: the play controller (its target is the game playing).
        shown: the panels' scene (a previewed frame is shown there).
        bar: the timeline bar under the scene view.
        parent: the owning window.

    Signals:
        statusReported(str, str, float): a message for the status bar (text, kind, seconds).
    """

    statusReported = Signal(str, str, float)

    def __init__(
        self,
        game: Game,
        play: PlayController,
        shown: ShownSceneController,
        bar: TimelineBar,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._in_editor = InEditorHistory(game)
        self._play = play
        self._shown = shown
        self.bar = bar
        self._target: PlayTarget | None = None
        self._scrub: int | None = None
        #: The past frame asked of a game that answers later (a separate process).
        self._pending: int | None = None
        # A drag asks for a frame at every mouse move, and rebuilding a past frame takes a
        # while (a keyframe, then up to a second of frames): the handle moves at once, and
        # the frame asked for last is shown once the events queued meanwhile are handled.
        self._wanted: int | None = None
        self._scrub_timer = QTimer(self)
        self._scrub_timer.setSingleShot(True)
        self._scrub_timer.setInterval(0)
        self._scrub_timer.timeout.connect(self._on_scrub_timer)
        bar.frameRequested.connect(self._on_frame_requested)
        bar.replayRequested.connect(self.replay_from_here)
        bar.continueRequested.connect(self.continue_live)
        play.stateChanged.connect(self._on_play_state_changed)
        # Called inside the reload, maybe inside a frame: look again once it is over.
        game.on_reload(lambda report: QTimer.singleShot(0, self, lambda: self._on_reload(report)))

    # --- state ----------------------------------------------------------------------------

    @property
    def scrubbed_frame(self) -> int | None:
        """The past frame shown instead of the live game (``None``: the live game is shown)."""
        return self._scrub

    @property
    def unavailable_reason(self) -> str | None:
        """Why there is no timeline now (``None``: there is one)."""
        target = self._play.target
        if target is None or self._play.state is PlayState.STOPPED:
            return "nothing is playing: Play to record the game"
        recorded = self._recorded()
        if recorded is None:
            return "this run target keeps no history"
        if recorded.history_range() is None:
            return recorded.why_no_history()
        return None

    def kept_range(self) -> TimelineRange | None:
        """The frames the game keeps now (``None``: no timeline)."""
        recorded = self._recorded()
        if recorded is None or self._play.state is PlayState.STOPPED:
            return None
        return recorded.history_range()

    def _recorded(self) -> RecordedGame | None:
        target = self._play.target
        if isinstance(target, InEditorPlay):
            return self._in_editor
        return target if isinstance(target, RecordedGame) else None

    # --- commands -------------------------------------------------------------------------

    def scrub(self, frame: int) -> bool:
        """Pause the game and show `frame` (clamped to the kept range); the live game stays.

        The live frame itself shows the live game, paused. A game in another
        process shows the frame when its answer arrives.

        Returns:
            Whether the frame is shown or asked for (``False``: there is no timeline now).
        """
        kept = self.kept_range()
        recorded = self._recorded()
        target = self._play.target
        if kept is None or recorded is None or target is None or target.scene is None:
            return False
        frame = kept.clamp(frame)
        if target.state is PlayState.PLAYING:
            target.pause()
        self.bar.show_range(kept)
        if frame == kept.live:
            self._pending = self._scrub = None
            self._shown.show(target.scene, mode="paused")
            self.bar.show_scrub(None)
            return True
        self._pending = frame
        self.bar.show_scrub(frame)
        try:
            recorded.request_preview(frame, self._show_past)
        except HistoryError as exc:  # dropped from the ring since the bar was drawn
            self._pending = None
            self.statusReported.emit(str(exc), "warning", STATUS_SECONDS)
            self.refresh()
            return False
        return True

    def step_by(self, frames: int) -> bool:
        """Show the frame `frames` before (negative) or after the one shown; see `scrub`."""
        kept = self.kept_range()
        if kept is None:
            return False
        shown = self._scrub if self._scrub is not None else kept.live
        return self.scrub(shown + frames)

    def go_to_start(self) -> bool:
        """Show the oldest frame kept; see `scrub`."""
        kept = self.kept_range()
        return kept is not None and self.scrub(kept.first)

    def go_to_live(self) -> bool:
        """Show the live game again (paused); see `scrub`."""
        kept = self.kept_range()
        return kept is not None and self.scrub(kept.live)

    def continue_live(self) -> bool:
        """Go on live from the frame shown: the live game is put back there, then resumes.

        Without a past frame shown, this is Resume.

        Returns:
            Whether the game plays now.
        """
        target, recorded = self._play.target, self._recorded()
        if target is None or recorded is None or self._play.state is PlayState.STOPPED:
            return False
        if self._scrub is not None:
            recorded.rewind_to(self._scrub)
            self.statusReported.emit(
                f"back to frame {self._scrub}: playing on live", "ok", STATUS_SECONDS
            )
        self._leave_scrub()
        target.resume()
        return True

    def replay_from_here(self) -> bool:
        """Replay the recorded input from the frame shown under the current code, then go on live.

        Returns:
            Whether it replayed (``False``: no past frame is shown).
        """
        target, recorded, frame = self._play.target, self._recorded(), self._scrub
        if frame is None or target is None or recorded is None:
            return False
        if self._play.state is PlayState.STOPPED:
            return False
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            recorded.replay_from(frame)
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.statusReported.emit(
            f"replayed from frame {frame} with the current code: playing on live",
            "ok",
            STATUS_SECONDS,
        )
        self._leave_scrub()
        target.resume()
        return True

    def refresh(self) -> None:
        """Show the kept range now (after frames ran), or why there is none."""
        kept = self.kept_range()
        if kept is None:
            self._scrub = self._pending = None
            self.bar.set_unavailable(self.unavailable_reason or "no history")
            return
        if self._scrub is not None and self._scrub < kept.first:
            self._scrub = None  # cannot happen while paused; a safe fallback
        self.bar.show_range(kept)
        self.bar.show_scrub(self._pending if self._pending is not None else self._scrub)

    # --- events ---------------------------------------------------------------------------

    def _show_past(self, frame: int, past: Scene) -> None:
        if frame != self._pending or self._play.state is not PlayState.PAUSED:
            return  # an answer to a question asked before the last one
        self._pending = None
        self._scrub = frame
        self._shown.show(past, mode="preview")
        self.refresh()

    def _leave_scrub(self) -> None:
        """Show the live game again in the panels (the play state is the caller's)."""
        target = self._play.target
        self._scrub = self._pending = None
        self._in_editor.forget_preview()
        if target is not None and target.scene is not None:
            self._shown.show(target.scene, mode="paused")
        self.refresh()

    def _on_frame_requested(self, frame: int) -> None:
        kept = self.kept_range()
        if kept is None:
            return
        self._wanted = frame
        self.bar.show_scrub(None if frame == kept.live else frame)
        self._scrub_timer.start()

    def _on_scrub_timer(self) -> None:
        frame, self._wanted = self._wanted, None
        if frame is not None:
            self.scrub(frame)

    def _on_play_state_changed(self, state: PlayState) -> None:
        target = self._play.target
        if target is not self._target:
            if self._target is not None:
                self._target.frameAdvanced.disconnect(self.refresh)
            self._target = target
            if target is not None:
                target.frameAdvanced.connect(self.refresh)
        if state is PlayState.PLAYING and (self._scrub is not None or self._pending is not None):
            # Resumed some other way than through here: the live game goes on where it was.
            self._leave_scrub()
        self.refresh()

    def _on_reload(self, report: ReloadReport) -> None:
        # A past frame is shown under the code as it is now: look at it again.
        if report.ok and self._scrub is not None:
            self.scrub(self._scrub)
