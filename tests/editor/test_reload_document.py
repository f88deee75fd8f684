"""A hot reload and the edited scene's document (issue 14).

A reload never changes the document behind the user's back: what it changes
in the scene's data is one undoable step with the modified mark, or nothing.
Values it sets aside are shown in the inspector as stale data with a Discard
action; a changed on_init that already ran is offered to run again.
"""

from __future__ import annotations

import json

from runtime import BuildProfile
from runtime.scripting import stash_of

BALL = "bouncy/ball.py"


def ball_source(project) -> str:
    return (project / "plugins" / BALL).read_text()


def write_ball(project, text: str) -> None:
    (project / "plugins" / BALL).write_text(text)


def reloads(window) -> int:
    return len(window.game.reports)


def wait_reload(qtbot, window, count: int) -> None:
    qtbot.waitUntil(lambda: reloads(window) >= count, timeout=5000)
    assert window.game.reports[-1].ok, window.game.reports[-1].details()


def test_a_reload_that_only_adds_a_field_leaves_the_document_unmodified(window, project, qtbot):
    window.set_profile(BuildProfile.DEBUG_HR)
    source = ball_source(project)
    write_ball(
        project,
        source.replace("    bounces: int = 0\n", "    bounces: int = 0\n    spin: float = 1.0\n"),
    )
    wait_reload(qtbot, window, 1)
    assert window.edited_scene.find("Ball A").scripts[0].spin == 1.0
    assert not window.is_modified
    assert window.undo_stack.count() == 0


def test_a_reload_that_changes_the_data_is_one_undoable_step_and_marks_it_modified(
    window, project, qtbot
):
    window.set_profile(BuildProfile.DEBUG_HR)
    source = ball_source(project)
    ball = window.edited_scene.find("Ball A")
    write_ball(project, source.replace("bounces: int = 0", "bounces: int = 5"))
    wait_reload(qtbot, window, 1)
    assert ball.scripts[0].bounces == 5  # was at the old default: takes the new one
    assert window.is_modified
    assert window.undo_stack.count() == 1
    assert "Code reload" in window.undo_stack.undoText()
    window.undo_stack.undo()
    assert ball.scripts[0].bounces == 0 and not window.is_modified
    window.undo_stack.redo()
    assert ball.scripts[0].bounces == 5 and window.is_modified
    # Saving the default back: the second reload undoes the first; the step goes away.
    write_ball(project, source)
    wait_reload(qtbot, window, 2)
    assert ball.scripts[0].bounces == 0
    assert window.undo_stack.count() == 0
    assert not window.is_modified


def test_a_save_written_in_two_parts_leaves_the_edited_scene_as_it_was(window, project, qtbot):
    """Item 8 in the editor: a real two-part write through the watcher."""
    window.set_profile(BuildProfile.DEBUG_HR)
    scene_file = project / "assets" / "scenes" / "demo.scene.json"
    original = json.loads(scene_file.read_text())
    ball = window.edited_scene.find("Ball B")
    window.select(ball.handle)
    source = ball_source(project)
    cut = source.index("    arena:")  # the first part ends at a line boundary, and compiles
    path = project / "plugins" / BALL
    with path.open("w") as f:
        f.write(source[:cut])
        f.flush()
        wait_reload(qtbot, window, 1)
        assert {n.field for n in window.game.reports[-1].warnings} == {"arena", "bounces"}
        assert stash_of(ball.scripts[0]) == {"arena": [380.0, 260.0], "bounces": 0}
        qtbot.waitUntil(lambda: window.inspector.shown_stash(0) == ["arena", "bounces"])
        assert not window.is_modified  # reopening the saved file would give the same
        f.write(source[cut:])
    wait_reload(qtbot, window, 2)
    s = ball.scripts[0]
    assert (tuple(s.velocity), tuple(s.arena), s.bounces) == ((-150.0, 200.0), (380.0, 260.0), 0)
    assert stash_of(s) == {}
    qtbot.waitUntil(lambda: window.inspector.shown_stash(0) == [])
    assert not window.is_modified and window.undo_stack.count() == 0
    assert window.save_scene()
    assert json.loads(scene_file.read_text())["entities"] == original["entities"]


def test_stale_data_shows_in_the_inspector_and_discard_is_undoable(window, project, qtbot):
    window.set_profile(BuildProfile.DEBUG_HR)
    ball = window.edited_scene.find("Ball C")
    window.select(ball.handle)
    source = ball_source(project)
    write_ball(
        project,
        source.replace("    bounces: int = 0\n", "").replace(
            "        self.bounces += 1\n", "        pass\n"
        ),
    )
    wait_reload(qtbot, window, 1)
    qtbot.waitUntil(lambda: window.inspector.shown_stash(0) == ["bounces"])
    button = window.inspector.discard_button(0, "bounces")
    assert button is not None and button.isEnabled()
    button.click()
    assert stash_of(ball.scripts[0]) == {}
    assert window.is_modified and window.undo_stack.undoText().startswith("Discard stale")
    qtbot.waitUntil(lambda: window.inspector.shown_stash(0) == [])
    window.undo_stack.undo()
    assert stash_of(ball.scripts[0]) == {"bounces": 0}
    qtbot.waitUntil(lambda: window.inspector.shown_stash(0) == ["bounces"])
    # The field comes back: so does its value, and the stash is empty again.
    write_ball(project, source)
    wait_reload(qtbot, window, 2)
    assert ball.scripts[0].bounces == 0 and stash_of(ball.scripts[0]) == {}


def test_a_changed_on_init_that_already_ran_is_offered_to_run_again(window, project, qtbot):
    window.set_profile(BuildProfile.DEBUG_HR)
    window.play()
    qtbot.waitUntil(lambda: window.game.frame >= 2)
    source = ball_source(project)
    write_ball(
        project,
        source.replace(
            "    def bounce(self, ctx):",
            "    def on_init(self, ctx):\n        self.bounces = 100\n\n    def bounce(self, ctx):",
        ),
    )
    banner = window.code_reload.banner
    qtbot.waitUntil(lambda: banner.isVisible() and "Re-run" in banner.text(), timeout=5000)
    (change,) = [u for u in window.game.reports[-1].unapplied if u.what == "on_init"]
    assert change.type_id == "bouncy.ball:Ball" and len(change.entities) >= 3
    running = window.scene_view.scene
    assert all(e.scripts[0].bounces < 100 for e in running if e.name.startswith("Ball "))
    banner.linkActivated.emit("rerun")
    assert all(e.scripts[0].bounces >= 100 for e in running if e.name.startswith("Ball "))
    assert not banner.isVisible()
    assert "re-ran on_init" in window.status.message.text()


def test_a_class_that_goes_and_comes_back_leaves_the_document_as_it_was(window, project, qtbot):
    window.set_profile(BuildProfile.DEBUG_HR)
    source = ball_source(project)
    ball = window.edited_scene.find("Ball A")
    before = dict(vars(ball.scripts[0]))
    # The class is renamed (the name left behind is not a script): its scripts have no class.
    renamed = source.replace("class Ball(Script):", "class Renamed(Script):")
    write_ball(project, renamed + "\n\nBall = None\n")
    wait_reload(qtbot, window, 1)
    assert type(ball.scripts[0]).__name__ == "PlaceholderScript"  # the data is kept as it is
    assert not window.is_modified and window.undo_stack.count() == 0
    write_ball(project, source)
    wait_reload(qtbot, window, 2)
    assert type(ball.scripts[0]).__name__ == "Ball"
    assert {k: v for k, v in vars(ball.scripts[0]).items() if k in before} == before
    assert not window.is_modified and window.undo_stack.count() == 0
