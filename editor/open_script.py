"""Open Script: a script's source, or a file:line of a traceback, in the user's text editor.

Which editor, in order:

1. The command in the settings key ``textEditor/command`` (for example
   ``code -g {file}:{line}``; ``{file}`` and ``{line}`` are filled in, and
   without ``{file}`` the file is appended).
2. ``$VISUAL``, then ``$EDITOR``, given ``+line file`` (or its own syntax for
   the editors that have one). The editor is started from a GUI with no
   terminal, so a terminal editor (vi, nano, ...) would run invisibly: those
   are skipped.
3. The system's opener for the file (`QDesktopServices.openUrl`), which
   cannot go to a line.
"""

from __future__ import annotations

import inspect
import logging
import os
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from editor.controllers import STATUS_SECONDS

log = logging.getLogger("hotplay.editor")

#: The settings key of the user's text editor command.
EDITOR_COMMAND_KEY = "textEditor/command"
#: Editors that need a terminal: started from the editor's GUI, they would run unseen.
TERMINAL_EDITORS = frozenset(
    {"vi", "vim", "nvim", "nano", "pico", "micro", "hx", "helix", "kak", "joe", "ne", "ed", "mg"}
)


def script_location(cls: type) -> tuple[str, int] | None:
    """The source file of a class and the line its ``class`` statement is on."""
    try:
        path = inspect.getsourcefile(cls)
        _lines, line = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return None
    return (path, max(line, 1)) if path else None


def editor_command(
    path: str, line: int, configured: str, environ: Mapping[str, str]
) -> list[str] | None:
    """The command that opens `path` at `line`, or ``None`` for the system opener.

    Args:
        path: the file.
        line: the line, 1-based.
        configured: the command set in the settings (``""``: none).
        environ: the environment (``VISUAL``, ``EDITOR``).
    """
    if configured.strip():
        words = shlex.split(configured)
        if not any("{file}" in w for w in words):
            words.append("{file}")
        return [w.replace("{file}", path).replace("{line}", str(line)) for w in words]
    for var in ("VISUAL", "EDITOR"):
        words = shlex.split(environ.get(var, ""))
        if not words:
            continue
        name = Path(words[0]).name
        if name in TERMINAL_EDITORS or (name == "emacs" and "-nw" in words):
            continue
        if name in ("code", "codium", "code-insiders", "cursor"):
            return [*words, "--goto", f"{path}:{line}"]
        if name in ("subl", "sublime_text", "zed"):
            return [*words, f"{path}:{line}"]
        if name == "kate":
            return [*words, "--line", str(line), path]
        return [*words, f"+{line}", path]  # gvim, gedit, emacs, mousepad, ...
    return None


def _start_detached(command: Sequence[str]) -> None:
    # Its own session: the text editor outlives neither a Ctrl+C nor a crash of ours.
    subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _open_with_system(url: QUrl) -> bool:
    return QDesktopServices.openUrl(url)


class ScriptOpener(QObject):
    """Opens files at a line in the user's text editor (see the module's docstring).

    Args:
        settings: the app-wide settings (``textEditor/command``).
        parent: the owning QObject.

    Attributes:
        launch: starts an editor command (tests replace it: no real editor runs).
        open_url: the system opener (tests replace it).
        environ: where ``VISUAL`` and ``EDITOR`` are read.

    Signals:
        statusReported(str, str, float): a message for the status bar.
    """

    statusReported = Signal(str, str, float)

    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.launch: Callable[[Sequence[str]], None] = _start_detached
        self.open_url: Callable[[QUrl], bool] = _open_with_system
        self.environ: Mapping[str, str] = os.environ

    @property
    def configured_command(self) -> str:
        """The text editor command set in the settings (``""``: none)."""
        return str(self._settings.value(EDITOR_COMMAND_KEY, "") or "")

    @configured_command.setter
    def configured_command(self, command: str) -> None:
        self._settings.setValue(EDITOR_COMMAND_KEY, command)

    def open(self, path: str, line: int) -> None:
        """Open `path` at `line`; what cannot be started is reported, not raised."""
        if not Path(path).is_file():
            self.statusReported.emit(f"{path}: no such file", "warning", STATUS_SECONDS)
            return
        command = editor_command(path, line, self.configured_command, self.environ)
        if command is not None:
            try:
                self.launch(command)
            except OSError as exc:
                log.warning("cannot start the text editor %s: %s", command[0], exc)
                self.statusReported.emit(
                    f"cannot start {command[0]}: {exc.strerror or exc}", "error", STATUS_SECONDS
                )
            return
        if not self.open_url(QUrl.fromLocalFile(path)):
            self.statusReported.emit(
                f"no application opens {Path(path).name}: set a text editor command "
                f"({EDITOR_COMMAND_KEY}) or $VISUAL",
                "warning",
                STATUS_SECONDS,
            )
