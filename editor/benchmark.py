"""The editor side of ``python -m runtime.bench``'s editor figures, in a child process.

``python -m editor.benchmark KIND N COUNT PROJECT`` drives a real `MainWindow`,
offscreen, on a scene file of N benchmark movers it writes into PROJECT first,
and prints one JSON line (`runtime.bench.editor_figures` starts it and reads
it; the runtime itself never imports the editor):

* ``edit``: rename an entity with the command an inspector edit pushes
  (`SetEntityAttribute`), then undo it, then redo it, one entity after another
  (so that no two commands merge), the edited entity selected so the inspector
  shows it. Each is timed from just before the push (or ``undo()``/``redo()``)
  to the views being up to date: the tree shows the entity's new name, the
  scene view has finished a repaint, and a zero-delay timer queued after the
  command has fired (refreshes the views deferred to the event loop ran). To
  that is added the time the GUI thread is busy in the second after (work the
  action scheduled for later, such as the recovery journal's sync): the user
  waits for that too. ``after_ms`` has that part of each figure alone.
* ``play``: Play in the editor with ``Debug (HR)``, then save an edit of
  ``movers.py`` again and again. Each is timed from just before the write to the
  end of the first repaint of the scene view that shows a frame of the new
  code, through the editor's own watcher, reload and views; that frame is
  verified (every counter moved by the new step since the reload).
* ``play-direct``: the same with the look-ahead off (the Play menu's *Look
  Ahead Before Reloads* at 0), which the editor has on by default: the reload
  alone, without the frames it first runs on a copy of the game.

COUNT rounds or saves are measured, after one more as a warm-up.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractEventDispatcher, QEvent, QEventLoop, QObject, QSettings, QTimer
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QApplication, QWidget

from editor.commands import SetEntityAttribute
from editor.controllers.play import RUN_IN_EDITOR
from editor.main_window import MainWindow
from runtime import BuildProfile, Game, Handle, Scene
from runtime.bench.errors import BenchError
from runtime.bench.project import build_scene, movers_path, movers_source
from runtime.bench.timing import ms
from runtime.game import tune_gc
from runtime.reports import ReloadReport

#: Longest wait for the editor to catch up with one action, in seconds.
_TIMEOUT_S = 120.0
#: How long after an action the GUI thread's busy time still counts, in seconds.
_AFTERMATH_S = 1.0


def run_figure(kind: str, n: int, count: int, project: Path) -> dict[str, Any]:
    """Run the ``edit`` or ``play`` measurement on a real editor window, offscreen.

    Args:
        kind: ``"edit"`` (`count` rounds of edit, undo, redo), ``"play"`` (`count`
            saves) or ``"play-direct"`` (the same, look-ahead off).
        n: entities in the scene.
        count: rounds or saves measured (one more runs first as a warm-up).
        project: the benchmark project.

    Returns:
        ``available``, the seconds to open the window and the milliseconds of each
        action by name.

    Raises:
        BenchError: the editor did not catch up in time, or showed the wrong thing.
    """
    if kind not in ("edit", "play", "play-direct"):
        raise BenchError(f"unknown editor figure {kind!r}")
    scene_path = _write_scene(project, n)
    app = QApplication.instance() or QApplication(["hotplay-bench"])
    assert isinstance(app, QApplication)
    settings = QSettings(str(project / ".bench-config" / "editor.ini"), QSettings.Format.IniFormat)
    profile = BuildProfile.DEBUG if kind == "edit" else BuildProfile.DEBUG_HR
    t0 = time.perf_counter()
    window = MainWindow(
        project, settings=settings, scene=scene_path, profile=profile, autosave_interval_ms=0
    )
    window.ask_unsaved_changes = lambda: "discard"
    window.show()
    driver = _Driver(app, window)
    try:
        driver.wait(lambda: driver.painted_since(t0), "the window's first paint")
        open_s = time.perf_counter() - t0
        if kind == "edit":
            times = driver.edit_rounds(count)
        else:
            if kind == "play-direct":
                window.look_ahead.set_frames(0)
            times = driver.play_saves(count, project)
    finally:
        driver.close()
    result = {"available": True, "kind": kind, "n": n, "open_s": open_s, "times_ms": times}
    if kind == "edit":
        result["after_ms"] = driver.after_ms
    return result


def _write_scene(project: Path, n: int) -> Path:
    """Write a scene file of `n` movers into `project`; return its path."""
    path = project / "assets" / "scenes" / f"bench-{n}.scene.json"
    with Game(project, scene=False, watch=False) as game:
        game.save_scene(build_scene(game, n, name=f"bench-{n}"), path)
    return path


class _Driver:
    """Drives one editor window and watches its scene view's repaints."""

    def __init__(self, app: QApplication, window: MainWindow) -> None:
        self.app = app
        self.window = window
        #: (time after the repaint, game frame shown) of every repaint of the scene view.
        self.paints: list[tuple[float, int]] = []
        self._filter = _PaintClock(window, self.paints)
        window.scene_view.installEventFilter(self._filter)
        # A wake-up four times a second, so that waiting on events can check its deadline.
        self._heartbeat = QTimer()
        self._heartbeat.setInterval(250)
        self._heartbeat.start()
        #: Milliseconds the GUI thread was busy in the second after each action, by name.
        self.after_ms: dict[str, list[float]] = {}
        self._busy = _BusyClock()

    def close(self) -> None:
        """Stop any play and close the window."""
        self._heartbeat.stop()
        window = self.window
        if window.is_playing:
            window.stop()
        window.scene_view.removeEventFilter(self._filter)
        window.close()
        self.app.processEvents()

    def painted_since(self, t: float) -> bool:
        """Whether the scene view finished a repaint after `t`."""
        return bool(self.paints) and self.paints[-1][0] > t

    def wait(self, done: Callable[[], bool], what: str, timeout: float = _TIMEOUT_S) -> float:
        """Run the event loop until `done()`; return the time it became true.

        Raises:
            BenchError: `timeout` seconds passed first.
        """
        flags = QEventLoop.ProcessEventsFlag.WaitForMoreEvents
        deadline = time.perf_counter() + timeout
        while not done():
            if time.perf_counter() > deadline:
                raise BenchError(f"the editor did not show {what} within {timeout:.0f} s")
            self.app.processEvents(flags)
        return time.perf_counter()

    def settle(self) -> None:
        """Let everything queued so far run (a zero-delay timer queued now has fired)."""
        fired = self._zero_timer()
        self.wait(lambda: fired[0], "its pending refreshes")

    def pause(self, seconds: float) -> None:
        """Run the event loop for `seconds`."""
        until = time.perf_counter() + seconds
        self.wait(lambda: time.perf_counter() > until, "a pause")

    def _zero_timer(self) -> list[bool]:
        fired = [False]
        QTimer.singleShot(0, lambda: fired.__setitem__(0, True))
        return fired

    # --- edit, undo, redo ---------------------------------------------------------------

    def edit_rounds(self, rounds: int) -> dict[str, list[float]]:
        """`rounds` renames, each undone and redone, of entities spread over the scene."""
        window = self.window
        scene = window.edited_scene
        handles = [e.handle for e in scene]
        picks = [handles[(i * 7919 + len(handles) // 2) % len(handles)] for i in range(rounds + 1)]
        out: dict[str, list[float]] = {"edit": [], "undo": [], "redo": []}
        self.after_ms = {key: [] for key in out}
        for i, h in enumerate(picks):
            window.select(h)
            self.settle()
            old = _name(scene, h)
            new = f"{old} (renamed {i})"
            command = SetEntityAttribute(window.document.edit_target, h, "name", new, old)
            stack = window.undo_stack
            times = (
                self._timed(functools.partial(stack.push, command), h, new),
                self._timed(stack.undo, h, old),
                self._timed(stack.redo, h, new),
            )
            if i > 0:  # the first round warms up
                for key, (t, after) in zip(("edit", "undo", "redo"), times, strict=True):
                    out[key].append(t + after)
                    self.after_ms[key].append(after)
        return out

    def _timed(
        self, action: Callable[[], object], handle: Handle, name: str
    ) -> tuple[float, float]:
        """Milliseconds from `action` to the views showing it, and busy in the second after."""
        window = self.window
        t0 = time.perf_counter()
        action()
        fired = self._zero_timer()
        t1 = self.wait(
            lambda: fired[0] and self.painted_since(t0) and _tree_shows(window, handle, name),
            f"the name {name!r}",
        )
        if _name(window.edited_scene, handle) != name:
            raise BenchError(f"the command did not set the name {name!r}")
        self._busy.start()
        self.pause(_AFTERMATH_S)
        return ms(t1 - t0), ms(self._busy.stop())

    # --- save -> new code while playing -------------------------------------------------

    def play_saves(self, saves: int, project: Path) -> dict[str, list[float]]:
        """Play in the editor, then `saves` edits of ``movers.py`` through the editor's watcher."""
        window = self.window
        game = window.game
        window.play_controller.run_target_combo.setCurrentText(RUN_IN_EDITOR)
        window.play()
        self.wait(lambda: window.is_playing and game.frame >= 3, "Play running")
        movers = movers_path(project)
        reloaded: dict[str, Any] = {}

        def on_reload(report: ReloadReport) -> None:
            # The game thread, at the end of the reload: what the next frames start from.
            if report.ok and report.plugins:
                reloaded.update(frame=game.frame, ticks=_first_script(window).ticks)

        game.on_reload(on_reload)
        out: list[float] = []
        step = 1
        for i in range(saves + 1):
            step = 2 if step == 1 else 1
            reloaded.clear()
            old_cls = type(_first_script(window))
            t0 = time.perf_counter()
            movers.write_text(movers_source(step), encoding="utf-8")

            self.wait(functools.partial(self._shows_new_code, reloaded, t0), f"save {i + 1}")
            start = reloaded["frame"]
            t1 = next(t for t, frame in self.paints if t > t0 and frame > start)
            script = _first_script(window)
            if type(script) is old_cls or type(script).__name__ != "Mover":
                raise BenchError("the playing scene still runs the old Mover class")
            moved = script.ticks - reloaded["ticks"]
            if moved != step * (game.frame - start):
                raise BenchError(
                    f"the new code did not run: ticks moved {moved} in {game.frame - start} "
                    f"frames, step {step}"
                )
            if i > 0:  # the first save warms up
                out.append(ms(t1 - t0))
            # The save's late file events, so that none spills into the next sample.
            self.pause(0.15)
        window.stop()
        self.wait(lambda: not window.is_playing, "Stop")
        return {"save_to_shown": out}

    def _shows_new_code(self, reloaded: dict[str, Any], t0: float) -> bool:
        """Whether a repaint after `t0` showed a frame run after the reload."""
        if not reloaded:
            return False
        start = reloaded["frame"]
        return any(frame > start for t, frame in self.paints if t > t0)


class _BusyClock:
    """Adds up the time the GUI thread's event loop spends awake (not waiting for events)."""

    def __init__(self) -> None:
        dispatcher = QAbstractEventDispatcher.instance()
        assert dispatcher is not None, "a QApplication runs"
        dispatcher.awake.connect(self._on_awake)
        dispatcher.aboutToBlock.connect(self._on_about_to_block)
        self._running = False
        self._awake_since: float | None = None
        self._busy = 0.0

    def start(self) -> None:
        """Count from now (the loop is awake now: this code runs in it)."""
        self._running, self._busy = True, 0.0
        self._awake_since = time.perf_counter()

    def stop(self) -> float:
        """Stop counting; the seconds spent awake since `start`."""
        self._on_about_to_block()
        self._running = False
        return self._busy

    def _on_awake(self) -> None:
        if self._running:
            self._awake_since = time.perf_counter()

    def _on_about_to_block(self) -> None:
        if self._running and self._awake_since is not None:
            self._busy += time.perf_counter() - self._awake_since
            self._awake_since = None


class _PaintClock(QObject):
    """An event filter that paints the scene view itself, then notes the time and game frame."""

    def __init__(self, window: MainWindow, paints: list[tuple[float, int]]) -> None:
        super().__init__()
        self._window = window
        self._paints = paints

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if not isinstance(event, QPaintEvent) or not isinstance(obj, QWidget):
            return False
        # Painting from the filter is allowed: the widget is in its paint event. The
        # filter runs the view's own paintEvent so that it can note when it ended.
        obj.paintEvent(event)
        self._paints.append((time.perf_counter(), self._window.game.frame))
        return True


def _name(scene: Scene, handle: Handle) -> str:
    e = scene.get(handle)
    if e is None:
        raise BenchError(f"entity {int(handle)} is gone from the edited scene")
    return e.name


def _first_script(window: MainWindow) -> Any:
    scene = window.shown.scene
    assert scene is not None  # a scene is shown from the start
    return next(s for e in scene for s in e.scripts)


def _tree_shows(window: MainWindow, handle: Handle, name: str) -> bool:
    """Whether the scene tree's row of `handle` shows `name`."""
    index = window.scene_tree.index_of(handle)
    return index.isValid() and index.data() == name


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m editor.benchmark KIND N COUNT PROJECT``: print the figure's JSON line.

    Returns:
        0, or 1 when the editor did not show what it should (``BENCHMARK FAILED`` on stderr).
    """
    kind, n, count, project = argv if argv is not None else sys.argv[1:]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tune_gc()  # as hotplay-editor does: the editor measured is the editor users run
    try:
        result = run_figure(kind, int(n), int(count), Path(project))
    except BenchError as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
