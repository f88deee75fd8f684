"""The player without Qt: `PlayerSession`, the headless loop, and `run_player`.

`run_player` is what `runtime.cli` runs for every ``python -m runtime play``:

- ``play --headless``: `run_headless` runs the frames (paced to real time, or
  as fast as they go) until ``--frames``, SIGTERM or Ctrl+C;
- ``play --headless --channel HOST:PORT``: the editor's headless child, the
  same loop, reading the editor's commands from the channel between frames;
- ``play``: the window of `runtime.qt.player_window` drives the same session;
  `runtime.cli` passes it in, so this module imports no Qt.

Release runs any of them from its build (``--build-dir``, or the project's
``build/release/``), after checking that the build exists. Each form runs one
`PlayerSession`: a `Game`, the editor channel (`runtime.channel`) when there is
one, pause/step/stop commands, statistics once a second, the scene tree and
single entities on request, the live inspector's edits (applied before the
next frame), Debug <-> Debug (HR) switched while playing (``watch``), and each
hot reload report printed to stdout (``[frame N] <report>``,
then its warnings, or the details of a failure) and sent to the editor. In
``Debug (HR)`` the game's own watcher picks up saved plugin files and
`Game.step` applies them between frames. A headless run ends with the summary
line of `Game.summary`.

Game code runs under the budgets of `runtime.guard` (``--budget``, or the
project's ``[budget]``; off in Release unless asked for): a call past the
budget is interrupted and its script paused, as if it had raised; a frame past
it is reported (``[frame N] paused: frame over budget ...``) and, with the
editor, pauses the game until the editor resumes it. ``ctx.quit()`` and
``sys.exit`` in game code end the run like a stop request, summary included.

The game records its history and looks ahead on reloads as the project says
(``[history] seconds``, ``[reload] look_ahead_frames``; `player_look_ahead`):
``--look-ahead FRAMES`` overrides the latter, which the editor uses to give the
player it starts the look-ahead it gives its own game.

Exit codes: 0 after ``--frames``, a stop request, ``ctx.quit()`` or ``sys.exit``
in game code, a closed window, SIGTERM or Ctrl+C; 1 when the game cannot start
or the runtime fails (the traceback goes to stderr and, when connected, to the
editor as an ``error`` message), and
after a headless run without the editor in which a plugin failed to load
(``plugins that failed to load: ...`` on stderr). A plugin calling
``os._exit(n)`` ends the process with ``n``, which the editor reports.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import logging
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from runtime.assets import AssetChange, AssetKind, AssetReload, image_problem
from runtime.channel import (
    ChannelClient,
    ChannelClosed,
    ChannelError,
    Message,
    attach_to_editor,
    entity_payload,
    error_payload,
    history_payload,
    report_payload,
    scene_tree_payload,
)
from runtime.fields import color_from_plain, declared_fields, from_plain, vec2_from_plain
from runtime.game import Game
from runtime.history import HistoryError
from runtime.import_check import DEFAULT_BUDGET as DEFAULT_CHECK_BUDGET
from runtime.import_check import ImportChecker, ImportCheckError
from runtime.profiles import BuildProfile
from runtime.project import Project
from runtime.scene import Scene, SceneError, Visual, VisualKind
from runtime.scripting import script_type_id
from runtime.values import Handle

log = logging.getLogger("hotplay.player")


class ChannelLogHandler(logging.Handler):
    """Sends log records to the editor as ``log`` messages (from any thread)."""

    def __init__(self, channel: ChannelClient, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.channel = channel
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        """Send one record (records logged while sending are dropped, not recursed into)."""
        if getattr(self._busy, "on", False):
            return  # a record logged while sending one: never recurse
        self._busy.on = True
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            self.channel.send(
                "log",
                level=record.levelno,
                logger=record.name,
                message=message,
                created=record.created,
            )
        except Exception:
            pass  # a log record the channel cannot carry is still on stderr
        finally:
            self._busy.on = False


def report_text(report: Any) -> str:
    """A reload report for the terminal: its line and warnings, or on failure the details."""
    if not report.ok:
        return str(report.details())
    return "\n".join([str(report), *(f"  warning: {n}" for n in report.warnings)])


class PlayerSession:
    """A running game and its link to the editor; no Qt (the window and the headless loop drive it).

    Args:
        game: the game to run (the session does not close it).
        channel: the connection to the editor, or ``None``.
        out: where reload reports are printed.
        clock: the wall clock (seconds).
    """

    STATS_INTERVAL = 1.0

    def __init__(
        self,
        game: Game,
        channel: ChannelClient | None = None,
        *,
        out: TextIO | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.game = game
        self.channel = channel
        self.out = out if out is not None else sys.stdout
        self.clock = clock
        self.paused = False
        self.steps_requested = 0
        self.stop_requested = False
        self.frames_run = 0
        self.fps = 0.0
        self.frame_ms = 0.0
        self._window_frames = 0
        self._window_busy = 0.0
        self._window_start = clock()
        #: Reads a changed image again: why it was not taken, or ``None``. Headless,
        #: only whether the file can be an image; the window passes its renderer's.
        self.image_loader: Callable[[str], str | None] = self._check_image
        game.on_reload(self._on_reload)
        game.on_asset_change(self._on_assets_changed)
        game.on_quit(self._on_quit)
        game.on_halt(self._on_halt)

    # --- commands from the editor -----------------------------------------------------

    def handle_messages(self) -> None:
        """Apply every command the editor sent since the last call."""
        if self.channel is None or self.channel.closed:
            return
        try:
            messages = self.channel.poll()
        except ChannelClosed as exc:
            log.info("the editor closed the channel (%s); stopping", exc)
            self.stop_requested = True
            return
        finally:
            for problem in self.channel.rejected:
                log.error("rejected a frame from the editor: %s", problem)
            self.channel.rejected.clear()
        for msg in messages:
            self._on_message(msg)

    def _on_message(self, msg: Message) -> None:
        if msg.type == "stop":
            self.stop_requested = True
        elif msg.type == "pause":
            self.paused = True
            self.send_stats()
        elif msg.type == "resume":
            self.paused = False
            self.steps_requested = 0
            self.send_stats()
        elif msg.type == "step":
            # At once, so a request that follows (the tree) sees the frames.
            self.paused = True
            self.steps_requested += max(0, min(int(msg["frames"]), 10_000))
            self.advance(self.steps_requested)
        elif msg.type == "request_tree":
            limit = msg.get("limit")
            limit = int(limit) if isinstance(limit, int) and not isinstance(limit, bool) else None
            self.send("tree", **scene_tree_payload(self.game, limit=limit))
        elif msg.type == "request_entity":
            self._send_entity(Handle(msg["handle"]))
        elif msg.type == "watch":
            self.set_hot_reload(bool(msg["on"]))
        elif msg.type in ("set_entity", "set_field"):
            self._apply_live_edit(msg)
        elif msg.type in ("preview", "rewind", "replay"):
            self._on_history_request(msg.type, int(msg["frame"]))

    def _on_history_request(self, what: str, frame: int) -> None:
        """The editor's timeline: show a recorded frame, or take the live game back to it."""
        game = self.game
        try:
            if what == "preview":
                self.send("preview", **scene_tree_payload(game, (frame, game.preview(frame))))
                return
            if what == "rewind":
                game.rewind((game.frame - frame) * game.fixed_dt)
            else:
                game.replay(frame)
        except HistoryError as exc:
            log.warning("%s refused: %s", what, exc)
            return
        self.send("tree", **scene_tree_payload(game))
        self.send_stats()

    def set_hot_reload(self, on: bool) -> None:
        """Debug (HR) on or off while playing: on applies the changes saved so far at once.

        An editor's Debug child keeps its watcher (it only notes saves, see
        `run_player`), so what was saved before HR came on is not missed.
        """
        if self.game.profile.precompiled:
            log.warning("a Release game cannot switch to hot reload: restart Play")
            return
        self.game.set_profile(BuildProfile.DEBUG_HR if on else BuildProfile.DEBUG, watch=True)
        log.info("hot reload %s", "on" if on else "off")
        if on:
            self.game.apply_pending_reloads(any_profile=True)

    def _send_entity(self, handle: Handle) -> None:
        scene = self._scene()
        e = scene.get(handle) if scene is not None else None
        self.send("entity", handle=int(handle), entity=entity_payload(e) if e else None)

    def _scene(self) -> Scene | None:
        try:
            return self.game.scene
        except LookupError:
            return None

    def _apply_live_edit(self, msg: Message) -> None:
        """An edit from the editor's live inspector; this frame is over, the next one sees it."""
        scene = self._scene()
        handle = Handle(msg["handle"])
        if scene is None or handle not in scene:
            log.warning("live edit ignored: entity %d is not in the running scene", int(handle))
            return
        try:
            if msg.type == "set_entity":
                attribute = str(msg["attribute"])
                scene.set_attr(handle, attribute, entity_value(attribute, msg.get("value")))
            else:
                s = scene[handle].scripts[int(msg["script"])]
                if script_type_id(s) != msg["script_type"]:
                    raise SceneError(f"script #{msg['script']} is no longer a {msg['script_type']}")
                spec = declared_fields(type(s))[str(msg["field"])]
                value = from_plain(msg.get("value"), spec.annotation)
                scene.set_script_field(handle, int(msg["script"]), str(msg["field"]), value)
        except (LookupError, ValueError, TypeError) as exc:
            log.warning("live edit of entity %d ignored: %s", int(handle), exc)

    # --- frames -----------------------------------------------------------------------

    def advance(self, frames: int = 1) -> int:
        """Run up to `frames` frames (fewer when paused: only requested steps); return how many."""
        if self.paused:
            frames = min(frames, self.steps_requested) if self.steps_requested else 0
            self.steps_requested -= frames
            if frames == 0:
                # Saved code still reloads while paused, so the tree shows it.
                self.game.apply_pending_reloads()
        if frames <= 0:
            return 0
        t0 = self.clock()
        self.game.step(frames)
        self._window_busy += self.clock() - t0
        self._window_frames += frames
        self.frames_run += frames
        return frames

    def tick(self, frames: int = 1) -> int:
        """One turn of the loop: commands, then frames, then statistics when due."""
        self.handle_messages()
        ran = 0 if self.stop_requested else self.advance(frames)
        self.maybe_send_stats()
        return ran

    def maybe_send_stats(self) -> None:
        """Measure FPS and frame time and send ``stats`` once per `STATS_INTERVAL`."""
        now = self.clock()
        span = now - self._window_start
        if span < self.STATS_INTERVAL:
            return
        self.fps = self._window_frames / span
        self.frame_ms = (
            self._window_busy / self._window_frames * 1000.0 if self._window_frames else 0.0
        )
        self._window_frames = 0
        self._window_busy = 0.0
        self._window_start = now
        self.send_stats()

    def stats(self) -> dict[str, Any]:
        """The ``stats`` message payload."""
        s = self.game.stats()
        return {
            "fps": float(self.fps),
            "frame_ms": float(self.frame_ms),
            "entities": int(s["entities"]),
            "frame": int(s["frame"]),
            "time": float(s["time"]),
            "reloads": int(s["reloads"]),
            "paused": self.paused,
            **history_payload(self.game),
        }

    def send_stats(self) -> None:
        """Send the statistics now."""
        self.send("stats", **self.stats())

    def send(self, msg_type: str, **payload: Any) -> None:
        """Send a message to the editor, if connected (encoding problems are logged)."""
        if self.channel is None or self.channel.closed:
            return
        try:
            self.channel.send(msg_type, **payload)
        except ChannelError as exc:
            log.error("could not send %s to the editor: %s", msg_type, exc)

    def _on_quit(self, reason: str) -> None:
        # ctx.quit() or sys.exit in game code: the loop ends as for a stop request.
        self.stop_requested = True

    def _on_halt(self, reason: str) -> None:
        # A frame went over the budget (logged, so the editor's log panel shows it). With
        # the editor, the game pauses until it resumes; alone, the player reports and goes on.
        print(f"[frame {self.game.frame}] paused: {reason}", file=self.out, flush=True)
        self.game.resume_after_halt()
        if self.channel is not None and not self.channel.closed:
            self.paused = True
            self.steps_requested = 0
            self.send_stats()

    def _on_reload(self, report: Any) -> None:
        print(f"[frame {self.game.frame}] {report_text(report)}", file=self.out, flush=True)
        self.send("reload", report=report_payload(report))

    def _check_image(self, rel: str) -> str | None:
        path = self.game.project.assets_dir / rel
        return image_problem(path) if path.exists() else None

    def _on_assets_changed(self, changes: list[AssetChange]) -> None:
        """Images changed on disk: reload them, print it and tell the editor.

        A changed scene file does not touch the running game, which plays its own copy.
        """
        for change in changes:
            if change.kind is not AssetKind.IMAGE:
                continue
            result = AssetReload(change.path, change.kind, self.image_loader(change.path) or "")
            print(f"[frame {self.game.frame}] {result}", file=self.out, flush=True)
            self.send("asset", path=result.path, kind=result.kind.value, error=result.error)


def entity_value(attribute: str, data: Any) -> Any:
    """An entity attribute's value from a live edit's plain data (`runtime.channel`).

    Raises:
        ValueError: the data does not fit the attribute (or it is not editable).
    """
    if attribute == "name":
        if type(data) is not str or not data:
            raise ValueError("a name must be a non-empty string")
        return data
    if attribute == "enabled":
        if type(data) is not bool:
            raise ValueError("enabled must be true or false")
        return data
    if attribute in ("position", "scale"):
        return vec2_from_plain(data)
    if attribute == "rotation":
        if type(data) not in (int, float):
            raise ValueError("rotation must be a number")
        return float(data)
    if attribute == "visual":
        return None if data is None else visual_from_plain(data)
    raise ValueError(f"{attribute!r} is not an editable entity attribute")


def visual_from_plain(data: Any) -> Visual:
    """A `Visual` from its scene-file map (kind, size, color, z, image, text, font_size)."""
    if type(data) is not dict:
        raise ValueError("a visual must be a map")
    v = Visual(kind=VisualKind(data.get("kind", "rect")))
    if "size" in data:
        v.size = vec2_from_plain(data["size"])
    if "color" in data:
        v.color = color_from_plain(data["color"])
    z = data.get("z", 0)
    if type(z) is not int:
        raise ValueError("a visual's z must be an integer")
    v.z = z
    v.image = str(data.get("image", ""))
    v.text = str(data.get("text", ""))
    v.font_size = float(data.get("font_size", v.font_size))
    return v


# --- the headless loop ----------------------------------------------------------------------


def run_headless(session: PlayerSession, frames: int | None, *, realtime: bool) -> None:
    """Run the session without a window until `frames`, a stop request, SIGTERM or Ctrl+C.

    Args:
        session: the game and its channel.
        frames: stop after this many frames (``None``: until stopped).
        realtime: pace frames to the game's fixed step; otherwise run them as
            fast as they go. Either way the channel is read between frames.
    """
    dt = session.game.fixed_dt

    def on_term(*_: object) -> None:
        # A flag, not an exception: raised inside plugin code, KeyboardInterrupt
        # would count as that script's error and the game would go on.
        session.stop_requested = True

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        next_at = time.perf_counter()
        while not session.stop_requested and (frames is None or session.frames_run < frames):
            session.tick(1)
            if not realtime:
                continue
            next_at += dt
            if next_at < time.perf_counter():
                next_at = time.perf_counter()  # fell behind: do not try to catch up
                continue
            _wait_until(session, next_at)
    except KeyboardInterrupt:
        session.stop_requested = True  # Ctrl+C ends the run like SIGTERM: summary, clean close
    finally:
        signal.signal(signal.SIGTERM, previous)


def _wait_until(session: PlayerSession, deadline: float) -> None:
    """Wait for the next frame, handling editor commands as they arrive."""
    while not session.stop_requested:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return
        channel = session.channel
        if channel is None or channel.closed:
            time.sleep(remaining)
            return
        readable, _, _ = select.select([channel], [], [], remaining)
        if readable:
            session.handle_messages()


# --- start-up -------------------------------------------------------------------------------

#: Runs a started session in a window until it closes and returns the exit code
#: (`runtime.qt.player_window.run_window`).
WindowRunner = Callable[[PlayerSession, argparse.Namespace], int]


def run_player(
    args: argparse.Namespace,
    profile: BuildProfile,
    project: Path,
    *,
    window: WindowRunner | None = None,
) -> int:
    """Start the game and run ``hotplay play``: headless, or in `window` when given.

    Args:
        args: the parsed ``play`` arguments (`runtime.cli.build_parser`).
        profile: the build profile.
        project: the project folder.
        window: runs the session in a window; ``None`` runs the headless loop.

    Returns:
        The process exit code.
    """
    t0 = time.perf_counter()
    from runtime.build import MANIFEST, release_dir, stale_sources
    from runtime.project import ProjectError
    from runtime.scenefile import SceneFileError

    # A crash in native code (a C extension, Qt) then prints the Python stack of
    # every thread to stderr, which the editor shows, instead of dying silently.
    faulthandler.enable()

    channel: ChannelClient | None = None
    if args.channel:
        token = attach_to_editor()  # the token from stdin; the player ends with the editor
        try:
            channel = ChannelClient.connect(
                args.channel, token, profile=profile.value, scene=str(args.scene or "")
            )
        except (OSError, ValueError) as exc:
            print(
                f"hotplay: error: cannot reach the editor at {args.channel}: {exc}", file=sys.stderr
            )
            return 1
    handler = ChannelLogHandler(channel) if channel is not None else None
    root_logger = logging.getLogger()
    if handler is not None:
        root_logger.addHandler(handler)
    if not getattr(args, "verbose", False):
        # Each reload is printed, warnings and errors included: its log lines on
        # stderr would say it twice. With the editor, warnings and errors still go
        # to its log panel.
        level = logging.WARNING if channel is not None else logging.CRITICAL
        logging.getLogger("hotplay.reload").setLevel(level)

    def fail(exc: BaseException, *, with_traceback: bool) -> int:
        if with_traceback:
            traceback.print_exception(exc, file=sys.stderr)
        else:
            print(f"hotplay: error: {exc}", file=sys.stderr)
        sys.stderr.flush()
        if channel is not None and not channel.closed:
            with contextlib.suppress(ChannelError):
                channel.send("error", **error_payload(exc))
            channel.flush(1.0)
        return 1

    try:
        try:
            bytecode_dir: Path | None = None
            proj = Project.open(project)
            if profile.precompiled:
                bytecode_dir = Path(args.build_dir) if args.build_dir else release_dir(proj)
                if not (bytecode_dir / MANIFEST).is_file():
                    raise ProjectError(
                        f"no Release build in {bytecode_dir}: "
                        f"run `python -m runtime build --profile release` first"
                    )
                if not sys.flags.optimize:
                    log.warning("the Release profile should run under `python -O`")
                stale = stale_sources(bytecode_dir, proj.plugins_dir)
                if stale:
                    log.warning(
                        "changed since the last Release build (not running): %s", ", ".join(stale)
                    )
            game = Game(
                proj,
                profile=profile,
                scene=args.scene,
                quiet_ms=args.quiet_ms,
                bytecode_dir=bytecode_dir,
                # The editor's Debug child notes saves too (they wait in the queue),
                # so switching to Debug (HR) while playing applies them at once.
                watch=profile.hot_reload or (channel is not None and not profile.precompiled),
                budget=player_budget(getattr(args, "budget", None), profile, proj),
                look_ahead_frames=player_look_ahead(getattr(args, "look_ahead", None), proj),
                exit_ends_game=True,
            )
        except (ProjectError, SceneFileError) as exc:
            return fail(exc, with_traceback=False)
        except Exception as exc:
            return fail(exc, with_traceback=True)
        with game, _reloads_import_checked(game):
            session = PlayerSession(game, channel)
            if profile.hot_reload:
                stop_hint = " (Ctrl+C to stop)" if window is None and channel is None else ""
                print(f"watching {game.project.plugins_dir} for changes{stop_hint}", flush=True)
            try:
                if window is not None:
                    return window(session, args)
                return _play_headless(session, args, t0)
            except Exception as exc:
                return fail(exc, with_traceback=True)
    finally:
        if handler is not None:
            root_logger.removeHandler(handler)
        if channel is not None:
            channel.flush(1.0)
            channel.close()


@contextlib.contextmanager
def _reloads_import_checked(game: Game) -> Iterator[None]:
    """Saved code is imported in a disposable process before the player imports it.

    A save that would end the player (``os._exit``, a segfault at import) or hang
    its import is then a refused reload, reported like any other, and the game
    goes on with its code, as in the editor. Not for Release, which never reloads.
    """
    if game.profile.precompiled:
        yield
        return
    try:
        checker = ImportChecker(budget=game.guard.budget or DEFAULT_CHECK_BUDGET)
    except ImportCheckError as exc:
        log.warning("saved code will be imported without a check first: %s", exc)
        yield
        return
    game.set_import_check(checker.check)
    try:
        yield
    finally:
        game.set_import_check(None)
        checker.close()


def player_budget(asked: float | None, profile: BuildProfile, project: Project) -> float | None:
    """The game code budget of a player run, in seconds (``None``: off).

    ``--budget`` when given (``0``: off); else the project's ``[budget] seconds``,
    except in Release, where budgets are off unless ``[budget] in_release`` is set.
    """
    if asked is not None:
        return asked if asked > 0 else None
    if profile.precompiled and not project.budget_in_release:
        return None
    return project.budget_seconds


def player_look_ahead(asked: int | None, project: Project) -> int:
    """The look-ahead of a player run, in frames: ``--look-ahead`` when given, else the project's.

    The player is the runtime: unless the project sets ``[reload] look_ahead_frames``
    it does not look ahead. The editor passes ``--look-ahead`` to the player it
    starts, as it sets it for the game it plays itself.
    """
    if asked is not None:
        return max(0, asked)
    return project.look_ahead_frames or 0


def _play_headless(session: PlayerSession, args: argparse.Namespace, t0: float) -> int:
    """The headless run: the loop, the summary line, and the verdict on plugin loading."""
    game = session.game
    realtime = args.realtime if args.realtime is not None else args.frames is None
    started = time.perf_counter()
    run_headless(session, args.frames, realtime=realtime)
    wall = time.perf_counter() - started
    print(game.summary(session.frames_run, wall, started - t0), flush=True)
    failed = sorted(game.plugins.errors)
    if failed and session.channel is None:
        # Logged as errors at start-up; a run whose plugins did not load is not a
        # success. The editor shows those errors in its log and judges its child itself.
        print(f"plugins that failed to load: {', '.join(failed)}", file=sys.stderr, flush=True)
        return 1
    return 0
