"""Scenarios of IPython's autoreload tests (``IPython/extensions/tests/test_autoreload.py``).

IPython patches live objects in place; Hotplay rebuilds them from the new classes.
The expectations below are the ones a user of either has: new code runs on old
objects, new names appear, removed ones go, a broken module keeps the old code.
"""

from __future__ import annotations

from ..reload_lab import scripts_of

BASE = """
import enum

from runtime import Script


class Color(enum.Enum):
    RED = 1
    GREEN = 2


def helper(x):
    return x + 1


class Thing(Script):
    n: int = 0
    color: Color = Color.RED

    def on_update(self, ctx, dt):
        self.n = helper(self.n)

    @property
    def double(self):
        return self.n * 2
"""


def test_changed_function_runs_on_existing_objects(project):
    """From ``test_smoketest_autoreload``: a changed function is used at once."""
    lab = project({"thing.py": BASE}, ("thing:Thing", {}))
    with lab.game() as game:
        game.step(2)
        lab.write("thing.py", BASE.replace("return x + 1", "return x + 100"))
        assert game.reload().ok
        game.step(1)
        assert scripts_of(game, "Thing")[0].n == 102


def test_changed_property_and_new_method(project):
    """From the property and "new method is available on old instances" checks."""
    lab = project({"thing.py": BASE}, ("thing:Thing", {"n": 3}))
    with lab.game() as game:
        lab.write(
            "thing.py",
            BASE.replace("return self.n * 2", "return self.n * 3")
            + "\n    def triple(self):\n        return self.n * 3\n",
        )
        assert game.reload().ok
        (t,) = scripts_of(game, "Thing")
        assert t.double == 9 and t.triple() == 9


def test_enum_member_added_and_value_kept(project):
    """From ``test_reload_enums``: an enum gains a member; stored members stay the same member."""
    lab = project({"thing.py": BASE}, ("thing:Thing", {"color": "GREEN"}))
    with lab.game() as game:
        lab.write("thing.py", BASE.replace("GREEN = 2", "GREEN = 2\n    BLUE = 3"))
        report = game.reload()
        assert report.ok and not report.warnings, report.details()
        (t,) = scripts_of(game, "Thing")
        assert t.color.name == "GREEN" and type(t.color).BLUE.value == 3


def test_enum_member_removed_is_reset_and_kept_aside(project):
    """From ``test_reload_enums`` in reverse: the member a value uses disappears."""
    from runtime.scripting import stash_of

    lab = project({"thing.py": BASE}, ("thing:Thing", {"color": "GREEN"}))
    with lab.game() as game:
        lab.write("thing.py", BASE.replace("    GREEN = 2\n", ""))
        report = game.reload()
        assert report.ok and [n.kind for n in report.warnings] == ["reset"]
        (t,) = scripts_of(game, "Thing")
        assert t.color.name == "RED" and stash_of(t) == {"color": "GREEN"}
        lab.write("thing.py", BASE)
        assert game.reload().ok
        assert scripts_of(game, "Thing")[0].color.name == "GREEN"


def test_new_module_level_names_are_available(project):
    """From ``test_autoload_newly_added_objects``: new functions and classes appear on reload."""
    lab = project({"thing.py": BASE}, ("thing:Thing", {}))
    with lab.game() as game:
        lab.write(
            "thing.py",
            BASE.replace("self.n = helper(self.n)", "self.n = added(self.n)")
            + "\n\ndef added(x):\n    return x + 5\n",
        )
        assert game.reload().ok
        game.step(1)
        assert scripts_of(game, "Thing")[0].n == 5


def test_removed_function_fails_like_the_code_says(project):
    """From the "function removed from the module" check: calling it is an error of the code."""
    lab = project({"thing.py": BASE}, ("thing:Thing", {}))
    with lab.game() as game:
        lab.write("thing.py", BASE.replace("def helper(x):\n    return x + 1\n", ""))
        assert game.reload().ok  # the module imports: the call happens later
        game.step(1)  # the script raises NameError, is reported and paused
        (t,) = scripts_of(game, "Thing")
        assert t.__dict__.get("_hp_faulted")
        lab.write("thing.py", BASE)
        assert game.reload().ok  # the fixing save resumes it
        game.step(1)
        assert scripts_of(game, "Thing")[0].n == 1


def test_syntax_error_keeps_the_old_module(project):
    """From ``test_smoketest_aimport`` with a broken module: the old code goes on running."""
    lab = project({"thing.py": BASE}, ("thing:Thing", {}))
    with lab.game() as game:
        lab.write("thing.py", BASE + "\ndef broken(:\n")
        report = game.reload()
        assert not report.ok and "thing.py:" in report.error
        game.step(1)
        assert scripts_of(game, "Thing")[0].n == 1


def test_class_attribute_change_reaches_old_objects(project):
    """From the class-attribute checks: a changed class constant is seen by existing objects."""
    src = BASE.replace("    n: int = 0\n", "    n: int = 0\n    STEP = 1\n").replace(
        "self.n = helper(self.n)", "self.n += self.STEP"
    )
    lab = project({"thing.py": src}, ("thing:Thing", {}))
    with lab.game() as game:
        lab.write("thing.py", src.replace("STEP = 1", "STEP = 10"))
        assert game.reload().ok
        game.step(1)
        assert scripts_of(game, "Thing")[0].n == 10
