"""The edited scene as a document: new, open, save, save as, recent files, unsaved changes.

The scene file may change behind the editor's back (a ``git pull``, a
teammate, a hand edit). Save checks it first and asks Reload / Overwrite /
Save As rather than silently overwriting it; so does the window regaining
focus, as other editors do, once per change on disk.
"""

from __future__ import annotations

import enum
import logging
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QUndoStack
from PySide6.QtWidgets import QAbstractButton, QFileDialog, QMenu, QMessageBox, QWidget

from editor import commands as cmd
from editor.controllers import STATUS_SECONDS
from editor.controllers.recovery import RecoveryController
from editor.recovery import FileStamp, RecoveryChoice, RecoveryInfo
from runtime import Game, Project, Scene, SceneFileError

log = logging.getLogger("hotplay.editor")

#: Recent scene files remembered in the settings.
MAX_RECENT = 8


class DiskChoice(enum.Enum):
    """The answer to "the scene file changed on disk"."""

    RELOAD = "reload"  #: open the file as it is on disk (unsaved edits are dropped)
    OVERWRITE = "overwrite"  #: save the edited scene over it
    SAVE_AS = "save_as"  #: save the edited scene to another file
    CANCEL = "cancel"  #: do nothing now


class DocumentController(QObject):
    """Owns the edited scene, the file it came from, its undo stack and its recovery file.

    The edited scene is added to the game *not running*, so every hot reload
    migrates its scripts. Every change to it goes through `undo_stack`; the
    document is modified when the stack is not clean.

    Args:
        game: the window's game.
        project: the project (scene paths are relative to it).
        settings: where the recent scenes are kept.
        dialog_parent: the widget file dialogs and questions belong to.
        is_playing: whether a game runs (the document is frozen then).
        recovery_policy: answers "recover unsaved changes?" instead of a dialog.
        autosave_interval_ms: see `RecoveryController`.

    Attributes:
        ask_unsaved_changes: answers the unsaved-changes question (tests replace it).
        ask_changed_on_disk: answers "the file changed on disk" with a `DiskChoice`
            (tests replace it).

    Signals:
        sceneReplaced(object): another `Scene` is edited now (new, open, recover).
        titleChanged(): the file name or the modified state changed.
        statusReported(str, str, float): a message for the status bar (text, kind, seconds).
    """

    sceneReplaced = Signal(object)
    titleChanged = Signal()
    statusReported = Signal(str, str, float)

    def __init__(
        self,
        game: Game,
        project: Project,
        settings: QSettings,
        dialog_parent: QWidget,
        is_playing: Callable[[], bool],
        *,
        recovery_policy: Callable[[RecoveryInfo], RecoveryChoice] | None = None,
        autosave_interval_ms: int | None = None,
    ) -> None:
        super().__init__(dialog_parent)
        self.game = game
        self.project = project
        self.settings = settings
        #: The widget dialogs and questions about the document belong to.
        self.dialog_parent = dialog_parent
        self._is_playing = is_playing
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.scene_path: Path | None = None
        self.edit_target = cmd.EditTarget(Scene(name="untitled"), game.registry.resolve)
        #: Answers the unsaved-changes question: "save", "discard" or "cancel" (tests replace it).
        self.ask_unsaved_changes: Callable[[], str] = self._ask_unsaved_changes
        self.ask_changed_on_disk: Callable[[Path], DiskChoice] = self._ask_changed_on_disk
        self._disk_stamp_asked: FileStamp | None = None  # the change last asked about
        self.recovery = RecoveryController(
            self, is_playing, policy=recovery_policy, interval_ms=autosave_interval_ms
        )
        dialog_parent.installEventFilter(self)

    # --- state ----------------------------------------------------------------------------

    @property
    def scene(self) -> Scene:
        """The scene being edited (never the running copy)."""
        return self.edit_target.scene

    @property
    def is_modified(self) -> bool:
        """Whether the edited scene has unsaved changes."""
        return not self.undo_stack.isClean()

    def display_name(self, path: Path) -> str:
        """`path` relative to the project when it is inside it."""
        try:
            return str(path.resolve().relative_to(self.project.root))
        except ValueError:
            return str(path)

    def title(self) -> str:
        """The window title (with Qt's ``[*]`` modified marker)."""
        name = self.display_name(self.scene_path) if self.scene_path else "untitled scene"
        return f"{name}[*] — {self.project.name} — Hotplay"

    def set_scene(self, scene: Scene, path: Path | None) -> None:
        """Edit `scene` (from `path`) from now on, with an empty undo history."""
        old = self.edit_target.scene
        if old is not scene and old in self.game.scenes:
            self.game.remove_scene(old)
        if scene not in self.game.scenes:
            # Not running: its scripts do not update, but every reload migrates them.
            self.game.add_scene(scene, run=False)
        self.edit_target.scene = scene
        self.scene_path = path
        self.undo_stack.clear()
        self.sceneReplaced.emit(scene)
        self.titleChanged.emit()

    # --- files ----------------------------------------------------------------------------

    def new_scene(self) -> bool:
        """Start an empty scene (asks about unsaved changes first)."""
        if self._is_playing() or not self.maybe_save():
            return False
        self.recovery.delete()  # the edits were saved or discarded
        self.set_scene(Scene(name="untitled"), None)
        self.recovery.opened(None)
        log.info("new scene")
        return True

    def open_scene_dialog(self) -> None:
        """Choose a scene file to open."""
        start = str(self.scene_path.parent if self.scene_path else self.project.assets_dir)
        path, _ = QFileDialog.getOpenFileName(
            self.dialog_parent, "Open scene", start, "Hotplay scenes (*.scene.json *.json)"
        )
        if path:
            self.open_scene(path)

    def open_scene(self, path: str | os.PathLike[str], *, ask: bool = True) -> bool:
        """Open a scene file for editing; an invalid file is reported, not raised."""
        if self._is_playing():
            return False
        if ask and not self.maybe_save():
            return False
        self.recovery.delete()  # the edits were saved or discarded
        p = self.project.scene_path(path)
        recovered = self.recovery.offer(p)
        if recovered is not None:
            scene, info = recovered
            self.set_scene(scene, p)
            # The edits still start from the save recorded with them, and they are
            # unsaved: the document stays modified, the recovery file stays until saved.
            self.recovery.adopt(info)
            self.undo_stack.resetClean()
            self._remember_recent(p)
            log.warning("recovered %s: save to keep them", info)
            self.statusReported.emit(
                f"recovered unsaved changes to {self.display_name(p)}", "warning", STATUS_SECONDS
            )
            return True
        stamp = FileStamp.of(p)  # before reading: a later change then shows as a change
        try:
            scene = self.game.load_scene(p)
        except SceneFileError as exc:
            self.show_error("Cannot open scene", str(exc))
            return False
        self.set_scene(scene, p)
        self.recovery.opened(stamp)
        self._remember_recent(p)
        log.info("opened %s (%d entities)", self.display_name(p), len(scene))
        return True

    def save_scene(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Save the edited scene (to `path`, or where it came from; asks when new).

        When the file changed on disk since it was opened or last saved, asks
        first (`ask_changed_on_disk`): reload it, overwrite it, or save as.
        """
        if path is None and self.scene_path is None:
            return self.save_scene_as()
        p = self.project.scene_path(path) if path is not None else self.scene_path
        assert p is not None
        if self.changed_on_disk(p):
            choice = self.ask_changed_on_disk(p)
            self._disk_stamp_asked = FileStamp.of(p)
            if choice is DiskChoice.RELOAD:
                self.reload_from_disk()
                return False  # nothing was saved: the edits were dropped for the file's version
            if choice is DiskChoice.SAVE_AS:
                return self.save_scene_as()
            if choice is not DiskChoice.OVERWRITE:
                return False
        try:
            self.game.save_scene(self.scene, p)
        except SceneFileError as exc:
            self.show_error("Cannot save scene", str(exc))
            return False
        self.scene_path = p
        self.recovery.saved(p)
        self.undo_stack.setClean()
        self._remember_recent(p)
        self.titleChanged.emit()
        log.info("saved %s", self.display_name(p))
        self.statusReported.emit(f"saved {self.display_name(p)}", "ok", 4.0)
        return True

    def changed_on_disk(self, path: Path | None = None) -> bool:
        """Whether the scene file (or `path`, if it is that file) changed since its open or save.

        A file that is gone, or a path other than the edited scene's, is no conflict.
        """
        p = self.scene_path if path is None else path
        if p is None or self.scene_path is None or p.resolve() != self.scene_path.resolve():
            return False
        now = FileStamp.of(p)
        return now is not None and now != self.recovery.saved_stamp

    def reload_from_disk(self) -> bool:
        """Open the scene file again as it is on disk, dropping the unsaved edits."""
        if self.scene_path is None:
            return False
        return self.open_scene(self.scene_path, ask=False)

    def check_disk(self) -> None:
        """The window has focus again: if the scene file changed on disk, say so once.

        Unmodified, the document simply reloads; with unsaved edits the user
        chooses (`ask_changed_on_disk`). The same change is asked about once.
        """
        if self._is_playing() or not self.changed_on_disk():
            return
        assert self.scene_path is not None
        stamp = FileStamp.of(self.scene_path)
        if stamp == self._disk_stamp_asked:
            return
        self._disk_stamp_asked = stamp
        name = self.display_name(self.scene_path)
        if not self.is_modified:
            if self.reload_from_disk():
                log.info("reloaded %s: it changed on disk", name)
                self.statusReported.emit(f"reloaded {name}: it changed on disk", "ok", 4.0)
            return
        choice = self.ask_changed_on_disk(self.scene_path)
        if choice is DiskChoice.RELOAD:
            self.reload_from_disk()
        elif choice is DiskChoice.OVERWRITE:
            self.save_scene()
        elif choice is DiskChoice.SAVE_AS:
            self.save_scene_as()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: D102 (Qt API)
        if watched is self.dialog_parent and event.type() == QEvent.Type.WindowActivate:
            # After the event: a question asked now would open inside activation.
            QTimer.singleShot(0, self, self.check_disk)
        return False

    def save_scene_as(self) -> bool:
        """Choose a file and save the edited scene there."""
        start = self.scene_path or (self.project.assets_dir / "scenes" / "untitled.scene.json")
        path, _ = QFileDialog.getSaveFileName(
            self.dialog_parent, "Save scene as", str(start), "Hotplay scenes (*.scene.json)"
        )
        if not path:
            return False
        if not path.endswith(".json"):
            path += ".scene.json"
        return self.save_scene(path)

    def maybe_save(self) -> bool:
        """Ask what to do with unsaved changes; ``False`` when the user cancels."""
        if not self.is_modified:
            return True
        answer = self.ask_unsaved_changes()
        if answer == "save":
            return self.save_scene()
        return answer == "discard"

    def show_error(self, title: str, text: str) -> None:
        """Report a problem with the document: log, status bar and a non-blocking message box."""
        log.error("%s: %s", title, text)
        self.statusReported.emit(f"{title}: {text}", "error", STATUS_SECONDS)
        if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            return  # nobody could read it; the log and status bar have it
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            title,
            text,
            QMessageBox.StandardButton.Ok,
            self.dialog_parent,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _ask_unsaved_changes(self) -> str:
        name = self.display_name(self.scene_path) if self.scene_path else "the new scene"
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Unsaved changes",
            f"Save the changes to {name}?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self.dialog_parent,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {
            QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard",
        }.get(QMessageBox.StandardButton(answer), "cancel")

    def _ask_changed_on_disk(self, path: Path) -> DiskChoice:
        name = self.display_name(path)
        if QGuiApplication.platformName() in ("offscreen", "minimal"):
            log.warning("%s changed on disk; not saved (no one can answer a dialog here)", name)
            return DiskChoice.CANCEL
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Scene changed on disk",
            f"{name} has changed on disk since it was opened or saved.",
            QMessageBox.StandardButton.NoButton,
            self.dialog_parent,
        )
        box.setInformativeText(
            "Reload drops your unsaved changes and opens the file as it is now; "
            "Overwrite replaces it with your version; Save As keeps both."
        )
        buttons: dict[QAbstractButton, DiskChoice] = {
            box.addButton("Reload", QMessageBox.ButtonRole.DestructiveRole): DiskChoice.RELOAD,
            box.addButton("Overwrite", QMessageBox.ButtonRole.AcceptRole): DiskChoice.OVERWRITE,
            box.addButton("Save As…", QMessageBox.ButtonRole.ActionRole): DiskChoice.SAVE_AS,
            box.addButton(QMessageBox.StandardButton.Cancel): DiskChoice.CANCEL,
        }
        box.exec()
        return buttons.get(box.clickedButton(), DiskChoice.CANCEL)

    def _on_clean_changed(self, _clean: bool) -> None:
        self.titleChanged.emit()

    # --- recent scenes --------------------------------------------------------------------

    def recent_scenes(self) -> list[str]:
        """Recently opened or saved scene files, newest first."""
        value = self.settings.value("recentScenes", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def fill_recent_menu(self, menu: QMenu) -> None:
        """Fill the Open Recent menu (just before it shows)."""
        menu.clear()
        items = self.recent_scenes()
        if not items:
            menu.addAction("No recent scenes").setEnabled(False)
        for p in items:
            a = menu.addAction(self.display_name(Path(p)))
            a.setToolTip(p)
            a.triggered.connect(lambda _=False, path=p: self.open_scene(path))

    def _remember_recent(self, path: Path) -> None:
        p = str(path.resolve())
        items = [p] + [r for r in self.recent_scenes() if r != p]
        self.settings.setValue("recentScenes", items[:MAX_RECENT])
