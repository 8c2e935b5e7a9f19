"""The client end of gRPC over HTTP/2, fed bytes as a master would send them."""

from __future__ import annotations

import doctest
import struct
from collections.abc import Callable

import pytest
from hpack import Decoder, Encoder
from hypothesis import given
from hypothesis import strategies as st

from skein.api import http2_client
from skein.api.http2_client import (
    PREFACE,
    CallEnded,
    ClientConnection,
    ConnectionEnded,
    ErrorCode,
    ReplyMessage,
    StreamReset,
    format_timeout,
)
from skein.api.http2_connection import FrameType
from skein.api.http2_server import (
    CallStarted,
    MessageReceived,
    RequestEnded,
    ServerConnection,
)
from skein.testing.http2_frames import frame, iter_frames, rst_streams, settings, window_updates
from skein.testing.http2_frames import grpc_message as message

END_STREAM, ACK, END_HEADERS, PADDED = 0x1, 0x1, 0x4, 0x8

PATH = "/skein.v1.AppMaster/GetKey"
AUTHORITY = "master"
MiB = 1024 * 1024


def window_update(stream_id: int, increment: int) -> bytes:
    return frame(FrameType.WINDOW_UPDATE, 0, stream_id, struct.pack(">I", increment))


class Master:
    """Makes a master's bytes; decodes the client's header blocks (with its own HPACK state)."""

    def __init__(self) -> None:
        self.encoder = Encoder()
        self.decoder = Decoder()

    def block(self, stream_id: int, fields: list[tuple[str, str]], *, end_stream: bool) -> bytes:
        flags = END_HEADERS | (END_STREAM if end_stream else 0)
        return frame(FrameType.HEADERS, flags, stream_id, self.encoder.encode(fields))

    def headers(
        self,
        stream_id: int,
        *,
        status: str = "200",
        content_type: str = "application/grpc",
        end_stream: bool = False,
    ) -> bytes:
        fields = [(":status", status), ("content-type", content_type)]
        return self.block(stream_id, fields, end_stream=end_stream)

    def trailers(self, stream_id: int, status: int | None = 0, text: str | None = None) -> bytes:
        fields = [] if status is None else [("grpc-status", str(status))]
        if text is not None:
            fields.append(("grpc-message", text))
        return self.block(stream_id, fields, end_stream=True)

    def trailers_only(self, stream_id: int, status: int, text: str) -> bytes:
        fields = [
            (":status", "200"),
            ("content-type", "application/grpc"),
            ("grpc-status", str(status)),
            ("grpc-message", text),
        ]
        return self.block(stream_id, fields, end_stream=True)

    def reply(self, stream_id: int, *messages: bytes) -> bytes:
        data = b"".join(frame(FrameType.DATA, 0, stream_id, message(m)) for m in messages)
        return self.headers(stream_id) + data + self.trailers(stream_id)

    def frames(self, data: bytes) -> list[tuple[int, int, int, object]]:
        """The frames, with header blocks decoded to lists of ``(name, value)``."""
        out: list[tuple[int, int, int, object]] = []
        for kind, flags, stream_id, payload in iter_frames(data):
            if kind == FrameType.HEADERS:
                fields = [tuple(f) for f in self.decoder.decode(payload)]
                out.append((kind, flags, stream_id, fields))
            else:
                out.append((kind, flags, stream_id, payload))
        return out


def connected(master_settings: bytes | None = None) -> ClientConnection:
    """A client past its greeting, with the master's SETTINGS received and ACKed."""
    connection = ClientConnection(authority=AUTHORITY)
    connection.data_to_send()
    assert connection.receive_data(master_settings or settings()) == []
    assert list(iter_frames(connection.data_to_send())) == [(FrameType.SETTINGS, ACK, 0, b"")]
    return connection


def request_fields(timeout: str | None = None) -> list[tuple[str, str]]:
    fields = [
        (":method", "POST"),
        (":scheme", "https"),
        (":path", PATH),
        (":authority", AUTHORITY),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]
    if timeout is not None:
        fields.append(("grpc-timeout", timeout))
    return fields


# -- the greeting and requests ------------------------------------------------------------


def test_a_new_connection_sends_the_preface_settings_and_a_larger_connection_window() -> None:
    connection = ClientConnection(authority=AUTHORITY)
    data = connection.data_to_send()
    assert data.startswith(PREFACE)
    (kind, flags, stream, payload), (kind2, flags2, stream2, increment) = iter_frames(
        data[len(PREFACE) :]
    )
    assert (kind, flags, stream) == (FrameType.SETTINGS, 0, 0)
    assert list(struct.iter_unpack(">HI", payload)) == [(0x2, 0), (0x4, 4 * MiB)]
    assert (kind2, flags2, stream2) == (FrameType.WINDOW_UPDATE, 0, 0)
    assert struct.unpack(">I", increment)[0] == 16 * MiB - 65_535
    assert connection.data_to_send() == b""


def test_start_call_sends_one_headers_frame_with_grpcs_request_fields() -> None:
    master = Master()
    connection = connected()
    assert connection.start_call(PATH, 2.5) == 1
    assert master.frames(connection.data_to_send()) == [
        (FrameType.HEADERS, END_HEADERS, 1, request_fields("2500m"))
    ]
    # The cached block for the path must not keep the first call's timeout.
    assert connection.start_call(PATH) == 3
    assert master.frames(connection.data_to_send()) == [
        (FrameType.HEADERS, END_HEADERS, 3, request_fields())
    ]
    assert connection.start_call(PATH, 0.0001, end=True) == 5
    assert master.frames(connection.data_to_send()) == [
        (FrameType.HEADERS, END_HEADERS | END_STREAM, 5, request_fields("1m"))
    ]
    assert connection.open_calls == 3


def test_a_message_with_end_is_one_data_frame_that_ends_the_stream() -> None:
    connection = connected()
    stream_id = connection.start_call(PATH)
    connection.data_to_send()
    connection.send_message(stream_id, b"request", end=True)
    assert list(iter_frames(connection.data_to_send())) == [
        (FrameType.DATA, END_STREAM, 1, b"\x00\x00\x00\x00\x07request")
    ]
    assert connection.pending(stream_id) == 0


def test_no_message_goes_after_the_end_of_the_request() -> None:
    connection = connected()
    connection.start_call(PATH)
    connection.send_message(1, b"last", end=True)
    connection.data_to_send()
    with pytest.raises(RuntimeError, match="stream 1 has already ended"):
        connection.send_message(1, b"more")
    assert connection.data_to_send() == b""


def test_end_request_after_a_message_sends_an_empty_data_frame_ending_the_stream() -> None:
    connection = connected()
    stream_id = connection.start_call(PATH)
    connection.data_to_send()
    connection.send_message(stream_id, b"one")
    connection.send_message(stream_id, b"two")
    connection.end_request(stream_id)
    connection.end_request(stream_id)  # once only
    assert list(iter_frames(connection.data_to_send())) == [
        (FrameType.DATA, 0, 1, message(b"one")),
        (FrameType.DATA, 0, 1, message(b"two")),
        (FrameType.DATA, END_STREAM, 1, b""),
    ]


def test_a_message_larger_than_the_masters_window_waits_for_a_window_update() -> None:
    connection = connected(settings(initial_window=10))
    stream_id = connection.start_call(PATH)
    connection.data_to_send()
    connection.send_message(stream_id, b"x" * 95, end=True)  # 100 bytes with its prefix
    body = message(b"x" * 95)
    assert list(iter_frames(connection.data_to_send())) == [(FrameType.DATA, 0, 1, body[:10])]
    assert connection.pending(stream_id) == 90
    connection.receive_data(window_update(1, 50))
    assert list(iter_frames(connection.data_to_send())) == [(FrameType.DATA, 0, 1, body[10:60])]
    assert connection.pending(stream_id) == 40
    connection.receive_data(window_update(1, 1000))
    assert list(iter_frames(connection.data_to_send())) == [
        (FrameType.DATA, 0, 1, body[60:]),
        (FrameType.DATA, END_STREAM, 1, b""),
    ]
    assert connection.pending(stream_id) == 0


def test_the_connection_window_holds_data_too() -> None:
    connection = connected()
    one = connection.start_call(PATH)
    three = connection.start_call(PATH)
    connection.data_to_send()
    # Stream windows are 65535 each, and so is the connection's: the first takes most.
    connection.send_message(one, b"a" * 65_000)
    connection.send_message(three, b"b" * 1000)
    assert connection.pending(one) == 0
    assert connection.pending(three) == 1005 - 530
    connection.data_to_send()
    connection.receive_data(window_update(0, 10_000))
    assert [(k, s, len(p)) for k, _, s, p in iter_frames(connection.data_to_send())] == [
        (FrameType.DATA, 3, 475)
    ]
    assert connection.pending(three) == 0


@pytest.mark.parametrize(
    ("max_frame", "sizes"),
    [(None, [16_384, 16_384, 16_384, 853]), (20_000, [20_000, 20_000, 10_005])],
)
def test_data_frames_never_exceed_the_masters_frame_size(
    max_frame: int | None, sizes: list[int]
) -> None:
    if max_frame is None:
        connection = connected()  # the default, 16 KiB
    else:
        connection = connected(settings(max_frame=max_frame, initial_window=1_000_000))
        connection.receive_data(window_update(0, 1_000_000))
    connection.start_call(PATH)
    connection.data_to_send()
    connection.send_message(1, b"z" * 50_000, end=True)
    frames = list(iter_frames(connection.data_to_send()))
    assert [(k, f, len(p)) for k, f, _, p in frames] == [
        *((FrameType.DATA, 0, size) for size in sizes),
        (FrameType.DATA, END_STREAM, 0),
    ]
    assert b"".join(p for _, _, _, p in frames) == message(b"z" * 50_000)


# -- replies ------------------------------------------------------------------------------


def test_a_reply_gives_its_message_then_the_calls_end() -> None:
    master = Master()
    connection = connected()
    stream_id = connection.start_call(PATH, 1.0)
    connection.send_message(stream_id, b"request", end=True)
    connection.data_to_send()
    events = connection.receive_data(master.reply(stream_id, b"value"))
    assert events == [ReplyMessage(1, b"value"), CallEnded(1, 0, "")]
    assert not connection.is_open(stream_id)
    assert connection.open_calls == 0
    # Both sides ended: nothing to reset.
    assert connection.data_to_send() == b""


def test_a_trailers_only_error_reply_gives_the_decoded_status_message() -> None:
    master = Master()
    connection = connected()
    stream_id = connection.start_call(PATH, end=True)
    connection.data_to_send()
    events = connection.receive_data(master.trailers_only(stream_id, 5, "no key %27%C3%A9%27"))
    assert events == [CallEnded(1, 5, "no key 'é'")]
    assert connection.data_to_send() == b""


def test_a_message_split_over_data_frames_arrives_once_whole() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    body = message(b"y" * 300)
    assert connection.receive_data(master.headers(1)) == []
    assert connection.receive_data(frame(FrameType.DATA, 0, 1, body[:3])) == []
    assert connection.receive_data(frame(FrameType.DATA, 0, 1, body[3:100])) == []
    padded = frame(FrameType.DATA, PADDED, 1, bytes([4]) + body[100:299] + b"\0" * 4)
    assert connection.receive_data(padded) == []
    assert connection.receive_data(frame(FrameType.DATA, 0, 1, body[299:])) == [
        ReplyMessage(1, b"y" * 300)
    ]
    assert connection.receive_data(master.trailers(1)) == [CallEnded(1, 0, "")]


def test_several_messages_in_one_frame_arrive_in_order() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    data = message(b"one") + message(b"") + message(b"three") + message(b"fo")[:5]
    events = connection.receive_data(master.headers(1) + frame(FrameType.DATA, 0, 1, data))
    assert events == [ReplyMessage(1, b"one"), ReplyMessage(1, b""), ReplyMessage(1, b"three")]
    assert connection.receive_data(frame(FrameType.DATA, 0, 1, b"fo")) == [ReplyMessage(1, b"fo")]


def test_replies_on_several_streams_are_kept_apart() -> None:
    master = Master()
    connection = connected()
    for _ in range(3):
        connection.start_call(PATH, end=True)
    events = connection.receive_data(
        master.headers(5)
        + master.headers(1)
        + frame(FrameType.DATA, 0, 1, message(b"a1")[:4])
        + frame(FrameType.DATA, 0, 5, message(b"e5"))
        + frame(FrameType.DATA, 0, 1, message(b"a1")[4:])
        + master.trailers_only(3, 12, "unimplemented")
        + master.trailers(5)
        + master.trailers(1, 0)
    )
    assert events == [
        ReplyMessage(5, b"e5"),
        ReplyMessage(1, b"a1"),
        CallEnded(3, 12, "unimplemented"),
        CallEnded(5, 0, ""),
        CallEnded(1, 0, ""),
    ]


# -- replies that are not gRPC's ----------------------------------------------------------


def test_an_http_error_status_is_unavailable_and_the_stream_is_cancelled() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH)
    connection.data_to_send()
    events = connection.receive_data(master.headers(1, status="503", content_type="text/html"))
    assert events == [CallEnded(1, 14, "the master answered HTTP status 503")]
    assert rst_streams(connection) == [(1, ErrorCode.CANCEL)]
    assert not connection.is_open(1)
    # What the master sends after is moot, not an error.
    assert connection.receive_data(frame(FrameType.DATA, END_STREAM, 1, b"<html>")) == []
    assert not connection.ended


def test_an_http_200_that_is_not_grpc_is_unknown() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    connection.data_to_send()
    events = connection.receive_data(master.headers(1, content_type="text/html"))
    assert events == [
        CallEnded(1, 2, "the master answered with content type 'text/html', not gRPC")
    ]
    assert rst_streams(connection) == [(1, ErrorCode.CANCEL)]


def test_trailers_without_grpc_status_are_unknown() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    events = connection.receive_data(master.headers(1) + master.trailers(1, None))
    assert events == [CallEnded(1, 2, "the master's reply had no valid grpc-status")]


def test_a_reply_ended_by_data_without_trailers_is_internal() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    connection.data_to_send()
    events = connection.receive_data(
        master.headers(1) + frame(FrameType.DATA, END_STREAM, 1, message(b"r"))
    )
    assert events == [
        ReplyMessage(1, b"r"),
        CallEnded(1, 13, "the master's reply ended without a status"),
    ]
    assert rst_streams(connection) == []  # both sides ended


def test_trailers_inside_a_message_are_internal() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    events = connection.receive_data(
        master.headers(1)
        + frame(FrameType.DATA, 0, 1, message(b"cut short")[:8])
        + master.trailers(1, 0)
    )
    assert events == [CallEnded(1, 13, "the reply ended inside a message (8 bytes)")]


def test_a_compressed_reply_is_internal() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    connection.data_to_send()
    events = connection.receive_data(master.headers(1) + frame(FrameType.DATA, 0, 1, b"\x01" * 9))
    assert events == [CallEnded(1, 13, "the master sent a compressed reply")]
    assert rst_streams(connection) == [(1, ErrorCode.CANCEL)]


# -- receive flow control -----------------------------------------------------------------


def test_unconsumed_messages_hold_the_stream_window_until_a_quarter_is_free() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    connection.receive_data(master.headers(1))
    connection.data_to_send()
    chunk = frame(FrameType.DATA, 0, 1, message(b"m" * 16_000))  # 16,005 bytes
    for _ in range(100):
        assert connection.receive_data(chunk) == [ReplyMessage(1, b"m" * 16_000)]
    assert window_updates(connection) == []  # 1.6 MB held, unread
    for _ in range(65):  # 1,040,325 bytes: not yet a quarter of 4 MiB
        connection.consumed(1)
    assert window_updates(connection) == []
    connection.consumed(1)
    assert window_updates(connection) == [(1, 66 * 16_005)]
    for _ in range(34):
        connection.consumed(1)
    assert window_updates(connection) == []


def test_partial_messages_are_credited_as_their_bytes_arrive() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    connection.receive_data(master.headers(1) + frame(FrameType.DATA, 0, 1, b"\0\xff\xff\xff\xff"))
    connection.data_to_send()
    # 64 frames of 16 KiB: exactly a quarter of the window, and no message whole.
    chunk = frame(FrameType.DATA, 0, 1, b"p" * 16_384)
    for _ in range(63):
        assert connection.receive_data(chunk) == []
    assert window_updates(connection) == []
    connection.receive_data(chunk)
    assert window_updates(connection) == [(1, 63 * 16_384 + 16_389)]


def test_a_reply_larger_than_the_stream_window_gets_through() -> None:
    """The master sends as its window allows; the client credits before the message is whole."""
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    connection.receive_data(master.headers(1))
    connection.data_to_send()
    size = 5 * MiB
    body = memoryview(message(b"L" * size))
    window = connection_window = 4 * MiB  # what the client announced for streams
    offset = 0
    events: list[object] = []
    credited_before_whole = 0
    while offset < len(body):
        step = min(16_384, window, len(body) - offset)
        assert step > 0, f"deadlock: {offset} of {len(body)} bytes sent, window closed"
        events += connection.receive_data(
            frame(FrameType.DATA, 0, 1, bytes(body[offset : step + offset]))
        )
        offset += step
        window -= step
        for stream_id, increment in window_updates(connection):
            if stream_id == 1:
                window += increment
                if not events:
                    credited_before_whole += increment
            else:
                connection_window += increment
    assert events == [ReplyMessage(1, b"L" * size)]
    assert credited_before_whole >= len(body) - 4 * MiB
    assert connection.receive_data(master.trailers(1)) == [CallEnded(1, 0, "")]


def test_a_reader_that_stops_stops_the_master_after_one_message_and_a_window() -> None:
    """The master sends 1 MiB messages as the window allows; nobody reads them."""
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    connection.receive_data(master.headers(1))
    connection.data_to_send()
    body = message(b"w" * MiB)
    window, sent, whole = 4 * MiB, 0, 0

    def send_what_the_window_allows() -> None:
        nonlocal window, sent, whole
        while window > 0 and sent < 64 * MiB:  # a master never stopped would go on
            offset = sent % len(body)
            step = min(16_384, window, len(body) - offset)
            events = connection.receive_data(
                frame(FrameType.DATA, 0, 1, body[offset : offset + step])
            )
            whole += len(events)
            sent += step
            window -= step
            window += sum(
                increment for stream_id, increment in window_updates(connection) if stream_id
            )

    send_what_the_window_allows()
    # The first message was credited as it came (nothing was unread; in steps
    # of 1 MiB, so its last 5 bytes were not); then it was unread, and the
    # window filled behind it.
    assert sent == 5 * MiB
    assert whole == 4
    # Read every message: the window opens again, and the master goes on.
    for _ in range(whole):
        connection.consumed(1)
    window += sum(increment for stream_id, increment in window_updates(connection) if stream_id)
    assert window == 4 * MiB
    send_what_the_window_allows()
    # Stopped again: at most one message and a window beyond what was read.
    assert whole == 8
    assert sent - 4 * len(body) <= len(body) + 4 * MiB


def test_the_connection_window_is_credited_once_half_of_it_arrived() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    # One message of 100 MB that never completes: its bytes are credited to its stream.
    connection.receive_data(master.headers(1) + frame(FrameType.DATA, 0, 1, b"\0\x06\0\0\0"))
    connection.data_to_send()
    chunk = frame(FrameType.DATA, 0, 1, b"c" * 16_384)
    for _ in range(510):
        connection.receive_data(chunk)
    assert [u for u in window_updates(connection) if u[0] == 0] == []
    connection.receive_data(chunk)  # 5 + 511 * 16,384 bytes: still short of 8 MiB
    assert [u for u in window_updates(connection) if u[0] == 0] == []
    connection.receive_data(chunk)
    assert [u for u in window_updates(connection) if u[0] == 0] == [(0, 5 + 512 * 16_384)]


# -- resets, GOAWAY -------------------------------------------------------------------------


def test_a_masters_reset_abandons_the_call() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH)
    connection.data_to_send()
    events = connection.receive_data(frame(FrameType.RST_STREAM, 0, 1, struct.pack(">I", 7)))
    assert events == [StreamReset(1, ErrorCode.REFUSED_STREAM)]
    assert not connection.is_open(1)
    with pytest.raises(KeyError):
        connection.send_message(1, b"late")
    connection.end_request(1)  # ignored
    connection.reset_stream(1)  # ignored
    assert connection.data_to_send() == b""
    # Late frames on it are moot.
    assert connection.receive_data(master.headers(1) + frame(FrameType.DATA, 0, 1, b"x")) == []
    assert not connection.ended


def test_a_reset_of_a_stream_never_opened_ends_the_connection() -> None:
    connection = connected()
    connection.start_call(PATH)
    connection.data_to_send()
    events = connection.receive_data(frame(FrameType.RST_STREAM, 0, 3, struct.pack(">I", 8)))
    assert events == [ConnectionEnded(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on idle stream 3")]
    assert connection.ended
    ((kind, _, _, payload),) = iter_frames(connection.data_to_send())
    assert kind == FrameType.GOAWAY
    assert struct.unpack_from(">II", payload) == (0, ErrorCode.PROTOCOL_ERROR)


def test_the_client_may_reset_a_call() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH)
    connection.data_to_send()
    connection.reset_stream(1)
    assert rst_streams(connection) == [(1, ErrorCode.CANCEL)]
    assert connection.receive_data(master.reply(1, b"late")) == []


def test_a_goaway_ends_later_calls_and_lets_earlier_ones_finish() -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    connection.start_call(PATH, end=True)
    assert connection.accepting
    goaway = frame(FrameType.GOAWAY, 0, 0, struct.pack(">II", 1, 0) + b"restarting")
    events = connection.receive_data(goaway)
    assert events == [
        ConnectionEnded(0, "restarting", last_stream_id=1),
        CallEnded(3, 14, "the master closed the connection first"),
    ]
    assert not connection.accepting
    assert not connection.ended
    assert not connection.is_open(3)
    assert connection.is_open(1)
    assert connection.receive_data(master.reply(1, b"finished")) == [
        ReplyMessage(1, b"finished"),
        CallEnded(1, 0, ""),
    ]
    assert connection.open_calls == 0


def test_close_queues_a_goaway_once() -> None:
    connection = connected()
    connection.close(ErrorCode.NO_ERROR, "bye")
    connection.close()
    ((kind, _, stream_id, payload),) = iter_frames(connection.data_to_send())
    assert (kind, stream_id, payload) == (FrameType.GOAWAY, 0, b"\0" * 8 + b"bye")
    assert connection.ended
    assert not connection.accepting


# -- protocol violations -------------------------------------------------------------------


def data_before_headers(master: Master) -> bytes:
    return frame(FrameType.DATA, 0, 1, message(b"x"))


def headers_on_stream_3(master: Master) -> bytes:
    return master.headers(3)


def headers_on_stream_2(master: Master) -> bytes:
    return master.headers(2)


def push_promise(master: Master) -> bytes:
    return frame(FrameType.PUSH_PROMISE, END_HEADERS, 1, b"\0\0\0\x02")


def oversized_frame(master: Master) -> bytes:
    return master.headers(1) + frame(FrameType.DATA, 0, 1, b"x" * 16_385)


def settings_on_a_stream(master: Master) -> bytes:
    return frame(FrameType.SETTINGS, 0, 1, b"")


def short_ping(master: Master) -> bytes:
    return frame(FrameType.PING, 0, 0, b"1234567")


def window_update_of_zero(master: Master) -> bytes:
    return window_update(1, 0)


def trailers_without_end_stream(master: Master) -> bytes:
    return master.headers(1) + master.block(1, [("grpc-status", "0")], end_stream=False)


def data_on_idle_stream(master: Master) -> bytes:
    return frame(FrameType.DATA, 0, 7, b"x")


def interrupted_header_block(master: Master) -> bytes:
    return frame(FrameType.HEADERS, 0, 1, b"\x88") + frame(FrameType.PING, 0, 0, b"12345678")


def undecodable_headers(master: Master) -> bytes:
    return frame(FrameType.HEADERS, END_HEADERS, 1, b"\xff\xff\xff\xff")


@pytest.mark.parametrize(
    ("data", "reason", "code"),
    [
        (data_before_headers, "DATA before the reply's headers on stream 1", 1),
        (headers_on_stream_3, "HEADERS on stream 3, which was never opened", 1),
        (headers_on_stream_2, "HEADERS on stream 2, which was never opened", 1),
        (push_promise, "PUSH_PROMISE", 1),
        (oversized_frame, "a frame of 16385 bytes is larger than the maximum, 16384", 6),
        (settings_on_a_stream, "SETTINGS on a stream", 1),
        (short_ping, "PING of the wrong size", 6),
        (window_update_of_zero, "WINDOW_UPDATE of 0 on stream 1", 1),
        (trailers_without_end_stream, "trailers without END_STREAM on stream 1", 1),
        (data_on_idle_stream, "DATA on idle stream 7", 1),
        (interrupted_header_block, "a header block was interrupted by another frame", 1),
        (undecodable_headers, "undecodable header block", 9),
    ],
)
def test_protocol_violations_end_the_connection_with_a_goaway(
    data: Callable[[Master], bytes], reason: str, code: int
) -> None:
    master = Master()
    connection = connected()
    connection.start_call(PATH, end=True)
    connection.data_to_send()
    events = connection.receive_data(data(master))
    assert len(events) == 1
    (ended,) = events
    assert isinstance(ended, ConnectionEnded)
    assert ended.reason.startswith(reason)
    assert (ended.code, ended.last_stream_id) == (code, 0)
    assert connection.ended
    assert not connection.accepting
    ((kind, _, stream_id, payload),) = iter_frames(connection.data_to_send())
    assert (kind, stream_id) == (FrameType.GOAWAY, 0)
    assert struct.unpack_from(">II", payload) == (0, code)
    assert payload[8:] == ended.reason.encode()
    # What comes after is ignored.
    assert connection.receive_data(frame(FrameType.PING, 0, 0, b"12345678")) == []
    assert connection.receive_data(master.trailers_only(1, 0, "")) == []
    assert connection.data_to_send() == b""


# -- settings and pings -------------------------------------------------------------------


def test_the_masters_stream_limit_decides_whether_there_is_room() -> None:
    master = Master()
    connection = ClientConnection(authority=AUTHORITY)
    connection.data_to_send()
    assert connection.has_room  # no limit said yet
    assert connection.receive_data(settings(max_streams=2)) == []
    assert list(iter_frames(connection.data_to_send())) == [(FrameType.SETTINGS, ACK, 0, b"")]
    assert connection.has_room
    connection.start_call(PATH, end=True)
    assert connection.has_room
    connection.start_call(PATH, end=True)
    assert not connection.has_room
    assert connection.receive_data(master.trailers_only(3, 0, "")) == [CallEnded(3, 0, "")]
    assert connection.has_room
    assert connection.open_calls == 1


def test_a_settings_ack_from_the_master_is_not_answered() -> None:
    connection = connected()
    assert connection.receive_data(frame(FrameType.SETTINGS, ACK, 0)) == []
    assert connection.data_to_send() == b""


def test_pings_are_answered_with_the_same_payload() -> None:
    connection = connected()
    assert connection.receive_data(frame(FrameType.PING, 0, 0, b"abcdefgh")) == []
    assert connection.receive_data(frame(FrameType.PING, ACK, 0, b"ignored!")) == []
    assert list(iter_frames(connection.data_to_send())) == [(FrameType.PING, ACK, 0, b"abcdefgh")]
    connection.ping(b"12345678")
    assert list(iter_frames(connection.data_to_send())) == [(FrameType.PING, 0, 0, b"12345678")]


# -- how the bytes are split --------------------------------------------------------------


def master_stream() -> bytes:
    master = Master()
    return (
        settings(initial_window=1000, max_streams=10)
        + master.headers(1)
        + frame(FrameType.DATA, 0, 1, message(b"a" * 100) + message(b"b")[:3])
        + master.headers(3)
        + frame(FrameType.DATA, 0, 1, message(b"b")[3:])
        + frame(FrameType.DATA, 0, 3, message(b"c" * 40))
        + master.trailers(1)
        + frame(FrameType.PING, 0, 0, b"pingpong")
        + master.trailers_only(5, 3, "bad %25 argument")
        + master.trailers(3, 0)
    )


@given(st.lists(st.integers(min_value=1, max_value=40), max_size=60))
def test_events_do_not_depend_on_how_the_bytes_are_split(cuts: list[int]) -> None:
    data = master_stream()
    whole, pieces = ClientConnection(authority=AUTHORITY), ClientConnection(authority=AUTHORITY)
    for connection in (whole, pieces):
        for _ in range(3):
            connection.start_call(PATH, end=True)
    expected = whole.receive_data(data)
    assert expected == [
        ReplyMessage(1, b"a" * 100),
        ReplyMessage(1, b"b"),
        ReplyMessage(3, b"c" * 40),
        CallEnded(1, 0, ""),
        CallEnded(5, 3, "bad % argument"),
        CallEnded(3, 0, ""),
    ]
    events = []
    offset = 0
    for cut in cuts:
        events += pieces.receive_data(data[offset : offset + cut])
        offset += cut
    events += pieces.receive_data(data[offset:])
    assert events == expected
    assert pieces.data_to_send() == whole.data_to_send()


# -- a round trip with the server end -----------------------------------------------------


def pump(client: ClientConnection, server: ServerConnection) -> tuple[list[object], list[object]]:
    """Pass each side's bytes to the other until neither has more; return both sides' events."""
    client_events: list[object] = []
    server_events: list[object] = []
    for _ in range(1000):
        to_server, to_client = client.data_to_send(), server.data_to_send()
        if not to_server and not to_client:
            return client_events, server_events
        server_events += server.receive_data(to_server)
        client_events += client.receive_data(to_client)
    raise AssertionError("the two ends never went quiet")


def test_a_round_trip_with_the_server_end() -> None:
    client = ClientConnection(authority=AUTHORITY)
    server = ServerConnection(max_message_size=10_000)
    assert pump(client, server) == ([], [])

    # Three unary calls at once.
    unary = []
    for n in range(3):
        stream_id = client.start_call(PATH, 1.5)
        client.send_message(stream_id, f"request {n}".encode(), end=True)
        unary.append(stream_id)
    client_events, server_events = pump(client, server)
    assert client_events == []
    assert server_events == [
        event
        for n, stream_id in enumerate(unary)
        for event in (
            CallStarted(stream_id, PATH, 1.5),
            MessageReceived(stream_id, f"request {n}".encode()),
            RequestEnded(stream_id),
        )
    ]
    long_text = "é%" * 1000
    server.send_message(unary[2], b"reply 2")
    server.send_trailers(unary[2], 0)
    server.send_trailers(unary[0], 9, long_text)
    server.send_message(unary[1], b"reply 1")
    server.send_trailers(unary[1], 0)
    client_events, server_events = pump(client, server)
    assert server_events == []
    assert client_events == [
        ReplyMessage(5, b"reply 2"),
        CallEnded(5, 0, ""),
        CallEnded(1, 9, "é%" * 512 + "... (2000 characters in all)"),
        ReplyMessage(3, b"reply 1"),
        CallEnded(3, 0, ""),
    ]

    # A streaming call, messages both ways.
    stream_id = client.start_call("/skein.v1.AppMaster/Watch")
    assert stream_id == 7
    client.send_message(stream_id, b"first")
    client_events, server_events = pump(client, server)
    assert server_events == [
        CallStarted(7, "/skein.v1.AppMaster/Watch", None),
        MessageReceived(7, b"first"),
    ]
    server.send_message(stream_id, b"update 1")
    server.send_message(stream_id, b"update 2")
    client.send_message(stream_id, b"second")
    client.end_request(stream_id)
    client_events, server_events = pump(client, server)
    assert client_events == [ReplyMessage(7, b"update 1"), ReplyMessage(7, b"update 2")]
    assert server_events == [MessageReceived(7, b"second"), RequestEnded(7)]
    big = bytes(range(256)) * 20  # several KB, one frame
    server.send_message(stream_id, big)
    server.send_trailers(stream_id, 0)
    client_events, server_events = pump(client, server)
    assert client_events == [ReplyMessage(7, big), CallEnded(7, 0, "")]
    assert server_events == []
    assert client.open_calls == 0
    assert not client.ended
    assert not server.ended


def test_a_reply_larger_than_the_window_crosses_from_the_server_end() -> None:
    client = ClientConnection(authority=AUTHORITY)
    server = ServerConnection(max_message_size=100)
    pump(client, server)
    stream_id = client.start_call(PATH, end=True)
    pump(client, server)
    big = b"B" * (6 * MiB)
    server.send_message(stream_id, big)
    server.send_trailers(stream_id, 0)
    client_events, _ = pump(client, server)
    assert client_events == [ReplyMessage(1, big), CallEnded(1, 0, "")]
    assert server.pending(stream_id) == 0


# -- timeouts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "value"),
    [
        (2.5, b"2500m"),
        (0.25, b"250m"),
        (0.0, b"1m"),
        (0.0001, b"1m"),  # rounded up, never to 0
        (0.0015, b"2m"),
        (99_999.999, b"99999999m"),  # 8 digits: the most a value may have
        (99_999.9995, b"100000S"),  # 9 digits of milliseconds: seconds
        (100_000.0, b"100000S"),
        (100_000_000.5, b"1666667M"),
        (10**9, b"16666667M"),
        (10**10, b"2777778H"),
        (10**13, b"99999999H"),
    ],
)
def test_format_timeout(seconds: float, value: bytes) -> None:
    assert format_timeout(seconds) == value


def test_format_timeout_does_not_round_up_exact_milliseconds() -> None:
    assert format_timeout(2.007) == b"2007m"


def test_the_modules_doctests_hold() -> None:
    failures, _ = doctest.testmod(http2_client)
    assert failures == 0
