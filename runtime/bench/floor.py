"""The floor: the least work any reload of the benchmark's edit must do, timed on the same data.

That is importing the plugin's modules afresh, a msgpack pack and unpack of
every script's field values, and a plain rebuild of the objects
(``cls.__new__`` and attribute stores). A reload's time divided by this is the
``floor_ratio`` figure.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
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
from runtime.scene import Scene
from runtime.snapshot import packb, unpackb
from runtime.values import Handle


class _FloorLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, importer: FloorImporter) -> None:
        super().__init__(fullname, path)
        self._importer = importer

    def get_code(self, fullname: str) -> types.CodeType:
        return self._importer.code_for(self.path)


class FloorImporter:
    """Imports fresh copies of the plugin's modules with importlib, under a private name.

    Sources are compiled when their bytes changed and the code is reused
    otherwise, as the runtime's compiler does (one cache entry per file), so the
    floor compiles exactly the modules a reload must compile.
    """

    def __init__(self, plugins_dir: Path) -> None:
        self.plugins_dir = plugins_dir
        self._code: dict[str, tuple[bytes, types.CodeType]] = {}
        self._count = 0
        self.prefix = ""

    def code_for(self, path: str) -> types.CodeType:
        """The code of one source file (compiled if its content changed)."""
        with open(path, "rb") as f:
            source = f.read()
        digest = hashlib.blake2b(source, digest_size=16).digest()
        cached = self._code.get(path)
        if cached is not None and cached[0] == digest:
            return cached[1]
        code = compile(source, path, "exec", dont_inherit=True)
        self._code[path] = (digest, code)
        return code

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """Meta-path hook for the private namespace."""
        if not self.prefix or not fullname.startswith(self.prefix):
            return None
        base = self.plugins_dir.joinpath(*fullname[len(self.prefix) :].split("."))
        init = base / "__init__.py"
        if init.is_file():
            return importlib.util.spec_from_file_location(
                fullname,
                init,
                loader=_FloorLoader(fullname, str(init), self),
                submodule_search_locations=[str(base)],
            )
        mod = base.with_suffix(".py")
        if mod.is_file():
            return importlib.util.spec_from_file_location(
                fullname, mod, loader=_FloorLoader(fullname, str(mod), self)
            )
        return None

    def import_fresh(self) -> dict[str, types.ModuleType]:
        """Import every module of the benchmark plugin as new module objects; return them."""
        self._count += 1
        root_name = f"_hotplay_bench_floor_{self._count}"
        self.prefix = root_name + "."
        root = types.ModuleType(root_name)
        root.__path__ = [str(self.plugins_dir)]
        sys.modules[root_name] = root
        sys.meta_path.insert(0, self)
        try:
            pkg = f"{root_name}.{PLUGIN}"
            importlib.import_module(pkg)
            for sub in ("data", "helpers", "movers"):
                importlib.import_module(f"{pkg}.{sub}")
            return {k: m for k, m in sys.modules.items() if k.startswith(self.prefix)}
        finally:
            sys.meta_path.remove(self)
            for k in [k for k in sys.modules if k == root_name or k.startswith(self.prefix)]:
                del sys.modules[k]
            self.prefix = ""


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
