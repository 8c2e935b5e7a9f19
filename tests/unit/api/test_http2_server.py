"""The server end of gRPC over HTTP/2, fed bytes as a client would send them."""

from __future__ import annotations

import struct
from urllib.parse import unquote

import pytest
from hpack import Decoder, Encoder
from hypothesis import given
from hypothesis import strategies as st

from skein.api.http2_server import (
    MAX_CONCURRENT_STREAMS,
    PREFACE,
    CallStarted,
    ConnectionEnded,
    ErrorCode,
    FrameType,
    MessageReceived,
    MessageRefused,
    RequestEnded,
    ServerConnection,
    StreamReset,
    encode_grpc_message,
    parse_timeout,
)
from skein.testing.http2_frames import frame, iter_frames, settings, window_updates
from skein.testing.http2_frames import grpc_message as message

END_STREAM, ACK, END_HEADERS, PADDED = 0x1, 0x1, 0x4, 0x8


def decode_grpc_message(value: str) -> str:
    """What a client makes of a ``grpc-message`` header."""
    return unquote(value, errors="replace")


PATH = "/skein.v1.AppMaster/PutKey"


class Client:
    """Makes a client's bytes; decodes the server's frames (with its own HPACK state)."""

    def __init__(self) -> None:
        self.encoder = Encoder()
        self.decoder = Decoder()

    def headers(
        self,
        stream_id: int,
        *,
        path: str = PATH,
        end_stream: bool = False,
        extra: list[tuple[str, str]] | None = None,
        method: str = "POST",
        content_type: str = "application/grpc",
    ) -> bytes:
        fields = [
            (":method", method),
            (":scheme", "https"),
            (":path", path),
            (":authority", "master"),
            ("content-type", content_type),
            ("te", "trailers"),
            *(extra or []),
        ]
        block = self.encoder.encode(fields)
        flags = END_HEADERS | (END_STREAM if end_stream else 0)
        return frame(FrameType.HEADERS, flags, stream_id, block)

    def call(self, stream_id: int, data: bytes, **kwargs: object) -> bytes:
        return self.headers(stream_id, **kwargs) + frame(  # type: ignore[arg-type]
            FrameType.DATA, END_STREAM, stream_id, message(data)
        )

    def frames(self, data: bytes) -> list[tuple[int, int, int, object]]:
        """The frames, with header blocks decoded to dicts."""
        out: list[tuple[int, int, int, object]] = []
        for kind, flags, stream_id, payload in iter_frames(data):
            if kind == FrameType.HEADERS:
                out.append((kind, flags, stream_id, dict(self.decoder.decode(payload))))
            else:
                out.append((kind, flags, stream_id, payload))
        return out


def connected(client_settings: bytes | None = None) -> ServerConnection:
    connection = ServerConnection(max_message_size=1024)
    connection.data_to_send()
    assert connection.receive_data(PREFACE + (client_settings or settings())) == []
    sent = iter_frames(connection.data_to_send())
    assert [(k, f) for k, f, _, _ in sent] == [(FrameType.SETTINGS, ACK)]
    return connection


def test_the_server_greets_with_its_settings_and_a_larger_connection_window() -> None:
    connection = ServerConnection(max_message_size=1024)
    (kind, _, _, payload), (kind2, _, stream, increment) = iter_frames(connection.data_to_send())
    assert kind == FrameType.SETTINGS
    # A stream's window holds the largest message and then some; 128 streams at once.
    assert dict(struct.iter_unpack(">HI", payload)) == {0x4: 1029 + 65_536, 0x3: 128}
    assert (kind2, stream) == (FrameType.WINDOW_UPDATE, 0)
    assert struct.unpack(">I", increment)[0] == 4 * 1024 * 1024 - 65_535


def test_a_unary_call_in_and_its_reply_out() -> None:
    client = Client()
    connection = connected()
    events = connection.receive_data(client.call(1, b"request", extra=[("grpc-timeout", "250m")]))
    assert events == [
        CallStarted(1, PATH, 0.25),
        MessageReceived(1, b"request"),
        RequestEnded(1),
    ]
    connection.send_message(1, b"reply")
    connection.send_trailers(1, 0)
    assert not connection.is_open(1)
    frames = client.frames(connection.data_to_send())
    assert frames == [
        (FrameType.HEADERS, END_HEADERS, 1, {":status": "200", "content-type": "application/grpc"}),
        (FrameType.DATA, 0, 1, message(b"reply")),
        (FrameType.HEADERS, END_HEADERS | END_STREAM, 1, {"grpc-status": "0"}),
    ]


def test_an_error_without_reply_is_a_trailers_only_reply_with_an_encoded_message() -> None:
    client = Client()
    connection = connected()
    connection.receive_data(client.call(1, b""))
    connection.send_trailers(1, 5, "no key 'é' at 100%")
    ((kind, flags, stream_id, fields),) = client.frames(connection.data_to_send())
    assert (kind, flags, stream_id) == (FrameType.HEADERS, END_HEADERS | END_STREAM, 1)
    assert fields == {
        ":status": "200",
        "content-type": "application/grpc",
        "grpc-status": "5",
        "grpc-message": "no key '%C3%A9' at 100%25",
    }
    assert decode_grpc_message(fields["grpc-message"]) == "no key 'é' at 100%"  # type: ignore[index]


@given(st.text(max_size=40))
def test_grpc_messages_round_trip(text: str) -> None:
    encoded = encode_grpc_message(text)
    assert all(0x20 <= b <= 0x7E for b in encoded)
    assert decode_grpc_message(encoded.decode()) == text


@given(st.lists(st.integers(min_value=1, max_value=40), max_size=60))
def test_events_do_not_depend_on_how_the_bytes_are_split(cuts: list[int]) -> None:
    client = Client()
    data = PREFACE + settings() + client.call(1, b"a" * 100) + client.call(3, b"")
    data += frame(FrameType.PING, 0, 0, b"12345678")
    whole = ServerConnection(max_message_size=1024)
    expected = whole.receive_data(data)
    pieces = ServerConnection(max_message_size=1024)
    events = []
    offset = 0
    for cut in cuts:
        events += pieces.receive_data(data[offset : offset + cut])
        offset += cut
    events += pieces.receive_data(data[offset:])
    assert events == expected
    assert pieces.data_to_send() == whole.data_to_send()
    assert len(expected) == 6


def test_a_message_split_over_frames_is_one_message() -> None:
    client = Client()
    connection = connected()
    body = message(b"x" * 300)
    events = connection.receive_data(
        client.headers(1)
        + frame(FrameType.DATA, 0, 1, body[:2])
        + frame(FrameType.DATA, PADDED, 1, bytes([3]) + body[2:100] + b"\0\0\0")
        + frame(FrameType.DATA, END_STREAM, 1, body[100:])
    )
    assert events == [CallStarted(1, PATH, None), MessageReceived(1, b"x" * 300), RequestEnded(1)]


def test_a_streaming_request_delivers_each_message_as_it_completes() -> None:
    client = Client()
    connection = connected()
    assert connection.receive_data(client.headers(1)) == [CallStarted(1, PATH, None)]
    two = message(b"one") + message(b"two")
    assert connection.receive_data(frame(FrameType.DATA, 0, 1, two + message(b"th")[:6])) == [
        MessageReceived(1, b"one"),
        MessageReceived(1, b"two"),
    ]
    assert connection.receive_data(frame(FrameType.DATA, 0, 1, b"h")) == [MessageReceived(1, b"th")]
    cut_short = message(b"four")[:6]
    assert connection.receive_data(frame(FrameType.DATA, END_STREAM, 1, cut_short)) == [
        MessageRefused(1, 13, "the request ended inside a message (6 bytes)"),
        RequestEnded(1),
    ]


def test_an_oversized_message_is_refused_from_its_prefix_and_its_bytes_dropped() -> None:
    client = Client()
    connection = connected()
    events = connection.receive_data(
        client.headers(1) + frame(FrameType.DATA, 0, 1, struct.pack(">BI", 0, 5000) + b"x" * 100)
    )
    assert events == [
        CallStarted(1, PATH, None),
        MessageRefused(1, 8, "message of 5000 bytes is larger than the limit of 1024 bytes"),
    ]
    assert connection.receive_data(frame(FrameType.DATA, 0, 1, b"x" * 4000)) == []
    connection.send_trailers(1, 8, "too large")
    kinds = [(k, f) for k, f, _, _ in client.frames(connection.data_to_send())]
    # The reply ends the call, and the client is told to stop sending.
    assert kinds == [(FrameType.HEADERS, END_HEADERS | END_STREAM), (FrameType.RST_STREAM, 0)]
    # What it sent meanwhile is ignored (its stream is closed), but still counted.
    assert connection.receive_data(frame(FrameType.DATA, END_STREAM, 1, b"x")) == []


def test_compressed_messages_are_refused() -> None:
    client = Client()
    connection = connected()
    events = connection.receive_data(
        client.headers(1) + frame(FrameType.DATA, END_STREAM, 1, b"\x01\0\0\0\x01x")
    )
    assert MessageRefused(1, 12, "compressed messages are not supported") in events


def test_replies_wait_for_the_clients_windows_and_trailers_wait_for_the_data() -> None:
    client = Client()
    connection = connected(settings(initial_window=10))
    connection.receive_data(client.call(1, b"q"))
    connection.send_message(1, b"r" * 95)  # 100 bytes with its prefix
    connection.send_trailers(1, 0)
    frames = client.frames(connection.data_to_send())
    assert [(k, len(p)) for k, _, _, p in frames[1:]] == [(FrameType.DATA, 10)]  # type: ignore[arg-type]
    assert connection.pending(1) == 90
    assert connection.is_open(1)
    connection.receive_data(frame(FrameType.WINDOW_UPDATE, 0, 1, struct.pack(">I", 50)))
    frames = client.frames(connection.data_to_send())
    assert [(k, len(p)) for k, _, _, p in frames] == [(FrameType.DATA, 50)]  # type: ignore[arg-type]
    connection.receive_data(frame(FrameType.WINDOW_UPDATE, 0, 1, struct.pack(">I", 1000)))
    frames = client.frames(connection.data_to_send())
    assert [k for k, _, _, _ in frames] == [FrameType.DATA, FrameType.HEADERS]
    assert frames[1][3] == {"grpc-status": "0"}
    assert connection.pending(1) == 0
    assert not connection.is_open(1)


def test_the_connection_window_is_shared_by_streams_and_reopens_them_in_order() -> None:
    client = Client()
    connection = connected()
    connection.receive_data(client.call(1, b"") + client.call(3, b""))
    # 65535 bytes of connection window: the first reply takes it nearly all.
    connection.send_message(1, b"a" * 65_000)
    connection.send_message(3, b"b" * 1000)
    assert connection.pending(1) == 0
    assert connection.pending(3) == 1005 - 530
    connection.receive_data(frame(FrameType.WINDOW_UPDATE, 0, 0, struct.pack(">I", 10_000)))
    assert connection.pending(3) == 0


def test_replies_are_cut_to_the_clients_frame_size() -> None:
    client = Client()
    connection = connected(settings(initial_window=1_000_000, max_frame=20_000))
    connection.receive_data(
        client.call(1, b"") + frame(FrameType.WINDOW_UPDATE, 0, 0, struct.pack(">I", 1_000_000))
    )
    connection.send_message(1, b"z" * 50_000)
    sizes = [len(p) for k, _, _, p in iter_frames(connection.data_to_send()) if k == 0]
    assert sizes == [20_000, 20_000, 10_005]


def test_a_smaller_initial_window_shrinks_open_streams() -> None:
    client = Client()
    connection = connected(settings(initial_window=100))
    connection.receive_data(client.call(1, b""))
    connection.receive_data(settings(initial_window=40))
    connection.send_message(1, b"x" * 95)
    assert connection.pending(1) == 60


def test_pings_are_answered() -> None:
    connection = connected()
    connection.receive_data(frame(FrameType.PING, 0, 0, b"abcdefgh"))
    connection.receive_data(frame(FrameType.PING, ACK, 0, b"ignored!"))
    assert list(iter_frames(connection.data_to_send())) == [(FrameType.PING, ACK, 0, b"abcdefgh")]


def test_a_reset_stream_is_abandoned() -> None:
    client = Client()
    connection = connected()
    connection.receive_data(client.headers(1))
    events = connection.receive_data(frame(FrameType.RST_STREAM, 0, 1, struct.pack(">I", 8)))
    assert events == [StreamReset(1, ErrorCode.CANCEL)]
    assert not connection.is_open(1)
    with pytest.raises(KeyError):
        connection.send_message(1, b"late")
    connection.send_trailers(1, 0)  # ignored
    assert connection.data_to_send() == b""
    assert connection.receive_data(frame(FrameType.DATA, 0, 1, b"moot")) == []


def test_the_connection_is_credited_as_data_comes_a_stream_as_its_call_reads() -> None:
    client = Client()
    connection = ServerConnection(max_message_size=20_000)
    connection.receive_data(PREFACE + settings() + client.headers(1))
    connection.data_to_send()
    chunk = frame(FrameType.DATA, 0, 1, message(b"x" * 16_000))
    for _ in range(140):  # about 2.2 MB: past half the connection's 4 MiB window
        connection.receive_data(chunk)
    ((stream_id, increment),) = window_updates(connection)
    assert stream_id == 0
    assert increment >= 2 * 1024 * 1024
    connection.consumed(1, 16_005)
    assert window_updates(connection) == [(1, 16_005)]
    connection.receive_data(frame(FrameType.DATA, END_STREAM, 1, b""))
    connection.consumed(1, 16_005)  # the client sends no more: nothing to credit
    assert window_updates(connection) == []


def test_padding_is_credited_at_once() -> None:
    client = Client()
    connection = connected()
    connection.receive_data(client.headers(1))
    connection.receive_data(frame(FrameType.DATA, PADDED, 1, bytes([10]) + b"abc" + b"\0" * 10))
    assert window_updates(connection) == [(1, 11)]


def test_a_long_status_message_is_cut_to_fit_one_frame() -> None:
    client = Client()
    connection = connected()
    connection.receive_data(client.call(1, b""))
    connection.send_trailers(1, 5, "\U0001f600" * 20_000)
    ((kind, flags, _, payload),) = iter_frames(connection.data_to_send())
    assert (kind, flags) == (FrameType.HEADERS, END_HEADERS | END_STREAM)
    assert len(payload) < 16_384
    text = decode_grpc_message(dict(client.decoder.decode(payload))["grpc-message"])
    assert text == "\U0001f600" * 1024 + "... (20000 characters in all)"


def test_a_call_cut_short_drops_its_pending_data_and_ends_at_once() -> None:
    client = Client()
    connection = connected(settings(initial_window=10))
    connection.receive_data(client.call(1, b""))
    connection.send_message(1, b"r" * 95)
    connection.data_to_send()
    assert connection.pending(1) == 90
    connection.send_trailers(1, 4, "Deadline exceeded", cut_short=True)
    frames = client.frames(connection.data_to_send())
    assert [k for k, _, _, _ in frames] == [FrameType.HEADERS]
    assert frames[0][3] == {"grpc-status": "4", "grpc-message": "Deadline exceeded"}
    assert not connection.is_open(1)


def test_only_a_failed_call_resets_a_stream_the_client_still_sends_on() -> None:
    client = Client()
    connection = connected()
    connection.receive_data(client.headers(1) + client.headers(3))
    connection.send_message(1, b"done")
    connection.send_trailers(1, 0)
    connection.send_trailers(3, 13, "broken")
    kinds = [(k, s) for k, _, s, _ in iter_frames(connection.data_to_send())]
    # A reset would make grpclib drop replies the client has not read yet.
    assert kinds == [
        (FrameType.HEADERS, 1),
        (FrameType.DATA, 1),
        (FrameType.HEADERS, 1),
        (FrameType.HEADERS, 3),
        (FrameType.RST_STREAM, 3),
    ]


def test_streams_beyond_the_announced_limit_are_refused() -> None:
    client = Client()
    connection = connected()
    events = connection.receive_data(
        b"".join(client.headers(2 * n + 1) for n in range(MAX_CONCURRENT_STREAMS + 1))
    )
    assert len(events) == MAX_CONCURRENT_STREAMS
    ((kind, _, stream_id, payload),) = iter_frames(connection.data_to_send())
    assert (kind, stream_id) == (FrameType.RST_STREAM, 2 * MAX_CONCURRENT_STREAMS + 1)
    assert struct.unpack(">I", payload)[0] == ErrorCode.REFUSED_STREAM
    connection.send_trailers(1, 0)  # one ends: the next may start
    assert connection.receive_data(client.headers(1001)) == [CallStarted(1001, PATH, None)]


def test_calls_are_parsed_for_what_serving_needs() -> None:
    client = Client()
    connection = connected()
    events = connection.receive_data(
        client.headers(1, method="GET", end_stream=True)
        + client.headers(3, content_type="text/html", end_stream=True)
        + client.headers(5, extra=[("grpc-timeout", "soon")], end_stream=True)
    )
    started = [e for e in events if isinstance(e, CallStarted)]
    assert started == [
        CallStarted(1, PATH, None, "method 'GET' is not POST"),
        CallStarted(3, PATH, None, "content type 'text/html' is not gRPC's"),
        CallStarted(5, PATH, None),
    ]


def test_header_blocks_may_continue_over_frames() -> None:
    client = Client()
    connection = connected()
    block = client.encoder.encode(
        [(":method", "POST"), (":path", PATH), ("content-type", "application/grpc")]
    )
    events = connection.receive_data(
        frame(FrameType.HEADERS, END_STREAM, 1, block[:5])
        + frame(FrameType.CONTINUATION, 0, 1, block[5:9])
        + frame(FrameType.CONTINUATION, END_HEADERS, 1, block[9:])
    )
    assert events == [CallStarted(1, PATH, None), RequestEnded(1)]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GET / HTTP/1.1\r\n\r\n" + b"x" * 20, "preface"),
        (PREFACE + frame(FrameType.HEADERS, END_HEADERS, 2, b""), "even stream 2"),
        (PREFACE + frame(FrameType.DATA, 0, 7, b"x"), "idle stream 7"),
        (
            PREFACE + frame(FrameType.HEADERS, 0, 1, b"") + frame(FrameType.PING, 0, 0, b"1" * 8),
            "interrupted",
        ),
        (PREFACE + frame(FrameType.PING, 0, 0, b"short"), "PING of the wrong size"),
        (PREFACE + frame(FrameType.DATA, 0, 1, b"x" * 20_000), "larger than the maximum"),
        (PREFACE + frame(FrameType.HEADERS, END_HEADERS, 1, b"\xff\xff\xff\xff"), "undecodable"),
        (PREFACE + frame(FrameType.PUSH_PROMISE, 0, 1, b"\0\0\0\x02"), "PUSH_PROMISE"),
        (PREFACE + frame(FrameType.RST_STREAM, 0, 5, b"\0\0\0\x08"), "idle stream 5"),
        (PREFACE + frame(FrameType.PING, 0, 1, b"12345678"), "PING on a stream"),
        (PREFACE + frame(FrameType.SETTINGS, ACK, 0, b"\0" * 6), "ACK with a payload"),
        (PREFACE + frame(FrameType.WINDOW_UPDATE, 0, 0, b"\0\0\0\0"), "WINDOW_UPDATE of 0"),
        (PREFACE + frame(FrameType.WINDOW_UPDATE, 0, 0, b"\x7f\xff\xff\xff"), "overflow"),
        # A dynamic table larger than the 4096 bytes we allow.
        (PREFACE + frame(FrameType.HEADERS, END_HEADERS, 1, b"\x3f\xe1\xff\x03"), "undecodable"),
    ],
)
def test_protocol_errors_end_the_connection_with_a_goaway(data: bytes, reason: str) -> None:
    connection = ServerConnection(max_message_size=1024)
    connection.data_to_send()
    events = connection.receive_data(data)
    assert isinstance(events[-1], ConnectionEnded)
    assert reason in events[-1].reason
    assert connection.ended
    ((kind, _, _, payload),) = iter_frames(connection.data_to_send())
    assert kind == FrameType.GOAWAY
    assert struct.unpack_from(">I", payload, 4)[0] == events[-1].code != 0
    assert connection.receive_data(frame(FrameType.PING, 0, 0, b"12345678")) == []


def test_a_clients_goaway_lets_calls_in_progress_finish() -> None:
    client = Client()
    connection = connected()
    connection.receive_data(client.call(1, b""))
    events = connection.receive_data(frame(FrameType.GOAWAY, 0, 0, struct.pack(">II", 1, 0)))
    assert events == [ConnectionEnded(0, "", last_stream_id=1)]
    assert not connection.ended
    connection.send_message(1, b"still answered")
    assert connection.pending(1) == 0


def test_timeouts_parse_in_every_unit() -> None:
    assert [parse_timeout(v) for v in ("1H", "2M", "3S", "4m", "5u", "6n")] == pytest.approx(
        [3600, 120, 3, 0.004, 5e-6, 6e-9]
    )
    assert [parse_timeout(v) for v in ("", "S", "1s", "123456789S", "-1S")] == [None] * 5


def test_window_overflows_and_late_trailers_end_the_connection() -> None:
    cases = [
        (
            lambda c: c.headers(1) + frame(FrameType.WINDOW_UPDATE, 0, 1, b"\x7f\xff\xff\xff"),
            "stream 1's window overflows",
        ),
        (
            lambda c: (
                c.headers(3)
                + frame(FrameType.WINDOW_UPDATE, 0, 3, struct.pack(">I", 100))
                + settings(initial_window=2**31 - 1)
            ),
            "stream 3's window overflows",
        ),
        (lambda c: c.headers(5, end_stream=True) + c.headers(5, end_stream=True), "after the end"),
    ]
    for data, reason in cases:
        connection = connected()
        events = connection.receive_data(data(Client()))
        assert isinstance(events[-1], ConnectionEnded)
        assert reason in events[-1].reason
