"""History figures: what recording costs a frame, and how long a rewind and a replay take.

On the world of ``config.history_size`` movers (1,000), the watcher stopped:

* recording: frames run in blocks of one second (one keyframe each), alternately
  with the recording on and off (`runtime.game.Game.history` set aside), so both
  see the same machine at the same time. A block's figure is its mean frame time
  (the keyframe's frame included) in CPU time of this process: on a shared
  machine the wall clock also counts the time other processes hold the CPU,
  which swamps a difference of a few percent. The overhead is the median, over
  adjacent pairs of blocks, of their ratio, in percent (target 5 %); the same
  ratio in wall time is put beside it;
* one keyframe written as the recording writes it (a second after the last one,
  the columns that did not change not packed again), in wall and CPU time; one
  written from nothing, as a look-ahead does; its size, and the memory of ten
  seconds of history;
* a rewind of one second, from the middle of a second (the state rebuilt from the
  keyframe before it, 30 frames replayed aside, swapped in), a preview of the
  same frame (rebuilt aside only), and a replay of one second (60 frames of the
  live game from the recorded input);
* scrubbing a timeline forward (`runtime.history.PastFrames`): each frame shown
  played on from the one shown before; from the middle of a second, one frame on.
"""

from __future__ import annotations

import statistics
import time

from runtime.bench.config import Config
from runtime.bench.report import Results, progress
from runtime.bench.timing import ms
from runtime.bench.world import World
from runtime.history import ColumnCache, History, PastFrames, capture_state


def record_history(world: World, config: Config, results: Results) -> None:
    """Put the history figures of the world's size."""
    n, game = world.n, world.game
    game.stop_watching()
    history = game.history or History(10.0, game.fixed_dt)
    second = history.keyframe_interval
    progress(f"N={n:,}: history, {config.history_blocks} one-second blocks on and off ...")
    game.history = None
    game.step(second - game.frame % second)  # blocks start on a keyframe's frame
    on: list[float] = []
    off: list[float] = []
    on_wall: list[float] = []
    off_wall: list[float] = []
    for block in range(config.history_blocks):
        order = (
            ((history, on, on_wall), (None, off, off_wall))
            if block % 2 == 0
            else ((None, off, off_wall), (history, on, on_wall))
        )
        for recording, times, walls in order:
            game.history = recording
            w0, t0 = time.perf_counter(), time.process_time()
            game.step(second)
            times.append(ms(time.process_time() - t0) / second)
            walls.append(ms(time.perf_counter() - w0) / second)
    game.history = history
    game.step(second * 11)  # ten seconds and more of continuous history
    keyframes, keyframes_cpu, from_nothing = [], [], []
    columns = ColumnCache()
    capture_state(game, columns=columns)
    for _ in range(config.history_samples):
        game.step(second)  # as the recording writes it: a second after the last one
        game.history = None  # the timed keyframe is the only one written
        w0, t0 = time.perf_counter(), time.process_time()
        blob = capture_state(game, columns=columns)
        keyframes_cpu.append(ms(time.process_time() - t0))
        keyframes.append(ms(time.perf_counter() - w0))
        game.history = history
        w0 = time.perf_counter()
        capture_state(game)
        from_nothing.append(ms(time.perf_counter() - w0))
    rewinds, previews, replays, scrubs = [], [], [], []
    for _ in range(config.history_samples):
        game.step(second - game.frame % second + second // 2 + second)  # mid-second, 1 s kept
        t0 = time.perf_counter()
        game.preview(game.frame - second)
        previews.append(ms(time.perf_counter() - t0))
        t0 = time.perf_counter()
        target = game.rewind(1.0)
        rewinds.append(ms(time.perf_counter() - t0))
        t0 = time.perf_counter()
        game.replay(target, target + second)
        replays.append(ms(time.perf_counter() - t0))
        past = PastFrames(game)
        past.scene_at(game.frame - second)
        t0 = time.perf_counter()
        past.scene_at(game.frame - second + 1)
        scrubs.append(ms(time.perf_counter() - t0))
    key, blocks, samples = f"history.{n}", f"{len(on)} blocks", f"{len(rewinds)} samples"
    ratio = statistics.median(a / b for a, b in zip(on, off, strict=True))
    wall_ratio = statistics.median(a / b for a, b in zip(on_wall, off_wall, strict=True))
    results.put(
        f"{key}.frame_on_ms",
        statistics.median(on),
        "ms",
        f"frame N={n:,} recording: CPU p50 of block means ({blocks})",
    )
    results.put(
        f"{key}.frame_off_ms",
        statistics.median(off),
        "ms",
        f"frame N={n:,} not recording, same run ({blocks})",
    )
    results.put(
        f"{key}.record_overhead_pct",
        max(0.0, (ratio - 1.0) * 100.0),
        "%",
        f"history N={n:,}: recording cost per frame, CPU (p50 of {len(on)} pairs)",
    )
    results.put(
        f"{key}.record_overhead_wall_pct",
        max(0.0, (wall_ratio - 1.0) * 100.0),
        "%",
        f"history N={n:,}: recording cost per frame, wall (p50 of {len(on)} pairs)",
    )
    results.put(
        f"{key}.keyframe_p50_ms",
        statistics.median(keyframes),
        "ms",
        f"history N={n:,}: one keyframe written while recording, wall p50 "
        f"({len(keyframes)} samples)",
    )
    results.put(
        f"{key}.keyframe_cpu_p50_ms",
        statistics.median(keyframes_cpu),
        "ms",
        f"history N={n:,}: the same keyframe, CPU p50 ({len(keyframes)} samples)",
    )
    results.put(
        f"{key}.keyframe_full_p50_ms",
        statistics.median(from_nothing),
        "ms",
        f"history N={n:,}: one keyframe written from nothing, wall p50 "
        f"({len(from_nothing)} samples)",
    )
    results.put(f"{key}.keyframe_kb", len(blob) / 1024, "KB", f"history N={n:,}: one keyframe")
    results.put(
        f"{key}.ten_seconds_mb",
        history.byte_size / 2**20,
        "MB",
        f"history N={n:,}: memory of {history.seconds_kept:.0f} s kept",
    )
    results.put(
        f"{key}.preview_p50_ms",
        statistics.median(previews),
        "ms",
        f"preview N={n:,}, 30 frames replayed aside: p50 ({samples})",
    )
    results.put(
        f"{key}.rewind_1s_p50_ms",
        statistics.median(rewinds),
        "ms",
        f"rewind N={n:,} 1 s: p50 ({samples})",
    )
    results.put(
        f"{key}.replay_1s_p50_ms",
        statistics.median(replays),
        "ms",
        f"replay N={n:,} 1 s (60 frames): p50 ({samples})",
    )
    results.put(
        f"{key}.scrub_forward_p50_ms",
        statistics.median(scrubs),
        "ms",
        f"scrub N={n:,} one frame forward from the frame shown: p50 ({samples})",
    )
