"""Engine-owned callbacks: timers, subscriptions and messages, held as (owner, method name)."""

from __future__ import annotations

from typing import Any

import pytest

from runtime.callbacks import CallbackError, decompose
from runtime.game import Game

from .conftest import entity, script

CLOCK = {
    "__init__.py": """
        from runtime import Plugin

        class Clock(Plugin):
            heard: list = []

            def on_init(self, ctx):
                ctx.subscribe("tick", self.on_tick)
                ctx.subscribe("tick", "on_tick_by_name")

            def on_tick(self, ctx, payload):
                self.heard.append(("bound", payload, ctx.frame))

            def on_tick_by_name(self, ctx, payload):
                self.heard.append(("named", payload, ctx.frame))
    """,
    "timers.py": """
        from runtime import Script
        from runtime.callbacks import CallbackError

        def free_function(ctx):
            pass

        class Timed(Script):
            fired: list = []
            refused: list = []
            every_id: int = 0

            def on_init(self, ctx):
                ctx.after(0.5, self.once, "half")
                ctx.after(1.0, "once", "one")
                self.every_id = ctx.every(0.25, self.repeat)
                doomed = ctx.after(0.1, self.once, "never")
                assert ctx.cancel(doomed) is True
                assert ctx.cancel(doomed) is False
                for bad in (lambda c: None, free_function, print, "no_such_method"):
                    try:
                        ctx.after(1.0, bad)
                    except CallbackError as exc:
                        self.refused.append(str(exc))

            def once(self, ctx, label):
                self.fired.append((label, ctx.frame))

            def repeat(self, ctx):
                self.fired.append(("repeat", ctx.frame))
                if len([f for f in self.fired if f[0] == "repeat"]) == 3:
                    ctx.cancel(self.every_id)

        class Talker(Script):
            target: int = 0
            inbox: list = []

            def on_update(self, ctx, dt):
                if ctx.frame == 2:
                    ctx.send(self.target, {"from": int(ctx.handle), "frame": ctx.frame})
                    ctx.emit("tick", int(ctx.handle))

            def on_message(self, ctx, message):
                self.inbox.append((message, ctx.frame, int(ctx.handle)))
                if not message.get("reply"):
                    reply = {"from": int(ctx.handle), "frame": ctx.frame, "reply": True}
                    ctx.send(message["from"], reply)

        class Listener(Script):
            heard: list = []

            def on_init(self, ctx):
                ctx.subscribe("tick", self.hear)

            def hear(self, ctx, payload):
                self.heard.append((payload, ctx.frame))

            def on_update(self, ctx, dt):
                if ctx.frame == 3:
                    ctx.after(0.1, self.hear, "late")
                    ctx.destroy()
    """,
}


@pytest.fixture
def clock(make_project: Any) -> Any:
    return make_project(
        plugins={"clock": CLOCK},
        scene=[
            entity(1, "T", scripts=[script("clock.timers:Timed")]),
            entity(2, "A", scripts=[script("clock.timers:Talker", target=3)]),
            entity(3, "B", scripts=[script("clock.timers:Talker", target=2)]),
            entity(4, "L", scripts=[script("clock.timers:Listener")]),
        ],
    )


def test_timers_fire_at_game_time_and_cancel(clock: Any) -> None:
    with Game(clock, fixed_dt=0.125) as game:
        timed = game.scene[1].scripts[0]
        game.step(12)  # 1.5 s
        # Time is advanced before timers fire: a timer due at t fires in the frame
        # whose end time is t (frame numbers count from 0).
        assert timed.fired == [
            ("repeat", 1),
            ("half", 3),
            ("repeat", 3),
            ("repeat", 5),
            ("one", 7),
        ]
        assert game.callbacks.live_timers() == []


def test_lambdas_free_functions_and_unknown_names_are_refused(clock: Any) -> None:
    with Game(clock) as game:
        refused = game.scene[1].scripts[0].refused
        assert len(refused) == 4
        assert "is not a method of a script or plugin" in refused[0]
        assert "is not a method of a script or plugin" in refused[1]
        assert "is not a method of a script or plugin" in refused[2]
        assert refused[3] == "Timed has no method 'no_such_method'"


def test_decompose_directly() -> None:
    from runtime.scripting import Script

    class S(Script):
        def go(self, ctx: Any) -> None:
            pass

    s = S()
    assert decompose(None, s.go) == (s, "go")
    assert decompose(s, "go") == (s, "go")
    with pytest.raises(CallbackError, match="needs an owner"):
        decompose(None, "go")
    with pytest.raises(CallbackError):
        decompose(s, S.go)  # an unbound function


def test_messages_and_events(clock: Any) -> None:
    with Game(clock) as game:
        a, b = game.scene[2].scripts[0], game.scene[3].scripts[0]
        game.step(5)
        # Sent in frame 2, delivered at the end of frame 2; replies wait for frame 3.
        assert ({"from": 2, "frame": 2}, 2, 3) in b.inbox
        assert ({"from": 3, "frame": 2}, 2, 2) in a.inbox
        assert ({"from": 3, "frame": 2, "reply": True}, 3, 2) in a.inbox
        assert ({"from": 2, "frame": 2, "reply": True}, 3, 3) in b.inbox
        assert len(a.inbox) == len(b.inbox) == 2
        heard = game.plugin("clock").heard
        assert sorted(heard) == sorted(
            [("bound", 2, 2), ("named", 2, 2), ("bound", 3, 2), ("named", 3, 2)]
        )


def test_callbacks_of_destroyed_entities_are_dropped(clock: Any) -> None:
    with Game(clock) as game:
        listener = game.scene[4].scripts[0]
        game.step(3)
        assert listener.heard == [(2, 2), (3, 2)]
        subs_before = len(game.callbacks.subscriptions)
        game.step(1)  # frame 3: schedules a timer, then destroys itself
        assert 4 not in game.scene
        assert len(game.callbacks.subscriptions) == subs_before - 1
        game.step(20)
        assert listener.heard == [(2, 2), (3, 2)]
        assert not any(t.owner is listener for t in game.callbacks.live_timers())


def test_messages_to_missing_entities_are_dropped(clock: Any) -> None:
    with Game(clock) as game:
        rs = game.running_scene(game.scene)
        assert rs is not None
        rs.ctx.entity = game.scene[2]
        rs.ctx.send(99, "nobody")
        game.step(1)
        assert game.callbacks.messages == []


def test_every_needs_a_positive_interval(clock: Any) -> None:
    with Game(clock) as game:
        ctx = game._plugin_ctx
        ctx.owner = game.plugin("clock")
        with pytest.raises(ValueError, match="must be positive"):
            ctx.every(0, "on_tick")


def test_stop_clears_callbacks(clock: Any) -> None:
    with Game(clock) as game:
        game.step(1)
        assert game.callbacks.live_timers()
        game.stop()
        assert game.callbacks.live_timers() == []
        assert game.callbacks.subscriptions == []
        assert (game.frame, game.time) == (0, 0.0)


FLAKY_PLUGIN = """
from runtime import Plugin

class Flaky(Plugin):
    calls: int = 0

    def on_init(self, ctx):
        ctx.every(0.1, self.tick)
        ctx.subscribe("poke", self.poked)

    def tick(self, ctx):
        self.calls += 1
        raise RuntimeError("tick failed")

    def poked(self, ctx, payload):
        self.calls += 100
"""


def test_a_plugin_callback_that_raises_pauses_the_plugin(
    make_project: Any, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_project(plugins={"flaky": FLAKY_PLUGIN}, scene=[])
    with Game(root) as game:
        game.step(60)  # ten timer periods
        game.emit("poke")
        game.step(1)
        assert game.plugin("flaky").calls == 1  # raised once, then paused
        errors = [r.getMessage() for r in caplog.records if "tick failed" in r.getMessage()]
        assert len(errors) == 1
        assert "flaky raised in tick and is paused" in errors[0]
        assert "plugins/flaky/__init__.py:12" in errors[0]
