"""Hadoop IPC framing fed whole, byte by byte, in random chunks and with trailing data."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skein._proto.hadoop import RpcHeader_pb2 as rpc_pb
from skein._proto.hadoop import Security_pb2 as security_pb
from skein.errors import ProtocolError
from skein.hadoop.events import (
    CallFailed,
    ConnectionFailed,
    Event,
    ResponseReceived,
    SaslMessageReceived,
)
from skein.hadoop.framing import (
    ClientConnection,
    FrameBuffer,
    UserInfo,
    decode_varint,
    encode_varint,
)
from skein.testing.rpc_server import (
    CallReceived,
    ContextReceived,
    PingReceived,
    PreambleReceived,
    SaslReceived,
    ServerConnection,
)

PROTOCOL = "org.apache.hadoop.yarn.api.ApplicationClientProtocolPB"
TOKEN = security_pb.TokenProto(kind="K", service="S", identifier=b"i" * 200, password=b"p")


def client() -> ClientConnection:
    return ClientConnection(PROTOCOL, UserInfo("alice", "root"), client_id=b"c" * 16)


def responses() -> bytes:
    return (
        ServerConnection.response(1, TOKEN)
        + ServerConnection.error(0, "java.io.IOException", "boom\n\tat x.y(Z.java:1)")
        + ServerConnection.sasl(rpc_pb.RpcSaslProto(state=rpc_pb.RpcSaslProto.SUCCESS))
        + ServerConnection.response(2, security_pb.CancelDelegationTokenResponseProto())
    )


EXPECTED: list[Event] = [
    ResponseReceived(1, TOKEN.SerializeToString()),
    CallFailed(0, "java.io.IOException", "boom\n\tat x.y(Z.java:1)", 1),
    SaslMessageReceived(rpc_pb.RpcSaslProto(state=rpc_pb.RpcSaslProto.SUCCESS)),
    ResponseReceived(2, b""),
]


def feed(chunks: list[bytes]) -> list[Event]:
    connection = client()
    events: list[Event] = []
    for chunk in chunks:
        events += connection.receive_data(chunk)
    return events


def test_whole() -> None:
    assert feed([responses()]) == EXPECTED


def test_byte_by_byte() -> None:
    data = responses()
    assert feed([data[i : i + 1] for i in range(len(data))]) == EXPECTED


def test_trailing_partial_frame_is_kept_for_later() -> None:
    data = responses()
    extra = ServerConnection.response(7, TOKEN)
    connection = client()
    assert connection.receive_data(data + extra[:5]) == EXPECTED
    assert connection.receive_data(extra[5:]) == [ResponseReceived(7, TOKEN.SerializeToString())]


@given(st.lists(st.integers(min_value=0, max_value=len(responses())), max_size=20))
def test_any_chunking(cuts: list[int]) -> None:
    data = responses()
    points = [0, *sorted(cuts), len(data)]
    assert feed([data[a:b] for a, b in itertools.pairwise(points)]) == EXPECTED


def test_fatal_closes_the_connection() -> None:
    connection = client()
    events = connection.receive_data(
        ServerConnection.error(-1, "org.apache.hadoop.ipc.RpcServerException", "x", fatal=True)
    )
    assert events == [ConnectionFailed(-1, "org.apache.hadoop.ipc.RpcServerException", "x", 1)]
    assert connection.closed
    with pytest.raises(ProtocolError, match="closed"):
        connection.request("m", b"")


def test_oversized_frame_is_a_protocol_error() -> None:
    connection = ClientConnection(PROTOCOL, UserInfo("a"), max_frame=100)
    with pytest.raises(ProtocolError, match="frame of 1195725856 bytes"):
        connection.receive_data(b"GET / HTTP/1.1\r\n")


def test_garbage_header_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        client().receive_data(b"\x00\x00\x00\x03\x02\xff\xff")


def test_body_length_mismatch_is_a_protocol_error() -> None:
    frame = ServerConnection.response(1, TOKEN)
    bad = (int.from_bytes(frame[:4], "big") + 1).to_bytes(4, "big") + frame[4:] + b"\x00"
    with pytest.raises(ProtocolError, match="does not match"):
        client().receive_data(bad)


def test_what_the_client_sends_is_what_a_server_reads() -> None:
    connection = client()
    call_id, request = connection.request("getClusterNodes", TOKEN.SerializeToString())
    second_id, second = connection.request("getQueueInfo", b"")
    assert (call_id, second_id) == (0, 1)
    server = ServerConnection()
    wire = (
        connection.preamble()
        + connection.sasl_message(rpc_pb.RpcSaslProto(state=rpc_pb.RpcSaslProto.NEGOTIATE))
        + connection.connection_context()
        + request
        + connection.ping()
        + second
    )
    messages = []
    for i in range(len(wire)):  # byte by byte on the server side too
        messages += server.receive_data(wire[i : i + 1])
    assert messages[0] == PreambleReceived(version=9, auth=0)
    assert isinstance(messages[1], SaslReceived)
    context = messages[2]
    assert isinstance(context, ContextReceived)
    assert context.context.protocol == PROTOCOL
    assert context.context.userInfo.effectiveUser == "alice"
    assert context.context.userInfo.realUser == "root"
    call = messages[3]
    assert isinstance(call, CallReceived)
    assert (call.call_id, call.method, call.protocol) == (0, "getClusterNodes", PROTOCOL)
    assert call.body == TOKEN.SerializeToString()
    assert call.header.HasField("rpcOp")  # Hadoop rejects headers without it
    assert call.header.clientId == b"c" * 16
    assert call.header.retryCount == 0
    assert isinstance(messages[4], PingReceived)
    assert isinstance(messages[5], CallReceived)
    assert messages[5].method == "getQueueInfo"


def test_token_connections_send_no_user_and_use_sasl() -> None:
    connection = ClientConnection(PROTOCOL, None, sasl=True)
    assert connection.preamble() == b"hrpc\x09\x00\xdf"
    server = ServerConnection()
    messages = server.receive_data(connection.preamble() + connection.connection_context())
    context = messages[1]
    assert isinstance(context, ContextReceived)
    assert not context.context.HasField("userInfo")


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**31 - 1, 2**32, 2**63])
def test_varint_round_trip(value: int) -> None:
    encoded = encode_varint(value)
    assert decode_varint(encoded + b"\xff", 0) == (value, len(encoded))


def test_truncated_varint() -> None:
    with pytest.raises(ProtocolError, match="malformed varint"):
        decode_varint(b"\x80\x80", 0)


def test_frame_buffer_limits() -> None:
    buffer = FrameBuffer(max_frame=4)
    assert buffer.feed(b"\x00\x00\x00\x04abcd\x00\x00") == [b"abcd"]
    assert buffer.feed(b"\x00\x01x") == [b"x"]
