"""The Assets dock: listing, filtering, opening, dragging into the scene, renaming, deleting."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QDialog, QLabel

from editor.asset_browser import AssetBrowser
from editor.main_window import MainWindow
from runtime import Vec2
from runtime.scene import VisualKind


def browser_of(window: MainWindow) -> AssetBrowser:
    dock = window.findChild(type(window.asset_dock), "assetBrowser")
    assert dock is window.asset_dock
    widget = dock.widget()
    assert isinstance(widget, AssetBrowser)
    return widget


def write_image(path: Path, color: str, size: tuple[int, int] = (20, 10)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = QImage(size[0], size[1], QImage.Format.Format_ARGB32)
    img.fill(QColor(color))
    assert img.save(str(path))


def drop_image(window: MainWindow, browser: AssetBrowser, image: Path, at: QPointF) -> None:
    """Drop an image dragged from the browser on the scene view.

    The view's own handlers are called: Qt delivers drop events only inside a drag
    its drag manager runs, which offscreen tests cannot start.
    """
    index = browser.proxy.mapToSource(browser.index_of(image))
    data = browser.model.mimeData([index])
    action, button = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    view = window.scene_view
    enter = QDragEnterEvent(at.toPoint(), action, data, button, Qt.KeyboardModifier.NoModifier)
    view.dragEnterEvent(enter)
    if enter.isAccepted():
        view.dropEvent(QDropEvent(at, action, data, button, Qt.KeyboardModifier.NoModifier))


def test_lists_the_project_files_and_filters_them(qtbot, window: MainWindow) -> None:
    browser = browser_of(window)
    files = browser.visible_files()
    assert files[0] == "assets"
    assert "assets/scenes/demo.scene.json" in files
    assert "plugins/bouncy/ball.py" in files
    assert not any("__pycache__" in f for f in files)
    browser.set_filter("BALL")
    assert browser.visible_files() == ["plugins", "plugins/bouncy", "plugins/bouncy/ball.py"]
    browser.set_filter("")
    assert browser.visible_files() == files

    # A file made while the dock is behind the scene tree shows when it comes to the front.
    window.tree_dock.raise_()
    (window.project.plugins_dir / "bouncy" / "fresh.py").write_text("")
    window.asset_dock.raise_()
    qtbot.waitUntil(lambda: "plugins/bouncy/fresh.py" in browser.visible_files())


def test_double_click_opens_a_scene_asking_about_unsaved_changes(
    qtbot, window: MainWindow, project: Path
) -> None:
    browser = browser_of(window)
    other = project / "assets" / "scenes" / "other.scene.json"
    other.write_bytes((project / "assets" / "scenes" / "demo.scene.json").read_bytes())
    browser.refresh()
    window.add_entity()
    asked: list[str] = []
    window.ask_unsaved_changes = lambda: asked.append("asked") or "cancel"
    window.asset_dock.raise_()  # it shares its place with the scene tree
    qtbot.waitUntil(browser.view.isVisible)
    index = browser.index_of(other)
    browser.view.scrollTo(index)
    rect = browser.view.visualRect(index)

    def double_click() -> None:
        # Qt's item views open what the press of the double-click picked: press first.
        viewport = browser.view.viewport()
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())

    double_click()
    window.ask_unsaved_changes = lambda: "discard"
    assert asked == ["asked"] and window.scene_path != other  # cancelled: still the old scene

    double_click()
    assert window.scene_path == other and not window.is_modified


def test_double_click_opens_a_script_in_the_users_editor(
    qtbot, window: MainWindow, project: Path, tmp_path: Path, monkeypatch
) -> None:
    called = tmp_path / "called.txt"
    fake_editor = tmp_path / "fake_editor.py"
    fake_editor.write_text(
        f"import sys\nopen({str(called)!r}, 'w').write(' '.join(sys.argv[1:]))\n"
    )
    monkeypatch.setenv("VISUAL", f"{sys.executable} {fake_editor}")
    browser_of(window).activate(project / "plugins" / "bouncy" / "ball.py")
    qtbot.waitUntil(lambda: called.is_file() and called.read_text() != "", timeout=10000)
    assert called.read_text() == str(project / "plugins" / "bouncy" / "ball.py")


def test_double_click_previews_an_image(window: MainWindow, project: Path) -> None:
    image = project / "assets" / "images" / "red.png"
    write_image(image, "#ff0000", (20, 10))
    browser = browser_of(window)
    browser.refresh()
    browser.activate(image)
    [preview] = browser.previews
    assert isinstance(preview, QDialog) and preview.objectName() == "imagePreview"
    picture = preview.findChild(QLabel, "imagePreviewPicture")
    assert picture.pixmap().size().width() == 20 and picture.pixmap().size().height() == 10
    assert preview.isVisible()
    preview.close()


def test_dragging_an_image_into_the_scene_adds_a_sprite_as_one_step(
    window: MainWindow, project: Path
) -> None:
    image = project / "assets" / "images" / "red.png"
    write_image(image, "#ff0000", (20, 10))
    browser = browser_of(window)
    browser.refresh()
    before = len(window.edited_scene)
    steps = window.undo_stack.count()
    at = window.scene_view.scene_to_view((40.0, -30.0))
    drop_image(window, browser, image, at)
    assert len(window.edited_scene) == before + 1
    assert window.undo_stack.count() == steps + 1
    sprite = window.edited_scene[window.selected_handle]
    assert sprite.name == "red" and sprite.visual is not None
    assert sprite.visual.kind is VisualKind.IMAGE and sprite.visual.image == "images/red.png"
    assert sprite.visual.size == Vec2(20, 10)
    assert abs(sprite.position.x - 40) < 1 and abs(sprite.position.y + 30) < 1
    window.undo_stack.undo()
    assert len(window.edited_scene) == before


def test_renaming_an_image_or_its_folder_renames_the_scene_references_in_one_step(
    window: MainWindow, project: Path
) -> None:
    image = project / "assets" / "images" / "red.png"
    write_image(image, "#ff0000")
    browser = browser_of(window)
    browser.refresh()
    for x in (0.0, 50.0):
        drop_image(window, browser, image, window.scene_view.scene_to_view((x, 0.0)))
    sprites = [e for e in window.edited_scene if e.visual and e.visual.image]
    assert len(sprites) == 2
    steps = window.undo_stack.count()

    new = browser.rename(image, "blue.png")
    assert new == image.with_name("blue.png") and new.is_file() and not image.exists()
    assert [e.visual.image for e in sprites] == ["images/blue.png"] * 2
    assert window.undo_stack.count() == steps + 1
    assert "assets/images/blue.png" in browser.visible_files()
    window.undo_stack.undo()  # the file keeps its name; the references go back
    assert [e.visual.image for e in sprites] == ["images/red.png"] * 2
    window.undo_stack.redo()

    assert browser.rename(project / "assets" / "images", "pics") is not None
    assert [e.visual.image for e in sprites] == ["pics/blue.png"] * 2


def test_deleting_an_image_in_use_warns_first(window: MainWindow, project: Path) -> None:
    image = project / "assets" / "images" / "red.png"
    write_image(image, "#ff0000")
    browser = browser_of(window)
    browser.refresh()
    drop_image(window, browser, image, QPointF(100, 100))
    questions: list[str] = []
    browser.confirm = lambda _title, text: questions.append(text) or False
    assert not browser.request_delete(image)
    assert image.is_file()
    assert "1 entities of the edited scene show it (red)" in questions[0]
    browser.confirm = lambda _title, _text: True
    assert browser.request_delete(image) and not image.exists()
    assert "assets/images/red.png" not in browser.visible_files()


def test_the_edited_scene_file_cannot_be_renamed_or_deleted(
    window: MainWindow, project: Path
) -> None:
    browser = browser_of(window)
    warnings: list[str] = []
    browser.warn = lambda _title, text: warnings.append(text)
    scene = window.scene_path
    assert scene is not None
    assert browser.rename(scene, "x.scene.json") is None
    assert not browser.delete(scene)
    assert scene.is_file() and len(warnings) == 2 and "Save As" in warnings[0]


def test_a_drop_while_playing_is_ignored(qtbot, window: MainWindow, project: Path) -> None:
    image = project / "assets" / "images" / "red.png"
    write_image(image, "#ff0000")
    browser = browser_of(window)
    browser.refresh()
    window.play()
    before = len(window.edited_scene)
    drop_image(window, browser, image, QPointF(QPoint(50, 50)))
    assert len(window.edited_scene) == before
    window.stop()


def test_a_code_reload_lists_the_files_again_only_when_one_is_new_or_gone(
    qtbot, window: MainWindow, monkeypatch
) -> None:
    """Listing the whole project again at every save kept the new code's first frame waiting."""
    browser = browser_of(window)
    combo = window.code_reload.profile_combo
    combo.setCurrentIndex(combo.findText("Debug (HR)"))
    listings: list[int] = []
    refresh = browser.refresh
    monkeypatch.setattr(browser, "refresh", lambda: listings.append(1) or refresh())
    reports = window.game.reports
    ball = window.project.plugins_dir / "bouncy" / "ball.py"

    ball.write_text(ball.read_text() + "\n# a save of a listed file\n")
    qtbot.waitUntil(lambda: bool(reports) and reports[-1].ok)
    assert listings == []

    helper = ball.with_name("helper.py")
    helper.write_text("STEP = 2\n")
    qtbot.waitUntil(lambda: len(reports) == 2)
    assert listings and "plugins/bouncy/helper.py" in browser.visible_files()

    listings.clear()
    helper.unlink()
    qtbot.waitUntil(lambda: len(reports) == 3)
    assert listings and "plugins/bouncy/helper.py" not in browser.visible_files()
