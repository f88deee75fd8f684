"""A Release build whose output cannot be written is a one-line error, never a traceback."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runtime import BuildProfile
from runtime.build import build_project, release_dir

from .conftest import REPO_ROOT

PLUGINS = {"p": {"m.py": "x = 1\n"}}


def _build_is_a_file(project: Path) -> None:
    # Stands in for a read-only project where permissions do not apply (tests as root):
    # the output folder cannot be created either way.
    (project / "build").write_text("not a folder\n")


@pytest.fixture
def read_only_project(make_project: Callable[..., Path]) -> Iterator[Path]:
    """A project whose folders are all read-only (restored after the test)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root writes to read-only folders")
    project = make_project(plugins=PLUGINS)
    folders = [project, *(p for p in project.rglob("*") if p.is_dir())]
    for folder in folders:
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    yield project
    for folder in folders:
        folder.chmod(stat.S_IRWXU)


def _one_error(result) -> str:
    assert not result.ok and result.output_dir is None
    (error,) = result.errors
    text = str(error)
    assert "\n" not in text and "cannot write the Release build" in text
    return text


def test_an_unwritable_output_is_an_error_in_the_result(make_project) -> None:
    project = make_project(plugins=PLUGINS)
    _build_is_a_file(project)
    text = _one_error(build_project(project, BuildProfile.RELEASE))
    assert text.startswith(str(project / "build"))
    assert ":0:0" not in text  # no line to point at


def test_a_read_only_project_is_an_error_in_the_result(read_only_project: Path) -> None:
    _one_error(build_project(read_only_project, BuildProfile.RELEASE))
    assert not release_dir(read_only_project).exists()


def test_the_build_command_prints_one_line_and_exits_1(make_project) -> None:
    project = make_project(plugins=PLUGINS)
    _build_is_a_file(project)
    command = ["-m", "runtime", "build", "--project", str(project), "--profile", "release"]
    done = subprocess.run(
        [sys.executable, *command],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stdout.strip().splitlines()
    assert "cannot write the Release build" in lines[0]
    assert lines[-1].startswith("build failed (Release)")
