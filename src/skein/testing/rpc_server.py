"""The server side of Hadoop IPC, without I/O, for tests of clients.

It parses what a client sends (preamble, SASL, connection context, calls,
pings) and builds the frames a Hadoop server would answer with. It does not
implement any protocol's methods: a test decides what to answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from google.protobuf.message import Message

from skein._proto.hadoop import IpcConnectionContext_pb2 as context_pb
from skein._proto.hadoop import ProtobufRpcEngine2_pb2 as engine_pb
from skein._proto.hadoop import RpcHeader_pb2 as rpc_pb
from skein.errors import ProtocolError
from skein.hadoop.digest_md5 import parse_challenge
from skein.hadoop.framing import (
    CONNECTION_CONTEXT_CALL_ID,
    PING_CALL_ID,
    SASL_CALL_ID,
    FrameBuffer,
    decode_varint,
    encode_varint,
)

__all__ = [
    "CallReceived",
    "ContextReceived",
    "DigestMD5Server",
    "PingReceived",
    "PreambleReceived",
    "SaslReceived",
    "ServerConnection",
]

Status = rpc_pb.RpcResponseHeaderProto


@dataclass(frozen=True, slots=True)
class PreambleReceived:
    """The 7-byte preamble: version and auth protocol byte."""

    version: int
    auth: int


@dataclass(frozen=True, slots=True)
class SaslReceived:
    """A SASL message from the client."""

    message: rpc_pb.RpcSaslProto


@dataclass(frozen=True, slots=True)
class ContextReceived:
    """The connection context."""

    context: context_pb.IpcConnectionContextProto


@dataclass(frozen=True, slots=True)
class PingReceived:
    """A ping."""


@dataclass(frozen=True, slots=True)
class CallReceived:
    """A call: its id, method, protocol and undecoded request body."""

    call_id: int
    method: str
    protocol: str
    body: bytes
    header: rpc_pb.RpcRequestHeaderProto


ClientMessage = PreambleReceived | SaslReceived | ContextReceived | PingReceived | CallReceived


def _parts(frame: bytes) -> list[bytes]:
    parts, offset = [], 0
    while offset < len(frame):
        length, offset = decode_varint(frame, offset)
        parts.append(frame[offset : offset + length])
        offset += length
    return parts


def _frame(*messages: Message) -> bytes:
    payload = b"".join(
        encode_varint(len(body)) + body for body in (m.SerializeToString() for m in messages)
    )
    return len(payload).to_bytes(4, "big") + payload


class ServerConnection:
    """One client connection, as a Hadoop server sees it."""

    def __init__(self) -> None:
        self._preamble = bytearray()
        self._frames = FrameBuffer()

    def receive_data(self, data: bytes) -> list[ClientMessage]:
        """Feed bytes from the client; return the messages they complete."""
        messages: list[ClientMessage] = []
        if len(self._preamble) < 7:
            take = 7 - len(self._preamble)
            self._preamble += data[:take]
            data = data[take:]
            if len(self._preamble) == 7:
                if self._preamble[:4] != b"hrpc":
                    raise ProtocolError("not a Hadoop IPC preamble")
                messages.append(PreambleReceived(self._preamble[4], self._preamble[6]))
        for frame in self._frames.feed(data):
            messages.append(self._parse(frame))
        return messages

    def _parse(self, frame: bytes) -> ClientMessage:
        parts = _parts(frame)
        header = rpc_pb.RpcRequestHeaderProto.FromString(parts[0])
        if header.callId == SASL_CALL_ID:
            return SaslReceived(rpc_pb.RpcSaslProto.FromString(parts[1]))
        if header.callId == CONNECTION_CONTEXT_CALL_ID:
            return ContextReceived(context_pb.IpcConnectionContextProto.FromString(parts[1]))
        if header.callId == PING_CALL_ID:
            return PingReceived()
        request = engine_pb.RequestHeaderProto.FromString(parts[1])
        return CallReceived(
            header.callId,
            request.methodName,
            request.declaringClassProtocolName,
            parts[2] if len(parts) > 2 else b"",
            header,
        )

    @staticmethod
    def response(call_id: int, message: Message) -> bytes:
        """A successful response to ``call_id``."""
        header = rpc_pb.RpcResponseHeaderProto(callId=call_id % 2**32, status=Status.SUCCESS)
        return _frame(header, message)

    @staticmethod
    def error(
        call_id: int, java_class: str, message: str, *, fatal: bool = False, detail: int = 1
    ) -> bytes:
        """An ERROR (or FATAL) response carrying a Java exception."""
        header = rpc_pb.RpcResponseHeaderProto(
            callId=call_id % 2**32,
            status=Status.FATAL if fatal else Status.ERROR,
            exceptionClassName=java_class,
            errorMsg=message,
            errorDetail=detail,  # type: ignore[arg-type]
        )
        return _frame(header)

    @staticmethod
    def sasl(message: rpc_pb.RpcSaslProto) -> bytes:
        """A SASL message to the client."""
        return ServerConnection.response(SASL_CALL_ID, message)


class DigestMD5Server:
    """The server's half of DIGEST-MD5 for one known user name and password (qop auth)."""

    def __init__(self, username: str, password: str, realm: str = "default") -> None:
        self.username, self.password, self.realm = username, password, realm
        self.nonce = "c2tlaW4tdGVzdC1ub25jZQ"

    def challenge(self) -> bytes:
        """The first challenge."""
        return (
            f'realm="{self.realm}",nonce="{self.nonce}",qop="auth",charset=utf-8,algorithm=md5-sess'
        ).encode()

    def verify(self, response: bytes) -> bytes | None:
        """The final ``rspauth`` token if ``response`` proves the password, else None."""
        fields = parse_challenge(response)

        def md5(data: bytes) -> bytes:
            return hashlib.md5(data).digest()

        def hexmd5(text: str | bytes) -> str:
            data = text.encode() if isinstance(text, str) else text
            return hashlib.md5(data).hexdigest()

        if fields.get("username") != self.username or fields.get("nonce") != self.nonce:
            return None
        a1 = md5(f"{self.username}:{self.realm}:{self.password}".encode())
        a1 += f":{self.nonce}:{fields['cnonce']}".encode()
        uri, nc, cnonce = fields["digest-uri"], fields["nc"], fields["cnonce"]

        def digest(a2: str) -> str:
            return hexmd5(f"{hexmd5(a1)}:{self.nonce}:{nc}:{cnonce}:auth:{hexmd5(a2)}")

        if fields.get("response") != digest(f"AUTHENTICATE:{uri}"):
            return None
        return f"rspauth={digest(':' + uri)}".encode()
