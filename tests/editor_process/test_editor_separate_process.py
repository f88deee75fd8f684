"""End to end: the editor's main window playing in a separate process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from editor.main_window import MainWindow
from editor.play import PlayState
from editor.player_process.process import PlayerProcess
from editor.remote_tree import RemoteTreePanel
from runtime import BuildProfile

from ..conftest import entity, script, write_project
from .conftest import separate_process_editor
from .test_player_process import COUNTER_V1, COUNTER_V2, CRASH, PLUGIN, START, _fields
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


def test_play_edit_reload_and_remote_tree(qtbot, editor: tuple[MainWindow, PlayerProcess]):
    window, player = editor
    remote = window.findChild(RemoteTreePanel, "remoteTreePanel")
    trees: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    player.tree.connect(trees.append)
    player.reload_report.connect(reports.append)

    with qtbot.waitSignal(player.connected, timeout=START):
        window.play()
    assert window.play_state is PlayState.PLAYING
    qtbot.waitUntil(lambda: bool(trees) and _fields(trees[-1])["count"] >= 5, timeout=START)
    before = trees[-1]
    remote.select_handle(1)

    with qtbot.waitSignal(player.reload_report, timeout=START):
        write_atomically(window.project.plugins_dir / "game" / "counter.py", COUNTER_V2)
    assert reports[-1]["ok"]
    qtbot.waitUntil(lambda: "speed" in _fields(trees[-1]), timeout=START)
    after = _fields(trees[-1])
    assert after["label"] == "v2" and after["count"] > _fields(before)["count"]
    qtbot.waitUntil(
        lambda: ("game.counter:Counter.speed", "2") in remote.field_rows(), timeout=START
    )
    qtbot.waitUntil(lambda: "reloaded game" in window.status.message.text(), timeout=START)
    entries = [e.message for e in window.log_panel.entries]
    assert any("build succeeded (Debug (HR))" in m for m in entries)
    assert any(m == "debug=True" for m in entries)  # the player's log record, in the panel

    with qtbot.waitSignal(player.finished, timeout=START) as done:
        window.stop()
    assert done.args[0] == 0
    assert window.play_state is PlayState.STOPPED


def test_crash_is_reported_and_play_again_works(
    qtbot, editor: tuple[MainWindow, PlayerProcess]
) -> None:
    window, player = editor
    source = window.project.plugins_dir / "game" / "counter.py"
    # The running code calls os._exit(3) on frame 20 (Crash script on the Mover).
    write_atomically(
        source,
        COUNTER_V1.replace(
            "self.count += 1",
            "self.count += 1\n        if self.count == 20:\n"
            "            import os\n            os._exit(3)",
        ),
    )
    with qtbot.waitSignal(player.finished, timeout=START) as done:
        window.play()
    assert done.args[0] == 3
    qtbot.waitUntil(lambda: window.play_state is PlayState.STOPPED, timeout=START)
    assert "exited with code 3" in window.status.message.text()
    assert window.run_target_combo.isEnabled()  # back in edit mode, fully usable

    write_atomically(source, COUNTER_V1)
    with qtbot.waitSignal(player.connected, timeout=START):
        window.play()
    assert window.play_state is PlayState.PLAYING
    with qtbot.waitSignal(player.finished, timeout=START):
        window.stop()


def test_release_and_build_errors_through_the_window(
    qtbot, editor: tuple[MainWindow, PlayerProcess]
) -> None:
    window, player = editor
    (window.project.plugins_dir / "game" / "broken.py").write_text("x = = 1\n")
    window.profile_combo.setCurrentIndex(window.profile_combo.findData("release"))
    window.play()
    assert window.play_state is PlayState.STOPPED and not player.running
    assert "broken.py:1:5" in window.status.message.text()
    os.remove(window.project.plugins_dir / "game" / "broken.py")
    logs: list[dict[str, Any]] = []
    player.log_record.connect(logs.append)
    with qtbot.waitSignal(player.connected, timeout=START):
        window.play()
    assert player.last_arguments[0] == "-O"
    qtbot.waitUntil(lambda: any(r["message"] == "debug=False" for r in logs), timeout=START)
    with qtbot.waitSignal(player.finished, timeout=START):
        window.stop()
