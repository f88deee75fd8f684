"""The recovery journal: every change of the edited scene appended to disk as it happens.

Writing the whole scene after every edit costs seconds at 100,000 entities, so
a recovery is a *base* plus a journal of what changed since. The base is the
scene file the edits started from (when its stamp still matches) or the
recovery snapshot beside the journal (`editor.recovery`). The journal is JSON
lines, one object per line::

    {"hotplay_journal": 1, "id": "5f0c…", "base": "scene", "scene": "assets/scenes/demo.scene.json",
     "saved_stamp": {"mtime_ns": …, "size": …}, "written_at": 1718000000.5}
    {"seq": 1, "at": 1718000001.2, "name": "demo", "background": "#202020ff", "next_handle": 12,
     "entities": [{"handle": 3, …, "children": [4, 5]}], "roots": [1, 2, 3]}

The first line is the header: ``base`` is ``"scene"`` (the records apply to the
scene file with ``saved_stamp``, or to the copy of it made beside the journal
when the file changed since) or ``"snapshot"`` (to the snapshot whose
``journal`` id is ``id``). Each record holds, for the entities a change touched,
their data as the scene file stores it plus their ``children`` in order, the
list of ``roots`` when the top level changed, and the scene's own values. A
record is one ``write`` of one line: a kill loses nothing already written, and
power loss or a full disk can only tear the last line, which reading skips.
No Qt in here.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.fields import PlainDataError
from runtime.scene import Scene
from runtime.scenefile import encode_scene_text, entity_to_data, write_atomic

log = logging.getLogger("hotplay.editor.recovery")

JOURNAL_VERSION = 1
HEADER_KEY = "hotplay_journal"
#: The journal's base: the scene file of its ``saved_stamp``, or the snapshot beside it.
BASE_SCENE = "scene"
BASE_SNAPSHOT = "snapshot"


class JournalError(ValueError):
    """A journal that cannot be read at all (no valid header)."""


def new_journal_id() -> str:
    """A fresh id, shared by a snapshot and the journal that continues it."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Journal:
    """A journal as read from disk.

    Attributes:
        header: the first line (what the records apply to).
        records: every whole, valid record, in order.
        problem: why reading stopped early (a torn or bad line), or ``""``.
    """

    header: dict[str, Any]
    records: list[dict[str, Any]]
    problem: str = ""

    @property
    def written_at(self) -> float:
        """When the last record (or the header) was written."""
        last = self.records[-1]["at"] if self.records else self.header["written_at"]
        return float(last)


class JournalWriter:
    """Appends records to one journal file; each `append` is on disk when it returns.

    On disk means handed to the OS in one ``write``: it survives a kill or a
    crash of the editor. `sync` (called within a second) makes it survive
    power loss too.

    Args:
        path: the journal file.
        header: its first line; written atomically, replacing any file there.
    """

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.header = header
        write_atomic(path, _line(header))
        self.seq = 0
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND)
        self._unsynced = False

    def append(self, record: dict[str, Any]) -> None:
        """Write one record (its ``seq`` and ``at`` are filled in here).

        Raises:
            OSError: the disk refused.
            ValueError: the record holds a value a file cannot store.
        """
        assert self._fd is not None, "the journal is closed"
        self.seq += 1
        data = _line({"seq": self.seq, "at": time.time(), **record})
        os.write(self._fd, data)
        self._unsynced = True

    def sync(self) -> None:
        """Flush what was appended to the disk itself (fsync); never raises."""
        if self._fd is not None and self._unsynced:
            self._unsynced = False
            try:
                os.fsync(self._fd)
            except OSError as exc:
                log.warning("cannot sync %s: %s", self.path, exc.strerror or exc)

    def close(self) -> None:
        """Sync and close the file (it stays on disk)."""
        self.sync()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _line(obj: dict[str, Any]) -> bytes:
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except PlainDataError as exc:  # a ValueError, but say what it is about
        raise ValueError(f"the scene holds a value a file cannot store: {exc}") from None
    except RecursionError:
        raise ValueError("the scene holds a value nested too deeply to store") from None
    return encode_scene_text(text) + b"\n"


def change_record(
    scene: Scene, touched: Iterable[int], added: Iterable[int], roots_changed: bool
) -> dict[str, Any]:
    """The record of a change: the data of the touched entities and their children.

    Args:
        scene: the edited scene, after the change.
        touched: entities whose data or children changed (gone ones are skipped:
            their parent's children say they left).
        added: entities added with their subtrees (every descendant is written).
        roots_changed: whether the top level's order changed.
    """
    ents = scene.entities
    chosen: dict[int, None] = dict.fromkeys(h for h in touched if h in ents)
    for h in added:
        if h in ents:
            chosen.update((e.handle, None) for e in scene.subtree(h))  # type: ignore[arg-type]
    entities = []
    for h in chosen:
        e = ents[h]  # type: ignore[index]
        d = entity_to_data(e)
        d["children"] = [int(c) for c in e.children]
        entities.append(d)
    record: dict[str, Any] = {
        "name": scene.name,
        "background": scene.background.hex,
        "next_handle": scene.next_handle,
        "entities": entities,
    }
    if roots_changed:
        record["roots"] = [int(r) for r in scene.roots]
    return record


def read_journal(path: Path, max_bytes: int) -> Journal:
    """Read a journal: its header and every whole record before the first bad line.

    Raises:
        OSError: it cannot be read.
        JournalError: it has no valid header, or is larger than `max_bytes`.
    """
    with open(path, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise JournalError(f"larger than {max_bytes:,} bytes")
    lines = data.split(b"\n")
    # Every line ends with a newline: what follows the last one is a torn write.
    torn = lines.pop()
    try:
        header = json.loads(lines[0]) if lines else None
    except ValueError:
        header = None
    if type(header) is not dict or header.get(HEADER_KEY) != JOURNAL_VERSION:
        raise JournalError("no journal header of this version")
    if header.get("base") not in (BASE_SCENE, BASE_SNAPSHOT) or type(header.get("id")) is not str:
        raise JournalError("the header names no base")
    if type(header.get("written_at")) not in (int, float):
        raise JournalError('"written_at" must be a number')
    records: list[dict[str, Any]] = []
    problem = ""
    for n, line in enumerate(lines[1:], start=1):
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            record = None
        if not _valid_record(record, n):
            problem = f"record {n} is damaged; the {len(lines) - n} from there are skipped"
            break
        records.append(record)
    if not problem and torn:
        problem = f"the last record ({len(torn)} bytes) was cut off; skipped"
    return Journal(header, records, problem)


def _valid_record(record: Any, seq: int) -> bool:
    return (
        type(record) is dict
        and record.get("seq") == seq
        and type(record.get("at")) in (int, float)
        and type(record.get("entities")) is list
        and all(type(d) is dict and type(d.get("handle")) is int for d in record["entities"])
        and all(type(d.get("children")) is list for d in record["entities"])
        and ("roots" not in record or type(record["roots"]) is list)
    )


def replay(base: dict[str, Any], records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The scene data of `base` (shaped like `scene_to_data`'s) with the records applied.

    Entities are written out depth first from the roots, as saving orders them,
    with each one's parent set from where it now is; an entity no list of
    children reaches any more was removed.
    """
    ents: dict[int, dict[str, Any]] = {}
    children: dict[int, list[int]] = {0: []}
    for d in base.get("entities", []):
        h = d["handle"]
        ents[h] = d
        children.setdefault(h, [])
        children.setdefault(d.get("parent") or 0, []).append(h)
    out = {k: v for k, v in base.items() if k != "entities"}
    for record in records:
        for d in record["entities"]:
            d = dict(d)
            children[d["handle"]] = [c for c in d.pop("children") if type(c) is int]
            ents[d["handle"]] = d
        if "roots" in record:
            children[0] = [r for r in record["roots"] if type(r) is int]
        for key in ("name", "background", "next_handle"):
            if key in record:
                out[key] = record[key]
    placed: list[dict[str, Any]] = []
    seen: set[int] = set()
    stack = [(h, 0) for h in reversed(children[0])]
    while stack:
        h, parent = stack.pop()
        d = ents.get(h)
        if d is None or h in seen:  # damaged: never loop, never invent an entity
            continue
        seen.add(h)
        placed.append({**d, "parent": parent})
        stack.extend((c, h) for c in reversed(children.get(h, ())))
    out["entities"] = placed
    return out
