"""The field migration rules, as a plan per class: how stored objects become new objects.

A plan is computed once per class and reload, then applied to every object of
the class (`ClassPlan.build`); docs/hot-reload.md, "The guarantee", states the
rules it implements.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from runtime.fields import FieldSpec, PlainDataError, conforms, declared_fields, type_name
from runtime.plugins import describe_error
from runtime.reload.stash import stored_plain, take_back
from runtime.reload.state import UNENCODABLE_MARK, Notes, ReloadFailed
from runtime.scripting import STASH_KEY
from runtime.snapshot import Unencodable, Unresolved, packb
from runtime.values import Handle

_NO_DEFAULT_CHECK = object()


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
    ) -> None:
        self.notes = notes
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
        # The common case: same fields in the same order, nothing to check or convert,
        # and plain instance attributes (no property or slot to go through). Every
        # object has a __dict__ even when its class declares __slots__: `Script` and
        # `Plugin` have none, so engine state and undeclared attributes live there.
        self.names = list(new_fields)
        self.unchanged = (
            not careful
            and self.names == list(names)
            and all(
                i >= 0 and not check and od is _NO_DEFAULT_CHECK
                for _, i, _, check, od in self.steps
            )
            and not any(_is_data_descriptor(new_cls, n) for n in self.names)
        )

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
        if self.unchanged:
            obj: Any = object.__new__(self.cls)
            d = obj.__dict__
            d.update(zip(self.names, values, strict=True))
            if extras:
                self._extras(obj, extras)
            if state:
                d["_hp_state"] = state
            if entity:
                d["_hp_entity"] = Handle(entity)
            if stash:
                d[STASH_KEY] = stash
            return obj
        return self._build_checked(values, extras, state, entity, dict(stash or {}))

    def _build_checked(
        self,
        values: Sequence[Any],
        extras: Any,
        state: int,
        entity: int,
        stash: dict[str, Any],
    ) -> Any:
        obj: Any = object.__new__(self.cls)
        setter = object.__setattr__
        note = self.notes.add
        tid = self.type_id
        for name, i, spec, check_type, old_default in self.steps:
            if i < 0:
                back, value = take_back(stash, spec)
                if back:
                    note(
                        tid, name, "unstashed", "field is back; its value came back from the stash"
                    )
                else:
                    value = spec.new_default()
            else:
                value = values[i]
                if _is_unencodable_mark(value):
                    value = spec.new_default()
                elif isinstance(value, Unresolved) or (self.careful and _holds_unresolved(value)):
                    value = self._set_aside(stash, spec, value, "its enum or dataclass is gone")
                elif check_type and not conforms(value, spec.annotation):
                    why = f"value no longer fits {type_name(spec.annotation)}"
                    value = self._set_aside(stash, spec, value, why)
                elif old_default is not _NO_DEFAULT_CHECK and _same(value, old_default):
                    note(
                        tid, name, "default-updated", "was at its old default; took the new default"
                    )
                    value = spec.new_default()
            try:
                setter(obj, name, value)
            except Exception as exc:
                raise ReloadFailed(
                    f"{tid}.{name}: the new code rejects the value {value!r}: {describe_error(exc)}"
                ) from exc
        for name, i in self.removed:
            self._stash(stash, name, values[i])
        if extras:
            self._extras(obj, extras)
        d = obj.__dict__
        if state:
            d["_hp_state"] = state
        if entity:
            d["_hp_entity"] = Handle(entity)
        if stash:
            d[STASH_KEY] = stash
        return obj

    def _set_aside(self, stash: dict[str, Any], spec: FieldSpec, value: Any, why: str) -> Any:
        """The value a field takes when its stored one no longer fits: the stash's, or the default.

        The stored value goes to the stash (after the stash gave its own back),
        unless it is the old default: that is no one's data.
        """
        back, kept = take_back(stash, spec)
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
            kept = spec.new_default()
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


def _is_data_descriptor(cls: type, name: str) -> bool:
    attr = inspect.getattr_static(cls, name, None)
    return hasattr(type(attr), "__set__")


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
