"""The asset browser: the project's ``assets/`` and ``plugins/`` as a file tree.

`AssetBrowser` lists the files (icons by kind: folder, scene, image, script),
filters them by name, and says what the user asked for through signals:
double-click a scene or a script (`sceneOpenRequested`, `scriptOpenRequested`);
an image opens in a preview window here. Images drag out as their path under
``assets/`` (`ASSET_MIME`), which the scene view turns into a sprite entity.
Renaming or deleting a file goes through the browser so the edited scene's
references follow (`SceneImageReferences`): a renamed image is renamed in every
visual that shows it, as one undoable step; deleting an image still shown asks
first.

`install_asset_browser` docks it in the main window and wires it to the
document, the scene view and the asset hot reload (`AssetReloadController`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QMimeData,
    QModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QIcon,
    QImageReader,
    QPainter,
    QPixmap,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDockWidget,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QScrollArea,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from editor import commands as cmd
from editor.controllers.asset_reload import AssetReloadController
from editor.scene_view import ASSET_MIME
from runtime import Handle, Project, Vec2
from runtime.assets import AssetKind, AssetReload, asset_kind
from runtime.scene import Visual, VisualKind

if TYPE_CHECKING:
    from editor.controllers.document import DocumentController
    from editor.main_window import MainWindow

log = logging.getLogger("hotplay.editor")

_PATH_ROLE = Qt.ItemDataRole.UserRole + 1
_KIND_ROLE = Qt.ItemDataRole.UserRole + 2
_FOLDERS = ("assets", "plugins")
_SKIPPED = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache"}

#: The kinds the browser tells apart (a folder and a script are not assets).
FOLDER, SCENE, IMAGE, SCRIPT, OTHER = "folder", "scene", "image", "script", "other"


def file_kind(path: Path) -> str:
    """What the browser shows a path as: folder, scene, image, script or other."""
    if path.is_dir():
        return FOLDER
    kind = asset_kind(path)
    if kind is AssetKind.SCENE:
        return SCENE
    if kind is AssetKind.IMAGE:
        return IMAGE
    return SCRIPT if path.suffix == ".py" else OTHER


def open_in_editor(path: str | os.PathLike[str], line: int | None = None) -> None:
    """Open a file in the user's text editor, at `line` when given.

    ``$VISUAL`` or ``$EDITOR`` (with ``+line``), else the system's opener for the file.
    """
    command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if command:
        args = shlex.split(command)
        if line is not None:
            args.append(f"+{line}")  # vi, emacs, nano, gedit, kate and code -g... read +N
        args.append(str(path))
    elif sys.platform == "darwin":
        args = ["open", str(path)]
    elif sys.platform == "win32":
        os.startfile(str(path))  # type: ignore[attr-defined]
        return
    else:
        args = [shutil.which("xdg-open") or "xdg-open", str(path)]
    try:
        # Detached: the editor never waits for (nor outlives the wait of) a text editor.
        subprocess.Popen(args, start_new_session=True)
    except OSError as exc:
        log.error("cannot open %s with %s: %s", path, args[0], exc)


def _kind_icon(kind: str) -> QIcon:
    """A small badge per kind: the colour and letter tell them apart at a glance."""
    colours = {
        FOLDER: ("#c9a640", ""),
        SCENE: ("#4a8fdb", "S"),
        IMAGE: ("#4caf6a", "I"),
        SCRIPT: ("#9b6fd6", "py"),
        OTHER: ("#888888", ""),
    }
    colour, letter = colours[kind]
    pm = QPixmap(16, 16)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(colour))
    if kind == FOLDER:
        p.drawRoundedRect(1, 4, 14, 10, 2, 2)
        p.drawRect(1, 2, 6, 3)
    else:
        p.drawRoundedRect(2, 1, 12, 14, 2, 2)
    if letter:
        p.setPen(QColor("white"))
        font = QFont()
        font.setPixelSize(8 if len(letter) > 1 else 10)
        font.setBold(True)
        p.setFont(font)
        p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, letter)
    p.end()
    return QIcon(pm)


class _FileModel(QStandardItemModel):
    """The file items; a drag carries the files as URLs and images as `ASSET_MIME`."""

    def __init__(self, assets_dir: Path) -> None:
        super().__init__()
        self.assets_dir = assets_dir

    def mimeTypes(self) -> list[str]:
        return [ASSET_MIME, "text/uri-list"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        paths = [Path(str(i.data(_PATH_ROLE))) for i in indexes if i.data(_PATH_ROLE)]
        data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
        images = [p for p in paths if file_kind(p) == IMAGE]
        if images:
            rel = images[0].relative_to(self.assets_dir).as_posix()
            data.setData(ASSET_MIME, rel.encode("utf-8"))
        return data


class AssetBrowser(QWidget):
    """The project's ``assets/`` and ``plugins/`` as a filtered file tree.

    Args:
        project: whose files are shown.
        parent: the owning widget.

    Signals:
        sceneOpenRequested(object): a scene file (`Path`) was double-clicked.
        scriptOpenRequested(object): a script file (`Path`) was double-clicked.
        renamed(object, object): a file or folder was renamed (old `Path`, new `Path`).
        deleted(object): a file or folder was deleted (`Path`).
    """

    sceneOpenRequested = Signal(object)
    scriptOpenRequested = Signal(object)
    renamed = Signal(object, object)
    deleted = Signal(object)

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assetBrowserPanel")
        self.project = project
        #: Answers "delete this?" and similar (title, text) -> yes; tests replace it.
        self.confirm: Callable[[str, str], bool] = self._confirm_dialog
        #: Asks for a new name (current name) -> new name or ``None``; tests replace it.
        self.ask_name: Callable[[str], str | None] = self._ask_name_dialog
        #: The open image preview windows.
        self.previews: list[QDialog] = []
        #: Tells the user why something was not done (title, text); tests replace it.
        self.warn: Callable[[str, str], None] = self._warning_dialog
        #: Checked before a file is renamed or deleted: a reason to refuse, or ``""``.
        self.refuse_change: Callable[[Path], str] = lambda _path: ""
        #: What still uses a file about to be deleted, or ``""`` (the window sets it).
        self.delete_warning: Callable[[Path], str] = lambda _path: ""
        self.model = _FileModel(project.assets_dir)
        #: Every path listed (absolute), to tell whether a save can change the listing.
        self._listed: set[str] = set()
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("assetFilter")
        self.filter_edit.setPlaceholderText("Filter files")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.set_filter)
        self.view = QTreeView()
        self.view.setObjectName("assetTree")
        self.view.setModel(self.proxy)
        self.view.setHeaderHidden(True)
        self.view.setDragEnabled(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu)
        self.view.doubleClicked.connect(self._on_double_clicked)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.filter_edit)
        lay.addWidget(self.view, 1)
        self._icons = {k: _kind_icon(k) for k in (FOLDER, SCENE, IMAGE, SCRIPT, OTHER)}
        self.refresh()

    # --- contents ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """List the files again (after changes on disk), keeping the folders open."""
        opened = {
            str(self.proxy.index(r, 0, parent).data(_PATH_ROLE))
            for parent, r in self._all_rows()
            if self.view.isExpanded(self.proxy.index(r, 0, parent))
        }
        self.model.clear()
        self._listed = set()
        root = self.model.invisibleRootItem()
        for name in _FOLDERS:
            folder = self.project.root / name
            if folder.is_dir():
                root.appendRow(self._item(folder))
        for parent, r in self._all_rows():
            index = self.proxy.index(r, 0, parent)
            path = str(index.data(_PATH_ROLE))
            top = not parent.isValid()
            if path in opened or (top and not opened):
                self.view.expand(index)

    def refresh_for(self, paths: Sequence[str]) -> None:
        """List the files again if one of `paths` (saved, made, deleted) is new or gone.

        A code reload names the files it was saved for: a save of a file the
        browser lists changes no row, and listing a large project again kept the
        first frame of the new code waiting. No paths (a reload of everything):
        listed again.
        """
        listed = self._listed
        if not paths or any(
            p not in listed or not os.path.exists(p) for p in map(os.path.abspath, paths)
        ):
            self.refresh()

    def _item(self, path: Path) -> QStandardItem:
        kind = file_kind(path)
        item = QStandardItem(self._icons[kind], path.name)
        item.setData(str(path), _PATH_ROLE)
        self._listed.add(os.path.abspath(path))
        item.setData(kind, _KIND_ROLE)
        item.setEditable(False)
        item.setToolTip(str(path.relative_to(self.project.root)))
        if kind == FOLDER:
            children = sorted(
                (c for c in path.iterdir() if c.name not in _SKIPPED),
                key=lambda c: (not c.is_dir(), c.name.lower()),
            )
            for child in children:
                item.appendRow(self._item(child))
        return item

    def _all_rows(self, parent: QModelIndex | None = None) -> list[tuple[QModelIndex, int]]:
        parent = parent if parent is not None else QModelIndex()
        rows = []
        for r in range(self.proxy.rowCount(parent)):
            rows.append((parent, r))
            rows.extend(self._all_rows(self.proxy.index(r, 0, parent)))
        return rows

    def visible_files(self) -> list[str]:
        """The paths shown now (relative to the project, ``/`` separators), in tree order."""
        out = []
        for parent, r in self._all_rows():
            path = Path(str(self.proxy.index(r, 0, parent).data(_PATH_ROLE)))
            out.append(path.relative_to(self.project.root).as_posix())
        return out

    def set_filter(self, text: str) -> None:
        """Show only files whose name contains `text` (and the folders leading to them)."""
        if self.filter_edit.text() != text:
            self.filter_edit.setText(text)  # calls back here
            return
        self.proxy.setFilterFixedString(text)
        if text:
            self.view.expandAll()

    def index_of(self, path: str | os.PathLike[str]) -> QModelIndex:
        """The view's index of a file (invalid when it is not shown)."""
        want = str(Path(path))
        for parent, r in self._all_rows():
            index = self.proxy.index(r, 0, parent)
            if index.data(_PATH_ROLE) == want:
                return index
        return QModelIndex()

    # --- opening -----------------------------------------------------------------------------

    def activate(self, path: str | os.PathLike[str]) -> None:
        """Open a file as a double-click does: scene, script, or image preview."""
        p = Path(path)
        kind = file_kind(p)
        if kind == SCENE:
            self.sceneOpenRequested.emit(p)
        elif kind == SCRIPT:
            self.scriptOpenRequested.emit(p)
        elif kind == IMAGE:
            self.show_preview(p)

    def show_preview(self, path: Path) -> QDialog:
        """Show an image in a window of its own (not modal), with its size and path."""
        dialog = QDialog(self)
        dialog.setObjectName("imagePreview")
        dialog.setWindowTitle(path.name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        pixmap = QPixmap(str(path))
        picture = QLabel()
        picture.setObjectName("imagePreviewPicture")
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if pixmap.isNull():
            picture.setText("this file cannot be read as an image")
            caption = str(path.relative_to(self.project.root))
        else:
            picture.setPixmap(pixmap)
            rel = path.relative_to(self.project.root)
            caption = f"{rel} — {pixmap.width()} x {pixmap.height()} pixels"
        scroll = QScrollArea()
        scroll.setWidget(picture)
        scroll.setWidgetResizable(True)
        lay = QVBoxLayout(dialog)
        lay.addWidget(scroll, 1)
        lay.addWidget(QLabel(caption))
        dialog.resize(
            min(900, max(240, pixmap.width() + 40)), min(700, max(200, pixmap.height() + 70))
        )
        self.previews = [d for d in self.previews if d.isVisible()]
        self.previews.append(dialog)
        dialog.show()
        return dialog

    def _on_double_clicked(self, index: QModelIndex) -> None:
        if index.data(_KIND_ROLE) != FOLDER:
            self.activate(str(index.data(_PATH_ROLE)))

    # --- renaming and deleting ---------------------------------------------------------------

    def rename(self, path: str | os.PathLike[str], new_name: str | None = None) -> Path | None:
        """Rename a file or folder in place (asks for the name when not given).

        Returns:
            The new path, or ``None`` when nothing was renamed (refused, cancelled, taken).
        """
        old = Path(path)
        refusal = self.refuse_change(old)
        if refusal:
            self._refused("Cannot rename", refusal)
            return None
        name = new_name if new_name is not None else self.ask_name(old.name)
        if not name or name == old.name:
            return None
        if "/" in name or "\\" in name or name in (".", ".."):
            self._refused("Cannot rename", f"{name!r} is not a file name.")
            return None
        new = old.with_name(name)
        if new.exists():
            self._refused("Cannot rename", f"{name} exists already.")
            return None
        try:
            old.rename(new)
        except OSError as exc:
            self._refused("Cannot rename", f"{old.name}: {exc.strerror or exc}")
            return None
        log.info("renamed %s to %s", self._rel(old), self._rel(new))
        self.refresh()
        self.renamed.emit(old, new)
        return new

    def delete(self, path: str | os.PathLike[str], *, warning: str = "") -> bool:
        """Delete a file or folder after asking (`warning` says what still uses it)."""
        p = Path(path)
        refusal = self.refuse_change(p)
        if refusal:
            self._refused("Cannot delete", refusal)
            return False
        question = f"Delete {self._rel(p)}{' and everything in it' if p.is_dir() else ''}?"
        if not self.confirm("Delete", f"{question}\n\n{warning}".strip()):
            return False
        try:
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
        except OSError as exc:
            self._refused("Cannot delete", f"{p.name}: {exc.strerror or exc}")
            return False
        log.info("deleted %s", self._rel(p))
        self.refresh()
        self.deleted.emit(p)
        return True

    def _warning_dialog(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def _refused(self, title: str, text: str) -> None:
        log.warning("%s: %s", title.lower(), text)
        self.warn(title, text)

    def _rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.project.root).as_posix()
        except ValueError:
            return str(path)

    def _confirm_dialog(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _ask_name_dialog(self, current: str) -> str | None:
        name, ok = QInputDialog.getText(self, "Rename", "New name:", text=current)
        return name if ok else None

    def _on_context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        menu = QMenu(self)
        if index.isValid() and index.parent().isValid():  # not the top folders themselves
            path = str(index.data(_PATH_ROLE))
            if index.data(_KIND_ROLE) != FOLDER:
                menu.addAction("Open", lambda: self.activate(path))
            menu.addAction("Rename…", lambda: self.rename(path))
            menu.addAction("Delete…", lambda: self.request_delete(path))
            menu.addSeparator()
        menu.addAction("Refresh", self.refresh)
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def request_delete(self, path: str | os.PathLike[str]) -> bool:
        """Delete from the menu, saying what still uses the file (`delete_warning`)."""
        return self.delete(path, warning=self.delete_warning(Path(path)))


class SceneImageReferences:
    """The edited scene's image paths: find them, and rename them as one undoable step.

    Args:
        document: the edited scene's document (its scene, edit target and undo stack).
        assets_dir: the folder image paths are relative to.
    """

    def __init__(self, document: DocumentController, assets_dir: Path) -> None:
        self.document = document
        self.assets_dir = assets_dir

    def _rel(self, path: Path) -> str | None:
        try:
            return path.relative_to(self.assets_dir).as_posix()
        except ValueError:
            return None  # not under assets/: no visual can name it

    def users(self, path: Path) -> list[Handle]:
        """Entities whose visual shows the image `path` (or an image inside folder `path`)."""
        rel = self._rel(path)
        if rel is None:
            return []
        return [
            e.handle
            for e in self.document.scene
            if e.visual is not None and _under(e.visual.image, rel)
        ]

    def rename(self, old: Path, new: Path) -> int:
        """Point every visual of `old` (a file or folder) at `new`; one undo step.

        Returns:
            How many visuals changed.
        """
        old_rel, new_rel = self._rel(old), self._rel(new)
        if old_rel is None or new_rel is None:
            return 0
        scene, target, stack = (
            self.document.scene,
            self.document.edit_target,
            self.document.undo_stack,
        )
        changes = []
        for e in scene:
            v = e.visual
            if v is not None and _under(v.image, old_rel):
                image = new_rel + v.image[len(old_rel) :]
                fresh = dataclasses.replace(v, image=image)
                changes.append(cmd.SetEntityAttribute(target, e.handle, "visual", fresh, v))
        if not changes:
            return 0
        stack.beginMacro(f"Rename {old.name} to {new.name}")
        for c in changes:
            stack.push(c)
        stack.endMacro()
        log.info("%d image reference(s) now name %s", len(changes), new_rel)
        return len(changes)


def _under(image: str, rel: str) -> bool:
    return bool(image) and (image == rel or image.startswith(rel + "/"))


def sprite_for_image(assets_dir: Path, rel: str) -> Visual:
    """The visual of a sprite showing an image of ``assets/`` at its own size."""
    size = QImageReader(str(assets_dir / rel)).size()
    w, h = (size.width(), size.height()) if size.isValid() and not size.isEmpty() else (32, 32)
    return Visual(VisualKind.IMAGE, size=Vec2(float(w), float(h)), image=rel)


def install_asset_browser(
    window: MainWindow, launcher: Callable[[Path, int | None], Any] = open_in_editor
) -> QDockWidget:
    """Dock the asset browser in a main window and wire it to the document and the view.

    Double-clicking a scene opens it (asking about unsaved changes); a script opens
    in `launcher`; an image dropped on the scene view adds a sprite entity (one
    undoable step); renaming and deleting keep the edited scene's image paths in
    step. It also installs the asset hot reload (`AssetReloadController`), which
    refreshes the list when files change, and reports the images a separate-process
    player reloaded (``window.player``, installed first).

    Returns:
        The dock (objectName ``assetBrowser``); its widget is the `AssetBrowser`.
    """
    browser = AssetBrowser(window.project)
    dock = QDockWidget("Assets", window)
    dock.setObjectName("assetBrowser")
    dock.setWidget(browser)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    window.tabifyDockWidget(window.tree_dock, dock)
    window.tree_dock.raise_()
    # Files made while the dock was behind another (a new script, a copied image)
    # show when it comes to the front: the watchers report only images, scenes, code.
    dock.visibilityChanged.connect(lambda shown: browser.refresh() if shown else None)
    document = window.document
    references = SceneImageReferences(document, window.project.assets_dir)

    def refuse_change(path: Path) -> str:
        if window.is_playing:
            return "Stop the game first: the running game uses the project's files."
        scene_path = document.scene_path
        if scene_path is not None and path.resolve() in (
            scene_path.resolve(),
            *scene_path.resolve().parents,
        ):
            return "This is the scene being edited: use Save As to give it another name."
        return ""

    def delete_warning(path: Path) -> str:
        users = references.users(path)
        if not users:
            return ""
        names = ", ".join(document.scene[h].name for h in users[:5])
        more = f" and {len(users) - 5} more" if len(users) > 5 else ""
        return (
            f"{len(users)} entities of the edited scene show it ({names}{more}): "
            "they will show it as missing."
        )

    def on_renamed(old: Path, new: Path) -> None:
        if references.rename(old, new):
            window.show_status(f"renamed {old.name}: the scene's references follow", "ok")

    def on_dropped(rel: str, where: Vec2) -> None:
        if window.is_playing:
            return
        name = Path(rel).stem or "Sprite"
        command = cmd.AddEntity(
            document.edit_target,
            name,
            Handle.NONE,
            sprite_for_image(window.project.assets_dir, rel),
            where,
        )
        document.undo_stack.push(command)
        if command.handle is not None:
            window.select(command.handle)

    browser.refuse_change = refuse_change
    browser.delete_warning = delete_warning
    browser.sceneOpenRequested.connect(lambda p: window.open_scene(p))
    browser.scriptOpenRequested.connect(lambda p: launcher(p, None))
    browser.renamed.connect(on_renamed)
    window.scene_view.assetDropped.connect(on_dropped)

    reload = AssetReloadController(
        window.game, document, window.scene_view, lambda: window.is_playing, window
    )
    reload.setObjectName("assetReloadController")
    reload.statusReported.connect(window.show_status)
    reload.assetsReloaded.connect(lambda _reloads: browser.refresh())
    window.play_controller.stateChanged.connect(reload.on_play_state_changed)
    window.game.on_reload(lambda report: browser.refresh_for(report.changed))

    def on_player_asset(change: dict[str, Any]) -> None:
        """An image the separate-process player reloaded (or kept)."""
        result = AssetReload(str(change["path"]), AssetKind(change["kind"]), str(change["error"]))
        if not result.ok:
            window.show_status(f"player: {result}", "error")
        # The editor reloads the same file in its own view: as with code, when both
        # came to the same end, the editor's row says it once.
        window.game.apply_asset_changes()
        own = reload.latest.get(result.path)
        if own is not None and own.ok == result.ok:
            return  # (a headless player only checks the file: its reason may be worded otherwise)
        level = logging.INFO if result.ok else logging.ERROR
        window.log_panel.log(level, f"player: {result}", "hotplay.player")

    window.player.asset_reload.connect(on_player_asset)
    return dock
