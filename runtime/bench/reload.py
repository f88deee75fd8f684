"""The reload figures: save -> new code at each size, its steps and the floor ratio.

Also the same reloads with many unrelated live objects in the process, which
must cost the same.
"""

from __future__ import annotations

import gc
import statistics

from runtime.bench.config import Config
from runtime.bench.floor import FloorSample, measure_floor, median_floor
from runtime.bench.report import Results, progress
from runtime.bench.timing import percentile
from runtime.bench.world import ReloadSample, World
from runtime.reload import STEPS


def run_reloads(world: World, count: int, warmup: int, results: Results) -> list[ReloadSample]:
    """`warmup` + `count` verified watcher reloads, each followed by one floor measurement.

    The measured samples are kept in ``world.samples``; the median floor goes into
    ``results.details["floors"]``.
    """
    samples = []
    floors: list[FloorSample] = []
    for i in range(warmup + count):
        sample = world.watched_reload()
        results.verified_reloads += 1
        floor = measure_floor(world.floor, world.game.scene)
        if i >= warmup:
            samples.append(sample)
            floors.append(floor)
    world.samples = samples
    results.details.setdefault("floors", {})[str(world.n)] = median_floor(floors)
    return samples


def run_reloads_plain(world: World, count: int, results: Results) -> list[ReloadSample]:
    """`count` verified watcher reloads without floor measurements."""
    out = []
    for _ in range(count):
        out.append(world.watched_reload())
        results.verified_reloads += 1
    return out


def summarize_reloads(n: int, samples: list[ReloadSample], results: Results) -> None:
    """Put the reload figures of size `n` into `results` (after `run_reloads` at that size)."""
    s2n = [s.save_to_new_ms for s in samples]
    floors = results.details["floors"][str(n)]
    reload_p50 = statistics.median(s.total_ms for s in samples)
    tag = f"N={n:,}"
    results.put(
        f"reload.{n}.save_to_new_p50_ms",
        statistics.median(s2n),
        "ms",
        f"reload {tag}: save -> new code p50 ({len(samples)} reloads)",
    )
    results.put(
        f"reload.{n}.save_to_new_p95_ms",
        percentile(s2n, 95),
        "ms",
        f"reload {tag}: save -> new code p95",
    )
    for step in STEPS:
        vals = [s.timings.get(step, 0.0) for s in samples]
        results.put(
            f"reload.{n}.{step}_p50_ms",
            statistics.median(vals),
            "ms",
            f"reload {tag}:   {step} p50",
        )
    results.put(
        f"reload.{n}.reload_p50_ms",
        reload_p50,
        "ms",
        f"reload {tag}: build..commit (excl. detect) p50",
    )
    results.put(
        f"reload.{n}.first_frame_p50_ms",
        statistics.median(s.first_frame_ms for s in samples),
        "ms",
        f"reload {tag}: first frame of new code p50",
    )
    gcs = samples[len(samples) // 2].gc_collections
    results.put(
        f"reload.{n}.gc_p50_ms",
        statistics.median(s.gc_ms for s in samples),
        "ms",
        f"reload {tag}: save -> new code, of which cyclic GC p50",
        note=f"collections gen0/1/2 in a typical reload+frame: {gcs[0]}/{gcs[1]}/{gcs[2]}",
    )
    results.put(
        f"reload.{n}.floor_ms",
        floors["total_ms"],
        "ms",
        f"reload {tag}: floor p50",
        note=f"import {floors['import_ms']:.1f} ms, "
        f"pack+unpack {floors['codec_ms']:.1f} ms, "
        f"rebuild {floors['rebuild_ms']:.1f} ms; "
        f"cyclic GC in it {floors['gc_ms']:.1f} ms",
    )
    results.put(
        f"reload.{n}.floor_ratio",
        reload_p50 / floors["total_ms"],
        "x",
        f"reload {tag}: (reload excl. detect) / floor",
    )
    results.details.setdefault("reloads", {})[str(n)] = {
        "save_to_new_ms": s2n,
        "save_to_reloaded_ms": [s.save_to_reloaded_ms for s in samples],
        "reload_ms": [s.total_ms for s in samples],
        "timings": [s.timings for s in samples],
        "gc_ms": [s.gc_ms for s in samples],
        "extra_batches": sum(s.extra_batches for s in samples),
    }


def summarize_floor_ratio(config: Config, results: Results) -> None:
    """Put the overall floor ratio: the worst size's, which is what the target is about.

    The note gives the largest size's too, where fixed costs matter least.
    """
    ratios = {n: results.figures[f"reload.{n}.floor_ratio"]["value"] for n in config.sizes}
    worst = max(ratios, key=lambda k: ratios[k])
    largest = max(config.sizes)
    results.put(
        "floor_ratio",
        ratios[worst],
        "x",
        f"reload excl. detect / floor, worst size (N={worst:,})",
        note=f"N={largest:,}: {ratios[largest]:.2f}x",
    )


class _Unrelated:
    """A small live object the reload has nothing to do with."""

    __slots__ = ("a", "b")

    def __init__(self, a: int) -> None:
        self.a = a
        self.b = None


def record_unrelated(world: World, config: Config, results: Results) -> None:
    """The same reloads again with many unrelated live objects: must cost the same.

    Compares with the samples of `run_reloads` on the same `world`.
    """
    n = world.n
    base = world.samples[: config.unrelated_reloads] if config.unrelated_reloads else []
    progress(
        f"N={n:,}: {config.unrelated_objects:,} unrelated live objects, "
        f"{config.unrelated_reloads} watched reloads ..."
    )
    junk = [_Unrelated(i) for i in range(config.unrelated_objects)]
    try:
        gc.collect()
        with_junk = run_reloads_plain(world, config.unrelated_reloads, results)
    finally:
        del junk
        gc.collect()
    base_all = world.samples
    reload_with = statistics.median(s.total_ms for s in with_junk)
    reload_without = statistics.median(s.total_ms for s in base_all)
    ratio_s2n = statistics.median(s.save_to_new_ms for s in with_junk) / statistics.median(
        s.save_to_new_ms for s in base_all
    )
    label = f"reload N={n:,} with {config.unrelated_objects:,} unrelated objects / without"
    results.put(
        "unrelated_ratio",
        reload_with / reload_without,
        "x",
        label,
        note=f"build..commit p50 {reload_with:.1f} ms vs {reload_without:.1f} ms",
    )
    results.put(
        "unrelated_save_to_new_ratio", ratio_s2n, "x", "  same, save -> new code p50 with / without"
    )
    results.details["unrelated"] = {
        "objects": config.unrelated_objects,
        "n": n,
        "reload_ms": [s.total_ms for s in with_junk],
        "save_to_new_ms": [s.save_to_new_ms for s in with_junk],
        "baseline_samples": len(base),
    }
