"""Editing a game that runs in a separate process: Debug (HR) while playing, the live
inspector over the channel, picking, and keeping the changes after Stop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox, QToolButton

from editor.main_window import MainWindow
from editor.play import PlayState
from editor.player_process.process import PlayerProcess
from editor.remote_tree import RemoteTreePanel
from runtime import BuildProfile, Handle

from ..conftest import entity, script, write_project
from .conftest import separate_process_editor
from .test_player_process import COUNTER_V1, COUNTER_V2, PLUGIN, START, _fields
from .test_player_process import _write_atomically as write_atomically


@pytest.fixture
def editor(qtbot, tmp_path: Path) -> Iterator[tuple[MainWindow, PlayerProcess]]:
    root = write_project(
        tmp_path / "project",
        plugins={"game": {"__init__.py": PLUGIN, "counter.py": COUNTER_V1}},
        scene=[
            entity(1, "Mover", position=[0, 0], scripts=[script("game.counter:Counter")]),
            entity(2, "Other", position=[50, 0]),
        ],
    )
    with separate_process_editor(root, tmp_path / "editor.ini", BuildProfile.DEBUG) as both:
        yield both


def _play(qtbot, window: MainWindow, player: PlayerProcess) -> None:
    with qtbot.waitSignal(player.connected, timeout=START):
        window.play()
    assert window.play_state is PlayState.PLAYING
    qtbot.waitUntil(lambda: Handle(1) in window.scene_view.scene, timeout=START)


def test_the_users_order_in_a_separate_process(qtbot, editor) -> None:
    # Open the editor, press Play, pick Debug (HR), edit code, watch the scene update.
    window, player = editor
    trees: list[dict] = []
    player.tree.connect(trees.append)
    _play(qtbot, window, player)
    combo = window.findChild(QComboBox, "buildProfileCombo")
    assert combo.isEnabled()
    combo.setCurrentIndex(combo.findText("Debug (HR)"))
    assert window.play_state is PlayState.PLAYING  # the same child goes on
    with qtbot.waitSignal(player.reload_report, timeout=START) as report:
        write_atomically(window.project.plugins_dir / "game" / "counter.py", COUNTER_V2)
    assert report.args[0]["ok"]
    qtbot.waitUntil(lambda: _fields(trees[-1]).get("label") == "v2", timeout=START)
    window.select(Handle(1))  # the inspector shows the child's entity, new field included
    qtbot.waitUntil(lambda: "speed" in window.inspector.shown_fields(0), timeout=START)
    with qtbot.waitSignal(player.finished, timeout=START):
        window.stop()


def test_live_inspector_edits_the_child_and_keep_applies_after_stop(qtbot, editor) -> None:
    window, player = editor
    trees: list[dict] = []
    player.tree.connect(trees.append)
    _play(qtbot, window, player)
    remote = window.findChild(RemoteTreePanel, "remoteTreePanel")
    qtbot.waitUntil(lambda: remote.entity(1) is not None, timeout=START)
    remote.select_handle(1)  # selecting in the Remote tree selects in the editor
    assert window.selected_handle == Handle(1)
    insp = window.inspector
    assert insp.handle == Handle(1) and insp.mode == "playing"
    count = insp.script_field_editor(0, "count")
    first = count.value()
    qtbot.waitUntil(lambda: count.value() > first + 3, timeout=START)  # live values

    label = insp.script_field_editor(0, "label")
    label.line.setText("edited live")
    label.line.editingFinished.emit()
    qtbot.waitUntil(lambda: _fields(trees[-1])["label"] == "edited live", timeout=START)
    key = (Handle(1), "scripts", 0, "game.counter:Counter", "label")
    assert insp.change_mark(key) == "changed"
    insp.findChild(QToolButton, "keepEntityChangesButton").click()
    assert insp.change_mark(key) == "kept"

    player.picked.emit(2)  # what a click in the player window's pick mode sends
    assert window.selected_handle == Handle(2) and remote.selected_handle() == 2

    with qtbot.waitSignal(player.finished, timeout=START):
        window.stop()
    mover = window.edited_scene[Handle(1)]
    assert mover.scripts[0].label == "edited live"
    assert mover.scripts[0].count == 0  # only what was kept
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert mover.scripts[0].label == "v1"
