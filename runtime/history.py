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
frame (`record`) and offers `preview`, `rewind` and `replay` on top of it;
`PastFrames` serves a timeline that shows frame after frame.
"""

from __future__ import annotations

import collections
import functools
import itertools
import logging
import operator
import struct
import sys
import time
import types
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import msgpack

from runtime.callbacks import CallbackStore, Emitted, Message, Subscription, Timer
from runtime.fields import (
    FieldSpec,
    PlainDataError,
    conforms,
    declared_fields,
    from_plain,
    to_plain,
    type_name,
)
from runtime.input import NO_INPUT, FrameInput, RecordedInput
from runtime.scene import Entity, Scene, Visual, VisualKind
from runtime.scripting import (
    ENGINE_KEYS,
    STASH_KEY,
    PlaceholderScript,
    Plugin,
    Script,
    instantiate,
    set_stash,
    type_id_of,
)
from runtime.snapshot import (
    RebuildError,
    Unencodable,
    Unresolved,
    build_dataclass,
    default_resolver,
    packb,
    unpackb,
)
from runtime.values import Color, Handle, Vec2

if TYPE_CHECKING:
    from runtime.game import Game, RunningScene, ScratchGame

log = logging.getLogger("hotplay.history")

#: The layout version of a keyframe blob.
KEYFRAME_FORMAT = 1


#: Stands for a field value msgpack could not hold: it takes its default when read back.
_UNSTORABLE = "\x00hotplay:unstorable"


class HistoryError(LookupError):
    """A frame the history does not hold was asked for; `str()` says which frames it has."""


#: A keyframe that takes longer than this, in seconds, stops the recording: every
#: second the game would stall that long (about 30,000 entities on a laptop core).
MAX_KEYFRAME_SECONDS = 0.1


class KeyframeTooSlow(Exception):
    """Recording this game would stall it every second; `str()` says how long and why."""


class _PastDeadline(Exception):
    """A keyframe was given up: it ran past the deadline `capture_state` was given."""


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
        self._input_bytes = 0  # of the distinct FrameInput objects held
        self._last_frame = 0
        self._replaying = False
        self._columns = ColumnCache()

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
        """The memory the recording takes, in bytes: its keyframes and its frames' input.

        Consecutive frames with the same keys share one `FrameInput`, so a
        frame's input costs a reference unless a key changed.
        """
        return self._keyframe_bytes + self._input_bytes + len(self._inputs) * _REFERENCE_BYTES

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
            started = time.perf_counter()
            # Given up as soon as it is too slow: a large scene's first frame would
            # otherwise wait for a whole keyframe (seconds at 100,000 entities) to drop it.
            deadline = started + MAX_KEYFRAME_SECONDS
            try:
                blob = capture_state(game, columns=self._columns, deadline=deadline)
            except _PastDeadline:
                blob = None
            took = time.perf_counter() - started
            if blob is None or took > MAX_KEYFRAME_SECONDS:
                how_long = (
                    f"took {took * 1000:.0f} ms"
                    if blob is not None
                    else f"was given up after {took * 1000:.0f} ms"
                )
                raise KeyframeTooSlow(
                    f"a keyframe of this game ({game.stats()['entities']:,} entities) "
                    f"{how_long}, more than {MAX_KEYFRAME_SECONDS * 1000:.0f} ms: "
                    "recording stops, so that the game does not stall every second "
                    "(no timeline, rewind or replay for it; [history] seconds = 0 turns "
                    "recording off)"
                )
            self._keyframes.append(Keyframe(frame, blob))
            self._keyframe_bytes += len(blob)
        if self._replaying:
            return  # the input being played is the one recorded
        previous = self._inputs[-1] if self._inputs else None
        keys = game.input.frame_input(previous)
        if keys is not previous:
            self._input_bytes += _input_size(keys)
        self._inputs.append(keys)
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
        inputs = self._inputs
        while inputs and self._inputs_from + len(inputs) > frame:
            gone = inputs.pop()
            if not inputs or inputs[-1] is not gone:
                self._input_bytes -= _input_size(gone)
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
        self._input_bytes = 0
        self._inputs_from = 0
        self._last_frame = 0

    def set_replaying(self, on: bool) -> None:
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
        inputs = self._inputs
        while self._inputs_from < first and inputs:
            gone = inputs.popleft()
            if not inputs or inputs[0] is not gone:
                self._input_bytes -= _input_size(gone)
            self._inputs_from += 1


#: What one more frame's input costs when its keys did not change: a slot of the deque.
_REFERENCE_BYTES = struct.calcsize("P")


def _input_size(keys: FrameInput) -> int:
    """The bytes of one distinct `FrameInput` (the shared empty one costs nothing)."""
    if keys is NO_INPUT:
        return 0
    return sys.getsizeof(keys) + sum(map(sys.getsizeof, (keys.down, keys.pressed, keys.released)))


# --- the keyframe codec ---------------------------------------------------------------------
#
# A keyframe is written once a second while the game plays, so it is written by
# columns: per scene, one list per entity attribute, and per script class one list
# per field. Columns of vectors and handles become plain numbers (msgpack then packs
# them without a Python call per value), and the lists are built by C-level `map`
# over attribute getters wherever the values need no check. Read back, a class whose
# declared fields are what they were takes its values as they were (a faithful copy
# of the live state); one whose fields changed since (a hot reload) goes through the
# rules of loading a scene (`_fit`).


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
    generation: int
    plugin_objects: dict[str, Plugin]
    restored_plugins: frozenset[str]
    scenes: list[SceneState]
    callbacks: CallbackStore = field(default_factory=CallbackStore)

    def install_callbacks(self, store: CallbackStore, running: Sequence[RunningScene]) -> None:
        """Put the callbacks into `store`, each pointed at its scene among `running`."""

        def scene(index: Any) -> Any:
            return running[index] if isinstance(index, int) and 0 <= index < len(running) else None

        move_callbacks(self.callbacks, store, scene)


def move_callbacks(
    source: CallbackStore, target: CallbackStore, scene: Callable[[Any], Any]
) -> None:
    """Give `target` the callbacks of `source`, each one's scene replaced by ``scene(old)``.

    How the callbacks of a state read back reach the game that takes it: their
    scenes are indices into the state's scenes, or the scenes of a scratch copy.
    Timer ids go on from `source`'s counter.
    """
    for _, _, t in source.timers:
        t.scene = scene(t.scene)
    for s in source.subscriptions:
        s.scene = scene(s.scene)
    for m in source.messages:
        m.scene = scene(m.scene)
    target.replace_all(
        [t for _, _, t in source.timers], source.subscriptions, source.messages, source.emitted
    )
    target._ids = source._ids


def next_timer_id(callbacks: CallbackStore) -> int:
    """The id the next timer of `callbacks` will get (its counter stays as it was)."""
    n = next(callbacks._ids)
    callbacks._ids = itertools.count(n)
    return n


# How a column of values is stored.
PLAIN, VEC2, HANDLE = 0, 1, 2

_handle = operator.attrgetter("handle")
_name = operator.attrgetter("name")
_parent = operator.attrgetter("parent")
_enabled = operator.attrgetter("enabled")
_position = operator.attrgetter("position")
_rotation = operator.attrgetter("rotation")
_scale = operator.attrgetter("scale")
_visual = operator.attrgetter("visual")
_children = operator.attrgetter("children")
_COUNT = itertools.count
_scripts = operator.attrgetter("scripts")
_dict_of = operator.attrgetter("__dict__")
_visual_kind = operator.attrgetter("kind")
_visual_size = operator.attrgetter("size")
_visual_color = operator.attrgetter("color")
#: The other members of `Visual`, stored as they are, in the order the reader takes them.
_VISUAL_PLAIN = tuple(map(operator.attrgetter, ("z", "image", "text", "font_size")))
_VISUAL_KINDS = {k.value: k for k in VisualKind}

_new_vec2 = functools.partial(tuple.__new__, Vec2)
_new_color = functools.partial(tuple.__new__, Color)


def _column(values: list[Any], kind_hint: type | None = None) -> list[Any]:
    """``[kind, values]``: vectors or handles as plain numbers when every value is one."""
    kinds = set(map(type, values))
    if kinds == {Vec2} and kind_hint is not Handle:
        return [VEC2, list(itertools.chain.from_iterable(values))]
    if kinds == {Handle} and kind_hint is not Vec2:
        return [HANDLE, list(map(int, values))]
    return [PLAIN, values]


def _read_column(stored: list[Any]) -> list[Any]:
    kind, values = stored
    if kind == VEC2:
        it = iter(values)
        return list(map(_new_vec2, zip(it, it, strict=True)))
    if kind == HANDLE:
        return list(map(Handle, values))
    return list(values)


def _flagged(dicts: list[dict[str, Any]], key: str) -> list[int]:
    """The indices of the dicts whose `key` is set to something true."""
    return list(itertools.compress(itertools.count(), map(dict.get, dicts, itertools.repeat(key))))


#: The types whose objects never change: a column of them holding the very objects it
#: held at the last keyframe packs to the very same bytes.
IMMUTABLE = frozenset({float, int, str, bool, type(None), Vec2, Handle, Color, VisualKind})


class _Packed(bytes):
    """A part of a keyframe packed already (a column that did not change)."""


class _Spliced(list[Any]):
    """A list of a keyframe that may hold `_Packed` parts: `_splice` packs it part by part."""


_array_header = msgpack.Packer().pack_array_header


def _splice(obj: Any) -> bytes:
    """The msgpack bytes of `obj`, `_Packed` parts as they are: the same bytes as `packb`.

    Raises:
        Unencodable: a value has no msgpack form.
    """
    if type(obj) is _Packed:
        return obj
    if type(obj) is _Spliced:
        header: bytes = _array_header(len(obj))
        return header + b"".join(map(_splice, obj))
    return packb(obj)


class ColumnCache:
    """The columns of the last keyframe a `History` wrote, each with its packed bytes.

    Most of a scene does not change from one second to the next (names, the
    tree, visuals, most fields), and packing it again is most of a keyframe's
    cost. A column is taken from here when it holds the very objects it held
    then (compared by identity, in C) and they are all of `IMMUTABLE` types:
    then its bytes are the same, to the bit. A column of strings, or of handles
    stored as numbers, is taken when its values are equal (one list comparison,
    also in C): equal values of those pack to the same bytes, where 1, 1.0 and
    True or 0.0 and -0.0 do not. Anything else is packed afresh. Only the
    columns of the last keyframe are kept.
    """

    def __init__(self) -> None:
        #: Each column of the last keyframe: its values, its bytes, and whether equal
        #: values are enough to take the bytes again (see `column`).
        self._last: dict[Hashable, tuple[list[Any], _Packed, bool]] = {}
        self._now: dict[Hashable, tuple[list[Any], _Packed, bool]] = {}

    def begin(self) -> None:
        """Start a keyframe: the columns it packs replace those of the last one."""
        self._now = {}

    def end(self) -> None:
        """The keyframe is written: its columns are the ones to compare the next with."""
        self._last, self._now = self._now, {}

    def column(self, key: Hashable, values: list[Any], build: Callable[[list[Any]], Any]) -> Any:
        """The stored form of a column, `_Packed` when it is the same as last time.

        Args:
            key: which column of the game it is (its scene, class and field).
            values: the column's values as the game holds them.
            build: makes the stored form from `values` (`_column`, say).
        """
        last = self._last.get(key)
        if last is not None and len(last[0]) == len(values):
            old, packed, exact = last
            # Where equal values pack to equal bytes, a comparison of the lists (in C,
            # the very same objects at once) tells; elsewhere 1 == 1.0 == True, and
            # only the very same objects will do.
            if values == old if exact else all(map(operator.is_, values, old)):
                self._now[key] = last
                return packed
        stored = build(values)
        kinds = set(map(type, values))
        if not kinds <= IMMUTABLE:
            return stored  # a list or a dict in it may change in place: packed each time
        packed = _Packed(packb(stored))
        self._now[key] = (values, packed, kinds <= _EXACT or build is _ints)
        return packed


#: The types whose equal values pack to equal bytes (a name, a path, a text).
_EXACT = frozenset({str})


class _Writer:
    """Builds the columns of one keyframe; `capture_state` packs them."""

    def __init__(
        self,
        swap: Mapping[int, Any],
        wanted: set[int],
        cache: ColumnCache | None,
        deadline: float | None = None,
    ) -> None:
        self.swap = swap
        #: ``time.perf_counter()`` past which the keyframe is given up (`_PastDeadline`).
        self.deadline = deadline
        #: Ids of the objects callbacks and pending starts refer to: their place is noted.
        self.wanted = wanted
        self.cache = cache
        self.where: dict[int, list[Any]] = {}
        self.layouts: dict[type, int] = {}
        self.layout_rows: list[list[Any]] = []

    def layout(self, cls: type) -> int:
        """The index of `cls`'s layout row ``[type id, field names, type names]``."""
        index = self.layouts.get(cls)
        if index is None:
            fields = declared_fields(cls)
            index = self.layouts[cls] = len(self.layout_rows)
            self.layout_rows.append(
                [
                    type_id_of(cls),
                    list(fields),
                    [type_name(f.annotation) for f in fields.values()],
                ]
            )
        return index

    def column(
        self, key: Hashable | None, values: list[Any], build: Callable[[list[Any]], Any] = list
    ) -> Any:
        """The stored form of a column: ``build(values)``, or its bytes of the last keyframe."""
        self.in_time()
        if self.cache is None or key is None:
            return build(values)
        return self.cache.column(key, values, build)

    def in_time(self) -> None:
        """Go on, or give the keyframe up (`_PastDeadline`) once past its deadline."""
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _PastDeadline

    def objects(self, cls: type, objs: list[Any], key: Hashable | None = None) -> _Spliced:
        """``[layout, field columns, extras, states, faulted, stashes]`` of objects of `cls`.

        `key` names the objects among the game's (``None``: not compared with the
        last keyframe); never a class, which the cache would keep alive past a reload.
        """
        self.in_time()
        layout = self.layout(cls)
        names = self.layout_rows[layout][1]
        dicts: list[dict[str, Any]] = list(map(_dict_of, objs))
        columns = _Spliced()
        for name in names:
            try:
                col = list(map(operator.itemgetter(name), dicts))
            except KeyError:  # a slot, or a field an object lost
                col = [getattr(o, name, None) for o in objs]
            columns.append(self.column(None if key is None else (key, name), col, _column))
        # Every attribute name any of them has, in one pass: most objects have no
        # undeclared attribute, none is paused and none has a stash, and then the
        # per-object look for each is skipped.
        present = set().union(*dicts)
        not_extra = ENGINE_KEYS.union(names)
        extras = []
        if not present <= not_extra:
            extras = [
                [i, {k: v for k, v in dicts[i].items() if k not in not_extra}]
                for i, only_fields in enumerate(map(not_extra.issuperset, dicts))
                if not only_fields
            ]
        states = list(map(dict.get, dicts, itertools.repeat("_hp_state"), itertools.repeat(0)))
        faulted = _flagged(dicts, "_hp_faulted") if "_hp_faulted" in present else []
        stashes = (
            [[i, dicts[i][STASH_KEY]] for i in _flagged(dicts, STASH_KEY)]
            if STASH_KEY in present
            else []
        )
        states_key = None if key is None else (key, "_hp_state")
        return _Spliced(
            [layout, columns, extras, self.column(states_key, states), faulted, stashes]
        )

    def scene(self, n: int, rs: RunningScene) -> _Spliced:
        """The columns of one running scene."""
        scene = rs.scene
        ents = list(scene.entities.values())
        # Which entities have children or a visual, found in C: a loop over every entity
        # in Python was a sixth of a keyframe.
        kids = list(map(_children, ents))
        children = [[i, list(map(int, kids[i]))] for i in itertools.compress(_COUNT(), kids)]
        visuals = list(map(_visual, ents))
        with_visual = list(
            itertools.compress(_COUNT(), map(operator.is_not, visuals, itertools.repeat(None)))
        )
        vis = list(map(visuals.__getitem__, with_visual))
        column = self.column
        vec2_column = functools.partial(_column, kind_hint=Vec2)
        visual_rows = _Spliced(
            [
                with_visual,
                column((n, "kind"), list(map(_visual_kind, vis)), _kind_names),
                column((n, "size"), list(map(_visual_size, vis)), vec2_column),
                column((n, "color"), list(map(_visual_color, vis)), _color_column),
                *(
                    column((n, "visual", i), list(map(getter, vis)))
                    for i, getter in enumerate(_VISUAL_PLAIN)
                ),
            ]
        )
        script_lists = list(map(_scripts, ents))
        live = list(itertools.chain.from_iterable(script_lists))
        stored = list(map(self.swap.get, map(id, live), live)) if self.swap else live
        counts = list(map(len, script_lists))
        if counts.count(1) == len(counts):  # the common case: one script per entity
            places = list(range(0, len(counts) * _MAX_SCRIPTS, _MAX_SCRIPTS))
        else:
            places = [i * _MAX_SCRIPTS + slot for i, c in enumerate(counts) for slot in range(c)]
        if self.wanted:
            handles = list(map(_handle, ents))
            position = dict(zip(map(id, live), places, strict=True))
            position.update(zip(map(id, stored), places, strict=True))
            for wanted in self.wanted:
                place = position.get(wanted)
                if place is not None:
                    i, slot = divmod(place, _MAX_SCRIPTS)
                    self.where[wanted] = [n, int(handles[i]), slot]
            self.in_time()
        groups: dict[type, tuple[list[int], list[Any]]] = {}
        classes = set(map(type, stored))
        if len(classes) == 1 and PlaceholderScript not in classes:
            groups[classes.pop()] = (places, stored)  # the common case: one script class
        else:
            for place, obj in zip(places, stored, strict=True):
                group = groups.setdefault(type(obj), ([], []))
                group[0].append(place)
                group[1].append(obj)
        placeholders = [
            [
                *divmod(place, _MAX_SCRIPTS),
                s.missing_type_id,
                s.data,
                s.reason,
                s.__dict__.get(STASH_KEY),
            ]
            for place, s in zip(*groups.pop(PlaceholderScript, ([], [])), strict=True)
        ]
        script_rows = _Spliced(
            _Spliced([places, *self.objects(cls, objs, (n, type_id_of(cls)))])
            for cls, (places, objs) in groups.items()
        )
        starts = [self.where[id(s)][1:] for _, s in rs._to_start if id(s) in self.where]
        return _Spliced(
            [
                scene.name,
                list(scene.background),
                scene.next_handle,
                # A copy: the scene's own list changes in place, the cache compares with it.
                column((n, "roots"), list(scene.roots), _ints),
                column((n, "handles"), list(scene.entities), _ints),
                column((n, "name"), list(map(_name, ents))),
                column((n, "parent"), list(map(_parent, ents)), _ints),
                column((n, "enabled"), list(map(_enabled, ents))),
                column((n, "position"), list(map(_position, ents)), vec2_column),
                column((n, "rotation"), list(map(_rotation, ents))),
                column((n, "scale"), list(map(_scale, ents)), vec2_column),
                children,
                visual_rows,
                script_rows,
                placeholders,
                starts,
            ]
        )


def _ints(handles: list[Handle]) -> list[int]:
    return list(map(int, handles))


def _kind_names(kinds: list[VisualKind]) -> list[str]:
    return list(map(str, kinds))


def _color_column(colors: list[Color]) -> list[int]:
    return list(itertools.chain.from_iterable(colors))


# Where a scene's script rows and placeholders are in its columns (`_Writer.scene`).
_SCRIPT_ROWS, _PLACEHOLDERS = 13, 14

#: Scripts per entity a keyframe can place (an entity's script slot is packed with its index).
_MAX_SCRIPTS = 1 << 16


def capture_state(
    game: Game,
    *,
    replaced: Mapping[int, Any] | None = None,
    callbacks: CallbackStore | None = None,
    columns: ColumnCache | None = None,
    deadline: float | None = None,
) -> bytes:
    """The keyframe blob of `game` between two frames; reads the game, changes nothing.

    Args:
        game: the game.
        replaced: a new object to store in the place of an old one, by ``id`` of
            the old (a reload's look-ahead stores the restored objects, not the live ones).
        callbacks: the timers, subscriptions and messages to store instead of the
            game's (the look-ahead stores the reload's rebuilt ones).
        columns: the columns of the last keyframe written with it: those that did
            not change are not packed again (the blob is the same without it).
        deadline: a ``time.perf_counter()`` past which the keyframe is given up,
            checked between its columns (``None``: none).

    Raises:
        _PastDeadline: the keyframe ran past `deadline`.
    """
    if columns is None:
        return _capture(game, replaced, callbacks, None, deadline)
    columns.begin()
    try:
        blob = _capture(game, replaced, callbacks, columns, deadline)
    except Unencodable:
        # Rare: something in the state has no msgpack form. The slow path finds it.
        columns.begin()
        blob = _capture(game, replaced, callbacks, None, deadline)
    columns.end()
    return blob


def _capture(
    game: Game,
    replaced: Mapping[int, Any] | None,
    callbacks: CallbackStore | None,
    cache: ColumnCache | None,
    deadline: float | None,
) -> bytes:
    cb = callbacks if callbacks is not None else game.callbacks
    timers = cb.live_timers()
    wanted = {id(t.owner) for t in timers}
    wanted.update(id(s.owner) for s in cb.subscriptions)
    for rs in game.running_scenes:
        wanted.update(id(s) for _, s in rs._to_start)
    writer = _Writer(replaced or {}, wanted, cache, deadline)
    plugin_rows = []
    for name, obj in game.plugin_objects.items():
        obj = writer.swap.get(id(obj), obj)
        writer.where[id(obj)] = ["p", name]
        plugin_rows.append(_Spliced([name, *writer.objects(type(obj), [obj])]))
    scenes = _Spliced(writer.scene(n, rs) for n, rs in enumerate(game.running_scenes))
    where = writer.where
    scene_index = {id(rs): i for i, rs in enumerate(game.running_scenes)}
    callback_rows = [
        [
            [where[id(t.owner)], t.method, t.due, t.interval, list(t.args), int(t.handle), t.id]
            for t in timers
            if id(t.owner) in where
        ],
        [
            [where[id(s.owner)], s.event, s.method, int(s.handle)]
            for s in cb.subscriptions
            if id(s.owner) in where
        ],
        [[scene_index.get(id(m.scene), -1), int(m.target), m.payload] for m in cb.messages],
        [[ev.event, ev.payload] for ev in cb.emitted],
    ]
    state = _Spliced(
        [
            KEYFRAME_FORMAT,
            game.frame,
            game.time,
            _random_row(game.random.getstate()),
            next_timer_id(game.callbacks),
            game.generations.generation,
            writer.layout_rows,
            _Spliced(plugin_rows),
            scenes,
            callback_rows,
        ]
    )
    if cache is not None:
        return _splice(state)  # Unencodable: `capture_state` writes it again without the cache
    try:
        return _splice(state)
    except Unencodable:
        # Rare: something in the state has no msgpack form. Find it, drop it, say so.
        _drop_unstorable(state)
        return _splice(state)


def _random_row(state: tuple[Any, ...]) -> list[Any]:
    # (version, 625 ints, gauss_next): the ints as a list, which msgpack packs in C.
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _drop_unstorable(state: list[Any]) -> None:
    """Replace what msgpack cannot hold, and log it (once per field or attribute).

    A field value gets a mark (read back, it takes its default); an undeclared
    attribute or a callback is dropped.
    """
    layouts = state[6]

    def clean(row: list[Any], at: int) -> None:
        # row[at:] is ``[layout, columns, extras, ...]`` (`_Writer.objects`).
        layout = layouts[row[at]]
        type_id, names = layout[0], layout[1]
        for name, column in zip(names, row[at + 1], strict=True):
            values = column[1]
            for i, v in enumerate(values):
                if _unstorable(v):
                    _warn_once(type_id, name, "replays reset it to its default")
                    values[i] = _UNSTORABLE
                    if len(layout) == 3:
                        layout.append(True)  # read back through the checks, which drop the mark
        for _, extras in row[at + 2]:
            for name in [k for k, v in extras.items() if _unstorable(v)]:
                _warn_once(type_id, name, "replays go without it")
                del extras[name]
        row[at + 2] = [entry for entry in row[at + 2] if entry[1]]

    for row in state[7]:
        clean(row, 1)
    for scene in state[8]:
        for row in scene[_SCRIPT_ROWS]:
            clean(row, 1)
        scene[_PLACEHOLDERS] = [p for p in scene[_PLACEHOLDERS] if not _unstorable(p)]
    for i, kind in enumerate(state[9]):
        state[9][i] = [entry for entry in kind if not _unstorable(entry)]


_warned: set[tuple[str, str]] = set()


def _warn_once(type_id: str, name: str, consequence: str) -> None:
    # Once per process: a keyframe a second would otherwise repeat it every second.
    if (type_id, name) not in _warned:
        _warned.add((type_id, name))
        log.warning("history: %s.%s cannot be recorded; %s", type_id, name, consequence)


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
        generation: the current code generation (`runtime.generations`): scripts
            and plugins paused for an error stay paused only when the keyframe is
            of that generation (new code gets its chance, as after a reload);
            ``None`` keeps every pause.
        plugins: the plugins the state is for: one the keyframe does not hold (it
            came later) gets a new plugin object; one it holds and that is not
            among them is left out.
    """
    (fmt, frame, time, rng, next_id, stored_generation, layouts, plugin_rows, scenes, cbs) = (
        unpackb(blob, classes.value_class, build=build_stored_dataclass)
    )
    if fmt != KEYFRAME_FORMAT:
        raise ValueError(f"keyframe format {fmt} is not {KEYFRAME_FORMAT}")
    reader = _Reader(layouts, classes, generation is None or generation == stored_generation)
    wanted = dict.fromkeys(plugins)
    objects: dict[str, Plugin] = {}
    for name, *row in plugin_rows:
        cls = classes.plugin_class(name)
        if cls is not None and name in wanted:
            objects[name] = reader.objects(cls, row)[0]
    restored = frozenset(objects)
    for name in wanted:
        cls = classes.plugin_class(name)
        if name not in objects and cls is not None:
            objects[name] = instantiate(cls)
    scene_states = [reader.scene(raw) for raw in scenes]

    def owner(ref: list[Any]) -> Any:
        if ref[0] == "p":
            return objects.get(ref[1])
        scene_index, handle, slot = ref
        if not 0 <= scene_index < len(scene_states):
            return None
        e = scene_states[scene_index].scene.entities.get(Handle(handle))
        return e.scripts[slot] if e is not None and slot < len(e.scripts) else None

    def scene_of(ref: list[Any]) -> Any:
        return ref[0] if ref[0] != "p" else None  # an index until `install_callbacks`

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
    store._ids = itertools.count(next_id)
    version, internal, gauss = rng  # random.Random.setstate wants the tuples back
    return GameState(
        frame=frame,
        time=time,
        random_state=(version, tuple(internal), gauss),
        generation=stored_generation,
        plugin_objects=objects,
        restored_plugins=restored,
        scenes=scene_states,
        callbacks=store,
    )


class _Reader:
    """Builds the objects of one keyframe from its columns."""

    def __init__(self, layouts: list[list[Any]], classes: ClassSource, keep_faults: bool) -> None:
        self.layouts = layouts
        self.classes = classes
        self.keep_faults = keep_faults

    def objects(self, cls: type[Any], row: list[Any]) -> list[Any]:
        """New objects of `cls` from ``[layout, columns, extras, states, faulted, stashes]``."""
        layout, columns, extras, states, faulted, stashes = row
        names, types = self.layouts[layout][1:3]
        values = [_read_column(c) for c in columns]
        count = len(states)
        declared = declared_fields(cls)
        # The class as it was when the keyframe was written: the values as they were.
        unchanged = (
            len(self.layouts[layout]) == 3
            and list(declared) == names
            and [type_name(f.annotation) for f in declared.values()] == types
        )
        if unchanged and not has_slots(cls):
            objs: list[Any] = list(map(object.__new__, itertools.repeat(cls, count)))
            rows = zip(*values, strict=True) if values else itertools.repeat((), count)
            exhaust(map(dict.update, map(_dict_of, objs), map(zip, itertools.repeat(names), rows)))
        else:
            objs = []
            stashed: dict[int, dict[str, Any]] = {}
            for i, vals in enumerate(zip(*values, strict=True) if values else ((),) * count):
                fitted, aside = _fit(declared, dict(zip(names, vals, strict=True)), unchanged)
                objs.append(instantiate(cls, fitted))
                if aside:
                    stashed[i] = aside
            stashes = _with_set_aside(stashes, stashed)
        for i, attrs in extras:
            objs[i].__dict__.update(attrs)
        exhaust(map(dict.__setitem__, map(_dict_of, objs), itertools.repeat("_hp_state"), states))
        if self.keep_faults:
            for i in faulted:
                objs[i].__dict__["_hp_faulted"] = True
        for i, stash in stashes:
            set_stash(objs[i], stash)
        return objs

    def scene(self, raw: list[Any]) -> SceneState:
        """A running scene from its columns."""
        (
            name,
            background,
            next_handle,
            roots,
            handles,
            names,
            parents,
            enabled,
            positions,
            rotations,
            scales,
            children,
            visual_rows,
            script_rows,
            placeholders,
            starts,
        ) = raw
        scene = Scene(name=name, background=_new_color(background))
        scene.next_handle = next_handle
        scene.roots = list(map(Handle, roots))
        entity_handles = list(map(Handle, handles))
        ents = []
        new = object.__new__
        # Every slot of `Entity` set here, without its __init__: a third of the time
        # (tests/test_history.py checks that no slot is left out).
        for h, entity_name, parent, on, position, rotation, scale in zip(
            entity_handles,
            names,
            map(Handle, parents),
            enabled,
            _read_column(positions),
            rotations,
            _read_column(scales),
            strict=True,
        ):
            e = new(Entity)
            e.handle, e.name, e.parent, e.enabled = h, entity_name, parent, on
            e.position, e.rotation, e.scale = position, rotation, scale
            e.visual, e.scripts, e.children = None, [], []
            ents.append(e)
        for i, kids in children:
            ents[i].children = list(map(Handle, kids))
        where, kinds, sizes, colors, zs, images, texts, font_sizes = visual_rows
        it = iter(colors)
        visuals = map(
            Visual,
            map(_VISUAL_KINDS.__getitem__, kinds),
            _read_column(sizes),
            map(_new_color, zip(it, it, it, it, strict=True)),
            zs,
            images,
            texts,
            font_sizes,
        )
        for i, visual in zip(where, visuals, strict=True):
            ents[i].visual = visual
        for places, *row in script_rows:
            type_id = self.layouts[row[0]][0]
            cls = self.classes.script_class(type_id)
            objs = self.objects(cls, row) if cls is not None else self._placeholders(type_id, row)
            size = itertools.repeat(_MAX_SCRIPTS)
            owners = list(map(ents.__getitem__, map(operator.floordiv, places, size)))
            slots = list(map(operator.mod, places, size))
            exhaust(
                map(
                    dict.__setitem__,
                    map(_dict_of, objs),
                    itertools.repeat("_hp_entity"),
                    map(_handle, owners),
                )
            )
            if len(script_rows) == 1 and not placeholders and not any(slots):
                # The common case, one script per entity: appended in one C-level pass.
                exhaust(map(list.append, map(_scripts, owners), objs))
            else:  # several classes fill an entity's list in any order
                for owner, slot, obj in zip(owners, slots, objs, strict=True):
                    _put(owner.scripts, slot, obj)
        for i, slot, type_id, data, reason, stash in placeholders:
            obj = self._placeholder(type_id, data, reason, stash)
            obj.__dict__["_hp_entity"] = ents[i].handle
            _put(ents[i].scripts, slot, obj)
        scene.entities = dict(zip(entity_handles, ents, strict=True))
        to_start = []
        for handle, slot in starts:
            starting = scene.entities.get(Handle(handle))
            if starting is not None and slot < len(starting.scripts):
                to_start.append((starting, starting.scripts[slot]))
        return SceneState(scene, to_start)

    def _placeholders(self, type_id: str, row: list[Any]) -> list[Script]:
        """Placeholders holding the data of scripts whose class is gone."""
        layout, columns, _, states, _, stashes = row
        names = self.layouts[layout][1]
        values = [_read_column(c) for c in columns]
        out = [
            self._placeholder(
                type_id,
                _fit({}, dict(zip(names, vals, strict=True)), unchanged=False)[1],
                f"no plugin defines {type_id}",
                None,
            )
            for vals in (zip(*values, strict=True) if values else ((),) * len(states))
        ]
        for i, stash in stashes:
            set_stash(out[i], stash)
        return out

    def _placeholder(self, type_id: str, data: Any, reason: str, stash: Any) -> Script:
        cls = self.classes.script_class(type_id)
        if cls is not None:  # the class came back: the script is rebuilt from the data
            fitted, aside = _from_plain_fields(declared_fields(cls), data)
            s: Script = instantiate(cls, fitted)
            set_stash(s, {**(stash or {}), **aside})
            return s
        s = PlaceholderScript(type_id, data, reason)
        if stash:
            set_stash(s, stash)
        return s


def exhaust(iterator: Iterator[Any]) -> None:
    """Run a lazy `map` for its effects, at C speed."""
    collections.deque(iterator, maxlen=0)


def resume_all(dicts: list[dict[str, Any]]) -> bool:
    """Take the paused mark off the objects whose `dicts` these are; whether one had it.

    What a reload does to the objects it keeps (a rebuilt one has no mark), and
    the look-ahead to their copies. Passes in C.
    """
    marks = itertools.repeat("_hp_faulted")
    if not any(map(dict.__contains__, dicts, marks)):
        return False
    exhaust(map(dict.pop, dicts, marks, itertools.repeat(None)))
    return True


def _put(scripts: list[Any], slot: int, obj: Any) -> None:
    """Place `obj` at `slot` of an entity's script list (filled in any order)."""
    if slot >= len(scripts):
        scripts.extend([None] * (slot + 1 - len(scripts)))
    scripts[slot] = obj


def has_slots(cls: type) -> bool:
    """Whether a declared field of `cls` lives in a slot (then it is set with ``setattr``)."""
    return any(
        isinstance(getattr(cls, name, None), types.MemberDescriptorType)
        for name in declared_fields(cls)
    )


def _fit(
    declared: Mapping[str, FieldSpec], values: dict[str, Any], unchanged: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The values the fields of a class take, and what is set aside for its stash.

    As a saved scene loads: a value whose field is still declared and still fits
    its type is kept (no check when the class is `unchanged`); any other goes to
    the stash in its scene-file form (or is lost when it has none), and the field
    takes its default.
    """
    fitted: dict[str, Any] = {}
    aside: dict[str, Any] = {}
    for name, value in values.items():
        if type(value) is str and value == _UNSTORABLE:
            continue
        spec = declared.get(name)
        if spec is not None and (unchanged or conforms(value, spec.annotation)):
            fitted[name] = value
            continue
        plain = _plain(value)
        if plain is not None:
            aside[name] = plain
    return fitted, aside


def _from_plain_fields(
    declared: Mapping[str, FieldSpec], data: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`_fit` for scene-file data (a placeholder's, when its class is back)."""
    fitted: dict[str, Any] = {}
    aside: dict[str, Any] = {}
    for name, plain in data.items():
        spec = declared.get(name)
        try:
            if spec is not None:
                fitted[name] = from_plain(plain, spec.annotation)
                continue
        except PlainDataError:
            pass
        aside[name] = plain
    return fitted, aside


def _with_set_aside(
    stashes: list[list[Any]], set_aside: dict[int, dict[str, Any]]
) -> list[list[Any]]:
    """``[index, stash]`` pairs with what `_fit` set aside added to each object's stash."""
    merged = {i: dict(stash) for i, stash in stashes}
    for i, aside in set_aside.items():
        merged[i] = {**merged.get(i, {}), **aside}
    return [[i, stash] for i, stash in merged.items()]


def _plain(value: Any) -> Any:
    """`value` as scene-file data, or ``None`` when it has no such form (it is then lost)."""
    if isinstance(value, Unresolved):
        return value.data
    try:
        return to_plain(value)
    except (PlainDataError, RecursionError):
        return None


def build_stored_dataclass(module: str, qualname: str, cls: Any, stored: dict[str, Any]) -> Any:
    """A stored dataclass value from the current class; `Unresolved` when it refuses the values."""
    try:
        return build_dataclass(module, qualname, cls, stored)
    except RebuildError:
        return Unresolved(module, qualname, stored)


# --- past frames for a timeline ------------------------------------------------------------


class PastFrames:
    """The past frames a timeline shows, each rebuilt aside; forward from the last is cheaper.

    `runtime.game.Game.preview` rebuilds a frame from its keyframe: the state
    read back under the current code, then up to a second of recorded frames.
    Scrubbed forward, a timeline asks for frame after frame of the same second;
    each is then the copy shown last, played on by the frames in between, which
    is the same state (the loop is deterministic) for a fraction of the work.
    That copy is used only while it is still what the history says: the same
    code generation, the same keyframe, the same recorded input up to it, and
    no error or quit in it. Anything else is rebuilt as `preview` does.

    The scene returned last is the copy's: it changes when a later frame is asked
    for (a view shows one frame at a time).

    Args:
        game: the live game whose history is shown.
    """

    def __init__(self, game: Game) -> None:
        self._game = game
        self._shown: _ShownCopy | None = None

    def scene_at(self, frame: int) -> Scene:
        """The first running scene as it was at `frame`, under the current code.

        Raises:
            HistoryError: as `runtime.game.Game.preview`.
        """
        game = self._game
        history = game.history
        if history is None:
            return game.preview(frame)  # raises: no history
        key = history.keyframe_for(frame)
        shown = self._shown
        if shown is None or not shown.reaches(game, history, key, frame):
            self.forget()
            shown = self._shown = _ShownCopy(game.replayed_aside(frame), key, game)
            return shown.scratch.scene
        shown.play_to(history, frame)
        return shown.scratch.scene

    def forget(self) -> None:
        """Drop the copy shown last (the timeline is left: its memory goes back).

        Its scene, which may still be on screen, stays whole; the copy that ran it
        is closed (`runtime.game.ScratchGame.close`), so its memory goes back now.
        """
        if self._shown is not None:
            self._shown.scratch.close()
        self._shown = None


class _ShownCopy:
    """A scratch copy a timeline shows, and what it was rebuilt from."""

    def __init__(self, scratch: ScratchGame, keyframe: Keyframe, game: Game) -> None:
        self.scratch = scratch
        self.keyframe = keyframe
        self.generation = game.generations.generation
        #: The recorded input the copy ran since `keyframe`, to tell whether it still holds.
        self.inputs = game.history.inputs(keyframe.frame, scratch.frame) if game.history else []

    def reaches(self, game: Game, history: History, key: Keyframe, frame: int) -> bool:
        """Whether playing this copy on to `frame` gives the state the history has there."""
        scratch = self.scratch
        if (
            self.keyframe is not key
            or not key.frame <= scratch.frame <= frame
            or self.generation != game.generations.generation
            or scratch.failures
            or scratch.quit_reason is not None
        ):
            return False
        recorded = history.inputs(key.frame, scratch.frame)
        return len(recorded) == len(self.inputs) and all(map(operator.is_, recorded, self.inputs))

    def play_to(self, history: History, frame: int) -> None:
        """Run the copy on to `frame` with the input recorded for the frames in between."""
        scratch = self.scratch
        inputs = history.inputs(scratch.frame, frame)
        scratch.input = RecordedInput(inputs)
        scratch.run_frames(frame - scratch.frame, past_failures=True)
        self.inputs.extend(inputs)


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
