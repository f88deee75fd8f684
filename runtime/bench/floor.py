"""The floor: the reload's own work done the plainest way, timed on the same data in the same run.

A reload of the benchmark's edit must at least:

* *compile and run the changed module* (``movers.py``), as a new module of the
  plugin's package (its imports of unchanged modules resolve to the loaded ones);
* do a *columnar msgpack round trip* of every script, the way
  `runtime.reload.snapshot` stores objects: one column per field, a ``Vec2``
  column as plain floats and a ``Handle`` column as a packed array of ints
  (no extension value per object), plus the lifecycle state and entity columns;
* *rebuild* every object from the decoded columns with ``cls.__new__`` and one
  ``__dict__`` update each, the new ``Vec2`` and ``Handle`` values included;
* *free* as many objects as it built (a reload frees the replaced ones).

All of it runs with the cyclic garbage collector off, as the reload does. The
reload figure divided by this is the ``floor_ratio`` figure; both are sampled
in turn (one floor after each reload), so they see the same machine load.

A code-only edit of the benchmark's ``Mover`` keeps the objects (the reload's
fast path: the snapshot is still written, then every object takes the new
class). The floor of that work is measured in the same turn (`FloorSample.kept_ms`):
compile and run the module, the columnar *pack* alone, and give every script
the new class (``object.__setattr__(obj, "__class__", cls)``; the scripts get
their own class back afterwards, outside the timing).
"""

from __future__ import annotations

import functools
import gc
import importlib
import itertools
import statistics
import sys
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.bench.errors import BenchError
from runtime.bench.project import PLUGIN
from runtime.bench.timing import GC_CLOCK, ms
from runtime.fields import declared_fields, type_name
from runtime.plugins import PluginHost
from runtime.reload.snapshot import pack_handles, unpack_handles
from runtime.scene import Scene
from runtime.snapshot import packb, unpackb
from runtime.values import Handle, Vec2

# How a column is stored, as in the reload's snapshot.
_PLAIN, _VEC2, _HANDLE = 0, 1, 2

# A Vec2 from a pair without its __new__'s checks, as the restore step builds them.
_new_vec2 = functools.partial(tuple.__new__, Vec2)


class FloorImporter:
    """Runs fresh copies of changed modules of the benchmark plugin, under a namespace of its own.

    The plugin is imported once, by a `PluginHost` of its own (so nothing the
    game loaded is touched); `run_changed` then compiles a changed source and
    runs it as a new module of that package, which is not put in
    ``sys.modules``. Close it (or use it as a context manager) to take its
    namespace out of the interpreter.
    """

    def __init__(self, plugins_dir: Path) -> None:
        self.host = PluginHost(plugins_dir)
        self.package = self.host.module_name(PLUGIN)

    def __enter__(self) -> FloorImporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self) -> None:
        """Import the plugin package once (outside any timing); `run_changed` needs it."""
        if self.package not in sys.modules:
            importlib.import_module(self.package)

    def run_changed(self, path: Path) -> types.ModuleType:
        """Read, compile and run `path` as a new module of the plugin package; return it."""
        self.load()
        name = f"{self.package}.{path.stem}"
        code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        module = types.ModuleType(name)
        module.__file__ = str(path)
        module.__package__ = self.package
        exec(code, module.__dict__)
        return module

    def close(self) -> None:
        """Remove the floor's namespace and finder from the interpreter."""
        self.host.close()


@dataclass
class FloorSample:
    """One measurement of the floor, in milliseconds."""

    compile_run_ms: float
    codec_ms: float
    rebuild_ms: float
    free_ms: float
    gc_ms: float = 0.0
    #: the pack alone, of `codec_ms`
    pack_ms: float = 0.0
    #: every script given the new class
    retype_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        """The rebuilding reload's floor: the sum of the four parts."""
        return self.compile_run_ms + self.codec_ms + self.rebuild_ms + self.free_ms

    @property
    def kept_ms(self) -> float:
        """The floor of a reload that keeps the objects: compile and run, pack, retype."""
        return self.compile_run_ms + self.pack_ms + self.retype_ms


def measure_floor(importer: FloorImporter, scene: Scene, changed: Path) -> FloorSample:
    """Run the changed module, round-trip every script in columns, rebuild and free them.

    Args:
        importer: the floor's own copy of the plugin.
        scene: the scene whose scripts (all of one class) are stored and rebuilt.
        changed: the changed source file.

    Raises:
        BenchError: the changed module has no ``Mover`` or the rebuild lost objects.
    """
    gc_was_on = gc.isenabled()
    gc.disable()
    GC_CLOCK.reset()
    try:
        t0 = time.perf_counter()
        cls = getattr(importer.run_changed(changed), "Mover", None)
        if not isinstance(cls, type):
            raise BenchError(f"the floor's run of {changed.name} made no Mover class")
        t1 = time.perf_counter()
        scripts = [s for e in scene for s in e.scripts]
        names, blob = _pack_columns(scripts)
        t_packed = time.perf_counter()
        kinds, columns, states, entities = unpackb(blob)
        t2 = time.perf_counter()
        rebuilt = _rebuild(cls, names, kinds, columns, states, entities)
        t3 = time.perf_counter()
        count = len(rebuilt)
        del rebuilt, columns, states, entities
        t4 = time.perf_counter()
        retype_ms = _time_retype(scripts, cls)
    finally:
        if gc_was_on:
            gc.enable()
    if count != len(scripts):
        raise BenchError(f"floor rebuild made {count} objects of {len(scripts)}")
    return FloorSample(
        ms(t1 - t0),
        ms(t2 - t1),
        ms(t3 - t2),
        ms(t4 - t3),
        GC_CLOCK.read()[0],
        pack_ms=ms(t_packed - t1),
        retype_ms=retype_ms,
    )


def _time_retype(scripts: list[Any], cls: type) -> float:
    """Milliseconds to give every script `cls`; each gets its own class back after."""
    olds = list(map(type, scripts))
    set_class = object.__setattr__
    t0 = time.perf_counter()
    for s in scripts:
        set_class(s, "__class__", cls)
    t1 = time.perf_counter()
    for s, old in zip(scripts, olds, strict=True):
        set_class(s, "__class__", old)
    return ms(t1 - t0)


def _pack_columns(scripts: list[Any]) -> tuple[list[str], bytes]:
    """The declared fields of the scripts' class, and the scripts packed in columns."""
    fields = declared_fields(type(scripts[0])) if scripts else {}
    names = list(fields)
    dicts = [s.__dict__ for s in scripts]
    kinds = []
    columns: list[Any] = []  # lists, or the bytes of a packed handle column
    for name, spec in fields.items():
        col: Any = [d[name] for d in dicts]
        ann = type_name(spec.annotation)
        if ann == "Vec2":
            kinds.append(_VEC2)
            col = list(itertools.chain.from_iterable(col))
        elif ann == "Handle":
            kinds.append(_HANDLE)
            col = pack_handles(col)
        else:
            kinds.append(_PLAIN)
        columns.append(col)
    states = [d.get("_hp_state", 0) for d in dicts]
    entities = pack_handles([d["_hp_entity"] for d in dicts])
    return names, packb([kinds, columns, states, entities])


def _rebuild(
    cls: type,
    names: list[str],
    kinds: list[int],
    columns: list[Any],
    states: list[int],
    entities: bytes,
) -> list[Any]:
    """New objects of `cls` from decoded columns: ``cls.__new__`` and one ``__dict__`` update."""
    decoded: list[list[Any]] = []
    for kind, col in zip(kinds, columns, strict=True):
        if kind == _VEC2:
            it = iter(col)
            decoded.append(list(map(_new_vec2, zip(it, it, strict=True))))
        elif kind == _HANDLE:
            decoded.append(list(map(Handle, unpack_handles(col))))
        else:
            decoded.append(col)
    new = object.__new__
    out: list[Any] = []
    append = out.append
    handles = unpack_handles(entities)
    for values, state, entity in zip(zip(*decoded, strict=True), states, handles, strict=True):
        obj: Any = new(cls)
        d = obj.__dict__
        d.update(zip(names, values, strict=True))
        d["_hp_state"] = state
        d["_hp_entity"] = Handle(entity)
        append(obj)
    return out


def median_floor(floors: Sequence[FloorSample]) -> dict[str, float]:
    """The median of each part of `floors` (the ``details.floors`` entry of one size)."""
    return {
        "compile_run_ms": statistics.median(f.compile_run_ms for f in floors),
        "codec_ms": statistics.median(f.codec_ms for f in floors),
        "rebuild_ms": statistics.median(f.rebuild_ms for f in floors),
        "free_ms": statistics.median(f.free_ms for f in floors),
        "total_ms": statistics.median(f.total_ms for f in floors),
        "gc_ms": statistics.median(f.gc_ms for f in floors),
        "pack_ms": statistics.median(f.pack_ms for f in floors),
        "retype_ms": statistics.median(f.retype_ms for f in floors),
        "kept_ms": statistics.median(f.kept_ms for f in floors),
    }
