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
received are decoded by ``hpack`` (their dynamic table needs it).

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

import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import quote

from hpack import Decoder
from hpack.exceptions import HPACKError

__all__ = [
    "MAX_CONCURRENT_STREAMS",
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

PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

_FRAME_HEADER: Final = struct.Struct(">I B I")  # 24-bit length << 8 | type, flags, stream id
_MESSAGE_PREFIX: Final = struct.Struct(">B I")  # compressed flag, length


class FrameType(enum.IntEnum):
    DATA = 0
    HEADERS = 1
    PRIORITY = 2
    RST_STREAM = 3
    SETTINGS = 4
    PUSH_PROMISE = 5
    PING = 6
    GOAWAY = 7
    WINDOW_UPDATE = 8
    CONTINUATION = 9


class ErrorCode(enum.IntEnum):
    NO_ERROR = 0
    PROTOCOL_ERROR = 1
    INTERNAL_ERROR = 2
    FLOW_CONTROL_ERROR = 3
    STREAM_CLOSED = 5
    FRAME_SIZE_ERROR = 6
    REFUSED_STREAM = 7
    CANCEL = 8
    COMPRESSION_ERROR = 9


_END_STREAM: Final = 0x1
_ACK: Final = 0x1
_END_HEADERS: Final = 0x4
_PADDED: Final = 0x8
_PRIORITY: Final = 0x20

_SETTINGS_MAX_CONCURRENT_STREAMS: Final = 0x3
_SETTINGS_INITIAL_WINDOW_SIZE: Final = 0x4
_SETTINGS_MAX_FRAME_SIZE: Final = 0x5

_DEFAULT_WINDOW: Final = 65_535
_MAX_WINDOW: Final = 2**31 - 1
_DEFAULT_FRAME_SIZE: Final = 16_384
#: What a client may send ahead on a connection; credited back as it arrives.
_CONNECTION_WINDOW: Final = 4 * 1024 * 1024
#: A stream's window beyond one largest message: room for the next ones.
_STREAM_WINDOW_SLACK: Final = 64 * 1024
#: Streams a client may have open at once on one connection; clients wait
#: for one to end before opening more.
MAX_CONCURRENT_STREAMS: Final = 128
#: The dynamic table size a client's encoder may use (HPACK's default; we never say more).
_HEADER_TABLE_SIZE: Final = 4096
#: Longest ``grpc-message`` sent, in characters; longer ones are cut, saying so.
_MAX_STATUS_MESSAGE: Final = 1024
#: Largest header block accepted (hpack's own default bound, 64 KiB).
_MAX_HEADER_BLOCK: Final = 64 * 1024


class _Violation(Exception):
    """The client broke HTTP/2; the connection is ended with ``code``.

    Never raised to callers: :meth:`ServerConnection.receive_data` turns it
    into a GOAWAY and a :class:`ConnectionEnded` event.
    """

    def __init__(self, message: str, code: ErrorCode = ErrorCode.PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.code = code


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


@dataclass(frozen=True, slots=True)
class StreamReset:
    """The client reset ``stream_id``: its call is abandoned."""

    stream_id: int
    code: int


@dataclass(frozen=True, slots=True)
class ConnectionEnded:
    """The client said GOAWAY (calls in progress may finish), or broke the protocol.

    In the second case :attr:`ServerConnection.ended` is true and a GOAWAY is
    queued: send it, then close.
    """

    code: int
    reason: str


Event = (
    CallStarted | MessageReceived | MessageRefused | RequestEnded | StreamReset | ConnectionEnded
)


# -- header encoding ----------------------------------------------------------------------


def _integer(value: int, prefix_bits: int, first: int = 0) -> bytes:
    """HPACK's integer encoding (RFC 7541, 5.1), with ``first``'s high bits kept."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _literal(name: bytes, value: bytes) -> bytes:
    """A literal field, never added to the table, with a literal name (no Huffman)."""
    return b"\x00" + _integer(len(name), 7) + name + _integer(len(value), 7) + value


def _literal_indexed_name(index: int, value: bytes) -> bytes:
    """A literal field, never added to the table, naming static table entry ``index``."""
    return _integer(index, 4) + _integer(len(value), 7) + value


# ":status: 200" is static entry 8; "content-type" is static name 31.
_RESPONSE_HEADERS: Final = b"\x88" + _literal_indexed_name(31, b"application/grpc")
_STATUS_FIELDS: Final = {code: _literal(b"grpc-status", str(code).encode()) for code in range(17)}

# Bytes sent as they are in grpc-message: printable ASCII except "%" (gRPC's rule).
_MESSAGE_SAFE: Final = "".join(chr(c) for c in range(0x20, 0x7F) if c != 0x25)


def encode_grpc_message(message: str) -> bytes:
    """``message`` percent-encoded as gRPC's ``grpc-message`` header wants it (clients decode it).

    >>> encode_grpc_message("no key 'é' (100%)")
    b"no key '%C3%A9' (100%25)"
    """
    return quote(message, safe=_MESSAGE_SAFE, errors="replace").encode("ascii")


def _trailer_block(status: int, message: str | None) -> bytes:
    fields = _STATUS_FIELDS.get(status) or _literal(b"grpc-status", str(status).encode())
    if message:
        if len(message) > _MAX_STATUS_MESSAGE:
            message = f"{message[:_MAX_STATUS_MESSAGE]}... ({len(message)} characters in all)"
        fields += _literal(b"grpc-message", encode_grpc_message(message))
    return fields


_TIMEOUT_UNITS: Final = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


def parse_timeout(value: str) -> float | None:
    """Seconds from a ``grpc-timeout`` value (``"100m"``: 0.1), or ``None`` if malformed.

    >>> parse_timeout("100m"), parse_timeout("2S"), parse_timeout("soon")
    (0.1, 2.0, None)
    """
    unit = _TIMEOUT_UNITS.get(value[-1:])
    digits = value[:-1]
    if unit is None or not digits.isdigit() or len(digits) > 8:
        return None
    return int(digits) * unit


# -- streams ------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Stream:
    id: int
    send_window: int
    buffer: bytearray = field(default_factory=bytearray)  # request bytes not yet a message
    outbound: bytearray = field(default_factory=bytearray)  # DATA waiting for window
    headers_sent: bool = False
    trailers: bytes | None = None  # queued, sent once outbound is empty
    remote_ended: bool = False
    refused: bool = False  # request bytes are dropped: the call already failed
    failed: bool = False  # its trailers give a status other than OK


def _frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    return _FRAME_HEADER.pack(len(payload) << 8 | kind, flags, stream_id) + payload


# -- the connection ----------------------------------------------------------------------


class ServerConnection:
    """One client connection's HTTP/2 state, server side, for gRPC calls.

    Args:
        max_message_size: the largest request message accepted, in bytes;
            a larger one gives :class:`MessageRefused` (``RESOURCE_EXHAUSTED``).
    """

    def __init__(self, *, max_message_size: int) -> None:
        self._max_message = max_message_size
        self._decoder = Decoder()
        self._decoder.max_allowed_table_size = _HEADER_TABLE_SIZE
        self._stream_window = max_message_size + 5 + _STREAM_WINDOW_SLACK
        self._inbound = bytearray()
        self._outbound: list[bytes] = []
        self._streams: dict[int, _Stream] = {}
        self._last_stream_id = 0
        self._preface_seen = False
        self._continuation: tuple[int, int, bytearray] | None = None  # stream, flags, block
        self._ended = False
        # The client's settings, as far as sending goes.
        self._peer_window = _DEFAULT_WINDOW  # initial window of new streams
        self._peer_frame_size = _DEFAULT_FRAME_SIZE
        self._send_window = _DEFAULT_WINDOW  # the connection's
        self._conn_unacked = 0
        self._blocked: dict[int, _Stream] = {}  # streams with outbound data, in order
        settings = struct.pack(
            ">HIHI",
            _SETTINGS_INITIAL_WINDOW_SIZE,
            self._stream_window,
            _SETTINGS_MAX_CONCURRENT_STREAMS,
            MAX_CONCURRENT_STREAMS,
        )
        self._outbound.append(_frame(FrameType.SETTINGS, 0, 0, settings))
        self._outbound.append(
            _frame(
                FrameType.WINDOW_UPDATE,
                0,
                0,
                struct.pack(">I", _CONNECTION_WINDOW - _DEFAULT_WINDOW),
            )
        )

    # -- output ---------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """The bytes queued for the client, in order; the queue is emptied."""
        if not self._outbound:
            return b""
        data = b"".join(self._outbound)
        self._outbound.clear()
        return data

    @property
    def ended(self) -> bool:
        """Whether the connection is over (GOAWAY received or sent)."""
        return self._ended

    def pending(self, stream_id: int) -> int:
        """Bytes of ``stream_id``'s reply that wait for the client's window (0 if none)."""
        stream = self._streams.get(stream_id)
        return len(stream.outbound) if stream is not None else 0

    def consumed(self, stream_id: int, size: int) -> None:
        """The call on ``stream_id`` took ``size`` bytes of its requests: credit them back.

        ``size`` counts a message's 5-byte prefix. Until its call takes them,
        a stream's messages hold its window, so a client cannot send more
        than a call reads (plus one message).
        """
        stream = self._streams.get(stream_id)
        if stream is not None and not stream.remote_ended and size > 0:
            self._window_update(stream_id, size)

    def is_open(self, stream_id: int) -> bool:
        """Whether ``stream_id`` can still be answered (not reset, not finished)."""
        return stream_id in self._streams

    def send_message(self, stream_id: int, data: bytes) -> None:
        """Queue one reply message on ``stream_id`` (the reply's headers go first, once).

        Raises:
            KeyError: the stream is closed (reset by the client, or finished).
        """
        stream = self._streams[stream_id]
        if not stream.headers_sent:
            stream.headers_sent = True
            self._outbound.append(
                _frame(FrameType.HEADERS, _END_HEADERS, stream_id, _RESPONSE_HEADERS)
            )
        message = _MESSAGE_PREFIX.pack(0, len(data)) + data
        if stream.outbound:
            stream.outbound += message
            return
        size = len(message)
        # The usual case: it fits the windows and one frame.
        if (
            size <= stream.send_window
            and size <= self._send_window
            and size <= self._peer_frame_size
        ):
            stream.send_window -= size
            self._send_window -= size
            self._outbound.append(_frame(FrameType.DATA, 0, stream_id, message))
            return
        stream.outbound += message
        self._flush_stream(stream)

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
        stream = self._streams.get(stream_id)
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
        if not stream.outbound:
            self._finish(stream)

    def reset_stream(self, stream_id: int, code: ErrorCode = ErrorCode.CANCEL) -> None:
        """Abandon ``stream_id`` (RST_STREAM); its queued data is dropped."""
        stream = self._streams.pop(stream_id, None)
        if stream is not None:
            self._blocked.pop(stream_id, None)
            self._outbound.append(
                _frame(FrameType.RST_STREAM, 0, stream_id, struct.pack(">I", code))
            )

    def close(self, code: ErrorCode = ErrorCode.NO_ERROR, reason: str = "") -> None:
        """Queue a GOAWAY: the connection ends once it is sent."""
        if self._ended:
            return
        self._ended = True
        payload = struct.pack(">II", self._last_stream_id, code) + reason.encode()[:256]
        self._outbound.append(_frame(FrameType.GOAWAY, 0, 0, payload))

    def _finish(self, stream: _Stream) -> None:
        assert stream.trailers is not None
        # One frame: the longest block (1,024 characters of grpc-message, each
        # at most 12 bytes percent-encoded) is below the smallest frame size
        # a client can set, 16 KiB.
        self._outbound.append(
            _frame(FrameType.HEADERS, _END_HEADERS | _END_STREAM, stream.id, stream.trailers)
        )
        del self._streams[stream.id]
        self._blocked.pop(stream.id, None)
        if not stream.remote_ended and stream.failed:
            # The call failed: the client need not send the rest (RFC 9113,
            # 8.1). Not after a success: grpclib clients drop the replies
            # they have not yet read when a stream is reset.
            self._outbound.append(
                _frame(FrameType.RST_STREAM, 0, stream.id, struct.pack(">I", ErrorCode.NO_ERROR))
            )

    def _flush_stream(self, stream: _Stream) -> None:
        """Send as much of ``stream``'s queued data as the windows allow."""
        outbound = stream.outbound
        while outbound:
            size = min(len(outbound), stream.send_window, self._send_window, self._peer_frame_size)
            if size <= 0:
                self._blocked[stream.id] = stream
                return
            self._outbound.append(_frame(FrameType.DATA, 0, stream.id, bytes(outbound[:size])))
            del outbound[:size]
            stream.send_window -= size
            self._send_window -= size
        self._blocked.pop(stream.id, None)
        if stream.trailers is not None:
            self._finish(stream)

    def _flush_blocked(self) -> None:
        for stream in list(self._blocked.values()):
            if self._send_window <= 0:
                return
            self._flush_stream(stream)

    # -- input ----------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Event]:
        """Take bytes from the client; return what they mean, in order.

        A protocol violation ends the connection: the events end with
        :class:`ConnectionEnded` and a GOAWAY is queued.
        """
        if self._ended:
            return []
        events: list[Event] = []
        inbound = self._inbound
        inbound += data
        try:
            if not self._preface_seen:
                if len(inbound) < len(PREFACE):
                    if not PREFACE.startswith(bytes(inbound)):
                        raise _Violation("the client did not open with HTTP/2's preface")
                    return events
                if not inbound.startswith(PREFACE):
                    raise _Violation("the client did not open with HTTP/2's preface")
                del inbound[: len(PREFACE)]
                self._preface_seen = True
            offset = 0
            end = len(inbound)
            view = memoryview(inbound)
            try:
                while end - offset >= 9:
                    head, flags, stream_id = _FRAME_HEADER.unpack_from(inbound, offset)
                    length = head >> 8
                    if length > _DEFAULT_FRAME_SIZE:
                        raise _Violation(
                            f"a frame of {length} bytes is larger than the maximum, "
                            f"{_DEFAULT_FRAME_SIZE}",
                            ErrorCode.FRAME_SIZE_ERROR,
                        )
                    if end - offset - 9 < length:
                        break
                    payload = bytes(view[offset + 9 : offset + 9 + length])
                    offset += 9 + length
                    self._frame(head & 0xFF, flags, stream_id & 0x7FFF_FFFF, payload, events)
            finally:
                view.release()
                del inbound[:offset]
        except _Violation as exc:
            self.close(exc.code, str(exc))
            events.append(ConnectionEnded(exc.code, str(exc)))
        return events

    def _frame(
        self, kind: int, flags: int, stream_id: int, payload: bytes, out: list[Event]
    ) -> None:
        if self._continuation is not None and kind != FrameType.CONTINUATION:
            raise _Violation("a header block was interrupted by another frame")
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, flags, stream_id, payload, out)
        # Unknown frame types are ignored (RFC 9113, 4.1).

    def _on_data(self, flags: int, stream_id: int, payload: bytes, out: list[Event]) -> None:
        if stream_id == 0:
            raise _Violation("DATA on stream 0")
        size = len(payload)
        self._credit_connection(size)
        stream = self._streams.get(stream_id)
        if stream is None:
            if stream_id > self._last_stream_id:
                raise _Violation(f"DATA on idle stream {stream_id}")
            return  # a stream we finished or reset: its data is moot
        if stream.remote_ended:
            raise _Violation(f"DATA after the end of stream {stream_id}", ErrorCode.STREAM_CLOSED)
        end_stream = bool(flags & _END_STREAM)
        if flags & _PADDED:
            payload = _unpad(payload)
            if not end_stream and size > len(payload):  # padding is never consumed
                self._window_update(stream_id, size - len(payload))
        if not stream.refused:
            stream.buffer += payload
            self._messages(stream, out)
        if end_stream:
            self._remote_end(stream, out)

    def _credit_connection(self, size: int) -> None:
        self._conn_unacked += size
        if self._conn_unacked >= _CONNECTION_WINDOW // 2:
            self._window_update(0, self._conn_unacked)
            self._conn_unacked = 0

    def _window_update(self, stream_id: int, increment: int) -> None:
        self._outbound.append(
            _frame(FrameType.WINDOW_UPDATE, 0, stream_id, struct.pack(">I", increment))
        )

    def _messages(self, stream: _Stream, out: list[Event]) -> None:
        buffer = stream.buffer
        while len(buffer) >= 5:
            compressed, length = _MESSAGE_PREFIX.unpack_from(buffer)
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

    def _remote_end(self, stream: _Stream, out: list[Event]) -> None:
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

    def _on_headers(self, flags: int, stream_id: int, payload: bytes, out: list[Event]) -> None:
        if stream_id == 0:
            raise _Violation("HEADERS on stream 0")
        if flags & _PADDED:
            payload = _unpad(payload)
        if flags & _PRIORITY:
            payload = payload[5:]
        if flags & _END_HEADERS:
            self._header_block(stream_id, flags, payload, out)
        else:
            self._continuation = (stream_id, flags, bytearray(payload))

    def _on_continuation(
        self, flags: int, stream_id: int, payload: bytes, out: list[Event]
    ) -> None:
        if self._continuation is None or self._continuation[0] != stream_id:
            raise _Violation(f"CONTINUATION out of place on stream {stream_id}")
        _, first_flags, block = self._continuation
        block += payload
        if len(block) > _MAX_HEADER_BLOCK:
            raise _Violation(f"a header block larger than {_MAX_HEADER_BLOCK} bytes")
        if flags & _END_HEADERS:
            self._continuation = None
            self._header_block(stream_id, first_flags, bytes(block), out)

    def _header_block(self, stream_id: int, flags: int, block: bytes, out: list[Event]) -> None:
        try:
            headers = self._decoder.decode(block, raw=True)
        except HPACKError as exc:
            raise _Violation(
                f"undecodable header block: {exc}", ErrorCode.COMPRESSION_ERROR
            ) from exc
        stream = self._streams.get(stream_id)
        if stream is not None:  # trailers from the client: only their END_STREAM matters
            if stream.remote_ended:
                raise _Violation(
                    f"HEADERS after the end of stream {stream_id}", ErrorCode.STREAM_CLOSED
                )
            if not flags & _END_STREAM:
                raise _Violation(f"trailers without END_STREAM on stream {stream_id}")
            self._remote_end(stream, out)
            return
        if stream_id <= self._last_stream_id:
            if stream_id % 2:
                return  # a stream we already closed; its headers were decoded, as HPACK needs
            raise _Violation(f"HEADERS on stream {stream_id}, not a new client stream")
        if not stream_id % 2:
            raise _Violation(f"HEADERS on even stream {stream_id}")
        self._last_stream_id = stream_id
        if len(self._streams) >= MAX_CONCURRENT_STREAMS:
            # Over the limit we announced: the client may retry it later.
            self._outbound.append(
                _frame(
                    FrameType.RST_STREAM, 0, stream_id, struct.pack(">I", ErrorCode.REFUSED_STREAM)
                )
            )
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
        if flags & _END_STREAM:
            self._remote_end(stream, out)

    def _on_rst_stream(self, flags: int, stream_id: int, payload: bytes, out: list[Event]) -> None:
        if len(payload) != 4:
            raise _Violation("RST_STREAM of the wrong size", ErrorCode.FRAME_SIZE_ERROR)
        if stream_id == 0 or stream_id > self._last_stream_id:
            raise _Violation(f"RST_STREAM on idle stream {stream_id}")
        stream = self._streams.pop(stream_id, None)
        if stream is not None:
            self._blocked.pop(stream_id, None)
            (code,) = struct.unpack(">I", payload)
            out.append(StreamReset(stream_id, code))

    def _on_settings(self, flags: int, stream_id: int, payload: bytes, out: list[Event]) -> None:
        if stream_id != 0:
            raise _Violation("SETTINGS on a stream")
        if flags & _ACK:
            if payload:
                raise _Violation("SETTINGS ACK with a payload", ErrorCode.FRAME_SIZE_ERROR)
            return
        if len(payload) % 6:
            raise _Violation("SETTINGS of the wrong size", ErrorCode.FRAME_SIZE_ERROR)
        for key, value in struct.iter_unpack(">HI", payload):
            if key == _SETTINGS_INITIAL_WINDOW_SIZE:
                if value > _MAX_WINDOW:
                    raise _Violation("initial window too large", ErrorCode.FLOW_CONTROL_ERROR)
                delta = value - self._peer_window
                self._peer_window = value
                for stream in self._streams.values():
                    stream.send_window += delta
                    if stream.send_window > _MAX_WINDOW:
                        raise _Violation(
                            f"stream {stream.id}'s window overflows",
                            ErrorCode.FLOW_CONTROL_ERROR,
                        )
            elif key == _SETTINGS_MAX_FRAME_SIZE:
                if not _DEFAULT_FRAME_SIZE <= value <= 2**24 - 1:
                    raise _Violation(f"maximum frame size {value} out of range")
                self._peer_frame_size = value
            # Others need nothing: we never push, never index our headers
            # (the table size is moot), and our header lists are small.
        self._outbound.append(_frame(FrameType.SETTINGS, _ACK, 0))
        self._flush_blocked()

    def _on_ping(self, flags: int, stream_id: int, payload: bytes, out: list[Event]) -> None:
        if len(payload) != 8:
            raise _Violation("PING of the wrong size", ErrorCode.FRAME_SIZE_ERROR)
        if stream_id != 0:
            raise _Violation("PING on a stream")
        if not flags & _ACK:
            self._outbound.append(_frame(FrameType.PING, _ACK, 0, payload))

    def _on_goaway(self, flags: int, stream_id: int, payload: bytes, out: list[Event]) -> None:
        # Calls in progress may finish; the client closes the connection when done.
        code = struct.unpack_from(">I", payload, 4)[0] if len(payload) >= 8 else 0
        out.append(ConnectionEnded(code, payload[8:].decode(errors="replace")))

    def _on_window_update(
        self, flags: int, stream_id: int, payload: bytes, out: list[Event]
    ) -> None:
        if len(payload) != 4:
            raise _Violation("WINDOW_UPDATE of the wrong size", ErrorCode.FRAME_SIZE_ERROR)
        (increment,) = struct.unpack(">I", payload)
        increment &= 0x7FFF_FFFF
        if not increment:
            raise _Violation(f"WINDOW_UPDATE of 0 on stream {stream_id}")
        if stream_id == 0:
            self._send_window += increment
            if self._send_window > _MAX_WINDOW:
                raise _Violation("connection window overflow", ErrorCode.FLOW_CONTROL_ERROR)
            self._flush_blocked()
            return
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.send_window += increment
            if stream.send_window > _MAX_WINDOW:
                raise _Violation(
                    f"stream {stream_id}'s window overflows", ErrorCode.FLOW_CONTROL_ERROR
                )
            if stream.outbound:
                self._flush_stream(stream)

    def _on_push_promise(
        self, flags: int, stream_id: int, payload: bytes, out: list[Event]
    ) -> None:
        raise _Violation("clients may not push")

    def _on_priority(self, flags: int, stream_id: int, payload: bytes, out: list[Event]) -> None:
        pass  # priorities are advice; every call here is served as it comes


def _unpad(payload: bytes) -> bytes:
    if not payload or payload[0] >= len(payload):
        raise _Violation("padding longer than the frame")
    return payload[1 : len(payload) - payload[0]]


_FrameHandler = Callable[[ServerConnection, int, int, bytes, list[Event]], None]
_HANDLERS: Final[dict[int, _FrameHandler]] = {
    FrameType.DATA: ServerConnection._on_data,
    FrameType.HEADERS: ServerConnection._on_headers,
    FrameType.PRIORITY: ServerConnection._on_priority,
    FrameType.RST_STREAM: ServerConnection._on_rst_stream,
    FrameType.SETTINGS: ServerConnection._on_settings,
    FrameType.PUSH_PROMISE: ServerConnection._on_push_promise,
    FrameType.PING: ServerConnection._on_ping,
    FrameType.GOAWAY: ServerConnection._on_goaway,
    FrameType.WINDOW_UPDATE: ServerConnection._on_window_update,
    FrameType.CONTINUATION: ServerConnection._on_continuation,
}
