"""Recovery files: the editor's autosaved copy of unsaved edits, offered after a crash.

A recovery file is a scene file with one extra top-level key, ``hotplay_recovery``,
holding where the scene came from and when; the scene reader ignores unknown keys,
so a recovery file also opens as a plain scene (File > Open) when all else fails::

    {
      "hotplay_recovery": {"version": 1, "scene": "assets/scenes/demo.scene.json",
                           "written_at": 1718000000.5,
                           "saved_stamp": {"mtime_ns": 1717990000000000000, "size": 2810}},
      "format": 1,
      "name": "demo",
      ...
    }

Where they live: ``<project>/.hotplay/recovery/``, not under QStandardPaths. The
unsaved work belongs to the project: it moves, is backed up and is deleted with
it, every user and machine that opens the checkout finds it, and nothing grows
forever in a per-user folder that no one looks at. The project template's
``.gitignore`` ignores ``*.recovery.json``, so it never ends up in a commit; the
plugin watcher only watches ``plugins/``, so writing it triggers no reload.

Beside a recovery file may be its journal, ``….recovery.journal``
(`editor.recovery_journal`): the changes made since the snapshot, or since the
scene file itself when no snapshot was needed. The two are one recovery: read,
held, set aside and deleted together, and a journal alone is one too.

Nothing here raises on a bad recovery file: it is logged, renamed aside
(``….corrupt.recovery.json``, still git-ignored) and never deleted.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import re
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from editor.recovery_journal import (
    BASE_SNAPSHOT,
    HEADER_KEY,
    JOURNAL_VERSION,
    Journal,
    JournalError,
    JournalWriter,
    read_journal,
    replay,
)
from runtime.fields import PlainDataError
from runtime.scene import Scene
from runtime.scenefile import (
    MAX_FILE_BYTES,
    SceneFileError,
    encode_scene_text,
    read_scene_text,
    scene_to_data,
    write_atomic,
)

log = logging.getLogger("hotplay.editor.recovery")

#: The recovery folder, relative to the project root.
RECOVERY_DIR = Path(".hotplay") / "recovery"
SUFFIX = ".recovery.json"
#: The journal of a recovery file: ``<same name>.recovery.journal``.
JOURNAL_SUFFIX = ".recovery.journal"
#: A copy of the scene file a journal's records apply to: ``<same name>.recovery.base``.
BASE_SUFFIX = ".recovery.base"
META_KEY = "hotplay_recovery"
META_VERSION = 1
#: The file name used for a scene that was never saved.
UNTITLED = "untitled"

_EITHER = "(" + re.escape(SUFFIX) + "|" + re.escape(JOURNAL_SUFFIX) + ")"
_CORRUPT = re.compile(r"\.corrupt(-\d+)?" + _EITHER + "$")
#: A recovery file (or journal) held for later: ``<name>.<digest>.held-<n>.recovery.json``.
_HELD = re.compile(r".+\.held-\d+" + _EITHER)


def journal_for(path: Path) -> Path:
    """The journal beside the recovery file `path`."""
    return path.with_name(path.name.removesuffix(SUFFIX) + JOURNAL_SUFFIX)


def _unit_of(path: Path) -> Path:
    """The recovery file a recovery file or journal belongs to."""
    if path.name.endswith(JOURNAL_SUFFIX):
        return path.with_name(path.name.removesuffix(JOURNAL_SUFFIX) + SUFFIX)
    return path


def base_copy_for(path: Path) -> Path:
    """The copy of the scene file beside the recovery file `path` (see `copy_base`)."""
    return path.with_name(path.name.removesuffix(SUFFIX) + BASE_SUFFIX)


def _pair(path: Path) -> tuple[Path, Path, Path]:
    """Every file of one recovery: the snapshot, the journal, the scene file's copy."""
    return path, journal_for(path), base_copy_for(path)


def copy_base(scene_path: Path, stamp: FileStamp, target: Path) -> bool:
    """Copy the scene file a journal starts from beside it, if it is still as stamped.

    The journal then survives the scene file changing while no editor runs (a
    pull). Made off the GUI thread: reading and writing a file of many
    megabytes releases the interpreter to it. Never raises.

    Returns:
        Whether the copy was written.
    """
    try:
        data = scene_path.read_bytes() if FileStamp.of(scene_path) == stamp else None
        if data is None or len(data) != stamp.size or FileStamp.of(scene_path) != stamp:
            return False  # changed on disk already: the journal cannot start from it
        write_atomic(target, data)
    except OSError as exc:
        log.warning("cannot copy %s for recovery: %s", scene_path, exc.strerror or exc)
        return False
    return True


class RecoveryChoice(enum.Enum):
    """The answer to "recover unsaved changes?"."""

    RECOVER = "recover"  #: load the recovered edits (the document is then modified)
    DISCARD = "discard"  #: delete the recovery file and open the scene from disk
    LATER = "later"  #: open the scene from disk and keep the file for next time


@dataclass(frozen=True)
class FileStamp:
    """A file's modification time and size: enough to notice it changed."""

    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: Path | None) -> FileStamp | None:
        """The stamp of `path` now, or ``None`` when it does not exist."""
        if path is None:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        return cls(st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class RecoveryInfo:
    """One readable recovery file.

    Attributes:
        path: the recovery file.
        scene_path: the scene file the edits belong to (``None``: an untitled scene).
        written_at: when the edits were autosaved (seconds since the epoch).
        saved_stamp: the scene file's stamp at its last open or save before the
            edits; ``None`` when it did not exist.
        scene_data: the edited scene, as `runtime.scenefile.scene_to_data` made it
            (its journal, if any, applied).
        journal_id: the id of the journal that continues the recovery file
            (``""``: none).
    """

    path: Path
    scene_path: Path | None
    written_at: float
    saved_stamp: FileStamp | None
    scene_data: dict[str, Any] = field(repr=False, compare=False)
    journal_id: str = ""

    def scene_changed_on_disk(self) -> bool:
        """Whether the scene file changed (or vanished) since the edits' last save."""
        return FileStamp.of(self.scene_path) != self.saved_stamp

    def newer_than_save(self) -> bool:
        """Whether the edits were written after the save they started from.

        Always true for a file this editor wrote (saving deletes it); false only
        for a leftover that a save could not delete, or a clock that jumped back.
        """
        if self.saved_stamp is None:
            return True
        return self.written_at * 1e9 >= self.saved_stamp.mtime_ns

    @property
    def time_text(self) -> str:
        """`written_at` as local time, for people."""
        return datetime.fromtimestamp(self.written_at).strftime("%Y-%m-%d %H:%M:%S")

    def __str__(self) -> str:
        what = self.scene_path.name if self.scene_path else "an untitled scene"
        return f"unsaved changes to {what} from {self.time_text} ({self.path})"


class RecoveryStore:
    """Reads and writes the recovery files of one project (no Qt in here).

    Args:
        project_root: the project folder; files go to ``<root>/.hotplay/recovery``.
    """

    def __init__(self, project_root: str | os.PathLike[str]) -> None:
        self.root = Path(project_root).resolve()
        self.directory = self.root / RECOVERY_DIR

    # --- naming -------------------------------------------------------------------------------

    def _key(self, scene_path: Path) -> str:
        # Relative inside the project, so a moved or re-cloned project finds its files.
        p = scene_path.resolve()
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            return str(p)

    def path_for(self, scene_path: str | os.PathLike[str] | None) -> Path:
        """Where the recovery file of a scene (``None``: the untitled scene) lives.

        The scene's file name keeps it readable; a hash of its path inside the
        project keeps ``levels/a.scene.json`` and ``tests/a.scene.json`` apart.
        """
        if scene_path is None:
            return self.directory / (UNTITLED + SUFFIX)
        p = Path(scene_path)
        digest = hashlib.sha1(self._key(p).encode("utf-8", "surrogatepass")).hexdigest()[:10]
        return self.directory / f"{p.name}.{digest}{SUFFIX}"

    # --- writing ------------------------------------------------------------------------------

    def write(
        self,
        scene: Scene,
        scene_path: str | os.PathLike[str] | None,
        saved_stamp: FileStamp | None,
        journal_id: str = "",
    ) -> Path:
        """Write the recovery file of a scene atomically; return its path.

        Args:
            scene: the edited scene.
            scene_path: its file (``None``: untitled).
            saved_stamp: the scene file's stamp at its last open or save.
            journal_id: the id of the journal that continues this snapshot
                (`start_journal`); a journal with another id predates it.

        Raises:
            OSError: the disk refused.
            ValueError: the scene holds a value a file cannot store (NaN, say).
            TypeError: likewise.
        """
        target = self.path_for(scene_path)
        meta = self._meta(scene_path, saved_stamp)
        meta["version"] = META_VERSION
        meta["journal"] = journal_id
        try:
            data = {META_KEY: meta, **scene_to_data(scene)}
            # Compact rather than the scene files' diff-friendly layout: this runs
            # after every edit, and the C encoder is many times faster. Still JSON,
            # still a scene that File > Open reads.
            text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except PlainDataError as exc:  # a ValueError, but say what it is about
            raise ValueError(f"the scene holds a value a file cannot store: {exc}") from None
        except RecursionError:
            raise ValueError("the scene holds a value nested too deeply to store") from None
        # The scene files' atomic rename: a kill mid-write leaves the previous
        # recovery file whole.
        write_atomic(target, encode_scene_text(text))
        return target

    def start_journal(
        self,
        scene_path: str | os.PathLike[str] | None,
        saved_stamp: FileStamp | None,
        base: str,
        journal_id: str,
    ) -> JournalWriter:
        """Start the journal of a scene's edits (replacing any journal it had).

        Args:
            scene_path: the scene's file (``None``: untitled).
            saved_stamp: the scene file's stamp at its last open or save.
            base: ``"scene"`` (the records apply to that file as stamped) or
                ``"snapshot"`` (to the recovery file written with `journal_id`).
            journal_id: the id tying the journal to its snapshot.

        Raises:
            OSError: the disk refused.
        """
        header = {HEADER_KEY: JOURNAL_VERSION, "id": journal_id, "base": base}
        header.update(self._meta(scene_path, saved_stamp))
        return JournalWriter(journal_for(self.path_for(scene_path)), header)

    def _meta(
        self, scene_path: str | os.PathLike[str] | None, saved_stamp: FileStamp | None
    ) -> dict[str, Any]:
        return {
            "scene": self._key(Path(scene_path)) if scene_path is not None else None,
            "written_at": time.time(),
            "saved_stamp": (
                None
                if saved_stamp is None
                else {"mtime_ns": saved_stamp.mtime_ns, "size": saved_stamp.size}
            ),
        }

    # --- reading ------------------------------------------------------------------------------

    def find(self, scene_path: str | os.PathLike[str] | None) -> RecoveryInfo | None:
        """The recovery file of a scene, or ``None`` (none, or unreadable and set aside)."""
        path = self.path_for(scene_path)
        if not (path.is_file() or journal_for(path).is_file()):
            return None
        return self.read(path)

    def find_all(self, scene_path: str | os.PathLike[str] | None) -> list[RecoveryInfo]:
        """Every readable recovery file of a scene, newest first: its own and the held ones."""
        primary = self.path_for(scene_path)
        base = primary.name.removesuffix(SUFFIX)
        try:
            names = [p for p in self.directory.iterdir() if _HELD.fullmatch(p.name)]
        except OSError:
            names = []
        held = [_unit_of(p) for p in names if p.name.startswith(base + ".held-")]
        paths = dict.fromkeys([primary, *held])
        infos = [self.read(p) for p in paths if p.is_file() or journal_for(p).is_file()]
        return sorted((i for i in infos if i is not None), key=lambda i: i.written_at, reverse=True)

    def hold(self, path: Path) -> Path | None:
        """Rename a scene's recovery file aside, to be offered again (the user said Later).

        The scene's new edits then have the file's place of their own.

        Returns:
            The new path, or ``None`` when the rename failed (the file stays).
        """
        held = _free_name(path, lambda n: f".held-{n}")
        try:
            _move_unit(path, held)
        except OSError as exc:
            log.warning("cannot keep %s aside: %s", path, exc.strerror or exc)
            return None
        return held

    def restore_held(self, info: RecoveryInfo) -> Path:
        """Move a held recovery file back to its scene's own place; return that path.

        The recovered edits are then the scene's recovery file again: written over
        by the next edit, deleted by the next save.
        """
        primary = self.path_for(info.scene_path)
        if info.path == primary:
            return primary
        try:
            _move_unit(info.path, primary)
        except OSError as exc:
            log.warning("cannot move %s back: %s", info.path, exc.strerror or exc)
            return info.path
        return primary

    def read(self, path: Path) -> RecoveryInfo | None:
        """Read a recovery file with its journal; a bad one is logged, set aside, gives ``None``.

        The journal's records are applied to its base: the recovery file when it
        continues it, else the scene file, when that is still the version the
        edits started from. A journal from another version of the scene (the
        file changed while no editor ran) is set aside, never applied to it.
        """
        journal_path = journal_for(path)
        try:
            info = self._read_snapshot(path) if _regular(path) else None
            if not _regular(journal_path):
                return info
            journal = read_journal(journal_path, MAX_FILE_BYTES)
            if journal.problem:
                log.warning("recovery journal %s: %s", journal_path, journal.problem)
            return self._with_journal(path, info, journal)
        except FileNotFoundError:
            return None
        except OSError as exc:
            # Unreadable now (permissions, a locked file): not proof of corruption, keep it.
            log.warning("cannot read recovery file %s: %s", path, exc.strerror or exc)
            return None
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            self.set_aside(path, str(exc) or type(exc).__name__)
            return None

    def _read_snapshot(self, path: Path) -> RecoveryInfo:
        st = os.stat(path)
        if st.st_size > MAX_FILE_BYTES:
            raise ValueError(f"{st.st_size:,} bytes, larger than scenes may be")
        return self._parse(path, path.read_text(encoding="utf-8"))

    def _with_journal(
        self, path: Path, snapshot: RecoveryInfo | None, journal: Journal
    ) -> RecoveryInfo | None:
        header = journal.header
        scene_key = header.get("scene")
        if scene_key is not None and type(scene_key) is not str:
            raise JournalError('"scene" must be a path or null')
        saved = _stamp(header.get("saved_stamp"))
        scene_path = None if scene_key is None else self.root / scene_key
        if header["base"] == BASE_SNAPSHOT:
            if snapshot is None or snapshot.journal_id != header["id"]:
                # The snapshot was rewritten after this journal began (a kill between
                # the two writes): it holds every record already.
                log.info("%s predates its snapshot; not replayed", journal_for(path))
                return snapshot
            base = snapshot.scene_data
        else:
            source = scene_path
            if source is None or FileStamp.of(source) != saved:
                copy = base_copy_for(path)
                if saved is None or FileStamp.of(copy) is None or copy.stat().st_size != saved.size:
                    raise JournalError(
                        "its edits start from another version of the scene file "
                        "(it changed, or was deleted, since)"
                    )
                source = copy
            try:
                base = json.loads(read_scene_text(source))
            except SceneFileError as exc:
                raise JournalError(exc.problem) from None
            if type(base) is not dict:
                raise JournalError("the scene file holds no scene")
        data = replay(base, journal.records)
        return RecoveryInfo(path, scene_path, journal.written_at, saved, data, header["id"])

    def _parse(self, path: Path, text: str) -> RecoveryInfo:
        data = json.loads(text)
        if type(data) is not dict:
            raise ValueError("not a JSON object")
        meta = data.pop(META_KEY, None)
        if type(meta) is not dict:
            raise ValueError(f'no "{META_KEY}" object: not a recovery file')
        if meta.get("version") != META_VERSION:
            raise ValueError(f"recovery format {meta.get('version')!r} is not {META_VERSION}")
        scene = meta.get("scene")
        written = meta.get("written_at")
        if scene is not None and type(scene) is not str:
            raise ValueError('"scene" must be a path or null')
        if type(written) not in (int, float):
            raise ValueError('"written_at" must be a number')
        saved = _stamp(meta.get("saved_stamp"))
        if "format" not in data:
            raise ValueError("it holds no scene")
        journal_id = meta.get("journal", "")
        if type(journal_id) is not str:
            raise ValueError('"journal" must be a string')
        scene_path = None if scene is None else self.root / scene
        return RecoveryInfo(path, scene_path, float(cast(float, written)), saved, data, journal_id)

    def all_recoveries(self) -> list[RecoveryInfo]:
        """Every readable recovery file of the project, newest first (bad ones set aside)."""
        try:
            names = [*self.directory.glob("*" + SUFFIX), *self.directory.glob("*" + JOURNAL_SUFFIX)]
        except OSError:
            return []
        paths = dict.fromkeys(sorted(_unit_of(p) for p in names if not _CORRUPT.search(p.name)))
        infos = [self.read(p) for p in paths]
        return sorted((i for i in infos if i is not None), key=lambda i: i.written_at, reverse=True)

    # --- removing -----------------------------------------------------------------------------

    def delete(self, scene_path: str | os.PathLike[str] | None) -> bool:
        """Delete a scene's recovery file; whether one was deleted (never raises)."""
        return self.remove(self.path_for(scene_path))

    def remove(self, path: Path, *, keep_base: bool = False) -> bool:
        """Delete one recovery file and its journal; whether any was deleted (never raises).

        Args:
            path: the recovery file.
            keep_base: keep the copy of the scene file (the next journal of the same
                version of the file starts from it again).
        """
        removed = False
        for p in _pair(path)[:2] if keep_base else _pair(path):
            try:
                p.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("cannot delete recovery file %s: %s", p, exc.strerror or exc)
                continue
            removed = True
        return removed

    def set_aside(self, path: Path, reason: str) -> Path | None:
        """Rename a bad recovery file out of the way, keeping it for a person to look at.

        Returns:
            The new path, or ``None`` when even the rename failed (the file stays).
        """
        aside = _free_name(path, lambda n: f".corrupt{f'-{n}' if n else ''}")
        try:
            _move_unit(path, aside)
        except OSError as exc:
            log.warning(
                "recovery file %s is unreadable (%s) and could not be set aside: %s",
                path,
                reason,
                exc.strerror or exc,
            )
            return None
        log.warning("recovery file %s is unreadable (%s); ignored, kept as %s", path, reason, aside)
        return aside


def _regular(path: Path) -> bool:
    """Whether `path` is a regular file; a FIFO or device is logged and never opened.

    A FIFO under a recovery name would block the start-up, a device fill memory.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode):
        log.warning("ignored %s: not a regular file", path)
        return False
    return True


def _stamp(stamp: Any) -> FileStamp | None:
    if stamp is None:
        return None
    if (
        type(stamp) is not dict
        or type(stamp.get("mtime_ns")) is not int
        or type(stamp.get("size")) is not int
    ):
        raise ValueError('"saved_stamp" must hold integers mtime_ns and size')
    return FileStamp(stamp["mtime_ns"], stamp["size"])


def _free_name(path: Path, tag: Callable[[int], str]) -> Path:
    """``<base><tag(n)>.recovery.json`` beside `path`, for the first n taken by no file."""
    base = path.name.removesuffix(SUFFIX)
    n = 0
    while True:
        free = path.with_name(f"{base}{tag(n)}{SUFFIX}")
        if not any(q.exists() for q in _pair(free)):
            return free
        n += 1


def _move_unit(path: Path, to: Path) -> None:
    """Rename a recovery file and its journal (whichever exist) to the names of `to`."""
    for src, dst in zip(_pair(path), _pair(to), strict=True):
        if src.exists():
            os.replace(src, dst)
