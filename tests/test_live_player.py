"""The player's side of live editing: the editor's commands, and pick mode in its window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF, QSizeF, Qt

from runtime import BuildProfile, Game, Vec2
from runtime.channel import Message
from runtime.player import PlayerSession
from runtime.qt.player_window import PlayerWindow

from .conftest import REPO_ROOT, entity, script, write_project

BALL_V1 = """
from runtime import Script


class Ball(Script):
    speed: float = 1.0
    hits: int = 0

    def on_update(self, ctx, dt):
        self.hits += 0
"""

BALL_V2 = BALL_V1.replace("hits: int = 0", "hits: int = 0\n    version: int = 2")


class RecordingChannel:
    """Stands in for `runtime.channel.ChannelClient`: queued commands in, sent messages out."""

    def __init__(self) -> None:
        self.closed = False
        self.rejected: list[str] = []
        self.inbox: list[Message] = []
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def poll(self) -> list[Message]:
        out, self.inbox = self.inbox, []
        return out

    def send(self, msg_type: str, **payload: Any) -> None:
        self.sent.append((msg_type, payload))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "project",
        plugins={"game": {"__init__.py": "", "ball.py": BALL_V1}},
        scene=[entity(1, "Ball", position=[0, 0], scripts=[script("game.ball:Ball")])],
    )


def _session(project: Path, profile: BuildProfile) -> tuple[PlayerSession, RecordingChannel]:
    channel = RecordingChannel()
    # What run_player does for an editor's Debug child: note saves, apply none.
    game = Game(project, profile=profile, watch=True)
    return PlayerSession(game, channel), channel  # type: ignore[arg-type]


def test_live_edits_from_the_editor_apply_before_the_next_frame(project: Path) -> None:
    session, channel = _session(project, BuildProfile.DEBUG)
    with session.game:
        session.tick()
        channel.inbox = [
            Message("set_entity", {"handle": 1, "attribute": "position", "value": [5.0, 6.0]}),
            Message(
                "set_field",
                {
                    "handle": 1,
                    "script": 0,
                    "script_type": "game.ball:Ball",
                    "field": "hits",
                    "value": 7,
                },
            ),
            Message("set_entity", {"handle": 1, "attribute": "visual", "value": {"kind": "text"}}),
            Message("set_entity", {"handle": 99, "attribute": "name", "value": "x"}),  # gone
            Message("set_entity", {"handle": 1, "attribute": "parent", "value": 3}),  # refused
            Message("request_entity", {"handle": 1}),
        ]
        session.tick()
        ball = session.game.scene[1]
        assert ball.position == Vec2(5.0, 6.0) and ball.scripts[0].hits == 7
        assert ball.visual is not None and ball.visual.kind.value == "text"
        assert ball.parent == 0
        (reply,) = [p for t, p in channel.sent if t == "entity"]
        assert reply["handle"] == 1 and reply["entity"]["scripts"][0]["fields"]["hits"] == 7


def test_watch_on_applies_what_was_saved_before_and_off_stops_applying(project: Path) -> None:
    session, channel = _session(project, BuildProfile.DEBUG)
    with session.game:
        session.tick()
        (project / "plugins" / "game" / "ball.py").write_text(BALL_V2)
        session.game.queue_reload([str(project / "plugins" / "game" / "ball.py")])
        session.tick(3)
        assert not hasattr(session.game.scene[1].scripts[0], "version")  # Debug: waits
        channel.inbox = [Message("watch", {"on": True})]
        session.tick()
        assert session.game.profile is BuildProfile.DEBUG_HR
        assert session.game.scene[1].scripts[0].version == 2
        assert any(t == "reload" for t, _ in channel.sent)
        channel.inbox = [Message("watch", {"on": False})]
        session.tick()
        assert session.game.profile is BuildProfile.DEBUG


@pytest.fixture
def sample_game() -> Iterator[Game]:
    game = Game(REPO_ROOT, profile=BuildProfile.DEBUG)
    yield game
    game.close()


def test_pick_mode_sends_the_clicked_entity_to_the_editor(qtbot, sample_game: Game) -> None:
    channel = RecordingChannel()
    session = PlayerSession(sample_game, channel)  # type: ignore[arg-type]
    window = PlayerWindow(session)
    qtbot.addWidget(window)
    window.resize(640, 480)
    window.show()
    qtbot.waitUntil(lambda: window.painted >= 1)
    target = next(e for e in sample_game.scene if e.visual is not None and not e.parent)
    size = QSizeF(window.width(), window.height())
    spot = window.camera.scene_to_view(target.position, size)
    qtbot.mouseClick(window, Qt.MouseButton.LeftButton, pos=spot.toPoint())
    assert not [p for t, p in channel.sent if t == "pick"]  # not in pick mode: the game's
    qtbot.keyPress(window, Qt.Key.Key_F2)
    assert window.picking
    qtbot.keyPress(window, Qt.Key.Key_Right)
    assert not sample_game.input.is_down("right")  # keys are not the game's while picking
    qtbot.mouseClick(window, Qt.MouseButton.LeftButton, pos=spot.toPoint())
    picks = [p["handle"] for t, p in channel.sent if t == "pick"]
    assert len(picks) == 1 and picks[0] in sample_game.scene
    hit = window.renderer.hit_test(
        sample_game.scene, window.camera.view_to_scene(QPointF(spot), size)
    )
    assert picks[0] == int(hit)
    qtbot.keyPress(window, Qt.Key.Key_Escape)
    assert not window.picking
    window.close()
