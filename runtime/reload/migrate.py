"""The field migration rules, as a plan per class: how stored objects become new objects.

A plan is computed once per class and reload, then applied to every object of
the class (`ClassPlan.build`); docs/hot-reload.md, "The guarantee", states the
rules it implements.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from runtime.fields import conforms, declared_fields, type_name
from runtime.plugins import describe_error
from runtime.reload.state import UNENCODABLE_MARK, Notes, ReloadFailed
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
        for name in names:
            if name not in new_fields:
                notes.add(
                    type_id, name, "dropped", "field removed from the code; its value was dropped"
                )
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

    def build(self, values: Sequence[Any], extras: Any, state: int, entity: int) -> Any:
        """A new object of the class, filled from one stored object's values.

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
            return obj
        return self._build_checked(values, extras, state, entity)

    def _build_checked(self, values: Sequence[Any], extras: Any, state: int, entity: int) -> Any:
        obj: Any = object.__new__(self.cls)
        setter = object.__setattr__
        note = self.notes.add
        for name, i, spec, check_type, old_default in self.steps:
            if i < 0:
                value = spec.new_default()
            else:
                value = values[i]
                if _is_unencodable_mark(value):
                    value = spec.new_default()
                elif isinstance(value, Unresolved):
                    note(
                        self.type_id,
                        name,
                        "reset",
                        f"value of {value} no longer exists; reset to the default",
                    )
                    value = spec.new_default()
                elif check_type and not conforms(value, spec.annotation):
                    note(
                        self.type_id,
                        name,
                        "reset",
                        f"value no longer fits {type_name(spec.annotation)}; reset to the default",
                    )
                    value = spec.new_default()
                elif old_default is not _NO_DEFAULT_CHECK and _same(value, old_default):
                    note(
                        self.type_id,
                        name,
                        "default-updated",
                        "was at its old default; took the new default",
                    )
                    value = spec.new_default()
            try:
                setter(obj, name, value)
            except Exception as exc:
                raise ReloadFailed(
                    f"{self.type_id}.{name}: the new code rejects the value {value!r}: "
                    f"{describe_error(exc)}"
                ) from exc
        if extras:
            self._extras(obj, extras)
        d = obj.__dict__
        if state:
            d["_hp_state"] = state
        if entity:
            d["_hp_entity"] = Handle(entity)
        return obj

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
