"""Scenarios of jurigged's tests (``tests/test_codetools.py``, ``tests/test_recode.py``).

jurigged patches function code objects in place; Hotplay reloads modules and
rebuilds objects. These check that the edits its tests make behave here too.
"""

from __future__ import annotations

from ..reload_lab import scripts_of

BASE = """
from runtime import Script


def decorate(fn):
    def wrapper(self, ctx, dt):
        return fn(self, ctx, dt)
    return wrapper


class Walker(Script):
    x: int = 0
    log: list[str] = []

    @decorate
    def on_update(self, ctx, dt):
        self.x += 1

    def tick(self, ctx):
        self.log.append("tick v1")

    def on_init(self, ctx):
        ctx.every(1 / 60, "tick")
"""


def test_decorated_method_change(project):
    """From jurigged's decorator tests: the body under a decorator changes."""
    lab = project({"walker.py": BASE}, ("walker:Walker", {}))
    with lab.game() as game:
        game.step(1)
        lab.write("walker.py", BASE.replace("self.x += 1", "self.x += 7"))
        assert game.reload().ok
        game.step(1)
        assert scripts_of(game, "Walker")[0].x == 8


def test_closure_change(project):
    """From jurigged's closure tests: the decorator's inner function changes."""
    lab = project({"walker.py": BASE}, ("walker:Walker", {}))
    with lab.game() as game:
        lab.write(
            "walker.py",
            BASE.replace(
                "return fn(self, ctx, dt)", "fn(self, ctx, dt)\n        fn(self, ctx, dt)"
            ),
        )
        assert game.reload().ok
        game.step(1)
        assert scripts_of(game, "Walker")[0].x == 2


def test_method_reached_through_the_engine_calls_new_code(project):
    """From jurigged's "existing references see the new code": a timer calls the new method."""
    lab = project({"walker.py": BASE}, ("walker:Walker", {}))
    with lab.game() as game:
        game.start()
        game.step(2)
        lab.write("walker.py", BASE.replace('"tick v1"', '"tick v2"'))
        assert game.reload().ok
        game.step(2)
        (w,) = scripts_of(game, "Walker")
        assert w.log[-1] == "tick v2" and "tick v1" in w.log


def test_method_removed_drops_its_timer_with_a_note(project):
    """From jurigged's deletion tests: a method the engine calls is deleted."""
    lab = project({"walker.py": BASE}, ("walker:Walker", {}))
    with lab.game() as game:
        game.start()
        game.step(1)
        src = BASE.replace('    def tick(self, ctx):\n        self.log.append("tick v1")\n', "")
        lab.write("walker.py", src)
        report = game.reload()
        assert report.ok
        assert [n.kind for n in report.warnings] == ["callback-dropped"]
        game.step(2)  # nothing calls the missing method


def test_function_moved_between_modules(project):
    """From jurigged's "move a function to another file" scenario."""
    lab = project({"walker.py": BASE}, ("walker:Walker", {}))
    with lab.game() as game:
        game.step(1)
        lab.write(
            "deco.py",
            "def decorate(fn):\n    def wrapper(self, ctx, dt):\n"
            "        return fn(self, ctx, dt)\n    return wrapper\n",
        )
        lab.write(
            "walker.py",
            BASE.replace(
                "def decorate(fn):\n    def wrapper(self, ctx, dt):\n"
                "        return fn(self, ctx, dt)\n    return wrapper\n",
                "from .deco import decorate\n",
            ),
        )
        assert game.reload().ok
        game.step(1)
        assert scripts_of(game, "Walker")[0].x == 2


def test_lambda_default_in_a_field_is_reported_not_lost_silently(project):
    """From jurigged's lambda tests: a value made of code cannot be carried; it is named."""
    src = BASE.replace(
        "    x: int = 0\n",
        "    x: int = 0\n\n    def on_start(self, ctx):\n        self.fn = lambda: 1\n",
    )
    lab = project({"walker.py": src}, ("walker:Walker", {}))
    with lab.game() as game:
        game.step(2)
        lab.write("walker.py", src + "\nV = 2\n")
        report = game.reload()
        assert report.ok
        assert [(n.field, n.kind) for n in report.warnings] == [("fn", "unencodable")]
