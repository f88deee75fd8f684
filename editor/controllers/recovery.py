"""Unsaved edits kept safe: the recovery file written after every change, the offer to recover.

Every change to the document (a command pushed, undone or redone) writes the
recovery file at once or within `RECOVERY_DELAY_MS`, playing or not, so a kill or a
segfault loses nothing. This needs no signal handler (which a plugin could
replace) and no clean exit: the file is already on disk when the editor dies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from editor.recovery import FileStamp, RecoveryChoice, RecoveryInfo, RecoveryStore
from runtime import Scene, SceneFileError
from runtime.scenefile import remove_interrupted_saves, scene_from_data

if TYPE_CHECKING:
    from editor.controllers.document import DocumentController

log = logging.getLogger("hotplay.editor")

#: Default period of the autosave that retries a recovery file the disk refused.
AUTOSAVE_INTERVAL_MS = 20_000
#: Longest time from a change of the document to its recovery file on disk: a change
#: after a quiet period is written at once, the changes within the period after it
#: (a drag) together at its end.
RECOVERY_DELAY_MS = 250


class RecoveryController(QObject):
    """Writes the document's unsaved edits to its recovery file and offers them back.

    The document owns this controller and calls it when it opens, saves or
    leaves a scene; the recovery file of edits that were saved or discarded
    is deleted, one the user chose to keep for later is held aside (never
    overwritten, offered again).
    Each change of the undo stack writes the file at once, or at most
    `RECOVERY_DELAY_MS` later during a burst of changes, while playing too
    (the game plays a copy; the edited scene is the user's work). At start it
    deletes what killed editors left: the temporary files of interrupted saves
    in the project's assets and recovery folders.

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
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.autosave_now)
        interval = AUTOSAVE_INTERVAL_MS if interval_ms is None else interval_ms
        if interval > 0:
            self._timer.start(interval)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(RECOVERY_DELAY_MS)
        self._soon.timeout.connect(self._on_soon)
        self._change_pending = False
        document.undo_stack.indexChanged.connect(self._on_document_changed)
        project = document.project
        for folder in (project.assets_dir, self.store.directory):
            for tmp in remove_interrupted_saves(folder):
                log.info("deleted %s, left by an interrupted save", tmp)

    def autosave_now(self, *, even_while_playing: bool = False) -> Path | None:
        """Write the unsaved edits to the scene's recovery file; return its path.

        Writes nothing while the scene has no unsaved changes, while playing
        (the edited scene is frozen then; the last autosave still holds it)
        unless `even_while_playing`, or after `stop`. The autosave timer calls
        this; failures are logged, never raised.
        """
        doc = self.document
        if self._stopped or (self._is_playing() and not even_while_playing):
            return None
        if not doc.is_modified:
            self.delete()  # undone back to the saved state: nothing to recover
            return None
        target = self.store.path_for(doc.scene_path)
        try:
            path = self.store.write(doc.scene, doc.scene_path, self.saved_stamp)
        except (OSError, ValueError, TypeError) as exc:
            error = getattr(exc, "strerror", None) or str(exc)
            if error != self._error:  # once per problem, not every 20 seconds
                log.warning("autosave to %s failed: %s", target, error)
            self._error = error
            return None
        self._error = ""
        self._written = path
        return path

    def stop(self) -> None:
        """No more autosaves (the window is closing)."""
        self._stopped = True
        self._timer.stop()
        self._soon.stop()

    def _on_document_changed(self, _index: int) -> None:
        # The first change is written at once: an edit made just before Play is on
        # disk even if the game then blocks the event loop, or crashes the editor.
        # Changes within the next period (a drag) wait for its end: one write per
        # period, and the period is never extended, so a long drag reaches disk too.
        if self._soon.isActive():
            self._change_pending = True
            return
        self._soon.start()
        self.autosave_now(even_while_playing=True)

    def _on_soon(self) -> None:
        if self._change_pending:
            self._change_pending = False
            self._soon.start()
            self.autosave_now(even_while_playing=True)

    def delete(self) -> None:
        """Delete the recovery file of the edits being left (saved, discarded or closed)."""
        path, self._written = self._written, None
        if path is not None:
            self.store.remove(path)

    def saved(self, path: Path) -> None:
        """The document was saved to `path`: its recovery files are obsolete."""
        self.saved_stamp = FileStamp.of(path)
        self.delete()  # ours, also the previous location's after Save As
        self.store.delete(path)

    def adopt(self, info: RecoveryInfo) -> None:
        """The document now holds the recovered edits of `info`, still unsaved."""
        self.saved_stamp = info.saved_stamp
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
