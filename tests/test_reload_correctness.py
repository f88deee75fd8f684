"""Reload correctness, issue 14: the migration rules at every depth, failures a save can fix.

Each test names the bug of the issue it pins down ("item N").
"""

from __future__ import annotations

import json

import pytest

from runtime import BuildProfile, PlaceholderScript
from runtime.scripting import stash_of

from .reload_lab import Lab, entity, scripts_of

INIT = """
from runtime import Plugin

class Game(Plugin):
    ticks: int = 0
"""


def make_lab(tmp_path, files, *entities):
    return Lab(tmp_path / "proj", {"game/__init__.py": INIT, **files}, list(entities))


SLOTTED = """
from runtime import Script

class S(Script):
    __slots__ = ("a",)
    a: int  # a slot cannot have a class default: it starts at 0
    hooks: int = 0
    fired: int = 0
    deinits: int = 0

    def on_init(self, ctx):
        ctx.every(0.1, "tick")

    def tick(self, ctx):
        self.fired += 1

    def on_before_reload(self, ctx):
        self.hooks += 1
        self.loose = "kept"

    def on_deinit(self, ctx):
        type(self).deinits_seen.append(self.hooks)
"""


def test_slots_script_keeps_its_lifecycle_across_reloads(tmp_path):
    """Item 1: a ``__slots__`` script still has a __dict__; three reloads run the hook 3 times."""
    lab = make_lab(tmp_path, {"game/s.py": SLOTTED}, entity(1, "A", ("game.s:S", {})))
    with lab.game() as game:
        game.step(2)
        for n in range(3):
            lab.write("game/s.py", SLOTTED + f"\nVERSION = {n}\n")
            report = game.reload()
            assert report.ok, report.details()
            assert not report.warnings, report.details()
        (s,) = scripts_of(game, "S")
        assert s.hooks == 3
        assert s.loose == "kept"
        fired = s.fired
        game.step(30)
        assert s.fired > fired  # the timer still fires on the new object
        seen: list[int] = []
        type(s).deinits_seen = seen
        game.stop()
        assert seen == [3]  # on_deinit ran on the live object


PLAIN = """
from runtime import Script

class P(Script):
    n: int = 0

    def on_update(self, ctx, dt):
        self.n += 1
"""

RAISING_HOOK = (
    PLAIN
    + """
    def on_before_reload(self, ctx):
        raise RuntimeError("hook is broken")
"""
)


def test_the_save_that_removes_a_raising_before_reload_hook_reloads(tmp_path):
    """Item 4: the old code's raising hook is a warning, so the next save can remove it."""
    lab = make_lab(tmp_path, {"game/p.py": PLAIN}, entity(1, "A", ("game.p:P", {})))
    with lab.game() as game:
        game.step(3)
        lab.write("game/p.py", RAISING_HOOK)
        assert game.reload().ok  # the old code had no hook
        game.step(1)
        lab.write("game/p.py", PLAIN.replace("self.n += 1", "self.n += 10"))
        report = game.reload()
        assert report.ok, report.details()
        assert [n.kind for n in report.warnings] == ["hook-failed"]
        assert "p.py:10: RuntimeError: hook is broken" in str(report.warnings[0])
        game.step(1)
        assert scripts_of(game, "P")[0].n == 14  # state kept, new code runs
        lab.write("game/p.py", PLAIN)
        assert not game.reload().warnings  # the hook is gone for good


def test_keyboard_interrupt_at_import_is_a_failed_reload_in_the_report(tmp_path):
    """Item 5: KeyboardInterrupt at import went to stderr only; now the report names the line."""
    lab = make_lab(tmp_path, {"game/p.py": PLAIN}, entity(1, "A", ("game.p:P", {})))
    with lab.game() as game:
        lab.write("game/p.py", PLAIN + "\nraise KeyboardInterrupt\n")
        report = game.reload()
        assert not report.ok
        assert "p.py:9: " in report.error and "KeyboardInterrupt" in report.error, report.error
        game.step(1)
        assert scripts_of(game, "P")[0].n == 1


KINDS = """
import dataclasses

@dataclasses.dataclass
class Hit:
    damage: int = 1
"""

STRICT_KINDS = (
    KINDS
    + """
    def __post_init__(self):
        if self.damage < 5:
            raise ValueError("damage must be at least 5")
"""
)

HITTER = """
from __future__ import annotations

from runtime import Script

from .kinds import Hit


class Hitter(Script):
    hit: Hit = Hit(5)
"""


@pytest.mark.parametrize(
    "file, source, where, error",
    [
        ("game/kinds.py", STRICT_KINDS, "kinds.py:9", "RebuildError"),
        ("game/hitter.py", HITTER.replace("hit: Hit", "hit: Hitt"), "hitter.py:9", "Hitt"),
        ("game/hitter.py", HITTER.replace("Hit(5)", "Hit(5)\x00"), "hitter.py:9:1", "NUL"),
    ],
    ids=["value-rejected", "unresolvable-annotation", "nul-byte"],
)
def test_every_failure_names_the_users_file_and_line(tmp_path, file, source, where, error):
    """Item 5: the one-line report of each failure names the plugin file and line."""
    lab = make_lab(
        tmp_path,
        {"game/kinds.py": KINDS, "game/hitter.py": HITTER},
        entity(1, "A", ("game.hitter:Hitter", {"hit": {"damage": 1}})),
    )
    with lab.game() as game:
        lab.write(file, source)
        report = game.reload()
        assert not report.ok
        assert where in report.error and error in report.error, report.error
        assert report.error.startswith(str(lab.path(file))), report.error
        if "SyntaxError" in report.error:
            return  # stopped at the build step: nothing ran, there is no traceback
        assert str(lab.path(file)) in report.traceback, report.traceback
        assert "runtime" not in report.traceback.splitlines()[1], report.traceback


TRUTHLESS = """
import dataclasses

from runtime import Script


class Ambiguous:
    def __bool__(self):
        raise ValueError("the truth value of an array is ambiguous")


@dataclasses.dataclass(eq=False)
class Grid:
    cells: list = dataclasses.field(default_factory=list)

    def __eq__(self, other):  # numpy-like: == answers elementwise
        return Ambiguous()


class A(Script):
    grid: Grid = Grid([1, 2])
    n: int = 0
"""


def test_a_default_whose_equality_has_no_truth_value_does_not_break_reloads(tmp_path):
    """Item 6: a default with a numpy-like ``==`` made every later reload of its plugin fail."""
    lab = make_lab(
        tmp_path, {"game/a.py": TRUTHLESS}, entity(1, "A", ("game.a:A", {"grid": {"cells": [7]}}))
    )
    with lab.game() as game:
        lab.write("game/a.py", TRUTHLESS + "\nUNRELATED = 1\n")
        report = game.reload()
        assert report.ok and not report.warnings, report.details()
        lab.write("game/a.py", TRUTHLESS.replace("n: int = 0", "n: int = 5"))
        report = game.reload()
        assert report.ok and not report.warnings, report.details()
        (a,) = scripts_of(game, "A")
        assert (a.grid.cells, a.n) == ([7], 5)
        lab.write("game/a.py", TRUTHLESS.replace("Grid([1, 2])", "Grid([3])"))
        assert game.reload().ok
        assert scripts_of(game, "A")[0].grid.cells == [7]  # not at the old default: kept


COUNTER = """
from runtime import Script

class C(Script):
    n: int = 0
    label: str = "x"
    speed: float = 1.0

    def on_update(self, ctx, dt):
        self.n += 1
"""


def test_a_dropped_field_is_stashed_saved_with_the_scene_and_comes_back(tmp_path):
    """Reversible reloads: a removed or retyped field's value waits in the stash."""
    lab = make_lab(
        tmp_path,
        {"game/c.py": COUNTER},
        entity(1, "A", ("game.c:C", {"label": "mine", "speed": 3.0})),
    )
    with lab.game() as game:
        game.step(4)
        lab.write(
            "game/c.py",
            COUNTER.replace('    label: str = "x"\n', "").replace("float = 1.0", 'str = "fast"'),
        )
        report = game.reload()
        assert report.ok
        assert {(n.field, n.kind) for n in report.warnings} == {
            ("label", "stashed"),
            ("speed", "reset"),
        }
        (c,) = scripts_of(game, "C")
        assert stash_of(c) == {"label": "mine", "speed": 3.0}
        saved = tmp_path / "saved.scene.json"
        game.save_scene(game.scene, saved)
        (entry,) = json.loads(saved.read_text())["entities"][0]["scripts"]
        assert entry["stash"] == {"label": "mine", "speed": 3.0}
        # Saved and opened again (as the editor does), the stash is the same.
        loaded = game.load_scene(saved)
        assert stash_of(loaded[1].scripts[0]) == {"label": "mine", "speed": 3.0}
        game.add_scene(loaded, run=False)
        lab.write("game/c.py", COUNTER)
        report = game.reload()
        assert report.ok and not report.warnings, report.details()
        for scene in (game.scene, loaded):
            (c,) = scene[1].scripts
            assert (c.n, c.label, c.speed) == (4, "mine", 3.0)
            assert stash_of(c) == {}


KEEP = """
import dataclasses
import enum

from runtime import Script


class Mode(enum.Enum):
    IDLE = 1
    RUN = 2


@dataclasses.dataclass
class Hit:
    damage: int = 1
    kind: Mode = Mode.IDLE


class K(Script):
    mode: Mode = Mode.IDLE
    hit: Hit = dataclasses.field(default_factory=Hit)
    hits: list[Hit] = []
"""


def test_a_class_deleted_with_its_enum_and_dataclass_keeps_their_data_as_the_scene_file_does(
    tmp_path,
):
    """Item 2: the placeholder held the engine's internal form and saved it; now scene data."""
    lab = make_lab(
        tmp_path,
        {"game/keep.py": KEEP},
        entity(
            1,
            "A",
            (
                "game.keep:K",
                {
                    "mode": "RUN",
                    "hit": {"damage": 3, "kind": "RUN"},
                    "hits": [{"damage": 4, "kind": "IDLE"}],
                },
            ),
        ),
    )
    with lab.game() as game:
        lab.write("game/keep.py", "# everything deleted\n")
        assert game.reload().ok
        (ph,) = game.scene[1].scripts
        assert type(ph) is PlaceholderScript
        expected = {
            "mode": "RUN",
            "hit": {"damage": 3, "kind": "RUN"},
            "hits": [{"damage": 4, "kind": "IDLE"}],
        }
        assert ph.data == expected
        saved = tmp_path / "saved.scene.json"
        game.save_scene(game.scene, saved)
        assert "hotplay_plugins" not in saved.read_text()
        assert json.loads(saved.read_text())["entities"][0]["scripts"][0]["fields"] == expected
        lab.write("game/keep.py", KEEP)
        report = game.reload()
        assert report.ok and not report.warnings, report.details()
        (k,) = game.scene[1].scripts
        mode = type(k.mode)
        assert k.mode is mode.RUN
        assert (k.hit.damage, k.hit.kind) == (3, mode.RUN)
        assert [(h.damage, h.kind) for h in k.hits] == [(4, mode.IDLE)]


PLUGIN_WITH_STATE = """
from runtime import Plugin

class Game(Plugin):
    score: int = 0
    name: str = "game"

    def on_update(self, ctx, dt):
        self.score += 1
"""


@pytest.mark.parametrize("how", ["emptied", "deleted", "renamed", "init-renamed"])
def test_the_plugin_objects_state_survives_its_class_or_package_going_away(tmp_path, how):
    """Item 9: emptying, deleting or renaming a plugin's __init__.py or package, then undoing it."""
    lab = Lab(
        tmp_path / "proj",
        {"game/__init__.py": PLUGIN_WITH_STATE, "game/c.py": COUNTER},
        [entity(1, "A", ("game.c:C", {}))],
    )
    package = lab.path("game")
    with lab.game() as game:
        game.start()
        game.step(5)
        game.plugin("game").name = "renamed by the user"
        if how == "emptied":
            lab.write("game/__init__.py", "")
        elif how == "deleted":
            moved = tmp_path / "away"
            package.rename(moved)
        elif how == "renamed":
            package.rename(package.with_name("game2"))
        else:
            (package / "__init__.py").rename(package / "__init__.py.bak")
        report = game.reload()
        assert report.ok, report.details()
        if how == "emptied":
            assert stash_of(game.plugin("game")) == {"score": 5, "name": "renamed by the user"}
        else:
            assert "game" not in game.plugin_objects
        # Undo it.
        if how == "emptied":
            lab.write("game/__init__.py", PLUGIN_WITH_STATE)
        elif how == "deleted":
            moved.rename(package)
        elif how == "renamed":
            package.with_name("game2").rename(package)
        else:
            (package / "__init__.py.bak").rename(package / "__init__.py")
        report = game.reload()
        assert report.ok, report.details()
        plugin = game.plugin("game")
        assert (plugin.score, plugin.name) == (5, "renamed by the user")
        assert stash_of(plugin) == {}
        game.step(1)
        assert game.plugin("game").score == 6


NESTED = """
import dataclasses

from runtime import Script


@dataclasses.dataclass
class Stats:
    hp: int = 10
    armour: int = 0
    speed: int = 1


class Unit(Script):
    stats: Stats = dataclasses.field(default_factory=Stats)
    squad: list[Stats] = []
"""


def test_nested_dataclass_fields_follow_the_same_rules_at_every_depth(tmp_path):
    """Item 7: inside a dataclass, drops were silent, type changes kept, defaults ignored."""
    lab = make_lab(
        tmp_path,
        {"game/unit.py": NESTED},
        entity(
            1,
            "A",
            (
                "game.unit:Unit",
                {"stats": {"hp": 7, "armour": 3}, "squad": [{"hp": 5, "armour": 2}]},
            ),
        ),
    )
    with lab.game() as game:
        lab.write(
            "game/unit.py",
            NESTED.replace("    armour: int = 0\n", "")  # removed
            .replace("hp: int = 10", 'hp: str = "full"')  # int -> str
            .replace("speed: int = 1", "speed: int = 2"),  # default changed
        )
        report = game.reload()
        assert report.ok, report.details()
        notes = {(n.type_id, n.field, n.kind) for n in report.notes}
        assert {
            ("game.unit:Stats", "armour", "stashed"),
            ("game.unit:Stats", "hp", "reset"),
            ("game.unit:Stats", "speed", "default-updated"),
        } <= notes, report.details()
        (u,) = scripts_of(game, "Unit")
        assert (u.stats.hp, u.stats.speed) == ("full", 2)
        assert not hasattr(u.stats, "armour")
        assert [(s.hp, s.speed) for s in u.squad] == [("full", 2)]
        assert stash_of(u) == {"stats.armour": 3, "stats.hp": 7}
        lab.write("game/unit.py", NESTED.replace("speed: int = 1", "speed: int = 2"))
        report = game.reload()
        assert report.ok, report.details()
        (u,) = scripts_of(game, "Unit")
        assert (u.stats.hp, u.stats.armour, u.stats.speed) == (7, 3, 2)  # back from the stash
        assert stash_of(u) == {}
        assert [(s.hp, s.armour) for s in u.squad] == [(10, 0)]  # in a list: reported, not kept


INITS = """
from runtime import Plugin, Script

PALETTE = ["red", "green"]


class Game(Plugin):
    started: int = 0

    def on_init(self, ctx):
        self.started += 1


class W(Script):
    inits: int = 0
    starts: int = 0

    def on_init(self, ctx):
        self.inits += 1
        self.palette = PALETTE

    def on_start(self, ctx):
        self.starts += 1
"""


def test_changes_that_did_not_run_are_reported_with_their_objects_and_can_be_rerun(tmp_path):
    """ "Changed but did not run": on_init/on_start already ran; a module value kept elsewhere."""
    lab = Lab(
        tmp_path / "proj",
        {"game/__init__.py": INITS},
        [entity(1, "A", ("game:W", {})), entity(2, "B", ("game:W", {}))],
    )
    with lab.game() as game:
        game.start()
        game.step(2)
        lab.write("game/__init__.py", INITS + "\nX = 1\n")  # nothing that did not run
        report = game.reload()
        assert report.ok and report.unapplied == (), report.details()
        lab.write(
            "game/__init__.py",
            INITS.replace("self.inits += 1", "self.inits += 10")
            .replace("self.started += 1", "self.started += 10")
            .replace('"green"]', '"blue"]'),
        )
        report = game.reload()
        assert report.ok, report.details()
        by_what = {(u.type_id, u.what): u for u in report.unapplied}
        assert set(by_what) == {
            ("game:W", "on_init"),
            ("game:Game", "on_init"),
            ("game:W", "game.PALETTE"),
        }
        kept = by_what[("game:W", "game.PALETTE")]
        assert (kept.kind, kept.entities, kept.detail) == ("module-value", (1, 2), "W.palette")
        hook = by_what[("game:W", "on_init")]
        assert hook.entities == (1, 2) and hook.kind == "hook"
        assert "changed but already ran on 2 objects" in str(hook)
        assert "did not run: " in report.details()
        a, b = scripts_of(game, "W")
        assert (a.inits, a.starts) == (1, 1)
        assert game.rerun(hook) == 2
        assert (a.inits, b.inits, a.starts) == (11, 11, 1)
        assert game.rerun(by_what[("game:Game", "on_init")]) == 1
        assert game.plugin("game").started == 11
        assert a.palette == ["red", "blue"]  # on_init ran again, with the new module value


FOUR_FIELDS = """
from runtime import Script, Vec2


class Ship(Script):
    hp: int = 100
    name: str = "ship"
    heading: Vec2 = Vec2(1.0, 0.0)
    fuel: float = 10.0
    cargo: list[str] = []

    def on_update(self, ctx, dt):
        self.fuel -= 0.5
"""


def test_a_save_written_in_two_parts_keeps_the_state(tmp_path):
    """Item 8: a file written in two parts, the first ending at a line boundary, wiped state.

    The first part compiles and declares one field of five: its reload sets four
    aside (with warnings); the second part brings them back, values included.
    """
    state = {"hp": 42, "name": "Nostromo", "heading": [0, 1], "fuel": 3.5, "cargo": ["ore"]}
    lab = make_lab(
        tmp_path, {"game/ship.py": FOUR_FIELDS}, entity(1, "A", ("game.ship:Ship", state))
    )
    path = lab.path("game/ship.py")
    text = path.read_text()
    cut = text.index("    name: str")  # the first part ends at a line boundary
    with lab.game(profile=BuildProfile.DEBUG_HR, quiet_ms=20) as game:
        game.step(1)
        with path.open("w") as f:
            f.write(text[:cut])
            f.flush()
            first = game.wait_for_reload(timeout=10)  # the watcher saw the half file
            assert first is not None and first.ok, first
            assert {n.field for n in first.warnings} == {"name", "heading", "fuel", "cargo"}
            f.write(text[cut:])
        second = game.wait_for_reload(timeout=10)
        assert second is not None and second.ok and not second.warnings, second.details()
        (ship,) = scripts_of(game, "Ship")
        assert (ship.hp, ship.name, ship.heading, ship.fuel, ship.cargo) == (
            42,
            "Nostromo",
            (0.0, 1.0),
            3.0,
            ["ore"],
        )
        assert stash_of(ship) == {}
