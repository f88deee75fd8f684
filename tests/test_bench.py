"""Smoke test of ``python -m runtime.bench --quick``: it runs, verifies, and reports every figure.

No timing is asserted here: the machine running the tests is shared and noisy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from runtime.bench.config import Config
from runtime.bench.errors import BenchError
from runtime.bench.project import (
    FIELD_CHANGES,
    LAYOUT_FIELDS,
    PLUGIN,
    movers_path,
    movers_source,
    write_project,
)
from runtime.bench.report import NOT_AVAILABLE, TARGETS, expected_figures
from runtime.bench.verify import (
    SceneState,
    verify_field_change,
    verify_new_code,
    verify_reload,
)
from runtime.bench.world import World


def test_quick_bench_verifies_and_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "runtime.bench", "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "BENCHMARK FAILED" not in proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))

    assert data["verified"] is True
    # Every watched reload of every size, plus the unrelated-objects run and the soak's last one.
    config = Config.quick_run()
    expected_reloads = sum(config.reloads_for(n) + config.warmup for n in config.sizes)
    assert data["verified_reloads"] >= expected_reloads

    figures = data["figures"]
    missing = [k for k in expected_figures(config) if k not in figures]
    assert not missing, f"figures missing from the JSON: {missing}"
    for key, fig in figures.items():
        if fig["status"] == NOT_AVAILABLE:
            # Only the tools compared side by side are optional (the "compare" extra).
            assert key.startswith("compare."), key
            assert fig["note"], f"{key} is not available and does not say why"
            continue
        assert isinstance(fig["value"], (int, float)), (key, fig)
        assert fig["value"] >= 0, (key, fig)
    for key in TARGETS:
        if key in figures and figures[key]["value"] is not None:
            assert figures[key]["status"] in ("met", "NOT met"), key
    assert figures["soak.old_generations_alive"]["value"] == 0
    # Issue 15's figures, by name: the reload's wall time and the honest floor at every
    # size, a field-changing edit, jurigged side by side, the editor's two figures.
    for n in config.sizes:
        assert figures[f"reload.{n}.reload_wall_p50_ms"]["value"] > 0
        assert figures[f"reload.{n}.floor_ratio"]["value"] > 0
    assert figures["fields.1000.save_to_new_p50_ms"]["value"] > 0
    assert "compare.jurigged_ratio" in figures
    for action in ("edit", "undo", "redo"):
        assert f"editor.100.{action}_p50_ms" in figures
    assert "editor.100.play_save_to_shown_p50_ms" in figures
    assert "editor.100.play_save_to_shown_direct_p50_ms" in figures
    assert "README table" in proc.stdout
    # The table is printed with every figure's label.
    for fig in figures.values():
        assert fig["label"] in proc.stdout


def test_verification_catches_a_changed_field(tmp_path: Path) -> None:
    """A benchmark that does not notice lost state is worthless: check that it does."""
    from runtime.reports import ReloadReport

    project = write_project(tmp_path / "p", scene_entities=3)
    with World.open(project, 5, quiet_ms=None) as world:
        game = world.game
        before = SceneState.capture(game, game.scene)
        script = next(iter(game.scene)).scripts[0]
        script.label = "changed behind the benchmark's back"
        after = SceneState.capture(game, game.scene)
        report = ReloadReport(ok=True, plugins=(PLUGIN,), objects=6)
        with pytest.raises(BenchError, match="changed across the reload"):
            verify_reload(report, before, after, 5)
        # And a frame of the old code is not taken for the new code.
        game.step(1)
        with pytest.raises(BenchError, match="did not run the new code"):
            verify_new_code(game, before, 2)


def test_a_field_changing_edit_is_timed_and_verified_by_the_migration_rules(
    tmp_path: Path,
) -> None:
    project = write_project(tmp_path / "p", scene_entities=3)
    with World.open(project, 5, quiet_ms=None) as world:
        game = world.game
        label = next(iter(game.scene)).scripts[0].label
        sample = world.watched_reload(change_fields=True)
        assert world.layout == 1
        # The figure is Game.reload's wall time, freeing included: never less than the steps.
        # The scripts are kept, their fields migrated in place.
        assert sample.old_objects == "kept"
        assert sample.reload_wall_ms >= sample.total_ms > 0
        script = next(iter(game.scene)).scripts[0]
        assert (script.trail, script.boost) == ((), 0.5)
        assert "label" not in vars(script)
        world.watched_reload(change_fields=True)  # and back, verified inside
        assert world.layout == 0
        assert next(iter(game.scene)).scripts[0].label == label  # back from the stash

        # The verification itself: a reset field that kept its value is caught, and
        # so is a report without the expected notes.
        game.stop_watching()
        before = SceneState.capture(game, game.scene)
        movers_path(project).write_text(movers_source(world.step, 1), encoding="utf-8")
        report = game.reload([str(movers_path(project))])
        after = SceneState.capture(game, game.scene, LAYOUT_FIELDS[1])
        stashed_at = world.stashed_at[1]
        verify_field_change(report, before, after, FIELD_CHANGES[0], 5, stashed_at)
        script = next(iter(game.scene)).scripts[0]
        script.trail = (1.0,)
        kept_by_mistake = SceneState.capture(game, game.scene, LAYOUT_FIELDS[1])
        with pytest.raises(BenchError, match="not its default"):
            verify_field_change(report, before, kept_by_mistake, FIELD_CHANGES[0], 5, stashed_at)
        quiet = replace(report, notes=tuple(n for n in report.notes if n.kind != "stashed"))
        with pytest.raises(BenchError, match="migration rules say"):
            verify_field_change(quiet, before, after, FIELD_CHANGES[0], 5, stashed_at)
