"""The look-ahead figure: what trying the new code N frames ahead adds to a reload.

On the world of ``config.look_ahead_size`` movers (1,000), with the watcher
stopped: for each sample, the N frames the look-ahead will run are first timed
live (N x the frame time, in the same run, just before), then a behaviour change
is reloaded with the look-ahead on and its ``look_ahead`` step timed, then the
same change back with the look-ahead off. The figures are medians over the
samples: the step, N frames, their ratio (target 1.10: N frames and 10 %), and
the whole reload with and without it (what the user waits for).
"""

from __future__ import annotations

import statistics

from runtime.bench.config import Config
from runtime.bench.report import Results, progress
from runtime.bench.world import World


def record_look_ahead(world: World, config: Config, results: Results) -> None:
    """Put the look-ahead figures of the world's size."""
    n, frames = world.n, config.look_ahead_frames
    game = world.game
    game.stop_watching()  # the reloads here are direct: a watcher would reload them again
    progress(f"N={n:,}: look-ahead of {frames} frames, {config.look_ahead_reloads} reloads ...")
    steps, frame_spans, with_it, without = [], [], [], []
    # The figure is what the copy adds to the frames: all of them run, whatever
    # time the reload took before them (the default stops at 50 ms in all).
    capped, game.look_ahead_seconds = game.look_ahead_seconds, 60.0
    try:
        for _ in range(config.look_ahead_reloads):
            frame_spans.append(sum(world.frame_times(frames)))
            game.look_ahead_frames = frames
            report = world.direct_reload()
            steps.append(report.timings["look_ahead"])
            with_it.append(report.total_ms)
            game.look_ahead_frames = 0
            without.append(world.direct_reload().total_ms)
    finally:
        game.look_ahead_frames = 0
        game.look_ahead_seconds = capped
    samples = f"{len(steps)} reloads"
    step, span = statistics.median(steps), statistics.median(frame_spans)
    key = f"look_ahead.{n}"
    results.put(
        f"{key}.look_ahead_p50_ms",
        step,
        "ms",
        f"look-ahead N={n:,}, {frames} frames: p50 ({samples})",
    )
    results.put(
        f"{key}.frames_p50_ms",
        span,
        "ms",
        f"look-ahead N={n:,}: {frames} live frames p50 ({samples})",
    )
    results.put(
        f"{key}.ratio",
        step / span,
        "x",
        f"look-ahead N={n:,}: step / {frames} frames (medians, same run)",
    )
    results.put(
        f"{key}.reload_with_p50_ms",
        statistics.median(with_it),
        "ms",
        f"reload N={n:,} with the look-ahead: p50 ({samples})",
    )
    results.put(
        f"{key}.reload_without_p50_ms",
        statistics.median(without),
        "ms",
        f"reload N={n:,} without it, same run: p50 ({samples})",
    )
