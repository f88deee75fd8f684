"""Scene paths that are not scene files, and strings no file can encode.

Reading a FIFO blocks forever on the code this guards against, so every case
that could hang runs in a subprocess with a timeout: the suite cannot hang.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.scene import Scene
from runtime.scenefile import (
    MAX_FILE_BYTES,
    STALE_TMP_SECONDS,
    load_scene,
    remove_interrupted_saves,
    save_scene,
    unencodable_text,
)

from .conftest import entity, scene_data, write_project

REPO = Path(__file__).resolve().parents[1]
_OUT = {"capture_output": True, "text": True, "timeout": 30, "check": True}
posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, devices and symlinks")

# Loads the scene named on the command line and prints the one-line error.
LOAD = """
import sys
from runtime.scenefile import SceneFileError, load_scene
try:
    load_scene(sys.argv[1], lambda type_id: None)
except SceneFileError as exc:
    print("SceneFileError:", exc.problem)
else:
    print("loaded")
"""


def _load_in_subprocess(path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def _special_paths(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "pipe.scene.json"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.scene.json"
    loop.symlink_to(tmp_path / "loop.scene.json")
    folder = tmp_path / "folder.scene.json"
    folder.mkdir()
    big = tmp_path / "big.scene.json"
    with big.open("wb") as f:  # sparse: no disk space used
        f.truncate(MAX_FILE_BYTES + 1)
    return {
        "fifo": fifo,
        "device": Path("/dev/zero"),
        "folder": folder,
        "symlink loop": loop,
        "too big": big,
    }


@posix_only
@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("fifo", "named pipe"),
        ("device", "a device"),
        ("folder", "a folder"),
        ("symlink loop", "symbolic links"),
        ("too big", "larger than scenes may be"),
    ],
)
def test_a_path_that_is_no_scene_file_is_a_one_line_error(
    tmp_path: Path, case: str, problem: str
) -> None:
    path = _special_paths(tmp_path)[case]
    out = _load_in_subprocess(path)
    assert out.startswith("SceneFileError:") and problem in out
    assert "\n" not in out


@posix_only
def test_the_player_reports_a_fifo_scene_in_one_line(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", plugins={}, scene=[entity(1, "A")])
    fifo = project / "assets" / "pipe.scene.json"
    os.mkfifo(fifo)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "runtime",
            "play",
            "--project",
            str(project),
            "--headless",
            "--frames",
            "1",
            "--scene",
            str(fifo),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "hotplay: error:" in lines[0] and "named pipe" in lines[0]


def test_a_lone_surrogate_is_saved_escaped_and_reads_back_the_same(tmp_path: Path) -> None:
    # JSON allows "\\ud800", so a file may bring one in; UTF-8 cannot encode it.
    path = tmp_path / "odd.scene.json"
    data = scene_data(entity(1, "x\ud800y"), name="n\udfffame")
    path.write_text(json.dumps(data), encoding="ascii")  # ensure_ascii: escaped
    scene = load_scene(path, lambda type_id: None)
    assert scene[1].name == "x\ud800y"

    save_scene(scene, path)
    again = load_scene(path, lambda type_id: None)
    assert again[1].name == "x\ud800y" and again.name == "n\udfffame"
    assert "\\ud800" in path.read_text(encoding="utf-8")


def test_a_scene_with_no_odd_strings_is_written_as_plain_utf8(tmp_path: Path) -> None:
    path = tmp_path / "plain.scene.json"
    scene = Scene(name="plain")
    scene.spawn("Ünïcode ✓")
    save_scene(scene, path)
    assert "Ünïcode ✓" in path.read_text(encoding="utf-8")


@posix_only
def test_only_temporary_files_of_gone_writers_are_removed(tmp_path: Path) -> None:
    scenes = tmp_path / "assets" / "scenes"
    scenes.mkdir(parents=True)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **_OUT)
    dead_pid = int(gone.stdout)
    dead = scenes / f".a.scene.json.{dead_pid}-x1y2z3ab.tmp"
    alive = scenes / f".a.scene.json.{os.getpid()}-x1y2z3ab.tmp"
    old_style = scenes / ".b.scene.json.k3j4h5g6.tmp"
    fresh_old_style = scenes / ".c.scene.json.q1w2e3r4.tmp"
    not_ours = scenes / ".notes.tmp"
    for f in (dead, alive, old_style, fresh_old_style, not_ours):
        f.write_text("partial")
    hour_ago = old_style.stat().st_mtime - STALE_TMP_SECONDS - 60
    os.utime(old_style, (hour_ago, hour_ago))

    assert sorted(remove_interrupted_saves(tmp_path)) == sorted([dead, old_style])
    assert alive.exists() and fresh_old_style.exists() and not_ours.exists()


def test_an_atomic_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    save_scene(Scene(name="s"), tmp_path / "s.scene.json")
    assert [p.name for p in tmp_path.iterdir()] == ["s.scene.json"]


def test_unencodable_text_finds_a_lone_surrogate_anywhere() -> None:
    cyclic: list[object] = ["fine"]
    cyclic.append(cyclic)
    assert unencodable_text(cyclic) is None
    cyclic.append({"key": ("a", {"x\udc80"})})
    assert unencodable_text(cyclic) == "x\udc80"
    assert unencodable_text({"k\ud800": 1}) == "k\ud800"
    assert unencodable_text(["Ω", ("✓", 1.5), {"a": None}]) is None
