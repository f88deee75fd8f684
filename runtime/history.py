"""The engine's record of the last seconds of play, for rewind, replay and scrubbing.

While a game steps, `History` keeps one **keyframe** a second and every frame's
input (`runtime.input.FrameInput`). A keyframe is one msgpack blob (the codec of
the reload snapshot, `runtime.snapshot`) of everything a frame starts from: the
running scenes (entities, transforms, visuals, scripts with their fields,
undeclared attributes and lifecycle state), the plugin objects, the timers,
subscriptions and queued messages, the frame number and game time, and the
state of the seeded random source (``ctx.random``). The state at any recorded
frame is its nearest keyframe at or before it, then the recorded input replayed
frame by frame: the loop is fixed-step, so that is the same state again.

A keyframe is read back under the code as it is *now* (`restore_state`):
objects are rebuilt from the current classes by type id, field by field by
name, as a saved scene loads; a value that no longer fits its field's type takes
the default and is set aside in the object's stash, a field the class no longer
declares goes to the stash, a script whose class is gone becomes a placeholder.

Memory is bounded: keyframes older than what `seconds` needs are dropped, with
the input before them. `runtime.game.Game` records into its `History` once per
frame (`record`) and offers `preview`, `rewind` and `replay` on top of it.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import logging
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from runtime.callbacks import CallbackStore, Emitted, Message, Subscription, Timer
from runtime.fields import PlainDataError, conforms, declared_fields, to_plain
from runtime.input import FrameInput
from runtime.scene import Entity, Scene, Visual, VisualKind
from runtime.scripting import (
    STASH_KEY,
    PlaceholderScript,
    Plugin,
    Script,
    instantiate,
    set_stash,
    type_id_of,
)
from runtime.snapshot import Unencodable, Unresolved, default_resolver, packb, unpackb
from runtime.values import Color, Handle

if TYPE_CHECKING:
    from runtime.game import Game, RunningScene

log = logging.getLogger("hotplay.history")

#: The layout version of a keyframe blob.
KEYFRAME_FORMAT = 1

#: Attributes the engine keeps on scripts and plugins: not the object's own state.
_ENGINE_KEYS = frozenset({"_hp_state", "_hp_entity", "_hp_faulted", STASH_KEY})

#: Stands for a field value msgpack could not hold: it takes its default when read back.
_UNSTORABLE = "\x00hotplay:unstorable"


class HistoryError(LookupError):
    """A frame the history does not hold was asked for; `str()` says which frames it has."""


@dataclass(frozen=True, slots=True)
class Keyframe:
    """The whole state of a game as a frame starts.

    Attributes:
        frame: the number of frames run before it (`runtime.game.Game.frame`).
        blob: the state, as `capture_state` wrote it.
    """

    frame: int
    blob: bytes


class History:
    """The ring buffer of a playing game: a keyframe a second and every frame's input.

    Frame numbers are those of `runtime.game.Game.frame`: the state "at frame
    *n*" is the one after *n* frames ran, and the input of frame *n* is what
    the frame that leads from *n* to *n + 1* saw.

    Args:
        seconds: how much play to keep (at least; up to a second more is held).
        dt: the game's fixed time step in seconds.
    """

    def __init__(self, seconds: float, dt: float) -> None:
        if seconds <= 0:
            raise ValueError("a history keeps a positive number of seconds")
        self._seconds = seconds
        self._dt = dt
        #: Frames between keyframes: one second of play.
        self.keyframe_interval = max(1, round(1.0 / dt))
        self._keep_frames = max(1, round(seconds / dt))
        self._keyframes: collections.deque[Keyframe] = collections.deque()
        self._keyframe_bytes = 0
        self._inputs: collections.deque[FrameInput] = collections.deque()
        self._inputs_from = 0  # the frame whose input is _inputs[0]
        self._last_frame = 0
        self._replaying = False

    # --- what it holds --------------------------------------------------------------------

    @property
    def first_frame(self) -> int:
        """The earliest frame whose state can be had (its oldest keyframe's).

        Raises:
            HistoryError: nothing is recorded yet.
        """
        if not self._keyframes:
            raise HistoryError("the history is empty: the game has not run a frame")
        return self._keyframes[0].frame

    @property
    def last_frame(self) -> int:
        """The latest recorded frame: the live frame, or later right after a rewind.

        After `runtime.game.Game.rewind` the input recorded past the live frame
        is kept (a replay can use it) until the game steps live again.
        """
        return self._last_frame

    @property
    def dt(self) -> float:
        """The fixed time step of the recorded frames, in seconds."""
        return self._dt

    @property
    def seconds(self) -> float:
        """How much play the history is set to keep, in seconds."""
        return self._seconds

    @property
    def seconds_kept(self) -> float:
        """How much play it holds now: from `first_frame` to `last_frame`, in seconds."""
        if not self._keyframes:
            return 0.0
        return (self._last_frame - self._keyframes[0].frame) * self._dt

    @property
    def byte_size(self) -> int:
        """The memory the recording takes, in bytes: keyframes plus one reference a frame.

        Consecutive frames with the same keys share one `FrameInput`, so a
        frame's input costs a reference unless a key changed.
        """
        return self._keyframe_bytes + len(self._inputs) * _REFERENCE_BYTES

    @property
    def keyframes(self) -> tuple[Keyframe, ...]:
        """The keyframes held, oldest first."""
        return tuple(self._keyframes)

    def __contains__(self, frame: object) -> bool:
        return (
            isinstance(frame, int)
            and bool(self._keyframes)
            and self._keyframes[0].frame <= frame <= self._last_frame
        )

    def keyframe_for(self, frame: int) -> Keyframe:
        """The latest keyframe at or before `frame`.

        Raises:
            HistoryError: `frame` is outside ``first_frame .. last_frame``.
        """
        self.check(frame)
        found = self._keyframes[0]
        for k in self._keyframes:
            if k.frame > frame:
                break
            found = k
        return found

    def inputs(self, start: int, end: int) -> list[FrameInput]:
        """The recorded input of frames ``start .. end - 1``.

        Raises:
            HistoryError: some of those frames are not recorded.
        """
        first = self._inputs_from
        if start < first or end > first + len(self._inputs) or start > end:
            raise HistoryError(
                f"the input of frames {start} to {end - 1} is not recorded "
                f"(the history holds {self._describe()})"
            )
        return list(itertools.islice(self._inputs, start - first, end - first))

    def check(self, frame: int) -> None:
        """Raise unless the state at `frame` can be had.

        Raises:
            HistoryError: `frame` is outside ``first_frame .. last_frame``.
        """
        if frame not in self:
            raise HistoryError(f"frame {frame} is not in the history ({self._describe()})")

    def _describe(self) -> str:
        if not self._keyframes:
            return "nothing yet"
        return f"frames {self._keyframes[0].frame} to {self._last_frame}"

    # --- recording ------------------------------------------------------------------------

    def record(self, game: Game) -> None:
        """Record the frame `game` is about to run: a keyframe when one is due, and its input.

        The game calls this at the start of each frame, once the frame's input
        is in. Stepping live from a frame before `last_frame` (after a rewind)
        first drops what was recorded past it: that future did not happen.
        """
        frame = game.frame
        if not self._replaying and frame != self._last_frame:
            self.truncate(frame)
        if not self._keyframes or (
            frame % self.keyframe_interval == 0 and self._keyframes[-1].frame < frame
        ):
            blob = capture_state(game)
            self._keyframes.append(Keyframe(frame, blob))
            self._keyframe_bytes += len(blob)
        if self._replaying:
            return  # the input being played is the one recorded
        previous = self._inputs[-1] if self._inputs else None
        self._inputs.append(game.input.frame_input(previous))
        self._last_frame = frame + 1
        self._trim()

    def truncate(self, frame: int) -> None:
        """Forget everything recorded after `frame`: its keyframes and the input from it on.

        A `frame` before the history, or after it, starts the recording afresh.
        """
        if not self._keyframes or not self._keyframes[0].frame <= frame <= self._last_frame:
            self.clear()
            self._inputs_from = self._last_frame = frame
            return
        self.drop_keyframes_after(frame)
        while self._inputs and self._inputs_from + len(self._inputs) > frame:
            self._inputs.pop()
        self._last_frame = frame

    def drop_keyframes_after(self, frame: int) -> None:
        """Forget the keyframes later than `frame` (they belong to a future that changed)."""
        while self._keyframes and self._keyframes[-1].frame > frame:
            self._keyframe_bytes -= len(self._keyframes.pop().blob)

    def clear(self) -> None:
        """Forget everything (the game stopped, or the running scenes changed)."""
        self._keyframes.clear()
        self._keyframe_bytes = 0
        self._inputs.clear()
        self._inputs_from = 0
        self._last_frame = 0

    def replaying(self, on: bool) -> None:
        """While on, `record` keeps keyframes of the frames replayed but records no input.

        `runtime.game.Game.replay` turns it on for the frames it plays from the
        recording (their input is already recorded), and off again after.
        """
        self._replaying = on

    def _trim(self) -> None:
        # Keep the newest keyframe that still covers the horizon, and nothing older.
        horizon = self._last_frame - self._keep_frames
        keyframes = self._keyframes
        while len(keyframes) > 1 and keyframes[1].frame <= horizon:
            self._keyframe_bytes -= len(keyframes.popleft().blob)
        first = keyframes[0].frame
        while self._inputs_from < first and self._inputs:
            self._inputs.popleft()
            self._inputs_from += 1


#: What one more frame's input costs when its keys did not change: a slot of the deque.
_REFERENCE_BYTES = struct.calcsize("P")


# --- the keyframe codec ---------------------------------------------------------------------


class ClassSource(Protocol):
    """Where `restore_state` finds the code to rebuild objects with."""

    def script_class(self, type_id: str) -> type[Script] | None:
        """The script class of a type id, or ``None`` when no plugin defines it."""

    def plugin_class(self, name: str) -> type[Plugin] | None:
        """The `Plugin` class of a plugin package, or ``None`` when it is not loaded."""

    def value_class(self, module: str, qualname: str) -> Any:
        """The enum or dataclass a stored value was made of, or ``None``."""


@dataclass(slots=True)
class SceneState:
    """A running scene read back from a keyframe.

    Attributes:
        scene: the scene, with new entity and script objects.
        to_start: the scripts initialised but not started yet (``on_start`` is due).
    """

    scene: Scene
    to_start: list[tuple[Entity, Script]]


@dataclass(slots=True)
class GameState:
    """The whole state of a game read back from a keyframe, under the current code.

    `plugin_objects` has an object for every plugin asked for; `restored_plugins`
    names those read back from the keyframe (the others are new objects).

    Callbacks refer to their running scene by index in `scenes` until
    `install_callbacks` gives them to the game that takes the state.
    """

    frame: int
    time: float
    random_state: Any
    next_timer_id: int
    generation: int
    plugin_objects: dict[str, Plugin]
    restored_plugins: frozenset[str]
    scenes: list[SceneState]
    callbacks: CallbackStore = field(default_factory=CallbackStore)

    def install_callbacks(self, store: CallbackStore, running: Sequence[RunningScene]) -> None:
        """Put the callbacks into `store`, each pointed at its scene among `running`."""

        def scene(index: Any) -> Any:
            return running[index] if isinstance(index, int) and 0 <= index < len(running) else None

        cb = self.callbacks
        for _, _, t in cb.timers:
            t.scene = scene(t.scene)
        for s in cb.subscriptions:
            s.scene = scene(s.scene)
        for m in cb.messages:
            m.scene = scene(m.scene)
        store.replace_all([t for _, _, t in cb.timers], cb.subscriptions, cb.messages, cb.emitted)
        store._ids = itertools.count(self.next_timer_id)


def next_timer_id(callbacks: CallbackStore) -> int:
    """The id the next timer of `callbacks` will get (its counter stays as it was)."""
    n = next(callbacks._ids)
    callbacks._ids = itertools.count(n)
    return n


def capture_state(
    game: Game,
    *,
    replaced: Mapping[int, Any] | None = None,
    callbacks: CallbackStore | None = None,
) -> bytes:
    """The keyframe blob of `game` between two frames; reads the game, changes nothing.

    Args:
        game: the game.
        replaced: a new object to store in the place of an old one, by ``id`` of
            the old (a reload's look-ahead stores the restored objects, not the live ones).
        callbacks: the timers, subscriptions and messages to store instead of the
            game's (the look-ahead stores the reload's rebuilt ones).
    """
    swap = replaced or {}
    where: dict[int, list[Any]] = {}  # id of a stored script (old and new) -> its owner ref
    plugins = []
    for name, obj in game.plugin_objects.items():
        obj = swap.get(id(obj), obj)
        where[id(obj)] = ["p", name]
        plugins.append([name, *_object_row(obj)])
    scenes = []
    for n, rs in enumerate(game.running_scenes):
        scene = rs.scene
        rows = []
        for e in scene:
            scripts = []
            for i, s in enumerate(e.scripts):
                new = swap.get(id(s), s)
                where[id(s)] = where[id(new)] = [n, int(e.handle), i]
                scripts.append(_script_row(new))
            v = e.visual
            visual = (
                None
                if v is None
                else [v.kind.value, v.size, v.color, v.z, v.image, v.text, v.font_size]
            )
            rows.append(
                [
                    int(e.handle),
                    e.name,
                    int(e.parent),
                    [int(c) for c in e.children],
                    e.enabled,
                    e.position,
                    e.rotation,
                    e.scale,
                    visual,
                    scripts,
                ]
            )
        starts = [where[id(s)][1:] for _, s in rs._to_start if id(s) in where]
        scenes.append(
            [
                scene.name,
                scene.background,
                scene.next_handle,
                [int(h) for h in scene.roots],
                rows,
                starts,
            ]
        )
    cb = callbacks if callbacks is not None else game.callbacks
    scene_index = {id(rs): i for i, rs in enumerate(game.running_scenes)}
    timers = [
        [where[id(t.owner)], t.method, t.due, t.interval, list(t.args), int(t.handle), t.id]
        for t in cb.live_timers()
        if id(t.owner) in where
    ]
    subs = [
        [where[id(s.owner)], s.event, s.method, int(s.handle)]
        for s in cb.subscriptions
        if id(s.owner) in where
    ]
    messages = [[scene_index.get(id(m.scene), -1), int(m.target), m.payload] for m in cb.messages]
    emitted = [[ev.event, ev.payload] for ev in cb.emitted]
    state = [
        KEYFRAME_FORMAT,
        game.frame,
        game.time,
        game.random.getstate(),
        next_timer_id(game.callbacks),
        game.generations.generation,
        plugins,
        scenes,
        [timers, subs, messages, emitted],
    ]
    try:
        return packb(state)
    except Unencodable:
        # Rare: something in the state has no msgpack form. Find it, drop it, say so.
        _drop_unstorable(state)
        return packb(state)


def _object_row(obj: Any) -> list[Any]:
    """``[fields, undeclared attributes, faulted, stash]`` of a script or plugin object."""
    d = obj.__dict__
    fields = {name: getattr(obj, name) for name in declared_fields(type(obj))}
    extra_keys = d.keys() - _ENGINE_KEYS - fields.keys()
    extras = {k: d[k] for k in extra_keys} if extra_keys else None
    return [fields, extras, bool(d.get("_hp_faulted")), d.get(STASH_KEY)]


def _script_row(s: Script) -> list[Any]:
    """``[type id, fields, extras, faulted, stash, lifecycle state]`` (a placeholder: its data)."""
    state = s.__dict__.get("_hp_state", 0)
    if type(s) is PlaceholderScript:
        return [s.missing_type_id, None, [s.data, s.reason], False, s.__dict__.get(STASH_KEY), 0]
    return [type_id_of(type(s)), *_object_row(s), state]


def _drop_unstorable(state: list[Any]) -> None:
    """Replace what msgpack cannot hold, and log it.

    A field gets a mark (read back, it takes its default); an attribute is dropped.
    """

    def clean(row: list[Any], who: str, offset: int) -> None:
        fields, extras = row[offset], row[offset + 1]
        for name in list(fields or ()):
            if _unstorable(fields[name]):
                log.warning("history: %s.%s cannot be recorded; replays reset it", who, name)
                fields[name] = _UNSTORABLE
        for name in list(extras or ()):
            if _unstorable(extras[name]):
                log.warning("history: %s.%s cannot be recorded; replays lack it", who, name)
                del extras[name]

    for row in state[6]:
        clean(row, row[0], 1)
    for scene in state[7]:
        for entity in scene[4]:
            for row in entity[9]:
                if row[1] is not None:
                    clean(row, row[0], 1)
    for i, kind in enumerate(state[8]):
        state[8][i] = [entry for entry in kind if not _unstorable(entry)]


def _unstorable(value: Any) -> bool:
    try:
        packb(value)
        return False
    except Unencodable:
        return True


def restore_state(
    blob: bytes, classes: ClassSource, generation: int | None, plugins: Iterable[str]
) -> GameState:
    """Read a keyframe back into new objects of the current code (see the module docstring).

    Args:
        blob: what `capture_state` wrote.
        classes: where to find the classes to rebuild objects with.
        plugins: the plugins the state is for: one the keyframe does not hold (it
            came later) gets a new plugin object; one it holds and that is not
            among them is left out.
        generation: the current code generation (`runtime.generations`): scripts
            and plugins paused for an error stay paused only when the keyframe is
            of that generation (new code gets its chance, as after a reload);
            ``None`` keeps every pause.
    """
    (fmt, frame, time, rng, next_id, stored_generation, stored_plugins, scenes, cbs) = unpackb(
        blob, classes.value_class, build=_build_dataclass
    )
    if fmt != KEYFRAME_FORMAT:
        raise ValueError(f"keyframe format {fmt} is not {KEYFRAME_FORMAT}")
    keep_faults = generation is None or generation == stored_generation
    wanted = dict.fromkeys(plugins)
    objects: dict[str, Plugin] = {}
    for name, fields, extras, faulted, stash in stored_plugins:
        cls = classes.plugin_class(name)
        if cls is not None and name in wanted:
            objects[name] = _rebuild(cls, fields, extras, faulted and keep_faults, stash)
    restored = frozenset(objects)
    for name in wanted:
        cls = classes.plugin_class(name)
        if name not in objects and cls is not None:
            objects[name] = instantiate(cls)
    scene_states = [_scene(raw, classes, keep_faults) for raw in scenes]

    def owner(ref: list[Any]) -> Any:
        if ref[0] == "p":
            return objects.get(ref[1])
        scene_index, handle, index = ref
        if not 0 <= scene_index < len(scene_states):
            return None
        e = scene_states[scene_index].scene.entities.get(Handle(handle))
        return e.scripts[index] if e is not None and index < len(e.scripts) else None

    def scene_of(ref: list[Any]) -> Any:
        return ref[0] if ref[0] != "p" else None  # an index until `bind_scenes`

    timers, subs, messages, emitted = cbs
    store = CallbackStore()
    for ref, method, due, interval, args, handle, tid in timers:
        own = owner(ref)
        if own is not None:
            t = Timer(tid, due, interval, own, method, tuple(args), scene_of(ref), Handle(handle))
            store.timers.append((due, tid, t))
    store.subscriptions = [
        Subscription(event, own, method, scene_of(ref), Handle(handle))
        for ref, event, method, handle in subs
        if (own := owner(ref)) is not None
    ]
    store.messages = [Message(i, Handle(target), payload) for i, target, payload in messages]
    store.emitted = [Emitted(event, payload) for event, payload in emitted]
    return GameState(
        frame=frame,
        time=time,
        random_state=_random_state(rng),
        next_timer_id=next_id,
        generation=stored_generation,
        plugin_objects=objects,
        restored_plugins=restored,
        scenes=scene_states,
        callbacks=store,
    )


def _random_state(stored: Any) -> Any:
    # random.Random.setstate wants (version, tuple of ints, gauss_next); msgpack kept the tuples.
    version, internal, gauss = stored
    return (version, tuple(internal), gauss)


def _scene(raw: list[Any], classes: ClassSource, keep_faults: bool) -> SceneState:
    name, background, next_handle, roots, rows, starts = raw
    scene = Scene(name=name, background=background if type(background) is Color else Color())
    scene.next_handle = next_handle
    scene.roots = [Handle(h) for h in roots]
    entities = scene.entities
    for handle, ename, parent, children, enabled, pos, rot, scl, visual, scripts in rows:
        e = Entity(Handle(handle), ename, position=pos, rotation=rot, scale=scl, enabled=enabled)
        e.parent = Handle(parent)
        e.children = [Handle(c) for c in children]
        if visual is not None:
            kind, size, color, z, image, text, font_size = visual
            e.visual = Visual(VisualKind(kind), size, color, z, image, text, font_size)
        e.scripts = [_script(row, e.handle, classes, keep_faults) for row in scripts]
        entities[e.handle] = e
    to_start = []
    for handle, index in starts:
        starting = entities.get(Handle(handle))
        if starting is not None and index < len(starting.scripts):
            to_start.append((starting, starting.scripts[index]))
    return SceneState(scene, to_start)


def _script(row: list[Any], handle: Handle, classes: ClassSource, keep_faults: bool) -> Script:
    type_id, fields, extras, faulted, stash, state = row
    cls = classes.script_class(type_id) if fields is not None else None
    if cls is None:
        if fields is None:  # a placeholder when recorded
            data, reason = extras
        else:
            data, reason = _plain_fields(fields), f"no plugin defines {type_id}"
        s: Script = PlaceholderScript(type_id, data, reason)
        if stash:
            set_stash(s, stash)
        s.__dict__["_hp_entity"] = handle
        return s
    s = _rebuild(cls, fields, extras, faulted and keep_faults, stash)
    s.__dict__["_hp_entity"] = handle
    if state:
        s.__dict__["_hp_state"] = state
    return s


def _rebuild(cls: type[Any], fields: dict[str, Any], extras: Any, faulted: bool, stash: Any) -> Any:
    """A new object of `cls` from stored fields, by the rules of loading a scene."""
    declared = declared_fields(cls)
    values = {}
    set_aside = dict(stash) if stash else {}
    for name, value in fields.items():
        spec = declared.get(name)
        if value == _UNSTORABLE and type(value) is str:
            continue
        if spec is not None and conforms(value, spec.annotation):
            values[name] = value
            continue
        plain = _plain(value)
        if plain is not None:
            set_aside[name] = plain
    obj = instantiate(cls, values)
    if extras:
        obj.__dict__.update(extras)
    if faulted:
        obj.__dict__["_hp_faulted"] = True
    if set_aside:
        set_stash(obj, set_aside)
    return obj


def _plain(value: Any) -> Any:
    """`value` as scene-file data, or ``None`` when it has no such form (it is then lost)."""
    if isinstance(value, Unresolved):
        return value.data
    try:
        return to_plain(value)
    except (PlainDataError, RecursionError):
        return None


def _plain_fields(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: p for k, v in fields.items() if (p := _plain(v)) is not None}


def _build_dataclass(module: str, qualname: str, cls: Any, stored: dict[str, Any]) -> Any:
    """A stored dataclass value from the current class; `Unresolved` when it refuses the values."""
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    try:
        return cls(**{k: v for k, v in stored.items() if k in known})
    except Exception:
        return Unresolved(module, qualname, stored)


# --- where the classes come from --------------------------------------------------------------


class LoadedClasses:
    """The classes of the plugins a game runs now (a rewind, a replay, a preview)."""

    def __init__(self, game: Game) -> None:
        self._game = game

    def script_class(self, type_id: str) -> type[Script] | None:
        """The script class the game's registry has for `type_id`."""
        resolved: type[Script] | None = self._game.registry.resolve(type_id)
        return resolved

    def plugin_class(self, name: str) -> type[Plugin] | None:
        """The `Plugin` class of a loaded plugin."""
        loaded = self._game.plugins.plugins.get(name)
        return loaded.plugin_class if loaded is not None else None

    def value_class(self, module: str, qualname: str) -> Any:
        """An enum or dataclass among the imported modules."""
        return default_resolver(module, qualname)
