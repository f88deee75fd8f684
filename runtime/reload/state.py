"""The plain state that passes between the steps of a reload, and how a step fails.

Every step of `runtime.reload` takes what earlier steps produced and returns
what it built; nothing here is written into the running game before the commit
step, so a failure only has to drop the new state.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runtime.reports import MigrationNote

if TYPE_CHECKING:
    from runtime.game import RunningScene
    from runtime.scene import Entity, Scene

#: Stands for a stored value msgpack could not hold (it takes its default on restore).
UNENCODABLE_MARK = "\x00hotplay:unencodable"


class ReloadFailed(Exception):
    """Abort the transaction: the arguments are the error lines of the report."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which plugins a reload touches (step 2).

    Attributes:
        names: every plugin in the reload, sorted.
        to_load: those still on disk, to import afresh.
        removed: loaded plugins whose package is gone.
    """

    names: tuple[str, ...]
    to_load: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(slots=True)
class Target:
    """One old object being reloaded and where it lives (a script, or a plugin object)."""

    obj: Any
    scene: Scene | None = None
    running: RunningScene | None = None
    entity: Entity | None = None
    index: int = -1
    plugin: str = ""


class Notes:
    """The migration notes of one reload, counted by (type id, field, kind, detail).

    The steps add to it as they go; only a successful reload reports them.
    """

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, str, str]] = Counter()

    def add(self, type_id: str, field_name: str, kind: str, detail: str) -> None:
        """Count one more object that this note applies to."""
        self._counts[(type_id, field_name, kind, detail)] += 1

    def as_tuple(self) -> tuple[MigrationNote, ...]:
        """The notes, in the order they were first seen."""
        return tuple(
            MigrationNote(tid, f, kind, detail, count)
            for (tid, f, kind, detail), count in self._counts.items()
        )
