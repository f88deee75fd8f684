"""Side by side with other tools: the same edit, the same scene, the same machine, the same run.

jurigged and IPython's ``%autoreload 2`` (``pip install 'hotplay[compare]'``;
neither is a dependency) patch the code of functions in place: they neither
migrate state nor roll back, but they are what users compare a hot reload
with. `compare_worker` runs one of them in a child process
(``python -m runtime.bench --compare-worker TOOL,N,RELOADS,PROJECT``): a `Game`
over the same scene of N movers with Hotplay's own watcher off, and the same
edit of ``movers.py`` saved again and again. For each save it measures the time
from just before the write to the end of the first frame that runs the new
code, and verifies that frame as the Hotplay figures are verified.

* *jurigged* watches the plugin folder with a 6 ms debounce (Hotplay's watcher
  waits as long after a save) and patches on its own thread; the game thread
  looks every 0.2 ms whether the function was patched.
* *autoreload* is IPython's `ModuleReloader`, the machinery of ``%autoreload 2``
  (IPython runs its ``check()`` before each cell); here the game thread calls
  ``check()`` again and again until it has patched the code: its best case.

The child is given the benchmark project but creates only one `Game`: jurigged
finds a file's functions through the first module it saw for that file, so a
second copy of the plugin in the process (even a dead one) would catch the
patches.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runtime.bench.child import run_json_child
from runtime.bench.config import Config
from runtime.bench.errors import BenchError
from runtime.bench.project import MOVER_TYPE_ID, movers_path, movers_source, play_scene
from runtime.bench.report import Results, progress
from runtime.bench.timing import ms
from runtime.bench.verify import SceneState, verify_new_code

#: jurigged's quiet period after a file event, as Hotplay's watcher's.
DEBOUNCE_MS = 6.0

#: The tools compared, with the module each needs and its name in the figures.
TOOLS = {
    "jurigged": ("jurigged", f"jurigged, {DEBOUNCE_MS:g} ms debounce"),
    "autoreload": ("IPython", "IPython %autoreload 2"),
}

#: How often the child looks whether jurigged has patched the function (seconds).
_POLL_S = 0.0002


def compare_worker(tool: str, n: int, reloads: int, project: Path) -> dict[str, Any]:
    """Child-process side: `reloads` saves patched by `tool`, each verified one frame later.

    Args:
        tool: a key of `TOOLS`.
        n: movers in the scene.
        reloads: saves measured (one more runs first as a warm-up).
        project: the benchmark project.

    Returns:
        ``available`` and the milliseconds of each save (``save_to_new_ms``), or
        ``available: False`` and ``why``.

    Raises:
        BenchError: the tool did not patch a save within 10 s, or the frame ran old code.
    """
    package = TOOLS[tool][0]
    try:
        importlib.import_module(package)  # the optional "compare" extra
    except ImportError as exc:
        return {"available": False, "why": f"{type(exc).__name__}: {exc}"}
    from runtime.game import Game  # after jurigged, whose code registry watches every exec

    movers = movers_path(project)
    movers.write_text(movers_source(1), encoding="utf-8")
    with Game(project, scene=False, watch=False) as game:
        game.add_scene(play_scene(game, n), run=True)
        game.step(2)
        cls = game.registry.resolve(MOVER_TYPE_ID)
        poll, stop = _start(tool, project)
        try:
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
                        raise BenchError(f"{tool} did not patch the save within 10 s")
                    poll()
                game.step(1)
                times.append(ms(time.perf_counter() - t0))
                verify_new_code(game, before, step)
                time.sleep(0.05 + DEBOUNCE_MS / 1000.0)  # the save's late file events
        finally:
            stop()
    return {
        "available": True,
        "tool": f"{package} {importlib.metadata.version(package)}",
        "save_to_new_ms": times[1:],  # the first save is a warm-up
    }


def _start(tool: str, project: Path) -> tuple[Callable[[], object], Callable[[], object]]:
    """Start `tool` on the project's plugins; its poll (game thread) and stop functions."""
    if tool == "jurigged":
        jurigged: Any = importlib.import_module("jurigged")
        watcher = jurigged.watch(
            str(project / "plugins" / "**" / "*.py"),
            logger=lambda event: None,
            debounce=DEBOUNCE_MS / 1000.0,
        )
        time.sleep(0.3)  # the observer thread starts
        return (lambda: time.sleep(_POLL_S)), watcher.stop
    autoreload: Any = importlib.import_module("IPython.extensions.autoreload")
    reloader = autoreload.ModuleReloader()
    reloader.enabled = True
    reloader.check_all = True
    reloader.check()  # the first check only notes every module's time stamp
    return reloader.check, (lambda: None)


def measure_tool(tool: str, project: Path, n: int, reloads: int) -> dict[str, Any]:
    """Run `compare_worker` in a child process; say why not when the tool is missing."""
    package = TOOLS[tool][0]
    if importlib.util.find_spec(package) is None:
        return {
            "available": False,
            "why": f"{package} is not installed (pip install 'hotplay[compare]')",
        }
    arg = f"{tool},{n},{reloads},{project}"
    cmd = [sys.executable, "-m", "runtime.bench", "--compare-worker", arg]
    return run_json_child(cmd, tool, timeout=600)


def record_compare(project: Path, config: Config, results: Results) -> None:
    """Put each tool's save -> new code at ``config.compare_size`` and Hotplay / that tool."""
    n = config.compare_size
    ours = results.figures.get(f"reload.{n}.save_to_new_p50_ms", {}).get("value")
    for tool, (_package, name) in TOOLS.items():
        progress(f"N={n:,}: {name} side by side, {config.compare_reloads} saves ...")
        other = measure_tool(tool, project, n, config.compare_reloads)
        results.details[f"compare_{tool}"] = other
        key = f"compare.{tool}.{n}.save_to_new_p50_ms"
        ratio_key = f"compare.{tool}_ratio"
        label = f"{name} N={n:,}: save -> new code p50"
        ratio_label = f"Hotplay / {name}, save -> new code p50 at N={n:,}"
        if not other.get("available"):
            why = other.get("why", "")
            results.put(key, None, "ms", label, note=why)
            results.put(ratio_key, None, "x", ratio_label, note=why)
            continue
        theirs = statistics.median(other["save_to_new_ms"])
        count = len(other["save_to_new_ms"])
        results.put(key, theirs, "ms", label, note=f"{other['tool']}, {count} saves")
        if ours is None:
            results.put(ratio_key, None, "x", ratio_label, note=f"no Hotplay figure at N={n:,}")
        else:
            results.put(
                ratio_key,
                ours / theirs,
                "x",
                ratio_label,
                note=f"Hotplay {ours:.1f} ms (this run) vs {theirs:.1f} ms",
            )
