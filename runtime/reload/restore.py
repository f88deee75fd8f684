"""Step 6, restore: new objects from the new classes, filled from the blob; ``on_after_reload``.

Classes are found by type id in the new generation (or, for a class that moved
to another module of its plugin, by qualified name); a script whose class is
gone becomes a placeholder holding its data, and a placeholder whose class came
back becomes a script again. The objects of a class whose values are plain
data are kept instead, migrated in place when the class's fields changed (see
`_kept_class`). Nothing is swapped in here: the result is a `Restored` for the
commit step.
"""

from __future__ import annotations

import collections
import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from runtime.callbacks import Emitted, Message, Subscription, Timer
from runtime.collector import collect_young
from runtime.fields import PlainDataError
from runtime.guard import is_user_interrupt
from runtime.plugins import GAME_CODE_ERRORS, LoadedPlugin, TypeRegistry, describe_error
from runtime.reload.hooks import HookCache, hook_context, is_live, who
from runtime.reload.migrate import ClassPlan, FieldPatch, NestedMigration
from runtime.reload.snapshot import HANDLE, TUPLE, VEC2, Snapshot, unpack_handles
from runtime.reload.stash import object_from_data, stored_plain
from runtime.reload.state import Notes, ReloadFailed, Scope, Target, Targets
from runtime.reports import ReloadReport
from runtime.scripting import (
    STASH_KEY,
    PlaceholderScript,
    Plugin,
    Script,
    instantiate,
    module_path,
    type_id_of,
)
from runtime.snapshot import Unresolved, default_resolver, lookup_qualname, unpackb
from runtime.values import Handle, Vec2

if TYPE_CHECKING:
    from runtime.game import Game

_new_vec2 = functools.partial(tuple.__new__, Vec2)

#: Objects a rebuild must make before it is worth collecting the young generation first.
_MANY = 1000


@dataclass(frozen=True, slots=True)
class Restored:
    """The new side of a reload, built but not swapped in.

    Attributes:
        objects: the new object of each snapshot target (the old object itself
            when it stays, ``None`` for the plugin object of a deleted plugin).
        new_plugins: plugin objects of plugins loaded for the first time, or back
            after their package was gone (filled from what the game kept of them).
        plugin_stashes: the fields and stash of each deleted plugin's object, as
            scene-file data, kept by the game for when the plugin comes back.
        timers: every timer, rebuilt for the new owners.
        subscriptions: every subscription, likewise.
        messages: the queued messages.
        emitted: the queued events.
        retyped: the new class of each old class whose objects stay themselves:
            in `objects` they are the old objects, which the commit step gives
            the new class (until then they keep the old one).
        patches: what the commit step changes in the dicts of the kept objects of
            an old class whose layout changed (`FieldPatch`), by old class; the
            objects are untouched until then.
        young_collected: the collector's youngest generation was collected just
            before objects were rebuilt: what is young now is the reload's own
            (`runtime.collector.keep_young` may move it to the oldest generation).
    """

    objects: tuple[Any, ...]
    new_plugins: dict[str, Plugin]
    plugin_stashes: dict[str, dict[str, Any]]
    timers: list[Timer]
    subscriptions: list[Subscription]
    messages: list[Message]
    emitted: list[Emitted]
    retyped: dict[type, type] = field(default_factory=dict)
    young_collected: bool = False
    patches: dict[type, FieldPatch] = field(default_factory=dict)


def restore_objects(
    game: Game,
    scope: Scope,
    snap: Snapshot,
    fresh: dict[str, LoadedPlugin],
    notes: Notes,
    draft_report: Callable[[], ReloadReport],
    collecting: bool = True,
) -> Restored:
    """Build the new objects and callbacks, then run ``on_after_reload`` on the new objects.

    Args:
        game: the running game (read only).
        scope: the plugins in the reload.
        snap: the snapshot step's result.
        fresh: the new generation.
        notes: where migration notes go.
        draft_report: the report so far, handed to ``on_after_reload``.
        collecting: the collector was on before the reload: a large rebuild may
            collect the young generations first (`Restored.young_collected`).

    Raises:
        ReloadFailed: a stored value is refused or a hook raised.
    """
    classes = ClassFinder(scope, fresh, game.registry)
    unresolved: list[Unresolved] = []
    nested = NestedMigration(notes, unpackb(snap.dataclass_layouts, classes.resolver))
    layout_rows, group_blobs, placeholders, callbacks = unpackb(
        snap.blob, classes.resolver, unresolved, nested
    )
    targets = snap.targets
    scripts = targets.scripts
    objects: list[Any] = [None] * len(targets)
    after_overrides = HookCache("on_after_reload")
    # The objects of a class whose values are plain data keep their identity and take
    # the new class at commit, migrated in place when its layout changed; the others
    # are rebuilt from their decoded rows.
    retyped: dict[type, type] = {}
    patches: dict[type, FieldPatch] = {}
    stored = [
        (cls, index, objs)
        for (cls, index), objs in zip(snap.classes, snap.class_objects, strict=True)
        if cls is not PlaceholderScript
    ]
    rebuilt_blobs = []
    rebuilding = 0  # objects
    # The notes of the classes kept, by layout index: reported in class order, among
    # those of the rebuilt classes, as a rebuild of every class would report them.
    kept_notes: collections.deque[tuple[int, Notes]] = collections.deque()
    for li, ((cls, index, olds), layout, plain, plain_values, group_blob) in enumerate(
        zip(stored, layout_rows, snap.plain_groups, snap.plain_values, group_blobs, strict=True)
    ):
        kept = None
        if plain_values:
            t = targets[index[0]]
            own = Notes()
            kept = _kept_class(t, layout, classes, after_overrides, olds, plain, own)
        if kept is not None:
            retyped[cls], patch = kept
            if patch is not None:
                patches[cls] = patch
                kept_notes.append((li, own))
            _put(objects, index, olds)
        else:
            rebuilt_blobs.append(group_blob)
            rebuilding += len(index)
    # A rebuild of a good part of the scene is about to make objects by the thousand:
    # from here on, what is young is the reload's own (see `Restored.young_collected`).
    # The collection walks the reload's lists of every target, so it is worth it only
    # then (a code-only edit rebuilds the plugin object alone).
    young_collected = collecting and rebuilding * 4 >= len(targets) and rebuilding >= _MANY
    if young_collected:
        collect_young()
    group_rows = [unpackb(b, classes.resolver, unresolved, nested) for b in rebuilt_blobs]
    careful = snap.marked_unencodable or bool(unresolved) or nested.changed
    plugin_stashes: dict[str, dict[str, Any]] = {}
    hooked: list[int] = []  # positions of new objects whose class overrides on_after_reload
    for li, index, kinds, cols, extras, states, packed_entities, stashes in group_rows:
        while kept_notes and kept_notes[0][0] < li:
            notes.update(kept_notes.popleft()[1])
        entities = unpack_handles(packed_entities)
        layout = layout_rows[li]
        plan = _plan(targets[index[0]], layout, classes, notes, careful, nested)
        columns = [_decode_column(k, c) for k, c in zip(kinds, cols, strict=True)]
        if plan is not None:
            _put(objects, index, plan.build_all(columns, extras, states, entities, stashes))
            if after_overrides(plan.cls):
                hooked += index
            continue
        rows = zip(*columns, strict=True) if columns else itertools.repeat(())
        for n, values, state, entity, stash in zip(
            index, rows, states, entities, stashes or itertools.repeat(None), strict=False
        ):
            if n >= scripts:
                plugin_stashes[targets.plugins[n - scripts]] = _plain_data(
                    layout, values, stash, notes
                )
            else:
                objects[n] = _to_placeholder(layout, values, state, entity, stash, notes)
    while kept_notes:
        notes.update(kept_notes.popleft()[1])
    for n, type_id, data, _reason, stash in placeholders:
        old = targets.objects[n]
        objects[n] = new = _from_placeholder(old, type_id, data, stash, classes, notes)
        if new is not old and after_overrides(type(new)):
            hooked.append(n)
    new_plugins = {
        n: _new_plugin(fresh[n].plugin_class, game.plugin_stashes.get(n), notes)
        for n in scope.to_load
        if n not in game.plugin_objects
    }
    rebuilt_callbacks = _restore_callbacks(
        game, callbacks, objects, snap.kept_owners, retyped, notes
    )
    restored = Restored(
        tuple(objects),
        new_plugins,
        plugin_stashes,
        *rebuilt_callbacks,
        retyped,
        young_collected,
        patches,
    )
    _after_hooks(game, targets, restored.objects, sorted(hooked), draft_report())
    return restored


def _kept_class(
    t: Target,
    layout: list[Any],
    classes: ClassFinder,
    after_overrides: HookCache,
    objs: list[Any],
    plain: bool,
    notes: Notes,
) -> tuple[type, FieldPatch | None] | None:
    """The new class the objects `objs` of `t`'s class take, kept; or ``None``: rebuild them.

    They keep their identity when the class is a script class (not a
    plugin's) found under its type id, with no ``on_after_reload`` to run (it
    runs before the commit, on objects of the new class) and an instance
    layout Python lets an object change to (no other ``__slots__``, say). The
    caller has checked that their stored values are plain: no enum, dataclass
    or int-subclass value of the old code, no undeclared attribute.

    With the same fields (names, types, defaults, in the same order) and, as
    `plain` says, no stash that holds a value for one of them, nothing of
    their state changes: the patch is ``None``. Otherwise the rules migrate
    them in place (`ClassPlan.patch`), unless a field is set through a
    property or a slot. `notes` is the class's own: the caller keeps it only
    when the objects are migrated in place.
    """
    if t.plugin:
        return None
    type_id, module, qualname, names, anns, defaults = layout
    new_cls, moved = classes.new_class(type_id, module, qualname)
    if new_cls is None or moved or after_overrides(new_cls) or not can_take_class(t.obj, new_cls):
        return None
    plan = ClassPlan(notes, type_id, new_cls, names, anns, defaults, careful=False)
    if plain and plan.unchanged:
        return new_cls, None
    patch = plan.patch(objs)
    return None if patch is None else (new_cls, patch)


def can_take_class(obj: Any, cls: type) -> bool:
    """Whether Python lets `obj` change its class to `cls` (tried, and put back at once)."""
    old = type(obj)
    try:
        object.__setattr__(obj, "__class__", cls)
    except TypeError:  # "object layout differs", a built-in type...
        return False
    object.__setattr__(obj, "__class__", old)
    return True


def _put(objects: list[Any], index: list[int], built: list[Any]) -> None:
    """Put the objects built for the target positions `index` (ascending) in their places."""
    if index and index[-1] - index[0] == len(index) - 1:
        objects[index[0] : index[-1] + 1] = built  # consecutive: the common case
    else:
        for n, obj in zip(index, built, strict=True):
            objects[n] = obj


class ClassFinder:
    """Finds the new class of a stored object, and the classes of stored values."""

    def __init__(self, scope: Scope, fresh: dict[str, LoadedPlugin], registry: TypeRegistry):
        self.scope = scope
        self.fresh = fresh
        self.registry = registry

    def resolver(self, module: str, qualname: str) -> Any:
        """The class of a stored enum member or dataclass, in the new generation first."""
        for p in self.fresh.values():
            mod = p.modules.get(module)
            if mod is not None:
                return lookup_qualname(mod, qualname)
        plugin = module_path(module).partition(".")[0]
        if plugin in self.scope.removed:
            return None
        return default_resolver(module, qualname)

    def new_class(self, type_id: str, module: str, qualname: str) -> tuple[type | None, str]:
        """The new class of a stored script and, if it moved, a note saying where."""
        for p in self.fresh.values():
            cls = p.scripts.get(type_id)
            if cls is not None:
                return cls, ""
        registry = self.registry
        if type_id in registry and registry.owner(type_id) not in self.scope.names:
            return registry.resolve(type_id), ""
        # Not found by type id: the class may have moved to another module of its plugin.
        plugin = module_path(module).partition(".")[0]
        fresh = self.fresh.get(plugin)
        if fresh is not None:
            found = [
                c for c in fresh.classes_by_qualname.get(qualname, []) if issubclass(c, Script)
            ]
            if len(found) == 1:
                return found[0], f"moved to {module_path(found[0].__module__)}"
        return None, ""


def _decode_column(kind: int, col: Any) -> list[Any]:
    if kind == VEC2:
        it = iter(col)
        return list(map(_new_vec2, zip(it, it, strict=True)))
    if kind == HANDLE:
        return list(map(Handle, unpack_handles(col)))
    if kind == TUPLE:
        return list(map(tuple, col))
    return col


def _plan(
    t: Target,
    layout: list[Any],
    classes: ClassFinder,
    notes: Notes,
    careful: bool,
    nested: NestedMigration,
) -> ClassPlan | None:
    type_id, module, qualname, names, anns, defaults = layout
    if t.plugin:
        if t.plugin in classes.scope.removed:
            notes.add(
                type_id,
                "",
                "stashed",
                "plugin deleted; the state of its plugin object is kept for when it comes back",
            )
            return None
        new_cls: type | None = classes.fresh[t.plugin].plugin_class
    else:
        new_cls, moved = classes.new_class(type_id, module, qualname)
        if new_cls is None:
            return None
        if moved:
            notes.add(type_id, "", "moved", moved)
    assert new_cls is not None
    return ClassPlan(notes, type_id, new_cls, names, anns, defaults, careful=careful, nested=nested)


def _plain_data(
    layout: list[Any], values: Sequence[Any], stash: dict[str, Any] | None, notes: Notes
) -> dict[str, Any]:
    """An object's stash and field values as scene-file data (fields win over the stash)."""
    type_id, _, _, names, _, _ = layout
    data = dict(stash or {})
    for name, value in zip(names, values, strict=True):
        try:
            data[name] = stored_plain(value)
        except (PlainDataError, RecursionError) as exc:
            notes.add(type_id, name, "dropped", f"cannot be kept as data: {exc}")
    return data


def _to_placeholder(
    layout: list[Any],
    values: Sequence[Any],
    state: int,
    entity: int,
    stash: dict[str, Any] | None,
    notes: Notes,
) -> Any:
    type_id = layout[0]
    names = set(layout[3])
    data = {k: v for k, v in _plain_data(layout, values, None, notes).items() if k in names}
    notes.add(
        type_id,
        "",
        "placeholder",
        "class no longer exists; scripts kept as placeholders with their data",
    )
    ph = PlaceholderScript(type_id, data, f"class {type_id} no longer exists")
    # The placeholder keeps where the script was in its lifecycle, for when it comes back.
    ph.__dict__["_hp_entity"] = Handle(entity)
    if state:
        ph.__dict__["_hp_state"] = state
    if stash:
        ph.__dict__[STASH_KEY] = dict(stash)
    return ph


def _from_placeholder(
    old: PlaceholderScript,
    type_id: str,
    data: Any,
    stash: dict[str, Any] | None,
    classes: ClassFinder,
    notes: Notes,
) -> Any:
    cls, _ = classes.new_class(type_id, "", "")
    if cls is None:
        return old  # still missing: the very same placeholder stays
    notes.add(type_id, "", "restored", "class is back; placeholders turned into scripts")
    obj = object_from_data(cls, data, stash, partial(notes.add, type_id))
    for key in ("_hp_entity", "_hp_state"):
        if key in old.__dict__:
            obj.__dict__[key] = old.__dict__[key]
    return obj


def _new_plugin(cls: type[Plugin], kept: dict[str, Any] | None, notes: Notes) -> Plugin:
    """The object of a plugin new this reload: defaults, or what the game kept of it."""
    if kept is None:
        return instantiate(cls)
    obj: Plugin = object_from_data(cls, {}, kept, partial(notes.add, type_id_of(cls)))
    return obj


def _restore_callbacks(
    game: Game,
    callbacks: list[list[Any]],
    objects: list[Any],
    kept_owners: tuple[Any, ...],
    retyped: dict[type, type],
    notes: Notes,
) -> tuple[list[Timer], list[Subscription], list[Message], list[Emitted]]:
    timers, subs, messages, emitted = callbacks
    running = game.running_scenes
    now = game.time

    def owner(ref: list[Any]) -> Any:
        return objects[ref[1]] if ref[0] == "t" else kept_owners[ref[1]]

    def scene(i: int) -> Any:
        return running[i] if 0 <= i < len(running) else None

    def callable_on(own: Any, method: str) -> bool:
        if own is None or type(own) is PlaceholderScript:
            return False
        new_cls = retyped.get(type(own))
        if new_cls is not None:  # kept: the method it will have under the new class
            return callable(own.__dict__.get(method, getattr(new_cls, method, None)))
        return callable(getattr(own, method, None))

    new_timers = []
    for o, method, remaining, interval, args, si, handle, tid in timers:
        own = owner(o)
        if not callable_on(own, method):
            notes.add(
                type_id_of(type(own)) if own is not None else "engine",
                method,
                "callback-dropped",
                "timer dropped: its method no longer exists",
            )
            continue
        new_timers.append(
            Timer(tid, now + remaining, interval, own, method, tuple(args), scene(si), handle)
        )
    new_subs = []
    for o, event, method, si, handle in subs:
        own = owner(o)
        if not callable_on(own, method):
            notes.add(
                "engine",
                method,
                "callback-dropped",
                f"subscription to {event!r} dropped: its method no longer exists",
            )
            continue
        new_subs.append(Subscription(event, own, method, scene(si), handle))
    new_messages = [Message(scene(si), h, p) for si, h, p in messages]
    new_emitted = [Emitted(ev, p) for ev, p in emitted]
    return new_timers, new_subs, new_messages, new_emitted


def _after_hooks(
    game: Game,
    targets: Targets,
    objects: Sequence[Any],
    hooked: Sequence[int],
    draft: ReloadReport,
) -> None:
    """``on_after_reload`` on the new objects at the positions `hooked`, in order, if live."""
    for n in hooked:
        t, new = targets[n], objects[n]
        if not is_live(game, t):
            continue
        try:
            new.on_after_reload(hook_context(game, t, new), draft)
        except GAME_CODE_ERRORS as exc:
            if is_user_interrupt(exc):
                raise  # the terminal's Ctrl+C ends the program, not this reload
            raise ReloadFailed(f"{who(t)}: on_after_reload raised {describe_error(exc)}") from exc
