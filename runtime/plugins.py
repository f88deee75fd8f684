"""Plugin discovery, import under a runtime-owned namespace, and the type registry.

Each package directly under a project's ``plugins/`` is a plugin. Plugins are
imported as submodules of a synthetic package (``hotplay_plugins_<n>``) that
this module creates and owns, never by putting ``plugins/`` on ``sys.path``:
that way every module of a plugin can be found by name, set aside and replaced
as a group, two projects open in one process cannot collide, and a sibling
plugin is reachable with a relative import (``from ..common import util``).

A plugin's modules are compiled from source by `SourceCompiler`, never read
from ``__pycache__``: CPython validates a ``.pyc`` by the source's mtime in
whole seconds and its size, so two saves within a second that keep the size
(``speed = 120`` -> ``speed = 150``) would load stale bytecode.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.machinery
import importlib.util
import logging
import os
import sys
import traceback
import types
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

from runtime.bytecode import load_bytecode
from runtime.fields import declared_fields
from runtime.scripting import (
    NAMESPACE_PREFIX,
    PlaceholderScript,
    Plugin,
    Script,
    module_path,
    type_id_of,
)

log = logging.getLogger("hotplay.plugins")

_namespace_ids = count(1)


#: What game code may raise that the engine treats as an error of that code: besides
#: exceptions, the ones that would otherwise end the process (design: "game code is
#: untrusted"; game code quits through ``ctx.quit()``).
GAME_CODE_ERRORS = (Exception, KeyboardInterrupt, SystemExit, GeneratorExit)


class PluginError(Exception):
    """A plugin cannot be loaded; `str()` names the plugin and the problem.

    Attributes:
        plugin_location: ``file:line`` of the code at fault, when there is one
            (see `describe_error`).
    """

    def __init__(self, message: str, plugin_location: str = "") -> None:
        super().__init__(message)
        self.plugin_location = plugin_location


def class_location(cls: type, module: types.ModuleType | None = None) -> str:
    """``file:line`` of a class's ``class`` statement, or ``""`` when it cannot be found.

    Args:
        cls: the class.
        module: its module, when it is not in ``sys.modules`` (a generation set aside).
    """
    mod = module if module is not None else sys.modules.get(cls.__module__)
    file = getattr(mod, "__file__", None)
    if not file:
        return ""
    try:
        with open(file, "rb") as f:
            tree = ast.parse(f.read(), filename=file)
    except (OSError, SyntaxError, ValueError):
        return ""
    lines = [
        n.lineno for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls.__name__
    ]
    return f"{file}:{min(lines)}" if lines else ""


@dataclass
class CompiledSource:
    """A compiled module source, with the plugins it imports (found in its AST)."""

    digest: bytes
    code: types.CodeType
    imports: frozenset[str]


class SourceCompiler:
    """Compiles plugin sources, caching by content so each version compiles once.

    The build step of a reload compiles every changed file here; the imports
    that follow reuse those code objects.
    """

    def __init__(
        self,
        namespace: str,
        optimize: int = -1,
        *,
        bytecode_dir: Path | None = None,
        source_root: Path | None = None,
    ) -> None:
        self.namespace = namespace
        self.optimize = optimize
        # Release: code comes from the Build step's bytecode (runtime.build), not the sources.
        self.bytecode_dir = bytecode_dir
        self.source_root = source_root
        self._cache: dict[str, CompiledSource] = {}

    def compile(self, path: str | Path, module_name: str | None = None) -> CompiledSource:
        """Compile one source file (or return the cached result for the same bytes).

        Raises:
            SyntaxError: with ``filename``, ``lineno`` and ``offset`` set.
            OSError: the file cannot be read.
        """
        p = str(path)
        if self.bytecode_dir is not None and self.source_root is not None:
            code = load_bytecode(self.bytecode_dir, self.source_root, p)
            return CompiledSource(b"", code, frozenset())
        with open(p, "rb") as f:
            source = f.read()
        digest = hashlib.blake2b(source, digest_size=16).digest()
        cached = self._cache.get(p)
        if cached is not None and cached.digest == digest:
            return cached
        if b"\0" in source:
            # The parser refuses NUL bytes with no file or line; say where the first one is.
            line = source.count(b"\n", 0, source.index(b"\0")) + 1
            raise SyntaxError("source code cannot contain NUL bytes", (p, line, 1, None))
        tree = ast.parse(source, filename=p)
        is_package = p.endswith("__init__.py")
        imports = frozenset(_imported_plugins(tree, module_name, self.namespace, is_package))
        code = compile(tree, p, "exec", dont_inherit=True, optimize=self.optimize)
        compiled = CompiledSource(digest, code, imports)
        self._cache[p] = compiled
        return compiled


def _imported_plugins(
    tree: ast.Module, module_name: str | None, namespace: str, is_package: bool
) -> set[str]:
    """The other plugins a module imports, from its import statements (relative included)."""
    if module_name is None:
        return set()
    parts = module_name.split(".")
    out: set[str] = set()
    # Relative imports count from the module's package: itself for a package's __init__.
    package = parts if is_package else parts[:-1]
    for node in ast.walk(tree):
        targets: list[list[str]] = []
        if isinstance(node, ast.Import):
            targets = [a.name.split(".") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = (node.module or "").split(".")
            else:
                pkg = package[: len(package) - (node.level - 1)]
                base = pkg + (node.module.split(".") if node.module else [])
            targets = [base]
            if not node.module:
                targets = [[*base, a.name] for a in node.names]
        for t in targets:
            if len(t) >= 2 and t[0] == namespace:
                out.add(t[1])
    own = parts[1] if len(parts) > 1 else ""
    out.discard(own)
    return out


class _PluginLoader(importlib.machinery.SourceFileLoader):
    """Loads a plugin module from source through the shared `SourceCompiler`."""

    def __init__(self, fullname: str, path: str, compiler: SourceCompiler) -> None:
        super().__init__(fullname, path)
        self._compiler = compiler

    def get_code(self, fullname: str) -> types.CodeType:
        return self._compiler.compile(self.path, fullname).code


class _PluginFinder:
    """A meta-path finder for the modules of one plugin namespace."""

    def __init__(self, namespace: str, plugins_dir: Path, compiler: SourceCompiler) -> None:
        self.prefix = namespace + "."
        self.plugins_dir = plugins_dir
        self.compiler = compiler

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(self.prefix):
            return None
        base = self.plugins_dir.joinpath(*fullname[len(self.prefix) :].split("."))
        init = base / "__init__.py"
        if init.is_file():
            return importlib.util.spec_from_file_location(
                fullname,
                init,
                loader=_PluginLoader(fullname, str(init), self.compiler),
                submodule_search_locations=[str(base)],
            )
        mod = base.with_suffix(".py")
        if mod.is_file():
            return importlib.util.spec_from_file_location(
                fullname, mod, loader=_PluginLoader(fullname, str(mod), self.compiler)
            )
        return None


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One ``.py`` file of a plugin package.

    Attributes:
        path: the file.
        module: its module name when loading the plugin imports it, else ``None``
            (a ``_private`` module or a file in a folder that is not a package:
            reachable by an explicit import only, but still part of a build).
    """

    path: Path
    module: str | None


def plugin_sources(folder: Path, module: str | None) -> Iterator[SourceFile]:
    """Every ``.py`` file under a plugin package folder: the one walk over plugin sources.

    In each folder: ``__init__.py``, then the other files by name, then the
    subfolders by name (``.hidden`` and ``__pycache__`` skipped). A folder that
    cannot be read is skipped, as the build has always done.

    Args:
        folder: a plugin package (``plugins/<name>``) or a folder inside one.
        module: the module name of `folder` as a package, or ``None`` when
            loading does not import it.
    """
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return
    init = folder / "__init__.py"
    if init.is_file():
        yield SourceFile(init, module)
    folders = []
    for f in entries:
        if f.is_dir():
            if not f.name.startswith(".") and f.name != "__pycache__":
                folders.append(f)
        elif f.name.endswith(".py") and f.name != "__init__.py":
            imported = (
                module is not None and not f.name.startswith(("_", ".")) and (f.stem.isidentifier())
            )
            yield SourceFile(f, f"{module}.{f.stem}" if imported else None)
    for d in folders:
        package = (
            module is not None
            and not d.name.startswith("_")
            and d.name.isidentifier()
            and (d / "__init__.py").is_file()
        )
        yield from plugin_sources(d, f"{module}.{d.name}" if package else None)


@dataclass
class LoadedPlugin:
    """One generation of a plugin: its modules and the classes found in them."""

    name: str
    modules: dict[str, types.ModuleType]
    scripts: dict[str, type[Script]]
    plugin_class: type[Plugin]
    imports: frozenset[str] = frozenset()
    classes_by_qualname: dict[str, list[type]] = field(default_factory=dict)

    def describe(self) -> str:
        """``bouncy (3 modules, 2 scripts)``."""
        return f"{self.name} ({len(self.modules)} modules, {len(self.scripts)} scripts)"


class TypeRegistry:
    """Maps type ids to the script classes of the loaded plugins.

    The editor lists script types from it; loading and reload find classes in it.
    """

    def __init__(self) -> None:
        self._by_id: dict[str, type[Script]] = {}
        self._owner: dict[str, str] = {}

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._by_id

    def __len__(self) -> int:
        return len(self._by_id)

    def resolve(self, type_id: str) -> type[Script] | None:
        """The class registered under `type_id`, or ``None``."""
        return self._by_id.get(type_id)

    def owner(self, type_id: str) -> str | None:
        """The plugin that defines `type_id`."""
        return self._owner.get(type_id)

    def script_types(self) -> list[tuple[str, type[Script]]]:
        """Every registered script type, sorted by type id."""
        return sorted(self._by_id.items())

    def plugin_types(self, plugin: str) -> dict[str, type[Script]]:
        """The script types a plugin defines."""
        return {t: c for t, c in self._by_id.items() if self._owner[t] == plugin}

    def check_conflicts(self, plugin: LoadedPlugin, replacing: Iterable[str] = ()) -> None:
        """Refuse a plugin whose type ids another plugin already registered.

        Args:
            plugin: a generation about to be installed.
            replacing: plugins installed together with it (their old types go).

        Raises:
            PluginError: naming every clashing type id and its owner.
        """
        mine = {plugin.name, *replacing}
        taken = [t for t in plugin.scripts if t in self._owner and self._owner[t] not in mine]
        if taken:
            cls = plugin.scripts[taken[0]]
            clashes = ", ".join(f"{t} (also defined by plugin {self._owner[t]!r})" for t in taken)
            raise PluginError(
                f"plugin {plugin.name!r}: type id {clashes}",
                class_location(cls, plugin.modules.get(cls.__module__)),
            )

    def replace(self, plugins: Iterable[LoadedPlugin]) -> None:
        """Swap in the types of new generations of these plugins."""
        for p in plugins:
            for t in [t for t, o in self._owner.items() if o == p.name]:
                del self._by_id[t], self._owner[t]
        for p in plugins:
            for t, c in p.scripts.items():
                self._by_id[t] = c
                self._owner[t] = p.name

    def remove(self, plugin: str) -> None:
        """Forget a plugin's types."""
        for t in [t for t, o in self._owner.items() if o == plugin]:
            del self._by_id[t], self._owner[t]


class PluginHost:
    """Discovers, imports and re-imports the plugins of one project.

    Use as the single owner of the project's plugin modules: `load_all` at start,
    `import_aside` + `install` for a reload, `close` at the end (removes the
    namespace from ``sys.modules`` and the finder from ``sys.meta_path``).

    With `bytecode_dir` (the output of a Release build, see `runtime.build`) the
    code of every module is read from the build's bytecode instead of compiled
    from its source; modules are still discovered from ``plugins/``.
    """

    def __init__(
        self,
        plugins_dir: str | Path,
        *,
        optimize: int = -1,
        bytecode_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.plugins_dir = Path(plugins_dir).resolve()
        self.namespace = f"{NAMESPACE_PREFIX}_{next(_namespace_ids)}"
        self.compiler = SourceCompiler(
            self.namespace,
            optimize,
            bytecode_dir=None if bytecode_dir is None else Path(bytecode_dir).resolve(),
            source_root=self.plugins_dir,
        )
        self.plugins: dict[str, LoadedPlugin] = {}
        self.errors: dict[str, str] = {}
        self.registry = TypeRegistry()
        root = types.ModuleType(self.namespace, "Plugins of a Hotplay project.")
        root.__path__ = [str(self.plugins_dir)]
        root.__spec__ = importlib.machinery.ModuleSpec(self.namespace, None, is_package=True)
        root.__spec__.submodule_search_locations = root.__path__
        self._root = root
        self._finder = _PluginFinder(self.namespace, self.plugins_dir, self.compiler)
        sys.modules[self.namespace] = root
        sys.meta_path.insert(0, self._finder)

    # --- names and files ------------------------------------------------------------

    def module_name(self, plugin: str) -> str:
        """The full module name of a plugin package."""
        return f"{self.namespace}.{plugin}"

    def discover(self, *, warn: bool = True) -> list[str]:
        """The plugin package names on disk, sorted.

        Args:
            warn: log folders that are skipped (not a package, not an identifier).
        """
        names: list[str] = []
        if not self.plugins_dir.is_dir():
            return names
        for d in sorted(self.plugins_dir.iterdir()):
            if not d.is_dir() or d.name.startswith((".", "_")):
                continue
            if not (d / "__init__.py").is_file():
                if warn:
                    log.warning(
                        "plugins/%s is not a package (it has no __init__.py); skipped", d.name
                    )
                continue
            if not d.name.isidentifier():
                if warn:
                    log.warning(
                        "plugins/%s: a plugin name must be a Python identifier; skipped", d.name
                    )
                continue
            names.append(d.name)
        return names

    def source_files(self, plugin: str) -> Iterator[tuple[str, Path]]:
        """(module name, path) of every module of a plugin that loading imports.

        These are the modules `plugin_sources` names; ``_private`` modules and
        files in folders that are not packages are left to explicit imports.
        """
        for source in plugin_sources(self.plugins_dir / plugin, self.module_name(plugin)):
            if source.module is not None:
                yield source.module, source.path

    def plugin_of_path(self, path: str | Path) -> str | None:
        """The plugin a file belongs to, or ``None`` when it is outside ``plugins/<name>/``."""
        rel = self.relative_path(path)
        return rel.parts[0] if rel is not None and len(rel.parts) > 1 else None

    def relative_path(self, path: str | Path) -> Path | None:
        """`path` relative to ``plugins/``, or ``None`` when it is outside.

        Symbolic links are not resolved first: a linked plugin folder or file
        (``plugins/x`` pointing elsewhere) is part of ``plugins/`` by its link's
        path. A path given by its real place, inside the target of a linked
        plugin folder, is found too.
        """
        for candidate in (Path(os.path.abspath(path)), Path(path).resolve()):
            try:
                return candidate.relative_to(self.plugins_dir)
            except ValueError:
                pass
        real = Path(path).resolve()
        for name in self.discover(warn=False):
            try:
                return name / real.relative_to((self.plugins_dir / name).resolve())
            except ValueError:
                continue
        return None

    def dependents(self, names: Iterable[str]) -> set[str]:
        """`names` plus every loaded plugin that imports one of them, transitively."""
        out = set(names)
        changed = True
        while changed:
            changed = False
            for p in self.plugins.values():
                if p.name not in out and p.imports & out:
                    out.add(p.name)
                    changed = True
        return out

    # --- loading ---------------------------------------------------------------------

    def load_all(self, *, refused: Mapping[str, str] | None = None) -> dict[str, str]:
        """Import every plugin on disk; return the errors of those that failed, by plugin.

        A plugin that fails (syntax error, exception at import, clashing type
        ids) is left out with its error logged; the others load normally.

        Args:
            refused: plugins not to import at all, with the reason (the import
                check's refusals: `runtime.import_check`); they count as failed.
        """
        refused = refused or {}
        for name in self.discover():
            if name in refused:
                self.errors[name] = refused[name]
                log.error("plugin %s was not loaded: %s", name, refused[name])
                continue
            try:
                loaded = self.import_aside([name])[name]
                self.registry.check_conflicts(loaded)
            except GAME_CODE_ERRORS as exc:
                msg = describe_error(exc)
                self.errors[name] = msg
                log.error("plugin %s failed to load: %s", name, msg)
                continue
            self.install([loaded])
        return dict(self.errors)

    def import_aside(self, names: Iterable[str]) -> dict[str, LoadedPlugin]:
        """Import a fresh generation of the named plugins without installing it.

        ``sys.modules`` is exactly as before when this returns or raises; the
        running generation is not touched. Install the result with `install`.

        Raises:
            PluginError: a plugin has clashing type ids or several Plugin classes.
            Exception: whatever importing the plugin's code raised.
        """
        names = sorted(set(names))
        prefixes = tuple(self.module_name(n) for n in names)
        running = self._take_modules(prefixes)
        saved_attrs = {n: self._root.__dict__.get(n) for n in names}
        try:
            for n in names:
                self._root.__dict__.pop(n, None)
            importlib.invalidate_caches()
            for n in names:
                if not (self.plugins_dir / n / "__init__.py").is_file():
                    raise PluginError(f"plugin {n!r}: plugins/{n}/__init__.py no longer exists")
                for mod_name, _path in self.source_files(n):
                    importlib.import_module(mod_name)
            # Collect while the fresh modules are in sys.modules: field annotations
            # must resolve against the new generation, not the running one.
            fresh = {k: m for k, m in sys.modules.items() if k.startswith(prefixes)}
            loaded = {n: self._collect(n, fresh) for n in names}
        finally:
            self._take_modules(prefixes)  # drop whatever a failed import left behind
            sys.modules.update(running)
            for n, attr in saved_attrs.items():
                if attr is None:
                    self._root.__dict__.pop(n, None)
                else:
                    self._root.__dict__[n] = attr
        return loaded

    def install(self, generation: Iterable[LoadedPlugin]) -> None:
        """Make a generation from `import_aside` the running one, in one step."""
        gen = list(generation)
        prefixes = tuple(self.module_name(p.name) for p in gen)
        self._take_modules(prefixes)
        for p in gen:
            sys.modules.update(p.modules)
            self._root.__dict__[p.name] = p.modules[self.module_name(p.name)]
            self.plugins[p.name] = p
            self.errors.pop(p.name, None)
        self.registry.replace(gen)

    def unload(self, name: str) -> None:
        """Forget a plugin (its package was deleted)."""
        self._take_modules((self.module_name(name),))
        self._root.__dict__.pop(name, None)
        self.plugins.pop(name, None)
        self.registry.remove(name)

    def close(self) -> None:
        """Remove this project's modules and finder from the interpreter."""
        self._take_modules((self.namespace,))
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        self.plugins.clear()

    def _take_modules(self, prefixes: tuple[str, ...]) -> dict[str, types.ModuleType]:
        """Remove and return the modules named by or under `prefixes` from ``sys.modules``."""
        dotted = tuple(p + "." for p in prefixes)
        taken = {}
        for name in [k for k in sys.modules if k in prefixes or k.startswith(dotted)]:
            taken[name] = sys.modules.pop(name)
        return taken

    def _collect(self, name: str, modules: dict[str, types.ModuleType]) -> LoadedPlugin:
        prefix = self.module_name(name)
        own = {k: m for k, m in modules.items() if k == prefix or k.startswith(prefix + ".")}
        scripts: dict[str, type[Script]] = {}
        plugin_classes: list[type[Plugin]] = []
        by_qualname: dict[str, list[type]] = {}
        imports: set[str] = set()
        for mod_name, mod in own.items():
            file = getattr(mod, "__file__", None)
            if file:
                imports |= self.compiler.compile(file, mod_name).imports
            for obj in list(vars(mod).values()):
                if not isinstance(obj, type) or obj.__module__ != mod_name:
                    continue
                by_qualname.setdefault(obj.__qualname__, []).append(obj)
                if issubclass(obj, (Script, Plugin)):
                    declared_fields(obj)  # resolve annotations now; a bad one fails the load
                if issubclass(obj, Script) and obj is not PlaceholderScript:
                    tid = type_id_of(obj)
                    if tid in scripts and scripts[tid] is not obj:
                        raise PluginError(
                            f"plugin {name!r}: type id {tid!r} is used by both "
                            f"{module_path(scripts[tid].__module__)}.{scripts[tid].__qualname__} "
                            f"and {module_path(mod_name)}.{obj.__qualname__}",
                            class_location(obj, mod),
                        )
                    scripts[tid] = obj
                elif issubclass(obj, Plugin):
                    plugin_classes.append(obj)
        if len(plugin_classes) > 1:
            found = ", ".join(c.__qualname__ for c in plugin_classes)
            raise PluginError(
                f"plugin {name!r} defines several Plugin classes: {found}",
                class_location(plugin_classes[1], own.get(plugin_classes[1].__module__)),
            )
        imports.discard(name)
        return LoadedPlugin(
            name=name,
            modules=own,
            scripts=scripts,
            plugin_class=plugin_classes[0] if plugin_classes else Plugin,
            imports=frozenset(imports),
            classes_by_qualname=by_qualname,
        )


def describe_error(exc: BaseException) -> str:
    """One line naming the file and line of an error in plugin code, and the error.

    ``plugins/bouncy/ball.py:12:9: SyntaxError: invalid syntax``, or for an
    exception the innermost frame that is in plugin code: in `exc`'s own
    traceback or, for an engine error raised because of one (a stored value the
    new code rejects), in that of its cause. An error about a place in the code
    that no frame shows (an annotation that cannot be resolved) carries it as
    ``plugin_location``.
    """
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}:{exc.lineno}:{exc.offset}" if exc.filename else "<unknown>"
        return f"{where}: {type(exc).__name__}: {exc.msg}"
    where = getattr(exc, "plugin_location", "")
    cause: BaseException | None = exc
    while not where and cause is not None:
        frame = _innermost_plugin_frame(cause.__traceback__)
        if frame is not None:
            where = f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}"
        cause = cause.__cause__
    text = f"{type(exc).__name__}: {exc}"
    return f"{where}: {text}" if where else text


def _in_plugin(tb: types.TracebackType) -> bool:
    # Plugin code is whatever runs in a module of a plugin namespace (by name,
    # not by path: a path containing "plugins" may be anything).
    module = tb.tb_frame.f_globals.get("__name__", "")
    return isinstance(module, str) and module.startswith(NAMESPACE_PREFIX)


def _innermost_plugin_frame(tb: types.TracebackType | None) -> types.TracebackType | None:
    found = None
    while tb is not None:
        if _in_plugin(tb):
            found = tb
        tb = tb.tb_next
    return found


def plugin_traceback(exc: BaseException) -> str:
    """The traceback of `exc`, starting at the first frame of plugin code when there is one.

    The engine and importlib frames above it (a dozen for an error at import)
    say nothing to a game author. When only the cause of `exc` ran plugin code
    (an engine error raised because of it), the cause's traceback from its
    first plugin frame is shown, then the engine's error. An error carrying a
    ``plugin_location`` (see `describe_error`) is shown with that place.
    """
    location = getattr(exc, "plugin_location", "")
    if location:
        return "".join(traceback.format_exception_only(type(exc), exc)) + f"  at {location}\n"
    tb = _first_plugin_frame(exc.__traceback__)
    if tb is not None:
        return "".join(traceback.format_exception(type(exc), exc, tb))
    cause = exc.__cause__
    while cause is not None:
        tb = _first_plugin_frame(cause.__traceback__)
        if tb is not None:
            head = "".join(traceback.format_exception(type(cause), cause, tb))
            return head + "".join(traceback.format_exception_only(type(exc), exc))
        cause = cause.__cause__
    return "".join(traceback.format_exception(exc))


def _first_plugin_frame(tb: types.TracebackType | None) -> types.TracebackType | None:
    while tb is not None and not _in_plugin(tb):
        tb = tb.tb_next
    return tb
