"""The timeline: looking at the last seconds of an in-editor game, rewinding and replaying them.

While a game plays in the editor, the runtime records it (`runtime.history`).
Scrubbing the `editor.timeline.TimelineBar` pauses the game and shows the
state at a past frame (`runtime.Game.preview`, a scratch scene: the live game
is not touched) in the scene view, the tree and a read-only inspector.
From there, "Continue live" (or Resume) puts the live game back at that frame
(`runtime.Game.rewind`) and plays on; "Replay from here with the current
code" does too, then plays the recorded input up to where the game was
(`runtime.Game.replay`), so the same seconds run again under a fix just saved.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication

from editor.controllers import STATUS_SECONDS
from editor.controllers.play import PlayController
from editor.controllers.shown_scene import ShownSceneController
from editor.play import InEditorPlay, PlayState, PlayTarget
from editor.timeline import TimelineBar, TimelineRange
from runtime import Game
from runtime.history import HistoryError
from runtime.reports import ReloadReport

log = logging.getLogger("hotplay.editor")


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
        self._game = game
        self._play = play
        self._shown = shown
        self.bar = bar
        self._target: PlayTarget | None = None
        self._scrub: int | None = None
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
        if not isinstance(target, InEditorPlay):
            return (
                "the game plays in a separate process, which keeps its history to itself: "
                "choose “In editor” to rewind and replay"
            )
        history = self._game.history
        if history is None:
            return (
                "the game is not recorded: the project turns history off "
                "(hotplay.toml: [history] seconds = 0)"
            )
        if not history.keyframes:
            return "nothing recorded yet: the game has not run a frame"
        return None

    def kept_range(self) -> TimelineRange | None:
        """The frames the game keeps now (``None``: no timeline)."""
        history = self._game.history
        if history is None or self.unavailable_reason is not None or not history.keyframes:
            return None
        return TimelineRange(
            first=history.first_frame,
            live=history.last_frame,
            dt=history.dt,
            keyframes=tuple(k.frame for k in history.keyframes),
        )

    # --- commands -------------------------------------------------------------------------

    def scrub(self, frame: int) -> bool:
        """Pause the game and show `frame` (clamped to the kept range); the live game stays.

        The live frame itself shows the live game, paused.

        Returns:
            Whether a frame is shown (``False``: there is no timeline now).
        """
        kept = self.kept_range()
        target = self._play.target
        if kept is None or target is None or target.scene is None:
            return False
        frame = kept.clamp(frame)
        if target.state is PlayState.PLAYING:
            target.pause()
        if frame == kept.live:
            self._scrub = None
            self._shown.show(target.scene, mode="paused")
        else:
            try:
                past = self._game.preview(frame)
            except HistoryError as exc:  # dropped from the ring since the bar was drawn
                self.statusReported.emit(str(exc), "warning", STATUS_SECONDS)
                self.refresh()
                return False
            self._scrub = frame
            self._shown.show(past, mode="preview")
        self.bar.show_range(kept)
        self.bar.show_scrub(self._scrub)
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
        target = self._play.target
        if target is None or self._play.state is PlayState.STOPPED:
            return False
        if self._scrub is not None:
            seconds = (self._game.frame - self._scrub) * self._game.fixed_dt
            at = self._game.rewind(seconds)
            self.statusReported.emit(
                f"rewound {seconds:.2f} s to frame {at}: playing on live", "ok", STATUS_SECONDS
            )
        self._leave_scrub()
        target.resume()
        return True

    def replay_from_here(self) -> bool:
        """Replay the recorded input from the frame shown under the current code, then go on live.

        Returns:
            Whether it replayed (``False``: no past frame is shown).
        """
        target = self._play.target
        frame = self._scrub
        if frame is None or target is None or self._play.state is PlayState.STOPPED:
            return False
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            reached = self._game.replay(frame)
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.statusReported.emit(
            f"replayed frames {frame} to {reached} with the current code: playing on live",
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
            self._scrub = None
            self.bar.set_unavailable(self.unavailable_reason or "no history")
            return
        if self._scrub is not None and self._scrub < kept.first:
            self._scrub = None  # cannot happen while paused; a safe fallback
        self.bar.show_range(kept)
        self.bar.show_scrub(self._scrub)

    # --- events ---------------------------------------------------------------------------

    def _leave_scrub(self) -> None:
        """Show the live game again in the panels (the play state is the caller's)."""
        target = self._play.target
        self._scrub = None
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
        if state is PlayState.PLAYING and self._scrub is not None:
            # Resumed some other way than through here: the live game goes on where it was.
            self._leave_scrub()
        self.refresh()

    def _on_reload(self, report: ReloadReport) -> None:
        # A past frame is shown under the code as it is now: look at it again.
        if report.ok and self._scrub is not None:
            self.scrub(self._scrub)
