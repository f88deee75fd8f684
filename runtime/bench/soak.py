"""The memory soak: many reloads in a row; memory must stay flat and old code must die."""

from __future__ import annotations

import gc
import os
import time

from runtime.bench.config import Config
from runtime.bench.project import LAYOUT_FIELDS
from runtime.bench.report import Results, progress
from runtime.bench.verify import SceneState, verify_new_code, verify_reload
from runtime.bench.world import World


def rss_bytes() -> int:
    """The resident set size of this process (``/proc/self/statm``; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def record_soak(world: World, config: Config, results: Results) -> None:
    """Many reloads in a row (direct `Game.reload`): RSS growth and old generations alive.

    The watcher is stopped first; the last reload is verified like a watched one.
    """
    game = world.game
    game.stop_watching()
    count = config.soak_reloads
    progress(f"N={world.n:,}: soak of {count} reloads ...")
    fields = LAYOUT_FIELDS[world.layout]
    warm = min(20, max(2, count // 10))
    for _ in range(warm):
        world.direct_reload()
        game.step(1)
    gc.collect()
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    for i in range(count):
        before = SceneState.capture(game, game.scene, fields) if i == count - 1 else None
        report = world.direct_reload()
        if before is not None:
            verify_reload(report, before, SceneState.capture(game, game.scene, fields), world.n)
            game.step(1)
            verify_new_code(game, before, world.step)
        else:
            game.step(1)
        results.verified_reloads += i == count - 1
    elapsed = time.perf_counter() - t0
    gc.collect()
    rss1 = rss_bytes()
    alive = game.generations.alive() if game.generations is not None else []
    stale = game.stale_references() if alive else []
    growth = (rss1 - rss0) / 1e6
    results.put(
        "soak.rss_growth_mb",
        growth,
        "MB",
        f"soak: RSS growth over {count:,} reloads (N={world.n:,})",
        note=f"RSS {rss0 / 1e6:.1f} -> {rss1 / 1e6:.1f} MB after {warm} warm-up reloads; "
        f"{elapsed / count * 1000:.1f} ms per reload+frame; "
        f"game.reports holds {len(game.reports):,} reports",
    )
    results.put(
        "soak.old_generations_alive",
        float(len(alive)),
        "",
        "soak: old module/class generations alive after gc.collect()",
        note="; ".join(stale[:3]),
    )
    results.details["soak"] = {
        "reloads": count,
        "n": world.n,
        "rss_before": rss0,
        "rss_after": rss1,
        "alive": len(alive),
        "stale": stale[:10],
    }
