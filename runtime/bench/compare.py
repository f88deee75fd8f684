"""Side by side with jurigged: the same edit, the same scene, the same machine, the same run.

jurigged (``pip install hotplay[compare]``; not a dependency) patches the code
of functions in place: it neither migrates state nor rolls back, but it is
what users compare a hot reload with. `compare_worker` runs in a child process
(``python -m runtime.bench --compare-worker ...``): a `Game` over the same
scene of N movers with Hotplay's own watcher off, jurigged watching the plugin
folder with a 6 ms debounce (Hotplay's watcher waits as long), and the same
edit of ``movers.py`` saved again and again. For each save it measures the time
from just before the write to the end of the first frame that runs the new
code, and verifies that frame as the Hotplay figures are verified.

The child is given the benchmark project but creates only one `Game`: jurigged
finds a file's functions through the first module it saw for that file, so a
second copy of the plugin in the process (even a dead one) would catch the
patches.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from runtime.bench.config import Config
from runtime.bench.errors import BenchError
from runtime.bench.project import MOVER_TYPE_ID, build_scene, movers_path, movers_source
from runtime.bench.report import Results, progress
from runtime.bench.timing import ms
from runtime.bench.verify import SceneState, verify_new_code

#: jurigged's quiet period after a file event, as Hotplay's watcher's.
DEBOUNCE_MS = 6.0

#: How often the child looks whether jurigged has patched the function (seconds).
_POLL_S = 0.0002


def compare_worker(n: int, reloads: int, debounce_ms: float, project: Path) -> dict[str, Any]:
    """Child-process side: `reloads` saves patched by jurigged, each verified one frame later.

    Returns:
        ``available`` and the milliseconds of each save (``save_to_new_ms``), or
        ``available: False`` and ``why``.

    Raises:
        BenchError: jurigged did not patch a save within 10 s, or the frame ran old code.
    """
    try:
        jurigged = importlib.import_module("jurigged")  # the optional "compare" extra
    except ImportError as exc:
        return {"available": False, "why": f"{type(exc).__name__}: {exc}"}
    from runtime.game import Game  # after jurigged, whose code registry watches every exec

    movers = movers_path(project)
    movers.write_text(movers_source(1), encoding="utf-8")
    with Game(project, scene=False, watch=False) as game:
        game.add_scene(build_scene(game, n), run=True)
        game.step(2)
        cls = game.registry.resolve(MOVER_TYPE_ID)
        watcher = jurigged.watch(
            str(project / "plugins" / "**" / "*.py"),
            logger=lambda event: None,
            debounce=debounce_ms / 1000.0,
        )
        try:
            time.sleep(0.3)  # the observer thread starts
            times = []
            step = 1
            for _ in range(reloads + 1):
                step = 2 if step == 1 else 1
                before = SceneState.capture(game, game.scene)
                old_code = cls.on_update.__code__
                t0 = time.perf_counter()
                movers.write_text(movers_source(step), encoding="utf-8")
                while cls.on_update.__code__ is old_code:
                    if time.perf_counter() - t0 > 10.0:
                        raise BenchError("jurigged did not patch the save within 10 s")
                    time.sleep(_POLL_S)
                game.step(1)
                times.append(ms(time.perf_counter() - t0))
                verify_new_code(game, before, step)
                time.sleep(0.05 + debounce_ms / 1000.0)  # the save's late events
        finally:
            watcher.stop()
    return {
        "available": True,
        "tool": f"jurigged {importlib.metadata.version('jurigged')}",
        "save_to_new_ms": times[1:],  # the first save is a warm-up
    }


def measure_jurigged(project: Path, n: int, reloads: int) -> dict[str, Any]:
    """Run `compare_worker` in a child process; say why not when jurigged is missing."""
    if importlib.util.find_spec("jurigged") is None:
        return {
            "available": False,
            "why": "jurigged is not installed (pip install 'hotplay[compare]')",
        }
    arg = f"{n},{reloads},{DEBOUNCE_MS},{project}"
    cmd = [sys.executable, "-m", "runtime.bench", "--compare-worker", arg]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=dict(os.environ))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {
            "available": False,
            "why": f"jurigged child failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}",
        }
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def record_compare(project: Path, config: Config, results: Results) -> None:
    """Put jurigged's save -> new code at ``config.compare_size`` and Hotplay / jurigged."""
    n = config.compare_size
    progress(f"N={n:,}: jurigged side by side, {config.compare_reloads} saves ...")
    other = measure_jurigged(project, n, config.compare_reloads)
    results.details["compare_jurigged"] = other
    key = f"compare.jurigged.{n}.save_to_new_p50_ms"
    label = f"jurigged N={n:,}, {DEBOUNCE_MS:g} ms debounce: save -> new code p50"
    ratio_label = f"Hotplay / jurigged, save -> new code p50 at N={n:,}"
    ours = results.figures.get(f"reload.{n}.save_to_new_p50_ms", {}).get("value")
    if not other.get("available"):
        why = other.get("why", "")
        results.put(key, None, "ms", label, note=why)
        results.put("compare.jurigged_ratio", None, "x", ratio_label, note=why)
        return
    theirs = statistics.median(other["save_to_new_ms"])
    results.put(
        key, theirs, "ms", label, note=f"{other['tool']}, {len(other['save_to_new_ms'])} saves"
    )
    if ours is None:
        results.put(
            "compare.jurigged_ratio", None, "x", ratio_label, note=f"no Hotplay figure at N={n:,}"
        )
    else:
        results.put(
            "compare.jurigged_ratio",
            ours / theirs,
            "x",
            ratio_label,
            note=f"Hotplay {ours:.1f} ms (this run) vs jurigged {theirs:.1f} ms",
        )
