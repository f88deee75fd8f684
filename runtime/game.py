"""`Game`: a project's plugins, its live scenes and the fixed-step loop.

This is the public way to drive the runtime from Python; the player, the
editor, the tests and the benchmark all use it::

    from runtime import Game, BuildProfile

    with Game("path/to/project", profile=BuildProfile.DEBUG_HR) as game:
        game.step(60)                      # one second of game time
        ball = game.scene.find("Ball")
        report = game.reload()             # or let the watcher do it on save

One `Game` can hold several scenes: the editor keeps its edited scene in it
(not running: scripts do not update) while a copy of it plays.
"""

from __future__ import annotations

import collections
import gc
import heapq
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from runtime.assets import AssetChange, AssetWatcher
from runtime.callbacks import CallbackStore, Emitted, Message, Owner, Subscription, Timer
from runtime.changes import PendingChanges
from runtime.context import PluginContext, ScriptContext
from runtime.generations import GenerationTracker, describe_stale
from runtime.input import InputState
from runtime.plugins import LoadedPlugin, PluginHost, describe_error, plugin_traceback
from runtime.profiles import BuildProfile
from runtime.project import Project
from runtime.reports import ReloadReport
from runtime.scene import Entity, Scene, ScriptsReplaced
from runtime.scenefile import copy_scene, load_scene, save_scene
from runtime.scripting import (
    PlaceholderScript,
    Plugin,
    Script,
    instantiate,
    plugin_name_of,
    script_type_id,
)
from runtime.values import Handle

log = logging.getLogger("hotplay.game")

# Script states, kept on the script as ``_hp_state`` (engine attributes start with _hp_).
NEW, INITED, STARTED = 0, 1, 2


def tune_gc() -> None:
    """Set the cyclic garbage collector up for a process that runs a game.

    A frame allocates many short-lived containers; with CPython's default
    threshold (700) the collector runs many times a second and, every few
    runs, walks every live object of the scene. Games and the editor call this
    once at start-up; it only ever raises the thresholds.
    """
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, 50_000), max(gen1, 20), max(gen2, 20))


class RunningScene:
    """A scene whose scripts run: its context, update list and pending changes."""

    def __init__(self, game: Game, scene: Scene) -> None:
        self.game = game
        self.scene = scene
        self.ctx = ScriptContext(game, self)
        self._updaters: list[tuple[Entity, Script, Callable[..., Any]]] | None = None
        self._to_start: list[tuple[Entity, Script]] = []
        self._to_destroy: list[Handle] = []

    def invalidate(self) -> None:
        """Rebuild the update list before the next frame (scripts or entities changed)."""
        self._updaters = None

    def updaters(self) -> list[tuple[Entity, Script, Callable[..., Any]]]:
        """(entity, script, bound on_update) of every script that overrides on_update."""
        if self._updaters is None:
            base = Script.on_update
            self._updaters = [
                (e, s, s.on_update)
                for e in self.scene
                for s in e.scripts
                if type(s).on_update is not base and not s.__dict__.get("_hp_faulted")
            ]
        return self._updaters

    def init_entity(self, e: Entity) -> None:
        """Run ``on_init`` for every new script of an entity, queue ``on_start``."""
        for s in list(e.scripts):
            self.init_script(e, s)

    def init_script(self, e: Entity, s: Script) -> None:
        """Attach a script to the running scene: ``on_init`` now, ``on_start`` next frame."""
        d = s.__dict__
        d["_hp_entity"] = e.handle
        if d.get("_hp_state", NEW) != NEW or type(s) is PlaceholderScript:
            return
        d["_hp_state"] = INITED
        self.game.call_script(self, e, s, "on_init")
        self._to_start.append((e, s))
        self.invalidate()

    def spawn(self, name: str, **attrs: Any) -> Entity:
        """Create an entity during play and initialise its scripts."""
        e = self.scene.spawn(name, **attrs)
        self.init_entity(e)
        return e

    def destroy_later(self, handle: Handle) -> None:
        """Destroy an entity at the end of the frame."""
        self._to_destroy.append(handle)

    def replace_pending_starts(self, replaced: Mapping[int, Script]) -> None:
        """After a hot reload: scripts waiting for ``on_start`` are now their new objects."""
        self._to_start = [(e, replaced.get(id(s), s)) for e, s in self._to_start]

    def run_starts(self) -> None:
        """``on_start`` for scripts initialised since the last frame."""
        while self._to_start:
            batch, self._to_start = self._to_start, []
            for e, s in batch:
                if e.handle in self.scene.entities and s.__dict__.get("_hp_state") == INITED:
                    s.__dict__["_hp_state"] = STARTED
                    self.game.call_script(self, e, s, "on_start")

    def apply_destroys(self) -> None:
        """Remove the entities destroyed during the frame (``on_deinit`` first)."""
        while self._to_destroy:
            batch, self._to_destroy = self._to_destroy, []
            for h in batch:
                if h in self.scene.entities:
                    self.deinit_subtree(h)
                    self.scene.remove(h)
            self.invalidate()

    def deinit_subtree(self, handle: Handle) -> None:
        """``on_deinit`` for every script of an entity and its children; drop their callbacks."""
        gone: set[int] = set()
        for e in self.scene.subtree(handle):
            for s in e.scripts:
                if s.__dict__.get("_hp_state", NEW) != NEW:
                    self.game.call_script(self, e, s, "on_deinit")
                    s.__dict__["_hp_state"] = NEW
                gone.add(id(s))
        self.game.callbacks.drop_owned_by(gone)

    def update(self, dt: float) -> None:
        """One frame of every script's ``on_update``; a script that raises is paused."""
        ctx = self.ctx
        ups = self.updaters()
        n = len(ups)
        i = 0
        # One try around the whole loop costs nothing until something raises.
        while i < n:
            try:
                while i < n:
                    e, s, fn = ups[i]
                    i += 1
                    if e.enabled:
                        ctx.entity = e
                        ctx.owner = s
                        fn(ctx, dt)
            except Exception as exc:
                e, s, _ = ups[i - 1]
                self.game.script_failed(e, s, "on_update", exc)


class Game:
    """A project's plugins, live scenes, callbacks and loop.

    Args:
        project: the project folder (or an opened `Project`).
        profile: the build profile; ``Debug (HR)`` starts the plugin watcher.
        scene: a scene to load and run; ``None`` runs the project's main scene,
            ``False`` loads none (the editor adds its own).
        watch: override whether the watcher runs (default: the profile decides).
        fixed_dt: the time step in seconds (default 1/60).
        bytecode_dir: run plugins from this Release build output (`runtime.build`)
            instead of their sources.
    """

    def __init__(
        self,
        project: str | os.PathLike[str] | Project,
        *,
        profile: BuildProfile = BuildProfile.DEBUG,
        scene: str | os.PathLike[str] | bool | None = None,
        watch: bool | None = None,
        fixed_dt: float = 1.0 / 60.0,
        quiet_ms: float | None = None,
        bytecode_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.project = project if isinstance(project, Project) else Project.open(project)
        self.profile = profile
        self.fixed_dt = fixed_dt
        self.frame = 0
        self.time = 0.0
        self.input = InputState()
        self.callbacks = CallbackStore()
        self.plugins = PluginHost(self.project.plugins_dir, bytecode_dir=bytecode_dir)
        self.plugin_objects: dict[str, Plugin] = {}
        self.scenes: list[Scene] = []
        self.running_scenes: list[RunningScene] = []
        self.started = False
        #: The latest reload reports (older ones are dropped), newest last.
        self.reports: collections.deque[ReloadReport] = collections.deque(maxlen=100)
        self.reload_count = 0
        self._reload_listeners: list[Callable[[ReloadReport], None]] = []
        self.reload_participants: list[Callable[[dict[str, Any]], Callable[[], None] | None]] = []
        #: Saved plugin paths not loaded yet: the one queue between the watcher and the game.
        self.changes = PendingChanges()
        self._plugin_ctx = PluginContext(self)
        self.watcher: Any = None
        #: Saved images and scenes under ``assets/``, for `apply_asset_changes`.
        self.assets = AssetWatcher(self.project.assets_dir, quiet_ms=quiet_ms)
        self._asset_listeners: list[Callable[[list[AssetChange]], None]] = []
        self._closed = False
        #: Weak references to the plugin generations hot reloads replaced.
        self.generations = GenerationTracker()
        try:
            self.plugins.load_all()
            for name in self.plugins.plugins:
                self.plugin_objects[name] = self._new_plugin_object(name)
            if scene is not False:
                path = self.project.scene_path(None if scene is None or scene is True else scene)
                self.add_scene(self.load_scene(path), run=True)
            if watch if watch is not None else profile.hot_reload:
                self.start_watching(quiet_ms=quiet_ms)
        except BaseException:
            self.close()
            raise

    # --- context manager -------------------------------------------------------

    def __enter__(self) -> Game:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- scenes -------------------------------------------------------------------

    @property
    def registry(self) -> Any:
        """The script types of the loaded plugins (`runtime.plugins.TypeRegistry`)."""
        return self.plugins.registry

    @property
    def scene(self) -> Scene:
        """The first running scene (the one the player shows)."""
        if self.running_scenes:
            return self.running_scenes[0].scene
        if self.scenes:
            return self.scenes[0]
        raise LookupError("the game has no scene")

    def load_scene(self, path: str | os.PathLike[str]) -> Scene:
        """Read a scene file with this game's script types (not added to the game).

        Raises:
            runtime.scenefile.SceneFileError: the file is invalid.
        """
        return load_scene(
            self.project.scene_path(path), self.registry.resolve, project_root=self.project.root
        )

    def save_scene(self, scene: Scene, path: str | os.PathLike[str]) -> None:
        """Write a scene file atomically."""
        save_scene(scene, self.project.scene_path(path))

    def copy_scene(self, scene: Scene) -> Scene:
        """A fresh copy of a scene, as saving and loading would make it (used by Play)."""
        return copy_scene(scene, self.registry.resolve)

    def add_scene(self, scene: Scene, *, run: bool = True) -> Scene:
        """Make a scene live: a running one updates every frame.

        A scene that does not run (the editor's edited scene) is only kept in
        step with hot reloads.
        """
        self.scenes.append(scene)
        if run:
            rs = RunningScene(self, scene)
            self.running_scenes.append(rs)
            if not self.started:
                self.start()
            for obj in self.plugin_objects.values():
                self.call_plugin(obj, "on_scene_loaded", scene)
            for e in list(scene):
                rs.init_entity(e)
        return scene

    def remove_scene(self, scene: Scene) -> None:
        """Take a scene out of the game; a running one gets its scripts' ``on_deinit``."""
        for rs in list(self.running_scenes):
            if rs.scene is scene:
                for h in list(scene.roots):
                    rs.deinit_subtree(h)
                self.running_scenes.remove(rs)
                cb = self.callbacks
                cb.messages = [m for m in cb.messages if m.scene is not rs]
        if scene in self.scenes:
            self.scenes.remove(scene)

    def running_scene(self, scene: Scene) -> RunningScene | None:
        """The running state of a scene, or ``None`` when it does not run."""
        return next((rs for rs in self.running_scenes if rs.scene is scene), None)

    # --- plugins --------------------------------------------------------------------

    def _new_plugin_object(self, name: str) -> Plugin:
        plugin: Plugin = instantiate(self.plugins.plugins[name].plugin_class)
        return plugin

    def plugin(self, which: type[Plugin] | str) -> Any:
        """The plugin object of a plugin package name or Plugin class."""
        name = which if isinstance(which, str) else plugin_name_of(which)
        try:
            return self.plugin_objects[name]
        except KeyError:
            raise LookupError(f"no plugin {name!r} is loaded") from None

    def start(self) -> None:
        """Start the game: ``on_init`` of every plugin (done by the first running scene)."""
        if self.started:
            return
        self.started = True
        for obj in list(self.plugin_objects.values()):
            self.call_plugin(obj, "on_init")

    def stop(self) -> None:
        """Stop every running scene and the plugins; plugin objects start afresh."""
        for rs in list(self.running_scenes):
            self.remove_scene(rs.scene)
        if self.started:
            for obj in list(self.plugin_objects.values()):
                self.call_plugin(obj, "on_deinit")
        self.started = False
        self.callbacks.clear()
        for name in list(self.plugin_objects):
            self.plugin_objects[name] = self._new_plugin_object(name)
        self.frame = 0
        self.time = 0.0

    # --- calling plugin code ---------------------------------------------------------

    def call_script(self, rs: RunningScene, e: Entity, s: Script, hook: str, *args: Any) -> None:
        """Call a script hook with its context; an exception is reported, not raised."""
        ctx = rs.ctx
        ctx.entity = e
        ctx.owner = s
        try:
            getattr(s, hook)(ctx, *args)
        except Exception as exc:
            self.script_failed(e, s, hook, exc)

    def call_plugin(self, obj: Plugin, hook: str, *args: Any) -> None:
        """Call a plugin hook with the plugin context; an exception is reported, not raised."""
        if obj.__dict__.get("_hp_faulted"):
            return
        ctx = self._plugin_ctx
        ctx.owner = obj
        try:
            getattr(obj, hook)(ctx, *args)
        except Exception as exc:
            obj.__dict__["_hp_faulted"] = True
            log.error(
                "plugin %s raised in %s and is paused until its code is reloaded: %s\n%s",
                plugin_name_of(type(obj)) or type(obj).__qualname__,
                hook,
                describe_error(exc),
                plugin_traceback(exc),
            )

    def script_failed(self, e: Entity, s: Script, hook: str, exc: BaseException) -> None:
        """Report a script's exception once and pause the script until its code is reloaded."""
        s.__dict__["_hp_faulted"] = True
        for rs in self.running_scenes:
            if e.handle in rs.scene.entities and rs.scene.entities[e.handle] is e:
                rs.invalidate()
        log.error(
            "%s on entity %d (%r) raised in %s and is paused until its code is reloaded: %s\n%s",
            script_type_id(s),
            int(e.handle),
            e.name,
            hook,
            describe_error(exc),
            plugin_traceback(exc),
        )

    # --- the loop ---------------------------------------------------------------------

    def step(self, frames: int = 1) -> None:
        """Run `frames` fixed-step frames (pending reloads are applied before each)."""
        for _ in range(frames):
            self.apply_pending_reloads()
            self.apply_asset_changes()
            self._frame()

    def _frame(self) -> None:
        if not self.started:
            self.start()
        dt = self.fixed_dt
        self.input.begin_frame()
        for obj in list(self.plugin_objects.values()):
            if type(obj).on_update is not Plugin.on_update:
                self.call_plugin(obj, "on_update", dt)
        for rs in self.running_scenes:
            rs.run_starts()
            rs.update(dt)
        # From the frame count, not a running sum: adding 1/60 drifts.
        self.time = (self.frame + 1) * dt
        self._fire_timers()
        self._deliver()
        for rs in self.running_scenes:
            rs.apply_destroys()
        self.frame += 1

    def _fire_timers(self) -> None:
        for t in self.callbacks.pop_due(self.time + 1e-9):
            if t.interval is not None:
                t.due += t.interval
                heapq.heappush(self.callbacks.timers, (t.due, t.id, t))
            self._call_owner(t.owner, t.method, t.scene, t.handle, *t.args)

    def _deliver(self) -> None:
        cb = self.callbacks
        # Messages sent while delivering wait for the next frame.
        messages, cb.messages = cb.messages, []
        for m in messages:
            rs = m.scene
            e = rs.scene.get(m.target) if rs in self.running_scenes else None
            if e is None:
                continue
            for s in list(e.scripts):
                if type(s).on_message is not Script.on_message and not s.__dict__.get(
                    "_hp_faulted"
                ):
                    self.call_script(rs, e, s, "on_message", m.payload)
        emitted, cb.emitted = cb.emitted, []
        for ev in emitted:
            for sub in [s for s in cb.subscriptions if s.event == ev.event]:
                self._call_owner(sub.owner, sub.method, sub.scene, sub.handle, ev.payload)

    def _call_owner(self, owner: Owner, method: str, rs: Any, handle: Handle, *args: Any) -> None:
        if isinstance(owner, Plugin):
            self.call_plugin(owner, method, *args)  # pauses the plugin if it raises
            return
        if rs not in self.running_scenes or owner.__dict__.get("_hp_faulted"):
            return
        e = rs.scene.get(handle)
        if e is None or not any(s is owner for s in e.scripts):
            return  # the owner was destroyed; its callbacks die with it
        ctx = rs.ctx
        ctx.entity = e
        ctx.owner = owner
        try:
            getattr(owner, method)(ctx, *args)
        except Exception as exc:
            self.script_failed(e, owner, method, exc)

    def emit(self, event: str, payload: Any = None) -> None:
        """Queue an event for its subscribers (delivered at the end of the frame)."""
        self.callbacks.emitted.append(Emitted(event, payload))

    def run(
        self,
        frames: int | None = None,
        *,
        realtime: bool = True,
        on_frame: Callable[[Game], None] | None = None,
    ) -> int:
        """Run the loop: `frames` frames, or until interrupted (Ctrl+C) or `close`.

        With `realtime`, frames are paced to the fixed time step and pending
        hot reloads are applied as soon as they arrive; otherwise frames run as
        fast as they can. Returns the number of frames run.
        """
        done = 0
        next_at = time.perf_counter()
        try:
            while not self._closed and (frames is None or done < frames):
                self.step(1)
                done += 1
                if on_frame is not None:
                    on_frame(self)
                if realtime:
                    next_at += self.fixed_dt
                    wait = next_at - time.perf_counter()
                    if wait > 0:
                        self._wait_for_batch(wait)
                    else:
                        next_at = time.perf_counter()  # fell behind: do not try to catch up
        except KeyboardInterrupt:
            pass
        return done

    # --- hot reload -------------------------------------------------------------------

    def on_reload(self, listener: Callable[[ReloadReport], None]) -> None:
        """Call `listener(report)` on the game thread after every reload attempt.

        A listener that raises is logged with its traceback; the reload stands.
        """
        self._reload_listeners.append(listener)

    def reload(
        self,
        paths: Iterable[str | os.PathLike[str]] | None = None,
        *,
        detected_at: float | None = None,
    ) -> ReloadReport:
        """Reload the plugins owning `paths` (all plugins when ``None``), now, between frames.

        Never raises for errors in plugin code or in an observer of the reload.

        Args:
            paths: changed files or folders under ``plugins/``.
            detected_at: ``time.perf_counter()`` of the file event, for the report's timings.

        Returns:
            The `runtime.reports.ReloadReport`; on failure nothing changed.
        """
        # Imported on first use: the transaction's modules cost a player that never
        # reloads a noticeable part of its start-up.
        from runtime.reload import reload_plugins

        return reload_plugins(self, None if paths is None else [str(p) for p in paths], detected_at)

    def set_change_wakeup(self, wakeup: Callable[[], None] | None) -> None:
        """Call `wakeup()` on the watcher's thread after each batch of saves.

        It must be thread-safe and quick: it only wakes the game thread (the
        editor emits a queued Qt signal), which then calls `apply_pending_reloads`
        and reads `pending_changes`. With a profile that does not hot reload,
        saves wait in the queue until `apply_pending_reloads(any_profile=True)`.
        """
        self.changes.wakeup = wakeup

    def pending_changes(self) -> list[str]:
        """The changed plugin paths not loaded yet (saved, or rolled back and kept)."""
        return self.changes.paths()

    def add_reload_participant(
        self, prepare: Callable[[dict[str, Any]], Callable[[], None] | None]
    ) -> None:
        """Take part in every reload transaction (the editor's plugin extensions do).

        `prepare(fresh)` runs in the prepare step with the new generation
        (``{plugin name: LoadedPlugin}``), before anything is swapped in; if it
        raises, the whole reload rolls back. It returns a function called in
        the notify step, once every swap is done (or ``None``); if that raises,
        the error is logged and the reload stands.
        """
        self.reload_participants.append(prepare)

    def set_profile(self, profile: BuildProfile, *, watch: bool | None = None) -> None:
        """Switch the build profile while the game is stopped; start or stop the watcher.

        Args:
            profile: the new profile.
            watch: whether to watch ``plugins/`` (default: when the profile hot reloads).
        """
        self.profile = profile
        if watch if watch is not None else profile.hot_reload:
            self.start_watching()
        else:
            self.stop_watching()

    def _on_watcher_batch(self, paths: list[str], detected_at: float) -> None:
        # The watcher's thread: only queue and wake; the game thread does the rest.
        self.changes.post(paths, detected_at)

    def queue_reload(self, paths: list[str], detected_at: float | None = None) -> None:
        """Ask for a reload of `paths` between frames, as a save would (thread-safe)."""
        self.changes.post(paths, detected_at)

    def apply_pending_reloads(self, *, any_profile: bool = False) -> list[ReloadReport]:
        """Reload everything saved since the last reload, as one transaction; return the reports.

        Paths whose reload rolled back stay pending and are reloaded with the
        next save, so a good change rolled back with a broken one is not lost.

        Args:
            any_profile: apply the changes even when the profile does not hot
                reload (the editor's Play and Build in ``Debug``); otherwise they
                wait in the queue.
        """
        if not (any_profile or self.profile.hot_reload):
            return []
        batch = self.changes.take()
        if batch is None:
            return []
        report = self.reload(batch.paths, detected_at=batch.detected_at)
        if not report.ok:
            self.changes.keep_unloaded(batch)
        return [report]

    def wait_for_reload(self, timeout: float = 5.0) -> ReloadReport | None:
        """Block until the watcher queues a change (or `timeout` seconds), then apply it.

        Returns:
            The report, or ``None`` when nothing changed in time (or the profile
            does not hot reload).
        """
        if not self.changes.wait(timeout):
            return None
        reports = self.apply_pending_reloads()
        return reports[-1] if reports else None

    def _wait_for_batch(self, seconds: float) -> None:
        # Wait for the next frame; a save wakes the wait and is applied at once.
        if self.profile.hot_reload and self.changes.wait(seconds):
            self.apply_pending_reloads()
        elif not self.profile.hot_reload:
            time.sleep(seconds)

    def start_watching(self, quiet_ms: float | None = None) -> None:
        """Start the plugin and asset watchers (``Debug (HR)`` does this itself)."""
        self.assets.start()
        if self.watcher is not None:
            return
        from runtime.watcher import PluginWatcher

        self.watcher = PluginWatcher(
            self.project.plugins_dir, self._on_watcher_batch, quiet_ms=quiet_ms
        )
        self.watcher.start()

    def stop_watching(self) -> None:
        """Stop the plugin and asset watchers and join their threads."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        self.assets.stop()

    def on_asset_change(self, listener: Callable[[list[AssetChange]], None]) -> None:
        """Call `listener(changes)` on the game thread when images or scenes changed on disk.

        The game itself holds no images: its renderers and the editor do, and
        reload what changed. A listener that raises is logged; the others still run.
        """
        self._asset_listeners.append(listener)

    def apply_asset_changes(self) -> list[AssetChange]:
        """Tell the asset listeners what changed under ``assets/`` since the last call."""
        changes = self.assets.take()
        if changes:
            for listener in list(self._asset_listeners):
                try:
                    listener(changes)
                except Exception:
                    log.exception("an asset change listener failed")
        return changes

    def stale_references(self) -> list[str]:
        """Name what still holds objects of replaced plugin code (slow: a diagnostic).

        Returns:
            One line per surviving old class or module and who refers to it.
        """
        return describe_stale(self)

    # --- what the reload transaction (runtime.reload) uses -------------------------------

    def hook_context(
        self, owner: Any, running: RunningScene | None = None, entity: Entity | None = None
    ) -> PluginContext:
        """The context to call a hook of `owner` with: its running scene's, or the plugins'."""
        if running is None:
            self._plugin_ctx.owner = owner
            return self._plugin_ctx
        ctx = running.ctx
        if entity is not None:
            ctx.entity = entity
        ctx.owner = owner
        return ctx

    def release_contexts(self) -> None:
        """Forget the last owner of every context.

        The contexts are reused for every call and remember the last owner: left
        alone, they would keep an object (and so a whole replaced generation) alive.
        """
        self._plugin_ctx.owner = None
        for rs in self.running_scenes:
            rs.ctx.owner = None

    def install_generation(
        self,
        plugins: Iterable[LoadedPlugin],
        *,
        removed: Iterable[str],
        plugin_objects: Mapping[str, Plugin | None],
        scripts: Iterable[tuple[Entity, int, Script]],
        timers: list[Timer],
        subscriptions: list[Subscription],
        messages: list[Message],
        emitted: list[Emitted],
        rebuilt: Mapping[int, Any],
    ) -> None:
        """Swap a reloaded generation in, in one step (the reload's commit step).

        Calls no plugin code and notifies no one.

        Args:
            plugins: the new generation of the reloaded plugins.
            removed: plugins whose package was deleted.
            plugin_objects: the new plugin object of each reloaded plugin (``None``:
                the plugin is gone), then those of plugins new this reload.
            scripts: (entity, index in its scripts, new script) for every rebuilt script.
            timers: every timer of the game, for the new owners.
            subscriptions: every subscription, likewise.
            messages: the queued messages.
            emitted: the queued events.
            rebuilt: the new object of every rebuilt one, by ``id`` of the old.
        """
        self.plugins.install(plugins)
        for name in removed:
            self.plugins.unload(name)
        for name, obj in plugin_objects.items():
            if obj is None:
                self.plugin_objects.pop(name, None)
            else:
                self.plugin_objects[name] = obj
        for entity, index, script in scripts:
            entity.scripts[index] = script
        self.callbacks.replace_all(timers, subscriptions, messages, emitted)
        self.release_contexts()
        for rs in self.running_scenes:
            # Scripts initialised but not started yet (spawned last frame, or a game that
            # has not run a frame) must get on_start on their new object, not the old one.
            rs.replace_pending_starts(rebuilt)
            rs.invalidate()
            # Build the next frame's update list now, while the collector is off: built
            # in the frame, its allocations set off collections over the whole scene.
            rs.updaters()

    def record_reload(self, report: ReloadReport) -> None:
        """Keep a reload's report and tell the `on_reload` listeners.

        A listener that raises is logged with its traceback; the others still hear.
        """
        self.reports.append(report)
        self.reload_count += 1
        for listener in list(self._reload_listeners):
            try:
                listener(report)
            except Exception as exc:
                log.error("a reload listener failed: %s", describe_error(exc), exc_info=exc)

    # --- end ---------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the watcher, deinit every running script and plugin, unload the plugins."""
        if self._closed:
            return
        self._closed = True
        self.stop_watching()
        try:
            if self.started:
                self.stop()
        finally:
            self.scenes.clear()
            self.plugin_objects.clear()
            self.plugins.close()

    # --- queries used by tools ------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Numbers for status bars and summaries."""
        return {
            "frame": self.frame,
            "time": self.time,
            "scenes": len(self.running_scenes),
            "entities": sum(len(rs.scene) for rs in self.running_scenes),
            "plugins": len(self.plugin_objects),
            "reloads": self.reload_count,
        }

    def summary(self, frames: int, wall_seconds: float, startup_seconds: float) -> str:
        """The player's closing line: frames, time, speed, scene, entities, plugins, reloads."""
        stats = self.stats()
        fps = frames / wall_seconds if wall_seconds > 0 else float("inf")
        scene = self.scene.name if self.scenes else "none"
        return (
            f"ran {frames} frames ({stats['time']:.1f} s of game time) in {wall_seconds:.2f} s "
            f"({fps:,.0f} fps) after {startup_seconds:.2f} s start-up: scene {scene!r}, "
            f"{stats['entities']} entities, plugins: {', '.join(self.plugin_objects) or 'none'}, "
            f"{stats['reloads']} reloads, profile {self.profile.display_name}"
        )

    def notify_scripts_replaced(self, scene: Scene, handles: Iterable[Handle]) -> None:
        """Tell a scene's observers that script objects were rebuilt."""
        scene.notify(ScriptsReplaced(tuple(handles)))
