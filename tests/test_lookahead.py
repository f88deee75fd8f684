"""The reload's look-ahead: the new code runs frames ahead on a copy before the reload commits."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import weakref
from pathlib import Path

import pytest

from runtime import Game
from runtime.game import ScratchGame
from runtime.history import capture_state
from runtime.reload import STEPS, lookahead
from runtime.reload.lookahead import MIN_FRAMES_SHARE, frames_allowance

from .budget_projects import budget_toml
from .conftest import REPO_ROOT, entity, script

#: Seconds the child of the endless-loop test may take; without a budget it would hang.
CHILD_TIMEOUT = 60

PLUGIN = """
from runtime import Plugin

class Arena(Plugin):
    hits: int = 0

    def on_init(self, ctx):
        ctx.subscribe("hit", self.on_hit)

    def on_hit(self, ctx, payload):
        self.hits += 1
"""

BALL_V1 = """
from runtime import Script, Vec2

class Ball(Script):
    velocity: Vec2 = Vec2(30.0, 0.0)
    steps: int = 0

    def on_update(self, ctx, dt):
        self.steps += 1
        ctx.entity.position = ctx.entity.position + self.velocity * dt
        if self.steps % 20 == 0:
            ctx.emit("hit", self.steps)
"""

#: Raises on the 12th frame after the reload (a new field counts them from its default).
BALL_RAISES = """
from runtime import Script, Vec2

class Ball(Script):
    velocity: Vec2 = Vec2(30.0, 0.0)
    steps: int = 0
    since_reload: int = 0

    def on_update(self, ctx, dt):
        self.steps += 1
        self.since_reload += 1
        if self.since_reload == 12:
            self.velocity = self.velocity / (self.since_reload - 12)
        ctx.entity.position = ctx.entity.position + self.velocity * dt
"""

#: Good code that changes everything it can reach: its own entity, others, the scene, the plugin.
BALL_MEDDLES = """
from runtime import Script, Vec2

class Ball(Script):
    velocity: Vec2 = Vec2(30.0, 0.0)
    steps: int = 0

    def on_update(self, ctx, dt):
        self.steps += 10
        self.velocity = self.velocity * 1.01
        ctx.entity.position = ctx.entity.position + self.velocity * dt
        for other in ctx.scene:
            other.rotation += 5.0
        ctx.plugin("arena").hits += 1
        if self.steps % 30 == 0:
            ctx.spawn("Crumb", position=ctx.entity.position)
        crumb = ctx.find("Crumb")
        if crumb is not None and self.steps % 50 == 0:
            ctx.destroy(crumb.handle)
        ctx.emit("hit", self.steps)
        ctx.after(0.1, self.later)

    def later(self, ctx):
        self.steps += 1
"""


def arena(make_project, look_ahead: int | None = 30, budget: float | None = None) -> Path:
    toml = '[project]\nmain_scene = "assets/scenes/main.scene.json"\n'
    if budget is not None:
        toml = budget_toml(budget)
    if look_ahead is not None:
        toml += f"[reload]\nlook_ahead_frames = {look_ahead}\n"
    return make_project(
        plugins={"arena": {"__init__.py": PLUGIN, "ball.py": BALL_V1}},
        scene=[
            entity(1, "Ball A", scripts=[script("arena.ball:Ball")]),
            entity(2, "Ball B", position=[0, 50], scripts=[script("arena.ball:Ball")]),
        ],
        toml=toml,
    )


def write_ball(root: Path, source: str) -> Path:
    path = root / "plugins" / "arena" / "ball.py"
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


def line_of(source: str, needle: str) -> int:
    lines = textwrap.dedent(source).lstrip("\n").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_the_look_ahead_is_off_in_the_runtime_unless_the_project_turns_it_on(make_project):
    with Game(arena(make_project, look_ahead=None)) as game:
        assert game.look_ahead_frames == 0
    with Game(arena(make_project, look_ahead=12)) as game:
        assert game.look_ahead_frames == 12
    with Game(arena(make_project, look_ahead=12), look_ahead_frames=0) as game:
        assert game.look_ahead_frames == 0


def test_a_raise_12_frames_ahead_refuses_the_reload_and_the_old_code_goes_on(make_project):
    root = arena(make_project)
    with Game(root) as game:
        game.step(40)
        before = capture_state(game)
        old_class = type(game.scene.find("Ball A").scripts[0])
        write_ball(root, BALL_RAISES)
        report = game.reload()
        assert not report.ok
        line = line_of(BALL_RAISES, "/ (self.since_reload - 12)")
        assert report.error == (
            f"reload refused: the new code raises ZeroDivisionError at arena/ball.py:{line} "
            "in Ball on 'Ball A', 12 frames after the reload (float division by zero)"
        )
        assert "ball.py" in report.traceback
        assert list(report.timings)[-1] == "look_ahead"  # the step that refused it, timed
        assert capture_state(game) == before  # the live game did not move
        ball = game.scene.find("Ball A").scripts[0]
        assert type(ball) is old_class
        game.step(20)
        assert ball.steps == 60 and not ball.__dict__.get("_hp_faulted")


def test_without_the_look_ahead_the_same_reload_commits_and_fails_later(make_project):
    root = arena(make_project, look_ahead=0)
    with Game(root) as game:
        game.step(40)
        write_ball(root, BALL_RAISES)
        assert game.reload().ok
        game.step(12)
        assert game.scene.find("Ball A").scripts[0].__dict__.get("_hp_faulted")


def test_a_plugin_that_raises_ahead_is_named(make_project):
    root = arena(make_project)
    with Game(root) as game:
        game.step(5)
        (root / "plugins" / "arena" / "__init__.py").write_text(
            textwrap.dedent(PLUGIN).lstrip("\n")
            + "\n    def on_update(self, ctx, dt):\n        raise KeyError('gone')\n"
        )
        report = game.reload()
        assert not report.ok
        assert report.error.startswith("reload refused: the new code raises KeyError at ")
        assert report.error.endswith(
            "in on_update of plugin Arena, 1 frame after the reload ('gone')"
        )


@pytest.mark.parametrize("source", [BALL_V1.replace("+= 1", "+= 2"), BALL_MEDDLES])
def test_a_good_reload_commits_with_the_state_it_has_without_look_ahead(make_project, source):
    states = []
    for look_ahead in (30, 0):
        root = arena(make_project, look_ahead=look_ahead)
        with Game(root) as game:
            game.step(45)
            write_ball(root, source)
            report = game.reload()
            assert report.ok, report.error
            after_reload = capture_state(game)
            game.step(30)
            states.append((after_reload, capture_state(game), len(game.scene)))
    assert states[0] == states[1]


def test_the_look_ahead_does_not_touch_the_live_objects(make_project):
    root = arena(make_project)
    with Game(root) as game:
        game.step(45)
        positions = [(e.name, e.position, e.rotation) for e in game.scene]
        hits = game.plugin("arena").hits
        timers = len(game.callbacks.live_timers())
        write_ball(root, BALL_MEDDLES)
        report = game.reload()
        assert report.ok
        assert [(e.name, e.position, e.rotation) for e in game.scene] == positions
        assert game.plugin("arena").hits == hits
        assert len(game.callbacks.live_timers()) == timers
        assert [s.steps for e in game.scene for s in e.scripts] == [45, 45]


@pytest.mark.parametrize("source", [BALL_MEDDLES, BALL_RAISES], ids=["commits", "refused"])
def test_the_copy_looked_ahead_on_is_freed_without_the_cyclic_collector(
    make_project, monkeypatch, source
):
    """A world copied at every save waited for a collection that then walked all of it."""
    copies: list[weakref.ref] = []
    scratch = Game.scratch

    def spy(self, state, inputs):
        copy = scratch(self, state, inputs)
        copies.append(weakref.ref(copy))
        copies.extend(weakref.ref(s) for s in copy.scenes)
        return copy

    monkeypatch.setattr(Game, "scratch", spy)
    root = arena(make_project)
    with Game(root) as game:
        game.step(45)
        write_ball(root, source)
        gc.disable()
        try:
            game.reload()
            assert len(copies) == 2  # the copy and its scene
            assert [ref() for ref in copies] == [None, None]
        finally:
            gc.enable()


def test_the_look_ahead_is_a_timing_step_of_its_own(make_project):
    root = arena(make_project)
    with Game(root) as game:
        game.step(5)
        write_ball(root, BALL_V1.replace("+= 1", "+= 3"))
        report = game.reload()
        assert report.ok
        assert list(report.timings) == [s for s in STEPS if s != "detect"]
        assert report.timings["look_ahead"] > 0


ENDLESS_AHEAD = """
import json, sys
from pathlib import Path
from runtime import Game

root = Path(sys.argv[1])
with Game(root) as game:
    game.step(10)
    (root / "plugins" / "arena" / "ball.py").write_text(sys.argv[2])
    report = game.reload()
    game.step(5)
    print(json.dumps({
        "ok": report.ok,
        "error": report.error,
        "steps": game.scene.find("Ball A").scripts[0].steps,
    }))
"""

BALL_LOOPS = BALL_RAISES.replace(
    "self.velocity = self.velocity / (self.since_reload - 12)",
    "while True:\n                pass",
).replace("== 12", "== 3")


def test_an_endless_loop_ahead_is_cut_by_the_budget_and_refused(make_project):
    root = arena(make_project, budget=0.3)
    proc = subprocess.run(
        [sys.executable, "-c", ENDLESS_AHEAD, str(root), textwrap.dedent(BALL_LOOPS).lstrip()],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        cwd=REPO_ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not out["ok"]
    assert out["error"].startswith("reload refused: the new code ran for longer than 0.3 s")
    assert "in Ball on 'Ball A', 3 frames after the reload" in out["error"]
    assert "arena/ball.py:" in out["error"]
    assert out["steps"] == 15  # the old code went on


def test_the_player_looks_ahead_as_the_project_or_its_command_line_says(make_project):
    from runtime.cli import build_parser
    from runtime.player import player_look_ahead
    from runtime.project import Project

    assert build_parser().parse_args(["play", "--look-ahead", "12"]).look_ahead == 12
    assert build_parser().parse_args(["play"]).look_ahead is None
    unset = Project.open(arena(make_project, look_ahead=None))
    set_to_30 = Project.open(arena(make_project, look_ahead=30))
    assert player_look_ahead(None, unset) == 0
    assert player_look_ahead(None, set_to_30) == 30
    assert player_look_ahead(5, set_to_30) == 5
    assert player_look_ahead(0, set_to_30) == 0


def test_sys_exit_ahead_is_refused_naming_system_exit(make_project):
    root = arena(make_project)
    with Game(root, exit_ends_game=True) as game:  # as the player runs it
        game.step(5)
        write_ball(
            root,
            BALL_RAISES.replace(
                "self.velocity = self.velocity / (self.since_reload - 12)", "raise SystemExit(3)"
            ),
        )
        report = game.reload()
        assert not report.ok
        assert report.error.startswith("reload refused: the new code raises SystemExit at ")
        assert "in Ball on 'Ball A', 12 frames after the reload (sys.exit(3)" in report.error
        assert game.quit_reason is None  # the copy's exit ends nothing live


def test_the_look_ahead_stops_when_its_time_is_up_and_commits_what_it_checked(make_project):
    # A large scene's 30 frames could keep a save waiting for a second: the look-ahead
    # runs frames only for `look_ahead_seconds` (at least one), then commits.
    root = arena(make_project)
    with Game(root) as game:
        game.look_ahead_seconds = 0.0  # time is up after the first frame
        game.step(40)
        write_ball(root, BALL_RAISES)  # raises 12 frames after the reload
        report = game.reload()
        assert report.ok and "look_ahead" in report.timings
        game.step(12)
        assert game.scene.find("Ball A").scripts[0].__dict__.get("_hp_faulted")


def test_the_look_ahead_s_time_counts_from_the_start_of_the_reload(make_project, monkeypatch):
    # What the user waits for is the whole save: the frames get what the reload's
    # steps before them left of `look_ahead_seconds`, never less than a fifth of it.
    allowed: list[float | None] = []
    run_frames = ScratchGame.run_frames

    def spy(self, frames, seconds=None, **kwargs):
        allowed.append(seconds)
        return run_frames(self, frames, seconds, **kwargs)

    monkeypatch.setattr(ScratchGame, "run_frames", spy)
    root = arena(make_project)
    with Game(root) as game:
        game.step(40)
        game.look_ahead_seconds = 0.05
        write_ball(root, BALL_V1 + "\n# saved again\n")
        assert game.reload().ok
        assert allowed[-1] is not None and allowed[-1] < 0.05  # the steps before took some
        slow_import = "import time\ntime.sleep(0.06)  # the load step outlasts the 50 ms\n"
        write_ball(root, slow_import + BALL_RAISES)
        report = game.reload()
        assert allowed[-1] == pytest.approx(0.05 * MIN_FRAMES_SHARE)
        # Twelve frames of two balls fit in that: the raise 12 frames ahead is still caught.
        assert not report.ok
        assert "in Ball on 'Ball A', 12 frames after the reload" in report.error


def test_the_frames_get_what_the_reload_left_but_never_less_than_a_fifth(monkeypatch):
    monkeypatch.setattr(lookahead.time, "perf_counter", lambda: 100.25)
    assert frames_allowance(1.0, 100.0) == pytest.approx(0.75)
    assert frames_allowance(1.0, 90.0) == pytest.approx(MIN_FRAMES_SHARE)


def test_a_world_too_large_to_copy_in_time_looks_ahead_no_more_and_says_so(make_project, caplog):
    root = arena(make_project)
    raises_at_once = BALL_RAISES.replace("== 12", "== 1").replace("- 12", "- 1")
    with Game(root) as game:
        game.step(40)
        game.look_ahead_seconds = 0.0  # any copy of the world takes longer than that
        write_ball(root, BALL_V1 + "\n# saved again\n")
        assert game.reload().ok  # looked ahead, measured the copy
        assert game.look_ahead_copy_seconds is not None
        [warning] = [r.getMessage() for r in caplog.records if "look-ahead off" in r.getMessage()]
        assert "a copy of its world (2 entities) takes" in warning
        write_ball(root, raises_at_once)
        report = game.reload()
        assert report.ok  # not looked ahead: a raise one frame ahead got through
        game.step(1)
        assert game.scene.find("Ball A").scripts[0].__dict__.get("_hp_faulted")


def sleepy_ball(seconds: float) -> str:
    """`BALL_V1`, each ball's update taking `seconds` (two balls: twice that a frame)."""
    return BALL_V1.replace(
        "        self.steps += 1\n", f"        self.steps += 1\n        time.sleep({seconds})\n"
    ).replace("from runtime import", "import time\nfrom runtime import")


@pytest.mark.parametrize(
    "live_seconds, refused",
    [
        (0.0, True),  # quick frames: the new code's are over the budget, its doing
        (0.03, False),  # frames of 0.06 s of a 0.1 s budget: one ahead would use it up
    ],
)
def test_a_frame_over_the_budget_ahead_refuses_only_a_world_whose_frames_fit_it(
    make_project, caplog, live_seconds, refused
):
    root = arena(make_project, budget=0.1)
    write_ball(root, sleepy_ball(live_seconds))
    with Game(root) as game:
        game.step(3)
        write_ball(root, sleepy_ball(0.08))  # 0.16 s a frame
        report = game.reload()
        assert report.ok is not refused, report.details()
        skipped = [r.getMessage() for r in caplog.records if "look-ahead skipped" in r.getMessage()]
        if refused:
            assert report.error.startswith("reload refused: the new code ran for longer than 0.1 s")
            assert "1 frame after the reload" in report.error and not skipped
        else:
            assert len(skipped) == 1 and "half the budget or more" in skipped[0]
