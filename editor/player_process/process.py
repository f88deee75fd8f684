"""The player child process: start, stop, kill, and what it says.

`PlayerProcess` builds the project for the profile, starts ``python -m runtime
play`` as a ``QProcess`` and talks to it over `runtime.channel` (msgpack
frames on a loopback socket, authenticated by a one-time token; see
`editor.player_process.channel_server`). Everything arrives as Qt signals on
the GUI thread; nothing here blocks except `shutdown`.

Use (`editor.player_process.install.install_separate_process` wires one into
the main window)::

    player = PlayerProcess(parent=window)
    player.log_record.connect(...)           # also build_finished, reload_report, stats, error
    player.finished.connect(on_finished)     # (exit code, stderr tail)
    player.unresponsive.connect(offer_kill)  # silent for N s: player.kill()
    result = player.start(project_root, scene_or_path, BuildProfile.DEBUG_HR)
    if not result.ok: ...                    # Play stopped on a build error
    player.pause(); player.step(); player.resume(); player.stop()
    player.shutdown()                        # closing the editor: never leave an orphan

`start` takes a scene path or an unsaved `runtime.Scene`, which it writes to a
temporary file for the child (deleted when the child ends). ``Release`` always
plays here: its child runs ``python -O`` from the build output.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QProcess, QTimer, Signal

from editor.player_process.channel_server import ChannelServer
from editor.player_process.command import (
    player_arguments,
    player_environment,
    remove_stale_play_folders,
    scene_argument,
    token_line,
)
from editor.player_process.hang import SilenceWatch
from editor.player_process.output import RecordFloodGate, StderrTail, StreamLines, describe_exit
from runtime.build import BuildResult, build_project
from runtime.channel import Message
from runtime.profiles import BuildProfile
from runtime.project import Project
from runtime.scene import Scene

log = logging.getLogger("hotplay.editor.player")

#: Frames handled at once when the child ended, so its last words are not lost.
LAST_WORDS_FRAMES = 5000


#: Entities a ``tree`` message holds at most. The editor mirrors them and rebuilds the
#: remote tree panel from them in one turn of its event loop: the tens of thousands
#: of a runaway spawner blocked it for 8.7 s (measured: 21,600 entities).
TREE_LIMIT = 1000


class PlayerProcess(QObject):
    """The game running as a child process, and its channel.

    Args:
        parent: the owning QObject (the main window).
        python: the interpreter to run the player with.
        tree_interval_ms: how often the scene tree is requested while playing
            (0: only on `request_tree`).
        stop_timeout_ms: how long `stop` waits after asking the player to quit
            before terminating it, and again before killing it.
        unresponsive_after_ms: how long a running child may send nothing
            before `unresponsive` (it sends statistics once a second, paused or
            not; between its hello and its first message,
            `editor.player_process.hang.STARTUP_GRACE_MS`).
        max_log_rate: log records passed on (`log_record`) per second; the
            rest are counted and reported in one record at the end of the second.

    Signals:
        started(): the child process is running (the channel may not be up yet).
        connected(dict): the child said hello (``pid``, ``profile``, ``scene``).
        build_finished(object): the `runtime.build.BuildResult` of `start`/`build`.
        log_record(dict): a log record of the child: ``level``, ``logger``,
            ``message``, ``created``.
        reload_report(dict): a hot reload report (`runtime.channel.report_payload`;
            ``summary`` is the one-line text).
        asset_reload(dict): an image the player reloaded (``path``, ``kind``,
            ``error``: empty when it was taken).
        stats(dict): once a second: ``fps``, ``frame_ms``, ``entities``,
            ``frame``, ``time``, ``paused``, and ``history`` when the game records
            (`runtime.channel.history_payload`).
        tree(dict): the child's scene tree (`runtime.channel.scene_tree_payload`).
        preview(dict): the scene at a recorded frame, as a tree (its ``frame``),
            the answer to `request_preview`.
        entity(int, object): one entity's data (`runtime.channel.entity_payload`,
            ``None`` when it is gone), the answer to `request_entity`.
        picked(int): the user picked an entity in the player window (its handle).
        output(str): a line the child printed on stdout.
        error(str): the child reported an error, or the channel refused data.
        finished(int, str): the child ended: exit code (negative signal number
            when it was killed by one, -1 when it could not start) and the last
            lines of its stderr.
        unresponsive(float): the running child has sent nothing for that many
            seconds (its frame never ends, or it is stuck); emitted once, until
            it answers again. `stop` then kills it at once; so does `kill`.
        responsive(): a child that was `unresponsive` answers again.
    """

    started = Signal()
    connected = Signal(dict)
    build_finished = Signal(object)
    log_record = Signal(dict)
    reload_report = Signal(dict)
    asset_reload = Signal(dict)
    stats = Signal(dict)
    tree = Signal(dict)
    preview = Signal(dict)
    entity = Signal(int, object)
    picked = Signal(int)
    output = Signal(str)
    error = Signal(str)
    finished = Signal(int, str)
    unresponsive = Signal(float)
    responsive = Signal()

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        python: str = sys.executable,
        tree_interval_ms: int = 500,
        stop_timeout_ms: int = 2000,
        unresponsive_after_ms: int = 3000,
        max_log_rate: int = 200,
    ) -> None:
        super().__init__(parent)
        self.python = python
        self.stop_timeout_ms = stop_timeout_ms
        self._process: QProcess | None = None
        self._server: ChannelServer | None = None
        self._stderr = StderrTail()
        self._stdout = StreamLines()
        self._tmpdir: Path | None = None
        for folder in remove_stale_play_folders():  # what killed editors could not delete
            log.info("deleted %s, left by an editor that is gone", folder)
        self._stop_requested = False
        self.paused = False
        self.pid: int | None = None
        self.last_exit_code: int | None = None
        self.last_arguments: list[str] = []
        self._tree_pending = False
        self._tree_timer = QTimer(self)
        self._tree_timer.setInterval(tree_interval_ms)
        self._tree_timer.timeout.connect(self._on_tree_timer)
        self._tree_interval_ms = tree_interval_ms
        self._escalate = QTimer(self)
        self._escalate.setSingleShot(True)
        self._escalate.timeout.connect(self._on_escalate)
        self._watch = SilenceWatch(unresponsive_after_ms, self)
        self._watch.unresponsive.connect(self.unresponsive)
        self._watch.responsive.connect(self.responsive)
        self._flood = RecordFloodGate(max_log_rate, log.name, self)
        self._flood.dropped.connect(self.log_record)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # --- state ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether a child process exists (starting, running or stopping)."""
        return (
            self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning
        )

    @property
    def channel_connected(self) -> bool:
        """Whether the child has said hello and its channel is open."""
        return self._server is not None and self._server.connected

    @property
    def stop_requested(self) -> bool:
        """Whether the current (or last) child was asked to stop by `stop`/`shutdown`/`kill`."""
        return self._stop_requested

    @property
    def is_unresponsive(self) -> bool:
        """Whether the running child has stopped answering (see `unresponsive`)."""
        return self._watch.is_unresponsive

    @property
    def max_log_rate(self) -> int:
        """Log records of the child passed on per second (the rest are counted, then reported)."""
        return self._flood.per_second

    @max_log_rate.setter
    def max_log_rate(self, per_second: int) -> None:
        self._flood.per_second = per_second

    @property
    def dropped_records(self) -> int:
        """Log records and errors of the child not passed on (over `max_log_rate`), in all."""
        return self._flood.dropped_records

    @property
    def unresponsive_after_ms(self) -> int:
        """How long a running child may stay silent before `unresponsive`."""
        return self._watch.after_ms

    @unresponsive_after_ms.setter
    def unresponsive_after_ms(self, ms: int) -> None:
        self._watch.after_ms = ms

    def stderr_tail(self, lines: int = 20) -> str:
        """The last `lines` lines the child wrote to stderr."""
        return self._stderr.text(lines)

    # --- build and start -----------------------------------------------------------------

    def build(self, project: str | os.PathLike[str], profile: BuildProfile) -> BuildResult:
        """Run the Build step alone (the Build button); emits `build_finished`."""
        result = build_project(project, profile)
        self.build_finished.emit(result)
        return result

    def start(
        self,
        project: str | os.PathLike[str],
        scene: str | os.PathLike[str] | Scene | None,
        profile: BuildProfile,
        *,
        headless: bool = False,
        show_fps: bool = False,
        quiet_ms: float | None = None,
        look_ahead_frames: int | None = None,
        extra_args: list[str] | tuple[str, ...] = (),
    ) -> BuildResult:
        """Build for `profile`, then start the player on `scene` (unless the build failed).

        Args:
            project: the project root.
            scene: the scene file to play, an unsaved `Scene` (written to a
                temporary file), or ``None`` for the project's main scene.
            profile: the build profile.
            headless: run the player without its window.
            show_fps: ask the player window to show FPS.
            quiet_ms: the player's watcher quiet window (``Debug (HR)``).
            look_ahead_frames: frames a reload tries the new code ahead (``None``:
                the project's setting).
            extra_args: more ``play`` arguments.

        Returns:
            The build result; when ``not result.ok`` nothing was started.

        Raises:
            RuntimeError: a player is already running.
        """
        if self.running:
            raise RuntimeError("a player is already running: stop it first")
        result = self.build(project, profile)
        if not result.ok:
            first = result.errors[0]
            self.error.emit(f"Play stopped: the build failed at {first}")
            return result
        root = Project.open(project).root
        self._reset()
        scene_arg, tmpdir = scene_argument(scene)
        if tmpdir is not None:
            self._tmpdir = tmpdir
        token = secrets.token_urlsafe(32)
        server = ChannelServer(token, self)
        server.authenticated.connect(self._on_authenticated)
        server.message.connect(self._on_message)
        server.rejected.connect(self._on_rejected)
        server.disconnected.connect(self._on_channel_closed)
        address = server.listen()
        self._server = server

        build_dir = result.output_dir if profile.precompiled else None
        args = player_arguments(
            root,
            profile,
            address,
            scene=scene_arg,
            headless=headless,
            show_fps=show_fps,
            quiet_ms=quiet_ms,
            build_dir=build_dir,
            look_ahead_frames=look_ahead_frames,
            extra_args=extra_args,
        )
        self.last_arguments = args
        env = player_environment()

        proc = QProcess(self)
        proc.setProcessEnvironment(env)
        proc.setProgram(self.python)
        proc.setArguments(args)
        # Release runs from its build output, as a shipped game would.
        cwd = result.output_dir if profile.precompiled and result.output_dir else root
        proc.setWorkingDirectory(str(cwd))
        proc.started.connect(self._on_started)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_process_error)
        proc.readyReadStandardOutput.connect(self._on_stdout)
        proc.readyReadStandardError.connect(self._on_stderr)
        self._process = proc
        log.info("starting the player: %s %s", self.python, " ".join(args))
        proc.start()
        # The token goes down stdin, never the environment (readable in /proc by
        # any process of this user). The pipe stays open while the editor lives:
        # its end-of-file is how the child learns that the editor is gone.
        proc.write(token_line(token))
        return result

    def _reset(self) -> None:
        self._stderr.clear()
        self._stdout = StreamLines()
        self._stop_requested = False
        self.paused = False
        self.pid = None
        self._tree_pending = False
        self._watch.reset()

    # --- commands -------------------------------------------------------------------------

    def pause(self) -> None:
        """Stop advancing frames in the player."""
        if self._send("pause"):
            self.paused = True

    def resume(self) -> None:
        """Continue after `pause`."""
        if self._send("resume"):
            self.paused = False

    def step(self, frames: int = 1) -> None:
        """Run `frames` frames and stay paused."""
        if self._send("step", frames=frames):
            self.paused = True

    def request_tree(self) -> None:
        """Ask the player for its scene tree, `TREE_LIMIT` entities at most (answered by `tree`)."""
        if self._send("request_tree", limit=TREE_LIMIT):
            self._tree_pending = True

    def request_entity(self, handle: int) -> None:
        """Ask the player for one entity's data (answered by `entity`)."""
        self._send("request_entity", handle=int(handle))

    def request_preview(self, frame: int) -> None:
        """Ask for the state at a recorded frame (answered by `preview`)."""
        self._send("preview", frame=int(frame))

    def rewind_to(self, frame: int) -> None:
        """Take the player's game back to a recorded frame (a ``tree`` follows)."""
        self._send("rewind", frame=int(frame))

    def replay_from(self, frame: int) -> None:
        """Take the game back to a recorded frame and play the recorded input up to now."""
        self._send("replay", frame=int(frame))

    def set_hot_reload(self, on: bool) -> None:
        """Switch the player between Debug and Debug (HR) while it plays."""
        self._send("watch", on=bool(on))

    def set_entity_attribute(self, handle: int, attribute: str, value: Any) -> bool:
        """A live edit of an entity attribute, as plain data; the game's next frame sees it."""
        return self._send("set_entity", handle=int(handle), attribute=attribute, value=value)

    def set_script_field(
        self, handle: int, index: int, type_id: str, field: str, value: Any
    ) -> bool:
        """A live edit of a script field, as plain data; the game's next frame sees it."""
        return self._send(
            "set_field",
            handle=int(handle),
            script=index,
            script_type=type_id,
            field=field,
            value=value,
        )

    def stop(self) -> None:
        """Ask the player to quit; terminate it after the timeout, then kill it.

        A player that is `unresponsive` is killed at once: its frame never ends,
        so neither the stop message nor SIGTERM's handler would run.
        """
        if not self.running:
            return
        if self._watch.is_unresponsive:
            self.kill()
            return
        self._stop_requested = True
        self._tree_timer.stop()
        self._watch.stop()
        if self._send("stop"):
            self._escalate.setProperty("next", "terminate")
            self._escalate.start(self.stop_timeout_ms)
        else:
            self._terminate()

    def shutdown(self, timeout_ms: int | None = None) -> None:
        """Stop the player now, blocking (up to about three timeouts): for closing the editor."""
        proc = self._process
        if proc is None or proc.state() == QProcess.ProcessState.NotRunning:
            return
        wait = self.stop_timeout_ms if timeout_ms is None else timeout_ms
        self._stop_requested = True
        self._tree_timer.stop()
        self._escalate.stop()
        self._watch.stop()
        if self._watch.is_unresponsive:
            # Its frame never ends: asking it, or SIGTERM, would only make the editor wait.
            proc.kill()
            proc.waitForFinished(wait)
            return
        if self._send("stop") and self._server is not None:
            self._server.flush()
        if not proc.waitForFinished(wait):
            proc.terminate()
            if not proc.waitForFinished(wait):
                proc.kill()
                proc.waitForFinished(wait)

    def kill(self) -> None:
        """Kill the player now, without asking it (for one that stopped answering).

        `finished` follows as for any end; `stop_requested` is then true, so the
        end is not reported as a crash.
        """
        if not self.running:
            return
        assert self._process is not None
        self._stop_requested = True
        self._tree_timer.stop()
        self._watch.stop()
        self._escalate.stop()
        log.warning("killing the player (pid %s)", self.pid)
        self._process.kill()

    def _send(self, msg_type: str, **payload: Any) -> bool:
        if self._server is None:
            return False
        return self._server.send(msg_type, **payload)

    def _terminate(self) -> None:
        if self.running:
            assert self._process is not None
            self._process.terminate()
            self._escalate.setProperty("next", "kill")
            self._escalate.start(self.stop_timeout_ms)

    def _on_escalate(self) -> None:
        if not self.running:
            return
        if self._escalate.property("next") == "kill":
            assert self._process is not None
            log.warning("the player did not end after terminate: killing it")
            self._process.kill()
        else:
            log.warning("the player did not quit when asked: terminating it")
            self._terminate()

    # --- process events --------------------------------------------------------------------

    def _on_started(self) -> None:
        assert self._process is not None
        self.pid = int(self._process.processId())
        self.started.emit()

    def _on_stdout(self) -> None:
        if self._process is None:
            return
        lines, cut = self._stdout.feed(bytes(self._process.readAllStandardOutput().data()))
        if cut is not None:
            lines.append(cut)
        for line in lines:
            self.output.emit(line.decode("utf-8", "replace").rstrip("\r"))

    def _on_stderr(self) -> None:
        if self._process is None:
            return
        self._stderr.feed(bytes(self._process.readAllStandardError().data()))

    def _on_process_error(self, err: QProcess.ProcessError) -> None:
        if err == QProcess.ProcessError.FailedToStart:
            assert self._process is not None
            text = f"the player could not start: {self._process.errorString()}"
            self.error.emit(text)
            self._cleanup()
            self.last_exit_code = -1
            self.finished.emit(-1, text)

    def _on_finished(self, exit_code: int, status: QProcess.ExitStatus) -> None:
        self._on_stdout()
        self._on_stderr()
        if self._server is not None:
            self._server.drain(LAST_WORDS_FRAMES)  # its last words: an error, a report
        self._flood.report_dropped()
        code = exit_code if status == QProcess.ExitStatus.NormalExit else -(exit_code or 1)
        self.last_exit_code = code
        tail = self.stderr_tail()
        self._cleanup()
        if code != 0 and not self._stop_requested:
            # The one row of a crash: the exit and the last output, when there is any.
            log.error("%s", describe_exit(code, tail))
        self.finished.emit(code, tail)

    def _cleanup(self) -> None:
        self._tree_timer.stop()
        self._escalate.stop()
        self._watch.stop()
        self._watch.reset()
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None
        if self._process is not None:
            self._process.deleteLater()
            self._process = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    # --- channel events ----------------------------------------------------------------------

    def _on_authenticated(self, hello: dict[str, Any]) -> None:
        self._watch.start(
            lambda: self._server.last_received if self._server is not None else 0.0,
            lambda: self._server is not None and self.running and not self._stop_requested,
        )
        self.connected.emit(hello)
        if self._tree_interval_ms > 0 and not self._stop_requested:
            self._tree_timer.start()
            self.request_tree()

    def _on_tree_timer(self) -> None:
        # One request at a time: a busy player is not flooded with them.
        if not self._tree_pending:
            self.request_tree()

    def _on_rejected(self, reason: str) -> None:
        log.error("player channel: %s", reason)
        self.error.emit(reason)

    def _on_channel_closed(self) -> None:
        self._tree_timer.stop()

    def _on_message(self, msg: Message) -> None:
        self._watch.heard()
        t = msg.type
        if t == "log":
            if self._flood.admit_log():
                self.log_record.emit(dict(msg.data))
        elif t == "stats":
            self.paused = bool(msg["paused"])
            self.stats.emit(dict(msg.data))
        elif t == "tree":
            self._tree_pending = False
            self.tree.emit(dict(msg.data))
        elif t == "preview":
            self.preview.emit(dict(msg.data))
        elif t == "entity":
            data = msg.get("entity")
            self.entity.emit(int(msg["handle"]), dict(data) if isinstance(data, dict) else None)
        elif t == "pick":
            self.picked.emit(int(msg["handle"]))
        elif t == "reload":
            self.reload_report.emit(dict(msg["report"]))
        elif t == "asset":
            self.asset_reload.emit(dict(msg.data))
        elif t == "error":
            if not self._flood.admit_error():
                return
            text = str(msg["message"])
            tb = msg.get("traceback")
            self.error.emit(f"{text}\n{tb}" if isinstance(tb, str) and tb else text)
