"""The editor's end of the channel to a player child: one authenticated peer, paced reads."""

from __future__ import annotations

import hmac
import time
from typing import Any

from PySide6.QtCore import QByteArray, QObject, QTimer, Signal
from PySide6.QtNetwork import QAbstractSocket, QHostAddress, QTcpServer, QTcpSocket

from runtime.channel import MAX_FRAME, PLAYER_MESSAGES, ChannelError, FrameDecoder, encode


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
