"""``python -m editor [PROJECT_DIR]`` / ``hotplay-editor``: open the Hotplay editor.

Environment:
    HOTPLAY_EDITOR_EXIT_AFTER_SHOW: when ``1``, print the seconds from process
        start to the first shown window (one number on stdout), then close the
        window and exit with 0. A recovery file is kept, not asked about. For
        timing start-up with the real command.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from runtime import BuildProfile, ProjectError

if TYPE_CHECKING:
    from PySide6.QtCore import QCoreApplication, QTimer
    from PySide6.QtWidgets import QWidget

    from editor.projects import OpenWindows

# The earliest moment this module sees, for when the OS cannot say when the
# process started (see `_seconds_since_process_start`).
_IMPORTED_AT = time.monotonic()


def main(argv: Sequence[str] | None = None) -> int:
    """Open the editor on a project, or on the welcome page when there is none.

    Without an argument: the current folder when it is a project, else the
    sample project of a source checkout (`editor.projects.default_project`),
    else the welcome page.

    Returns:
        The exit code: 0, or 2 when the folder is not a Hotplay project.
    """
    parser = argparse.ArgumentParser(
        prog="hotplay-editor",
        description="Open the Hotplay editor on a project (python -m editor does the same).",
        epilog="environment: HOTPLAY_EDITOR_EXIT_AFTER_SHOW=1 prints the seconds from process "
        "start to the first shown window, then closes it (for timing start-up).",
    )
    parser.add_argument(
        "project",
        nargs="?",
        help="project folder (default: the current folder when it is a project, else the "
        "welcome page, which opens a new project, a recent one or a copy of the sample game)",
    )
    parser.add_argument("--scene", help="scene file to open instead of the project's main scene")
    parser.add_argument(
        "--profile",
        type=BuildProfile.parse,
        default=None,
        help="build profile: debug, debug-hr or release (default: the last one used)",
    )
    args = parser.parse_args(argv)
    threads_before = set(threading.enumerate())
    exit_after_show = os.environ.get("HOTPLAY_EDITOR_EXIT_AFTER_SHOW") == "1"

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from editor.projects import OpenWindows, app_settings, default_project
    from editor.recovery import RecoveryChoice
    from editor.theme import apply_dark_theme
    from runtime.game import tune_gc

    tune_gc()

    if QApplication.instance() is None:
        problem = _display_problem()
        if problem is not None:
            # Qt would abort with a message that blames a library it did not need.
            print(f"hotplay-editor: {problem}", file=sys.stderr)
            return 1
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Hotplay Editor")
    app.setOrganizationName("Hotplay")
    apply_dark_theme(app)  # type: ignore[arg-type]
    windows = OpenWindows(
        app_settings(),
        # A timed start must not wait for a person: keep any recovery file.
        recovery_policy=(lambda _info: RecoveryChoice.LATER) if exit_after_show else None,
    )
    project = args.project if args.project is not None else default_project()
    window: QWidget
    if project is None:
        window = windows.show_welcome()
    else:
        try:
            window = windows.open_project(project, scene=args.scene, profile=args.profile)
        except ProjectError as exc:
            print(f"hotplay-editor: {exc}", file=sys.stderr)
            if not _headless():
                QMessageBox.critical(None, "Not a Hotplay project", str(exc))
            return 2
    if exit_after_show:

        def report_and_close() -> None:
            # Runs once the event loop has handled the show (layout, first expose).
            print(f"{_seconds_since_process_start():.3f}", flush=True)
            window.close()  # the clean path: stops the game and its threads

        QTimer.singleShot(0, report_and_close)
    _end_session_on_signals(app, windows)
    code = app.exec()
    from runtime.guard import exit_past_stray_threads

    # A thread a plugin started and never stopped must not keep the closed editor alive.
    exit_past_stray_threads(threads_before, code)
    return code


def _end_session_on_signals(app: QCoreApplication, windows: OpenWindows) -> QTimer:
    """SIGTERM, SIGHUP (logout, a process manager) and Ctrl+C keep unsaved edits for recovery.

    Python runs signal handlers only when it gets control, and Qt's event loop
    is C++: a short timer gives Python that chance a few times a second. The
    terminal's Ctrl+C (SIGINT) would otherwise raise ``KeyboardInterrupt`` in
    whatever slot runs, which Qt prints and the editor survives: the user asked
    it to stop, so it ends the session like SIGTERM. Game code raising
    ``KeyboardInterrupt`` itself is not a signal and stays its script's error.
    """

    def on_signal(signum: int, _frame: object) -> None:
        windows.end_session()
        app.quit()

    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_signal)
    from PySide6.QtCore import QTimer

    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(250)
    return wake


def _seconds_since_process_start() -> float:
    """Seconds since the OS started this process (Linux: /proc), else since import."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            # Field 22, after the parenthesised command name (which may hold spaces).
            start_ticks = int(f.read().rpartition(")")[2].split()[19])
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        seconds = uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        seconds = -1.0
    # Both clocks tick in 10 ms steps; a container can also disagree about boot time.
    return seconds if seconds >= 0 else time.monotonic() - _IMPORTED_AT


#: The Debian/Ubuntu packages of the libraries Qt's X11 (xcb) platform plugin needs.
XCB_PACKAGES = (
    "libegl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 "
    "libxcb-image0 libxcb-render-util0 libxcb-shape0"
)


def _display_problem() -> str | None:
    """Why Qt could not open a window here (Linux, X11), or ``None`` when it can try.

    Qt aborts the process when its platform plugin does not load, with a message
    that names ``xcb-cursor0`` whatever is missing, even the display itself.
    """
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or platform not in ("", "xcb"):
        return None
    if platform == "" and os.environ.get("WAYLAND_DISPLAY"):
        return None  # Qt tries Wayland first
    if not os.environ.get("DISPLAY"):
        return (
            "no display to open the editor on (DISPLAY is not set): run it in a desktop "
            "session, under `xvfb-run -a`, or with QT_QPA_PLATFORM=offscreen"
        )
    import ctypes
    from pathlib import Path

    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        return None
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        return (
            f"Qt's X11 platform plugin cannot load: {exc}. Install Qt's X11 libraries "
            f"(Debian, Ubuntu: sudo apt-get install {XCB_PACKAGES}); "
            "see docs/troubleshooting.md"
        )
    return None


def _headless() -> bool:
    """Whether no one can see a dialog (offscreen or minimal Qt platform): stderr must do."""
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.platformName() in ("offscreen", "minimal")


if __name__ == "__main__":
    sys.exit(main())
