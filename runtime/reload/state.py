"""The plain state that passes between the steps of a reload, and how a step fails.

Every step of `runtime.reload` takes what earlier steps produced and returns
what it built; nothing here is written into the running game before the commit
step, so a failure only has to drop the new state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
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


class Targets:
    """Every old object of a reload, in blob order: scripts scene by scene, then plugin objects.

    Kept as columns, not as one `Target` per object: a reload of a large scene
    visits every object in several steps, and making a `Target` for each cost
    as much as the rest of the walk of the scene. The steps that visit every object read
    the columns; indexing or iterating makes the `Target` of one object, for
    the places that handle objects one by one (hooks, report lines).

    Attributes:
        objects: the old objects: every script in scope, then every plugin object.
        entities: the entity of each script (as long as the scripts' part of `objects`).
        indices: each script's index in its entity's scripts.
        scene_runs: (position of its first script, scene, running scene or ``None``)
            of each scene, in order.
        plugins: the plugin of each plugin object, in order.
    """

    __slots__ = ("entities", "indices", "objects", "plugins", "scene_runs")

    def __init__(self) -> None:
        self.objects: list[Any] = []
        self.entities: list[Entity] = []
        self.indices: list[int] = []
        self.scene_runs: list[tuple[int, Scene, RunningScene | None]] = []
        self.plugins: list[str] = []

    @property
    def scripts(self) -> int:
        """How many of `objects` are scripts (the rest are plugin objects)."""
        return len(self.entities)

    def __len__(self) -> int:
        return len(self.objects)

    def __getitem__(self, n: int) -> Target:
        obj = self.objects[n]  # raises IndexError past the end, as a sequence does
        k = self.scripts
        if n < 0:
            n += len(self.objects)
        if n >= k:
            return Target(obj, plugin=self.plugins[n - k])
        # The last scene run starting at or before n (few scenes: a linear scan is enough).
        run = next(r for r in reversed(self.scene_runs) if r[0] <= n)
        return Target(obj, run[1], run[2], self.entities[n], self.indices[n])

    def __iter__(self) -> Iterator[Target]:
        return map(self.__getitem__, range(len(self.objects)))


class Notes:
    """The migration notes of one reload, counted by (type id, field, kind, detail).

    The steps add to it as they go; only a successful reload reports them.
    """

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, str, str]] = Counter()

    def add(self, type_id: str, field_name: str, kind: str, detail: str, count: int = 1) -> None:
        """Count `count` more objects that this note applies to."""
        self._counts[(type_id, field_name, kind, detail)] += count

    def update(self, other: Notes) -> None:
        """Add every note of `other` (in its order, after those already here)."""
        self._counts.update(other._counts)

    def as_tuple(self) -> tuple[MigrationNote, ...]:
        """The notes, in the order they were first seen."""
        return tuple(
            MigrationNote(tid, f, kind, detail, count)
            for (tid, f, kind, detail), count in self._counts.items()
        )
