"""Editor figures: an edit, undo or redo in a big scene, and save -> new code while playing.

Both drive a real editor window, offscreen, in a child process
(``python -m editor.benchmark KIND N COUNT PROJECT``, whose docstring says
what is timed and checked); this side starts it, reads its JSON line and puts
the figures. The benchmark process never loads Qt or the editor.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from runtime.bench.child import run_json_child
from runtime.bench.config import Config
from runtime.bench.report import MIN_SAMPLES_FOR_P95, Results, progress
from runtime.bench.timing import percentile


def measure_editor(kind: str, n: int, count: int, project: Path) -> dict[str, Any]:
    """Run ``python -m editor.benchmark`` offscreen; say why not when it cannot run."""
    if importlib.util.find_spec("editor") is None:
        return {"available": False, "why": "no editor package"}
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(project / ".bench-config"),
    )
    cmd = [sys.executable, "-m", "editor.benchmark", kind, str(n), str(count), str(project)]
    return run_json_child(cmd, "editor", timeout=1800, env=env, cwd=project)


def record_editor(project: Path, config: Config, results: Results) -> None:
    """Measure both editor figures and put them (or why they are missing)."""
    n = config.editor_edit_size
    rounds = config.editor_edit_rounds
    progress(f"editor: {rounds} edit/undo/redo rounds in a {n:,}-entity scene ...")
    edit = measure_editor("edit", n, rounds, project)
    results.details["editor_edit"] = edit
    for action in ("edit", "undo", "redo"):
        key = f"editor.{n}.{action}_p50_ms"
        label = f"editor N={n:,}: {action} -> views up to date, + busy 1 s after, p50"
        if edit.get("available"):
            times = edit["times_ms"][action]
            after = edit.get("after_ms", {}).get(action)
            extra = f"; of it busy after: {statistics.median(after):.1f} ms" if after else ""
            _put_with_p95(results, key, times, label, extra)
        else:
            results.put(key, None, "ms", label, note=edit.get("why", ""))
    n = config.editor_play_size
    saves = config.editor_play_saves
    progress(f"editor: Play in editor, {saves} saves with {n:,} entities ...")
    _record_play(
        results,
        "play",
        "",
        f"editor N={n:,}: save -> view shows new code, Play p50",
        n,
        saves,
        project,
    )
    # The editor looks ahead by default: the same saves without it, for what the reload costs.
    progress(f"editor: the same, look-ahead off, {saves} saves ...")
    _record_play(
        results,
        "play-direct",
        "_direct",
        f"editor N={n:,}: same, look-ahead off, p50",
        n,
        saves,
        project,
    )


def _record_play(
    results: Results, kind: str, suffix: str, label: str, n: int, saves: int, project: Path
) -> None:
    """Measure one ``play`` kind of the editor child and put its figure (or why it is missing)."""
    play = measure_editor(kind, n, saves, project)
    results.details[f"editor_{kind.replace('-', '_')}"] = play
    key = f"editor.{n}.play_save_to_shown{suffix}_p50_ms"
    if play.get("available"):
        _put_with_p95(results, key, play["times_ms"]["save_to_shown"], label)
    else:
        results.put(key, None, "ms", label, note=play.get("why", ""))


def _put_with_p95(
    results: Results, key: str, times: list[float], label: str, extra: str = ""
) -> None:
    note = f"{len(times)} samples{extra}"
    if len(times) >= MIN_SAMPLES_FOR_P95:
        note += f"; p95 {percentile(times, 95):.1f} ms"
    results.put(key, statistics.median(times), "ms", label, note=note)
