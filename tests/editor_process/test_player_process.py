"""Play as a separate process: PlayerProcess, its channel server and the Remote panel."""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import pytest

from editor.player_process.channel_server import ChannelServer
from editor.player_process.process import PlayerProcess
from editor.remote_tree import RemoteTreePanel
from runtime import BuildProfile
from runtime.channel import encode
from runtime.snapshot import packb

from ..conftest import MAIN_SCENE, entity, script, write_project

START = 30_000  # ms: a player start (Python, imports, Qt) on a slow CI machine

COUNTER_V1 = """
from runtime import Script, Vec2


class Counter(Script):
    count: int = 0
    label: str = "v1"

    def on_update(self, ctx, dt):
        self.count += 1
        ctx.entity.position = ctx.entity.position + Vec2(1, 0)
"""

COUNTER_V2 = """
from runtime import Script, Vec2


class Counter(Script):
    count: int = 0
    label: str = "v2"
    speed: float = 2.0

    def on_update(self, ctx, dt):
        self.count += 1
        ctx.entity.position = ctx.entity.position + Vec2(self.speed, 0)
"""

PLUGIN = """
import logging
from runtime import Plugin


class Game(Plugin):
    ticks: int = 0

    def on_init(self, ctx):
        logging.getLogger("game").warning("debug=%s", __debug__)

    def on_update(self, ctx, dt):
        self.ticks += 1
"""

CRASH = """
import os
from runtime import Script


class Crash(Script):
    frames: int = 0

    def on_update(self, ctx, dt):
        self.frames += 1
        if self.frames == 20:
            os._exit(3)
"""

HANG = """
import logging
from runtime import Script


class Hang(Script):
    def on_update(self, ctx, dt):
        logging.getLogger("hang").warning("hanging")
        while True:
            pass
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "project",
        plugins={
            "game": {
                "__init__.py": PLUGIN,
                "counter.py": COUNTER_V1,
                "crash.py": CRASH,
                "hang.py": HANG,
            }
        },
        scene=[entity(1, "Mover", position=[0, 0], scripts=[script("game.counter:Counter")])],
    )


def _scene(project: Path, name: str, type_id: str) -> Path:
    import json

    from ..conftest import scene_data

    path = project / "assets" / f"{name}.scene.json"
    path.write_text(json.dumps(scene_data(entity(1, name, scripts=[script(type_id)]))))
    return path


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _fields(tree: dict[str, Any], handle: int = 1) -> dict[str, Any]:
    (e,) = [e for e in tree["entities"] if e["handle"] == handle]
    return dict(e["scripts"][0]["fields"])


def test_debug_hr_reload_reaches_the_editor_and_the_remote_tree(
    qtbot, make_player: Callable[..., PlayerProcess], project: Path
) -> None:
    player = make_player(tree_interval_ms=100)
    panel = RemoteTreePanel()
    qtbot.addWidget(panel)
    panel.attach(player)
    trees: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    logs: list[dict[str, Any]] = []
    stats: list[dict[str, Any]] = []
    player.tree.connect(trees.append)
    player.reload_report.connect(reports.append)
    player.log_record.connect(logs.append)
    player.stats.connect(stats.append)

    with qtbot.waitSignal(player.connected, timeout=START) as hello:
        result = player.start(
            project, project / MAIN_SCENE, BuildProfile.DEBUG_HR, headless=True, quiet_ms=50
        )
        assert result.ok
    assert hello.args[0]["profile"] == "debug-hr"
    assert "--channel" in player.last_arguments and "-O" not in player.last_arguments
    qtbot.waitUntil(lambda: bool(trees) and _fields(trees[-1])["count"] >= 10, timeout=START)
    qtbot.waitUntil(lambda: any(r["message"] == "debug=True" for r in logs), timeout=START)
    before = trees[-1]
    assert _fields(before)["label"] == "v1"
    panel.select_handle(1)
    assert ("game.counter:Counter.label", "'v1'") in panel.field_rows()

    with qtbot.waitSignal(player.reload_report, timeout=START):
        _write_atomically(project / "plugins" / "game" / "counter.py", COUNTER_V2)
    report = reports[-1]
    assert report["ok"], report["details"]
    assert report["plugins"] == ["game"] and report["objects"] >= 2
    assert report["summary"].startswith("reloaded game")

    qtbot.waitUntil(lambda: "speed" in _fields(trees[-1]), timeout=START)
    after = trees[-1]
    fields = _fields(after)
    assert fields["label"] == "v2"  # it was at its old default: takes the new one
    assert fields["speed"] == 2.0  # a new field: its default
    # State carried across the reload: the counter and the position went on.
    assert fields["count"] > _fields(before)["count"]
    mover = next(e for e in after["entities"] if e["handle"] == 1)
    old = next(e for e in before["entities"] if e["handle"] == 1)
    assert mover["position"][0] > old["position"][0]
    plugin = after["plugins"][0]
    assert (
        plugin["name"] == "game"
        and plugin["fields"]["ticks"] >= before["plugins"][0]["fields"]["ticks"]
    )
    qtbot.waitUntil(
        lambda: ("game.counter:Counter.speed", "2") in panel.field_rows(), timeout=START
    )
    assert panel.selected_handle() == 1  # the selection survived the refreshes

    qtbot.waitUntil(lambda: bool(stats), timeout=START)
    assert stats[-1]["entities"] == 1 and "fps" in stats[-1] and "frame_ms" in stats[-1]

    with qtbot.waitSignal(player.finished, timeout=START) as done:
        player.stop()
    assert done.args[0] == 0
    assert not player.running
    assert panel.payload is None and "not running" in panel.header.text()


def test_pause_step_resume(qtbot, make_player: Callable[..., PlayerProcess], project: Path):
    player = make_player(tree_interval_ms=0)
    trees: list[dict[str, Any]] = []
    player.tree.connect(trees.append)
    with qtbot.waitSignal(player.connected, timeout=START):
        player.start(project, None, BuildProfile.DEBUG, headless=True)
    player.pause()
    with qtbot.waitSignal(player.stats, timeout=START, check_params_cb=lambda s: s["paused"]):
        pass
    with qtbot.waitSignal(player.tree, timeout=START):
        player.request_tree()
    frame = trees[-1]["frame"]
    player.step(3)
    with qtbot.waitSignal(player.tree, timeout=START):
        player.request_tree()
    assert trees[-1]["frame"] == frame + 3
    player.resume()
    with qtbot.waitSignal(player.stats, timeout=START, check_params_cb=lambda s: not s["paused"]):
        pass
    with qtbot.waitSignal(player.finished, timeout=START):
        player.stop()


def test_a_failed_build_stops_play_and_points_to_the_error(
    qtbot, make_player: Callable[..., PlayerProcess], project: Path
) -> None:
    player = make_player()
    broken = project / "plugins" / "game" / "counter.py"
    broken.write_text("def f(:\n")
    (project / "plugins" / "game" / "extra.py").write_text("x = = 1\n")
    errors: list[str] = []
    player.error.connect(errors.append)
    with qtbot.waitSignal(player.build_finished) as built:
        result = player.start(project, None, BuildProfile.DEBUG_HR, headless=True)
    assert built.args[0] is result and not result.ok and len(result.errors) == 2
    assert not player.running
    assert errors and f"{broken}:1:7" in errors[0]


def test_release_play_in_a_project_that_cannot_be_written_is_a_one_line_error(
    qtbot, make_player: Callable[..., PlayerProcess], project: Path
) -> None:
    (project / "build").write_text("not a folder\n")  # the output folder cannot be made
    player = make_player()
    errors: list[str] = []
    player.error.connect(errors.append)
    result = player.start(project, None, BuildProfile.RELEASE, headless=True)
    assert not result.ok and not player.running
    assert len(errors) == 1 and "cannot write the Release build" in errors[0]
    assert "\n" not in errors[0]


def test_start_up_failure_is_reported_and_play_works_again(
    qtbot, make_player: Callable[..., PlayerProcess], project: Path
) -> None:
    player = make_player()
    errors: list[str] = []
    player.error.connect(errors.append)
    bad = project / "assets" / "bad.scene.json"
    bad.write_text('{"format": 1, "entities": [')
    with qtbot.waitSignal(player.finished, timeout=START) as done:
        player.start(project, bad, BuildProfile.DEBUG, headless=True)
    code, tail = done.args
    assert code == 1
    assert "bad.scene.json" in tail and "hotplay: error:" in tail
    assert any("bad.scene.json" in e for e in errors)  # also sent over the channel
    assert not player.running

    with qtbot.waitSignal(player.connected, timeout=START):
        player.start(project, None, BuildProfile.DEBUG, headless=True)
    with qtbot.waitSignal(player.finished, timeout=START) as done:
        player.stop()
    assert done.args[0] == 0


def test_crash_mid_game_is_reported_and_play_works_again(
    qtbot, make_player: Callable[..., PlayerProcess], project: Path
) -> None:
    player = make_player()
    bomb = _scene(project, "bomb", "game.crash:Crash")
    with qtbot.waitSignal(player.finished, timeout=START) as done:
        player.start(project, bomb, BuildProfile.DEBUG_HR, headless=True)
    assert done.args[0] == 3
    assert player.last_exit_code == 3 and not player.stop_requested

    # An unsaved scene goes to a temporary file, removed when the player ends.
    from runtime import Game

    with Game(project, scene=False) as game:
        scene = game.load_scene(MAIN_SCENE)
    with qtbot.waitSignal(player.connected, timeout=START):
        player.start(project, scene, BuildProfile.DEBUG, headless=True)
    temp = Path(player.last_arguments[player.last_arguments.index("--scene") + 1])
    assert temp.is_file() and temp.parent.name.startswith("hotplay-play-")
    with qtbot.waitSignal(player.finished, timeout=START):
        player.stop()
    assert not temp.exists()


def test_stop_escalates_to_terminate_then_kill(
    qtbot, make_player: Callable[..., PlayerProcess], project: Path
) -> None:
    player = make_player(stop_timeout_ms=300)
    hang = _scene(project, "hang", "game.hang:Hang")
    with qtbot.waitSignal(
        player.log_record, timeout=START, check_params_cb=lambda r: r["message"] == "hanging"
    ):
        player.start(project, hang, BuildProfile.DEBUG, headless=True)
    with qtbot.waitSignal(player.finished, timeout=START) as done:
        player.stop()
    # Its frame never ends: neither the stop message nor SIGTERM's handler can run.
    assert done.args[0] == -9
    assert player.stop_requested


def test_release_plays_under_python_O_from_the_build(
    qtbot, make_player: Callable[..., PlayerProcess], project: Path
) -> None:
    player = make_player()
    logs: list[dict[str, Any]] = []
    player.log_record.connect(logs.append)
    with qtbot.waitSignal(player.connected, timeout=START):
        result = player.start(project, None, BuildProfile.RELEASE, headless=True)
    assert result.output_dir == project / "build" / "release"
    args = player.last_arguments
    assert args[0] == "-O" and args[args.index("--build-dir") + 1] == str(result.output_dir)
    qtbot.waitUntil(lambda: any(r["message"] == "debug=False" for r in logs), timeout=START)
    with qtbot.waitSignal(player.finished, timeout=START):
        player.stop()


def test_window_player_runs_offscreen(
    qtbot, make_player: Callable[..., PlayerProcess], project: Path
) -> None:
    player = make_player()
    stats: list[dict[str, Any]] = []
    player.stats.connect(stats.append)
    with qtbot.waitSignal(player.connected, timeout=START):
        player.start(project, None, BuildProfile.DEBUG, show_fps=True)
    assert "--headless" not in player.last_arguments
    qtbot.waitUntil(lambda: bool(stats) and stats[-1]["frame"] > 0, timeout=START)
    with qtbot.waitSignal(player.finished, timeout=START) as done:
        player.stop()
    assert done.args[0] == 0


# --- the channel server, with this test as a (rogue) child ---------------------------------


def _frame(obj: object) -> bytes:
    body = msgpack.packb(obj, use_bin_type=True)
    return struct.pack(">I", len(body)) + body


def _hello(token: str) -> bytes:
    return encode("hello", token=token, pid=os.getpid(), profile="debug")


def _connect(address: str) -> socket.socket:
    host, port = address.split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def test_channel_server_accepts_only_its_child_and_rejects_malformed_frames(qtbot) -> None:
    server = ChannelServer("the-token")
    address = server.listen()
    assert address.startswith("127.0.0.1:")
    rejected: list[str] = []
    messages: list[Any] = []
    server.rejected.connect(rejected.append)
    server.message.connect(messages.append)
    socks: list[socket.socket] = []
    try:
        # Garbage first, then a wrong token: both refused, the server keeps listening.
        socks.append(_connect(address))
        socks[-1].sendall(b"\x00\x00\x00\x05hello")
        qtbot.waitUntil(lambda: len(rejected) == 1, timeout=5000)
        socks.append(_connect(address))
        socks[-1].sendall(_hello("wrong"))
        qtbot.waitUntil(lambda: len(rejected) == 2, timeout=5000)
        assert "token" in rejected[1] and server.listening

        good = _connect(address)
        socks.append(good)
        with qtbot.waitSignal(server.authenticated, timeout=5000) as auth:
            good.sendall(_hello("the-token"))
        assert "token" not in auth.args[0] and auth.args[0]["pid"] == os.getpid()
        assert not server.listening  # bound to this one child now
        with pytest.raises(OSError):
            _connect(address).close()

        evil = msgpack.ExtType(7, packb(["os", "system", {"command": "touch pwned"}]))
        bad_frames = [
            _frame([1, 2, 3]),  # not a map
            _frame({"v": 9, "type": "log"}),  # wrong version
            _frame({"v": 1, "type": "stop"}),  # an editor command, not a player message
            _frame({"v": 1, "type": "error", "message": evil}),  # a class by name: never built
            struct.pack(">I", 3) + b"\xc1\xc1\xc1",  # not msgpack
        ]
        good.sendall(b"".join(bad_frames) + encode("error", message="fine"))
        qtbot.waitUntil(lambda: len(messages) == 1, timeout=5000)
        assert messages[0].type == "error" and messages[0]["message"] == "fine"
        assert len(rejected) == 2 + len(bad_frames)
        assert all("rejected a frame" in r for r in rejected[2:])
        assert not Path("pwned").exists()

        with qtbot.waitSignal(server.disconnected, timeout=5000):
            good.sendall(struct.pack(">I", 64 * 1024 * 1024))  # oversized: the stream is cut
        assert "exceeds" in rejected[-1]
        assert not server.connected
    finally:
        for s in socks:
            s.close()
        server.close()
