"""Unit tests of the benchmark's parts that run without a game: figures, table, options, floor.

``tests/test_bench.py`` runs the whole benchmark; these pin the pieces it is made of.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from runtime.bench import floor as floor_module
from runtime.bench.cli import build_parser, config_from_args
from runtime.bench.compare import record_compare
from runtime.bench.config import Config
from runtime.bench.floor import FloorImporter, measure_floor
from runtime.bench.frames import _frames_and_plain_loops, record_update
from runtime.bench.project import (
    MOVER_FIELDS,
    build_scene,
    movers_path,
    movers_source,
    write_project,
)
from runtime.bench.report import NOT_AVAILABLE, Results, expected_figures, merged_markdown
from runtime.bench.timing import percentile
from runtime.bench.world import World
from runtime.game import Game
from runtime.reload import STEPS
from runtime.snapshot import unpackb


def _fixed_results() -> Results:
    results = Results(Config.quick_run())
    results.put("reload.1000.save_to_new_p50_ms", 11.3456, "ms", "reload N=1,000: p50")
    results.put("floor_ratio", 2.5, "x", "ratio", note="N=1,000: 2.50x")
    results.put("soak.old_generations_alive", 0.0, "", "generations alive")
    results.put("start.player_s", 0.1234, "s", "player start")
    results.put("start.editor_s", None, "s", "editor start", note="no editor package")
    return results


def test_put_judges_each_figure_against_its_target() -> None:
    figures = _fixed_results().figures
    assert figures["reload.1000.save_to_new_p50_ms"]["status"] == "met"
    assert figures["reload.1000.save_to_new_p50_ms"]["target"] == 12.0
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
        ["reload N=1,000: p50", "11.35 ms", "<= 12 ms", "met"],
        ["ratio", "2.50x", "<= 1.5x", "NOT met"],
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
    assert full.reloads_for(50_000) == 20
    assert all(full.reloads_for(n) >= 20 for n in full.sizes)


def test_p95_is_expected_only_where_there_are_twenty_samples() -> None:
    quick = expected_figures(Config.quick_run())
    assert "reload.1000.save_to_new_p50_ms" in quick
    assert not [k for k in quick if "_p95_" in k]
    full = expected_figures(Config.default())
    for n in (1000, 10_000, 100_000):
        assert f"reload.{n}.save_to_new_p95_ms" in full
        assert f"reload.{n}.reload_wall_p95_ms" in full
    assert "fields.10000.save_to_new_p95_ms" in full


def test_the_floor_runs_the_changed_module_afresh_and_leaves_no_trace(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", scene_entities=2)
    meta_path = list(sys.meta_path)
    movers = movers_path(project)
    with FloorImporter(project / "plugins") as floor:
        first = floor.run_changed(movers)
        movers.write_text(movers_source(2), encoding="utf-8")
        second = floor.run_changed(movers)
        assert first is not second
        assert first.Mover is not second.Mover
        assert all(m is not first and m is not second for m in sys.modules.values())
        # The changed module's imports resolve to the floor's own copy of the plugin.
        helpers = sys.modules[f"{floor.package}.helpers"]
        assert second.advance is helpers.advance
    assert sys.meta_path == meta_path
    assert not [m for m in sys.modules if m.startswith(floor.host.namespace)]


def test_the_floor_rebuilds_every_script_in_columns(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", scene_entities=2)
    with Game(project, scene=False, watch=False) as game:
        scene = build_scene(game, 50)
        for i, e in enumerate(scene):
            e.scripts[0].__dict__["_hp_entity"] = e.handle
            e.scripts[0].__dict__["_hp_state"] = i % 3
        with FloorImporter(project / "plugins") as floor:
            cls = floor.run_changed(movers_path(project)).Mover
            names, blob = floor_module._pack_columns([e.scripts[0] for e in scene])
            rebuilt = floor_module._rebuild(cls, names, *unpackb(blob))
            classes = [type(e.scripts[0]) for e in scene]
            sample = measure_floor(floor, scene, movers_path(project))
            # The kept path's floor gave every script the new class, then its own back.
            assert [type(e.scripts[0]) for e in scene] == classes
            assert all(cls is not c for c in classes)
    assert names == list(MOVER_FIELDS)
    assert len(rebuilt) == 50
    for e, obj in zip(scene, rebuilt, strict=True):
        old = e.scripts[0].__dict__
        assert type(obj) is cls
        for name in MOVER_FIELDS:
            assert obj.__dict__[name] == old[name]
            assert type(obj.__dict__[name]) is type(old[name])
        assert obj.__dict__["_hp_entity"] == e.handle
        assert obj.__dict__["_hp_state"] == old["_hp_state"]
    assert sample.total_ms == pytest.approx(
        sample.compile_run_ms + sample.codec_ms + sample.rebuild_ms + sample.free_ms
    )
    assert sample.gc_ms == 0.0  # the collector is off in the floor
    assert 0 < sample.pack_ms < sample.codec_ms and sample.retype_ms > 0
    assert sample.kept_ms == pytest.approx(
        sample.compile_run_ms + sample.pack_ms + sample.retype_ms
    )


def test_without_the_other_tools_the_comparison_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name in ("jurigged", "IPython") else real_find_spec(name)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    config = Config.quick_run()
    results = Results(config)
    results.put(f"reload.{config.compare_size}.save_to_new_p50_ms", 10.0, "ms", "ours")
    record_compare(tmp_path, config, results)
    for tool, package in (("jurigged", "jurigged"), ("autoreload", "IPython")):
        for key in (
            f"compare.{tool}.{config.compare_size}.save_to_new_p50_ms",
            f"compare.{tool}_ratio",
        ):
            fig = results.figures[key]
            assert fig["status"] == NOT_AVAILABLE
            assert f"{package} is not installed" in fig["note"]


def test_the_readme_table_merges_runs_as_min_median_max() -> None:
    runs = []
    for value in (14.0, 11.0, 12.5):
        results = Results(Config.quick_run())
        results.put("reload.1000.save_to_new_p50_ms", value, "ms", "save -> new, 1,000")
        results.put("reload.1000.build_p50_ms", 1.0, "ms", "  build")
        results.put("start.editor_s", None, "s", "editor start", note="no editor package")
        runs.append(json.loads(json.dumps(results.to_json())))
    lines = merged_markdown(runs).splitlines()
    assert lines[0] == "| figure | min / median / max | target | status |"
    assert (
        lines[2]
        == "| save -> new, 1,000 | 11.00 ms / 12.50 ms / 14.00 ms | <= 12 ms | **not met** |"
    )
    assert lines[3] == f"| editor start | {NOT_AVAILABLE} |  | |"
    assert len(lines) == 4  # the step breakdown stays in the JSON
    one = Results(Config.quick_run())
    one.put("reload.1000.save_to_new_p50_ms", 11.0, "ms", "save -> new, 1,000")
    assert one.markdown().splitlines()[2] == "| save -> new, 1,000 | 11.00 ms | <= 12 ms | met |"


def test_the_plain_loop_does_a_frame_of_the_scripts_own_work(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", scene_entities=2)
    with World.open(project, 20, quiet_ms=None) as world:
        scripts = [e.scripts[0] for e in world.game.scene]
        frames, plain = _frames_and_plain_loops(world, 4)
        ticks = [s.ticks for s in scripts]
        frames_run = world.game.frame
        _frames_and_plain_loops(world, 1)
        # Three warm-up frames, then one frame and one plain loop per sample: each adds
        # the step of movers.py (1) to every script's ticks, as a frame does.
        assert world.game.frame == frames_run + 3 + 1
        assert [s.ticks for s in scripts] == [t + 3 + 2 for t in ticks]
    assert len(frames) == len(plain) == 4
    assert all(t > 0 for t in frames + plain)


def test_the_update_figures_compare_with_a_plain_loop_and_come_back_after_reloads(
    tmp_path: Path,
) -> None:
    project = write_project(tmp_path / "p", scene_entities=2)
    config = Config.quick_run()
    config.frames, config.update_reloads = 3, 2
    results = Results(config)
    with World.open(project, 20, quiet_ms=None) as world:
        record_update(world, config, results)
        assert world.game.reload_count == 2
        assert world.game.watcher is not None  # watching again for the figures that follow
    for key in ("frame_p50_ms", "plain_ratio", "after_reloads_ratio", "frames_alone_ratio"):
        assert results.figures[f"update.20.{key}"]["value"] > 0
    assert len(results.details["update"]["20"]["frame_after_reloads_ms"]) == 3
    assert len(results.details["update"]["20"]["frame_alone_ms"]) == 3
    assert world.game.reload_count == 2  # the control ran frames only


def test_a_failed_reload_is_told_as_one_before_its_state_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken save read the new layout's fields off old objects: a KeyError, not the error."""
    from runtime.bench import world as world_module
    from runtime.bench.errors import BenchError

    project = write_project(tmp_path / "p", scene_entities=2)
    with World.open(project, 20, quiet_ms=None) as world:
        monkeypatch.setattr(world_module, "movers_source", lambda *_: "def broken(:\n")
        with pytest.raises(BenchError, match=r"reload failed: .*SyntaxError"):
            world.watched_reload(change_fields=True)
