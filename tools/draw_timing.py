"""Time the batched and the one-by-one drawing paths side by side, on the benchmark's scene.

    QT_QPA_PLATFORM=offscreen python tools/draw_timing.py [N] [FRAMES]

Frames of the two paths are interleaved (batched, one by one, batched, ...) so
that both see the same machine load, and timed as `runtime.qt.render.time_paint`
times them: one QPainter on a 1280x720 offscreen image per frame. Three cases
of the benchmark's scene: still (what ``python -m runtime.bench`` measures),
moving (every entity moved before each frame, as in a running game) and
spinning (every entity also turned a little, so sprites keep changing). It
also checks that both paths drew the same pixels in the last frame of each case.
"""

from __future__ import annotations

import statistics
import sys
import time

from PySide6.QtCore import QSizeF
from PySide6.QtGui import QGuiApplication, QImage, QPainter

from runtime.bench.project import build_scene
from runtime.qt.render import Camera, SceneRenderer, fragment_arrays_work
from runtime.scene import Scene
from runtime.values import Vec2

WIDTH, HEIGHT = 1280, 720


def _frame(renderer: SceneRenderer, scene: Scene, image: QImage) -> float:
    t0 = time.perf_counter()
    painter = QPainter(image)
    renderer.paint(painter, scene, QSizeF(WIDTH, HEIGHT), Camera())
    painter.end()
    return time.perf_counter() - t0


def _move(scene: Scene, frame: int) -> None:
    step = 1.5 if frame % 2 else -1.5
    for e in scene.entities.values():
        e.position = Vec2(e.position[0] + step, e.position[1] - step)


def _spin(scene: Scene, frame: int) -> None:
    _move(scene, frame)
    for e in scene.entities.values():
        e.rotation += 0.7 if frame % 2 else -0.7


CASES = {"still": None, "moving": _move, "spinning": _spin}


def compare(n: int, frames: int, case: str) -> dict[str, float]:
    """Median milliseconds of each path, their ratio and whether the last frames matched."""
    scene = build_scene(None, n)
    paths = {"batched": SceneRenderer("."), "one_by_one": SceneRenderer(".", batched=False)}
    images = {k: QImage(WIDTH, HEIGHT, QImage.Format.Format_ARGB32_Premultiplied) for k in paths}
    times: dict[str, list[float]] = {k: [] for k in paths}
    change = CASES[case]
    for i in range(frames + 2):
        if change is not None:
            change(scene, i)
        for name, renderer in paths.items():
            t = _frame(renderer, scene, images[name])
            if i >= 2:  # the first two fill the caches, as in time_paint
                times[name].append(t)
    batched = statistics.median(times["batched"]) * 1000
    one_by_one = statistics.median(times["one_by_one"]) * 1000
    return {
        "batched_ms": batched,
        "one_by_one_ms": one_by_one,
        "ratio": one_by_one / batched,
        "same_pixels": float(images["batched"] == images["one_by_one"]),
    }


def main() -> int:
    """Print both cases; exit status 1 when the paths drew different pixels."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    frames = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    app = QGuiApplication.instance() or QGuiApplication([])
    print(f"{n:,} visuals, {WIDTH}x{HEIGHT}, median of {frames} interleaved frames per path")
    print(f"fragment arrays work in this PySide6: {fragment_arrays_work()}")
    ok = True
    for case in CASES:
        r = compare(n, frames, case)
        print(
            f"{case:>8}: batched {r['batched_ms']:6.2f} ms  one by one {r['one_by_one_ms']:6.2f} ms"
            f"   ratio {r['ratio']:4.1f}x   same pixels: {bool(r['same_pixels'])}"
        )
        ok = ok and bool(r["same_pixels"])
    del app
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
