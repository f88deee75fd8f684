"""Step 8, commit: every swap, in one step, through `runtime.game.Game.install_generation`.

Nothing here calls plugin or editor code: who hears of the swap is the notify
step's business, once every swap is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runtime.plugins import LoadedPlugin
from runtime.reload.restore import Restored
from runtime.reload.snapshot import Snapshot
from runtime.reload.state import Scope
from runtime.scripting import PlaceholderScript, Plugin

if TYPE_CHECKING:
    from runtime.game import Game, RunningScene
    from runtime.scene import Entity, Scene
    from runtime.values import Handle


@dataclass(frozen=True, slots=True)
class Committed:
    """What changed, for the notify step.

    Attributes:
        replaced: each scene whose scripts were rebuilt, with the entities concerned.
        to_init: scripts whose class came back while their scene runs and that never
            started (loaded as placeholders): they start living now, as if just spawned.
        added_plugins: plugins loaded for the first time (their ``on_init`` is due).
    """

    replaced: tuple[tuple[Scene, tuple[Handle, ...]], ...]
    to_init: tuple[tuple[RunningScene, Entity, Any], ...]
    added_plugins: tuple[str, ...]


def commit_generation(
    game: Game, scope: Scope, snap: Snapshot, fresh: dict[str, LoadedPlugin], restored: Restored
) -> Committed:
    """Swap the new generation, objects and callbacks in; retire the old generation."""
    tracker = game.generations
    for name in scope.names:
        old = game.plugins.plugins.get(name)
        if old is not None:
            tracker.retire(old)
    tracker.generation += 1
    plugin_objects: dict[str, Plugin | None] = {}
    scripts: list[tuple[Entity, int, Any]] = []
    by_scene: dict[int, tuple[Scene, dict[Handle, None]]] = {}
    to_init: list[tuple[RunningScene, Entity, Any]] = []
    rebuilt: dict[int, Any] = {}
    for t, new in zip(snap.targets, restored.objects, strict=True):
        if new is not None and new is not t.obj:
            rebuilt[id(t.obj)] = new
        if t.plugin:
            plugin_objects[t.plugin] = new
        elif t.entity is not None and t.scene is not None and new is not t.obj:
            scripts.append((t.entity, t.index, new))
            if (
                t.running is not None
                and type(t.obj) is PlaceholderScript
                and type(new) is not PlaceholderScript
                and not new.__dict__.get("_hp_state")
            ):
                to_init.append((t.running, t.entity, new))
            by_scene.setdefault(id(t.scene), (t.scene, {}))[1][t.entity.handle] = None
    plugin_objects.update(restored.new_plugins)
    game.install_generation(
        fresh.values(),
        removed=scope.removed,
        plugin_objects=plugin_objects,
        scripts=scripts,
        timers=restored.timers,
        subscriptions=restored.subscriptions,
        messages=restored.messages,
        emitted=restored.emitted,
        rebuilt=rebuilt,
        plugin_stashes=restored.plugin_stashes,
    )
    return Committed(
        replaced=tuple((scene, tuple(handles)) for scene, handles in by_scene.values()),
        to_init=tuple(to_init),
        added_plugins=tuple(restored.new_plugins),
    )
