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

`LoadedFiles` remembers what each file held when it was last loaded, so that a
watcher's notice of a file that has not changed since (the editor wrote and
loaded a new script itself; one save reported as two batches) is dropped
instead of asking for a second load. The asset queue uses it too.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

#: A file's size and a digest of its bytes (not its mtime: a second save within
#: a coarse mtime's granularity, of the same size, must still count).
FileStamp = tuple[int, bytes]


def file_stamp(path: str) -> FileStamp | None:
    """What `path` holds now, as a `FileStamp`; ``None`` when it is not a readable file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return len(data), hashlib.blake2b(data, digest_size=16).digest()


def file_stamps(paths: Iterable[str]) -> dict[str, FileStamp | None]:
    """`file_stamp` of each path, by absolute path (taken before a load reads them)."""
    return {os.path.abspath(p): file_stamp(p) for p in paths}


class LoadedFiles:
    """What each file held when it was last loaded; thread-safe.

    The game thread asks `unchanged` when it takes a path the watcher saw saved,
    and `mark`s what it loaded, with stamps taken before it read the
    files (a save during the load then differs from the stamp and still counts).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamps: dict[str, FileStamp] = {}

    def mark(self, stamps: Mapping[str, FileStamp | None]) -> None:
        """Record what was loaded; a ``None`` stamp (no such file) forgets the path."""
        with self._lock:
            for path, stamp in stamps.items():
                if stamp is None:
                    self._stamps.pop(path, None)
                else:
                    self._stamps[path] = stamp

    def unchanged(self, path: str) -> bool:
        """Whether `path` holds exactly what was last loaded from it."""
        with self._lock:
            stamp = self._stamps.get(os.path.abspath(path))
        # Read outside the lock: only paths loaded before are read at all.
        return stamp is not None and file_stamp(path) == stamp

    def changed(self, paths: Iterable[str]) -> list[str]:
        """The `paths` that are not `unchanged`, in order."""
        return [p for p in paths if not self.unchanged(p)]


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
        #: Of `_fresh`, the watcher's notices: dropped when taken if the file holds what was loaded.
        self._unchecked: set[str] = set()
        self._posts = 0  # posts that left something pending, for `wait`
        self.wakeup = wakeup
        #: What the game last loaded from each file (`post_saved` drops repeats).
        self.loaded = LoadedFiles()

    def post_saved(self, paths: Iterable[str], detected_at: float | None = None) -> None:
        """`post` the watcher's saved `paths`; those that still hold what was loaded do not count.

        Whether they do is found on the game thread, when the paths are taken
        (`take`, `paths`): reading the files here, on the watcher's thread, took
        the interpreter's lock from a running game several times, each a wait
        (4-8 ms of a save in a playing editor). While a rolled-back batch waits,
        every save counts, even one that writes back what runs: a save is how
        the user asks to try the kept files again.
        """
        self._post(paths, detected_at, checked=False)

    def mark_loaded(self, stamps: Mapping[str, FileStamp | None]) -> None:
        """The game loaded these files with these contents (`file_stamps` before the load).

        Pending notices of them that are not news any more are dropped too: the
        watcher may have reported the file while it was being loaded, and a
        file whose rolled-back change has now loaded is no longer kept.
        """
        self.loaded.mark(stamps)
        with self._cond:
            queued = [p for p in stamps if p in self._fresh or p in self._unloaded]
        done = [p for p in queued if self.loaded.unchanged(p)]
        if done:
            with self._cond:
                for p in done:
                    self._fresh.pop(p, None)
                    self._unloaded.pop(p, None)

    def post(self, paths: Iterable[str], detected_at: float | None = None) -> None:
        """Add saved `paths` (any thread) and wake the game thread; each asks for a reload."""
        self._post(paths, detected_at, checked=True)

    def _post(self, paths: Iterable[str], detected_at: float | None, *, checked: bool) -> None:
        at = time.perf_counter() if detected_at is None else detected_at
        with self._cond:
            for p in paths:
                pending = p in self._fresh
                self._fresh[p] = min(self._fresh.get(p, at), at)
                if checked:
                    self._unchecked.discard(p)
                elif not pending:  # a path already pending stays what it was
                    self._unchecked.add(p)
            if not self._fresh:
                return
            self._posts += 1
            self._cond.notify_all()
        # Once per batch: the watcher already gathers a burst of saves into one.
        wakeup = self.wakeup
        if wakeup is not None:
            wakeup()

    def take(self) -> ChangeBatch | None:
        """Everything pending, saved and kept, as one batch; ``None`` when nothing was saved.

        A watcher's notice of a file that holds what was last loaded from it is
        dropped here, unless a rolled-back batch waits (see `post_saved`).
        """
        with self._cond:
            if not self._fresh:
                return None
            fresh, unchecked = self._fresh, self._unchecked
            self._fresh, self._unchecked = {}, set()
            if self._unloaded:
                merged = {**self._unloaded, **fresh}
                self._unloaded = {}
                return ChangeBatch(tuple(sorted(merged)), min(merged.values()))
        # Nothing kept: read outside the lock, so the watcher's thread never waits on it.
        for p in [p for p in unchecked if p in fresh and self.loaded.unchanged(p)]:
            del fresh[p]
        if not fresh:
            return None
        return ChangeBatch(tuple(sorted(fresh)), min(fresh.values()))

    def keep_unloaded(self, batch: ChangeBatch) -> None:
        """`batch` was not loaded (its reload rolled back): keep it for the next save."""
        with self._cond:
            for p in batch.paths:
                self._unloaded.setdefault(p, batch.detected_at)

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds until something is saved; whether it was.

        A watcher's notice of a file that still holds what was loaded does not
        count (it is dropped at the next `take`): the wait goes on for the next.
        """
        deadline = time.monotonic() + timeout
        seen = [-1]  # the posts looked at so far

        def news() -> bool:
            return bool(self._fresh) and self._posts != seen[0]

        while True:
            with self._cond:
                if not self._cond.wait_for(news, max(0.0, deadline - time.monotonic())):
                    return False
                seen[0] = self._posts
                if self._unloaded or not self._unchecked.issuperset(self._fresh):
                    return True
                unchecked = list(self._fresh)
            # Read outside the lock, as `take` does: the watcher's thread never waits on it.
            if not all(map(self.loaded.unchanged, unchecked)):
                return True

    def paths(self) -> list[str]:
        """Every path not loaded yet, saved or kept (for "code changed" notices)."""
        with self._cond:
            fresh, unchecked, unloaded = dict(self._fresh), set(self._unchecked), self._unloaded
            if unloaded:
                return sorted({**unloaded, **fresh})
        return sorted(p for p in fresh if p not in unchecked or not self.loaded.unchanged(p))

    def __bool__(self) -> bool:
        return bool(self.paths())
