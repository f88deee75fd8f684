"""The reload transaction step by step: each step alone, and a commit that nothing can spoil.

A scene observer, a reload participant's commit function or an ``on_reload``
listener that raises runs after every swap is done: the reload stands, the
report is recorded and the error is logged with its traceback.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from runtime import Script
from runtime.reload import STEPS
from runtime.reload.migrate import ClassPlan
from runtime.reload.prepare import prepare_participants
from runtime.reload.report import StepClock, make_report
from runtime.reload.restore import restore_objects
from runtime.reload.scope import find_scope
from runtime.reload.snapshot import take_snapshot
from runtime.reload.state import Notes, ReloadFailed
from runtime.scene import ScriptsReplaced
from runtime.scripting import stash_of

from .reload_lab import Lab, entity, scripts_of

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "hot-reload.md"

INIT = """
from runtime import Plugin

class Game(Plugin):
    pass
"""

COUNTER_V1 = """
from runtime import Script

class Counter(Script):
    steps: int = 0

    def on_update(self, ctx, dt):
        self.steps += 1
"""

COUNTER_V2 = COUNTER_V1.replace("self.steps += 1", "self.steps += 100")

HELPER = """
VALUE = 1
"""

USER = """
from runtime import Plugin
from ..game import mover  # noqa: F401  (makes this plugin depend on "game")

class User(Plugin):
    pass
"""


@pytest.fixture
def lab(tmp_path):
    return Lab(
        tmp_path / "proj",
        {"game/__init__.py": INIT, "game/mover.py": COUNTER_V1, "game/helper.py": HELPER},
        [entity(1, "A", ("game.mover:Counter", {})), entity(2, "B", ("game.mover:Counter", {}))],
    )


def _errors(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR and text in r.getMessage()]


def _new_code_runs(game) -> bool:
    before = [s.steps for s in scripts_of(game, "Counter")]
    game.step(1)
    return [s.steps for s in scripts_of(game, "Counter")] == [n + 100 for n in before]


# --- notify: after every swap, whatever raises -------------------------------------------


def test_a_scene_observer_that_raises_does_not_half_apply_the_reload(lab, caplog):
    committed = []
    with lab.game() as game:
        game.step(3)

        def observer(event):
            if isinstance(event, ScriptsReplaced):
                raise RuntimeError("observer broke")

        game.scene.subscribe(observer)
        game.add_reload_participant(lambda fresh: lambda: committed.append(sorted(fresh)))
        lab.write("game/mover.py", COUNTER_V2)
        with caplog.at_level(logging.ERROR, logger="hotplay"):
            report = game.reload()  # must not raise
        assert report.ok, report.details()
        assert game.reports[-1] is report and game.reload_count == 1
        assert committed == [["game"]]  # the participant still committed
        assert _new_code_runs(game)
        (record,) = _errors(caplog, "observer of scene")
        assert record.exc_info is not None and "observer broke" in str(record.exc_info[1])


def test_a_participant_commit_that_raises_is_logged_with_its_traceback(lab, caplog):
    later = []

    def broken_commit() -> None:
        raise RuntimeError("commit broke")

    with lab.game() as game:
        game.add_reload_participant(lambda fresh: broken_commit)
        game.add_reload_participant(lambda fresh: lambda: later.append("committed"))
        lab.write("game/mover.py", COUNTER_V2)
        with caplog.at_level(logging.ERROR, logger="hotplay"):
            report = game.reload()
        assert report.ok and game.reports[-1] is report
        assert later == ["committed"]
        assert _new_code_runs(game)
        (record,) = _errors(caplog, "reload participant failed at commit")
        assert record.exc_info is not None and "commit broke" in str(record.exc_info[1])


def test_a_reload_listener_that_raises_does_not_make_reload_raise(lab, caplog):
    heard = []

    def broken_listener(report) -> None:
        raise RuntimeError("listener broke")

    with lab.game() as game:
        game.on_reload(broken_listener)
        game.on_reload(heard.append)
        lab.write("game/mover.py", COUNTER_V2)
        with caplog.at_level(logging.ERROR, logger="hotplay"):
            report = game.reload()  # documented never to raise for such errors
        assert report.ok and heard == [report] and game.reports[-1] is report
        assert _new_code_runs(game)
        (record,) = _errors(caplog, "reload listener failed")
        assert record.exc_info is not None and "listener broke" in str(record.exc_info[1])


# --- the steps alone ------------------------------------------------------------------------


def test_scope_takes_the_plugin_of_a_path_and_every_plugin_importing_it(lab):
    lab.write("user/__init__.py", USER)
    with lab.game() as game:
        scope = find_scope(game.plugins, [str(lab.path("game/helper.py"))])
        assert scope.names == ("game", "user") and scope.to_load == ("game", "user")
        assert scope.removed == ()
        assert find_scope(game.plugins, [str(lab.root / "README.md")]).names == ()


def test_snapshot_and_restore_build_a_new_side_and_leave_the_game_alone(lab):
    with lab.game() as game:
        game.step(2)
        old = scripts_of(game, "Counter")
        lab.write("game/mover.py", COUNTER_V2)
        scope = find_scope(game.plugins, [str(lab.path("game/mover.py"))])
        notes = Notes()
        snap = take_snapshot(game, scope, notes)
        assert isinstance(snap.blob, bytes) and len(snap.targets) == 3  # 2 scripts, 1 plugin
        fresh = game.plugins.import_aside(scope.to_load)
        clock = StepClock(None)
        restored = restore_objects(
            game, scope, snap, fresh, notes, lambda: make_report(scope, None, clock)
        )
        new = [o for o in restored.objects if type(o).__name__ == "Counter"]
        assert [s.steps for s in new] == [2, 2]
        # The same fields: the very objects are kept, to take the new class at commit.
        assert all(n is o for n, o in zip(new, old, strict=True))
        old_class = type(old[0])
        assert restored.retyped[old_class] is fresh["game"].scripts["game.mover:Counter"]
        # Dropping the new side is the whole rollback: the game never saw it.
        assert all(type(s) is old_class for s in scripts_of(game, "Counter"))
        assert scripts_of(game, "Counter") == old
        game.step(1)
        assert [s.steps for s in scripts_of(game, "Counter")] == [3, 3]


def test_prepare_collects_commit_functions_and_a_refusal_fails_the_step():
    def ready(fresh):
        return lambda: None

    def indifferent(fresh):
        return None

    def refusing(fresh):
        raise ValueError("not now")

    assert len(prepare_participants([ready, indifferent, ready], {})) == 2
    with pytest.raises(ReloadFailed, match="not now"):
        prepare_participants([ready, refusing], {})


def test_timings_are_keyed_by_the_steps_and_the_guide_lists_the_same_steps(lab):
    with lab.game() as game:
        lab.write("game/mover.py", COUNTER_V2)
        report = game.reload(detected_at=0.0)
        assert list(report.timings) == list(STEPS)
    listed = re.findall(r"^\d+\. \*\*(\w+)\*\*", GUIDE.read_text(encoding="utf-8"), re.M)
    assert [s.lower() for s in listed] == [*STEPS, "report"]


def test_a_class_plan_applies_the_migration_rules_without_a_game():
    class Reworked(Script):
        kept: int = 0
        retyped: str = "x"
        added: float = 1.5
        new_default: int = 7

    notes = Notes()
    stored = ["kept", "retyped", "gone", "new_default"]
    plan = ClassPlan(notes, "t:Old", Reworked, stored, ["int"] * 4, [0, 0, 0, 5], careful=False)
    obj = plan.build([3, 4, 9, 5], None, 0, 0, {"added": 2.5})
    assert type(obj) is Reworked
    assert (obj.kept, obj.retyped, obj.added, obj.new_default) == (3, "x", 2.5, 7)
    assert not hasattr(obj, "gone")
    assert stash_of(obj) == {"gone": 9, "retyped": 4}  # what left, kept aside
    assert {(n.field, n.kind) for n in notes.as_tuple()} == {
        ("added", "added"),
        ("added", "unstashed"),
        ("gone", "stashed"),
        ("retyped", "reset"),
        ("new_default", "default-updated"),
    }
