"""`PluginWatcher`: turns saves in ``plugins/`` into batches of changed paths.

The watchdog observer's thread only records paths; a small debounce thread
waits for a quiet window (a save is often several events: write, chmod,
rename) and hands one batch to `on_batch`, which must be thread-safe and
cheap (the game queues it; the editor also emits a queued Qt signal). Neither
thread touches game or Qt state, and neither dies on an error.

We watch the ``plugins/`` directory recursively rather than files: editors
save by writing a temporary file and renaming it over the original (vim,
JetBrains, VS Code with some settings), which replaces the file's inode, and a
watch on the old file would see nothing more.

Symbolic links: inotify watches a directory, not what links in it point to.
A linked plugin folder (``plugins/x`` -> elsewhere) is followed by the
observer itself (``follow_symlink``), which reports its files under the link's
path. A linked *file* is not: we also watch the folder holding its target
and report a change of the target under the link's path, so the game always
hears of paths inside ``plugins/``. Links made after the watcher started are
followed for folders only (see docs/hot-reload.md, "Limitations").
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    DirAttribEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

log = logging.getLogger("hotplay.watcher")

#: Default quiet window in milliseconds: long enough to merge the events of one
#: save (they arrive within about a millisecond of each other), short enough not
#: to be felt. A save split in two batches costs a second reload, never state.
DEFAULT_QUIET_MS = 6.0

#: The shorter window once the events of a batch end with a finished save (a file
#: closed after writing, or renamed into place) and no file of the batch is still
#: being written: what may follow (a chmod, an extended attribute, the next file of a
#: "save all") comes within a millisecond. A save split in two batches costs a
#: second reload, never state.
SETTLE_MS = 2.0

#: The interpreter's thread switch interval while a watcher runs, in seconds. The
#: watcher's threads need the GIL for a few short steps per save; at Python's default
#: of 5 ms each step waits up to that long while the game thread runs a frame, which
#: added 10-25 ms between a save and its reload in a playing editor.
SWITCH_INTERVAL = 0.001

#: Events of a file being written: its save ends with a close (or never, for a chmod).
_WRITING_EVENTS = {"created", "modified"}

#: The events the observer asks the system for, and the only ones the handlers get
#: (watchdog drops the others on every platform). Not a file being opened, or closed
#: unwritten: every reload reads the plugin's sources, and each read would wake the
#: observer's threads (inotify reports them), which then took the interpreter's lock
#: from the reload about thirty times a save (1-3 ms of a 1,000-entity reload). Not a
#: folder "modified" either: it is when a file in it is, and the file reports itself.
_WATCHED_EVENTS = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileAttribEvent,  # a chmod or a touch of the times only: a save by some tools
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    DirAttribEvent,
]
_IGNORED_DIRS = {"__pycache__", ".git", ".idea", ".vscode", ".mypy_cache", ".pytest_cache"}

#: Called on the debounce thread with (sorted changed paths, time of the first event).
BatchCallback = Callable[[list[str], float], None]


def is_editor_noise(path: str) -> bool:
    """Whether a path is a swap, backup or temporary file of an editor, or in a tool's folder."""
    p = Path(path)
    if any(part in _IGNORED_DIRS for part in p.parts):
        return True
    name = p.name
    return name.startswith((".#", "#")) or name.endswith(
        ("~", ".swp", ".swx", ".swo", ".tmp", ".bak")
    )


def is_relevant(path: str) -> bool:
    """Whether a changed path can affect plugin code.

    Python sources count; so do directories (a new or deleted subpackage or
    plugin); swap, backup and temporary files of editors and ``__pycache__``
    do not.
    """
    p = Path(path)
    if is_editor_noise(path):
        return False
    name = p.name
    if p.suffix == ".py":
        return True
    # No suffix: a directory (the event may come after it is gone, so do not stat it).
    return p.suffix == "" and not name.isdigit()  # vim's "4913" probe file is a digit name


def _paths_of(event: FileSystemEvent) -> list[tuple[str, str]]:
    """The paths an event names, each with its kind for `PluginWatcher.record`.

    A file closed after writing, or renamed into place, is ``"finished"``; one
    created or modified is ``"writing"``; one deleted or renamed away is
    neither (a new one is often being written in its place, as editors save).
    """
    kind = event.event_type
    source = "finished" if kind == "closed" else "writing" if kind in _WRITING_EVENTS else kind
    out = [(os.fsdecode(event.src_path), source)] if event.src_path else []
    dest = getattr(event, "dest_path", "")
    if dest:
        out.append((os.fsdecode(dest), "finished" if kind == "moved" else kind))
    return out


class _Recorder(FileSystemEventHandler):
    def __init__(self, watcher: PluginWatcher, relevant: Callable[[str], bool]) -> None:
        self.watcher = watcher
        self.relevant = relevant

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            for path, kind in _paths_of(event):
                if self.relevant(path):
                    self.watcher.record(path, kind)
        except Exception:  # the observer thread must never die on one odd event
            log.exception("plugin watcher: cannot handle %r", event)


class _LinkedFileRecorder(FileSystemEventHandler):
    """Reports changes of the targets of linked files under the links' paths."""

    def __init__(self, watcher: PluginWatcher, links: dict[str, str]) -> None:
        self.watcher = watcher
        self.links = links  # target path -> link path

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            if event.is_directory:
                return
            for path, kind in _paths_of(event):
                link = self.links.get(path)
                if link is not None:
                    self.watcher.record(link, kind)
        except Exception:  # the observer thread must never die on one odd event
            log.exception("plugin watcher: cannot handle %r", event)


def linked_files(root: Path) -> dict[str, str]:
    """Target path -> link path of every symbolically linked ``.py`` file under `root`.

    Linked folders are followed (each real folder once, so a link cycle ends);
    a link whose target is missing is logged, as it can never reload.
    """
    out: dict[str, str] = {}
    seen: set[str] = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = [d for d in dirs if d not in _IGNORED_DIRS]
        for name in files:
            path = os.path.join(folder, name)
            if not name.endswith(".py") or not os.path.islink(path):
                continue
            target = os.path.realpath(path)
            if not os.path.exists(target):
                log.warning("plugin watcher: %s links to %s, which does not exist", path, target)
                continue
            out[target] = path
    return out


class PluginWatcher:
    """Watches a ``plugins/`` folder and reports debounced batches of changes.

    Args:
        root: the folder to watch (recursively).
        on_batch: called with the changed paths and the time (``time.perf_counter``)
            of the first event of the batch, from the watcher's own thread.
        quiet_ms: how long no new event must arrive before a batch is handed over.
        relevant: which changed paths count (default: plugin code, `is_relevant`);
            the asset watcher (`runtime.assets`) passes its own.
        settle_ms: the shorter wait once a batch ends with a finished save
            (`SETTLE_MS` with the default quiet window; with a `quiet_ms` of
            one's own, that window: whoever chose it wants saves that far apart
            merged).
    """

    def __init__(
        self,
        root: str | Path,
        on_batch: BatchCallback,
        quiet_ms: float | None = None,
        relevant: Callable[[str], bool] = is_relevant,
        settle_ms: float | None = None,
    ):
        self.root = Path(root)
        self.relevant = relevant
        self.on_batch = on_batch
        self.quiet = (DEFAULT_QUIET_MS if quiet_ms is None else quiet_ms) / 1000.0
        if settle_ms is None:
            settle_ms = SETTLE_MS if quiet_ms is None else quiet_ms
        self.settle = min(self.quiet, settle_ms / 1000.0)
        self._cond = threading.Condition()
        self._pending: dict[str, float] = {}
        #: When the batch is handed over if no event comes first.
        self._deadline = 0.0
        #: Paths of the batch written to and not closed since: the quiet window holds.
        self._writing: set[str] = set()
        self._stopping = False
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._thread: threading.Thread | None = None
        self.batches = 0

    def start(self) -> None:
        """Start watching (returns at once; events are recorded from now on).

        Lowers the interpreter's thread switch interval to `SWITCH_INTERVAL`
        (for the whole process, and for good) when it is longer.
        """
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        observer = Observer()
        observer.schedule(
            _Recorder(self, self.relevant),
            str(self.root),
            recursive=True,
            event_filter=_WATCHED_EVENTS,
            follow_symlink=True,
        )
        links = linked_files(self.root)
        for folder in sorted({os.path.dirname(t) for t in links}):
            try:
                observer.schedule(
                    _LinkedFileRecorder(self, links),
                    folder,
                    recursive=False,
                    event_filter=_WATCHED_EVENTS,
                )
            except OSError as exc:
                log.warning("plugin watcher: cannot watch %s (linked to): %s", folder, exc)
        observer.daemon = True
        observer.start()
        self._observer = observer
        self._thread = threading.Thread(target=self._run, name="hotplay-watcher", daemon=True)
        self._thread.start()

    def record(self, path: str, kind: str = "modified") -> None:
        """Note a changed path (called from the observer thread).

        Args:
            path: the path.
            kind: ``"finished"``: the event ended a save of it (closed after
                writing, renamed into place); ``"writing"``: it was created or
                written to; anything else (``"deleted"``...): neither. Once the
                last event is a finished save and no path of the batch is still
                being written, the batch waits only the settle window, else the
                whole quiet window.
        """
        now = time.perf_counter()
        with self._cond:
            self._pending.setdefault(path, now)
            writing = self._writing
            if kind == "finished":
                writing.discard(path)
            elif kind == "writing":
                writing.add(path)
            settled = kind == "finished" and not writing
            self._deadline = now + (self.settle if settled else self.quiet)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                # Wait until no event has arrived for a whole quiet window (the
                # settle window, when the last one ended a save).
                while not self._stopping:
                    remaining = self._deadline - time.perf_counter()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                if self._stopping:
                    return
                batch, self._pending = self._pending, {}
                self._writing = set()
            try:
                self.batches += 1
                self.on_batch(sorted(batch), min(batch.values()))
            except Exception:
                log.exception("plugin watcher: the batch handler failed")

    def stop(self) -> None:
        """Stop both threads and wait for them (no thread is left behind)."""
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
            self._observer = None
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @property
    def alive(self) -> bool:
        """Whether the watcher threads run."""
        return self._thread is not None and self._thread.is_alive()
