"""Unsaved edits kept safe: every change journaled as it happens, the offer to recover.

Every change to the document (a command pushed, undone or redone) appends a
record of what it touched to the scene's recovery journal before the event loop
turns again, playing or not, so a kill or a segfault loses nothing; the record
is synced to the disk itself within `RECOVERY_DELAY_MS`. A record costs what
the change touched, not the scene's size: the whole scene is written only when
the journal has no other base (an untitled or recovered scene, at its first
change), when `autosave_now` is asked for, or when the journal has grown long
(`COMPACT_AFTER_RECORDS`). This needs no signal handler (which a plugin could
replace) and no clean exit: the edits are already on disk when the editor dies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QGuiApplication, QUndoCommand
from PySide6.QtWidgets import QMessageBox

from editor.commands import ReloadChangedScripts
from editor.recovery import (
    FileStamp,
    RecoveryChoice,
    RecoveryInfo,
    RecoveryStore,
    base_copy_for,
    copy_base,
)
from editor.recovery_journal import (
    BASE_SCENE,
    BASE_SNAPSHOT,
    JournalWriter,
    change_record,
    new_journal_id,
)
from runtime import Handle, Scene, SceneFileError
from runtime.scene import EntityAdded, EntityChanged, EntityMoved, EntityRemoved, SceneEvent
from runtime.scenefile import remove_interrupted_saves, scene_from_data

if TYPE_CHECKING:
    from editor.controllers.document import DocumentController

log = logging.getLogger("hotplay.editor")

#: Default period of the autosave that retries a recovery file the disk refused and
#: compacts a long journal into a snapshot.
AUTOSAVE_INTERVAL_MS = 20_000
#: Longest time from a change's record (written at once) to its sync to the disk itself.
RECOVERY_DELAY_MS = 250
#: Records after which the autosave writes the whole scene and starts the journal over.
COMPACT_AFTER_RECORDS = 5_000


class RecoveryController(QObject):
    """Writes the document's unsaved edits to its recovery file and offers them back.

    The document owns this controller and calls it when it opens, saves or
    leaves a scene; the recovery file of edits that were saved or discarded
    is deleted, one the user chose to keep for later is held aside (never
    overwritten, offered again).
    Each change of the undo stack appends a record to the journal at once,
    while playing too (the game plays a copy; the edited scene is the user's
    work). What a change touched is learnt from the edited scene's events; the
    script objects a hot reload rebuilds are not changes (what the reload did
    change arrives as a `ReloadChangedScripts` command). At start it deletes
    what killed editors left: the temporary files of interrupted saves in the
    project's assets and recovery folders.

    Args:
        document: the document whose edits are kept.
        is_playing: whether a game runs (the edited scene is frozen then).
        policy: answers "recover unsaved changes?" instead of a dialog (tests, benchmarks).
        interval_ms: the period of the autosave that retries after a failed write
            (default `AUTOSAVE_INTERVAL_MS`; 0: none).
    """

    def __init__(
        self,
        document: DocumentController,
        is_playing: Callable[[], bool],
        *,
        policy: Callable[[RecoveryInfo], RecoveryChoice] | None = None,
        interval_ms: int | None = None,
    ) -> None:
        super().__init__(document)
        self.document = document
        self._is_playing = is_playing
        #: Autosaved copies of unsaved edits, offered again after the editor was killed.
        self.store = RecoveryStore(document.project.root)
        #: Answers "recover unsaved changes?" (tests and benchmarks replace it).
        self.ask_recover: Callable[[RecoveryInfo], RecoveryChoice] = (
            policy if policy is not None else self._ask_recover
        )
        #: The scene file at its last open or save.
        self.saved_stamp: FileStamp | None = None
        self._written: Path | None = None  # the recovery file holding our edits
        self._error = ""
        self._stopped = False
        self._journal: JournalWriter | None = None
        self._base_copy: threading.Thread | None = None  # copying the journal's scene file
        self._base_stamp: FileStamp | None = None  # the version of the file it copies
        # Whether the document is the scene file as `saved_stamp` stamps it plus the
        # changes journaled since (so the file can be the journal's base).
        self._base_is_file = False
        self._scene: Scene | None = None
        # What changed since the last record: entities whose data or children changed,
        # subtrees added, whether the top level changed, and the entities whose script
        # objects were rebuilt (`_rebuilt`; after a reload `_rebuilt_by_reload`).
        self._touched: set[Handle] = set()
        self._added: set[Handle] = set()
        self._roots_changed = False
        self._rebuilt: set[Handle] = set()
        self._rebuilt_by_reload: set[Handle] = set()
        self._last_index = 0
        self._last_count = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_autosave_timer)
        interval = AUTOSAVE_INTERVAL_MS if interval_ms is None else interval_ms
        if interval > 0:
            self._timer.start(interval)
        self._sync_timer = QTimer(self)
        self._sync_timer.setSingleShot(True)
        self._sync_timer.setInterval(RECOVERY_DELAY_MS)
        self._sync_timer.timeout.connect(self._sync)
        document.undo_stack.indexChanged.connect(self._on_document_changed)
        document.sceneReplaced.connect(self._follow)
        document.game.add_reload_participant(self._on_reload_prepared)
        self._follow(document.scene)
        project = document.project
        for folder in (project.assets_dir, self.store.directory):
            for tmp in remove_interrupted_saves(folder):
                log.info("deleted %s, left by an interrupted save", tmp)

    def autosave_now(self, *, even_while_playing: bool = False) -> Path | None:
        """Write the whole edited scene to its recovery file and start its journal over.

        Writes nothing while the scene has no unsaved changes, while playing
        (the edited scene is frozen then; its journal still holds it) unless
        `even_while_playing`, or after `stop`. Failures are logged, never raised.

        Returns:
            The recovery file, or ``None`` when nothing was written.
        """
        doc = self.document
        if self._stopped or (self._is_playing() and not even_while_playing):
            return None
        if not doc.is_modified:
            self.delete()  # undone back to the saved state: nothing to recover
            return None
        return self._write_snapshot()

    def stop(self) -> None:
        """No more autosaves (the window is closing); the journal is synced and closed."""
        self._stopped = True
        self._timer.stop()
        self._sync_timer.stop()
        self._close_journal()
        self._join_base_copy()

    def opened(self, stamp: FileStamp | None) -> None:
        """The document now holds its scene file as stamped (``None``: a new, unsaved scene)."""
        self.saved_stamp = stamp
        self._base_is_file = stamp is not None

    def _write_snapshot(self) -> Path | None:
        """The whole scene to the recovery file, then an empty journal continuing it."""
        doc = self.document
        journal_id = new_journal_id()
        target = self.store.path_for(doc.scene_path)
        self._close_journal()
        try:
            path = self.store.write(doc.scene, doc.scene_path, self.saved_stamp, journal_id)
            self._journal = self.store.start_journal(
                doc.scene_path, self.saved_stamp, BASE_SNAPSHOT, journal_id
            )
        except (OSError, ValueError, TypeError) as exc:
            self._failed(target, exc)
            return None
        self._error = ""
        self._written = path
        self._forget_changes()
        return path

    def _journal_change(self) -> None:
        """Append what changed since the last record (starting the journal if need be)."""
        doc = self.document
        if self._journal is None:
            if not self._base_is_file or FileStamp.of(doc.scene_path) != self.saved_stamp:
                self._write_snapshot()  # no file to start from: the whole scene, once
                return
            target = self.store.path_for(doc.scene_path)
            # A snapshot of another session's edits; a copy of this version of the file stays.
            self.store.remove(target, keep_base=self._base_stamp == self.saved_stamp)
            try:
                self._journal = self.store.start_journal(
                    doc.scene_path, self.saved_stamp, BASE_SCENE, new_journal_id()
                )
            except OSError as exc:
                self._failed(target, exc)
                return
            self._written = target
            assert doc.scene_path is not None and self.saved_stamp is not None
            self._copy_base(doc.scene_path, self.saved_stamp, base_copy_for(target))
        touched = self._touched | self._rebuilt
        if not (touched or self._added or self._roots_changed):
            return
        try:
            self._journal.append(
                change_record(doc.scene, touched, self._added, self._roots_changed)
            )
        except (OSError, ValueError, TypeError) as exc:
            # Kept: the next change or the autosave timer tries again.
            self._failed(self._journal.path, exc)
            return
        self._error = ""
        self._forget_changes()
        if not self._sync_timer.isActive():
            self._sync_timer.start()

    def _failed(self, target: Path, exc: Exception) -> None:
        error = getattr(exc, "strerror", None) or str(exc)
        if error != self._error:  # once per problem, not at every change
            log.warning("autosave to %s failed: %s", target, error)
        self._error = error

    def _copy_base(self, scene_path: Path, stamp: FileStamp, target: Path) -> None:
        """Copy the journal's scene file beside it, off the GUI thread (see `copy_base`).

        A copy of this version of the file, made or being made for an earlier
        journal (edits undone back to the saved state, then made again), is kept.
        """
        if self._base_stamp == stamp:
            return
        self._join_base_copy()
        self._base_stamp = stamp
        self._base_copy = threading.Thread(
            target=copy_base, args=(scene_path, stamp, target), name="hotplay-recovery-base"
        )
        self._base_copy.start()

    def _join_base_copy(self) -> None:
        copying, self._base_copy = self._base_copy, None
        self._base_stamp = None
        if copying is not None:
            copying.join()

    def _sync(self) -> None:
        if self._journal is not None:
            self._journal.sync()

    def _close_journal(self) -> None:
        journal, self._journal = self._journal, None
        if journal is not None:
            journal.close()

    def _on_autosave_timer(self) -> None:
        # Records are written as changes happen: the timer only retries what the disk
        # refused, and folds a long journal into a snapshot (rarely: that costs the
        # scene's size).
        if self._stopped or not self.document.is_modified:
            return
        journal = self._journal
        if self._error or journal is None or journal.seq >= COMPACT_AFTER_RECORDS:
            self.autosave_now()

    # --- what changed -------------------------------------------------------------------

    def _follow(self, scene: Scene) -> None:
        """Observe the edited scene (a new one comes with an empty undo history)."""
        if self._scene is not None:
            self._scene.unsubscribe(self._on_scene_event)
        self._scene = scene
        scene.subscribe(self._on_scene_event)
        self._forget_changes()
        self._rebuilt_by_reload.clear()
        self._last_index = self.document.undo_stack.index()
        self._last_count = self.document.undo_stack.count()

    def _forget_changes(self) -> None:
        self._touched.clear()
        self._added.clear()
        self._rebuilt.clear()
        self._roots_changed = False

    def _on_scene_event(self, event: SceneEvent) -> None:
        if isinstance(event, EntityChanged):
            self._touched.add(event.handle)
        elif isinstance(event, EntityAdded):
            self._added.add(event.handle)
            self._parent_changed(self._scene[event.handle].parent if self._scene else Handle.NONE)
        elif isinstance(event, EntityRemoved):
            self._parent_changed(event.parent)
        elif isinstance(event, EntityMoved):
            self._touched.add(event.handle)
            self._parent_changed(event.old_parent)
            self._parent_changed(event.new_parent)
        else:  # ScriptsReplaced
            self._rebuilt.update(event.handles)

    def _parent_changed(self, parent: Handle) -> None:
        if parent:
            self._touched.add(parent)
        else:
            self._roots_changed = True

    def _on_reload_prepared(self, _fresh: dict[str, Any]) -> Callable[[], None]:
        """A reload participant: the script objects it rebuilds are no change of data."""
        return self._on_reload_committed

    def _on_reload_committed(self) -> None:
        # Every scene observer has heard of the rebuilt scripts by now. What the reload
        # changed in their data is a `ReloadChangedScripts` command, which names it.
        self._rebuilt_by_reload |= self._rebuilt
        self._rebuilt.clear()

    def _commands_changed(self, index: int) -> list[QUndoCommand]:
        """The commands done or undone between the last index and `index`."""
        stack = self.document.undo_stack
        last, self._last_index = self._last_index, index
        if index == last:  # a command merged into the one before
            span = range(index - 1, index)
        else:
            span = range(min(index, last), max(index, last))
        return [c for i in span if (c := stack.command(i)) is not None]

    def _on_document_changed(self, index: int) -> None:
        # Written at once: an edit made just before Play is on disk even if the game
        # then blocks the event loop, or crashes the editor.
        if self._stopped or not shiboken6.isValid(self.document.undo_stack):
            return  # the window is closing (a dying stack clears itself)
        reloads = [c for c in self._commands_changed(index) if isinstance(c, ReloadChangedScripts)]
        count, self._last_count = self._last_count, self.document.undo_stack.count()
        for c in reloads:
            self._touched.update(h for h, _ in (*c.before, *c.after))
        if self._rebuilt_by_reload and not reloads and self.document.undo_stack.count() < count:
            # A reload's command merged into the one before and left the history with
            # it (the reloads cancelled out): what it had changed is unknown here.
            self._touched |= self._rebuilt_by_reload
        self._rebuilt_by_reload.clear()
        if not self.document.is_modified:
            # Undone back to the saved state: nothing to recover. The copy of the file
            # stays for the next edit (no copy of a big file per undo and redo).
            self._close_journal()
            written, self._written = self._written, None
            if written is not None:
                self.store.remove(written, keep_base=True)
            self._base_is_file = self.saved_stamp is not None  # the file's own state again
            self._forget_changes()
            return
        self._journal_change()

    def delete(self) -> None:
        """Delete the recovery file of the edits being left (saved, discarded or closed)."""
        self._close_journal()
        self._join_base_copy()  # never a copy written after the files are gone
        path, self._written = self._written, None
        if path is not None:
            self.store.remove(path)

    def saved(self, path: Path) -> None:
        """The document was saved to `path`: its recovery files are obsolete."""
        self.saved_stamp = FileStamp.of(path)
        self.delete()  # ours, also the previous location's after Save As
        self.store.delete(path)
        self._base_is_file = self.saved_stamp is not None
        self._forget_changes()

    def adopt(self, info: RecoveryInfo) -> None:
        """The document now holds the recovered edits of `info`, still unsaved.

        The file is not their base: the next change writes the whole scene first.
        """
        self.saved_stamp = info.saved_stamp
        self._base_is_file = False
        self._written = self.store.restore_held(info)

    def offer(self, path: Path) -> tuple[Scene, RecoveryInfo] | None:
        """Ask about the recovery files of `path`, newest first; the scene the user recovers.

        Discard deletes a file; Later holds it aside (asked again next time),
        so the scene's new edits still have a recovery file of their own.
        """
        for info in self.store.find_all(path):
            if not info.newer_than_save():
                log.info("%s predates the last save of the scene; not offered", info)
                continue
            choice = self.ask_recover(info)
            if choice is RecoveryChoice.DISCARD:
                self.store.remove(info.path)
                log.info("discarded %s", info)
                continue
            if choice is not RecoveryChoice.RECOVER:
                if info.path == self.store.path_for(path):
                    self.store.hold(info.path)
                log.warning("kept %s for later", info)
                continue
            recovered = self._recovered_scene(info)
            if recovered is not None:
                return recovered, info
        return None

    def _recovered_scene(self, info: RecoveryInfo) -> Scene | None:
        doc = self.document
        try:
            return scene_from_data(
                info.scene_data,
                doc.game.registry.resolve,
                source=info.path,
                project_root=doc.project.root,
            )
        except SceneFileError as exc:
            self.store.set_aside(info.path, exc.problem)
            doc.show_error("Cannot recover unsaved changes", str(exc))
            return None

    def message_box(self, info: RecoveryInfo) -> QMessageBox:
        """The "recover unsaved changes?" question, not shown yet (`ask_recover` runs it).

        Each button's ``choice`` property holds its `RecoveryChoice` value.
        """
        doc = self.document
        name = doc.display_name(info.scene_path) if info.scene_path else "the untitled scene"
        box = QMessageBox(doc.dialog_parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Recover unsaved changes")
        box.setText(f"Recover unsaved changes to {name} from {info.time_text}?")
        if info.scene_changed_on_disk():
            detail = (
                f"{name} has changed on disk since these edits were made (or it was "
                "deleted). Recovering shows the edits instead of the file's current "
                "content; saving them overwrites it."
            )
        else:
            detail = (
                "The editor ended without saving them. Recovered edits stay unsaved "
                "until you save them."
            )
        box.setInformativeText(detail + "\n\nLater keeps them and asks again next time.")
        buttons = (
            ("Recover", QMessageBox.ButtonRole.AcceptRole, RecoveryChoice.RECOVER),
            ("Discard", QMessageBox.ButtonRole.DestructiveRole, RecoveryChoice.DISCARD),
            ("Later", QMessageBox.ButtonRole.RejectRole, RecoveryChoice.LATER),
        )
        for text, role, choice in buttons:
            button = box.addButton(text, role)
            button.setProperty("choice", choice.value)
            if choice is RecoveryChoice.RECOVER:
                box.setDefaultButton(button)
            elif choice is RecoveryChoice.LATER:
                box.setEscapeButton(button)
        return box

    def _ask_recover(self, info: RecoveryInfo) -> RecoveryChoice:
        if QGuiApplication.platformName() in ("offscreen", "minimal"):
            log.warning("%s: kept (no one can answer a dialog on this platform)", info)
            return RecoveryChoice.LATER
        box = self.message_box(info)
        box.exec()
        clicked = box.clickedButton()
        value = clicked.property("choice") if clicked is not None else None
        box.deleteLater()
        return RecoveryChoice(value) if value else RecoveryChoice.LATER
