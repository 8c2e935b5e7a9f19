"""What both ends of gRPC over HTTP/2 share: frames, flow control, settings, pings.

:class:`Http2Connection` holds one connection's HTTP/2 state and does no I/O:
it is fed received bytes (``_receive``) and queues bytes to send
(:meth:`~Http2Connection.data_to_send`). It parses frames with ``struct``,
joins header blocks split over CONTINUATION frames and decodes them with
``hpack``, answers SETTINGS and PING, keeps both directions' flow-control
windows, and holds DATA that does not fit the peer's windows until they
open. What a frame *means* for a call differs by end, so
:class:`~skein.api.http2_server.ServerConnection` and
:class:`~skein.api.http2_client.ClientConnection` handle DATA, HEADERS,
RST_STREAM and GOAWAY themselves.

Only what gRPC needs of HTTP/2 (RFC 9113) is here: no server push, no
priorities (accepted and ignored). Header blocks sent are encoded by hand
with literal fields that never enter the peer's dynamic table, so the
encoder keeps no state and fixed blocks are encoded once.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field
from typing import Any, Final, cast
from urllib.parse import quote

from hpack import Decoder
from hpack.exceptions import HPACKError

__all__ = [
    "PREFACE",
    "ConnectionEnded",
    "ErrorCode",
    "FrameType",
    "Http2Connection",
    "StreamReset",
    "encode_grpc_message",
    "parse_timeout",
]

PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

FRAME_HEADER: Final = struct.Struct(">I B I")  # 24-bit length << 8 | type, flags, stream id
MESSAGE_PREFIX: Final = struct.Struct(">B I")  # gRPC's compressed flag, length


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


END_STREAM: Final = 0x1
ACK: Final = 0x1
END_HEADERS: Final = 0x4
PADDED: Final = 0x8
PRIORITY: Final = 0x20

SETTINGS_ENABLE_PUSH: Final = 0x2
SETTINGS_MAX_CONCURRENT_STREAMS: Final = 0x3
SETTINGS_INITIAL_WINDOW_SIZE: Final = 0x4
SETTINGS_MAX_FRAME_SIZE: Final = 0x5

DEFAULT_WINDOW: Final = 65_535
MAX_WINDOW: Final = 2**31 - 1
DEFAULT_FRAME_SIZE: Final = 16_384
#: The dynamic table size a peer's encoder may use (HPACK's default; we never say more).
HEADER_TABLE_SIZE: Final = 4096
#: Largest header block accepted (hpack's own default bound, 64 KiB).
MAX_HEADER_BLOCK: Final = 64 * 1024


class Violation(Exception):
    """The peer broke HTTP/2; the connection is ended with ``code``.

    Never leaves this package's connections: ``_receive`` turns it into a
    GOAWAY and a :class:`ConnectionEnded` event.
    """

    def __init__(self, message: str, code: ErrorCode = ErrorCode.PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.code = code


# -- events both ends report -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamReset:
    """The peer reset ``stream_id`` (RST_STREAM with ``code``): its call is abandoned."""

    stream_id: int
    code: int


@dataclass(frozen=True, slots=True)
class ConnectionEnded:
    """The peer said GOAWAY (calls up to ``last_stream_id`` may finish), or broke the protocol.

    In the second case the connection's ``ended`` is true and a GOAWAY is
    queued: send it, then close.
    """

    code: int
    reason: str
    last_stream_id: int = 0


# -- encoding ---------------------------------------------------------------------------


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """One frame's bytes."""
    return FRAME_HEADER.pack(len(payload) << 8 | kind, flags, stream_id) + payload


def hpack_integer(value: int, prefix_bits: int, first: int = 0) -> bytes:
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


def literal(name: bytes, value: bytes) -> bytes:
    """A literal field, never added to the table, with a literal name (no Huffman)."""
    return b"\x00" + hpack_integer(len(name), 7) + name + hpack_integer(len(value), 7) + value


def literal_indexed_name(index: int, value: bytes) -> bytes:
    """A literal field, never added to the table, naming static table entry ``index``."""
    return hpack_integer(index, 4) + hpack_integer(len(value), 7) + value


# Bytes sent as they are in grpc-message: printable ASCII except "%" (gRPC's rule).
_MESSAGE_SAFE: Final = "".join(chr(c) for c in range(0x20, 0x7F) if c != 0x25)


def encode_grpc_message(message: str) -> bytes:
    """``message`` percent-encoded as gRPC's ``grpc-message`` header wants it (clients decode it).

    >>> encode_grpc_message("no key 'é' (100%)")
    b"no key '%C3%A9' (100%25)"
    """
    return quote(message, safe=_MESSAGE_SAFE, errors="replace").encode("ascii")


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


def unpad(payload: bytes) -> bytes:
    """A padded frame's payload without its padding."""
    if not payload or payload[0] >= len(payload):
        raise Violation("padding longer than the frame")
    return payload[1 : len(payload) - payload[0]]


# -- streams ----------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Stream:
    """What both ends keep of an open stream; each end adds its own fields."""

    id: int
    send_window: int
    buffer: bytearray = field(default_factory=bytearray)  # received bytes not yet a message
    outbound: bytearray = field(default_factory=bytearray)  # DATA waiting for window
    closing: bool = False  # our side ends once ``outbound`` is sent
    remote_ended: bool = False


# -- the connection ----------------------------------------------------------------------


class Http2Connection:
    """One connection's HTTP/2 state, common to client and server.

    Args:
        settings: the SETTINGS we announce, as ``(identifier, value)`` pairs.
        connection_window: what the peer may send ahead on the connection;
            credited back as data arrives.
        expect_preface: whether the peer opens with HTTP/2's client preface
            (a server's peer does).
    """

    def __init__(
        self,
        *,
        settings: list[tuple[int, int]],
        connection_window: int,
        expect_preface: bool,
    ) -> None:
        self._decoder = Decoder()
        self._decoder.max_allowed_table_size = HEADER_TABLE_SIZE
        self._inbound = bytearray()
        self._outbound: list[bytes] = []
        self._streams: dict[int, Any] = {}  # each end's Stream subclass
        self._preface_seen = not expect_preface
        self._continuation: tuple[int, int, bytearray] | None = None  # stream, flags, block
        self._ended = False
        self._connection_window = connection_window
        self._conn_unacked = 0
        # The peer's settings, as far as sending goes.
        self._peer_window = DEFAULT_WINDOW  # initial window of new streams
        self._peer_frame_size = DEFAULT_FRAME_SIZE
        self._peer_max_streams: int | None = None  # None: no limit said
        self._send_window = DEFAULT_WINDOW  # the connection's
        self._blocked: dict[int, Stream] = {}  # streams with outbound data, in order
        payload = b"".join(struct.pack(">HI", key, value) for key, value in settings)
        self._outbound.append(frame(FrameType.SETTINGS, 0, 0, payload))
        if connection_window > DEFAULT_WINDOW:
            self._window_update(0, connection_window - DEFAULT_WINDOW)

    # -- output ---------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """The bytes queued for the peer, in order; the queue is emptied."""
        if not self._outbound:
            return b""
        data = b"".join(self._outbound)
        self._outbound.clear()
        return data

    @property
    def ended(self) -> bool:
        """Whether the connection is over: we sent GOAWAY, and ignore what else comes."""
        return self._ended

    def pending(self, stream_id: int) -> int:
        """Bytes of ``stream_id``'s messages that wait for the peer's window (0 if none)."""
        stream = self._streams.get(stream_id)
        return len(stream.outbound) if stream is not None else 0

    def is_open(self, stream_id: int) -> bool:
        """Whether ``stream_id`` is still open (not reset, not finished)."""
        return stream_id in self._streams

    def _goaway(self, last_stream_id: int, code: ErrorCode, reason: str) -> None:
        self._ended = True
        payload = struct.pack(">II", last_stream_id, code) + reason.encode()[:256]
        self._outbound.append(frame(FrameType.GOAWAY, 0, 0, payload))

    def _reset(self, stream_id: int, code: ErrorCode) -> None:
        self._outbound.append(frame(FrameType.RST_STREAM, 0, stream_id, struct.pack(">I", code)))

    def _send_data(self, stream: Stream, data: bytes, end_stream: bool = False) -> None:
        """Queue ``data`` (whole gRPC messages) on ``stream``, as far as the windows allow.

        With ``end_stream`` our side of the stream ends after it.
        """
        if not stream.outbound:
            size = len(data)
            # The usual case: it fits the windows and one frame.
            if (
                size <= stream.send_window
                and size <= self._send_window
                and size <= self._peer_frame_size
            ):
                stream.send_window -= size
                self._send_window -= size
                self._outbound.append(
                    frame(FrameType.DATA, END_STREAM if end_stream else 0, stream.id, data)
                )
                if end_stream:
                    stream.closing = True
                    self._local_end(stream)
                return
        stream.outbound += data
        if end_stream:
            stream.closing = True
        self._flush_stream(stream)

    def _end_stream(self, stream: Stream) -> None:
        """End our side of ``stream`` once its queued data is sent."""
        stream.closing = True
        if not stream.outbound:
            self._drained(stream)

    def _flush_stream(self, stream: Stream) -> None:
        """Send as much of ``stream``'s queued data as the windows allow."""
        outbound = stream.outbound
        while outbound:
            size = min(len(outbound), stream.send_window, self._send_window, self._peer_frame_size)
            if size <= 0:
                self._blocked[stream.id] = stream
                return
            self._outbound.append(frame(FrameType.DATA, 0, stream.id, bytes(outbound[:size])))
            del outbound[:size]
            stream.send_window -= size
            self._send_window -= size
        self._blocked.pop(stream.id, None)
        if stream.closing:
            self._drained(stream)

    def _drained(self, stream: Stream) -> None:
        """``stream`` is closing and all its data is sent: end our side (each end's way)."""
        self._outbound.append(frame(FrameType.DATA, END_STREAM, stream.id))
        self._local_end(stream)

    def _local_end(self, stream: Stream) -> None:
        """Our side of ``stream`` has ended (its END_STREAM is queued)."""

    def _flush_blocked(self) -> None:
        for stream in list(self._blocked.values()):
            if self._send_window <= 0:
                return
            self._flush_stream(stream)

    def _forget(self, stream_id: int) -> Any:
        """Drop ``stream_id``'s state; return it (or ``None``)."""
        self._blocked.pop(stream_id, None)
        return self._streams.pop(stream_id, None)

    def _window_update(self, stream_id: int, increment: int) -> None:
        self._outbound.append(
            frame(FrameType.WINDOW_UPDATE, 0, stream_id, struct.pack(">I", increment))
        )

    def _credit_connection(self, size: int) -> None:
        self._conn_unacked += size
        if self._conn_unacked >= self._connection_window // 2:
            self._window_update(0, self._conn_unacked)
            self._conn_unacked = 0

    # -- input ----------------------------------------------------------------------

    def _receive(self, data: bytes) -> list[Any]:
        """Take bytes from the peer; return what they mean, in order.

        A protocol violation ends the connection: the events end with
        :class:`ConnectionEnded` and a GOAWAY is queued.
        """
        if self._ended:
            return []
        events: list[Any] = []
        inbound = self._inbound
        inbound += data
        try:
            if not self._preface_seen:
                if len(inbound) < len(PREFACE):
                    if not PREFACE.startswith(bytes(inbound)):
                        raise Violation("the client did not open with HTTP/2's preface")
                    return events
                if not inbound.startswith(PREFACE):
                    raise Violation("the client did not open with HTTP/2's preface")
                del inbound[: len(PREFACE)]
                self._preface_seen = True
            offset = 0
            end = len(inbound)
            view = memoryview(inbound)
            try:
                while end - offset >= 9:
                    head, flags, stream_id = FRAME_HEADER.unpack_from(inbound, offset)
                    length = head >> 8
                    if length > DEFAULT_FRAME_SIZE:
                        raise Violation(
                            f"a frame of {length} bytes is larger than the maximum, "
                            f"{DEFAULT_FRAME_SIZE}",
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
        except Violation as exc:
            self._violated(exc, events)
        return events

    def _violated(self, exc: Violation, out: list[Any]) -> None:
        """The peer broke the protocol: GOAWAY, and tell the driver."""
        self._goaway(self._last_peer_stream(), exc.code, str(exc))
        out.append(ConnectionEnded(exc.code, str(exc)))

    def _last_peer_stream(self) -> int:
        """The last stream the peer opened that we processed (GOAWAY's field)."""
        return 0

    def _frame(self, kind: int, flags: int, stream_id: int, payload: bytes, out: list[Any]) -> None:
        if self._continuation is not None and kind != FrameType.CONTINUATION:
            raise Violation("a header block was interrupted by another frame")
        # Ordered by how often each comes.
        if kind == FrameType.DATA:
            self._on_data(flags, stream_id, payload, out)
        elif kind == FrameType.HEADERS:
            self._on_headers(flags, stream_id, payload, out)
        elif kind == FrameType.WINDOW_UPDATE:
            self._on_window_update(stream_id, payload)
        elif kind == FrameType.RST_STREAM:
            self._on_rst_stream(stream_id, payload, out)
        elif kind == FrameType.SETTINGS:
            self._on_settings(flags, stream_id, payload)
        elif kind == FrameType.PING:
            self._on_ping(flags, stream_id, payload)
        elif kind == FrameType.CONTINUATION:
            self._on_continuation(flags, stream_id, payload, out)
        elif kind == FrameType.GOAWAY:
            self._on_goaway(payload, out)
        elif kind == FrameType.PUSH_PROMISE:
            raise Violation("PUSH_PROMISE, which is not allowed here")
        # PRIORITY is advice, and every call here is served as it comes;
        # unknown frame types are ignored (RFC 9113, 4.1).

    def _on_data(self, flags: int, stream_id: int, payload: bytes, out: list[Any]) -> None:
        if stream_id == 0:
            raise Violation("DATA on stream 0")
        size = len(payload)
        self._credit_connection(size)
        stream = self._streams.get(stream_id)
        if stream is None:
            if self._is_idle(stream_id):
                raise Violation(f"DATA on idle stream {stream_id}")
            return  # a stream we finished or reset: its data is moot
        if stream.remote_ended:
            raise Violation(f"DATA after the end of stream {stream_id}", ErrorCode.STREAM_CLOSED)
        end_stream = bool(flags & END_STREAM)
        if flags & PADDED:
            payload = unpad(payload)
            if not end_stream and size > len(payload):  # padding is never consumed
                self._window_update(stream_id, size - len(payload))
        self._data(stream, payload, end_stream, out)

    def _data(self, stream: Any, payload: bytes, end_stream: bool, out: list[Any]) -> None:
        """DATA arrived on an open ``stream`` (padding removed): each end's meaning."""
        raise NotImplementedError

    def _on_headers(self, flags: int, stream_id: int, payload: bytes, out: list[Any]) -> None:
        if stream_id == 0:
            raise Violation("HEADERS on stream 0")
        if flags & PADDED:
            payload = unpad(payload)
        if flags & PRIORITY:
            payload = payload[5:]
        if flags & END_HEADERS:
            self._header_block(stream_id, flags, self._decode(payload), out)
        else:
            self._continuation = (stream_id, flags, bytearray(payload))

    def _on_continuation(self, flags: int, stream_id: int, payload: bytes, out: list[Any]) -> None:
        if self._continuation is None or self._continuation[0] != stream_id:
            raise Violation(f"CONTINUATION out of place on stream {stream_id}")
        _, first_flags, block = self._continuation
        block += payload
        if len(block) > MAX_HEADER_BLOCK:
            raise Violation(f"a header block larger than {MAX_HEADER_BLOCK} bytes")
        if flags & END_HEADERS:
            self._continuation = None
            self._header_block(stream_id, first_flags, self._decode(bytes(block)), out)

    def _decode(self, block: bytes) -> list[tuple[bytes, bytes]]:
        # Decoded even for a stream that is gone: HPACK's table needs every block.
        try:
            headers = cast("list[tuple[bytes, bytes]]", self._decoder.decode(block, raw=True))
        except HPACKError as exc:
            raise Violation(
                f"undecodable header block: {exc}", ErrorCode.COMPRESSION_ERROR
            ) from exc
        return headers

    def _header_block(
        self, stream_id: int, flags: int, headers: list[tuple[bytes, bytes]], out: list[Any]
    ) -> None:
        """A whole header block arrived on ``stream_id``: each end's meaning."""
        raise NotImplementedError

    def _is_idle(self, stream_id: int) -> bool:
        """Whether ``stream_id`` was never opened (so no frame but HEADERS may name it)."""
        raise NotImplementedError

    def _on_rst_stream(self, stream_id: int, payload: bytes, out: list[Any]) -> None:
        if len(payload) != 4:
            raise Violation("RST_STREAM of the wrong size", ErrorCode.FRAME_SIZE_ERROR)
        if stream_id == 0 or self._is_idle(stream_id):
            raise Violation(f"RST_STREAM on idle stream {stream_id}")
        if self._forget(stream_id) is not None:
            (code,) = struct.unpack(">I", payload)
            out.append(StreamReset(stream_id, code))

    def _on_settings(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id != 0:
            raise Violation("SETTINGS on a stream")
        if flags & ACK:
            if payload:
                raise Violation("SETTINGS ACK with a payload", ErrorCode.FRAME_SIZE_ERROR)
            return
        if len(payload) % 6:
            raise Violation("SETTINGS of the wrong size", ErrorCode.FRAME_SIZE_ERROR)
        for key, value in struct.iter_unpack(">HI", payload):
            if key == SETTINGS_INITIAL_WINDOW_SIZE:
                if value > MAX_WINDOW:
                    raise Violation("initial window too large", ErrorCode.FLOW_CONTROL_ERROR)
                delta = value - self._peer_window
                self._peer_window = value
                for stream in self._streams.values():
                    stream.send_window += delta
                    if stream.send_window > MAX_WINDOW:
                        raise Violation(
                            f"stream {stream.id}'s window overflows",
                            ErrorCode.FLOW_CONTROL_ERROR,
                        )
            elif key == SETTINGS_MAX_FRAME_SIZE:
                if not DEFAULT_FRAME_SIZE <= value <= 2**24 - 1:
                    raise Violation(f"maximum frame size {value} out of range")
                self._peer_frame_size = value
            elif key == SETTINGS_MAX_CONCURRENT_STREAMS:
                self._peer_max_streams = value
            # Others need nothing: nobody pushes, our header blocks never
            # index (the table size is moot) and are small.
        self._outbound.append(frame(FrameType.SETTINGS, ACK, 0))
        self._flush_blocked()

    def _on_ping(self, flags: int, stream_id: int, payload: bytes) -> None:
        if len(payload) != 8:
            raise Violation("PING of the wrong size", ErrorCode.FRAME_SIZE_ERROR)
        if stream_id != 0:
            raise Violation("PING on a stream")
        if not flags & ACK:
            self._outbound.append(frame(FrameType.PING, ACK, 0, payload))

    def _on_goaway(self, payload: bytes, out: list[Any]) -> None:
        if len(payload) < 8:
            raise Violation("GOAWAY too short", ErrorCode.FRAME_SIZE_ERROR)
        last, code = struct.unpack_from(">II", payload)
        out.append(ConnectionEnded(code, payload[8:].decode(errors="replace"), last & 0x7FFF_FFFF))

    def _on_window_update(self, stream_id: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise Violation("WINDOW_UPDATE of the wrong size", ErrorCode.FRAME_SIZE_ERROR)
        (increment,) = struct.unpack(">I", payload)
        increment &= 0x7FFF_FFFF
        if not increment:
            raise Violation(f"WINDOW_UPDATE of 0 on stream {stream_id}")
        if stream_id == 0:
            self._send_window += increment
            if self._send_window > MAX_WINDOW:
                raise Violation("connection window overflow", ErrorCode.FLOW_CONTROL_ERROR)
            self._flush_blocked()
            return
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.send_window += increment
            if stream.send_window > MAX_WINDOW:
                raise Violation(
                    f"stream {stream_id}'s window overflows", ErrorCode.FLOW_CONTROL_ERROR
                )
            if stream.outbound:
                self._flush_stream(stream)
