"""Code the editor has never run is first imported in a disposable check process.

The hostile imports (``os._exit``, ``sys.exit``, a segfault, an endless loop, an
abort at module level) run in a child Python process with a timeout: if the check
let one through, that child would die or hang, never the test run.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from runtime import Game
from runtime.import_check import ImportChecker

from .conftest import REPO_ROOT, entity, script

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process checks")

BALL_V1 = """
    from runtime import Script

    class Ball(Script):
        speed: float = 1.0
        version = 1

        def on_update(self, ctx, dt):
            ctx.entity.position = ctx.entity.position + (self.speed, 0)
"""

BALL_V2 = BALL_V1.replace("version = 1", "version = 2")

#: Module-level code that ends or hangs the process importing it, and the line refusing it.
HOSTILE = {
    "os_exit": (
        "import os\nos._exit(1)\n",
        "importing plugins/bouncy/ball.py ended the check process: exit code 1",
    ),
    "sys_exit": (
        "import sys\n\nsys.exit(3)\n",
        "importing plugins/bouncy/ball.py ended the check process: SystemExit(3) at ball.py:3",
    ),
    "segfault": (
        "import ctypes\nx = 1\nctypes.string_at(0)\n",
        "importing plugins/bouncy/ball.py ended the check process: segfault at ball.py:3",
    ),
    "endless_loop": (
        "x = 0\nwhile True:\n    x += 1\n",
        "importing plugins/bouncy/ball.py hung the check process: still running after 1 s "
        "at ball.py:",
    ),
    "abort": (
        "import os\n\n\nos.abort()\n",
        "importing plugins/bouncy/ball.py ended the check process: abort at ball.py:4",
    ),
}

# Runs in a child process: a game with an import check reloads a hostile save, then a good one.
SURVIVOR = """
import json, sys
from pathlib import Path
from runtime import Game
from runtime.import_check import ImportChecker

root, hostile, good = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
ball = root / "plugins" / "bouncy" / "ball.py"
with ImportChecker(budget=1.0) as checker, Game(root, import_check=checker.check) as game:
    game.step(3)
    old_class = type(game.scene[1].scripts[0])
    ball.write_text(hostile)
    refused = game.reload([str(ball)])
    game.step(3)
    kept = type(game.scene[1].scripts[0]) is old_class and old_class.version == 1
    position = game.scene[1].position.x
    ball.write_text(good)
    fixed = game.reload([str(ball)])
    print(json.dumps({
        "refused_ok": refused.ok,
        "error": refused.error,
        "recorded": game.reports[-2] is refused,
        "kept_old_code": kept,
        "moved": position,
        "fixed_ok": fixed.ok,
        "new_version": type(game.scene[1].scripts[0]).version,
    }))
"""


# Runs in a child process: a sequence of good and hostile saves of one live plugin.
MIXED_SAVES = """
import json, sys
from pathlib import Path
from runtime import Game
from runtime.import_check import ImportChecker

root, sequence, hostile = Path(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
good = (
    "from runtime import Script\\n\\n"
    "class Ball(Script):\\n"
    "    hits: int = 0\\n"
    "    version = {v}\\n\\n"
    "    def on_update(self, ctx, dt):\\n"
    "        self.hits += {v}\\n"
)
ball = root / "plugins" / "bouncy" / "ball.py"
ball.write_text(good.format(v=1))
log = []
with ImportChecker(budget=0.3) as checker, Game(root, import_check=checker.check) as game:
    version = 1
    for case in sequence:
        hits = game.scene[1].scripts[0].hits
        if case == "good":
            version += 1
            ball.write_text(good.format(v=version))
        else:
            ball.write_text(hostile[case])
        report = game.reload([str(ball)])
        script = game.scene[1].scripts[0]
        kept = script.hits == hits
        game.step(1)
        log.append({
            "case": case, "ok": report.ok, "error": report.error,
            "version": type(script).version, "expected": version,
            "kept": kept, "stepped": script.hits == hits + version,
        })
print(json.dumps(log))
"""


def ball_project(make_project, source: str = BALL_V1) -> Path:
    return make_project(
        plugins={"bouncy": {"ball.py": source}},
        scene=[entity(1, "Ball", scripts=[script("bouncy.ball:Ball")])],
    )


def run_isolated(code: str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter; the test fails, never hangs, when it does."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )


def wait_for_exit(pid: int, timeout: float) -> bool:
    """Whether process `pid` (not a child of ours) is gone within `timeout` seconds."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        return bool(ready)
    finally:
        os.close(fd)


def children_of(pid: int) -> list[int]:
    """The child processes of `pid` (Linux)."""
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_save_that_would_end_the_process_is_refused_and_the_old_code_runs_on(make_project, case):
    root = ball_project(make_project)
    hostile, line = HOSTILE[case]
    done = run_isolated(SURVIVOR, str(root), hostile, textwrap.dedent(BALL_V2))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["refused_ok"] is False
    assert out["error"].startswith(line), out["error"]
    assert "\n" not in out["error"]
    assert out["recorded"]  # reported like any failed reload: history and listeners
    assert out["kept_old_code"]
    assert out["moved"] == pytest.approx(6.0)  # the old on_update ran on, 3 + 3 frames
    assert out["fixed_ok"] and out["new_version"] == 2  # the next good save reloads


def test_a_random_mix_of_good_and_hostile_saves_never_ends_the_game(make_project):
    root = ball_project(make_project)
    hostile = {case: source for case, (source, _line) in HOSTILE.items()}
    sequence = [*HOSTILE, *HOSTILE, *["good"] * 12]
    random.Random(13).shuffle(sequence)
    args = (json.dumps(sequence), json.dumps(hostile))
    done = run_isolated(MIXED_SAVES, str(root), *args, timeout=120)
    assert done.returncode == 0, done.stderr
    saves = json.loads(done.stdout)
    assert [s["case"] for s in saves] == sequence
    for i, save in enumerate(saves):
        if save["case"] == "good":
            assert save["ok"], (i, save)
        else:
            assert not save["ok"], (i, save)
            assert save["error"].startswith(HOSTILE[save["case"]][1].replace("1 s", "0.3 s"))
        # The game runs the latest good code, its state carried across every save.
        assert save["version"] == save["expected"], (i, save)
        assert save["kept"] and save["stepped"], (i, save)


def test_a_plugin_that_ends_the_process_at_start_up_is_left_out(make_project):
    root = make_project(
        plugins={
            "good": {
                "__init__.py": "from runtime import Script\n\nclass Fine(Script):\n    pass\n"
            },
            "bad": {"__init__.py": "from . import boom\n", "boom.py": "import os\nos._exit(7)\n"},
        },
    )
    done = run_isolated(
        """
        import json, sys
        from runtime import Game
        from runtime.import_check import ImportChecker

        with ImportChecker() as checker, Game(sys.argv[1], import_check=checker.check) as game:
            loaded = sorted(game.plugins.plugins)
            print(json.dumps({"loaded": loaded, "errors": game.plugins.errors}))
        """,
        str(root),
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["loaded"] == ["good"]
    assert out["errors"] == {
        # The innermost file being imported is named, not only the package.
        "bad": "importing plugins/bad/boom.py ended the check process: exit code 7"
    }


def test_a_good_save_reloads_through_the_check(make_project):
    root = ball_project(make_project)
    with ImportChecker() as checker, Game(root, import_check=checker.check) as game:
        (root / "plugins" / "bouncy" / "ball.py").write_text(textwrap.dedent(BALL_V2))
        report = game.reload()
        assert report.ok, report.error
        assert type(game.scene[1].scripts[0]).version == 2


def test_an_exception_at_import_is_left_to_the_reload_to_report(make_project):
    root = ball_project(make_project)
    with ImportChecker() as checker:
        # An ordinary exception cannot hurt the editor: its own reload reports it
        # with the traceback, as without a check.
        (root / "plugins" / "bouncy" / "ball.py").write_text("raise ValueError('nope')\n")
        assert checker.check(root / "plugins", ["bouncy"]) == {}


def test_only_the_culprit_is_refused_and_the_other_plugins_are_still_checked(make_project):
    root = make_project(
        plugins={
            "a_first": "import os\nos._exit(2)\n",
            "b_second": "import ctypes\nctypes.string_at(0)\n",
            "c_fine": "x = 1\n",
        }
    )
    with ImportChecker() as checker:
        refused = checker.check(root / "plugins", ["c_fine", "b_second", "a_first"])
    assert refused == {
        "a_first": "importing plugins/a_first/__init__.py ended the check process: exit code 2",
        "b_second": "importing plugins/b_second/__init__.py ended the check process: "
        "segfault at __init__.py:2",
    }


def test_a_crash_in_an_imported_module_is_named_where_it_happened(make_project):
    root = make_project(
        plugins={
            "bouncy": {
                "__init__.py": "from . import ball\n",
                "ball.py": "from . import util\n",
                "util.py": "import os\n\nos.abort()\n",
            }
        }
    )
    with ImportChecker() as checker:
        refused = checker.check(root / "plugins", ["bouncy"])
    assert refused == {
        "bouncy": "importing plugins/bouncy/util.py ended the check process: abort at util.py:3"
    }


def test_a_hang_is_stopped_at_the_budget(make_project):
    root = make_project(plugins={"stuck": "import time\nwhile True:\n    time.sleep(0.01)\n"})
    with ImportChecker(budget=0.5) as checker:
        started = time.monotonic()
        refused = checker.check(root / "plugins", ["stuck"])
        took = time.monotonic() - started
        assert refused["stuck"].startswith(
            "importing plugins/stuck/__init__.py hung the check process: still running after 0.5 s"
        )
        assert refused["stuck"].endswith("at __init__.py:3")
        assert took < 0.5 + 1.0
        assert checker.check(root / "plugins", []) == {}  # and it still serves


def test_the_spawn_method_refuses_the_same(make_project):
    root = make_project(plugins={"bad": "import sys\nsys.exit('bye')\n", "ok": "x = 1\n"})
    with ImportChecker(method="spawn") as checker:
        refused = checker.check(root / "plugins", ["bad", "ok"])
        assert refused == {
            "bad": "importing plugins/bad/__init__.py ended the check process: "
            "SystemExit('bye') at __init__.py:2"
        }
        (root / "plugins" / "bad" / "__init__.py").write_text("import os\nos._exit(4)\n")
        refused = checker.check(root / "plugins", ["bad"])
        assert refused == {
            "bad": "importing plugins/bad/__init__.py ended the check process: exit code 4"
        }


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_print_at_import_does_not_break_the_channel(make_project, method):
    root = make_project(
        plugins={"chatty": "print('x' * 100_000)\nimport sys\nprint(1, file=sys.stderr)\n"}
    )
    with ImportChecker() as checker:
        assert checker.check(root / "plugins", ["chatty"]) == {}
        assert checker.check(root / "plugins", ["chatty"]) == {}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_check_process_ends_when_the_checker_closes():
    checker = ImportChecker()
    worker = checker.wait_until_ready()  # forked ahead, waiting for a request
    server = checker.pid
    assert server is not None and children_of(server) == [worker]
    checker.close()
    assert wait_for_exit(server, 2.0)
    assert wait_for_exit(worker, 2.0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_check_process_never_outlives_the_editor():
    # A stand-in for the editor, killed with SIGKILL: nothing of it runs to clean up.
    editor = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys\n"
            "from runtime.import_check import ImportChecker\n"
            "c = ImportChecker()\n"
            "print(c.wait_until_ready(), c.pid, flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert editor.stdout is not None
        worker, server = (int(p) for p in editor.stdout.readline().split())
        assert children_of(server) == [worker]
    finally:
        editor.send_signal(signal.SIGKILL)
        editor.wait(timeout=10)
        if editor.stdin is not None:
            editor.stdin.close()
        if editor.stdout is not None:
            editor.stdout.close()
    assert wait_for_exit(server, 2.0), "the check server outlived the editor"
    assert wait_for_exit(worker, 2.0), "the waiting worker outlived the editor"


def test_a_game_without_a_check_imports_directly(make_project):
    root = ball_project(make_project)
    with Game(root) as game:
        game.set_import_check(lambda plugins_dir, names: {n: "refused" for n in names})
        report = game.reload()
        assert not report.ok and report.error == "refused"
        assert report.plugins == ("bouncy",)
        game.set_import_check(None)
        assert game.reload().ok
