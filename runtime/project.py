"""A Hotplay project: a folder with ``hotplay.toml``, ``plugins/`` and ``assets/``."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_FILE = "hotplay.toml"

#: Seconds a call into game code (and a frame) may take when the project does not say.
DEFAULT_BUDGET_SECONDS = 2.0

#: Seconds of play the history keeps when the project does not say (`runtime.history`).
DEFAULT_HISTORY_SECONDS = 10.0


class ProjectError(ValueError):
    """A folder is not a usable Hotplay project; `str()` says why and where."""


@dataclass(frozen=True)
class Project:
    """A project on disk and the settings of its ``hotplay.toml``.

    ``[budget]`` sets how long game code may run (`runtime.guard`): ``seconds``
    for one call into it and for one frame (``0`` turns budgets off), and
    ``in_release`` whether a Release build watches them too (off by default:
    a shipped game is not being edited).

    ``[project] seed`` seeds the game's random source (``ctx.random``).
    ``[history] seconds`` is how much play the history keeps for rewind and
    replay (``0``: no recording). ``[reload] look_ahead_frames`` is how many
    frames a reload tries the new code ahead before it commits (``0``: off);
    unset, it is ``None`` and whoever runs the game decides (the runtime: off,
    the editor: 30).
    """

    root: Path
    name: str
    main_scene: str
    budget_seconds: float | None = DEFAULT_BUDGET_SECONDS
    budget_in_release: bool = False
    seed: int = 0
    history_seconds: float = DEFAULT_HISTORY_SECONDS
    look_ahead_frames: int | None = None

    @property
    def plugins_dir(self) -> Path:
        """Where the plugin packages live."""
        return self.root / "plugins"

    @property
    def assets_dir(self) -> Path:
        """Where scenes and images live."""
        return self.root / "assets"

    @property
    def build_dir(self) -> Path:
        """Where the Release build writes its bytecode."""
        return self.root / "build"

    def scene_path(self, scene: str | os.PathLike[str] | None = None) -> Path:
        """An absolute scene path: `scene` relative to the project root, or the main scene."""
        p = Path(scene) if scene is not None else Path(self.main_scene)
        return p if p.is_absolute() else self.root / p

    @classmethod
    def open(cls, root: str | os.PathLike[str]) -> Project:
        """Read a project folder.

        Raises:
            ProjectError: the folder does not exist, has no ``hotplay.toml``, or it is invalid.
        """
        r = Path(root).resolve()
        if not r.is_dir():
            raise ProjectError(f"{r}: no such folder")
        f = r / PROJECT_FILE
        if not f.is_file():
            raise ProjectError(
                f"{r} is not a Hotplay project: it has no {PROJECT_FILE} "
                f"(make one with: {shell_command('hotplay', 'runtime')} new DIR)"
            )
        try:
            data = tomllib.loads(f.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProjectError(f"{f}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ProjectError(f"{f}: cannot read: {exc.strerror or exc}") from None
        proj = data.get("project", {})
        if not isinstance(proj, dict):
            raise ProjectError(f"{f}: [project] must be a table")
        name = proj.get("name", r.name)
        main_scene = proj.get("main_scene", "assets/scenes/main.scene.json")
        if not isinstance(name, str) or not isinstance(main_scene, str):
            raise ProjectError(f"{f}: [project] name and main_scene must be strings")
        if not (r / "plugins").is_dir():
            raise ProjectError(f"{r} is not a Hotplay project: it has no plugins/ folder")
        budget = _table(data, "budget", f)
        seconds = budget.get("seconds", DEFAULT_BUDGET_SECONDS)
        in_release = budget.get("in_release", False)
        if not _is_number(seconds) or seconds < 0:
            raise ProjectError(f"{f}: [budget] seconds must be a number of seconds (0: off)")
        if not isinstance(in_release, bool):
            raise ProjectError(f"{f}: [budget] in_release must be true or false")
        seed = proj.get("seed", 0)
        if not _is_int(seed):
            raise ProjectError(f"{f}: [project] seed must be an integer")
        history = _table(data, "history", f)
        history_seconds = history.get("seconds", DEFAULT_HISTORY_SECONDS)
        if not _is_number(history_seconds) or history_seconds < 0:
            raise ProjectError(f"{f}: [history] seconds must be a number of seconds (0: off)")
        look_ahead = _table(data, "reload", f).get("look_ahead_frames")
        if look_ahead is not None and (not _is_int(look_ahead) or look_ahead < 0):
            raise ProjectError(
                f"{f}: [reload] look_ahead_frames must be a number of frames (0: off)"
            )
        return cls(
            root=r,
            name=name,
            main_scene=main_scene,
            budget_seconds=float(seconds) or None,
            budget_in_release=in_release,
            seed=seed,
            history_seconds=float(history_seconds),
            look_ahead_frames=look_ahead,
        )


def _table(data: dict[str, Any], name: str, f: Path) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ProjectError(f"{f}: [{name}] must be a table")
    return table


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def shell_command(script: str, module: str) -> str:
    """How the user's shell runs one of Hotplay's commands, for hints.

    The console script (``hotplay``, ``hotplay-editor``) when the one that was
    installed next to this interpreter is what the shell finds on PATH; else
    ``python -m module`` with this interpreter (a source checkout, a virtual
    environment that is not activated).
    """
    installed = Path(sys.executable).parent / script
    on_path = shutil.which(script)
    if on_path is not None and installed.is_file() and Path(on_path).samefile(installed):
        return script
    return f"{_python_command()} -m {module}"


def _python_command() -> str:
    """How to run this Python from the user's shell: ``python`` only when that is this one.

    From a virtual environment that is not activated, ``python`` is another
    interpreter, without Hotplay: name this one (relative to the current folder
    when it is inside it).
    """
    exe = os.path.abspath(sys.executable)
    on_path = shutil.which("python")
    if on_path is not None and os.path.abspath(on_path) == exe:
        return "python"
    if Path(exe).is_relative_to(Path.cwd()):
        exe = os.path.relpath(exe)
    return shlex.quote(exe)
