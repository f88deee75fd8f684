"""Editing the scene: inspector, tree, view, undo/redo."""

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, Qt
from PySide6.QtWidgets import QAbstractItemView, QToolButton

from runtime import Color, Handle, PlaceholderScript, Vec2
from runtime.scenefile import scene_to_data


def test_inspector_edits_with_undo_and_redo(window):
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    insp = window.inspector

    insp.script_field_editor(0, "bounces").box.setValue(5)
    insp.script_field_editor(0, "velocity").x_box.setValue(10.0)
    pos = insp.findChild(type(insp.script_field_editor(0, "velocity")), "positionEditor")
    pos.y_box.setValue(33.0)
    color = insp.findChild(object, "visual_color")
    color.hex.setText("#00ff00")
    color.hex.editingFinished.emit()

    assert ball.scripts[0].bounces == 5
    assert ball.scripts[0].velocity == Vec2(10, 120)
    assert ball.position == Vec2(-200, 33)
    assert ball.visual.color == Color(0, 255, 0)
    assert window.is_modified
    assert "*" in window.windowTitle() or window.isWindowModified()

    stack = window.undo_stack
    assert stack.count() == 4
    stack.undo()
    assert ball.visual.color == Color.parse("#e63946")
    stack.undo()
    assert ball.position == Vec2(-200, -80)
    assert insp.findChild(object, "positionEditor").value() == Vec2(-200, -80)
    stack.undo()
    stack.undo()
    assert ball.scripts[0].bounces == 0
    assert ball.scripts[0].velocity == Vec2(180, 120)
    assert insp.script_field_editor(0, "bounces").value() == 0
    assert not window.is_modified
    stack.redo()
    stack.redo()
    assert ball.scripts[0].bounces == 5
    assert ball.scripts[0].velocity == Vec2(10, 120)


def test_consecutive_edits_of_one_field_merge(window):
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    ed = window.inspector.script_field_editor(0, "bounces")
    for v in (1, 2, 3):
        ed.box.setValue(v)
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert ball.scripts[0].bounces == 0


def test_rename_enable_and_visual_kind(window):
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    name = window.inspector.findChild(object, "entityName")
    name.setText("Hero")
    name.editingFinished.emit()
    assert ball.name == "Hero"
    assert window.scene_tree.index_of(ball.handle).data() == "Hero"
    window.inspector.findChild(object, "entityEnabled").setChecked(False)
    assert ball.enabled is False
    kind = window.inspector.findChild(object, "visualKind")
    kind.activated.emit(kind.findData("none"))
    assert ball.visual is None
    window.undo_stack.undo()
    assert ball.visual is not None and ball.visual.kind.value == "ellipse"
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert ball.name == "Ball A" and ball.enabled


def test_add_and_remove_script_from_menu(window, qtbot):
    spinner = window.edited_scene.find("Paddle")
    window.select(spinner.handle)
    actions = {a.data(): a for a in window.inspector.add_script_actions()}
    assert set(actions) == {
        "bouncy.ball:Ball",
        "bouncy.toys:Paddle",
        "bouncy.toys:Scoreboard",
        "bouncy.toys:Spawner",
        "bouncy.toys:Spinner",
    }
    actions["bouncy.toys:Spinner"].trigger()
    assert [type(s).__name__ for s in spinner.scripts] == ["Paddle", "Spinner"]
    assert "speed" in window.inspector.shown_fields(1)
    window.inspector.script_field_editor(1, "speed").box.setValue(12.5)

    remove = window.inspector.findChild(QToolButton, "removeScriptButton")
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)  # the first: Paddle
    assert [type(s).__name__ for s in spinner.scripts] == ["Spinner"]
    window.undo_stack.undo()
    assert [type(s).__name__ for s in spinner.scripts] == ["Paddle", "Spinner"]
    assert spinner.scripts[1].speed == 12.5
    window.undo_stack.undo()  # the speed edit
    window.undo_stack.undo()  # the add
    assert [type(s).__name__ for s in spinner.scripts] == ["Paddle"]
    window.undo_stack.redo()
    assert [type(s).__name__ for s in spinner.scripts] == ["Paddle", "Spinner"]


def test_placeholder_script_is_read_only_and_says_why(make_window, project):
    path = project / "assets" / "scenes" / "demo.scene.json"
    path.write_text(path.read_text().replace("bouncy.toys:Spinner", "gone.module:Missing"))
    window = make_window()
    spinner = window.edited_scene.find("Spinner")
    assert type(spinner.scripts[0]) is PlaceholderScript
    window.select(spinner.handle)
    reason = window.inspector.findChild(object, "placeholderReason")
    assert reason is not None and "missing" in reason.text()
    assert "gone.module:Missing" in reason.text()
    ed = window.inspector.script_field_editor(0, "speed")
    assert ed.value() == 90.0
    assert type(ed).__name__ == "ReadOnlyEditor"


def test_selection_is_synced_between_tree_view_and_inspector(window, qtbot):
    scene = window.edited_scene
    ball = scene.find("Ball B")
    tree = window.scene_tree
    row = tree.index_of(ball.handle)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualRect(row).center())
    assert window.selected_handle == ball.handle
    assert window.scene_view.selected == ball.handle
    assert window.inspector.handle == ball.handle

    other = scene.find("Ball C")
    view = window.scene_view
    qtbot.mouseClick(
        view, Qt.MouseButton.LeftButton, pos=view.scene_to_view(other.position).toPoint()
    )
    assert window.selected_handle == other.handle
    assert tree.current_handle() == other.handle
    assert window.inspector.handle == other.handle

    # Clicking empty space clears the selection everywhere.
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
    assert window.selected_handle is None
    assert tree.current_handle() is None


def test_drag_in_view_moves_with_one_undoable_command(window, qtbot):
    ball = window.edited_scene.find("Ball A")
    view = window.scene_view
    start = view.scene_to_view(ball.position).toPoint()
    end = start + QPoint(40, 20)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, start + QPoint(20, 10))
    qtbot.mouseMove(view, end)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=end)
    moved = ball.position
    assert moved != Vec2(-200, -80)
    assert abs(moved.x - (-200 + 40 / view.camera.zoom)) < 1e-6
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert ball.position == Vec2(-200, -80)


def test_tree_add_delete_duplicate_reparent_with_undo(window):
    scene = window.edited_scene
    before = scene_to_data(scene)
    n = len(scene)

    h = window.add_entity()
    assert len(scene) == n + 1 and window.selected_handle == h
    assert window.scene_tree.index_of(h).isValid()
    child = window.add_entity(child=True)
    assert scene[child].parent == h

    spinner = scene.find("Spinner")
    window.select(spinner.handle)
    copy = window.editing.duplicate_selected()
    assert scene[copy].name == "Spinner 2"
    assert len(scene[copy].children) == 1 and scene[copy].children[0] != scene.find("Blade").handle
    assert type(scene[copy].scripts[0]).__name__ == "Spinner"

    window.scene_tree.request_drop(
        scene.find("Ball A").handle, spinner.handle, QAbstractItemView.DropIndicatorPosition.OnItem
    )
    assert scene.find("Ball A").parent == spinner.handle
    assert window.scene_tree.index_of(scene.find("Ball A").handle).parent().isValid()

    window.select(spinner.handle)
    window.editing.delete_selected()
    assert scene.find("Spinner") is None and scene.find("Ball A") is None
    assert window.selected_handle is None

    while window.undo_stack.canUndo():
        window.undo_stack.undo()
    assert scene_to_data(scene)["entities"] == before["entities"]
    assert window.scene_tree.scene_model().rowCount() == len(scene.roots)
    while window.undo_stack.canRedo():
        window.undo_stack.redo()
    assert scene.find("Spinner") is None and scene.find("Spinner 2") is not None


def _tree_row(model, handle, parent=None):
    """The tree row of `handle`, found through Qt's model API only."""
    parent = QModelIndex() if parent is None else parent
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        if index.data(Qt.ItemDataRole.UserRole) == int(handle):
            return index
        found = _tree_row(model, handle, index)
        if found is not None:
            return found
    return None


def test_tree_edits_and_undo_change_only_their_own_rows(window):
    # A big scene froze the editor for seconds per edit: the tree was rebuilt
    # whole. Each edit, undo and redo now changes only the rows it is about, so
    # the rows of every other entity (and Qt's state for them) stay as they are.
    scene = window.edited_scene
    model = window.scene_tree.model()
    keep = QPersistentModelIndex(_tree_row(model, scene.find("Paddle").handle))
    counts = {"inserted": 0, "removed": 0, "moved": 0, "reset": 0}

    def count(kind, first=0, last=0):
        counts[kind] += last - first + 1

    model.rowsInserted.connect(lambda _p, a, b: count("inserted", a, b))
    model.rowsRemoved.connect(lambda _p, a, b: count("removed", a, b))
    model.rowsMoved.connect(lambda *_a: count("moved"))
    model.modelReset.connect(lambda: count("reset"))

    window.add_entity()
    window.undo_stack.undo()
    window.undo_stack.redo()
    window.scene_tree.request_drop(
        scene.find("Ball A").handle,
        scene.find("Spinner").handle,
        QAbstractItemView.DropIndicatorPosition.OnItem,
    )
    window.undo_stack.undo()
    assert counts == {"inserted": 2, "removed": 1, "moved": 2, "reset": 0}
    assert keep.isValid() and keep.data(Qt.ItemDataRole.UserRole) == int(
        scene.find("Paddle").handle
    )


def test_handle_field_editor_lists_entities(window):
    from editor.field_editors import HandleEditor

    ed = HandleEditor(window.edited_scene)
    ed.set_value(Handle(4))
    assert "Ball A" in ed.combo.currentText()
    seen = []
    ed.edited.connect(seen.append)
    ed.combo.activated.emit(0)
    assert seen == [Handle.NONE]
    ed.deleteLater()


def test_handle_field_editor_lists_the_entities_only_when_opened(window, qtbot):
    from editor.field_editors import HandleEditor

    scene = window.edited_scene
    ed = HandleEditor(scene)
    qtbot.addWidget(ed)
    ball = scene.find("Ball A")
    ed.set_value(ball.handle)
    # Showing a value (many times a second while playing) lists no entity but it.
    assert ed.combo.count() == 2 and ed.combo.currentText() == f"Ball A  #{int(ball.handle)}"
    ed.set_value(Handle(999))
    assert ed.combo.count() == 2 and ed.combo.currentText() == "missing entity #999"
    ed.show()
    ed.combo.showPopup()
    names = [ed.combo.itemText(i) for i in range(ed.combo.count())]
    assert names == [
        "(none)",
        *(f"{e.name}  #{int(e.handle)}" for e in scene),
        "missing entity #999",
    ]
    assert ed.combo.currentIndex() == len(names) - 1
    seen = []
    ed.edited.connect(seen.append)
    ed.combo.activated.emit(names.index(f"Ball A  #{int(ball.handle)}"))
    ed.combo.hidePopup()
    assert seen == [ball.handle]


def test_enum_field_editor_and_plugin_field_editor(window):
    import enum

    from editor.field_editor import FieldEditor
    from editor.field_editors import EnumEditor, StrEditor, editor_for

    class Mode(enum.Enum):
        CALM = 1
        WILD = 2

    ed = editor_for(Mode, window.edited_scene)
    assert isinstance(ed, EnumEditor)
    ed.set_value(Mode.CALM)
    seen = []
    ed.edited.connect(seen.append)
    ed.combo.activated.emit(1)
    assert seen == [Mode.WILD]
    custom = [(lambda ann: ann is str, lambda ann, scene: StrEditor())]
    special = editor_for(str, window.edited_scene, custom)
    assert isinstance(special, FieldEditor)
    assert type(editor_for(dict[str, int], window.edited_scene)).__name__ == "ReadOnlyEditor"
    for w in (ed, special):
        w.deleteLater()
