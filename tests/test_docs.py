"""Every Python block of the guide runs, so the docs cannot rot.

A block that defines scripts or a plugin becomes a plugin of a temporary project:
it must load, and every script it defines must run for two seconds of game time
without raising. A block that uses `Game` runs against a fresh project made by
the template (``PROJECT``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from pathlib import Path

import pytest

from runtime import Game, Scene, Vec2, Visual, VisualKind
from runtime.template import create_project

DOCS = Path(__file__).resolve().parent.parent / "docs"


def python_blocks() -> list[tuple[str, int, str]]:
    out = []
    for md in sorted(DOCS.glob("*.md")):
        for i, m in enumerate(re.finditer(r"```python\n(.*?)```", md.read_text(), re.S)):
            out.append((md.name, i, m.group(1)))
    return out


BLOCKS = python_blocks()
PLUGIN_BLOCKS = [b for b in BLOCKS if "Game(" not in b[2]]
RUN_BLOCKS = [b for b in BLOCKS if "Game(" in b[2]]


def test_the_guide_has_examples():
    assert len(PLUGIN_BLOCKS) >= 5 and len(RUN_BLOCKS) >= 2


def test_plugin_examples_load_and_run(tmp_path, caplog):
    root = create_project(tmp_path / "docs_project")
    for name, i, code in PLUGIN_BLOCKS:
        pkg = root / "plugins" / f"doc_{Path(name).stem.replace('-', '_')}_{i}"
        pkg.mkdir()
        (pkg / "__init__.py").write_text(code)
    with caplog.at_level(logging.WARNING), Game(root, scene=False) as game:
        assert game.plugins.errors == {}
        types = [
            cls
            for tid, cls in game.registry.script_types()
            if game.registry.owner(tid).startswith("doc_")
        ]
        assert len(types) >= 5
        scene = Scene()
        for k, cls in enumerate(types):
            scene.spawn(
                cls.__name__,
                position=Vec2(k * 20.0, 0.0),
                visual=Visual(VisualKind.ELLIPSE, Vec2(10, 10)),
                scripts=[cls()],
            )
        game.add_scene(scene)
        game.step(120)
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == []
        assert not any(s.__dict__.get("_hp_faulted") for e in scene for s in e.scripts)
        # The examples really ran.
        turret = scene.find("Turret").scripts[0]
        assert turret.fired == 2
        arcade = next(o for o in game.plugin_objects.values() if type(o).__name__ == "Arcade")
        game.emit("scored", 150)
        game.step(1)
        assert (arcade.score, arcade.level) == (150, 2)


@pytest.mark.parametrize(
    "name, index, code", RUN_BLOCKS, ids=[f"{b[0]}-{b[1]}" for b in RUN_BLOCKS]
)
def test_game_examples_run(tmp_path, name, index, code):
    root = create_project(tmp_path / "wobbly")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"{name}[{index}]", "exec"), {"PROJECT": root})
    if "stale_references" in code:
        assert "wobbly.scripts.Wobbler is still held by" in out.getvalue()
