"""Declared fields of scripts and plugins.

A field is an annotated class attribute with a default (``speed: float = 120.0``).
Fields are what persists: they are saved in scene files, carried across a hot
reload and shown in the editor's inspector. This module reads them from a class
(once per class, cached on the class itself so a reloaded class gets its own),
checks values against their declared type, and converts values to and from the
plain data stored in scene files.

Supported field types: ``bool``, ``int``, ``float``, ``str``, `Vec2`, `Color`,
`Handle`, `enum.Enum` subclasses, ``list[T]``, ``dict[str, T]``, ``tuple[...]``,
``T | None`` and dataclasses made of those. Any other annotation is accepted and
stored as-is when msgpack/JSON can hold it.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import functools
import inspect
import itertools
import math
import sys
import types
import typing
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Union, get_args, get_origin

from runtime.values import Color, Handle, Vec2

_MISSING = object()

#: Defaults for fields annotated but not given a value.
_ZERO: dict[Any, Callable[[], Any]] = {
    bool: lambda: False,
    int: lambda: 0,
    float: lambda: 0.0,
    str: lambda: "",
    Vec2: lambda: Vec2.ZERO,
    Color: lambda: Color.WHITE,
    Handle: lambda: Handle.NONE,
}

_IMMUTABLE = (bool, int, float, str, bytes, type(None), Vec2, Color, Handle, enum.Enum)


#: The integers a field may hold: what a snapshot (msgpack) can store, so also the
#: scene file's rule, for loading and saving alike (a value that loads can be saved).
INT_MIN, INT_MAX = -(2**63), 2**64 - 1


def int_fits(value: int) -> bool:
    """Whether an integer is in the range fields, snapshots and scene files hold."""
    return INT_MIN <= value <= INT_MAX


class FieldTypeError(TypeError):
    """A class declares a field Hotplay cannot give a value (no default, unknown type).

    Attributes:
        plugin_location: ``file:line`` of the field's declaration, when known (no
            frame of plugin code shows it: annotations are read by the engine).
    """

    def __init__(self, message: str, plugin_location: str = "") -> None:
        super().__init__(message)
        self.plugin_location = plugin_location


def _declaration_line(klass: type, name: str) -> str:
    """``file:line`` of the annotation of `name` in the class body, or ``""``."""
    try:
        lines, start = inspect.getsourcelines(klass)
        file = inspect.getsourcefile(klass) or ""
    except (OSError, TypeError):
        return ""
    for offset, text in enumerate(lines):
        head = text.strip()
        if head.startswith(name) and head[len(name) :].lstrip().startswith(":"):
            return f"{file}:{start + offset}"
    return f"{file}:{start}"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One declared field: its name, annotation and default."""

    name: str
    annotation: Any
    default: Any

    def new_default(self) -> Any:
        """A fresh copy of the default (mutable defaults are never shared)."""
        d = self.default
        return d if isinstance(d, _IMMUTABLE) else copy.deepcopy(d)


def declared_fields(cls: type) -> dict[str, FieldSpec]:
    """The declared fields of `cls`, in declaration order, base classes first.

    Cached in the class's own ``__dict__``: every generation of a reloaded class
    computes its own.

    Raises:
        FieldTypeError: an annotation cannot be resolved, or has no default and
            no obvious zero value.
    """
    cached = cls.__dict__.get("__hotplay_fields__")
    if cached is not None:
        return cached
    fields: dict[str, FieldSpec] = {}
    for klass in reversed(cls.__mro__):
        own = inspect.get_annotations(klass)
        if not own or klass.__module__ == "runtime.scripting":
            continue
        module = sys.modules.get(klass.__module__)
        globalns = vars(module) if module else {}
        for name, raw in own.items():
            if name.startswith("_"):
                continue
            try:
                ann = eval(raw, globalns, dict(vars(klass))) if isinstance(raw, str) else raw
            except Exception as exc:
                raise FieldTypeError(
                    f"{cls.__qualname__}.{name}: cannot resolve annotation {raw!r}: {exc}",
                    _declaration_line(klass, name),
                ) from exc
            if ann is ClassVar or get_origin(ann) is ClassVar:
                continue
            default = klass.__dict__.get(name, _MISSING)
            if isinstance(default, (property, classmethod, staticmethod, types.FunctionType)):
                continue
            # A name listed in __slots__ cannot have a class default: it gets its zero value.
            if isinstance(default, types.MemberDescriptorType):
                default = _MISSING
            if default is _MISSING:
                default = zero_value(ann)
                if default is _MISSING:
                    raise FieldTypeError(
                        f"{cls.__qualname__}.{name}: field of type {type_name(ann)} "
                        "needs a default value",
                        _declaration_line(klass, name),
                    )
            fields[name] = FieldSpec(name, ann, default)
    type.__setattr__(cls, "__hotplay_fields__", fields)
    return fields


def zero_value(ann: Any) -> Any:
    """The natural empty value of a type, or a private sentinel when there is none."""
    if ann in _ZERO:
        return _ZERO[ann]()
    origin = get_origin(ann)
    if origin is list:
        return []
    if origin is dict:
        return {}
    if _is_optional(ann):
        return None
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return next(iter(ann))
    return _MISSING


def _is_optional(ann: Any) -> bool:
    return get_origin(ann) in (Union, types.UnionType) and type(None) in get_args(ann)


def type_name(ann: Any) -> str:
    """A short readable name for an annotation (``list[Vec2]``, ``int | None``)."""
    if isinstance(ann, type) and not get_args(ann):
        return ann.__qualname__
    return str(ann).replace("typing.", "").replace("runtime.values.", "")


def conforms(value: Any, ann: Any) -> bool:
    """Whether `value` fits the declared type `ann` (deeply for containers).

    Unknown annotations accept anything; ``int`` accepts no ``bool``; ``float``
    accepts ``int``.
    """
    if ann is Any or ann is object:
        return True
    if ann is float:
        return type(value) in (float, int)
    if ann is int:
        return type(value) is int
    if ann is bool:
        return type(value) is bool
    if ann is str:
        return type(value) is str
    if ann is Handle:
        return type(value) is Handle
    if ann is Vec2 or ann is Color:
        return type(value) is ann
    origin = get_origin(ann)
    if origin is None:
        if isinstance(ann, type):
            return isinstance(value, ann)
        return True
    args = get_args(ann)
    if origin in (Union, types.UnionType):
        return any(conforms(value, a) for a in args)
    if origin is list:
        return type(value) is list and (not args or all(conforms(v, args[0]) for v in value))
    if origin is dict:
        return type(value) is dict and (
            not args or all(conforms(k, args[0]) and conforms(v, args[1]) for k, v in value.items())
        )
    if origin is tuple:
        if type(value) is not tuple:
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(conforms(v, args[0]) for v in value)
        return len(args) == len(value) and all(
            conforms(v, a) for v, a in zip(value, args, strict=True)
        )
    if origin is typing.Literal:
        return value in args
    return True


class PlainDataError(ValueError):
    """A stored value does not fit its field's type."""


def to_plain(value: Any) -> Any:
    """Convert a field value to JSON-ready data (lists, dicts, str, numbers).

    Vectors become ``[x, y]``, colours ``"#rrggbb(aa)"``, handles integers, enum
    members their name, dataclasses dicts of their fields.

    Raises:
        PlainDataError: the value cannot be stored (a function, an open file...).
    """
    t = type(value)
    if t in (str, bool) or value is None:
        return value
    if t is int:
        if not int_fits(value):
            raise PlainDataError(f"{value} is too large an integer for a scene file")
        return value
    if t is float:
        if not math.isfinite(value):
            raise PlainDataError(f"{value!r} cannot be stored in a scene file")
        return value
    if t is Vec2:
        return [value[0], value[1]]
    if t is Color:
        return value.hex
    if t is Handle:
        return int(value)
    if isinstance(value, enum.Enum):
        return value.name
    if t in (list, tuple):
        return [to_plain(v) for v in value]
    if t is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise PlainDataError(f"dictionary key {k!r} is not a string")
            out[k] = to_plain(v)
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise PlainDataError(f"a {t.__qualname__} cannot be stored in a scene file")


def from_plain(data: Any, ann: Any) -> Any:
    """Convert JSON data back to a value of the declared type `ann`.

    Raises:
        PlainDataError: the data does not fit the type.
    """
    if ann is Any or ann is object:
        return data
    if ann is float:
        if type(data) not in (int, float) or not _finite(data):
            raise PlainDataError(f"expected a finite number, got {data!r}")
        return float(data)
    if ann is int:
        if type(data) is float and data.is_integer():
            data = int(data)
        if type(data) is not int:
            raise PlainDataError(f"expected an integer, got {data!r}")
        if not int_fits(data):
            raise PlainDataError(f"{data} is too large an integer for a field")
        return data
    if ann is bool:
        if type(data) is not bool:
            raise PlainDataError(f"expected true or false, got {data!r}")
        return data
    if ann is str:
        if type(data) is not str:
            raise PlainDataError(f"expected a string, got {data!r}")
        return data
    if ann is Vec2:
        return vec2_from_plain(data)
    if ann is Color:
        return color_from_plain(data)
    if ann is Handle:
        if type(data) is not int or data < 0:
            raise PlainDataError(f"expected an entity handle (integer >= 0), got {data!r}")
        return Handle(data)
    origin = get_origin(ann)
    args = get_args(ann)
    if origin in (Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return from_plain(data, a)
            except PlainDataError as exc:
                errors.append(str(exc))
        raise PlainDataError("; ".join(errors) or f"unexpected {data!r}")
    if origin is list:
        if type(data) is not list:
            raise PlainDataError(f"expected a list, got {data!r}")
        return [from_plain(v, args[0]) for v in data] if args else list(data)
    if origin is tuple:
        if type(data) is not list:
            raise PlainDataError(f"expected a list, got {data!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_plain(v, args[0]) for v in data)
        if args and len(args) != len(data):
            raise PlainDataError(f"expected {len(args)} items, got {len(data)}")
        return (
            tuple(from_plain(v, a) for v, a in zip(data, args, strict=False))
            if args
            else tuple(data)
        )
    if origin is dict:
        if type(data) is not dict:
            raise PlainDataError(f"expected an object, got {data!r}")
        vt = args[1] if args else Any
        return {k: from_plain(v, vt) for k, v in data.items()}
    if origin is typing.Literal:
        if data not in args or type(data) not in {type(a) for a in args}:
            raise PlainDataError(f"expected one of {', '.join(map(repr, args))}, got {data!r}")
        return data
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        if type(data) is not str or data not in ann.__members__:
            raise PlainDataError(f"expected one of {', '.join(ann.__members__)}, got {data!r}")
        return ann[data]
    if isinstance(ann, type) and dataclasses.is_dataclass(ann):
        if type(data) is not dict:
            raise PlainDataError(f"expected an object, got {data!r}")
        try:
            hints = typing.get_type_hints(ann)
        except Exception as exc:
            raise PlainDataError(f"cannot read the fields of {ann.__qualname__}: {exc}") from exc
        kwargs = {
            f.name: from_plain(data[f.name], hints.get(f.name, Any))
            for f in dataclasses.fields(ann)
            if f.name in data
        }
        try:
            return ann(**kwargs)
        except Exception as exc:
            raise PlainDataError(f"cannot build {ann.__qualname__}: {exc}") from exc
    return data


def _finite(v: float) -> bool:
    # math.isfinite converts an int to float first, and raises for one above ~1e308.
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def dataclass_default(f: dataclasses.Field[Any]) -> Any:
    """A dataclass field's default (its factory called), or `UNKNOWN_DEFAULT`.

    A factory is plugin code: one that raises gives `UNKNOWN_DEFAULT` too.
    """
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        try:
            return f.default_factory()
        except Exception:
            return UNKNOWN_DEFAULT
    return UNKNOWN_DEFAULT


#: What `dataclass_default` gives for a field with no default it can tell.
UNKNOWN_DEFAULT = dataclasses.MISSING


def vec2_from_plain(data: Any) -> Vec2:
    """Read ``[x, y]`` (finite numbers) as a `Vec2`."""
    # Every entity's position and scale come through here: no generator, no Vec2.__new__.
    if type(data) is list and len(data) == 2:
        x, y = data
        if type(x) in _NUMBERS and type(y) in _NUMBERS and _finite(x) and _finite(y):
            return tuple.__new__(Vec2, (float(x), float(y)))
    raise PlainDataError(f"expected [x, y] with finite numbers, got {data!r}")


_NUMBERS = (int, float)


def color_from_plain(data: Any) -> Color:
    """Read ``"#rrggbb(aa)"`` as a `Color`."""
    if type(data) is not str:
        raise PlainDataError(f'expected a colour like "#ff8800", got {data!r}')
    try:
        return Color.parse(data)
    except ValueError as exc:
        raise PlainDataError(str(exc)) from exc


_new_vec2 = functools.partial(tuple.__new__, Vec2)


def in_order(column: list[Any]) -> list[Any]:
    """A column of numbers (or of `Vec2`s of floats) made again, one number after the other.

    The numbers a scene file gives were made by the JSON parser, each between
    the parsed text around it; a frame that reads one field of every script
    then reads memory all over the heap. Made again in one pass (what a hot
    reload's rebuild does too), they lie in the order the frame reads them.
    The values are equal, and of the same type.
    """
    kinds = set(map(type, column))
    try:
        if kinds == {float}:
            return array("d", column).tolist()
        if kinds == {int}:
            return array("q", column).tolist()
    except OverflowError:  # an int past 64 bits
        return column
    if kinds == {Vec2} and set(map(type, itertools.chain.from_iterable(column))) == {float}:
        return _vec2s(itertools.chain.from_iterable(column))
    return column


def _vec2s(flat: Iterable[float]) -> list[Vec2]:
    """Vectors of the numbers ``x0, y0, x1, y1...``, as floats made in one pass, in order."""
    floats = array("d", flat).tolist()
    return list(map(_new_vec2, zip(floats[0::2], floats[1::2], strict=True)))


def from_plain_column(values: list[Any], ann: Any) -> list[Any] | None:
    """`from_plain` of every value of a column, in a few passes in C, numbers in order.

    For a column of the types most fields have (floats, ints, strings, bools,
    handles, ``[x, y]`` vectors), all of them right; the numbers are made again in one
    pass (`in_order`). ``None`` when the column needs `from_plain` value by value
    (a value that needs converting, or does not fit: its error names it).
    """
    kinds = set(map(type, values))
    try:
        if ann is float and kinds <= {float} and all(map(math.isfinite, values)):
            return in_order(values)
        if ann is int and kinds <= {int}:
            if not values or (int_fits(min(values)) and int_fits(max(values))):
                return in_order(values)
        elif (ann is str and kinds <= {str}) or (ann is bool and kinds <= {bool}):
            return values
        elif ann is Handle and kinds <= {int} and (not values or min(values) >= 0):
            return list(map(Handle, values))
        elif ann is Vec2 and kinds <= {list} and set(map(len, values)) <= {2}:
            flat = list(itertools.chain.from_iterable(values))
            if set(map(type, flat)) <= {float, int} and all(map(math.isfinite, flat)):
                return _vec2s(flat)
    except OverflowError:  # an int too large for a float or for 64 bits
        return None
    return None
