"""Scripts keep their identity across a reload, their fields migrated in place.

The restore step keeps them and the commit step gives them the new class
(`runtime.reload.restore.Restored.retyped`), applying the rules' patch first
when the class's fields changed (`Restored.patches`); the snapshot is written
all the same. An ``on_after_reload``, a value stored by its class, a field
behind a property still rebuild the objects. Each case here is
held against the guarantee: state kept, new code running, a rollback leaving
the old code and the very same objects.
"""

from __future__ import annotations

from typing import Any

import pytest

from runtime.reload.restore import can_take_class
from runtime.scene import ScriptsReplaced
from runtime.scripting import Script, stash_of

from .reload_lab import Lab, entity, scripts_of

INIT = """
from runtime import Plugin

class Game(Plugin):
    ticks: int = 0

    def on_update(self, ctx, dt):
        self.ticks += 1
"""

KINDS = """
import dataclasses
import enum

class Mode(enum.Enum):
    CALM = 1
    ANGRY = 2

@dataclasses.dataclass
class Hit:
    damage: int = 1
"""

MOVER = """
from runtime import Script, Vec2

STEP = 1

class Mover(Script):
    velocity: Vec2 = Vec2(1.0, 0.0)
    steps: int = 0
    trail: list = []

    def on_start(self, ctx):
        ctx.every(0.05, "tick")

    def on_update(self, ctx, dt):
        ctx.entity.position += self.velocity
        self.steps += STEP
        self.trail.append(self.steps)
        del self.trail[:-3]

    def tick(self, ctx):
        ctx.entity.name = "ticked by v" + str(STEP)
"""

#: Scripts whose stored values name a class of the plugin: they must be rebuilt.
ENUMS = """
from runtime import Script

from .kinds import Hit, Mode

class Moody(Script):
    mode: Mode = Mode.CALM
    steps: int = 0

    def on_update(self, ctx, dt):
        self.steps += 1

class Hurt(Script):
    hit: Hit = Hit()
"""


def v(step: int, extra: str = "") -> str:
    return MOVER.replace("STEP = 1", f"STEP = {step}") + extra


@pytest.fixture
def lab(tmp_path):
    return Lab(
        tmp_path / "proj",
        {
            "game/__init__.py": INIT,
            "game/kinds.py": KINDS,
            "game/mover.py": MOVER,
            "game/moody.py": ENUMS,
        },
        [
            entity(1, "A", ("game.mover:Mover", {"velocity": [1, 0]})),
            entity(2, "B", ("game.mover:Mover", {"velocity": [0, 2]})),
            entity(3, "C", ("game.moody:Moody", {}), ("game.moody:Hurt", {})),
        ],
    )


def movers(game: Any) -> list[Any]:
    return scripts_of(game, "Mover")


def test_a_code_only_edit_keeps_the_objects_and_gives_them_the_new_class(lab):
    with lab.game() as game:
        game.step(3)
        old = movers(game)
        state = [(s.velocity, s.steps, list(s.trail)) for s in old]
        lab.write("game/mover.py", v(100))
        report = game.reload()
        assert report.ok, report.details()
        now = movers(game)
        assert all(n is o for n, o in zip(now, old, strict=True))
        assert [(s.velocity, s.steps, list(s.trail)) for s in now] == state
        new_class = game.registry.resolve("game.mover:Mover")
        assert all(type(s) is new_class for s in now)
        game.step(1)
        assert [s.steps for s in now] == [st + 100 for _, st, _ in state]
        assert not game.stale_references()  # nothing of the old code is held


def test_a_reference_held_outside_the_scene_runs_the_new_code(lab):
    with lab.game() as game:
        game.step(1)
        held = movers(game)[0]  # a registry of the game's own, say
        lab.write("game/mover.py", v(1, "\n    def speed(self):\n        return 42\n"))
        assert game.reload().ok
        assert held.speed() == 42


def test_timers_of_kept_objects_call_the_new_method_and_a_removed_one_is_dropped(lab):
    with lab.game() as game:
        game.step(3)  # on_start ran: every Mover has a timer
        lab.write("game/mover.py", v(7))
        assert game.reload().ok
        game.step(10)
        assert {e.name for e in game.scene if e.name.startswith("ticked")} == {"ticked by v7"}
        lab.write("game/mover.py", v(7).replace("def tick(self, ctx)", "def tock(self, ctx)"))
        report = game.reload()
        assert report.ok
        assert any(n.kind == "callback-dropped" for n in report.warnings), report.details()
        assert movers(game)[0].__class__.__dict__.get("tick") is None
        assert not [t for t in game.callbacks.live_timers() if t.method == "tick"]


def test_a_paused_script_resumes_when_kept(lab):
    with lab.game() as game:
        game.step(1)
        lab.write("game/mover.py", v(1).replace("self.steps += STEP", "self.steps += 1 // 0"))
        assert game.reload().ok
        game.step(1)  # raises: paused
        (a, _) = movers(game)
        assert a.__dict__.get("_hp_faulted")
        lab.write("game/mover.py", v(5))
        assert game.reload().ok
        assert movers(game)[0] is a and "_hp_faulted" not in a.__dict__
        steps = a.steps
        game.step(1)
        assert a.steps == steps + 5


def test_observers_hear_of_kept_scripts_and_the_update_list_is_built_by_the_commit(lab):
    with lab.game() as game:
        game.step(1)
        heard: list[ScriptsReplaced] = []
        game.scene.subscribe(lambda e: heard.append(e) if isinstance(e, ScriptsReplaced) else None)
        lab.write("game/mover.py", v(2))
        assert game.reload().ok
        handles = {int(h) for e in heard for h in e.handles}
        assert {1, 2} <= handles and all(e.by_reload for e in heard)
        (rs,) = game.running_scenes
        listed = rs._updaters
        assert listed is not None  # built while the collector was off, not in the frame
        game.step(1)
        assert rs._updaters is listed
        assert [s.steps for s in movers(game)] == [3, 3]


def test_a_reload_that_keeps_every_script_leaves_the_update_list_as_it_is(tmp_path):
    # Entries hold no bound method: the kept scripts' new class is found at each call,
    # so the commit touches no entry, however large the scene.
    files = {"game/__init__.py": INIT, "game/mover.py": MOVER}
    ents = [entity(1, "A", ("game.mover:Mover", {})), entity(2, "B", ("game.mover:Mover", {}))]
    lab = Lab(tmp_path / "proj", files, ents)
    with lab.game() as game:
        game.step(1)
        (rs,) = game.running_scenes
        listed = rs._updaters
        assert listed is not None
        entries = list(listed)
        lab.write("game/mover.py", v(4))
        assert game.reload().ok
        assert rs._updaters is listed
        assert all(a is b for a, b in zip(listed, entries, strict=True))
        game.step(1)
        assert [s.steps for s in movers(game)] == [5, 5]


STILL = """
from runtime import Script

class Still(Script):
    n: int = 0
"""


def test_a_kept_class_that_gains_or_loses_on_update_joins_or_leaves_the_update_list(tmp_path):
    files = {"game/__init__.py": INIT, "game/mover.py": MOVER, "game/still.py": STILL}
    ents = [entity(1, "A", ("game.mover:Mover", {})), entity(2, "B", ("game.still:Still", {}))]
    lab = Lab(tmp_path / "proj", files, ents)
    with lab.game() as game:
        game.step(1)
        (still,) = scripts_of(game, "Still")
        lab.write(
            "game/still.py", STILL + "\n    def on_update(self, ctx, dt):\n        self.n += 1\n"
        )
        assert game.reload().ok
        assert scripts_of(game, "Still") == [still]  # kept
        game.step(2)
        assert still.n == 2
        (mover,) = movers(game)
        steps = mover.steps
        lab.write("game/mover.py", v(1).replace("    def on_update", "    def on_update_not"))
        assert game.reload().ok
        assert movers(game) == [mover]
        game.step(2)
        assert mover.steps == steps  # Mover no longer updates


SPAWNER = """
from runtime import Script

from .mover import Mover

class Spawner(Script):
    done: bool = False

    def on_update(self, ctx, dt):
        if not self.done:
            self.done = True
            ctx.spawn("Spawned", scripts=[Mover()])
"""


def test_a_script_spawned_just_before_the_reload_runs_the_new_code(tmp_path):
    files = {"game/__init__.py": INIT, "game/mover.py": MOVER, "game/spawner.py": SPAWNER}
    lab = Lab(tmp_path / "proj", files, [entity(1, "S", ("game.spawner:Spawner", {}))])
    with lab.game() as game:
        game.step(1)  # spawns: the new Mover joins the update list at the next frame
        spawned = game.scene.find("Spawned")
        assert spawned is not None
        (mover,) = spawned.scripts
        lab.write("game/mover.py", v(50))
        assert game.reload().ok
        assert spawned.scripts[0] is mover
        game.step(1)
        assert mover.steps == 50


def test_a_layout_change_keeps_the_objects_and_migrates_them_in_place(lab):
    with lab.game() as game:
        game.step(2)
        old = movers(game)
        old_class = type(old[0])
        told: list[frozenset[type]] = []
        game.add_reload_participant(lambda fresh: told.append(game.migrating_in_place))
        lab.write(
            "game/mover.py",
            v(1)
            .replace("    steps: int = 0\n", "    steps: int = 0\n    hp: int = 3\n")
            .replace("    trail: list = []\n", "")
            .replace("        self.trail.append(self.steps)\n        del self.trail[:-3]\n", ""),
        )
        report = game.reload()
        assert report.ok, report.details()
        assert {(n.field, n.kind) for n in report.notes} == {("hp", "added"), ("trail", "stashed")}
        now = movers(game)
        assert all(n is o for n, o in zip(now, old, strict=True))
        assert all(type(s) is game.registry.resolve("game.mover:Mover") for s in now)
        assert [(s.velocity, s.steps, s.hp, stash_of(s)) for s in now] == [
            ((1.0, 0.0), 2, 3, {"trail": [1, 2]}),
            ((0.0, 2.0), 2, 3, {"trail": [1, 2]}),
        ]
        assert all("trail" not in vars(s) for s in now)
        # The participants knew, while they prepared, whose attributes would change.
        assert told == [frozenset({old_class})] and not game.migrating_in_place
        told.clear()
        del old_class
        game.step(1)
        assert [s.steps for s in now] == [3, 3]
        assert not game.stale_references()


def test_a_class_with_on_after_reload_is_rebuilt_and_hears_it(lab):
    hook = "\n    def on_after_reload(self, ctx, report):\n        self.heard = True\n"
    with lab.game() as game:
        game.step(1)
        old = movers(game)
        lab.write("game/mover.py", v(1, hook))
        assert game.reload().ok
        now = movers(game)
        assert all(n is not o and n.heard for n, o in zip(now, old, strict=True))


def test_enum_and_dataclass_values_are_rebuilt_as_the_new_code_s(lab):
    with lab.game() as game:
        game.step(1)
        (moody,) = scripts_of(game, "Moody")
        moody.mode = type(moody.mode).ANGRY
        old_mode_class = type(moody.mode)
        lab.write("game/kinds.py", KINDS + "\nVERSION = 2\n")
        assert game.reload().ok
        (now,) = scripts_of(game, "Moody")
        (hurt,) = scripts_of(game, "Hurt")
        kinds = sys_module(game, "game.kinds")
        assert now is not moody and now.mode is kinds.Mode.ANGRY
        assert type(now.mode) is not old_mode_class
        assert type(hurt.hit) is kinds.Hit


def test_a_stash_of_removed_fields_is_kept_with_the_object(lab):
    with lab.game() as game:
        game.step(1)
        without = v(1).replace("    trail: list = []\n", "")
        lab.write("game/mover.py", without)
        assert game.reload().ok
        before = movers(game)
        assert all("trail" in stash_of(s) for s in before)
        lab.write("game/mover.py", without.replace("STEP = 1", "STEP = 2"))
        assert game.reload().ok
        now = movers(game)
        assert all(n is o and "trail" in stash_of(n) for n, o in zip(now, before, strict=True))
        lab.write("game/mover.py", v(1))  # the field is back, with its value
        assert game.reload().ok
        assert all(s.trail == [1] and not stash_of(s) for s in movers(game))


def test_kept_objects_with_stashes_keep_them_and_a_paused_one_among_them_resumes(lab):
    """The snapshot tells stashes, paused marks and undeclared attributes apart by key counts."""
    with lab.game() as game:
        game.step(1)
        without = v(1).replace("    trail: list = []\n", "")
        lab.write("game/mover.py", without)
        assert game.reload().ok
        a, b = movers(game)
        a.__dict__["_hp_faulted"] = True  # paused, as after an exception
        lab.write("game/mover.py", without.replace("STEP = 1", "STEP = 2"))
        assert game.reload().ok
        assert movers(game) == [a, b]
        assert "_hp_faulted" not in a.__dict__
        assert all("trail" in stash_of(s) for s in (a, b))
        b.note = "undeclared"  # an attribute of its own, beside the stash (rebuilt with it)
        lab.write("game/mover.py", without.replace("STEP = 1", "STEP = 3"))
        assert game.reload().ok
        now = movers(game)
        assert now[1].note == "undeclared" and not hasattr(now[0], "note")
        assert all("trail" in stash_of(s) for s in now)
        steps = [s.steps for s in now]
        game.step(1)
        assert [s.steps for s in now] == [n + 3 for n in steps]


def test_a_stash_holding_a_value_for_a_field_is_looked_at_and_the_objects_kept(lab):
    with lab.game() as game:
        game.step(2)
        as_text = (
            v(1).replace("steps: int = 0", 'steps: str = ""').replace("self.steps += STEP", "pass")
        )
        lab.write("game/mover.py", as_text)  # 2 no longer fits: reset, 2 kept in the stash
        assert game.reload().ok
        before = movers(game)
        assert all(s.steps == "" and stash_of(s)["steps"] == 2 for s in before)
        lab.write("game/mover.py", as_text + "\nVERSION = 2\n")
        assert game.reload().ok  # a field at its default may take the stash's value: checked
        now = movers(game)
        assert all(
            n is o and n.steps == "" and stash_of(n)["steps"] == 2
            for n, o in zip(now, before, strict=True)
        )
        lab.write("game/mover.py", v(1))  # an int again: the stash gives 2 back
        report = game.reload()
        assert report.ok and ("steps", "unstashed") in {(n.field, n.kind) for n in report.notes}
        again = movers(game)
        assert all(n is o for n, o in zip(again, now, strict=True))
        assert all(n.steps == 2 and not stash_of(n) for n in again)


def test_a_refused_reload_leaves_the_kept_objects_their_old_class(lab):
    with lab.game(look_ahead_frames=5) as game:
        game.step(2)
        old = movers(game)
        old_class = type(old[0])
        lab.write("game/mover.py", v(1).replace("self.steps += STEP", "self.steps += 1 // 0"))
        report = game.reload()
        assert not report.ok and "ZeroDivisionError" in report.details()
        assert movers(game) == old and all(type(s) is old_class for s in old)
        steps = [s.steps for s in old]
        game.step(1)
        assert [s.steps for s in old] == [st + 1 for st in steps]


def test_the_look_ahead_runs_the_kept_objects_new_class(lab):
    with lab.game(look_ahead_frames=5) as game:
        game.step(2)
        lab.write(
            "game/mover.py",
            v(1, "\n    def on_update(self, ctx, dt):\n        raise KeyError('v2')\n"),
        )
        report = game.reload()
        assert not report.ok and "KeyError" in report.details(), report.details()


def test_a_participant_that_refuses_leaves_the_old_class_and_objects(lab):
    def refuse(fresh: dict[str, Any]) -> None:
        raise RuntimeError("the editor is not ready")

    with lab.game() as game:
        game.step(1)
        old = movers(game)
        old_class = type(old[0])
        game.add_reload_participant(refuse)
        lab.write("game/mover.py", v(9))
        report = game.reload()
        assert not report.ok and "not ready" in report.details()
        assert movers(game) == old and all(type(s) is old_class for s in old)
        game.step(1)
        assert [s.steps for s in old] == [2, 2]


def test_can_take_class_says_what_python_allows():
    class A(Script):
        pass

    class B(Script):
        pass

    class Slotted(Script):
        __slots__ = ("x",)

    a = A()
    assert can_take_class(a, B) and type(a) is A
    assert not can_take_class(a, Slotted) and type(a) is A


def sys_module(game: Any, name: str) -> Any:
    import sys

    return sys.modules[f"{game.plugins.namespace}.{name}"]


AIMER = """
from runtime import Handle, Script

class Aimer(Script):
    target: Handle = Handle.NONE
"""


def test_a_handle_past_64_bits_is_stored_and_comes_back_kept_or_rebuilt(tmp_path):
    """The handle columns are packed 64-bit arrays; a field may hold any int up to 2**64 - 1."""
    from runtime.values import Handle

    big = [Handle(2**63), Handle(2**64 - 1)]
    lab = Lab(
        tmp_path / "proj",
        {"game/__init__.py": INIT, "game/aim.py": AIMER},
        [entity(1, "A", ("game.aim:Aimer", {})), entity(2, "B", ("game.aim:Aimer", {}))],
    )
    with lab.game() as game:
        game.step(1)
        for s, h in zip(scripts_of(game, "Aimer"), big, strict=True):
            s.target = h
        lab.write("game/aim.py", AIMER + "\n    def aim(self):\n        return 1\n")
        report = game.reload()  # kept: only the snapshot reads the column
        assert report.ok and not report.warnings, report.details()
        rebuilt = "\n    def on_after_reload(self, ctx, report):\n        self.seen = 1\n"
        lab.write("game/aim.py", AIMER + rebuilt)
        report = game.reload()  # rebuilt: the column is decoded
        assert report.ok and not report.warnings, report.details()
        assert [s.target for s in scripts_of(game, "Aimer")] == big
        assert all(type(s.target) is Handle for s in scripts_of(game, "Aimer"))


RAISER = """
from runtime import Script

class Raiser(Script):
    n: int = 0

    def on_update(self, ctx, dt):
        self.n += 1 // 0
"""


def _refused_for_a_paused_raiser(tmp_path, source, before_reload=None):
    """Pause a Raiser (it raises), save `source` and reload with the look-ahead on.

    The new code still raises: the look-ahead must refuse it, the very same
    script staying paused. `before_reload(game)` runs just before the save.
    Returns the script's attributes after the refusal.
    """
    lab = Lab(
        tmp_path / "proj",
        {"game/__init__.py": INIT, "game/raiser.py": RAISER},
        [entity(1, "A", ("game.raiser:Raiser", {}))],
    )
    with lab.game(look_ahead_frames=5) as game:
        game.step(1)  # raises: paused
        (script,) = scripts_of(game, "Raiser")
        assert vars(script).get("_hp_faulted")
        if before_reload is not None:
            before_reload(game)
        lab.write("game/raiser.py", source)
        report = game.reload()
        assert not report.ok and "ZeroDivisionError" in report.details(), report.details()
        assert scripts_of(game, "Raiser") == [script] and vars(script).get("_hp_faulted")
        return dict(vars(script))


def test_the_look_ahead_runs_a_paused_kept_script_the_reload_resumes(tmp_path):
    """The commit resumes a paused kept script: its copy ahead must not stay paused."""
    _refused_for_a_paused_raiser(tmp_path, RAISER + "\n# a code-only edit: the script is kept\n")


#: A class whose next version changes its fields every way the rules know.
FIELDS_V1 = """
from runtime import Script, Vec2

class Mover(Script):
    velocity: Vec2 = Vec2(1.0, 0.0)
    steps: int = 0
    trail: list = []
    label: str = "a"
    level: int = 1

    def on_update(self, ctx, dt):
        self.steps += 1
        self.trail.append(self.steps)
"""

#: steps retyped (an int no longer fits: reset, stashed), trail retyped (a list no
#: longer fits a tuple), label's default changed, level removed, hp added.
FIELDS_V2 = """
from runtime import Script, Vec2

class Mover(Script):
    velocity: Vec2 = Vec2(1.0, 0.0)
    steps: str = ""
    trail: tuple = ()
    label: str = "z"
    hp: int = 3

    def on_update(self, ctx, dt):
        self.hp += 1
"""

#: Back to V1's fields but one: what the stash kept comes back where it fits.
FIELDS_V3 = FIELDS_V1.replace('    label: str = "a"\n', '    label: str = "z"\n')


def _fields_lab(root):
    return Lab(
        root,
        {"game/__init__.py": INIT, "game/mover.py": FIELDS_V1},
        [
            entity(1, "A", ("game.mover:Mover", {"velocity": [1, 0], "level": 5})),
            entity(2, "B", ("game.mover:Mover", {"velocity": [0, 2], "label": "b"})),
            entity(3, "C", ("game.mover:Mover", {})),
        ],
    )


def test_a_migration_in_place_gives_what_a_rebuild_gives(tmp_path, monkeypatch):
    """The same edits, migrated in place in one game and rebuilt in the other."""
    from runtime.reload import migrate

    def run(root, in_place: bool) -> list[Any]:
        lab = _fields_lab(root)
        seen = []
        with lab.game() as game:
            game.step(2)
            for version in (FIELDS_V2, FIELDS_V3, FIELDS_V2):
                before = movers(game)
                lab.write("game/mover.py", version)
                if in_place:
                    report = game.reload()
                else:
                    with monkeypatch.context() as m:
                        m.setattr(migrate.ClassPlan, "patch", lambda self, objs: None)
                        report = game.reload()
                assert report.ok, report.details()
                now = movers(game)
                assert all((n is o) == in_place for n, o in zip(now, before, strict=True))
                game.step(1)
                seen.append(
                    (
                        list(report.notes),
                        list(report.warnings),
                        [dict(vars(s)) for s in now],
                    )
                )
        return seen

    kept, rebuilt = run(tmp_path / "kept", True), run(tmp_path / "rebuilt", False)
    assert kept == rebuilt
    # What the rules did, by kind: every one of them ran.
    kinds = {n.kind for notes, warnings, _ in kept for n in notes + warnings}
    assert {"added", "stashed", "reset", "default-updated", "unstashed"} <= kinds, kinds


def test_a_refused_field_change_leaves_the_objects_their_class_and_state(tmp_path):
    lab = _fields_lab(tmp_path / "proj")
    with lab.game(look_ahead_frames=5) as game:
        game.step(2)
        old = movers(game)
        old_class = type(old[0])
        state = [(vars(s), dict(vars(s))) for s in old]
        lab.write("game/mover.py", FIELDS_V2.replace("self.hp += 1", "self.hp += 1 // 0"))
        report = game.reload()
        assert not report.ok and "ZeroDivisionError" in report.details(), report.details()
        assert movers(game) == old and all(type(s) is old_class for s in old)
        assert all(vars(s) is d and d == copy for s, (d, copy) in zip(old, state, strict=True))
        game.step(1)
        assert [s.steps for s in old] == [3, 3, 3]


def test_the_look_ahead_runs_the_migrated_state(tmp_path):
    lab = _fields_lab(tmp_path / "proj")
    with lab.game(look_ahead_frames=5) as game:
        game.step(2)
        old = movers(game)
        checks = "if self.hp < 3 or self.steps or self.trail or not hasattr(self, 'hp'):\n"
        source = FIELDS_V2.replace("self.hp += 1", checks + "            raise KeyError('v2')")
        lab.write("game/mover.py", source + "\n    def kept(self):\n        return 1\n")
        report = game.reload()
        assert report.ok, report.details()
        assert [s.hp for s in movers(game)] == [3, 3, 3] and movers(game) == old


def test_a_participant_that_refuses_a_field_change_leaves_the_old_state(tmp_path):
    def refuse(fresh: dict[str, Any]) -> None:
        raise RuntimeError("the editor is not ready")

    lab = _fields_lab(tmp_path / "proj")
    with lab.game() as game:
        game.step(1)
        old = movers(game)
        state = [dict(vars(s)) for s in old]
        game.add_reload_participant(refuse)
        lab.write("game/mover.py", FIELDS_V2)
        report = game.reload()
        assert not report.ok and "not ready" in report.details()
        assert movers(game) == old and [dict(vars(s)) for s in old] == state


PROPERTY_FIELD = """
from runtime import Script

class Base(Script):
    steps: int = 0
    level: int = 1

class Mover(Base):
    @property
    def level(self):
        return self.__dict__.get("_level", 0)

    @level.setter
    def level(self, value):
        self.__dict__["_level"] = value * 10
"""


def _levels_after_a_rebuild(tmp_path, source, before_reload=None):
    """Save `source` over `FIELDS_V1` and reload: the Movers must be rebuilt; their levels.

    `before_reload(movers)` runs on the scripts just before the save.
    """
    lab = _fields_lab(tmp_path / "proj")
    with lab.game() as game:
        game.step(1)
        old = movers(game)
        if before_reload is not None:
            before_reload(old)
        lab.write("game/mover.py", source)
        report = game.reload()
        assert report.ok, report.details()
        now = movers(game)
        assert all(n is not o for n, o in zip(now, old, strict=True))
        return [s.level for s in now]


def test_a_field_set_through_a_property_is_rebuilt_through_it(tmp_path):
    assert _levels_after_a_rebuild(tmp_path, PROPERTY_FIELD) == [50, 10, 10]


def test_a_field_missing_from_an_object_s_dict_rebuilds_its_class(tmp_path):
    def lose_a_level(scripts):
        del vars(scripts[1])["level"]  # the class default answers for it

    retyped = FIELDS_V1.replace("level: int = 1", "level: float = 1.0")
    assert _levels_after_a_rebuild(tmp_path, retyped, lose_a_level) == [5, 1, 1]


def test_the_look_ahead_runs_a_paused_script_migrated_in_place(tmp_path):
    """A field edit resumes a paused kept script at the commit: its copy ahead runs too."""
    edit = RAISER.replace("n: int = 0", "n: int = 0\n    extra: int = 1")
    assert "extra" not in _refused_for_a_paused_raiser(tmp_path, edit)


def test_the_look_ahead_through_a_keyframe_runs_a_paused_kept_script(tmp_path):
    """A world the copy cannot take goes through a keyframe: the kept script resumes there too."""

    def tuple_positions(game):
        for e in game.scene:
            e.position = (0.0, 0.0)  # not a Vec2: the copy falls back to a keyframe

    edit = RAISER + "\n# a code-only edit: the script is kept\n"
    _refused_for_a_paused_raiser(tmp_path, edit, tuple_positions)


THREE = """
from runtime import Script

class X(Script):
    a: int = 1

class Y(Script):
    a: int = 1
{hook}
class Z(Script):
    a: int = 1
"""


def test_a_reload_that_keeps_some_classes_reports_its_notes_in_class_order(tmp_path, monkeypatch):
    """X and Z migrated in place, Y rebuilt: the notes come as a rebuild of all three gives."""
    from runtime.reload import migrate

    hook = "\n    def on_after_reload(self, ctx, report):\n        self.heard = 1\n"
    edit = THREE.format(hook=hook).replace("    a: int = 1\n", "    a: int = 1\n    b: int = 2\n")

    def notes(root, in_place: bool) -> list[Any]:
        lab = Lab(
            root,
            {"game/__init__.py": INIT, "game/three.py": THREE.format(hook="")},
            [entity(1, "A", ("game.three:X", {}), ("game.three:Y", {}), ("game.three:Z", {}))],
        )
        with lab.game() as game, monkeypatch.context() as m:
            game.step(1)
            if not in_place:
                m.setattr(migrate.ClassPlan, "patch", lambda self, objs: None)
            lab.write("game/three.py", edit)
            report = game.reload()
            assert report.ok, report.details()
            return [(n.type_id, n.field, n.kind) for n in report.notes]

    kept = notes(tmp_path / "kept", True)
    assert kept == notes(tmp_path / "rebuilt", False)
    assert [tid for tid, _, _ in kept] == ["game.three:X", "game.three:Y", "game.three:Z"]
