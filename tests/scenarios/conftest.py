"""A one-plugin project a scenario rewrites version after version."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..reload_lab import Lab, entity


class GameLab(Lab):
    """A `Lab` whose file names are inside the one plugin, ``game``."""

    def path(self, rel: str) -> Path:
        return self.root / "plugins" / "game" / rel


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Lab]:
    """``project({"mod.py": source}, ("mod:Class", {fields}), ...)``: plugin ``game``, one scene.

    Each script tuple gets its own entity, handles from 1.
    """

    def make(files: dict[str, str], *scripts: tuple[str, dict[str, Any]]) -> Lab:
        sources = {"__init__.py": "", **files}
        entities = [entity(i, f"E{i}", (f"game.{tid}", f)) for i, (tid, f) in enumerate(scripts, 1)]
        return GameLab(tmp_path / "proj", sources, entities)

    return make
