"""Playing in a separate process: the player child and the channel to it.

`PlayerProcess` builds the project for the profile, starts ``python -m runtime
play`` as a ``QProcess`` and talks to it over `runtime.channel` (msgpack
frames on a loopback socket, authenticated by a one-time token). Everything
arrives as Qt signals on the GUI thread; nothing here blocks except `shutdown`.

Wiring it into a window (the main window owns one `PlayerProcess` and one
`editor.remote_tree.RemoteTreePanel`)::

    player = PlayerProcess(parent=window)
    remote = RemoteTreePanel()
    remote.attach(player)                                  # live tree while playing
    player.build_finished.connect(lambda r: [log_panel.log(
        logging.ERROR if not r.ok else logging.INFO, line, "hotplay.build") for line in r.lines()])
    player.log_record.connect(lambda rec: log_panel.add_entry(
        LogEntry(rec["created"], rec["level"], rec["logger"], rec["message"])))
    player.reload_report.connect(lambda rep: status_bar.showMessage(rep["summary"], 5000))
    player.stats.connect(lambda s: fps_label.setText(f"{s['fps']:.0f} fps"))
    player.error.connect(lambda text: log_panel.log(logging.ERROR, text, "hotplay.player"))
    player.finished.connect(on_player_finished)            # (exit code, stderr tail)
    player.unresponsive.connect(offer_to_kill)             # silent for N s: player.kill()

    result = player.start(project_root, scene_or_path, BuildProfile.DEBUG_HR)
    if not result.ok: ...                                  # Play stopped on a build error
    player.pause(); player.step(); player.resume(); player.stop()

    # closeEvent of the window: never leave an orphan player
    player.shutdown()

`start` takes a scene path or an unsaved `runtime.Scene`, which it writes to a
temporary file for the child (deleted when the child ends). ``Release`` always
plays here: its child runs ``python -O`` from the build output.
"""

from __future__ import annotations

import collections
import contextlib
import hmac
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QCoreApplication,
    QObject,
    QProcess,
    QProcessEnvironment,
    QTimer,
    Signal,
)
from PySide6.QtNetwork import QAbstractSocket, QHostAddress, QTcpServer, QTcpSocket

import runtime
from editor.play import PlayState, PlayTarget
from runtime.build import BuildResult, build_project
from runtime.channel import (
    MAX_FRAME,
    PLAYER_MESSAGES,
    TOKEN_ENV,
    ChannelError,
    FrameDecoder,
    Message,
    encode,
)
from runtime.profiles import BuildProfile
from runtime.project import Project
from runtime.scene import Scene
from runtime.scenefile import save_scene

log = logging.getLogger("hotplay.editor.player")

#: Lines of the player's stderr kept for the crash report.
STDERR_LINES = 200
#: Longest unfinished line of the player's stdout or stderr kept (a print without newline).
PARTIAL_LINE_MAX = 64 * 1024
#: Frames handled at once when the child ended, so its last words are not lost.
LAST_WORDS_FRAMES = 5000
#: Silence allowed between the hello and the first message after it: the child says
#: hello before it loads the game (plugins, scene), which a big project takes a while to do.
STARTUP_GRACE_MS = 10_000


class RateLimit:
    """Admits at most `per_second` events in each one-second window, and counts the rest.

    Args:
        per_second: events admitted per window.
        clock: monotonic seconds.
    """

    def __init__(self, per_second: int, clock: Any = time.monotonic) -> None:
        self.per_second = per_second
        self.clock = clock
        self.dropped = 0
        self._window_start = -1e9
        self._admitted = 0

    def admit(self) -> bool:
        """Whether one more event fits in the current window (if not, it is counted)."""
        now = self.clock()
        if now - self._window_start >= 1.0:
            self._window_start = now
            self._admitted = 0
        if self._admitted < self.per_second:
            self._admitted += 1
            return True
        self.dropped += 1
        return False

    def remaining_ms(self) -> int:
        """Milliseconds until the current window ends."""
        return max(0, int((self._window_start + 1.0 - self.clock()) * 1000))

    def take_dropped(self) -> int:
        """The events turned away since the last call."""
        n, self.dropped = self.dropped, 0
        return n


class ChannelServer(QObject):
    """The editor's end of the channel: listens on 127.0.0.1 for one authenticated child.

    The first connection whose first frame is a ``hello`` with the right token
    becomes the peer; the server then stops listening. Other connections, a
    wrong token, or a first frame that is not a hello are closed and reported
    with `rejected`. Malformed frames from the peer are reported and skipped;
    a frame that breaks the stream (oversized) closes the connection.

    A flooding peer cannot freeze the editor: one turn of the event loop
    handles at most `max_frames_per_turn` frames (and `MAX_SECONDS_PER_TURN`),
    then the rest waits for a zero-timer, so paint and input events come
    between; and Qt buffers at most `READ_BUFFER` bytes of the socket, so
    beyond that TCP itself slows the player down (its `ChannelClient` then
    drops what it cannot queue).

    Signals:
        authenticated(dict): the hello payload of the accepted child.
        message(object): a validated `runtime.channel.Message` from the child.
        rejected(str): a connection or frame was refused (and why).
        disconnected(): the child's connection closed.
    """

    authenticated = Signal(dict)
    message = Signal(object)
    rejected = Signal(str)
    disconnected = Signal()

    #: Largest frame accepted before authentication (a hello is tiny).
    HELLO_MAX_FRAME = 64 * 1024
    #: Most frames handled in one turn of the event loop (the default of `max_frames_per_turn`).
    MAX_FRAMES_PER_TURN = 500
    #: Most time spent handling frames in one turn of the event loop, in seconds.
    MAX_SECONDS_PER_TURN = 0.02
    #: Bytes Qt keeps of a socket's unread data (it stops reading the socket when full).
    READ_BUFFER = 1024 * 1024
    #: Bytes taken from the socket into the decoder at a time.
    READ_CHUNK = 256 * 1024

    def __init__(
        self,
        token: str,
        parent: QObject | None = None,
        *,
        hello_timeout_ms: int = 15000,
        max_frames_per_turn: int = MAX_FRAMES_PER_TURN,
    ):
        super().__init__(parent)
        self.token = token
        self._server = QTcpServer(self)
        self._server.newConnection.connect(self._on_new_connection)
        self._candidates: dict[QTcpSocket, FrameDecoder] = {}
        self._peer: QTcpSocket | None = None
        self._decoder: FrameDecoder | None = None
        self._hello_timeout_ms = hello_timeout_ms
        self.max_frames_per_turn = max_frames_per_turn
        self._draining = False
        self._drain_scheduled = False
        self.hello: dict[str, Any] | None = None
        #: `time.monotonic` of the last bytes read from the child (0.0: none yet).
        self.last_received = 0.0
        #: How often handling frames stopped with frames left, to go on in a later turn.
        self.deferred_turns = 0

    def listen(self) -> str:
        """Start listening on a free loopback port; return ``127.0.0.1:PORT`` for the child.

        Raises:
            OSError: no port could be opened.
        """
        if not self._server.listen(QHostAddress(QHostAddress.SpecialAddress.LocalHost), 0):
            raise OSError(f"cannot listen on 127.0.0.1: {self._server.errorString()}")
        return f"127.0.0.1:{self._server.serverPort()}"

    @property
    def listening(self) -> bool:
        """Whether new connections are still accepted."""
        return self._server.isListening()

    @property
    def connected(self) -> bool:
        """Whether an authenticated child is connected."""
        return (
            self._peer is not None
            and self._peer.state() == QAbstractSocket.SocketState.ConnectedState
        )

    @property
    def backlog(self) -> int:
        """Bytes received from the child (by Qt or the decoder) and not handled yet."""
        queued = self._decoder.buffered if self._decoder is not None else 0
        if self._peer is not None:
            queued += int(self._peer.bytesAvailable())
        return queued

    def send(self, msg_type: str, **payload: Any) -> bool:
        """Send a message to the child; whether it was queued (False when not connected)."""
        if not self.connected:
            return False
        assert self._peer is not None
        self._peer.write(QByteArray(encode(msg_type, **payload)))
        return True

    def flush(self, timeout_ms: int = 200) -> None:
        """Block until queued bytes are written (used when the editor is closing)."""
        if self.connected:
            assert self._peer is not None
            self._peer.flush()
            self._peer.waitForBytesWritten(timeout_ms)

    def close(self) -> None:
        """Stop listening and drop every connection (frames not handled yet are dropped)."""
        self._server.close()
        self._decoder = None
        for sock in list(self._candidates):
            self._drop(sock)
        if self._peer is not None:
            peer, self._peer = self._peer, None
            peer.disconnected.disconnect(self._on_peer_disconnected)
            peer.abort()

    # --- connections ---------------------------------------------------------------------

    def _on_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            # Closed sockets are not deleteLater()'d: with PySide6 6.11 a socket deleted
            # that way crashed in ~QObject once its server was gone. They are children
            # of this server (one per Play, deleted after it) and go with it.
            sock.setParent(self)
            sock.setReadBufferSize(self.READ_BUFFER)
            if self._peer is not None or not sock.peerAddress().isLoopback():
                self.rejected.emit(
                    f"refused a connection from {sock.peerAddress().toString()}: "
                    "the channel already has its player"
                )
                sock.abort()
                continue
            self._candidates[sock] = FrameDecoder(PLAYER_MESSAGES, self.HELLO_MAX_FRAME)
            sock.readyRead.connect(lambda s=sock: self._on_candidate_data(s))
            sock.disconnected.connect(lambda s=sock: self._drop(s))
            QTimer.singleShot(self._hello_timeout_ms, sock, lambda s=sock: self._hello_timeout(s))

    def _hello_timeout(self, sock: QTcpSocket) -> None:
        if sock in self._candidates:
            self.rejected.emit("refused a connection: no hello in time")
            self._drop(sock)

    def _drop(self, sock: QTcpSocket) -> None:
        if self._candidates.pop(sock, None) is not None:
            sock.abort()

    def _on_candidate_data(self, sock: QTcpSocket) -> None:
        decoder = self._candidates.get(sock)
        if decoder is None:
            return
        decoder.feed(bytes(sock.readAll().data()))
        try:
            msg = decoder.next_message()
        except ChannelError as exc:
            self.rejected.emit(f"refused a connection: {exc}")
            self._drop(sock)
            return
        if msg is None:
            return
        if msg.type != "hello" or not hmac.compare_digest(
            str(msg.get("token", "")).encode(), self.token.encode()
        ):
            self.rejected.emit(
                "refused a connection: its first frame is not a hello with the token"
            )
            self._drop(sock)
            return
        # This is our child: stop listening, keep its decoder (it may hold more frames).
        del self._candidates[sock]
        sock.readyRead.disconnect()
        sock.disconnected.disconnect()
        self._server.close()
        for other in list(self._candidates):
            self._drop(other)
        self._peer = sock
        decoder.max_frame = MAX_FRAME
        self._decoder = decoder
        self.last_received = time.monotonic()
        sock.readyRead.connect(self._on_peer_data)
        sock.disconnected.connect(self._on_peer_disconnected)
        self.hello = {k: v for k, v in msg.data.items() if k != "token"}
        self.authenticated.emit(dict(self.hello))
        self.drain()

    def _on_peer_data(self) -> None:
        self.drain()

    def drain(self, max_frames: int | None = None) -> None:
        """Handle the frames received so far now, up to `max_frames` (``None``: a turn's worth).

        The player process calls it with a bigger budget when the child ended,
        so its last words (an error, a report) are not lost with the socket.
        """
        if self._draining:
            return  # called again from a slot of `message`: the outer call goes on
        self._draining = True
        try:
            self._drain_some(max_frames)
        finally:
            self._draining = False

    def _drain_some(self, max_frames: int | None) -> None:
        budget = self.max_frames_per_turn if max_frames is None else max_frames
        deadline = time.monotonic() + self.MAX_SECONDS_PER_TURN if max_frames is None else None
        while self._decoder is not None:
            if budget <= 0 or (deadline is not None and time.monotonic() > deadline):
                if self.backlog:
                    self._defer()
                return
            try:
                msg = self._decoder.next_message()
            except ChannelError as exc:
                budget -= 1
                self.rejected.emit(f"rejected a frame from the player: {exc}")
                if not exc.fatal:
                    continue  # that frame was skipped whole; go on with the next
                self._decoder = None
                if self._peer is not None:
                    self._peer.abort()
                return
            if msg is None:
                if not self._read_some():
                    return
                continue
            budget -= 1
            self.message.emit(msg)

    def _read_some(self) -> bool:
        """Move up to `READ_CHUNK` bytes from the socket to the decoder; whether there were any."""
        if self._peer is None or self._decoder is None:
            return False
        data = bytes(self._peer.read(self.READ_CHUNK).data())
        if not data:
            return False
        self._decoder.feed(data)
        self.last_received = time.monotonic()
        return True

    def _defer(self) -> None:
        # The rest waits for a zero-timer: Qt runs it once the pending window-system
        # events (paint, input) are handled, so a flooding child cannot starve them.
        self.deferred_turns += 1
        if not self._drain_scheduled:
            self._drain_scheduled = True
            QTimer.singleShot(0, self, self._on_deferred_drain)

    def _on_deferred_drain(self) -> None:
        self._drain_scheduled = False
        self.drain()

    def _on_peer_disconnected(self) -> None:
        self.disconnected.emit()


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
            not; between its hello and its first message, `STARTUP_GRACE_MS`).
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
        stats(dict): once a second: ``fps``, ``frame_ms``, ``entities``,
            ``frame``, ``time``, ``paused``.
        tree(dict): the child's scene tree (`runtime.channel.scene_tree_payload`).
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
    stats = Signal(dict)
    tree = Signal(dict)
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
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._stderr_partial = b""
        self._stdout_partial = b""
        self._tmpdir: Path | None = None
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
        self._watchdog = QTimer(self)
        self._watchdog.timeout.connect(self._on_watchdog)
        self._watchdog_ran = 0.0
        self._quiet_since = 0.0
        self._unresponsive = False
        self._heard = False  # a message came after the hello
        self.unresponsive_after_ms = unresponsive_after_ms
        self._log_limit = RateLimit(max_log_rate)
        # An `error` is rare and matters (a traceback): its own, smaller allowance.
        self._error_limit = RateLimit(max(10, max_log_rate // 10))
        self._dropped_report = QTimer(self)
        self._dropped_report.setSingleShot(True)
        self._dropped_report.timeout.connect(self._report_dropped)
        #: Log records and errors of the child not passed on (over `max_log_rate`), in all.
        self.dropped_records = 0
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
        return self._unresponsive

    @property
    def max_log_rate(self) -> int:
        """Log records of the child passed on per second (the rest are counted, then reported)."""
        return self._log_limit.per_second

    @max_log_rate.setter
    def max_log_rate(self, per_second: int) -> None:
        self._log_limit.per_second = max(1, int(per_second))
        self._error_limit.per_second = max(10, self._log_limit.per_second // 10)

    @property
    def unresponsive_after_ms(self) -> int:
        """How long a running child may stay silent before `unresponsive`."""
        return self._unresponsive_after_ms

    @unresponsive_after_ms.setter
    def unresponsive_after_ms(self, ms: int) -> None:
        self._unresponsive_after_ms = max(1, int(ms))
        # Look often enough to notice within about a quarter of the limit.
        self._watchdog.setInterval(max(20, min(500, self._unresponsive_after_ms // 4)))

    def stderr_tail(self, lines: int = 20) -> str:
        """The last `lines` lines the child wrote to stderr."""
        tail = list(self._stderr)[-lines:]
        if self._stderr_partial:
            tail.append(self._stderr_partial.decode("utf-8", "replace"))
        return "\n".join(tail)

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
        scene_arg = self._scene_argument(scene)
        token = secrets.token_urlsafe(32)
        server = ChannelServer(token, self)
        server.authenticated.connect(self._on_authenticated)
        server.message.connect(self._on_message)
        server.rejected.connect(self._on_rejected)
        server.disconnected.connect(self._on_channel_closed)
        address = server.listen()
        self._server = server

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
            address,
        ]
        if scene_arg is not None:
            args += ["--scene", scene_arg]
        if headless:
            args.append("--headless")
        if show_fps:
            args.append("--show-fps")
        if quiet_ms is not None:
            args += ["--quiet-ms", str(quiet_ms)]
        if profile.precompiled and result.output_dir is not None:
            args += ["--build-dir", str(result.output_dir)]
        args += list(extra_args)
        self.last_arguments = args

        env = QProcessEnvironment.systemEnvironment()
        env.insert(TOKEN_ENV, token)
        env.insert("PYTHONUNBUFFERED", "1")
        # The child imports the very runtime this editor runs, installed or not.
        here = str(Path(runtime.__file__).resolve().parent.parent)
        old = env.value("PYTHONPATH", "")
        env.insert("PYTHONPATH", here + (os.pathsep + old if old else ""))

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
        return result

    def _reset(self) -> None:
        self._stderr.clear()
        self._stderr_partial = b""
        self._stdout_partial = b""
        self._stop_requested = False
        self.paused = False
        self.pid = None
        self._tree_pending = False
        self._unresponsive = False
        self._heard = False

    def _scene_argument(self, scene: str | os.PathLike[str] | Scene | None) -> str | None:
        if scene is None:
            return None
        if isinstance(scene, Scene):
            self._tmpdir = Path(tempfile.mkdtemp(prefix="hotplay-play-"))
            path = self._tmpdir / "unsaved.scene.json"
            save_scene(scene, path)
            return str(path)
        return str(Path(scene).resolve())

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
        """Ask the player for its scene tree (answered by `tree`)."""
        if self._send("request_tree"):
            self._tree_pending = True

    def stop(self) -> None:
        """Ask the player to quit; terminate it after the timeout, then kill it.

        A player that is `unresponsive` is killed at once: its frame never ends,
        so neither the stop message nor SIGTERM's handler would run.
        """
        if not self.running:
            return
        if self._unresponsive:
            self.kill()
            return
        self._stop_requested = True
        self._tree_timer.stop()
        self._watchdog.stop()
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
        self._watchdog.stop()
        if self._unresponsive:
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
        self._watchdog.stop()
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
        data = self._stdout_partial + bytes(self._process.readAllStandardOutput().data())
        *lines, self._stdout_partial = data.split(b"\n")
        if len(self._stdout_partial) > PARTIAL_LINE_MAX:
            lines.append(self._stdout_partial)
            self._stdout_partial = b""
        for line in lines:
            self.output.emit(line.decode("utf-8", "replace").rstrip("\r"))

    def _on_stderr(self) -> None:
        if self._process is None:
            return
        data = self._stderr_partial + bytes(self._process.readAllStandardError().data())
        *lines, self._stderr_partial = data.split(b"\n")
        # Only the last lines are kept: a flood of output is not decoded line by line.
        self._stderr.extend(
            line.decode("utf-8", "replace").rstrip("\r") for line in lines[-STDERR_LINES:]
        )
        if len(self._stderr_partial) > PARTIAL_LINE_MAX:
            self._stderr.append(self._stderr_partial.decode("utf-8", "replace"))
            self._stderr_partial = b""

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
        self._report_dropped()
        code = exit_code if status == QProcess.ExitStatus.NormalExit else -(exit_code or 1)
        self.last_exit_code = code
        tail = self.stderr_tail()
        self._cleanup()
        if code != 0 and not self._stop_requested:
            log.error("the player exited with code %d", code)
        self.finished.emit(code, tail)

    def _cleanup(self) -> None:
        self._tree_timer.stop()
        self._escalate.stop()
        self._watchdog.stop()
        self._unresponsive = False
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
        self._watchdog_ran = self._quiet_since = time.monotonic()
        self._watchdog.start()
        self.connected.emit(hello)
        if self._tree_interval_ms > 0 and not self._stop_requested:
            self._tree_timer.start()
            self.request_tree()

    def _on_watchdog(self) -> None:
        server = self._server
        if server is None or not self.running or self._stop_requested:
            return
        now = time.monotonic()
        if now - self._watchdog_ran > max(1.0, 4 * self._watchdog.interval() / 1000):
            # This timer ran late: the editor itself was busy, and the child's messages
            # may be waiting unread. Count the silence from now, not from before.
            self._quiet_since = now
        self._watchdog_ran = now
        silent = now - max(server.last_received, self._quiet_since)
        limit = self._unresponsive_after_ms
        if not self._heard:
            limit = max(limit, STARTUP_GRACE_MS)
        if silent * 1000 >= limit:
            if not self._unresponsive:
                self._unresponsive = True
                log.warning("the player has sent nothing for %.1f s", silent)
                self.unresponsive.emit(silent)
        elif self._unresponsive:
            self._unresponsive = False
            log.info("the player answers again")
            self.responsive.emit()

    def _admit_record(self, limit: RateLimit) -> bool:
        if limit.admit():
            return True
        self.dropped_records += 1
        if not self._dropped_report.isActive():
            self._dropped_report.start(limit.remaining_ms())
        return False

    def _report_dropped(self) -> None:
        self._dropped_report.stop()
        logs, errors = self._log_limit.take_dropped(), self._error_limit.take_dropped()
        if not logs and not errors:
            return
        what = " and ".join(
            text
            for n, text in ((logs, f"{logs:,} log messages"), (errors, f"{errors:,} errors"))
            if n
        )
        self.log_record.emit(
            {
                "level": logging.WARNING,
                "logger": log.name,
                "message": f"{what} from the player dropped "
                f"(more than {self._log_limit.per_second} a second)",
                "created": time.time(),
            }
        )

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
        self._heard = True
        t = msg.type
        if t == "log":
            if self._admit_record(self._log_limit):
                self.log_record.emit(dict(msg.data))
        elif t == "stats":
            self.paused = bool(msg["paused"])
            self.stats.emit(dict(msg.data))
        elif t == "tree":
            self._tree_pending = False
            self.tree.emit(dict(msg.data))
        elif t == "reload":
            self.reload_report.emit(dict(msg["report"]))
        elif t == "error":
            if not self._admit_record(self._error_limit):
                return
            text = str(msg["message"])
            tb = msg.get("traceback")
            self.error.emit(f"{text}\n{tb}" if isinstance(tb, str) and tb else text)


# --- the main window's "Separate process" run target ------------------------------------------


class SeparateProcessPlay(PlayTarget):
    """The `editor.play.PlayTarget` that plays in a child process through a `PlayerProcess`.

    The window creates one per Play (see `install_separate_process`); the
    `PlayerProcess` outlives it, so a stopping player is still stopped, and
    killed if need be, after the window dropped the target.

    Args:
        player: the window's player process.
        project: the project root.
        scene: returns what to play: a scene file, or an unsaved `Scene`.
        profile: the build profile.
        show_fps: ask the player window for its FPS overlay.
        headless: run the player without a window (tests).
    """

    def __init__(
        self,
        player: PlayerProcess,
        project: str | os.PathLike[str],
        scene: Any,
        profile: BuildProfile,
        parent: QObject | None = None,
        *,
        show_fps: bool = True,
        headless: bool = False,
    ) -> None:
        super().__init__(parent)
        self.player = player
        self.project = project
        self._scene = scene
        self.profile = profile
        self.show_fps = show_fps
        self.headless = headless
        self._stats: dict[str, Any] = {}
        player.stats.connect(self._on_stats)
        player.finished.connect(self._on_finished)

    def stats(self) -> dict[str, Any]:
        """The player's last statistics (``fps``, ``entities``, ``frame``...)."""
        return dict(self._stats)

    def start(self) -> None:
        """Build, then start the player; a build error or a busy player is reported by `failed`."""
        if self._state is not PlayState.STOPPED:
            return
        if self.player.running:
            self.failed.emit("the previous player is still stopping: try again in a moment")
            return
        result = self.player.start(
            self.project,
            self._scene() if callable(self._scene) else self._scene,
            self.profile,
            show_fps=self.show_fps,
            headless=self.headless,
        )
        if not result.ok:
            self.failed.emit(f"Play stopped: the build failed at {result.errors[0]}")
            return
        self._set_state(PlayState.PLAYING)

    def stop(self) -> None:
        """Ask the player to quit (it is terminated, then killed, if it does not)."""
        if self._state is PlayState.STOPPED:
            return
        self.player.stop()
        self._stats = {}
        self._set_state(PlayState.STOPPED)

    def pause(self) -> None:
        """Pause the player's frames."""
        if self._state is PlayState.PLAYING:
            self.player.pause()
            self._set_state(PlayState.PAUSED)

    def resume(self) -> None:
        """Continue after `pause`."""
        if self._state is PlayState.PAUSED:
            self.player.resume()
            self._set_state(PlayState.PLAYING)

    def step(self) -> None:
        """One frame in the player (pausing it first)."""
        if self._state is PlayState.STOPPED:
            return
        self.player.step(1)
        self._set_state(PlayState.PAUSED)

    def _on_stats(self, stats: dict[str, Any]) -> None:
        self._stats = stats
        self.frameAdvanced.emit()

    def _on_finished(self, code: int, tail: str) -> None:
        if self._state is PlayState.STOPPED:
            return
        self._stats = {}
        self._set_state(PlayState.STOPPED)
        if code != 0 and not self.player.stop_requested:
            self.failed.emit(describe_exit(code, tail))
        elif not self.player.stop_requested:
            self.failed.emit("the player window was closed")


def describe_exit(code: int, tail: str) -> str:
    """What to tell the user about a player that ended with `code` and this stderr tail.

    A negative code is a signal; a native crash prints a "Fatal Python error"
    block (the player turns faulthandler on) whose first frames are the ones
    that matter (most recent first), so that part is shown, not the last lines.
    """
    what = f"the player exited with code {code}"
    if code < 0:
        with contextlib.suppress(ValueError):  # not a signal number
            what += f" ({signal.Signals(-code).name})"
    lines = tail.splitlines()
    fatal = next((i for i, ln in enumerate(lines) if "Fatal Python error" in ln), None)
    shown = lines[fatal : fatal + 12] if fatal is not None else lines[-8:]
    return what + (":\n" + "\n".join(shown) if shown else "")


class UnresponsivePlayerPrompt(QObject):
    """Tells the user that the game stopped answering, and offers to kill it.

    The offer is a non-modal message box (Kill / Wait): the editor stays fully
    usable while it is up, it closes by itself when the game answers again or
    ends, and tests answer it with `answer` (or by clicking its buttons).

    Args:
        player: the window's player process.
        window: the main window (``show_status``, ``log_panel``).
    """

    def __init__(self, player: PlayerProcess, window: Any) -> None:
        super().__init__(window)
        self.setObjectName("unresponsivePlayerPrompt")
        self.player = player
        self.window = window
        self._box: Any = None  # the QMessageBox, made on first use
        player.unresponsive.connect(self._on_unresponsive)
        player.responsive.connect(self._on_responsive)
        player.finished.connect(lambda *_: self.close())

    @property
    def box(self) -> Any:
        """The message box (a ``QMessageBox``; hidden when there is nothing to ask)."""
        if self._box is None:
            from PySide6.QtCore import Qt
            from PySide6.QtWidgets import QMessageBox

            box = QMessageBox(self.window)
            box.setObjectName("unresponsivePlayerBox")
            box.setIcon(QMessageBox.Icon.Warning)
            box.setWindowTitle("The game is not answering")
            box.setWindowModality(Qt.WindowModality.NonModal)
            self.kill_button = box.addButton("Kill", QMessageBox.ButtonRole.DestructiveRole)
            self.wait_button = box.addButton("Wait", QMessageBox.ButtonRole.RejectRole)
            box.setDefaultButton(self.wait_button)
            box.setEscapeButton(self.wait_button)
            box.buttonClicked.connect(lambda b: self.answer(kill=b is self.kill_button))
            self._box = box
        return self._box

    @property
    def asking(self) -> bool:
        """Whether the offer is on screen."""
        return self._box is not None and self._box.isVisible()

    def ask(self, seconds: float) -> None:
        """Show the offer (without blocking: the answer comes through `answer`)."""
        box = self.box
        box.setText(f"The game has not answered for {seconds:.0f} seconds.")
        box.setInformativeText(
            "Its frame may never end (an endless loop in a script?). "
            "Kill it, or wait a little longer?"
        )
        box.show()

    def answer(self, *, kill: bool) -> None:
        """The user's answer: kill the game (the editor goes back to editing), or wait."""
        self.close()
        if kill and self.player.running:
            self.window.log_panel.log(
                logging.WARNING, "killed the game: it was not answering", "hotplay.player"
            )
            self.window.show_status("killed the game: it was not answering", "warning")
            self.player.kill()

    def close(self) -> None:
        """Take the offer off the screen (nothing is decided)."""
        if self._box is not None:
            self._box.hide()

    def _on_unresponsive(self, seconds: float) -> None:
        text = f"the game is not answering ({seconds:.0f} s) — Stop kills it"
        # Stays until the game answers or ends (each replaces it).
        self.window.show_status(text, "error", seconds=3600)
        self.window.log_panel.log(logging.WARNING, text, "hotplay.player")
        self.ask(seconds)

    def _on_responsive(self) -> None:
        self.close()
        self.window.show_status("the game answers again", "ok")


def install_separate_process(window: Any, *, headless: bool = False) -> PlayerProcess:
    """Plug separate-process play into a `editor.main_window.MainWindow`.

    Registers the ``Separate process`` run target (also used for ``Release``),
    adds a *Remote* dock with a `RemoteTreePanel`, routes the player's logs
    to the log panel and its reload reports to the status bar, and offers to
    kill a player that stops answering (`UnresponsivePlayerPrompt`). Uses only the
    window's public API: ``project``, ``profile``, ``edited_scene``,
    ``scene_path``, ``is_modified``, ``log_panel``, ``show_status`` and
    ``register_play_target``.

    Returns:
        The window's `PlayerProcess` (a child of the window: deleting the window
        kills a player that is still running; quitting the app stops it first).
    """
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDockWidget

    from editor.log_panel import LogEntry
    from editor.remote_tree import RemoteTreePanel

    player = PlayerProcess(window)
    player.setObjectName("hotplayPlayerProcess")
    remote = RemoteTreePanel()
    remote.setObjectName("remoteTreePanel")
    remote.attach(player)
    dock = QDockWidget("Remote", window)
    dock.setObjectName("remoteDock")
    dock.setWidget(remote)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

    def on_log(rec: dict[str, Any]) -> None:
        window.log_panel.add_entry(
            LogEntry(
                float(rec["created"]),
                int(rec["level"]),
                f"player: {rec['logger']}",
                str(rec["message"]),
            )
        )

    def on_build(result: BuildResult) -> None:
        level = logging.INFO if result.ok else logging.ERROR
        window.log_panel.log(level, "\n".join(result.lines()), "hotplay.build")

    def on_report(report: dict[str, Any]) -> None:
        ok = bool(report.get("ok"))
        window.show_status(f"player: {report.get('summary', '')}", "ok" if ok else "error")
        window.log_panel.log(
            logging.INFO if ok else logging.ERROR,
            f"player: {report.get('details', report.get('summary', ''))}",
            "hotplay.reload",
        )

    def on_error(text: str) -> None:
        window.log_panel.log(logging.ERROR, f"player: {text}", "hotplay.player")

    def on_finished(code: int, tail: str) -> None:
        if code != 0 and not player.stop_requested:
            window.log_panel.log(
                logging.ERROR,
                f"the player exited with code {code}; its last output:\n{tail}",
                "hotplay.player",
            )

    player.log_record.connect(on_log)
    player.build_finished.connect(on_build)
    player.reload_report.connect(on_report)
    player.error.connect(on_error)
    player.finished.connect(on_finished)
    UnresponsivePlayerPrompt(player, window)

    def scene() -> Any:
        if window.scene_path is not None and not window.is_modified:
            return window.scene_path
        return window.edited_scene  # unsaved: the player gets a temporary copy

    def factory(w: Any) -> PlayTarget:
        return SeparateProcessPlay(player, w.project.root, scene, w.profile, w, headless=headless)

    window.register_play_target("Separate process", factory)
    return player
