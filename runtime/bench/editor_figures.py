"""Editor figures: an edit, undo or redo in a big scene, and save -> new code while playing.

Both drive a real `editor.main_window.MainWindow`, offscreen, in a child
process (``python -m runtime.bench --editor-worker KIND,N,COUNT,PROJECT``), on
a scene file of N benchmark movers the child writes first:

* ``edit``: rename an entity with the command an inspector edit pushes
  (``SetEntityAttribute``), then undo it, then redo it, one entity after another
  (so that no two commands merge), the edited entity selected so the inspector
  shows it. Each is timed from just before the push (or ``undo()``/``redo()``)
  to the views being up to date: the tree shows the entity's new name, the
  scene view has finished a repaint, and a zero-delay timer queued after the
  command has fired (refreshes the views deferred to the event loop ran).
* ``play``: Play in the editor with ``Debug (HR)``, then save an edit of
  ``movers.py`` again and again. Each is timed from just before the write to the
  end of the first repaint of the scene view that shows a frame of the new
  code, through the editor's own watcher, reload and views; that frame is
  verified (every counter moved by the new step since the reload).

The benchmark process itself never imports Qt or the editor: the child's
side, `editor_worker`, imports them with `importlib` when it runs (the
runtime's layer contract is about what the runtime imports; the child is a
program that drives the editor, as ``python -m editor`` is in the start-up
figure).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runtime.bench.config import Config
from runtime.bench.errors import BenchError
from runtime.bench.project import build_scene, movers_path, movers_source
from runtime.bench.report import MIN_SAMPLES_FOR_P95, Results, progress
from runtime.bench.timing import ms, percentile
from runtime.game import Game
from runtime.profiles import BuildProfile

#: Longest wait for the editor to catch up with one action, in seconds.
_TIMEOUT_S = 120.0


def editor_worker(kind: str, n: int, count: int, project: Path) -> dict[str, Any]:
    """Child-process side: run the ``edit`` or ``play`` measurement on a real editor window.

    Args:
        kind: ``"edit"`` (`count` rounds of edit, undo, redo) or ``"play"`` (`count` saves).
        n: entities in the scene.
        count: rounds or saves measured (one more runs first as a warm-up).
        project: the benchmark project.

    Returns:
        ``available`` and the milliseconds of each action by name, or
        ``available: False`` and ``why`` when Qt or the editor cannot be loaded.

    Raises:
        BenchError: the editor did not catch up in time, or showed the wrong thing.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        qt = _EditorModules()
    except ImportError as exc:
        return {"available": False, "why": f"{type(exc).__name__}: {exc}"}
    scene_path = _write_scene(project, n)
    app = qt.widgets.QApplication.instance() or qt.widgets.QApplication(["hotplay-bench"])
    settings = qt.core.QSettings(
        str(project / ".bench-config" / "editor.ini"), qt.core.QSettings.Format.IniFormat
    )
    profile = BuildProfile.DEBUG_HR if kind == "play" else BuildProfile.DEBUG
    t0 = time.perf_counter()
    window = qt.main_window.MainWindow(
        project, settings=settings, scene=scene_path, profile=profile, autosave_interval_ms=0
    )
    window.ask_unsaved_changes = lambda: "discard"
    window.show()
    driver = _Driver(qt, app, window)
    try:
        driver.wait(lambda: driver.painted_since(t0), "the window's first paint")
        open_s = time.perf_counter() - t0
        if kind == "edit":
            times = driver.edit_rounds(count)
        elif kind == "play":
            times = driver.play_saves(count, project)
        else:
            raise BenchError(f"unknown editor figure {kind!r}")
    finally:
        driver.close()
    return {"available": True, "kind": kind, "n": n, "open_s": open_s, "times_ms": times}


class _EditorModules:
    """Qt and the editor, imported when the child runs (see the module docstring)."""

    def __init__(self) -> None:
        self.core: Any = importlib.import_module("PySide6.QtCore")
        self.widgets: Any = importlib.import_module("PySide6.QtWidgets")
        self.main_window: Any = importlib.import_module("editor.main_window")
        self.commands: Any = importlib.import_module("editor.commands")
        self.play: Any = importlib.import_module("editor.controllers.play")


def _write_scene(project: Path, n: int) -> Path:
    """Write a scene file of `n` movers into `project`; return its path."""
    path = project / "assets" / "scenes" / f"bench-{n}.scene.json"
    with Game(project, scene=False, watch=False) as game:
        game.save_scene(build_scene(game, n, name=f"bench-{n}"), path)
    return path


class _Driver:
    """Drives one editor window and watches its scene view's repaints."""

    def __init__(self, qt: _EditorModules, app: Any, window: Any) -> None:
        self.qt = qt
        self.app = app
        self.window = window
        #: (time after the repaint, game frame shown) of every repaint of the scene view.
        self.paints: list[tuple[float, int]] = []
        self._filter = _make_paint_filter(qt, window, self.paints)
        window.scene_view.installEventFilter(self._filter)
        # A wake-up four times a second, so that waiting on events can check its deadline.
        self._heartbeat = qt.core.QTimer()
        self._heartbeat.setInterval(250)
        self._heartbeat.start()

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
        flags = self.qt.core.QEventLoop.ProcessEventsFlag.WaitForMoreEvents
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
        self.qt.core.QTimer.singleShot(0, lambda: fired.__setitem__(0, True))
        return fired

    # --- edit, undo, redo ---------------------------------------------------------------

    def edit_rounds(self, rounds: int) -> dict[str, list[float]]:
        """`rounds` renames, each undone and redone, of entities spread over the scene."""
        window = self.window
        scene = window.edited_scene
        handles = [e.handle for e in scene]
        picks = [handles[(i * 7919 + len(handles) // 2) % len(handles)] for i in range(rounds + 1)]
        out: dict[str, list[float]] = {"edit": [], "undo": [], "redo": []}
        for i, h in enumerate(picks):
            window.select(h)
            self.settle()
            old = scene.get(h).name
            new = f"{old} (renamed {i})"
            command = self.qt.commands.SetEntityAttribute(
                window.document.edit_target, h, "name", new, old
            )
            stack = window.undo_stack
            times = (
                self._timed(functools.partial(stack.push, command), h, new),
                self._timed(stack.undo, h, old),
                self._timed(stack.redo, h, new),
            )
            if i > 0:  # the first round warms up
                for key, t in zip(("edit", "undo", "redo"), times, strict=True):
                    out[key].append(t)
        return out

    def _timed(self, action: Callable[[], object], handle: Any, name: str) -> float:
        """Milliseconds from `action` to the tree, the view and deferred refreshes showing it."""
        window = self.window
        t0 = time.perf_counter()
        action()
        fired = self._zero_timer()
        t1 = self.wait(
            lambda: fired[0] and self.painted_since(t0) and _tree_shows(window, handle, name),
            f"the name {name!r}",
        )
        if window.edited_scene.get(handle).name != name:
            raise BenchError(f"the command did not set the name {name!r}")
        return ms(t1 - t0)

    # --- save -> new code while playing -------------------------------------------------

    def play_saves(self, saves: int, project: Path) -> dict[str, list[float]]:
        """Play in the editor, then `saves` edits of ``movers.py`` through the editor's watcher."""
        window = self.window
        game = window.game
        window.play_controller.run_target_combo.setCurrentText(self.qt.play.RUN_IN_EDITOR)
        window.play()
        self.wait(lambda: window.is_playing and game.frame >= 3, "Play running")
        movers = movers_path(project)
        reloaded: dict[str, Any] = {}

        def on_reload(report: Any) -> None:
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


def _make_paint_filter(qt: _EditorModules, window: Any, paints: list[tuple[float, int]]) -> Any:
    """An event filter that paints the scene view itself, then notes the time and game frame."""
    paint = qt.core.QEvent.Type.Paint

    class PaintClock(qt.core.QObject):  # type: ignore[name-defined]
        def eventFilter(self, obj: Any, event: Any) -> bool:
            if event.type() != paint:
                return False
            # Painting from the filter is allowed: the widget is in its paint event.
            obj.paintEvent(event)
            paints.append((time.perf_counter(), window.game.frame))
            return True

    return PaintClock()


def _first_script(window: Any) -> Any:
    scene = window.shown.scene
    return next(s for e in scene for s in e.scripts)


def _tree_shows(window: Any, handle: Any, name: str) -> bool:
    """Whether the scene tree's row of `handle` shows `name` (a tree widget or a model view)."""
    row = window.scene_tree.item_of(handle)
    if row is None:
        return False
    if hasattr(row, "text"):
        return bool(row.text(0) == name)
    return bool(row.data() == name)  # a QModelIndex


def measure_editor(kind: str, n: int, count: int, project: Path) -> dict[str, Any]:
    """Run `editor_worker` in a child process, offscreen; say why not when it cannot run."""
    if importlib.util.find_spec("editor") is None:
        return {"available": False, "why": "no editor package"}
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(project / ".bench-config"),
    )
    cmd = [
        sys.executable,
        "-m",
        "runtime.bench",
        "--editor-worker",
        f"{kind},{n},{count},{project}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800, cwd=project)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {
            "available": False,
            "why": f"editor child failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}",
        }
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def record_editor(project: Path, config: Config, results: Results) -> None:
    """Measure both editor figures and put them (or why they are missing)."""
    n = config.editor_edit_size
    rounds = config.editor_edit_rounds
    progress(f"editor: {rounds} edit/undo/redo rounds in a {n:,}-entity scene ...")
    edit = measure_editor("edit", n, rounds, project)
    results.details["editor_edit"] = edit
    for action in ("edit", "undo", "redo"):
        key = f"editor.{n}.{action}_p50_ms"
        label = f"editor N={n:,}: {action} -> views up to date p50"
        if edit.get("available"):
            times = edit["times_ms"][action]
            _put_with_p95(results, key, times, label)
        else:
            results.put(key, None, "ms", label, note=edit.get("why", ""))
    n = config.editor_play_size
    saves = config.editor_play_saves
    progress(f"editor: Play in editor, {saves} saves with {n:,} entities ...")
    play = measure_editor("play", n, saves, project)
    results.details["editor_play"] = play
    key = f"editor.{n}.play_save_to_shown_p50_ms"
    label = f"editor N={n:,}: save -> view shows new code, Play p50"
    if play.get("available"):
        _put_with_p95(results, key, play["times_ms"]["save_to_shown"], label)
    else:
        results.put(key, None, "ms", label, note=play.get("why", ""))


def _put_with_p95(results: Results, key: str, times: list[float], label: str) -> None:
    note = f"{len(times)} samples"
    if len(times) >= MIN_SAMPLES_FOR_P95:
        note += f"; p95 {percentile(times, 95):.1f} ms"
    results.put(key, statistics.median(times), "ms", label, note=note)
