"""The floor: the least work any reload of the benchmark's edit must do, timed on the same data.

That is importing the plugin's modules afresh, a msgpack pack and unpack of
every script's field values, and a plain rebuild of the objects
(``cls.__new__`` and attribute stores). A reload's time divided by this is the
``floor_ratio`` figure.
"""

from __future__ import annotations

import importlib
import statistics
import sys
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runtime.bench.errors import BenchError
from runtime.bench.project import MOVER_FIELDS, PLUGIN
from runtime.bench.timing import GC_CLOCK, ms
from runtime.plugins import PluginHost
from runtime.scene import Scene
from runtime.snapshot import packb, unpackb
from runtime.values import Handle


class FloorImporter:
    """Imports fresh copies of the benchmark plugin's modules under a namespace of its own.

    The modules are found and compiled by a `PluginHost` of their own, so the
    floor compiles exactly what a reload compiles (the changed sources; the
    compiler reuses the code of unchanged ones). Only the import is done here:
    the host's `PluginHost.import_aside` also collects the classes and their
    fields, which is the reload's own work, not the floor. Close it (or use it
    as a context manager) to take its namespace out of the interpreter.
    """

    def __init__(self, plugins_dir: Path) -> None:
        self.host = PluginHost(plugins_dir)

    def __enter__(self) -> FloorImporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def import_fresh(self) -> dict[str, types.ModuleType]:
        """Import every module of the benchmark plugin as new module objects; return them.

        ``sys.modules`` holds none of them afterwards.
        """
        package = self.host.module_name(PLUGIN)
        try:
            for name, _path in self.host.source_files(PLUGIN):
                importlib.import_module(name)
            return {k: m for k, m in sys.modules.items() if _is_in(k, package)}
        finally:
            for k in [k for k in sys.modules if _is_in(k, package)]:
                del sys.modules[k]
            # Importing a package sets it as an attribute of its parent: drop that
            # reference too, or each generation would live until the next import.
            vars(sys.modules[self.host.namespace]).pop(PLUGIN, None)

    def close(self) -> None:
        """Remove the floor's namespace and finder from the interpreter."""
        self.host.close()


def _is_in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@dataclass
class FloorSample:
    """One measurement of the floor, in milliseconds."""

    import_ms: float
    codec_ms: float
    rebuild_ms: float
    gc_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        """The sum of the three parts."""
        return self.import_ms + self.codec_ms + self.rebuild_ms


def measure_floor(importer: FloorImporter, scene: Scene) -> FloorSample:
    """Import the plugin afresh, pack/unpack every script's field values, rebuild the objects.

    Raises:
        BenchError: the import or the rebuild did not produce what it should.
    """
    GC_CLOCK.reset()
    t0 = time.perf_counter()
    modules = importer.import_fresh()
    cls = modules[_module_named(modules, "movers")].Mover
    t1 = time.perf_counter()
    names = MOVER_FIELDS
    rows = []
    for e in scene:
        for s in e.scripts:
            d = s.__dict__
            rows.append([[d[n] for n in names], d.get("_hp_state", 0), int(e.handle)])
    decoded = unpackb(packb(rows))
    t2 = time.perf_counter()
    new = cls.__new__
    out = []
    for values, state, h in decoded:
        obj = new(cls)
        od = obj.__dict__
        od.update(zip(names, values, strict=True))
        od["_hp_state"] = state
        od["_hp_entity"] = Handle(h)
        out.append(obj)
    t3 = time.perf_counter()
    if len(out) != len(rows):
        raise BenchError("floor rebuild lost objects")
    return FloorSample(ms(t1 - t0), ms(t2 - t1), ms(t3 - t2), GC_CLOCK.read()[0])


def _module_named(modules: dict[str, types.ModuleType], sub: str) -> str:
    """The full name of submodule `sub` of the plugin among freshly imported `modules`."""
    for k in modules:
        if k.endswith(f".{PLUGIN}.{sub}"):
            return k
    raise BenchError(f"floor import did not produce {sub}")


def median_floor(floors: Sequence[FloorSample]) -> dict[str, float]:
    """The median of each part of `floors` (the ``details.floors`` entry of one size)."""
    return {
        "import_ms": statistics.median(f.import_ms for f in floors),
        "codec_ms": statistics.median(f.codec_ms for f in floors),
        "rebuild_ms": statistics.median(f.rebuild_ms for f in floors),
        "total_ms": statistics.median(f.total_ms for f in floors),
        "gc_ms": statistics.median(f.gc_ms for f in floors),
    }
