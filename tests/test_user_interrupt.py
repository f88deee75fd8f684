"""The terminal's Ctrl+C ends the program even while game code runs; game code's own does not.

`runtime.guard` tells them apart by a flag its SIGINT handler sets. Game code
that raises ``KeyboardInterrupt`` has only made an error (the reload rolls
back); the user's Ctrl+C arriving while a reload hook runs must leave the
reload (and the program), whichever step the hook is in. Every case runs in a
child Python with a timeout: a SIGINT there cannot reach the test process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from .budget_projects import COUNTER, counter_project, end_child
from .conftest import REPO_ROOT
from .test_guard import run_child

#: Seconds a child may take.
CHILD_TIMEOUT = 60

# Writes argv[2] over plugins/game/counter.py, reloads, and reports how the reload ended;
# then (the code fixed by argv[3]) whether game code's own KeyboardInterrupt is still its
# error, not the user's: the flag of a Ctrl+C must not outlive the Ctrl+C.
RELOAD_UNDER_CTRL_C = """
import json, sys
from pathlib import Path
from runtime import Game

root = Path(sys.argv[1])
target = root / "plugins" / "game" / "counter.py"
out = {}
with Game(root) as game:
    game.step(2)
    target.write_text(sys.argv[2])
    try:
        report = game.reload()
        out["reload"] = ["ok" if report.ok else "rolled back", report.error]
    except KeyboardInterrupt:
        out["reload"] = ["KeyboardInterrupt", ""]
    target.write_text(sys.argv[3])
    later = game.reload()
    out["later"] = [later.ok, later.error]
print(json.dumps(out))
"""

CTRL_C = "import signal; signal.raise_signal(signal.SIGINT)"  # as the terminal sends it

#: on_after_reload of the new code (the restore step) meets the user's Ctrl+C.
IN_RESTORE = COUNTER + f"\n    def on_after_reload(self, ctx, report):\n        {CTRL_C}\n"

#: on_after_reload of the old objects after a failed reload (the rollback) meets it, once.
ROLLING_BACK = (
    COUNTER
    + "\n    def on_before_reload(self, ctx):\n        pass\n"
    + "\n    def on_after_reload(self, ctx, report):\n        global SENT\n"
    + f"        if not SENT:\n            SENT = True\n            {CTRL_C}\n"
    + "\n\nSENT = False\n"
)

#: Game code raising KeyboardInterrupt itself in on_after_reload.
GAME_CODE_RAISES = COUNTER + (
    "\n    def on_after_reload(self, ctx, report):\n        raise KeyboardInterrupt\n"
)


@pytest.mark.parametrize("step", ["restore", "rollback"])
def test_the_users_ctrl_c_in_a_reload_hook_ends_the_reload_and_reaches_the_program(tmp_path, step):
    root = counter_project(tmp_path / "project", {})
    target = root / "plugins" / "game" / "counter.py"
    if step == "rollback":
        # The running code hears of the failed reload through on_after_reload.
        target.write_text(textwrap.dedent(ROLLING_BACK))
        bad = COUNTER + "\nraise RuntimeError('broken at import')\n"
    else:
        bad = IN_RESTORE
    out = run_child(RELOAD_UNDER_CTRL_C, str(root), bad, GAME_CODE_RAISES)
    assert out["reload"][0] == "KeyboardInterrupt", out
    ok, error = out["later"]
    assert not ok and "on_after_reload raised" in error and "KeyboardInterrupt" in error, out


def test_game_codes_own_keyboard_interrupt_in_a_reload_hook_rolls_the_reload_back(tmp_path):
    root = counter_project(tmp_path / "project", {})
    out = run_child(RELOAD_UNDER_CTRL_C, str(root), GAME_CODE_RAISES, COUNTER)
    assert out["reload"][0] == "rolled back"
    assert "on_after_reload raised" in out["reload"][1] and "KeyboardInterrupt" in out["reload"][1]
    assert out["later"][0] is True


# Prints "ready" once the editor's event loop runs (register_editor is called before).
READY = """
def register_editor(editor):
    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, lambda: print("ready", flush=True))
"""


def test_ctrl_c_in_the_terminal_closes_the_editor(tmp_path):
    root = counter_project(tmp_path / "project", {"tools.py": READY})
    proc = subprocess.Popen(
        [sys.executable, "-m", "editor", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "HOME": str(tmp_path),  # the editor's settings and recovery files stay here
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
        },
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    finally:
        _, err = end_child(proc, signal.SIGINT, CHILD_TIMEOUT)
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
