"""A copy of a game's world as new objects, for a look-ahead to run on: no bytes in between.

`copy_world` gives the `runtime.history.GameState` that writing the game's
keyframe (`runtime.history.capture_state`) and reading it back under the same
classes (`runtime.history.restore_state`) would give: its own scenes,
entities, visuals, scripts, plugin objects, timers, subscriptions and queued
messages, the random source's state, the frame and the game time. It is made
for the reload's look-ahead, which copies the world at every save and must not
cost more than a few of the game's frames: a keyframe packs every value into
msgpack and unpacks it again, while a copy shares what no frame can change in
place and copies only the rest.

What is shared: values of the types `runtime.history.IMMUTABLE` names (numbers,
strings, `Vec2`, `Handle`, `Color`...). What is copied: every entity and
visual, each object's attribute dict, and every other value (a list, a dict, a
dataclass, a timer's arguments, a message's payload) through the engine's
msgpack codec, column by column, so a copy holds what a keyframe would. When
something cannot take that path (a value msgpack has no form for, a class
with slots), `copy_world` writes and reads a keyframe instead, which handles
every case the history does.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from runtime.callbacks import CallbackStore, Emitted, Message, Subscription, Timer
from runtime.collector import collector_paused
from runtime.history import (
    IMMUTABLE,
    ClassSource,
    GameState,
    SceneState,
    build_stored_dataclass,
    capture_state,
    exhaust,
    has_slots,
    next_timer_id,
    restore_state,
    resume_all,
)
from runtime.scene import Entity, Scene
from runtime.snapshot import Unencodable, packb, unpackb
from runtime.values import Vec2

if TYPE_CHECKING:
    from runtime.game import Game, RunningScene

_dict_of = operator.attrgetter("__dict__")
_scripts = operator.attrgetter("scripts")
_position = operator.attrgetter("position")
_scale = operator.attrgetter("scale")


class _KeyframeNeeded(Exception):
    """The world holds something only a keyframe's slow path copies as the history would."""


def copy_world(
    game: Game,
    classes: ClassSource,
    plugins: Iterable[str],
    *,
    replaced: Mapping[int, Any] | None = None,
    retyped: Mapping[type, type] | None = None,
    callbacks: CallbackStore | None = None,
) -> GameState:
    """New objects for the world of `game` between two frames; reads the game, changes nothing.

    Args:
        game: the game.
        classes: where the values copied through the codec find their classes
            (dataclasses and enums of the code the copy will run).
        plugins: the plugins whose objects the copy has (those the game has).
        replaced: a new object to copy in the place of an old one, by ``id`` of
            the old (the look-ahead copies the restored objects, not the live ones).
        retyped: the class to give the copies of objects of a class, where it
            is not their own (the objects a reload keeps take their new class
            only when it commits; their copies have it from the start).
        callbacks: the timers, subscriptions and messages to copy instead of the game's.
    """
    # Thousands of new objects, none of them garbage: collecting while they are
    # made would only walk them again (a reload has the collector off already).
    with collector_paused():
        try:
            return _Copier(game, classes, replaced or {}, retyped or {}).world(plugins, callbacks)
        except _KeyframeNeeded:
            blob = capture_state(game, replaced=replaced, callbacks=callbacks)
            state = restore_state(blob, classes, None, plugins)
            _resume_kept(state, set((retyped or {}).values()))
            return state


def _resume_kept(state: GameState, kept_classes: set[type]) -> None:
    """Take the paused mark off the copies of the scripts a reload keeps, as its commit does.

    Read back from a keyframe, they are of their new class already (a kept class's
    objects all are, and a rebuilt object has no mark).
    """
    if kept_classes:
        for ss in state.scenes:
            resume_all([vars(s) for e in ss.scene for s in e.scripts if type(s) in kept_classes])


class _Copier:
    """One copy of one game's world: the copies made so far, for the callbacks to find."""

    def __init__(
        self,
        game: Game,
        classes: ClassSource,
        swap: Mapping[int, Any],
        retyped: Mapping[type, type],
    ) -> None:
        self.game = game
        self.classes = classes
        self.swap = swap
        self.retyped = retyped
        #: Ids of the objects callbacks and pending starts name: their copies are noted.
        self.wanted: set[int] = set()
        #: (copy, index of its running scene or ``None`` for a plugin object) of each
        #: wanted object, by ``id`` of the original (and of the live object a
        #: restored one stands for).
        self.copies: dict[int, tuple[Any, int | None]] = {}
        #: The index of each running scene, by its ``id``.
        self.scene_index: dict[int, int] = {}
        #: The pending timers of the callbacks being copied, in firing order.
        self.timers: list[Timer] = []

    def world(self, plugins: Iterable[str], callbacks: CallbackStore | None) -> GameState:
        game, swap = self.game, self.swap
        source = callbacks if callbacks is not None else game.callbacks
        self.timers = source.live_timers()
        wanted = self.wanted
        wanted.update(id(t.owner) for t in self.timers)
        wanted.update(id(s.owner) for s in source.subscriptions)
        for rs in game.running_scenes:
            wanted.update(id(s) for _, s in rs._to_start)
        asked = dict.fromkeys(plugins)
        objects: dict[str, Any] = {}
        for name, obj in game.plugin_objects.items():
            if name in asked:
                stored = swap.get(id(obj), obj)
                (objects[name],) = self.objects([stored], [obj], None)
        scenes = [self.scene(n, rs) for n, rs in enumerate(game.running_scenes)]
        return GameState(
            frame=game.frame,
            time=game.time,
            random_state=game.random.getstate(),
            generation=game.generations.generation,
            plugin_objects=objects,
            restored_plugins=frozenset(objects),
            scenes=scenes,
            callbacks=self.callbacks(source),
        )

    def scene(self, n: int, rs: RunningScene) -> SceneState:
        source = rs.scene
        scene = Scene(name=source.name, background=source.background)
        scene.next_handle = source.next_handle
        scene.roots = list(source.roots)
        originals = list(source.entities.values())
        if not set(map(type, map(_position, originals))) | set(
            map(type, map(_scale, originals))
        ) <= {Vec2}:
            raise _KeyframeNeeded("a position or scale that is not a Vec2")
        ents = list(map(_copy_entity, originals))
        scene.entities = dict(zip(source.entities, ents, strict=True))
        live = list(map(_scripts, originals))
        flat = list(itertools.chain.from_iterable(live))
        swap = self.swap
        stored = list(map(swap.get, map(id, flat), flat)) if swap else flat
        copied = self.objects(stored, flat, n)
        counts = list(map(len, live))
        if counts.count(1) == len(counts):  # the common case: one script per entity
            exhaust(map(list.append, map(_scripts, ents), copied))
        else:
            it = iter(copied)
            for e, count in zip(ents, counts, strict=True):
                e.scripts = list(itertools.islice(it, count))
        copies = self.copies
        to_start = [
            (scene.entities[e.handle], copies[id(s)][0])
            for e, s in rs._to_start
            if id(s) in copies and e.handle in scene.entities
        ]
        self.scene_index[id(rs)] = n
        return SceneState(scene, to_start)

    def objects(self, stored: list[Any], live: list[Any], scene: int | None) -> list[Any]:
        """Copies of `stored`, each in the place of the `live` object at its index.

        `scene` is the index of the running scene they are scripts of (``None``:
        plugin objects): where the callbacks of the copies will point.
        """
        classes = set(map(type, stored))
        if len(classes) == 1:  # the common case: one class
            out = self._of_class(classes.pop(), stored)
        else:
            out = [None] * len(stored)
            groups: dict[type, list[int]] = {}
            for i, cls in enumerate(map(type, stored)):
                groups.setdefault(cls, []).append(i)
            for cls, where in groups.items():
                objs = self._of_class(cls, list(map(stored.__getitem__, where)))
                exhaust(map(out.__setitem__, where, objs))
        if self.wanted:
            at = dict(zip(map(id, stored), range(len(stored)), strict=True))
            if live is not stored:
                at.update(zip(map(id, live), range(len(live)), strict=True))
            for wanted in self.wanted.intersection(at):
                self.copies[wanted] = (out[at[wanted]], scene)
        return out

    def _of_class(self, cls: type, originals: list[Any]) -> list[Any]:
        """New objects of `cls` (or its retyped class) with copies of the dicts of `originals`.

        The copies of objects a reload keeps with a new class lose their paused
        mark, as the objects do at the commit.
        """
        retyped = self.retyped.get(cls)
        cls = retyped or cls
        if has_slots(cls):
            raise _KeyframeNeeded(f"{cls.__qualname__} keeps a field in a slot")
        dicts = list(map(dict.copy, map(_dict_of, originals)))
        if retyped is not None:
            resume_all(dicts)
        self._copy_mutable(dicts)
        objs: list[Any] = list(map(object.__new__, itertools.repeat(cls, len(dicts))))
        exhaust(map(setattr, objs, itertools.repeat("__dict__"), dicts))
        return objs

    def _copy_mutable(self, dicts: list[dict[str, Any]]) -> None:
        """Give each dict its own copy of every value a frame could change in place."""
        for name in set().union(*dicts):
            try:
                column = list(map(operator.itemgetter(name), dicts))
            except KeyError:  # an attribute only some objects have
                having = [d for d in dicts if name in d]
                column = [d[name] for d in having]
            else:
                having = dicts
            if not set(map(type, column)) <= IMMUTABLE:
                copied = self.through_codec(column)
                exhaust(map(dict.__setitem__, having, itertools.repeat(name), copied))

    def through_codec(self, value: Any) -> Any:
        """`value` written and read back with the engine's codec, as a keyframe holds it."""
        try:
            return unpackb(packb(value), self.classes.value_class, build=build_stored_dataclass)
        except Unencodable as exc:
            raise _KeyframeNeeded(str(exc)) from exc

    def callbacks(self, source: CallbackStore) -> CallbackStore:
        """The callbacks of `source` whose owners were copied, pointed at the copies.

        As in a state read back from a keyframe, each callback's scene is the
        index of its owner's running scene until `GameState.install_callbacks`.
        """
        copies = self.copies
        store = CallbackStore()
        for t in self.timers:
            copied = copies.get(id(t.owner))
            if copied is not None:
                owner, at = copied
                args = tuple(self.value(list(t.args)))
                timer = Timer(t.id, t.due, t.interval, owner, t.method, args, at, t.handle)
                store.timers.append((t.due, t.id, timer))
        store.subscriptions = [
            Subscription(s.event, copied[0], s.method, copied[1], s.handle)
            for s in source.subscriptions
            if (copied := copies.get(id(s.owner))) is not None
        ]
        index = self.scene_index
        store.messages = [
            Message(index.get(id(m.scene), -1), m.target, self.value(m.payload))
            for m in source.messages
        ]
        store.emitted = [Emitted(ev.event, self.value(ev.payload)) for ev in source.emitted]
        store._ids = itertools.count(next_timer_id(self.game.callbacks))
        return store

    def value(self, value: Any) -> Any:
        """`value` itself when it cannot change in place, else its copy through the codec."""
        return value if type(value) in IMMUTABLE else self.through_codec(value)


_new = object.__new__


def _copy_entity(e: Entity) -> Entity:
    """A new entity with the same members (every slot: tests/test_world_copy.py checks it)."""
    # One statement a member: packing them in tuples costs a tenth more.
    c: Entity = _new(Entity)
    c.handle = e.handle
    c.name = e.name
    c.parent = e.parent
    c.enabled = e.enabled
    c.position = e.position
    c.rotation = e.rotation
    c.scale = e.scale
    visual = e.visual
    c.visual = visual.copy() if visual is not None else None
    c.children = list(e.children)
    c.scripts = []
    return c
