"""The timeline under the scene view: scrubbing, rewinding and replaying an in-editor game."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from editor.timeline import TimelineBar, TimelineRange

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
