"""A non-editable install: the wheel ships the sample, and a first run outside a project works.

The wheel is built from a copy of the source tree (``pip wheel``) and
installed into a folder (``pip install --target``), which this interpreter
then imports ahead of the source checkout: that is the code a user gets from
``pip install .``, run with this environment's dependencies.
"""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from runtime import cli

REPO = Path(__file__).resolve().parents[1]
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*cache", ".hotplay", "tests"
)


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel of this tree, installed into a folder of its own; returns the wheel's folder."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    shutil.copytree(REPO, source, ignore=_NOT_SOURCE)
    wheels = base / "wheels"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(wheels)]
    )
    assert built.returncode == 0, built.stderr
    target = base / "target"
    (wheel,) = wheels.glob("hotplay-*.whl")
    done = _run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), wheel]
    )
    assert done.returncode == 0, done.stderr
    return wheels


def _installed_env(tmp_path: Path, target: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(target)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # the editor's app-wide settings
    env.pop("HOTPLAY_EDITOR_EXIT_AFTER_SHOW", None)
    return env


def test_the_wheel_ships_the_sample_game(installed):
    (wheel,) = installed.glob("hotplay-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for sample_file in (
        "editor/sample/hotplay.toml",
        "editor/sample/plugins/bouncy/__init__.py",
        "editor/sample/plugins/bouncy/ball.py",
        "editor/sample/assets/scenes/demo.scene.json",
    ):
        assert sample_file in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".recovery.json")]


def test_an_installed_editor_outside_a_project_starts_on_the_welcome_page(installed, tmp_path):
    target = installed.parent / "target"
    home = tmp_path / "home"
    home.mkdir()
    env = _installed_env(tmp_path, target)
    probe = _run(
        [
            sys.executable,
            "-c",
            "import editor.projects as p; print(p.__file__); print(p.default_project()); "
            "print(p.sample_dir())",
        ],
        cwd=home,
        env=env,
    )
    module, default, sample = probe.stdout.split("\n")[:3]
    assert Path(module).is_relative_to(target)
    assert default == "None"  # no project: the welcome page, not site-packages
    assert Path(sample) == target / "editor" / "sample"

    started = _run(
        [sys.executable, "-m", "editor"],
        cwd=home,
        env={**env, "HOTPLAY_EDITOR_EXIT_AFTER_SHOW": "1"},
    )
    assert started.returncode == 0, started.stderr
    assert "not a Hotplay project" not in started.stderr


def test_an_installed_player_outside_a_project_says_what_to_do(installed, tmp_path):
    target = installed.parent / "target"
    home = tmp_path / "home"
    home.mkdir()
    ran = _run(
        [sys.executable, "-m", "runtime", "play", "--headless", "--frames", "1"],
        cwd=home,
        env=_installed_env(tmp_path, target),
    )
    assert ran.returncode == 1
    assert f"{home} is not a Hotplay project: pass --project DIR" in ran.stderr
    assert str(target) not in ran.stderr


def test_new_names_the_installed_commands(tmp_path, monkeypatch, capsys):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    for script in ("python", "hotplay", "hotplay-editor"):
        (bin_dir / script).write_text("#!/bin/sh\n")
        (bin_dir / script).chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert cli.main(["new", str(tmp_path / "game")]) == 0
    out = capsys.readouterr().out
    assert f"hotplay play --project {tmp_path / 'game'} --headless" in out
    assert f"hotplay-editor {tmp_path / 'game'}" in out
    assert "-m runtime" not in out and "-m editor" not in out


def test_new_names_python_m_when_the_commands_are_not_on_path(tmp_path, monkeypatch, capsys):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    for script in ("python", "hotplay", "hotplay-editor"):
        (bin_dir / script).write_text("#!/bin/sh\n")
        (bin_dir / script).chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))  # a venv that is not activated
    monkeypatch.chdir(tmp_path)
    assert cli.main(["new", str(tmp_path / "game")]) == 0
    out = capsys.readouterr().out
    assert "venv/bin/python -m runtime play --project" in out
    assert "venv/bin/python -m editor " in out
