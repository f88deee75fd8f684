"""The scene tree under a game spawning roots by the hundred: Qt lays out only what is fetched."""

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QApplication

from editor.scene_tree import ROOTS_PER_FETCH, SceneTreeView
from runtime import Scene
from tests.editor.test_scene_tree_model import assert_rows_match


def shown_tree(qtbot, scene: Scene) -> SceneTreeView:
    """A tree view over `scene`, on screen (Qt fetches rows as they come into view)."""
    tree = SceneTreeView()
    qtbot.addWidget(tree)
    tree.resize(300, 400)
    tree.show()
    tree.set_scene(scene)
    return tree


def test_a_root_added_to_a_long_list_shows_once_the_end_of_the_list_is_on_screen(qtbot):
    scene = Scene("many")
    for i in range(ROOTS_PER_FETCH + 50):
        scene.spawn(f"many{i}")
    tree = shown_tree(qtbot, scene)
    model = tree.scene_model()
    tree.select(scene.roots[-1])  # fetches every root, and scrolls to the last
    assert model.rowCount() == len(scene.roots)
    scene.spawn("seen")  # past the first batch: not at once, but the end is on screen
    assert model.rowCount() == len(scene.roots) - 1
    qtbot.waitUntil(lambda: model.rowCount() == len(scene.roots))
    assert tree.index_of(scene.roots[-1]).data() == "seen"

    tree.scrollToTop()
    scene.spawn("below")  # the end is off screen: it waits to be fetched
    scene.remove(scene.roots[0])  # and a layout of the rows shown does not fetch it
    for _ in range(5):  # the view lays the rows out again
        QApplication.processEvents()
    assert model.rowCount() == len(scene.roots) - 1 and model.canFetchMore(QModelIndex())
    tree.scrollToBottom()  # Qt fetches when the user scrolls to the end
    qtbot.waitUntil(lambda: model.rowCount() == len(scene.roots))
    assert_rows_match(model, scene)
    tree.detach()


def test_a_game_spawning_roots_every_frame_adds_no_rows_past_the_first_batch(qtbot):
    scene = Scene("flood")
    tree = shown_tree(qtbot, scene)
    model = tree.scene_model()
    inserted = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append(last - first + 1))
    for _frame in range(20):
        for i in range(200):
            scene.spawn(f"spawned{i}")
        scene.remove(scene.roots[0])  # and destroys one of the shown rows each frame
        QApplication.processEvents()
    # The first batch shows at once; later ones only as the user scrolls down.
    assert model.rowCount() <= 2 * ROOTS_PER_FETCH
    assert sum(inserted) <= 2 * ROOTS_PER_FETCH
    assert len(scene.roots) == 20 * 199
    model.expose(scene.roots[-1])
    assert_rows_match(model, scene)
    tree.detach()
