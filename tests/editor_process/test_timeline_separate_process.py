"""The timeline and look-ahead when the game plays in a separate process."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from editor.controllers.look_ahead import EDITOR_DEFAULT_FRAMES
from editor.main_window import MainWindow
from editor.play import PlayState
from editor.player_process.process import PlayerProcess
from runtime import BuildProfile

from ..conftest import entity, script, write_project
from .conftest import separate_process_editor
from .test_player_process import COUNTER_V1, PLUGIN, START
from .test_player_process import _write_atomically as write_atomically

#: Counter's next version raises on its fourth frame: only a look-ahead sees it first.
COUNTER_RAISES_LATER = """
from runtime import Script, Vec2


class Counter(Script):
    count: int = 0
    label: str = "v1"
    frames_new: int = 0

    def on_update(self, ctx, dt):
        self.frames_new += 1
        self.count += 1
        ctx.entity.position = ctx.entity.position + Vec2(1 / (4 - self.frames_new), 0)
"""


@pytest.fixture
def editor(qtbot, tmp_path: Path) -> Iterator[tuple[MainWindow, PlayerProcess]]:
    root = write_project(
        tmp_path / "project",
        plugins={"game": {"__init__.py": PLUGIN, "counter.py": COUNTER_V1}},
        scene=[entity(1, "Mover", position=[0, 0], scripts=[script("game.counter:Counter")])],
    )
    with separate_process_editor(root, tmp_path / "editor.ini", BuildProfile.DEBUG_HR) as both:
        yield both


def test_the_timeline_is_disabled_for_a_separate_process_and_says_why(
    qtbot, editor: tuple[MainWindow, PlayerProcess]
) -> None:
    window, player = editor
    with qtbot.waitSignal(player.connected, timeout=START):
        window.play()
    assert window.play_state is PlayState.PLAYING
    bar = window.timeline.bar
    assert not bar.isEnabled()
    assert "separate process" in bar.toolTip() and "In editor" in bar.toolTip()
    assert not window.window_actions.timeline_start.isEnabled()
    assert not window.timeline.scrub(0)


def test_a_reload_the_player_refuses_ahead_is_one_log_row(
    qtbot, editor: tuple[MainWindow, PlayerProcess]
) -> None:
    window, player = editor
    reports: list[dict[str, Any]] = []
    player.reload_report.connect(reports.append)
    with qtbot.waitSignal(player.connected, timeout=START):
        window.play()
    # The project sets no look-ahead: the player gets the editor's, as the in-editor game does.
    args = player.last_arguments
    assert args[args.index("--look-ahead") + 1] == str(EDITOR_DEFAULT_FRAMES)
    qtbot.waitUntil(lambda: (window.play_controller.target.stats().get("frame") or 0) > 3)
    rows = len(window.log_panel.entries)

    with qtbot.waitSignal(player.reload_report, timeout=START):
        write_atomically(window.project.plugins_dir / "game" / "counter.py", COUNTER_RAISES_LATER)

    assert not reports[-1]["ok"]
    assert "refused" in reports[-1]["summary"] and "counter.py:13" in reports[-1]["summary"]
    qtbot.waitUntil(lambda: len(window.log_panel.entries) > rows, timeout=START)
    errors = [e for e in window.log_panel.entries[rows:] if e.level >= logging.ERROR]
    assert len(errors) == 1 and "counter.py:13" in errors[0].message
    assert window.play_state is PlayState.PLAYING
