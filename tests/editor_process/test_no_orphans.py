"""Nothing the editor starts outlives it, and the channel token never sits in an environment.

The editor's side runs in a subprocess of the test (a `PlayerProcess` on a
plain Qt event loop), so that the test can SIGKILL it the way a crash or the
task manager would, and then watch what happens to its player child.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime.channel import EDITOR_GONE_EXIT

from ..conftest import entity, script, write_project
from ..fake_editor import FakeEditor
from .conftest import _alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

# Logs once, then never returns from its frame.
HANG = """
import logging
from runtime import Script


class Hang(Script):
    def on_update(self, ctx, dt):
        logging.getLogger("hang").warning("hanging")
        while True:
            pass
"""

# The same, in one call into C that never lets another thread run (it holds the GIL).
HANG_IN_C = HANG.replace("while True:\n            pass", "sum(range(10**15))")

# The editor's side: plays the project in a separate process, prints the child's pid
# and the token once the game is stuck in its frame, then runs its event loop until killed.
EDITOR_SIDE = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QCoreApplication
from editor.player_process.process import PlayerProcess
from runtime import BuildProfile

app = QCoreApplication([])
player = PlayerProcess()

def on_record(record):
    if "hanging" in record.get("message", ""):
        print(player.pid, player._server.token, flush=True)

player.log_record.connect(on_record)
player.finished.connect(lambda code, tail: app.exit(3))
result = player.start(sys.argv[1], None, BuildProfile.DEBUG, headless=True)
assert result.ok, result
app.exec()
"""


def _project(tmp_path: Path, hang: str = HANG) -> Path:
    return write_project(
        tmp_path / "project",
        plugins={"game": {"__init__.py": "", "hang.py": hang}},
        scene=[entity(1, "Hanger", scripts=[script("game.hang:Hang")])],
    )


def _exit_event(pid: int) -> int:
    """A descriptor that becomes readable when `pid` exits (Linux pidfd: no polling)."""
    if not hasattr(os, "pidfd_open"):
        pytest.skip("needs os.pidfd_open")
    try:
        return os.pidfd_open(pid)
    except OSError as exc:
        pytest.skip(f"pidfd_open: {exc}")


def _gone_within(pidfd: int, seconds: float) -> bool:
    readable, _, _ = select.select([pidfd], [], [], seconds)
    return bool(readable)


@pytest.mark.parametrize("hang", [HANG, HANG_IN_C], ids=["python loop", "held GIL"])
def test_a_hung_child_exits_within_two_seconds_of_a_killed_editor(
    tmp_path: Path, hang: str
) -> None:
    project = _project(tmp_path, hang)
    editor = subprocess.Popen(
        [sys.executable, "-c", EDITOR_SIDE, str(project)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    child = 0
    try:
        assert editor.stdout is not None
        line = editor.stdout.readline()  # the editor prints once its child hangs
        assert line, f"the editor side ended: {editor.communicate(timeout=30)[1][-2000:]}"
        pid_text, token = line.split()
        child = int(pid_text)
        environ = Path(f"/proc/{child}/environ").read_bytes()
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        assert token.encode() not in environ and token.encode() not in cmdline
        assert _alive(child)

        exited = _exit_event(child)
        try:
            editor.kill()  # SIGKILL: no handler, no clean-up in the editor
            killed = time.monotonic()
            assert _gone_within(exited, 2.0), "the player outlived its editor"
            assert time.monotonic() - killed < 2.0
        finally:
            os.close(exited)
        editor.communicate(timeout=30)
    finally:
        if editor.poll() is None:
            editor.kill()
            editor.communicate(timeout=30)
        if child and _alive(child):
            os.kill(child, 9)


def test_the_stdin_watchdog_ends_a_hung_player_without_the_kernels_help(tmp_path: Path) -> None:
    # The test process stays alive (no parent-death signal): only the closed pipe
    # tells the player that its editor is gone, as on platforms without prctl.
    fe = FakeEditor(_project(tmp_path), "--profile", "debug")
    try:
        fe.accept()
        fe.next("log", lambda m: "hanging" in m["message"])
        stdin, fe.proc.stdin = fe.proc.stdin, None
        assert stdin is not None
        closed = time.monotonic()
        stdin.close()
        code, _, err = fe.finish()
        assert time.monotonic() - closed < 2.0
        assert code == EDITOR_GONE_EXIT
        assert "the editor is gone" in err
    finally:
        fe.close()
