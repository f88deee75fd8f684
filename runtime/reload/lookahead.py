"""Step 7, look_ahead: the new code runs frames ahead on a copy of the game before it commits.

With `runtime.game.Game.look_ahead_frames` at N > 0 and a scene running, the
world the commit would install (the live objects, with the restored objects in
the place of those they replace, and the rebuilt timers, subscriptions and
messages) is copied (`runtime.world_copy.copy_world`: what writing it as a
keyframe and reading it back would give, without the bytes) into a scratch
game (`runtime.game.ScratchGame`) under the new generation's classes. That
copy runs N frames with the keys held now held throughout. The live objects
and the restored ones are only read: the copy has objects of its own, so
whatever the new code does to its scene stays there.

A hook that raises, a call past its budget or a frame past the budget in those
frames refuses the reload: `ReloadFailed` with a line naming the exception, the
file and line, the script and entity, and how many frames after the reload it
happened. The transaction then rolls back as after any failed reload and the
game goes on with the old code.

It costs N frames of the scene plus the copy (measured by
``python -m runtime.bench``, figure ``look_ahead``). It runs inside the reload,
between two frames, so that the commit can depend on it. So that a large
scene's save is not kept waiting for N slow frames, the copy stops once the
reload as a whole has taken `runtime.game.Game.look_ahead_seconds` (50 ms;
its frames get at least a fifth of that, and at least one frame runs): what it
ran, it checked; and a game whose world takes longer than
that to copy looks ahead no more after the reload that measured it (one warning
says so). Nor does a game whose frames take half the budget or more: the
reload has one budget, which a frame ahead would use up whatever the code
(said once too). Effects outside the scene (files written, sockets, module globals and
class attributes of plugin code) are not sandboxed.
"""

from __future__ import annotations

import itertools
import logging
import time
import weakref
from typing import TYPE_CHECKING, Any

from runtime.callbacks import CallbackStore
from runtime.guard import BudgetExceeded, GameExit
from runtime.history import exhaust, resume_all
from runtime.input import FrameInput
from runtime.plugins import LoadedPlugin, describe_error
from runtime.reload.restore import ClassFinder, Restored
from runtime.reload.snapshot import Snapshot
from runtime.reload.state import ReloadFailed, Scope
from runtime.scripting import Plugin, Script
from runtime.world_copy import copy_world

log = logging.getLogger("hotplay.reload")

if TYPE_CHECKING:
    from runtime.game import Game, ScratchFailure


def look_ahead(
    game: Game,
    scope: Scope,
    snap: Snapshot,
    fresh: dict[str, LoadedPlugin],
    restored: Restored,
    since: float,
) -> int:
    """Run the new generation `game.look_ahead_frames` frames ahead on a copy of the game.

    `since` is the ``time.perf_counter()`` at which the reload started: its
    frames then run for what the reload has left of `game.look_ahead_seconds`
    (`frames_allowance`).

    Returns:
        How many frames it ran (0 when the look-ahead is off or no scene runs).

    Raises:
        ReloadFailed: game code failed in one of those frames (the reload is refused).
    """
    frames = game.look_ahead_frames
    if frames <= 0 or not game.running_scenes:
        return 0
    copying = game.look_ahead_copy_seconds
    if copying is not None and copying > game.look_ahead_seconds:
        return 0  # too large a world to copy at every save (said once, below)
    if _frames_near_the_budget(game):
        return 0
    started = time.perf_counter()
    replaced = {
        id(old): new
        for old, new in zip(snap.targets.objects, restored.objects, strict=True)
        if new is not None and new is not old
    }
    replaced.update(_migrated_in_place(snap, restored))
    callbacks = CallbackStore()
    callbacks.replace_all(
        restored.timers, restored.subscriptions, restored.messages, restored.emitted
    )
    plugins = [name for name in game.plugin_objects if name not in scope.removed]
    # Pauses are kept: out of scope they stand; in scope the restored objects carry none.
    state = copy_world(
        game,
        NewGeneration(game, scope, fresh),
        plugins,
        replaced=replaced,
        retyped=restored.retyped,
        callbacks=callbacks,
    )
    copying = game.look_ahead_copy_seconds = time.perf_counter() - started
    if copying > game.look_ahead_seconds:
        log.warning(
            "look-ahead off for this game from the next reload: a copy of its world "
            "(%s entities) takes %.0f ms, more than %.0f ms",
            f"{game.stats()['entities']:,}",
            copying * 1000,
            game.look_ahead_seconds * 1000,
        )
    held = FrameInput(game.input.keys_down)
    scratch = game.scratch(state, itertools.repeat(held, frames))
    try:
        ran = scratch.run_frames(frames, frames_allowance(game.look_ahead_seconds, since))
        if scratch.failures:
            failure = scratch.failures[0]
            raise ReloadFailed(refusal(game, failure)) from failure.error
    finally:
        scratch.close()
    return ran


#: The share of `runtime.game.Game.look_ahead_seconds` a look-ahead's frames get
#: however long the reload took before them: enough for tens of frames of a small
#: scene, so that a slow moment of the machine does not cut a small game's look short.
MIN_FRAMES_SHARE = 0.2


def frames_allowance(seconds: float, since: float) -> float:
    """How long a look-ahead's frames may run: what a reload begun at `since` has left of `seconds`.

    What the user waits for is the whole reload, so the look-ahead's frames get
    the rest of `seconds` once the steps before them (and the copy) are done;
    never less than `MIN_FRAMES_SHARE` of it (and at least one frame runs).
    """
    left = since + seconds - time.perf_counter()
    return max(left, seconds * MIN_FRAMES_SHARE)


def _migrated_in_place(snap: Snapshot, restored: Restored) -> dict[int, Any]:
    """What the kept objects of the classes whose layout changed will be, by ``id`` of each.

    New objects of the new class with the dicts the commit would give them
    (migrated, paused marks taken off): until the commit the live ones keep
    their old state, and the copy must start from the new one.
    """
    out: dict[int, Any] = {}
    for (cls, _), kept in zip(snap.classes, snap.class_objects, strict=True):
        patch = restored.patches.get(cls)
        if patch is None:
            continue
        new_cls = restored.retyped[cls]
        news: list[Any] = list(map(object.__new__, itertools.repeat(new_cls, len(kept))))
        dicts = patch.patched(kept)
        resume_all(dicts)  # as the commit resumes the kept objects
        exhaust(map(setattr, news, itertools.repeat("__dict__"), dicts))
        out.update(zip(map(id, kept), news, strict=True))
    return out


def _frames_near_the_budget(game: Game) -> bool:
    """Whether the game's last frame took half its budget or more (said once per game).

    The look-ahead runs inside the reload, which has one budget: a frame ahead
    of a world that slow would run out of it whatever the new code does, and
    the reload would be refused for the world's size.
    """
    budget = game.guard.budget
    if budget is None or game.last_frame_seconds < budget / 2:
        return False
    if game not in _told_slow:
        _told_slow.add(game)
        log.warning(
            "look-ahead skipped while a frame of this game takes half the budget or more "
            "(%.0f ms of %g s): the new code is tried live",
            game.last_frame_seconds * 1000,
            budget,
        )
    return True


#: The games told that their frames are too slow to look ahead.
_told_slow: weakref.WeakSet[Game] = weakref.WeakSet()


class NewGeneration:
    """The classes of a reload's new generation, then those of the plugins it leaves alone.

    A `runtime.history.ClassSource` over the restore step's own lookup, so the
    look-ahead rebuilds objects from the classes the commit would install.
    """

    def __init__(self, game: Game, scope: Scope, fresh: dict[str, LoadedPlugin]) -> None:
        self._finder = ClassFinder(scope, fresh, game.registry)
        self._scope = scope
        self._fresh = fresh
        self._loaded = game.plugins.plugins

    def script_class(self, type_id: str) -> type[Script] | None:
        """The new class of a script type id (``None``: no plugin defines it any more)."""
        cls: type[Script] | None = self._finder.new_class(type_id, "", "")[0]
        return cls

    def plugin_class(self, name: str) -> type[Plugin] | None:
        """The `Plugin` class of a plugin in the new generation, else the loaded one."""
        if name in self._fresh:
            return self._fresh[name].plugin_class
        if name in self._scope.removed or name not in self._loaded:
            return None
        return self._loaded[name].plugin_class

    def value_class(self, module: str, qualname: str) -> Any:
        """An enum or dataclass of the new generation first."""
        return self._finder.resolver(module, qualname)


def refusal(game: Game, failure: ScratchFailure) -> str:
    """The report's line for a reload the look-ahead refused.

    ``reload refused: the new code raises ZeroDivisionError at bouncy/ball.py:31
    in Ball on 'Ball A', 12 frames after the reload (division by zero)``.
    """
    exc = failure.error
    after = f"{failure.frames} frame{'s' if failure.frames != 1 else ''} after the reload"
    if not failure.hook:  # a frame over the budget, not one call
        return f"reload refused: the new code ran a frame over the budget, {after} ({exc})"
    where = _location(game, exc)
    at = f" at {where}" if where else ""
    owner = failure.owner
    if isinstance(owner, Plugin):
        who = f" in {failure.hook} of plugin {type(owner).__qualname__}"
    else:
        who = f" in {type(owner).__qualname__} on {failure.entity!r}"
    if isinstance(exc, BudgetExceeded):  # "ran for longer than 2 s ... and was interrupted"
        return f"reload refused: the new code {exc}{at}{who}, {after}"
    # For sys.exit and the like, what game code raised (SystemExit), then the engine's word.
    raised = exc.__cause__ if isinstance(exc, GameExit) and exc.__cause__ is not None else exc
    return f"reload refused: the new code raises {type(raised).__name__}{at}{who}, {after} ({exc})"


def _location(game: Game, exc: BaseException) -> str:
    """``plugin/file.py:line`` of the innermost plugin frame of `exc`, or ``""``."""
    text = f"{type(exc).__name__}: {exc}"
    described = describe_error(exc)
    if not described.endswith(f": {text}"):
        return ""
    where = described.removesuffix(f": {text}")
    path, _, line = where.rpartition(":")
    rel = game.plugins.relative_path(path) if path else None
    return f"{rel.as_posix()}:{line}" if rel is not None else where
