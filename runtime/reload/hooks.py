"""Calling the reload hooks (``on_before_reload``, ``on_after_reload``) of reloaded objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runtime.reload.state import Target
from runtime.scripting import PlaceholderScript, overrides_hook, type_id_of

if TYPE_CHECKING:
    from runtime.game import Game


class HookCache:
    """Whether a class overrides a reload hook, asked once per class rather than per object.

    Most classes do not, and a reload visits every object.
    """

    def __init__(self, hook: str) -> None:
        self.hook = hook
        self.known: dict[type, bool] = {PlaceholderScript: False}

    def __call__(self, cls: type) -> bool:
        """Whether `cls` overrides the hook."""
        hit = self.known.get(cls)
        if hit is None:
            hit = self.known[cls] = overrides_hook(cls, self.hook)
        return hit


def is_live(game: Game, t: Target) -> bool:
    """Whether the object of `t` takes part in the game (so its hooks run)."""
    if t.plugin:
        return game.started
    return t.running is not None and t.obj.__dict__.get("_hp_state", 0) != 0


def hook_context(game: Game, t: Target, obj: Any) -> Any:
    """The context to call a hook of `obj` with: where the old object `t` lived."""
    return game.hook_context(obj, t.running, t.entity)


def who(t: Target) -> str:
    """The reloaded object as a report names it."""
    if t.plugin:
        return f"plugin {t.plugin}"
    assert t.entity is not None
    return f"{type_id_of(type(t.obj))} on entity {int(t.entity.handle)} ({t.entity.name!r})"
