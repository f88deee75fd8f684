"""Engine-owned references into plugin code: timers, event subscriptions, messages.

The engine never keeps a function object from a plugin: a callback is an
owner (a script or plugin object the engine knows) and a method *name*. A hot
reload rebuilds every callback with its owner's rebuilt object (the snapshot
carries them), and the method is looked up by name on the new class when the
callback fires, so the new code runs. Pending messages and callback
arguments are data and travel through the reload snapshot.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runtime.scripting import Plugin, Script
from runtime.values import Handle

Owner = Script | Plugin


class CallbackError(TypeError):
    """A callback that the engine could not re-find after a reload (a lambda, a free function)."""


def decompose(owner_hint: Owner | None, method: Callable[..., Any] | str) -> tuple[Owner, str]:
    """Split a bound method of a script or plugin into (owner, name).

    A string names a method of `owner_hint` (the script or plugin whose context
    was used).

    Raises:
        CallbackError: `method` is not a method of a script or plugin object.
    """
    if isinstance(method, str):
        if owner_hint is None:
            raise CallbackError("a method name needs an owner")
        owner, name = owner_hint, method
    else:
        bound_to = getattr(method, "__self__", None)
        func = getattr(method, "__func__", None)
        if not isinstance(bound_to, (Script, Plugin)) or func is None:
            raise CallbackError(
                f"{method!r} is not a method of a script or plugin: pass a bound method like "
                "self.explode (the engine must find it again after a hot reload)"
            )
        owner, name = bound_to, func.__name__
    if not callable(getattr(owner, name, None)):
        raise CallbackError(f"{type(owner).__qualname__} has no method {name!r}")
    return owner, name


@dataclass(eq=False)
class Timer:
    """A scheduled call of ``owner.<method>(ctx, *args)``."""

    id: int
    due: float
    interval: float | None
    owner: Owner
    method: str
    args: tuple[Any, ...]
    scene: Any = None  # the running scene the owner lives in (None for plugins)
    handle: Handle = Handle.NONE
    cancelled: bool = False


@dataclass(eq=False)
class Subscription:
    """``owner.<method>(ctx, payload)`` is called for every emitted `event`."""

    event: str
    owner: Owner
    method: str
    scene: Any = None
    handle: Handle = Handle.NONE


@dataclass(eq=False)
class Message:
    """A message queued for delivery to every script of an entity (``on_message``)."""

    scene: Any
    target: Handle
    payload: Any


@dataclass(eq=False)
class Emitted:
    """An event queued for delivery to its subscribers."""

    event: str
    payload: Any


@dataclass
class CallbackStore:
    """All timers, subscriptions and queued messages and events of a game."""

    timers: list[tuple[float, int, Timer]] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    emitted: list[Emitted] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def schedule(self, timer: Timer) -> int:
        """Add a timer; its id is assigned here and returned."""
        timer.id = next(self._ids)
        heapq.heappush(self.timers, (timer.due, timer.id, timer))
        return timer.id

    def cancel(self, timer_id: int) -> bool:
        """Cancel a timer by id; whether it was pending."""
        for _, _, t in self.timers:
            if t.id == timer_id and not t.cancelled:
                t.cancelled = True
                return True
        return False

    def pop_due(self, now: float) -> list[Timer]:
        """Remove and return the timers due at `now`, in order (cancelled ones dropped)."""
        due = []
        while self.timers and self.timers[0][0] <= now:
            t = heapq.heappop(self.timers)[2]
            if not t.cancelled:
                due.append(t)
        return due

    def live_timers(self) -> list[Timer]:
        """Pending timers, in firing order."""
        return [t for _, _, t in sorted(self.timers) if not t.cancelled]

    def replace_all(
        self,
        timers: list[Timer],
        subscriptions: list[Subscription],
        messages: list[Message],
        emitted: list[Emitted],
    ) -> None:
        """Replace every callback at once (a hot reload rebuilt them for new owners)."""
        self.timers = [(t.due, t.id, t) for t in timers]
        heapq.heapify(self.timers)
        self.subscriptions = subscriptions
        self.messages = messages
        self.emitted = emitted

    def drop_owned_by(self, owners: set[int]) -> None:
        """Forget callbacks whose owner (by ``id``) is gone (entity destroyed, script removed)."""
        for _, _, t in self.timers:
            if id(t.owner) in owners:
                t.cancelled = True
        self.subscriptions = [s for s in self.subscriptions if id(s.owner) not in owners]

    def clear(self) -> None:
        """Forget everything (the game stopped)."""
        self.timers.clear()
        self.subscriptions.clear()
        self.messages.clear()
        self.emitted.clear()
