"""The world the measurements run in: a `Game` over a scene of N movers, with the watcher.

`World.watched_reload` is the benchmark's unit of work: save a behaviour
change, let the watcher reload it, run one frame, verify all of it and say how
long each part took.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from runtime.bench.errors import BenchError
from runtime.bench.floor import FloorImporter
from runtime.bench.project import MOVER_TYPE_ID, build_scene, movers_path, movers_source
from runtime.bench.timing import GC_CLOCK, ms
from runtime.bench.verify import SceneState, verify_new_code, verify_reload
from runtime.game import Game
from runtime.profiles import BuildProfile
from runtime.reports import ReloadReport


@dataclass
class ReloadSample:
    """One verified reload through the watcher."""

    save_to_new_ms: float
    save_to_reloaded_ms: float
    first_frame_ms: float
    timings: dict[str, float]
    total_ms: float
    extra_batches: int = 0
    gc_ms: float = 0.0
    gc_collections: tuple[int, int, int] = (0, 0, 0)


@dataclass
class World:
    """A `Game` running the benchmark project on a scene of `n` movers."""

    game: Game
    n: int
    movers: Path
    floor: FloorImporter
    step: int = 1
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
                game.add_scene(build_scene(game, n), run=True)
                game.step(2)  # on_start, then a plain frame
                world = cls(game, n, movers, floor)
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

    def watched_reload(self) -> ReloadSample:
        """Save a behaviour change, let the watcher reload it, run one frame; verify all of it.

        Raises:
            BenchError: the reload failed verification.
        """
        game = self.game
        new_step = 2 if self.step == 1 else 1
        source = movers_source(new_step)
        before = SceneState.capture(game, game.scene)
        GC_CLOCK.reset()
        t0 = time.perf_counter()
        with open(self.movers, "w", encoding="utf-8") as f:
            f.write(source)
        report = game.wait_for_reload(timeout=10.0)
        t1 = time.perf_counter()
        gc_reload = GC_CLOCK.read()
        verify_reload(report, before, SceneState.capture(game, game.scene), self.n)
        assert report is not None  # verify_reload raised otherwise
        cls = game.registry.resolve(MOVER_TYPE_ID)
        if any(type(s) is not cls for e in game.scene for s in e.scripts):
            raise BenchError("some scripts are not instances of the new class")
        GC_CLOCK.reset()
        t2 = time.perf_counter()
        game.step(1)
        t3 = time.perf_counter()
        gc_frame = GC_CLOCK.read()
        verify_new_code(game, before, new_step)
        self.step = new_step
        # A save is several file events; make sure none is left for the next round.
        time.sleep(0.03 + (game.watcher.quiet if game.watcher else 0.0))
        extra = self.drain()
        timings = dict(report.timings)
        return ReloadSample(
            save_to_new_ms=ms((t1 - t0) + (t3 - t2)),
            save_to_reloaded_ms=ms(t1 - t0),
            first_frame_ms=ms(t3 - t2),
            timings=timings,
            total_ms=report.total_ms,
            extra_batches=extra,
            gc_ms=gc_reload[0] + gc_frame[0],
            gc_collections=(
                gc_reload[1][0] + gc_frame[1][0],
                gc_reload[1][1] + gc_frame[1][1],
                gc_reload[1][2] + gc_frame[1][2],
            ),
        )

    def direct_reload(self) -> ReloadReport:
        """Save a behaviour change and reload it with `Game.reload` (no watcher, no checks).

        Raises:
            BenchError: the reload failed or lost state.
        """
        new_step = 2 if self.step == 1 else 1
        with open(self.movers, "w", encoding="utf-8") as f:
            f.write(movers_source(new_step))
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
