"""Step 8, commit: every swap, in one step, through `runtime.game.Game.install_generation`.

Nothing here calls plugin or editor code: who hears of the swap is the notify
step's business, once every swap is done.
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runtime.history import exhaust, resume_all
from runtime.plugins import LoadedPlugin
from runtime.reload.migrate import FieldPatch
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
    targets = snap.targets
    k = targets.scripts
    olds, news = targets.objects, restored.objects
    resumed = _retype(snap, restored.retyped, restored.patches)
    # Column by column, each a pass in C: a large scene has many scripts and few scenes.
    # Observers hear of every script but a placeholder whose class is still missing:
    # a kept object has a new class (its fields' editors, say, may have changed).
    # Whether each script was kept: None, every one; an empty list, none.
    kept = _positions_of(snap, restored.retyped, k) if restored.retyped else []
    if kept is None:
        # A code-only edit keeps every script: then no pass looks for rebuilt ones.
        rebuilt_scripts: list[bool] = []
        any_rebuilt = False
    else:
        rebuilt_scripts = list(map(operator.is_not, itertools.islice(olds, k), news))
        any_rebuilt = True in rebuilt_scripts
        replaced = rebuilt_scripts
        if kept:
            replaced = list(map(operator.or_, rebuilt_scripts, kept)) if any_rebuilt else kept
    by_scene: list[tuple[Scene, tuple[Handle, ...]]] = []
    runs = [*targets.scene_runs, (k, None, None)]
    #: the scenes in which a script was replaced by a new object (not only retyped)
    rebuilt_in: set[int] = set()
    for (start, scene, _), (end, _, _) in itertools.pairwise(runs):
        entities = targets.entities[start:end]
        if kept is not None:
            entities = list(itertools.compress(entities, replaced[start:end]))
        # An entity once: only one with more than one script can come twice.
        many = any(itertools.islice(targets.indices, start, end))
        of = map(_handle_of, entities)
        handles = tuple(dict.fromkeys(of) if many else of)
        if handles and scene is not None:
            by_scene.append((scene, handles))
        if any_rebuilt and True in itertools.islice(rebuilt_scripts, start, end):
            rebuilt_in.add(id(scene))
    plugin_objects: dict[str, Plugin | None] = dict(zip(targets.plugins, news[k:], strict=True))
    plugin_objects.update(restored.new_plugins)
    game.install_generation(
        fresh.values(),
        removed=scope.removed,
        plugin_objects=plugin_objects,
        scripts=itertools.compress(
            zip(targets.entities, targets.indices, itertools.islice(news, k), strict=True),
            rebuilt_scripts,
        )
        if any_rebuilt
        else (),
        timers=restored.timers,
        subscriptions=restored.subscriptions,
        messages=restored.messages,
        emitted=restored.emitted,
        rebuilt=_rebuilt(snap, news, rebuilt_scripts if any_rebuilt else None),
        retyped=restored.retyped,
        # An update list can follow its scripts to their new classes when none was
        # replaced by a new object or resumed from a pause: else it is built again.
        rebind=lambda rs: not resumed and id(rs.scene) not in rebuilt_in,
        plugin_stashes=restored.plugin_stashes,
    )
    return Committed(
        replaced=tuple(by_scene),
        to_init=_to_init(snap, news),
        added_plugins=tuple(restored.new_plugins),
    )


_handle_of = operator.attrgetter("handle")


def _retype(snap: Snapshot, retyped: dict[type, type], patches: dict[type, FieldPatch]) -> bool:
    """Give the objects the restore step kept their new class (passes in C, per class).

    Those of a class whose layout changed are migrated in place first, by the
    restore step's patch. As a rebuilt object would, a kept one loses its
    paused mark: a reload resumes a script paused after an exception. Returns
    whether one had the mark.
    """
    resumed = False
    for (cls, _), kept, unpaused in zip(
        snap.classes, snap.class_objects, snap.unpaused, strict=True
    ):
        new_cls = retyped.get(cls)
        if new_cls is None:
            continue
        patch = patches.get(cls)
        if patch is not None:
            dicts = patch.apply(kept)
        elif not unpaused:
            dicts = list(map(_dict_of, kept))
        else:
            dicts = []  # none has the mark
        resumed = resume_all(dicts) or resumed
        exhaust(map(_set_class, kept, itertools.repeat("__class__"), itertools.repeat(new_cls)))
    return resumed


_dict_of = operator.attrgetter("__dict__")


_set_class = object.__setattr__  # past any __setattr__ of the old class: no game code runs


def _positions_of(snap: Snapshot, retyped: dict[type, type], k: int) -> list[bool] | None:
    """For each of the first `k` targets (the scripts), whether it is of a kept class.

    ``None`` when every one is.
    """
    # Only scripts are kept (`restore._kept_class`): when the kept classes' objects
    # number `k`, they are every script.
    if sum(len(positions) for cls, positions in snap.classes if cls in retyped) == k:
        return None
    mask = [False] * k
    for cls, positions in snap.classes:
        if cls in retyped:
            exhaust(map(mask.__setitem__, positions, itertools.repeat(True)))
    return mask


def _rebuilt(snap: Snapshot, news: tuple[Any, ...], scripts: list[bool] | None) -> dict[int, Any]:
    """The new object of every rebuilt one, by ``id`` of the old (built in C).

    Objects that stay (kept with a new class, or placeholders whose class is
    still missing) and the plugin object of a deleted plugin, which has no new
    object, are left out. `scripts` says which scripts were rebuilt (``None``:
    none was).
    """
    olds = snap.targets.objects
    k = snap.targets.scripts
    # The plugin objects (one per plugin): rebuilt unless kept, and unless deleted.
    pairs = zip(olds[k:], news[k:], strict=True)
    plugins = [new is not old and new is not None for old, new in pairs]
    if scripts is None:
        olds, news, changed = olds[k:], news[k:], plugins
    else:
        changed = scripts + plugins
    return dict(
        zip(
            map(id, itertools.compress(olds, changed)),
            itertools.compress(news, changed),
            strict=True,
        )
    )


def _placeholders(snap: Snapshot) -> list[int]:
    """The positions of the placeholders among the targets."""
    return next((p for cls, p in snap.classes if cls is PlaceholderScript), [])


def _to_init(snap: Snapshot, news: tuple[Any, ...]) -> tuple[tuple[RunningScene, Entity, Any], ...]:
    """Scripts loaded as placeholders whose class came back while their scene runs, unstarted."""
    out = []
    for n in _placeholders(snap):
        t, new = snap.targets[n], news[n]
        if (
            t.running is not None
            and t.entity is not None
            and type(new) is not PlaceholderScript
            and not new.__dict__.get("_hp_state")
        ):
            out.append((t.running, t.entity, new))
    return tuple(out)
