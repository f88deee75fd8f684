"""What the editor's import check (`runtime.import_check`) adds to save -> new code.

The same watched reloads run in turns without a check, with the fork server and
with a spawned worker per check, on one world: the machine's noise hits all
three alike, and the cost is the median of the paired differences.
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
    progress(f"N={n:,}: {count}x3 watched reloads without / with the import check ...")
    game = world.game
    plain: list[float] = []
    checked: dict[str, list[float]] = {"fork": [], "spawn": []}
    with ImportChecker(method="fork") as fork, ImportChecker(method="spawn") as spawn:
        fork.wait_until_ready()
        spawn.wait_until_ready()
        try:
            for _ in range(count):
                game.set_import_check(None)
                plain.append(world.watched_reload().save_to_new_ms)
                for method, checker in (("fork", fork), ("spawn", spawn)):
                    game.set_import_check(checker.check)
                    checked[method].append(world.watched_reload().save_to_new_ms)
                    results.verified_reloads += 1
                results.verified_reloads += 1
        finally:
            game.set_import_check(None)
    tag = f"N={n:,}"
    without = statistics.median(plain)
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
        added = statistics.median(c - p for c, p in zip(checked[method], plain, strict=True))
        results.put(key, added, "ms", f"reload {tag}: {label}", note="median of paired differences")
    results.details["import_check"] = {"n": n, "without_ms": plain, "with_ms": checked}
