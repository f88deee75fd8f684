"""A temporary project whose plugin sources a test rewrites, version after version."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from runtime import BuildProfile, Game


def entity(
    handle: int,
    name: str,
    *scripts: tuple[str, dict[str, Any]],
    parent: int = 0,
    position: tuple[float, float] = (0.0, 0.0),
) -> dict[str, Any]:
    """One entity of a scene file, with (type id, fields) scripts."""
    return {
        "handle": handle,
        "name": name,
        "parent": parent,
        "position": list(position),
        "visual": {"kind": "rect", "size": [10, 10], "color": "#ffffff"},
        "scripts": [{"type": t, "fields": f} for t, f in scripts],
    }


class Lab:
    """A project in a temporary folder: plugins written from strings, one scene."""

    def __init__(self, root: Path, files: dict[str, str], entities: list[dict[str, Any]]):
        self.root = root
        (root / "plugins").mkdir(parents=True)
        (root / "assets" / "scenes").mkdir(parents=True)
        (root / "hotplay.toml").write_text(
            '[project]\nname = "lab"\nmain_scene = "assets/scenes/main.scene.json"\n'
        )
        for rel, src in files.items():
            self.write(rel, src)
        scene = {"format": 1, "name": "main", "entities": entities}
        (root / "assets/scenes/main.scene.json").write_text(json.dumps(scene, indent=1))

    def path(self, rel: str) -> Path:
        return self.root / "plugins" / rel

    def write(self, rel: str, source: str) -> Path:
        """Write plugins/<rel> (dedented)."""
        p = self.path(rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
        return p

    def game(self, **kwargs: Any) -> Game:
        kwargs.setdefault("profile", BuildProfile.DEBUG)
        return Game(self.root, **kwargs)


def scripts_of(game: Game, type_name: str) -> list[Any]:
    """Every script whose class is named `type_name`, in scene order."""
    return [s for e in game.scene for s in e.scripts if type(s).__name__ == type_name]
