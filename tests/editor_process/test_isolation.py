"""Crash isolation: a game that hangs or floods the channel never freezes the editor."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from editor.log_panel import MAX_RECORDS
from editor.main_window import MainWindow
from editor.play import PlayState
from editor.player_process.channel_server import ChannelServer
from editor.player_process.install import UnresponsivePlayerPrompt
from editor.player_process.process import PlayerProcess
from runtime import BuildProfile
from runtime.channel import encode

from ..conftest import MAIN_SCENE, entity, scene_data, script, write_project
from .conftest import separate_process_editor
from .test_player_process import PLUGIN, START, _connect, _hello, _scene

# Runs a few frames, then never returns from one: the player's loop is stuck for good.
HANG = """
import logging
from runtime import Script


class Hang(Script):
    frames: int = 0

    def on_update(self, ctx, dt):
        self.frames += 1
        if self.frames == 30:
            logging.getLogger("hang").warning("hanging")
            while True:
                pass
"""

# Stalls once for longer than the editor's limit, then runs on; hangs for good later.
STALL = """
import logging
import time
from runtime import Script


class Stall(Script):
    frames: int = 0

    def on_update(self, ctx, dt):
        self.frames += 1
        if self.frames == 20:
            logging.getLogger("stall").warning("stalling")
            time.sleep(2.5)
        if self.frames == 60:
            logging.getLogger("stall").warning("hanging")
            while True:
                pass
"""

# Takes its time to start: the game is loaded after the player said hello.
SLOW_START = """
import time
from runtime import Plugin


class Game(Plugin):
    def on_init(self, ctx):
        time.sleep(1.5)
"""

FLOOD_FRAMES = 40
FLOOD_LINES = 1000

# Logs FLOOD_LINES lines on each of its first FLOOD_FRAMES frames.
FLOOD = f"""
import logging
from runtime import Script

log = logging.getLogger("flood")


class Flood(Script):
    frames: int = 0

    def on_update(self, ctx, dt):
        self.frames += 1
        if self.frames <= {FLOOD_FRAMES}:
            for i in range({FLOOD_LINES}):
                log.warning("frame %d line %d", self.frames, i)
"""


class Ticker:
    """A 10 ms timer that counts its ticks: proof that the editor's event loop turns."""

    def __init__(self, on_tick: Callable[[], None] | None = None) -> None:
        self.ticks = 0
        self._on_tick = on_tick
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.ticks += 1
        if self._on_tick is not None:
            self._on_tick()

    def stop(self) -> None:
        self.timer.stop()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "project",
        plugins={
            "game": {"__init__.py": PLUGIN, "hang.py": HANG, "stall.py": STALL, "flood.py": FLOOD}
        },
        scene=[entity(1, "Hanger", scripts=[script("game.hang:Hang")])],
        # These games must really hang (the editor's side is under test): without this,
        # the player's own budget (runtime.guard) would interrupt their loops after 2 s.
        toml=f"[project]\nmain_scene = {json.dumps(MAIN_SCENE)}\n[budget]\nseconds = 0\n",
    )


@pytest.fixture
def editor(qtbot, tmp_path: Path, project: Path) -> Iterator[tuple[MainWindow, PlayerProcess]]:
    with separate_process_editor(project, tmp_path / "editor.ini", BuildProfile.DEBUG) as both:
        yield both


# --- hangs ---------------------------------------------------------------------------------


def test_a_hung_game_is_noticed_and_the_offer_kills_it(
    qtbot, editor: tuple[MainWindow, PlayerProcess]
) -> None:
    window, player = editor
    player.unresponsive_after_ms = 1500
    prompt = window.findChild(UnresponsivePlayerPrompt, "unresponsivePlayerPrompt")
    assert prompt is not None and not prompt.asking
    with qtbot.waitSignal(
        player.log_record, timeout=START, check_params_cb=lambda r: r["message"] == "hanging"
    ):
        window.play()
    hung_at = time.monotonic()
    ticker = Ticker()
    try:
        with qtbot.waitSignal(player.unresponsive, timeout=10_000) as silent:
            pass
    finally:
        ticker.stop()
    noticed_after = time.monotonic() - hung_at
    assert 1.0 <= silent.args[0] < 10 and noticed_after < 10
    # The editor went on turning its event loop all along (10 ms ticks over >= 1 s).
    assert ticker.ticks >= 10
    assert window.play_state is PlayState.PLAYING and player.is_unresponsive
    status = window.status.message
    assert "the game is not answering" in status.text() and "Stop kills it" in status.text()
    assert status.property("kind") == "error"
    assert prompt.asking and not prompt.box.isModal()

    with qtbot.waitSignal(player.finished, timeout=5000) as done:
        prompt.kill_button.click()  # what the user does; `prompt.answer(kill=True)` is the same
    assert done.args[0] == -9 and player.stop_requested
    assert not player.running and not player.is_unresponsive
    qtbot.waitUntil(lambda: window.play_state is PlayState.STOPPED, timeout=5000)
    assert not prompt.asking
    assert window.run_target_combo.isEnabled()  # back in edit mode, fully usable
    assert any("killed the game" in e.message for e in window.log_panel.entries)


def test_a_stall_then_recovery_and_stop_kills_a_hung_game_at_once(
    qtbot, make_player: Callable[..., PlayerProcess], project: Path
) -> None:
    # A long stop timeout: were the hung player asked to stop first, `finished` would be late.
    player = make_player(unresponsive_after_ms=1000, tree_interval_ms=200, stop_timeout_ms=20_000)
    events: list[str] = []
    player.unresponsive.connect(lambda s: events.append("unresponsive"))
    player.responsive.connect(lambda: events.append("responsive"))
    stall = _scene(project, "stall", "game.stall:Stall")
    with qtbot.waitSignal(
        player.log_record, timeout=START, check_params_cb=lambda r: r["message"] == "stalling"
    ):
        player.start(project, stall, BuildProfile.DEBUG, headless=True)
    with qtbot.waitSignal(player.unresponsive, timeout=5000):
        pass
    with qtbot.waitSignal(player.responsive, timeout=5000):
        pass  # the sleep ended: it answers again
    assert events == ["unresponsive", "responsive"] and not player.is_unresponsive

    with qtbot.waitSignal(
        player.log_record, timeout=START, check_params_cb=lambda r: r["message"] == "hanging"
    ):
        pass
    with qtbot.waitSignal(player.unresponsive, timeout=5000):
        pass
    with qtbot.waitSignal(player.finished, timeout=5000) as done:
        player.stop()
    assert done.args[0] == -9
    assert events == ["unresponsive", "responsive", "unresponsive"]


def test_a_paused_game_is_not_unresponsive(
    qtbot, make_player: Callable[..., PlayerProcess], project: Path
) -> None:
    # No tree requests: only the player's own statistics (once a second) keep it heard.
    player = make_player(unresponsive_after_ms=1500, tree_interval_ms=0)
    idle = project / "assets" / "idle.scene.json"
    idle.write_text(json.dumps(scene_data(entity(1, "Idle"))))
    with qtbot.waitSignal(player.connected, timeout=START):
        player.start(project, idle, BuildProfile.DEBUG, headless=True)
    player.pause()
    with qtbot.waitSignal(player.stats, timeout=5000, check_params_cb=lambda s: s["paused"]):
        pass
    with qtbot.assertNotEmitted(player.unresponsive, wait=3500):
        pass
    with qtbot.waitSignal(player.finished, timeout=START) as done:
        player.stop()
    assert done.args[0] == 0


def test_a_slow_start_is_not_a_hang(
    qtbot, make_player: Callable[..., PlayerProcess], tmp_path: Path, monkeypatch
) -> None:
    from editor.player_process import hang

    # Silence allowed before the first message: the grace (here 4 s), not the 0.5 s limit.
    monkeypatch.setattr(hang, "STARTUP_GRACE_MS", 4000)
    slow = write_project(
        tmp_path / "slow", plugins={"game": {"__init__.py": SLOW_START}}, scene=[entity(1, "A")]
    )
    player = make_player(unresponsive_after_ms=500, tree_interval_ms=200)
    with qtbot.waitSignal(player.connected, timeout=START):
        player.start(slow, None, BuildProfile.DEBUG, headless=True)
    # Its loop runs once the game is loaded: it answers the tree request sent at hello.
    with qtbot.assertNotEmitted(player.unresponsive), qtbot.waitSignal(player.tree, timeout=START):
        pass
    with qtbot.waitSignal(player.finished, timeout=START) as done:
        player.stop()
    assert done.args[0] == 0


# --- floods ----------------------------------------------------------------------------------


def test_a_log_flood_is_rate_limited_and_the_editor_keeps_turning(
    qtbot, editor: tuple[MainWindow, PlayerProcess], project: Path
) -> None:
    window, player = editor
    player.max_log_rate = 100
    stats: list[dict[str, Any]] = []
    player.stats.connect(stats.append)
    flood = _scene(project, "flood", "game.flood:Flood")
    assert window.open_scene(flood, ask=False)
    panel = window.log_panel
    panel.clear()
    backlogged_ticks = 0

    def on_tick() -> None:
        nonlocal backlogged_ticks
        server = player._server
        if server is not None and server.backlog:
            backlogged_ticks += 1

    with qtbot.waitSignal(player.connected, timeout=START):
        window.play()
    started = time.monotonic()
    ticker = Ticker(on_tick)
    try:
        # Statistics sent after the flood arrive after it: the whole flood went through.
        qtbot.waitUntil(lambda: bool(stats) and stats[-1]["frame"] > FLOOD_FRAMES, timeout=START)
    finally:
        ticker.stop()
    elapsed = time.monotonic() - started
    qtbot.waitUntil(
        lambda: any("log messages from the player dropped" in e.message for e in panel.entries),
        timeout=5000,
    )
    flood_lines = [e for e in panel.entries if e.source == "player: flood"]
    # About 100 a second got through, of the 40,000 sent.
    assert 0 < len(flood_lines) <= 100 * (elapsed + 2)
    assert player.dropped_records > 0
    assert ticker.ticks >= 10
    print(
        f"\nlog flood: {elapsed:.2f} s, {ticker.ticks} ticks ({backlogged_ticks} with a backlog), "
        f"{len(flood_lines)} shown, {player.dropped_records} dropped by the editor"
    )
    with qtbot.waitSignal(player.finished, timeout=START) as done:
        window.stop()
    assert done.args[0] == 0


def test_a_log_flood_without_a_rate_limit_stays_within_the_log_panel_cap(
    qtbot, editor: tuple[MainWindow, PlayerProcess], project: Path
) -> None:
    window, player = editor
    player.max_log_rate = 1_000_000
    stats: list[dict[str, Any]] = []
    player.stats.connect(stats.append)
    assert window.open_scene(_scene(project, "flood", "game.flood:Flood"), ask=False)
    with qtbot.waitSignal(player.connected, timeout=START):
        window.play()
    ticker = Ticker()
    try:
        qtbot.waitUntil(lambda: bool(stats) and stats[-1]["frame"] > FLOOD_FRAMES, timeout=START)
    finally:
        ticker.stop()
    panel = window.log_panel
    flood_lines = [e for e in panel.entries if e.source == "player: flood"]
    assert len(flood_lines) > MAX_RECORDS // 2  # the panel really was flooded...
    assert len(panel.entries) <= MAX_RECORDS  # ...and kept only its newest messages
    assert panel.table.topLevelItemCount() <= MAX_RECORDS
    assert ticker.ticks >= 5
    with qtbot.waitSignal(player.finished, timeout=START):
        window.stop()


def test_a_flooding_client_is_read_in_bounded_turns(qtbot) -> None:
    """A rogue child sends valid frames as fast as it can: the editor reads them a few at a time."""
    count = 30_000
    server = ChannelServer("the-token", max_frames_per_turn=50)
    address = server.listen()
    messages: list[Any] = []
    server.message.connect(messages.append)
    seen = {"backlogged_ticks": 0, "max_backlog": 0}

    def on_tick() -> None:
        backlog = server.backlog
        seen["max_backlog"] = max(seen["max_backlog"], backlog)
        if backlog:
            seen["backlogged_ticks"] += 1

    client = _connect(address)
    blob = b"".join(
        encode("log", level=30, logger="flood", message=f"line {i}", created=0.0)
        for i in range(count)
    )
    sender_error: list[BaseException] = []

    def send() -> None:
        try:
            client.sendall(blob)  # blocks when the editor reads slower: TCP back-pressure
        except OSError as exc:
            sender_error.append(exc)

    sender = threading.Thread(target=send, name="flooding-client")
    ticker = Ticker(on_tick)
    try:
        with qtbot.waitSignal(server.authenticated, timeout=5000):
            client.sendall(_hello("the-token"))
        started = time.monotonic()
        sender.start()
        qtbot.waitUntil(lambda: len(messages) == count, timeout=20_000)
        elapsed = time.monotonic() - started
        sender.join(5)
        assert not sender.is_alive() and not sender_error
        assert [m["message"] for m in messages[:: count // 10]] == [
            f"line {i}" for i in range(0, count, count // 10)
        ]
        assert messages[-1]["message"] == f"line {count - 1}"
        # The reader gave the event loop back with frames still queued, and the loop turned then.
        assert server.deferred_turns >= count // 50 // 4
        assert seen["backlogged_ticks"] >= 1
        # Qt's buffer is capped: the rest waited in the kernel, and in the sender.
        assert len(blob) > 2 * ChannelServer.READ_BUFFER
        bound = ChannelServer.READ_BUFFER + ChannelServer.READ_CHUNK + 64 * 1024
        assert seen["max_backlog"] <= bound
        print(
            f"\nraw flood: {count} frames ({len(blob) / 1e6:.1f} MB) in {elapsed:.2f} s, "
            f"{server.deferred_turns} deferred turns, {ticker.ticks} ticks "
            f"({seen['backlogged_ticks']} with a backlog), "
            f"max backlog {seen['max_backlog'] / 1024:.0f} KiB"
        )

        # The channel survived the flood, and closes cleanly.
        client.sendall(encode("error", message="still here"))
        qtbot.waitUntil(lambda: messages[-1].type == "error", timeout=5000)
        with qtbot.waitSignal(server.disconnected, timeout=5000):
            client.shutdown(socket.SHUT_RDWR)
            client.close()
    finally:
        ticker.stop()
        if sender.is_alive():
            client.close()
            sender.join(5)
        client.close()
        server.close()


def test_describe_exit_names_the_signal_and_shows_the_fatal_error_block():
    from editor.player_process.play_target import describe_exit

    tail = "\n".join(
        ["noise"] * 20
        + [
            "Fatal Python error: Segmentation fault",
            "",
            "Current thread 0x1 (most recent call first):",
            '  File "/p/plugins/game/boom.py", line 7 in on_update',
        ]
        + ['  File "<frozen runpy>", line 88 in _run_code'] * 30
    )
    text = describe_exit(-11, tail)
    assert text.startswith("the player exited with code -11 (SIGSEGV):")
    assert 'boom.py", line 7 in on_update' in text
    assert describe_exit(3, "a\nb") == "the player exited with code 3:\na\nb"
