"""The headless player where PySide6 cannot be imported: plain, the editor's child, Release.

Every child here runs with PySide6 and shiboken6 blocked (`tests.no_qt`), as
on a machine without them; the editor's side of the channel is `FakeEditor`.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from .conftest import entity, script
from .fake_editor import TIMEOUT, FakeEditor
from .no_qt import runtime_command

#: The Release interpreter's flags (`BuildProfile.RELEASE.interpreter_flags`).
OPTIMIZE = ("-O",)

COUNTER_V1 = """
from runtime import Script


class Counter(Script):
    count: int = 0
    label: str = "first"

    def on_update(self, ctx, dt):
        self.count += 1
"""

#: `label` removed: the reload drops its value and warns about it.
COUNTER_V2 = """
from runtime import Script


class Counter(Script):
    count: int = 0

    def on_update(self, ctx, dt):
        self.count += 1
"""


def counter_project(make_project: Callable[..., Path], name: str) -> Path:
    return make_project(
        name,
        plugins={"game": {"counter.py": COUNTER_V1}},
        scene=[entity(1, "Counter", scripts=[script("game.counter:Counter", label="mine")])],
    )


def hotplay_without_qt(*args: str, flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    return subprocess.run(
        [*runtime_command(flags=flags), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_release_plays_headless_and_as_the_editors_child_without_pyside6(
    make_project: Callable[..., Path], editor_side: Callable[..., FakeEditor]
) -> None:
    root = counter_project(make_project, "release")
    built = hotplay_without_qt("build", "--project", str(root), "--profile", "release")
    assert built.returncode == 0, built.stderr
    assert "build succeeded (Release)" in built.stdout

    play = ["play", "--project", str(root), "--profile", "release", "--headless"]
    alone = hotplay_without_qt(*play, "--frames", "30", flags=OPTIMIZE)
    assert alone.returncode == 0, alone.stderr
    assert "not available" not in alone.stderr
    summary = alone.stdout.strip().splitlines()[-1]
    assert summary.startswith("ran 30 frames (0.5 s of game time)"), alone.stdout
    assert "plugins: game" in summary and "profile Release" in summary

    fe = editor_side(root, "--profile", "release", command=runtime_command(flags=OPTIMIZE))
    assert fe.accept()["profile"] == "release"
    assert fe.next("stats")["entities"] == 1
    fe.send("stop")
    code, out, err = fe.finish()
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith("ran "), out
    assert "profile Release" in out


# --- one reload, with and without the editor ------------------------------------------------


class OutputReader:
    """A child's stdout, read as it arrives (``select`` on the pipe, never a sleep)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.proc = proc
        self.fd = proc.stdout.fileno()
        self.text = ""

    def wait_for(self, pattern: str) -> None:
        """Read until `pattern` (a regular expression, multi-line) matches what was printed."""
        while not re.search(pattern, self.text, re.MULTILINE):
            ready, _, _ = select.select([self.fd], [], [], TIMEOUT)
            assert ready, f"no {pattern!r} in the output in time: {self.text!r}"
            data = os.read(self.fd, 65536)
            assert data, f"the output ended before {pattern!r}: {self.text!r}"
            self.text += data.decode()

    def rest(self) -> str:
        """Everything printed, once the child has exited."""
        out, _ = self.proc.communicate(timeout=TIMEOUT)
        self.text += out.decode()
        return self.text


def reload_lines(stdout: str) -> list[str]:
    """What the player printed between start-up and its summary, frame and timings hidden."""
    lines = stdout.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("watching ")) + 1
    end = next(i for i, ln in enumerate(lines) if ln.startswith("ran "))
    hidden = [re.sub(r"\[frame \d+\]", "[frame N]", ln) for ln in lines[start:end]]
    return [re.sub(r"\d+(\.\d+)? ms\b", "T ms", ln) for ln in hidden]


def test_a_reload_prints_the_same_lines_with_and_without_the_editor(
    make_project: Callable[..., Path], editor_side: Callable[..., FakeEditor]
) -> None:
    hot = ("--profile", "debug-hr", "--quiet-ms", "20")

    # Without the editor: the terminal user's run, ended by SIGTERM.
    alone_root = counter_project(make_project, "alone")
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    proc = subprocess.Popen(
        [*runtime_command(), "play", "--project", str(alone_root), "--headless", *hot],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        out = OutputReader(proc)
        out.wait_for(r"^watching .* for changes")  # the watcher runs from here on
        (alone_root / "plugins" / "game" / "counter.py").write_text(COUNTER_V2)
        out.wait_for(r"^\[frame \d+\] .*\n(  .*\n)*")
        proc.send_signal(signal.SIGTERM)
        alone = out.rest()
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=TIMEOUT)

    # The editor's child: the same project, the same save, stopped by the editor.
    child_root = counter_project(make_project, "child")
    fe = editor_side(child_root, *hot, command=runtime_command())
    fe.accept()
    fe.next("stats")  # a second of frames: the watcher runs
    (child_root / "plugins" / "game" / "counter.py").write_text(COUNTER_V2)
    report = fe.next("reload")["report"]
    assert report["ok"]
    fe.send("stop")
    code, child, err = fe.finish()
    assert code == 0, err

    expected = [
        "[frame N] reloaded game: 2 modules, 2 objects in T ms, 1 warning",
        "  warning: game.counter:Counter.label: field removed from the code; its value is kept "
        "in the stash and comes back with the field",
    ]
    assert reload_lines(alone) == expected, alone
    assert reload_lines(child) == expected, child
    assert alone.strip().splitlines()[-1].startswith("ran ")
    assert "1 reloads, profile Debug (HR)" in child.strip().splitlines()[-1]


def test_a_window_without_pyside6_is_one_error_line(make_project: Callable[..., Path]) -> None:
    root = counter_project(make_project, "window")
    proc = hotplay_without_qt("play", "--project", str(root), "--frames", "1")
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "hotplay: error: the windowed player is not available "
        "(No module named 'PySide6'); use --headless"
    )
