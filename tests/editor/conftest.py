"""Fixtures for the editor tests: a temp copy of the sample project and a window that
is closed after each test, with checks for leaked windows and threads."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings
from PySide6.QtWidgets import QApplication

from editor import MainWindow

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the sample project (hotplay.toml, plugins/, assets/)."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "hotplay.toml", root / "hotplay.toml")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "plugins", root / "plugins", ignore=ignore)
    shutil.copytree(REPO / "assets", root / "assets", ignore=ignore)
    return root


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Settings in a temp file: tests never touch the user's editor settings."""
    return QSettings(str(tmp_path / "editor-settings.ini"), QSettings.Format.IniFormat)


def _live_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


@pytest.fixture
def make_window(qtbot, project, settings):
    """Build MainWindows; close them after the test and fail on leaks."""
    before = _live_threads()
    windows: list[MainWindow] = []

    def make(project_dir=None, **kwargs) -> MainWindow:
        w = MainWindow(project if project_dir is None else project_dir, settings=settings, **kwargs)
        w.ask_unsaved_changes = lambda: "discard"
        w.log_panel.location_opener = lambda path, line: None
        windows.append(w)
        w.show()
        qtbot.waitExposed(w)
        return w

    yield make

    for w in windows:
        w.close()
        assert w.closed, "the window refused to close"
        assert w.game.watcher is None
        w.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert not leaked, f"windows left open: {leaked}"
    extra = [t for t in _live_threads() - before if t.is_alive()]
    for t in extra:
        t.join(timeout=2.0)
    extra = [t for t in extra if t.is_alive()]
    assert not extra, f"threads left running: {[t.name for t in extra]}"


@pytest.fixture
def window(make_window) -> MainWindow:
    """The editor on the copied sample project, demo scene loaded, profile Debug."""
    from runtime import BuildProfile

    return make_window(profile=BuildProfile.DEBUG)


@pytest.fixture
def write_plugin(project: Path):
    """Overwrite a plugin source of the project with a versioned file from tests/editor/data."""

    def write(relative: str, data_file: str) -> None:
        (project / "plugins" / relative).write_text((DATA / data_file).read_text())

    return write
