"""The ``hotplay`` command (also ``python -m runtime``).

``play`` runs a scene (headless, or in the player window; both through
`runtime.player`), ``new`` makes a project from the template, ``build``
compiles plugins for a profile.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from runtime.profiles import BuildProfile
from runtime.project import PROJECT_FILE, shell_command

log = logging.getLogger("hotplay.cli")


def _default_project() -> Path:
    """The current folder when it is a project, else the sample of a source checkout.

    Raises:
        _UserError: neither is a project (an installed Hotplay has no sample
            project of its own next to its code).
    """
    cwd = Path.cwd()
    if (cwd / PROJECT_FILE).is_file():
        return cwd
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / PROJECT_FILE).is_file():
        return checkout
    raise _UserError(
        f"{cwd} is not a Hotplay project: pass --project DIR, "
        f"or make one with: {shell_command('hotplay', 'runtime')} new DIR"
    )


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="hotplay", description="Hotplay: a 2D game runtime with code hot reloading."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    play = sub.add_parser("play", help="run a scene of a project")
    play.add_argument(
        "--project",
        type=Path,
        default=None,
        help="project folder (default: the current folder if it is a project, "
        "else the sample project)",
    )
    play.add_argument(
        "--scene",
        default=None,
        help="scene file, relative to the project (default: its main scene)",
    )
    play.add_argument(
        "--profile",
        default="debug",
        help="debug, debug-hr (hot reload) or release (default: debug)",
    )
    play.add_argument("--headless", action="store_true", help="run without a window")
    play.add_argument(
        "--frames",
        type=int,
        default=None,
        help="stop after N frames (default: run until interrupted)",
    )
    pace = play.add_mutually_exclusive_group()
    pace.add_argument(
        "--realtime",
        dest="realtime",
        action="store_true",
        default=None,
        help="pace frames to real time (default unless --frames is given)",
    )
    pace.add_argument(
        "--no-realtime",
        dest="realtime",
        action="store_false",
        help="run frames as fast as possible",
    )
    play.add_argument(
        "--quiet-ms",
        type=float,
        default=None,
        help="watcher quiet window in milliseconds (Debug (HR))",
    )
    play.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long a call into game code, or a frame, may run before it is interrupted "
        "or the game pauses (0: off; default: the project's [budget] seconds, off in Release)",
    )
    play.add_argument(
        "--look-ahead",
        type=int,
        default=None,
        metavar="FRAMES",
        help="frames a reload runs the new code ahead, on a copy, before it commits "
        "(0: off; default: the project's [reload] look_ahead_frames, off when unset)",
    )
    play.add_argument("--show-fps", action="store_true", help="show frames per second")
    play.add_argument("--channel", default=None, help=argparse.SUPPRESS)
    play.add_argument("--build-dir", type=Path, default=None, help=argparse.SUPPRESS)
    play.add_argument("-v", "--verbose", action="store_true", help="log debug messages")

    new = sub.add_parser("new", help="create a new project from the template")
    new.add_argument("dir", type=Path, help="folder to create (must be empty or absent)")
    new.add_argument("--name", default=None, help="project name (default: the folder name)")

    build = sub.add_parser("build", help="compile a project's plugins for a profile")
    build.add_argument(
        "--project",
        type=Path,
        default=None,
        help="project folder (default: the current folder if it is a project, "
        "else the sample project)",
    )
    build.add_argument(
        "--profile",
        default="debug",
        help="debug, debug-hr or release (default: debug); release writes the bytecode "
        "that Release runs to build/release/",
    )
    return parser


def setup_logging(verbose: bool = False) -> None:
    """Log runtime and plugin messages to stderr, one line each."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    setup_logging(getattr(args, "verbose", False))
    try:
        if args.command == "new":
            return cmd_new(args)
        if args.command == "build":
            return cmd_build(args)
        return cmd_play(args)
    except KeyboardInterrupt:
        return 130
    except _UserError as exc:
        print(f"hotplay: error: {exc}", file=sys.stderr)
        return 1


class _UserError(Exception):
    pass


def _profile(text: str) -> BuildProfile:
    try:
        return BuildProfile.parse(text)
    except ValueError as exc:
        raise _UserError(str(exc)) from None


def cmd_play(args: argparse.Namespace) -> int:
    """``hotplay play``: headless here, or in the player window (`runtime.qt`).

    Every form starts and runs through `runtime.player.run_player`; Qt is
    imported only when a window is asked for, so a headless run, the editor's
    child and Release need no PySide6.
    """
    from runtime.game import tune_gc
    from runtime.player import WindowRunner, run_player

    before = set(threading.enumerate())
    tune_gc()
    profile = _profile(args.profile)
    project = args.project if args.project is not None else _default_project()
    window: WindowRunner | None = None
    if not args.headless:
        try:
            from runtime.qt.player_window import run_window
        except ImportError as exc:
            raise _UserError(
                f"the windowed player is not available ({exc}); use --headless"
            ) from None
        window = run_window
    code = run_player(args, profile, project, window=window)
    from runtime.guard import exit_past_stray_threads

    exit_past_stray_threads(before, code)
    return code


def cmd_new(args: argparse.Namespace) -> int:
    """``hotplay new DIR``."""
    from runtime.template import TemplateError, create_project

    try:
        root = create_project(args.dir, name=args.name)
    except TemplateError as exc:
        raise _UserError(str(exc)) from None
    where = shlex.quote(str(root))
    play = shell_command("hotplay", "runtime")
    print(f"created project {root}")
    print(f"  run it:   {play} play --project {where} --headless --frames 60")
    print(f"  edit it:  {shell_command('hotplay-editor', 'editor')} {where}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    """``hotplay build``: compile every plugin source and report every error."""
    try:
        from runtime.build import build_project
    except ImportError as exc:
        raise _UserError(f"building is not available ({exc})") from None
    project = args.project if args.project is not None else _default_project()
    result = build_project(project, _profile(args.profile))
    for line in result.lines():
        print(line)
    return 0 if result.ok else 1
