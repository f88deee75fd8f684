"""Game code cannot freeze or end the editor: budgets, exits, ctx.quit(), stray threads.

Cases that would freeze or end the test process on an editor without these
guards run the editor in a child Python with a timeout (`run_editor`); the
others use the window fixture.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from editor.play import PlayState
from runtime import BuildProfile
from tests.budget_projects import BUDGET, SPAWNER, counter_project, spawner
from tests.conftest import REPO_ROOT, entity, script

#: Seconds an editor child may take; one that freezes is killed then, and the test fails.
CHILD_TIMEOUT = 60


def make_game_project(
    root: Path, files: dict[str, str], *scripts: str, budget: float = BUDGET
) -> Path:
    entities = [entity(i + 2, f"E{i}", scripts=[script(s)]) for i, s in enumerate(scripts)]
    return counter_project(root, files, *entities, budget=budget)


# --- in the test process ----------------------------------------------------------------------

QUITTER = """
from runtime import Script


class Quitter(Script):
    frames: int = 0

    def on_update(self, ctx, dt):
        self.frames += 1
        if self.frames == 5:
            ctx.quit()
"""


def test_ctx_quit_stops_play_in_the_editor(make_window, qtbot, tmp_path):
    root = make_game_project(tmp_path / "game", {"quitter.py": QUITTER}, "game.quitter:Quitter")
    window = make_window(root, profile=BuildProfile.DEBUG)
    window.play()
    assert window.play_state is PlayState.PLAYING
    qtbot.waitUntil(lambda: window.play_state is PlayState.STOPPED, timeout=5000)
    assert window.scene_view.scene is window.edited_scene
    assert "quit" in window.status.message.text()
    window.play()  # a new Play starts afresh
    assert window.play_state is PlayState.PLAYING
    qtbot.waitUntil(lambda: window.game.frame >= 2, timeout=5000)
    window.stop()


# Each script keeps well within the budget; together they take a frame past it.
CROWD = """
import time
from runtime import Script


class Busy(Script):
    def on_update(self, ctx, dt):
        end = time.perf_counter() + 0.004
        while time.perf_counter() < end:
            pass
"""


@pytest.mark.parametrize("answer", ["Resume", "Stop"])
def test_a_frame_over_budget_pauses_play_and_asks_resume_or_stop(
    make_window, qtbot, tmp_path, answer
):
    root = make_game_project(
        tmp_path / "game", {"crowd.py": CROWD}, *["game.crowd:Busy"] * 30, budget=0.05
    )
    window = make_window(root, profile=BuildProfile.DEBUG)
    controller = window.play_controller
    window.play()
    qtbot.waitUntil(lambda: controller.halt_box is not None, timeout=10_000)
    box = controller.halt_box
    assert box.isVisible() and "frame over budget" in box.text()
    assert window.game.halt_reason is not None
    frame = window.game.frame
    qtbot.wait(100)
    assert window.game.frame == frame  # paused while the question is open
    (button,) = [b for b in box.buttons() if b.text() == answer]
    if answer == "Stop":
        button.click()
        qtbot.waitUntil(lambda: window.play_state is PlayState.STOPPED, timeout=5000)
        assert window.scene_view.scene is window.edited_scene
        return
    window.game.guard.budget = None  # resumed for good: nothing pauses it again
    button.click()
    qtbot.waitUntil(lambda: window.game.frame > frame, timeout=5000)
    assert window.play_state is PlayState.PLAYING and controller.halt_box is None
    window.stop()


#: `CROWD` with one script whose frame takes three fixed steps (1/60 s each): the game cannot
#: keep up with real time.
SLOW = CROWD.replace("0.004", "0.05")


def test_a_game_slower_than_real_time_runs_one_frame_per_turn_of_the_editor(
    make_window, qtbot, tmp_path
):
    root = make_game_project(tmp_path / "game", {"crowd.py": SLOW}, "game.crowd:Busy")
    window = make_window(root, profile=BuildProfile.DEBUG)
    window.play()
    game, ran, last = window.game, [], [0]

    def on_frame_advanced():
        ran.append(game.frame - last[0])
        last[0] = game.frame

    window.play_controller.target.frameAdvanced.connect(on_frame_advanced)
    last[0] = game.frame
    qtbot.waitUntil(lambda: len(ran) >= 8, timeout=10_000)
    window.stop()
    # Catching up would run three or four frames a turn (0.2 s); the editor turns after each.
    assert ran[1:] == [1] * (len(ran) - 1), ran


def test_the_editors_timers_run_between_two_frames_of_a_game_slower_than_real_time(
    make_window, qtbot, tmp_path
):
    root = make_game_project(tmp_path / "game", {"crowd.py": SLOW}, "game.crowd:Busy")
    window = make_window(root, profile=BuildProfile.DEBUG)
    window.play()
    seen: list[str] = []

    def on_frame_advanced():
        seen.append("frame")
        # Due 1 ms from now, long before the next frame is (1/60 s).
        QTimer.singleShot(1, lambda: seen.append("timer"))

    window.play_controller.target.frameAdvanced.connect(on_frame_advanced)
    qtbot.waitUntil(lambda: seen.count("frame") >= 10, timeout=10_000)
    window.stop()
    qtbot.waitUntil(lambda: seen.count("timer") == seen.count("frame"))
    assert seen == ["frame", "timer"] * (len(seen) // 2), seen


# --- in a child editor ---------------------------------------------------------------------------

# Opens the editor on argv[1] (settings in argv[2]), runs the scenario in argv[3] while a
# 20 ms timer measures how long the event loop is ever blocked; prints JSON.
EDITOR_CHILD = """
import json, logging, os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from pathlib import Path
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

app = QApplication([])
from editor import MainWindow
from editor.recovery import RecoveryChoice
from runtime import BuildProfile

errors = []


class Errors(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.ERROR:
            errors.append(record.getMessage())


logging.getLogger().addHandler(Errors())
window = MainWindow(
    sys.argv[1],
    settings=QSettings(sys.argv[2], QSettings.Format.IniFormat),
    profile=BuildProfile.parse(os.environ["PROFILE"]),
    recovery_policy=lambda info: RecoveryChoice.LATER,
)
window.ask_unsaved_changes = lambda: "discard"
window.show()
longest = [0.0]
last = [time.perf_counter()]


def beat():
    now = time.perf_counter()
    longest[0] = max(longest[0], now - last[0])
    last[0] = now


heart = QTimer()
heart.timeout.connect(beat)
heart.start(20)
result = {}


def wait(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


exec(sys.argv[3])
heart.stop()
result["longest_block"] = longest[0]
result["errors"] = errors
window.close()
print(json.dumps(result))
"""


def run_editor(
    root: Path,
    tmp_path: Path,
    scenario: str,
    profile: str = "debug",
    timeout: float = CHILD_TIMEOUT,
) -> dict[str, Any]:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            EDITOR_CHILD,
            str(root),
            str(tmp_path / "settings.ini"),
            textwrap.dedent(scenario),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        env={**os.environ, "PROFILE": profile},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


LOOPER = """
from runtime import Script


class Looper(Script):
    frames: int = 0

    def on_update(self, ctx, dt):
        self.frames += 1
        if self.frames == 10:
            while True:
                pass
"""

PLAY_FOR_A_WHILE = """
window.play()
last[0], longest[0] = time.perf_counter(), 0.0  # from here on: starting Play is not the game
wait(2.0)
result["state"] = window.play_state.value
result["count"] = window.scene_view.scene.find("Counter").scripts[0].count
window.stop()
"""


def test_an_endless_loop_in_play_is_interrupted_and_the_editor_stays_responsive(tmp_path):
    root = make_game_project(tmp_path / "game", {"looper.py": LOOPER}, "game.looper:Looper")
    out = run_editor(root, tmp_path, PLAY_FOR_A_WHILE)
    assert out["state"] == "playing"
    assert out["count"] > 30  # the other scripts went on
    assert out["longest_block"] < BUDGET + 0.5
    (error,) = [e for e in out["errors"] if "paused" in e]
    assert "looper.py" in error and "ran for longer than 0.3 s" in error


def test_every_object_of_a_looping_class_costs_the_editor_one_budget_at_a_time(tmp_path):
    root = make_game_project(tmp_path / "game", {"looper.py": LOOPER}, *["game.looper:Looper"] * 5)
    out = run_editor(root, tmp_path, PLAY_FOR_A_WHILE)
    assert out["state"] == "playing"
    assert out["longest_block"] < BUDGET + 0.5  # not one budget per object in one frame
    assert len([e for e in out["errors"] if "paused" in e]) == 5


@pytest.mark.parametrize("how", ["import sys; sys.exit()", "raise KeyboardInterrupt"])
def test_an_exit_in_play_is_a_script_error_not_the_end_of_the_editor(tmp_path, how):
    source = LOOPER.replace("while True:\n                pass", how)
    root = make_game_project(tmp_path / "game", {"looper.py": source}, "game.looper:Looper")
    out = run_editor(root, tmp_path, PLAY_FOR_A_WHILE)
    assert out["state"] == "playing" and out["count"] > 30
    (error,) = [e for e in out["errors"] if "paused" in e]
    assert "looper.py" in error and "GameExit" in error


def test_a_runaway_spawner_does_not_make_the_editor_unresponsive(tmp_path):
    root = make_game_project(tmp_path / "game", {"spawner.py": SPAWNER}, "game.spawner:Spawner")
    out = run_editor(root, tmp_path, PLAY_FOR_A_WHILE.replace("2.0", "4.0"))
    assert out["longest_block"] < BUDGET + 0.5
    assert out["count"] > 10  # the game went on (the spawner paused, or the game asked)


# Plays until the scene holds `entities`, resuming whenever a frame over budget pauses the
# game (a user who insists), then saves `fix` (a spawner that spawns nothing) and stops.
SPAWN_UNTIL = """
from PySide6.QtCore import QModelIndex
from editor.scene_tree import HANDLE_ROLE


def answer_resume():
    box = window.play_controller.halt_box
    if box is not None:
        (resume,) = [b for b in box.buttons() if b.text() == "Resume"]
        resume.click()


def play_until(done, seconds):
    deadline = time.perf_counter() + seconds
    while not done() and time.perf_counter() < deadline:
        answer_resume()
        wait(0.05)


def tree_shows_scene():
    model = window.scene_tree.scene_model()
    scene = window.scene_view.scene
    if scene.roots:
        model.expose(scene.roots[-1])  # fetches every root, as scrolling to the end does

    def rows(parent):
        indexes = [model.index(r, 0, parent) for r in range(model.rowCount(parent))]
        return [(i.data(HANDLE_ROLE), rows(i)) for i in indexes]

    def entities(handles):
        return [(int(h), entities(scene[h].children)) for h in handles]

    return rows(QModelIndex()) == entities(scene.roots)


reports = []
window.game.on_reload(reports.append)
window.play()
last[0], longest[0] = time.perf_counter(), 0.0  # from here on: starting Play is not the game
scene = window.scene_view.scene
play_until(lambda: len(scene) >= {entities}, 60)
result["spawning_block"] = longest[0]
result["entities"] = len(scene)
result["count"] = scene.find("Counter").scripts[0].count

target = Path(sys.argv[1]) / "plugins" / "game" / "spawner.py"
target.write_text({fix!r})
play_until(lambda: any(r.ok for r in reports), 30)
frame = window.game.frame
play_until(lambda: window.game.frame >= frame + 3, 30)  # the fixed code has run
grown = len(scene)
play_until(lambda: window.game.frame >= frame + 6, 30)
result["fixed"] = len(scene) == grown and window.game.frame >= frame + 6
result["reports"] = [str(r) for r in reports]
result["tree_after_fix"] = tree_shows_scene()
window.stop()
result["tree_after_stop"] = window.scene_view.scene is window.edited_scene and tree_shows_scene()
"""


def test_a_spawner_left_running_to_60000_entities_never_blocks_the_editor(tmp_path):
    # 1,000 spawns a frame reach 60,000 entities in 60 frames: the same scene as the
    # issue's 200 a frame, in a fifth of the frames (each a little slower than the last).
    root = make_game_project(
        tmp_path / "game", {"spawner.py": spawner(1000)}, "game.spawner:Spawner"
    )
    # A frame of 60,000 Busy scripts is over the budget wherever it runs: the look-ahead
    # would refuse the fix for it. The fix itself, and the tree after it, are the subject.
    with (root / "hotplay.toml").open("a", encoding="utf-8") as toml:
        toml.write("[reload]\nlook_ahead_frames = 0\n")
    scenario = SPAWN_UNTIL.format(entities=60_000, fix=spawner(0))
    out = run_editor(root, tmp_path, scenario, profile="debug-hr", timeout=4 * CHILD_TIMEOUT)
    assert out["entities"] >= 60_000, out  # the spawner really got there
    assert out["spawning_block"] < BUDGET + 0.5
    assert out["count"] > 10  # the game went on
    assert out["fixed"], out["reports"]  # the save that fixes the spawner stops it
    assert out["tree_after_fix"] and out["tree_after_stop"]


EDITOR_RELOAD = """
target = Path(sys.argv[1]) / "plugins" / "game" / "counter.py"
reports = []
window.game.on_reload(reports.append)
target.write_text(target.read_text() + "\\nwhile True:\\n    pass\\n")
deadline = time.perf_counter() + 20
while not reports and time.perf_counter() < deadline:
    wait(0.05)
result["bad"] = [reports[0].ok, reports[0].error] if reports else None
target.write_text(target.read_text().replace("while True:\\n    pass\\n", "X = 1\\n"))
deadline = time.perf_counter() + 20
while len(reports) < 2 and time.perf_counter() < deadline:
    wait(0.05)
result["fixed"] = reports[1].ok if len(reports) > 1 else None
"""


def test_the_editors_own_reload_of_a_module_that_loops_is_rolled_back(tmp_path):
    root = make_game_project(tmp_path / "game", {})
    out = run_editor(root, tmp_path, EDITOR_RELOAD, profile="debug-hr")
    assert out["bad"] is not None, "the editor never reported the reload"
    ok, error = out["bad"]
    # The editor's import check meets the loop first, in its own process, under
    # the project's budget; the editor's copy of the code never runs it.
    assert not ok and re.search(r"counter\.py:1[01]\b", error), error
    assert "still running after 0.3 s" in error
    assert out["fixed"] is True  # the save that fixes it is seen and reloads
    assert out["longest_block"] < BUDGET + 0.5


def test_a_thread_a_plugin_leaves_running_does_not_keep_the_editor_alive(tmp_path):
    source = """
        import threading
        import time

        threading.Thread(target=time.sleep, args=(3600,), name="forever").start()
    """
    root = make_game_project(tmp_path / "game", {"__init__.py": source})
    proc = subprocess.run(
        [sys.executable, "-m", "editor", str(root)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "HOTPLAY_EDITOR_EXIT_AFTER_SHOW": "1",
            "HOME": str(tmp_path),  # the editor's settings and recovery files stay here
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
        },
    )
    assert proc.returncode == 0, proc.stderr
    assert "thread 'forever' started by game code is still running" in proc.stderr


# --- editor extensions ----------------------------------------------------------------------

# A plugin's editor extensions; the one at `PLACE` misbehaves, in `misbehave`.
EXTENSIONS = """
import sys

from runtime import Script

PLACE = {place!r}


def misbehave():
    {fault}


class Tuned(Script):
    speed: float = 1.0


def command():
    if PLACE == "command":
        misbehave()


def panel():
    if PLACE == "dock":
        misbehave()
    from PySide6.QtWidgets import QLabel

    return QLabel("panel")


def accepts(annotation):
    if PLACE == "field editor":
        misbehave()
    return False


def register_editor(editor):
    if PLACE == "register_editor":
        misbehave()
    editor.add_menu_command("Misbehave", command)
    editor.add_dock("Panel", panel)
    editor.add_field_editor(accepts, lambda annotation, scene: None)
"""

FAULTS = {
    "raise": ('raise RuntimeError("extension broke")', "RuntimeError: extension broke"),
    "loop": ("while True:\n        pass", "ran for longer than 0.3 s"),
    "exit": ("sys.exit(3)", "sys.exit(3)"),
}

USE_EXTENSIONS = """
from PySide6.QtWidgets import QWidget

last[0], longest[0] = time.perf_counter(), 0.0
for action in window.extensions.actions("game"):
    action.trigger()
    wait(0.05)
tuned = window.edited_scene.find("Tuned").handle
for _ in range(2):  # the inspector builds the script's field editors each time
    window.select(None)
    wait(0.05)
    window.select(tuned)
    wait(0.2)
speed = window.inspector.findChild(QWidget, "field:speed")
result["speed_editor"] = type(speed).__name__ if speed is not None else None
result["actions"] = [a.text() for a in window.extensions.actions("game")]
result["docks"] = [d.windowTitle() for d in window.extensions.docks("game")]
"""

#: How the error names each misbehaving extension, and the commands and docks then installed.
EXTENSION_CASES = {
    "register_editor": ("register_editor raised", [], []),
    "command": ("command 'Misbehave' raised", ["Misbehave"], ["Panel"]),
    "dock": ("dock 'Panel' raised", ["Misbehave"], []),
    "field editor": ("field editor (accepts) raised", ["Misbehave"], ["Panel"]),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("place", list(EXTENSION_CASES))
def test_a_misbehaving_editor_extension_is_reported_and_the_editor_goes_on(tmp_path, place, fault):
    code, expected = FAULTS[fault]
    tuned = entity(2, "Tuned", scripts=[script("game.tools:Tuned")])
    root = counter_project(
        tmp_path / "game", {"tools.py": EXTENSIONS.format(place=place, fault=code)}, tuned
    )
    written = (root / "plugins" / "game" / "tools.py").read_text().splitlines()
    line = written.index("def misbehave():") + 2
    out = run_editor(root, tmp_path, USE_EXTENSIONS)
    named, actions, docks = EXTENSION_CASES[place]
    assert (out["actions"], out["docks"]) == (actions, docks)
    (error,) = [e for e in out["errors"] if "plugin game:" in e]  # reported once
    assert named in error and expected in error, error
    assert re.search(rf"tools\.py:{line}\b", error), (line, error)
    assert out["longest_block"] < BUDGET + 0.5
    assert out["speed_editor"] == "FloatEditor"  # the inspector's own editor took over


RELOAD_LOOPING_EXTENSION = """
target = Path(sys.argv[1]) / "plugins" / "game" / "tools.py"
reports = []
window.game.on_reload(reports.append)
last[0], longest[0] = time.perf_counter(), 0.0
target.write_text(target.read_text().replace("PLACE = 'none'", "PLACE = 'register_editor'"))
deadline = time.perf_counter() + 20
while not reports and time.perf_counter() < deadline:
    wait(0.05)
result["report"] = [reports[0].ok, reports[0].error] if reports else None
result["actions"] = [a.text() for a in window.extensions.actions("game")]
"""


def test_a_reload_whose_register_editor_loops_is_rolled_back(tmp_path):
    code, _ = FAULTS["loop"]
    source = EXTENSIONS.format(place="none", fault=code)
    root = counter_project(tmp_path / "game", {"tools.py": source})
    out = run_editor(root, tmp_path, RELOAD_LOOPING_EXTENSION, profile="debug-hr")
    assert out["report"] is not None, "the editor never reported the reload"
    ok, error = out["report"]
    assert not ok and "register_editor raised" in error, out
    assert "ran for longer than 0.3 s" in error
    assert "tools.py:" in error, error
    assert out["actions"] == ["Misbehave"]  # the previous generation's command is still there
    assert out["longest_block"] < BUDGET + 0.5
