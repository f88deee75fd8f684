"""Start-up, files, settings and the log panel."""

import logging

from PySide6.QtWidgets import QMessageBox

from editor import MainWindow
from editor.__main__ import main
from runtime import BuildProfile, ProjectError, Vec2
from runtime.scenefile import scene_to_data


def test_opens_the_projects_main_scene(window):
    assert window.edited_scene.name == "demo"
    assert len(window.edited_scene) == 10
    assert window.scene_path.name == "demo.scene.json"
    assert "demo.scene.json" in window.windowTitle()


def test_not_a_project_gives_a_clear_message(tmp_path, monkeypatch, capsys):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *args: shown.append(args[2]))
    monkeypatch.setattr("editor.__main__._headless", lambda: False)
    assert main([str(tmp_path)]) == 2
    assert shown and "not a Hotplay project" in shown[0]
    assert "not a Hotplay project" in capsys.readouterr().err
    try:
        MainWindow(tmp_path)
    except ProjectError as exc:
        assert "hotplay.toml" in str(exc)
    else:
        raise AssertionError("expected ProjectError")


def test_save_and_load_round_trip(window, project):
    scene = window.edited_scene
    window.select(scene.find("Ball A").handle)
    window.inspector.script_field_editor(0, "bounces").box.setValue(4)
    window.add_entity()
    assert window.is_modified
    target = project / "assets" / "scenes" / "copy.scene.json"
    assert window.save_scene(target)
    assert not window.is_modified
    saved = scene_to_data(scene)

    assert window.new_scene()
    assert len(window.edited_scene) == 0
    assert window.open_scene(target)
    assert scene_to_data(window.edited_scene) == saved
    assert window.edited_scene.find("Ball A").scripts[0].bounces == 4
    assert window.document.recent_scenes()[0] == str(target.resolve())


def test_unsaved_changes_prompt_on_scene_switch(window):
    ball = window.edited_scene.find("Ball A")
    window.inspector.attributeEdited.emit(ball.handle, "position", Vec2(1, 2))
    asked = []
    window.ask_unsaved_changes = lambda: asked.append(1) or "cancel"
    assert not window.new_scene()
    assert asked and window.edited_scene.find("Ball A") is ball
    window.ask_unsaved_changes = lambda: "save"
    assert window.new_scene()
    assert len(window.edited_scene) == 0
    assert window.open_scene(window.project.scene_path(None))
    assert window.edited_scene.find("Ball A").position == Vec2(1, 2)


def test_close_can_be_cancelled(window):
    window.add_entity()
    window.ask_unsaved_changes = lambda: "cancel"
    assert not window.close()
    assert window.isVisible()
    window.ask_unsaved_changes = lambda: "discard"


def test_invalid_scene_file_is_reported(window, project):
    bad = project / "assets" / "scenes" / "bad.scene.json"
    bad.write_text("{ not json")
    assert not window.open_scene(bad)
    assert "not valid JSON" in window.status.message.text()
    assert window.edited_scene.name == "demo"


def test_geometry_and_profile_are_remembered(make_window, settings):
    first = make_window(profile=BuildProfile.DEBUG)
    first.set_profile(BuildProfile.DEBUG_HR)
    # Above the window's minimum width (755) and within the offscreen screen (800x600):
    # restoreGeometry fits a window to its screen.
    first.resize(780, 520)
    first.close()
    assert settings.value("profile") == "debug-hr"
    second = make_window()
    assert second.profile is BuildProfile.DEBUG_HR
    assert (second.width(), second.height()) == (780, 520)


def test_log_panel_shows_filters_and_links_locations(window):
    panel = window.log_panel
    opened = []
    panel.location_opener = lambda path, line: opened.append((path, line))
    logging.getLogger("hotplay.plugin.bouncy").info("hello from the plugin")
    logging.getLogger("hotplay.reload").error(
        'reload failed\nTraceback:\n  File "/tmp/p/plugins/bouncy/ball.py", line 12, in on_update'
    )
    sources = [e.source for e in panel.visible_entries()]
    assert "hotplay.plugin.bouncy" in sources and "hotplay.reload" in sources
    panel.set_minimum_level(logging.ERROR)
    assert [e.source for e in panel.visible_entries()] == ["hotplay.reload"]
    item = panel.table.topLevelItem(0)
    panel.table.setCurrentItem(item)
    assert "ball.py" in panel.details.toHtml()
    panel.table.itemDoubleClicked.emit(item, 0)
    assert opened == [("/tmp/p/plugins/bouncy/ball.py", 12)]
    from PySide6.QtCore import QUrl

    panel.details.anchorClicked.emit(QUrl("location:/x/y.py:7"))
    assert opened[-1] == ("/x/y.py", 7)
    panel.set_minimum_level(logging.DEBUG)
    assert len(panel.visible_entries()) == len(panel.entries)
