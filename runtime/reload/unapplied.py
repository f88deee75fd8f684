"""Changed but did not run: what a reload loads but cannot apply to objects that already exist.

Found after the restore step, by comparing the old and the new generation (read
only): an ``on_init`` or ``on_start`` whose code changed, on scripts (or a
plugin object) that already ran it; a module-level value that changed while
objects keep a copy of the old one in an attribute (typically set from it in
``on_init``). The report lists them (`runtime.reports.UnappliedChange`) and
`runtime.game.Game.rerun` runs such a hook again on request.
"""

from __future__ import annotations

import types
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from runtime.plugins import LoadedPlugin
from runtime.reload.snapshot import Snapshot
from runtime.reports import UnappliedChange
from runtime.scripting import ENGINE_KEYS, PlaceholderScript, plugin_name_of, type_id_of

#: The hooks that run once per object, and the ``_hp_state`` an object has once it ran each.
#: (The plugin object runs ``on_init`` when the game starts; it has no ``on_start``.)
ONCE_HOOKS = {"on_init": 1, "on_start": 2}

#: Module values never reported as kept: immutable ones, whose identity says nothing
#: (shared, cached), and code (classes, functions, modules), which reloads replace.
_NOT_STATE = (
    int,
    float,
    complex,
    str,
    bytes,
    bool,
    type(None),
    tuple,
    frozenset,
    type,
    types.ModuleType,
    types.FunctionType,
)


def find_unapplied(
    snap: Snapshot,
    new_objects: Sequence[Any],
    old: dict[str, LoadedPlugin],
    fresh: dict[str, LoadedPlugin],
    game_started: bool,
    retyped: Mapping[type, type] | None = None,
) -> tuple[UnappliedChange, ...]:
    """The changes of this reload that objects which already exist will not see.

    Args:
        snap: the snapshot step's result (the old objects).
        new_objects: the restore step's new object of each snapshot target.
        old: the running generation of the plugins in the reload.
        fresh: their new generation.
        game_started: whether plugin objects ran ``on_init``.
        retyped: the new class of each old class whose objects the reload keeps.
    """
    hooks = _changed_hooks(snap, new_objects, game_started, retyped or {})
    values = _kept_module_values(snap, old, fresh)
    return tuple(hooks + values)


def _changed_hooks(
    snap: Snapshot, new_objects: Sequence[Any], game_started: bool, retyped: Mapping[type, type]
) -> list[UnappliedChange]:
    targets = snap.targets
    olds, entities, scripts = targets.objects, targets.entities, targets.scripts
    hit: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    plugin_hit: dict[tuple[str, str, str], bool] = {}
    # Class by class: the objects of one stored class all have the same new class.
    for old_cls, positions in snap.classes:
        new = new_objects[positions[0]]
        new_cls = retyped.get(old_cls, type(new))
        if new is None or PlaceholderScript in (old_cls, new_cls):
            continue
        for hook, ran_at in ONCE_HOOKS.items():
            if same_code(getattr(old_cls, hook, None), getattr(new_cls, hook, None)):
                continue
            where = (plugin_name_of(new_cls), type_id_of(new_cls), hook)
            for n in positions:
                if n >= scripts:
                    if hook == "on_init" and game_started:
                        plugin_hit[where] = True
                elif olds[n].__dict__.get("_hp_state", 0) >= ran_at:
                    hit[where].append(int(entities[n].handle))
    out = [
        UnappliedChange(p, tid, hook, "hook", entities=tuple(handles))
        for (p, tid, hook), handles in hit.items()
    ]
    out += [
        UnappliedChange(p, tid, hook, "hook", plugin_object=True) for (p, tid, hook) in plugin_hit
    ]
    return out


def _kept_module_values(
    snap: Snapshot, old: dict[str, LoadedPlugin], fresh: dict[str, LoadedPlugin]
) -> list[UnappliedChange]:
    """Module globals whose value changed while old objects hold a copy of the old value.

    By equality, not identity: a reload gives objects copies of their values, so
    after the first reload nothing is the module's own object any more.
    """
    changed: list[tuple[Any, str, str]] = []  # (old value, plugin, "module.NAME")
    for name, plugin in old.items():
        new_plugin = fresh.get(name)
        if new_plugin is None:
            continue
        for mod_name, mod in plugin.modules.items():
            new_mod = new_plugin.modules.get(mod_name)
            if new_mod is None:
                continue
            new_vars = vars(new_mod)
            for var, value in vars(mod).items():
                if (
                    var.startswith("__")
                    or var not in new_vars
                    or isinstance(value, _NOT_STATE)
                    or _same_value(value, new_vars[var])
                ):
                    continue
                changed.append((value, name, f"{mod_name.rpartition('.')[2]}.{var}"))
    if not changed:
        return []
    found: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    plugin_found: set[tuple[str, str, str, str]] = set()
    for t in snap.targets:
        cls = type(t.obj)
        if cls is PlaceholderScript:
            continue
        for attr, value in t.obj.__dict__.items():
            if attr in ENGINE_KEYS or isinstance(value, _NOT_STATE):
                continue
            for old_value, owner, what in changed:
                if not _same_value(value, old_value):
                    continue
                key = (owner, type_id_of(cls), what, f"{cls.__qualname__}.{attr}")
                if t.plugin:
                    plugin_found.add(key)
                elif t.entity is not None:
                    found[key].append(int(t.entity.handle))
    out = [
        UnappliedChange(p, tid, what, "module-value", entities=tuple(h), detail=detail)
        for (p, tid, what, detail), h in found.items()
    ]
    out += [
        UnappliedChange(p, tid, what, "module-value", plugin_object=True, detail=detail)
        for (p, tid, what, detail) in plugin_found
    ]
    return out


def same_code(a: Any, b: Any) -> bool:
    """Whether two functions have the same code, whatever line they start on."""
    ca, cb = getattr(a, "__code__", None), getattr(b, "__code__", None)
    if ca is None or cb is None:
        return a is b
    return _code_key(ca) == _code_key(cb)


def _code_key(code: types.CodeType) -> tuple[Any, ...]:
    consts = tuple(_code_key(c) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return (code.co_code, consts, code.co_names, code.co_varnames, code.co_freevars)


def _same_value(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:  # a numpy-like ==: call it changed
        return False
