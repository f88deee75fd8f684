"""The reload's column-wise walks give what a walk object by object gives.

The reload keeps its targets as columns (`runtime.reload.state.Targets`),
groups them by class, rebuilds objects of an unchanged class in one pass
(`ClassPlan.build_all`) and rebuilds the update list from the scene's script
columns (`Scene.script_columns`). Each is checked here against the plain
per-object walk it replaces, on scenes with nesting, several scripts per
entity, classes out of the reload's scope and a scene that does not run.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from runtime import Script
from runtime.fields import FieldSpec, PlainDataError, conforms, from_plain
from runtime.reload.migrate import ClassPlan
from runtime.reload.scope import find_scope
from runtime.reload.snapshot import take_snapshot
from runtime.reload.stash import stored_plain, stored_plain_column, take_all_back, take_back
from runtime.reload.state import UNENCODABLE_MARK, Notes
from runtime.scene import Scene
from runtime.scripting import STASH_KEY, PlaceholderScript, plugin_name_of

from .reload_lab import Lab, entity

CALLS = """
seen = []
"""

HOOKED = """
from runtime import Script

from . import calls


class Hooked(Script):
    n: int = 0

    def on_update(self, ctx, dt):
        self.n += 1

    def on_before_reload(self, ctx):
        calls.seen.append(("before", ctx.entity.name))

    def on_after_reload(self, ctx, report):
        calls.seen.append(("after", ctx.entity.name))


class Also(Hooked):
    pass


class Plain(Script):
    n: int = 0

    def on_update(self, ctx, dt):
        self.n += 1


class Quiet(Script):
    n: int = 0
"""

GAME_INIT = """
from runtime import Plugin

class Game(Plugin):
    pass
"""

OTHER = """
from runtime import Plugin, Script

class Other(Plugin):
    pass

class Elsewhere(Script):
    n: int = 0

    def on_update(self, ctx, dt):
        self.n += 1
"""


@pytest.fixture
def lab(tmp_path):
    hooked, plain, quiet = "game.mover:Hooked", "game.mover:Plain", "game.mover:Quiet"
    return Lab(
        tmp_path / "proj",
        {
            "game/__init__.py": GAME_INIT,
            "game/calls.py": CALLS,
            "game/mover.py": HOOKED,
            "other/__init__.py": OTHER,
        },
        [
            entity(1, "A", (hooked, {}), (plain, {})),
            entity(2, "B", (plain, {}), ("game.mover:Also", {}), parent=1),
            entity(3, "C", ("other:Elsewhere", {}), (hooked, {}), parent=2),
            entity(4, "D"),
            entity(5, "E", (quiet, {}), (plain, {}), ("other:Elsewhere", {})),
            entity(6, "F", (hooked, {}), parent=4),
        ],
    )


def _in_scope(game, names):
    """The targets of a reload of `names`, walked object by object (the plain way)."""
    out = []
    for scene in game.scenes:
        rs = game.running_scene(scene)
        for e in scene:
            for i, s in enumerate(e.scripts):
                if type(s) is PlaceholderScript or plugin_name_of(type(s)) in names:
                    out.append((s, scene, rs, e, i, ""))
    out += [(game.plugin_objects[n], None, None, None, -1, n) for n in names]
    return out


def test_targets_are_every_object_in_scope_in_scene_order_with_where_it_lives(lab):
    with lab.game() as game:
        game.add_scene(game.copy_scene(game.scene), run=False)  # an edited scene: does not run
        game.step(2)
        scope = find_scope(game.plugins, [str(lab.path("game/mover.py"))])
        snap = take_snapshot(game, scope, Notes())
        expected = _in_scope(game, scope.names)
        got = [(t.obj, t.scene, t.running, t.entity, t.index, t.plugin) for t in snap.targets]
        assert got == expected
        assert len(snap.targets) == len(expected)
        last = snap.targets[-1]
        assert (last.obj, last.plugin) == (game.plugin_objects["game"], "game")
        with pytest.raises(IndexError):
            snap.targets[len(expected)]
        # Class by class: every target once, ascending positions, all of that class.
        positions = sorted(n for _, index in snap.classes for n in index)
        assert positions == list(range(len(expected)))
        for cls, index in snap.classes:
            assert index == sorted(index)
            assert all(type(expected[n][0]) is cls for n in index)


def test_reload_hooks_run_in_scene_order_across_classes(lab):
    with lab.game() as game:
        game.step(2)
        old_calls = next(m for k, m in game.plugins.plugins["game"].modules.items() if "calls" in k)
        lab.write("game/mover.py", HOOKED.replace("self.n += 1", "self.n += 2", 1))
        report = game.reload()
        assert report.ok, report.details()
        new_calls = next(m for k, m in game.plugins.plugins["game"].modules.items() if "calls" in k)
        # Hooked scripts sit on A, C (below B, below A) and F (below D), an Also on B:
        # two classes, interleaved, between Plain ones. Hooks run in scene order.
        order = ["A", "B", "C", "F"]
        assert old_calls.seen == [("before", name) for name in order]
        assert new_calls.seen == [("after", name) for name in order]


class _Kept(Script):
    a: int = 0
    b: str = ""


def _dicts(objects):
    return [(type(o), dict(vars(o))) for o in objects]


@pytest.mark.parametrize("stash_holds_a_field", [False, True])
def test_build_all_gives_what_build_gives_object_by_object(stash_holds_a_field):
    columns = [[1, 2, 3], ["x", "y", "z"]]
    extras = [None, {"loose": 5}, None]
    states = [2, 0, 1]
    entities = [4, 0, 9]
    stashes = [None, {"gone": 7}, {"a": 8} if stash_holds_a_field else None]
    built = []
    for how in ("by row", "all"):
        plan = ClassPlan(
            Notes(), "t:Kept", _Kept, ["a", "b"], ["int", "str"], [0, ""], careful=False
        )
        assert plan.unchanged
        if how == "by row":
            rows = zip(*columns, strict=True)
            objs = [
                plan.build(*row)
                for row in zip(rows, extras, states, entities, stashes, strict=True)
            ]
        else:
            objs = plan.build_all(columns, extras, states, entities, stashes)
        built.append((_dicts(objs), plan.notes.as_tuple()))
    assert built[0] == built[1]
    (_, first), (_, second), _ = built[1][0]
    assert first == {"a": 1, "b": "x", "_hp_state": 2, "_hp_entity": 4}
    assert second["loose"] == 5 and "_hp_state" not in second and "_hp_entity" not in second


def test_build_all_fills_every_object_when_all_run_and_none_has_extras():
    plan = ClassPlan(Notes(), "t:Kept", _Kept, ["a", "b"], ["int", "str"], [0, ""], careful=False)
    objs = plan.build_all([[1, 2], ["x", "y"]], None, [2, 2], [5, 6], None)
    assert [vars(o) for o in objs] == [
        {"a": 1, "b": "x", "_hp_state": 2, "_hp_entity": 5},
        {"a": 2, "b": "y", "_hp_state": 2, "_hp_entity": 6},
    ]
    assert all(type(o) is _Kept for o in objs) and objs[0] is not objs[1]


def test_script_columns_list_every_script_in_tree_order(lab):
    with lab.game() as game:
        scene = game.scene
        columns = scene.script_columns()
        expected = [(e, i, s) for e in scene for i, s in enumerate(e.scripts)]
        got = list(zip(columns.entities, columns.indices, columns.scripts, strict=True))
        assert got == expected
        assert [e.name for e in scene] == ["A", "B", "C", "D", "F", "E"]


def test_a_flat_scene_iterates_its_roots_in_order_and_not_what_is_spawned_meanwhile():
    scene = Scene("flat")
    for name in "pqr":
        scene.spawn(name)
    seen = []
    for e in scene:
        seen.append(e.name)
        if e.name == "p":
            scene.spawn("late")
    assert seen == ["p", "q", "r"]
    assert [e.name for e in scene] == ["p", "q", "r", "late"]
    assert list(scene) == list(scene._depth_first())
    scene.spawn("child", parent=scene.roots[0])  # no longer flat: the tree walk
    assert [e.name for e in scene] == ["p", "child", "q", "r", "late"]


def test_the_update_list_skips_classes_without_on_update_and_paused_scripts(lab):
    with lab.game() as game:
        game.step(1)
        rs = game.running_scene(game.scene)
        assert rs is not None
        paused = game.scene.find("B").scripts[0]
        paused.__dict__["_hp_faulted"] = True
        rs.invalidate()
        expected = [
            (e, s)
            for e in game.scene
            for s in e.scripts
            if type(s).__name__ != "Quiet" and s is not paused
        ]
        assert rs.updaters() == expected


PAIRS = """
from runtime import Script


class Pairs(Script):
    pair: tuple = ()
    steps: int = 0

    def on_update(self, ctx, dt):
        self.steps += 1
"""


def test_a_tuple_column_keeps_tuples_and_an_unencodable_one_is_reset_alone(tmp_path):
    lab = Lab(
        tmp_path / "proj",
        {"game/__init__.py": GAME_INIT, "game/pairs.py": PAIRS},
        [entity(1, "A", ("game.pairs:Pairs", {})), entity(2, "B", ("game.pairs:Pairs", {}))],
    )
    with lab.game() as game:
        a, b = (e.scripts[0] for e in game.scene)
        a.pair, b.pair = (1.5, ("x", 2)), (3, 4)
        report = game.reload()
        assert report.ok, report.details()
        a, b = (e.scripts[0] for e in game.scene)
        assert a.pair == (1.5, ("x", 2)) and type(a.pair) is tuple and type(a.pair[1]) is tuple
        assert b.pair == (3, 4) and type(b.pair) is tuple
        a.pair = (print, 1)  # msgpack cannot hold a builtin
        report = game.reload()
        assert report.ok, report.details()
        a, b = (e.scripts[0] for e in game.scene)
        assert a.pair == () and b.pair == (3, 4) and type(b.pair) is tuple
        (note,) = [n for n in report.warnings if n.kind == "unencodable"]
        assert note.field == "pair" and note.count == 1


@pytest.mark.parametrize(
    ("stored", "annotation"),
    [
        ([1, 2.5], list[float]),
        ([1, 2.5], tuple[float, ...]),
        ([], tuple[float, ...]),
        ([True, 1.0], list[float]),
        ([10**400, 1.0], list[float]),
        ([float("inf")], list[float]),
        (["a"], list[float]),
        ("text", str),
        (True, bool),
        (1, bool),
    ],
)
def test_take_back_gives_what_from_plain_gives(stored, annotation):
    spec = FieldSpec("f", annotation, annotation())
    try:
        expected = (True, from_plain(stored, annotation))
        expected = expected if conforms(expected[1], annotation) else (False, None)
    except PlainDataError:
        expected = (False, None)
    stash = {"f": stored}
    got = take_back(stash, spec)
    assert got == expected and type(got[1]) is type(expected[1])
    assert ("f" in stash) is not got[0]


class _Retyped(Script):
    """A new layout: `speed` widened, `trail` a tuple now (a list no longer fits), `tag` retyped."""

    speed: float | int = 1.0
    trail: tuple[float, ...] = ()
    tag: int = 0


_OLD_NAMES = (["speed", "trail", "tag"], ["float", "list[float]", "str"])
#: The old defaults as stored, and not known (then no value is checked against them).
_OLD_DEFAULTS = {"known": [1.0, [], ""], "unknown": [UNENCODABLE_MARK] * 3}

RETYPED_COLUMNS = {
    # every value fits by its type, or none does, or the types disagree
    "speed fits, trail does not": [[1.5, 2.0, 3.0], [[1.0], [], [2.0, 3.0]], ["a", "b", "c"]],
    "mixed types": [[1.5, 2, "x"], [[1.0], (2.0,), None], ["a", 5, "c"]],
    "nothing": [[], [], []],
}


_STASHES = {
    "some stashed": [{"trail": [9.0, 9.5]}, None, {"tag": 7}],
    "every one stashed": [{"trail": [9.0], "tag": 1}, {"trail": [], "tag": 2}, {"trail": [0.5]}],
    "no stash": None,
}


@pytest.mark.parametrize("stashed", list(_STASHES))
@pytest.mark.parametrize("defaults", list(_OLD_DEFAULTS))
@pytest.mark.parametrize("case", list(RETYPED_COLUMNS))
def test_a_retyped_column_decided_by_type_gives_what_the_rules_give_value_by_value(
    case, defaults, stashed, monkeypatch
):
    """`ClassPlan` decides per type when types alone decide; the outcome must not change."""
    columns = RETYPED_COLUMNS[case]
    n = len(columns[0])
    stashes = (_STASHES[stashed] or [])[:n] or None
    built = []
    for how in ("value by value", "by type"):
        if how == "value by value":
            monkeypatch.setattr(ClassPlan, "_fit_by_type", lambda self, col, ann: None)
        else:
            monkeypatch.undo()
        plan = ClassPlan(
            Notes(), "t:Retyped", _Retyped, *_OLD_NAMES, _OLD_DEFAULTS[defaults], careful=False
        )
        objs = plan.build_all(
            [list(c) for c in columns],
            None,
            [2] * n,
            list(range(1, n + 1)),
            [dict(s) if s else None for s in stashes] if stashes else None,
        )
        built.append((_dicts(objs), plan.notes.as_tuple()))
    assert built[0] == built[1]


def test_a_list_where_a_tuple_is_now_declared_is_set_aside_and_a_widened_float_kept():
    """What the rules make of `_Retyped`'s layout change, whichever way the plan decides."""
    plan = ClassPlan(
        Notes(), "t:Retyped", _Retyped, *_OLD_NAMES, _OLD_DEFAULTS["known"], careful=False
    )
    columns = [[1.5, 2.0], [[1.0], [2.0, 3.0]], ["x", "y"]]
    objs = plan.build_all(columns, None, [2, 2], [1, 2], None)
    assert [(o.speed, o.trail, o.tag) for o in objs] == [(1.5, (), 0), (2.0, (), 0)]
    assert [o.__dict__[STASH_KEY] for o in objs] == [
        {"trail": [1.0], "tag": "x"},
        {"trail": [2.0, 3.0], "tag": "y"},
    ]
    kinds = {(n.field, n.kind): n.count for n in plan.notes.as_tuple()}
    assert kinds[("trail", "reset")] == 2 and kinds[("tag", "reset")] == 2
    assert not any(f == "speed" for f, _ in kinds)


_PLAIN_ATOMS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.booleans(),
    st.none(),
    st.integers(),
    st.just(UNENCODABLE_MARK),
)
_STORED_VALUES = st.one_of(
    _PLAIN_ATOMS,
    st.lists(st.floats(allow_nan=True), max_size=3),
    st.lists(st.text(max_size=2), max_size=3),
    st.tuples(st.floats(allow_nan=False), st.floats(allow_nan=False)),
    st.lists(_PLAIN_ATOMS, max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(_STORED_VALUES, max_size=6), st.lists(_PLAIN_ATOMS, max_size=6)))
@example([[1.0, math.nan]])
@example([1.5, math.inf])
@example(["a", UNENCODABLE_MARK])
@example([(1.0, 2.0), []])
@example([[1.0], ["a"]])
def test_a_column_stored_at_once_is_what_storing_value_by_value_gives(values):
    column = stored_plain_column(values)
    if column is None:
        return  # stored value by value, as before
    assert UNENCODABLE_MARK not in [v for v in values if type(v) is str]
    expected = [stored_plain(v) for v in values]
    assert column == expected
    assert [type(v) for v in column] == [type(v) for v in expected]


_KEPT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=2),
    st.booleans(),
    st.integers(min_value=-5, max_value=5),
    st.lists(st.one_of(st.floats(allow_nan=True), st.integers(-3, 3)), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.none(), _KEPT), max_size=5),
    st.sampled_from([float, str, bool, int, list[float], tuple[float, ...], float | None]),
)
@example([math.nan], float)
@example([1.5, math.inf], float)
@example([[1.0, math.nan]], list[float])
@example([[1.0, 2]], tuple[float, ...])
@example([3, 4], int)
@example([True, 1], bool)
def test_taking_a_column_back_at_once_is_taking_it_back_stash_by_stash(kept, annotation):
    stashes = [{} if v is None else {"f": v, "other": 1} for v in kept]
    spec = FieldSpec("f", annotation, None)
    by_stash = [dict(s) for s in stashes]
    expected = [take_back(s, spec) for s in by_stash]
    at_once = [dict(s) for s in stashes]
    taken = take_all_back(at_once, spec)
    if taken is None:
        assert at_once == stashes  # untouched: decided stash by stash
        return
    assert all(back for back, _ in expected)
    assert taken == [v for _, v in expected]
    assert [type(v) for v in taken] == [type(v) for _, v in expected]
    assert at_once == by_stash
