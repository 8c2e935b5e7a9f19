"""What the sans-IO connection reports after it reads bytes from the server."""

from __future__ import annotations

from dataclasses import dataclass

from skein._proto.hadoop import RpcHeader_pb2 as rpc_pb

__all__ = [
    "CallFailed",
    "ConnectionFailed",
    "Event",
    "ResponseReceived",
    "SaslMessageReceived",
]


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """A call succeeded; ``payload`` is the undecoded response message.

    Only the caller knows which message type it asked for, so decoding is its job.
    """

    call_id: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class CallFailed:
    """A call failed with a Java exception; the connection stays usable."""

    call_id: int
    exception_class: str
    message: str
    error_detail: int


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """The server reported a fatal error and is closing the connection."""

    call_id: int
    exception_class: str
    message: str
    error_detail: int


@dataclass(frozen=True, slots=True)
class SaslMessageReceived:
    """A SASL message from the server (call id -33)."""

    message: rpc_pb.RpcSaslProto


Event = ResponseReceived | CallFailed | ConnectionFailed | SaslMessageReceived
