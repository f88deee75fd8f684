"""The one queue of changed plugin files between the watcher's thread and the game's.

The watcher's thread `post`s each batch of saved paths and wakes the game thread
(the editor's wake-up emits a queued Qt signal; a headless loop waits on the
queue itself). Only the game thread `take`s from it, between frames, and it
takes everything pending as one batch. A batch whose reload was rolled back is
handed back with `keep_unloaded`: its paths ride along with the next save, so a
plugin whose good change was rolled back with a broken neighbour is reloaded
when the neighbour is fixed, instead of running old code while its file says
otherwise. Kept paths alone do not ask for a reload (retrying a failed reload
every frame would only fail again): they wait for the next save.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """Everything pending at one `take`: the paths, and when the first of them was saved."""

    paths: tuple[str, ...]
    detected_at: float


class PendingChanges:
    """Changed plugin paths not loaded yet; thread-safe.

    Args:
        wakeup: called on the poster's thread after each batch (quick and
            thread-safe: it only wakes the game thread).
    """

    def __init__(self, wakeup: Callable[[], None] | None = None) -> None:
        self._cond = threading.Condition()
        self._fresh: dict[str, float] = {}  # saved since the last take: they ask for a reload
        self._unloaded: dict[str, float] = {}  # rolled back: they wait for the next save
        self.wakeup = wakeup

    def post(self, paths: Iterable[str], detected_at: float | None = None) -> None:
        """Add saved `paths` (any thread) and wake the game thread."""
        at = time.perf_counter() if detected_at is None else detected_at
        with self._cond:
            for p in paths:
                self._fresh[p] = min(self._fresh.get(p, at), at)
            if not self._fresh:
                return
            self._cond.notify_all()
        # Once per batch: the watcher already gathers a burst of saves into one.
        wakeup = self.wakeup
        if wakeup is not None:
            wakeup()

    def take(self) -> ChangeBatch | None:
        """Everything pending, saved and kept, as one batch; ``None`` when nothing was saved."""
        with self._cond:
            if not self._fresh:
                return None
            merged = {**self._unloaded, **self._fresh}
            self._fresh, self._unloaded = {}, {}
        return ChangeBatch(tuple(sorted(merged)), min(merged.values()))

    def keep_unloaded(self, batch: ChangeBatch) -> None:
        """`batch` was not loaded (its reload rolled back): keep it for the next save."""
        with self._cond:
            for p in batch.paths:
                self._unloaded.setdefault(p, batch.detected_at)

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds until something is saved; whether it was."""
        with self._cond:
            return self._cond.wait_for(lambda: bool(self._fresh), timeout)

    def paths(self) -> list[str]:
        """Every path not loaded yet, saved or kept (for "code changed" notices)."""
        with self._cond:
            return sorted({**self._unloaded, **self._fresh})

    def __bool__(self) -> bool:
        with self._cond:
            return bool(self._fresh or self._unloaded)
