"""The welcome page: what the editor shows when it starts without a project.

New Project, Open Project, the recent projects and "Open the sample game"
(copied to a folder the user picks, so the installed original stays
untouched). Choosing one opens the project's window and closes the page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from editor import projects
from runtime import Project, ProjectError

if TYPE_CHECKING:
    from editor.main_window import MainWindow


class WelcomePage(QWidget):
    """The start window without a project (objectName ``welcomePage``).

    Args:
        windows: where the chosen project's window is opened.
    """

    def __init__(self, windows: projects.OpenWindows) -> None:
        super().__init__()
        self.setObjectName("welcomePage")
        self.setWindowTitle("Welcome — Hotplay")
        self._windows = windows
        self._recent = projects.RecentProjects(windows.settings)
        #: The window opened from this page, once a project was chosen.
        self.opened: MainWindow | None = None

        title = QLabel("<h1>Hotplay</h1>A 2D game editor with live code reloading.")
        title.setTextFormat(Qt.TextFormat.RichText)
        self.new_button = self._button("New Project…", "newProjectButton", self._on_new)
        self.open_button = self._button("Open Project…", "openProjectButton", self._on_open)
        self.sample_button = self._button(
            "Open the sample game…", "openSampleButton", self._on_sample
        )
        self.sample_button.setEnabled(projects.sample_dir() is not None)
        self.sample_button.setToolTip("Copy the sample game to a folder you choose and open it")
        buttons = QVBoxLayout()
        for b in (self.new_button, self.open_button, self.sample_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.recent_list = QListWidget()
        self.recent_list.setObjectName("recentProjectsList")
        self.recent_list.itemActivated.connect(self._on_recent_activated)
        self.recent_list.setSpacing(3)
        self.recent_list.setToolTip("Double-click (or Enter) to open")
        for root in self._recent.paths():
            item = QListWidgetItem(f"{_project_name(root)}\n{root}")
            item.setData(Qt.ItemDataRole.UserRole, str(root))
            item.setToolTip(str(root))
            self.recent_list.addItem(item)
        recent = QVBoxLayout()
        recent.addWidget(QLabel("<b>Recent projects</b>"))
        if self.recent_list.count():
            recent.addWidget(self.recent_list, 1)
        else:
            self.recent_list.hide()
            none = QLabel("None yet: make a new project, or start from the sample game.")
            none.setWordWrap(True)
            recent.addWidget(none)
            recent.addStretch(1)

        row = QHBoxLayout()
        row.addLayout(buttons)
        row.addSpacing(24)
        row.addLayout(recent, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(32, 24, 32, 24)
        lay.addWidget(title)
        lay.addSpacing(12)
        lay.addLayout(row, 1)
        self.resize(760, 420)

    def open_project(self, root: Path) -> MainWindow | None:
        """Open the project at `root` in an editor window and close this page."""
        try:
            window = self._windows.open_project(root)
        except ProjectError as exc:
            QMessageBox.warning(self, "Not a Hotplay project", str(exc))
            return None
        self.opened = window
        self.close()
        return window

    def _button(self, text: str, name: str, slot: Callable[[], None]) -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(name)
        b.setMinimumWidth(220)
        b.clicked.connect(slot)
        return b

    def _on_new(self) -> None:
        root = projects.ask_new_project(self, Path.home())
        if root is not None:
            self.open_project(root)

    def _on_open(self) -> None:
        root = projects.ask_open_project(self, Path.home())
        if root is not None:
            self.open_project(root)

    def _on_sample(self) -> None:
        root = projects.ask_copy_sample(self, Path.home())
        if root is not None:
            self.open_project(root)

    def _on_recent_activated(self, item: QListWidgetItem) -> None:
        self.open_project(Path(item.data(Qt.ItemDataRole.UserRole)))


def _project_name(root: Path) -> str:
    """The name in the project's ``hotplay.toml`` (its folder's name when that is unreadable)."""
    try:
        return Project.open(root).name
    except ProjectError:
        return root.name
