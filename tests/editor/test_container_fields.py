"""Editing list, optional and dataclass fields in the inspector (one undo step per change)."""

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from editor.container_editors import DataclassEditor, ListEditor, OptionalEditor
from editor.field_editors import ReadOnlyEditor
from runtime import BuildProfile, Color, Handle, Vec2

PATH_V1 = '''
import dataclasses
import enum

from runtime import Color, Handle, Script, Vec2


class Mode(enum.Enum):
    LOOP = 1
    PING_PONG = 2


@dataclasses.dataclass
class Look:
    tint: Color = Color.WHITE
    width: float = 2.0
    dashed: bool = False


class Path(Script):
    """Follows waypoints."""

    waypoints: list[Vec2] = []
    tags: list[str] = []
    modes: list[Mode] = []
    target: Handle | None = None
    limit: float | None = None
    look: Look = Look()
    extra: dict[str, int] = {}
'''


@pytest.fixture
def path_window(make_window, project: Path):
    """The editor with a `Path` script (written before the window) on the Paddle."""
    (project / "plugins" / "bouncy" / "path.py").write_text(PATH_V1)
    window = make_window(profile=BuildProfile.DEBUG)
    paddle = window.edited_scene.find("Paddle")
    window.select(paddle.handle)
    actions = {a.data(): a for a in window.inspector.add_script_actions()}
    actions["bouncy.path:Path"].trigger()
    assert type(paddle.scripts[-1]).__name__ == "Path"
    return window


def _path(window):
    return window.edited_scene.find("Paddle").scripts[-1]


def _index(window) -> int:
    return len(window.edited_scene.find("Paddle").scripts) - 1


def _editor(window, field):
    return window.inspector.script_field_editor(_index(window), field)


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_container_fields_get_editors(path_window):
    assert isinstance(_editor(path_window, "waypoints"), ListEditor)
    assert isinstance(_editor(path_window, "tags"), ListEditor)
    assert isinstance(_editor(path_window, "modes"), ListEditor)
    assert isinstance(_editor(path_window, "target"), OptionalEditor)
    assert isinstance(_editor(path_window, "limit"), OptionalEditor)
    assert isinstance(_editor(path_window, "look"), DataclassEditor)
    assert isinstance(_editor(path_window, "extra"), ReadOnlyEditor)


def test_list_add_edit_move_remove_with_undo(path_window, qtbot):
    w = path_window
    stack = w.undo_stack
    start = stack.count()
    ed = _editor(w, "waypoints")
    assert ed.count_label.text() == "empty"

    _click(qtbot, ed.add_button)
    assert _path(w).waypoints == [Vec2(0, 0)]
    ed.rows[0].editor.x_box.setValue(10.0)
    ed.rows[0].editor.y_box.setValue(20.0)  # same item: merged with the x edit
    assert _path(w).waypoints == [Vec2(10, 20)]
    _click(qtbot, ed.add_button)  # copies the last item
    ed.rows[1].editor.x_box.setValue(30.0)
    assert _path(w).waypoints == [Vec2(10, 20), Vec2(30, 20)]
    assert ed.count_label.text() == "2 items"
    assert not ed.rows[0].up.isEnabled() and not ed.rows[1].down.isEnabled()

    _click(qtbot, ed.rows[1].up)
    assert _path(w).waypoints == [Vec2(30, 20), Vec2(10, 20)]
    assert ed.rows[0].editor.value() == Vec2(30, 20)
    _click(qtbot, ed.rows[0].remove)
    assert _path(w).waypoints == [Vec2(10, 20)]
    assert len(ed.rows) == 1
    # add, edit item 0, add, edit item 1, move, remove: six steps.
    assert stack.count() - start == 6

    stack.undo()
    assert _path(w).waypoints == [Vec2(30, 20), Vec2(10, 20)]
    assert [r.editor.value() for r in _editor(w, "waypoints").rows] == _path(w).waypoints
    stack.undo()
    assert _path(w).waypoints == [Vec2(10, 20), Vec2(30, 20)]
    stack.undo()
    stack.undo()
    assert _path(w).waypoints == [Vec2(10, 20)]
    stack.undo()
    assert _path(w).waypoints == [Vec2(0, 0)]
    stack.undo()
    assert _path(w).waypoints == []
    assert _editor(w, "waypoints").count_label.text() == "empty"
    for _ in range(6):
        stack.redo()
    assert _path(w).waypoints == [Vec2(10, 20)]
    assert len(_editor(w, "waypoints").rows) == 1


def test_string_and_enum_lists(path_window, qtbot):
    w = path_window
    tags = _editor(w, "tags")
    _click(qtbot, tags.add_button)
    _click(qtbot, tags.add_button)
    assert _path(w).tags == ["", ""]  # new strings start empty
    line = tags.rows[1].editor.line
    line.setText("enemy")
    line.editingFinished.emit()
    assert _path(w).tags == ["", "enemy"]

    modes = _editor(w, "modes")
    _click(qtbot, modes.add_button)
    combo = modes.rows[0].editor.combo
    combo.activated.emit(combo.findData("PING_PONG"))
    assert [m.name for m in _path(w).modes] == ["PING_PONG"]
    w.undo_stack.undo()
    assert [m.name for m in _path(w).modes] == ["LOOP"]


def test_optional_set_edit_and_unset(path_window, qtbot):
    w = path_window
    stack = w.undo_stack
    limit = _editor(w, "limit")
    assert not limit.check.isChecked() and not limit.inner.box.isEnabled()

    limit.check.setChecked(True)
    assert _path(w).limit == 0.0
    assert limit.inner.box.isEnabled()
    limit.inner.box.setValue(4.5)
    assert _path(w).limit == 4.5
    limit.check.setChecked(False)
    assert _path(w).limit is None
    assert not limit.inner.box.isEnabled()
    assert limit.inner.value() == 4.5  # kept for checking it again

    stack.undo()
    assert _path(w).limit == 4.5
    assert limit.check.isChecked() and limit.inner.box.isEnabled()
    stack.undo()
    assert _path(w).limit == 0.0
    stack.undo()
    assert _path(w).limit is None
    assert not _editor(w, "limit").check.isChecked()

    target = _editor(w, "target")
    target.check.setChecked(True)
    assert _path(w).target == Handle.NONE
    ball = w.edited_scene.find("Ball A")
    combo = target.inner.combo
    combo.showPopup()  # the entities are listed when the list opens
    combo.activated.emit(combo.findData(int(ball.handle)))
    combo.hidePopup()
    assert _path(w).target == ball.handle
    stack.undo()
    assert _path(w).target == Handle.NONE


def test_dataclass_member_edits_replace_the_whole_value(path_window):
    w = path_window
    look = _editor(w, "look")
    before = _path(w).look
    look.members["width"].box.setValue(5.0)
    look.members["dashed"].box.setChecked(True)
    hex_ = look.members["tint"].hex
    hex_.setText("#ff0000")
    hex_.editingFinished.emit()
    new = _path(w).look
    assert new is not before
    assert (new.width, new.dashed, new.tint) == (5.0, True, Color(255, 0, 0))
    assert before.width == 2.0  # the old instance was not mutated
    w.undo_stack.undo()
    w.undo_stack.undo()
    assert (_path(w).look.width, _path(w).look.dashed) == (5.0, False)
    w.undo_stack.undo()
    assert _path(w).look.width == 2.0


def test_hot_reload_keeps_container_editors_working(path_window, project, qtbot):
    w = path_window
    w.set_profile(BuildProfile.DEBUG_HR)
    ed = _editor(w, "waypoints")
    _click(qtbot, ed.add_button)
    ed.rows[0].editor.x_box.setValue(7.0)
    _editor(w, "limit").check.setChecked(True)

    source = PATH_V1.replace(
        "limit: float | None = None",
        "limit: float | None = None\n    speeds: list[float] = [1.0, 2.0]",
    )
    (project / "plugins" / "bouncy" / "path.py").write_text(source)
    qtbot.waitUntil(lambda: "speeds" in w.inspector.shown_fields(_index(w)), timeout=5000)
    assert w.game.reports and w.game.reports[-1].ok

    assert _path(w).waypoints == [Vec2(7, 0)]  # migrated
    ed = _editor(w, "waypoints")
    assert [r.editor.value() for r in ed.rows] == [Vec2(7, 0)]
    speeds = _editor(w, "speeds")
    assert isinstance(speeds, ListEditor) and len(speeds.rows) == 2
    _click(qtbot, speeds.rows[0].remove)
    assert _path(w).speeds == [2.0]
    _click(qtbot, ed.add_button)
    assert _path(w).waypoints == [Vec2(7, 0), Vec2(7, 0)]

    # The history from before the reload still applies to the new class.
    stack = w.undo_stack
    stack.undo()
    stack.undo()
    assert _path(w).speeds == [1.0, 2.0] and _path(w).waypoints == [Vec2(7, 0)]
    stack.undo()
    assert _path(w).limit is None
    stack.undo()
    stack.undo()
    assert _path(w).waypoints == []


def test_container_editors_edit_the_running_game_while_playing(path_window, qtbot):
    w = path_window
    _click(qtbot, _editor(w, "waypoints").add_button)
    w.play()
    qtbot.waitUntil(lambda: w.game.frame >= 1)
    ed = _editor(w, "waypoints")
    assert len(ed.rows) == 1
    assert not ed.add_button.isHidden() and not ed.rows[0].remove.isHidden()
    assert ed.rows[0].editor.x_box.isEnabled()
    assert _editor(w, "limit").check.isEnabled()
    assert _editor(w, "look").members["width"].box.isEnabled()
    _click(qtbot, ed.add_button)  # the running copy gets the item, the edited scene does not
    running = w.play_controller.target.scene
    handle = w.selected_handle
    assert len(running[handle].scripts[-1].waypoints) == 2
    assert len(w.edited_scene[handle].scripts[-1].waypoints) == 1
    w.stop()
    assert not _editor(w, "waypoints").add_button.isHidden()
