"""The player window: a changed image reloads in it, a failed reload shows as an overlay line."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from runtime import BuildProfile, Game
from runtime.player import PlayerSession
from runtime.qt.player_window import PlayerWindow

from .conftest import entity, script, write_project

SCRIPT = """
from runtime import Script


class Idle(Script):
    n: int = 0

    def on_update(self, ctx, dt):
        self.n += 1
"""


def _save(path: Path, color: str) -> None:
    img = QImage(40, 40, QImage.Format.Format_ARGB32)
    img.fill(QColor(color))
    assert img.save(str(path), "PNG")


@pytest.fixture
def game(qapp, tmp_path: Path) -> Iterator[Game]:
    sprite = {"kind": "image", "size": [200, 200], "image": "tile.png"}
    root = write_project(
        tmp_path / "project",
        plugins={"game": {"idle.py": SCRIPT}},
        scene=[
            entity(1, "Tile", position=[0, 0], visual=sprite, scripts=[script("game.idle:Idle")])
        ],
    )
    _save(root / "assets" / "tile.png", "#ff0000")
    game = Game(root, profile=BuildProfile.DEBUG)
    yield game
    game.close()


def _centre(window: PlayerWindow) -> QColor:
    return window.grab().toImage().pixelColor(window.width() // 2, window.height() // 2)


def test_a_changed_image_reloads_in_the_window_and_a_broken_one_is_shown(qtbot, game: Game) -> None:
    out = io.StringIO()
    session = PlayerSession(game, out=out)
    window = PlayerWindow(session)
    qtbot.addWidget(window)
    window.resize(400, 300)
    window.show()
    qtbot.waitUntil(lambda: _centre(window).name() == "#ff0000", timeout=10_000)

    image = game.project.assets_dir / "tile.png"
    _save(image, "#00ff00")
    game.assets.post(["tile.png"])  # what the watcher does on a save
    qtbot.waitUntil(lambda: _centre(window).name() == "#00ff00", timeout=10_000)
    assert "image reloaded: tile.png" in out.getvalue()

    image.write_bytes(b"garbage")
    game.assets.post(["tile.png"])
    qtbot.waitUntil(lambda: "not reloaded" in window.problem, timeout=10_000)
    assert _centre(window).name() == "#00ff00"  # the old image is kept
    bottom = window.grab().toImage().pixelColor(3, window.height() - 3)
    assert bottom.red() > 120 and bottom.green() < 80  # the overlay line
    window.close()


def test_a_failed_code_reload_shows_as_an_overlay_line(qtbot, game: Game) -> None:
    session = PlayerSession(game, out=io.StringIO())
    window = PlayerWindow(session)
    qtbot.addWidget(window)
    window.resize(400, 300)
    window.show()
    source = game.project.plugins_dir / "game" / "idle.py"
    source.write_text(SCRIPT + "\nundefined_name\n")
    report = game.reload([str(source)])
    assert not report.ok
    assert window.problem.startswith("reload of game failed")
    window.repaint()
    bottom = window.grab().toImage().pixelColor(3, window.height() - 3)
    assert bottom.red() > 120 and bottom.green() < 80
    source.write_text(SCRIPT)
    assert game.reload([str(source)]).ok
    assert window.problem == ""
    window.close()
