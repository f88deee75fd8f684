"""The game loop through the public `Game` API: lifecycle, faults, determinism, input, scenes."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest

from runtime.game import STARTED, Game
from runtime.scenefile import scene_to_data
from runtime.values import Vec2

from .conftest import entity, script

# Every hook appends "<name>.<hook>" to the plugin's `calls`, so order can be asserted.
LIFE = {
    "__init__.py": """
        from runtime import Plugin

        class Life(Plugin):
            calls: list[str] = []

            def on_init(self, ctx):
                self.calls.append("plugin.on_init")

            def on_scene_loaded(self, ctx, scene):
                self.calls.append(f"plugin.on_scene_loaded:{scene.name}")

            def on_update(self, ctx, dt):
                self.calls.append(f"plugin.on_update@{ctx.frame}")

            def on_deinit(self, ctx):
                self.calls.append("plugin.on_deinit")
    """,
    "hooks.py": """
        from runtime import Script

        class Hooks(Script):
            name: str = ""
            spawn_child: bool = False

            def log(self, ctx, what):
                ctx.plugin("life").calls.append(f"{self.name}.{what}")

            def on_init(self, ctx):
                self.log(ctx, "on_init")

            def on_start(self, ctx):
                self.log(ctx, f"on_start@{ctx.frame}")

            def on_update(self, ctx, dt):
                self.log(ctx, f"on_update@{ctx.frame}")
                if self.spawn_child:
                    self.spawn_child = False
                    ctx.spawn("kid", scripts=[Hooks(name="kid")])

            def on_deinit(self, ctx):
                self.log(ctx, "on_deinit")

        class Faulty(Script):
            updates: int = 0

            def on_update(self, ctx, dt):
                self.updates += 1
                raise ValueError("broken on purpose")

        class Mover(Script):
            velocity: Vec2 = Vec2(30.0, -12.5)
            ticks: int = 0

            def on_update(self, ctx, dt):
                ctx.entity.position = ctx.entity.position + self.velocity * dt
                ctx.entity.rotation += 7.0 * dt
                self.ticks += 1

        class Keys(Script):
            presses: int = 0
            held_frames: int = 0
            releases: int = 0

            def on_update(self, ctx, dt):
                if ctx.input.was_pressed("space"):
                    self.presses += 1
                if ctx.input.is_down("space"):
                    self.held_frames += 1
                if ctx.input.was_released("space"):
                    self.releases += 1
    """.replace("from runtime import Script", "from runtime import Script, Vec2"),
}


def hooks(name: str, **kw: Any) -> dict[str, Any]:
    return script("life.hooks:Hooks", name=name, **kw)


@pytest.fixture
def life(make_project: Any) -> Any:
    return make_project(
        plugins={"life": LIFE},
        scene=[
            entity(1, "A", scripts=[hooks("a")]),
            entity(2, "B", parent=1, scripts=[hooks("b")]),
        ],
    )


def test_lifecycle_order(life: Any) -> None:
    game = Game(life)
    calls = game.plugin("life").calls
    assert calls == [
        "plugin.on_init",
        "plugin.on_scene_loaded:test",
        "a.on_init",
        "b.on_init",
    ]
    calls.clear()
    game.step(2)
    assert calls == [
        "plugin.on_update@0",
        "a.on_start@0",
        "b.on_start@0",
        "a.on_update@0",
        "b.on_update@0",
        "plugin.on_update@1",
        "a.on_update@1",
        "b.on_update@1",
    ]
    calls.clear()
    game.close()
    assert calls == ["a.on_deinit", "b.on_deinit", "plugin.on_deinit"]
    game.close()  # closing twice is harmless
    assert calls == ["a.on_deinit", "b.on_deinit", "plugin.on_deinit"]


def test_spawned_script_starts_before_its_first_update(life: Any) -> None:
    with Game(life) as game:
        game.scene[1].scripts[0].spawn_child = True
        calls = game.plugin("life").calls
        calls.clear()
        game.step(2)
        kid = [c for c in calls if c.startswith("kid.")]
        assert kid == ["kid.on_init", "kid.on_start@1", "kid.on_update@1"]
        assert calls.index("kid.on_init") < calls.index("b.on_update@0")
        assert game.scene.find("kid") is not None


def test_destroy_runs_on_deinit_for_the_subtree_at_the_end_of_the_frame(life: Any) -> None:
    with Game(life) as game:
        game.step(1)
        calls = game.plugin("life").calls
        calls.clear()
        rs = game.running_scene(game.scene)
        assert rs is not None
        rs.ctx.entity = game.scene[1]
        rs.ctx.destroy()
        assert 1 in game.scene  # not yet: at the end of the frame
        game.step(1)
        assert "a.on_update@1" in calls and "b.on_update@1" in calls
        assert calls[-2:] == ["a.on_deinit", "b.on_deinit"]
        assert 1 not in game.scene and 2 not in game.scene
        calls.clear()
        game.step(1)
        assert calls == ["plugin.on_update@2"]


def test_a_script_raising_in_update_is_logged_once_and_paused(
    make_project: Any, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_project(
        plugins={"life": LIFE},
        scene=[
            entity(1, "Bad", scripts=[script("life.hooks:Faulty"), script("life.hooks:Mover")]),
            entity(2, "Good", scripts=[script("life.hooks:Mover")]),
        ],
    )
    with caplog.at_level(logging.ERROR, logger="hotplay.game"), Game(root) as game:
        game.step(10)
        faulty, bad_mover = game.scene[1].scripts
        good_mover = game.scene[2].scripts[0]
        assert faulty.updates == 1
        assert bad_mover.ticks == 10  # the other script of the same entity goes on
        assert good_mover.ticks == 10
        assert game.frame == 10
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    msg = errors[0].getMessage()
    assert "life.hooks:Faulty on entity 1 ('Bad') raised in on_update and is paused" in msg
    assert "ValueError: broken on purpose" in msg


def test_time_advances_by_fixed_dt(life: Any) -> None:
    with Game(life, fixed_dt=0.25) as game:
        assert (game.frame, game.time) == (0, 0.0)
        game.step(4)
        assert game.frame == 4
        assert game.time == 1.0
    with Game(life) as game:
        game.step(600)
        assert game.time == pytest.approx(10.0, abs=1e-9)
        assert game.stats()["frame"] == 600


def test_time_does_not_drift(life: Any) -> None:
    with Game(life) as game:
        game.step(600)
        assert game.time == pytest.approx(10.0, abs=1e-9)


def state(game: Game) -> dict[str, Any]:
    return {
        "scene": scene_to_data(game.scene),
        "frame": game.frame,
        "time": game.time,
        "plugins": {n: p.field_values() for n, p in game.plugin_objects.items()},
    }


def test_two_games_stepped_alike_are_identical(make_project: Any) -> None:
    from .conftest import REPO_ROOT

    with Game(REPO_ROOT) as one, Game(REPO_ROOT) as two:
        one.step(300)
        for _ in range(30):
            two.step(10)
        a, b = state(one), state(two)
        assert a == b
        # And the demo did something: balls moved, bounced and were spawned.
        assert a["plugins"]["bouncy"]["total_bounces"] > 0
        assert len(one.scene) > 10


def test_mover_moves_by_velocity_times_time(make_project: Any) -> None:
    root = make_project(
        plugins={"life": LIFE},
        scene=[entity(1, "M", position=[10, 10], scripts=[script("life.hooks:Mover")])],
    )
    with Game(root) as game:
        game.step(60)
        e = game.scene[1]
        assert e.position == pytest.approx(Vec2(40.0, -2.5))
        assert e.rotation == pytest.approx(7.0)


def test_input_injection(make_project: Any) -> None:
    root = make_project(
        plugins={"life": LIFE}, scene=[entity(1, "K", scripts=[script("life.hooks:Keys")])]
    )
    with Game(root) as game:
        keys = game.scene[1].scripts[0]
        game.input.press("Space")
        game.input.press("space")  # auto-repeat: ignored
        game.step(1)
        assert (keys.presses, keys.held_frames) == (1, 1)
        game.step(3)
        assert (keys.presses, keys.held_frames, keys.releases) == (1, 4, 0)
        assert game.input.is_down("SPACE") and game.input.keys_down == frozenset({"space"})
        game.input.release("space")
        game.step(2)
        assert (keys.presses, keys.held_frames, keys.releases) == (1, 4, 1)
        # A tap between two frames is seen as a press and a release in the same frame.
        game.input.press("space")
        game.input.release("space")
        game.step(1)
        assert (keys.presses, keys.held_frames, keys.releases) == (2, 4, 2)
        game.step(1)
        assert (keys.presses, keys.releases) == (2, 2)


def test_input_axis_and_release_all(make_project: Any) -> None:
    root = make_project(scene=[])
    with Game(root) as game:
        inp = game.input
        inp.press("left")
        assert inp.axis("left", "right") == -1.0
        inp.press("Right")
        assert inp.axis("left", "right") == 0.0
        inp.release_all()
        assert inp.keys_down == frozenset()
        game.step(1)
        assert inp.was_released("left") and inp.was_released("right")


def test_a_scene_added_without_running_is_not_updated(life: Any) -> None:
    with Game(life) as game:
        edited = game.load_scene("assets/scenes/main.scene.json")
        game.add_scene(edited, run=False)
        calls = game.plugin("life").calls
        calls.clear()
        game.step(3)
        assert len(calls) == 3 + 3 * 2 + 2  # plugin updates, a and b updates, two starts
        assert all(not s.__dict__.get("_hp_state") for e in edited for s in e.scripts)
        assert game.scenes == [game.scene, edited]
        assert game.running_scene(edited) is None
        assert game.stats()["scenes"] == 1


def test_two_running_scenes_both_update(life: Any) -> None:
    with Game(life) as game:
        second = game.add_scene(game.load_scene("assets/scenes/main.scene.json"))
        calls = game.plugin("life").calls
        calls.clear()
        game.step(1)
        assert calls.count("a.on_update@0") == 2
        game.remove_scene(second)
        calls.clear()
        game.step(1)
        assert calls.count("a.on_update@1") == 1
        assert second not in game.scenes


def test_remove_scene_deinits_its_scripts(life: Any) -> None:
    with Game(life) as game:
        game.step(1)
        calls = game.plugin("life").calls
        calls.clear()
        game.remove_scene(game.scene)
        assert calls == ["a.on_deinit", "b.on_deinit"]
        with pytest.raises(LookupError, match="no scene"):
            _ = game.scene


def test_game_without_scene(make_project: Any) -> None:
    root = make_project(plugins={"life": LIFE}, scene=[])
    with Game(root, scene=False) as game:
        assert game.scenes == [] and not game.started
        game.step(1)
        assert game.started and game.frame == 1


def test_bad_project_is_a_project_error(tmp_path: Any) -> None:
    from runtime.project import ProjectError

    with pytest.raises(ProjectError, match="no such folder"):
        Game(tmp_path / "missing")
    with pytest.raises(ProjectError, match=r"has no hotplay\.toml"):
        Game(tmp_path)


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ("[project\n", "not valid TOML"),
        ("project = 3\n", r"\[project\] must be a table"),
        ("[project]\nname = 3\n", "must be strings"),
    ],
)
def test_bad_hotplay_toml(make_project: Any, toml: str, problem: str) -> None:
    from runtime.project import ProjectError

    root = make_project(toml=toml)
    with pytest.raises(ProjectError, match=problem):
        Game(root)


def test_project_without_plugins_folder(make_project: Any) -> None:
    from runtime.project import ProjectError

    root = make_project()
    (root / "plugins").rmdir()
    with pytest.raises(ProjectError, match="no plugins/ folder"):
        Game(root)


def test_a_paused_script_gets_no_more_messages(
    make_project: Any, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_project(
        plugins={
            "p": {
                "s.py": """
                    from runtime import Script

                    class Broken(Script):
                        messages: int = 0

                        def on_update(self, ctx, dt):
                            raise ValueError("update")

                        def on_message(self, ctx, message):
                            self.messages += 1

                    class Sender(Script):
                        def on_update(self, ctx, dt):
                            ctx.send(1, "ping")
                """
            }
        },
        scene=[
            entity(1, "Broken", scripts=[script("p.s:Broken")]),
            entity(2, "Sender", scripts=[script("p.s:Sender")]),
        ],
    )
    with Game(root) as game:
        game.step(5)
        assert game.scene[1].scripts[0].messages == 0


SPAWNING = """
from runtime import Script


class Sower(Script):
    def on_update(self, ctx, dt):
        seed = ctx.spawn(f"Seed {ctx.frame}", scripts=[Seed()])
        if ctx.frame % 4 == 1:  # now and then under another entity, not at the end
            ctx.spawn(f"Sprout {ctx.frame}", parent=seed.handle, scripts=[Seed()])
        if ctx.frame % 5 == 2:
            ctx.scene.reparent(seed.handle, ctx.handle)


class Seed(Script):
    age: int = 0

    def on_update(self, ctx, dt):
        self.age += 1
"""


def order(updaters: list[Any]) -> list[tuple[int, int]]:
    return [(int(e.handle), id(s)) for e, s in updaters]


def test_spawns_keep_the_update_list_in_the_order_a_rebuild_gives(make_project):
    root = make_project(
        plugins={"farm": {"sow.py": SPAWNING}},
        scene=[entity(1, "Sower", scripts=[script("farm.sow:Sower")])],
    )
    with Game(root) as game:
        rs = game.running_scene(game.scene)
        assert rs is not None
        for _ in range(12):
            game.step(1)
            kept = order(rs.updaters())
            rs.invalidate()
            assert kept == order(rs.updaters())  # the order of the scene, depth first
        for e in game.scene:
            if e.name.startswith(("Seed", "Sprout")):  # from the frame after its spawn on
                assert e.scripts[0].age == game.frame - 1 - int(e.name.split()[1]), e.name


def test_a_frame_that_spawns_at_the_end_of_the_scene_does_not_walk_it_again(
    make_project, monkeypatch
):
    root = make_project(
        plugins={
            "farm": {"sow.py": SPAWNING.replace("% 4 == 1", "< 0").replace("% 5 == 2", "< 0")}
        },
        scene=[entity(1, "Sower", scripts=[script("farm.sow:Sower")])],
    )
    with Game(root) as game:
        game.step(2)
        walks = []
        real = type(game.scene).script_columns
        monkeypatch.setattr(
            type(game.scene), "script_columns", lambda scene: walks.append(1) or real(scene)
        )
        game.step(10)
        assert walks == [] and len(game.scene) == 13


def test_after_a_spawn_the_context_is_the_spawning_scripts_own_again(make_project):
    root = make_project(
        plugins={
            "farm": {
                "mover.py": """
                from runtime import Script, Vec2

                class Mover(Script):
                    def on_update(self, ctx, dt):
                        ctx.spawn("Child", scripts=[Child()])
                        ctx.entity.position = ctx.entity.position + Vec2(1, 0)
                        self.seen = ctx.entity.name

                class Child(Script):
                    def on_init(self, ctx):
                        self.mine = ctx.entity.name
                """
            }
        },
        scene=[entity(1, "Mover", scripts=[script("farm.mover:Mover")])],
    )
    with Game(root) as game:
        game.step(3)
        mover = game.scene.find("Mover")
        assert mover.position == Vec2(3, 0) and mover.scripts[0].seen == "Mover"
        children = [e for e in game.scene if e.name == "Child"]
        assert len(children) == 3 and all(c.position == Vec2(0, 0) for c in children)
        assert all(c.scripts[0].mine == "Child" for c in children)


def test_a_spawned_script_that_moves_another_entity_in_on_init_rebuilds_the_list(make_project):
    root = make_project(
        plugins={
            "farm": {
                "mover.py": """
                from runtime import Script

                class Sower(Script):
                    def on_update(self, ctx, dt):
                        if ctx.frame == 2:
                            ctx.spawn("Seed", scripts=[Seed()])

                class Seed(Script):
                    def on_init(self, ctx):
                        scene = ctx.scene
                        scene.reparent(scene.find("Pebble").handle, scene.find("Rock").handle)

                class Still(Script):
                    def on_update(self, ctx, dt):
                        pass
                """
            }
        },
        scene=[
            entity(1, "Sower", scripts=[script("farm.mover:Sower")]),
            entity(2, "Pebble", scripts=[script("farm.mover:Still")]),
            entity(3, "Rock", scripts=[script("farm.mover:Still")]),
        ],
    )
    with Game(root) as game:
        rs = game.running_scene(game.scene)
        assert rs is not None
        game.step(4)
        assert game.scene.find("Pebble").parent == 3
        kept = order(rs.updaters())
        rs.invalidate()
        assert kept == order(rs.updaters())  # Sower, Rock, Pebble: the moved one after Rock


def test_hooks_a_class_does_not_define_are_not_called_but_any_it_does_are(make_project):
    # Starting a scene of 100,000 scripts called 200,000 empty hooks through the guard.
    root = make_project(
        plugins={
            "farm": {
                "hooks.py": """
                from runtime import Script

                class Plain(Script):
                    def on_update(self, ctx, dt):
                        pass

                class Hooked(Script):
                    calls: list = []

                    def on_init(self, ctx):
                        self.calls = self.calls + ["init"]

                    def on_start(self, ctx):
                        self.calls = self.calls + ["start"]

                class Looked(Script):
                    # Answers every attribute lookup itself: its lookup is game code.
                    def __getattribute__(self, name):
                        return object.__getattribute__(self, name)
                """
            }
        },
        scene=[
            entity(1, "Plain", scripts=[script("farm.hooks:Plain")]),
            entity(2, "Hooked", scripts=[script("farm.hooks:Hooked")]),
            entity(3, "Looked", scripts=[script("farm.hooks:Looked")]),
        ],
    )
    with Game(root) as game:
        called: list[tuple[str, str]] = []
        real = game.guard.call_method

        def call_method(obj: Any, name: str, *args: Any) -> Any:
            called.append((type(obj).__name__, name))
            return real(obj, name, *args)

        game.guard.call_method = call_method  # type: ignore[method-assign]
        rs = game.running_scene(game.scene)
        assert rs is not None
        rs.invalidate()
        for e in game.scene:
            for s in e.scripts:
                s.__dict__.pop("_hp_state", None)
            rs.init_entity(e)
        game.step(1)
        hooks = [c for c in called if c[1] in ("on_init", "on_start")]
        assert ("Plain", "on_init") not in hooks and ("Plain", "on_start") not in hooks
        assert {("Hooked", "on_init"), ("Hooked", "on_start")} <= set(hooks)
        assert {("Looked", "on_init"), ("Looked", "on_start")} <= set(hooks)
        assert game.scene.find("Hooked").scripts[0].calls == ["init", "init", "start"]
        assert all(s.__dict__["_hp_state"] == STARTED for e in game.scene for s in e.scripts)


def test_a_hook_read_through_a_descriptor_or_a_patched_base_still_runs_under_the_guard(
    make_project, monkeypatch
):
    # Deciding whether a hook is Script's empty one must not run game code itself.
    root = make_project(
        plugins={
            "farm": {
                "hooks.py": """
                import types

                from runtime import Script

                class Method:
                    def __init__(self, f):
                        self.f = f

                    def __get__(self, obj, cls):
                        if obj is None:
                            raise TypeError("instance must not be None")
                        return types.MethodType(self.f, obj)

                def start(self, ctx):
                    self.started = True

                def update(self, ctx, dt):
                    self.updates += 1

                class Described(Script):
                    started: bool = False
                    updates: int = 0
                    on_start = Method(start)
                    on_update = Method(update)

                class Plain(Script):
                    started: bool = False
                """
            }
        },
        scene=[
            entity(1, "Described", scripts=[script("farm.hooks:Described")]),
            entity(2, "Plain", scripts=[script("farm.hooks:Plain")]),
        ],
    )
    import runtime.scripting

    def patched(self, ctx):  # what a plugin doing `Script.on_start = ...` gets
        self.started = True

    with Game(root) as game:
        monkeypatch.setattr(runtime.scripting.Script, "on_start", patched)
        game.step(2)
        assert game.halt_reason is None
        described = game.scene.find("Described").scripts[0]
        assert described.started and described.updates == 2
        assert game.scene.find("Plain").scripts[0].started


def test_a_hook_game_code_gives_a_class_during_the_start_runs_for_its_later_objects(
    make_project,
):
    # Which classes have hooks is kept per batch, until a hook runs: B has none when B1
    # starts, then A's hooks give it some, which B2 must run.
    root = make_project(
        plugins={
            "m": {
                "__init__.py": """
                from runtime import Script

                LOG = []

                class B(Script):
                    pass

                class A(Script):
                    def on_init(self, ctx):
                        B.on_init = lambda self, ctx: LOG.append(("init", int(ctx.handle)))

                    def on_start(self, ctx):
                        B.on_start = lambda self, ctx: LOG.append(("start", int(ctx.handle)))
                """
            }
        },
        scene=[
            entity(1, "B1", scripts=[script("m:B")]),
            entity(2, "A", scripts=[script("m:A")]),
            entity(3, "B2", scripts=[script("m:B")]),
        ],
    )
    with Game(root) as game:
        game.step(1)
        b2 = game.scene.find("B2").scripts[0]
        log = sys.modules[type(b2).__module__].LOG
        assert log == [("init", 3), ("start", 3)]


def test_a_metaclass_is_not_asked_for_a_classes_hooks_outside_the_guard(make_project):
    root = make_project(
        plugins={
            "m": {
                "__init__.py": """
                from runtime import Plugin, Script

                state = {"playing": False}

                class Meta(type):
                    def __getattribute__(cls, name):
                        if name in ("__mro__", "on_update") and state["playing"]:
                            raise RuntimeError("metaclass asked for " + name)
                        return type.__getattribute__(cls, name)

                class P(Plugin, metaclass=Meta):
                    n: int = 0

                    def on_update(self, ctx, dt):
                        self.n += 1
                        state["playing"] = True

                class Inert(Script):
                    # Answers every attribute itself, and defines no on_update: it is not
                    # updated (as before), however its lookup would answer.
                    def __getattribute__(self, name):
                        return object.__getattribute__(self, name)
                """
            }
        },
        scene=[entity(1, "Inert", scripts=[script("m:Inert")])],
    )
    with Game(root) as game:
        game.step(3)
        assert game.halt_reason is None
        assert game.plugin_objects["m"].n == 3
        rs = game.running_scene(game.scene)
        assert rs is not None and rs.updaters() == []
