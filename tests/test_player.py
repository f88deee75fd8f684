"""The player: its window (offscreen), and the child process speaking the channel."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from runtime import BuildProfile, Game
from runtime.player import PlayerSession
from runtime.qt.keys import key_name
from runtime.qt.player_window import PlayerWindow

from .conftest import REPO_ROOT, entity, script
from .fake_editor import TIMEOUT, FakeEditor


@pytest.fixture
def sample_game() -> Iterator[Game]:
    game = Game(REPO_ROOT, profile=BuildProfile.DEBUG)
    yield game
    game.close()


def test_window_renders_the_scene_offscreen(qtbot, sample_game: Game, tmp_path: Path) -> None:
    session = PlayerSession(sample_game)
    window = PlayerWindow(session, show_fps=True)
    qtbot.addWidget(window)
    window.resize(640, 480)
    window.show()
    qtbot.waitUntil(lambda: window.painted >= 3 and session.frames_run >= 3, timeout=10_000)
    image = window.grab().toImage()
    image.save(str(tmp_path / "player.png"))
    colours = {image.pixel(x, y) for x in range(0, 640, 8) for y in range(0, 480, 8)}
    background = sample_game.scene.background
    assert len(colours) > 3  # not just the background: entities were drawn
    corner = image.pixelColor(630, 470)
    assert (corner.red(), corner.green(), corner.blue()) == tuple(background[:3])
    window.close()
    assert session.stop_requested


def test_window_feeds_the_keyboard_to_the_game(qtbot, sample_game: Game) -> None:
    window = PlayerWindow(PlayerSession(sample_game))
    qtbot.addWidget(window)
    window.show()
    qtbot.keyPress(window, Qt.Key.Key_Right)
    assert sample_game.input.is_down("right")
    qtbot.keyRelease(window, Qt.Key.Key_Right)
    assert not sample_game.input.is_down("right")
    qtbot.keyPress(window, Qt.Key.Key_A)
    qtbot.keyPress(window, Qt.Key.Key_Space)
    assert sample_game.input.keys_down == {"a", "space"}
    window.focusOutEvent(
        __import__("PySide6.QtGui").QtGui.QFocusEvent(
            __import__("PySide6.QtCore").QtCore.QEvent.Type.FocusOut
        )
    )
    assert not sample_game.input.keys_down
    assert key_name(Qt.Key.Key_Return) == "enter" and key_name(Qt.Key.Key_7) == "7"
    assert key_name(Qt.Key.Key_F13) is None
    window.close()


def test_window_stops_after_frames_and_session_pauses(qtbot, sample_game: Game) -> None:
    session = PlayerSession(sample_game)
    window = PlayerWindow(session, frames=5)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert session.frames_run == 5
    session.paused = True
    assert session.advance(3) == 0
    session.steps_requested = 2
    assert session.advance(3) == 2 and session.frames_run == 7


def test_windowed_player_process_opens_and_closes_cleanly() -> None:
    cmd = [
        sys.executable,
        "-m",
        "runtime",
        "play",
        "--project",
        str(REPO_ROOT),
        "--frames",
        "20",
        "--show-fps",
    ]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr


# --- the child process and its channel, with this test as the editor ----------------------


COUNTER = """
from runtime import Script, Vec2


class Counter(Script):
    count: int = 0

    def on_update(self, ctx, dt):
        self.count += 1
        ctx.entity.position = ctx.entity.position + Vec2(1, 0)
"""


def test_headless_child_speaks_the_channel(
    make_project: Callable[..., Path], editor_side: Callable[..., FakeEditor]
) -> None:
    root = make_project(
        plugins={"game": {"counter.py": COUNTER}},
        scene=[entity(1, "Mover", scripts=[script("game.counter:Counter")])],
    )
    fe = editor_side(root, "--profile", "debug")
    hello = fe.accept()
    assert hello["token"] == fe.token and hello["pid"] == fe.proc.pid
    assert hello["profile"] == "debug"
    stats = fe.next("stats")
    assert stats["entities"] == 1 and stats["fps"] > 0
    fe.send("pause")
    fe.next("stats", lambda m: m["paused"])
    fe.send("request_tree")
    first = fe.next("tree")
    fe.send("request_tree")
    assert fe.next("tree")["frame"] == first["frame"]  # paused: no frame ran
    fe.send("step", frames=2)
    fe.send("request_tree")
    tree = fe.next("tree")
    assert tree["frame"] == first["frame"] + 2
    (mover,) = tree["entities"]
    assert mover["name"] == "Mover" and mover["scripts"][0]["type"] == "game.counter:Counter"
    assert mover["scripts"][0]["fields"] == {"count": tree["frame"]}
    assert mover["position"][0] == pytest.approx(tree["frame"])
    fe.send("resume")
    fe.next("stats", lambda m: not m["paused"])
    fe.send("stop")
    assert fe.proc.wait(TIMEOUT) == 0


def test_child_exits_when_the_editor_goes_away(
    make_project: Callable[..., Path], editor_side: Callable[..., FakeEditor]
) -> None:
    root = make_project(plugins={"game": {"counter.py": COUNTER}})
    fe = editor_side(root)
    fe.accept()
    assert fe.conn is not None
    fe.conn.close()
    fe.conn = None
    assert fe.proc.wait(TIMEOUT) == 0


def test_child_failing_at_start_up_reports_and_exits_1(
    make_project: Callable[..., Path], editor_side: Callable[..., FakeEditor]
) -> None:
    root = make_project(scene='{"format": 1, "entities": [')  # a broken scene file
    fe = editor_side(root)
    fe.accept()
    error = fe.next("error")
    assert "main.scene.json" in error["message"]
    assert fe.proc.wait(TIMEOUT) == 1
    _, err = fe.proc.communicate(timeout=TIMEOUT)
    assert "hotplay: error:" in err


def test_child_crashing_mid_game_exits_with_its_code(
    make_project: Callable[..., Path], editor_side: Callable[..., FakeEditor]
) -> None:
    crash = """
    import os
    from runtime import Script

    class Crash(Script):
        frames: int = 0

        def on_update(self, ctx, dt):
            self.frames += 1
            if self.frames == 30:
                os._exit(3)
    """
    root = make_project(
        plugins={"game": {"crash.py": crash}},
        scene=[entity(1, "Bomb", scripts=[script("game.crash:Crash")])],
    )
    fe = editor_side(root, "--no-realtime")
    fe.accept()
    assert fe.proc.wait(TIMEOUT) == 3


def test_child_without_the_right_address_fails_cleanly(make_project: Callable[..., Path]) -> None:
    root = make_project()
    cmd = [
        sys.executable,
        "-m",
        "runtime",
        "play",
        "--project",
        str(root),
        "--headless",
        "--channel",
        "10.1.2.3:4000",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "only runs on this machine" in done.stderr
