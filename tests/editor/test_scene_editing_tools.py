"""Gizmos, snapping, multi-selection, context menus, copy and paste, redo keys, icons."""

import json

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QImage, QPalette
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QApplication,
    QLineEdit,
    QMenu,
)

from editor.controllers.editing import ENTITIES_MIME
from editor.gizmos import AXIS_LENGTH, RING_RADIUS, GizmoMode
from editor.theme import themed_icon
from runtime import Vec2
from runtime.scenefile import scene_to_data

Mod = Qt.KeyboardModifier


def _drag(qtbot, view, start: QPointF, end: QPointF, modifier=Mod.NoModifier) -> None:
    a, b = start.toPoint(), end.toPoint()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, modifier, pos=a)
    qtbot.mouseMove(view, (a + b) / 2)
    qtbot.mouseMove(view, b)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, modifier, pos=b)


def _pivot(view) -> QPointF:
    layout = view.gizmo_layout()
    assert layout is not None
    return QPointF(*layout.pivot)


def _action(window, name: str) -> QAction:
    action = window.findChild(QAction, name)
    assert action is not None, name
    return action


@pytest.mark.parametrize(
    ("grab", "moved", "expected"),
    [
        ((40, 0), (30, 25), (30, 0)),  # the x arrow: only x changes
        ((0, 40), (30, 25), (0, 25)),  # the y arrow: only y changes
        ((0, 0), (30, 25), (30, 25)),  # the centre square: free move
    ],
)
def test_move_handles_drag_with_one_undo_step(window, qtbot, grab, moved, expected):
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    view = window.scene_view
    z = view.camera.zoom
    start = _pivot(view) + QPointF(*grab)
    _drag(qtbot, view, start, start + QPointF(*moved))
    assert ball.position.x == pytest.approx(-200 + expected[0] / z, abs=1.5 / z)
    assert ball.position.y == pytest.approx(-80 + expected[1] / z, abs=1.5 / z)
    assert (ball.position.x != -200) == bool(expected[0])
    assert (ball.position.y != -80) == bool(expected[1])
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert ball.position == Vec2(-200, -80)


def test_rotate_handle(window, qtbot):
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    _action(window, "gizmoRotateAction").trigger()
    view = window.scene_view
    assert view.gizmo_mode is GizmoMode.ROTATE
    c = _pivot(view)
    _drag(qtbot, view, c + QPointF(RING_RADIUS, 0), c + QPointF(0, RING_RADIUS))
    assert ball.rotation == pytest.approx(90.0, abs=1.0)
    assert ball.position == Vec2(-200, -80)
    assert window.undo_stack.count() == 1
    assert window.undo_stack.undoText() == "Rotate Ball A"
    window.undo_stack.undo()
    assert ball.rotation == 0.0


def test_scale_handles(window, qtbot):
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    _action(window, "gizmoScaleAction").trigger()
    view = window.scene_view
    c = _pivot(view)
    _drag(qtbot, view, c + QPointF(AXIS_LENGTH, 0), c + QPointF(2 * AXIS_LENGTH, 0))
    assert ball.scale[0] == pytest.approx(2.0, abs=0.03)
    assert ball.scale[1] == 1.0
    window.undo_stack.undo()
    assert ball.scale == Vec2(1, 1)
    c = _pivot(view)
    _drag(qtbot, view, c + QPointF(0, AXIS_LENGTH), c + QPointF(0, AXIS_LENGTH / 2))
    assert ball.scale[1] == pytest.approx(0.5, abs=0.03) and ball.scale[0] == 1.0


def test_gizmo_keys_switch_tools(window, qtbot):
    view = window.scene_view
    view.setFocus()
    for key, mode in ((Qt.Key.Key_E, GizmoMode.ROTATE), (Qt.Key.Key_R, GizmoMode.SCALE)):
        qtbot.keyClick(view, key)
        assert view.gizmo_mode is mode
    qtbot.keyClick(view, Qt.Key.Key_W)
    assert view.gizmo_mode is GizmoMode.MOVE
    assert _action(window, "gizmoMoveAction").isChecked()


def test_snapping_to_grid_and_angle(window, qtbot, monkeypatch):
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    view = window.scene_view
    snap = _action(window, "snapAction")
    snap.trigger()
    assert view.snap.enabled
    # The settings dialog sets the steps (answered here without showing it).
    monkeypatch.setattr(
        "editor.main_window.edit_snap_settings",
        lambda parent, s: type(s)(s.enabled, 25.0, 30.0, s.scale),
    )
    window.window_actions.snap_settings.trigger()
    assert (view.snap.grid, view.snap.angle) == (25.0, 30.0)
    c = _pivot(view)
    _drag(qtbot, view, c, c + QPointF(37, 53))
    assert ball.position.x % 25 == 0 and ball.position.y % 25 == 0
    assert ball.position != Vec2(-200, -80)
    # Ctrl inverts snapping for one drag.
    c = _pivot(view)
    _drag(qtbot, view, c, c + QPointF(7, 0), Mod.ControlModifier)
    assert ball.position.x % 25 != 0
    _action(window, "gizmoRotateAction").trigger()
    c = _pivot(view)
    _drag(qtbot, view, c + QPointF(RING_RADIUS, 0), c + QPointF(RING_RADIUS, 24))
    assert ball.rotation == pytest.approx(30.0)  # about 22 degrees, snapped
    snap.trigger()
    assert not view.snap.enabled


def _clear_arena(window):
    window.select(window.edited_scene.find("Arena").handle)
    window.editing.delete_selected()


def test_selection_box_selects_and_a_multi_move_is_one_step(window, qtbot):
    _clear_arena(window)
    scene, view = window.edited_scene, window.scene_view
    a, c = scene.find("Ball A"), scene.find("Ball C")
    top_left = view.scene_to_view((-240, -170))
    bottom_right = view.scene_to_view((30, -60))
    _drag(qtbot, view, top_left, bottom_right)
    assert set(window.shown.selection) == {a.handle, c.handle}
    assert set(window.scene_tree.selected_handles()) == {a.handle, c.handle}
    count = window.undo_stack.count()
    start = view.scene_to_view(c.position)
    _drag(qtbot, view, start, start + QPointF(40, 0))
    dx = 40 / view.camera.zoom
    assert a.position.x == pytest.approx(-200 + dx, abs=1.5) and a.position.y == -80
    assert c.position.x == pytest.approx(dx, abs=1.5) and c.position.y == -140
    assert window.undo_stack.count() == count + 1
    window.undo_stack.undo()
    assert a.position == Vec2(-200, -80) and c.position == Vec2(0, -140)


def test_shift_click_in_the_view_and_the_tree(window, qtbot):
    scene, view, tree = window.edited_scene, window.scene_view, window.scene_tree
    a, b, c = (scene.find(n) for n in ("Ball A", "Ball B", "Ball C"))

    def click(e, modifier=Mod.NoModifier):
        pos = view.scene_to_view(e.position).toPoint()
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, modifier, pos=pos)

    click(a)
    click(b, Mod.ShiftModifier)
    assert window.shown.selection == (a.handle, b.handle)
    assert window.inspector.handle == a.handle  # the first selected
    click(a, Mod.ShiftModifier)
    assert window.shown.selection == (b.handle,)
    click(a, Mod.ShiftModifier)
    click(b)  # a plain click on one of several selected selects it alone
    assert window.shown.selection == (b.handle,)

    def tree_click(e, modifier=Mod.NoModifier):
        rect = tree.visualRect(tree.index_of(e.handle))
        qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())

    tree_click(a)
    tree_click(c, Mod.ShiftModifier)  # a range in the tree: A, B, C
    assert set(window.shown.selection) == {a.handle, b.handle, c.handle}
    assert set(view.selection) == {a.handle, b.handle, c.handle}
    n = len(scene)
    window.editing.delete_selected()
    assert len(scene) == n - 3 and window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert len(scene) == n
    window.shown.select_many((a.handle, b.handle))
    copies = window.editing.duplicate_selected()
    assert copies is not None and len(scene) == n + 2 and len(window.shown.selection) == 2


def _menu_action(menu: QMenu, text: str) -> QAction:
    for a in menu.actions():
        if a.text().replace("&", "") == text:
            return a
        if a.menu() is not None:
            found = [s for s in a.menu().actions() if s.text() == text]
            if found:
                return found[0]
    raise AssertionError(f"no {text!r} in {[a.text() for a in menu.actions()]}")


def test_context_menus_of_view_and_tree(window, qtbot):
    scene, view, tree = window.edited_scene, window.scene_view, window.scene_tree
    title = scene.find("Title")
    pos = view.scene_to_view(title.position).toPoint()
    qtbot.mouseClick(view, Qt.MouseButton.RightButton, pos=pos)
    menu = window.entity_menu
    assert window.selected_handle == title.handle  # the right click selected it
    texts = [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]
    for wanted in ("Add Entity", "Add Child", "Add Script", "Rename", "Duplicate", "Delete"):
        assert wanted in texts
    assert "Copy" in texts and "Paste" in texts
    _menu_action(menu, "Ball").trigger()
    assert [type(s).__name__ for s in title.scripts] == ["Ball"]
    menu.close()

    n = len(scene)
    _menu_action(menu, "Add Child").trigger()
    assert len(scene) == n + 1 and scene[window.selected_handle].parent == title.handle

    spinner = scene.find("Spinner")
    rect = tree.visualRect(tree.index_of(spinner.handle))
    tree.customContextMenuRequested.emit(rect.center())
    menu = window.entity_menu
    assert window.selected_handle == spinner.handle
    _menu_action(menu, "Duplicate").trigger()
    assert scene.find("Spinner 2") is not None
    menu.close()
    _menu_action(menu, "Rename").trigger()
    assert tree.state() == QAbstractItemView.State.EditingState
    editor = tree.findChild(QLineEdit)
    editor.setText("Spinner Copy")
    # What Return does in the editor (key clicks do not reach it offscreen).
    tree.commitData(editor)
    tree.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)
    assert scene[window.selected_handle].name == "Spinner Copy"
    _menu_action(menu, "Delete").trigger()
    assert scene.find("Spinner Copy") is None


def test_copy_and_paste_round_trip_within_and_across_scenes(window, qtbot):
    scene = window.edited_scene
    spinner = scene.find("Spinner")
    spinner.scripts[0].speed = 7.5 if hasattr(spinner.scripts[0], "speed") else None
    window.select(spinner.handle)
    assert window.editing.copy_selected()
    mime = QGuiApplication.clipboard().mimeData()
    data = json.loads(bytes(mime.data(ENTITIES_MIME).data()))
    assert data["format"] >= 1 and [e["name"] for e in data["entities"]] == ["Spinner", "Blade"]
    assert json.loads(mime.text()) == data  # plain text too: a scene file

    n = len(scene)
    pasted = window.editing.paste()
    assert len(pasted) == 1 and len(scene) == n + 2
    copy = scene[pasted[0]]
    assert copy.name == "Spinner 2" and window.selected_handle == copy.handle
    original = scene_to_data(scene)["entities"]
    by_handle = {e["handle"]: e for e in original}
    src, dst = by_handle[int(spinner.handle)], by_handle[int(copy.handle)]
    assert src["scripts"] == dst["scripts"] and src["visual"] == dst["visual"]
    blade = scene[copy.children[0]]
    assert blade.name == "Blade" and blade.handle != scene.find("Blade").handle
    window.undo_stack.undo()
    assert len(scene) == n

    window.new_scene()
    other = window.edited_scene
    assert other is not scene and len(other) == 0
    pasted = window.editing.paste()
    assert [other[h].name for h in pasted] == ["Spinner"]
    assert [type(s).__name__ for s in other[pasted[0]].scripts] == ["Spinner"]
    assert len(other) == 2


def test_paste_of_text_that_is_no_scene_is_ignored(window):
    QGuiApplication.clipboard().setText("hello")
    n = len(window.edited_scene)
    assert window.editing.paste() == ()
    QGuiApplication.clipboard().setText('{"not": "a scene"}')
    assert window.editing.paste() == ()
    assert len(window.edited_scene) == n


@pytest.mark.parametrize(
    "keys",
    [(Qt.Key.Key_Y, Mod.ControlModifier), (Qt.Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)],
)
def test_ctrl_y_and_ctrl_shift_z_redo(window, qtbot, keys):
    # The platform's standard Redo key is one of the two (Ctrl+Shift+Z on GNOME and
    # KDE, Ctrl+Y offscreen and on Windows): both must work everywhere.
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    window.editing.delete_selected()
    window.undo_stack.undo()
    assert window.edited_scene.find("Ball A") is not None
    window.activateWindow()
    window.scene_view.setFocus()
    qtbot.keyClick(window.scene_view, keys[0], keys[1])
    assert window.edited_scene.find("Ball A") is None


def _opaque_colors(image: QImage) -> set[tuple[int, int, int]]:
    out = set()
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            if c.alpha() > 200:
                out.add((c.red(), c.green(), c.blue()))
    return out


def test_every_toolbar_action_has_an_icon_and_redo_is_not_play(window):
    bars = (window.play_toolbar, window.gizmo_toolbar, window.tree_toolbar)
    for bar in bars:
        for a in bar.actions():
            if a.isSeparator() or bar.widgetForAction(a).metaObject().className() != "QToolButton":
                continue
            assert not a.icon().isNull(), a.text()
    acts = window.window_actions
    play = acts.play.icon().pixmap(20, 20).toImage()
    redo = acts.redo.icon().pixmap(20, 20).toImage()
    assert play != redo
    icons = [a.icon().pixmap(16, 16).toImage() for a in acts.entity_actions]
    assert len({bytes(i.constBits()) for i in icons}) == len(icons)  # four different icons


def test_icons_follow_the_theme(qapp):
    old = QGuiApplication.palette()
    try:
        for text in ("#dcdfe4", "#202020"):  # dark theme, light theme
            p = QPalette(old)
            p.setColor(QPalette.ColorRole.ButtonText, QColor(text))
            QApplication.setPalette(p)
            colors = _opaque_colors(themed_icon("content-duplicate").pixmap(24, 24).toImage())
            assert QColor(text).getRgb()[:3] in colors
    finally:
        QApplication.setPalette(old)


def test_while_playing_the_tool_keys_reach_the_game_and_no_gizmo_shows(window, qtbot):
    window.select(window.edited_scene.find("Ball A").handle)
    window.play()
    view = window.scene_view
    assert view.gizmo_layout() is None
    assert not _action(window, "gizmoRotateAction").isEnabled()
    view.setFocus()
    with qtbot.waitSignal(view.keyPressed) as pressed:
        qtbot.keyPress(view, Qt.Key.Key_E)
    assert pressed.args == ["e"]
    qtbot.keyRelease(view, Qt.Key.Key_E)
    assert view.gizmo_mode is GizmoMode.MOVE
    window.stop()
    assert view.gizmo_layout() is not None
