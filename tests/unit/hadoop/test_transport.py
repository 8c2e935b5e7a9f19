"""The asyncio transport against an in-process Hadoop IPC server on loopback.

The server side is skein.testing's sans-IO ServerConnection; each test decides
how it answers, to provoke reordering, errors, garbage, silence and EOF.
"""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from skein._proto.hadoop import RpcHeader_pb2 as rpc_pb
from skein._proto.hadoop import Security_pb2 as security_pb
from skein.errors import (
    AuthenticationError,
    ConnectionError,
    ProtocolError,
    RemoteError,
    StandbyError,
    TimeoutError,
)
from skein.hadoop.failover import FailoverChannel
from skein.hadoop.framing import UserInfo
from skein.hadoop.sasl import TokenCredential
from skein.hadoop.transport import RpcConnection
from skein.testing.rpc_server import (
    CallReceived,
    ContextReceived,
    DigestMD5Server,
    PingReceived,
    SaslReceived,
    ServerConnection,
)

PROTOCOL = "test.Protocol"
Sasl = rpc_pb.RpcSaslProto
Request = security_pb.GetDelegationTokenRequestProto
Response = security_pb.GetDelegationTokenResponseProto

Handler = Callable[[CallReceived, asyncio.StreamWriter], Awaitable[None]]


class FakeServer:
    """Counts connections and records what clients send; ``handler`` answers calls."""

    def __init__(self, handler: Handler, *, token_server: DigestMD5Server | None = None) -> None:
        self.handler = handler
        self.token_server = token_server
        self.connections = 0
        self.received: list[object] = []
        self.server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection = ServerConnection()
        try:
            while data := await reader.read(65536):
                for message in connection.receive_data(data):
                    self.received.append(message)
                    if isinstance(message, CallReceived):
                        await self.handler(message, writer)
                    elif isinstance(message, SaslReceived):
                        self._sasl(message.message, writer)
        except (ConnectionResetError, BrokenPipeError):
            pass
        finally:
            writer.close()

    def _sasl(self, message: Sasl, writer: asyncio.StreamWriter) -> None:
        token = self.token_server
        assert token is not None
        if message.state == Sasl.NEGOTIATE:
            auth = Sasl.SaslAuth(
                method="TOKEN",
                mechanism="DIGEST-MD5",
                serverId="default",
                challenge=token.challenge(),
            )
            writer.write(ServerConnection.sasl(Sasl(state=Sasl.NEGOTIATE, auths=[auth])))
        elif message.state == Sasl.INITIATE:
            rspauth = token.verify(message.token)
            if rspauth is None:
                writer.write(
                    ServerConnection.error(
                        -33, "javax.security.sasl.SaslException", "DIGEST-MD5: bad", fatal=True
                    )
                )
            else:
                writer.write(ServerConnection.sasl(Sasl(state=Sasl.SUCCESS, token=rspauth)))


@pytest.fixture
async def start() -> AsyncIterator[Callable[..., Awaitable[FakeServer]]]:
    servers: list[FakeServer] = []

    async def starter(handler: Handler, **kwargs: object) -> FakeServer:
        fake = FakeServer(handler, **kwargs)  # type: ignore[arg-type]
        fake.server = await asyncio.start_server(fake.serve, "127.0.0.1", 0)
        servers.append(fake)
        return fake

    yield starter
    for fake in servers:
        assert fake.server is not None
        fake.server.close()
        await fake.server.wait_closed()


def answer_with_renewer(call: CallReceived) -> bytes:
    renewer = Request.FromString(call.body).renewer
    return ServerConnection.response(call.call_id, Response(token={"kind": renewer}))


async def echo(call: CallReceived, writer: asyncio.StreamWriter) -> None:
    writer.write(answer_with_renewer(call))


def connect(server: FakeServer, **kwargs: object) -> RpcConnection:
    options: dict[str, object] = {"user": UserInfo("alice"), **kwargs}
    return RpcConnection("127.0.0.1", server.port, PROTOCOL, **options)  # type: ignore[arg-type]


async def call(connection: RpcConnection, renewer: str, **kwargs: float) -> str:
    response = await connection.call(
        "getDelegationToken", Request(renewer=renewer), Response, **kwargs
    )
    return response.token.kind


async def test_simple_call_sends_context_then_call(start) -> None:  # type: ignore[no-untyped-def]
    server = await start(echo)
    connection = connect(server)
    assert await call(connection, "r1") == "r1"
    context = next(m for m in server.received if isinstance(m, ContextReceived))
    assert context.context.userInfo.effectiveUser == "alice"
    assert context.context.protocol == PROTOCOL
    await connection.aclose()


async def test_responses_out_of_order_reach_their_callers(start) -> None:  # type: ignore[no-untyped-def]
    held: list[CallReceived] = []

    async def reorder(call_: CallReceived, writer: asyncio.StreamWriter) -> None:
        held.append(call_)
        if len(held) == 3:  # answer the last first
            for pending in reversed(held):
                writer.write(answer_with_renewer(pending))

    server = await start(reorder)
    connection = connect(server)
    results = await asyncio.gather(*(call(connection, f"r{i}") for i in range(3)))
    assert results == ["r0", "r1", "r2"]
    assert server.connections == 1
    await connection.aclose()


async def test_error_keeps_the_connection_usable(start) -> None:  # type: ignore[no-untyped-def]
    async def fail_first(call_: CallReceived, writer: asyncio.StreamWriter) -> None:
        if call_.call_id == 0:
            writer.write(
                ServerConnection.error(
                    0, "org.apache.hadoop.ipc.StandbyException", "standby\n\tat a.b(C.java:1)"
                )
            )
        else:
            writer.write(answer_with_renewer(call_))

    server = await start(fail_first)
    connection = connect(server)
    with pytest.raises(StandbyError) as info:
        await call(connection, "x")
    assert info.value.java_class == "org.apache.hadoop.ipc.StandbyException"
    assert str(info.value) == "standby"
    assert await call(connection, "y") == "y"
    assert server.connections == 1
    await connection.aclose()


async def test_fatal_fails_the_call_and_the_next_call_reconnects(start) -> None:  # type: ignore[no-untyped-def]
    async def fatal_once(call_: CallReceived, writer: asyncio.StreamWriter) -> None:
        if call_.method == "getDelegationToken" and Request.FromString(call_.body).renewer == "die":
            writer.write(
                ServerConnection.error(call_.call_id, "java.io.IOException", "bye", fatal=True)
            )
            writer.close()
        else:
            writer.write(answer_with_renewer(call_))

    server = await start(fatal_once)
    connection = connect(server)
    with pytest.raises(RemoteError, match="bye"):
        await call(connection, "die")
    assert await call(connection, "again") == "again"
    assert server.connections == 2
    await connection.aclose()


async def test_garbage_is_a_protocol_error_not_a_hang(start) -> None:  # type: ignore[no-untyped-def]
    async def garbage(call_: CallReceived, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\x00\x00\x00\x05\x7fnot-a-header")

    server = await start(garbage)
    connection = connect(server, call_timeout=5)
    with pytest.raises(ProtocolError):
        await call(connection, "x")
    await connection.aclose()


async def test_eof_mid_call_fails_it_and_the_next_call_reconnects(start) -> None:  # type: ignore[no-untyped-def]
    async def hang_up_first(call_: CallReceived, writer: asyncio.StreamWriter) -> None:
        if Request.FromString(call_.body).renewer == "hang-up":
            writer.close()
        else:
            writer.write(answer_with_renewer(call_))

    server = await start(hang_up_first)
    connection = connect(server)
    with pytest.raises(ConnectionError, match="closed the connection"):
        await call(connection, "hang-up")
    assert await call(connection, "fine") == "fine"
    assert server.connections == 2
    await connection.aclose()


async def test_call_timeout_leaves_the_connection_usable(start) -> None:  # type: ignore[no-untyped-def]
    async def ignore_slow(call_: CallReceived, writer: asyncio.StreamWriter) -> None:
        if Request.FromString(call_.body).renewer != "slow":
            writer.write(answer_with_renewer(call_))

    server = await start(ignore_slow)
    connection = connect(server)
    with pytest.raises(
        TimeoutError, match=r"getDelegationToken on 127\.0\.0\.1:\d+ did not answer within 0\.2 s"
    ):
        await call(connection, "slow", timeout=0.2)
    assert await call(connection, "fast") == "fast"
    assert server.connections == 1
    await connection.aclose()


async def test_pings_while_waiting_for_a_long_call(start) -> None:  # type: ignore[no-untyped-def]
    async def slow(call_: CallReceived, writer: asyncio.StreamWriter) -> None:
        async def later() -> None:
            await asyncio.sleep(0.5)
            writer.write(answer_with_renewer(call_))

        asyncio.get_running_loop().create_task(later())

    server = await start(slow)
    connection = connect(server, ping_interval=0.1)
    assert await call(connection, "x") == "x"
    assert sum(isinstance(m, PingReceived) for m in server.received) >= 2
    await connection.aclose()


async def test_refused_connection_names_the_address() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free once the socket closes
    connection = RpcConnection("127.0.0.1", port, PROTOCOL, user=UserInfo("a"))
    with pytest.raises(ConnectionError, match=f"cannot connect to 127.0.0.1:{port}"):
        await call(connection, "x")


async def test_token_authentication(start) -> None:  # type: ignore[no-untyped-def]
    token = TokenCredential(b"id\x00\x01", b"pw\xff")
    digest = DigestMD5Server(
        base64.b64encode(token.identifier).decode(), base64.b64encode(token.password).decode()
    )
    server = await start(echo, token_server=digest)
    connection = connect(server, user=None, token=token)
    assert await call(connection, "t") == "t"
    context = next(m for m in server.received if isinstance(m, ContextReceived))
    assert not context.context.HasField("userInfo")  # the token defines the user
    await connection.aclose()

    forged = connect(server, user=None, token=TokenCredential(token.identifier, b"wrong"))
    with pytest.raises(AuthenticationError, match="refused authentication: DIGEST-MD5: bad"):
        await call(forged, "t")


async def test_failover_skips_standby_and_remembers_the_active(start) -> None:  # type: ignore[no-untyped-def]
    async def standby(call_: CallReceived, writer: asyncio.StreamWriter) -> None:
        writer.write(
            ServerConnection.error(call_.call_id, "org.apache.hadoop.ipc.StandbyException", "no")
        )

    first = await start(standby)
    second = await start(echo)
    channel = FailoverChannel([connect(first), connect(second)], timeout=5)
    assert (await channel.call("m", Request(renewer="a"), Response)).token.kind == "a"
    assert (await channel.call("m", Request(renewer="b"), Response)).token.kind == "b"
    standby_calls = [m for m in first.received if isinstance(m, CallReceived)]
    assert len(standby_calls) == 1  # the second call went straight to the active one
    await channel.aclose()


async def test_failover_gives_up_naming_every_address() -> None:
    ports = []
    for _ in range(2):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    channel = FailoverChannel(
        [RpcConnection("127.0.0.1", p, PROTOCOL, user=UserInfo("a")) for p in ports], timeout=0.5
    )
    with pytest.raises(ConnectionError) as info:
        await channel.call("m", Request(), Response)
    for port in ports:
        assert f"127.0.0.1:{port}" in str(info.value)
    assert "within 0.5 s" in str(info.value)


async def test_failover_retries_a_retriable_exception_on_the_same_server(start) -> None:  # type: ignore[no-untyped-def]
    calls = 0

    async def busy_once(call_: CallReceived, writer: asyncio.StreamWriter) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            writer.write(
                ServerConnection.error(
                    call_.call_id, "org.apache.hadoop.ipc.RetriableException", "busy"
                )
            )
        else:
            writer.write(answer_with_renewer(call_))

    other = await start(echo)
    busy = await start(busy_once)
    channel = FailoverChannel([connect(busy), connect(other)], timeout=5)
    assert (await channel.call("m", Request(renewer="z"), Response)).token.kind == "z"
    assert calls == 2
    assert not [m for m in other.received if isinstance(m, CallReceived)]
    await channel.aclose()
