"""The stash: values a reload took out of an object, kept so that a later reload can put them back.

A field removed from the code, a value that no longer fits its field's new type,
or one whose enum or dataclass no longer exists is not thrown away: it goes to
the object's stash (`runtime.scripting.stash_of`), in the form a scene file
stores it (plain JSON data). When a later reload brings the field back with a
type the value fits, the value comes back and leaves the stash. So a save that
drops fields by mistake (a file caught half written) is undone by the next one.
"""

from __future__ import annotations

import itertools
import math
import operator
import typing
from collections.abc import Callable
from typing import Any

from runtime.fields import (
    FieldSpec,
    PlainDataError,
    conforms,
    declared_fields,
    from_plain,
    to_plain,
)
from runtime.history import exhaust
from runtime.reload.state import UNENCODABLE_MARK
from runtime.scripting import STASH_KEY, instantiate
from runtime.snapshot import Unresolved

_NOT_ASKED: Any = object()


def stored_plain(value: Any) -> Any:
    """A stored value as scene-file data, also when its enum or dataclass no longer exists.

    An `Unresolved` enum member is kept as its member name and a dataclass as the
    object of its fields: exactly what a scene file holds for them, so that
    the value loads again once the class is back (never the engine's internal
    module names).

    Raises:
        PlainDataError: the value has no plain form (a function, an open file...).
    """
    t = type(value)
    if t is str or t is bool or value is None:
        return value
    if t is float and math.isfinite(value):
        return value
    if t is list or t is tuple:
        # A flat list of strings or finite floats is its own plain form: one pass in C
        # rather than a call per item (a field-changing edit stashes one per object).
        items = set(map(type, value))
        if items <= {str} or (items <= {float} and all(map(math.isfinite, value))):
            return list(value)
    return to_plain(_resolved_plain(value))


def stored_plain_column(values: list[Any]) -> list[Any] | None:
    """`stored_plain` of every value, when a few passes in C can tell; else ``None``.

    That is a column of strings, booleans, ``None`` and finite floats (their own
    plain form), or of lists and tuples whose items all are strings, or all
    finite floats (a list each). `UNENCODABLE_MARK` among them: ``None`` (it is
    never stashed, the caller skips it value by value).
    """
    types = set(map(type, values))
    if types <= {list, tuple}:
        items = list(itertools.chain.from_iterable(values))
        kinds = set(map(type, items))
        if kinds <= {str} or (kinds <= {float} and all(map(math.isfinite, items))):
            return list(map(list, values))
        return None
    if types <= {str, bool, type(None), float}:
        floats = values if types == {float} else filter(_is_float, values)
        if float in types and not all(map(math.isfinite, floats)):
            return None
        if str in types and UNENCODABLE_MARK in values:
            return None
        return values
    return None


def _is_float(value: Any) -> bool:
    return type(value) is float


def _resolved_plain(value: Any) -> Any:
    t = type(value)
    if t is Unresolved:
        return _resolved_plain(value.data)
    if t is list or t is tuple:
        return [_resolved_plain(v) for v in value]
    if t is dict:
        return {k: _resolved_plain(v) for k, v in value.items()}
    return value


def take_back(
    stash: dict[str, Any], spec: FieldSpec, sequence: Any = _NOT_ASKED
) -> tuple[bool, Any]:
    """Take `spec`'s field out of `stash` if its kept value fits the field's type.

    Args:
        stash: an object's stash.
        spec: the field.
        sequence: `float_sequence` of the field's annotation, when the caller knows it.

    Returns:
        ``(True, value)`` when the value came back (and left the stash), else
        ``(False, None)`` with the stash untouched.
    """
    if spec.name not in stash:
        return False, None
    raw, ann = stash[spec.name], spec.annotation
    if type(raw) is ann and (ann is str or ann is bool):  # their own plain form
        del stash[spec.name]
        return True, raw
    if type(raw) is list and sequence is _NOT_ASKED:
        sequence = float_sequence(ann)
    if type(raw) is list and sequence is not None:
        # A list of numbers back into list[float] or tuple[float, ...]: what from_plain
        # makes of it, in C (a field-changing edit gives one back per object).
        if set(map(type, raw)) <= {float, int} and all(map(_finite, raw)):
            del stash[spec.name]
            return True, sequence(map(float, raw))
        return False, None
    try:
        value = from_plain(raw, ann)
    except (PlainDataError, RecursionError):
        return False, None
    if not conforms(value, spec.annotation):
        return False, None
    del stash[spec.name]
    return True, value


def take_all_back(
    stashes: list[dict[str, Any]], spec: FieldSpec, sequence: Any = _NOT_ASKED
) -> list[Any] | None:
    """`take_back` from every stash at once, when each has the field and passes in C can tell.

    That is when every kept value is of the field's own type (a string, a
    boolean or a finite float for a field declared so: their own plain form),
    or, for a ``list[float]`` or ``tuple[float, ...]`` field, a list of floats.
    Returns the values (they left the stashes), or ``None`` with every stash
    untouched: then `take_back` decides stash by stash.
    """
    name, ann = spec.name, spec.annotation
    if not stashes or not all(map(operator.contains, stashes, itertools.repeat(name))):
        return None
    raws = list(map(operator.itemgetter(name), stashes))
    types = set(map(type, raws))
    if sequence is _NOT_ASKED:
        sequence = float_sequence(ann)
    if types == {list} and sequence is not None:
        items = list(itertools.chain.from_iterable(raws))
        if not set(map(type, items)) <= {float} or not all(map(math.isfinite, items)):
            return None
        values = list(map(sequence, raws))
    elif len(types) == 1 and ann in _OWN_PLAIN and types == {ann}:
        if ann is float and not all(map(math.isfinite, raws)):
            return None  # from_plain refuses them
        values = raws
    else:
        return None
    exhaust(map(dict.pop, stashes, itertools.repeat(name)))
    return values


#: Types whose values a stash keeps as they are, and `take_back` gives back as they are.
_OWN_PLAIN = (str, bool, float)


def float_sequence(ann: Any) -> Any:
    """``list`` or ``tuple`` for ``list[float]`` or ``tuple[float, ...]``, else ``None``.

    Not cached here: a module-level cache keyed by annotations would keep old
    generations of plugin classes alive. `ClassPlan` asks once per field.
    """
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is list and args == (float,):
        return list
    if origin is tuple and args == (float, Ellipsis):
        return tuple
    return None


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


#: Notes what happened to a field: ``(field name, kind, detail)`` (a `MigrationNote`'s parts).
FieldNote = Callable[[str, str, str], None]


def object_from_data(
    cls: type,
    data: dict[str, Any],
    stash: dict[str, Any] | None,
    note: FieldNote | None = None,
) -> Any:
    """An object of `cls` from scene-file data and a stash, losing nothing.

    Fields take their data; data with no field, or that does not fit its
    field, goes to the new object's stash; a field without data, or at its
    default, takes a stashed value that fits. How a placeholder becomes a
    script again, and how the editor rebuilds a script when undoing.

    Args:
        cls: a `Script` or `Plugin` class.
        data: field values as a scene file stores them.
        stash: values set aside earlier, likewise.
        note: told of every value set aside or given back.
    """
    tell = note or _no_note
    fields = declared_fields(cls)
    kept = dict(stash or {})
    values = {}
    for name, raw in data.items():
        spec = fields.get(name)
        if spec is None:
            kept[name] = raw
            tell(name, "stashed", "field no longer declared; kept in the stash")
            continue
        try:
            values[name] = from_plain(raw, spec.annotation)
        except PlainDataError as exc:
            kept[name] = raw
            tell(name, "reset", f"stored value does not fit: {exc}; kept in the stash")
    for name, spec in fields.items():
        if name not in values or _at_default(values[name], spec.default):
            back, value = take_back(kept, spec)
            if back:
                values[name] = value
                tell(name, "unstashed", "value came back from the stash")
    obj = instantiate(cls, values)
    if kept:
        obj.__dict__[STASH_KEY] = kept
    return obj


def _no_note(name: str, kind: str, detail: str) -> None:
    pass


def _at_default(value: Any, default: Any) -> bool:
    try:
        return type(value) is type(default) and bool(value == default)
    except Exception:  # a numpy-like ==
        return False
