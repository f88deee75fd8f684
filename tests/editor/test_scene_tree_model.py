"""The scene tree as an incremental model: its rows follow the scene's events, edit by edit."""

import random

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QAbstractItemView, QLineEdit

from editor import commands as cmd
from editor.scene_tree import HANDLE_ROLE, ROOTS_PER_FETCH, SceneTreeModel, SceneTreeView
from runtime import Handle, PlaceholderScript, Scene, Visual
from runtime.scene import ScriptsReplaced

Drop = QAbstractItemView.DropIndicatorPosition


def rows_of(model, parent=None) -> list:
    """The model's rows as nested (handle, name, children) tuples, read through Qt's API."""
    parent = QModelIndex() if parent is None else parent
    out = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        assert index.isValid() and index.row() == row
        assert model.parent(index) == parent  # parent() agrees with index()
        out.append(
            (index.data(HANDLE_ROLE), index.data(), rows_of(model, index)),
        )
    return out


def rows_of_scene(scene: Scene, handles=None) -> list:
    """The same nesting, read from the scene itself."""
    handles = scene.roots if handles is None else handles
    return [(int(h), scene[h].name, rows_of_scene(scene, scene[h].children)) for h in handles]


def assert_rows_match(model, scene: Scene) -> None:
    assert rows_of(model) == rows_of_scene(scene)
    for e in scene:
        index = model.index_of(e.handle)
        assert index.data(HANDLE_ROLE) == int(e.handle)


def small_scene() -> Scene:
    scene = Scene("t")
    for i in range(4):
        root = scene.spawn(f"r{i}")
        for j in range(3):
            child = scene.spawn(f"r{i}c{j}", parent=root.handle)
            if j == 1:
                scene.spawn(f"r{i}c{j}g", parent=child.handle)
    return scene


@pytest.fixture
def tested_model(qtbot):
    """A model over a small scene, checked by Qt's own model tester after every signal."""
    model = SceneTreeModel()
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    yield model
    del tester
    model.set_scene(None)


def random_scene_edit(rng: random.Random, scene: Scene, removed: list) -> None:
    """One random structural or name edit, as the editor's commands make them."""
    handles = list(scene.entities)
    op = rng.choice(["spawn", "remove", "reparent", "reorder", "rename", "restore"])
    if op == "spawn" or not handles:
        parent = rng.choice([Handle.NONE, *handles])
        scene.spawn(f"n{scene.next_handle}", parent=parent, index=rng.randint(0, 3))
    elif op == "remove":
        h = rng.choice(handles)
        parent = scene[h].parent
        index = scene.siblings_of(h).index(h)
        removed.append((scene.remove(h), parent, index))
    elif op == "restore" and removed:
        entities, parent, index = removed.pop()
        if not parent or parent in scene:
            scene.insert_subtree(entities, parent, index)
    elif op in ("reparent", "reorder"):
        h = rng.choice(handles)
        if op == "reparent":
            new_parent = rng.choice([Handle.NONE, *handles])
            if new_parent and scene.is_ancestor(h, new_parent):
                return
        else:
            new_parent = scene[h].parent
        siblings = scene.entities[new_parent].children if new_parent else scene.roots
        scene.reparent(h, new_parent, rng.randint(0, len(siblings)))
    else:
        h = rng.choice(handles)
        scene.set_attr(h, "name", f"renamed{rng.randint(0, 999)}")


@pytest.mark.parametrize("seed", range(6))
def test_rows_follow_random_scene_edits(tested_model, seed):
    rng = random.Random(seed)
    scene = small_scene()
    tested_model.set_scene(scene)
    assert_rows_match(tested_model, scene)
    removed: list = []
    for _ in range(60):
        random_scene_edit(rng, scene, removed)
        assert_rows_match(tested_model, scene)


@pytest.mark.parametrize("seed", range(6))
def test_rows_follow_random_edits_with_roots_fetched_in_batches(qtbot, seed):
    rng = random.Random(seed)
    scene = small_scene()
    for i in range(8):
        scene.spawn(f"extra{i}")
    model = SceneTreeModel(roots_per_fetch=3)
    model.set_scene(scene)
    # Attached after the reset: the tester's own fetchMore inside modelReset would
    # otherwise run before its bookkeeping of the reset ends.
    assert model.rowCount() == 3 and model.canFetchMore(QModelIndex())
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    removed: list = []
    for step in range(60):
        random_scene_edit(rng, scene, removed)
        # The fetched rows are always the first roots, in the scene's order.
        assert rows_of(model) == rows_of_scene(scene, scene.roots[: model.rowCount()])
        if step % 20 == 19:
            model.fetchMore(QModelIndex())
    last = scene.subtree(scene.roots[-1])[-1].handle
    assert model.expose(last).data(HANDLE_ROLE) == int(last)
    assert_rows_match(model, scene)
    del tester
    model.set_scene(None)


def test_selecting_an_unfetched_entity_fetches_its_row(qtbot):
    tree = SceneTreeView()
    qtbot.addWidget(tree)
    scene = Scene("many")
    for i in range(ROOTS_PER_FETCH + 500):
        scene.spawn(f"many{i}")
    tree.set_scene(scene)
    model = tree.scene_model()
    far = scene.roots[-1]
    assert model.rowCount() == ROOTS_PER_FETCH
    assert not tree.index_of(far).isValid()  # past the first fetch
    tree.select(far)
    assert tree.current_handle() == far
    assert model.rowCount() == len(scene.roots)
    tree.detach()


def test_each_edit_touches_only_its_own_rows(tested_model):
    scene = small_scene()
    tested_model.set_scene(scene)
    seen = []
    tested_model.modelReset.connect(lambda: seen.append("reset"))
    tested_model.rowsInserted.connect(lambda p, a, b: seen.append(("inserted", b - a + 1)))
    tested_model.rowsRemoved.connect(lambda p, a, b: seen.append(("removed", b - a + 1)))
    tested_model.rowsMoved.connect(lambda *a: seen.append("moved"))
    r0, r1 = scene.roots[0], scene.roots[1]
    keep = QPersistentModelIndex(tested_model.index_of(scene[r1].children[2]))

    scene.spawn("new", parent=r0, index=0)
    removed = scene.remove(scene[r0].children[2])  # a child with a grandchild
    scene.insert_subtree(removed, r0, 0)
    scene.reparent(scene[r0].children[0], r1, 1)
    assert seen == [("inserted", 1), ("removed", 1), ("inserted", 1), "moved"]
    # A row nothing touched keeps its identity: Qt's persistent indexes (the
    # current row, expanded rows) follow it instead of being dropped.
    assert keep.isValid() and keep.data(HANDLE_ROLE) == int(scene[r1].children[3])


def test_a_rename_redraws_one_row_and_a_move_keeps_the_moved_subtree(tested_model):
    scene = small_scene()
    tested_model.set_scene(scene)
    changed = []
    tested_model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row())))
    c1 = scene[scene.roots[2]].children[1]
    scene.set_attr(c1, "name", "Hero")
    scene.set_attr(c1, "position", scene[c1].position)  # not shown in the tree
    assert changed == [(1, 1)]
    assert tested_model.index_of(c1).data() == "Hero"

    scene.reparent(c1, Handle.NONE, 0)
    moved = tested_model.index_of(c1)
    assert moved.row() == 0 and not moved.parent().isValid()
    assert tested_model.rowCount(moved) == 1  # its child moved with it
    assert_rows_match(tested_model, scene)


def test_replaced_scripts_redraw_their_rows_after_the_event_not_inside_it(tested_model, qtbot):
    scene = small_scene()
    tested_model.set_scene(scene)
    h = scene[scene.roots[1]].children[0]
    changed = []
    tested_model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row())))
    scene[h].scripts = [PlaceholderScript("gone:Missing", {}, "no plugin defines it")]
    scene.notify(ScriptsReplaced((h,)))
    assert changed == []  # the reload's commit step goes on undisturbed
    qtbot.waitUntil(lambda: changed == [(0, 0)])
    index = tested_model.index_of(h)
    assert "a script class is missing" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert index.data(Qt.ItemDataRole.ForegroundRole) is not None


def test_a_reload_of_thousands_of_scripts_redraws_every_sibling_list_holding_one(qtbot):
    # Past a few hundred stale rows, each sibling list holding one is redrawn whole
    # (shown rows only) instead of each row being looked up on its own. (Qt's model
    # tester would fetch every root.)
    tested_model = SceneTreeModel()
    scene = Scene("t")
    roots = [scene.spawn(f"r{i}") for i in range(3 * ROOTS_PER_FETCH)]
    kids = [scene.spawn(f"k{i}", parent=roots[1].handle) for i in range(300)]
    tested_model.set_scene(scene)
    changed = []

    def record(a, b):
        assert a.parent() == b.parent()
        changed.append((a.parent().data(HANDLE_ROLE), a.row(), b.row()))

    tested_model.dataChanged.connect(record)
    scene.notify(ScriptsReplaced(tuple(e.handle for e in roots[::2] + kids[5:])))
    assert changed == []
    qtbot.waitUntil(lambda: len(changed) == 2)
    shown = tested_model.rowCount(QModelIndex())
    assert shown == ROOTS_PER_FETCH  # the rest of the roots are not fetched yet: no rows
    assert sorted(changed, key=str) == sorted(
        [(None, 0, shown - 1), (int(roots[1].handle), 0, len(kids) - 1)], key=str
    )


def test_icons_are_shared_by_entities_that_look_alike(tested_model):
    scene = Scene("t")
    a = scene.spawn("a", visual=Visual())
    b = scene.spawn("b", visual=Visual())
    tested_model.set_scene(scene)
    icon_a = tested_model.index_of(a.handle).data(Qt.ItemDataRole.DecorationRole)
    icon_b = tested_model.index_of(b.handle).data(Qt.ItemDataRole.DecorationRole)
    assert icon_a.cacheKey() == icon_b.cacheKey()


# --- in the editor ---------------------------------------------------------------------


def random_window_edit(rng: random.Random, window) -> None:
    """One random edit through the editor's own undoable commands."""
    scene = window.edited_scene
    target = window.document.edit_target
    stack = window.undo_stack
    handles = list(scene.entities)
    op = rng.choice(["add", "add child", "delete", "duplicate", "drop", "rename"])
    h = rng.choice(handles)
    if op in ("add", "add child"):
        window.select(h)
        window.add_entity(child=op == "add child")
    elif op == "delete" and len(handles) > 3:
        window.select(h)
        window.editing.delete_selected()
    elif op == "duplicate":
        window.select(h)
        window.editing.duplicate_selected()
    elif op == "drop":
        other = rng.choice(handles)
        where = rng.choice([Drop.OnItem, Drop.AboveItem, Drop.BelowItem, Drop.OnViewport])
        window.scene_tree.request_drop(h, other, where)
    else:
        stack.push(
            cmd.SetEntityAttribute(target, h, "name", f"x{rng.randint(0, 99)}", scene[h].name)
        )


@pytest.mark.parametrize("seed", range(3))
def test_tree_matches_the_scene_through_random_edits_undo_and_redo(window, seed):
    rng = random.Random(seed)
    tree = window.scene_tree
    model = tree.scene_model()
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    scene = window.edited_scene
    stack = window.undo_stack
    for _ in range(25):
        random_window_edit(rng, window)
        assert_rows_match(model, scene)
    while stack.canUndo():
        stack.undo()
        assert_rows_match(model, scene)
    while stack.canRedo():
        stack.redo()
        assert_rows_match(model, scene)
    del tester


def test_selection_survives_edits_of_other_entities(window):
    scene = window.edited_scene
    tree = window.scene_tree
    ball = scene.find("Ball B").handle
    window.select(ball)
    other = scene.find("Ball C").handle
    spinner = scene.find("Spinner").handle
    stack = window.undo_stack
    target = window.document.edit_target

    stack.push(cmd.AddEntity(target, "Before", Handle.NONE))
    scene.reparent(scene.roots[-1], Handle.NONE, 0)  # every row below it shifts
    stack.push(cmd.ReparentEntity(target, other, spinner, 0))
    stack.push(cmd.DeleteEntity(target, scene.find("Title").handle))
    stack.undo()
    stack.undo()
    for _ in range(3):
        assert tree.current_handle() == ball
        assert window.selected_handle == ball
        assert tree.selectionModel().isSelected(tree.index_of(ball))
        stack.undo() if stack.canUndo() else stack.redo()


def test_deleting_the_selected_entity_selects_nothing(window):
    scene = window.edited_scene
    window.select(scene.find("Spinner").handle)
    window.editing.delete_selected()
    assert window.selected_handle is None
    assert window.scene_tree.current_handle() is None
    window.undo_stack.undo()
    assert window.selected_handle is None  # undo brings the entity back, not the selection


def test_collapsed_rows_stay_collapsed_across_edits_and_play(window, qtbot):
    scene = window.edited_scene
    tree = window.scene_tree
    spinner = scene.find("Spinner").handle
    assert tree.isExpanded(tree.index_of(spinner))  # rows open by default
    tree.setExpanded(tree.index_of(spinner), False)
    stack = window.undo_stack
    target = window.document.edit_target

    stack.push(cmd.AddEntity(target, "New", Handle.NONE))
    stack.push(cmd.ReparentEntity(target, scene.find("Ball A").handle, Handle.NONE, 0))
    stack.push(cmd.SetEntityAttribute(target, spinner, "name", "Spun", "Spinner"))
    stack.undo()
    stack.undo()
    assert not tree.isExpanded(tree.index_of(spinner))

    # A new child opens its parent, as a new row would be.
    ball = scene.find("Ball A").handle
    stack.push(cmd.ReparentEntity(target, scene.find("Ball C").handle, ball, None))
    assert tree.isExpanded(tree.index_of(ball))

    window.play()
    assert window.scene_view.scene is not scene
    assert not tree.isExpanded(tree.index_of(spinner))
    window.stop()
    assert window.scene_view.scene is scene
    assert not tree.isExpanded(tree.index_of(spinner))
    assert tree.isExpanded(tree.index_of(ball))


def test_rename_in_the_tree_is_one_undoable_command(window, qtbot):
    scene = window.edited_scene
    tree = window.scene_tree
    ball = scene.find("Ball A").handle
    window.select(ball)
    tree.setFocus()
    tree.edit(tree.index_of(ball))
    editor = tree.findChild(QLineEdit)
    assert editor is not None and editor.text() == "Ball A"
    editor.setText("  Hero ")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: scene[ball].name == "Hero")  # Qt commits a Return queued
    assert tree.index_of(ball).data() == "Hero"
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert tree.index_of(ball).data() == "Ball A"
    # An empty name or the same name is no edit.
    assert not tree.scene_model().setData(tree.index_of(ball), "   ")
    assert not tree.scene_model().setData(tree.index_of(ball), "Ball A")
    assert window.undo_stack.count() == 1


def test_a_playing_scene_is_read_only_in_the_tree(window):
    window.play()
    tree = window.scene_tree
    playing = window.scene_view.scene
    index = tree.index_of(playing.find("Ball A").handle)
    assert not tree.scene_model().flags(index) & Qt.ItemFlag.ItemIsEditable
    assert not tree.scene_model().setData(index, "Hero")
    window.stop()


def test_spawns_while_playing_add_rows_one_by_one(window, qtbot):
    window.play()
    model = window.scene_tree.scene_model()
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    playing = window.scene_view.scene
    n = len(playing)
    window.game.step(200)  # the demo's spawner spawns balls
    assert len(playing) > n
    assert resets == []
    assert_rows_match(model, playing)
    window.stop()


def test_undo_of_a_delete_brings_the_subtree_back_open(window):
    scene = window.edited_scene
    tree = window.scene_tree
    spinner = scene.find("Spinner").handle
    window.select(spinner)
    window.editing.delete_selected()
    assert not tree.index_of(spinner).isValid()
    window.undo_stack.undo()
    index = tree.index_of(spinner)
    assert tree.isExpanded(index)
    assert tree.scene_model().rowCount(index) == 1  # the Blade
