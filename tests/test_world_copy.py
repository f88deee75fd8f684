"""A copy of a game's world is what a keyframe written and read back would be, and apart."""

from __future__ import annotations

import itertools

import pytest

from runtime import Game
from runtime.history import LoadedClasses, capture_state, restore_state
from runtime.input import FrameInput
from runtime.scene import Entity
from runtime.world_copy import copy_world

from .conftest import entity, script

PARTS = """
import dataclasses
import enum

from runtime import Handle, Script, Vec2


class Mode(enum.Enum):
    CALM = 1
    WILD = 2


@dataclasses.dataclass
class Tuning:
    gain: float = 1.0
    marks: list = dataclasses.field(default_factory=list)


class Tagger(Script):
    other: Handle = Handle(0)
    tags: list[str] = []
    counts: dict[str, int] = {}
    tuning: Tuning = Tuning()
    mode: Mode = Mode.CALM

    def on_init(self, ctx):
        self.seen = []  # undeclared and mutable: its own copy too
        ctx.every(0.25, self.tick, [1, 2])
        ctx.subscribe("ping", self.pinged)

    def tick(self, ctx, pair):
        pair.append(ctx.frame)  # the timer's argument, changed in place
        self.counts[str(len(pair))] = ctx.frame
        ctx.emit("ping", {"at": ctx.frame})

    def pinged(self, ctx, payload):
        self.seen.append(payload["at"])
        ctx.send(self.other, {"from": "tagger", "frame": ctx.frame})

    def on_update(self, ctx, dt):
        self.tags.append(str(ctx.frame))
        self.tuning.marks.append(ctx.frame)
        self.mode = Mode.WILD if ctx.random.random() < 0.5 else Mode.CALM
        child = ctx.get(self.other)
        if child is not None:
            child.position = child.position + Vec2(1, 0)
            child.visual.z += 1


class Listener(Script):
    got: list = []

    def on_message(self, ctx, message):
        self.got.append(message)
        message["seen"] = True  # the payload, changed in place

    def on_update(self, ctx, dt):
        if ctx.frame % 7 == 3:
            ctx.spawn(f"Spark {ctx.frame}", scripts=[Spark()])


class Spark(Script):
    life: int = 0

    def on_update(self, ctx, dt):
        self.life += 1


class Broken(Script):
    def on_update(self, ctx, dt):
        raise RuntimeError("paused, and stays paused in the copy")
"""


@pytest.fixture
def mixed(make_project):
    """A project whose world holds every kind of state a copy must carry."""
    return make_project(
        plugins={"mix": {"parts.py": PARTS}},
        scene=[
            entity(
                1,
                "Parent",
                visual={"kind": "text", "text": "hi", "color": "#ff0000"},
                scripts=[script("mix.parts:Tagger", other=2), script("mix.parts:Broken")],
            ),
            entity(
                2,
                "Child",
                parent=1,
                position=[5, 5],
                visual={"kind": "ellipse"},
                scripts=[script("mix.parts:Listener")],
            ),
            entity(3, "Lost", scripts=[script("gone.mod:Missing", value=[3])]),
        ],
    )


def copied(game: Game):
    return copy_world(game, LoadedClasses(game), list(game.plugin_objects))


def read_back(game: Game):
    return restore_state(capture_state(game), LoadedClasses(game), None, game.plugin_objects)


def step_until_a_start_is_due(game: Game) -> None:
    """Step to a frame after which a spawned script's ``on_start`` is still to come."""
    for _ in range(10):
        game.step(1)
        if game.running_scenes[0]._to_start:
            return
    raise AssertionError("no spawn left a start due")


def held(frames: int):
    return itertools.repeat(FrameInput(frozenset()), frames)


def test_a_copy_is_the_state_a_keyframe_of_the_game_reads_back_as(mixed):
    with Game(mixed) as game:
        game.step(20)  # timers, subscriptions, messages, a paused script, sparks
        step_until_a_start_is_due(game)
        copy = game.scratch(copied(game), held(0))
        assert capture_state(copy) == capture_state(game)


def test_a_copy_plays_on_as_the_keyframe_read_back_does(mixed):
    with Game(mixed) as game:
        game.step(13)
        step_until_a_start_is_due(game)
        by_copy = game.scratch(copied(game), held(40))
        by_keyframe = game.scratch(read_back(game), held(40))
        assert by_copy.run_frames(40) == by_keyframe.run_frames(40) == 40
        assert capture_state(by_copy) == capture_state(by_keyframe)
        assert not by_copy.failures  # the paused script stayed paused


def test_frames_run_on_a_copy_leave_the_game_as_it_was(mixed):
    with Game(mixed) as game:
        game.step(13)
        before = capture_state(game)
        copy = game.scratch(copied(game), held(40))
        copy.run_frames(40)
        assert capture_state(copy) != before
        assert capture_state(game) == before  # no list, dict, payload or visual shared


def test_a_world_with_a_value_msgpack_cannot_hold_is_copied_as_a_keyframe_would_be(mixed, caplog):
    with Game(mixed) as game:
        game.step(5)
        parent = game.scene.find("Parent")
        parent.scripts[0].when_done = lambda: None  # cannot be recorded
        copy = copied(game)
        assert "mix.parts:Tagger.when_done cannot be recorded" in caplog.text
        (scene,) = copy.scenes
        tagger = scene.scene.find("Parent").scripts[0]
        assert not hasattr(tagger, "when_done")
        assert capture_state(game.scratch(copy, held(0))) == capture_state(game)


def test_a_script_with_a_slot_is_copied_as_a_keyframe_would_be(make_project):
    root = make_project(
        plugins={
            "mix": {
                "slotted.py": """
                from runtime import Script

                class Slotted(Script):
                    __slots__ = ("spin",)
                    spin: float

                    def on_update(self, ctx, dt):
                        self.spin += 1.5
                """
            }
        },
        scene=[entity(1, "Spinner", scripts=[script("mix.slotted:Slotted")])],
    )
    with Game(root) as game:
        game.step(4)
        copy = game.scratch(copied(game), held(3))
        copy.run_frames(3)
        assert copy.scene.find("Spinner").scripts[0].spin == 7 * 1.5
        assert game.scene.find("Spinner").scripts[0].spin == 4 * 1.5


def test_every_entity_of_a_copy_has_every_slot_and_lists_of_its_own(mixed):
    with Game(mixed) as game:
        game.step(3)
        (copy,) = copied(game).scenes
        for e in game.scene:
            c = copy.scene.entities[e.handle]
            assert all(hasattr(c, slot) for slot in Entity.__slots__), c
            assert c is not e and c.children == e.children and c.children is not e.children
            assert c.visual == e.visual and (c.visual is None or c.visual is not e.visual)
            assert [type(s) for s in c.scripts] == [type(s) for s in e.scripts]
