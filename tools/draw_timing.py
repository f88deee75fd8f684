"""Time the batched and the one-by-one drawing paths side by side, on the benchmark's scene.

    QT_QPA_PLATFORM=offscreen python tools/draw_timing.py [N] [FRAMES] [--base DIR]

Frames of the paths are interleaved (batched, one by one, batched, ...) so that
all see the same machine load, and timed as `runtime.qt.render.time_paint`
times them: one QPainter on a 1280x720 offscreen image per frame. Three cases
of the benchmark's scene: still (what ``python -m runtime.bench`` measures),
moving (every entity moved before each frame, as in a running game) and
spinning (every entity also turned a little, so sprites keep changing). It
also checks that both paths drew the same pixels in the last frame of each case.

``--base DIR`` also times the batched path of another checkout's renderer
(``DIR/runtime/qt/render.py``, e.g. ``git archive main | tar -x -C DIR``) in
the same frames: before and after a change, side by side. The base renderer
draws this checkout's scenes, so it must not need a newer scene model.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

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


def _differing_pixels(a: QImage, b: QImage) -> int:
    if a == b:
        return 0
    return sum(a.pixel(x, y) != b.pixel(x, y) for y in range(a.height()) for x in range(a.width()))


def load_base(checkout: Path) -> ModuleType:
    """The renderer module of another checkout, loaded beside this one's."""
    path = checkout / "runtime" / "qt" / "render.py"
    spec = importlib.util.spec_from_file_location("base_render", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"no renderer at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compare(n: int, frames: int, case: str, base: ModuleType | None = None) -> dict[str, float]:
    """Median milliseconds of each path, their ratio and whether the last frames matched.

    With a `base` renderer module, also its batched path's median (``base_ms``)
    and how many pixels of its last frame differ from this renderer's.
    """
    scene = build_scene(None, n)
    paths = {"batched": SceneRenderer("."), "one_by_one": SceneRenderer(".", batched=False)}
    if base is not None:
        paths["base"] = base.SceneRenderer(".")
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
    ms = {k: statistics.median(v) * 1000 for k, v in times.items()}
    result = {
        "batched_ms": ms["batched"],
        "one_by_one_ms": ms["one_by_one"],
        "ratio": ms["one_by_one"] / ms["batched"],
        "same_pixels": float(images["batched"] == images["one_by_one"]),
    }
    if base is not None:
        result["base_ms"] = ms["base"]
        result["base_differing_pixels"] = _differing_pixels(images["base"], images["batched"])
    return result


def main() -> int:
    """Print every case; exit status 1 when the paths drew different pixels."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000, help="visuals in the scene")
    parser.add_argument("frames", nargs="?", type=int, default=30, help="timed frames per path")
    parser.add_argument("--base", type=Path, help="another checkout to time side by side")
    args = parser.parse_args()
    app = QGuiApplication.instance() or QGuiApplication([])
    base = load_base(args.base) if args.base else None
    print(
        f"{args.n:,} visuals, {WIDTH}x{HEIGHT}, median of {args.frames} interleaved frames per path"
    )
    print(f"fragment arrays work in this PySide6: {fragment_arrays_work()}")
    ok = True
    for case in CASES:
        r = compare(args.n, args.frames, case, base)
        line = (
            f"{case:>8}: batched {r['batched_ms']:6.2f} ms  one by one {r['one_by_one_ms']:6.2f} ms"
            f"   ratio {r['ratio']:4.1f}x   same pixels: {bool(r['same_pixels'])}"
        )
        if base is not None:
            line += (
                f"   base {r['base_ms']:6.2f} ms ({r['base_ms'] / r['batched_ms']:3.1f}x),"
                f" {int(r['base_differing_pixels'])} pixels differ from it"
            )
        print(line)
        ok = ok and bool(r["same_pixels"])
    del app
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
