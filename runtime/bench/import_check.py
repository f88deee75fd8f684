"""What the editor's import check (`runtime.import_check`) adds to save -> new code.

The same watched reloads run in turns without a check and with one (the fork
server, then a spawned worker per check), on one world, so that the two
save -> new code figures stand side by side. The check runs in the reload's
path: what it adds is the time spent in it, measured around each call (the
end-to-end difference of the pairs, in the note, holds the machine's noise too).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from runtime.bench.config import Config
from runtime.bench.report import Results, progress
from runtime.bench.timing import ms
from runtime.bench.world import World
from runtime.import_check import ImportChecker


def record_import_check(world: World, config: Config, results: Results) -> None:
    """Put the figures of save -> new code with the import check beside those without."""
    n, count = world.n, config.import_check_reloads
    progress(f"N={n:,}: 2x{count} pairs of watched reloads without / with the import check ...")
    plain: dict[str, list[float]] = {"fork": [], "spawn": []}
    checked: dict[str, list[float]] = {"fork": [], "spawn": []}
    checks: dict[str, list[float]] = {"fork": [], "spawn": []}
    for method in ("fork", "spawn"):
        # One method at a time: a spawned worker's start-up, right after each check,
        # must not fall into the fork server's pairs.
        with ImportChecker(method=method) as checker:
            # The editor's checker is warm: its first check, at start-up, compiled every
            # plugin source ahead. One unmeasured check does the same here.
            _watched(world, checker, [])
            results.verified_reloads += 1
            for _ in range(count):
                plain[method].append(_watched(world, None, []))
                # Saves are seconds apart in an editor: the next worker is ready by then.
                checker.wait_until_ready()
                checked[method].append(_watched(world, checker, checks[method]))
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
        paired = statistics.median(c - p for c, p in pairs)
        results.put(
            key,
            statistics.median(checks[method]),
            "ms",
            f"reload {tag}: {label}",
            # The check runs in the reload's path, so its own time is what it adds; the
            # end-to-end difference also holds the machine's noise.
            note=f"time in the check; save -> new code with - without, paired: {paired:+.2f} ms",
        )
    results.details["import_check"] = {
        "n": n,
        "without_ms": plain,
        "with_ms": checked,
        "check_ms": checks,
    }


def _watched(world: World, checker: ImportChecker | None, check_ms: list[float]) -> float:
    """Save -> new code of one verified watched reload, with `checker` or without a check.

    The time each check takes is appended to `check_ms`.
    """

    def timed_check(plugins_dir: Path, names: Sequence[str]) -> dict[str, str]:
        assert checker is not None
        started = time.perf_counter()
        try:
            return checker.check(plugins_dir, names)
        finally:
            check_ms.append(ms(time.perf_counter() - started))

    world.game.set_import_check(None if checker is None else timed_check)
    try:
        return world.watched_reload().save_to_new_ms
    finally:
        world.game.set_import_check(None)
