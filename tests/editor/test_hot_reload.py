"""The used-by flow: choose Debug (HR), Play, save a changed script, watch the game change."""

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QToolButton

from runtime import BuildProfile, Color
from runtime.clock import FixedStepClock
from runtime.scripting import stash_of, type_id_of

GREEN = Color(0, 255, 0)


def choose_profile(window, name: str) -> None:
    combo = window.findChild(QComboBox, "buildProfileCombo")
    combo.setCurrentIndex(combo.findText(name))
    assert window.profile.display_name == name


def click(qtbot, window, name: str) -> None:
    button = window.findChild(QToolButton, name)
    assert button is not None and button.isEnabled(), name
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def play_without_ticks(window, qtbot):
    """Play in Debug (HR), then stop the play timer: the game plays, the test ticks it."""
    choose_profile(window, "Debug (HR)")
    click(qtbot, window, "playButton")
    game = window.game
    qtbot.waitUntil(lambda: game.frame >= 3)
    target = window.play_controller.target
    target._timer.stop()
    return game, target


def fake_clock(game, target):
    """Give the play target a clock the test moves: the list's one item is "now"."""
    now = [100.0]
    target._clock = FixedStepClock(game.fixed_dt, target.MAX_FRAMES_PER_TICK, lambda: now[0])
    target._clock.start()
    return now


def frames_of_tick(game, target, now, steps):
    """Move the fake clock `steps` fixed steps on, tick once; how many frames ran."""
    frame = game.frame
    now[0] += steps * game.fixed_dt
    target._on_tick()
    return game.frame - frame


def balls(scene):
    return [e for e in scene if e.scripts and type(e.scripts[0]).__name__ == "Ball"]


def test_hot_reload_while_playing_keeps_state(window, write_plugin, qtbot):
    choose_profile(window, "Debug (HR)")
    click(qtbot, window, "playButton")
    assert window.scene_view.scene is not window.edited_scene
    game = window.game
    qtbot.waitUntil(lambda: game.frame >= 5)
    game.step(240)  # four seconds of game time at once: balls have bounced, one was spawned
    scene = window.scene_view.scene
    before = {e.handle: (e.scripts[0].bounces, e.scripts[0].velocity) for e in balls(scene)}
    assert sum(b for b, _ in before.values()) > 0
    spawned = scene.find("Spawner").scripts[0].spawned
    assert spawned >= 2
    old_class = type(balls(scene)[0].scripts[0])

    write_plugin("bouncy/ball.py", "ball_v2.py")

    # Wait until the running game shows the new behaviour.
    qtbot.waitUntil(
        lambda: all(e.visual.color == GREEN for e in balls(window.scene_view.scene)), timeout=5000
    )
    report = game.reports[-1]
    assert report.ok
    assert window.status.message.property("kind") == "ok"
    assert "reloaded bouncy" in window.status.message.text()
    scene = window.scene_view.scene
    for e in balls(scene):
        s = e.scripts[0]
        assert type(s) is not old_class
        assert s.frames_v2 > 0
        if e.handle in before:
            # Counters were carried over, not reset to the defaults.
            assert s.bounces >= before[e.handle][0]
    assert scene.find("Spawner").scripts[0].spawned >= spawned
    # The edited scene sat the reload out (set aside while its copy plays)...
    assert window.edited_scene not in game.scenes
    assert type(window.edited_scene.find("Ball A").scripts[0]) is old_class
    new_class = type(balls(scene)[0].scripts[0])
    # ... and at Stop takes the new code, with its own (unplayed) values.
    click(qtbot, window, "stopButton")
    assert window.edited_scene in game.scenes
    edited_ball = window.edited_scene.find("Ball A").scripts[0]
    assert type(edited_ball) is new_class
    assert edited_ball.bounces == 0 and edited_ball.frames_v2 == 0
    # New script types are offered at once.
    window.select(window.edited_scene.find("Ball A").handle)
    tids = [a.data() for a in window.inspector.add_script_actions()]
    assert "bouncy.ball:Wobble" in tids


def test_a_field_retyped_during_play_leaves_an_edited_scene_that_plays_and_saves(
    window, project, qtbot, tmp_path
):
    """The edited scene takes the new type at Stop as a reload would: value set aside."""
    choose_profile(window, "Debug (HR)")
    click(qtbot, window, "playButton")
    game = window.game
    qtbot.waitUntil(lambda: game.frame >= 3)
    ball = project / "plugins" / "bouncy" / "ball.py"
    reloads = len(game.reports)
    ball.write_text(ball.read_text().replace("bounces: int = 0", 'bounces: str = "none"'))
    qtbot.waitUntil(lambda: len(game.reports) > reloads, timeout=10000)
    assert game.reports[-1].ok, game.reports[-1].details()
    click(qtbot, window, "stopButton")
    new_ball = game.registry.resolve("bouncy.ball:Ball")
    edited_ball = window.edited_scene.find("Ball A").scripts[0]
    assert type(edited_ball) is new_ball and edited_ball.bounces == "none"
    assert stash_of(edited_ball) == {"bounces": 0}
    # It plays again, and its saved file opens with the code loaded now.
    click(qtbot, window, "playButton")
    assert window.is_playing
    click(qtbot, window, "stopButton")
    saved = tmp_path / "saved.scene.json"
    game.save_scene(window.edited_scene, saved)
    assert type(game.load_scene(saved).find("Ball A").scripts[0]) is new_ball


def test_reload_while_paused_carries_exact_state(window, write_plugin, qtbot):
    choose_profile(window, "Debug (HR)")
    window.play()
    window.game.step(200)
    window.toggle_pause()
    scene = window.scene_view.scene
    ball = scene.find("Ball B")
    state = (ball.position, ball.scripts[0].velocity, ball.scripts[0].bounces)
    frame = window.game.frame

    write_plugin("bouncy/ball.py", "ball_v2.py")
    qtbot.waitUntil(lambda: bool(window.game.reports) and window.game.reports[-1].ok, timeout=5000)

    s = ball.scripts[0]
    assert hasattr(s, "frames_v2")
    assert (ball.position, s.velocity, s.bounces) == state
    assert window.game.frame == frame  # paused: the reload ran between frames, none ran
    window.step()
    assert window.game.frame == frame + 1
    assert ball.visual.color == GREEN


def test_syntax_error_keeps_old_code_running_and_fix_recovers(window, write_plugin, qtbot):
    choose_profile(window, "Debug (HR)")
    window.play()
    qtbot.waitUntil(lambda: window.game.frame >= 3)
    old_class = type(window.scene_view.scene.find("Ball A").scripts[0])

    write_plugin("bouncy/ball.py", "ball_broken.txt")
    qtbot.waitUntil(
        lambda: bool(window.game.reports) and not window.game.reports[-1].ok, timeout=5000
    )

    assert "kept previous code" in window.status.message.text()
    assert window.status.message.property("kind") == "error"
    errors = [e for e in window.log_panel.entries if e.level >= logging.ERROR]
    assert any("SyntaxError" in e.message and "ball.py" in e.message for e in errors)
    # The game keeps running the old code.
    frame = window.game.frame
    ball = window.scene_view.scene.find("Ball A")
    pos = ball.position
    qtbot.waitUntil(lambda: window.game.frame > frame + 3)
    assert ball.position != pos
    assert type(ball.scripts[0]) is old_class

    write_plugin("bouncy/ball.py", "ball_v2.py")
    qtbot.waitUntil(lambda: ball.visual.color == GREEN, timeout=5000)
    assert window.game.reports[-1].ok
    assert window.play_state.value == "playing"


def test_added_field_shows_in_inspector_without_restart(window, write_plugin, qtbot):
    choose_profile(window, "Debug (HR)")
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    assert "frames_v2" not in window.inspector.shown_fields(0)

    write_plugin("bouncy/ball.py", "ball_v2.py")

    qtbot.waitUntil(lambda: "frames_v2" in window.inspector.shown_fields(0), timeout=5000)
    assert window.play_state.value == "stopped"
    assert type_id_of(type(ball.scripts[0])) == "bouncy.ball:Ball"


def test_undo_history_survives_a_reload(window, write_plugin, qtbot):
    window.set_profile(BuildProfile.DEBUG_HR)
    ball = window.edited_scene.find("Ball A")
    window.select(ball.handle)
    window.inspector.script_field_editor(0, "bounces").box.setValue(7)
    assert ball.scripts[0].bounces == 7

    write_plugin("bouncy/ball.py", "ball_v2.py")
    qtbot.waitUntil(lambda: "frames_v2" in window.inspector.shown_fields(0), timeout=5000)
    assert ball.scripts[0].bounces == 7  # migrated

    window.undo_stack.undo()
    assert ball.scripts[0].bounces == 0
    assert window.inspector.script_field_editor(0, "bounces").value() == 0
    window.undo_stack.redo()
    assert ball.scripts[0].bounces == 7


def test_debug_profile_applies_changes_at_next_play(window, write_plugin, qtbot):
    assert window.profile is BuildProfile.DEBUG
    window.play()
    qtbot.waitUntil(lambda: window.game.frame >= 2)
    write_plugin("bouncy/ball.py", "ball_v2.py")
    qtbot.waitUntil(window.banner.isVisible, timeout=5000)
    assert "restart to apply" in window.banner.text()
    frame = window.game.frame
    qtbot.waitUntil(lambda: window.game.frame > frame + 5)
    ball = window.scene_view.scene.find("Ball A")
    assert not hasattr(ball.scripts[0], "frames_v2")  # still the old code

    window.stop()
    window.play()
    ball = window.scene_view.scene.find("Ball A")
    assert hasattr(ball.scripts[0], "frames_v2")
    assert not window.banner.isVisible()


def test_plugin_editor_extension_is_reloaded(make_window, write_plugin, qtbot):
    write_plugin("bouncy/editor_ext.py", "editor_ext_v1.py")
    window = make_window(profile=BuildProfile.DEBUG_HR)
    texts = [a.text() for a in window.extensions.actions("bouncy")]
    assert texts == ["Count balls"]
    window.extensions.actions("bouncy")[0].trigger()
    assert any(e.message == "3 balls" for e in window.log_panel.entries)

    write_plugin("bouncy/editor_ext.py", "editor_ext_v2.py")
    qtbot.waitUntil(
        lambda: [a.text() for a in window.extensions.actions("bouncy")] == ["Count balls (v2)"],
        timeout=5000,
    )
    assert [d.windowTitle() for d in window.extensions.docks("bouncy")] == ["Bounce stats"]


def test_a_raising_editor_extension_rolls_the_whole_reload_back(make_window, write_plugin, qtbot):
    write_plugin("bouncy/editor_ext.py", "editor_ext_v1.py")
    window = make_window(profile=BuildProfile.DEBUG_HR)
    ball_class = type(window.edited_scene.find("Ball A").scripts[0])
    write_plugin("bouncy/editor_ext.py", "editor_ext_broken.py")
    qtbot.waitUntil(lambda: bool(window.game.reports), timeout=5000)
    report = window.game.reports[-1]
    assert not report.ok and "editor code broke" in report.error
    assert [a.text() for a in window.extensions.actions("bouncy")] == ["Count balls"]
    assert type(window.edited_scene.find("Ball A").scripts[0]) is ball_class  # old code kept


def test_no_stale_references_to_old_code_after_reload(window, write_plugin, qtbot):
    import gc

    window.set_profile(BuildProfile.DEBUG_HR)
    window.select(window.edited_scene.find("Ball A").handle)
    window.play()
    qtbot.waitUntil(lambda: window.game.frame >= 2)
    write_plugin("bouncy/ball.py", "ball_v2.py")
    qtbot.waitUntil(lambda: bool(window.game.reports) and window.game.reports[-1].ok, timeout=5000)
    window.stop()
    gc.collect()
    assert window.game.stale_references() == []


def test_a_hot_reload_while_playing_runs_one_frame_of_the_new_code_and_no_catching_up(
    window, write_plugin, qtbot
):
    game, target = play_without_ticks(window, qtbot)
    now = fake_clock(game, target)
    reports = []
    game.on_reload(reports.append)
    # The reload took that long: no burst of frames to make up for it.
    game.on_reload(lambda report: now.__setitem__(0, now[0] + 0.3))
    frame = game.frame
    write_plugin("bouncy/ball.py", "ball_v2.py")
    qtbot.waitUntil(lambda: bool(reports))  # the editor reloads between ticks
    assert reports[-1].ok
    assert game.frame == frame + 1  # the first frame of the new code, in the reload's turn
    assert frames_of_tick(game, target, now, 0) == 0  # no time has passed since it ran
    assert frames_of_tick(game, target, now, 1.5) == 1  # (a whole step may round down)
    window.stop()


def test_a_reload_inside_a_tick_ends_its_frames_with_the_first_of_the_new_code(
    window, write_plugin, qtbot, project
):
    game, target = play_without_ticks(window, qtbot)
    # The reload is queued here, for the tick to apply: no watcher, no wake-up of the
    # code-reload controller (which would apply it at once).
    game.stop_watching()
    game.set_change_wakeup(lambda: None)
    now = fake_clock(game, target)
    frame = game.frame
    write_plugin("bouncy/ball.py", "ball_v2.py")
    game.queue_reload([str(project / "plugins" / "bouncy" / "ball.py")])
    # Frames due: the reload comes before the first; the new code's first frame ran,
    # and the tick ended. The next tick, one step on, runs one frame, not two.
    assert frames_of_tick(game, target, now, 2.5) == 1
    assert game.reports[-1].ok and game.frame == frame + 1
    assert frames_of_tick(game, target, now, 1.1) == 1
    window.stop()


def test_a_reload_while_playing_shows_the_first_frame_of_the_new_code_at_once(
    window, write_plugin, qtbot, monkeypatch
):
    """Repainting at the reload showed the frame before the save again, ahead of the new code's."""
    game, _ = play_without_ticks(window, qtbot)
    view = window.scene_view
    shown: list[tuple[str, int]] = []
    monkeypatch.setattr(view, "update", lambda: shown.append(("update", game.frame)))
    monkeypatch.setattr(view, "repaint", lambda: shown.append(("repaint", game.frame)))
    reports = []
    game.on_reload(reports.append)
    frame = game.frame
    write_plugin("bouncy/ball.py", "ball_v2.py")
    qtbot.waitUntil(lambda: bool(reports))
    assert reports[-1].ok
    # The new code's first frame ran and was painted at once; nothing showed the one before.
    assert shown == [("update", frame + 1), ("repaint", frame + 1)]
    # Paused, no frame is coming: the reload repaints by itself.
    window.toggle_pause()
    shown.clear()
    write_plugin("bouncy/ball.py", "ball_v1.py")
    qtbot.waitUntil(lambda: len(reports) == 2)
    assert reports[-1].ok
    assert shown and game.frame == frame + 1
    window.stop()
