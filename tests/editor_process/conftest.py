"""Fixtures for the separate-process play tests: players that never outlive a test."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings

from editor.controllers.play import RUN_SEPARATE
from editor.main_window import MainWindow
from editor.player_process.process import PlayerProcess
from runtime import BuildProfile


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A child that exited but was not reaped yet is a zombie, not a running player.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


@contextmanager
def separate_process_editor(
    project: Path, settings_file: Path, profile: BuildProfile
) -> Iterator[tuple[MainWindow, PlayerProcess]]:
    """An editor set to play in a separate (headless) process; on exit it is closed, and
    the test fails if a player it started is still running."""
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    window = MainWindow(project, settings=settings, profile=profile, headless_player=True)
    window.ask_unsaved_changes = lambda: "discard"
    player = window.player
    window.run_target_combo.setCurrentText(RUN_SEPARATE)
    pids: list[int] = []
    player.started.connect(lambda: pids.append(player.pid or 0))
    window.show()
    yield window, player
    window.close()
    player.shutdown(timeout_ms=3000)
    assert not player.running
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not [pid for pid in pids if pid and _alive(pid)], "orphan player"


@pytest.fixture
def make_player(qtbot) -> Iterator[Callable[..., PlayerProcess]]:
    """Build `PlayerProcess` objects; after the test, shut them down and fail on an orphan."""
    players: list[PlayerProcess] = []
    pids: set[int] = set()

    def make(**kwargs: Any) -> PlayerProcess:
        kwargs.setdefault("stop_timeout_ms", 2000)
        player = PlayerProcess(**kwargs)
        player.started.connect(lambda p=player: pids.add(p.pid) if p.pid else None)
        players.append(player)
        return player

    yield make
    was_running = [p for p in players if p.running]
    for p in players:
        p.shutdown(timeout_ms=3000)
    leftover = [pid for pid in pids if _alive(pid)]
    for pid in leftover:  # never leave one behind, even when failing
        os.kill(pid, 9)
    for p in players:
        p.deleteLater()
    assert not leftover, f"player processes outlived their PlayerProcess: {leftover}"
    assert not was_running, "a test left its player running (stop it and wait for finished)"
