"""The server end of gRPC over HTTP/2, as a state machine that does no I/O.

:class:`ServerConnection` is fed the bytes a client sent
(:meth:`~ServerConnection.receive_data`) and returns what happened, as
events: a call started, a request message arrived, the client ended its side
or reset the stream. Answers are queued with :meth:`~ServerConnection.send_message`
and :meth:`~ServerConnection.send_trailers`; :meth:`~ServerConnection.data_to_send`
hands over the bytes to write. The asyncio layer in :mod:`skein.api.server`
drives it.

It covers what a gRPC server needs of HTTP/2 (RFC 9113) and no more: no
server push, no priorities (accepted and ignored), no request trailers beyond
ending the stream. What it leaves out is what makes a general HTTP/2 stack
slow in Python: a gRPC reply's headers are the same few fields every time,
so they are encoded once, as bytes, when this module is imported, and a
unary call costs a handful of frames parsed with ``struct``. Header blocks
received are decoded by ``hpack`` (their dynamic table needs it). Frames,
settings, pings and the windows are :mod:`skein.api.http2_connection`'s, which
the client end shares.

Flow control. A stream's window holds one request message of the largest
size accepted (``max_message_size``; a larger one is refused from its length
prefix, and its bytes dropped as they come), and what a stream received is
credited back once the call has taken it (:meth:`~ServerConnection.consumed`):
a call that does not read its requests stops its client, not the connection,
whose window is credited as data arrives. At most
:data:`MAX_CONCURRENT_STREAMS` streams are open at once, which bounds what a
connection buffers. Sent DATA honours the client's windows; what does not fit
waits in the stream's buffer, :meth:`~ServerConnection.pending` says how much,
and it goes out as the client opens its windows. Trailers wait for the
stream's data, unless the call is being cut short.

Example:
    >>> connection = ServerConnection(max_message_size=1024)
    >>> greeting = connection.data_to_send()  # our SETTINGS, a window update
    >>> greeting[3] == FrameType.SETTINGS
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, cast

from skein.api.http2_connection import (
    END_HEADERS,
    END_STREAM,
    MESSAGE_PREFIX,
    PREFACE,
    SETTINGS_INITIAL_WINDOW_SIZE,
    SETTINGS_MAX_CONCURRENT_STREAMS,
    ConnectionEnded,
    ErrorCode,
    FrameType,
    Http2Connection,
    Stream,
    StreamReset,
    Violation,
    encode_grpc_message,
    frame,
    literal,
    literal_indexed_name,
    parse_timeout,
)

__all__ = [
    "MAX_CONCURRENT_STREAMS",
    "PREFACE",
    "CallStarted",
    "ConnectionEnded",
    "ErrorCode",
    "FrameType",
    "MessageReceived",
    "MessageRefused",
    "RequestEnded",
    "ServerConnection",
    "StreamReset",
    "encode_grpc_message",
    "parse_timeout",
]

#: What a client may send ahead on a connection; credited back as it arrives.
_CONNECTION_WINDOW: Final = 4 * 1024 * 1024
#: A stream's window beyond one largest message: room for the next ones.
_STREAM_WINDOW_SLACK: Final = 64 * 1024
#: Streams a client may have open at once on one connection; clients wait
#: for one to end before opening more.
MAX_CONCURRENT_STREAMS: Final = 128
#: Longest ``grpc-message`` sent, in characters; longer ones are cut, saying so.
_MAX_STATUS_MESSAGE: Final = 1024


# -- events ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallStarted:
    """A client opened a stream: a call of ``path`` (``/package.Service/Method``).

    ``timeout`` is the call's deadline in seconds from now (``grpc-timeout``),
    or ``None``. ``bad_request`` says why the request cannot be a gRPC call
    (wrong method or content type), else it is empty.
    """

    stream_id: int
    path: str
    timeout: float | None
    bad_request: str = ""


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """One whole request message arrived on ``stream_id``."""

    stream_id: int
    data: bytes


@dataclass(frozen=True, slots=True)
class MessageRefused:
    """A request message cannot be taken: too large, or compressed; the call should fail."""

    stream_id: int
    status: int  # a gRPC status code
    message: str


@dataclass(frozen=True, slots=True)
class RequestEnded:
    """The client ended its side of ``stream_id``: no more request messages."""

    stream_id: int


Event = (
    CallStarted | MessageReceived | MessageRefused | RequestEnded | StreamReset | ConnectionEnded
)


# -- header encoding ----------------------------------------------------------------------

# ":status: 200" is static entry 8; "content-type" is static name 31.
_RESPONSE_HEADERS: Final = b"\x88" + literal_indexed_name(31, b"application/grpc")
_STATUS_FIELDS: Final = {code: literal(b"grpc-status", str(code).encode()) for code in range(17)}


def _trailer_block(status: int, message: str | None) -> bytes:
    fields = _STATUS_FIELDS.get(status) or literal(b"grpc-status", str(status).encode())
    if message:
        if len(message) > _MAX_STATUS_MESSAGE:
            message = f"{message[:_MAX_STATUS_MESSAGE]}... ({len(message)} characters in all)"
        fields += literal(b"grpc-message", encode_grpc_message(message))
    return fields


# -- streams ------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Stream(Stream):
    headers_sent: bool = False
    trailers: bytes | None = None  # queued, sent once outbound is empty
    refused: bool = False  # request bytes are dropped: the call already failed
    failed: bool = False  # its trailers give a status other than OK


# -- the connection ----------------------------------------------------------------------


class ServerConnection(Http2Connection):
    """One client connection's HTTP/2 state, server side, for gRPC calls.

    Args:
        max_message_size: the largest request message accepted, in bytes;
            a larger one gives :class:`MessageRefused` (``RESOURCE_EXHAUSTED``).
    """

    def __init__(self, *, max_message_size: int) -> None:
        self._max_message = max_message_size
        self._stream_window = max_message_size + 5 + _STREAM_WINDOW_SLACK
        self._last_stream_id = 0
        super().__init__(
            settings=[
                (SETTINGS_INITIAL_WINDOW_SIZE, self._stream_window),
                (SETTINGS_MAX_CONCURRENT_STREAMS, MAX_CONCURRENT_STREAMS),
            ],
            connection_window=_CONNECTION_WINDOW,
            expect_preface=True,
        )

    def receive_data(self, data: bytes) -> list[Event]:
        """Take bytes from the client; return what they mean, in order.

        A protocol violation ends the connection: the events end with
        :class:`ConnectionEnded` and a GOAWAY is queued.
        """
        return cast("list[Event]", self._receive(data))

    # -- output ---------------------------------------------------------------------

    def consumed(self, stream_id: int, size: int) -> None:
        """The call on ``stream_id`` took ``size`` bytes of its requests: credit them back.

        ``size`` counts a message's 5-byte prefix. Until its call takes them,
        a stream's messages hold its window, so a client cannot send more
        than a call reads (plus one message).
        """
        stream = self._streams.get(stream_id)
        if stream is not None and not stream.remote_ended and size > 0:
            self._window_update(stream_id, size)

    def send_message(self, stream_id: int, data: bytes) -> None:
        """Queue one reply message on ``stream_id`` (the reply's headers go first, once).

        Raises:
            KeyError: the stream is closed (reset by the client, or finished).
        """
        stream: _Stream = self._streams[stream_id]
        if not stream.headers_sent:
            stream.headers_sent = True
            self._outbound.append(
                frame(FrameType.HEADERS, END_HEADERS, stream_id, _RESPONSE_HEADERS)
            )
        self._send_data(stream, MESSAGE_PREFIX.pack(0, len(data)) + data)

    def send_trailers(
        self, stream_id: int, status: int, message: str | None = None, *, cut_short: bool = False
    ) -> None:
        """End ``stream_id``'s reply with gRPC ``status`` (and ``message``).

        Sent after the stream's queued data, or at once, dropping that data,
        if ``cut_short`` (the deadline passed, the request was refused).
        Without any reply message it is a "trailers-only" reply. A closed
        stream is ignored: its client left. Messages longer than 1024
        characters are cut.
        """
        stream: _Stream | None = self._streams.get(stream_id)
        if stream is None or (stream.trailers is not None and not cut_short):
            return
        if cut_short:
            stream.outbound.clear()
            self._blocked.pop(stream_id, None)
        block = _trailer_block(status, message)
        if not stream.headers_sent:
            stream.headers_sent = True
            block = _RESPONSE_HEADERS + block
        stream.trailers = block
        stream.failed = status != 0
        self._end_stream(stream)

    def reset_stream(self, stream_id: int, code: ErrorCode = ErrorCode.CANCEL) -> None:
        """Abandon ``stream_id`` (RST_STREAM); its queued data is dropped."""
        if self._forget(stream_id) is not None:
            self._reset(stream_id, code)

    def close(self, code: ErrorCode = ErrorCode.NO_ERROR, reason: str = "") -> None:
        """Queue a GOAWAY: the connection ends once it is sent."""
        if not self._ended:
            self._goaway(self._last_stream_id, code, reason)

    def _drained(self, stream: Stream) -> None:
        assert isinstance(stream, _Stream)
        assert stream.trailers is not None
        # One frame: the longest block (1,024 characters of grpc-message, each
        # at most 12 bytes percent-encoded) is below the smallest frame size
        # a client can set, 16 KiB.
        self._outbound.append(
            frame(FrameType.HEADERS, END_HEADERS | END_STREAM, stream.id, stream.trailers)
        )
        self._forget(stream.id)
        if not stream.remote_ended and stream.failed:
            # The call failed: the client need not send the rest (RFC 9113,
            # 8.1). Not after a success: grpclib clients drop the replies
            # they have not yet read when a stream is reset.
            self._reset(stream.id, ErrorCode.NO_ERROR)

    # -- input ----------------------------------------------------------------------

    def _last_peer_stream(self) -> int:
        return self._last_stream_id

    def _is_idle(self, stream_id: int) -> bool:
        return stream_id > self._last_stream_id

    def _data(self, stream: Any, payload: bytes, end_stream: bool, out: list[Any]) -> None:
        if not stream.refused:
            stream.buffer += payload
            self._messages(stream, out)
        if end_stream:
            self._remote_end(stream, out)

    def _messages(self, stream: _Stream, out: list[Any]) -> None:
        buffer = stream.buffer
        while len(buffer) >= 5:
            compressed, length = MESSAGE_PREFIX.unpack_from(buffer)
            if length > self._max_message or compressed:
                stream.refused = True
                buffer.clear()
                if compressed:
                    refusal = MessageRefused(stream.id, 12, "compressed messages are not supported")
                else:
                    refusal = MessageRefused(
                        stream.id,
                        8,  # RESOURCE_EXHAUSTED
                        f"message of {length} bytes is larger than the limit of "
                        f"{self._max_message} bytes",
                    )
                out.append(refusal)
                return
            if len(buffer) < 5 + length:
                return
            out.append(MessageReceived(stream.id, bytes(buffer[5 : 5 + length])))
            del buffer[: 5 + length]

    def _remote_end(self, stream: _Stream, out: list[Any]) -> None:
        stream.remote_ended = True
        if stream.buffer and not stream.refused:
            stream.refused = True
            out.append(
                MessageRefused(
                    stream.id,
                    13,
                    f"the request ended inside a message ({len(stream.buffer)} bytes)",
                )
            )
            stream.buffer.clear()
        out.append(RequestEnded(stream.id))

    def _header_block(
        self, stream_id: int, flags: int, headers: list[tuple[bytes, bytes]], out: list[Any]
    ) -> None:
        stream = self._streams.get(stream_id)
        if stream is not None:  # trailers from the client: only their END_STREAM matters
            if stream.remote_ended:
                raise Violation(
                    f"HEADERS after the end of stream {stream_id}", ErrorCode.STREAM_CLOSED
                )
            if not flags & END_STREAM:
                raise Violation(f"trailers without END_STREAM on stream {stream_id}")
            self._remote_end(stream, out)
            return
        if stream_id <= self._last_stream_id:
            if stream_id % 2:
                return  # a stream we already closed; its headers were decoded, as HPACK needs
            raise Violation(f"HEADERS on stream {stream_id}, not a new client stream")
        if not stream_id % 2:
            raise Violation(f"HEADERS on even stream {stream_id}")
        self._last_stream_id = stream_id
        if len(self._streams) >= MAX_CONCURRENT_STREAMS:
            # Over the limit we announced: the client may retry it later.
            self._reset(stream_id, ErrorCode.REFUSED_STREAM)
            return
        stream = _Stream(stream_id, self._peer_window)
        self._streams[stream_id] = stream
        path = method = content_type = b""
        timeout: float | None = None
        for name, value in headers:
            if name == b":path":
                path = value
            elif name == b":method":
                method = value
            elif name == b"content-type":
                content_type = value
            elif name == b"grpc-timeout":
                timeout = parse_timeout(value.decode("ascii", "replace"))
        bad = ""
        if method != b"POST":
            bad = f"method {method.decode(errors='replace')!r} is not POST"
        elif not content_type.startswith(b"application/grpc"):
            bad = f"content type {content_type.decode(errors='replace')!r} is not gRPC's"
        out.append(CallStarted(stream_id, path.decode("utf-8", "replace"), timeout, bad))
        if flags & END_STREAM:
            self._remote_end(stream, out)
