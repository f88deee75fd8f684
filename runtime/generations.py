"""Old generations of plugin code: tracked by weak reference, and named when they survive.

The reload's commit step (`runtime.reload.commit`) retires each replaced
generation here. Nothing scans the heap during a reload; `describe_stale` does,
when asked (`runtime.game.Game.stale_references`).
"""

from __future__ import annotations

import gc
import types
import weakref
from typing import TYPE_CHECKING, Any

from runtime.plugins import LoadedPlugin
from runtime.scripting import NAMESPACE_PREFIX, module_path

if TYPE_CHECKING:
    from runtime.game import Game


class GenerationTracker:
    """Weak references to replaced plugin modules and classes.

    They tell whether old generations are still alive (they should be collectable).
    """

    def __init__(self) -> None:
        self.generation = 0
        self._old: list[tuple[int, str, weakref.ref[Any]]] = []

    def retire(self, plugin: LoadedPlugin) -> None:
        """Remember the modules and classes of a generation that was just replaced."""
        self._old = [entry for entry in self._old if entry[2]() is not None]
        for mod in plugin.modules.values():
            self._old.append((self.generation, plugin.name, weakref.ref(mod)))
            for obj in list(vars(mod).values()):
                if isinstance(obj, type) and obj.__module__ == mod.__name__:
                    self._old.append((self.generation, plugin.name, weakref.ref(obj)))

    def alive(self) -> list[Any]:
        """Old modules and classes that are still alive (call ``gc.collect()`` first)."""
        out = []
        for _, _, ref in self._old:
            obj = ref()
            if obj is not None:
                out.append(obj)
        return out


def describe_stale(game: Game) -> list[str]:
    """Name every surviving old-generation module or class and what refers to it.

    Holders are named as precisely as the heap allows: a module's global, an
    object's attribute, a dict's key; an old object (an instance of an old
    class) is followed one step further to whoever holds it. Holders that are
    themselves old code are marked so, since they go when the rest does.
    """
    tracker = game.generations
    if tracker.generation == 0:
        return []  # nothing was replaced yet: no need to walk the heap
    gc.collect()
    alive = tracker.alive()
    old_ids = {id(o) for o in alive}
    lines = []
    for obj in alive:
        kind = "module" if isinstance(obj, types.ModuleType) else "class"
        name = (
            module_path(obj.__name__)
            if kind == "module"
            else (f"{module_path(obj.__module__)}.{obj.__qualname__}")
        )
        referrers = gc.get_referrers(obj)
        own = {id(alive), id(referrers)}  # the diagnostic's own lists
        holders = [_describe_holder(r, obj, old_ids, own) for r in referrers if id(r) not in own]
        holders = [h for h in holders if h]
        lines.append(f"old {kind} {name} is still held by: {'; '.join(holders) or 'a cycle'}")
    return lines


def _describe_holder(ref: Any, obj: Any, old_ids: set[int], own: set[int], depth: int = 0) -> str:
    # Frames are the diagnostic's own; a class's cells and tuples are its own structure
    # (its __mro__, the __class__ cell of zero-argument super()).
    if isinstance(ref, types.FrameType) or (
        depth == 0 and isinstance(ref, (types.CellType, tuple))
    ):
        return ""
    if isinstance(ref, dict):
        key = next((k for k, v in ref.items() if v is obj), None)
        module_name = ref.get("__name__")
        if isinstance(module_name, str) and module_name.startswith(NAMESPACE_PREFIX):
            # The globals of a plugin module, kept by its functions after the module went.
            return f"global {key!r} of module {module_path(module_name)} (old code)"
        for owner in gc.get_referrers(ref):
            if getattr(owner, "__dict__", None) is ref:
                if isinstance(owner, types.ModuleType):
                    old = " (old code)" if id(owner) in old_ids else ""
                    return f"global {key!r} of module {module_path(owner.__name__)}{old}"
                if isinstance(owner, type):
                    return f"attribute {key!r} of class {owner.__qualname__}"
                return f"attribute {key!r} of a {type(owner).__qualname__} object"
        return f"a dict, under key {key!r}" if key is not None else "a dict"
    if isinstance(ref, types.FunctionType):
        return f"function {ref.__qualname__}"
    if isinstance(ref, (list, set, tuple)):
        return f"a {type(ref).__name__}"
    if isinstance(ref, type):
        return f"class {ref.__qualname__} (as a base class or attribute)"
    if id(type(ref)) in old_ids and depth == 0:
        # An object of the old code: what matters is who keeps it.
        inner = [
            _describe_holder(r, ref, old_ids, own, 1)
            for r in gc.get_referrers(ref)
            if id(r) not in own
        ]
        by = "; ".join(h for h in inner if h) or "nothing that can be named"
        return f"a {type(ref).__qualname__} object of the old code, held by {by}"
    return f"a {type(ref).__qualname__} object"
