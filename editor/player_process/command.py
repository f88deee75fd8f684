"""How a player child is started: its ``python -m runtime play`` arguments and environment.

The channel token is not part of either: it goes down the child's stdin
(`token_line`), see `runtime.channel.attach_to_editor`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QProcessEnvironment

import runtime
from runtime.profiles import BuildProfile
from runtime.scene import Scene
from runtime.scenefile import save_scene, writer_alive

#: Start of the temporary folders that hold an unsaved scene for a player child.
PLAY_FOLDER_PREFIX = "hotplay-play-"
_PLAY_FOLDER = re.compile(re.escape(PLAY_FOLDER_PREFIX) + r"(?P<pid>\d+)-")


def remove_stale_play_folders(temp_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Delete the unsaved-scene folders (`scene_argument`) of editors that are gone.

    An editor deletes its folder when its child ends; one that was killed
    cannot. Only folders whose name holds the pid of a process that no longer
    runs are deleted. Never raises.

    Args:
        temp_dir: where to look (default: the system's temporary folder).

    Returns:
        The folders deleted.
    """
    root = Path(temp_dir) if temp_dir is not None else Path(tempfile.gettempdir())
    removed: list[Path] = []
    try:
        candidates = list(root.glob(PLAY_FOLDER_PREFIX + "*"))
    except OSError:
        return removed
    for folder in candidates:
        m = _PLAY_FOLDER.match(folder.name)
        if m is None or writer_alive(int(m["pid"])) or not folder.is_dir():
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
    return removed


def player_arguments(
    root: Path,
    profile: BuildProfile,
    channel: str,
    *,
    scene: str | None = None,
    headless: bool = False,
    show_fps: bool = False,
    quiet_ms: float | None = None,
    build_dir: Path | None = None,
    look_ahead_frames: int | None = None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The interpreter arguments that play `root`'s game for `profile`.

    Args:
        root: the project root.
        profile: the build profile (its interpreter flags come first: ``-O`` for Release).
        channel: the editor's channel address, ``127.0.0.1:PORT``.
        scene: the scene file to play (``None``: the project's main scene).
        headless: run the player without its window.
        show_fps: ask the player window to show FPS.
        quiet_ms: the player's watcher quiet window (``Debug (HR)``).
        build_dir: the precompiled build output to run from (Release).
        look_ahead_frames: frames a reload tries the new code ahead (``None``: the
            project's ``[reload] look_ahead_frames``).
        extra_args: more ``play`` arguments.
    """
    args = [
        *profile.interpreter_flags,
        "-m",
        "runtime",
        "play",
        "--project",
        str(root),
        "--profile",
        profile.value,
        "--channel",
        channel,
    ]
    if scene is not None:
        args += ["--scene", scene]
    if headless:
        args.append("--headless")
    if show_fps:
        args.append("--show-fps")
    if quiet_ms is not None:
        args += ["--quiet-ms", str(quiet_ms)]
    if build_dir is not None:
        args += ["--build-dir", str(build_dir)]
    if look_ahead_frames is not None:
        args += ["--look-ahead", str(look_ahead_frames)]
    return args + list(extra_args)


def scene_argument(
    scene: str | os.PathLike[str] | Scene | None,
) -> tuple[str | None, Path | None]:
    """The ``--scene`` value for `scene`, and the temporary folder made for an unsaved one.

    An unsaved `Scene` is written to a new temporary folder, which the caller
    deletes when the child ends; a path is made absolute; ``None`` stays
    ``None`` (the project's main scene).
    """
    if scene is None:
        return None, None
    if isinstance(scene, Scene):
        # The editor's pid in the name: a later editor deletes the folders of dead ones.
        tmpdir = Path(tempfile.mkdtemp(prefix=f"{PLAY_FOLDER_PREFIX}{os.getpid()}-"))
        path = tmpdir / "unsaved.scene.json"
        save_scene(scene, path)
        return str(path), tmpdir
    return str(Path(scene).resolve()), None


def token_line(token: str) -> bytes:
    """What the editor writes to the child's stdin first: the channel token and a newline."""
    return token.encode("ascii") + b"\n"


def player_environment() -> QProcessEnvironment:
    """The editor's environment, with this runtime on the path."""
    env = QProcessEnvironment.systemEnvironment()
    env.insert("PYTHONUNBUFFERED", "1")
    # The child imports the very runtime this editor runs, installed or not.
    here = str(Path(runtime.__file__).resolve().parent.parent)
    old = env.value("PYTHONPATH", "")
    env.insert("PYTHONPATH", here + (os.pathsep + old if old else ""))
    return env
