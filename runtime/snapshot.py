"""The msgpack codec of reload snapshots and the editor-player channel.

Engine values travel as msgpack extension types, so a snapshot holds no
Python object at all (never pickle): decoding builds values afresh, and enum
members and dataclass instances of plugin code are rebuilt from the classes a
*resolver* finds, which during a reload are the new generation's.

==== ====================================================
ext  payload
==== ====================================================
1    `Vec2`: two little-endian doubles
2    `Color`: four bytes r, g, b, a
3    `Handle`: a little-endian signed 64-bit integer
4    tuple: a msgpack array
5    set / frozenset: a msgpack array (flag byte first: 0 set, 1 frozenset)
6    enum member: [module, qualname, member name]
7    dataclass instance: [module, qualname, {field: value}]
==== ====================================================
"""

from __future__ import annotations

import dataclasses
import enum
import struct
import sys
from collections.abc import Callable
from typing import Any

import msgpack

from runtime.values import Color, Handle, Vec2

EXT_VEC2, EXT_COLOR, EXT_HANDLE, EXT_TUPLE, EXT_SET, EXT_ENUM, EXT_DATACLASS = range(1, 8)

_VEC = struct.Struct("<dd")
_HANDLE = struct.Struct("<q")

#: Finds a class by module name and qualname; ``None`` when it no longer exists.
ClassResolver = Callable[[str, str], Any]


class RebuildError(ValueError):
    """The new code refused to rebuild a stored value (its constructor raised)."""


class Unencodable(TypeError):
    """A value msgpack cannot hold (a function, a file, an object of an unknown class)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Unresolved:
    """A decoded enum member or dataclass whose class (or member) no longer exists."""

    module: str
    qualname: str
    data: Any

    def __str__(self) -> str:
        return f"{self.module}.{self.qualname}"


def lookup_qualname(module: Any, qualname: str) -> Any:
    """The object a dotted qualname names inside a module (``Outer.Inner``), or ``None``."""
    obj = module
    for part in qualname.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part, None)
    return obj


def default_resolver(module: str, qualname: str) -> Any:
    """Find a class among the imported modules."""
    return lookup_qualname(sys.modules.get(module), qualname)


def _ext(code: int, data: bytes) -> msgpack.ExtType:
    # ExtType's own __new__ checks its arguments in Python; ours are always right, and
    # this runs once per vector in a snapshot.
    return tuple.__new__(msgpack.ExtType, (code, data))


class _Encoder:
    """The ``default`` hook of msgpack for the engine's types.

    Args:
        seen: when given, collects the class of every value stored by its class
            rather than as plain data: dataclasses, enums and int subclasses (a
            reload stores the dataclasses' layouts, to migrate nested values by
            the rules, and keeps objects in place only when none was stored).
    """

    __slots__ = ("seen",)

    def __init__(self, seen: dict[type, None] | None) -> None:
        self.seen = seen

    def pack(self, obj: Any) -> bytes:
        try:
            data: bytes = msgpack.packb(obj, default=self, strict_types=True, use_bin_type=True)
            return data
        except Unencodable:
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            raise Unencodable(str(exc)) from None

    def __call__(self, obj: Any) -> msgpack.ExtType:
        t = type(obj)
        if t is Vec2:
            return _ext(EXT_VEC2, _VEC.pack(obj[0], obj[1]))
        if t is Color:
            return _ext(EXT_COLOR, bytes(obj))
        if t is Handle:
            return _ext(EXT_HANDLE, _HANDLE.pack(obj))
        if t is tuple:
            return msgpack.ExtType(EXT_TUPLE, self.pack(list(obj)))
        if t is set or t is frozenset:
            return msgpack.ExtType(EXT_SET, bytes([t is frozenset]) + self.pack(list(obj)))
        if isinstance(obj, enum.Enum):
            if self.seen is not None:
                self.seen[t] = None
            return msgpack.ExtType(EXT_ENUM, self.pack([t.__module__, t.__qualname__, obj.name]))
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            if self.seen is not None:
                self.seen[t] = None
            fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
            return msgpack.ExtType(EXT_DATACLASS, self.pack([t.__module__, t.__qualname__, fields]))
        if isinstance(obj, int) and t is not bool:  # an int subclass of a plugin, say an IntFlag
            if self.seen is not None:
                self.seen[t] = None
            return int(obj)
        raise Unencodable(f"a {t.__module__}.{t.__qualname__} cannot be stored")


_PLAIN_ENCODER = _Encoder(None)


def packb(obj: Any, seen_classes: dict[type, None] | None = None) -> bytes:
    """Encode a value with the engine's extension types.

    Args:
        obj: the value.
        seen_classes: collects the class of every dataclass instance, enum
            member and int subclass value in `obj` (see `_Encoder`).

    Raises:
        Unencodable: something in `obj` has no msgpack form.
    """
    encoder = _PLAIN_ENCODER if seen_classes is None else _Encoder(seen_classes)
    return encoder.pack(obj)


#: Builds a dataclass instance from its new class and stored fields, during decoding:
#: ``(module, qualname, class, stored fields) -> instance``. The default calls the
#: class with the stored fields it still has; a reload applies the migration rules.
DataclassBuilder = Callable[[str, str, Any, dict[str, Any]], Any]


def build_dataclass(module: str, qualname: str, cls: Any, fields: dict[str, Any]) -> Any:
    """The default `DataclassBuilder`: the new class's constructor with the fields it knows.

    Raises:
        RebuildError: the constructor (its ``__post_init__``, say) refused the values.
    """
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    kwargs = {k: v for k, v in fields.items() if k in known}
    # The new class's own constructor runs, so its validation (__post_init__) applies.
    try:
        return cls(**kwargs)
    except Exception as exc:
        raise RebuildError(
            f"the new code of {module.rpartition('.')[2]}.{qualname} rejects the stored "
            f"value {kwargs!r}: {type(exc).__name__}: {exc}"
        ) from exc


class ExtDecoder:
    """The ``ext_hook`` decoding the engine's extension types, classes found by `resolve`.

    Values whose class no longer exists decode as `Unresolved`, also appended to
    `unresolved` when given. A class rather than two closures calling each
    other: such closures form a reference cycle, which kept everything `resolve`
    refers to (during a reload: the whole transaction, old objects included)
    alive until the next run of the cyclic garbage collector.
    """

    def __init__(
        self,
        resolve: ClassResolver = default_resolver,
        unresolved: list[Unresolved] | None = None,
        build: DataclassBuilder = build_dataclass,
    ) -> None:
        self.resolve = resolve
        self.unresolved = unresolved
        self.build = build

    def _lost(self, module: str, qualname: str, data: Any) -> Unresolved:
        u = Unresolved(module, qualname, data)
        if self.unresolved is not None:
            self.unresolved.append(u)
        return u

    def _nested(self, data: bytes) -> Any:
        return msgpack.unpackb(data, ext_hook=self, raw=False, strict_map_key=False)

    def __call__(self, code: int, data: bytes) -> Any:
        """Decode one extension value."""
        if code == EXT_VEC2:
            return tuple.__new__(Vec2, _VEC.unpack(data))
        if code == EXT_COLOR:
            return tuple.__new__(Color, tuple(data))
        if code == EXT_HANDLE:
            return Handle(_HANDLE.unpack(data)[0])
        if code == EXT_TUPLE:
            return tuple(self._nested(data))
        if code == EXT_SET:
            items = self._nested(data[1:])
            return frozenset(items) if data[:1] == b"\x01" else set(items)
        if code == EXT_ENUM:
            module, qualname, name = self._nested(data)
            cls = self.resolve(module, qualname)
            member = getattr(cls, "__members__", {}).get(name) if cls is not None else None
            return member if member is not None else self._lost(module, qualname, name)
        if code == EXT_DATACLASS:
            module, qualname, fields = self._nested(data)
            dc: Callable[..., Any] = self.resolve(module, qualname)
            if dc is None or not dataclasses.is_dataclass(dc):
                return self._lost(module, qualname, fields)
            return self.build(module, qualname, dc, fields)
        return msgpack.ExtType(code, data)


def unpackb(
    data: bytes,
    resolve: ClassResolver = default_resolver,
    unresolved: list[Unresolved] | None = None,
    build: DataclassBuilder = build_dataclass,
) -> Any:
    """Decode what `packb` encoded; plugin classes are looked up with `resolve`.

    Args:
        data: the encoded bytes.
        resolve: finds classes of enum members and dataclasses by module and qualname.
        unresolved: collects the values whose class or member no longer exists.
        build: makes dataclass instances from their class and stored fields.
    """
    return msgpack.unpackb(
        data, ext_hook=ExtDecoder(resolve, unresolved, build), raw=False, strict_map_key=False
    )
