"""The field migration rules, as a plan per class: how stored objects become new objects.

A plan is computed once per class and reload, then applied to every object of
the class (`ClassPlan.build`); docs/hot-reload.md, "The guarantee", states the
rules it implements.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import operator
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from runtime.fields import (
    UNKNOWN_DEFAULT,
    FieldSpec,
    PlainDataError,
    conforms,
    dataclass_default,
    declared_fields,
    from_plain,
    type_name,
)
from runtime.history import exhaust
from runtime.plugins import describe_error
from runtime.reload.stash import (
    float_sequence,
    stored_plain,
    stored_plain_column,
    take_all_back,
    take_back,
)
from runtime.reload.state import UNENCODABLE_MARK, Notes, ReloadFailed
from runtime.scripting import STASH_KEY, is_data_descriptor, module_path
from runtime.snapshot import Unencodable, Unresolved, build_dataclass, packb, unpackb
from runtime.values import Color, Handle, Vec2

_NO_DEFAULT_CHECK = object()

_dict_of = operator.attrgetter("__dict__")

#: Value types for which `conforms` depends on the type alone, never on the value.
_ATOMIC = frozenset({int, float, str, bool, type(None), Handle, Vec2, Color})
#: Containers `conforms` accepts only as exactly the declared container type.
_CONTAINERS = frozenset({list, tuple, dict})


@dataclass(slots=True)
class _NestedRecord:
    """What the rules took out of, or left to fill in, one rebuilt dataclass instance."""

    obj: Any
    stashed: dict[str, Any]
    to_fill: dict[str, Any]  # name -> annotation of each field at its default by the rules


class NestedMigration:
    """The migration rules for dataclass values, at any depth: a `DataclassBuilder`.

    Called while the snapshot is decoded, with the new class of each stored
    dataclass value. Against the old class's layout (stored by the snapshot
    step): a field removed from the dataclass is noted and its value set aside
    (`ClassPlan` puts it in the owning object's stash, as ``field.sub``); a
    value that no longer fits its field's new type is reset to the default and
    set aside; a value still at the old default takes the new one; a new field
    takes its default (or, through `ClassPlan`, its value from the stash).

    Args:
        notes: where the notes go (under the dataclass's ``module:QualName``).
        layouts: the stored layouts, decoded: ``[module, qualname, names, types, defaults]``.
    """

    def __init__(self, notes: Notes, layouts: list[list[Any]]) -> None:
        self.notes = notes
        self.layouts = {(m, q): (names, types, dflt) for m, q, names, types, dflt in layouts}
        self.records: dict[int, _NestedRecord] = {}
        #: whether some value was changed or set aside (every object is then checked)
        self.changed = False

    def __call__(self, module: str, qualname: str, cls: Any, stored: dict[str, Any]) -> Any:
        """Build one dataclass value of the new class from its stored fields, by the rules."""
        layout = self.layouts.get((module, qualname))
        if layout is None:
            return build_dataclass(module, qualname, cls, stored)
        names, types, defaults = layout
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # an annotation that does not resolve: no type checks
            hints = {}
        tid = f"{module_path(module)}:{qualname}"
        note = self.notes.add
        new_fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        old_index = {n: i for i, n in enumerate(names)}
        kwargs: dict[str, Any] = {}
        stashed: dict[str, Any] = {}
        added: dict[str, Any] = {}
        for name, f in new_fields.items():
            ann = hints.get(name, Any)
            i = old_index.get(name, -1)
            if i < 0:
                note(tid, name, "added", "new field, set to its default")
                added[name] = ann
                continue
            if name not in stored:
                continue
            value = stored[name]
            if types[i] != type_name(ann) and not conforms(value, ann):
                note(
                    tid,
                    name,
                    "reset",
                    f"value no longer fits {type_name(ann)}; reset to the default "
                    "(the old value is kept in the stash)",
                )
                if not _same(value, defaults[i]):
                    self._set_aside(stashed, tid, name, value)
                added[name] = ann  # the stash may hold a value that fits the new type
                continue
            old_default = defaults[i]
            new_default = dataclass_default(f)
            if (
                not _is_unencodable_mark(old_default)
                and new_default is not UNKNOWN_DEFAULT
                and not _same(old_default, new_default)
                and _same(value, old_default)
            ):
                note(tid, name, "default-updated", "was at its old default; took the new one")
                continue
            kwargs[name] = value
        for name in names:
            if name not in new_fields and name in stored:
                note(
                    tid,
                    name,
                    "stashed",
                    "field removed from the code; its value is kept in the stash "
                    "and comes back with the field",
                )
                self._set_aside(stashed, tid, name, stored[name])
        obj = build_dataclass(module, qualname, cls, kwargs)
        if stashed or added:
            self.records[id(obj)] = _NestedRecord(obj, stashed, added)
        if stashed or added or len(kwargs) != len(stored):
            self.changed = True
        return obj

    def _set_aside(self, stashed: dict[str, Any], tid: str, name: str, value: Any) -> None:
        try:
            stashed[name] = stored_plain(value)
        except (PlainDataError, RecursionError) as exc:
            self.notes.add(tid, name, "dropped", f"value cannot be kept in the stash: {exc}")

    def settle(self, prefix: str, value: Any, stash: dict[str, Any]) -> None:
        """Move what was set aside from `value` (a field's new value) into its owner's `stash`.

        And give the dataclass's new fields their values back from the stash, under
        ``prefix.field`` (`prefix` is the owning field's name). Only a dataclass
        directly in a field has such a place; one inside a list or dict is
        migrated by the rules, and what it loses is reported, not kept.
        """
        record = self.records.get(id(value))
        if record is None or record.obj is not value:
            return
        gave_back = {}
        for name, ann in record.to_fill.items():
            key = f"{prefix}.{name}"
            if key not in stash:
                continue
            try:
                gave_back[name] = from_plain(stash[key], ann)
            except (PlainDataError, RecursionError):
                continue
            del stash[key]
        for name, plain in record.stashed.items():
            stash[f"{prefix}.{name}"] = plain
        for name, back in gave_back.items():
            object.__setattr__(value, name, back)  # frozen dataclasses too
            self.notes.add(
                f"{module_path(type(value).__module__)}:{type(value).__qualname__}",
                name,
                "unstashed",
                "its value came back from the stash",
            )


@dataclass(frozen=True, slots=True)
class FieldPatch:
    """What a migration in place changes in the dicts of one class's objects (`ClassPlan.patch`).

    Attributes:
        removed: the fields the new class no longer declares (their values are
            in the new stashes).
        columns: ``(field, each object's new value)`` of each field that is new
            or whose values the rules looked at; the others keep their values.
        stashes: each object's new stash (empty: none), or ``None`` when no
            object has one and none was made.
    """

    removed: tuple[str, ...]
    columns: tuple[tuple[str, list[Any]], ...]
    stashes: list[dict[str, Any]] | None

    def apply(self, objs: list[Any]) -> list[dict[str, Any]]:
        """Change the dicts of `objs` (the objects the patch was made for, in its order).

        What the commit step does. Returns the dicts.
        """
        dicts = list(map(_dict_of, objs))
        self._apply(dicts)
        return dicts

    def patched(self, objs: list[Any]) -> list[dict[str, Any]]:
        """Copies of the dicts of `objs`, changed as `apply` changes theirs (left as they are)."""
        dicts = list(map(dict.copy, map(_dict_of, objs)))
        self._apply(dicts)
        return dicts

    def _apply(self, dicts: list[dict[str, Any]]) -> None:
        nothing = itertools.repeat(None)
        for name in self.removed:
            exhaust(map(dict.pop, dicts, itertools.repeat(name), nothing))
        for name, col in self.columns:
            exhaust(map(dict.__setitem__, dicts, itertools.repeat(name), col))
        if self.stashes is not None:
            some = list(map(bool, self.stashes))
            key = itertools.repeat(STASH_KEY)
            exhaust(
                map(
                    dict.__setitem__,
                    itertools.compress(dicts, some),
                    key,
                    itertools.compress(self.stashes, some),
                )
            )
            if not all(some):
                none = map(operator.not_, some)
                exhaust(map(dict.pop, itertools.compress(dicts, none), key, nothing))


class _RebuildInstead(Exception):
    """Objects a migration in place cannot take: they are rebuilt instead.

    A field the rules look at is missing from an object's dict (a slot, or a
    field lost), or a stashed value that could come back is not plain data.
    """


class _LiveColumns:
    """The values of each stored field of live objects, read from their dicts when asked."""

    def __init__(self, dicts: list[dict[str, Any]], names: list[str]) -> None:
        self._dicts = dicts
        self._names = names
        #: The lists given out, by id (held here, so that no other list takes an id).
        self._given: dict[int, list[Any]] = {}

    def __getitem__(self, i: int) -> list[Any]:
        try:
            col = list(map(operator.itemgetter(self._names[i]), self._dicts))
        except KeyError:
            raise _RebuildInstead(self._names[i]) from None
        self._given[id(col)] = col
        return col

    def gave(self, col: list[Any]) -> bool:
        """Whether `col` is one of the columns read here, as it was read."""
        return self._given.get(id(col)) is col

    def __len__(self) -> int:
        return len(self._names)


class ClassPlan:
    """How to turn stored objects of one old class into objects of its new class.

    Args:
        notes: where the plan and its objects note what they changed.
        type_id: the stored class's type id.
        new_cls: the class to build.
        names: the stored field names, in column order.
        annotations: their stored type names.
        defaults: their old defaults (`UNENCODABLE_MARK` when they could not be stored).
        careful: check every value (some stored value could not be stored, or not
            be rebuilt), even when the class did not change.
        nested: the migration of the stored dataclass values, whose set-aside
            values go to each object's stash.
    """

    def __init__(
        self,
        notes: Notes,
        type_id: str,
        new_cls: type,
        names: list[str],
        annotations: list[str],
        defaults: list[Any],
        *,
        careful: bool,
        nested: NestedMigration | None = None,
    ) -> None:
        self.notes = notes
        self.nested = nested
        self.type_id = type_id
        self.cls = new_cls
        new_fields = declared_fields(new_cls)
        self.field_names = frozenset(new_fields)
        old_index = {n: i for i, n in enumerate(names)}
        # (name, old index or -1, spec, check type?, old default or marker if unchanged)
        self.steps: list[tuple[str, int, Any, bool, Any]] = []
        #: the old default of each kept field, by name (`UNENCODABLE_MARK` if unknown)
        self.old_defaults = {n: defaults[i] for i, n in enumerate(names)}
        for name, spec in new_fields.items():
            i = old_index.get(name, -1)
            if i < 0:
                self.steps.append((name, -1, spec, False, _NO_DEFAULT_CHECK))
                notes.add(type_id, name, "added", "new field, set to its default")
                continue
            type_changed = annotations[i] != type_name(spec.annotation)
            old_default = defaults[i]
            default_changed = not _is_unencodable_mark(old_default) and not _same(
                old_default, spec.default
            )
            self.steps.append(
                (name, i, spec, type_changed, old_default if default_changed else _NO_DEFAULT_CHECK)
            )
        #: (name, old index) of the stored fields the new class no longer declares
        self.removed = [(n, i) for i, n in enumerate(names) if n not in new_fields]
        for name, _ in self.removed:
            notes.add(
                type_id,
                name,
                "stashed",
                "field removed from the code; its value is kept in the stash "
                "and comes back with the field",
            )
        self.careful = careful
        #: the stored field names, in column order
        self.stored_names = list(names)
        self.names = list(new_fields)
        # Fields behind a property or a slot are set through it, one object at a time;
        # the others go straight into each object's __dict__. Every object has a
        # __dict__ even when its class declares __slots__: `Script` and `Plugin` have
        # none, so engine state and undeclared attributes live there.
        self.through_setter = frozenset(n for n in self.names if is_data_descriptor(new_cls, n))
        #: Same fields in the same order, nothing to check or convert, no setter: the
        #: stored columns are the new objects' values as they are.
        self.unchanged = (
            not careful
            and self.names == list(names)
            and all(
                i >= 0 and not check and od is _NO_DEFAULT_CHECK
                for _, i, _, check, od in self.steps
            )
            and not self.through_setter
        )
        self._fits: dict[tuple[type, Any], bool] = {}  # conforms() of atomic values, by type
        #: (origin, mentions a Literal?) of each annotation checked
        self._shapes: dict[Any, tuple[Any, bool]] = {}

    def build(
        self,
        values: Sequence[Any],
        extras: Any,
        state: int,
        entity: int,
        stash: dict[str, Any] | None,
    ) -> Any:
        """A new object of the class, filled from one stored object's values and stash.

        Raises:
            ReloadFailed: the new class refuses a stored value.
        """
        columns = [[v] for v in values]
        stashes = [stash] if stash else None
        return self.build_all(columns, [extras] if extras else None, [state], [entity], stashes)[0]

    def build_all(
        self,
        columns: Sequence[list[Any]],
        extras: Sequence[Any] | None,
        states: list[int],
        entities: Sequence[int],
        stashes: Sequence[dict[str, Any] | None] | None,
    ) -> list[Any]:
        """New objects of the class from the decoded columns of its stored objects, in order.

        Field by field, not object by object: a field whose stored column needs
        no check or conversion is taken as it is, and every object's dict is
        filled in one pass in C. Only the fields the rules must look at (a new
        or retyped field, a changed default, a value its stash may give back)
        are visited value by value. `extras` and `stashes` are ``None`` when
        no object has any.

        Raises:
            ReloadFailed: the new class refuses a stored value.
        """
        n = len(states)
        new_columns, kept = self._migrate(columns, stashes, n, as_is=True)
        objs: list[Any] = list(map(object.__new__, itertools.repeat(self.cls, n)))
        dicts = list(map(_dict_of, objs))
        keys, cols = [], []
        for name, col in zip(self.names, typing.cast(list[list[Any]], new_columns), strict=True):
            if name in self.through_setter:
                self._set_each(objs, name, col)
            else:
                keys.append(name)
                cols.append(col)
        # The engine's state as two more columns when every object has it (a running
        # scene); set one by one otherwise (0 means "not set").
        all_states, all_entities = all(states), all(entities)
        if all_states:
            keys.append("_hp_state")
            cols.append(states)
        if all_entities:
            keys.append("_hp_entity")
            cols.append(list(map(Handle, entities)))
        rows_of_keys = map(partial(zip, keys, strict=True), zip(*cols, strict=True))
        exhaust(map(dict.update, dicts, rows_of_keys))
        if not all_states:
            for d, state in zip(dicts, states, strict=True):
                if state:
                    d["_hp_state"] = state
        if not all_entities:
            for d, entity in zip(dicts, entities, strict=True):
                if entity:
                    d["_hp_entity"] = Handle(entity)
        if extras is not None:
            for obj, ex in zip(objs, extras, strict=True):
                if ex:
                    self._extras(obj, ex)
        if kept is not None:
            for d, stash in zip(dicts, kept, strict=True):
                if stash:
                    d[STASH_KEY] = stash
        return objs

    def patch(self, objs: list[Any]) -> FieldPatch | None:
        """What migrating `objs` in place, by the rules, changes in their dicts; or ``None``.

        `objs` are the live objects of the stored class, whose values must be
        plain data (`runtime.reload.snapshot.Snapshot.plain_values`): the rules
        then read the very values the snapshot stored. Nothing of `objs` is
        changed here. ``None``: they must be rebuilt (a check of every value was
        asked for, a field is set through a property or a slot, or a field the
        rules look at is missing from an object's dict).
        """
        if self.careful or self.through_setter:
            return None
        dicts = list(map(_dict_of, objs))
        stashes = list(map(dict.get, dicts, itertools.repeat(STASH_KEY)))
        live = _LiveColumns(dicts, self.stored_names)
        try:
            new_columns, kept = self._migrate(
                typing.cast(Sequence[list[Any]], live),
                stashes if any(stashes) else None,
                len(objs),
                as_is=False,
            )
        except _RebuildInstead:
            return None
        # A column the rules looked at and gave back as it was (every value of a retyped
        # field fits, say) is what the dicts hold already.
        changed = tuple(
            (name, col)
            for name, col in zip(self.names, new_columns, strict=True)
            if col is not None and not live.gave(col)
        )
        return FieldPatch(tuple(name for name, _ in self.removed), changed, kept)

    def _migrate(
        self,
        columns: Sequence[list[Any]],
        stashes: Sequence[dict[str, Any] | None] | None,
        n: int,
        *,
        as_is: bool,
    ) -> tuple[list[list[Any] | None], list[dict[str, Any]] | None]:
        """The new values of every field (in `names` order), and each object's new stash.

        `columns` holds the stored values of each stored field; `stashes` each
        object's stash (``None``: no object has one). A field whose stored
        column is taken as it is gives that column, or ``None`` when `as_is` is
        false (a migration in place leaves those values where they are). The
        stashes are ``None`` when no object has one and none can change.
        """
        # Each object's own stash (copied: the stored one is the snapshot's, or the
        # live object's), when any object has one or the rules may put values aside.
        kept: list[dict[str, Any]] | None = None
        if stashes is not None:
            if any(map(operator.is_, stashes, itertools.repeat(None))):
                kept = [dict(s) if s else {} for s in stashes]
            else:  # every object has one: copied in C
                kept = list(map(dict.copy, typing.cast(list[dict[str, Any]], stashes)))
        elif not self.unchanged:
            kept = list(map(dict, itertools.repeat((), n)))
        # Every key any stash has, once: a field's own column only ever puts in or takes
        # out its own key, so what the others find is what they would have found.
        stashed = set(itertools.chain.from_iterable(kept)) if kept is not None else set()
        if not as_is and kept is not None:
            # The live stashes' values: one that comes back into a field must be a copy,
            # as one decoded from the blob is (the old stash is the state before).
            for name in stashed & self.field_names:
                _copy_stashed(kept, name)
        new_columns: list[list[Any] | None] = [
            self._column(step, columns, kept, n, stashed)
            if as_is or not self._as_is(step, stashed)
            else None
            for step in self.steps
        ]
        if kept is not None:
            for name, i in self.removed:
                plain = stored_plain_column(columns[i])
                if plain is not None:  # each value's stored form, made in C
                    exhaust(map(dict.__setitem__, kept, itertools.repeat(name), plain))
                    continue
                for stash, value in zip(kept, columns[i], strict=True):
                    self._stash(stash, name, value)
        return new_columns, kept

    def _as_is(self, step: tuple[str, int, Any, bool, Any], stashed: set[str]) -> bool:
        """Whether the rules take a stored field's column as it is (`stashed`: every stash key)."""
        name, i, _, check_type, old_default = step
        nested = self.nested is not None and bool(self.nested.records)
        return i >= 0 and not (
            self.careful
            or check_type
            or old_default is not _NO_DEFAULT_CHECK
            or name in stashed
            or nested
        )

    def _column(
        self,
        step: tuple[str, int, Any, bool, Any],
        columns: Sequence[list[Any]],
        kept: list[dict[str, Any]] | None,
        n: int,
        stashed: set[str],
    ) -> list[Any]:
        """The new values of one field, by the rules; what they put aside goes to `kept`.

        `stashed` holds every key of the stashes in `kept`.
        """
        name, i, spec, check_type, old_default = step
        in_stash = name in stashed
        new_default = _default_maker(spec)
        sequence = float_sequence(spec.annotation)
        tid = self.type_id
        if i < 0:  # a new field: its default, or its value back from the stash
            if not in_stash:
                return _defaults(spec, n)
            assert kept is not None
            taken = take_all_back(kept, spec, sequence)
            if taken is not None:  # every object's value came back
                detail = "field is back; its value came back from the stash"
                self.notes.add(tid, name, "unstashed", detail, n)
                return taken
            out = []
            back_count = 0
            for stash in kept:
                back, value = take_back(stash, spec, sequence)
                if back:
                    back_count += 1
                else:
                    value = new_default()
                out.append(value)
            if back_count:
                detail = "field is back; its value came back from the stash"
                self.notes.add(tid, name, "unstashed", detail, back_count)
            return out
        if self._as_is(step, stashed):
            return columns[i]
        col = columns[i]
        nested = self.nested if self.nested is not None and self.nested.records else None
        checks_default = old_default is not _NO_DEFAULT_CHECK
        assert kept is not None
        misfit = f"value no longer fits {type_name(spec.annotation)}"
        if check_type and not (self.careful or nested):
            # A retyped field: when the values' types alone decide, decide per type. None
            # fits: each is set aside (before any default check); all fit: as they are,
            # unless a default or a stash is to be looked at, value by value below.
            fits = self._fit_by_type(col, spec.annotation)
            if fits and not (in_stash or checks_default):
                return col
            if fits is False:
                return self._set_all_aside(kept, spec, col, misfit, new_default, sequence, in_stash)
        careful = self.careful
        out = list(col)
        defaulted = unstashed = 0
        for k, value in enumerate(col):
            stash = kept[k]
            # Marks and unresolved values exist only in a careful reload.
            if careful and _is_unencodable_mark(value):
                value = new_default()
            elif careful and (isinstance(value, Unresolved) or _holds_unresolved(value)):
                gone = "its enum or dataclass is gone"
                value = self._set_aside(stash, spec, value, gone, new_default, sequence)
            elif check_type and not self._conforms(value, spec.annotation):
                value = self._set_aside(stash, spec, value, misfit, new_default, sequence)
            else:
                if checks_default and _same(value, old_default):
                    defaulted += 1
                    value = new_default()
                if name in stash and _same(value, spec.default):
                    # At its default (reset by an earlier reload because its enum
                    # member was gone, say): a stashed value that fits comes back.
                    back, stashed = take_back(stash, spec, sequence)
                    if back:
                        unstashed += 1
                        value = stashed
            if nested is not None and dataclasses.is_dataclass(value):
                nested.settle(name, value, stash)
            out[k] = value
        if defaulted:
            detail = "was at its old default; took the new default"
            self.notes.add(tid, name, "default-updated", detail, defaulted)
        if unstashed:
            self.notes.add(tid, name, "unstashed", "its value came back from the stash", unstashed)
        return out

    def _fit_by_type(self, col: list[Any], ann: Any) -> bool | None:
        """Whether every value of `col` fits `ann`, when their types alone say so.

        ``True``: every value fits; ``False``: none does; ``None``: some type's
        values are to be looked at one by one (a container whose items decide,
        a ``Literal``), or the types disagree.
        """
        answers = set()
        try:
            for t in set(map(type, col)):
                fits = self._type_fit(t, next(v for v in col if type(v) is t), ann)
                if fits is None:
                    return None
                answers.add(fits)
        except TypeError:  # an annotation that cannot be a dict key
            return None
        return answers.pop() if len(answers) == 1 else None

    def _set_all_aside(
        self,
        kept: list[dict[str, Any]],
        spec: FieldSpec,
        col: list[Any],
        why: str,
        new_default: Callable[[], Any],
        sequence: Any,
        in_stash: bool,
    ) -> list[Any]:
        """`_set_aside` for every value of a column, none of which fits: the same outcome.

        When every stash gives its value back (`take_all_back`), or none has the
        field (`in_stash`) and the values' stored forms can be made in C
        (`stored_plain_column`), the column is done without a call per object,
        each note counted once for all (the notes and their order are those one
        call per object gives); otherwise `_set_aside` does each object.
        """
        name = spec.name
        old_default = self.old_defaults.get(name, UNENCODABLE_MARK)
        back_note = f"{why}; the value kept in the stash fits"
        reset_note = f"{why}; reset to the default (the old value is kept in the stash)"
        taken = take_all_back(kept, spec, sequence) if in_stash else None
        if taken is not None:  # every value the stashes kept fits: each comes back
            if col:
                self.notes.add(self.type_id, name, "unstashed", back_note, len(col))
            plain = stored_plain_column(col)
            if plain is None:
                for stash, value in zip(kept, col, strict=True):
                    if not _same(value, old_default):
                        self._stash(stash, name, value)
            else:
                _stash_column(kept, name, plain, _differs(col, old_default))
            return taken
        plain = None if in_stash else stored_plain_column(col)
        if plain is not None:
            if col:
                self.notes.add(self.type_id, name, "reset", reset_note, len(col))
            _stash_column(kept, name, plain, _differs(col, old_default))
            return _defaults(spec, len(col))
        return [
            self._set_aside(stash, spec, value, why, new_default, sequence)
            for stash, value in zip(kept, col, strict=True)
        ]

    def _conforms(self, value: Any, ann: Any) -> bool:
        """`conforms`, asked once per type for values whose type alone decides it."""
        try:
            fits = self._type_fit(type(value), value, ann)
        except TypeError:  # an annotation that cannot be a dict key: no cache
            return conforms(value, ann)
        return conforms(value, ann) if fits is None else fits

    def _type_fit(self, t: type, value: Any, ann: Any) -> bool | None:
        """Whether values of type `t` (`value` is one) fit `ann`, when the type decides.

        It does for an atomic value (a number, a string, a vector...) and an
        annotation without a ``Literal`` (asked once per type), and for a
        container where another is declared (a list for a tuple: whatever it
        holds). ``None``: each value decides.

        Raises:
            TypeError: `ann` cannot be a dict key.
        """
        shape = self._shapes.get(ann)
        if shape is None:
            shape = self._shapes[ann] = (typing.get_origin(ann), _mentions_literal(ann))
        origin, literal = shape
        if t is not origin and t in _CONTAINERS and origin in _CONTAINERS:
            return False
        if t not in _ATOMIC or literal:
            return None
        key = (t, ann)
        fits = self._fits.get(key)
        if fits is None:
            fits = self._fits[key] = conforms(value, ann)
        return fits

    def _set_each(self, objs: list[Any], name: str, col: list[Any]) -> None:
        """Set a field through its property or slot on every object.

        Raises:
            ReloadFailed: the new code rejects a value.
        """
        setter = object.__setattr__
        for obj, value in zip(objs, col, strict=True):
            try:
                setter(obj, name, value)
            except Exception as exc:
                raise ReloadFailed(
                    f"{self.type_id}.{name}: the new code rejects the value {value!r}: "
                    f"{describe_error(exc)}"
                ) from exc

    def _set_aside(
        self,
        stash: dict[str, Any],
        spec: FieldSpec,
        value: Any,
        why: str,
        new_default: Callable[[], Any],
        sequence: Any,
    ) -> Any:
        """The value a field takes when its stored one no longer fits: the stash's, or the default.

        The stored value goes to the stash (after the stash gave its own back),
        unless it is the old default: that is no one's data.
        """
        back, kept = take_back(stash, spec, sequence)
        if back:
            self.notes.add(
                self.type_id, spec.name, "unstashed", f"{why}; the value kept in the stash fits"
            )
        else:
            self.notes.add(
                self.type_id,
                spec.name,
                "reset",
                f"{why}; reset to the default (the old value is kept in the stash)",
            )
            kept = new_default()
        if not _same(value, self.old_defaults.get(spec.name, UNENCODABLE_MARK)):
            self._stash(stash, spec.name, value)
        return kept

    def _stash(self, stash: dict[str, Any], name: str, value: Any) -> None:
        if _is_unencodable_mark(value):
            return  # already reported as unencodable
        try:
            stash[name] = stored_plain(value)
        except (PlainDataError, RecursionError) as exc:
            self.notes.add(
                self.type_id, name, "dropped", f"value cannot be kept in the stash: {exc}"
            )

    def _extras(self, obj: Any, extras: dict[str, Any]) -> None:
        for k, v in extras.items():
            if k in self.field_names:
                continue
            obj.__dict__[k] = v
            self.notes.add(
                self.type_id,
                k,
                "undeclared",
                "undeclared attribute carried over as is (declare it as a field)",
            )


def _copy_stashed(stashes: list[dict[str, Any]], name: str) -> None:
    """Give the stashes that hold `name` a copy of its value, when it can change in place.

    Stashed values are plain data (`runtime.fields.to_plain`): a msgpack round
    trip copies a whole column in C.

    Raises:
        _RebuildInstead: a value is not plain data after all (the objects are rebuilt).
    """
    has = list(map(operator.contains, stashes, itertools.repeat(name)))
    having = stashes if all(has) else list(itertools.compress(stashes, has))
    values = list(map(operator.itemgetter(name), having))
    if set(map(type, values)) <= _PLAIN_ATOMS:
        return
    try:
        copies = unpackb(packb(values))
    except Unencodable:
        raise _RebuildInstead(name) from None
    exhaust(map(dict.__setitem__, having, itertools.repeat(name), copies))


#: Plain values that cannot change in place.
_PLAIN_ATOMS = frozenset({str, int, float, bool, type(None)})


def _default_maker(spec: FieldSpec) -> Callable[[], Any]:
    """What gives each object its default: the default itself when nothing in it can change.

    `FieldSpec.new_default` deep-copies a tuple, say, however immutable its items,
    and an empty list through `copy.deepcopy` (a list, set or dict of immutable
    items is copied by its own ``copy`` here).
    """
    default = spec.default
    if _deeply_immutable(default):
        return lambda: default
    t = type(default)
    if (t is list or t is set or t is dict) and all(
        map(_deeply_immutable, default.values() if t is dict else default)
    ):
        return default.copy  # its items cannot change: a shallow copy is a deep one, in C
    return spec.new_default


def _deeply_immutable(value: Any) -> bool:
    t = type(value)
    if t in _ATOMIC or isinstance(value, enum.Enum):
        return True
    return (t is tuple or t is frozenset) and all(map(_deeply_immutable, value))


def _mentions_literal(ann: Any) -> bool:
    """Whether an annotation is, or holds, a ``typing.Literal`` (deeply)."""
    return typing.get_origin(ann) is typing.Literal or any(
        _mentions_literal(a) for a in typing.get_args(ann)
    )


def _same(a: Any, b: Any) -> bool:
    """Whether two values are equal, for values whose ``==`` may have no truth value.

    A numpy-like ``==`` returns an object that refuses ``bool()``: such values
    are compared by their snapshot encoding instead (never an exception, which
    would fail every reload of the plugin).
    """
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:
        try:
            return packb(a) == packb(b)
        except Unencodable:
            return False


def _differs(col: list[Any], value: Any) -> list[bool]:
    """For each value of `col`, whether it is not `_same` as `value`.

    `col` must be a column `stored_plain_column` could store (strings,
    booleans, ``None``, finite floats, lists and tuples of strings or of
    floats): the callers check it. When `value` is of the same kinds, the
    comparison is made in C with the built-in types' own ``==``, which runs
    no code of a plugin and always answers.
    """
    if stored_plain_column([value]) is None:
        return [not _same(v, value) for v in col]
    same_type = map(operator.is_, map(type, col), itertools.repeat(type(value)))
    equal = map(operator.eq, col, itertools.repeat(value))
    return list(map(operator.not_, map(operator.and_, same_type, equal)))


def _stash_column(
    stashes: list[dict[str, Any]], name: str, plain: list[Any], chosen: list[bool]
) -> None:
    """Put the stored forms `plain` under `name` in the `chosen` stashes, in C."""
    exhaust(
        map(
            dict.__setitem__,
            itertools.compress(stashes, chosen),
            itertools.repeat(name),
            itertools.compress(plain, chosen),
        )
    )


def _defaults(spec: FieldSpec, n: int) -> list[Any]:
    """`n` objects' defaults of a field: the one value when nothing in it can change."""
    if _deeply_immutable(spec.default):
        return [spec.default] * n
    make = _default_maker(spec)
    return [make() for _ in range(n)]


def _is_unencodable_mark(value: Any) -> bool:
    # The type test first: a stored value's own == is plugin code, and may not answer.
    return type(value) is str and value == UNENCODABLE_MARK


def _holds_unresolved(value: Any) -> bool:
    """Whether a container holds a value whose enum or dataclass no longer exists."""
    t = type(value)
    if t is Unresolved:
        return True
    if t is list or t is tuple:
        return any(_holds_unresolved(v) for v in value)
    if t is dict:
        return any(_holds_unresolved(v) for v in value.values())
    return False
