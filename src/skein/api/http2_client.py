"""The client end of gRPC over HTTP/2, as a state machine that does no I/O.

:class:`ClientConnection` starts calls (:meth:`~ClientConnection.start_call`),
queues request messages (:meth:`~ClientConnection.send_message`) and ends
them (:meth:`~ClientConnection.end_request`); fed the bytes the master sent
(:meth:`~ClientConnection.receive_data`), it returns what happened, as events:
a reply message arrived, a call ended with a gRPC status, the master reset a
stream or went away. :meth:`~ClientConnection.data_to_send` hands over the
bytes to write. The asyncio layer in :mod:`skein.api.channel` drives it.

Like the server end (:mod:`skein.api.http2_server`) it is made for speed in
Python: a call's request headers are the same fields every time, so each
method's header block is encoded once and reused, and a unary call costs a
few frames packed and parsed with ``struct``. Reply header blocks are decoded
by ``hpack``.

Flow control. A stream's bytes are credited back as they arrive while the
call has read every reply message so far; bytes that arrive behind a message
it has not yet taken (:meth:`~ClientConnection.consumed`) are credited once
it has. So a stream whose reader stops (a Watch nobody reads) stops the
master's sending on it, after at most one message and a window, and a message
larger than the window still gets through to a reader that keeps up. The
connection's window is credited as data arrives.

Example:
    >>> connection = ClientConnection(authority="skein-internal")
    >>> connection.data_to_send().startswith(PREFACE)
    True
    >>> connection.start_call("/skein.v1.AppMaster/GetKey", timeout=2.0)
    1
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final, cast
from urllib.parse import unquote

from skein.api.http2_connection import (
    END_HEADERS,
    END_STREAM,
    MESSAGE_PREFIX,
    PREFACE,
    SETTINGS_ENABLE_PUSH,
    SETTINGS_INITIAL_WINDOW_SIZE,
    ConnectionEnded,
    ErrorCode,
    FrameType,
    Http2Connection,
    Stream,
    StreamReset,
    Violation,
    frame,
    literal,
    literal_indexed_name,
)

__all__ = [
    "PREFACE",
    "CallEnded",
    "ClientConnection",
    "ConnectionEnded",
    "ErrorCode",
    "ReplyMessage",
    "StreamReset",
    "format_timeout",
]

#: What the master may send ahead on a connection; credited back as it arrives.
_CONNECTION_WINDOW: Final = 16 * 1024 * 1024
#: What the master may send ahead on one stream: reply messages not yet read
#: hold it, so a call that stops reading stops its stream, not the connection.
_STREAM_WINDOW: Final = 4 * 1024 * 1024
#: Credit a stream once this much of its window is free to give back, not
#: byte by byte: fewer WINDOW_UPDATE frames.
_CREDIT_STEP: Final = _STREAM_WINDOW // 4

# gRPC status codes this module gives itself (the rest come from the master).
_UNKNOWN: Final = 2
_INTERNAL: Final = 13
_UNAVAILABLE: Final = 14

# What an HTTP status other than 200 means in gRPC (gRPC's HTTP-to-status mapping).
_HTTP_STATUSES: Final = {400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14}

# ":method: POST" and ":scheme: https" are static entries 3 and 7; ":path",
# ":authority" and "content-type" are static names 4, 1 and 31.
_METHOD_AND_SCHEME: Final = b"\x83\x87"
_GRPC_FIELDS: Final = literal_indexed_name(31, b"application/grpc") + literal(b"te", b"trailers")


# -- events ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplyMessage:
    """One whole reply message arrived on ``stream_id``; :meth:`ClientConnection.consumed` it."""

    stream_id: int
    data: bytes


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call on ``stream_id`` ended with gRPC ``status`` (0 is OK) and ``message``.

    From the master's trailers, or made here when its reply was not gRPC
    (an HTTP error, a message cut short). The stream is closed.
    """

    stream_id: int
    status: int
    message: str


Event = ReplyMessage | CallEnded | StreamReset | ConnectionEnded


def format_timeout(seconds: float) -> bytes:
    """A ``grpc-timeout`` value for ``seconds``, rounded up to what its units can say.

    >>> format_timeout(2.007), format_timeout(0.0001), format_timeout(10**9)
    (b'2007m', b'1m', b'16666667M')
    """
    for unit, per_second in ((b"m", 1e3), (b"S", 1.0), (b"M", 1 / 60), (b"H", 1 / 3600)):
        # Rounded first: 2.007 * 1e3 is 2007.0000000000002, which is 2007 ms.
        value = max(1, math.ceil(round(seconds * per_second, 6)))
        if value < 100_000_000:  # at most 8 digits
            return str(value).encode() + unit
    return b"99999999H"


# -- streams ------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Stream(Stream):
    headers_seen: bool = False
    local_ended: bool = False
    creditable: int = 0  # bytes received, free to credit back, not yet credited
    deferred: int = 0  # bytes received behind unread messages, for the message in progress
    held: deque[int] = field(default_factory=deque)  # each unread message's deferred bytes


# -- the connection ----------------------------------------------------------------------


class ClientConnection(Http2Connection):
    """One connection to a master, client side, for gRPC calls.

    Args:
        authority: the ``:authority`` of every request (the name the master's
            certificate is checked against).
    """

    def __init__(self, *, authority: str) -> None:
        self._authority = literal_indexed_name(1, authority.encode("ascii"))
        self._next_stream_id = 1
        self._draining = False
        self._heads: dict[str, bytes] = {}  # each method's request header block
        super().__init__(
            settings=[(SETTINGS_ENABLE_PUSH, 0), (SETTINGS_INITIAL_WINDOW_SIZE, _STREAM_WINDOW)],
            connection_window=_CONNECTION_WINDOW,
            expect_preface=False,
        )
        self._outbound.insert(0, PREFACE)

    def receive_data(self, data: bytes) -> list[Event]:
        """Take bytes from the master; return what they mean, in order.

        A protocol violation ends the connection: the events end with
        :class:`ConnectionEnded`, a GOAWAY is queued, and the calls in
        progress are over (no event says so for each).
        """
        return cast("list[Event]", self._receive(data))

    # -- calls ----------------------------------------------------------------------

    @property
    def accepting(self) -> bool:
        """Whether new calls may start here (no GOAWAY sent or received)."""
        return not self._ended and not self._draining

    @property
    def has_room(self) -> bool:
        """Whether a call may start now: the master's limit on open streams is not reached."""
        limit = self._peer_max_streams
        return limit is None or len(self._streams) < limit

    @property
    def open_calls(self) -> int:
        """Calls started and not yet ended."""
        return len(self._streams)

    def start_call(self, path: str, timeout: float | None = None, *, end: bool = False) -> int:
        """Open a stream calling ``path``; return its id.

        Args:
            path: ``/package.Service/Method``.
            timeout: the call's deadline in seconds from now, told to the master.
            end: whether the request is already complete (no message follows).
        """
        head = self._heads.get(path)
        if head is None:
            head = self._heads[path] = (
                _METHOD_AND_SCHEME
                + literal_indexed_name(4, path.encode("ascii"))
                + self._authority
                + _GRPC_FIELDS
            )
        if timeout is not None:
            head += literal(b"grpc-timeout", format_timeout(timeout))
        stream_id = self._next_stream_id
        self._next_stream_id += 2
        stream = _Stream(stream_id, self._peer_window)
        self._streams[stream_id] = stream
        flags = END_HEADERS
        if end:
            flags |= END_STREAM
            stream.closing = stream.local_ended = True
        # One frame: a path and a timeout are far below the smallest frame size, 16 KiB.
        self._outbound.append(frame(FrameType.HEADERS, flags, stream_id, head))
        return stream_id

    def send_message(self, stream_id: int, data: bytes, *, end: bool = False) -> None:
        """Queue one request message on ``stream_id``; with ``end``, the request ends after it.

        Raises:
            KeyError: the stream is closed (its call ended, or it was reset).
            RuntimeError: the request has already ended.
        """
        stream: _Stream = self._streams[stream_id]
        if stream.closing:  # set whenever the request ends, END_STREAM sent or not
            raise RuntimeError(f"the request on stream {stream_id} has already ended")
        self._send_data(stream, MESSAGE_PREFIX.pack(0, len(data)) + data, end)

    def end_request(self, stream_id: int) -> None:
        """End ``stream_id``'s request after its queued messages; a closed stream is ignored."""
        stream: _Stream | None = self._streams.get(stream_id)
        if stream is not None and not stream.closing:
            self._end_stream(stream)

    def consumed(self, stream_id: int) -> None:
        """The call took its oldest reply message (of :class:`ReplyMessage` events, in order)."""
        stream: _Stream | None = self._streams.get(stream_id)
        if stream is not None and stream.held:
            stream.creditable += stream.held.popleft()
            if not stream.held:
                # Nothing unread: the message in progress is next, free its
                # bytes, or one larger than the window could never be whole.
                stream.creditable += stream.deferred
                stream.deferred = 0
            self._credit(stream)

    def reset_stream(self, stream_id: int, code: ErrorCode = ErrorCode.CANCEL) -> None:
        """Abandon the call on ``stream_id`` (RST_STREAM); a closed stream is ignored."""
        if self._forget(stream_id) is not None:
            self._reset(stream_id, code)

    def ping(self, payload: bytes) -> None:
        """Queue a PING carrying 8 bytes; the master's answer shows it lives."""
        self._outbound.append(frame(FrameType.PING, 0, 0, payload))

    def close(self, code: ErrorCode = ErrorCode.NO_ERROR, reason: str = "") -> None:
        """Queue a GOAWAY: no new calls, and the connection ends once it is sent."""
        if not self._ended:
            self._goaway(0, code, reason)

    def _local_end(self, stream: Stream) -> None:
        assert isinstance(stream, _Stream)
        stream.local_ended = True

    def _credit(self, stream: _Stream) -> None:
        free = stream.creditable
        if free >= _CREDIT_STEP and not stream.remote_ended:
            stream.creditable = 0
            self._window_update(stream.id, free)

    def _finish(self, stream: _Stream, status: int, message: str, out: list[Any]) -> None:
        out.append(CallEnded(stream.id, status, message))
        self._forget(stream.id)
        if not (stream.remote_ended and stream.local_ended):
            # The call is over: the master need not go on with its side.
            self._reset(stream.id, ErrorCode.CANCEL)

    # -- input ----------------------------------------------------------------------

    def _is_idle(self, stream_id: int) -> bool:
        # Even streams would be the master's own; it may not open any.
        return stream_id >= self._next_stream_id or not stream_id % 2

    def _data(self, stream: Any, payload: bytes, end_stream: bool, out: list[Any]) -> None:
        if not stream.headers_seen:
            raise Violation(f"DATA before the reply's headers on stream {stream.id}")
        # Bytes behind an unread message wait for it to be read: a reader
        # that stops stops the master's sending on this stream.
        if stream.held:
            stream.deferred += len(payload)
        else:
            stream.creditable += len(payload)
        buffer = stream.buffer
        buffer += payload
        while len(buffer) >= 5:
            compressed, length = MESSAGE_PREFIX.unpack_from(buffer)
            if compressed:
                self._finish(stream, _INTERNAL, "the master sent a compressed reply", out)
                return
            if len(buffer) < 5 + length:
                break
            out.append(ReplyMessage(stream.id, bytes(buffer[5 : 5 + length])))
            stream.held.append(stream.deferred)  # freed once it is read
            stream.deferred = 0
            del buffer[: 5 + length]
        if end_stream:
            stream.remote_ended = True
            self._finish(stream, _INTERNAL, "the master's reply ended without a status", out)
        else:
            self._credit(stream)

    def _header_block(
        self, stream_id: int, flags: int, headers: list[tuple[bytes, bytes]], out: list[Any]
    ) -> None:
        stream: _Stream | None = self._streams.get(stream_id)
        if stream is None:
            if self._is_idle(stream_id):
                raise Violation(f"HEADERS on stream {stream_id}, which was never opened")
            return  # a stream we reset
        if stream.remote_ended:
            raise Violation(f"HEADERS after the end of stream {stream_id}", ErrorCode.STREAM_CLOSED)
        end_stream = bool(flags & END_STREAM)
        if not stream.headers_seen:
            stream.headers_seen = True
            refusal = _not_grpc(headers)
            if refusal is not None:
                stream.remote_ended = end_stream
                self._finish(stream, *refusal, out)
                return
            if not end_stream:
                return
            # Headers and trailers in one block: a "trailers-only" reply.
        elif not end_stream:
            raise Violation(f"trailers without END_STREAM on stream {stream_id}")
        stream.remote_ended = True
        status, message = _status(headers)
        if stream.buffer and status == 0:
            status = _INTERNAL
            message = f"the reply ended inside a message ({len(stream.buffer)} bytes)"
        self._finish(stream, status, message, out)

    def _on_goaway(self, payload: bytes, out: list[Any]) -> None:
        super()._on_goaway(payload, out)
        ended = out[-1]
        assert isinstance(ended, ConnectionEnded)
        self._draining = True
        # Calls on later streams were never seen by the master: they may be retried.
        for stream_id in [i for i in self._streams if i > ended.last_stream_id]:
            self._forget(stream_id)
            out.append(CallEnded(stream_id, _UNAVAILABLE, "the master closed the connection first"))


def _not_grpc(headers: list[tuple[bytes, bytes]]) -> tuple[int, str] | None:
    """Why a reply's first header block is not gRPC's, as a status and message; or ``None``."""
    http_status = content_type = b""
    for name, value in headers:
        if name == b":status":
            http_status = value
        elif name == b"content-type":
            content_type = value
    if http_status != b"200":
        code = int(http_status) if http_status.isdigit() else 0
        return _HTTP_STATUSES.get(code, _UNKNOWN), f"the master answered HTTP status {code}"
    if not content_type.startswith(b"application/grpc"):
        kind = content_type.decode("ascii", "replace")
        return _UNKNOWN, f"the master answered with content type {kind!r}, not gRPC"
    return None


def _status(trailers: list[tuple[bytes, bytes]]) -> tuple[int, str]:
    """The gRPC status and message that ``trailers`` give."""
    status, message = b"", b""
    for name, value in trailers:
        if name == b"grpc-status":
            status = value
        elif name == b"grpc-message":
            message = value
    if not status.isdigit():
        return _UNKNOWN, "the master's reply had no valid grpc-status"
    return int(status), unquote(message.decode("ascii", "replace"), errors="replace")
