"""Plugin discovery and the type registry, driven through `Game`."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from runtime.game import Game
from runtime.scripting import PlaceholderScript, type_id_of

from .conftest import entity, script

SPIN = """
from runtime import Script

class Spin(Script):
    speed: float = 90.0

    def on_update(self, ctx, dt):
        ctx.entity.rotation += self.speed * dt
"""

PLUGIN = """
from runtime import Plugin

class {name}(Plugin):
    loaded: bool = True
"""


def test_types_are_registered_per_plugin(make_project: Any) -> None:
    root = make_project(
        plugins={
            "toys": {"__init__.py": PLUGIN.format(name="Toys"), "spin.py": SPIN},
            "more": {
                "extra.py": """
                    from runtime import Script

                    class Kept(Script):
                        type_id = "stable-kept"

                    class Inner(Script):
                        class Nested:
                            pass
                """
            },
        },
        scene=[entity(1, "S", scripts=[script("toys.spin:Spin", speed=45.0)])],
    )
    with Game(root) as game:
        reg = game.registry
        assert [t for t, _ in reg.script_types()] == [
            "more.extra:Inner",
            "stable-kept",
            "toys.spin:Spin",
        ]
        assert reg.owner("toys.spin:Spin") == "toys"
        assert reg.owner("stable-kept") == "more"
        assert set(reg.plugin_types("more")) == {"stable-kept", "more.extra:Inner"}
        spin_cls = reg.resolve("toys.spin:Spin")
        assert spin_cls is not None and type_id_of(spin_cls) == "toys.spin:Spin"
        assert reg.resolve("nope:Nope") is None
        assert "toys.spin:Spin" in reg and len(reg) == 3
        assert game.plugins.errors == {}
        assert sorted(game.plugin_objects) == ["more", "toys"]
        assert type(game.plugin("toys")).__name__ == "Toys"
        assert game.plugin("toys").loaded is True
        game.step(60)
        assert game.scene[1].rotation == pytest.approx(45.0)
        with pytest.raises(LookupError, match="no plugin 'ghost'"):
            game.plugin("ghost")


def test_two_plugin_classes_in_one_package_fail_that_plugin_only(
    make_project: Any, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_project(
        plugins={
            "twice": {
                "__init__.py": PLUGIN.format(name="First"),
                "second.py": PLUGIN.format(name="Second"),
            },
            "fine": {"spin.py": SPIN},
        },
        scene=[entity(1, "S", scripts=[script("fine.spin:Spin")])],
    )
    with Game(root) as game:
        err = game.plugins.errors["twice"]
        assert "plugin 'twice' defines several Plugin classes: " in err
        assert "First" in err and "Second" in err
        assert "twice" not in game.plugin_objects
        assert "fine" in game.plugin_objects
        assert "fine.spin:Spin" in game.registry
        assert "plugin twice failed to load" in caplog.text
        game.step(1)
        assert game.scene[1].rotation == pytest.approx(1.5)


def test_duplicate_type_id_across_plugins(make_project: Any) -> None:
    same = """
        from runtime import Script

        class Thing(Script):
            type_id = "shared.thing"
            n: int = {n}
    """
    root = make_project(
        plugins={
            "alpha": {"things.py": same.format(n=1)},
            "beta": {"things.py": same.format(n=2), "spin.py": SPIN},
            "gamma": {"spin.py": SPIN},
        },
        scene=[entity(1, "T", scripts=[script("shared.thing"), script("gamma.spin:Spin")])],
    )
    with Game(root) as game:
        # Plugins load in name order: alpha has the id first, beta is refused whole.
        assert set(game.plugins.errors) == {"beta"}
        err = game.plugins.errors["beta"]
        assert "shared.thing (also defined by plugin 'alpha')" in err
        assert "plugins/beta/things.py:" in err, err
        assert game.registry.owner("shared.thing") == "alpha"
        assert "beta.spin:Spin" not in game.registry
        assert "gamma.spin:Spin" in game.registry
        thing = game.scene[1].scripts[0]
        assert thing.n == 1


def test_duplicate_type_id_within_one_plugin(make_project: Any) -> None:
    root = make_project(
        plugins={
            "dup": {
                "a.py": "from runtime import Script\nclass A(Script):\n    type_id = 'x'\n",
                "b.py": "from runtime import Script\nclass B(Script):\n    type_id = 'x'\n",
            },
            "ok": {"spin.py": SPIN},
        },
        scene=[],
    )
    with Game(root) as game:
        error = game.plugins.errors["dup"]
        assert "type id 'x' is used by both dup.a.A and dup.b.B" in error
        assert "plugins/dup/b.py:2: " in error, error
        assert "ok" in game.plugin_objects


def test_a_folder_that_is_not_a_package_is_skipped_with_a_warning(
    make_project: Any, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_project(
        plugins={"loose": {"__init__.py": None, "stuff.py": SPIN}, "ok": {"spin.py": SPIN}},
        scene=[],
    )
    (root / "plugins" / "__pycache__").mkdir()
    (root / "plugins" / "notes.txt").write_text("not a plugin", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="hotplay.plugins"), Game(root) as game:
        assert list(game.plugin_objects) == ["ok"]
        assert game.plugins.errors == {}
    assert "plugins/loose is not a package (it has no __init__.py); skipped" in caplog.text
    assert "__pycache__" not in caplog.text


def test_a_plugin_named_like_no_identifier_is_skipped(
    make_project: Any, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_project(plugins={"my-game": {"spin.py": SPIN}}, scene=[])
    with Game(root) as game:
        assert game.plugin_objects == {}
    assert "plugins/my-game: a plugin name must be a Python identifier" in caplog.text


def test_a_plugin_raising_at_import_is_reported_and_others_load(
    make_project: Any, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_project(
        plugins={
            "boom": {"bad.py": "x = 1\nraise RuntimeError('kaboom')\n"},
            "broken": {"syntax.py": "def f(:\n    pass\n"},
            "ok": {"spin.py": SPIN},
        },
        scene=[
            entity(1, "A", scripts=[script("boom.bad:Gone", keep=[1, 2])]),
            entity(2, "B", scripts=[script("ok.spin:Spin")]),
        ],
    )
    with Game(root) as game:
        boom = game.plugins.errors["boom"]
        assert "RuntimeError: kaboom" in boom
        assert "plugins/boom/bad.py:2" in boom
        syntax = game.plugins.errors["broken"]
        assert "SyntaxError" in syntax and "plugins/broken/syntax.py:1" in syntax
        assert list(game.plugin_objects) == ["ok"]
        ghost = game.scene[1].scripts[0]
        assert isinstance(ghost, PlaceholderScript)
        assert ghost.data == {"keep": [1, 2]}
        game.step(2)
        assert game.scene[2].rotation == pytest.approx(3.0)
    assert "plugin boom failed to load" in caplog.text
    # No plugin module is left importable after the game closed (checked by conftest too).


@pytest.mark.parametrize("raised", ["KeyboardInterrupt", "SystemExit(3)"])
def test_a_plugin_raising_keyboard_interrupt_at_first_import_fails_alone(
    make_project: Any, raised: str
) -> None:
    """Issue 14, item 5: game code's KeyboardInterrupt is that plugin's error, not the end."""
    root = make_project(
        plugins={"boom": {"bad.py": f"x = 1\nraise {raised}\n"}, "ok": {"spin.py": SPIN}},
        scene=[entity(1, "B", scripts=[script("ok.spin:Spin")])],
    )
    with Game(root) as game:
        error = game.plugins.errors["boom"]
        assert "plugins/boom/bad.py:2" in error and raised.partition("(")[0] in error
        assert list(game.plugin_objects) == ["ok"]


def test_plugins_can_import_each_other(make_project: Any) -> None:
    root = make_project(
        plugins={
            "common": {"util.py": "def double(x):\n    return 2 * x\n"},
            "user": {
                "grow.py": """
                    from runtime import Script
                    from ..common.util import double

                    class Grow(Script):
                        size: float = 1.0

                        def on_update(self, ctx, dt):
                            self.size = double(self.size)
                """
            },
        },
        scene=[entity(1, "G", scripts=[script("user.grow:Grow")])],
    )
    with Game(root) as game:
        game.step(3)
        assert game.scene[1].scripts[0].size == 8.0
        assert game.plugins.plugins["user"].imports == frozenset({"common"})
        assert game.plugins.dependents({"common"}) == {"common", "user"}


def test_two_games_of_the_same_project_do_not_share_classes(make_project: Any) -> None:
    root = make_project(plugins={"toys": {"spin.py": SPIN}}, scene=[])
    with Game(root, scene=False) as one, Game(root, scene=False) as two:
        a, b = one.registry.resolve("toys.spin:Spin"), two.registry.resolve("toys.spin:Spin")
        assert a is not None and b is not None and a is not b
        assert type_id_of(a) == type_id_of(b) == "toys.spin:Spin"


def test_errors_name_the_plugin_file_not_the_runtime(make_project: Any) -> None:
    root = make_project(
        plugins={
            "twice": "from runtime import Plugin\n\nclass A(Plugin): ...\n\nclass B(Plugin): ...\n",
            "boom": "x = 1\n\ndef f():\n    raise ValueError('bad value')\n\nf()\n",
        },
        scene=[],
    )
    with Game(root) as game:
        twice = game.plugins.errors["twice"]
        # Issue 14: every failure names the file and line (here: the second Plugin class).
        assert twice.endswith(
            "plugins/twice/__init__.py:5: PluginError: plugin 'twice' defines several Plugin "
            "classes: A, B"
        ), twice
        assert "runtime" not in twice
        boom = game.plugins.errors["boom"]
        assert boom.endswith("plugins/boom/__init__.py:4: ValueError: bad value")


def test_a_folder_that_is_not_a_package_is_warned_about_once(
    make_project: Any, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_project(plugins={"good": "x = 1\n", "notes": {"__init__.py": None, "a.txt": ""}})
    with caplog.at_level(logging.WARNING), Game(root, scene=False) as game:
        for _ in range(3):
            assert game.reload().ok
    warnings = [r.getMessage() for r in caplog.records if "plugins/notes" in r.getMessage()]
    assert len(warnings) == 1


def test_one_walk_names_every_source_and_the_modules_loading_imports(tmp_path: Any) -> None:
    from runtime.plugins import plugin_sources

    top = tmp_path / "game"
    for rel in (
        "__init__.py",
        "b.py",
        "_private.py",
        "a/__init__.py",
        "a/deep.py",
        "_hidden_pkg/__init__.py",
        "loose/x.py",
        "__pycache__/b.cpython-311.py",
        ".git/hook.py",
    ):
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_text("")
    found = [(s.path.relative_to(top).as_posix(), s.module) for s in plugin_sources(top, "ns.game")]
    assert found == [
        ("__init__.py", "ns.game"),
        ("_private.py", None),
        ("b.py", "ns.game.b"),
        ("_hidden_pkg/__init__.py", None),
        ("a/__init__.py", "ns.game.a"),
        ("a/deep.py", "ns.game.a.deep"),
        ("loose/x.py", None),
    ]
