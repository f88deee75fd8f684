"""The stash: values a reload took out of an object, kept so that a later reload can put them back.

A field removed from the code, a value that no longer fits its field's new type,
or one whose enum or dataclass no longer exists is not thrown away: it goes to
the object's stash (`runtime.scripting.stash_of`), in the form a scene file
stores it (plain JSON data). When a later reload brings the field back with a
type the value fits, the value comes back and leaves the stash. So a save that
drops fields by mistake (a file caught half written) is undone by the next one.
"""

from __future__ import annotations

from typing import Any

from runtime.fields import FieldSpec, PlainDataError, conforms, from_plain, to_plain
from runtime.snapshot import Unresolved


def stored_plain(value: Any) -> Any:
    """A stored value as scene-file data, also when its enum or dataclass no longer exists.

    An `Unresolved` enum member is kept as its member name and a dataclass as the
    object of its fields: exactly what a scene file holds for them, so that
    the value loads again once the class is back (never the engine's internal
    module names).

    Raises:
        PlainDataError: the value has no plain form (a function, an open file...).
    """
    return to_plain(_resolved_plain(value))


def _resolved_plain(value: Any) -> Any:
    t = type(value)
    if t is Unresolved:
        return _resolved_plain(value.data)
    if t is list or t is tuple:
        return [_resolved_plain(v) for v in value]
    if t is dict:
        return {k: _resolved_plain(v) for k, v in value.items()}
    return value


def take_back(stash: dict[str, Any], spec: FieldSpec) -> tuple[bool, Any]:
    """Take `spec`'s field out of `stash` if its kept value fits the field's type.

    Returns:
        ``(True, value)`` when the value came back (and left the stash), else
        ``(False, None)`` with the stash untouched.
    """
    if spec.name not in stash:
        return False, None
    try:
        value = from_plain(stash[spec.name], spec.annotation)
    except (PlainDataError, RecursionError):
        return False, None
    if not conforms(value, spec.annotation):
        return False, None
    del stash[spec.name]
    return True, value
