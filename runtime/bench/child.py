"""Figures measured in a child process, which prints them as one JSON line."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def run_json_child(
    cmd: Sequence[str],
    what: str,
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> dict[str, Any]:
    """Run `cmd` and return the last JSON object line it printed.

    Returns:
        That object; or ``available: False`` and ``why`` (the exit code and the end of
        its stderr) when the child failed or printed none, so the figure says why it is missing.
    """
    proc = subprocess.run(
        list(cmd), capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {
            "available": False,
            "why": f"{what} child failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}",
        }
    result: dict[str, Any] = json.loads(lines[-1])
    return result
