"""Time the editor's own costs on a big scene: edits, undo/redo, save, Play, Stop, hot reloads.

    QT_QPA_PLATFORM=offscreen python tools/editor_scale.py [--entities N] [--play-entities M]
        [--runs R] [--profile OUT.prof]

Builds the benchmark project (`runtime.bench.project`) with a main scene of N
entities (100,000 by default), opens it in an offscreen `MainWindow` and times,
R times each, what a user waits for: the action itself plus the events it
posts (the tree's and the inspector's deferred refreshes, the repaints),
drained with `QApplication.processEvents`. It prints the median, min and max
of each figure in milliseconds.

The last figure is the issue's "save → the scene view shows the new code" with
in-editor Play on M entities (10,000 by default): the real watcher (Debug (HR)),
from the write of the plugin file until a frame ran the new code and the scene
view repainted.

``--profile`` writes a cProfile of every action of the big scene to OUT.prof
(read it with ``python -m pstats``).
"""

from __future__ import annotations

import argparse
import cProfile
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget

from editor import MainWindow
from editor.commands import ReparentEntity, SetEntityAttribute
from runtime import BuildProfile, Game
from runtime.bench.project import movers_path, movers_source, write_project

#: How long a wait for the watcher or a frame may take before the run is called failed.
WAIT_SECONDS = 30.0


def _drain() -> None:
    # Twice: the first pass runs what the action posted (0 ms timers, deferred
    # deletes), the second the repaints those queued.
    QApplication.processEvents()
    QApplication.processEvents()


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.perf_counter() + WAIT_SECONDS
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        QApplication.processEvents()


def _more_reports(game: Game, than: int) -> bool:
    return len(game.reports) > than


def _past_frame(game: Game, frame: int) -> bool:
    return game.frame > frame


def _open(project: Path, settings_dir: Path, profile: BuildProfile) -> MainWindow:
    settings = QSettings(str(settings_dir / "editor.ini"), QSettings.Format.IniFormat)
    # No autosave timer: it would land in whichever figure runs when it fires;
    # the autosave is timed as a figure of its own.
    window = MainWindow(project, settings=settings, profile=profile, autosave_interval_ms=0)
    window.ask_unsaved_changes = lambda: "discard"
    window.show()
    _drain()
    return window


def _close(window: QWidget) -> None:
    window.close()
    window.deleteLater()
    _drain()


class _Timings:
    """Milliseconds per figure, optionally under one profiler."""

    def __init__(self, profiler: cProfile.Profile | None) -> None:
        self.figures: dict[str, list[float]] = {}
        self._profiler = profiler

    def time(self, name: str, action: Callable[[], object]) -> None:
        if self._profiler is not None:
            self._profiler.enable()
        t0 = time.perf_counter()
        action()
        _drain()
        elapsed = time.perf_counter() - t0
        if self._profiler is not None:
            self._profiler.disable()
        self.record(name, elapsed * 1000.0)

    def record(self, name: str, ms: float) -> None:
        # Printed as it comes: a run killed half-way still leaves its figures.
        self.figures.setdefault(name, []).append(ms)
        print(f"    {name}: {ms:.1f} ms", file=sys.stderr, flush=True)


def time_big_scene(project: Path, tmp: Path, runs: int, timings: _Timings) -> None:
    """Edits, undo, redo, scene save, a code save, Play, a reload while playing, Stop."""
    window = _open(project, tmp, BuildProfile.DEBUG)
    # The timed reloads are called directly: Debug's watcher would queue them again for Play.
    window.game.stop_watching()
    try:
        scene = window.edited_scene
        target = window.document.edit_target
        stack = window.undo_stack
        first, second = scene.roots[0], scene.roots[1]
        window.select(first)
        _drain()
        path = movers_path(project)
        for run in range(runs):
            rename = SetEntityAttribute(target, first, "name", f"r{run}", scene[first].name)
            timings.time("rename", partial(stack.push, rename))
            timings.time("undo rename", stack.undo)
            timings.time("redo rename", stack.redo)
            timings.time("add entity", window.add_entity)
            timings.time("undo add", stack.undo)
            timings.time("redo add", stack.redo)
            timings.time(
                "reparent", partial(stack.push, ReparentEntity(target, second, first, None))
            )
            timings.time("undo reparent", stack.undo)
            window.select(scene.roots[-1])
            timings.time("delete", window.editing.delete_selected)
            timings.time("autosave (recovery file)", window.document.recovery.autosave_now)
            timings.time("undo delete", stack.undo)
            timings.time("save scene", window.document.save_scene)

            def code_save(step: int = 2 - run % 2) -> None:
                path.write_text(movers_source(step), encoding="utf-8")
                report = window.game.reload([path])
                assert report.ok, report

            timings.time("code save, editing", code_save)
            timings.time("play", window.play)
            window.game.step(2)

            def reload_while_playing(step: int = 1 + run % 2) -> None:
                path.write_text(movers_source(step), encoding="utf-8")
                report = window.game.reload([path])
                assert report.ok, report

            timings.time("code save, playing", reload_while_playing)
            timings.time("stop", window.stop)
            window.select(first)
            _drain()
        window.undo_stack.setClean()
    finally:
        _close(window)


def time_save_to_view(project: Path, tmp: Path, runs: int, timings: _Timings) -> None:
    """Save of the plugin file → a frame ran the new code and the scene view repainted."""
    window = _open(project, tmp, BuildProfile.DEBUG_HR)
    try:
        game = window.game
        path = movers_path(project)
        window.play()
        _wait(lambda: game.frame >= 3, "the first frames")
        scene = window.scene_view.scene
        assert scene is not None
        mover = scene[scene.roots[0]]
        for run in range(runs):
            step = 2 + run % 2  # never the source's current step
            reports = len(game.reports)
            t0 = time.perf_counter()
            path.write_text(movers_source(step), encoding="utf-8")
            _wait(partial(_more_reports, game, reports), "the reload")
            report = game.reports[-1]
            assert report.ok, report
            frame, ticks = game.frame, mover.scripts[0].ticks
            _wait(partial(_past_frame, game, frame), "a frame after the reload")
            assert (mover.scripts[0].ticks - ticks) == step * (game.frame - frame), "old code ran"
            window.scene_view.repaint()
            timings.record(
                "save → view shows new code, playing", (time.perf_counter() - t0) * 1000.0
            )
            _wait(partial(_past_frame, game, frame + 5), "frames between saves")
        window.stop()
        _drain()
    finally:
        _close(window)


def main(argv: list[str] | None = None) -> int:
    """Run the timings and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--play-entities", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    profiler = cProfile.Profile() if args.profile is not None else None
    timings = _Timings(profiler)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.entities:
            big = write_project(tmp / "big", args.entities)
            time_big_scene(big, tmp, args.runs, timings)
        if args.play_entities and profiler is None:
            small = write_project(tmp / "small", args.play_entities)
            time_save_to_view(small, tmp, args.runs, timings)
    if profiler is not None:
        profiler.dump_stats(str(args.profile))
    print(f"editor timings, ms: median [min-max] of {args.runs} runs")
    print(f"  big scene: {args.entities:,} entities; playing scene: {args.play_entities:,}")
    for name, values in timings.figures.items():
        print(
            f"  {name:<40} {statistics.median(values):>10.1f}"
            f"   [{min(values):.1f}-{max(values):.1f}]"
        )
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
