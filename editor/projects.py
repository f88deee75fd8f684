"""Projects from the editor's side: which one opens, their settings, recent ones, the sample.

Settings come in two stores. The app-wide one (`app_settings`) keeps what
belongs to the person: the recent projects, the window geometry, the text
editor command. Each project keeps what belongs to it in
``.hotplay/settings.ini`` inside the project (`project_settings`): profile,
run target, dock layout, recent scenes. So a project left in Release does not
make the next project open in Release.

A window shows one project for its whole life: opening another project
closes it (asking about unsaved changes) and opens a fresh `MainWindow`,
so nothing of the old project (its game, plugin modules, watcher, player
process) can leak into the new one. `OpenWindows` keeps those windows alive
until they close.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from runtime import Project, ProjectError
from runtime.project import PROJECT_FILE

if TYPE_CHECKING:
    from editor.main_window import MainWindow
    from editor.welcome import WelcomePage

#: Where a project keeps its editor settings, relative to its root.
PROJECT_SETTINGS_FILE = Path(".hotplay") / "settings.ini"
#: Recent projects remembered in the app-wide settings.
MAX_RECENT_PROJECTS = 10
#: The source checkout this package runs from, when it is one (the repository is the sample).
_SOURCE_ROOT = Path(__file__).resolve().parent.parent
#: Where a wheel install has the sample (the build copies it there; see ``setup.py``).
_PACKAGED_SAMPLE = Path(__file__).resolve().parent / "sample"
#: What a copy of the sample is made of, and what it leaves out.
_SAMPLE_PARTS = (PROJECT_FILE, "plugins", "assets")
_SAMPLE_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.recovery.json", ".*")


def app_settings() -> QSettings:
    """The person's settings, shared by every project (recent projects, geometry)."""
    return QSettings("Hotplay", "Hotplay Editor")


def project_settings(project: Project) -> QSettings:
    """The settings of one project, in its ``.hotplay/settings.ini``."""
    path = project.root / PROJECT_SETTINGS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


def is_project(folder: Path) -> bool:
    """Whether `folder` opens as a Hotplay project."""
    try:
        Project.open(folder)
    except ProjectError:
        return False
    return True


def sample_dir() -> Path | None:
    """The sample game shipped with the editor (package data, or this source checkout)."""
    for candidate in (_PACKAGED_SAMPLE, _SOURCE_ROOT):
        if (candidate / PROJECT_FILE).is_file() and (candidate / "plugins").is_dir():
            return candidate
    return None


def default_project(cwd: Path | None = None) -> Path | None:
    """The project the editor opens without an argument, or ``None`` for the welcome page.

    The current folder when it is a project; else, when running from a source
    checkout, the repository (it is the sample project). An installed editor
    has no project of its own: it shows the welcome page.
    """
    here = Path.cwd() if cwd is None else cwd
    if is_project(here):
        return here
    if is_project(_SOURCE_ROOT):
        return _SOURCE_ROOT
    return None


def copy_sample(destination: Path) -> Path:
    """Copy the sample game into `destination` and return the new project's root.

    An empty or missing `destination` becomes the project; into a folder that
    has files, the sample goes into a new ``hotplay-sample`` folder inside it
    (``hotplay-sample-2``, ... when that exists).

    Raises:
        ProjectError: no sample ships with this install, or it cannot be written.
    """
    source = sample_dir()
    if source is None:
        raise ProjectError("the sample game is missing from this installation")
    root = destination
    if root.exists() and any(root.iterdir()):
        root = destination / "hotplay-sample"
        n = 2
        while root.exists():
            root = destination / f"hotplay-sample-{n}"
            n += 1
    try:
        root.mkdir(parents=True, exist_ok=True)
        for part in _SAMPLE_PARTS:
            if (source / part).is_dir():
                shutil.copytree(source / part, root / part, ignore=_SAMPLE_IGNORED)
            else:
                shutil.copy2(source / part, root / part)
    except OSError as exc:
        raise ProjectError(f"cannot copy the sample game to {root}: {exc}") from None
    return root


class RecentProjects:
    """The projects opened lately, newest first, in the app-wide settings.

    Args:
        settings: the app-wide settings.
    """

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def paths(self) -> list[Path]:
        """The recent projects that still exist, newest first."""
        value = self._settings.value("recentProjects", [])
        # An INI file gives a one-item list back as a plain string.
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return [Path(p) for p in items if isinstance(p, str) and (Path(p) / PROJECT_FILE).is_file()]

    def add(self, root: Path) -> None:
        """Put `root` first."""
        items = [str(p) for p in self.paths() if p != root]
        self._settings.setValue("recentProjects", [str(root), *items][:MAX_RECENT_PROJECTS])
        self._settings.sync()


def choose_project_folder(parent: QWidget | None, caption: str, start: Path) -> Path | None:
    """Ask for a folder (Qt's dialog, which can also make a new one); ``None``: cancelled."""
    chosen = QFileDialog.getExistingDirectory(parent, caption, str(start))
    return Path(chosen) if chosen else None


def ask_new_project(parent: QWidget | None, start: Path) -> Path | None:
    """Ask for an empty folder and make a new project there; return its root.

    A folder that is not empty, or cannot be written, is reported and nothing
    is made.
    """
    from runtime.template import TemplateError, create_project

    folder = choose_project_folder(parent, "New project: choose or create an empty folder", start)
    if folder is None:
        return None
    try:
        return create_project(folder)
    except (TemplateError, OSError) as exc:
        QMessageBox.warning(parent, "Cannot create the project", str(exc))
        return None


def ask_open_project(parent: QWidget | None, start: Path) -> Path | None:
    """Ask for a project folder; one that is not a project is reported."""
    folder = choose_project_folder(parent, "Open project", start)
    if folder is None:
        return None
    try:
        return Project.open(folder).root
    except ProjectError as exc:
        QMessageBox.warning(parent, "Not a Hotplay project", str(exc))
        return None


def ask_copy_sample(parent: QWidget | None, start: Path) -> Path | None:
    """Ask where the sample game goes, copy it there and return the copy's root."""
    folder = choose_project_folder(parent, "Copy the sample game to…", start)
    if folder is None:
        return None
    try:
        return copy_sample(folder)
    except ProjectError as exc:
        QMessageBox.warning(parent, "Cannot copy the sample game", str(exc))
        return None


class OpenWindows:
    """The editor's top-level windows: one project window or the welcome page at a time.

    Qt deletes a top-level widget whose last Python reference goes away, so
    the windows opened on request (another project, the welcome page's
    choice) are kept here until they close.

    Args:
        settings: the app-wide settings every window shares.
        window_options: passed to every `MainWindow` made here (tests: the
            recovery policy, a headless player).
    """

    def __init__(self, settings: QSettings, **window_options: Any) -> None:
        self.settings = settings
        self.window_options = window_options
        self._windows: list[QWidget] = []

    @property
    def windows(self) -> list[QWidget]:
        """The windows opened here that have not closed."""
        return [w for w in self._windows if w.isVisible()]

    def open_project(self, root: str | os.PathLike[str], **options: Any) -> MainWindow:
        """Show a new editor window on the project at `root`.

        Raises:
            runtime.ProjectError: `root` is not a Hotplay project.
        """
        from editor.main_window import MainWindow

        window = MainWindow(
            root, settings=self.settings, windows=self, **{**self.window_options, **options}
        )
        self._keep(window)
        window.show()
        return window

    def show_welcome(self) -> WelcomePage:
        """Show the welcome page (no project open)."""
        from editor.welcome import WelcomePage

        page = WelcomePage(self)
        self._keep(page)
        page.show()
        return page

    def end_session(self) -> None:
        """The process is being ended: every project window keeps its edits for recovery."""
        from editor.main_window import MainWindow

        for w in self.windows:
            if isinstance(w, MainWindow):
                w.end_session()

    def close_all(self) -> None:
        """Close every window opened here (each asks about its unsaved changes)."""
        for w in list(self._windows):
            w.close()
        self._windows = [w for w in self._windows if w.isVisible()]

    def _keep(self, window: QWidget) -> None:
        self._windows = [w for w in self._windows if w.isVisible()]
        self._windows.append(window)
