"""The inspector is rebuilt once per hot reload, after the reload, not inside it."""

from runtime import BuildProfile


def _count_rebuilds(window) -> list[int]:
    rebuilds: list[int] = []
    window.inspector.rebuilt.connect(lambda: rebuilds.append(len(window.game.reports)))
    return rebuilds


def _reload_ball(window, write_plugin, qtbot) -> int:
    """Save a new version of the ball script; return the number of reloads it caused."""
    before = len(window.game.reports)
    write_plugin("bouncy/ball.py", "ball_v2.py")
    qtbot.waitUntil(lambda: "frames_v2" in window.inspector.shown_fields(0), timeout=5000)
    assert window.game.reports[-1].ok
    return len(window.game.reports) - before


def test_one_inspector_rebuild_per_reload_while_editing(make_window, write_plugin, qtbot):
    window = make_window(profile=BuildProfile.DEBUG_HR)
    window.select(window.edited_scene.find("Ball A").handle)
    rebuilds = _count_rebuilds(window)

    reloads = _reload_ball(window, write_plugin, qtbot)

    assert reloads >= 1
    # Every rebuild came after its reload was reported, never inside it.
    assert rebuilds == [len(window.game.reports)] * reloads


def test_one_inspector_rebuild_per_reload_while_playing(make_window, write_plugin, qtbot):
    window = make_window(profile=BuildProfile.DEBUG_HR)
    window.play()
    window.toggle_pause()  # no frames: only the reload can rebuild the inspector
    window.select(window.shown.scene.find("Ball A").handle)
    rebuilds = _count_rebuilds(window)

    reloads = _reload_ball(window, write_plugin, qtbot)

    assert reloads >= 1
    assert rebuilds == [len(window.game.reports)] * reloads
    window.stop()
