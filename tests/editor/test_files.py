"""Start-up, files, settings and the log panel."""

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from editor import MainWindow
from editor.__main__ import main
from editor.controllers.document import DiskChoice
from editor.player_process.command import scene_argument
from runtime import BuildProfile, ProjectError, Vec2
from runtime.scenefile import scene_to_data
from runtime.scripting import script_type_id


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
    # The profile belongs to the project, the geometry to the person.
    assert first.project_settings.value("profile") == "debug-hr"
    assert settings.value("profile") is None
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


# --- the scene file changed on disk -----------------------------------------------------------


def _change_on_disk(path, name: str = "changed elsewhere") -> None:
    """What a ``git pull`` or a teammate does: a new version of the file, another size."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data["name"] = name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    st = path.stat()  # a coarse file-system clock must still see a change
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def _edit(window, x: float = 7.0) -> None:
    ball = window.edited_scene.find("Ball A")
    window.inspector.attributeEdited.emit(ball.handle, "position", Vec2(x, 8))
    assert window.is_modified


def test_save_asks_before_overwriting_a_file_changed_on_disk(window):
    path = window.scene_path
    _change_on_disk(path)
    _edit(window)
    asked = []
    window.document.ask_changed_on_disk = lambda p: asked.append(p) or DiskChoice.CANCEL
    assert not window.save_scene()
    assert asked == [path]
    assert '"changed elsewhere"' in path.read_text(encoding="utf-8")  # untouched
    assert window.is_modified

    window.document.ask_changed_on_disk = lambda p: DiskChoice.OVERWRITE
    assert window.save_scene()
    assert '"demo"' in path.read_text(encoding="utf-8")
    assert not window.is_modified
    # Saved by us: no longer a change on disk, no question at the next save.
    window.document.ask_changed_on_disk = lambda p: asked.append(p) or DiskChoice.CANCEL
    _edit(window, 9.0)
    assert window.save_scene()
    assert asked == [path]


def test_save_can_reload_the_file_or_save_as(window, monkeypatch):
    path = window.scene_path
    _change_on_disk(path)
    _edit(window)
    saved_as = []
    monkeypatch.setattr(window.document, "save_scene_as", lambda: saved_as.append(1) or True)
    window.document.ask_changed_on_disk = lambda p: DiskChoice.SAVE_AS
    assert window.save_scene()
    assert saved_as == [1]

    window.document.ask_changed_on_disk = lambda p: DiskChoice.RELOAD
    assert not window.save_scene()  # nothing saved: the file's version is open now
    assert window.edited_scene.name == "changed elsewhere"
    assert not window.is_modified


def test_regaining_focus_reloads_an_unmodified_scene_changed_on_disk(window, qtbot):
    _change_on_disk(window.scene_path)
    QApplication.sendEvent(window, QEvent(QEvent.Type.WindowActivate))
    qtbot.waitUntil(lambda: window.edited_scene.name == "changed elsewhere", timeout=2000)
    assert not window.is_modified


def test_regaining_focus_with_unsaved_edits_asks_once_per_change(window, qtbot):
    _edit(window)
    asked = []
    window.document.ask_changed_on_disk = lambda p: asked.append(p) or DiskChoice.CANCEL
    QApplication.sendEvent(window, QEvent(QEvent.Type.WindowActivate))
    qtbot.wait(50)  # the check runs on the next turn of the event loop
    assert asked == []  # nothing changed on disk

    _change_on_disk(window.scene_path)
    for _ in range(3):
        QApplication.sendEvent(window, QEvent(QEvent.Type.WindowActivate))
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=2000)
    qtbot.wait(50)
    assert len(asked) == 1 and window.is_modified
    assert window.edited_scene.name == "demo"  # the edits stay


# --- text no file can store -------------------------------------------------------------------


def test_a_name_no_file_can_store_is_refused_with_a_message(window):
    # (A tree rename is a Qt string, which cannot hold a lone surrogate.)
    ball = window.edited_scene.find("Ball A")
    window.inspector.attributeEdited.emit(ball.handle, "name", "Ball \ud800")
    assert ball.name == "Ball A" and not window.is_modified
    assert "no file can store" in window.status.message.text()

    type_id = script_type_id(ball.scripts[0])
    window.inspector.scriptFieldEdited.emit(ball.handle, 0, type_id, "bounces", ["x\udfff"])
    assert not window.is_modified
    window.inspector.attributeEdited.emit(ball.handle, "name", "Ball Ω")
    assert ball.name == "Ball Ω"


def test_a_loaded_lone_surrogate_can_still_be_saved_and_autosaved(window, project):
    path = project / "assets" / "scenes" / "odd.scene.json"
    data = json.loads(window.scene_path.read_text(encoding="utf-8"))
    data["entities"][0]["name"] = "odd \ud800"
    path.write_text(json.dumps(data), encoding="ascii")
    assert window.open_scene(path)
    _edit(window)
    recovery = window.autosave_now()
    assert recovery is not None and recovery.is_file()
    assert window.save_scene()
    assert window.open_scene(path)
    assert window.edited_scene.find("odd \ud800") is not None

    scene_file, folder = scene_argument(window.edited_scene)  # Separate-process Play of it
    try:
        assert scene_file is not None
        assert "\\ud800" in Path(scene_file).read_text(encoding="utf-8")
    finally:
        shutil.rmtree(folder)


# An editor that opens the FIFO given on the command line and prints what it said.
OPEN_FIFO = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from editor import MainWindow
from runtime import BuildProfile

app = QApplication([])
window = MainWindow(sys.argv[1], settings=QSettings(sys.argv[3], QSettings.Format.IniFormat),
                    profile=BuildProfile.DEBUG, autosave_interval_ms=0)
print(window.open_scene(sys.argv[2]), window.status.message.text(), flush=True)
window.shutdown()
"""


def test_opening_a_fifo_is_a_one_line_error_not_a_hang(project, tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = project / "assets" / "scenes" / "pipe.scene.json"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-c", OPEN_FIFO, str(project), str(fifo), str(tmp_path / "s.ini")],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("False ") and "named pipe" in done.stdout


def test_a_release_build_that_cannot_be_written_is_reported_in_one_line(window, project):
    (project / "build").write_text("not a folder\n")  # as a read-only project would refuse
    window.set_profile(BuildProfile.RELEASE)
    assert not window.build()
    assert "cannot write the Release build" in window.status.message.text()
