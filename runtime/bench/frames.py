"""Frame figures: a headless update of the scripted scene, and drawing its visuals offscreen.

Drawing runs `runtime.qt.render.SceneRenderer` in a child process
(``python -m runtime.bench --draw-worker ...``, see `draw_worker`), so that Qt
never loads into the benchmark process; nothing here imports Qt at module level.
"""

from __future__ import annotations

import os
import statistics
import sys
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
    """Put the median frame time of ``config.frames`` headless frames at the world's size."""
    n = world.n
    times = world.frame_times(config.frames)
    results.put(
        f"update.{n}.frame_p50_ms",
        statistics.median(times),
        "ms",
        f"headless update N={n:,}: frame p50 ({config.frames} frames)",
    )


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
    times = [ms(s) for s in seconds]
    return {"available": True, "times_ms": times, "n": n, "size": [width, height]}


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
    key = f"draw.{config.draw_size}.frame_p50_ms"
    width, height = DRAW_SIZE
    label = f"draw N={config.draw_size:,} visuals offscreen {width}x{height}: frame p50"
    if draw.get("available"):
        results.put(key, statistics.median(draw["times_ms"]), "ms", label)
    else:
        results.put(key, None, "ms", label, note=draw.get("why", ""))
