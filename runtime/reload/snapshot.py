"""Step 4, snapshot: ``on_before_reload``, then every object in scope into one msgpack blob.

Objects are stored by class, in columns: one list per field (and for undeclared
attributes, lifecycle state and entity). A column of a field declared ``Vec2``
whose values all are exactly that type is stored as plain numbers, one of a
``tuple`` field whose values all are tuples as plain arrays, and a ``Handle``
column (the entities' too) as the bytes of an array of 64-bit integers in this
machine's byte order (`pack_handles`: the snapshot never leaves the process),
with no extension value per object: decoding those was the costliest part of
a large reload, and an array takes a handle without converting it first.
Each object's stash (`runtime.reload.stash`) is stored with it.
The blob's layout is ``[layouts, groups, placeholders, callbacks]``, each
group's row itself a msgpack blob (the restore step decodes only the groups
whose objects it rebuilds); `runtime.reload.restore` reads it back.
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
import typing
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runtime.fields import dataclass_default, declared_fields, type_name
from runtime.plugins import describe_error
from runtime.reload.hooks import HookCache, hook_context, is_live
from runtime.reload.state import UNENCODABLE_MARK, Notes, Scope, Target, Targets
from runtime.scripting import (
    ENGINE_KEYS,
    STASH_KEY,
    PlaceholderScript,
    plugin_name_of,
    type_id_of,
)
from runtime.snapshot import Unencodable, packb
from runtime.values import Handle, Vec2

if TYPE_CHECKING:
    from runtime.game import Game

# How a column of field values is stored in a snapshot.
PLAIN, VEC2, HANDLE, TUPLE = 0, 1, 2, 3

_CALLBACK_KINDS = ("timer", "subscription", "message", "event")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the snapshot step saved, and what the later steps need to read it back.

    Attributes:
        blob: the msgpack blob.
        targets: every old object in scope, in blob order.
        classes: the class of the old objects and their positions in `targets`,
            class by class (the later steps decide per class, not per object).
        told: the targets whose ``on_before_reload`` ran (they hear of a rollback).
        kept_owners: callback owners outside the scope, referred to by index.
        marked_unencodable: some stored value could not be stored: restore then
            checks every value.
        dataclass_layouts: the packed `_dataclass_layout` of every dataclass stored.
        plain_groups: for each class but `PlaceholderScript`, in `classes` order,
            whether its objects hold plain data only (see `_pack`).
        plain_values: likewise, whether their values are plain data, whatever
            their stashes hold: what the restore step needs to migrate them in
            place (see `_pack`).
        class_objects: the old objects of each class, in `classes` order (the
            targets at its positions).
        unpaused: for each class, in `classes` order, whether the snapshot found
            that none of its objects has the paused mark (``False``: not known).
    """

    blob: bytes
    targets: Targets
    classes: tuple[tuple[type, list[int]], ...]
    told: tuple[Target, ...]
    kept_owners: tuple[Any, ...]
    marked_unencodable: bool
    dataclass_layouts: bytes
    plain_groups: tuple[bool, ...] = ()
    plain_values: tuple[bool, ...] = ()
    class_objects: tuple[list[Any], ...] = ()
    unpaused: tuple[bool, ...] = ()


def take_snapshot(game: Game, scope: Scope, notes: Notes) -> Snapshot:
    """Run ``on_before_reload`` on every live object in scope, then write the blob.

    A hook that raises is noted as a warning (see `_before_hooks`).
    """
    targets, groups = _collect_targets(game, scope)
    told = _before_hooks(game, targets, groups, notes)
    layout_rows: list[list[Any]] = []
    group_rows: list[list[Any]] = []
    placeholders: list[list[Any]] = []
    objects = targets.objects
    for cls, group in groups.items():
        if cls is PlaceholderScript:
            for n in group.index:
                obj = objects[n]
                placeholders.append(
                    [n, obj.missing_type_id, obj.data, obj.reason, obj.__dict__.get(STASH_KEY)]
                )
            continue
        fields = declared_fields(cls)
        names = list(fields)
        annotations = [type_name(f.annotation) for f in fields.values()]
        layout_rows.append(
            [
                type_id_of(cls),
                cls.__module__,
                cls.__qualname__,
                names,
                annotations,
                _encodable_defaults(fields),
            ]
        )
        group_rows.append(
            group.columns(len(layout_rows) - 1, names, annotations, ENGINE_KEYS | set(fields))
        )
    kept_owners: list[Any] = []
    callbacks = _callbacks(game, objects, kept_owners)
    marked = False
    seen: dict[type, None] = {}
    try:
        blob, plain, values = _pack(layout_rows, group_rows, placeholders, callbacks, seen)
    except Unencodable:
        # Slow path, only when something cannot be stored: find it and say so by name.
        marked = _drop_unencodable(layout_rows, group_rows, callbacks, notes)
        seen.clear()
        blob, plain, values = _pack(layout_rows, group_rows, placeholders, callbacks, seen)
        # A value was marked: every object is checked.
        plain = values = tuple(False for _ in plain)
    layouts = packb([_dataclass_layout(cls) for cls in seen if dataclasses.is_dataclass(cls)])
    classes = tuple((cls, g.index) for cls, g in groups.items())
    return Snapshot(
        blob,
        targets,
        classes,
        told,
        tuple(kept_owners),
        marked,
        layouts,
        plain,
        values,
        tuple(g.objects for g in groups.values()),
        tuple(g.unpaused for g in groups.values()),
    )


def _pack(
    layout_rows: list[list[Any]],
    group_rows: list[list[Any]],
    placeholders: list[list[Any]],
    callbacks: list[list[Any]],
    seen: dict[type, None],
) -> tuple[bytes, tuple[bool, ...], tuple[bool, ...]]:
    """The blob, each group's row packed on its own inside it; which groups hold plain data.

    A group's values are plain when none of them was stored by its class (a
    dataclass, an enum, an int subclass) and no object has an undeclared
    attribute: the restore step may then migrate those objects in place,
    from their live values, and decode nothing of the group. The group holds
    plain data when, besides, no stash holds a value for one of its fields
    (one a field at its default could take back): then objects whose class
    kept its layout need no change at all.

    Returns:
        The blob, then for each group whether it holds plain data, and whether
        its values are plain.
    """
    rows = []
    plain = []
    values = []
    for layout, row in zip(layout_rows, group_rows, strict=True):
        classes: dict[type, None] = {}
        rows.append(packb(row, classes))
        stashes = row[7]
        plain_values = not classes and row[4] is None
        values.append(plain_values)
        plain.append(
            plain_values and (stashes is None or not _stash_holds_fields(stashes, layout[3]))
        )
        seen.update(classes)
    blob = packb([layout_rows, rows, placeholders, callbacks], seen)
    return blob, tuple(plain), tuple(values)


def _stash_holds_fields(stashes: list[dict[str, Any] | None], names: list[str]) -> bool:
    """Whether a stash has a value for one of the fields `names` (or a part of one)."""
    keys = set().union(*filter(None, stashes))
    return bool(keys & set(names)) or any(k.partition(".")[0] in names for k in keys)


def _dataclass_layout(cls: type) -> list[Any]:
    """``[module, qualname, field names, type names, defaults]`` of a stored dataclass.

    What the migration rules need to compare the old class with the new one
    (`runtime.reload.migrate.NestedMigration`); a default that cannot be stored,
    or is not known, is `UNENCODABLE_MARK`.
    """
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # an annotation of plugin code that does not resolve: no type checks
        hints = {}
    names, types, defaults = [], [], []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        names.append(f.name)
        types.append(type_name(hints.get(f.name, Any)))
        default = dataclass_default(f)
        defaults.append(UNENCODABLE_MARK if _try_pack(default) is not None else default)
    return [cls.__module__, cls.__qualname__, names, types, defaults]


def _collect_targets(game: Game, scope: Scope) -> tuple[Targets, dict[type, _Group]]:
    """Every object in scope (one walk of each scene), and the same objects class by class."""
    names = set(scope.names)
    targets = Targets()
    types: list[type] = []  # of each script target
    classes: dict[type, None] = {}  # of the script targets, in the order they first appear
    in_scope: dict[type, bool] = {}  # per class, not per object
    for scene in game.scenes:
        targets.scene_runs.append((len(targets.objects), scene, game.running_scene(scene)))
        columns = scene.script_columns()
        scene_types = list(map(type, columns.scripts))
        scene_classes = dict.fromkeys(scene_types)
        for cls in scene_classes.keys() - in_scope.keys():
            in_scope[cls] = cls is PlaceholderScript or plugin_name_of(cls) in names
        if not all(map(in_scope.__getitem__, scene_classes)):
            keep = list(map(in_scope.__getitem__, scene_types))
            columns = columns.where(keep)
            scene_types = list(itertools.compress(scene_types, keep))
            scene_classes = dict.fromkeys(c for c in scene_classes if in_scope[c])
        classes.update(scene_classes)
        targets.objects += columns.scripts
        targets.entities += columns.entities
        targets.indices += columns.indices
        types += scene_types
    groups = _by_class(targets.objects, types, classes)
    # The plugin objects last, one class each: grouped apart, so that the scripts of a
    # scene of one class stay one group, found without sorting every position.
    for name in scope.names:
        obj = game.plugin_objects.get(name)
        if obj is not None:
            group = groups.setdefault(type(obj), _Group())
            group.index.append(len(targets.objects))
            group.objects.append(obj)
            targets.objects.append(obj)
            targets.plugins.append(name)
    return targets, groups


def _by_class(
    objects: list[Any], types: list[type], classes: dict[type, None]
) -> dict[type, _Group]:
    """The positions of `objects` (of classes `types`) and the objects, class by class.

    `classes` are the distinct `types` in the order they first appear, the order
    of the groups.
    """
    if not classes:
        return {}
    if len(classes) == 1:
        return {types[0]: _Group(list(range(len(objects))), list(objects))}
    type_ids = list(map(id, types))
    # A stable sort by class keeps each class's positions ascending; all of it in C.
    order = sorted(range(len(objects)), key=type_ids.__getitem__)
    groups = {}
    for _, run in itertools.groupby(order, key=type_ids.__getitem__):
        index = list(run)
        groups[types[index[0]]] = _Group(index, list(map(objects.__getitem__, index)))
    return {cls: groups[cls] for cls in classes}


def _before_hooks(
    game: Game, targets: Targets, groups: dict[type, _Group], notes: Notes
) -> tuple[Target, ...]:
    """Run ``on_before_reload``; a hook that raises is a warning, never a rollback.

    The hook that runs is the *old* code's: if its failure rolled the reload
    back, the save that fixes or removes the hook could never load. The object
    is saved as it was when the hook raised (or ran past its budget, or exited).
    """
    overrides = HookCache("on_before_reload")
    # Only the objects of classes that override the hook, in target order.
    hooked = sorted(
        itertools.chain.from_iterable(g.index for c, g in groups.items() if overrides(c))
    )
    told: list[Target] = []
    for n in hooked:
        t = targets[n]
        if not is_live(game, t):
            continue
        told.append(t)
        # Through the guard: a hook that loops is interrupted and noted like one that
        # raises, and the rest of the transaction goes on with a fresh budget.
        exc = game.guard.call_method(t.obj, "on_before_reload", hook_context(game, t, t.obj))
        if exc is not None:
            notes.add(
                type_id_of(type(t.obj)),
                "",
                "hook-failed",
                f"on_before_reload raised {describe_error(exc)}; its state was saved as it was",
            )
    return tuple(told)


_dict_of = operator.attrgetter("__dict__")
_state_of = operator.itemgetter("_hp_state")
_entity_of = operator.itemgetter("_hp_entity")


@dataclass(slots=True)
class _Group:
    """The objects of one class in a snapshot, and their positions among the targets."""

    index: list[int] = field(default_factory=list)
    objects: list[Any] = field(default_factory=list)
    #: Set by `columns`: whether no object has the paused mark (found on the way).
    unpaused: bool = False

    def columns(
        self, layout: int, names: list[str], annotations: list[str], not_extra: frozenset[str]
    ) -> list[Any]:
        """``[layout, target indices, kinds, columns, extras, states, entities, stashes]``.

        Each column is one pass in C (``map``) over the objects' dicts. `extras`
        and `stashes` are ``None`` when no object of the group has any (the
        common case: restore then skips them as a whole).
        """
        objs = self.objects
        dicts = list(map(_dict_of, objs))
        kinds: list[int] = []
        cols: list[Any] = []  # lists, or the bytes of a packed handle column
        every_field_in_every_dict = True
        for name, ann in zip(names, annotations, strict=True):
            try:
                col = list(map(operator.itemgetter(name), dicts))
            except KeyError:  # a slot, or a field an object lost
                every_field_in_every_dict = False
                col = [_get(o, d, name) for o, d in zip(objs, dicts, strict=True)]
            if ann == "Vec2" and _all_of_type(col, Vec2):
                kinds.append(VEC2)
                cols.append(list(itertools.chain.from_iterable(col)))
            elif ann == "Handle" and _all_of_type(col, Handle):
                kinds.append(HANDLE)
                cols.append(pack_handles(col))
            elif ann.startswith("tuple") and _all_of_type(col, tuple):
                kinds.append(TUPLE)
                cols.append(list(map(list, col)))
            else:
                kinds.append(PLAIN)
                cols.append(col)
        try:
            states = list(map(_state_of, dicts))
            entities = list(map(_entity_of, dicts))
            engine_keys_everywhere = True
        except KeyError:  # one not started yet, or on no entity: 0 stands for "not set"
            engine_keys_everywhere = False
            states = list(map(dict.get, dicts, itertools.repeat("_hp_state"), itertools.repeat(0)))
            entities = list(
                map(dict.get, dicts, itertools.repeat("_hp_entity"), itertools.repeat(0))
            )
        # Whether any object has an undeclared attribute or a stash. The common cases in
        # passes over lengths: every dict holds each field, a state and an entity and no
        # more keys than those (so nothing else), or those and a stash (objects a field
        # edit left stashes on; a key-by-key check of every dict cost 2 ms at 10,000).
        extras = stashes = None
        exact = stashed = False
        if every_field_in_every_dict and engine_keys_everywhere:
            keys = len(names) + 2
            lengths = set(map(len, dicts))
            exact = lengths == {keys}
            stashed = (
                not exact
                and lengths <= {keys, keys + 1}
                and set(
                    map(
                        operator.sub,
                        map(len, dicts),
                        map(dict.__contains__, dicts, itertools.repeat(STASH_KEY)),
                    )
                )
                == {keys}
            )
        # No key but the declared, the two engine keys and a stash: no paused mark.
        self.unpaused = exact or stashed
        if stashed:
            stashes = list(map(dict.get, dicts, itertools.repeat(STASH_KEY)))
        elif not exact and not all(map((not_extra - {STASH_KEY}).issuperset, dicts)):
            stashes = list(map(dict.get, dicts, itertools.repeat(STASH_KEY)))
            # A stash is no undeclared attribute: when every dict holds declared and
            # engine keys only (objects a field edit left stashes on), none has extras.
            if not all(map(not_extra.issuperset, dicts)):
                extras = [
                    {k: d[k] for k in keys} if (keys := d.keys() - not_extra) else None
                    for d in dicts
                ]
                if not any(extras):
                    extras = None
        return [
            layout,
            self.index,
            kinds,
            cols,
            extras,
            states,
            pack_handles(entities),
            stashes if stashes is not None and any(stashes) else None,
        ]


def pack_handles(handles: list[Any]) -> bytes | list[int]:
    """Entity handles (or plain ints, 0 for none) as the bytes of a 64-bit array, in C.

    A `Handle` would otherwise go through an extension hook, or be made an
    ``int`` first, one call per object. A handle past 64 bits (a field may hold
    any int a scene file can) makes the column plain ints instead.
    `unpack_handles` reads either back.
    """
    try:
        return array("q", handles).tobytes()
    except OverflowError:
        return list(map(int, handles))


def unpack_handles(data: bytes | list[int]) -> Sequence[int]:
    """The integers `pack_handles` stored."""
    if not isinstance(data, bytes):
        return data
    out = array("q")
    out.frombytes(data)
    return out


def _all_of_type(values: list[Any], cls: type) -> bool:
    """Whether every value is exactly of type `cls` (one pass in C)."""
    return set(map(type, values)) <= {cls}


def _callbacks(game: Game, objects: list[Any], kept_owners: list[Any]) -> list[list[Any]]:
    """Timers, subscriptions, messages and events; owners as target or kept-owner indices."""
    cb = game.callbacks
    scene_index = {id(rs): i for i, rs in enumerate(game.running_scenes)}
    keep_index: dict[int, int] = {}
    owner_index: dict[int, int] = {}  # built at the first owner: most reloads have none

    def ref(owner: Any) -> list[Any]:
        if not owner_index:
            owner_index.update(zip(map(id, objects), range(len(objects)), strict=True))
        i = owner_index.get(id(owner))
        if i is not None:
            return ["t", i]
        k = keep_index.get(id(owner))
        if k is None:
            k = keep_index[id(owner)] = len(kept_owners)
            kept_owners.append(owner)
        return ["k", k]

    now = game.time
    timers = [
        [
            ref(t.owner),
            t.method,
            t.due - now,
            t.interval,
            list(t.args),
            scene_index.get(id(t.scene), -1),
            int(t.handle),
            t.id,
        ]
        for t in cb.live_timers()
    ]
    subs = [
        [ref(s.owner), s.event, s.method, scene_index.get(id(s.scene), -1), int(s.handle)]
        for s in cb.subscriptions
    ]
    messages = [[scene_index.get(id(m.scene), -1), int(m.target), m.payload] for m in cb.messages]
    emitted = [[e.event, e.payload] for e in cb.emitted]
    return [timers, subs, messages, emitted]


def _drop_unencodable(
    layout_rows: list[list[Any]],
    group_rows: list[list[Any]],
    callbacks: list[list[Any]],
    notes: Notes,
) -> bool:
    """Mark or drop every value msgpack cannot hold, noting each; whether one was marked."""
    marked = False
    for row in group_rows:
        stored = layout_rows[row[0]]
        for f, (kind, col) in enumerate(zip(row[2], row[3], strict=True)):
            if kind == TUPLE and _try_pack(col) is not None:
                # Back to a column of tuples, where a value can be marked in its place.
                row[2][f], col = PLAIN, list(map(tuple, col))
                row[3][f] = col
            elif kind != PLAIN or _try_pack(col) is None:
                continue
            for i, v in enumerate(col):
                problem = _try_pack(v)
                if problem is not None:
                    notes.add(
                        stored[0],
                        stored[3][f],
                        "unencodable",
                        f"value cannot be stored ({problem}); reset to its default",
                    )
                    col[i] = UNENCODABLE_MARK
                    marked = True
        for extras in row[4] or ():
            for k in list(extras or ()):
                problem = _try_pack(extras[k])
                if problem is not None:
                    notes.add(
                        stored[0],
                        k,
                        "unencodable",
                        f"undeclared attribute cannot be stored ({problem}); dropped "
                        "(rebuild it in on_after_reload)",
                    )
                    del extras[k]
    for kind in range(4):
        kept = []
        for entry in callbacks[kind]:
            problem = _try_pack(entry)
            if problem is None:
                kept.append(entry)
            else:
                notes.add(
                    "engine",
                    _CALLBACK_KINDS[kind],
                    "callback-dropped",
                    f"its data cannot be stored ({problem})",
                )
        callbacks[kind] = kept
    return marked


def _encodable_defaults(fields: Mapping[str, Any]) -> list[Any]:
    return [
        f.default if _try_pack(f.default) is None else UNENCODABLE_MARK for f in fields.values()
    ]


def _get(obj: Any, d: dict[str, Any], name: str) -> Any:
    try:
        return d[name]
    except KeyError:
        return getattr(obj, name, None)


def _try_pack(value: Any) -> str | None:
    try:
        packb(value)
        return None
    except Unencodable as exc:
        return str(exc)
