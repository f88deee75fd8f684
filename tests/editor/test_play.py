"""Play in the editor: Stop restores, Pause/Step, input, run targets, status bar."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QToolButton

from editor.play import PlayState
from runtime import BuildProfile
from runtime.scenefile import scene_to_data

NAMES = (
    "buildProfileCombo",
    "runTargetCombo",
    "playButton",
    "pauseButton",
    "stepButton",
    "stopButton",
    "buildButton",
    "sceneView",
    "sceneTree",
    "inspector",
    "logPanel",
)


def test_stable_object_names_and_toolbar(window):
    for name in NAMES:
        assert window.findChild(object, name) is not None, name
    profiles = window.findChild(QComboBox, "buildProfileCombo")
    assert [profiles.itemText(i) for i in range(profiles.count())] == [
        "Debug",
        "Debug (HR)",
        "Release",
    ]
    targets = window.findChild(QComboBox, "runTargetCombo")
    assert [targets.itemText(i) for i in range(targets.count())] == [
        "In editor",
        "Separate process",
    ]
    assert "F5" in window.findChild(QToolButton, "playButton").toolTip()
    assert "F10" in window.findChild(QToolButton, "stepButton").toolTip()
    assert window.scene_view.scene is window.edited_scene


def test_stop_restores_the_edited_scene_exactly(window, qtbot):
    window.select(window.edited_scene.find("Ball A").handle)
    before = scene_to_data(window.edited_scene)
    qtbot.mouseClick(window.findChild(QToolButton, "playButton"), Qt.MouseButton.LeftButton)
    assert window.play_state is PlayState.PLAYING
    assert window.status.mode_label.text().endswith("playing")
    assert not window.profile_combo.isEnabled()
    qtbot.waitUntil(lambda: window.game.frame >= 3)
    window.game.step(200)
    playing = window.scene_view.scene
    assert playing is not window.edited_scene
    assert playing.find("Ball A").position != window.edited_scene.find("Ball A").position
    assert len(playing) > len(window.edited_scene)  # the spawner spawned balls
    assert window.scene_tree.scene_model().rowCount() == len(playing.roots)
    qtbot.waitUntil(lambda: window.status.fps_label.text().endswith("FPS"))
    assert window.status.entities_label.text().endswith("entities")

    qtbot.mouseClick(window.findChild(QToolButton, "stopButton"), Qt.MouseButton.LeftButton)
    assert window.play_state is PlayState.STOPPED
    assert window.scene_view.scene is window.edited_scene
    assert scene_to_data(window.edited_scene) == before
    assert window.scene_tree.scene_model().rowCount() == len(window.edited_scene.roots)
    assert window.game.running_scenes == []
    assert window.status.mode_label.text().endswith("editing")
    assert window.selected_handle == window.edited_scene.find("Ball A").handle
    assert not window.is_modified


def test_pause_and_step(window, qtbot):
    window.play()
    qtbot.waitUntil(lambda: window.game.frame >= 2)
    window.toggle_pause()
    assert window.play_state is PlayState.PAUSED
    assert window.status.mode_label.text().endswith("paused")
    frame = window.game.frame
    qtbot.mouseClick(window.findChild(QToolButton, "stepButton"), Qt.MouseButton.LeftButton)
    assert window.game.frame == frame + 1
    window.step()
    assert window.game.frame == frame + 2
    window.play()  # Play resumes
    assert window.play_state is PlayState.PLAYING
    qtbot.waitUntil(lambda: window.game.frame > frame + 4)
    window.stop()


def test_keyboard_reaches_the_game_while_the_view_has_focus(window, qtbot):
    window.play()
    view = window.scene_view
    view.setFocus()
    paddle = window.scene_view.scene.find("Paddle")
    x = paddle.position.x
    qtbot.keyPress(view, Qt.Key.Key_Right)
    assert window.game.input.is_down("right")
    frame = window.game.frame
    qtbot.waitUntil(lambda: window.game.frame > frame + 3)
    assert paddle.position.x > x
    qtbot.keyRelease(view, Qt.Key.Key_Right)
    assert not window.game.input.is_down("right")


def test_edits_are_blocked_while_playing(window):
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    window.play()
    assert window.inspector._read_only
    window.inspector.attributeEdited.emit(ball.handle, "name", "Nope")
    assert ball.name == "Ball A"
    assert window.undo_stack.count() == 0
    assert not window.window_actions.undo.isEnabled()


def test_separate_process_is_a_run_target_and_release_always_uses_it(window):
    from editor.player_process.play_target import SeparateProcessPlay

    combo = window.run_target_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["In editor", "Separate process"]
    combo.setCurrentText("In editor")
    window.set_profile(BuildProfile.RELEASE)
    target = window.play_controller.make_target()  # Release needs python -O: never in the editor
    assert isinstance(target, SeparateProcessPlay)
    target.deleteLater()
    # The editor's game watches in Release too, only to note changes for the
    # "code changed — Build, then Play" banner: it does not hot reload.
    assert window.game.watcher is not None and not window.game.profile.hot_reload


def test_a_play_target_can_be_plugged_in(window):
    from editor.play import PlayTarget

    class FakeProcess(PlayTarget):
        def start(self):
            self._set_state(PlayState.PLAYING)

        def stop(self):
            self._set_state(PlayState.STOPPED)

        def pause(self):
            self._set_state(PlayState.PAUSED)

        def resume(self):
            self._set_state(PlayState.PLAYING)

        def step(self):
            pass

    window.register_play_target("Separate process", lambda w: FakeProcess(w))
    window.run_target_combo.setCurrentText("Separate process")
    window.play()
    assert window.play_state is PlayState.PLAYING
    assert window.scene_view.scene is window.edited_scene  # nothing to show in-process
    window.stop()
    assert window.play_state is PlayState.STOPPED


def test_profile_switch_only_while_stopped(window):
    window.play()
    assert not window.set_profile(BuildProfile.DEBUG_HR)
    assert window.profile is BuildProfile.DEBUG
    window.stop()
    assert window.set_profile(BuildProfile.DEBUG_HR)
    assert window.game.profile is BuildProfile.DEBUG_HR
    assert window.game.watcher is not None
    assert window.status.profile_label.text() == "Debug (HR)"


def test_build_reports_syntax_errors(window, write_plugin):
    assert window.build()
    assert "build succeeded" in window.status.message.text()
    write_plugin("bouncy/ball.py", "ball_broken.txt")
    assert not window.build()
    assert "ball.py" in window.status.message.text()


def test_release_shows_and_locks_separate_process_then_restores_the_choice(window):
    combo = window.run_target_combo
    combo.setCurrentText("In editor")
    window.set_profile(BuildProfile.RELEASE)
    assert combo.currentText() == "Separate process" and not combo.isEnabled()
    window.set_profile(BuildProfile.DEBUG)
    assert combo.currentText() == "In editor" and combo.isEnabled()
    # Release's choice, not the user's:
    assert window.project_settings.value("runTarget") != "Separate process"
