"""What scripts and plugins receive as ``ctx``: the way into the engine.

One context object per running scene is reused for every script call (the
loop sets `entity` and `script` before each call), so do not keep a context
past the call that received it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from runtime.callbacks import CallbackStore, Message, Owner, Subscription, Timer, decompose
from runtime.scene import Entity, Scene
from runtime.scripting import Plugin, Script, plugin_name_of
from runtime.values import Handle

if TYPE_CHECKING:
    from runtime.input import InputState


class ContextScene(Protocol):
    """What a `ScriptContext` needs from its running scene (`runtime.game.RunningScene`)."""

    @property
    def scene(self) -> Scene:
        """The scene whose scripts run."""

    def spawn(self, name: str, **attrs: Any) -> Entity:
        """Create an entity during play and initialise its scripts."""

    def destroy_later(self, handle: Handle) -> None:
        """Destroy an entity at the end of the frame."""


class ContextGame(Protocol):
    """What a context needs from the game (`runtime.game.Game`), and nothing more."""

    @property
    def fixed_dt(self) -> float:
        """The fixed time step in seconds."""

    @property
    def time(self) -> float:
        """Game time in seconds."""

    @property
    def frame(self) -> int:
        """The number of the current frame."""

    @property
    def input(self) -> InputState:
        """The keyboard."""

    @property
    def callbacks(self) -> CallbackStore:
        """The game's timers, subscriptions and queued messages."""

    @property
    def random(self) -> random.Random:
        """The game's seeded random source."""

    @property
    def running_scenes(self) -> Sequence[ContextScene]:
        """The scenes whose scripts run."""

    def plugin(self, which: type[Plugin] | str) -> Any:
        """The plugin object of a plugin class or package name."""

    def emit(self, event: str, payload: Any = None) -> None:
        """Queue an event for its subscribers."""

    def request_quit(self, reason: str = ...) -> None:
        """End the game after this frame."""


class PluginContext:
    """The engine as a plugin sees it (also the base of `ScriptContext`)."""

    def __init__(self, game: ContextGame) -> None:
        self.game = game
        #: The plugin or script whose hook is running.
        self.owner: Owner | None = None

    @property
    def dt(self) -> float:
        """The fixed time step in seconds."""
        return self.game.fixed_dt

    @property
    def time(self) -> float:
        """Game time in seconds since the game started (advances by `dt` each frame)."""
        return self.game.time

    @property
    def frame(self) -> int:
        """The number of the current frame."""
        return self.game.frame

    @property
    def input(self) -> InputState:
        """The keyboard."""
        return self.game.input

    @property
    def random(self) -> random.Random:
        """The game's random source (a `random.Random`), seeded from the project.

        Use it rather than the ``random`` module: its state is kept in the
        history's keyframes, so a rewind or a replay draws the same numbers
        again and plays out the same way. The seed is the project's
        ``[project] seed`` (0 when unset); every Play starts from it.
        """
        return self.game.random

    @property
    def log(self) -> logging.Logger:
        """The logger of the running plugin (``hotplay.plugin.<name>``); the editor shows it."""
        name = plugin_name_of(type(self.owner)) if self.owner is not None else ""
        return logging.getLogger(f"hotplay.plugin.{name or 'engine'}")

    @property
    def scenes(self) -> list[Scene]:
        """The running scenes."""
        return [rs.scene for rs in self.game.running_scenes]

    def plugin(self, which: type[Plugin] | str) -> Any:
        """The plugin object of a plugin class or plugin package name."""
        return self.game.plugin(which)

    def quit(self) -> None:
        """End the game: the frame in progress finishes, no other one starts.

        In the editor this stops Play (the edited scene comes back as it was);
        in the player the game ends cleanly with its summary line. Use this,
        not ``sys.exit``: in the editor, ``sys.exit`` is only an error of the
        script that called it.
        """
        who = type(self.owner).__qualname__ if self.owner is not None else "game code"
        self.game.request_quit(f"{who} called ctx.quit()")

    def _running(self) -> ContextScene | None:
        return None

    def after(self, seconds: float, method: Callable[..., Any] | str, *args: Any) -> int:
        """Call ``method(ctx, *args)`` once, `seconds` of game time from now; returns a timer id.

        `method` is a method of this script or plugin (``self.explode``) or its
        name; a lambda or free function is refused, because the engine must find
        the method again after a hot reload.
        """
        return self._schedule(seconds, None, method, args)

    def every(self, seconds: float, method: Callable[..., Any] | str, *args: Any) -> int:
        """Call ``method(ctx, *args)`` every `seconds` of game time; returns a timer id."""
        if seconds <= 0:
            raise ValueError("the interval of a repeating timer must be positive")
        return self._schedule(seconds, seconds, method, args)

    def cancel(self, timer_id: int) -> bool:
        """Cancel a timer from `after` or `every`; whether it was pending."""
        return self.game.callbacks.cancel(timer_id)

    def subscribe(self, event: str, method: Callable[..., Any] | str) -> None:
        """Call ``method(ctx, payload)`` whenever `event` is emitted (by any scene or plugin)."""
        owner, name = decompose(self.owner, method)
        rs = self._running()
        self.game.callbacks.subscriptions.append(
            Subscription(event, owner, name, rs, self._owner_handle(owner))
        )

    def unsubscribe(self, event: str, method: Callable[..., Any] | str) -> None:
        """Undo `subscribe`."""
        owner, name = decompose(self.owner, method)
        subs = self.game.callbacks.subscriptions
        subs[:] = [
            s for s in subs if not (s.event == event and s.owner is owner and s.method == name)
        ]

    def emit(self, event: str, payload: Any = None) -> None:
        """Queue `event` for its subscribers; delivered at the end of this frame."""
        self.game.emit(event, payload)

    def _owner_handle(self, owner: Owner) -> Handle:
        h = owner.__dict__.get("_hp_entity") if isinstance(owner, Script) else None
        return h if h is not None else Handle.NONE

    def _schedule(
        self,
        seconds: float,
        interval: float | None,
        method: Callable[..., Any] | str,
        args: tuple[Any, ...],
    ) -> int:
        owner, name = decompose(self.owner, method)
        timer = Timer(
            0,
            self.game.time + max(0.0, seconds),
            interval,
            owner,
            name,
            args,
            self._running(),
            self._owner_handle(owner),
        )
        return self.game.callbacks.schedule(timer)


class ScriptContext(PluginContext):
    """The engine as a script sees it: its scene and entity, plus `PluginContext`."""

    def __init__(self, game: ContextGame, running: ContextScene) -> None:
        super().__init__(game)
        self.running = running
        #: The scene the script lives in.
        self.scene: Scene = running.scene
        #: The entity the script is attached to.
        self.entity: Entity = None  # type: ignore[assignment]

    def _running(self) -> ContextScene | None:
        return self.running

    @property
    def handle(self) -> Handle:
        """The handle of the script's entity."""
        return self.entity.handle

    def get(self, handle: int) -> Entity | None:
        """An entity of this scene by handle, or ``None`` (it may have been destroyed)."""
        return self.scene.get(handle)

    def find(self, name: str) -> Entity | None:
        """The first entity of this scene with this name."""
        return self.scene.find(name)

    def spawn(self, name: str = "Entity", **attrs: Any) -> Entity:
        """Create an entity in this scene.

        Its scripts get ``on_init`` now and ``on_start`` before their first
        update. Keyword arguments as for `Scene.spawn`.
        """
        return self.running.spawn(name, **attrs)

    def destroy(self, handle: int | None = None) -> None:
        """Destroy an entity (this script's own by default) and its children, at frame end."""
        self.running.destroy_later(Handle(self.entity.handle if handle is None else handle))

    def send(self, target: int, message: Any) -> None:
        """Queue a message for every script of entity `target`.

        It is delivered to ``on_message`` at the end of this frame. Messages
        should be plain data: numbers, strings, lists, dicts, engine values, or
        dataclasses and enums of a plugin.
        """
        self.game.callbacks.messages.append(Message(self.running, Handle(target), message))
