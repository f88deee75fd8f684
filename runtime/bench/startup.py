"""Start-up figures: the headless player to its first frame, the editor to its shown window.

Both run as child processes on the benchmark project; the start of a bare
interpreter is measured too and subtracted, so the figures are Hotplay's own.
They are the starts a user sees after the first: Python's bytecode cache is on
in the children (in a folder of the benchmark's own, whatever the environment
says: ``PYTHONDONTWRITEBYTECODE`` would have every start compile every module
of Hotplay again, a third of the player's start) and a first start, which
fills it, is not counted.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from runtime.bench.config import Config
from runtime.bench.errors import BenchError
from runtime.bench.report import Results, progress


def cached_bytecode_env(project: Path, **extra: str) -> dict[str, str]:
    """The environment of a start-up child: bytecode cached under `project`, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPYCACHEPREFIX=str(project / ".bench-pycache"), **extra)
    return env


def _run_timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall seconds of running `cmd` to its end, and its stdout; a failure is a `BenchError`."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise BenchError(
            f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-600:]}"
        )
    return dt, proc.stdout


def _bare_interpreter_s(project: Path, reps: int) -> float:
    """The median wall time of ``python -c pass`` over `reps` runs."""
    env = cached_bytecode_env(project)
    return statistics.median(
        _run_timed([sys.executable, "-c", "pass"], project, env)[0] for _ in range(reps)
    )


def measure_player_start(project: Path, reps: int) -> dict[str, Any]:
    """Wall time of ``python -m runtime play --headless --frames 1`` minus bare interpreter start.

    Both are medians of `reps` runs; the player loads the project's main scene.

    Raises:
        BenchError: the player failed or did not run its frame.
    """
    bare = _bare_interpreter_s(project, reps)
    cmd = [
        sys.executable,
        "-m",
        "runtime",
        "play",
        "--project",
        str(project),
        "--headless",
        "--frames",
        "1",
    ]
    env = cached_bytecode_env(project)
    player = []
    for run in range(reps + 1):
        dt, out = _run_timed(cmd, project, env)
        if "ran 1 frames" not in out:
            raise BenchError(f"the player did not run its frame: {out!r}")
        if run > 0:  # the first start fills the bytecode cache
            player.append(dt)
    return {
        "available": True,
        "player_s": statistics.median(player),
        "interpreter_s": bare,
        "start_to_first_frame_s": statistics.median(player) - bare,
    }


def measure_editor_start(project: Path, reps: int) -> dict[str, Any]:
    """Time from starting ``python -m editor PROJECT`` to its main window being shown.

    The editor itself reports it (``HOTPLAY_EDITOR_EXIT_AFTER_SHOW=1``: seconds since
    its process started, printed once the window is shown, then it quits), offscreen;
    the bare interpreter's start is measured too and subtracted.
    """
    if importlib.util.find_spec("editor") is None:
        return {"available": False, "why": "no editor package"}
    # Settings the editor saves (recent files, last profile) go to a throw-away folder.
    env = cached_bytecode_env(
        project,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(project / ".bench-config"),
        HOTPLAY_EDITOR_EXIT_AFTER_SHOW="1",
    )
    bare = _bare_interpreter_s(project, reps)
    shown = []
    for run in range(reps + 1):
        proc = subprocess.run(
            [sys.executable, "-m", "editor", str(project)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            cwd=project,
        )
        try:
            seconds = float(proc.stdout.strip().splitlines()[-1])
            if run > 0:  # the first start fills the bytecode cache
                shown.append(seconds)
        except (ValueError, IndexError):
            return {
                "available": False,
                "why": f"editor failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}",
            }
    return {
        "available": True,
        "shown_s": statistics.median(shown),
        "interpreter_s": bare,
        "start_to_shown_s": statistics.median(shown) - bare,
    }


def record_startup(project: Path, config: Config, results: Results) -> None:
    """Measure both start-ups and put their figures (the editor's may be unavailable)."""
    progress("start-up: player and editor ...")
    player = measure_player_start(project, config.start_reps)
    results.details["start_player"] = player
    results.put(
        "start.player_s",
        player["start_to_first_frame_s"],
        "s",
        "start: headless player to first frame (1,000 entities)",
        note=f"subprocess wall {player['player_s']:.3f} s minus bare interpreter "
        f"{player['interpreter_s']:.3f} s; bytecode cached, as after a first start",
    )

    editor = measure_editor_start(project, config.start_reps)
    results.details["start_editor"] = editor
    label = "start: editor to first shown window"
    if editor.get("available"):
        results.put(
            "start.editor_s",
            editor["start_to_shown_s"],
            "s",
            label,
            note=f"to shown {editor['shown_s']:.3f} s minus bare interpreter "
            f"{editor['interpreter_s']:.3f} s",
        )
    else:
        results.put("start.editor_s", None, "s", label, note=editor.get("why", ""))
