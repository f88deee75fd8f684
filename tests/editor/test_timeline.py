"""The timeline under the scene view: scrubbing, rewinding and replaying an in-editor game."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox, QWidget

from editor.controllers.look_ahead import EDITOR_DEFAULT_FRAMES
from editor.play import PlayState
from editor.timeline import TimelineBar, TimelineRange
from runtime import BuildProfile, Color

KEPT = TimelineRange(first=100, live=700, dt=1 / 60, keyframes=(120, 180, 240))


@pytest.fixture
def bar(qtbot) -> TimelineBar:
    b = TimelineBar()
    qtbot.addWidget(b)
    b.resize(900, 30)
    b.show()
    qtbot.waitExposed(b)
    return b


def test_a_bar_without_history_is_disabled_and_says_why(bar) -> None:
    assert not bar.isEnabled()
    assert "nothing is playing" in bar.toolTip()
    bar.show_range(KEPT)
    assert bar.isEnabled() and bar.unavailable_reason is None
    bar.set_unavailable("recording is off")
    assert not bar.isEnabled() and "recording is off" in bar.toolTip()
    assert bar.track.range is None


def test_a_click_on_the_track_asks_for_the_frame_under_it(qtbot, bar) -> None:
    bar.show_range(KEPT)
    track = bar.track
    x = round(track.x_of(400))
    with qtbot.waitSignal(bar.frameRequested) as blocker:
        qtbot.mouseClick(track, Qt.MouseButton.LeftButton, pos=QPoint(x, track.height() // 2))
    assert abs(blocker.args[0] - 400) <= 1
    with qtbot.waitSignal(bar.frameRequested) as blocker:
        qtbot.mouseClick(track, Qt.MouseButton.LeftButton, pos=QPoint(-50, 5))
    assert blocker.args == [KEPT.first]  # clamped to the kept range


def test_keys_on_the_focused_track_step_a_frame_and_go_to_the_ends(qtbot, bar) -> None:
    bar.show_range(KEPT)
    bar.show_scrub(300)
    track = bar.track
    for key, frame in (
        (Qt.Key.Key_Left, 299),
        (Qt.Key.Key_Right, 301),
        (Qt.Key.Key_Home, KEPT.first),
        (Qt.Key.Key_End, KEPT.live),
    ):
        with qtbot.waitSignal(bar.frameRequested) as blocker:
            qtbot.keyClick(track, key)
        assert blocker.args == [frame]


def test_the_readout_and_the_buttons_follow_the_frame_shown(bar) -> None:
    bar.show_range(KEPT)
    assert bar.readout.text() == "live · frame 700 · 10.0 s kept"
    assert not bar.replay_button.isEnabled() and not bar.continue_button.isEnabled()
    assert "pick a past frame" in bar.replay_button.toolTip()
    bar.show_scrub(640)
    assert bar.readout.text() == "frame 640 · 1.00 s ago"
    assert bar.replay_button.isEnabled() and bar.continue_button.isEnabled()
    bar.show_scrub(None)
    assert not bar.replay_button.isEnabled()


def test_a_narrow_bar_shows_the_buttons_icons_alone(qtbot, bar) -> None:
    assert bar.replay_button.toolButtonStyle() is Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    bar.resize(bar.minimumWidth(), 40)
    qtbot.waitUntil(
        lambda: bar.replay_button.toolButtonStyle() is Qt.ToolButtonStyle.ToolButtonIconOnly
    )
    assert bar.continue_button.toolButtonStyle() is Qt.ToolButtonStyle.ToolButtonIconOnly
    bar.resize(900, 40)
    qtbot.waitUntil(
        lambda: bar.replay_button.toolButtonStyle() is Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    )


# --- the timeline of a game playing in the editor --------------------------------------------


def _choose_profile(window, profile: BuildProfile) -> None:
    combo = window.findChild(QComboBox, "buildProfileCombo")
    combo.setCurrentIndex(combo.findData(profile.value))
    assert window.profile is profile


def _click(qtbot, widget) -> None:
    assert widget.isEnabled(), widget.objectName()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _state(scene) -> dict[str, tuple]:
    """What the balls are at: position and velocity, by name."""
    return {
        e.name: (e.position, e.scripts[0].velocity, e.scripts[0].bounces)
        for e in scene
        if e.scripts and type(e.scripts[0]).__name__ == "Ball"
    }


def _play_seconds(window, qtbot, frames: int) -> None:
    window.play()
    qtbot.waitUntil(lambda: window.game.frame >= 2)
    window.game.step(frames)  # game time at once, recorded like live frames


def test_the_timeline_is_disabled_until_a_game_plays_in_the_editor(window, qtbot) -> None:
    bar = window.timeline.bar
    assert not bar.isEnabled() and "nothing is playing" in bar.toolTip()
    assert not window.window_actions.timeline_back.isEnabled()
    window.play()
    qtbot.waitUntil(lambda: bar.isEnabled())
    assert window.timeline.kept_range() is not None
    window.timeline.scrub(window.game.frame - 1)
    window.stop()  # from a past frame: back to the edited scene, as always
    assert not bar.isEnabled() and "nothing is playing" in bar.toolTip()
    assert window.timeline.scrubbed_frame is None
    assert window.scene_view.scene is window.edited_scene


def test_the_timeline_says_why_when_the_project_records_nothing(make_window, project, qtbot):
    toml = project / "hotplay.toml"
    toml.write_text(toml.read_text() + "\n[history]\nseconds = 0\n")
    window = make_window(profile=BuildProfile.DEBUG)
    window.play()
    qtbot.waitUntil(lambda: window.game.frame >= 2)
    window.timeline.refresh()
    bar = window.timeline.bar
    assert not bar.isEnabled()
    assert "[history] seconds = 0" in bar.toolTip()
    assert not window.timeline.scrub(0)


def test_scrubbing_shows_a_past_frame_and_leaves_the_live_game_alone(window, qtbot) -> None:
    _play_seconds(window, qtbot, 180)
    live_scene = window.play_controller.target.scene
    live = _state(live_scene)
    frame = window.game.frame
    window.select(live_scene.find("Ball A").handle)

    assert window.timeline.scrub(frame - 90)

    assert window.play_state is PlayState.PAUSED
    shown = window.scene_view.scene
    assert shown is not live_scene
    assert _state(shown) != live  # 1.5 s earlier: the balls were elsewhere
    assert window.game.frame == frame and _state(live_scene) == live
    # The selection follows into the past, read-only.
    assert window.selected_handle == live_scene.find("Ball A").handle
    assert window.inspector.mode == "preview"
    assert not window.findChild(QWidget, "positionEditor").isEnabled()
    assert window.timeline.bar.readout.text() == f"frame {frame - 90} · 1.50 s ago"
    assert window.window_actions.timeline_back.isEnabled()

    window.window_actions.timeline_back.trigger()
    assert window.timeline.scrubbed_frame == frame - 91
    window.window_actions.timeline_live.trigger()
    assert window.timeline.scrubbed_frame is None
    assert window.scene_view.scene is live_scene and window.game.frame == frame
    assert window.inspector.mode == "paused"


def _count_rebuilds(window, monkeypatch) -> list[int]:
    """The frames the game rebuilds from a keyframe from now on, in order."""
    rebuilds: list[int] = []
    real_rebuild = window.game.replayed_aside

    def rebuild(at: int):
        rebuilds.append(at)
        return real_rebuild(at)

    monkeypatch.setattr(window.game, "replayed_aside", rebuild)
    return rebuilds


def test_a_drag_over_the_bar_shows_the_last_frame_asked_for_once(window, qtbot, monkeypatch):
    _play_seconds(window, qtbot, 120)
    frame = window.game.frame
    previews = _count_rebuilds(window, monkeypatch)
    bar = window.timeline.bar
    for at in (frame - 10, frame - 20, frame - 30):  # mouse moves, queued together
        bar.frameRequested.emit(at)
    assert bar.track.scrub == frame - 30  # the handle follows at once
    qtbot.waitUntil(lambda: window.timeline.scrubbed_frame == frame - 30)
    assert previews == [frame - 30]
    assert window.play_state is PlayState.PAUSED


def test_stepping_forward_through_the_past_plays_on_from_the_frame_shown(
    window, qtbot, monkeypatch
):
    _play_seconds(window, qtbot, 120)
    window.toggle_pause()
    frame = window.game.frame - window.game.frame % 60 + 5  # just after a keyframe
    real_rebuild = window.game.replayed_aside
    rebuilds = _count_rebuilds(window, monkeypatch)
    assert window.timeline.scrub(frame - 60)
    for _ in range(10):  # the "next frame" action, or a drag to the right
        assert window.timeline.step_by(1)
    assert window.timeline.scrubbed_frame == frame - 50
    assert rebuilds == [frame - 60]  # one keyframe read back, then frames played on
    assert _state(window.scene_view.scene) == _state(real_rebuild(frame - 50).scene)


def test_continue_live_from_a_past_frame_rewinds_the_game_there(window, qtbot) -> None:
    _play_seconds(window, qtbot, 120)
    window.toggle_pause()
    frame = window.game.frame
    window.timeline.scrub(frame - 60)
    past = _state(window.scene_view.scene)

    _click(qtbot, window.timeline.bar.continue_button)

    assert window.play_state is PlayState.PLAYING
    assert window.timeline.scrubbed_frame is None
    live_scene = window.play_controller.target.scene
    assert window.scene_view.scene is live_scene
    window.toggle_pause()
    assert window.game.frame < frame
    # Rewound to the frame shown: played on from there, the state is that frame's, moved on.
    window.timeline.scrub(frame - 60)
    assert _state(window.scene_view.scene) == past


def test_resume_from_a_past_frame_is_continue_live(window, qtbot) -> None:
    _play_seconds(window, qtbot, 120)
    frame = window.game.frame
    window.timeline.scrub(frame - 60)
    window.play()  # Play (F5) on a past frame: from there
    assert window.play_state is PlayState.PLAYING
    window.toggle_pause()
    assert window.game.frame < frame


def test_replay_from_here_after_a_fix_plays_the_same_seconds_with_the_new_code(
    window, write_plugin, qtbot
) -> None:
    _choose_profile(window, BuildProfile.DEBUG_HR)
    _play_seconds(window, qtbot, 120)
    live_scene = window.play_controller.target.scene
    frame = window.game.frame
    window.timeline.scrub(frame - 60)
    assert window.play_state is PlayState.PAUSED
    recorded = _state(live_scene)

    write_plugin("bouncy/ball.py", "ball_v2.py")  # the "fix": the same movement, green
    qtbot.waitUntil(lambda: bool(window.game.reports) and window.game.reports[-1].ok, timeout=5000)
    assert window.game.frame == frame  # paused: the reload ran, no frame did
    # The past frame shown is read again under the new code.
    qtbot.waitUntil(lambda: hasattr(window.scene_view.scene.find("Ball A").scripts[0], "frames_v2"))
    assert window.timeline.scrubbed_frame == frame - 60
    _click(qtbot, window.timeline.bar.replay_button)

    assert window.play_state is PlayState.PLAYING
    window.toggle_pause()
    ball = window.play_controller.target.scene.find("Ball A")
    # The 60 recorded frames ran again under v2: it counted them and turned green...
    assert ball.scripts[0].frames_v2 >= 60
    assert ball.visual.color == Color(0, 255, 0)
    # ...and, the movement being the same, the balls came to where they had been.
    assert window.timeline.scrub(frame)
    assert _state(window.scene_view.scene) == recorded


def test_a_reload_the_new_code_fails_ahead_is_refused_and_logged_once(
    window, write_plugin, qtbot
) -> None:
    assert window.game.look_ahead_frames == EDITOR_DEFAULT_FRAMES  # on in the editor
    _choose_profile(window, BuildProfile.DEBUG_HR)
    _play_seconds(window, qtbot, 30)
    old_class = type(window.scene_view.scene.find("Ball A").scripts[0])
    rows = len(window.log_panel.entries)

    write_plugin("bouncy/ball.py", "ball_raises_later.py")
    qtbot.waitUntil(lambda: bool(window.game.reports), timeout=5000)

    report = window.game.reports[-1]
    assert not report.ok and "refused" in str(report)
    assert "ZeroDivisionError" in report.error and "ball.py:15" in report.error
    errors = [e for e in window.log_panel.entries[rows:] if e.level >= logging.ERROR]
    assert len(errors) == 1 and "ball.py:15" in errors[0].message
    assert window.status.message.property("kind") == "error"
    # The game goes on with the old code.
    ball = window.play_controller.target.scene.find("Ball A")
    assert type(ball.scripts[0]) is old_class
    frame, pos = window.game.frame, ball.position
    qtbot.waitUntil(lambda: window.game.frame > frame + 3)
    assert ball.position != pos and window.play_state is PlayState.PLAYING


def test_look_ahead_is_a_project_setting_of_the_play_menu(make_window, project, qtbot) -> None:
    window = make_window(profile=BuildProfile.DEBUG)
    menu = window.look_ahead.menu
    checked = [a for a in menu.actions() if a.isChecked()]
    assert [a.data() for a in checked] == [EDITOR_DEFAULT_FRAMES]
    off = next(a for a in menu.actions() if a.data() == 0)
    off.trigger()
    assert window.game.look_ahead_frames == 0
    assert window.project_settings.value("lookAheadFrames") in (0, "0")
    window.close()
    # The choice is the project's, in .hotplay/settings.ini: the next window keeps it.
    again = make_window(profile=BuildProfile.DEBUG, project_settings=window.project_settings)
    assert again.game.look_ahead_frames == 0


def test_the_project_file_sets_the_editor_default(make_window, project, qtbot) -> None:
    toml = project / "hotplay.toml"
    toml.write_text(toml.read_text() + "\n[reload]\nlook_ahead_frames = 12\n")
    window = make_window(profile=BuildProfile.DEBUG)
    assert window.game.look_ahead_frames == 12
    (mine,) = [a for a in window.look_ahead.menu.actions() if a.isChecked()]
    assert mine.data() == 12 and "the project's" in mine.text()
