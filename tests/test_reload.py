"""The hot reload transaction: migration rules, rollback, callbacks, placeholders."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

from runtime import PlaceholderScript
from runtime.reports import ReloadReport
from runtime.scripting import script_type_id, stash_of

from .reload_lab import Lab, entity, scripts_of

INIT = """
from runtime import Plugin

class Game(Plugin):
    ticks: int = 0

    def on_update(self, ctx, dt):
        self.ticks += 1
"""

MOVER_V1 = """
from runtime import Script, Vec2

class Mover(Script):
    velocity: Vec2 = Vec2(1.0, 0.0)
    steps: int = 0
    label: str = "v1"
    speed: float = 2.0

    def on_update(self, ctx, dt):
        ctx.entity.position += self.velocity
        self.steps += 1
"""


KINDS = """
import dataclasses

@dataclasses.dataclass
class Hit:
    damage: int
"""


@pytest.fixture
def lab(tmp_path):
    return Lab(
        tmp_path / "proj",
        {"game/__init__.py": INIT, "game/mover.py": MOVER_V1, "game/kinds.py": KINDS},
        [
            entity(1, "A", ("game.mover:Mover", {"velocity": [1, 0]})),
            entity(2, "B", ("game.mover:Mover", {"velocity": [0, 2], "label": "custom"})),
        ],
    )


def state(game):
    return [(e.name, e.position, s.field_values()) for e in game.scene for s in e.scripts]


def test_behaviour_changes_and_state_is_kept(lab):
    with lab.game() as game:
        game.step(10)
        before = state(game)
        assert before[0][1] == (10.0, 0.0)
        lab.write("game/mover.py", MOVER_V1.replace("self.steps += 1", "self.steps += 100"))
        report = game.reload()
        assert report.ok, report.details()
        assert state(game) == before  # nothing moved or reset by the reload itself
        game.step(1)
        a, b = scripts_of(game, "Mover")
        assert a.steps == 110 and b.steps == 110
        assert game.scene.find("A").position == (11.0, 0.0)
        assert game.plugin("game").ticks == 11  # the plugin object kept its state too


def test_report_summary_and_timings(lab):
    with lab.game() as game:
        report = game.reload()
        assert isinstance(report, ReloadReport)
        assert report.ok
        assert str(report).startswith("reloaded game: 3 modules, 3 objects in ")
        assert set(report.timings) >= {"build", "snapshot", "load", "restore", "commit"}
        assert report.modules == ("game", "game.kinds", "game.mover")


def test_migration_rules(lab):
    with lab.game() as game:
        game.step(3)
        lab.write(
            "game/mover.py",
            """
            from runtime import Script, Vec2

            class Mover(Script):
                velocity: Vec2 = Vec2(1.0, 0.0)   # kept
                steps: str = "none"               # int -> str: reset
                label: str = "v2"                 # default changed: "v1" objects take "v2"
                added: list[int] = [1, 2]         # new: default
                                                  # speed removed: stashed

                def on_update(self, ctx, dt):
                    pass
            """,
        )
        report = game.reload()
        assert report.ok, report.details()
        a, b = scripts_of(game, "Mover")
        assert a.velocity == (1.0, 0.0) and b.velocity == (0.0, 2.0)
        assert a.steps == "none" and b.steps == "none"
        assert a.label == "v2"  # was at the old default
        assert b.label == "custom"  # was changed by the user: kept
        assert a.added == [1, 2] and a.added is not b.added
        assert not hasattr(a, "speed")
        # Issue 14: what a reload takes out of an object is kept in its stash.
        assert stash_of(a) == {"speed": 2.0, "steps": 3}
        kinds = {(n.field, n.kind, n.count) for n in report.notes}
        assert ("steps", "reset", 2) in kinds
        assert ("speed", "stashed", 1) in kinds  # one note per class, counted per object
        assert ("added", "added", 1) in kinds
        assert ("label", "default-updated", 1) in kinds
        assert {n.field for n in report.warnings} == {"steps", "speed"}


def test_undeclared_attributes_kept_or_reported(lab):
    lab.write(
        "game/mover.py",
        MOVER_V1
        + """
    def on_start(self, ctx):
        self.cache = {"a": 1}
        self.fn = print
""",
    )
    with lab.game() as game:
        game.step(1)
        report = game.reload()
        assert report.ok, report.details()
        a = scripts_of(game, "Mover")[0]
        assert a.cache == {"a": 1}
        assert not hasattr(a, "fn")
        by_field = {n.field: n for n in report.notes}
        assert by_field["fn"].kind == "unencodable" and "builtin_function_or_method" in str(
            by_field["fn"]
        )
        assert by_field["cache"].kind == "undeclared"


@pytest.mark.parametrize(
    "bad, expect",
    [
        (
            MOVER_V1.replace("def on_update(self, ctx, dt):", "def on_update(self, ctx, dt)"),
            "mover.py:9:",
        ),
        (MOVER_V1 + "\nraise RuntimeError('boom at import')\n", "RuntimeError: boom at import"),
        (
            MOVER_V1
            + """
    def on_after_reload(self, ctx, report):
        raise ValueError("after reload failed")
""",
            "on_after_reload raised",
        ),
        (
            MOVER_V1.replace("    speed: float = 2.0\n", "    hit: Hit = Hit(1)\n").replace(
                "from runtime import", "from .kinds import Hit\nfrom runtime import"
            ),
            "rejects the stored",
        ),
    ],
    ids=["syntax-error", "import-error", "after-reload-error", "value-rejected"],
)
def test_failed_reload_rolls_back(lab, bad, expect):
    with lab.game() as game:
        game.step(5)
        originals = [s for e in game.scene for s in e.scripts]
        old_cls = type(originals[0])
        modules_before = {
            k: v for k, v in sys.modules.items() if k.startswith(game.plugins.namespace)
        }
        before = state(game)
        lab.write("game/mover.py", bad)
        if "Hit(1)" in bad:
            # Start with a Hit field, then make the new code refuse the stored value.
            assert game.reload().ok
            game.step(1)
            originals = [s for e in game.scene for s in e.scripts]
            old_cls = type(originals[0])
            modules_before = {
                k: v for k, v in sys.modules.items() if k.startswith(game.plugins.namespace)
            }
            before = state(game)
            lab.write(
                "game/kinds.py",
                KINDS
                + """
    def __post_init__(self):
        if self.damage < 5:
            raise ValueError("damage must be at least 5")
""",
            )
            lab.write("game/mover.py", bad.replace("Hit(1)", "Hit(5)"))
        report = game.reload()
        assert not report.ok
        assert expect in report.error, report.error
        assert "kept previous code" in str(report)
        # The very same objects, the same classes, the same modules, the same state.
        now = [s for e in game.scene for s in e.scripts]
        assert len(now) == len(originals)
        assert all(a is b for a, b in zip(now, originals, strict=True))
        assert type(originals[0]) is old_cls
        assert {
            k: v for k, v in sys.modules.items() if k.startswith(game.plugins.namespace)
        } == modules_before
        assert game.registry.resolve("game.mover:Mover") is old_cls
        assert state(game) == before
        steps = scripts_of(game, "Mover")[0].steps
        game.step(1)  # the game goes on with the old code
        assert scripts_of(game, "Mover")[0].steps == steps + 1
        # The next good save recovers.
        lab.write("game/kinds.py", KINDS)
        lab.write("game/mover.py", MOVER_V1.replace("self.steps += 1", "self.steps += 10"))
        assert game.reload().ok
        game.step(1)
        assert scripts_of(game, "Mover")[0].steps == steps + 11


def test_syntax_error_reports_every_file_and_touches_nothing(lab):
    with lab.game() as game:
        lab.write("game/mover.py", "def broken(:\n")
        lab.write("game/other.py", "x = = 1\n")
        report = game.reload()
        assert not report.ok
        assert len(report.errors) == 2
        assert "other.py:1:" in " ".join(report.errors)
        assert "snapshot" not in report.timings  # stopped at the build step


def test_before_reload_hook_failure_is_a_warning_and_state_is_saved_as_it_was(lab):
    # Issue 14 changed this: a raising hook was a rollback, so the save removing it never loaded.
    lab.write(
        "game/mover.py",
        MOVER_V1
        + """
    log: list[str] = []

    def on_before_reload(self, ctx):
        self.log.append("before")
        if ctx.entity.name == "B":
            self.steps = 99
            raise RuntimeError("no")
""",
    )
    with lab.game() as game:
        game.step(1)
        report = game.reload()
        assert report.ok, report.details()
        (warning,) = report.warnings
        assert warning.kind == "hook-failed"
        assert "mover.py:19: RuntimeError: no" in str(warning)
        a, b = scripts_of(game, "Mover")
        assert a.log == b.log == ["before"]
        assert (a.steps, b.steps) == (1, 99)  # saved as it was when the hook raised


def test_objects_told_of_a_reload_hear_when_it_is_rolled_back(lab):
    lab.write(
        "game/mover.py",
        MOVER_V1
        + """
    log: list[str] = []

    def on_before_reload(self, ctx):
        self.log.append("before")

    def on_after_reload(self, ctx, report):
        self.log.append("after-ok" if report.ok else "after-failed")
""",
    )
    with lab.game() as game:
        game.step(1)
        a, b = scripts_of(game, "Mover")
        lab.write("game/kinds.py", KINDS + "\nraise RuntimeError('broken at import')\n")
        report = game.reload()
        assert not report.ok and "broken at import" in report.error
        assert a.log == b.log == ["before", "after-failed"]


def test_after_reload_sees_new_object_and_no_second_on_init(lab):
    lab.write(
        "game/mover.py",
        MOVER_V1
        + """
    inits: int = 0
    starts: int = 0

    def on_init(self, ctx):
        self.inits += 1

    def on_start(self, ctx):
        self.starts += 1
""",
    )
    with lab.game() as game:
        game.step(2)
        lab.write(
            "game/mover.py",
            (lab.path("game/mover.py").read_text())
            + """
    def on_after_reload(self, ctx, report):
        self.label = f"reloaded on {ctx.entity.name}"
""",
        )
        assert game.reload().ok
        game.step(2)
        a, b = scripts_of(game, "Mover")
        assert (a.inits, a.starts) == (1, 1)
        assert a.label == "reloaded on A" and b.label == "reloaded on B"


def test_timers_and_subscriptions_call_the_new_code(lab):
    lab.write(
        "game/mover.py",
        MOVER_V1
        + """
    hits: list[str] = []

    def on_init(self, ctx):
        ctx.every(0.5, self.tick)
        ctx.after(10.0, "late")
        ctx.subscribe("ping", self.pinged)

    def tick(self, ctx):
        self.hits.append("tick-v1")

    def late(self, ctx):
        self.hits.append("late-v1")

    def pinged(self, ctx, payload):
        self.hits.append(f"ping-v1:{payload}")
""",
    )
    with lab.game() as game:
        game.step(31)  # 0.5 s: one tick
        a = scripts_of(game, "Mover")[0]
        assert a.hits == ["tick-v1"]
        due_before = sorted(t.due for t in game.callbacks.live_timers())
        lab.write("game/mover.py", lab.path("game/mover.py").read_text().replace("-v1", "-v2"))
        report = game.reload()
        assert report.ok, report.details()
        assert sorted(t.due for t in game.callbacks.live_timers()) == due_before
        game.emit("ping", 7)
        game.step(30)
        a = scripts_of(game, "Mover")[0]
        assert a.hits == ["tick-v1", "ping-v2:7", "tick-v2"]
        assert all(type(t.owner) is type(a) for t in game.callbacks.live_timers())


def test_queued_messages_with_plugin_dataclasses_and_enums_are_rebuilt(lab):
    lab.write(
        "game/kinds.py",
        """
        import dataclasses, enum

        class Mode(enum.Enum):
            CALM = 1
            ANGRY = 2

        @dataclasses.dataclass
        class Hit:
            damage: int
        """,
    )
    lab.write(
        "game/mover.py",
        MOVER_V1
        + """
    mode: Mode = Mode.CALM
    got: list[int] = []

    def on_message(self, ctx, msg):
        self.got.append(msg.damage)
""",
    )
    lab.write(
        "game/mover.py", "from .kinds import Hit, Mode\n" + lab.path("game/mover.py").read_text()
    )
    with lab.game() as game:
        game.step(1)
        a = scripts_of(game, "Mover")[0]
        a.mode = type(a.mode).ANGRY
        ctx = game.running_scenes[0].ctx
        ctx.send(1, sys.modules[type(a).__module__].Hit(5))
        report = game.reload()
        assert report.ok, report.details()
        a2 = scripts_of(game, "Mover")[0]
        new_mode_cls = sys.modules[type(a2).__module__].Mode
        assert a2.mode is new_mode_cls.ANGRY  # an enum member of the new class
        assert type(game.callbacks.messages[0].payload) is sys.modules[type(a2).__module__].Hit
        game.step(1)
        assert a2.got == [5]


def test_deleted_class_becomes_placeholder_and_comes_back(lab):
    with lab.game() as game:
        game.step(4)
        lab.write("game/mover.py", "# Mover is gone for now\n")
        report = game.reload()
        assert report.ok, report.details()
        ph = game.scene.find("B").scripts[0]
        assert isinstance(ph, PlaceholderScript)
        assert ph.data == {"velocity": [0.0, 2.0], "steps": 4, "label": "custom", "speed": 2.0}
        assert any(n.kind == "placeholder" for n in report.warnings)
        game.step(3)  # placeholders do nothing, the game goes on
        assert game.scene.find("B").position == (0.0, 8.0)
        lab.write("game/mover.py", MOVER_V1)
        report = game.reload()
        assert report.ok, report.details()
        b = game.scene.find("B").scripts[0]
        assert type(b).__name__ == "Mover"
        assert (b.velocity, b.steps, b.label) == ((0.0, 2.0), 4, "custom")
        game.step(1)
        assert game.scene.find("B").position == (0.0, 10.0)


def test_class_moved_between_modules(lab):
    with lab.game() as game:
        game.step(2)
        lab.write("game/movement.py", MOVER_V1)
        lab.write("game/mover.py", "from .movement import Mover  # moved\n")
        report = game.reload()
        assert report.ok, report.details()
        a = scripts_of(game, "Mover")[0]
        assert type(a).__module__.endswith("game.movement")
        assert a.steps == 2
        assert any(n.kind == "moved" for n in report.notes)


def test_explicit_type_id_survives_a_rename(lab):
    lab.write(
        "game/mover.py",
        MOVER_V1.replace("class Mover(Script):", "class Mover(Script):\n    type_id = 'mover'"),
    )
    lab.write("game/__init__.py", INIT)
    with lab.game(scene=False) as game:
        from runtime import Scene

        scene = Scene()
        cls = game.registry.resolve("mover")
        scene.spawn("X", scripts=[cls(steps=9)])
        game.add_scene(scene, run=False)
        lab.write(
            "game/mover.py",
            lab.path("game/mover.py").read_text().replace("class Mover", "class Walker"),
        )
        assert game.reload().ok
        s = scene.entities[1].scripts[0]
        assert type(s).__name__ == "Walker" and s.steps == 9


def test_dependent_plugin_is_reloaded_with_its_dependency(lab):
    lab.write("common/__init__.py", "STEP = 1\n")
    lab.write(
        "user/__init__.py",
        """
        from runtime import Script
        from ..common import STEP

        class Counter(Script):
            n: int = 0

            def on_update(self, ctx, dt):
                self.n += STEP
        """,
    )
    with lab.game(scene=False) as game:
        from runtime import Scene

        scene = Scene()
        scene.spawn("C", scripts=[game.registry.resolve("user:Counter")()])
        game.add_scene(scene)
        game.step(2)
        lab.write("common/__init__.py", "STEP = 100\n")
        report = game.reload([lab.path("common/__init__.py")])
        assert report.ok, report.details()
        assert report.plugins == ("common", "user")
        game.step(1)
        assert scene.entities[1].scripts[0].n == 102


def test_edited_scene_that_does_not_run_is_migrated_too(lab):
    with lab.game(scene=False) as game:
        edited = game.load_scene("assets/scenes/main.scene.json")
        game.add_scene(edited, run=False)
        play = game.add_scene(game.copy_scene(edited))
        game.step(3)
        lab.write(
            "game/mover.py",
            MOVER_V1.replace("    steps: int = 0\n", "    steps: int = 0\n    extra: int = 5\n"),
        )
        assert game.reload().ok
        for scene in (edited, play):
            assert all(s.extra == 5 for e in scene for s in e.scripts)
        assert [s.steps for e in edited for s in e.scripts] == [0, 0]  # never ran
        assert [s.steps for e in play for s in e.scripts] == [3, 3]


def test_a_scene_set_aside_sits_reloads_out_and_takes_the_new_code_back(lab):
    """The editor's edited scene while its copy plays: only the copy is migrated."""
    from runtime.scene import ScriptsReplaced

    with lab.game(scene=False) as game:
        edited = game.load_scene("assets/scenes/main.scene.json")
        game.add_scene(edited, run=False)
        play = game.add_scene(game.copy_scene(edited))
        with pytest.raises(ValueError, match="runs"):
            game.set_aside(play)
        game.set_aside(edited)
        assert edited not in game.scenes
        old = [s for e in edited for s in e.scripts]
        game.step(3)
        lab.write(
            "game/mover.py",
            MOVER_V1.replace("    steps: int = 0\n", "    steps: int = 0\n    extra: int = 5\n"),
        )
        report = game.reload()
        assert report.ok and report.objects == 2 + 1  # the copy's two scripts, the plugin
        assert [s for e in edited for s in e.scripts] == old  # untouched
        assert all(not hasattr(s, "extra") for s in old)
        game.stop()
        heard = []
        edited.subscribe(heard.append)
        changed = game.take_back(edited)
        assert edited in game.scenes
        assert changed == tuple(e.handle for e in edited)
        assert heard == [ScriptsReplaced(changed)]
        new_class = game.registry.resolve(script_type_id(old[0]))
        assert all(type(s) is new_class and s.extra == 5 for e in edited for s in e.scripts)
        assert [s.steps for e in edited for s in e.scripts] == [0, 0]
        # Taken back again with nothing changed since: nothing to do, no one told.
        game.set_aside(edited)
        assert game.take_back(edited) == () and len(heard) == 1


def test_python_class_features_work_because_objects_are_rebuilt(lab):
    lab.write(
        "game/mover.py",
        """
        import dataclasses, enum, functools
        from runtime import Script, Vec2

        class Base(Script):
            def describe(self):
                return "base"

        def twice(fn):
            @functools.wraps(fn)
            def wrapper(self, ctx, dt):
                fn(self, ctx, dt)
                fn(self, ctx, dt)
            return wrapper

        class Mover(Base):
            __slots__ = ("scratch",)
            steps: int = 0

            @property
            def double(self):
                return self.steps * 2

            @classmethod
            def make(cls):
                return cls()

            @staticmethod
            def unit():
                return 1

            def describe(self):
                return "mover+" + super().describe()

            @twice
            def on_update(self, ctx, dt):
                self.steps += self.unit()
        """,
    )
    with lab.game() as game:
        game.step(1)
        a = scripts_of(game, "Mover")[0]
        assert a.steps == 2 and a.double == 4 and a.describe() == "mover+base"
        src = lab.path("game/mover.py").read_text()
        lab.write(
            "game/mover.py",
            src.replace('__slots__ = ("scratch",)', "__slots__ = ()")
            .replace("return 1", "return 5")
            .replace('"base"', '"BASE"')
            .replace("self.steps * 2", "self.steps * 3"),
        )
        report = game.reload()
        assert report.ok, report.details()
        a = scripts_of(game, "Mover")[0]
        assert a.steps == 2 and a.double == 6 and a.describe() == "mover+BASE"
        game.step(1)
        assert a.steps == 12
        assert isinstance(type(a).make(), type(a))


def test_faulted_script_is_resumed_by_a_fixing_reload(lab, caplog):
    lab.write(
        "game/mover.py", MOVER_V1.replace("self.steps += 1", "self.steps += 1\n        1 / 0")
    )
    with lab.game() as game:
        game.step(5)
        a = scripts_of(game, "Mover")[0]
        assert a.steps == 1  # raised on its first update and was paused
        assert (
            sum("ZeroDivisionError" in r.getMessage() for r in caplog.records) == 2
        )  # once per script
        lab.write("game/mover.py", MOVER_V1)
        assert game.reload().ok
        game.step(2)
        assert scripts_of(game, "Mover")[0].steps == 3


def test_old_generations_are_collected_after_50_reloads(lab):
    with lab.game() as game:
        game.step(1)
        for i in range(50):
            lab.write("game/mover.py", MOVER_V1.replace("self.steps += 1", f"self.steps += {i}"))
            assert game.reload().ok
        gc.collect()
        assert game.generations.alive() == []
        assert game.stale_references() == []


def test_stale_reference_diagnostic_names_the_holder(lab):
    with lab.game() as game:
        holder = {"kept": type(scripts_of(game, "Mover")[0])}
        assert game.reload().ok
        lines = game.stale_references()
        assert any("game.mover.Mover" in line and "a dict" in line for line in lines), lines
        del holder


def test_new_plugin_and_deleted_plugin(lab):
    with lab.game() as game:
        lab.write(
            "extra/__init__.py",
            "from runtime import Plugin\n\nclass Extra(Plugin):\n    n: int = 3\n",
        )
        report = game.reload([lab.path("extra/__init__.py")])
        assert report.ok and game.plugin("extra").n == 3
        import shutil

        shutil.rmtree(lab.path("game"))
        report = game.reload([lab.path("game")])
        assert report.ok, report.details()
        assert all(isinstance(s, PlaceholderScript) for e in game.scene for s in e.scripts)
        with pytest.raises(LookupError):
            game.plugin("game")
        game.step(2)


def test_reload_participant_commits_with_the_reload_or_rolls_it_back(lab):
    seen = []

    def prepare(fresh):
        if "refuse" in lab.path("game/mover.py").read_text():
            raise RuntimeError("participant says no")
        seen.append(("prepared", sorted(fresh)))
        return lambda: seen.append("committed")

    with lab.game() as game:
        game.add_reload_participant(prepare)
        assert game.reload().ok
        assert seen == [("prepared", ["game"]), "committed"]
        old = scripts_of(game, "Mover")[0]
        lab.write("game/mover.py", MOVER_V1 + "# refuse\n")
        report = game.reload()
        assert not report.ok and "participant says no" in report.error
        assert scripts_of(game, "Mover")[0] is old
        assert len(seen) == 2


def test_change_listeners_and_profiles(lab):
    from runtime import BuildProfile

    with lab.game(profile=BuildProfile.DEBUG) as game:
        announced = []
        game.set_change_wakeup(lambda: announced.append(game.pending_changes()))
        game.set_profile(BuildProfile.DEBUG, watch=True)  # watch, but do not reload
        assert game.watcher is not None
        lab.write("game/mover.py", MOVER_V1.replace("+= 1", "+= 2"))
        assert game.wait_for_reload(timeout=0.5) is None
        assert game.watcher.batches >= 1 and announced
        assert [Path(p).name for p in game.pending_changes()] == ["mover.py"]
        game.set_profile(BuildProfile.DEBUG_HR)
        lab.write("game/mover.py", MOVER_V1.replace("+= 1", "+= 3"))
        report = game.wait_for_reload(timeout=10)
        assert report is not None and report.ok
        game.set_profile(BuildProfile.RELEASE)
        assert game.watcher is None


def test_a_script_loaded_as_placeholder_starts_when_its_class_appears(lab):
    lab.write("game/mover.py", "# Mover does not exist yet\n")
    with lab.game() as game:
        game.step(2)
        assert isinstance(game.scene.find("A").scripts[0], PlaceholderScript)
        lab.write(
            "game/mover.py",
            MOVER_V1 + "\n    def on_init(self, ctx):\n        self.label = 'started'\n",
        )
        report = game.reload()
        assert report.ok, report.details()
        a = game.scene.find("A").scripts[0]
        assert a.label == "started"  # on_init ran at commit, as for a spawned script
        game.step(1)
        assert a.steps == 1


def test_a_failed_reload_shows_the_traceback_from_the_plugin_code_on(lab):
    with lab.game() as game:
        lab.write(
            "game/mover.py",
            MOVER_V1 + "\n\ndef boom():\n    raise RuntimeError('at import')\n\nboom()\n",
        )
        report = game.reload()
        assert not report.ok
        first_frame = report.traceback.splitlines()[1]
        assert "mover.py" in first_frame  # not importlib's or the engine's frames
        assert "RuntimeError: at import" in report.traceback
        assert "timings" not in report.details()


def test_a_declared_field_that_cannot_be_stored_is_reset_and_named(lab):
    lab.write(
        "game/mover.py",
        MOVER_V1.replace(
            "    speed: float = 2.0\n", "    speed: float = 2.0\n    hook: object = None\n"
        ),
    )
    with lab.game() as game:
        a, b = scripts_of(game, "Mover")
        a.hook = print  # a builtin: msgpack cannot hold it
        b.steps = 7
        report = game.reload()
        assert report.ok, report.details()
        a2, b2 = scripts_of(game, "Mover")
        assert a2.hook is None and b2.steps == 7  # only the bad value was reset
        (note,) = [n for n in report.warnings if n.kind == "unencodable"]
        assert note.field == "hook" and "builtin_function_or_method" in note.detail


#: A layout change (a new field): the reload rebuilds every Mover, it cannot keep them.
#: An edit whose reload rebuilds the scripts (new objects): an ``on_after_reload``
#: runs on objects of the new class before the commit, so they cannot be kept.
MOVER_V1_REBUILT = (
    MOVER_V1.replace("    speed: float = 2.0\n", "    speed: float = 2.0\n    more: int = 0\n")
    + "\n    def on_after_reload(self, ctx, report):\n        self.more = 1\n"
)


def test_old_objects_are_freed_by_the_reload_itself_not_by_a_later_gc(lab):
    import weakref

    with lab.game() as game:
        game.step(1)
        old = weakref.ref(scripts_of(game, "Mover")[0])
        lab.write("game/mover.py", MOVER_V1_REBUILT)
        gc.disable()  # a reference cycle would keep them until the collector ran
        try:
            assert game.reload().ok
            assert old() is None
        finally:
            gc.enable()


def test_stale_reference_diagnostic_follows_an_old_object_to_its_holder(lab):
    class Registry:  # a third-party registry that kept a script
        def __init__(self):
            self.listeners = {}

    registry = Registry()
    with lab.game() as game:
        registry.listeners["on_hit"] = scripts_of(game, "Mover")[0]
        lab.write("game/mover.py", MOVER_V1_REBUILT)
        assert game.reload().ok
        text = "\n".join(game.stale_references())
        assert "a Mover object of the old code, held by" in text, text
        assert "a dict, under key 'on_hit'" in text, text
        registry.listeners.clear()
        assert game.stale_references() == []


def test_a_script_reloaded_before_its_first_frame_gets_on_start_on_the_new_object(lab):
    lab.write(
        "game/mover.py",
        MOVER_V1 + "\n    def on_start(self, ctx):\n        self.label = 'started by v1'\n",
    )
    with lab.game() as game:  # scripts initialised, waiting for their first frame
        lab.write(
            "game/mover.py",
            MOVER_V1 + "\n    def on_start(self, ctx):\n        self.label = 'started by v2'\n",
        )
        assert game.reload().ok
        game.step(1)
        assert [s.label for s in scripts_of(game, "Mover")] == ["started by v2"] * 2
