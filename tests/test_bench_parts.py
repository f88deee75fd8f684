"""Unit tests of the benchmark's parts that run without a game: figures, table, options, floor.

``tests/test_bench.py`` runs the whole benchmark; these pin the pieces it is made of.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from runtime.bench.cli import build_parser, config_from_args
from runtime.bench.config import Config
from runtime.bench.floor import FloorImporter
from runtime.bench.project import PLUGIN, movers_path, movers_source, write_project
from runtime.bench.report import NOT_AVAILABLE, Results, expected_figures
from runtime.bench.timing import percentile
from runtime.reload import STEPS


def _fixed_results() -> Results:
    results = Results(Config.quick_run())
    results.put("reload.1000.save_to_new_p50_ms", 12.3456, "ms", "reload N=1,000: p50")
    results.put("floor_ratio", 2.5, "x", "ratio", note="N=1,000: 2.50x")
    results.put("soak.old_generations_alive", 0.0, "", "generations alive")
    results.put("start.player_s", 0.1234, "s", "player start")
    results.put("start.editor_s", None, "s", "editor start", note="no editor package")
    return results


def test_put_judges_each_figure_against_its_target() -> None:
    figures = _fixed_results().figures
    assert figures["reload.1000.save_to_new_p50_ms"]["status"] == "met"
    assert figures["reload.1000.save_to_new_p50_ms"]["target"] == 25.0
    assert figures["floor_ratio"]["status"] == "NOT met"
    assert figures["start.editor_s"]["status"] == NOT_AVAILABLE
    assert "target" not in figures["start.editor_s"]


def test_the_table_shows_values_units_targets_and_notes() -> None:
    lines = _fixed_results().table().splitlines()
    assert lines[0].split() == ["figure", "value", "target", "status"]
    assert set(lines[1]) == {"-"}
    rows = [line.split("  ") for line in lines[2:]]
    cells = [[c.strip() for c in row if c.strip()] for row in rows]
    assert cells == [
        ["reload N=1,000: p50", "12.35 ms", "<= 25 ms", "met"],
        ["ratio", "2.50x", "<= 2x", "NOT met"],
        ["N=1,000: 2.50x"],
        ["generations alive", "0", "<= 0", "met"],
        ["player start", "0.123 s", "<= 0.5 s", "met"],
        ["editor start", NOT_AVAILABLE, NOT_AVAILABLE],
        ["no editor package"],
    ]


def test_the_json_holds_the_figures_and_the_config() -> None:
    results = _fixed_results()
    results.verified_reloads = 3
    data = json.loads(json.dumps(results.to_json(), default=str))
    assert data["verified"] is True
    assert data["verified_reloads"] == 3
    assert list(data["figures"]) == list(results.figures)
    assert data["config"]["sizes"] == [100, 1000]
    assert {"cpu", "cores", "python"} <= set(data["machine"])


def test_expected_figures_name_every_step_of_every_size() -> None:
    keys = expected_figures(Config.quick_run())
    for n in (100, 1000):
        for step in STEPS:
            assert f"reload.{n}.{step}_p50_ms" in keys
    assert len(keys) == len(set(keys))


def test_percentile_interpolates_between_samples() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0], 95) == pytest.approx(1.95)
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_options_make_the_config() -> None:
    args = build_parser().parse_args(
        ["--quick", "--sizes", "1_000,20", "--reloads", "2", "--soak", "5", "--quiet-ms", "7"]
    )
    config = config_from_args(args)
    assert config.quick
    assert config.sizes == [1000, 20]
    assert config.reloads == {1000: 2, 20: 2}
    assert config.soak_reloads == 5
    assert config.quiet_ms == 7.0
    full = config_from_args(build_parser().parse_args([]))
    assert full == Config.default()
    assert full.reloads_for(50_000) == 6


def test_the_floor_imports_new_modules_each_time_and_leaves_no_trace(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", scene_entities=2)
    meta_path = list(sys.meta_path)
    with FloorImporter(project / "plugins") as floor:
        first = floor.import_fresh()
        movers_path(project).write_text(movers_source(2), encoding="utf-8")
        second = floor.import_fresh()
        assert sorted(k.rsplit(".", 1)[-1] for k in first) == [
            "benchgame",
            "data",
            "helpers",
            "movers",
        ]
        assert first.keys() == second.keys()
        for name, module in first.items():
            assert second[name] is not module
            assert name not in sys.modules
        old, new = (mods[f"{floor.host.module_name(PLUGIN)}.movers"] for mods in (first, second))
        assert old.Mover is not new.Mover
    assert sys.meta_path == meta_path
    assert not [m for m in sys.modules if m.startswith(floor.host.namespace)]
