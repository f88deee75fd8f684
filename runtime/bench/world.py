"""The world the measurements run in: a `Game` over a scene of N movers, with the watcher.

`World.watched_reload` is the benchmark's unit of work: save a behaviour
change, let the watcher reload it, run one frame, verify all of it and say how
long each part took.
"""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.bench.errors import BenchError
from runtime.bench.floor import FloorImporter
from runtime.bench.project import (
    FIELD_CHANGES,
    FIRST_FIELD_CHANGE,
    LAYOUT_FIELDS,
    MOVER_TYPE_ID,
    movers_path,
    movers_source,
    play_scene,
)
from runtime.bench.timing import GC_CLOCK, ms
from runtime.bench.verify import (
    SceneState,
    check_report,
    verify_field_change,
    verify_new_code,
    verify_reload,
)
from runtime.collector import collector_paused
from runtime.game import Game
from runtime.profiles import BuildProfile
from runtime.reports import ReloadReport


@dataclass
class ReloadSample:
    """One verified reload through the watcher.

    Attributes:
        save_to_new_ms: from just before the file is written to the end of the
            first frame that runs the new code.
        save_to_reloaded_ms: from just before the write to `Game.reload` returning.
        reload_wall_ms: the reload figure: the wall time of `Game.reload` (the
            transaction, freeing the replaced objects, the collections the
            collector runs when it comes back on) plus the cyclic collections
            that run in the first frame after it.
        first_frame_ms: the first frame of the new code.
        timings: the report's step timings.
        total_ms: the report's build..commit sum (leaves out the freeing).
        old_objects: what became of the old script objects when `Game.reload`
            returned, by a weak reference to one of them: ``"freed"``, ``"kept"``
            (the very object is still in the scene, with the new class: a reload
            that keeps objects has nothing to free) or ``"alive"`` (held
            elsewhere: freed later, by a collection, outside the figure).
        extra_batches: late watcher batches applied after the sample.
        gc_ms: cyclic collections from the save to the end of the first frame.
        gc_collections: their number per generation.
    """

    save_to_new_ms: float
    save_to_reloaded_ms: float
    reload_wall_ms: float
    first_frame_ms: float
    timings: dict[str, float]
    total_ms: float
    old_objects: str = "freed"
    extra_batches: int = 0
    gc_ms: float = 0.0
    gc_collections: tuple[int, int, int] = (0, 0, 0)


def _fate(old: weakref.ref[Any], game: Game) -> str:
    """What became of an old script object: "freed", "kept" (still in the scene) or "alive"."""
    obj = old()
    if obj is None:
        return "freed"
    return "kept" if any(s is obj for e in game.scene for s in e.scripts) else "alive"


@dataclass
class World:
    """A `Game` running the benchmark project on a scene of `n` movers."""

    game: Game
    n: int
    movers: Path
    floor: FloorImporter
    quiet_ms: float | None = None
    step: int = 1
    layout: int = 0
    #: The state captured just before the last change away from each layout: what the
    #: stash holds of that layout's fields, and gives back when it returns.
    stashed_at: dict[int, SceneState] = field(default_factory=dict)
    samples: list[ReloadSample] = field(default_factory=list)

    @classmethod
    @contextmanager
    def open(cls, project: Path, n: int, *, quiet_ms: float | None) -> Iterator[World]:
        """A running game over `n` movers, with the watcher; closed on exit."""
        movers = movers_path(project)
        movers.write_text(movers_source(1), encoding="utf-8")
        game = Game(project, profile=BuildProfile.DEBUG_HR, scene=False, quiet_ms=quiet_ms)
        try:
            with FloorImporter(project / "plugins") as floor:
                floor.load()
                game.add_scene(play_scene(game, n), run=True)
                game.step(2)  # on_start, then a plain frame
                world = cls(game, n, movers, floor, quiet_ms)
                time.sleep(0.05)
                world.drain()
                yield world
        finally:
            game.close()
            gc.collect()

    def drain(self) -> int:
        """Apply batches the watcher queued late (a save seen as two batches); return how many.

        Raises:
            BenchError: one of them failed.
        """
        reports = self.game.apply_pending_reloads()
        for r in reports:
            if not r.ok:
                raise BenchError(f"a late reload failed: {r.details()}")
        return len(reports)

    def watched_reload(self, *, change_fields: bool = False) -> ReloadSample:
        """Save an edit, let the watcher reload it, run one frame; verify all of it.

        Every edit flips the step ``on_update`` adds (new behaviour); with
        `change_fields` it also flips the field layout (`MOVER_LAYOUTS`), which
        takes the reload's checked path.

        Raises:
            BenchError: the reload failed verification.
        """
        game = self.game
        new_step = 2 if self.step == 1 else 1
        new_layout = 1 - self.layout if change_fields else self.layout
        source = movers_source(new_step, new_layout)
        before = SceneState.capture(game, game.scene, LAYOUT_FIELDS[self.layout])
        old_script = weakref.ref(next(s for e in game.scene for s in e.scripts))
        GC_CLOCK.reset()
        t0 = time.perf_counter()
        with open(self.movers, "w", encoding="utf-8") as f:
            f.write(source)
        if not game.changes.wait(10.0):
            raise BenchError("no reload happened within 10 s (the watcher saw no save?)")
        t1 = time.perf_counter()
        reports = game.apply_pending_reloads()  # Game.reload, as wait_for_reload does
        t2 = time.perf_counter()
        old_objects = _fate(old_script, game)
        gc_reload = GC_CLOCK.read()
        # A failed reload is said as one, before its state is read with the new layout.
        report = check_report(reports[-1] if reports else None, self.n)
        # Verified with the collector off and everything it allocates freed again, so
        # that the collections the reload's allocations are due still fall in the
        # first frame, where they are counted, as in a game that does not verify.
        with collector_paused():
            after = SceneState.capture(game, game.scene, LAYOUT_FIELDS[new_layout])
            if change_fields:
                stashed_at = self.stashed_at.get(new_layout)
                change = FIELD_CHANGES[self.layout] if stashed_at else FIRST_FIELD_CHANGE
                verify_field_change(report, before, after, change, self.n, stashed_at)
                self.stashed_at[self.layout] = before
            else:
                verify_reload(report, before, after, self.n)
            del after
            cls = game.registry.resolve(MOVER_TYPE_ID)
            if any(type(s) is not cls for e in game.scene for s in e.scripts):
                raise BenchError("some scripts are not instances of the new class")
        GC_CLOCK.reset()
        t3 = time.perf_counter()
        game.step(1)
        t4 = time.perf_counter()
        gc_frame = GC_CLOCK.read()
        verify_new_code(game, before, new_step)
        self.step = new_step
        self.layout = new_layout
        # A save is several file events; make sure none is left for the next round.
        time.sleep(0.03 + (game.watcher.quiet if game.watcher else 0.0))
        extra = self.drain()
        return ReloadSample(
            save_to_new_ms=ms((t2 - t0) + (t4 - t3)),
            save_to_reloaded_ms=ms(t2 - t0),
            reload_wall_ms=ms(t2 - t1) + gc_frame[0],
            first_frame_ms=ms(t4 - t3),
            timings=dict(report.timings),
            total_ms=report.total_ms,
            old_objects=old_objects,
            extra_batches=extra,
            gc_ms=gc_reload[0] + gc_frame[0],
            gc_collections=(
                gc_reload[1][0] + gc_frame[1][0],
                gc_reload[1][1] + gc_frame[1][1],
                gc_reload[1][2] + gc_frame[1][2],
            ),
        )

    @contextmanager
    def unwatched(self) -> Iterator[None]:
        """The watcher stopped inside (for `direct_reload`), started again on the way out."""
        self.game.stop_watching()
        try:
            yield
        finally:
            self.game.start_watching(self.quiet_ms)
            self.drain()

    def direct_reload(self) -> ReloadReport:
        """Save a behaviour change and reload it with `Game.reload` (no watcher, no checks).

        Raises:
            BenchError: the reload failed or lost state.
        """
        new_step = 2 if self.step == 1 else 1
        with open(self.movers, "w", encoding="utf-8") as f:
            f.write(movers_source(new_step, self.layout))
        report = self.game.reload([str(self.movers)])
        if not report.ok or report.warnings:
            raise BenchError(f"soak reload failed: {report.details()}")
        self.step = new_step
        return report

    def frame_times(self, frames: int) -> list[float]:
        """Milliseconds of each of `frames` headless frames (`Game.step`)."""
        game = self.game
        game.step(3)
        out = []
        for _ in range(frames):
            t0 = time.perf_counter()
            game.step(1)
            out.append(ms(time.perf_counter() - t0))
        return out
