"""A saved plugin whose module-level code ends the process is refused; the editor lives on.

The hostile module calls ``os._exit(1)`` in any process but the test's own: the
check process runs it for real, while an editor that imported it itself would
only get an exception here (and the test would fail), never die mid-suite.
"""

import os
import sys

import pytest

from editor.controllers.play import RUN_SEPARATE
from runtime import BuildProfile, Color

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process checks")

GREEN = Color(0, 255, 0)  # what ball_v2.py paints the balls

HOSTILE = f"""
import os

if os.getpid() == {os.getpid()}:
    raise RuntimeError("code the editor never ran was imported in the editor's own process")
os._exit(1)
"""

REFUSAL = "importing plugins/bouncy/ball.py ended the check process: exit code 1"


def write_hostile(project) -> None:
    (project / "plugins" / "bouncy" / "ball.py").write_text(HOSTILE)


def last_report(window):
    return window.game.reports[-1] if window.game.reports else None


def wait_for_refusal(window, qtbot, count: int) -> None:
    qtbot.waitUntil(lambda: window.game.reload_count > count, timeout=10000)
    report = last_report(window)
    assert not report.ok
    assert report.error == REFUSAL
    assert window.status.message.property("kind") == "error"
    assert REFUSAL in window.status.message.text()


def ball_class(window):
    return window.game.registry.resolve("bouncy.ball:Ball")


def test_the_editor_starts_its_check_process_and_ends_it_on_close(make_window):
    window = make_window(profile=BuildProfile.DEBUG)
    checker = window.import_checker
    assert checker is not None
    server = checker.pid
    assert server is not None
    window.close()
    assert window.import_checker is None
    with pytest.raises(ChildProcessError):
        os.waitpid(server, os.WNOHANG)  # reaped: it is gone, not a zombie or a live orphan


def test_a_save_that_ends_the_process_is_refused_while_editing(
    make_window, project, write_plugin, qtbot
):
    window = make_window(profile=BuildProfile.DEBUG_HR)
    old = ball_class(window)
    count = window.game.reload_count

    write_hostile(project)
    wait_for_refusal(window, qtbot, count)

    assert not window.closed
    assert ball_class(window) is old  # the editor keeps its current code
    assert type(window.edited_scene.find("Ball A").scripts[0]) is old
    window.add_entity()  # and goes on editing
    assert window.is_modified

    write_plugin("bouncy/ball.py", "ball_v2.py")
    qtbot.waitUntil(lambda: last_report(window).ok, timeout=10000)
    assert ball_class(window) is not old


def test_a_save_that_ends_the_process_is_refused_while_playing_in_editor(
    make_window, project, write_plugin, qtbot
):
    window = make_window(profile=BuildProfile.DEBUG_HR)
    window.play()
    qtbot.waitUntil(lambda: window.game.frame >= 3)
    ball = window.scene_view.scene.find("Ball A")
    old = type(ball.scripts[0])
    count = window.game.reload_count

    write_hostile(project)
    wait_for_refusal(window, qtbot, count)

    frame, position = window.game.frame, ball.position
    qtbot.waitUntil(lambda: window.game.frame > frame + 3)  # the game plays on, old code
    assert ball.position != position
    assert type(ball.scripts[0]) is old
    assert window.play_state.value == "playing"

    write_plugin("bouncy/ball.py", "ball_v2.py")
    qtbot.waitUntil(lambda: ball.visual.color == GREEN, timeout=10000)
    assert last_report(window).ok


def test_in_debug_the_refusal_comes_at_the_next_play(make_window, project, qtbot):
    window = make_window(profile=BuildProfile.DEBUG)
    old = ball_class(window)
    write_hostile(project)
    qtbot.waitUntil(window.banner.isVisible, timeout=5000)
    count = window.game.reload_count

    window.play()

    assert window.game.reload_count == count + 1
    report = last_report(window)
    assert not report.ok and report.error == REFUSAL
    assert window.play_state.value == "playing"
    assert type(window.scene_view.scene.find("Ball A").scripts[0]) is old


def test_a_separate_process_game_does_not_wait_for_the_editors_check(make_window, project, qtbot):
    window = make_window(profile=BuildProfile.DEBUG, headless_player=True)
    window.run_target_combo.setCurrentText(RUN_SEPARATE)
    write_hostile(project)
    qtbot.waitUntil(window.banner.isVisible, timeout=5000)
    player_started_first = []
    window.game.on_reload(lambda _report: player_started_first.append(window.player.running))
    count = window.game.reload_count

    window.play()  # the player loads the code from disk itself (and dies of it: its business)

    wait_for_refusal(window, qtbot, count)
    assert player_started_first == [True]
    assert not window.closed


def test_a_plugin_that_ends_the_process_is_left_out_at_start_up(make_window, project):
    write_hostile(project)

    window = make_window(profile=BuildProfile.DEBUG)

    assert "bouncy" not in window.game.plugins.plugins
    assert window.game.plugins.errors == {"bouncy": REFUSAL}
    assert REFUSAL in window.status.message.text()
    assert window.status.message.property("kind") == "error"
