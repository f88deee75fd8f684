"""Projects in the editor: welcome page, sample, new / open / recent, per-project settings."""

import shutil
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from editor import MainWindow, projects
from editor.projects import OpenWindows, RecentProjects, copy_sample, default_project
from editor.welcome import WelcomePage
from runtime import BuildProfile
from runtime.template import create_project


@pytest.fixture
def windows(qtbot, settings):
    """Where windows opened on request go; every one is closed after the test."""
    opened = OpenWindows(settings, headless_player=True)
    yield opened
    for w in list(opened._windows):
        if isinstance(w, MainWindow):
            w.ask_unsaved_changes = lambda: "discard"
    opened.close_all()
    assert not opened.windows


def choose_folder(monkeypatch, folder: Path) -> list[str]:
    """Answer the next folder dialogs with `folder`; return their captions."""
    captions: list[str] = []

    def fake(_parent, caption, _start, *_args):
        captions.append(caption)
        return str(folder)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", fake)
    return captions


def test_an_installed_editor_outside_a_project_has_no_default_project(tmp_path, monkeypatch):
    installed = tmp_path / "site-packages"
    installed.mkdir()
    monkeypatch.setattr(projects, "_SOURCE_ROOT", installed)
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    assert default_project(elsewhere) is None
    game = create_project(tmp_path / "game")
    assert default_project(game) == game  # the current folder wins when it is a project


def test_welcome_page_offers_new_open_sample_and_recent_projects(qtbot, windows, tmp_path):
    recent = create_project(tmp_path / "earlier game")
    RecentProjects(windows.settings).add(recent)
    page = windows.show_welcome()
    qtbot.waitExposed(page)
    assert page.objectName() == "welcomePage"
    assert page.new_button.isVisible() and page.open_button.isVisible()
    assert page.sample_button.isEnabled()
    items = [page.recent_list.item(i) for i in range(page.recent_list.count())]
    assert [Path(i.data(Qt.ItemDataRole.UserRole)) for i in items] == [recent]


def test_open_the_sample_game_copies_it_and_opens_the_copy(qtbot, windows, tmp_path, monkeypatch):
    destination = tmp_path / "my sample"
    choose_folder(monkeypatch, destination)
    page = windows.show_welcome()
    qtbot.mouseClick(page.sample_button, Qt.MouseButton.LeftButton)
    window = page.opened
    assert isinstance(window, MainWindow)
    assert window.project.root == destination.resolve()
    assert (destination / "hotplay.toml").is_file()
    assert (destination / "plugins" / "bouncy" / "ball.py").is_file()
    assert not list(destination.rglob("__pycache__*"))
    assert len(window.edited_scene) > 0  # the sample's main scene, with its scripts
    assert window.game.registry.resolve("bouncy.ball:Ball") is not None
    assert not page.isVisible()
    assert "Bouncy demo" in window.windowTitle()


def test_the_sample_goes_into_a_new_folder_inside_a_folder_with_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    first = copy_sample(tmp_path)
    second = copy_sample(tmp_path)
    assert first == tmp_path / "hotplay-sample"
    assert second == tmp_path / "hotplay-sample-2"
    assert (second / "hotplay.toml").is_file()
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_new_project_makes_a_project_and_opens_it(make_window, windows, tmp_path, monkeypatch):
    window = make_window(profile=BuildProfile.DEBUG)
    window.windows = windows
    fresh = tmp_path / "Space Game"
    choose_folder(monkeypatch, fresh)
    assert window.window_actions.new_project.objectName() == "newProjectAction"
    window.window_actions.new_project.trigger()
    new = windows.windows[-1]
    assert isinstance(new, MainWindow) and new is not window
    assert new.project.root == fresh.resolve()
    assert "Space Game" in new.windowTitle()
    assert len(new.edited_scene) == 2  # the template's scene
    assert window.closed


def test_open_project_asks_about_unsaved_changes_then_closes_the_old_project(
    make_window, windows, tmp_path, monkeypatch
):
    window = make_window(profile=BuildProfile.DEBUG_HR)
    window.windows = windows
    other = create_project(tmp_path / "other")
    old_namespace = window.game.plugins.namespace
    window.add_entity()
    asked: list[str] = []

    def cancel() -> str:
        asked.append("cancel")
        return "cancel"

    window.ask_unsaved_changes = cancel
    choose_folder(monkeypatch, other)
    window.window_actions.open_project.trigger()
    assert asked == ["cancel"]
    assert not window.closed and window.game.watcher is not None
    assert not windows.windows

    window.ask_unsaved_changes = lambda: "discard"
    new = window.open_project(other)
    assert isinstance(new, MainWindow)
    assert new.project.root == other
    assert window.closed and not window.isVisible()
    assert window.game.watcher is None
    assert window.import_checker is None
    assert not [m for m in sys.modules if m.startswith(old_namespace)]
    # The other project's scene has live scripts, not placeholders of the first one's.
    assert new.game.registry.resolve("other.scripts:Wobbler") is not None
    assert "bouncy.ball:Ball" not in new.game.registry


def test_opening_a_folder_that_is_not_a_project_keeps_the_window(
    make_window, tmp_path, monkeypatch
):
    window = make_window(profile=BuildProfile.DEBUG)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *a: shown.append(text))
    assert window.open_project(tmp_path) is None
    assert "not a Hotplay project" in shown[0]
    assert not window.closed


def test_each_project_keeps_its_own_profile(make_window, tmp_path):
    first = make_window(profile=None)
    first.set_profile(BuildProfile.DEBUG_HR)
    first.close()
    second = make_window(create_project(tmp_path / "second"))
    assert second.profile is BuildProfile.DEBUG  # not the first project's last choice
    second.close()
    again = make_window()
    assert again.profile is BuildProfile.DEBUG_HR


def test_the_dock_layout_belongs_to_the_project(make_window, project):
    window = make_window(profile=BuildProfile.DEBUG)
    window.log_dock.hide()
    window.close()
    assert (project / ".hotplay" / "settings.ini").is_file()
    again = make_window()
    assert not again.log_dock.isVisible()


def test_recent_projects_menu_opens_another_project(make_window, windows, tmp_path, project):
    other = create_project(tmp_path / "other")
    RecentProjects(windows.settings).add(other)
    window = make_window(profile=BuildProfile.DEBUG)
    window.windows = windows
    menu = window.recent_projects_menu
    menu.aboutToShow.emit()
    actions = [a for a in menu.actions() if a.isEnabled()]
    assert [a.text() for a in actions] == [f"other   ({other})"]  # not the open project
    actions[0].trigger()
    assert windows.windows[-1].project.root == other
    assert RecentProjects(windows.settings).paths()[:2] == [other, project]


def test_recent_projects_forget_folders_that_are_gone(settings, tmp_path):
    gone = create_project(tmp_path / "gone")
    kept = create_project(tmp_path / "kept")
    recent = RecentProjects(settings)
    recent.add(gone)
    recent.add(kept)
    shutil.rmtree(gone)
    assert recent.paths() == [kept]


def test_welcome_page_reports_a_recent_project_that_broke(qtbot, windows, tmp_path, monkeypatch):
    broken = create_project(tmp_path / "broken")
    RecentProjects(windows.settings).add(broken)
    shutil.rmtree(broken / "plugins")
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *a: shown.append(text))
    page = WelcomePage(windows)
    qtbot.addWidget(page)
    assert page.open_project(broken) is None
    assert "plugins/" in shown[0]
