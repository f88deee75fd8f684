"""Test projects for game code under time budgets: a counter script and a short budget."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from .conftest import entity, script, write_project

#: The budget of the test projects: short, so an interrupted loop costs the suite little.
BUDGET = 0.3

#: A script that counts its frames: the game went on (or the old code did) when it grows.
COUNTER = """
from runtime import Script


class Counter(Script):
    count: int = 0

    def on_update(self, ctx, dt):
        self.count += 1
"""

#: A runaway spawner: each script keeps within the budget, the frame as a whole does not.
SPAWNER = """
from runtime import Script


class Spawner(Script):
    def on_update(self, ctx, dt):
        for _ in range(200):
            ctx.spawn("Spawned", scripts=[Busy()])


class Busy(Script):
    total: float = 0.0

    def on_update(self, ctx, dt):
        for i in range(20):
            self.total += i * dt
"""


def spawner(per_frame: int) -> str:
    """A spawner of `per_frame` entities a frame, each with a `Busy` script (0: the fix)."""
    return SPAWNER.replace("range(200)", f"range({per_frame})")


def budget_toml(budget: float = BUDGET) -> str:
    """A project file whose ``[budget] seconds`` is `budget`."""
    return (
        f'[project]\nmain_scene = "assets/scenes/main.scene.json"\n[budget]\nseconds = {budget}\n'
    )


def counter_project(
    root: Path, files: dict[str, str], *entities: dict[str, Any], budget: float = BUDGET
) -> Path:
    """A project at `root`: plugin ``game`` with `COUNTER` and `files`, a "Counter" entity first."""
    return write_project(
        root,
        plugins={"game": {"counter.py": COUNTER, **files}},
        scene=[entity(1, "Counter", scripts=[script("game.counter:Counter")]), *entities],
        toml=budget_toml(budget),
    )


def end_child(proc: subprocess.Popen[str], signum: int, timeout: float) -> tuple[str, str]:
    """Send `signum` to a running child and return its output once it ends.

    A child still running after `timeout` seconds is killed (the test then fails on its
    exit code), so that none outlives the test.
    """
    try:
        proc.send_signal(signum)
        return proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=timeout)
