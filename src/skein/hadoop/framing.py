"""Hadoop IPC framing (protocol version 9), without any I/O.

Theory of operation. A client opens a TCP connection and sends a 7-byte
preamble: ``hrpc``, the version (9), a service class and the auth protocol
(0 for none, 0xDF for SASL). With SASL, negotiation frames (call id -33) come
next. Then the connection context (call id -3) names the user and protocol,
and calls follow. Every message after the preamble, in both directions, is
one frame: a 4-byte big-endian length, then protobuf messages each prefixed
with its varint length::

    request:  [len][RpcRequestHeaderProto][RequestHeaderProto][request body]
    response: [len][RpcResponseHeaderProto][response body, only on SUCCESS]

Calls are multiplexed: each has a call id and responses may arrive in any
order. :class:`ClientConnection` turns calls into bytes and bytes into
:mod:`skein.hadoop.events`; the caller moves the bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from google.protobuf.message import DecodeError, Message

from skein._proto.hadoop import IpcConnectionContext_pb2 as context_pb
from skein._proto.hadoop import ProtobufRpcEngine2_pb2 as engine_pb
from skein._proto.hadoop import RpcHeader_pb2 as rpc_pb
from skein.errors import ProtocolError
from skein.hadoop.events import (
    CallFailed,
    ConnectionFailed,
    Event,
    ResponseReceived,
    SaslMessageReceived,
)

__all__ = [
    "AUTH_NONE",
    "AUTH_SASL",
    "CONNECTION_CONTEXT_CALL_ID",
    "PING_CALL_ID",
    "SASL_CALL_ID",
    "ClientConnection",
    "FrameBuffer",
    "UserInfo",
    "decode_varint",
    "encode_varint",
]

# Constants from Hadoop's RpcConstants / RpcHeader.proto.
RPC_VERSION = 9
AUTH_NONE = 0x00
AUTH_SASL = 0xDF  # -33 as a signed byte
CONNECTION_CONTEXT_CALL_ID = -3
PING_CALL_ID = -4
SASL_CALL_ID = -33
PROTOCOL_VERSION = 1  # clientProtocolVersion of every YARN PB protocol
DEFAULT_MAX_FRAME = 128 * 1024 * 1024  # ipc.maximum.response.length

_MAX_CALL_ID = 2**31 - 1


def encode_varint(value: int) -> bytes:
    """Protobuf base-128 varint of a non-negative integer."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes, offset: int) -> tuple[int, int]:
    """Decode a varint at ``offset``; return (value, offset after it).

    Raises:
        ProtocolError: truncated or longer than 10 bytes.
    """
    result = shift = 0
    for index in range(offset, min(len(data), offset + 10)):
        byte = data[index]
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, index + 1
        shift += 7
    raise ProtocolError(f"malformed varint at byte {offset} of a frame")


def _delimited(message: Message) -> bytes:
    body = message.SerializeToString()
    return encode_varint(len(body)) + body


def _frame(*parts: bytes) -> bytes:
    payload = b"".join(parts)
    return len(payload).to_bytes(4, "big") + payload


class FrameBuffer:
    """Splits a byte stream into frames (4-byte big-endian length + payload).

    Bytes may arrive in any chunking; :meth:`feed` returns every frame completed so
    far and keeps the rest.
    """

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self._buffer = bytearray()
        self._max_frame = max_frame

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data`` and return the complete frames' payloads.

        Raises:
            ProtocolError: a frame announces more than the maximum frame size.
        """
        self._buffer += data
        frames = []
        while len(self._buffer) >= 4:
            length = int.from_bytes(self._buffer[:4], "big")
            if length > self._max_frame:
                raise ProtocolError(
                    f"the server sent a frame of {length} bytes, over the limit of "
                    f"{self._max_frame}; is this a Hadoop IPC port?"
                )
            if len(self._buffer) < 4 + length:
                break
            frames.append(bytes(self._buffer[4 : 4 + length]))
            del self._buffer[: 4 + length]
        return frames


@dataclass(frozen=True, slots=True)
class UserInfo:
    """Who a connection acts for: ``effective_user``, optionally impersonated by ``real_user``."""

    effective_user: str
    real_user: str | None = None


class ClientConnection:
    """The client side of one Hadoop IPC connection, as a state machine without I/O.

    Args:
        protocol: the protocol name, e.g.
            ``org.apache.hadoop.yarn.api.ApplicationClientProtocolPB``.
        user: the user sent in the connection context; None when a token
            defines the user (TOKEN authentication sends no user).
        sasl: whether the connection negotiates SASL before the context.
        client_id: 16 bytes identifying this client (random by default).
        max_frame: the largest response frame accepted.
    """

    def __init__(
        self,
        protocol: str,
        user: UserInfo | None,
        *,
        sasl: bool = False,
        client_id: bytes | None = None,
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        self.protocol = protocol
        self.user = user
        self.sasl = sasl
        self.client_id = client_id if client_id is not None else os.urandom(16)
        self._frames = FrameBuffer(max_frame)
        self._next_call_id = 0
        self.closed = False

    def preamble(self) -> bytes:
        """The first 7 bytes of the connection."""
        auth = AUTH_SASL if self.sasl else AUTH_NONE
        return b"hrpc" + bytes([RPC_VERSION, 0, auth])

    def _header(self, call_id: int, *, retry_count: int = -1, client_id: bytes = b"") -> bytes:
        header = rpc_pb.RpcRequestHeaderProto(
            rpcKind=rpc_pb.RPC_PROTOCOL_BUFFER,
            # Hadoop rejects a header without rpcOp, so it is always set,
            # although RPC_FINAL_PACKET is the default value.
            rpcOp=rpc_pb.RpcRequestHeaderProto.RPC_FINAL_PACKET,
            callId=call_id,
            clientId=client_id,
            retryCount=retry_count,
        )
        return _delimited(header)

    def sasl_message(self, message: rpc_pb.RpcSaslProto) -> bytes:
        """A SASL frame carrying ``message``."""
        return _frame(self._header(SASL_CALL_ID), _delimited(message))

    def connection_context(self) -> bytes:
        """The connection context frame, sent once after the preamble or SASL."""
        context = context_pb.IpcConnectionContextProto(protocol=self.protocol)
        if self.user is not None:
            context.userInfo.effectiveUser = self.user.effective_user
            if self.user.real_user:
                context.userInfo.realUser = self.user.real_user
        header = self._header(CONNECTION_CONTEXT_CALL_ID, client_id=self.client_id)
        return _frame(header, _delimited(context))

    def ping(self) -> bytes:
        """A ping frame: tells the server the client waits for a long call."""
        return _frame(self._header(PING_CALL_ID, client_id=self.client_id))

    def request(self, method: str, body: bytes, *, retry_count: int = 0) -> tuple[int, bytes]:
        """Frame a call of ``method`` with the serialized request ``body``.

        Returns:
            The call id and the bytes to send.
        """
        if self.closed:
            raise ProtocolError("the connection is closed")
        call_id = self._next_call_id
        self._next_call_id = (self._next_call_id + 1) % (_MAX_CALL_ID + 1)
        request_header = engine_pb.RequestHeaderProto(
            methodName=method,
            declaringClassProtocolName=self.protocol,
            clientProtocolVersion=PROTOCOL_VERSION,
        )
        frame = _frame(
            self._header(call_id, retry_count=retry_count, client_id=self.client_id),
            _delimited(request_header),
            encode_varint(len(body)) + body,
        )
        return call_id, frame

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed bytes read from the server; return the events they complete.

        Raises:
            ProtocolError: the bytes are not Hadoop IPC responses.
        """
        events: list[Event] = []
        for frame in self._frames.feed(data):
            event = self._parse(frame)
            events.append(event)
            if isinstance(event, ConnectionFailed):
                self.closed = True
        return events

    def _parse(self, frame: bytes) -> Event:
        try:
            length, offset = decode_varint(frame, 0)
            header = rpc_pb.RpcResponseHeaderProto.FromString(frame[offset : offset + length])
        except DecodeError as exc:
            raise ProtocolError(f"undecodable response header: {exc}") from exc
        offset += length
        if offset > len(frame):
            raise ProtocolError("a response header runs past the end of its frame")
        # callId is uint32 on the wire; negative ids (SASL, fatal) wrap around.
        call_id = header.callId - 2**32 if header.callId >= 2**31 else header.callId
        status = header.status
        if status == rpc_pb.RpcResponseHeaderProto.FATAL:
            return ConnectionFailed(
                call_id, header.exceptionClassName, header.errorMsg, header.errorDetail
            )
        if status == rpc_pb.RpcResponseHeaderProto.ERROR:
            return CallFailed(
                call_id, header.exceptionClassName, header.errorMsg, header.errorDetail
            )
        body = b""
        if offset < len(frame):
            body_length, body_offset = decode_varint(frame, offset)
            body = frame[body_offset : body_offset + body_length]
            if body_offset + body_length != len(frame):
                raise ProtocolError("a response frame's length does not match its contents")
        if call_id == SASL_CALL_ID:
            try:
                return SaslMessageReceived(rpc_pb.RpcSaslProto.FromString(body))
            except DecodeError as exc:
                raise ProtocolError(f"undecodable SASL message: {exc}") from exc
        return ResponseReceived(call_id, body)
