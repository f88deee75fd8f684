"""Separate process: one log row per bad save and per crash; images reload in the child."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QColor, QImage

from editor.main_window import MainWindow
from editor.play import PlayState
from editor.player_process.process import PlayerProcess
from runtime import BuildProfile

from ..conftest import entity, script, write_project
from .conftest import separate_process_editor
from .test_player_process import COUNTER_V1, CRASH, PLUGIN, START
from .test_player_process import _write_atomically as write_atomically


@pytest.fixture
def editor(qtbot, tmp_path: Path) -> Iterator[tuple[MainWindow, PlayerProcess]]:
    root = write_project(
        tmp_path / "project",
        plugins={"game": {"__init__.py": PLUGIN, "counter.py": COUNTER_V1, "crash.py": CRASH}},
        scene=[entity(1, "Mover", position=[0, 0], scripts=[script("game.counter:Counter")])],
    )
    with separate_process_editor(root, tmp_path / "editor.ini", BuildProfile.DEBUG_HR) as both:
        yield both


def _error_rows(window: MainWindow, since: int) -> list[str]:
    return [
        f"{e.source}: {e.message}"
        for e in window.log_panel.entries[since:]
        if e.level >= logging.ERROR
    ]


def test_one_bad_save_is_one_error_row(qtbot, editor: tuple[MainWindow, PlayerProcess]) -> None:
    window, player = editor
    with qtbot.waitSignal(player.connected, timeout=START):
        window.play()
    with qtbot.waitSignal(player.stats, timeout=START):
        pass  # a second of frames: the player's watcher runs
    since = len(window.log_panel.entries)
    with qtbot.waitSignal(player.reload_report, timeout=START):
        write_atomically(
            window.project.plugins_dir / "game" / "counter.py",
            COUNTER_V1 + "\nundefined_name\n",
        )
    # The editor's own reload of the save and the player's report: one row.
    rows = _error_rows(window, since)
    assert len(rows) == 1, rows
    assert "counter.py:13: NameError" in rows[0]
    with qtbot.waitSignal(player.finished, timeout=START):
        window.stop()


def test_a_crash_is_one_error_row(qtbot, editor: tuple[MainWindow, PlayerProcess]) -> None:
    window, player = editor
    write_atomically(
        window.project.plugins_dir / "game" / "counter.py",
        COUNTER_V1.replace(
            "self.count += 1",
            "self.count += 1\n        if self.count == 20:\n"
            "            import os\n            os._exit(3)",
        ),
    )
    since = len(window.log_panel.entries)
    with qtbot.waitSignal(player.finished, timeout=START):
        window.play()
    qtbot.waitUntil(lambda: window.play_state is PlayState.STOPPED, timeout=START)
    rows = _error_rows(window, since)
    assert len(rows) == 1, rows
    # With its last output (the plugin's warning on stderr), and no empty heading.
    assert "exited with code 3" in rows[0] and "debug=True" in rows[0]
    assert "its last output:" not in rows[0]


def test_the_player_reloads_a_changed_image_and_reports_it_once(qtbot, tmp_path: Path) -> None:
    red = _png("#ff0000")
    root = write_project(
        tmp_path / "project",
        plugins={"game": {"__init__.py": PLUGIN, "counter.py": COUNTER_V1}},
        scene=[entity(1, "Mover", position=[0, 0], scripts=[script("game.counter:Counter")])],
        assets={"tile.png": red},
    )
    with separate_process_editor(root, tmp_path / "editor.ini", BuildProfile.DEBUG_HR) as (
        window,
        player,
    ):
        heard: list[dict] = []
        player.asset_reload.connect(heard.append)
        with qtbot.waitSignal(player.connected, timeout=START):
            window.play()
        with qtbot.waitSignal(player.stats, timeout=START):
            pass  # a second of frames: the player's watcher runs
        image = root / "assets" / "tile.png"
        with qtbot.waitSignal(player.asset_reload, timeout=START):
            _replace(image, _png("#0000ff"))
        assert heard[-1] == {"path": "tile.png", "kind": "image", "error": ""}

        since = len(window.log_panel.entries)
        with qtbot.waitSignal(player.asset_reload, timeout=START):
            _replace(image, b"not an image at all")
        assert heard[-1]["error"] == "not an image file"
        rows = _error_rows(window, since)
        assert len(rows) == 1 and "tile.png not reloaded, the old one is kept" in rows[0]
        with qtbot.waitSignal(player.finished, timeout=START):
            window.stop()


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _png(color: str) -> bytes:
    img = QImage(8, 8, QImage.Format.Format_ARGB32)
    img.fill(QColor(color))
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert img.save(buffer, "PNG")
    return bytes(buffer.data().data())
