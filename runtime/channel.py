"""The editor-player channel: length-prefixed msgpack frames over a loopback socket.

No Qt here: the player's plain loop and its Qt window use `ChannelClient`; the
editor feeds the bytes its ``QTcpSocket`` receives to a `FrameDecoder`.

**Frames.** A 4-byte big-endian length, then that many bytes of msgpack: a map
``{"v": 1, "type": str, ...payload}``. Values are plain data plus the engine's
value types (`Vec2`, `Color`, `Handle`, tuples, sets) as msgpack extension
types (`runtime.snapshot`). The decoder builds nothing else: no enum or
dataclass of plugin code is ever looked up, no pickle, no object hook. A frame
longer than `MAX_FRAME`, a body that is not such a map, a wrong version, an
unknown type or a payload that does not fit the type's schema raises
`ChannelError`. After an oversize length the stream cannot be re-synchronised
(`ChannelError.fatal`); any other bad frame is skipped whole.

**Messages** (required payload fields; more fields are allowed and ignored):

=============== ======== ==========================================================
type            from     payload
=============== ======== ==========================================================
hello           player   token (str), pid (int), profile (str) — the first frame
log             player   level (int), logger (str), message (str), created (float)
reload          player   report (map: see `report_payload`)
error           player   message (str); traceback (str) optional
stats           player   fps, frame_ms (float), entities, frame (int), paused (bool);
                         history (map, see `history_payload`) when the game records
tree            player   scene (str), frame (int), entities, plugins (arrays)
preview         player   as ``tree``, for a past frame (``frame``) — answers ``preview``
entity          player   handle (int), entity (a map as in ``tree``, or nil: gone)
pick            player   handle (int) — the user picked it in the player window
pause           editor   —
resume          editor   —
step            editor   frames (int)
stop            editor   —
request_tree    editor   —
request_entity  editor   handle (int) — answered by ``entity``
watch           editor   on (bool) — Debug (HR) on or off while playing
set_entity      editor   handle (int), attribute (str), value — a live edit
set_field       editor   handle, script (int), script_type, field (str), value — live
preview         editor   frame (int) — the state at a recorded frame, answered by
                         ``preview`` (`runtime.game.Game.preview`)
rewind          editor   frame (int) — the live game goes back to it (`Game.rewind`)
replay          editor   frame (int) — back to it, then the recorded input up to
                         the last recorded frame (`Game.replay`)
=============== ======== ==========================================================

Live edits carry plain data (`runtime.fields.to_plain`; a visual as its scene
file map) and apply before the player's next frame.

**Transport.** TCP on 127.0.0.1, an ephemeral port the editor listens on; the
player connects with a plain `socket` and must send, in its first frame, a
random token the editor wrote as the first line of the player's stdin (see
`attach_to_editor`). Why TCP rather than a ``QLocalServer``: the headless
player must not need Qt, and a ``QLocalServer`` is a named pipe on Windows,
which plain sockets cannot open. Loopback binding keeps other machines out;
the token keeps other local processes out. It travels over the stdin pipe,
never the command line or the environment: any process of the same user can
read ``/proc/PID/environ`` within milliseconds of the start, connect first and
pose as the game. The editor stops listening after the first authenticated
hello, so the channel belongs to that one child.

**Lifetime.** The editor keeps the write end of that stdin pipe open for as
long as it lives, so the player sees end-of-file exactly when the editor is
gone, however it died; a watchdog thread then ends the player at once, even
when its game thread never returns from a frame. On Linux the kernel also
kills the player when its parent dies (``PR_SET_PDEATHSIG``), which works even
when game code holds the interpreter lock in native code.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import socket
import struct
import sys
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgpack

from runtime.snapshot import EXT_COLOR, EXT_HANDLE, EXT_SET, EXT_TUPLE, EXT_VEC2, packb
from runtime.values import Color, Handle, Vec2

if TYPE_CHECKING:
    from runtime.game import Game
    from runtime.scene import Entity, Scene

#: Version of the frame format (the ``v`` field).
PROTOCOL_VERSION = 1
#: Largest frame body accepted or sent, in bytes.
MAX_FRAME = 16 * 1024 * 1024
#: How deep extension values (tuples in tuples...) may nest in one frame.
MAX_EXT_DEPTH = 32
#: How deep lists and maps may nest in one frame (a scene tree needs about 6).
MAX_DEPTH = 64
#: Seconds the player waits for the editor to write the token on its stdin.
TOKEN_TIMEOUT = 10.0
#: The player's exit code when the editor that started it is gone.
EDITOR_GONE_EXIT = 75

_HEADER = struct.Struct(">I")
_NUMBER = (int, float)

#: Schema of a message type: required field -> accepted Python types.
Schema = Mapping[str, type | tuple[type, ...]]

PLAYER_MESSAGES: dict[str, Schema] = {
    "hello": {"token": str, "pid": int, "profile": str},
    "log": {"level": int, "logger": str, "message": str, "created": _NUMBER},
    "reload": {"report": dict},
    "asset": {"path": str, "kind": str, "error": str},
    "error": {"message": str},
    "stats": {
        "fps": _NUMBER,
        "frame_ms": _NUMBER,
        "entities": int,
        "frame": int,
        "paused": bool,
    },
    "tree": {"scene": str, "frame": int, "entities": list, "plugins": list},
    "preview": {"scene": str, "frame": int, "entities": list, "plugins": list},
    "entity": {"handle": int},
    "pick": {"handle": int},
}
"""Messages the player sends (the editor's decoder accepts these)."""

EDITOR_MESSAGES: dict[str, Schema] = {
    "pause": {},
    "resume": {},
    "step": {"frames": int},
    "stop": {},
    "request_tree": {},
    "request_entity": {"handle": int},
    "watch": {"on": bool},
    "set_entity": {"handle": int, "attribute": str},
    "set_field": {"handle": int, "script": int, "script_type": str, "field": str},
    "preview": {"frame": int},
    "rewind": {"frame": int},
    "replay": {"frame": int},
}
"""Messages the editor sends (the player's decoder accepts these)."""


class ChannelError(Exception):
    """Malformed data on the channel; `str()` says what was wrong.

    Attributes:
        fatal: the byte stream cannot be read further (close the connection).
    """

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


class ChannelClosed(ChannelError):
    """The other end closed the connection."""

    def __init__(self, message: str = "the other end closed the channel") -> None:
        super().__init__(message, fatal=True)


@dataclass(frozen=True, slots=True)
class Message:
    """One decoded, validated message: its type and its payload (without ``v``/``type``)."""

    type: str
    data: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        """A payload field, or `default`."""
        return self.data.get(key, default)


# --- encoding ----------------------------------------------------------------------------


def encode(msg_type: str, **payload: Any) -> bytes:
    """One frame: the length prefix and the msgpack map of `msg_type` and `payload`.

    Raises:
        ChannelError: the payload has values msgpack cannot hold, or is too big.
    """
    message = {"v": PROTOCOL_VERSION, "type": msg_type, **payload}
    try:
        body = packb(message)
    except TypeError:  # runtime.snapshot.Unencodable
        # Perhaps a lone surrogate (an entity name from a file): the editor only shows
        # text, so it gets U+FFFD there rather than losing the whole message.
        try:
            body = packb(_encodable(message, 0))
        except TypeError as exc:
            raise ChannelError(f"cannot encode a {msg_type!r} message: {exc}") from None
    if len(body) > MAX_FRAME:
        raise ChannelError(f"a {msg_type!r} message of {len(body):,} bytes is too big")
    return _HEADER.pack(len(body)) + body


_SURROGATE = re.compile("[\ud800-\udfff]")


def _encodable(value: Any, depth: int) -> Any:
    """`value` with every string UTF-8 cannot encode made encodable (U+FFFD for surrogates)."""
    if depth > MAX_DEPTH:
        return value  # packb refuses it anyway
    t = type(value)
    if t is str:
        return _SURROGATE.sub("\ufffd", value)
    if t is dict:
        return {_encodable(k, depth + 1): _encodable(v, depth + 1) for k, v in value.items()}
    if t in (list, tuple):
        return t(_encodable(v, depth + 1) for v in value)
    return value


# --- decoding ----------------------------------------------------------------------------


def _ext_hook(depth: int = 0) -> Any:
    """A msgpack ext hook that builds engine values only (never classes found by name)."""

    def nested(data: bytes) -> Any:
        if depth >= MAX_EXT_DEPTH:
            raise ChannelError("extension values nest too deeply")
        return msgpack.unpackb(data, ext_hook=_ext_hook(depth + 1), raw=False, strict_map_key=True)

    def hook(code: int, data: bytes) -> Any:
        if code == EXT_VEC2 and len(data) == 16:
            return tuple.__new__(Vec2, struct.unpack("<dd", data))
        if code == EXT_COLOR and len(data) == 4:
            return tuple.__new__(Color, tuple(data))
        if code == EXT_HANDLE and len(data) == 8:
            return Handle(struct.unpack("<q", data)[0])
        if code == EXT_TUPLE:
            items = nested(data)
            if isinstance(items, list):
                return tuple(items)
        elif code == EXT_SET and data[:1] in (b"\x00", b"\x01"):
            items = nested(data[1:])
            if isinstance(items, list):
                return frozenset(items) if data[:1] == b"\x01" else set(items)
        raise ChannelError(f"extension type {code} ({len(data)} bytes) is not accepted")

    return hook


def _check_depth(obj: Any) -> None:
    """Refuse data that nests deeper than `MAX_DEPTH`.

    msgpack itself unpacks up to 1,024 levels without recursion, but whatever
    the editor then does with such a value (``repr``, ``==``, a tree view)
    recurses in C and raises `RecursionError` far from the channel. The walk
    goes level by level, without recursion (about 10 ms for a scene tree of
    1,000 entities, requested twice a second).
    """
    level = [obj] if type(obj) in _CONTAINERS else []
    depth = 1
    while level:
        if depth > MAX_DEPTH:
            raise ChannelError(f"the frame nests deeper than {MAX_DEPTH} levels")
        inner: list[Any] = []
        keep = inner.append
        for container in level:
            for v in container.values() if type(container) is dict else container:
                if type(v) in _CONTAINERS:
                    keep(v)
        level = inner
        depth += 1


_CONTAINERS = (dict, list, tuple, set, frozenset)


def decode_body(body: bytes, accept: Mapping[str, Schema]) -> Message:
    """Decode and validate one frame body (without its length prefix).

    Raises:
        ChannelError: the body is not a valid message of a type in `accept`.
    """
    try:
        obj = msgpack.unpackb(body, ext_hook=_ext_hook(), raw=False, strict_map_key=True)
    except ChannelError:
        raise
    except RecursionError:
        raise ChannelError("the frame nests too deeply") from None
    except Exception as exc:  # msgpack's own errors, and TypeError/ValueError from bad data
        raise ChannelError(f"the frame is not valid msgpack: {type(exc).__name__}: {exc}") from None
    _check_depth(obj)
    if not isinstance(obj, dict):
        raise ChannelError(f"the frame is a {type(obj).__name__}, not a map")
    version = obj.get("v")
    if version != PROTOCOL_VERSION or type(version) is not int:
        raise ChannelError(
            f"protocol version {version!r} is not supported (need {PROTOCOL_VERSION})"
        )
    msg_type = obj.get("type")
    if not isinstance(msg_type, str):
        raise ChannelError("the frame has no message type")
    schema = accept.get(msg_type)
    if schema is None:
        raise ChannelError(f"unknown message type {msg_type[:80]!r}")
    for name, kinds in schema.items():
        value = obj.get(name)
        if name not in obj or not isinstance(value, kinds):
            raise ChannelError(f"{msg_type!r} message: field {name!r} is missing or invalid")
        if type(value) is bool and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
            raise ChannelError(f"{msg_type!r} message: field {name!r} is missing or invalid")
    data = {k: v for k, v in obj.items() if k not in ("v", "type")}
    return Message(msg_type, data)


class FrameDecoder:
    """Turns a byte stream into validated messages, one frame at a time.

    Feed it what the socket delivers, then take messages until `next_message`
    returns ``None``::

        decoder.feed(data)
        while True:
            try:
                msg = decoder.next_message()
            except ChannelError as exc:
                log.error("rejected a frame: %s", exc)
                if exc.fatal:
                    close()
                    break
                continue
            if msg is None:
                break
            handle(msg)

    Args:
        accept: the message types this end accepts (`PLAYER_MESSAGES` on the
            editor's side, `EDITOR_MESSAGES` on the player's).
        max_frame: the largest frame body accepted.
    """

    def __init__(self, accept: Mapping[str, Schema], max_frame: int = MAX_FRAME) -> None:
        self.accept = accept
        self.max_frame = max_frame
        self._buf = bytearray()
        self._broken: str | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet decoded."""
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        """Append received bytes (no decoding happens here)."""
        if self._broken is None:
            self._buf += data

    def next_message(self) -> Message | None:
        """The next complete message, or ``None`` when more bytes are needed.

        Raises:
            ChannelError: the next frame is malformed (it is consumed, so calling
                again goes on with the frame after it), or the stream is broken
                beyond repair (``fatal``; every later call raises it too).
        """
        if self._broken is not None:
            raise ChannelError(self._broken, fatal=True)
        buf = self._buf
        if len(buf) < _HEADER.size:
            return None
        (length,) = _HEADER.unpack_from(buf)
        if length > self.max_frame:
            self._broken = f"frame of {length:,} bytes exceeds the limit of {self.max_frame:,}"
            self._buf = bytearray()
            raise ChannelError(self._broken, fatal=True)
        end = _HEADER.size + length
        if len(buf) < end:
            return None
        body = bytes(buf[_HEADER.size : end])
        del buf[:end]
        if not body:
            raise ChannelError("empty frame")
        return decode_body(body, self.accept)

    def decode_all(self, data: bytes = b"") -> list[Message]:
        """Feed `data` and return every complete message (for tests and simple ends).

        Raises:
            ChannelError: at the first bad frame (later frames stay buffered).
        """
        self.feed(data)
        out = []
        while (msg := self.next_message()) is not None:
            out.append(msg)
        return out


# --- the player's end --------------------------------------------------------------------


def parse_address(text: str) -> tuple[str, int]:
    """``127.0.0.1:5555`` -> ``("127.0.0.1", 5555)``.

    Raises:
        ValueError: not ``HOST:PORT``, or the host is not a loopback address.
    """
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"channel address {text!r} is not HOST:PORT")
    if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        raise ValueError(f"channel address {text!r}: the channel only runs on this machine")
    return host.strip("[]"), int(port)


def attach_to_editor(fd: int = 0, *, timeout: float = TOKEN_TIMEOUT) -> str:
    """Read the channel token from the editor's pipe, and end this process with the editor.

    The editor writes the token and a newline to the player's stdin (`fd`) and
    keeps the pipe open while it lives. A daemon thread reads the token line,
    then waits for end-of-file: the editor is gone (closed, killed, crashed),
    and the player ends at once with `EDITOR_GONE_EXIT` (``os._exit``: game
    code may be stuck in a frame, and nothing it registered may delay the
    exit). On Linux the process also asks the kernel to kill it when its
    parent dies (``PR_SET_PDEATHSIG``). Without a token line (stdin at its end
    or not a pipe from an editor) nothing is watched.

    Args:
        fd: the descriptor the editor writes to (the player's stdin).
        timeout: seconds to wait for the token line.

    Returns:
        The token, or ``""`` when none came in time (the editor then refuses
        the hello).
    """
    token_read = threading.Event()
    token: list[str] = []

    def watch() -> None:
        line = bytearray()
        try:
            while not line.endswith(b"\n"):
                chunk = os.read(fd, 1)  # one byte at a time: nothing past the line is consumed
                if not chunk:
                    return  # no editor's pipe: nothing to watch
                line += chunk
            token.append(line.decode("ascii", "replace").strip())
            token_read.set()
            while os.read(fd, 4096):
                pass
        except OSError:
            if not token:
                return
        finally:
            token_read.set()
        with contextlib.suppress(Exception):
            os.write(2, b"hotplay: the editor is gone; the player exits\n")
        os._exit(EDITOR_GONE_EXIT)

    threading.Thread(target=watch, name="hotplay-editor-watchdog", daemon=True).start()
    token_read.wait(timeout)
    if not token:
        return ""
    # Set only now that an editor is known to be the parent. A parent that died
    # before this call is noticed anyway: its pipe is already at its end.
    _die_with_parent()
    return token[0]


def _die_with_parent() -> None:
    """On Linux, have the kernel send SIGKILL to this process when its parent dies."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1  # from <linux/prctl.h>
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # a libc without prctl: the stdin watchdog still ends the player


class ChannelClient:
    """The player's end of the channel: a non-blocking socket to the editor.

    `send` queues a frame and writes what the socket takes at once; `poll`
    reads what has arrived and returns the valid messages. Both never block,
    so the game loop calls them every frame. `send` may be called from any
    thread (log records come from the watcher's thread too).

    Args:
        sock: a connected socket (see `connect`).
        max_pending: bytes of unsent frames kept before new ones are dropped.
    """

    def __init__(self, sock: socket.socket, *, max_pending: int = 8 * 1024 * 1024) -> None:
        self._sock = sock
        sock.setblocking(False)
        self._out = bytearray()
        self._lock = threading.Lock()
        self._decoder = FrameDecoder(EDITOR_MESSAGES)
        self.max_pending = max_pending
        self.dropped = 0
        self.rejected: list[str] = []
        self.closed = False

    @classmethod
    def connect(
        cls, address: str, token: str, *, profile: str = "", timeout: float = 5.0, **hello: Any
    ) -> ChannelClient:
        """Connect to the editor at ``HOST:PORT`` and say hello with the token.

        Raises:
            ValueError: the address is not a loopback ``HOST:PORT``.
            OSError: the connection failed.
        """
        host, port = parse_address(address)
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = cls(sock)
        client.send("hello", token=token, pid=os.getpid(), profile=profile, **hello)
        return client

    def fileno(self) -> int:
        """The socket's descriptor (for ``select``)."""
        return self._sock.fileno()

    @property
    def pending(self) -> int:
        """Bytes queued but not yet written."""
        return len(self._out)

    def send(self, msg_type: str, **payload: Any) -> bool:
        """Queue one message and write what the socket takes now.

        Returns:
            False when the message was dropped (channel closed or too much
            unsent data: the editor is not reading).

        Raises:
            ChannelError: the payload cannot be encoded.
        """
        frame = encode(msg_type, **payload)
        with self._lock:
            if self.closed:
                return False
            if self._out and len(self._out) + len(frame) > self.max_pending:
                self.dropped += 1
                return False
            self._out += frame
            self._flush_locked()
        return True

    def flush(self, timeout: float = 1.0) -> bool:
        """Write every queued frame, waiting up to `timeout` seconds; whether all went out."""
        import select

        with self._lock:
            self._flush_locked()
            remaining = timeout
            while self._out and not self.closed and remaining > 0:
                _, writable, _ = select.select([], [self._sock], [], min(remaining, 0.1))
                remaining -= 0.1
                if writable:
                    self._flush_locked()
            return not self._out

    def _flush_locked(self) -> None:
        while self._out and not self.closed:
            try:
                n = self._sock.send(self._out)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._close_locked()
                return
            del self._out[:n]

    def poll(self) -> list[Message]:
        """Every message received since the last call (never blocks).

        Malformed frames are skipped and described in `rejected`.

        Raises:
            ChannelClosed: the editor closed the connection (or broke the stream).
        """
        if self.closed:
            raise ChannelClosed()
        with self._lock:
            self._flush_locked()
        while True:
            try:
                data = self._sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    break
                self.close()
                raise ChannelClosed(f"the channel failed: {exc}") from None
            if not data:
                self.close()
                raise ChannelClosed()
            self._decoder.feed(data)
        out: list[Message] = []
        while True:
            try:
                msg = self._decoder.next_message()
            except ChannelError as exc:
                self.rejected.append(str(exc))
                if exc.fatal:
                    self.close()
                    raise ChannelClosed(f"the channel broke: {exc}") from None
                continue
            if msg is None:
                return out
            out.append(msg)

    def close(self) -> None:
        """Close the socket (queued frames are dropped; `flush` first to send them)."""
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if not self.closed:
            self.closed = True
            self._out.clear()
            with contextlib.suppress(OSError):
                self._sock.close()


# --- payloads ----------------------------------------------------------------------------


def plain(value: Any, depth: int = 0) -> Any:
    """`value` as channel data: plain values and engine value types, anything else as text.

    Enum members become their name, dataclasses maps of their fields, other
    objects their ``repr`` (the editor shows them; it never rebuilds them).
    """
    t = type(value)
    if value is None or t in (bool, int, float, str, bytes, Vec2, Color, Handle):
        return value
    if depth > 8:
        return "..."
    if t in (list, tuple, set, frozenset):
        return [plain(v, depth + 1) for v in list(value)[:1000]]
    if t is dict:
        return {str(k): plain(v, depth + 1) for k, v in list(value.items())[:1000]}
    import dataclasses
    import enum

    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
    try:
        text = repr(value)
    except Exception:
        text = f"<{t.__qualname__}>"
    return text[:500]


def report_payload(report: Any) -> dict[str, Any]:
    """A `runtime.reports.ReloadReport` as a ``reload`` message's ``report`` map.

    Keys: ``ok``, ``summary`` (its ``str()``), ``details``, ``plugins``,
    ``modules``, ``objects``, ``error``, ``errors``, ``traceback``, ``changed``,
    ``timings`` (ms by step) and ``notes`` (maps: type_id, field, kind, detail,
    count, warning).
    """
    return {
        "ok": bool(report.ok),
        "summary": str(report),
        "details": report.details(),
        "plugins": list(report.plugins),
        "modules": list(report.modules),
        "objects": int(report.objects),
        "error": report.error,
        "errors": list(report.errors),
        "traceback": report.traceback,
        "changed": list(report.changed),
        "timings": {str(k): float(v) for k, v in report.timings.items()},
        "notes": [
            {
                "type_id": n.type_id,
                "field": n.field,
                "kind": n.kind,
                "detail": n.detail,
                "count": n.count,
                "warning": n.is_warning,
            }
            for n in report.notes
        ],
    }


def _fields_of(obj: Any) -> dict[str, Any]:
    from runtime.fields import declared_fields

    try:
        names = list(declared_fields(type(obj)))
    except Exception:
        names = []
    d = getattr(obj, "__dict__", {})
    return {n: plain(d[n] if n in d else getattr(obj, n, None)) for n in names}


def entity_payload(e: Entity) -> dict[str, Any]:
    """One entity as the ``tree`` and ``entity`` messages carry it (see `scene_tree_payload`)."""
    from runtime.scripting import script_type_id

    v = e.visual
    return {
        "handle": int(e.handle),
        "name": e.name,
        "parent": int(e.parent),
        "enabled": bool(e.enabled),
        "position": plain(e.position),
        "rotation": float(e.rotation),
        "scale": plain(e.scale),
        "visual": None
        if v is None
        else {
            "kind": str(v.kind.value),
            "size": plain(v.size),
            "color": plain(v.color),
            "z": int(v.z),
            "text": v.text,
            "image": v.image,
            "font_size": float(v.font_size),
        },
        "scripts": [
            {
                "type": script_type_id(s),
                "fields": _fields_of(s),
                "faulted": bool(s.__dict__.get("_hp_faulted", False)),
            }
            for s in e.scripts
        ],
    }


def scene_tree_payload(
    game: Game, past: tuple[int, Scene] | None = None, limit: int | None = None
) -> dict[str, Any]:
    """The running scene of `game` as a ``tree`` message's payload.

    ``entities`` lists every entity depth first as a map: ``handle``, ``name``,
    ``parent`` (0 for a root), ``enabled``, ``position``, ``rotation``,
    ``scale``, ``visual`` (``None`` or a map: kind, size, color, z, text,
    image, font_size) and ``scripts`` (maps: ``type``, ``fields``, ``faulted``).
    ``total`` is the number of entities in the scene: more than ``entities``
    holds when `limit` cut the list short (the first entities, parents before
    their children). ``plugins`` lists the plugin objects as maps: ``name``,
    ``type``, ``fields``.

    Args:
        game: the game.
        past: a frame and the scene as it was then (`runtime.game.Game.preview`):
            that scene instead, for a ``preview`` message (``plugins`` stays live).
        limit: at most this many entities (``None``: all).
    """
    if past is not None:
        scene: Scene | None = past[1]
    else:
        try:
            scene = game.scene
        except LookupError:
            scene = None
    entities = []
    if scene is not None:
        shown = scene if limit is None else itertools.islice(scene, max(0, limit))
        entities = [entity_payload(e) for e in shown]
    plugins = [
        {"name": name, "type": type(obj).__qualname__, "fields": _fields_of(obj)}
        for name, obj in game.plugin_objects.items()
    ]
    return {
        "scene": scene.name if scene is not None else "",
        "frame": int(game.frame) if past is None else past[0],
        "time": float(game.time) if past is None else past[0] * game.fixed_dt,
        "entities": entities,
        "total": len(scene) if scene is not None else 0,
        "plugins": plugins,
    }


def history_payload(game: Game) -> dict[str, Any]:
    """What the game has recorded, for ``stats``: ``{"history": map}``, or ``{}`` for nothing.

    The map holds ``first`` and ``last`` (the recorded frames), ``dt`` (seconds
    a frame) and ``keyframes`` (their frames), see `runtime.history.History`.
    """
    history = game.history
    if history is None or not history.keyframes:
        return {}
    return {
        "history": {
            "first": int(history.first_frame),
            "last": int(history.last_frame),
            "dt": float(history.dt),
            "keyframes": [int(k.frame) for k in history.keyframes],
        }
    }


def error_payload(exc: BaseException) -> dict[str, Any]:
    """An ``error`` message's payload for an exception (message and traceback)."""
    return {
        "message": f"{type(exc).__name__}: {exc}",
        "traceback": "".join(traceback.format_exception(exc)),
    }
