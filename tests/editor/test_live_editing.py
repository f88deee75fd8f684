"""Editing the running game in the editor: Debug (HR) while playing, the live inspector, Keep."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QToolButton

from editor.field_editor import FieldEditor
from editor.play import PlayState
from runtime import BuildProfile, Color, Vec2


def choose_profile(window, name: str) -> None:
    combo = window.findChild(QComboBox, "buildProfileCombo")
    assert combo.isEnabled(), combo.toolTip()
    combo.setCurrentIndex(combo.findText(name))
    assert window.profile.display_name == name


def test_the_users_order_play_then_debug_hr_then_edit_code(window, write_plugin, qtbot):
    # Open the editor (Debug), press Play, pick Debug (HR), edit code, watch the scene.
    assert window.profile is BuildProfile.DEBUG
    qtbot.mouseClick(window.findChild(QToolButton, "playButton"), Qt.MouseButton.LeftButton)
    assert window.play_state is PlayState.PLAYING
    running = window.scene_view.scene
    choose_profile(window, "Debug (HR)")
    assert window.game.profile is BuildProfile.DEBUG_HR
    assert window.play_state is PlayState.PLAYING and window.scene_view.scene is running
    write_plugin("bouncy/ball.py", "ball_v2.py")
    ball = running.find("Ball A")
    qtbot.waitUntil(lambda: getattr(ball.scripts[0], "frames_v2", 0) > 3, timeout=8000)
    assert ball.visual.color == Color(0, 255, 0)  # v2 turns the balls green
    choose_profile(window, "Debug")  # off: code changes wait again
    assert window.game.watcher is not None  # Debug still notes saves, for the banner


def test_turning_hot_reload_on_while_playing_applies_the_changes_saved_before(
    window, write_plugin, qtbot
):
    window.play()
    write_plugin("bouncy/ball.py", "ball_v2.py")
    qtbot.waitUntil(window.banner.isVisible, timeout=5000)  # Debug: noted, not applied
    ball = window.scene_view.scene.find("Ball A")
    assert not hasattr(ball.scripts[0], "frames_v2")
    choose_profile(window, "Debug (HR)")
    assert hasattr(ball.scripts[0], "frames_v2")  # at once, not at the next save
    assert not window.banner.isVisible()


def test_switching_to_release_while_playing_restarts_play_when_the_user_says_yes(window):
    asked = []
    window.code_reload.ask_restart = lambda running, chosen: asked.append((running, chosen)) or True
    started = []
    window.play_controller.aboutToStart.connect(lambda: started.append(window.profile))
    window.play()
    window.set_profile(BuildProfile.RELEASE)
    assert asked == [(BuildProfile.DEBUG, BuildProfile.RELEASE)]
    assert started == [BuildProfile.DEBUG, BuildProfile.RELEASE]  # Stop, then Play again
    assert window.game.profile is BuildProfile.RELEASE
    window.stop()


def test_the_live_inspector_edits_the_running_game_and_marks_the_field(window, qtbot):
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    window.play()
    insp = window.inspector
    assert insp.mode == "playing" and insp.findChild(QToolButton, "addScriptButton") is None
    running = window.play_controller.target.scene
    insp.script_field_editor(0, "bounces").box.setValue(42)
    assert running[ball.handle].scripts[0].bounces == 42
    assert ball.scripts[0].bounces == 0  # the edited scene stays as it was
    key = (ball.handle, "scripts", 0, "bouncy.ball:Ball", "bounces")
    assert insp.change_mark(key) == "changed"
    frame = window.game.frame
    qtbot.waitUntil(lambda: window.game.frame > frame)
    assert running[ball.handle].scripts[0].bounces >= 42  # the game ran on with it
    window.stop()
    assert ball.scripts[0].bounces == 0  # not kept: lost at Stop
    assert window.undo_stack.count() == 0


def test_kept_changes_apply_at_stop_as_one_undo_step(window, qtbot):
    ball = window.edited_scene.find("Ball A")
    other = window.edited_scene.find("Ball B")
    window.select(ball.handle)
    window.play()
    insp = window.inspector
    insp.script_field_editor(0, "bounces").box.setValue(9)
    insp.findChild(QToolButton, "keepEntityChangesButton").click()
    key = (ball.handle, "scripts", 0, "bouncy.ball:Ball", "bounces")
    assert insp.change_mark(key) == "kept"
    insp.attributeEdited.emit(ball.handle, "name", "Kept ball")
    assert insp.change_mark((ball.handle, "name", -1, "", "")) == "changed"
    running_visual = window.play_controller.target.scene[ball.handle].visual
    insp.attributeEdited.emit(
        ball.handle, "visual", type(running_visual)(**{**_visual_dict(running_visual), "z": 7})
    )
    window.select(other.handle)
    insp.attributeEdited.emit(other.handle, "position", Vec2(1.0, 2.0))  # not kept
    keep = window.window_actions.keep_changes
    assert keep.objectName() == "keepChangesAction" and keep.isEnabled()
    window.select(ball.handle)
    insp.keepRequested.emit(ball.handle, None)  # name and z of Ball A; Ball B stays unkept
    window.stop()
    assert ball.scripts[0].bounces == 9 and ball.name == "Kept ball" and ball.visual.z == 7
    assert ball.position == window.edited_scene.find("Kept ball").position
    assert other.position != Vec2(1.0, 2.0)
    assert window.undo_stack.count() == 1
    assert window.undo_stack.undoText() == "Keep play-mode changes"
    assert "kept 3 play-mode changes" in window.status.message.text()
    window.undo_stack.undo()
    assert ball.scripts[0].bounces == 0 and ball.name == "Ball A" and ball.visual.z != 7
    assert not keep.isEnabled() and "only while playing" in keep.toolTip()


def test_keep_everything_leaves_out_entities_spawned_while_playing(window, qtbot):
    window.play()
    window.game.step(200)  # the spawner spawns balls that the edited scene does not have
    running = window.play_controller.target.scene
    spawned = next(e for e in running if e.handle not in window.edited_scene)
    window.select(spawned.handle)
    window.inspector.attributeEdited.emit(spawned.handle, "name", "Spawned")
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    window.inspector.attributeEdited.emit(ball.handle, "rotation", 45.0)
    window.window_actions.keep_changes.trigger()
    window.stop()
    assert ball.rotation == 45.0
    assert window.undo_stack.count() == 1
    assert "1 left out" in window.status.message.text()
    assert "spawned while playing" in window.status.message.text()


def test_clicking_an_entity_in_the_game_view_selects_it_while_playing(window, qtbot):
    window.play()
    running = window.play_controller.target.scene
    paddle = running.find("Paddle")
    window.scene_view.entityClicked.emit(paddle.handle)
    assert window.selected_handle == paddle.handle
    assert window.inspector.handle == paddle.handle
    assert window.scene_tree.current_handle() == paddle.handle


def test_paused_is_shown_as_paused(window, qtbot):
    window.select(window.edited_scene.find("Ball A").handle)
    window.play()
    qtbot.waitUntil(lambda: window.status.fps_label.text().endswith("FPS"))
    window.toggle_pause()
    assert window.play_state is PlayState.PAUSED
    note = window.inspector.findChild(QLabel, "inspectorModeNote")
    assert note.text().startswith("Paused") and "Playing" not in note.text()
    window.play_controller.update_stats()
    assert window.status.fps_label.text() == "paused"
    assert "0 FPS" not in window.status.fps_label.text()
    window.toggle_pause()
    assert window.inspector.findChild(QLabel, "inspectorModeNote").text().startswith("Playing")


def test_a_disabled_build_says_why_in_its_tooltip(window):
    window.play()
    build = window.window_actions.build
    assert not build.isEnabled() and "Stop it first" in build.toolTip()
    assert "Stop the game" in window.run_target_combo.toolTip()
    window.stop()
    assert build.isEnabled() and "unavailable" not in build.toolTip()


def test_an_int_field_refuses_a_value_out_of_range_with_a_message(window, qtbot):
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    ed = window.inspector.script_field_editor(0, "bounces")
    ed.box.lineEdit().selectAll()
    qtbot.keyClicks(ed.box.lineEdit(), "99999999999999999999999")
    qtbot.keyClick(ed.box.lineEdit(), Qt.Key.Key_Return)
    assert ball.scripts[0].bounces == 0  # not clamped to anything
    assert ed.message.isVisibleTo(ed) and "out of range" in ed.message.text()
    assert ed.box.lineEdit().text() == "0"
    ed.box.lineEdit().setText(str(2**40))  # beyond 32 bits, well within the scene file's
    ed.box.editingFinished.emit()
    assert ball.scripts[0].bounces == 2**40
    assert not ed.message.isVisibleTo(ed)


def _visual_dict(v):
    import dataclasses

    return {f.name: getattr(v, f.name) for f in dataclasses.fields(v)}


def test_a_float_field_refuses_a_value_out_of_range_instead_of_clamping(window, qtbot):
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    rotation = window.inspector.findChild(FieldEditor, "rotationEditor")
    before = ball.rotation
    rotation.box.lineEdit().selectAll()
    qtbot.keyClicks(rotation.box.lineEdit(), "5000000000000")
    qtbot.keyClick(rotation.box.lineEdit(), Qt.Key.Key_Return)
    assert ball.rotation == before  # not clamped to 1e9
    assert rotation.message.isVisibleTo(rotation) and "out of range" in rotation.message.text()


def test_keep_on_one_field_keeps_only_that_field(window):
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    window.play()
    insp = window.inspector
    insp.script_field_editor(0, "bounces").box.setValue(5)
    insp.attributeEdited.emit(ball.handle, "rotation", 30.0)
    key = (ball.handle, "scripts", 0, "bouncy.ball:Ball", "bounces")
    menu = insp._keep_menu(key)  # what right-clicking the field's label shows
    keep_field = menu.actions()[0]
    assert keep_field.isEnabled() and keep_field.text() == "Keep this change after Play"
    keep_field.trigger()
    assert insp.change_mark(key) == "kept"
    assert insp.change_mark((ball.handle, "rotation", -1, "", "")) == "changed"
    window.stop()
    assert ball.scripts[0].bounces == 5 and ball.rotation != 30.0
    assert window.undo_stack.count() == 1


def test_keeping_a_spawned_entity_says_its_changes_cannot_apply(window):
    window.play()
    window.game.step(200)
    running = window.play_controller.target.scene
    spawned = next(e for e in running if e.handle not in window.edited_scene)
    window.select(spawned.handle)
    window.inspector.attributeEdited.emit(spawned.handle, "rotation", 10.0)
    window.inspector.keep_entity_button.click()
    text = window.status.message.text()
    assert "spawned while playing" in text and str(int(spawned.handle)) in text
    window.stop()
    assert window.undo_stack.count() == 0
