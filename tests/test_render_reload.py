"""`SceneRenderer.reload_image`: one changed image is read again, the rest stays cached."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSizeF
from PySide6.QtGui import QColor, QImage, QPainter

from runtime.qt.render import Camera, SceneRenderer
from runtime.scene import Scene, Visual, VisualKind
from runtime.values import Vec2


def _save(path: Path, color: str) -> None:
    img = QImage(8, 8, QImage.Format.Format_ARGB32)
    img.fill(QColor(color))
    assert img.save(str(path))


def _paint(renderer: SceneRenderer, scene: Scene) -> QImage:
    out = QImage(64, 32, QImage.Format.Format_ARGB32)
    out.fill(QColor("black"))
    p = QPainter(out)
    renderer.paint(p, scene, QSizeF(64, 32), Camera(Vec2(0, 0)))
    p.end()
    return out


def test_reload_drops_exactly_the_changed_image(qapp, tmp_path: Path) -> None:
    _save(tmp_path / "a.png", "#ff0000")
    _save(tmp_path / "b.png", "#00ff00")
    scene = Scene()
    scene.spawn(
        "A", position=Vec2(-16, 0), visual=Visual(VisualKind.IMAGE, Vec2(16, 16), image="a.png")
    )
    scene.spawn(
        "B", position=Vec2(16, 0), visual=Visual(VisualKind.IMAGE, Vec2(16, 16), image="b.png")
    )
    renderer = SceneRenderer(tmp_path)
    first = _paint(renderer, scene)
    assert (
        first.pixelColor(16, 16).name() == "#ff0000"
        and first.pixelColor(48, 16).name() == "#00ff00"
    )
    b_pixmap = renderer.pixmap("b.png")
    b_slot = renderer._atlas_images.get("b.png")

    _save(tmp_path / "a.png", "#0000ff")  # same size, same second: Qt's own cache would miss it
    assert renderer.reload_image("a.png") is None
    after = _paint(renderer, scene)
    assert (
        after.pixelColor(16, 16).name() == "#0000ff"
        and after.pixelColor(48, 16).name() == "#00ff00"
    )
    assert renderer.pixmap("b.png") is b_pixmap
    assert renderer._atlas_images.get("b.png") == b_slot

    (tmp_path / "a.png").write_bytes(b"broken")
    assert renderer.reload_image("a.png") == "Qt cannot read it as an image"
    assert _paint(renderer, scene).pixelColor(16, 16).name() == "#0000ff"  # the old one is kept

    (tmp_path / "a.png").unlink()
    assert renderer.reload_image("a.png") is None
    assert renderer.pixmap("a.png") is None  # deleted: shown as missing
