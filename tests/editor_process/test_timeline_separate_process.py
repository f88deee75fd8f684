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
from .test_player_process import COUNTER_V1, COUNTER_V2, PLUGIN, START
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


def _kept(window: MainWindow, qtbot, frames: int):
    """Wait until the player has recorded `frames` frames and the bar shows them."""
    qtbot.waitUntil(
        lambda: (k := window.timeline.kept_range()) is not None and k.live - k.first >= frames,
        timeout=START,
    )
    kept = window.timeline.kept_range()
    assert kept is not None and window.timeline.bar.isEnabled()
    return kept


def _mover(scene) -> tuple[float, int]:
    e = scene.find("Mover")
    return e.position.x, e.scripts[0].count


def test_scrubbing_a_separate_process_game_shows_its_past_and_continue_live_rewinds(
    qtbot, editor: tuple[MainWindow, PlayerProcess]
) -> None:
    window, player = editor
    with qtbot.waitSignal(player.connected, timeout=START):
        window.play()
    kept = _kept(window, qtbot, 90)
    live_scene = window.play_controller.target.scene
    past = kept.live - 60

    assert window.timeline.scrub(past)
    qtbot.waitUntil(lambda: window.timeline.scrubbed_frame == past, timeout=START)

    assert window.play_state is PlayState.PAUSED
    shown = window.scene_view.scene
    assert shown is not live_scene
    # Counter moves one pixel and counts one a frame: at frame n it was at n, counting n.
    assert _mover(shown) == (float(past), past)
    assert window.inspector.mode == "preview"
    qtbot.waitUntil(lambda: _mover(live_scene)[1] >= kept.live, timeout=START)  # untouched

    window.timeline.continue_live()

    assert window.play_state is PlayState.PLAYING
    assert window.scene_view.scene is live_scene
    # The player went back to the frame shown and plays on from there.
    qtbot.waitUntil(lambda: _mover(live_scene)[1] < kept.live, timeout=START)
    x, count = _mover(live_scene)
    assert x == float(count)


def test_replay_from_here_in_a_separate_process_plays_the_recording_with_the_fix(
    qtbot, editor: tuple[MainWindow, PlayerProcess]
) -> None:
    window, player = editor
    reports: list[dict[str, Any]] = []
    player.reload_report.connect(reports.append)
    trees: list[dict[str, Any]] = []
    with qtbot.waitSignal(player.connected, timeout=START):
        window.play()
    kept = _kept(window, qtbot, 90)
    past = kept.live - 60
    window.timeline.scrub(past)
    qtbot.waitUntil(lambda: window.timeline.scrubbed_frame == past, timeout=START)
    with qtbot.waitSignal(player.reload_report, timeout=START):
        write_atomically(window.project.plugins_dir / "game" / "counter.py", COUNTER_V2)
    assert reports[-1]["ok"]
    player.tree.connect(trees.append)

    window.timeline.replay_from_here()

    assert window.play_state is PlayState.PLAYING
    # Every state is rebuilt from a keyframe under the current code: from the keyframe the
    # frame shown came from, the mover goes two pixels a frame (v2), not one.
    keyframe = max(k for k in kept.keyframes if k <= past)

    def moved_by_v2(tree: dict[str, Any]) -> bool:
        (mover,) = [e for e in tree["entities"] if e["handle"] == 1]
        count = mover["scripts"][0]["fields"]["count"]
        return mover["position"][0] == keyframe + 2.0 * (count - keyframe)

    qtbot.waitUntil(lambda: any(moved_by_v2(t) for t in trees), timeout=START)
    first = next(t for t in trees if moved_by_v2(t))
    # A replay, not a rewind: the recorded frames ran at once, up to where the game was.
    assert first["frame"] >= kept.live


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
