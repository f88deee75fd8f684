"""The ``hotplay`` command (also ``python -m runtime``).

``play`` runs a scene (headless here; windowed with the player window),
``new`` makes a project from the template, ``build`` compiles plugins for a profile.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runtime.profiles import BuildProfile

log = logging.getLogger("hotplay.cli")


def _default_project() -> Path:
    """The current folder when it is a project, else this repository's sample project."""
    cwd = Path.cwd()
    if (cwd / "hotplay.toml").is_file():
        return cwd
    return Path(__file__).resolve().parent.parent


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


def _report_text(report: Any) -> str:
    """A reload report for the terminal: one line, its warnings, or on failure the error."""
    if not report.ok:
        return str(report.details())
    return "\n".join([str(report), *(f"  warning: {n}" for n in report.warnings)])


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _profile(text: str) -> BuildProfile:
    try:
        return BuildProfile.parse(text)
    except ValueError as exc:
        raise _UserError(str(exc)) from None


def cmd_play(args: argparse.Namespace) -> int:
    """``hotplay play``."""
    from runtime.game import Game, tune_gc
    from runtime.project import ProjectError
    from runtime.scenefile import SceneFileError

    tune_gc()
    profile = _profile(args.profile)
    project = args.project if args.project is not None else _default_project()
    # The player module runs windows, the editor's headless child, and Release (from its build).
    if not args.headless or args.channel or profile.precompiled:
        try:
            from runtime.player_window import run_player
        except ImportError as exc:
            raise _UserError(
                f"the windowed player is not available ({exc}); use --headless"
            ) from None
        return run_player(args, profile, project)
    t0 = time.perf_counter()
    try:
        game = Game(project, profile=profile, scene=args.scene, quiet_ms=args.quiet_ms)
    except (ProjectError, SceneFileError) as exc:
        raise _UserError(str(exc)) from None
    # SIGTERM (a process manager, `timeout`) ends the run like Ctrl+C: summary, clean close.
    signal.signal(signal.SIGTERM, _interrupt)
    if not args.verbose:
        # Each reload is printed below, warnings and errors included; the reload
        # logger's lines on stderr would say it all twice.
        logging.getLogger("hotplay.reload").setLevel(logging.CRITICAL)
    with game:
        game.on_reload(
            lambda report: print(f"[frame {game.frame}] {_report_text(report)}", flush=True)
        )
        if profile.hot_reload:
            print(f"watching {game.project.plugins_dir} for changes (Ctrl+C to stop)", flush=True)
        realtime = args.realtime if args.realtime is not None else args.frames is None
        started = time.perf_counter()
        frames = game.run(args.frames, realtime=realtime)
        wall = time.perf_counter() - started
        print(game.summary(frames, wall, started - t0), flush=True)
        failed = sorted(game.plugins.errors)
    if failed:
        # Logged as errors at start-up; a run whose plugins did not load is not a success.
        print(f"plugins that failed to load: {', '.join(failed)}", file=sys.stderr, flush=True)
        return 1
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    """``hotplay new DIR``."""
    from runtime.template import TemplateError, create_project

    try:
        root = create_project(args.dir, name=args.name)
    except TemplateError as exc:
        raise _UserError(str(exc)) from None
    python = _python_command()
    where = shlex.quote(str(root))
    print(f"created project {root}")
    print(f"  run it:   {python} -m runtime play --project {where} --headless --frames 60")
    print(f"  edit it:  {python} -m editor {where}")
    return 0


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
