"""The editor-player channel: frames, validation, and the player's socket end."""

from __future__ import annotations

import socket
import struct

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.channel import (
    EDITOR_MESSAGES,
    MAX_DEPTH,
    MAX_FRAME,
    PLAYER_MESSAGES,
    PROTOCOL_VERSION,
    ChannelClient,
    ChannelClosed,
    ChannelError,
    FrameDecoder,
    encode,
    parse_address,
    plain,
)
from runtime.snapshot import packb
from runtime.values import Color, Handle, Vec2


def frame(obj: object) -> bytes:
    body = msgpack.packb(obj, use_bin_type=True)
    return struct.pack(">I", len(body)) + body


def test_round_trip_with_engine_values() -> None:
    data = encode(
        "tree",
        scene="main",
        frame=3,
        entities=[{"handle": Handle(2), "position": Vec2(1.5, -2), "color": Color(1, 2, 3, 4)}],
        plugins=[],
        extra=(1, 2),
    )
    (msg,) = FrameDecoder(PLAYER_MESSAGES).decode_all(data)
    assert msg.type == "tree"
    e = msg["entities"][0]
    assert type(e["handle"]) is Handle and e["handle"] == 2
    assert type(e["position"]) is Vec2 and e["position"] == Vec2(1.5, -2)
    assert e["color"] == Color(1, 2, 3, 4)
    assert msg["extra"] == (1, 2)
    assert "v" not in msg.data and "type" not in msg.data


def test_frames_split_anywhere_are_reassembled() -> None:
    stream = encode("pause") + encode("step", frames=3) + encode("request_tree")
    dec = FrameDecoder(EDITOR_MESSAGES)
    got = []
    for i in range(len(stream)):
        got += dec.decode_all(stream[i : i + 1])
    assert [m.type for m in got] == ["pause", "step", "request_tree"]
    assert got[1]["frames"] == 3
    assert dec.buffered == 0


@pytest.mark.parametrize(
    ("obj", "why"),
    [
        ([1, 2], "not a map"),
        ({"v": 2, "type": "pause"}, "version"),
        ({"type": "pause"}, "version"),
        ({"v": True, "type": "pause"}, "version"),
        ({"v": 1}, "no message type"),
        ({"v": 1, "type": "exec"}, "unknown message type"),
        ({"v": 1, "type": "step"}, "frames"),
        ({"v": 1, "type": "step", "frames": "9"}, "frames"),
        ({"v": 1, "type": "step", "frames": True}, "frames"),
        ({"v": 1, "type": "hello", "token": "t", "pid": 1, "profile": "debug"}, "unknown"),
    ],
)
def test_invalid_messages_are_rejected_and_skipped(obj: object, why: str) -> None:
    dec = FrameDecoder(EDITOR_MESSAGES)
    dec.feed(frame(obj) + encode("pause"))
    with pytest.raises(ChannelError, match=why) as info:
        dec.next_message()
    assert not info.value.fatal
    # The bad frame was consumed whole: the next one decodes.
    assert dec.next_message().type == "pause"  # type: ignore[union-attr]


def test_garbage_body_trailing_bytes_and_empty_frame() -> None:
    dec = FrameDecoder(EDITOR_MESSAGES)
    body = packb({"v": 1, "type": "pause"}) + b"\x00"
    dec.feed(struct.pack(">I", len(body)) + body)
    with pytest.raises(ChannelError, match="not valid msgpack"):
        dec.next_message()
    dec.feed(struct.pack(">I", 0))
    with pytest.raises(ChannelError, match="empty"):
        dec.next_message()
    dec.feed(struct.pack(">I", 1) + b"\xc1")  # a byte msgpack never uses
    with pytest.raises(ChannelError):
        dec.next_message()


def test_object_extension_types_are_never_resolved() -> None:
    # ext 6/7 (enum member, dataclass by module and qualname) are for snapshots only:
    # the channel must not look up, let alone build, a class named by the other side.
    for code in (6, 7, 99):
        payload = msgpack.ExtType(code, packb(["os", "system", "echo hi"]))
        dec = FrameDecoder(PLAYER_MESSAGES)
        dec.feed(frame({"v": 1, "type": "error", "message": payload}))
        with pytest.raises(ChannelError, match="not accepted"):
            dec.next_message()
    # A Vec2 with the wrong payload size is refused too.
    dec = FrameDecoder(PLAYER_MESSAGES)
    dec.feed(frame({"v": 1, "type": "error", "message": msgpack.ExtType(1, b"\x00" * 3)}))
    with pytest.raises(ChannelError):
        dec.next_message()


def test_deeply_nested_extension_values_are_refused() -> None:
    inner = msgpack.packb([1])
    for _ in range(100):
        inner = msgpack.packb([msgpack.ExtType(4, inner)])
    dec = FrameDecoder(PLAYER_MESSAGES)
    body = msgpack.packb(
        {"v": 1, "type": "error", "message": "x", "deep": msgpack.ExtType(4, inner)}
    )
    dec.feed(struct.pack(">I", len(body)) + body)
    with pytest.raises(ChannelError):
        dec.next_message()


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 1023])
def test_deeply_nested_lists_and_maps_are_the_decoders_own_error(depth: int) -> None:
    # msgpack unpacks up to 1,024 levels itself; the editor would then recurse into the
    # value (repr, ==) and hit RecursionError far from the channel.
    deep: object = 1
    for i in range(depth - 1):
        deep = [deep] if i % 2 else {"k": deep}
    dec = FrameDecoder(PLAYER_MESSAGES)
    dec.feed(frame({"v": 1, "type": "error", "message": "x", "deep": deep}))
    with pytest.raises(ChannelError, match="nests deeper"):
        dec.next_message()
    # The bad frame is skipped whole: the stream goes on.
    assert dec.decode_all(frame({"v": 1, "type": "error", "message": "after"}))[0]["message"]


def test_nesting_up_to_the_limit_is_accepted() -> None:
    deep: object = 1
    for _ in range(MAX_DEPTH - 2):  # the frame's own map and the field are two levels
        deep = [deep]
    dec = FrameDecoder(PLAYER_MESSAGES)
    (msg,) = dec.decode_all(frame({"v": 1, "type": "error", "message": "x", "deep": deep}))
    assert msg["message"] == "x"


def test_oversized_frame_is_fatal_and_never_buffered() -> None:
    dec = FrameDecoder(EDITOR_MESSAGES, max_frame=1024)
    dec.feed(struct.pack(">I", 1025))
    with pytest.raises(ChannelError, match="exceeds") as info:
        dec.next_message()
    assert info.value.fatal
    dec.feed(b"x" * 5000)
    assert dec.buffered == 0
    with pytest.raises(ChannelError):
        dec.next_message()
    dec = FrameDecoder(EDITOR_MESSAGES)
    dec.feed(struct.pack(">I", MAX_FRAME + 1))
    with pytest.raises(ChannelError, match="exceeds"):
        dec.next_message()


def test_encode_refuses_what_msgpack_cannot_hold() -> None:
    with pytest.raises(ChannelError, match="cannot encode"):
        encode("log", level=20, logger="x", message=object(), created=0.0)


def test_text_utf8_cannot_encode_is_sent_with_a_replacement_character() -> None:
    # An entity named "\ud800" in a scene file: its tree and log lines still reach the editor.
    entities = [{"handle": 1, "name": "odd \ud800", "tags": ("\udfff",)}]
    data = encode("tree", scene="s", frame=1, entities=entities, plugins=[])
    (msg,) = FrameDecoder(PLAYER_MESSAGES).decode_all(data)
    assert msg["entities"][0]["name"] == "odd \ufffd"
    assert msg["entities"][0]["tags"] == ("\ufffd",)


def test_plain_turns_objects_into_data() -> None:
    import enum
    from dataclasses import dataclass

    class Mode(enum.Enum):
        FAST = 1

    @dataclass
    class Box:
        w: int
        mode: Mode

    value = plain({"a": (1, 2), "b": {Mode.FAST}, "c": Box(3, Mode.FAST), "d": object()})
    assert value["a"] == [1, 2]
    assert value["b"] == ["FAST"]
    assert value["c"] == {"w": 3, "mode": "FAST"}
    assert value["d"].startswith("<object object")
    encode("log", level=20, logger="x", message="m", created=0.0, value=value)


def test_parse_address_only_accepts_loopback() -> None:
    assert parse_address("127.0.0.1:4000") == ("127.0.0.1", 4000)
    for bad in ("10.0.0.1:4000", "example.com:80", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:x"):
        with pytest.raises(ValueError):
            parse_address(bad)


# --- property tests ------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512), st.integers(min_value=1, max_value=64))
def test_random_bytes_only_ever_raise_channel_error(data: bytes, chunk: int) -> None:
    for accept in (PLAYER_MESSAGES, EDITOR_MESSAGES):
        dec = FrameDecoder(accept, max_frame=4096)
        for i in range(0, len(data), chunk):
            dec.feed(data[i : i + chunk])
            while True:
                try:
                    msg = dec.next_message()
                except ChannelError as exc:
                    if exc.fatal:
                        break
                    continue
                if msg is None:
                    break
                assert msg.type in accept


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bodies_with_a_valid_length_only_raise_channel_error(body: bytes) -> None:
    dec = FrameDecoder(PLAYER_MESSAGES)
    dec.feed(struct.pack(">I", len(body)) + body)
    try:
        msg = dec.next_message()
    except ChannelError:
        return
    assert msg is None or msg.type in PLAYER_MESSAGES


_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.builds(Vec2, st.floats(allow_nan=False), st.floats(allow_nan=False))
    | st.builds(Color, *[st.integers(0, 255)] * 4)
    | st.builds(Handle, st.integers(min_value=0, max_value=2**62))
)
_values = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(max_size=8), inner, max_size=5)
        | st.lists(inner, max_size=4).map(tuple)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=10).filter(lambda k: k not in ("v", "type", "message")),
        _values,
        max_size=6,
    ),
    st.text(max_size=40),
)
def test_valid_frames_round_trip(extra: dict[str, object], message: str) -> None:
    data = encode("error", message=message, **extra)
    (msg,) = FrameDecoder(PLAYER_MESSAGES).decode_all(data)
    assert msg.type == "error"
    assert msg["message"] == message
    assert {k: v for k, v in msg.data.items() if k != "message"} == extra


# --- the player's socket end --------------------------------------------------------------


@pytest.fixture
def pair() -> tuple[ChannelClient, socket.socket]:
    a, b = socket.socketpair()
    client = ChannelClient(a)
    b.settimeout(5)
    yield client, b
    client.close()
    b.close()


def _read_frames(sock: socket.socket, n: int) -> list:
    dec = FrameDecoder(PLAYER_MESSAGES)
    out: list = []
    while len(out) < n:
        data = sock.recv(65536)
        assert data, "closed early"
        out += dec.decode_all(data)
    return out


def test_client_sends_and_polls(pair: tuple[ChannelClient, socket.socket]) -> None:
    client, editor = pair
    client.send("stats", fps=60.0, frame_ms=0.5, entities=3, frame=10, paused=False)
    (msg,) = _read_frames(editor, 1)
    assert msg.type == "stats" and msg["entities"] == 3
    assert client.poll() == []
    editor.sendall(encode("step", frames=2) + frame({"v": 1, "type": "rm -rf"}) + encode("stop"))
    got: list = []
    while len(got) < 2:
        import select

        select.select([client], [], [], 5)
        got += client.poll()
    assert [m.type for m in got] == ["step", "stop"]
    assert client.rejected and "unknown message type" in client.rejected[0]


def test_client_sees_the_editor_close(pair: tuple[ChannelClient, socket.socket]) -> None:
    client, editor = pair
    editor.close()
    import select

    select.select([client], [], [], 5)
    with pytest.raises(ChannelClosed):
        client.poll()
    assert client.closed
    assert client.send("pause") is False


def test_client_drops_frames_when_the_editor_does_not_read() -> None:
    a, b = socket.socketpair()
    try:
        client = ChannelClient(a, max_pending=64 * 1024)
        big = "x" * 32 * 1024
        sent = [
            client.send("log", level=20, logger="t", message=big, created=0.0) for _ in range(200)
        ]
        assert not all(sent) and client.dropped > 0
        assert client.pending <= 64 * 1024 + 40 * 1024
        client.close()
    finally:
        b.close()


def test_protocol_version_is_in_every_frame() -> None:
    body = encode("pause")[4:]
    assert msgpack.unpackb(body) == {"v": PROTOCOL_VERSION, "type": "pause"}
