"""A whole benchmark run: every measurement a `Config` asks for, in order, into one `Results`."""

from __future__ import annotations

import tempfile
from pathlib import Path

from runtime.bench.compare import record_compare
from runtime.bench.config import Config
from runtime.bench.editor_figures import record_editor
from runtime.bench.frames import record_draw, record_update
from runtime.bench.history import record_history
from runtime.bench.import_check import record_import_check
from runtime.bench.lookahead import record_look_ahead
from runtime.bench.project import write_project
from runtime.bench.reload import (
    record_field_edits,
    record_unrelated,
    run_reloads,
    summarize_floor_ratio,
    summarize_reloads,
)
from runtime.bench.report import Results, progress
from runtime.bench.soak import record_soak
from runtime.bench.startup import record_startup
from runtime.bench.world import World


def run(config: Config) -> Results:
    """Run every measurement of `config` on a throw-away project.

    Raises:
        BenchError: a reload failed verification, or a measurement could not run.
    """
    results = Results(config)
    with tempfile.TemporaryDirectory(prefix="hotplay-bench-") as tmp:
        project = write_project(Path(tmp) / "project", scene_entities=1000)
        progress(f"bench project: {project}")
        for n in config.sizes:
            _measure_size(project, n, config, results)
        _measure_other_sizes(project, config, results)
        summarize_floor_ratio(config, results)
        record_compare(project, config, results)
        record_draw(config, results)
        record_startup(project, config, results)
        record_editor(project, config, results)
    return results


def _measure_size(project: Path, n: int, config: Config, results: Results) -> None:
    """The reload figures of size `n`, and the figures asked for at the same size.

    The headless update, the unrelated-objects reloads and the soak run on the
    same world when their size is `n`: one scene built, not several.
    """
    count = config.reloads_for(n)
    progress(f"N={n:,}: building scene, {config.warmup}+{count} watched reloads ...")
    with World.open(project, n, quiet_ms=config.quiet_ms) as world:
        if n in config.frame_sizes:
            record_update(world, config, results)  # first: "before reloads" means no reload yet
        samples = run_reloads(world, count, config.warmup, results)
        summarize_reloads(n, samples, results)
        if n == config.import_check_size:
            record_import_check(world, config, results)
        if n == config.field_size:
            record_field_edits(world, config, results)
        if n == config.unrelated_size:
            record_unrelated(world, config, results)
        if n == config.soak_size:
            record_soak(world, config, results)
        # Last: they stop the watcher and rewind the world's state.
        if n == config.look_ahead_size:
            record_look_ahead(world, config, results)
        if n == config.history_size:
            record_history(world, config, results)


def _measure_other_sizes(project: Path, config: Config, results: Results) -> None:
    """The update, field-edit, unrelated and soak figures whose size has no reload figures."""
    for n in config.frame_sizes:
        if n not in config.sizes:
            with World.open(project, n, quiet_ms=config.quiet_ms) as world:
                record_update(world, config, results)
    if config.field_size not in config.sizes:
        with World.open(project, config.field_size, quiet_ms=config.quiet_ms) as world:
            record_field_edits(world, config, results)
    if config.unrelated_size not in config.sizes:
        with World.open(project, config.unrelated_size, quiet_ms=config.quiet_ms) as world:
            run_reloads(world, config.unrelated_reloads, config.warmup, results)
            record_unrelated(world, config, results)
    if config.soak_size not in config.sizes:
        with World.open(project, config.soak_size, quiet_ms=config.quiet_ms) as world:
            record_soak(world, config, results)
