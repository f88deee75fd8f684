"""Frame figures: a headless update of the scripted scene, and drawing its visuals offscreen.

Drawing runs `runtime.qt.render.SceneRenderer` in a child process
(``python -m runtime.bench --draw-worker ...``, see `draw_worker`), so that Qt
never loads into the benchmark process; nothing here imports Qt at module level.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any

from runtime.bench.child import run_json_child
from runtime.bench.config import Config
from runtime.bench.project import build_scene
from runtime.bench.report import Results, progress
from runtime.bench.timing import ms
from runtime.bench.world import World

#: The offscreen image the drawing figure paints, in pixels.
DRAW_SIZE = (1280, 720)


def record_update(world: World, config: Config, results: Results) -> None:
    """Headless update figures at the world's size: frame time, against a plain loop, after reloads.

    Frames and plain loops are timed in turn (one of each, ``config.frames``
    times), so both see the same machine load. Then ``config.update_reloads``
    code reloads, each followed by a frame, and the same again: frames must
    not slow down as reloads pile up. Run it on a fresh world: "before" is
    then objects no reload has touched yet.

    Frames slow down as a game runs, reloads or not (each frame makes new
    numbers and vectors, which the allocator places ever further apart). So
    that the figure can be read, the same number of frames then runs again
    with no reload, and is timed the same way: the control, its own figure.
    """
    n = world.n
    tag = f"N={n:,}"
    frames, plain = _frames_and_plain_loops(world, config.frames)
    results.put(
        f"update.{n}.frame_p50_ms",
        statistics.median(frames),
        "ms",
        f"headless update {tag}: frame p50 ({config.frames} frames)",
    )
    results.put(
        f"update.{n}.plain_ratio",
        statistics.median(frames) / statistics.median(plain),
        "x",
        f"headless update {tag} / a plain loop over the same scripts",
        note=f"plain loop p50 {statistics.median(plain):.2f} ms; {config.frames} of each, in turn",
    )
    reloads = config.update_reloads
    progress(f"N={n:,}: {reloads} reloads, then the headless update again ...")
    with world.unwatched():
        for _ in range(reloads):
            world.direct_reload()
            world.game.step(1)
    after, plain_after = _frames_and_plain_loops(world, config.frames)
    _put_frame_ratio(
        results,
        f"update.{n}.after_reloads_ratio",
        f"headless update {tag}: frame after {reloads} reloads / before",
        (after, plain_after),
        (frames, plain),
    )
    world.game.step(reloads)  # the reload phase's frames again, without its reloads
    alone, plain_alone = _frames_and_plain_loops(world, config.frames)
    _put_frame_ratio(
        results,
        f"update.{n}.frames_alone_ratio",
        f"headless update {tag}: the same frames again without reloads / after the reloads",
        (alone, plain_alone),
        (after, plain_after),
    )
    results.details.setdefault("update", {})[str(n)] = {
        "frame_ms": frames,
        "plain_ms": plain,
        "frame_after_reloads_ms": after,
        "plain_after_reloads_ms": plain_after,
        "frame_alone_ms": alone,
        "plain_alone_ms": plain_alone,
        "reloads": reloads,
    }


def _put_frame_ratio(
    results: Results,
    key: str,
    label: str,
    later: tuple[list[float], list[float]],
    earlier: tuple[list[float], list[float]],
) -> None:
    """Put the ratio of two blocks' median frames; each block is (frames, plain loops)."""
    (frames, plain), (frames_then, plain_then) = later, earlier
    median = statistics.median
    results.put(
        key,
        median(frames) / median(frames_then),
        "x",
        label,
        note=f"frame p50 {median(frames):.2f} ms vs {median(frames_then):.2f} ms; "
        f"plain loop {median(plain):.2f} ms vs {median(plain_then):.2f} ms",
    )


def _frames_and_plain_loops(world: World, count: int) -> tuple[list[float], list[float]]:
    """Milliseconds of `count` headless frames and of `count` plain loops, timed in turn.

    The plain loop is the scripts' own work of a frame done the plainest way:
    every script's bound ``on_update`` called in a loop over a prepared list,
    its context pointed at its entity (what a script needs to run), nothing else.
    """
    game = world.game
    game.step(3)
    rs = game.running_scene(game.scene)
    assert rs is not None  # a World's scene runs
    ctx, dt = rs.ctx, game.fixed_dt
    calls = [(e, s, s.on_update) for e in game.scene for s in e.scripts]
    frames, plain = [], []
    for _ in range(count):
        t0 = time.perf_counter()
        game.step(1)
        t1 = time.perf_counter()
        for e, s, fn in calls:
            ctx.entity = e
            ctx.owner = s
            fn(ctx, dt)
        t2 = time.perf_counter()
        frames.append(ms(t1 - t0))
        plain.append(ms(t2 - t1))
    return frames, plain


def draw_worker(n: int, frames: int, width: int, height: int) -> dict[str, Any]:
    """Child-process side of the draw figure: paint `n` visuals offscreen `frames` times.

    Returns:
        ``available`` and the milliseconds of each frame (``times_ms``), or
        ``available: False`` and ``why`` when Qt cannot be loaded.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from runtime.qt.render import time_paint  # the Qt side stays in the Qt module
    except ImportError as exc:
        return {"available": False, "why": f"{type(exc).__name__}: {exc}"}
    seconds = time_paint(build_scene(None, n), frames, width, height, warmup=2)
    moving = time_paint(build_scene(None, n), frames, width, height, warmup=2, moving=True)
    return {
        "available": True,
        "times_ms": [ms(s) for s in seconds],
        "moving_ms": [ms(s) for s in moving],
        "n": n,
        "size": [width, height],
    }


def measure_draw(n: int, frames: int) -> dict[str, Any]:
    """Frame times of drawing `n` visuals with `SceneRenderer` on a 1280x720 image, offscreen.

    Runs `draw_worker` in a child process so that Qt never loads into the benchmark process.
    """
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    width, height = DRAW_SIZE
    cmd = [sys.executable, "-m", "runtime.bench", "--draw-worker", f"{n},{frames},{width},{height}"]
    return run_json_child(cmd, "draw", timeout=300, env=env)


def record_draw(config: Config, results: Results) -> None:
    """Measure drawing ``config.draw_size`` visuals and put the figure (or why it is missing)."""
    progress(f"drawing {config.draw_size:,} visuals offscreen ...")
    draw = measure_draw(config.draw_size, config.draw_frames)
    results.details["draw"] = draw
    width, height = DRAW_SIZE
    base = f"draw N={config.draw_size:,} visuals offscreen {width}x{height}"
    figures = (
        ("frame_p50_ms", "times_ms", f"{base}: frame p50 (nothing moves)"),
        # What a game's frame draws: every visual in a new place.
        ("moving_p50_ms", "moving_ms", f"{base}, every visual moving: frame p50"),
    )
    for figure, times, label in figures:
        key = f"draw.{config.draw_size}.{figure}"
        if draw.get("available"):
            results.put(key, statistics.median(draw[times]), "ms", label)
        else:
            results.put(key, None, "ms", label, note=draw.get("why", ""))
