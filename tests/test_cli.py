"""The command line, run as a child process exactly as a user runs it."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO_ROOT, entity

ERROR_LINE = re.compile(r"^hotplay: error: .+$")


def hotplay(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("QT_QPA_PLATFORM", None)
    return subprocess.run(
        [sys.executable, "-m", "runtime", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_error_line(proc: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("hotplay:")]
    assert len(lines) == 1, proc.stderr
    assert ERROR_LINE.match(lines[0])
    for f in fragments:
        assert f in lines[0]
    return lines[0]


def test_play_headless_sample_project() -> None:
    proc = hotplay("play", "--headless", "--frames", "600")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith("ran 600 frames (10.0 s of game time)")
    assert "scene 'demo'" in summary
    assert "plugins: bouncy" in summary
    assert "0 reloads, profile Debug" in summary


def test_play_missing_project(tmp_path: Path) -> None:
    proc = hotplay("play", "--headless", "--frames", "1", "--project", str(tmp_path / "nope"))
    assert_one_error_line(proc, "no such folder")


def test_play_folder_without_project_file(tmp_path: Path) -> None:
    proc = hotplay("play", "--headless", "--frames", "1", "--project", str(tmp_path))
    assert_one_error_line(proc, "is not a Hotplay project", "hotplay.toml")


def test_play_bad_scene(make_project: Any) -> None:
    root = make_project(scene=[entity(1, "E", parent=7)])
    proc = hotplay("play", "--headless", "--frames", "1", "--project", str(root))
    line = assert_one_error_line(proc, "main.scene.json", "parent 7 does not exist")
    assert str(root) in line


def test_play_scene_that_is_not_json(make_project: Any) -> None:
    root = make_project(scene="{ oops")
    proc = hotplay("play", "--headless", "--frames", "1", "--project", str(root))
    assert_one_error_line(proc, "not valid JSON")


def test_play_missing_scene_argument(make_project: Any) -> None:
    root = make_project(scene=[])
    proc = hotplay(
        "play", "--headless", "--frames", "1", "--project", str(root), "--scene", "nope.json"
    )
    assert_one_error_line(proc, "nope.json", "file not found")


def test_play_unknown_profile(make_project: Any) -> None:
    root = make_project(scene=[])
    proc = hotplay("play", "--headless", "--frames", "1", "--project", str(root), "--profile", "x")
    assert_one_error_line(proc, "unknown build profile 'x'")


def test_new_then_play(tmp_path: Path) -> None:
    target = tmp_path / "My Game"
    proc = hotplay("new", str(target))
    assert proc.returncode == 0, proc.stderr
    assert f"created project {target}" in proc.stdout
    assert (target / "hotplay.toml").is_file()
    play = hotplay("play", "--project", str(target), "--headless", "--frames", "60")
    assert play.returncode == 0, play.stderr
    summary = play.stdout.strip().splitlines()[-1]
    assert summary.startswith("ran 60 frames (1.0 s of game time)")
    assert "scene 'main'" in summary and "plugins: my_game" in summary
    assert "placeholder" not in play.stderr


def test_new_prints_commands_that_run_with_this_python(tmp_path: Path) -> None:
    # From a virtual environment that is not activated, `python` would be another one.
    target = tmp_path / "printed"
    proc = hotplay("new", str(target), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run_line = next(ln for ln in proc.stdout.splitlines() if "run it:" in ln)
    argv = shlex.split(run_line.split("run it:", 1)[1])
    assert argv[1:4] == ["-m", "runtime", "play"]
    play = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert play.returncode == 0, play.stderr
    assert "plugins: printed" in play.stdout


def test_play_with_a_plugin_that_fails_to_load_exits_1(tmp_path: Path) -> None:
    target = tmp_path / "broken"
    assert hotplay("new", str(target)).returncode == 0
    with (target / "plugins" / "broken" / "scripts.py").open("a") as f:
        f.write("\ndef oops(:\n")
    proc = hotplay("play", "--project", str(target), "--headless", "--frames", "5")
    assert proc.returncode == 1
    assert "scripts.py:" in proc.stderr and "SyntaxError" in proc.stderr
    assert "plugins that failed to load: broken" in proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("ran 5 frames")


def test_play_from_inside_a_project_folder(tmp_path: Path) -> None:
    target = tmp_path / "here"
    assert hotplay("new", str(target)).returncode == 0
    proc = hotplay("play", "--headless", "--frames", "5", cwd=target)
    assert proc.returncode == 0, proc.stderr
    assert "plugins: here" in proc.stdout


def test_new_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "full"
    target.mkdir()
    (target / "keep.txt").write_text("mine", encoding="utf-8")
    proc = hotplay("new", str(target))
    assert_one_error_line(proc, "already exists and is not empty")
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert (target / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_new_refuses_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    assert_one_error_line(hotplay("new", str(target)), "already exists")


@pytest.mark.parametrize("argv", [[], ["fly"], ["play", "--frames", "x"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    proc = hotplay(*argv)
    assert proc.returncode == 2
    assert "usage: hotplay" in proc.stderr
    assert "Traceback" not in proc.stderr
