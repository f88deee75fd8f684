"""The headless player imports saved code in a check process first, as the editor does.

A save that ends the process at import (``os._exit``, a segfault) would end the
game; it is a refused reload instead, and the game goes on with its code until
the save that fixes it. Each player runs as a child with a timeout.
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from .budget_projects import COUNTER, counter_project, end_child
from .no_qt import runtime_command

#: Seconds a player may take to end once asked.
CHILD_TIMEOUT = 30

ENDS_THE_PROCESS = {
    "os._exit": "import os\nos._exit(1)\n",
    "segfault": "import ctypes\nctypes.string_at(0)\n",
}


@pytest.mark.parametrize("how", list(ENDS_THE_PROCESS))
def test_a_save_that_would_end_the_player_is_refused_and_the_game_goes_on(tmp_path, how):
    root = counter_project(tmp_path / "project", {})
    target = root / "plugins" / "game" / "counter.py"
    proc = subprocess.Popen(
        [*runtime_command(), "play", "--project", str(root), "--headless", "--profile", "debug-hr"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("watching ")  # it plays, and watches
        target.write_text(COUNTER.lstrip() + "\n" + ENDS_THE_PROCESS[how])
        deadline = time.monotonic() + 3.0  # the watcher's quiet window, the check, a margin
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, f"the player ended: exit code {proc.returncode}"
    finally:
        out, err = end_child(proc, signal.SIGTERM, CHILD_TIMEOUT)
    assert proc.returncode == 0, err
    (refused,) = [line for line in out.splitlines() if "ended the check process" in line]
    assert "counter.py" in refused, refused  # reported, naming the file
    assert out.splitlines()[-1].startswith("ran "), out  # the summary of a clean end
