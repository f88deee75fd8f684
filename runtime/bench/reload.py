"""The reload figures: save -> new code at each size, its steps, the reload's wall time, the floor.

The reload figure (``reload.N.reload_wall_p50_ms``) is what the game thread
waits for: the wall time of `Game.reload` (the transaction, then freeing the
replaced objects, which reference counting does before the call returns, and
any collection the cyclic collector runs as it comes back on) plus the
collections that the reload's allocations set off in the first frame after
it. The report's own ``total_ms`` (build..commit) leaves the freeing out; it
is kept as ``reload_p50_ms``. The old generation's modules and classes are in
reference cycles and go at the collector's next full collection, which the
figure does not wait for (a game does not either); the soak checks that they
do go. The floor (`runtime.bench.floor`) is measured after every reload, so
both see the same load, and ``floor_ratio`` divides the two medians.

Field-changing edits (``fields.N...``) are timed and verified like the
code-only ones: the layout of ``Mover`` flips between two that add, remove
and retype fields, which takes the reload's checked path.

Also the same reloads with many unrelated live objects in the process, which
must cost the same.

A p95 is reported only where there are at least `MIN_SAMPLES_FOR_P95` samples
(with fewer it is a maximum, not a percentile).
"""

from __future__ import annotations

import gc
import statistics

from runtime.bench.config import Config
from runtime.bench.floor import FloorSample, measure_floor, median_floor
from runtime.bench.report import MIN_SAMPLES_FOR_P95, Results, progress
from runtime.bench.timing import percentile
from runtime.bench.world import ReloadSample, World
from runtime.reload import STEPS


def run_reloads(
    world: World, count: int, warmup: int, results: Results, *, change_fields: bool = False
) -> list[ReloadSample]:
    """`warmup` + `count` verified watcher reloads, each followed by one floor measurement.

    The measured samples are kept in ``world.samples`` (code-only edits); the
    median floor goes into ``results.details["floors"]``.
    """
    samples = []
    floors: list[FloorSample] = []
    for i in range(warmup + count):
        sample = world.watched_reload(change_fields=change_fields)
        results.verified_reloads += 1
        floor = measure_floor(world.floor, world.game.scene, world.movers)
        if i >= warmup:
            samples.append(sample)
            floors.append(floor)
    if not change_fields:
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


def _put_p50_p95(
    results: Results, key: str, values: list[float], label: str, *, note: str = ""
) -> None:
    """Put ``key_p50_ms`` and, with enough samples, ``key_p95_ms``."""
    results.put(f"{key}_p50_ms", statistics.median(values), "ms", f"{label} p50", note=note)
    if len(values) >= MIN_SAMPLES_FOR_P95:
        results.put(f"{key}_p95_ms", percentile(values, 95), "ms", f"{label} p95")


def summarize_reloads(n: int, samples: list[ReloadSample], results: Results) -> None:
    """Put the reload figures of size `n` into `results` (after `run_reloads` at that size)."""
    s2n = [s.save_to_new_ms for s in samples]
    wall = [s.reload_wall_ms for s in samples]
    floors = results.details["floors"][str(n)]
    tag = f"N={n:,}"
    _put_p50_p95(
        results,
        f"reload.{n}.save_to_new",
        s2n,
        f"reload {tag}: save -> new code ({len(samples)} reloads)",
    )
    fates = {
        fate: sum(s.old_objects == fate for s in samples) for fate in ("freed", "kept", "alive")
    }
    _put_p50_p95(
        results,
        f"reload.{n}.reload_wall",
        wall,
        f"reload {tag}: Game.reload wall, freeing included,",
        note=f"old objects when Game.reload returned, in {len(samples)} reloads: "
        + ", ".join(f"{fate} in {k}" for fate, k in fates.items() if k),
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
        statistics.median(s.total_ms for s in samples),
        "ms",
        f"reload {tag}: report build..commit (no freeing) p50",
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
    rebuild_note = (
        f"compile+run movers.py {floors['compile_run_ms']:.1f} ms, "
        f"columnar pack+unpack {floors['codec_ms']:.1f} ms, "
        f"rebuild {floors['rebuild_ms']:.1f} ms, free {floors['free_ms']:.1f} ms"
    )
    # The floor of the work the reloads did: they kept the objects, or rebuilt them.
    kept = fates["kept"] == len(samples)
    floor = floors["kept_ms"] if kept else floors["total_ms"]
    results.put(
        f"reload.{n}.floor_ms",
        floor,
        "ms",
        f"reload {tag}: floor (same work, GC off) p50",
        note=(
            f"objects kept: compile+run movers.py {floors['compile_run_ms']:.1f} ms, "
            f"columnar pack {floors['pack_ms']:.1f} ms, retype {floors['retype_ms']:.1f} ms"
            if kept
            else rebuild_note
        ),
    )
    results.put(
        f"reload.{n}.floor_ratio",
        statistics.median(wall) / floor,
        "x",
        f"reload {tag}: Game.reload wall / floor",
    )
    results.put(
        f"reload.{n}.rebuild_floor_ms",
        floors["total_ms"],
        "ms",
        f"reload {tag}: floor of a reload that rebuilds every object p50",
        note=rebuild_note,
    )
    results.details.setdefault("reloads", {})[str(n)] = {
        "save_to_new_ms": s2n,
        "save_to_reloaded_ms": [s.save_to_reloaded_ms for s in samples],
        "reload_wall_ms": wall,
        "reload_ms": [s.total_ms for s in samples],
        "timings": [s.timings for s in samples],
        "gc_ms": [s.gc_ms for s in samples],
        "old_objects": fates,
        "extra_batches": sum(s.extra_batches for s in samples),
    }


def record_field_edits(world: World, config: Config, results: Results) -> None:
    """Time and verify ``config.field_reloads`` field-changing edits on `world`."""
    n = world.n
    count = config.field_reloads
    # An even number of edits (warm-up included) leaves the original layout for what follows.
    warmup = config.warmup + (config.warmup + count) % 2
    progress(f"N={n:,}: {warmup}+{count} watched reloads of field-changing edits ...")
    samples = run_reloads(world, count, warmup, results, change_fields=True)
    tag = f"N={n:,}"
    _put_p50_p95(
        results,
        f"fields.{n}.save_to_new",
        [s.save_to_new_ms for s in samples],
        f"fields {tag}: save -> new code, field edit ({count} reloads)",
    )
    _put_p50_p95(
        results,
        f"fields.{n}.reload_wall",
        [s.reload_wall_ms for s in samples],
        f"fields {tag}: Game.reload wall, freeing included,",
    )
    results.details.setdefault("fields", {})[str(n)] = {
        "save_to_new_ms": [s.save_to_new_ms for s in samples],
        "reload_wall_ms": [s.reload_wall_ms for s in samples],
        "timings": [s.timings for s in samples],
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
        f"Game.reload wall / floor, worst size (N={worst:,})",
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

    Compares with as many reloads run just before on the same `world`, in the
    same state: what earlier figures left in it (the field edits leave values
    in the stash, so that its objects are rebuilt, not kept) is the same for both.
    """
    n = world.n
    count = config.unrelated_reloads
    progress(
        f"N={n:,}: {count} watched reloads, then again with "
        f"{config.unrelated_objects:,} unrelated live objects ..."
    )
    base = run_reloads_plain(world, count, results)
    junk = [_Unrelated(i) for i in range(config.unrelated_objects)]
    try:
        gc.collect()
        with_junk = run_reloads_plain(world, count, results)
    finally:
        del junk
        gc.collect()
    reload_with = statistics.median(s.reload_wall_ms for s in with_junk)
    reload_without = statistics.median(s.reload_wall_ms for s in base)
    ratio_s2n = statistics.median(s.save_to_new_ms for s in with_junk) / statistics.median(
        s.save_to_new_ms for s in base
    )
    label = f"reload N={n:,} with {config.unrelated_objects:,} unrelated objects / without"
    results.put(
        "unrelated_ratio",
        reload_with / reload_without,
        "x",
        label,
        note=f"Game.reload wall p50 {reload_with:.1f} ms vs {reload_without:.1f} ms",
    )
    results.put(
        "unrelated_save_to_new_ratio", ratio_s2n, "x", "  same, save -> new code p50 with / without"
    )
    results.details["unrelated"] = {
        "objects": config.unrelated_objects,
        "n": n,
        "reload_wall_ms": [s.reload_wall_ms for s in with_junk],
        "save_to_new_ms": [s.save_to_new_ms for s in with_junk],
        "baseline_samples": len(base),
        "baseline_reload_wall_ms": [s.reload_wall_ms for s in base],
        "old_objects": [s.old_objects for s in with_junk],
    }
