"""The editor's side of the channel, played by a test: a listening socket and a player child.

`FakeEditor` does what `editor.player_process.process.PlayerProcess` does, without Qt:
it listens on a loopback port, starts ``python -m runtime play --headless
--channel ...`` with the token on its stdin, and reads the player's
messages with `runtime.channel.FrameDecoder`, waiting on the socket.
"""

from __future__ import annotations

import contextlib
import select
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from runtime.channel import PLAYER_MESSAGES, FrameDecoder, Message, encode

#: Seconds to wait for any one message or exit.
TIMEOUT = 30.0


#: How the editor starts its player: ``python -m runtime``.
DEFAULT_COMMAND = (sys.executable, "-m", "runtime")


class FakeEditor:
    """A listening socket and a player child, as `PlayerProcess` would run them.

    Args:
        project: the project to play.
        args: more ``play`` arguments (``--profile``, ``--no-realtime``...).
        token: the channel token given to the child.
        command: how to start ``python -m runtime`` (`tests.no_qt.runtime_command`
            for a child without PySide6).
        cwd: the child's working folder.
    """

    def __init__(
        self,
        project: Path,
        *args: str,
        token: str = "s3cret",
        command: Sequence[str] = DEFAULT_COMMAND,
        cwd: Path | None = None,
    ) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(TIMEOUT)
        port = self.server.getsockname()[1]
        self.token = token
        cmd = [
            *command,
            "play",
            "--project",
            str(project),
            "--headless",
            "--channel",
            f"127.0.0.1:{port}",
            *args,
        ]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
        )
        # As the editor does: the token on stdin, and the pipe open while we live.
        assert self.proc.stdin is not None
        self.proc.stdin.write(token + "\n")
        self.proc.stdin.flush()
        self.conn: socket.socket | None = None
        self.decoder = FrameDecoder(PLAYER_MESSAGES)
        self.received: list[Message] = []

    def accept(self) -> Message:
        """Accept the child's connection; its hello."""
        self.conn, _ = self.server.accept()
        return self.next("hello")

    def send(self, msg_type: str, **payload: object) -> None:
        """Send the child a command."""
        assert self.conn is not None
        self.conn.sendall(encode(msg_type, **payload))

    def next(self, msg_type: str, where: Callable[[Message], bool] = lambda m: True) -> Message:
        """The next message of a type (others are kept in `received`), waiting on the socket."""
        assert self.conn is not None
        while True:
            for i, m in enumerate(self.received):
                if m.type == msg_type and where(m):
                    del self.received[: i + 1]
                    return m
            ready, _, _ = select.select([self.conn], [], [], TIMEOUT)
            assert ready, f"no {msg_type} message in time"
            data = self.conn.recv(65536)
            assert data, f"the player closed the channel before a {msg_type} message"
            self.received += self.decoder.decode_all(data)

    def finish(self) -> tuple[int, str, str]:
        """Wait for the child to exit: its exit code, stdout and stderr.

        The stdin pipe stays open until the child has exited: closing it first
        (as ``communicate`` does) tells the child that its editor is gone.
        """
        stdin, self.proc.stdin = self.proc.stdin, None
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT)
        finally:
            if stdin is not None:
                stdin.close()
        return self.proc.returncode, out, err

    def close(self) -> None:
        """Kill the child if it still runs, and close the sockets."""
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(BrokenPipeError):
            self.proc.communicate(timeout=TIMEOUT)
        if self.conn is not None:
            self.conn.close()
        self.server.close()
