"""The hot reload transaction (design.md, "The reload transaction").

`reload_plugins` runs between frames on the game thread:

1. *Scope*: the plugins owning the changed paths, plus every plugin that imports one.
2. *Build*: compile every source of those plugins; a syntax error stops here.
3. *Snapshot*: ``on_before_reload``, then every object of those plugins (plugin
   object, scripts on every live scene, placeholders) and every engine-owned
   callback goes into one msgpack blob.
4. *Load*: a fresh generation of the plugins' modules is imported aside.
5. *Restore*: new objects are built from the new classes (found by type id),
   filled from the blob by the migration rules; ``on_after_reload`` runs.
6. *Commit*: modules, registry, objects and callbacks are swapped in one step.

Any failure in 3-5 discards the new side: the old modules and the very same old
objects run on, and the report says why. Nothing here ever scans the heap;
old generations are tracked with weak references (`GenerationTracker`).
"""

from __future__ import annotations

import functools
import gc
import heapq
import inspect
import itertools
import logging
import time
import types
import weakref
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.callbacks import Emitted, Message, Subscription, Timer
from runtime.fields import (
    PlainDataError,
    conforms,
    declared_fields,
    from_plain,
    to_plain,
    type_name,
)
from runtime.plugins import LoadedPlugin, describe_error, plugin_traceback
from runtime.reports import MigrationNote, ReloadReport
from runtime.scripting import (
    NAMESPACE_PREFIX,
    PlaceholderScript,
    Plugin,
    Script,
    module_path,
    plugin_name_of,
    type_id_of,
)
from runtime.snapshot import (
    Unencodable,
    Unresolved,
    default_resolver,
    lookup_qualname,
    packb,
    unpackb,
)
from runtime.values import Handle, Vec2

if TYPE_CHECKING:
    from runtime.game import Game, RunningScene
    from runtime.scene import Entity, Scene

log = logging.getLogger("hotplay.reload")

STEPS = ("detect", "build", "snapshot", "load", "restore", "commit")


class ReloadFailed(Exception):
    """Internal: abort the transaction with a message (and maybe a cause)."""


_UNENCODABLE_MARK = "\x00hotplay:unencodable"


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


# --- the snapshot -------------------------------------------------------------------------


@dataclass(slots=True)
class _Target:
    """One old object being reloaded and where it lives."""

    obj: Any
    scene: Scene | None = None
    running: RunningScene | None = None
    entity: Entity | None = None
    index: int = -1
    plugin: str = ""


# How a column of field values is stored in a snapshot.
_PLAIN, _VEC2, _HANDLE = 0, 1, 2
_new_vec2 = functools.partial(tuple.__new__, Vec2)


@dataclass(slots=True)
class _Group:
    """The objects of one class in a snapshot, turned into columns."""

    layout: int
    names: list[str]
    annotations: list[str]
    not_extra: frozenset[str]
    index: list[int] = field(default_factory=list)
    objects: list[Any] = field(default_factory=list)

    def columns(self) -> list[Any]:
        """``[layout, target indices, column kinds, columns, extras, states, entities]``."""
        objs = self.objects
        dicts = [o.__dict__ for o in objs]
        kinds: list[int] = []
        cols: list[list[Any]] = []
        for name, ann in zip(self.names, self.annotations, strict=True):
            try:
                col = [d[name] for d in dicts]
            except KeyError:  # a slot, or a field an object lost
                col = [_get(o, d, name) for o, d in zip(objs, dicts, strict=True)]
            if ann == "Vec2" and all(type(v) is Vec2 for v in col):
                kinds.append(_VEC2)
                cols.append(list(itertools.chain.from_iterable(col)))
            elif ann == "Handle" and all(type(v) is Handle for v in col):
                kinds.append(_HANDLE)
                cols.append(list(map(int, col)))
            else:
                kinds.append(_PLAIN)
                cols.append(col)
        not_extra = self.not_extra
        extras = [
            {k: d[k] for k in keys} if (keys := d.keys() - not_extra) else None for d in dicts
        ]
        states = [d.get("_hp_state", 0) for d in dicts]
        # Entity handles as plain ints: a Handle would go through a Python ext hook.
        entities = [int(d.get("_hp_entity", 0)) for d in dicts]
        return [self.layout, self.index, kinds, cols, extras, states, entities]


def _decode_column(kind: int, col: list[Any]) -> list[Any]:
    if kind == _VEC2:
        it = iter(col)
        return list(map(_new_vec2, zip(it, it, strict=True)))
    if kind == _HANDLE:
        return list(map(Handle, col))
    return col


class _Transaction:
    def __init__(self, game: Game, paths: list[str] | None, detected_at: float | None) -> None:
        self.game = game
        self.host = game.plugins
        self.paths = paths
        self.detected_at = detected_at
        self.timings: dict[str, float] = {}
        self.notes: Counter[tuple[str, str, str, str]] = Counter()
        self.names: list[str] = []
        self.to_load: list[str] = []
        self.removed: list[str] = []
        self.targets: list[_Target] = []
        self.before_called: list[_Target] = []
        self.fresh: dict[str, LoadedPlugin] = {}
        self.new_objects: list[Any] = []
        # Set when a stored value could not be stored, or not be rebuilt: objects
        # then take the careful path of `_Plan.build`, which checks every value.
        self.marked_unencodable = False
        self.unresolved: list[Unresolved] = []
        self.participant_commits: list[Callable[[], None]] = []
        self._t = time.perf_counter()

    def note(self, type_id: str, field_name: str, kind: str, detail: str) -> None:
        self.notes[(type_id, field_name, kind, detail)] += 1

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = (now - self._t) * 1000.0
        self._t = now

    # --- 0: scope -------------------------------------------------------------------

    def scope(self) -> None:
        host = self.host
        on_disk = set(host.discover(warn=False))  # warned about at load, not on every save
        if self.paths is None:
            names = set(host.plugins) | on_disk
        else:
            names = {n for n in (host.plugin_of_path(p) for p in self.paths) if n}
            # A package folder deleted as a whole is reported as the folder itself.
            for p in self.paths:
                rel = _relative(p, host.plugins_dir)
                if rel is not None and len(rel.parts) == 1 and rel.parts[0] in host.plugins:
                    names.add(rel.parts[0])
        names = host.dependents(names)
        self.removed = sorted(n for n in names if n not in on_disk and n in host.plugins)
        self.to_load = sorted(n for n in names if n in on_disk)
        self.names = sorted(set(self.to_load) | set(self.removed))

    # --- 1: build --------------------------------------------------------------------

    def build(self) -> None:
        errors = []
        for name in self.to_load:
            for mod_name, path in self.host.source_files(name):
                try:
                    self.host.compiler.compile(path, mod_name)
                except SyntaxError as exc:
                    errors.append(describe_error(exc))
                except OSError as exc:
                    errors.append(f"{path}: cannot read: {exc.strerror or exc}")
        if errors:
            raise ReloadFailed(*errors)

    # --- 2-3: hooks and snapshot ---------------------------------------------------------

    def collect_targets(self) -> None:
        names = set(self.names)
        game = self.game
        append = self.targets.append
        in_scope: dict[type, bool] = {}  # per class, not per object
        for scene in game.scenes:
            rs = game.running_scene(scene)
            for e in scene:
                for i, s in enumerate(e.scripts):
                    cls = type(s)
                    hit = in_scope.get(cls)
                    if hit is None:
                        hit = cls is PlaceholderScript or plugin_name_of(cls) in names
                        in_scope[cls] = hit
                    if hit:
                        append(_Target(s, scene, rs, e, i))
        for name in self.names:
            obj = game.plugin_objects.get(name)
            if obj is not None:
                self.targets.append(_Target(obj, plugin=name))

    def before_hooks(self) -> None:
        overrides = _HookCache("on_before_reload")
        for t in self.targets:
            if not overrides(type(t.obj)) or not self._is_live(t):
                continue
            self.before_called.append(t)
            try:
                t.obj.on_before_reload(self._ctx(t, t.obj))
            except Exception as exc:
                raise ReloadFailed(
                    f"{_who(t)}: on_before_reload raised {describe_error(exc)}"
                ) from exc

    def _is_live(self, t: _Target) -> bool:
        if t.plugin:
            return self.game.started
        return t.running is not None and t.obj.__dict__.get("_hp_state", 0) != 0

    def _ctx(self, t: _Target, obj: Any) -> Any:
        if t.plugin:
            ctx = self.game._plugin_ctx
        else:
            assert t.running is not None
            ctx = t.running.ctx
            ctx.entity = t.entity  # type: ignore[assignment]
        ctx.owner = obj
        return ctx

    def snapshot(self) -> bytes:
        """Write every target object and callback into one msgpack blob.

        Objects are stored by class, in columns: one list per field (and for
        undeclared attributes, lifecycle state and entity). A column of a field
        declared ``Vec2`` or ``Handle`` whose values all are exactly that type is
        stored as plain numbers, with no extension value per object: decoding
        those was the costliest part of a large reload.
        """
        groups: dict[type, _Group] = {}
        layout_rows: list[list[Any]] = []
        placeholders: list[list[Any]] = []
        owner_index: dict[int, int] = {}
        for n, t in enumerate(self.targets):
            obj = t.obj
            owner_index[id(obj)] = n
            cls = type(obj)
            if cls is PlaceholderScript:
                placeholders.append([n, obj.missing_type_id, obj.data, obj.reason])
                continue
            group = groups.get(cls)
            if group is None:
                fields = declared_fields(cls)
                group = groups[cls] = _Group(
                    len(layout_rows),
                    list(fields),
                    [type_name(f.annotation) for f in fields.values()],
                    _ENGINE_KEYS | set(fields),
                )
                layout_rows.append(
                    [
                        type_id_of(cls),
                        cls.__module__,
                        cls.__qualname__,
                        group.names,
                        group.annotations,
                        self._encodable_defaults(cls, fields),
                    ]
                )
            group.index.append(n)
            group.objects.append(obj)
        group_rows = [g.columns() for g in groups.values()]
        callbacks = self._callbacks(owner_index)
        blob_data = [layout_rows, group_rows, placeholders, callbacks]
        try:
            return packb(blob_data)
        except Unencodable:
            pass
        # Slow path, only when something cannot be stored: find it and say so by name.
        for row in group_rows:
            stored = layout_rows[row[0]]
            for f, (kind, col) in enumerate(zip(row[2], row[3], strict=True)):
                if kind != _PLAIN or _try_pack(col) is None:
                    continue
                for i, v in enumerate(col):
                    problem = _try_pack(v)
                    if problem is not None:
                        self.note(
                            stored[0],
                            stored[3][f],
                            "unencodable",
                            f"value cannot be stored ({problem}); reset to its default",
                        )
                        col[i] = _UNENCODABLE_MARK
                        self.marked_unencodable = True
            for extras in row[4]:
                for k in list(extras or ()):
                    problem = _try_pack(extras[k])
                    if problem is not None:
                        self.note(
                            stored[0],
                            k,
                            "unencodable",
                            f"undeclared attribute cannot be stored ({problem}); dropped "
                            "(rebuild it in on_after_reload)",
                        )
                        del extras[k]
        for kind in range(4):
            kept = []
            for entry in callbacks[kind]:
                problem = _try_pack(entry)
                if problem is None:
                    kept.append(entry)
                else:
                    self.note(
                        "engine",
                        ("timer", "subscription", "message", "event")[kind],
                        "callback-dropped",
                        f"its data cannot be stored ({problem})",
                    )
            callbacks[kind] = kept
        return packb(blob_data)

    def _encodable_defaults(self, cls: type, fields: Mapping[str, Any]) -> list[Any]:
        out = []
        for f in fields.values():
            out.append(f.default if _try_pack(f.default) is None else _UNENCODABLE_MARK)
        return out

    def _callbacks(self, owner_index: dict[int, int]) -> list[list[Any]]:
        cb = self.game.callbacks
        scene_index = {id(rs): i for i, rs in enumerate(self.game.running_scenes)}
        self.kept_owners: list[Any] = []
        keep_index: dict[int, int] = {}

        def ref(owner: Any) -> list[Any]:
            i = owner_index.get(id(owner))
            if i is not None:
                return ["t", i]
            k = keep_index.get(id(owner))
            if k is None:
                k = keep_index[id(owner)] = len(self.kept_owners)
                self.kept_owners.append(owner)
            return ["k", k]

        now = self.game.time
        timers = [
            [
                ref(t.owner),
                t.method,
                t.due - now,
                t.interval,
                list(t.args),
                scene_index.get(id(t.scene), -1),
                int(t.handle),
                t.id,
            ]
            for t in cb.live_timers()
        ]
        subs = [
            [ref(s.owner), s.event, s.method, scene_index.get(id(s.scene), -1), int(s.handle)]
            for s in cb.subscriptions
        ]
        messages = [
            [scene_index.get(id(m.scene), -1), int(m.target), m.payload] for m in cb.messages
        ]
        emitted = [[e.event, e.payload] for e in cb.emitted]
        return [timers, subs, messages, emitted]

    # --- 4: load ----------------------------------------------------------------------

    def load(self) -> None:
        self.fresh = self.host.import_aside(self.to_load)
        for p in self.fresh.values():
            self.host.registry.check_conflicts(p, replacing=self.fresh)

    def resolver(self, module: str, qualname: str) -> Any:
        for p in self.fresh.values():
            mod = p.modules.get(module)
            if mod is not None:
                return lookup_qualname(mod, qualname)
        plugin = module_path(module).partition(".")[0]
        if plugin in self.removed:
            return None
        return default_resolver(module, qualname)

    def new_class(self, type_id: str, module: str, qualname: str) -> tuple[type | None, str]:
        for p in self.fresh.values():
            cls = p.scripts.get(type_id)
            if cls is not None:
                return cls, ""
        if type_id in self.host.registry and self.host.registry.owner(type_id) not in self.names:
            return self.host.registry.resolve(type_id), ""
        # Not found by type id: the class may have moved to another module of its plugin.
        plugin = module_path(module).partition(".")[0]
        fresh = self.fresh.get(plugin)
        if fresh is not None:
            found = [
                c for c in fresh.classes_by_qualname.get(qualname, []) if issubclass(c, Script)
            ]
            if len(found) == 1:
                return found[0], f"moved to {module_path(found[0].__module__)}"
        return None, ""

    # --- 5: restore ----------------------------------------------------------------------

    def restore(self, blob: bytes) -> None:
        layout_rows, group_rows, placeholders, callbacks = unpackb(
            blob, self.resolver, self.unresolved
        )
        targets = self.targets
        new_objects: list[Any] = [None] * len(targets)
        for li, index, kinds, cols, extras, states, entities in group_rows:
            layout = layout_rows[li]
            plan = self._plan(targets[index[0]], layout)
            columns = [_decode_column(k, c) for k, c in zip(kinds, cols, strict=True)]
            rows = zip(*columns, strict=True) if columns else itertools.repeat(())
            for n, values, ex, state, entity in zip(
                index, rows, extras, states, entities, strict=False
            ):
                if plan is None:
                    new_objects[n] = self._to_placeholder(targets[n], layout, values, state, entity)
                else:
                    new_objects[n] = plan.build(self, values, ex, state, entity)
        for n, type_id, data, reason in placeholders:
            new_objects[n] = self._from_placeholder(targets[n].obj, type_id, data, reason)
        # Plugin objects of plugins that are new this reload get their defaults.
        self.added_plugins = [n for n in self.to_load if n not in self.game.plugin_objects]
        self.new_plugins = {n: _instantiate(self.fresh[n].plugin_class) for n in self.added_plugins}
        self.new_objects = new_objects
        self._restore_callbacks(callbacks)
        self._after_hooks()
        self.participant_commits = []
        for prepare in list(self.game.reload_participants):
            try:
                commit = prepare(self.fresh)
            except Exception as exc:
                raise ReloadFailed(f"reload participant failed: {describe_error(exc)}") from exc
            if commit is not None:
                self.participant_commits.append(commit)

    def _plan(self, t: _Target, layout: list[Any]) -> _Plan | None:
        type_id, module, qualname, names, anns, defaults = layout
        if t.plugin:
            if t.plugin in self.removed:
                self.note(type_id, "", "dropped", "plugin deleted; its plugin object is gone")
                return None
            new_cls: type | None = self.fresh[t.plugin].plugin_class
        else:
            new_cls, moved = self.new_class(type_id, module, qualname)
            if new_cls is None:
                return None
            if moved:
                self.note(type_id, "", "moved", moved)
        assert new_cls is not None
        return _Plan(self, type_id, new_cls, names, anns, defaults)

    def _to_placeholder(
        self, t: _Target, layout: list[Any], values: Sequence[Any], state: int, entity: int
    ) -> Any:
        type_id, _, _, names, _, _ = layout
        data = {}
        for name, value in zip(names, values, strict=True):
            try:
                data[name] = to_plain(value)
            except PlainDataError as exc:
                self.note(type_id, name, "dropped", f"cannot be kept in a placeholder: {exc}")
        if t.plugin:
            return None
        self.note(
            type_id,
            "",
            "placeholder",
            "class no longer exists; scripts kept as placeholders with their data",
        )
        ph = PlaceholderScript(type_id, data, f"class {type_id} no longer exists")
        # The placeholder keeps where the script was in its lifecycle, for when it comes back.
        ph.__dict__["_hp_entity"] = Handle(entity)
        if state:
            ph.__dict__["_hp_state"] = state
        return ph

    def _from_placeholder(
        self, old: PlaceholderScript, type_id: str, data: Any, reason: str
    ) -> Any:
        cls, _ = self.new_class(type_id, "", "")
        if cls is None:
            return old  # still missing: the very same placeholder stays
        fields = declared_fields(cls)
        values = {}
        for name, raw in data.items():
            spec = fields.get(name)
            if spec is None:
                self.note(type_id, name, "dropped", "field no longer declared")
                continue
            try:
                values[name] = from_plain(raw, spec.annotation)
            except PlainDataError as exc:
                self.note(type_id, name, "reset", f"stored value does not fit: {exc}")
        self.note(type_id, "", "restored", "class is back; placeholders turned into scripts")
        obj = _instantiate(cls, values)
        for key in ("_hp_entity", "_hp_state"):
            if key in old.__dict__:
                obj.__dict__[key] = old.__dict__[key]
        return obj

    def _restore_callbacks(self, callbacks: list[list[Any]]) -> None:
        timers, subs, messages, emitted = callbacks
        running = self.game.running_scenes
        now = self.game.time

        def owner(ref: list[Any]) -> Any:
            return self.new_objects[ref[1]] if ref[0] == "t" else self.kept_owners[ref[1]]

        def scene(i: int) -> Any:
            return running[i] if 0 <= i < len(running) else None

        self.new_timers = []
        for o, method, remaining, interval, args, si, handle, tid in timers:
            own = owner(o)
            if (
                own is None
                or type(own) is PlaceholderScript
                or not callable(getattr(own, method, None))
            ):
                self.note(
                    type_id_of(type(own)) if own is not None else "engine",
                    method,
                    "callback-dropped",
                    "timer dropped: its method no longer exists",
                )
                continue
            self.new_timers.append(
                Timer(tid, now + remaining, interval, own, method, tuple(args), scene(si), handle)
            )
        self.new_subs = []
        for o, event, method, si, handle in subs:
            own = owner(o)
            if (
                own is None
                or type(own) is PlaceholderScript
                or not callable(getattr(own, method, None))
            ):
                self.note(
                    "engine",
                    method,
                    "callback-dropped",
                    f"subscription to {event!r} dropped: its method no longer exists",
                )
                continue
            self.new_subs.append(Subscription(event, own, method, scene(si), handle))
        self.new_messages = [Message(scene(si), h, p) for si, h, p in messages]
        self.new_emitted = [Emitted(ev, p) for ev, p in emitted]

    def _after_hooks(self) -> None:
        draft = self.report(ok=True)
        overrides = _HookCache("on_after_reload")
        for t, new in zip(self.targets, self.new_objects, strict=True):
            if new is None or new is t.obj or not overrides(type(new)) or not self._is_live(t):
                continue
            try:
                new.on_after_reload(self._ctx(t, new), draft)
            except Exception as exc:
                raise ReloadFailed(
                    f"{_who(t)}: on_after_reload raised {describe_error(exc)}"
                ) from exc

    # --- 6: commit ------------------------------------------------------------------------

    def commit(self) -> None:
        game = self.game
        tracker = game.generations
        if tracker is None:
            tracker = game.generations = GenerationTracker()
        for name in self.names:
            old = self.host.plugins.get(name)
            if old is not None:
                tracker.retire(old)
        tracker.generation += 1
        self.host.install(self.fresh.values())
        for name in self.removed:
            self.host.unload(name)
        changed: dict[int, tuple[Scene, list[Any]]] = {}
        # Scripts whose class came back while their scene runs, never started yet
        # (loaded as placeholders): they start living now, as if just spawned.
        to_init: list[tuple[RunningScene, Entity, Any]] = []
        for t, new in zip(self.targets, self.new_objects, strict=True):
            if t.plugin:
                if new is None:
                    game.plugin_objects.pop(t.plugin, None)
                else:
                    game.plugin_objects[t.plugin] = new
            elif t.entity is not None and t.scene is not None and new is not t.obj:
                t.entity.scripts[t.index] = new
                if (
                    t.running is not None
                    and type(t.obj) is PlaceholderScript
                    and type(new) is not PlaceholderScript
                    and not new.__dict__.get("_hp_state")
                ):
                    to_init.append((t.running, t.entity, new))
                changed.setdefault(id(t.scene), (t.scene, []))[1].append(t.entity.handle)
        for name, obj in self.new_plugins.items():
            game.plugin_objects[name] = obj
        cb = game.callbacks
        cb.timers = []
        for timer in self.new_timers:
            cb.timers.append((timer.due, timer.id, timer))
        heapq.heapify(cb.timers)
        cb.subscriptions = self.new_subs
        cb.messages = self.new_messages
        cb.emitted = self.new_emitted
        self._release_contexts()
        # Scripts initialised but not started yet (spawned last frame, or a game that has
        # not run a frame) must get on_start on their new object, not the old one.
        replaced = {
            id(t.obj): new
            for t, new in zip(self.targets, self.new_objects, strict=True)
            if new is not None and new is not t.obj
        }
        for rs in game.running_scenes:
            rs.replace_pending_starts(replaced)
            rs.invalidate()
            # Build the next frame's update list now, while the collector is off: built
            # in the frame, its allocations set off collections over the whole scene.
            rs.updaters()
        for scene, handles in changed.values():
            game.notify_scripts_replaced(scene, dict.fromkeys(handles))
        for rs, entity, script in to_init:
            rs.init_script(entity, script)
        for commit in self.participant_commits:
            try:
                commit()
            except Exception as exc:  # too late to roll back: say so loudly
                log.error("a reload participant failed at commit: %s", describe_error(exc))
        if game.started:
            for name in self.added_plugins:
                game.call_plugin(game.plugin_objects[name], "on_init")

    # --- report ---------------------------------------------------------------------------

    def report(
        self, ok: bool, error: str = "", errors: tuple[str, ...] = (), tb: str = ""
    ) -> ReloadReport:
        modules = tuple(module_path(m) for p in self.fresh.values() for m in sorted(p.modules))
        notes = tuple(
            MigrationNote(tid, f, kind, detail, count)
            for (tid, f, kind, detail), count in self.notes.items()
        )
        timings = dict(self.timings)
        if self.detected_at is not None:
            timings = {"detect": max(0.0, (self.started_at - self.detected_at) * 1000.0), **timings}
        return ReloadReport(
            ok=ok,
            plugins=tuple(self.names),
            modules=modules if ok else (),
            objects=len(self.targets) if ok else 0,
            notes=notes if ok else (),
            error=error,
            errors=errors,
            traceback=tb,
            changed=tuple(self.paths or ()),
            timings=timings,
        )

    def run(self) -> ReloadReport:
        # A reload allocates a few containers per object; with the collector on, that
        # sets off many collections, each walking the whole scene (measured: over
        # half the time of a 10,000-entity reload). The only cycles it leaves behind
        # are the replaced generation's modules and classes, collected later.
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if gc_was_on:
                gc.enable()

    def _run(self) -> ReloadReport:
        self.started_at = time.perf_counter()
        self._t = self.started_at
        try:
            self.scope()
            if not self.names:
                return self.report(ok=True)
            self.build()
            self.lap("build")
            self.collect_targets()
            self.before_hooks()
            blob = self.snapshot()
            self.lap("snapshot")
            self.load()
            self.lap("load")
            self.restore(blob)
            self.lap("restore")
        except ReloadFailed as exc:
            return self._rollback(list(exc.args), exc.__cause__)
        except Exception as exc:
            return self._rollback([describe_error(exc)], exc)
        self.commit()
        self.lap("commit")
        return self.report(ok=True)

    def _rollback(self, errors: list[str], cause: BaseException | None) -> ReloadReport:
        tb = plugin_traceback(cause) if cause is not None else ""
        report = self.report(ok=False, error=errors[0], errors=tuple(errors), tb=tb)
        # Objects that were told a reload was coming hear that it was called off.
        for t in self.before_called:
            if type(t.obj).on_after_reload in (Script.on_after_reload, Plugin.on_after_reload):
                continue
            try:
                t.obj.on_after_reload(self._ctx(t, t.obj), report)
            except Exception as exc:
                log.error(
                    "%s: on_after_reload after a failed reload raised %s",
                    _who(t),
                    describe_error(exc),
                )
        self.fresh = {}
        self.new_objects = []
        self._release_contexts()
        return report

    def _release_contexts(self) -> None:
        # The contexts are reused for every call and remember the last owner: left
        # alone, they would keep an object (and so a whole generation) alive.
        self.game._plugin_ctx.owner = None
        for rs in self.game.running_scenes:
            rs.ctx.owner = None


class _Plan:
    """How to turn stored objects of one old class into objects of its new class.

    Computed once per class and reload; applied to every object of the class.
    """

    def __init__(
        self,
        tx: _Transaction,
        type_id: str,
        new_cls: type,
        names: list[str],
        annotations: list[str],
        defaults: list[Any],
    ) -> None:
        self.type_id = type_id
        self.cls = new_cls
        new_fields = declared_fields(new_cls)
        self.field_names = frozenset(new_fields)
        old_index = {n: i for i, n in enumerate(names)}
        # (name, old index or -1, spec, check type?, old default or marker if unchanged)
        self.steps: list[tuple[str, int, Any, bool, Any]] = []
        for name, spec in new_fields.items():
            i = old_index.get(name, -1)
            if i < 0:
                self.steps.append((name, -1, spec, False, _NO_DEFAULT_CHECK))
                tx.note(type_id, name, "added", "new field, set to its default")
                continue
            type_changed = annotations[i] != type_name(spec.annotation)
            old_default = defaults[i]
            default_changed = old_default != _UNENCODABLE_MARK and not _same(
                old_default, spec.default
            )
            self.steps.append(
                (name, i, spec, type_changed, old_default if default_changed else _NO_DEFAULT_CHECK)
            )
        for name in names:
            if name not in new_fields:
                tx.note(
                    type_id, name, "dropped", "field removed from the code; its value was dropped"
                )
        self.tx = tx
        self.has_dict = not hasattr(new_cls, "__slots__") or "__dict__" in _all_slots(new_cls)
        # The common case: same fields in the same order, nothing to check or convert,
        # and plain instance attributes (no property or slot to go through).
        self.names = list(new_fields)
        self.unchanged = (
            self.has_dict
            and self.names == list(names)
            and all(
                i >= 0 and not check and od is _NO_DEFAULT_CHECK
                for _, i, _, check, od in self.steps
            )
            and not any(_is_data_descriptor(new_cls, n) for n in self.names)
        )

    def build(
        self, tx: _Transaction, values: Sequence[Any], extras: Any, state: int, entity: int
    ) -> Any:
        """A new object of the class, filled from one stored object's values."""
        if self.unchanged and not tx.marked_unencodable and not tx.unresolved:
            obj: Any = object.__new__(self.cls)
            d = obj.__dict__
            d.update(zip(self.names, values, strict=True))
            if extras:
                self._extras(tx, obj, extras)
            if state:
                d["_hp_state"] = state
            if entity:
                d["_hp_entity"] = Handle(entity)
            return obj
        return self._build_checked(tx, values, extras, state, entity)

    def _build_checked(
        self, tx: _Transaction, values: Sequence[Any], extras: Any, state: int, entity: int
    ) -> Any:
        obj: Any = object.__new__(self.cls)
        setter = object.__setattr__
        for name, i, spec, check_type, old_default in self.steps:
            if i < 0:
                value = spec.new_default()
            else:
                value = values[i]
                if type(value) is str and value == _UNENCODABLE_MARK:
                    value = spec.new_default()
                elif isinstance(value, Unresolved):
                    tx.note(
                        self.type_id,
                        name,
                        "reset",
                        f"value of {value} no longer exists; reset to the default",
                    )
                    value = spec.new_default()
                elif check_type and not conforms(value, spec.annotation):
                    tx.note(
                        self.type_id,
                        name,
                        "reset",
                        f"value no longer fits {type_name(spec.annotation)}; reset to the default",
                    )
                    value = spec.new_default()
                elif old_default is not _NO_DEFAULT_CHECK and _same(value, old_default):
                    tx.note(
                        self.type_id,
                        name,
                        "default-updated",
                        "was at its old default; took the new default",
                    )
                    value = spec.new_default()
            try:
                setter(obj, name, value)
            except Exception as exc:
                raise ReloadFailed(
                    f"{self.type_id}.{name}: the new code rejects the value {value!r}: "
                    f"{describe_error(exc)}"
                ) from exc
        if extras:
            self._extras(tx, obj, extras)
        if self.has_dict:
            d = obj.__dict__
            if state:
                d["_hp_state"] = state
            if entity:
                d["_hp_entity"] = Handle(entity)
        return obj

    def _extras(self, tx: _Transaction, obj: Any, extras: dict[str, Any]) -> None:
        for k, v in extras.items():
            if k in self.field_names:
                continue
            if not self.has_dict:
                tx.note(
                    self.type_id,
                    k,
                    "dropped",
                    "undeclared attribute has no place in the new __slots__",
                )
                continue
            obj.__dict__[k] = v
            tx.note(
                self.type_id,
                k,
                "undeclared",
                "undeclared attribute carried over as is (declare it as a field)",
            )


class _HookCache:
    """Whether a class overrides a reload hook, asked once per class rather than per object.

    Most classes do not, and a reload visits every object.
    """

    def __init__(self, hook: str) -> None:
        self.hook = hook
        self.known: dict[type, bool] = {PlaceholderScript: False}

    def __call__(self, cls: type) -> bool:
        hit = self.known.get(cls)
        if hit is None:
            fn = getattr(cls, self.hook, None)
            hit = fn is not getattr(Script, self.hook) and fn is not getattr(Plugin, self.hook)
            self.known[cls] = hit
        return hit


_NO_DEFAULT_CHECK = object()

#: Engine attributes kept on scripts and plugins (not user state).
_ENGINE_KEYS = frozenset({"_hp_state", "_hp_entity", "_hp_faulted"})


def _is_data_descriptor(cls: type, name: str) -> bool:
    attr = inspect.getattr_static(cls, name, None)
    return hasattr(type(attr), "__set__")


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


def _all_slots(cls: type) -> set[str]:
    out: set[str] = set()
    for k in cls.__mro__:
        s = k.__dict__.get("__slots__", ())
        out.update([s] if isinstance(s, str) else s)
    return out


def _get(obj: Any, d: dict[str, Any], name: str) -> Any:
    try:
        return d[name]
    except KeyError:
        return getattr(obj, name, None)


def _try_pack(value: Any) -> str | None:
    try:
        packb(value)
        return None
    except Unencodable as exc:
        return str(exc)


def _instantiate(cls: type, values: dict[str, Any] | None = None) -> Any:
    from runtime.scripting import instantiate

    return instantiate(cls, values)


def _who(t: _Target) -> str:
    if t.plugin:
        return f"plugin {t.plugin}"
    assert t.entity is not None
    return f"{type_id_of(type(t.obj))} on entity {int(t.entity.handle)} ({t.entity.name!r})"


def _relative(path: str, root: Path) -> Path | None:
    try:
        return Path(path).resolve().relative_to(root)
    except ValueError:
        return None


def reload_plugins(
    game: Game, paths: list[str] | None, detected_at: float | None = None
) -> ReloadReport:
    """Run one reload transaction (see the module docstring); never raises for plugin errors."""
    report = _Transaction(game, paths, detected_at).run()
    if not report.plugins:
        return report
    if report.ok:
        log.info("%s", report)
        for n in report.warnings:
            log.warning("reload: %s", n)
    else:
        log.error("%s", report.details())
    return report


def describe_stale(game: Game) -> list[str]:
    """Name every surviving old-generation module or class and what refers to it.

    Holders are named as precisely as the heap allows: a module's global, an
    object's attribute, a dict's key; an old object (an instance of an old
    class) is followed one step further to whoever holds it. Holders that are
    themselves old code are marked so, since they go when the rest does.
    """
    tracker = game.generations
    if tracker is None:
        return []
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
