"""The templates: a new project (``hotplay new DIR``) and a new script (the editor's New Script)."""

from __future__ import annotations

import keyword
import os
import re
from pathlib import Path

from runtime.scenefile import FORMAT_VERSION, dumps_scene_data


class TemplateError(ValueError):
    """The project cannot be created there."""


_PLUGIN_INIT = '''\
"""The {name} plugin: your game code. Save a file while the game runs in
Debug (HR) and the change is live at once, with every entity's state kept."""

from runtime import Plugin


class {cls}(Plugin):
    """Global game state. Fields (annotated attributes) survive hot reloads."""

    frames: int = 0

    def on_update(self, ctx, dt):
        self.frames += 1
'''

_SCRIPTS = '''\
"""Scripts attach to entities. Try changing a number below while the game runs."""

from runtime import Color, Script, Vec2


class Wobbler(Script):
    """Spins its entity and moves it back and forth."""

    spin: float = 90.0                 # degrees per second
    travel: Vec2 = Vec2(120.0, 0.0)    # how far it swings from its start
    period: float = 2.0                # seconds per swing
    swings: int = 0                    # counted, and kept across reloads
    origin: Vec2 = Vec2(0.0, 0.0)
    color: Color = Color.parse("#ffb703")

    def on_start(self, ctx):
        self.origin = ctx.entity.position

    def on_update(self, ctx, dt):
        e = ctx.entity
        e.rotation += self.spin * dt
        phase = (ctx.time % self.period) / self.period
        offset = 1.0 - abs(phase * 4.0 - 2.0)          # a triangle wave in -1..1
        e.position = self.origin + self.travel * offset
        if e.visual is not None:
            e.visual.color = self.color
        if ctx.frame % round(self.period / dt) == 0:
            self.swings += 1
'''


def _scene(name: str, plugin: str) -> dict[str, object]:
    return {
        "format": FORMAT_VERSION,
        "name": "main",
        "background": "#1d2433",
        "next_handle": 3,
        "entities": [
            {
                "handle": 1,
                "name": "Title",
                "parent": 0,
                "position": [0.0, -200.0],
                "rotation": 0.0,
                "scale": [1.0, 1.0],
                "visual": {
                    "kind": "text",
                    "size": [400.0, 40.0],
                    "color": "#e0e1dd",
                    "z": 1,
                    "text": name,
                    "font_size": 28.0,
                },
            },
            {
                "handle": 2,
                "name": "Wobbler",
                "parent": 0,
                "position": [0.0, 0.0],
                "rotation": 0.0,
                "scale": [1.0, 1.0],
                "visual": {"kind": "rect", "size": [64.0, 64.0], "color": "#ffb703", "z": 0},
                "scripts": [{"type": f"{plugin}.scripts:Wobbler", "fields": {}}],
            },
        ],
    }


def _toml_string(text: str) -> str:
    """`text` as a TOML basic string.

    Not ``json.dumps``: it writes a character outside the Basic Multilingual
    Plane (an emoji) as a surrogate-pair escape, which TOML rejects.
    """
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def create_project(directory: str | os.PathLike[str], *, name: str | None = None) -> Path:
    """Write a new project: ``hotplay.toml``, one plugin with a script, a scene using it.

    Raises:
        TemplateError: the folder exists and is not empty.
    """
    root = Path(directory).resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise TemplateError(f"{root} already exists and is not empty")
    title = name or root.name
    plugin = re.sub(r"\W+", "_", root.name.lower()).strip("_") or "game"
    if plugin[0].isdigit():
        plugin = "game_" + plugin
    cls = "".join(p.capitalize() for p in plugin.split("_")) + "Plugin"
    (root / "plugins" / plugin).mkdir(parents=True)
    (root / "assets" / "scenes").mkdir(parents=True)
    (root / "hotplay.toml").write_text(
        f'[project]\nname = {_toml_string(title)}\nmain_scene = "assets/scenes/main.scene.json"\n',
        encoding="utf-8",
    )
    (root / "plugins" / plugin / "__init__.py").write_text(
        _PLUGIN_INIT.format(name=plugin, cls=cls), encoding="utf-8"
    )
    (root / "plugins" / plugin / "scripts.py").write_text(_SCRIPTS, encoding="utf-8")
    (root / "assets" / "scenes" / "main.scene.json").write_text(
        dumps_scene_data(_scene(title, plugin)), encoding="utf-8"
    )
    (root / ".gitignore").write_text(
        "__pycache__/\nbuild/\n*.recovery.json\n.hotplay/\n", encoding="utf-8"
    )
    return root


_SCRIPT = '''\
"""The {cls} script."""

from runtime import Script


class {cls}(Script):
    """Attach it to an entity. Fields (annotated attributes) show in the inspector
    and keep their values across hot reloads."""

    speed: float = 100.0

    def on_start(self, ctx):
        pass

    def on_update(self, ctx, dt):
        pass
'''

_NEW_PLUGIN_INIT = '''\
"""The {name} plugin: scripts for your game, one module each."""
'''


def script_module_name(class_name: str) -> str:
    """The module a new script class goes into: ``PlayerMovement`` → ``player_movement``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", class_name).lower()
    return snake if not keyword.iskeyword(snake) else snake + "_script"


def script_name_problem(plugins_dir: Path, plugin: str, class_name: str) -> str | None:
    """Why `class_name` in `plugin` cannot be made (``None``: it can).

    Both must be Python identifiers (the plugin's also a lower-case package
    name), and the module the class would go into must not exist yet.
    """
    if not plugin.isidentifier() or keyword.iskeyword(plugin):
        return f"{plugin!r} is not a valid plugin name (a Python identifier)"
    if not class_name.isidentifier() or keyword.iskeyword(class_name):
        return f"{class_name!r} is not a valid class name (a Python identifier)"
    if not class_name[0].isupper():
        return "a class name starts with a capital letter"
    module = plugins_dir / plugin / f"{script_module_name(class_name)}.py"
    if module.exists():
        return f"{module.relative_to(plugins_dir.parent)} exists already"
    return None


def create_script(plugins_dir: str | os.PathLike[str], plugin: str, class_name: str) -> Path:
    """Write a new `Script` subclass from the template into ``plugins/<plugin>/``.

    A plugin that does not exist yet is made (a package with an ``__init__.py``).

    Returns:
        The new module's path.

    Raises:
        TemplateError: a name is invalid or the module exists (see `script_name_problem`).
    """
    plugins = Path(plugins_dir)
    problem = script_name_problem(plugins, plugin, class_name)
    if problem is not None:
        raise TemplateError(problem)
    package = plugins / plugin
    package.mkdir(parents=True, exist_ok=True)
    init = package / "__init__.py"
    if not init.exists():
        init.write_text(_NEW_PLUGIN_INIT.format(name=plugin), encoding="utf-8")
    path = package / f"{script_module_name(class_name)}.py"
    path.write_text(_SCRIPT.format(cls=class_name), encoding="utf-8")
    return path
