"""Where the game plays: the `PlayTarget` seam and its in-editor implementation.

The play controller (`editor.controllers.play`) drives play through
`PlayTarget` only (start, pause, resume, step, stop, and its signals), so a
target that runs the game in a separate process (``editor/player_process/``)
plugs in without touching it: register a factory with
`MainWindow.register_play_target`.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from runtime import Game, Scene
from runtime.clock import FixedStepClock

log = logging.getLogger("hotplay.editor")


class PlayState(enum.Enum):
    """Where a play target is."""

    STOPPED = "stopped"
    PLAYING = "playing"
    PAUSED = "paused"


class PlayTarget(QObject):
    """Base of the ways to play the edited scene.

    Subclasses implement `start`, `stop`, `pause`, `resume` and `step`, keep
    `state` and emit the signals. `scene` is the scene to show while playing,
    when the target has one in this process (``None`` for a separate process:
    the window then keeps showing the edited scene).

    Signals:
        stateChanged(object): the new `PlayState`.
        frameAdvanced(): one or more frames ran (views repaint).
        failed(str): the target could not start or stopped on an error.
    """

    stateChanged = Signal(object)
    frameAdvanced = Signal()
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = PlayState.STOPPED

    @property
    def state(self) -> PlayState:
        """Stopped, playing or paused."""
        return self._state

    def _set_state(self, state: PlayState) -> None:
        if state is not self._state:
            self._state = state
            self.stateChanged.emit(state)

    @property
    def scene(self) -> Scene | None:
        """The running scene to show in the scene view, if it lives in this process."""
        return None

    def stats(self) -> dict[str, Any]:
        """Numbers for the status bar: ``fps``, ``entities``, ``frame``."""
        return {}

    def start(self) -> None:
        """Start playing the edited scene."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop and discard the running game."""
        raise NotImplementedError

    def pause(self) -> None:
        """Stop advancing frames (the game stays alive)."""
        raise NotImplementedError

    def resume(self) -> None:
        """Continue after `pause`."""
        raise NotImplementedError

    def step(self) -> None:
        """Run exactly one frame (pauses first if playing)."""
        raise NotImplementedError

    def run_new_code_frame(self) -> bool:
        """Run the first frame of newly reloaded code now, while playing in this process.

        Returns whether a frame ran: never by default, as a game in another
        process reloads and runs its frames there.
        """
        return False

    def press_key(self, key: str) -> None:
        """A key went down while the game view has focus."""

    def release_key(self, key: str) -> None:
        """A key went up."""

    def release_all_keys(self) -> None:
        """The game view lost focus: let go of every key."""


class UnavailablePlayTarget(PlayTarget):
    """A target that cannot play yet: starting it says why instead of failing."""

    def __init__(self, reason: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reason = reason

    def start(self) -> None:  # noqa: D102 (base-class API)
        self.failed.emit(self.reason)

    def stop(self) -> None:  # noqa: D102 (base-class API)
        self._set_state(PlayState.STOPPED)

    def pause(self) -> None:  # noqa: D102 (base-class API)
        pass

    def resume(self) -> None:  # noqa: D102 (base-class API)
        pass

    def step(self) -> None:  # noqa: D102 (base-class API)
        self.failed.emit(self.reason)


class InEditorPlay(PlayTarget):
    """Plays a copy of the edited scene in the editor's own `Game`, on a Qt timer.

    The timer fires about every 1/60 s; each tick runs as many fixed steps as
    wall time asks for (at most a few, so a stalled GUI does not cause a burst),
    which keeps game time at the game's rate whatever the timer's jitter. A game
    whose frames take longer than a fixed step cannot catch up: it runs one
    frame a tick, and the next tick is an interval after this one ends, so the
    editor's event loop, its other timers included, turns between any two frames.

    Args:
        game: the editor's game (holds the edited scene, not running).
        edited_scene: returns the scene to copy when Play is pressed.
    """

    MAX_FRAMES_PER_TICK = 4

    def __init__(
        self, game: Game, edited_scene: Callable[[], Scene], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.game = game
        self._edited_scene = edited_scene
        self._scene: Scene | None = None
        #: The edited scene while it is out of the game (`runtime.Game.set_aside`).
        self._aside: Scene | None = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(max(1, int(1000 * game.fixed_dt)))
        self._timer.timeout.connect(self._on_tick)
        self._clock = FixedStepClock(game.fixed_dt, self.MAX_FRAMES_PER_TICK)
        #: The code generation the last tick ran (a new one restarts the clock).
        self._generation = game.generations.generation
        self._fps_frames = 0
        self._fps_since = 0.0
        self._fps = 0.0
        self._frame_seconds = 0.0  # what a frame took in the last tick that ran one

    @property
    def scene(self) -> Scene | None:  # noqa: D102 (base-class API)
        return self._scene

    def stats(self) -> dict[str, Any]:  # noqa: D102 (base-class API)
        return {
            "fps": self._fps,
            "entities": len(self._scene) if self._scene is not None else 0,
            "frame": self.game.frame,
        }

    def start(self) -> None:  # noqa: D102 (base-class API)
        if self._state is not PlayState.STOPPED:
            return
        edited = self._edited_scene()
        copy = self.game.copy_scene(edited)
        self.game.add_scene(copy, run=True)
        # Until Stop, hot reloads migrate the copy alone; the edited scene takes the code
        # loaded by then at Stop, as saving and reopening it would.
        self.game.set_aside(edited)
        self._aside = edited
        self._scene = copy
        self._set_state(PlayState.PLAYING)
        self._start_timer()

    def stop(self) -> None:  # noqa: D102 (base-class API)
        if self._state is PlayState.STOPPED:
            return
        self._timer.stop()
        self.game.input.release_all()
        # Removes the running scenes (on_deinit), resets the plugin objects; the
        # edited scene, set aside, comes back with the code loaded now.
        try:
            self.game.stop()
        finally:
            self._take_back()
        self._scene = None
        self._fps = 0.0
        self._set_state(PlayState.STOPPED)

    def _take_back(self) -> None:
        aside, self._aside = self._aside, None
        if aside is None:
            return
        try:
            changed = self.game.take_back(aside)
        except Exception:  # a runtime bug: the scene must come back all the same
            log.exception("the edited scene could not take the code loaded now")
            if aside not in self.game.scenes:
                self.game.add_scene(aside, run=False)
            return
        if changed:
            log.info(
                "the edited scene took the code loaded now (the scripts of %d entit%s)",
                len(changed),
                "y" if len(changed) == 1 else "ies",
            )

    def pause(self) -> None:  # noqa: D102 (base-class API)
        if self._state is PlayState.PLAYING:
            self._timer.stop()
            self._fps = 0.0
            self._set_state(PlayState.PAUSED)

    def resume(self) -> None:  # noqa: D102 (base-class API)
        if self._state is PlayState.PAUSED:
            self._set_state(PlayState.PLAYING)
            self._start_timer()

    def step(self) -> None:  # noqa: D102 (base-class API)
        if self._state is PlayState.STOPPED:
            return
        self.pause()
        self._run_frames(1)

    def run_new_code_frame(self) -> bool:
        """Run the frame of new code due at once (see `_on_tick`), when playing.

        After a hot reload the scene view still has the repaint that the frame
        before the save asked for: run now, this frame is what it shows, instead
        of the frame before and then, one repaint later, this one. Returns
        whether a frame ran.
        """
        new_code = self.game.generations.generation != self._generation
        if self._state is not PlayState.PLAYING or not new_code:
            return False
        frame = self.game.frame
        self._on_tick()
        return self.game.frame != frame

    def press_key(self, key: str) -> None:  # noqa: D102 (base-class API)
        self.game.input.press(key)

    def release_key(self, key: str) -> None:  # noqa: D102 (base-class API)
        self.game.input.release(key)

    def release_all_keys(self) -> None:  # noqa: D102 (base-class API)
        self.game.input.release_all()

    def _start_timer(self) -> None:
        self._generation = self.game.generations.generation
        self._clock.start()
        self._fps_since = time.perf_counter()
        self._fps_frames = 0
        self._timer.start()

    def _follow_new_code(self, *, at_once: bool) -> None:
        """Count time afresh when the code changed since the last look.

        The first frame of new code is shown before the next runs, and no frame
        catches up on the time the reload took: frames nobody sees. Neither does
        the timer, whose missed timeouts would come one after another, each a
        frame, ahead of the repaint that shows the first.

        Args:
            at_once: the first frame of the new code is still to run (before a
                tick's frames); else it ran (a reload inside them ends them with
                it, or before it when it would not fit: then it runs a step later).
        """
        generation = self.game.generations.generation
        if generation != self._generation:
            self._generation = generation
            self._clock.start(at_once=at_once)
            if self._timer.isActive():
                self._timer.start()

    def _on_tick(self) -> None:
        # New code since the last tick (the editor reloads between ticks): its first
        # frame runs now. A reload inside the tick's frames (`Game.step` applies what
        # is pending) ends them after the first frame of the new code.
        self._follow_new_code(at_once=True)
        frames = self._clock.frames_due()
        if frames <= 0:
            return
        if self._behind_real_time:
            frames = 1  # it cannot catch up: frames in a row would only block the editor
        now = time.perf_counter()
        self._run_frames(frames)
        self._follow_new_code(at_once=False)
        if self._behind_real_time and self._timer.isActive():
            # Qt schedules a repeating timer's next timeout from when it was due, so after a
            # slow tick the next one is overdue at once and, being the earliest, fires
            # before the editor's other timers, overdue by then too. Counted from now, it
            # comes after them.
            self._timer.start()
        self._fps_frames += frames
        if now - self._fps_since >= 0.5:
            self._fps = self._fps_frames / (now - self._fps_since)
            self._fps_frames = 0
            self._fps_since = now

    @property
    def _behind_real_time(self) -> bool:
        """Whether the last frame took longer than a fixed step: the game cannot keep up."""
        return self._frame_seconds > self.game.fixed_dt

    def _run_frames(self, frames: int) -> None:
        first, started = self.game.frame, time.perf_counter()
        try:
            # Pending hot reloads are applied at the start of each frame.
            self.game.step(frames, responsive=True)
        except Exception as exc:  # a runtime bug: stop playing, keep the editor alive
            log.exception("the game stopped on an internal error")
            self.stop()
            self.failed.emit(f"the game stopped on an internal error: {exc}")
            return
        ran = self.game.frame - first
        if ran:
            self._frame_seconds = (time.perf_counter() - started) / ran
            # Not after a tick that only reloaded (or a halted game): a repaint then
            # would show the frame before once more, ahead of the new code's first.
            self.frameAdvanced.emit()
