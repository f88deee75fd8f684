"""The generated benchmark project: its plugin's sources, the edit, and its scenes.

The plugin ``benchgame`` has four modules: the package ``__init__`` with the
`Plugin` class, ``movers`` with the `Script` class the benchmark edits,
``helpers`` (imported by ``movers``, never changed) and ``data`` (an enum and a
dataclass the plugin object holds, which must survive every reload).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.bench.errors import BenchError
from runtime.game import Game
from runtime.scene import Scene, Visual, VisualKind
from runtime.scripting import instantiate
from runtime.values import Color, Handle, Vec2

PLUGIN = "benchgame"
MOVER_TYPE_ID = f"{PLUGIN}.movers:Mover"
#: The declared fields of the benchmark's script, in declaration order.
MOVER_FIELDS = ("speed", "velocity", "label", "trail", "target", "ticks")

_INIT_PY = '''\
"""Benchmark plugin: global state; the script lives in movers.py."""

from runtime import Plugin

from .data import Mode, Tuning
from .movers import Mover


class BenchGame(Plugin):
    """Counts frames; holds an enum and a dataclass that must survive reloads."""

    frames: int = 0
    mode: Mode = Mode.RUN
    tuning: Tuning = Tuning()

    def on_update(self, ctx, dt):
        self.frames += 1


__all__ = ["BenchGame", "Mover"]
'''

_DATA_PY = '''\
"""Plain data types of the benchmark plugin."""

import enum
from dataclasses import dataclass


class Mode(enum.Enum):
    WALK = 1
    RUN = 2


@dataclass
class Tuning:
    gain: float = 1.0
    limit: int = 100
    tag: str = "default"
'''

_HELPERS_PY = '''\
"""Helpers the script imports (a module that does not change)."""

from runtime import Vec2


def advance(p, v, k):
    """p + v * k."""
    return Vec2(p[0] + v[0] * k, p[1] + v[1] * k)
'''

# The benchmark rewrites this file with STEP 1 or 2 (same size, new behaviour) and
# one of the two field layouts below (the field-changing edit flips between them).
_MOVERS_PY = '''\
"""The script the benchmark edits: each save flips the step added to `ticks`."""

from runtime import Handle, Script, Vec2

from .helpers import advance


class Mover(Script):
{fields}
    def on_update(self, ctx, dt):
        self.ticks += {step}
        e = ctx.entity
        e.position = advance(e.position, self.velocity, dt * self.speed)
'''

#: The field layouts of ``Mover``: the code-only edits keep layout 0; the
#: field-changing edit goes from one to the other.
MOVER_LAYOUTS = (
    """\
    speed: float = 1.0
    velocity: Vec2 = Vec2(1.0, 0.5)
    label: str = "mover"
    trail: list[float] = []
    target: Handle = Handle.NONE
    ticks: int = 0
""",
    # speed retyped (every stored value still fits: kept), label removed (stashed),
    # trail retyped (a list does not fit a tuple: reset), boost added (its default).
    """\
    speed: float | int = 1.0
    velocity: Vec2 = Vec2(1.0, 0.5)
    trail: tuple[float, ...] = ()
    target: Handle = Handle.NONE
    ticks: int = 0
    boost: float = 0.5
""",
)

#: The declared fields of each layout, in declaration order.
LAYOUT_FIELDS = (MOVER_FIELDS, ("speed", "velocity", "trail", "target", "ticks", "boost"))


@dataclass(frozen=True)
class FieldChange:
    """What the migration rules make of a ``Mover`` when its layout goes from one to the other.

    Attributes:
        kept: fields whose stored value stays.
        defaults: fields that take their new declared default (added, or reset
            because the stored value no longer fits), with that default.
        removed: fields that are gone from the new layout (their values go to the stash).
        notes: the (field, note kind) pairs the reload must report, no more, no less.
        restored: fields whose value comes back from the stash: the value they had
            when the previous change away from the new layout took them out.
    """

    kept: tuple[str, ...]
    defaults: dict[str, Any]
    removed: tuple[str, ...]
    notes: frozenset[tuple[str, str]]
    restored: tuple[str, ...] = ()


#: The first change from layout 0 to 1, before any stash holds a value of layout 1's fields.
FIRST_FIELD_CHANGE = FieldChange(
    kept=("speed", "velocity", "target", "ticks"),
    defaults={"trail": (), "boost": 0.5},
    removed=("label",),
    notes=frozenset({("label", "stashed"), ("trail", "reset"), ("boost", "added")}),
)

#: The field change of going from layout 0 to 1 (index 0) and from 1 to 0 (index 1),
#: once the stash holds what the previous change the other way took out.
FIELD_CHANGES = (
    FieldChange(
        kept=("speed", "velocity", "target", "ticks"),
        defaults={"trail": ()},
        removed=("label",),
        notes=frozenset(
            {("label", "stashed"), ("trail", "reset"), ("boost", "added"), ("boost", "unstashed")}
        ),
        restored=("boost",),
    ),
    # The first change from 1 to 0 already finds label (removed) and trail's list
    # (reset) in the stash: the very first change from 0 to 1 put them there.
    FieldChange(
        kept=("speed", "velocity", "target", "ticks"),
        defaults={},
        removed=("boost",),
        notes=frozenset(
            {
                ("boost", "stashed"),
                ("label", "added"),
                ("label", "unstashed"),
                ("trail", "unstashed"),
            }
        ),
        restored=("label", "trail"),
    ),
)


def movers_source(step: int, layout: int = 0) -> str:
    """The source of ``movers.py`` whose ``on_update`` adds `step` to ``ticks``.

    Args:
        step: what each frame adds to ``ticks``.
        layout: which of `MOVER_LAYOUTS` declares the fields.
    """
    return _MOVERS_PY.format(step=step, fields=MOVER_LAYOUTS[layout])


def movers_path(project: Path) -> Path:
    """The file the benchmark rewrites in `project`."""
    return project / "plugins" / PLUGIN / "movers.py"


def write_project(root: Path, scene_entities: int = 1000) -> Path:
    """Write the benchmark project (plugin and a main scene of scripted entities) under `root`.

    Args:
        root: an empty or absent folder.
        scene_entities: how many scripted entities the main scene file holds
            (the scene the player start-up figure loads).

    Returns:
        The project folder.
    """
    plugin = root / "plugins" / PLUGIN
    plugin.mkdir(parents=True)
    (root / "assets" / "scenes").mkdir(parents=True)
    (root / "hotplay.toml").write_text(
        '[project]\nname = "bench"\nmain_scene = "assets/scenes/main.scene.json"\n',
        encoding="utf-8",
    )
    (plugin / "__init__.py").write_text(_INIT_PY, encoding="utf-8")
    (plugin / "data.py").write_text(_DATA_PY, encoding="utf-8")
    (plugin / "helpers.py").write_text(_HELPERS_PY, encoding="utf-8")
    movers_path(root).write_text(movers_source(1), encoding="utf-8")
    with Game(root, scene=False, watch=False) as game:
        scene = build_scene(game, scene_entities, name="main")
        game.save_scene(scene, game.project.main_scene)
    return root


def build_scene(game: Game | None, n: int, name: str = "bench") -> Scene:
    """A scene of `n` entities with a visual and a ``Mover`` each (deterministic values).

    Args:
        game: a `Game` with the benchmark plugin loaded, or ``None`` for visuals only.
        n: the number of entities.
        name: the scene's name.

    Raises:
        BenchError: the game has no ``Mover`` class (the plugin did not load).
    """
    cls = game.registry.resolve(MOVER_TYPE_ID) if game is not None else None
    if game is not None and cls is None:
        raise BenchError(f"the benchmark plugin did not load: {game.plugins.errors}")
    colors = [Color((i * 53) % 256, (i * 97) % 256, (i * 151) % 256) for i in range(16)]
    kinds = (VisualKind.RECT, VisualKind.ELLIPSE)
    scene = Scene(name)
    for i in range(n):
        scripts = []
        if cls is not None:
            scripts.append(
                instantiate(
                    cls,
                    {
                        "speed": 1.0 + (i % 7) * 0.25,
                        "velocity": Vec2((i % 13) - 6.0, (i % 5) - 2.0),
                        "label": f"mover-{i}",
                        "trail": [float(i % 3), float(i % 11) * 0.5, 2.0],
                        "target": Handle((i + 1) % n + 1),
                        "ticks": i % 100,
                    },
                )
            )
        scene.spawn(
            f"m{i}",
            position=Vec2(((i * 37) % 1200) - 600.0, ((i * 23) % 700) - 350.0),
            rotation=float((i % 4) * 15),
            visual=Visual(kinds[i % 2], Vec2(8 + i % 17, 8 + i % 13), colors[i % 16], z=i % 4),
            scripts=scripts,
        )
    return scene


def play_scene(game: Game, n: int) -> Scene:
    """`build_scene`'s scene as Play runs it: the copy `Game.copy_scene` makes.

    Loading a scene file makes its scripts the same way (class by class, as
    `runtime.scenefile` describes), so the benchmark's games run on the memory
    layout every user's game runs on, not on the one building entity by entity
    gives.
    """
    return game.copy_scene(build_scene(game, n))
