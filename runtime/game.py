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
import importlib
import logging
import operator
import os
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any, Literal

from runtime.assets import AssetChange, AssetWatcher
from runtime.callbacks import CallbackStore, Emitted, Message, Owner, Subscription, Timer
from runtime.changes import PendingChanges, file_stamps
from runtime.context import PluginContext, ScriptContext
from runtime.generations import GenerationTracker, describe_stale
from runtime.guard import BudgetExceeded, BudgetInterrupt, CallGuard, GameExit
from runtime.history import (
    GameState,
    History,
    HistoryError,
    KeyframeTooSlow,
    LoadedClasses,
    move_callbacks,
    restore_state,
)
from runtime.input import FrameInput, InputState, RecordedInput
from runtime.plugins import LoadedPlugin, PluginHost, describe_error, plugin_traceback
from runtime.profiles import BuildProfile
from runtime.project import Project
from runtime.reports import ReloadReport, UnappliedChange
from runtime.scene import (
    Entity,
    EntityAdded,
    EntityChanged,
    EntityRemoved,
    Scene,
    SceneEvent,
    ScriptsReplaced,
)
from runtime.scenefile import copy_scene, load_scene, refresh_scripts, save_scene
from runtime.scripting import (
    PlaceholderScript,
    Plugin,
    Script,
    changes_lookup,
    instantiate,
    overrides_hook,
    plugin_name_of,
    script_type_id,
)
from runtime.values import Handle

log = logging.getLogger("hotplay.game")

#: How long a reload with a look-ahead may keep a save waiting (`Game.look_ahead_seconds`).
DEFAULT_LOOK_AHEAD_SECONDS = 0.05

# Script states, kept on the script as ``_hp_state`` (engine attributes start with _hp_).
NEW, INITED, STARTED = 0, 1, 2

#: Imports plugins elsewhere first: ``check(plugins_dir, names)`` returns a one-line
#: refusal per plugin whose import would end or hang this process (see `Game.set_import_check`).
ImportCheck = Callable[[Path, Sequence[str]], Mapping[str, str]]


def tune_gc() -> None:
    """Set the cyclic garbage collector up for a process that runs a game.

    A frame allocates many short-lived containers; with CPython's default
    threshold (700) the collector runs many times a second and, every few
    runs, walks every live object of the scene. Games and the editor call this
    once at start-up; it only ever raises the thresholds.
    """
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, 50_000), max(gen1, 20), max(gen2, 20))


_dict_of = operator.attrgetter("__dict__")

#: An update list entry: an entity and one of its scripts that overrides ``on_update``.
#: The method is looked up on the script at each call, not held: a reload that gives
#: the scripts a new class leaves the list as it is (`RunningScene.rebind`).
UpdateEntry = tuple[Entity, Script]


def _runs_game_code(s: Script, hook: str, known: dict[type, bool] | None = None) -> bool:
    """Whether ``s.<hook>(...)`` may run more than `Script`'s own empty hook.

    A class that neither defines the hook nor changes the attribute lookup, on an
    object without an attribute of that name of its own, has nothing to call: a
    scene of 100,000 such scripts spent a quarter of a second starting them one by
    one. The class is read statically (no descriptor runs outside the guard), and
    each answer is kept in `known` for the caller's batch, if given, until a hook
    runs (game code may give a class a hook; the caller then clears it).
    """
    if hook in s.__dict__:
        return True
    cls = type(s)
    runs = known.get(cls) if known is not None else None
    if runs is None:
        runs = changes_lookup(cls) or overrides_hook(cls, hook)
        if known is not None:
            known[cls] = runs
    return runs


def _update_entries(entities: Sequence[Entity], scripts: Sequence[Script]) -> list[UpdateEntry]:
    """Update list entries: (entity, script), in C."""
    return list(zip(entities, scripts, strict=True))


class RunningScene:
    """A scene whose scripts run: its context, update list and pending changes."""

    def __init__(self, game: Game, scene: Scene) -> None:
        self.game = game
        self.scene = scene
        self.ctx = ScriptContext(game, self)
        self._updaters: list[UpdateEntry] | None = None
        #: Updaters of entities spawned at the end of the scene since the list was
        #: built: they join it at the next frame (not during the one that spawned them).
        self._spawned: list[UpdateEntry] = []
        self._spawning = False
        self._to_start: list[tuple[Entity, Script]] = []
        self._to_destroy: list[Handle] = []
        # A change of the tree or of an entity's scripts changes the update order.
        scene.subscribe(self._on_scene_event)

    def close(self) -> None:
        """Stop following the scene (it no longer runs)."""
        self.scene.unsubscribe(self._on_scene_event)

    def _on_scene_event(self, event: SceneEvent) -> None:
        if isinstance(event, EntityChanged) and event.attribute != "scripts":
            return  # a name, a position...: the order stays
        if isinstance(event, EntityAdded) and self._spawning:
            return  # `spawn` keeps the list when it can
        if isinstance(event, ScriptsReplaced) and event.by_reload:
            return  # the reload's commit built the list for the new scripts
        self.invalidate()

    def invalidate(self) -> None:
        """Rebuild the update list before the next frame (scripts or entities changed)."""
        self._updaters = None
        self._spawned = []

    def updaters(self) -> list[UpdateEntry]:
        """(entity, script) of every script that overrides ``on_update``, but paused ones.

        In scene order, depth first: what a rebuild from the scene gives, so a
        replay from a keyframe updates in the same order as the live game did.
        """
        if self._updaters is not None and self._spawned:
            self._updaters.extend(self._spawned)
            self._spawned = []
        if self._updaters is None:
            # Rebuilt after every reload, over every script: column by column, in C.
            columns = self.scene.script_columns()
            types: list[type[Script]] = list(map(type, columns.scripts))
            classes = set(types)
            updating = {c for c in classes if overrides_hook(c, "on_update")}
            if updating != classes:
                columns = columns.where(map(updating.__contains__, types))
            faulted = list(map(dict.get, map(_dict_of, columns.scripts), repeat("_hp_faulted")))
            chosen = columns.where(map(operator.not_, faulted)) if any(faulted) else columns
            self._updaters = _update_entries(chosen.entities, chosen.scripts)
        return self._updaters

    def rebind(self, retyped: Mapping[type, type]) -> bool:
        """Whether the update list still holds after scripts changed class, kept as they are.

        For a reload that kept every script of the scene, only giving some a new
        class. An entry holds no method (``on_update`` is looked up at each
        call), so the list stays right as long as each such class still
        overrides ``on_update`` exactly when the old one did: a class that gains
        or loses it changes who is in the list. No entry is touched, whatever
        the size of the scene. If not, or if there is no list yet, the list is
        to be rebuilt.
        """
        if self._updaters is None:
            return False
        for old, new in retyped.items():
            if overrides_hook(old, "on_update") != overrides_hook(new, "on_update"):
                return False
        return True

    def init_entity(self, e: Entity, *, known: dict[type, bool] | None = None) -> None:
        """Run ``on_init`` for every new script of an entity, queue ``on_start``.

        The update list is the caller's to mend (`spawn` appends to it; a running
        scene made afresh has none yet). `known`: which classes have an ``on_init``
        to call, kept by a caller that initialises many entities in a row.
        """
        for s in list(e.scripts):
            self._init(e, s, known)

    def init_script(self, e: Entity, s: Script) -> None:
        """Attach a script to the running scene: ``on_init`` now, ``on_start`` next frame."""
        if self._init(e, s):
            self.invalidate()

    def _init(self, e: Entity, s: Script, known: dict[type, bool] | None = None) -> bool:
        """`init_script` but for the update list; whether the script was new."""
        d = s.__dict__
        d["_hp_entity"] = e.handle
        if d.get("_hp_state", NEW) != NEW or type(s) is PlaceholderScript:
            return False
        d["_hp_state"] = INITED
        if _runs_game_code(s, "on_init", known):
            self.game.call_script(self, e, s, "on_init")
            if known is not None:
                known.clear()  # the hook may have changed a class
        self._to_start.append((e, s))
        return True

    def spawn(self, name: str, **attrs: Any) -> Entity:
        """Create an entity during play and initialise its scripts.

        Raises:
            runtime.guard.BudgetInterrupt: the calling game code is past its budget.
        """
        self.game.guard.checkpoint()  # a runaway spawner stops here, before the scene changes
        self._spawning = True
        try:
            e = self.scene.spawn(name, **attrs)
        finally:
            self._spawning = False
        self.init_entity(e)
        if self._updaters is None:
            return e  # to be rebuilt anyway (their on_init moved something, or raised)
        if self._is_last(e):
            # Its scripts come last in scene order: appended, the list is what a rebuild
            # would make, without a rebuild over every script of the scene each frame a
            # game spawns something.
            self._spawned += [
                (e, s)
                for s in e.scripts
                if overrides_hook(type(s), "on_update") and not s.__dict__.get("_hp_faulted")
            ]
        else:  # their on_init spawned after it
            self.invalidate()
        return e

    def _is_last(self, e: Entity) -> bool:
        """Whether `e` is the last entity of the scene in depth-first order, and childless."""
        roots = self.scene.roots
        return bool(roots) and roots[-1] == e.handle and not e.children

    def destroy_later(self, handle: Handle) -> None:
        """Destroy an entity at the end of the frame."""
        self._to_destroy.append(handle)

    def take_pending(self, other: RunningScene) -> None:
        """Take over the scripts waiting for ``on_start`` of `other` (a rewind's copy)."""
        self._to_start, self._to_destroy = list(other._to_start), []
        self.invalidate()

    def replace_pending_starts(self, replaced: Mapping[int, Script]) -> None:
        """After a hot reload: scripts waiting for ``on_start`` are now their new objects."""
        self._to_start = [(e, replaced.get(id(s), s)) for e, s in self._to_start]

    def run_starts(self) -> None:
        """``on_start`` for scripts initialised since the last frame."""
        while self._to_start:
            batch, self._to_start = self._to_start, []
            known: dict[type, bool] = {}
            for e, s in batch:
                if e.handle in self.scene.entities and s.__dict__.get("_hp_state") == INITED:
                    s.__dict__["_hp_state"] = STARTED
                    if _runs_game_code(s, "on_start", known):
                        self.game.call_script(self, e, s, "on_start")
                        known.clear()  # the hook may have changed a class

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
        """One frame of every script's ``on_update``; a script that raises is paused.

        The loop is watched as one span whose budget applies to each script
        (`CallGuard.watch_loop`): a guarded call per script would cost more than
        the scripts of a large scene. A frame past its budget skips the rest,
        and so does a frame in which a script was interrupted (the rest update
        in the next frame, so the caller's event loop waits one budget at most).
        """
        ctx = self.ctx
        ups = self.updaters()
        # Each entry is its own step of the watch (steps are told apart by identity), so
        # the loop keeps no counter: iterating the list itself costs the least per
        # script. After a script raised, the loop goes on with the same iterator.
        entries = iter(ups)
        entry: UpdateEntry | None = None
        guard = self.game.guard
        watched = guard.watch_loop()
        try:
            looping = True
            while looping:
                # One try around the whole loop costs nothing until something raises.
                try:
                    for entry in entries:
                        if guard.frame_over:
                            break  # the frame is over budget: Game.step pauses the game
                        e, s = entry
                        if e.enabled:
                            ctx.entity = e
                            ctx.owner = s
                            watched.step = entry
                            s.on_update(ctx, dt)
                    looping = False
                except BaseException as exc:
                    guard.stop_loop(watched)
                    e, s = self._entry_of(entry, ups)
                    error = guard.game_error(exc, watched)
                    self.game.script_failed(e, s, "on_update", error)
                    if isinstance(error, BudgetExceeded):
                        # The frame ends here, the next scripts update in the next one: when
                        # every object of a class loops, each would cost a budget in this frame.
                        looping = False
                    watched = guard.watch_loop()
            guard.stop_loop(watched)
            if watched.fired_at:  # interrupted, swallowed it, returned: still over its budget
                e, s = self._entry_of(watched.fired_step, ups)
                self.game.script_failed(
                    e, s, "on_update", guard.game_error(BudgetInterrupt(), watched)
                )
        except BudgetInterrupt as late:  # delivered just as the last script returned
            guard.stop_loop(watched)
            e, s = self._entry_of(watched.fired_step, ups)
            self.game.script_failed(e, s, "on_update", guard.game_error(late, watched))

    @staticmethod
    def _entry_of(step: object, ups: list[UpdateEntry]) -> UpdateEntry:
        """The update list's entry `step` is, else the first.

        `step` is the loop's current entry or the watch's ``fired_step``: an
        entry, or ``None`` / ``0`` before the first.
        """
        return step if isinstance(step, tuple) else ups[0]


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
        import_check: import plugin code in a disposable process before this one
            does, at the first load and every reload (see `set_import_check`).
        budget: seconds a call into game code, or a frame, may take before it is
            interrupted (the call) or the game pauses (the frame); ``"project"``
            (the default) takes the project's ``[budget]`` setting, ``None`` turns
            budgets off.
        exit_ends_game: ``sys.exit`` in game code quits the game, like ``ctx.quit()``
            (the player); otherwise it is that code's error (the editor).
        history_seconds: how much play `history` keeps for `rewind`, `replay` and
            `preview`; ``0`` records nothing; ``"project"`` (the default) takes
            the project's ``[history] seconds`` (10 unless set).
        look_ahead_frames: how many frames a reload runs the new code ahead before
            it commits (`look_ahead_frames`); ``"project"`` (the default) takes the
            project's ``[reload] look_ahead_frames``, off when unset.
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
        import_check: ImportCheck | None = None,
        budget: float | Literal["project"] | None = "project",
        exit_ends_game: bool = False,
        history_seconds: float | Literal["project"] = "project",
        look_ahead_frames: int | Literal["project"] = "project",
    ) -> None:
        self.project = project if isinstance(project, Project) else Project.open(project)
        #: Every call into game code goes through it (`runtime.guard`).
        self.guard = CallGuard(self.project.budget_seconds if budget == "project" else budget)
        self.exit_ends_game = exit_ends_game
        #: Why game code asked to quit (`request_quit`), once it has.
        self.quit_reason: str | None = None
        #: Why the game paused itself (`halt`: a frame over budget), while it is.
        self.halt_reason: str | None = None
        self._quit_listeners: list[Callable[[str], None]] = []
        self._halt_listeners: list[Callable[[str], None]] = []
        self._last_frame_seconds = 0.0
        self.profile = profile
        self.fixed_dt = fixed_dt
        self.frame = 0
        self.time = 0.0
        self.input = InputState()
        #: The random source of game code (``ctx.random``), seeded from the project.
        self.random = random.Random(self.project.seed)
        seconds = self.project.history_seconds if history_seconds == "project" else history_seconds
        #: The last seconds of play, for `rewind`, `replay` and `preview`; ``None``: not recorded.
        self.history: History | None = History(seconds, fixed_dt) if seconds > 0 else None
        #: Frames a reload tries the new code ahead before it commits; 0: off
        #: (`runtime.reload.lookahead`).
        self.look_ahead_frames: int = (
            (self.project.look_ahead_frames or 0)
            if look_ahead_frames == "project"
            else look_ahead_frames
        )
        #: The look-ahead stops once the reload has taken this many seconds (its frames
        #: get at least a fifth of them, and at least one frame runs), so that a large
        #: scene's save is not kept waiting: what it ran, it checked.
        self.look_ahead_seconds: float = DEFAULT_LOOK_AHEAD_SECONDS
        #: What the last look-ahead's copy of the world took, in seconds (``None``: none
        #: yet); past `look_ahead_seconds`, the look-ahead is skipped from then on.
        self.look_ahead_copy_seconds: float | None = None
        self.callbacks = CallbackStore()
        self.plugins = PluginHost(self.project.plugins_dir, bytecode_dir=bytecode_dir)
        self.plugin_objects: dict[str, Plugin] = {}
        #: The state (fields and stash, as scene-file data) of the plugin objects of
        #: deleted plugins, by plugin name: a plugin that comes back gets it back.
        self.plugin_stashes: dict[str, dict[str, Any]] = {}
        self.scenes: list[Scene] = []
        self.running_scenes: list[RunningScene] = []
        self.started = False
        #: The latest reload reports (older ones are dropped), newest last.
        self.reports: collections.deque[ReloadReport] = collections.deque(maxlen=100)
        self.reload_count = 0
        self._reload_listeners: list[Callable[[ReloadReport], None]] = []
        self.reload_participants: list[Callable[[dict[str, Any]], Callable[[], None] | None]] = []
        #: While the participants of a reload prepare: the old classes whose objects its
        #: commit migrates in place (they stay themselves, their attributes change: fields
        #: added, removed or converted by the rules). Empty at any other time.
        self.migrating_in_place: frozenset[type] = frozenset()
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
        self._import_check = import_check
        try:
            self.plugins.load_all(refused=self._refused_by_import_check(None)[1])
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
            self._forget_history()  # its keyframes do not have this scene
            if not self.started:
                self.start()
            for obj in self.plugin_objects.values():
                self.call_plugin(obj, "on_scene_loaded", scene)
            known: dict[type, bool] = {}
            for e in list(scene):
                rs.init_entity(e, known=known)
        return scene

    def remove_scene(self, scene: Scene) -> None:
        """Take a scene out of the game; a running one gets its scripts' ``on_deinit``."""
        for rs in list(self.running_scenes):
            if rs.scene is scene:
                for h in list(scene.roots):
                    rs.deinit_subtree(h)
                self.running_scenes.remove(rs)
                rs.close()
                self._forget_history()
                cb = self.callbacks
                cb.messages = [m for m in cb.messages if m.scene is not rs]
        if scene in self.scenes:
            self.scenes.remove(scene)

    def set_aside(self, scene: Scene) -> None:
        """Take a scene that does not run out of the game for a while: reloads leave it alone.

        The editor sets its edited scene aside while a copy of it plays, so that
        a hot reload migrates only the scene that runs (half the work). `take_back`
        brings it up to date with the code loaded by then.

        Raises:
            ValueError: the scene runs.
        """
        if self.running_scene(scene) is not None:
            raise ValueError(f"scene {scene.name!r} runs: stop it before setting it aside")
        self.remove_scene(scene)

    def take_back(self, scene: Scene) -> tuple[Handle, ...]:
        """Add a scene set aside (`set_aside`) again, its scripts made for the code loaded now.

        Those of a class replaced by a reload since, and placeholders whose class
        came back, are made again as saving and reopening the scene would make them
        (`runtime.scenefile.refresh_scripts`); observers hear of them as of any
        scripts replaced (`runtime.scene.ScriptsReplaced`). Returns their entities.
        """
        changed = refresh_scripts(scene, self.registry.resolve)
        self.add_scene(scene, run=False)
        if changed:
            scene.notify(ScriptsReplaced(changed))
        return changed

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
        self.random.seed(self.project.seed)  # every Play draws the same numbers
        self._forget_history()
        self.quit_reason = None  # the next Play starts afresh
        self.halt_reason = None

    # --- calling plugin code ---------------------------------------------------------

    def call_script(self, rs: RunningScene, e: Entity, s: Script, hook: str, *args: Any) -> None:
        """Call a script hook with its context, through the guard; what it raises is reported."""
        ctx = rs.ctx
        # A hook called from game code (the on_init of what a script spawns) hands the
        # context back as it found it: the caller's ctx.entity is still its own entity.
        caller = ctx.entity, ctx.owner
        ctx.entity = e
        ctx.owner = s
        try:
            error = self.guard.call_method(s, hook, ctx, *args)
        finally:
            ctx.entity, ctx.owner = caller
        if error is not None:
            self.script_failed(e, s, hook, error)

    def call_plugin(self, obj: Plugin, hook: str, *args: Any) -> None:
        """Call a plugin hook with the plugin context, through the guard; errors are reported."""
        if obj.__dict__.get("_hp_faulted"):
            return
        ctx = self._plugin_ctx
        ctx.owner = obj
        error = self.guard.call_method(obj, hook, ctx, *args)
        if error is not None and not self._quits(error):
            self.plugin_failed(obj, hook, error)

    def plugin_failed(self, obj: Plugin, hook: str, error: BaseException) -> None:
        """Report a plugin object's exception and pause it until its code is reloaded."""
        obj.__dict__["_hp_faulted"] = True
        log.error(
            "plugin %s raised in %s and is paused until its code is reloaded: %s\n%s",
            plugin_name_of(type(obj)) or type(obj).__qualname__,
            hook,
            describe_error(error),
            plugin_traceback(error),
        )

    def script_failed(self, e: Entity, s: Script, hook: str, exc: BaseException) -> None:
        """Report a script's exception once and pause the script until its code is reloaded.

        In a game where ``sys.exit`` ends the game (the player), it quits instead.
        """
        if self._quits(exc):
            return
        self._pause_script(e, s)
        log.error(
            "%s on entity %d (%r) raised in %s and is paused until its code is reloaded: %s\n%s",
            script_type_id(s),
            int(e.handle),
            e.name,
            hook,
            describe_error(exc),
            plugin_traceback(exc),
        )

    def _pause_script(self, e: Entity, s: Script) -> None:
        s.__dict__["_hp_faulted"] = True
        for rs in self.running_scenes:
            if e.handle in rs.scene.entities and rs.scene.entities[e.handle] is e:
                rs.invalidate()

    def _quits(self, error: BaseException) -> bool:
        """Whether `error` from game code is ``sys.exit`` in a game that it ends (then it quits)."""
        if not self.exit_ends_game or not isinstance(error, GameExit):
            return False
        if not isinstance(error.__cause__, SystemExit):
            return False  # KeyboardInterrupt and GeneratorExit stay that code's errors
        self.request_quit(f"game code called sys.exit({error.code!r})")
        return True

    # --- pausing and quitting from game code ----------------------------------------------

    def request_quit(self, reason: str = "the game quit") -> None:
        """End the game (`ctx.quit()`): no frame runs after this one; the `on_quit` listeners hear.

        The player then ends with its summary line; the editor stops Play.
        """
        if self.quit_reason is not None:
            return
        self.quit_reason = reason
        log.info("%s", reason)
        self._tell(self._quit_listeners, reason)

    def on_quit(self, listener: Callable[[str], None]) -> None:
        """Call `listener(reason)` when game code asks to quit (`request_quit`)."""
        self._quit_listeners.append(listener)

    def halt(self, reason: str) -> None:
        """Pause the game on its own account (a frame over budget) until `resume_after_halt`.

        While halted, `step` runs no frames but still applies saved code, so
        the save that fixes the problem is picked up. The `on_halt` listeners hear why.
        """
        if self.halt_reason is not None:
            return
        self.halt_reason = reason
        log.error("paused: %s", reason)
        self._tell(self._halt_listeners, reason)

    def resume_after_halt(self) -> None:
        """Run frames again after `halt`."""
        self.halt_reason = None

    def on_halt(self, listener: Callable[[str], None]) -> None:
        """Call `listener(reason)` when the game pauses itself (`halt`)."""
        self._halt_listeners.append(listener)

    def _tell(self, listeners: list[Callable[[str], None]], reason: str) -> None:
        for listener in list(listeners):
            try:
                listener(reason)
            except Exception as exc:
                log.error("a game listener failed: %s", describe_error(exc), exc_info=exc)

    # --- the loop ---------------------------------------------------------------------

    @property
    def last_frame_seconds(self) -> float:
        """How long the last frame took, as the budget counts it (0.0 before the first)."""
        return self._last_frame_seconds

    def frame_fits(self, since: float) -> bool:
        """Whether a frame run now ends within a budget of `since` (a `guard` clock reading).

        As far as the last frame's time foretells the next one's; always with
        budgets off. The editor runs the first frame of new code in the same turn
        of its event loop as the reload only then, so that the frame is what the
        next repaint shows (see `step`).
        """
        budget = self.guard.budget
        return budget is None or self.guard.clock() - since + self._last_frame_seconds <= budget

    def step(self, frames: int = 1, *, responsive: bool = False) -> None:
        """Run `frames` fixed-step frames (pending reloads are applied before each).

        No frame runs once game code asked to quit or while the game is halted
        (`halt`: a frame went over the budget); reloads still apply. The frames
        of one call stop early once together they are over the budget, so the
        caller (the editor's event loop) gets control back.

        Args:
            frames: how many frames to run.
            responsive: the caller is an event loop that must turn at least once a
                budget (the editor): stop after a frame in which a call into game
                code was interrupted, before a frame once the call has taken a
                budget all told, and before the first frame of new code unless it
                fits in the same turn (`frame_fits`): a reload and a frame of its
                code, each up to a budget, take two turns when together they would
                take longer than one; after that first frame, the call ends (the
                caller shows it before the next).
        """
        spent = 0.0
        clock = self.guard.clock
        started = clock()
        budget = self.guard.budget
        for _ in range(frames):
            reloaded = self.apply_pending_reloads()
            self.apply_asset_changes()  # images reload between frames, like code
            if self.halt_reason is not None or self.quit_reason is not None:
                continue
            new_code = any(r.ok for r in reloaded)
            if responsive and (
                (new_code and not self.frame_fits(started))
                or (budget is not None and clock() - started > budget)
            ):
                break  # the frame runs at the next turn of the event loop
            _frame(self)  # the engine's own, whatever game code did to Game._frame
            spent += self._last_frame_seconds
            budget = self.guard.budget
            if budget is not None and spent > budget:
                break
            if responsive and (new_code or self.guard.interrupted_seconds):
                break

    def _frame(self) -> None:
        if not self.started:
            self.start()
        dt = self.fixed_dt
        guard = self.guard
        self.input.begin_frame()
        if self.history is not None:
            # Before the frame's clock starts: a keyframe is the engine's work, and the
            # frame budget is game code's (a keyframe of 100,000 entities takes a second).
            self._record_history(self.history)
        try:
            guard.begin_frame()
            for obj in list(self.plugin_objects.values()):
                if overrides_hook(type(obj), "on_update"):
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
        finally:  # also when the engine fails: the frame gives the collector back
            took = self._last_frame_seconds = guard.end_frame()
        budget = guard.budget
        if budget is not None and (took > budget or guard.frame_over):
            self.halt(
                f"frame over budget: frame {self.frame} took {took:.2f} s, more than the "
                f"budget of {budget:g} s ({self.stats()['entities']} entities)"
            )

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
        error = self.guard.call_method(owner, method, ctx, *args)
        if error is not None:
            self.script_failed(e, owner, method, error)

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

    # --- the history: preview, rewind, replay ------------------------------------------

    def preview(self, frame: int) -> Scene:
        """The first running scene as it was at `frame`, rebuilt aside under the current code.

        The nearest keyframe at or before `frame` is read back under the code as
        it is now, then the recorded input of the frames after it is replayed on
        that copy. Nothing live changes: the scene returned belongs to no game,
        so scrubbing a timeline can show it. A script that raises while the copy
        runs is paused in the copy, as in play.

        Raises:
            runtime.history.HistoryError: the game records no history, or `frame`
                is outside ``history.first_frame .. history.last_frame``.
        """
        aside = self.replayed_aside(frame)
        scene = aside.scene
        aside.close()  # the scene stays whole; the copy that ran it goes
        return scene

    def rewind(self, seconds: float) -> int:
        """The live game takes the state it had `seconds` ago, under the current code.

        The state is rebuilt as for `preview` (at most back to the oldest frame
        kept) and swapped in: scenes keep their identity, their observers hear
        every root removed and added again; timers, subscriptions, plugin
        objects, game time and the random source all go back. No hook runs.
        The input recorded after that frame is kept, so `replay` can play it
        again, until the game steps live: then it is dropped.

        Returns:
            The frame the game is at now.

        Raises:
            runtime.history.HistoryError: the game records no history, or has not
                run a frame yet.
            ValueError: `seconds` is negative.
        """
        if seconds < 0:
            raise ValueError("rewind goes back a positive number of seconds")
        history = self._history()
        target = max(history.first_frame, self.frame - round(seconds / self.fixed_dt))
        self._jump_to(target)
        return self.frame

    def replay(self, from_frame: int, to_frame: int | None = None) -> int:
        """The live game takes the state at `from_frame`, then plays the recorded input.

        The state is rebuilt as for `preview`, swapped in as for `rewind`, then
        the live game runs the frames up to `to_frame` (by default the last one
        recorded) with the input recorded for them, under the current code: the
        way to see what a fix does to the situation that showed the bug. Script
        errors behave as in live play (the script pauses, the error is logged);
        a frame over budget or ``ctx.quit()`` ends the replay early. The frames
        replayed get new keyframes; the recorded input stays.

        Returns:
            The frame reached.

        Raises:
            runtime.history.HistoryError: either frame is outside the history, or
                `to_frame` is before `from_frame`.
        """
        history = self._history()
        end = history.last_frame if to_frame is None else to_frame
        history.check(from_frame)
        history.check(end)
        if end < from_frame:
            raise HistoryError(f"cannot replay from frame {from_frame} back to frame {end}")
        recorded = history.inputs(from_frame, end)
        self._jump_to(from_frame)
        live_input, self.input = self.input, RecordedInput(recorded)
        history.set_replaying(True)
        try:
            while self.frame < end and self.halt_reason is None and self.quit_reason is None:
                _frame(self)
        finally:
            self.input = live_input
            history.set_replaying(False)
        history.drop_keyframes_after(self.frame)
        return self.frame

    def _record_history(self, history: History) -> None:
        """Record the frame about to run; a recording that fails stops, the game does not."""
        try:
            history.record(self)
        except KeyframeTooSlow as exc:
            log.warning("%s", exc)
            self.history = None
        except Exception:
            log.exception("the history cannot record this game: recording stops")
            self.history = None

    def _history(self) -> History:
        if self.history is None:
            raise HistoryError("this game records no history ([history] seconds = 0)")
        return self.history

    def _forget_history(self) -> None:
        if self.history is not None:
            self.history.clear()

    def replayed_aside(self, frame: int) -> ScratchGame:
        """A scratch copy of the game at `frame`: its keyframe, then its recorded input.

        Raises:
            runtime.history.HistoryError: as `preview`.
        """
        history = self._history()
        key = history.keyframe_for(frame)
        state = restore_state(
            key.blob, LoadedClasses(self), self.generations.generation, self.plugin_objects
        )
        scratch = self.scratch(state, history.inputs(key.frame, frame))
        scratch.run_frames(frame - key.frame, past_failures=True)
        return scratch

    def _jump_to(self, frame: int) -> None:
        """The live game takes the state at `frame` (see `rewind`)."""
        aside = self.replayed_aside(frame)
        history = self._history()
        for rs, source in zip(self.running_scenes, aside.running_scenes, strict=True):
            scene, new = rs.scene, source.scene
            gone = list(scene.roots)
            scene.name, scene.background = new.name, new.background
            scene.entities, scene.roots = new.entities, new.roots
            scene.next_handle = new.next_handle
            rs.take_pending(source)
            for h in gone:
                scene.notify(EntityRemoved(h, Handle.NONE))
            for h in scene.roots:
                scene.notify(EntityAdded(h))
        for name in aside.restored_plugins:
            self.plugin_objects[name] = aside.plugin_objects[name]
        live_scene = dict(zip(map(id, aside.running_scenes), self.running_scenes, strict=True))
        move_callbacks(aside.callbacks, self.callbacks, lambda rs: live_scene.get(id(rs)))
        self.frame, self.time = aside.frame, aside.time
        self.random.setstate(aside.random.getstate())
        aside.close()
        self.release_contexts()
        history.drop_keyframes_after(self.frame)

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

        Never raises for errors in plugin code or in an observer of the reload. With an
        import check (`set_import_check`), code whose import would end or hang this
        process is refused before anything else happens.

        Args:
            paths: changed files or folders under ``plugins/``.
            detected_at: ``time.perf_counter()`` of the file event, for the report's timings.

        Returns:
            The `runtime.reports.ReloadReport`; on failure nothing changed.
        """
        names, refused = self._refused_by_import_check(paths)
        if refused:
            return self._refused_report(paths, names, refused)
        wanted = None if paths is None else [str(p) for p in paths]
        # Taken before the load reads the files, so that a save during it still counts.
        stamps = file_stamps(wanted) if wanted is not None else {}
        report = _engine_reload()(self, wanted, detected_at)
        _restore_engine()
        if report.ok:
            self.changes.mark_loaded(stamps)
        return report

    def rerun(self, change: UnappliedChange) -> int:
        """Run a changed ``on_init`` or ``on_start`` again on the objects it did not reach.

        The one-click fix of a "changed but did not run" entry of a reload report:
        scripts of `change.type_id` on its entities, in every running scene, and
        the plugin object when it is concerned. Scripts that raise are paused as
        in any frame. Other kinds of change cannot be re-run.

        Returns:
            How many objects ran the hook.
        """
        if change.kind != "hook":
            return 0
        ran = 0
        wanted = set(change.entities)
        for rs in self.running_scenes:
            for handle in wanted:
                e = rs.scene.entities.get(Handle(handle))
                if e is None:
                    continue
                for s in list(e.scripts):
                    if script_type_id(s) == change.type_id and type(s) is not PlaceholderScript:
                        self.call_script(rs, e, s, change.what)
                        ran += 1
            rs.invalidate()
        obj = self.plugin_objects.get(change.plugin)
        if change.plugin_object and obj is not None and self.started:
            self.call_plugin(obj, change.what)
            ran += 1
        return ran

    def set_import_check(self, check: ImportCheck | None) -> None:
        """Have every new generation of plugin code imported elsewhere before it runs here.

        The editor sets a `runtime.import_check.ImportChecker`'s ``check``: a reload
        whose code would end this process or hang in its import (``os._exit``, a
        segfault, an endless loop at module level) is then refused with a failed
        report naming the file, and nothing changes.

        Args:
            check: ``check(plugins_dir, names)`` imports those plugins in a disposable
                process and returns a one-line refusal per plugin it could not import
                there; ``None``: import directly.
        """
        self._import_check = check

    def _refused_by_import_check(
        self, paths: Iterable[str | os.PathLike[str]] | None
    ) -> tuple[list[str], dict[str, str]]:
        """The plugins a load of `paths` (``None``: all) imports, and the check's refusals.

        Without an import check: nothing to check, ``([], {})``.
        """
        if self._import_check is None:
            return [], {}
        if paths is None:
            names = self.plugins.discover(warn=False)
        else:
            from runtime.reload.scope import find_scope

            names = list(find_scope(self.plugins, [str(p) for p in paths]).to_load)
        return names, dict(self._import_check(self.plugins.plugins_dir, names)) if names else {}

    def _refused_report(
        self,
        paths: Iterable[str | os.PathLike[str]] | None,
        names: Sequence[str],
        refused: Mapping[str, str],
    ) -> ReloadReport:
        """The failed report of a reload the import check refused; it is recorded as any other."""
        errors = tuple(refused[n] for n in sorted(refused))
        report = ReloadReport(
            ok=False,
            plugins=tuple(sorted(names)),
            error=errors[0],
            errors=errors,
            changed=tuple(str(p) for p in paths or ()),
        )
        logging.getLogger("hotplay.reload").error("%s", report.details())
        self.record_reload(report)
        return report

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

        A reload never changes an object it replaces by a new one. The objects it
        keeps change class at the commit (and lose their paused mark), and those
        of the classes in `migrating_in_place` change their fields too: a
        participant that compares state before and after copies theirs in
        ``prepare``.
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
        self.changes.post_saved(paths, detected_at)

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
        plugin_stashes: Mapping[str, dict[str, Any]],
        retyped: Mapping[type, type] | None = None,
        rebind: Callable[[RunningScene], bool] | None = None,
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
            plugin_stashes: what is kept of the plugin objects of deleted plugins.
            retyped: the new class of each old class whose objects were kept (they
                have it by now).
            rebind: whether a running scene's update list may follow its scripts to
                their new classes (`RunningScene.rebind`) rather than be built again.
        """
        self.plugins.install(plugins)
        for name in removed:
            self.plugins.unload(name)
        for name, obj in plugin_objects.items():
            if obj is None:
                self.plugin_objects.pop(name, None)
            else:
                self.plugin_objects[name] = obj
                self.plugin_stashes.pop(name, None)  # back: it was built from what was kept
        self.plugin_stashes.update(plugin_stashes)
        for entity, index, script in scripts:
            entity.scripts[index] = script
        self.callbacks.replace_all(timers, subscriptions, messages, emitted)
        self.release_contexts()
        for rs in self.running_scenes:
            # Scripts initialised but not started yet (spawned last frame, or a game that
            # has not run a frame) must get on_start on their new object, not the old one.
            rs.replace_pending_starts(rebuilt)
            if rebind is not None and rebind(rs) and rs.rebind(retyped or {}):
                continue
            rs.invalidate()
            # Build the next frame's update list now, while the collector is off: built
            # in the frame, its allocations set off collections over the whole scene.
            rs.updaters()

    def scratch(self, state: GameState, inputs: Iterable[FrameInput]) -> ScratchGame:
        """A throw-away game that runs `state` with `inputs`, apart from this one.

        It shares this game's loaded code, guard and settings, and nothing it
        runs reaches this game's objects (module globals of plugin code are
        shared all the same). The reload's look-ahead and `preview` use it.
        """
        return ScratchGame(self, state, inputs)

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
            self.guard.close()

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
        """Tell a scene's observers that a reload swapped new script objects (or classes) in."""
        scene.notify(ScriptsReplaced(tuple(handles), by_reload=True))


@dataclass(frozen=True, slots=True)
class ScratchFailure:
    """What went wrong in a `ScratchGame`, and on which of its frames.

    Attributes:
        frames: how many frames the scratch game had begun when it happened (1: its first).
        error: the exception (a `runtime.guard.GameCodeError` for a budget overrun).
        hook: the hook that raised (``on_update``...), or ``""`` for a frame over budget.
        owner: the script or plugin object that raised, or ``None``.
        entity: the name of the script's entity, or ``""``.
    """

    frames: int
    error: BaseException
    hook: str = ""
    owner: Any = None
    entity: str = ""


class ScratchGame(Game):
    """A copy of a game's world that runs frames on its own (`Game.scratch`).

    Built from a `runtime.history.GameState` (its own scenes, plugin objects,
    callbacks, random source and input) over the live game's loaded code. Errors
    of game code pause the culprit here, as in play, and are kept in `failures`
    instead of being logged; it never reloads, records no history and owns
    nothing to close.
    """

    def __init__(self, live: Game, state: GameState, inputs: Iterable[FrameInput]) -> None:
        # Everything the loop reads comes from the live game (its code, guard, settings),
        # so a setting added to Game later is there too; the world is then replaced.
        self.__dict__.update(live.__dict__)
        self.history = None
        self.exit_ends_game = False  # sys.exit in the copy is that code's error
        self.quit_reason = self.halt_reason = None
        self._quit_listeners, self._halt_listeners, self._reload_listeners = [], [], []
        self._asset_listeners, self.reload_participants = [], []
        self.changes = PendingChanges()
        self.watcher = None
        self.input = RecordedInput(inputs)
        self.random = random.Random()
        self.random.setstate(state.random_state)
        self.frame, self.time = state.frame, state.time
        self.started = True
        #: The plugins whose objects came from the state (the others are new objects).
        self.restored_plugins = state.restored_plugins
        self.plugin_objects = dict(state.plugin_objects)
        self._plugin_ctx = PluginContext(self)
        self.callbacks = CallbackStore()
        self.scenes, self.running_scenes = [], []
        for scene_state in state.scenes:
            rs = RunningScene(self, scene_state.scene)
            rs._to_start = list(scene_state.to_start)
            self.scenes.append(scene_state.scene)
            self.running_scenes.append(rs)
        state.install_callbacks(self.callbacks, self.running_scenes)
        #: The errors of game code, in order (`ScratchFailure`).
        self.failures: list[ScratchFailure] = []
        self._first_frame = state.frame

    def run_frames(
        self, frames: int, seconds: float | None = None, *, past_failures: bool = False
    ) -> int:
        """Run up to `frames` frames; stop after one that quit or failed. Returns how many ran.

        Args:
            frames: the most frames to run.
            seconds: stop once the frames have taken this long (at least one runs).
            past_failures: go on after a frame in which game code failed (the
                culprit stays paused, as in play): a rebuilt past frame is the
                frame asked for; a look-ahead stops at the first failure.
        """
        ran = 0
        deadline = None if seconds is None else time.perf_counter() + seconds
        while ran < frames and (past_failures or not self.failures) and self.quit_reason is None:
            _frame(self)
            ran += 1
            if deadline is not None and time.perf_counter() > deadline:
                break
        return ran

    def script_failed(self, e: Entity, s: Script, hook: str, exc: BaseException) -> None:
        """Pause the script in the copy and keep the error (nothing is logged)."""
        self._pause_script(e, s)
        self._failed(exc, hook, s, e.name)

    def plugin_failed(self, obj: Plugin, hook: str, error: BaseException) -> None:
        """Pause the plugin object in the copy and keep the error."""
        obj.__dict__["_hp_faulted"] = True
        self._failed(error, hook, obj, "")

    def halt(self, reason: str) -> None:
        """A frame of the copy went over the budget: kept as a failure."""
        self.halt_reason = reason
        self._failed(BudgetExceeded(reason), "", None, "")

    def request_quit(self, reason: str = "the game quit") -> None:
        """Game code quit the copy: it runs no more frames (nothing is logged)."""
        self.quit_reason = self.quit_reason or reason

    def _failed(self, exc: BaseException, hook: str, owner: Any, entity: str) -> None:
        frames = self.frame - self._first_frame + 1
        self.failures.append(ScratchFailure(frames, exc, hook, owner, entity))
        log.debug("in a scratch copy, frame %d: %s", frames, describe_error(exc))

    def close(self) -> None:
        """Let go of the copied world now; the copy runs no more frames.

        The copy's scenes, running scenes, contexts and the copy itself refer to
        one another, so reference counting alone never frees them: left to the
        cyclic collector, the world of every look-ahead (ten objects an entity)
        waited for a collection, which then walked all of it in a later frame.
        The loaded code and the watchers are the live game's: nothing else to close.
        """
        for rs in self.running_scenes:
            rs.close()
            rs.__dict__.clear()
        self.__dict__.clear()


# --- the engine's own references (monkeypatching cannot take them over) -------------------

#: `Game._frame` as the runtime defines it; `Game.step` calls this, not the attribute.
_frame = Game._frame

_reload_plugins: Callable[..., ReloadReport] | None = None


def _engine_reload() -> Callable[..., ReloadReport]:
    """The reload transaction: the runtime's own `runtime.reload.reload_plugins`.

    Imported on first use: the transaction's modules cost a player that never
    reloads a noticeable part of its start-up. Game code may have replaced the
    module's function by then: that is told by where the function comes from,
    and the module is then run again to get the engine's own back.
    """
    global _reload_plugins
    if _reload_plugins is None:
        import runtime.reload

        fn = runtime.reload.reload_plugins
        if getattr(fn, "__module__", None) != "runtime.reload" or (
            getattr(fn, "__qualname__", None) != "reload_plugins"
        ):
            log.warning("game code replaced runtime.reload.reload_plugins: the engine reloads it")
            importlib.reload(runtime.reload)
        _reload_plugins = runtime.reload.reload_plugins
    return _reload_plugins


def _restore_engine() -> None:
    """Put back engine functions that game code replaced, with a warning (after each reload)."""
    import runtime.reload

    if Game.__dict__["_frame"] is not _frame:
        log.warning("game code replaced Game._frame: the engine put its own back")
        Game._frame = _frame  # type: ignore[method-assign]
    if _reload_plugins is not None and runtime.reload.reload_plugins is not _reload_plugins:
        log.warning("game code replaced runtime.reload.reload_plugins: the engine put its own back")
        runtime.reload.reload_plugins = _reload_plugins
