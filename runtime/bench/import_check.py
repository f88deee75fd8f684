"""What the editor's import check (`runtime.import_check`) adds to save -> new code.

The same watched reloads run in turns without a check and with one (the fork
server, then a spawned worker per check), on one world: the machine's noise
hits both sides of a pair alike, and the cost is the median of the paired
differences.
"""

from __future__ import annotations

import statistics

from runtime.bench.config import Config
from runtime.bench.report import Results, progress
from runtime.bench.world import World
from runtime.import_check import ImportChecker


def record_import_check(world: World, config: Config, results: Results) -> None:
    """Put the figures of save -> new code with the import check beside those without."""
    n, count = world.n, config.import_check_reloads
    progress(f"N={n:,}: 2x{count} pairs of watched reloads without / with the import check ...")
    plain: dict[str, list[float]] = {"fork": [], "spawn": []}
    checked: dict[str, list[float]] = {"fork": [], "spawn": []}
    for method in ("fork", "spawn"):
        # One method at a time: a spawned worker's start-up, right after each check,
        # must not fall into the fork server's pairs.
        with ImportChecker(method=method) as checker:
            for _ in range(count):
                plain[method].append(_watched(world, None))
                # Saves are seconds apart in an editor: the next worker is ready by then.
                checker.wait_until_ready()
                checked[method].append(_watched(world, checker))
                results.verified_reloads += 2
    tag = f"N={n:,}"
    without = statistics.median(plain["fork"])
    results.put(
        f"reload.{n}.save_to_new_checked_p50_ms",
        statistics.median(checked["fork"]),
        "ms",
        f"reload {tag}: save -> new code with import check p50",
        note=f"without, same run, in turns: {without:.2f} ms ({count} reloads each)",
    )
    for method, key, label in (
        ("fork", f"import_check.{n}.added_p50_ms", "  import check adds (fork server) p50"),
        (
            "spawn",
            f"import_check.{n}.spawn_added_p50_ms",
            "  import check adds (spawned worker) p50",
        ),
    ):
        pairs = zip(checked[method], plain[method], strict=True)
        added = statistics.median(c - p for c, p in pairs)
        results.put(key, added, "ms", f"reload {tag}: {label}", note="median of paired differences")
    results.details["import_check"] = {"n": n, "without_ms": plain, "with_ms": checked}


def _watched(world: World, checker: ImportChecker | None) -> float:
    """Save -> new code of one verified watched reload, with `checker` or without a check."""
    world.game.set_import_check(None if checker is None else checker.check)
    try:
        return world.watched_reload().save_to_new_ms
    finally:
        world.game.set_import_check(None)
