"""Separate-process feedback: one row in the editor's log per failed save, per crash."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

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
