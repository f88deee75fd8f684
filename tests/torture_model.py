"""A model of a plugin's source for the reload torture test (tests/test_torture.py).

The model knows the plugin's modules, subpackages and script classes (their
fields, type ids, behaviour), renders itself to files, and edits itself at
random, validly or with an injected fault. The oracle in this module predicts,
from the documented migration rules alone (docs/hot-reload.md, "The guarantee"),
what every script must hold after a reload: it never asks the runtime how it
migrates, so it can catch the runtime getting a rule wrong.

Values are compared as *tagged* data (`tag`): ``("int", 3)`` and
``("float", 3.0)`` differ, where ``3 == 3.0`` would hide a lost type.
"""

from __future__ import annotations

import copy
import dataclasses
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.values import Vec2

PLUGIN = "toy"
#: The module (put into ``sys.modules`` by the test) through which the test
#: switches faults in the running hooks and records hook calls.
SWITCH = "torture_switch"

TYPES = ("int", "float", "str", "bool", "Vec2", "list[int]", "list[str]", "Hit")

Tagged = tuple[Any, ...]


@dataclass(frozen=True)
class HitV:
    """The model's value of the plugin's ``Hit`` dataclass."""

    damage: int


# --- tagged values --------------------------------------------------------------------------


def tag(value: Any) -> Tagged:
    """A canonical, type-exact, hashable form of a field value or of plain data."""
    t = type(value)
    if t is bool:
        return ("bool", value)
    if t is int:
        return ("int", value)
    if t is float:
        return ("float", value)
    if t is str:
        return ("str", value)
    if value is None:
        return ("None",)
    if t is Vec2:
        return ("Vec2", value[0], value[1])
    if t is list:
        return ("list", tuple(tag(v) for v in value))
    if t is dict:
        return ("dict", tuple(sorted((k, tag(v)) for k, v in value.items())))
    if t is HitV or (dataclasses.is_dataclass(value) and t.__name__ == "Hit"):
        return ("Hit", tag(value.damage))
    return ("?", repr(value))


def plain_of(v: Tagged) -> Tagged:
    """The tagged plain (scene-file) form of a tagged value, as a placeholder keeps it."""
    kind = v[0]
    if kind == "Vec2":
        return ("list", (("float", v[1]), ("float", v[2])))
    if kind == "list":
        return ("list", tuple(plain_of(x) for x in v[1]))
    if kind == "Hit":
        return ("dict", (("damage", v[1]),))
    return v


def fits(v: Tagged, typ: str) -> bool:
    """Whether a live value fits a declared type (``float`` takes an ``int``, ``int`` no bool)."""
    kind = v[0]
    if typ == "float":
        return kind in ("int", "float")
    if typ in ("int", "str", "bool", "Vec2", "Hit"):
        return kind == typ
    if typ.startswith("list["):
        item = typ[5:-1]
        return kind == "list" and all(fits(x, item) for x in v[1])
    raise AssertionError(typ)


def from_plain(p: Tagged, typ: str, min_damage: int) -> Tagged | None:
    """A stored plain value read back as `typ`, or ``None`` when it does not fit."""
    kind = p[0]
    if typ == "int":
        if kind == "int":
            return p
        if kind == "float" and float(p[1]).is_integer():
            return ("int", int(p[1]))
        return None
    if typ == "float":
        return ("float", float(p[1])) if kind in ("int", "float") else None
    if typ in ("str", "bool"):
        return p if kind == typ else None
    if typ == "Vec2":
        if kind == "list" and len(p[1]) == 2 and all(x[0] in ("int", "float") for x in p[1]):
            return ("Vec2", float(p[1][0][1]), float(p[1][1][1]))
        return None
    if typ.startswith("list["):
        if kind != "list":
            return None
        items = [from_plain(x, typ[5:-1], min_damage) for x in p[1]]
        return None if any(x is None for x in items) else ("list", tuple(items))  # type: ignore[misc]
    if typ == "Hit":
        if kind != "dict":
            return None
        data = dict(p[1])
        damage = from_plain(data.get("damage", ("int", 0)), "int", min_damage)
        if damage is None or damage[1] < min_damage:
            return None  # the new Hit's __post_init__ refuses it
        return ("Hit", damage)
    raise AssertionError(typ)


# --- the model ----------------------------------------------------------------------------------


@dataclass
class FieldM:
    name: str
    type: str
    default: Any


@dataclass
class ClassM:
    name: str
    module: str
    fields: list[FieldM]
    step: int
    explicit_id: str = ""
    hooks: bool = False
    after_fault: str = ""  # "raise" / "recurse": the new code's on_after_reload fails

    def type_id(self) -> str:
        return self.explicit_id or f"{PLUGIN}.{self.module}:{self.name}"

    def field(self, name: str) -> FieldM | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass
class Model:
    """The plugin's source. ``fault_*`` attributes are one-shot: only a rejected edit has them."""

    modules: list[str] = field(default_factory=list)
    subpackages: list[str] = field(default_factory=list)
    imports: dict[str, list[str]] = field(default_factory=dict)
    classes: dict[str, ClassM] = field(default_factory=dict)
    graveyard: dict[str, ClassM] = field(default_factory=dict)
    min_damage: int = 0
    counter: int = 0
    fault_syntax: str = ""  # module with a syntax error appended
    fault_import: str = ""  # module raising at import
    fault_missing: str = ""  # module deleted mid-save (another module imports it)

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def by_type_id(self) -> dict[str, ClassM]:
        return {c.type_id(): c for c in self.classes.values()}

    def importers(self, module: str) -> list[str]:
        return [m for m in self.modules if module in self.imports.get(m, [])]

    def module_file(self, module: str) -> str:
        return f"{PLUGIN}/{module.replace('.', '/')}.py"


def initial_model(rng: random.Random, n_classes: int = 8) -> Model:
    m = Model()
    for _ in range(3):
        _add_module(m, rng)
    m.subpackages.append("sub")
    _add_module(m, rng, package="sub")
    for _ in range(n_classes):
        _new_class(m, rng)
    return m


def _add_module(m: Model, rng: random.Random, package: str = "") -> str:
    name = m.fresh("m")
    path = f"{package}.{name}" if package else name
    # Imports only of older modules: no cycles.
    older = [x for x in m.modules if rng.random() < 0.3]
    m.modules.append(path)
    m.imports[path] = older[:2]
    return path


def random_value(rng: random.Random, typ: str, min_damage: int = 0) -> Any:
    if typ == "int":
        return rng.choice([0, 1, 2, 3, -4, 7])
    if typ == "float":
        return rng.choice([0.0, 0.5, 1.5, -2.0, 3.0])
    if typ == "str":
        return rng.choice(["", "a", "bb", "x y"])
    if typ == "bool":
        return rng.random() < 0.5
    if typ == "Vec2":
        return Vec2(*rng.choice([(0, 0), (1, 0), (0.5, -2), (3, 4)]))
    if typ == "list[int]":
        return rng.choice([[], [1], [1, 2], [5, -1, 0]])
    if typ == "list[str]":
        return rng.choice([[], ["a"], ["b", "c"]])
    if typ == "Hit":
        return HitV(rng.choice([d for d in range(0, 8) if d >= min_damage] or [min_damage]))
    raise AssertionError(typ)


def _new_field(m: Model, rng: random.Random, cls: ClassM) -> FieldM:
    typ = rng.choice(TYPES)
    return FieldM(m.fresh("f"), typ, random_value(rng, typ, m.min_damage))


def _new_class(m: Model, rng: random.Random, module: str | None = None) -> ClassM:
    name = m.fresh("C")
    cls = ClassM(
        name,
        module or rng.choice(m.modules),
        [FieldM("ticks", "int", 0)],
        step=rng.randint(1, 9),
        explicit_id=f"{PLUGIN}/{name}" if rng.random() < 0.3 else "",
        hooks=rng.random() < 0.6,
    )
    for _ in range(rng.randint(1, 4)):
        cls.fields.append(_new_field(m, rng, cls))
    m.classes[name] = cls
    return cls


# --- rendering ------------------------------------------------------------------------------------


def literal(value: Any) -> str:
    if type(value) is Vec2:
        return f"Vec2({value[0]!r}, {value[1]!r})"
    if type(value) is HitV:
        return f"Hit({value.damage})"
    return repr(value)


INIT = """\
from runtime import Plugin


class Toy(Plugin):
    frames: int = 0

    def on_update(self, ctx, dt):
        self.frames += 1
"""

KINDS = """\
import dataclasses

MIN_DAMAGE = {min_damage}


@dataclasses.dataclass
class Hit:
    damage: int = 0

    def __post_init__(self):
        if self.damage < MIN_DAMAGE:
            raise ValueError(f"damage {{self.damage}} is below {{MIN_DAMAGE}}")
"""


@dataclass
class Rendered:
    files: dict[str, str]
    #: (file, line) of an injected syntax error or raise at import
    fault_at: tuple[str, int] | None = None


def render(m: Model) -> Rendered:
    files = {
        f"{PLUGIN}/__init__.py": INIT,
        f"{PLUGIN}/kinds.py": KINDS.format(min_damage=m.min_damage),
    }
    for pkg in m.subpackages:
        files[f"{PLUGIN}/{pkg.replace('.', '/')}/__init__.py"] = ""
    out = Rendered(files)
    for mod in m.modules:
        if mod == m.fault_missing:
            continue
        depth = mod.count(".") + 1
        dots = "." * depth
        lines = [
            "from runtime import Script, Vec2",
            f"import {SWITCH} as _sw",
            "",
            f"from {dots}kinds import Hit",
        ]
        lines += [f"from {dots}{dep} import {_helper(dep)}" for dep in m.imports.get(mod, [])]
        lines += ["", f"{_helper(mod)} = 1", ""]
        for cls in m.classes.values():
            if cls.module == mod:
                lines += ["", *_render_class(cls)]
        if m.fault_import == mod:
            lines.append('raise RuntimeError("torture: raised at import")')
            out.fault_at = (m.module_file(mod), len(lines))
        if m.fault_syntax == mod:
            lines.append("def broken(:")
            out.fault_at = (m.module_file(mod), len(lines))
        files[m.module_file(mod)] = "\n".join(lines) + "\n"
    return out


def _helper(module: str) -> str:
    return "HELPER_" + module.replace(".", "_")


def _render_class(c: ClassM) -> list[str]:
    lines = [f"class {c.name}(Script):"]
    if c.explicit_id:
        lines.append(f"    type_id = {c.explicit_id!r}")
    lines += [f"    {f.name}: {f.type} = {literal(f.default)}" for f in c.fields]
    lines += ["", "    def on_update(self, ctx, dt):", f"        self.ticks += {c.step}"]
    if c.hooks:
        lines += [
            "",
            "    def on_before_reload(self, ctx):",
            '        _sw.calls.append(("before", type(self).__name__, id(self), True))',
            "        mode = _sw.before.get(type(self).__name__)",
            '        if mode == "raise":',
            '            raise RuntimeError("torture: on_before_reload of " + type(self).__name__)',
            '        if mode == "recurse":',
            "            self.on_before_reload(ctx)",
        ]
    if c.hooks or c.after_fault:
        lines += [
            "",
            "    def on_after_reload(self, ctx, report):",
            '        _sw.calls.append(("after", type(self).__name__, id(self), report.ok))',
        ]
        if c.after_fault == "raise":
            lines.append('        raise RuntimeError("torture: on_after_reload")')
        elif c.after_fault == "recurse":
            lines.append("        self.on_after_reload(ctx, report)")
    return lines


def sync(plugins_dir: Path, files: dict[str, str], plugin: str = PLUGIN) -> list[Path]:
    """Make ``plugins/<plugin>/`` hold exactly `files`; return every path that changed."""
    changed: list[Path] = []
    root = plugins_dir / plugin
    if root.exists():
        for p in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            rel = p.relative_to(plugins_dir).as_posix()
            if p.is_file() and rel not in files:
                p.unlink()
                changed.append(p)
            elif p.is_dir() and not any(k.startswith(rel + "/") for k in files):
                shutil.rmtree(p)
                changed.append(p)
    for rel, text in files.items():
        p = plugins_dir / rel
        if p.is_file() and p.read_text(encoding="utf-8") == text:
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        changed.append(p)
    return changed


# --- edits --------------------------------------------------------------------------------------


@dataclass
class Edit:
    """A new model and what to expect of reloading it."""

    model: Model
    what: str
    #: a fault that must make the reload fail ("" for a valid edit)
    fault: str = ""
    #: class name -> "raise"/"recurse" in the *running* code's on_before_reload (a warning)
    before: dict[str, str] = field(default_factory=dict)


def random_edit(rng: random.Random, old: Model, live: dict[str, int], fault_rate: float) -> Edit:
    """A random edit of a copy of `old`.

    `live` counts, per class name, the running objects that hear reload hooks.
    """
    m = copy.deepcopy(old)
    m.fault_syntax = m.fault_import = m.fault_missing = ""
    for c in m.classes.values():
        c.after_fault = ""
    if rng.random() < fault_rate:
        edit = _fault(rng, m, live)
        if edit is not None:
            return edit
    kinds = [
        (_behaviour, 5),
        (_add_field, 4),
        (_remove_field, 3),
        (_rename_field, 2),
        (_change_default, 4),
        (_change_type, 3),
        (_move_class, 2),
        (_delete_class, 2),
        (_readd_class, 3),
        (_new_class_edit, 1),
        (_rename_class, 1),
        (_delete_module, 1),
        (_readd_module, 1),
        (_new_subpackage, 1),
        (_toggle_hooks, 1),
        (_min_damage, 1),
        (_touch, 1),
    ]
    while True:
        fn = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        what = fn(rng, m)
        if what:
            return Edit(m, what)


def _pick_class(rng: random.Random, m: Model) -> ClassM | None:
    return rng.choice(list(m.classes.values())) if m.classes else None


def _behaviour(rng: random.Random, m: Model) -> str:
    c = _pick_class(rng, m)
    if c is None:
        return ""
    c.step = rng.choice([s for s in range(1, 10) if s != c.step])
    return f"behaviour: {c.name} steps by {c.step}"


def _add_field(rng: random.Random, m: Model) -> str:
    c = _pick_class(rng, m)
    if c is None:
        return ""
    f = _new_field(m, rng, c)
    c.fields.insert(rng.randint(1, len(c.fields)), f)
    return f"add field {c.name}.{f.name}: {f.type} = {literal(f.default)}"


def _other_fields(c: ClassM) -> list[FieldM]:
    return [f for f in c.fields if f.name != "ticks"]


def _remove_field(rng: random.Random, m: Model) -> str:
    c = _pick_class(rng, m)
    if c is None or not _other_fields(c):
        return ""
    f = rng.choice(_other_fields(c))
    c.fields.remove(f)
    return f"remove field {c.name}.{f.name}"


def _rename_field(rng: random.Random, m: Model) -> str:
    c = _pick_class(rng, m)
    if c is None or not _other_fields(c):
        return ""
    f = rng.choice(_other_fields(c))
    old = f.name
    f.name = m.fresh("f")
    return f"rename field {c.name}.{old} -> {f.name}"


def _change_default(rng: random.Random, m: Model) -> str:
    c = _pick_class(rng, m)
    if c is None or not _other_fields(c):
        return ""
    f = rng.choice(_other_fields(c))
    f.default = random_value(rng, f.type, m.min_damage)
    return f"default {c.name}.{f.name} = {literal(f.default)}"


def _change_type(rng: random.Random, m: Model) -> str:
    c = _pick_class(rng, m)
    if c is None or not _other_fields(c):
        return ""
    f = rng.choice(_other_fields(c))
    old = f.type
    f.type = rng.choice([t for t in TYPES if t != old])
    f.default = random_value(rng, f.type, m.min_damage)
    return f"type {c.name}.{f.name}: {old} -> {f.type} = {literal(f.default)}"


def _move_class(rng: random.Random, m: Model) -> str:
    c = _pick_class(rng, m)
    others = [x for x in m.modules if c is not None and x != c.module]
    if c is None or not others:
        return ""
    old = c.module
    c.module = rng.choice(others)
    return f"move class {c.name}: {old} -> {c.module}"


def _delete_class(rng: random.Random, m: Model) -> str:
    c = _pick_class(rng, m)
    if c is None:
        return ""
    del m.classes[c.name]
    m.graveyard[c.name] = c
    return f"delete class {c.name} ({c.type_id()})"


def _readd_class(rng: random.Random, m: Model) -> str:
    if not m.graveyard:
        return ""
    name = rng.choice(sorted(m.graveyard))
    c = m.graveyard.pop(name)
    if c.explicit_id and c.explicit_id in m.by_type_id():
        return ""
    if c.module not in m.modules:
        _restore_module(m, c.module)
    for f in c.fields:  # the code must import: its Hit defaults follow the current rule
        if f.type == "Hit" and f.default.damage < m.min_damage:
            f.default = HitV(m.min_damage)
    tweak = ""
    if rng.random() < 0.5 and _other_fields(c):
        f = rng.choice(_other_fields(c))
        f.type = rng.choice(TYPES)
        f.default = random_value(rng, f.type, m.min_damage)
        tweak = f", now with {f.name}: {f.type}"
    m.classes[name] = c
    return f"re-add class {name} in {c.module}{tweak}"


def _restore_module(m: Model, module: str) -> None:
    pkg = module.rpartition(".")[0]
    if pkg and pkg not in m.subpackages:
        m.subpackages.append(pkg)
    m.modules.append(module)
    m.imports[module] = []


def _new_class_edit(rng: random.Random, m: Model) -> str:
    c = _new_class(m, rng)
    return f"new class {c.name} in {c.module}"


def _rename_class(rng: random.Random, m: Model) -> str:
    c = _pick_class(rng, m)
    if c is None:
        return ""
    old = c.name
    del m.classes[old]
    if not c.explicit_id:
        m.graveyard[old] = copy.deepcopy(c)  # renaming back would bring its scripts back
    c.name = m.fresh("C")
    m.classes[c.name] = c
    return f"rename class {old} -> {c.name} (type id {c.type_id()})"


def _delete_module(rng: random.Random, m: Model) -> str:
    if len(m.modules) < 2:
        return ""
    mod = rng.choice(m.modules)
    m.modules.remove(mod)
    m.imports.pop(mod, None)
    for deps in m.imports.values():
        if mod in deps:
            deps.remove(mod)
    gone = [c for c in m.classes.values() if c.module == mod]
    for c in gone:
        del m.classes[c.name]
        m.graveyard[c.name] = c
    return f"delete module {mod} with {[c.name for c in gone]}"


def _readd_module(rng: random.Random, m: Model) -> str:
    lost = sorted({c.module for c in m.graveyard.values()} - set(m.modules))
    if not lost:
        return ""
    mod = rng.choice(lost)
    _restore_module(m, mod)
    back = [n for n, c in sorted(m.graveyard.items()) if c.module == mod]
    for n in back:
        c = m.graveyard.pop(n)
        if c.explicit_id and c.explicit_id in m.by_type_id():
            continue
        for f in c.fields:
            if f.type == "Hit" and f.default.damage < m.min_damage:
                f.default = HitV(m.min_damage)
        m.classes[n] = c
    return f"re-add module {mod} with {back}"


def _new_subpackage(rng: random.Random, m: Model) -> str:
    pkg = m.fresh("pkg")
    parent = rng.choice(["", *m.subpackages])
    pkg = f"{parent}.{pkg}" if parent else pkg
    m.subpackages.append(pkg)
    mod = _add_module(m, rng, package=pkg)
    c = _pick_class(rng, m)
    if c is not None and rng.random() < 0.7:
        c.module = mod
        return f"new subpackage {pkg}, class {c.name} moved into {mod}"
    return f"new subpackage {pkg} with module {mod}"


def _toggle_hooks(rng: random.Random, m: Model) -> str:
    c = _pick_class(rng, m)
    if c is None:
        return ""
    c.hooks = not c.hooks
    return f"{c.name} {'gets' if c.hooks else 'loses'} reload hooks"


def _min_damage(rng: random.Random, m: Model) -> str:
    m.min_damage = rng.choice([0, 0, 1, 2, 3])
    for c in m.classes.values():
        for f in c.fields:
            if f.type == "Hit" and f.default.damage < m.min_damage:
                f.default = HitV(m.min_damage + rng.randint(0, 2))
    return f"Hit.__post_init__ refuses damage below {m.min_damage}"


def _touch(rng: random.Random, m: Model) -> str:
    return "save without a change"


# --- faults ---------------------------------------------------------------------------------------


def _fault(rng: random.Random, m: Model, live: dict[str, int]) -> Edit | None:
    kind = rng.choice(
        ["syntax", "import", "before", "after", "missing", "duplicate-id", "rejected-value"]
    )
    if kind == "syntax":
        m.fault_syntax = rng.choice(m.modules)
        return Edit(m, f"syntax error in {m.fault_syntax}", "syntax")
    if kind == "import":
        m.fault_import = rng.choice(m.modules)
        return Edit(m, f"exception at import of {m.fault_import}", "import")
    hooked = sorted(n for n, k in live.items() if k and n in m.classes and m.classes[n].hooks)
    if kind == "before" and hooked:
        name = rng.choice(hooked)
        mode = rng.choice(["raise", "recurse"])
        # Not a fault: the running code's hook raising is a warning, and the valid
        # change riding along must load (else the save removing the hook never could).
        _behaviour(rng, m)
        return Edit(m, f"on_before_reload of {name}: {mode}", before={name: mode})
    alive = sorted(n for n, k in live.items() if k and n in m.classes)
    if kind == "after" and alive:
        name = rng.choice(alive)
        m.classes[name].after_fault = rng.choice(["raise", "recurse"])
        _add_field(rng, m)
        return Edit(m, f"on_after_reload of {name}: {m.classes[name].after_fault}", "after")
    if kind == "missing":
        imported = [x for x in m.modules if m.importers(x)]
        if imported:
            m.fault_missing = rng.choice(imported)
            return Edit(m, f"module {m.fault_missing} deleted mid-save", "missing")
    if kind == "duplicate-id" and m.classes:
        c = rng.choice(list(m.classes.values()))
        twin = _new_class(m, rng)
        twin.explicit_id = c.type_id()
        return Edit(m, f"new class {twin.name} takes the type id of {c.name}", "duplicate-id")
    if kind == "rejected-value":
        # Fails when a live value (or an old default) is below the new minimum; the
        # runner decides from the state (`expect_rejected`), so it is not a fixed fault.
        m.min_damage = rng.choice([2, 3, 4, 5])
        for c in m.classes.values():
            for f in c.fields:
                if f.type == "Hit" and f.default.damage < m.min_damage:
                    f.default = HitV(m.min_damage)
        return Edit(m, f"Hit refuses damage below {m.min_damage}")
    return None


# --- hostile saves (tests/editor/test_hostile_torture.py) -----------------------------------------

#: Whether the reload that meets a hostile save loads it ("ok") or is refused.
HOSTILE = {
    "loop at import": "refused",
    "exit at import": "refused",
    "segfault at import": "refused",
    "syntax error": "refused",
    "raise at import": "refused",
    # The plugin object hears reload hooks only while the game plays.
    "loop in on_after_reload": "refused while playing",
    "loop in on_update": "ok",
    "exit in on_update": "ok",
    "runaway spawner": "ok",
    "monkeypatch": "ok",
    "non-daemon thread": "ok",
}

#: Hostile saves whose code, once loaded, makes scripts stop or change how they advance.
HOSTILE_UPDATES = ("loop in on_update", "exit in on_update", "runaway spawner")

_EXITS = ("os._exit(1)", "sys.exit(3)", "raise KeyboardInterrupt")

_PATCH = """\
import runtime.reload
from runtime.game import Game as _Game


def _hijacked(*args, **kwargs):
    raise RuntimeError("torture: the reload machinery was monkeypatched")


runtime.reload.reload_plugins = _hijacked
_Game._frame = lambda self: None
"""


@dataclass
class HostileSave:
    """The files of a hostile save of `Model` (the last good one) and what it must do."""

    kind: str
    files: dict[str, str]
    #: "ok" (the reload loads the hostile code) or "refused" (rolled back or rejected)
    outcome: str
    #: the file (relative to ``plugins/``) a refusal must name, when it names one
    culprit: str = ""


def hostile_save(rng: random.Random, m: Model, kind: str, *, playing: bool) -> HostileSave:
    """A hostile or careless save of `kind` (a key of `HOSTILE`) of the plugin `m` renders.

    `m` is the last good source; `playing` says whether the game runs when it is saved.
    """
    outcome = HOSTILE[kind]
    if outcome == "refused while playing":
        outcome = "refused" if playing else "ok"
    if kind in ("syntax error", "raise at import"):
        bad = copy.deepcopy(m)
        module = rng.choice(bad.modules)
        if kind == "syntax error":
            bad.fault_syntax = module
        else:
            bad.fault_import = module
        return HostileSave(kind, render(bad).files, outcome, bad.module_file(module))
    files = render(m).files
    init = f"{PLUGIN}/__init__.py"
    if kind in ("loop in on_update", "runaway spawner"):
        c = rng.choice(list(m.classes.values()))
        body = (
            "while True:\n            pass"
            if kind == "loop in on_update"
            else 'for _ in range(200):\n            ctx.spawn("Spawned")'
        )
        file = m.module_file(c.module)
        start = files[file].index(f"class {c.name}(Script):")
        line = f"        self.ticks += {c.step}"
        at = files[file].index(line, start)
        files[file] = files[file][:at] + f"        {body}" + files[file][at + len(line) :]
        return HostileSave(kind, files, outcome, file)
    if kind == "exit in on_update":
        how = rng.choice(("import sys; sys.exit()", "raise KeyboardInterrupt"))
        files[init] = files[init].replace("self.frames += 1", f"self.frames += 1\n        {how}")
        return HostileSave(kind, files, outcome, init)
    if kind == "loop in on_after_reload":
        files[init] += "\n    def on_after_reload(self, ctx, report):\n        while True:\n"
        files[init] += "            pass\n"
        return HostileSave(kind, files, outcome, init)
    file = m.module_file(rng.choice(m.modules))
    tail = {
        "loop at import": "while True:\n    pass\n",
        "exit at import": f"import os, sys\n{rng.choice(_EXITS)}\n",
        "segfault at import": "import ctypes\nctypes.string_at(0)\n",
        "monkeypatch": _PATCH,
        "non-daemon thread": (
            "import threading, time\n"
            'threading.Thread(target=time.sleep, args=(3600,), name="torture-forever").start()\n'
        ),
    }[kind]
    files[file] += "\n" + tail
    return HostileSave(kind, files, outcome, file)


def class_summary(m: Model) -> dict[str, dict[str, Any]]:
    """Per type id: the field names and the step of `m`'s classes (what a live script shows)."""
    return {
        c.type_id(): {"fields": sorted(f.name for f in c.fields), "step": c.step}
        for c in m.classes.values()
    }
