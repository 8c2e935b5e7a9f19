"""The gRPC transport over real sockets on 127.0.0.1: mutual TLS, timeouts and error mapping."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from grpclib.client import Channel, StreamUnaryMethod, UnaryUnaryMethod
from grpclib.const import Cardinality, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Stream

from skein._proto.api import skein_pb2 as pb
from skein._proto.api.skein_grpc import AppMasterBase
from skein.api import channel as channel_module
from skein.api.channel import MasterChannel, open_channel, split_address
from skein.api.http2_server import MAX_CONCURRENT_STREAMS
from skein.api.server import RpcServer, start_server
from skein.api.status import rpc_errors
from skein.api.tls import (
    SERVER_NAME,
    client_ssl_context,
    localized_security,
    server_ssl_context,
)
from skein.errors import ApplicationError, ConnectionError, FileNotFoundError, TimeoutError
from skein.spec.security import Security

# Refusals must be prompt: well under this, which is far below any timeout used.
PROMPT = 5.0
LARGE_REPLY = 6 * 1024 * 1024


class Servicer(AppMasterBase):
    """SetProgress works; a few methods fail in set ways; the rest are UNIMPLEMENTED."""

    def __init__(self) -> None:
        self.progress: list[float] = []
        self.release = asyncio.Event()
        self.abandoned = asyncio.Event()

    async def SetProgress(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        assert request is not None
        self.progress.append(request.progress)
        await stream.send_message(pb.Empty())

    async def Shutdown(self, stream: Stream[Any, Any]) -> None:
        # Answers only once released: a slow call.
        await stream.recv_message()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.abandoned.set()
            raise
        await stream.send_message(pb.Empty())

    async def GetRange(self, stream: Stream[Any, Any]) -> None:
        raise GRPCError(Status.NOT_FOUND, "no such key")

    async def KillContainer(self, stream: Stream[Any, Any]) -> None:
        raise GRPCError(Status.FAILED_PRECONDITION, "not running")

    async def DeleteRange(self, stream: Stream[Any, Any]) -> None:
        raise RuntimeError("a bug in the servicer")

    async def PutKey(self, stream: Stream[Any, Any]) -> None:
        await stream.recv_message()
        await stream.send_message(pb.PutKeyResponse())

    async def Watch(self, stream: Stream[Any, Any]) -> None:
        # Acknowledges each watch after a pause, and never ends by itself.
        async for request in stream:
            await asyncio.sleep(0.4)
            await stream.send_message(pb.WatchResponse(watch_id=1, created=True))
            del request

    async def GetSpecification(self, stream: Stream[Any, Any]) -> None:
        # A reply larger than the 4 MiB a client's stream window holds.
        await stream.recv_message()
        await stream.send_message(pb.ApplicationSpecification(json="s" * LARGE_REPLY))

    async def _unimplemented(self, stream: Stream[Any, Any]) -> None:
        raise GRPCError(Status.UNIMPLEMENTED)

    GetContainers = Scale = AddContainer = Transaction = _unimplemented


@pytest.fixture(scope="module")
def security() -> Security:
    return Security.new_credentials()


@pytest.fixture(scope="module")
def other() -> Security:
    return Security.new_credentials()


@pytest.fixture
def servicer() -> Servicer:
    return Servicer()


@pytest.fixture
async def server(servicer: Servicer, security: Security) -> AsyncIterator[RpcServer]:
    async with await start_server([servicer], security, host="127.0.0.1") as running:
        yield running


def address(server: RpcServer) -> str:
    return f"127.0.0.1:{server.port}"


@contextlib.contextmanager
def prompt() -> Iterator[None]:
    started = time.monotonic()
    yield
    assert time.monotonic() - started < PROMPT


def hand_made_client_context(tmp_path: Path, trust: Security, identity: Security | None) -> Any:
    """A client context that trusts ``trust`` but presents ``identity`` (or no certificate)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=trust.cert_pem().decode())
    context.set_alpn_protocols(["h2"])
    if identity is not None:
        (tmp_path / "c.pem").write_bytes(identity.cert_pem())
        (tmp_path / "k.pem").write_bytes(identity.key_pem())
        context.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    return context


async def test_a_call_with_the_right_credentials_succeeds(
    server: RpcServer, servicer: Servicer, security: Security
) -> None:
    channel = await open_channel(address(server), security)
    async with channel, rpc_errors(channel.address):
        await channel.stub.SetProgress(pb.SetProgressRequest(progress=0.5))
        await channel.stub.SetProgress(pb.SetProgressRequest(progress=0.75))
    assert servicer.progress == [0.5, 0.75]


async def test_accepted_connections_send_small_replies_at_once(
    server: RpcServer, security: Security
) -> None:
    # Without TCP_NODELAY, Nagle's algorithm holds each small reply until the
    # client's delayed ACK: about 40 ms per call.
    channel = await open_channel(address(server), security)
    async with channel:
        await channel.stub.SetProgress(pb.SetProgressRequest(progress=0.5))
        connections = list(server._server.connections)
        assert connections
        for connection in connections:
            assert connection._transport is not None
            sock = connection._transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


async def test_the_server_listens_on_all_interfaces_by_default(
    servicer: Servicer, security: Security
) -> None:
    async with await start_server([servicer], security) as running:
        assert running.port > 0
        async with await open_channel(f"localhost:{running.port}", security) as channel:
            await channel.stub.SetProgress(pb.SetProgressRequest(progress=1.0))
    assert servicer.progress == [1.0]


async def test_the_client_refuses_a_master_with_other_credentials(
    servicer: Servicer, security: Security, other: Security
) -> None:
    async with await start_server([servicer], other, host="127.0.0.1") as running:
        with prompt(), pytest.raises(ConnectionError, match="TLS handshake failed") as info:
            await open_channel(address(running), security, connect_timeout=30)
    assert address(running) in str(info.value)
    assert "wrong credentials?" in str(info.value)
    assert isinstance(info.value.__cause__, ssl.SSLError)


async def test_the_master_refuses_a_client_with_other_credentials(
    server: RpcServer, security: Security, other: Security, tmp_path: Path
) -> None:
    # The client accepts the master; only the master can refuse.
    context = hand_made_client_context(tmp_path, trust=security, identity=other)
    channel = MasterChannel(address(server), context, connect_timeout=30)
    with prompt(), pytest.raises(ConnectionError, match="TLS handshake failed"):
        await channel.connect()
    channel.close()


async def test_the_master_refuses_a_client_without_a_certificate(
    server: RpcServer, security: Security, tmp_path: Path
) -> None:
    context = hand_made_client_context(tmp_path, trust=security, identity=None)
    channel = MasterChannel(address(server), context, connect_timeout=30)
    with prompt(), pytest.raises(ConnectionError, match="TLS handshake failed"):
        await channel.connect()
    channel.close()


async def test_a_call_through_a_refused_channel_also_raises_connection_error(
    server: RpcServer, security: Security, other: Security
) -> None:
    # Not connected first: the connection is made by the call itself.
    channel = MasterChannel(address(server), client_ssl_context(other), connect_timeout=30)
    with prompt(), pytest.raises(ConnectionError, match="TLS handshake failed"):
        async with rpc_errors(channel.address):
            await channel.stub.SetProgress(pb.SetProgressRequest(progress=0.5))
    channel.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_dead_port_is_a_connection_error(security: Security) -> None:
    dead = f"127.0.0.1:{free_port()}"
    with prompt(), pytest.raises(ConnectionError, match="Unable to connect") as info:
        await open_channel(dead, security)
    assert dead in str(info.value)
    assert not isinstance(info.value, TimeoutError)


async def test_a_server_that_never_speaks_times_out(security: Security) -> None:
    # A listening socket nobody accepts from: the kernel completes the TCP
    # handshake, and then nothing answers the TLS ClientHello.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(TimeoutError) as info:
            await open_channel(
                f"127.0.0.1:{silent.getsockname()[1]}", security, connect_timeout=0.5
            )
        assert 0.4 < time.monotonic() - started < PROMPT
    assert f"127.0.0.1:{port}" in str(info.value)


async def test_a_server_that_completes_tls_but_never_speaks_http2_times_out(
    security: Security,
) -> None:
    loop = asyncio.get_running_loop()
    silent = await loop.create_server(
        asyncio.Protocol, "127.0.0.1", 0, ssl=server_ssl_context(security)
    )
    try:
        port = silent.sockets[0].getsockname()[1]
        with prompt(), pytest.raises(TimeoutError):
            await open_channel(f"127.0.0.1:{port}", security, connect_timeout=0.5)
    finally:
        silent.close()
        await silent.wait_closed()


@pytest.mark.parametrize(
    ("call", "expected", "text"),
    [
        ("GetRange", KeyError, "no such key"),
        ("KillContainer", ValueError, "not running"),
        ("DeleteRange", ApplicationError, "Internal Server Error"),
        ("GetContainers", ApplicationError, "UNIMPLEMENTED"),
    ],
)
async def test_error_statuses_map_end_to_end(
    server: RpcServer, security: Security, call: str, expected: type, text: str
) -> None:
    requests = {
        "GetRange": pb.GetRangeRequest(start="a"),
        "KillContainer": pb.ContainerInstance(service_name="web", instance=0),
        "DeleteRange": pb.DeleteRangeRequest(),
        "GetContainers": pb.GetContainersRequest(),
    }
    async with await open_channel(address(server), security) as channel:
        with pytest.raises(expected, match=text) as info:
            async with rpc_errors(channel.address):
                await getattr(channel.stub, call)(requests[call])
    assert isinstance(info.value.__cause__, GRPCError)


async def test_a_slow_call_times_out_with_the_default_deadline(
    server: RpcServer, security: Security
) -> None:
    async with await open_channel(address(server), security, call_timeout=0.3) as channel:
        with prompt(), pytest.raises(TimeoutError, match=address(server)):
            async with rpc_errors(channel.address):
                await channel.stub.Shutdown(pb.ShutdownRequest())
        # A call's own timeout wins over the default.
        with pytest.raises(TimeoutError):
            async with rpc_errors(channel.address):
                await channel.stub.Shutdown(pb.ShutdownRequest(), timeout=0.05)


async def test_a_call_its_client_gave_up_on_is_cancelled_on_the_master(
    server: RpcServer, servicer: Servicer, security: Security
) -> None:
    async with await open_channel(address(server), security) as channel:
        with pytest.raises(TimeoutError):
            async with rpc_errors(channel.address):
                await channel.stub.Shutdown(pb.ShutdownRequest(), timeout=0.1)
        await asyncio.wait_for(servicer.abandoned.wait(), PROMPT)
        # The connection serves on.
        await channel.stub.SetProgress(pb.SetProgressRequest(progress=0.25))
    assert servicer.progress == [0.25]


async def test_an_unknown_method_is_unimplemented(server: RpcServer, security: Security) -> None:
    async with await open_channel(address(server), security) as channel:
        method = UnaryUnaryMethod(
            cast(Channel, channel), "/skein.v1.AppMaster/NoSuchMethod", pb.Empty, pb.Empty
        )
        with pytest.raises(GRPCError) as info:
            await method(pb.Empty())
    assert info.value.status is Status.UNIMPLEMENTED
    assert info.value.message == "Method not found"


async def test_a_unary_call_with_two_requests_fails(server: RpcServer, security: Security) -> None:
    async with await open_channel(address(server), security) as channel:
        # grpclib's unary methods send one message: call SetProgress as a client stream.
        method = StreamUnaryMethod(
            cast(Channel, channel),
            "/skein.v1.AppMaster/SetProgress",
            pb.SetProgressRequest,
            pb.Empty,
        )

        async def two_requests() -> None:
            async with method.open() as stream:
                await stream.send_message(pb.SetProgressRequest(progress=0.1))
                await stream.send_message(pb.SetProgressRequest(progress=0.5), end=True)
                await stream.recv_message()

        with pytest.raises(GRPCError) as info:
            await two_requests()
        assert info.value.status is Status.INTERNAL
        assert info.value.message == "a unary call sent more than one request message"
        # The connection serves on.
        await channel.stub.SetProgress(pb.SetProgressRequest(progress=0.3))


async def test_oversized_requests_are_refused(servicer: Servicer, security: Security) -> None:
    async with (
        await start_server(
            [servicer], security, host="127.0.0.1", max_message_size=1024
        ) as running,
        await open_channel(address(running), security) as channel,
    ):
        await channel.stub.PutKey(pb.PutKeyRequest(key="k", value=b"x" * 1000))
        with pytest.raises(ApplicationError, match="larger than the limit of 1024 bytes"):
            async with rpc_errors(channel.address):
                await channel.stub.PutKey(pb.PutKeyRequest(key="k", value=b"x" * 2000))


async def test_a_request_beyond_the_masters_window_fails_instead_of_waiting(
    servicer: Servicer, security: Security
) -> None:
    # The master's stream window holds one largest request and 64 KiB more: the
    # rest of this one waits for window the master never gives, as it refused
    # the call from the length prefix.
    async with (
        await start_server(
            [servicer], security, host="127.0.0.1", max_message_size=1024
        ) as running,
        await open_channel(address(running), security) as channel,
    ):
        big = pb.PutKeyRequest(key="k", value=b"x" * 300_000)
        with pytest.raises(ApplicationError, match="larger than the limit"):
            async with rpc_errors(channel.address):
                await asyncio.wait_for(channel.stub.PutKey(big), PROMPT)
        await channel.stub.SetProgress(pb.SetProgressRequest(progress=0.5))


async def test_a_reply_larger_than_the_clients_stream_window_arrives(
    server: RpcServer, security: Security
) -> None:
    async with await open_channel(address(server), security) as channel:
        with prompt():
            replies = await asyncio.gather(
                *(channel.stub.GetSpecification(pb.Empty()) for _ in range(3))
            )
    assert [len(reply.json) for reply in replies] == [LARGE_REPLY] * 3


async def test_calls_beyond_the_masters_stream_limit_wait_for_room(
    servicer: Servicer, server: RpcServer, security: Security
) -> None:
    async with await open_channel(address(server), security) as channel:
        slow = [
            asyncio.ensure_future(channel.stub.Shutdown(pb.ShutdownRequest()))
            for _ in range(MAX_CONCURRENT_STREAMS)
        ]
        connection = channel._connection
        assert connection is not None
        # Nothing signals a call's start: poll the connection.
        while len(connection._calls) < MAX_CONCURRENT_STREAMS:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        # No room: one waiter runs out of time, another waits on.
        quitter = asyncio.ensure_future(
            channel.stub.SetProgress(pb.SetProgressRequest(progress=0.25), timeout=0.2)
        )
        waiter = asyncio.ensure_future(
            channel.stub.SetProgress(pb.SetProgressRequest(progress=0.5))
        )
        with pytest.raises(TimeoutError):
            async with rpc_errors(channel.address):
                await quitter
        assert not waiter.done()
        servicer.release.set()
        with prompt():
            await asyncio.gather(*slow)
            await waiter
    assert servicer.progress == [0.5]


async def test_room_freed_as_a_waiter_leaves_goes_to_the_next_waiter(
    server: RpcServer, security: Security
) -> None:
    async with (
        await open_channel(address(server), security) as channel,
        contextlib.AsyncExitStack() as stack,
    ):
        watches = []
        for _ in range(MAX_CONCURRENT_STREAMS):
            watch = await stack.enter_async_context(channel.stub.Watch.open())
            await watch.send_request()
            watches.append(watch)
        first = asyncio.ensure_future(channel.stub.SetProgress(pb.SetProgressRequest()))
        second = asyncio.ensure_future(channel.stub.SetProgress(pb.SetProgressRequest()))
        await asyncio.sleep(0.1)
        assert not first.done()
        assert not second.done()
        # One stream ends and the first waiter leaves in the same loop turn.
        await watches[0].cancel()
        first.cancel()
        with prompt():
            await asyncio.wait_for(second, PROMPT)


async def test_closing_a_channel_fails_the_calls_waiting_for_it(security: Security) -> None:
    with socket.socket() as silent:  # TCP is accepted, TLS never answered
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        channel = MasterChannel(
            f"127.0.0.1:{silent.getsockname()[1]}", client_ssl_context(security)
        )
        waiting = asyncio.ensure_future(channel.stub.SetProgress(pb.SetProgressRequest()))
        await asyncio.sleep(0.1)
        channel.close()
        with prompt(), pytest.raises(ConnectionError, match="is closed"):
            async with rpc_errors(channel.address):
                await waiting
        assert not waiting.cancelled()
        # A closed channel stays closed rather than connecting again.
        with pytest.raises(ConnectionError, match="is closed"):
            async with rpc_errors(channel.address):
                await channel.stub.SetProgress(pb.SetProgressRequest())


class Garbage:
    """A "message" whose bytes are not protobuf: what a broken or foreign client sends."""

    def __init__(self, data: bytes = b"\xff\xff\xff\xff") -> None:
        self.data = data

    def SerializeToString(self) -> bytes:
        return self.data

    @classmethod
    def FromString(cls, data: bytes) -> Garbage:
        return cls(data)


async def send_garbage(channel: MasterChannel, method: str) -> None:
    """Calls ``method`` of ``skein.v1.AppMaster`` with bytes that do not parse."""
    call = channel.stub.SetProgress.channel.request(
        f"/skein.v1.AppMaster/{method}", Cardinality.UNARY_UNARY, Garbage, Garbage
    )
    async with call as stream:
        await stream.send_message(Garbage(), end=True)
        await stream.recv_message()


async def test_undecodable_requests_are_invalid_argument_and_the_master_keeps_serving(
    servicer: Servicer, server: RpcServer, security: Security
) -> None:
    async with await open_channel(address(server), security) as channel:
        with pytest.raises(GRPCError) as info:
            await send_garbage(channel, "SetProgress")
        assert info.value.status is Status.INVALID_ARGUMENT
        assert info.value.message is not None
        assert info.value.message.startswith("malformed skein.v1.SetProgressRequest (4 bytes): ")
        # Skein's clients see a ValueError with that message.
        with pytest.raises(ValueError, match=r"^malformed skein\.v1\.SetProgressRequest"):
            async with rpc_errors(channel.address):
                await send_garbage(channel, "SetProgress")
        await channel.stub.SetProgress(pb.SetProgressRequest(progress=0.5))
    assert servicer.progress == [0.5]


async def test_close_lets_calls_in_progress_finish_and_refuses_new_ones(
    servicer: Servicer, security: Security
) -> None:
    running = await start_server([servicer], security, host="127.0.0.1")
    async with await open_channel(address(running), security) as channel:
        slow = asyncio.ensure_future(channel.stub.Shutdown(pb.ShutdownRequest()))
        await asyncio.sleep(0.1)  # the call reaches the servicer
        closing = asyncio.ensure_future(running.close(grace=PROMPT))
        await asyncio.sleep(0.1)
        with pytest.raises(ConnectionError, match="Unable to connect to application"):
            async with rpc_errors(channel.address):
                await channel.stub.SetProgress(pb.SetProgressRequest(progress=0.5))
        assert not closing.done()
        servicer.release.set()
        assert await slow == pb.Empty()
        await asyncio.wait_for(closing, PROMPT)
    await running.close()  # again: nothing happens


async def test_close_cancels_calls_that_outlast_the_grace_period(
    servicer: Servicer, security: Security
) -> None:
    running = await start_server([servicer], security, host="127.0.0.1")
    async with await open_channel(address(running), security) as channel:
        slow = asyncio.ensure_future(channel.stub.Shutdown(pb.ShutdownRequest()))
        await asyncio.sleep(0.1)
        with prompt():
            await running.close(grace=0.2)
        with pytest.raises(ConnectionError):
            async with rpc_errors(channel.address):
                await slow


async def test_streams_have_no_default_deadline_and_end_when_the_master_closes(
    servicer: Servicer, security: Security
) -> None:
    running = await start_server([servicer], security, host="127.0.0.1")
    channel = await open_channel(address(running), security, call_timeout=0.1)
    async with channel, channel.stub.Watch.open() as watch:
        await watch.send_message(pb.WatchRequest(create=pb.WatchCreateRequest(start="a")))
        # Answered after 0.4 s, beyond the unary default of 0.1 s.
        assert (await watch.recv_message()) == pb.WatchResponse(watch_id=1, created=True)
        with prompt():
            await running.close(grace=PROMPT)  # does not wait for the stream
        with pytest.raises(ConnectionError, match="lost"):
            async with rpc_errors(channel.address):
                await watch.recv_message()


def test_addresses_split_into_host_and_port() -> None:
    assert split_address("node1:8765") == ("node1", 8765)
    assert split_address("[fe80::1]:1") == ("fe80::1", 1)
    for bad in ("node1", "node1:", ":80", "node1:http", "node1:70000"):
        with pytest.raises(ValueError, match="host:port"):
            split_address(bad)


def test_tls_contexts_are_mutual_and_cached(security: Security, other: Security) -> None:
    server_context = server_ssl_context(security)
    client_context = client_ssl_context(security)
    assert server_context.verify_mode == ssl.CERT_REQUIRED
    assert client_context.verify_mode == ssl.CERT_REQUIRED
    assert client_context.check_hostname
    assert client_context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert server_ssl_context(security) is server_context
    assert client_ssl_context(other) is not client_context
    assert SERVER_NAME == "skein-internal"


def test_tls_contexts_load_credentials_from_files(security: Security, tmp_path: Path) -> None:
    stored = security.to_directory(tmp_path / "creds")
    assert client_ssl_context(stored).verify_mode == ssl.CERT_REQUIRED


def test_building_a_context_leaves_no_key_copy_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    server_ssl_context(Security.new_credentials())
    assert list(tmp_path.iterdir()) == []


async def test_a_master_serves_with_the_credentials_yarn_localized(
    servicer: Servicer, security: Security, tmp_path: Path
) -> None:
    # What a container's working directory holds after localization.
    (tmp_path / ".skein.crt").write_bytes(security.cert_pem())
    (tmp_path / ".skein.pem").write_bytes(security.key_pem())
    localized = localized_security(tmp_path)
    assert localized.cert_file == str(tmp_path / ".skein.crt")
    async with await start_server([servicer], localized, host="127.0.0.1") as running:
        channel = await open_channel(address(running), security)
        async with channel:
            await channel.stub.SetProgress(pb.SetProgressRequest(progress=0.5))
    assert servicer.progress == [0.5]


def test_localized_credentials_must_be_there(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"\.skein\.crt"):
        localized_security(tmp_path)


class FreezableProxy:
    """Forwards TCP between a client and the master until frozen, then drops every byte."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.frozen = False
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if not self.frozen:
                    writer.write(data)
        writer.close()

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()


async def test_keepalive_ends_a_stream_to_a_master_that_stopped_answering(
    servicer: Servicer, security: Security, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(channel_module, "_KEEPALIVE_TIME", 0.2)
    monkeypatch.setattr(channel_module, "_KEEPALIVE_TIMEOUT", 0.3)
    monkeypatch.setattr(channel_module, "_SSL_SHUTDOWN_TIMEOUT", 0.5)
    async with await start_server([servicer], security, host="127.0.0.1") as running:
        proxy = FreezableProxy(running.port)
        port = await proxy.start()
        channel = await open_channel(f"127.0.0.1:{port}", security)
        async with channel, channel.stub.Watch.open() as watch:
            await watch.send_message(pb.WatchRequest(create=pb.WatchCreateRequest(start="a")))
            assert (await watch.recv_message()) == pb.WatchResponse(watch_id=1, created=True)
            await asyncio.sleep(0.5)  # pings answered: the stream stays up
            proxy.frozen = True
            with prompt(), pytest.raises(ConnectionError, match="lost"):
                async with rpc_errors(channel.address):
                    await watch.recv_message()
        await proxy.close()
