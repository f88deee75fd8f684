"""Asset hot reload in the editor, and the feedback rows of Build and Release."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QComboBox

from editor.controllers.document import DiskChoice
from editor.main_window import MainWindow
from editor.play import PlayState
from runtime import BuildProfile, Vec2
from runtime.scene import Visual, VisualKind

WAIT = 10000


def write_image(path: Path, color: str) -> None:
    """Save an image the way editors do: a temporary file renamed over the old one.

    In a folder watched from the start: a folder made now is watched a moment later.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    img = QImage(40, 40, QImage.Format.Format_ARGB32)
    img.fill(QColor(color))
    tmp = path.with_name(f".{path.name}.tmp")
    assert img.save(str(tmp), "PNG")
    os.replace(tmp, path)


def pixel_at(window: MainWindow, position: Vec2) -> QColor:
    p = window.scene_view.scene_to_view(position).toPoint()
    return window.scene_view.grab().toImage().pixelColor(p.x(), p.y())


def is_color(c: QColor, name: str) -> bool:
    want = QColor(name)
    return (
        abs(c.red() - want.red()) < 8
        and abs(c.green() - want.green()) < 8
        and abs(c.blue() - want.blue()) < 8
    )


def add_sprite(window: MainWindow, rel: str) -> Vec2:
    where = Vec2(0, 0)
    window.edited_scene.spawn(
        "Sprite",
        position=where,
        visual=Visual(VisualKind.IMAGE, size=Vec2(40, 40), image=rel, z=99),
    )
    window.scene_view.update()
    return where


def rows(window: MainWindow, text: str, level: int = logging.INFO) -> list[str]:
    return [e.message for e in window.log_panel.entries if text in e.message and e.level >= level]


def test_a_changed_image_reloads_in_the_view_and_a_broken_one_keeps_the_old(
    qtbot, window: MainWindow, project: Path
) -> None:
    image = project / "assets" / "tile.png"
    write_image(image, "#ff0000")
    where = add_sprite(window, "tile.png")
    qtbot.waitUntil(lambda: is_color(pixel_at(window, where), "#ff0000"), timeout=WAIT)

    write_image(image, "#0000ff")
    qtbot.waitUntil(lambda: is_color(pixel_at(window, where), "#0000ff"), timeout=WAIT)
    assert rows(window, "image reloaded: tile.png")

    tmp = image.with_name(".tile.png.tmp")
    tmp.write_bytes(b"\x89PNG\r\n\x1a\n but the rest is not an image")
    os.replace(tmp, image)
    qtbot.waitUntil(
        lambda: bool(rows(window, "tile.png not reloaded", logging.ERROR)), timeout=WAIT
    )
    [row] = rows(window, "tile.png not reloaded", logging.ERROR)
    assert "the old one is kept" in row
    window.scene_view.repaint()
    assert is_color(pixel_at(window, where), "#0000ff")


def test_a_changed_image_reloads_in_the_in_editor_game(
    qtbot, window: MainWindow, project: Path
) -> None:
    image = project / "assets" / "tile.png"
    write_image(image, "#ff0000")
    where = add_sprite(window, "tile.png")
    window.play()
    assert window.play_state is PlayState.PLAYING
    qtbot.waitUntil(lambda: is_color(pixel_at(window, where), "#ff0000"), timeout=WAIT)
    write_image(image, "#00ff00")
    qtbot.waitUntil(lambda: is_color(pixel_at(window, where), "#00ff00"), timeout=WAIT)
    assert window.play_state is PlayState.PLAYING
    window.stop()


def test_the_edited_scene_changed_on_disk_asks_reload_or_keep(
    qtbot, window: MainWindow, project: Path
) -> None:
    scene_file = window.scene_path
    assert scene_file is not None
    asked: list[Path] = []
    window.document.ask_changed_on_disk = lambda p: asked.append(p) or DiskChoice.CANCEL
    window.add_entity()  # an unsaved edit: the user chooses
    count = len(window.edited_scene)
    text = scene_file.read_text()
    scene_file.write_text(text.replace('"name": "', '"name": "X', 1))
    qtbot.waitUntil(lambda: asked == [scene_file], timeout=WAIT)
    assert len(window.edited_scene) == count and window.is_modified  # kept mine

    window.document.ask_changed_on_disk = lambda p: asked.append(p) or DiskChoice.RELOAD
    scene_file.write_text(text.replace('"name": "', '"name": "Y', 1))
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: not window.is_modified, timeout=WAIT)
    assert len(window.edited_scene) == count - 1


def test_a_scene_changed_while_playing_is_asked_about_after_stop(qtbot, window: MainWindow) -> None:
    scene_file = window.scene_path
    assert scene_file is not None
    asked: list[Path] = []
    window.document.ask_changed_on_disk = lambda p: asked.append(p) or DiskChoice.CANCEL
    window.add_entity()
    window.play()
    scene_file.write_text(scene_file.read_text().replace('"name": "', '"name": "X', 1))
    qtbot.waitUntil(lambda: bool(rows(window, "you are asked after Stop")), timeout=WAIT)
    assert window.play_state is PlayState.PLAYING and asked == []
    window.stop()
    assert asked == [scene_file]


def test_release_shows_build_then_play_when_code_changes(
    qtbot, window: MainWindow, project: Path
) -> None:
    combo = window.findChild(QComboBox, "buildProfileCombo")
    combo.setCurrentIndex(combo.findData(BuildProfile.RELEASE.value))
    assert window.profile is BuildProfile.RELEASE
    source = project / "plugins" / "bouncy" / "ball.py"
    source.write_text(source.read_text() + "\n# edited\n")
    qtbot.waitUntil(window.banner.isVisible, timeout=WAIT)
    assert window.banner.text() == "code changed — Build, then Play"


def test_a_failed_build_row_names_the_first_error(window: MainWindow, project: Path) -> None:
    (project / "plugins" / "bouncy" / "broken.py").write_text("x = = 1\n")
    (project / "plugins" / "bouncy" / "worse.py").write_text("def (\n")
    assert not window.build()
    [entry] = [e for e in window.log_panel.entries if e.message.startswith("build failed")]
    first_line = entry.message.splitlines()[0]
    assert "broken.py:1:5: error:" in first_line and first_line.endswith("(and 1 more)")
