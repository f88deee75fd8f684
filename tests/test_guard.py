"""Game code is untrusted: budgets, exits, ``ctx.quit()``, stray threads, monkeypatching.

Every case that would hang or end the test process on a runtime without these
guards runs in a child Python with a timeout (`run_child`), so the suite itself
can never hang; the rest run here.
"""

from __future__ import annotations

import gc
import json
import re
import signal
import subprocess
import sys
import textwrap
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

import runtime.guard
import runtime.reload
from runtime import BuildProfile, Game
from runtime.game import Game as GameClass
from runtime.guard import BudgetInterrupt, CallGuard
from runtime.player import PlayerSession
from runtime.project import Project, ProjectError

from .budget_projects import BUDGET, COUNTER, SPAWNER, budget_toml, counter_project
from .conftest import REPO_ROOT, entity, script, write_project
from .fake_editor import FakeEditor
from .no_qt import runtime_command

#: Seconds a child may take; on a runtime that does not interrupt game code it hangs until then.
CHILD_TIMEOUT = 30

BUDGET_TOML = budget_toml()

# Runs a game of the project in argv[1] for argv[2] frames; prints what happened as JSON.
STEP_GAME = """
import json, logging, sys, time
from runtime import Game

errors = []


class Errors(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.ERROR:
            errors.append(record.getMessage())


logging.getLogger().addHandler(Errors())
with Game(sys.argv[1]) as game:
    started = time.perf_counter()
    game.step(int(sys.argv[2]))
    took = time.perf_counter() - started
    counter = game.scene.find("Counter")
    count = counter.scripts[0].count if counter is not None else -1
    print(json.dumps({"took": took, "frame": game.frame, "count": count, "errors": errors}))
"""


def run_child(code: str, *args: str) -> dict[str, Any]:
    """Run `code` in a child Python (cwd: the repository); return the JSON of its last line."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        cwd=REPO_ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def lines_of(source: str, *needles: str) -> set[int]:
    """The line numbers (as `write_project` writes `source`) of lines containing a needle."""
    text = textwrap.dedent(source).lstrip("\n")
    return {i for i, line in enumerate(text.splitlines(), 1) if any(n in line for n in needles)}


def assert_interrupted_at(message: str, file: str, lines: set[int]) -> None:
    assert "ran for longer than 0.3 s" in message, message
    found = re.search(rf"{re.escape(file)}:(\d+)", message)
    assert found is not None and int(found.group(1)) in lines, message


def project_with(tmp_path: Path, files: dict[str, str], *entities: dict[str, Any]) -> Path:
    return counter_project(tmp_path / "project", files, *entities)


# --- endless loops in hooks -------------------------------------------------------------------

LOOPING_HOOKS = {
    "on_update": """
        from runtime import Script


        class Culprit(Script):
            def on_update(self, ctx, dt):
                while True:
                    pass
    """,
    "on_init": """
        from runtime import Script


        class Culprit(Script):
            def on_init(self, ctx):
                while True:
                    pass
    """,
    "on_start": """
        from runtime import Script


        class Culprit(Script):
            def on_start(self, ctx):
                while True:
                    pass
    """,
    "timer": """
        from runtime import Script


        class Culprit(Script):
            def on_start(self, ctx):
                ctx.after(0.0, self.spin)

            def spin(self, ctx):
                while True:
                    pass
    """,
    "on_message": """
        from runtime import Script


        class Culprit(Script):
            def on_start(self, ctx):
                ctx.send(ctx.handle, "hello")

            def on_message(self, ctx, message):
                while True:
                    pass
    """,
    "plugin on_update": """
        from runtime import Plugin


        class Culprit(Plugin):
            def on_update(self, ctx, dt):
                while True:
                    pass
    """,
}


@pytest.mark.parametrize("hook", list(LOOPING_HOOKS))
def test_an_endless_loop_in_a_hook_is_interrupted_and_its_script_paused(tmp_path, hook):
    source = LOOPING_HOOKS[hook]
    culprit = [] if hook.startswith("plugin") else [script("game.culprit:Culprit")]
    root = project_with(tmp_path, {"culprit.py": source}, entity(2, "Culprit", scripts=culprit))
    out = run_child(STEP_GAME, str(root), "5")
    assert out["frame"] == 5 and out["count"] == 5  # the game went on; so did the others
    assert out["took"] < BUDGET + 1.5  # interrupted once, then paused: not once a frame
    (error,) = [e for e in out["errors"] if "paused" in e]
    assert_interrupted_at(error, "culprit.py", lines_of(source, "while True", "pass"))


def test_game_code_that_swallows_the_interrupt_is_interrupted_again(tmp_path):
    source = """
        from runtime import Script


        class Culprit(Script):
            def on_update(self, ctx, dt):
                for _ in range(3):
                    try:
                        while True:
                            pass
                    except BaseException:
                        pass
                while True:
                    pass
    """
    root = project_with(
        tmp_path, {"culprit.py": source}, entity(2, "C", scripts=[script("game.culprit:Culprit")])
    )
    out = run_child(STEP_GAME, str(root), "3")
    assert out["frame"] == 3 and out["count"] == 3
    assert any("ran for longer than" in e for e in out["errors"])


# --- exits ------------------------------------------------------------------------------------

EXITS = {
    "sys.exit()": "import sys\n                sys.exit()",
    "sys.exit(3)": "import sys\n                sys.exit(3)",
    "KeyboardInterrupt": "raise KeyboardInterrupt",
    "GeneratorExit": "raise GeneratorExit",
}


@pytest.mark.parametrize("how", list(EXITS))
def test_exits_from_game_code_are_that_scripts_error_in_a_game(tmp_path, how):
    source = f"""
        from runtime import Script


        class Culprit(Script):
            def on_update(self, ctx, dt):
                {EXITS[how]}
    """
    root = project_with(
        tmp_path, {"culprit.py": source}, entity(2, "C", scripts=[script("game.culprit:Culprit")])
    )
    out = run_child(STEP_GAME, str(root), "4")
    assert out["frame"] == 4 and out["count"] == 4
    (error,) = [e for e in out["errors"] if "paused" in e]
    assert "culprit.py" in error and "GameExit" in error


# --- reloads under the budget -------------------------------------------------------------------

# Reloads argv[1]'s plugins after writing argv[2] over plugins/game/counter.py, then the fix.
RELOAD_GAME = """
import json, sys, time
from pathlib import Path
from runtime import Game

root = Path(sys.argv[1])
target = root / "plugins" / "game" / "counter.py"
with Game(root) as game:
    game.step(2)
    target.write_text(sys.argv[2])
    started = time.perf_counter()
    bad = game.reload()
    took = time.perf_counter() - started
    game.step(2)
    old_code_count = game.scene.find("Counter").scripts[0].count
    target.write_text(sys.argv[3])
    fixed = game.reload()
    game.step(1)
    print(json.dumps({
        "ok": bad.ok, "error": bad.error, "took": took, "old_code_count": old_code_count,
        "fixed": fixed.ok, "count": game.scene.find("Counter").scripts[0].count,
    }))
"""

FIXED = COUNTER.replace("self.count += 1", "self.count += 100")

BAD_RELOADS = {
    "module level loop": COUNTER + "\nwhile True:\n    pass\n",
    "on_after_reload loop": COUNTER
    + "\n    def on_after_reload(self, ctx, report):\n        while True:\n            pass\n",
    "module level sys.exit": COUNTER + "\nimport sys\nsys.exit(3)\n",
}


@pytest.mark.parametrize("case", list(BAD_RELOADS))
def test_a_reload_that_loops_or_exits_is_rolled_back_naming_the_line(tmp_path, case):
    root = project_with(tmp_path, {})
    bad = textwrap.dedent(BAD_RELOADS[case]).lstrip("\n")
    out = run_child(RELOAD_GAME, str(root), bad, textwrap.dedent(FIXED).lstrip("\n"))
    assert not out["ok"]
    assert out["old_code_count"] == 4  # rolled back: the old code ran on
    assert out["fixed"] and out["count"] == 104  # the save that fixes it reloads
    if "exit" in case:
        assert "counter.py" in out["error"] and "sys.exit(3)" in out["error"]
        return
    assert out["took"] < BUDGET + 1.5
    assert "\n" not in out["error"]
    assert_interrupted_at(out["error"], "counter.py", lines_of(bad, "while True", "pass"))


# A reload that adds an endless on_before_reload, then the save that removes it.
BEFORE_LOOP_GAME = """
import json, sys
from pathlib import Path
from runtime import Game

root = Path(sys.argv[1])
target = root / "plugins" / "game" / "counter.py"
with Game(root) as game:
    game.step(2)
    target.write_text(sys.argv[2])
    added = game.reload()
    game.step(2)
    target.write_text(sys.argv[3])
    removed = game.reload()
    game.step(1)
    print(json.dumps({
        "added": added.ok, "removed": removed.ok,
        "warnings": [str(n) for n in removed.warnings],
        "count": game.scene.find("Counter").scripts[0].count,
    }))
"""


def test_an_endless_on_before_reload_is_interrupted_and_the_save_removing_it_loads(tmp_path):
    # The hook that runs is the old code's: were its overrun a rollback, no save
    # could ever remove it. It is a warning; the state is saved as it was.
    root = project_with(tmp_path, {})
    looping = textwrap.dedent(COUNTER).lstrip("\n") + (
        "\n    def on_before_reload(self, ctx):\n        while True:\n            pass\n"
    )
    out = run_child(BEFORE_LOOP_GAME, str(root), looping, textwrap.dedent(FIXED).lstrip("\n"))
    assert out["added"] and out["removed"]
    assert any("on_before_reload" in w and "longer than" in w for w in out["warnings"])
    assert out["count"] == 104  # 4 frames of old code kept, then the new code's step


# --- a frame over budget ------------------------------------------------------------------------

#: Well above one spawner call (200 spawns: 10-20 ms, several times that on a loaded machine,
#: where a tighter budget interrupts the call itself), well below a frame of the flooded scene.
SPAWNER_BUDGET = 0.1


def test_a_runaway_spawner_pauses_the_game_until_resumed(tmp_path):
    root = write_project(
        tmp_path / "project",
        plugins={"game": {"spawner.py": SPAWNER}},
        scene=[entity(1, "Spawner", scripts=[script("game.spawner:Spawner")])],
    )
    heard: list[str] = []
    with Game(root, budget=SPAWNER_BUDGET) as game:
        game.on_halt(heard.append)
        for _ in range(1000):
            game.step(1)
            if game.halt_reason is not None:
                break
        assert heard and "frame over budget" in heard[0]
        assert game.halt_reason == heard[0]
        frame = game.frame
        game.step(5)
        assert game.frame == frame  # paused: no frame runs
        game.resume_after_halt()
        game.guard.budget = None  # resumed, with nothing left to stop it
        game.step(2)
        assert game.frame == frame + 2


def test_the_headless_player_reports_a_frame_over_budget_and_goes_on(tmp_path):
    root = write_project(
        tmp_path / "project",
        plugins={"game": {"spawner.py": SPAWNER}},
        scene=[entity(1, "Spawner", scripts=[script("game.spawner:Spawner")])],
    )
    out = StringIO()
    with Game(root, budget=SPAWNER_BUDGET) as game:
        session = PlayerSession(game, out=out)
        for _ in range(1000):
            session.tick(1)
            if "paused: frame over budget" in out.getvalue():
                break
        assert "paused: frame over budget" in out.getvalue()
        frame = game.frame
        game.guard.budget = None
        session.tick(1)
        assert game.frame == frame + 1 and not session.paused  # alone, it goes on


# --- ctx.quit() ------------------------------------------------------------------------------

QUITTER = """
from runtime import Script


class Quitter(Script):
    frames: int = 0

    def on_update(self, ctx, dt):
        self.frames += 1
        if self.frames == 3:
            ctx.quit()
"""


def test_ctx_quit_ends_the_game_after_the_frame(tmp_path):
    root = project_with(
        tmp_path, {"quitter.py": QUITTER}, entity(2, "Q", scripts=[script("game.quitter:Quitter")])
    )
    heard: list[str] = []
    with Game(root) as game:
        game.on_quit(heard.append)
        game.step(10)
        assert game.frame == 3 and heard == ["Quitter called ctx.quit()"]
        assert game.quit_reason == heard[0]
        assert game.scene.find("Counter").scripts[0].count == 3  # the frame finished
        game.stop()
        assert game.quit_reason is None  # the next play starts afresh


# --- the player -------------------------------------------------------------------------------


def play(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*runtime_command(), "play", "--project", str(root), "--headless", *args],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )


@pytest.mark.parametrize("how", ["ctx.quit()", "sys.exit(3)"])
def test_the_player_ends_cleanly_with_its_summary_when_game_code_quits(tmp_path, how):
    source = QUITTER.replace("ctx.quit()", how).replace("from runtime", "import sys\nfrom runtime")
    root = project_with(
        tmp_path, {"quitter.py": source}, entity(2, "Q", scripts=[script("game.quitter:Quitter")])
    )
    proc = play(root, "--frames", "100", "--no-realtime")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("ran 3 frames"), proc.stdout


@pytest.mark.parametrize("how", ["KeyboardInterrupt", "GeneratorExit"])
def test_the_player_goes_on_when_game_code_raises_an_exit(tmp_path, how):
    source = f"""
        from runtime import Script


        class Culprit(Script):
            def on_update(self, ctx, dt):
                raise {how}
    """
    root = project_with(
        tmp_path, {"culprit.py": source}, entity(2, "C", scripts=[script("game.culprit:Culprit")])
    )
    proc = play(root, "--frames", "30", "--no-realtime")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("ran 30 frames"), proc.stdout
    assert f"{how} raised by game code" in proc.stderr


def test_the_player_interrupts_an_endless_loop_and_goes_on(tmp_path):
    root = project_with(
        tmp_path,
        {"culprit.py": LOOPING_HOOKS["on_update"]},
        entity(2, "C", scripts=[script("game.culprit:Culprit")]),
    )
    proc = play(root, "--frames", "30", "--no-realtime", "--budget", "0.2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("ran 30 frames"), proc.stdout
    assert "ran for longer than 0.2 s" in proc.stderr and "culprit.py" in proc.stderr


def test_a_thread_game_code_leaves_running_does_not_keep_the_player_alive(tmp_path):
    source = """
        import threading
        import time
        from runtime import Plugin


        class Threads(Plugin):
            def on_init(self, ctx):
                threading.Thread(target=time.sleep, args=(3600,), name="forever").start()
    """
    root = project_with(tmp_path, {"__init__.py": source})
    proc = play(root, "--frames", "5", "--no-realtime")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("ran 5 frames")
    assert "thread 'forever' started by game code is still running" in proc.stderr


def test_budgets_are_a_project_setting_and_off_in_release_unless_asked_for(tmp_path):
    from runtime.player import player_budget

    root = write_project(tmp_path / "a", toml=BUDGET_TOML)
    project = Project.open(root)
    assert project.budget_seconds == BUDGET and not project.budget_in_release
    assert player_budget(None, BuildProfile.DEBUG, project) == BUDGET
    assert player_budget(None, BuildProfile.RELEASE, project) is None
    assert player_budget(1.5, BuildProfile.RELEASE, project) == 1.5
    assert player_budget(0, BuildProfile.DEBUG, project) is None
    on = write_project(tmp_path / "b", toml=BUDGET_TOML + "in_release = true\n")
    assert player_budget(None, BuildProfile.RELEASE, Project.open(on)) == BUDGET
    assert Project.open(write_project(tmp_path / "c")).budget_seconds == 2.0
    off = write_project(tmp_path / "d", toml="[budget]\nseconds = 0\n")
    assert Project.open(off).budget_seconds is None
    bad = write_project(tmp_path / "e", toml='[budget]\nseconds = "long"\n')
    with pytest.raises(ProjectError, match="seconds"):
        Project.open(bad)


# --- monkeypatching ---------------------------------------------------------------------------

PATCHES = {
    "runtime.reload.reload_plugins": (
        "import runtime.reload\n\n\ndef _broken(*args, **kwargs):\n"
        '    raise RuntimeError("patched")\n\n\nruntime.reload.reload_plugins = _broken\n'
    ),
    "Game._frame": "from runtime.game import Game\n\nGame._frame = lambda self: None\n",
}


@pytest.mark.parametrize("patched", list(PATCHES))
def test_a_plugin_that_monkeypatches_the_engine_cannot_break_hot_reload(
    tmp_path, monkeypatch, patched
):
    # Put the originals back after the test, whatever the code under test does.
    monkeypatch.setattr(runtime.reload, "reload_plugins", runtime.reload.reload_plugins)
    monkeypatch.setattr(GameClass, "_frame", GameClass.__dict__["_frame"])
    root = project_with(tmp_path, {})
    counter_py = root / "plugins" / "game" / "counter.py"
    with Game(root) as game:
        game.step(1)
        counter_py.write_text(textwrap.dedent(COUNTER).lstrip("\n") + "\n" + PATCHES[patched])
        assert game.reload().ok
        game.step(1)
        assert game.scene.find("Counter").scripts[0].count == 2  # frames still run
        counter_py.write_text(textwrap.dedent(FIXED).lstrip("\n"))  # the patch removed
        report = game.reload()
        assert report.ok, report.details()
        game.step(1)
        assert game.scene.find("Counter").scripts[0].count == 102  # the new code runs


def test_the_users_ctrl_c_still_ends_the_player_while_game_code_runs(tmp_path):
    # Game code raising KeyboardInterrupt is its own error; the terminal's Ctrl+C is not.
    source = """
        import time
        from runtime import Script


        class Busy(Script):
            def on_update(self, ctx, dt):
                if ctx.frame == 3:
                    print("ready", flush=True)
                end = time.perf_counter() + 0.03
                while time.perf_counter() < end:
                    pass
    """
    root = project_with(
        tmp_path, {"busy.py": source}, entity(2, "B", scripts=[script("game.busy:Busy")])
    )
    proc = subprocess.Popen(
        [*runtime_command(), "play", "--project", str(root), "--headless"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=CHILD_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=CHILD_TIMEOUT)
    assert proc.returncode == 0, err
    assert out.splitlines()[-1].startswith("ran "), out
    assert "raised in" not in err and "GameExit" not in err


def test_an_endless_loop_in_on_after_reload_of_a_rolled_back_reload_is_interrupted(tmp_path):
    # The old objects hear of the failure through on_after_reload: game code, on a budget too.
    old = COUNTER + (
        "\n    def on_before_reload(self, ctx):\n        pass\n"
        "\n    def on_after_reload(self, ctx, report):\n"
        "        while not report.ok:\n            pass\n"
    )
    root = project_with(tmp_path, {"counter.py": old})
    bad = textwrap.dedent(COUNTER).lstrip("\n") + '\nraise RuntimeError("broken")\n'
    out = run_child(RELOAD_GAME, str(root), bad, textwrap.dedent(FIXED).lstrip("\n"))
    assert not out["ok"] and "broken" in out["error"]
    assert out["took"] < BUDGET + 1.5
    assert out["old_code_count"] == 4 and out["fixed"] and out["count"] == 104


CROWD = """
import time
from runtime import Script


class Busy(Script):
    def on_update(self, ctx, dt):
        end = time.perf_counter() + 0.004
        while time.perf_counter() < end:
            pass
"""


def test_the_editors_child_pauses_on_a_frame_over_budget_until_the_editor_resumes(tmp_path):
    crowd = [entity(i, f"B{i}", scripts=[script("game.crowd:Busy")]) for i in range(2, 32)]
    root = project_with(tmp_path, {"crowd.py": CROWD}, *crowd)
    fe = FakeEditor(root, "--budget", "0.05", command=runtime_command())
    try:
        fe.accept()
        fe.next("log", lambda m: "frame over budget" in m["message"])
        paused = fe.next("stats", lambda m: m["paused"])
        fe.send("resume")
        fe.next("stats", lambda m: m["frame"] > paused["frame"])  # it ran on when told to
        fe.send("stop")
        code, out, err = fe.finish()
    finally:
        fe.close()
    assert code == 0, err
    assert "paused: frame over budget" in out


def test_a_hook_called_from_inside_another_is_the_one_paused_when_it_loops(tmp_path):
    source = """
        from runtime import Script


        class Spawner(Script):
            frames: int = 0

            def on_update(self, ctx, dt):
                self.frames += 1
                if self.frames == 1:
                    ctx.spawn("Culprit", scripts=[Culprit()])
                ctx.entity.name = f"Spawner {self.frames}"


        class Culprit(Script):
            def on_init(self, ctx):
                while True:
                    pass
    """
    root = project_with(
        tmp_path, {"spawner.py": source}, entity(2, "S", scripts=[script("game.spawner:Spawner")])
    )
    out = run_child(STEP_GAME, str(root), "5")
    assert out["frame"] == 5 and out["count"] == 5
    (error,) = [e for e in out["errors"] if "paused" in e]
    assert "game.spawner:Culprit" in error and "raised in on_init" in error, error
    assert_interrupted_at(error, "spawner.py", lines_of(source, "while True", "pass"))


def test_a_patch_made_before_the_first_reload_does_not_take_hot_reload_over(tmp_path):
    # A fresh process: the engine has not looked the transaction up before the plugin
    # replaced it while the game started.
    patched = (
        textwrap.dedent(COUNTER).lstrip("\n") + "\n" + PATCHES["runtime.reload.reload_plugins"]
    )
    root = project_with(tmp_path, {"counter.py": patched})
    out = run_child(
        """
        import json, sys
        from pathlib import Path
        from runtime import Game

        with Game(sys.argv[1]) as game:
            game.step(1)
            target = Path(sys.argv[1]) / "plugins" / "game" / "counter.py"
            target.write_text(sys.argv[2])
            report = game.reload()
            game.step(1)
            count = game.scene.find("Counter").scripts[0].count
            print(json.dumps({"ok": report.ok, "count": count}))
        """,
        str(root),
        textwrap.dedent(FIXED).lstrip("\n"),
    )
    assert out == {"ok": True, "count": 101}


@pytest.mark.parametrize("hook", ["on_update", "timer"])
def test_game_code_that_swallows_the_interrupt_and_returns_is_still_paused(tmp_path, hook):
    source = """
        from runtime import Script


        class Culprit(Script):
            def on_start(self, ctx):
                ctx.every(1 / 60, self.tick)

            def on_update(self, ctx, dt):
                if HOOK == "on_update":
                    self.spin()

            def tick(self, ctx):
                if HOOK == "timer":
                    self.spin()

            def spin(self):
                try:
                    while True:
                        pass
                except BaseException:
                    return
    """.replace("HOOK", repr(hook))
    root = project_with(
        tmp_path, {"culprit.py": source}, entity(2, "C", scripts=[script("game.culprit:Culprit")])
    )
    out = run_child(STEP_GAME, str(root), "10")
    assert out["frame"] == 10 and out["count"] == 10
    assert out["took"] < BUDGET + 1.5  # paused after the first overrun, not one per frame
    (error,) = [e for e in out["errors"] if "paused" in e]
    assert_interrupted_at(error, "culprit.py", lines_of(source, "while True", "pass"))


def test_the_watch_of_the_update_loop_never_runs_game_code_on_its_own_thread(tmp_path):
    # The monitor tells the loop's steps apart while scripts run. Two scripts of one
    # entity whose class defines __eq__: comparing their steps by value would call it
    # on the monitor's thread, where game code must never run.
    source = """
        import logging
        import threading
        import time

        from runtime import Script


        class Proud(Script):
            def on_update(self, ctx, dt):
                time.sleep(0.02)  # long enough for the monitor to see each step

            def __eq__(self, other):
                if threading.current_thread() is not threading.main_thread():
                    logging.getLogger("test").error("__eq__ ran on the monitor's thread")
                return self is other

            __hash__ = Script.__hash__
    """
    proud = script("game.proud:Proud")
    root = project_with(tmp_path, {"proud.py": source}, entity(2, "Twins", scripts=[proud, proud]))
    out = run_child(STEP_GAME, str(root), "6")
    assert out["frame"] == 6 and out["count"] == 6
    assert out["errors"] == []


def test_the_monitor_keeps_no_script_of_old_code_alive_while_it_sleeps(tmp_path):
    # The monitor saw each step of the update loop (an entry of the update list, holding
    # its script). Kept in the monitor's frame while it slept, the last one held the old
    # code's script past the reload that replaced it, and so its class and module.
    slow = """
        import time

        from runtime import Script


        class Slow(Script):
            def on_update(self, ctx, dt):
                time.sleep(0.05)  # the monitor looks every 15 ms: it sees this step
    """
    root = project_with(
        tmp_path, {"slow.py": slow}, entity(2, "Slow", scripts=[script("game.slow:Slow")])
    )
    slow_py = root / "plugins" / "game" / "slow.py"
    with GameClass(root, profile=BuildProfile.DEBUG_HR, watch=False) as game:
        game.step(2)
        slow_py.write_text(textwrap.dedent(slow).replace("0.05", "0.001"), encoding="utf-8")
        report = game.reload([str(slow_py)])
        assert report.ok, report.details()
        gc.collect()
        assert game.generations.alive() == [], game.stale_references()


@pytest.fixture
def collections_seen():
    """The generations of the automatic and explicit collections that run, as they start."""
    seen: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    thresholds = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's defaults: a collection every 700 allocations
    gc.callbacks.append(note)
    yield seen
    gc.callbacks.remove(note)
    gc.set_threshold(*thresholds)


def allocate(n: int = 20_000) -> list[list[int]]:
    return [[] for _ in range(n)]


def test_the_older_generations_wait_until_a_call_under_a_budget_ends(collections_seen):
    # A full collection walks the whole heap from whatever allocation sets it off,
    # typically in a call that did little itself: that call is not the one to pause.
    # The youngest generation is still collected in it: a short walk.
    guard = CallGuard(budget=30.0)
    try:
        seen_inside: list[list[int]] = []
        kept: list[list[list[int]]] = []

        def game_code() -> None:
            before = len(collections_seen)
            kept.append(allocate(200_000))
            seen_inside.append(collections_seen[before:])
            ended.append(len(collections_seen))

        ended: list[int] = []
        assert guard.call(game_code) is None
        (inside,) = seen_inside
        assert inside and set(inside) == {0}  # 200,000 lists: young collections only
        assert gc.get_threshold() == (700, 10, 10)  # the thresholds are back
        # The older generation that fell due was collected as the call ended.
        assert max(collections_seen[ended[0] :], default=0) >= 1
    finally:
        guard.close()


def test_game_codes_own_collections_and_thresholds_are_its_own(collections_seen):
    guard = CallGuard(budget=30.0)
    try:

        def game_code() -> None:
            gc.collect()  # asked for: it runs (and is timed as the call's own)
            gc.set_threshold(gc.get_threshold()[0] * 4, 7, 7)

        assert guard.call(game_code) is None
        assert collections_seen == [2]
        assert gc.get_threshold() == (2_800, 7, 7)  # what game code set stays
    finally:
        guard.close()


def test_without_a_budget_collections_run_where_they_fall(collections_seen):
    guard = CallGuard(budget=None)
    try:
        assert guard.call(allocate, 200_000) is None
        assert max(collections_seen) >= 1  # Release without budgets: as Python runs it
    finally:
        guard.close()


def test_the_update_loop_holds_the_older_generations_until_the_frame_ends(
    tmp_path, collections_seen
):
    source = """
        from runtime import Script

        KEPT = []


        class Maker(Script):
            def on_update(self, ctx, dt):
                KEPT.append([[] for _ in range(3_000)])
    """
    maker = script("game.maker:Maker")
    entities = [entity(i + 2, f"M{i}", scripts=[maker]) for i in range(10)]
    root = project_with(tmp_path, {"maker.py": source}, *entities)
    with GameClass(root, profile=BuildProfile.DEBUG, watch=False) as game:
        game.step(1)
        guard = game.guard
        watch_loop, stop_loop = guard.watch_loop, guard.stop_loop
        at_start: list[int] = []
        in_loop: list[list[int]] = []

        def watching() -> Any:
            at_start.append(len(collections_seen))
            return watch_loop()

        def stopping(call: Any) -> None:
            in_loop.append(collections_seen[at_start[-1] :])
            stop_loop(call)

        guard.watch_loop, guard.stop_loop = watching, stopping  # type: ignore[method-assign]
        game.step(3)
        # 30,000 lists a frame: young collections in the loop, the older ones after it.
        assert len(in_loop) == 3 and all(seen and set(seen) == {0} for seen in in_loop)
        allocate(1_000)  # the engine's allocations after a frame
        assert max(collections_seen[at_start[0] :]) >= 1


def test_a_frame_the_engine_fails_in_gives_the_collector_back(tmp_path, monkeypatch):
    root = project_with(tmp_path, {}, entity(2, "Plain"))
    with GameClass(root, profile=BuildProfile.DEBUG, watch=False) as game:
        game.step(1)
        thresholds = gc.get_threshold()

        def fail() -> None:
            assert gc.get_threshold()[1] > thresholds[1]  # held while the frame runs
            raise RuntimeError("an engine bug")

        monkeypatch.setattr(game, "_fire_timers", fail)
        with pytest.raises(RuntimeError, match="an engine bug"):
            game.step(1)
        assert gc.get_threshold() == thresholds


def test_an_interrupt_delivered_as_a_watch_ends_still_gives_the_collector_back(monkeypatch):
    # The monitor fired just as the watched span ended: the interrupt is delivered on the
    # way into its withdrawal, and leaves `_stop` early. The collector is released anyway.
    thresholds = gc.get_threshold()
    guard = CallGuard(budget=30.0)
    try:
        watch = guard.watch()
        assert gc.get_threshold() != thresholds  # held
        guard._fired = guard._call

        def delivered(thread: int, exc: Any) -> None:
            raise BudgetInterrupt

        monkeypatch.setattr(runtime.guard, "_set_async_exc", delivered)
        with pytest.raises(BudgetInterrupt):
            watch.end()
        assert gc.get_threshold() == thresholds
    finally:
        guard.close()


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_older_generations_that_fall_due_while_held_are_collected_after(collections_seen):
    # As the engine runs: the young threshold is high (tune_gc), few allocations fall
    # between frames, so the young collections that would look at the older
    # generations all start inside frames, held. The release collects what fell due.
    gc.set_threshold(2_000, 5, 5)
    kept: list[Cycle] = []
    young_counts = []
    for _ in range(300):
        runtime.guard.hold_collections("frame")
        kept.extend(Cycle() for _ in range(1_000))
        del kept[:-10_000]  # cycles live ten frames, then are garbage
        runtime.guard.release_collections("frame")
        young_counts.append(gc.get_count()[1])
    assert max(collections_seen) >= 1, "no older generation was collected"
    assert max(young_counts) <= 5 + 1  # never far past its threshold


def test_a_hold_a_call_left_behind_is_taken_back_by_the_next_call():
    # Ctrl+C between the hold and the watch: the hold outlives its call.
    thresholds = gc.get_threshold()
    stranded = runtime.guard._Call(0, 0.0)
    assert runtime.guard.hold_collections(stranded)
    guard = CallGuard(budget=30.0)
    try:
        assert guard.call(allocate, 10) is None
        assert runtime.guard._holder is None
        assert gc.get_threshold() == thresholds
    finally:
        guard.close()
