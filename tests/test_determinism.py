"""Determinism: the same recorded input under the same code gives the same state, bit for bit.

States are compared as keyframe blobs (`runtime.history.capture_state`): every
entity, transform, field, undeclared attribute, timer, plugin object and the
random source's state, as bytes.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from runtime import Game
from runtime.history import capture_state
from runtime.input import FrameInput, InputState, RecordedInput

from .conftest import REPO_ROOT, entity, script

#: A plugin whose play depends on ctx.random, the keyboard, timers, spawns and destroys.
DICE = {
    "__init__.py": """
        from runtime import Plugin

        class Dice(Plugin):
            rolls: int = 0
            total: int = 0

            def on_init(self, ctx):
                ctx.subscribe("rolled", self.on_rolled)

            def on_rolled(self, ctx, value):
                self.rolls += 1
                self.total += value
    """,
    "walker.py": """
        from runtime import Script, Vec2, Visual, VisualKind, Color

        class Walker(Script):
            speed: float = 50.0
            heading: Vec2 = Vec2(1.0, 0.0)
            children_spawned: int = 0

            def on_init(self, ctx):
                self.trail = []  # undeclared: recorded too
                ctx.every(0.25, self.turn)

            def turn(self, ctx):
                angle = ctx.random.uniform(0.0, 360.0)
                self.heading = Vec2(1.0, 0.0).rotated(angle)
                ctx.emit("rolled", ctx.random.randint(1, 6))
                if ctx.random.random() < 0.3 and self.children_spawned < 5:
                    self.children_spawned += 1
                    ctx.spawn(
                        f"Pup {self.children_spawned}",
                        position=ctx.entity.position,
                        visual=Visual(VisualKind.ELLIPSE, Vec2(6, 6), Color.WHITE),
                        scripts=[Pup(life=ctx.random.randint(5, 40))],
                    )

            def on_update(self, ctx, dt):
                push = ctx.input.axis("left", "right")
                if ctx.input.was_pressed("space"):
                    self.speed += ctx.random.gauss(0.0, 10.0)
                e = ctx.entity
                e.position = e.position + (self.heading * self.speed + Vec2(push * 30.0, 0)) * dt
                self.trail = (self.trail + [round(e.position.x, 3)])[-8:]


        class Pup(Script):
            life: int = 10

            def on_update(self, ctx, dt):
                self.life -= 1
                ctx.entity.rotation += ctx.random.choice((-3.0, 3.0))
                if self.life <= 0:
                    ctx.destroy()
    """,
}


def dice_project(make_project, seed: int = 7) -> Path:
    return make_project(
        plugins={"dice": DICE},
        scene=[
            entity(1, "Walker A", scripts=[script("dice.walker:Walker")]),
            entity(2, "Walker B", position=[40, 0], scripts=[script("dice.walker:Walker")]),
        ],
        toml=f'[project]\nmain_scene = "assets/scenes/main.scene.json"\nseed = {seed}\n',
    )


def play_with_keys(game: Game, frames: int, seed: int = 1) -> None:
    """Step `frames` frames with a pseudo-random keyboard (the same for the same seed)."""
    keys = random.Random(seed)
    for _ in range(frames):
        roll = keys.random()
        if roll < 0.05:
            game.input.press(keys.choice(["left", "right", "space"]))
        elif roll < 0.1:
            game.input.release_all()
        game.step(1)


@pytest.mark.parametrize("project", ["dice", "sample"], ids=["randomized plugin", "sample project"])
def test_replaying_the_recorded_input_reproduces_the_state_bit_for_bit(make_project, project):
    root = dice_project(make_project) if project == "dice" else REPO_ROOT
    with Game(root) as game:
        play_with_keys(game, 200)
        at_200 = capture_state(game)
        start = game.history.first_frame
        assert start < 200 - 60  # a real replay, of more than a second
        assert game.replay(start) == 200
        assert capture_state(game) == at_200


def test_two_games_fed_the_same_input_end_in_the_same_state(make_project):
    root = dice_project(make_project)
    with Game(root) as first:
        play_with_keys(first, 150)
        recorded = first.history.inputs(0, 150)
        expected = capture_state(first)
    with Game(root) as second:
        second.input = RecordedInput(recorded)
        second.step(150)
        assert capture_state(second) == expected


def test_the_state_depends_on_the_seed_and_the_input(make_project):
    """The comparison above could not pass by accident: other seeds or keys change the state."""
    with Game(dice_project(make_project, seed=7)) as game:
        play_with_keys(game, 120)
        base = capture_state(game)
    with Game(dice_project(make_project, seed=8)) as other_seed:
        play_with_keys(other_seed, 120)
        assert capture_state(other_seed) != base
    with Game(dice_project(make_project, seed=7)) as other_keys:
        play_with_keys(other_keys, 120, seed=2)
        assert capture_state(other_keys) != base


def test_ctx_random_is_seeded_from_the_project_and_every_play_starts_from_the_seed(make_project):
    root = dice_project(make_project, seed=42)
    with Game(root) as game:
        assert game.random.random() == random.Random(42).random()
        game.step(30)
        game.stop()
        assert game.random.random() == random.Random(42).random()


def test_a_frame_input_records_the_keys_scripts_saw():
    keys = InputState()
    keys.press("left")
    keys.begin_frame()
    first = keys.frame_input()
    assert first == FrameInput(frozenset({"left"}), frozenset({"left"}))
    keys.begin_frame()
    held = keys.frame_input(first)
    assert held == FrameInput(frozenset({"left"}))
    keys.begin_frame()
    assert keys.frame_input(held) is held  # unchanged frames share one record
    played = RecordedInput([first, held])
    played.begin_frame()
    assert played.was_pressed("left") and played.is_down("left")
    played.begin_frame()
    assert not played.was_pressed("left") and played.is_down("left")
