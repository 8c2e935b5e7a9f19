"""The master end: a grpclib server over mutual TLS, with a message size limit and graceful close.

:func:`start_server` serves a list of grpclib handlers (e.g. an
``AppMasterBase`` subclass) on a TCP port, requiring every client to present
the application's certificate (see :mod:`skein.api.tls`).

Closing is graceful: :meth:`RpcServer.close` first answers new calls with
``UNAVAILABLE`` (clients see :class:`skein.errors.ConnectionError`) and lets
unary calls in progress finish, for at most a grace period, so a ``Shutdown``
call gets its reply; then it closes every connection, which ends streams such
as ``Watch``.
"""

from __future__ import annotations

import asyncio
import socket
import weakref
from collections.abc import Collection, Mapping
from types import TracebackType
from typing import Any, Final, Protocol, final

from google.protobuf.message import DecodeError
from grpclib.const import Cardinality, Handler, Status
from grpclib.encoding.proto import ProtoCodec
from grpclib.exceptions import GRPCError
from grpclib.protocol import H2Protocol
from grpclib.server import Server
from grpclib.server import Stream as ServerStream

from skein.api.coalescing import coalescing
from skein.api.tls import server_ssl_context
from skein.spec.security import Security

__all__ = ["DEFAULT_CLOSE_GRACE", "MAX_MESSAGE_SIZE", "RpcServer", "Servable", "start_server"]

#: Largest request message the server accepts, in bytes: 4 MiB, gRPC's default
#: receive limit (Skein 0.8's Java server used it too). A key-value value is at
#: most 1 MiB and a key 8 KiB, so this leaves room for a transaction carrying
#: several puts. Larger requests fail with ``RESOURCE_EXHAUSTED``.
MAX_MESSAGE_SIZE: Final = 4 * 1024 * 1024

#: Seconds :meth:`RpcServer.close` waits for unary calls in progress.
DEFAULT_CLOSE_GRACE: Final = 5.0


class Servable(Protocol):
    """What :func:`start_server` serves: anything with grpclib's ``__mapping__``.

    Subclasses of generated ``...Base`` classes (``AppMasterBase``) are servable.
    """

    def __mapping__(self) -> Mapping[str, Handler]: ...


@final
class _Mapped:
    def __init__(self, mapping: Mapping[str, Handler]) -> None:
        self._mapping = mapping

    def __mapping__(self) -> Mapping[str, Handler]:
        return self._mapping


class _BoundedCodec(ProtoCodec):
    """Protobuf encoding that refuses oversized and undecodable request messages.

    grpclib has no receive limit of its own; this one is checked once the
    message has arrived but before it is parsed. Peers are authenticated, so
    it guards against mistakes rather than attacks. Bytes that do not parse as
    the request's type are the caller's fault: ``INVALID_ARGUMENT`` naming the
    type, where grpclib alone would answer ``UNKNOWN``.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit

    def decode(self, data: bytes, message_type: Any) -> Any:
        if len(data) > self._limit:
            raise GRPCError(
                Status.RESOURCE_EXHAUSTED,
                f"message of {len(data)} bytes is larger than the limit of {self._limit} bytes",
            )
        try:
            return super().decode(data, message_type)
        except DecodeError as exc:
            name = message_type.DESCRIPTOR.full_name
            raise GRPCError(
                Status.INVALID_ARGUMENT, f"malformed {name} ({len(data)} bytes): {exc}"
            ) from exc


class _CoalescingH2Protocol(H2Protocol):
    """grpclib's connection protocol, writing through a :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(coalescing(transport))


class _ClosingServer(Server):
    """grpclib's server, also able to close its open connections.

    grpclib's ``close`` cancels running calls but leaves connections open, so
    clients would wait for answers that never come (and, since Python 3.12,
    ``wait_closed`` would wait for those connections). This overrides the
    private ``_protocol_factory`` (stable since grpclib 0.3; the transport
    tests would catch a change) to keep track of connections.
    """

    def __init__(self, handlers: Collection[Servable], codec: ProtoCodec) -> None:
        super().__init__(handlers, codec=codec)
        self._protocols: weakref.WeakSet[H2Protocol] = weakref.WeakSet()

    def _protocol_factory(self) -> H2Protocol:
        protocol = super()._protocol_factory()
        # Same object, one method more (connection_made); grpclib builds the
        # protocol from private state, so it is not rebuilt here.
        protocol.__class__ = _CoalescingH2Protocol
        self._protocols.add(protocol)
        return protocol

    def disconnect(self) -> None:
        """Close every client connection, ending the streams (Watch) still open."""
        for protocol in list(self._protocols):
            if getattr(protocol, "processor", None) is not None:  # else: still in TLS handshake
                # No GOAWAY first: grpclib clients fail every call on a GOAWAY,
                # even one whose reply arrived in the same read. A plain close
                # reaches them after the replies already sent.
                protocol.processor.close("the application master is shutting down")


class _Gate:
    """Counts unary calls in progress, and turns new calls away once closing."""

    def __init__(self) -> None:
        self.closing = False
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def wrap(self, servable: Servable) -> Servable:
        return _Mapped(
            {
                name: handler._replace(func=self._guard(handler.func, handler.cardinality))
                for name, handler in servable.__mapping__().items()
            }
        )

    def _guard(self, func: Any, cardinality: Cardinality) -> Any:
        unary = cardinality is Cardinality.UNARY_UNARY

        async def guarded(stream: ServerStream[Any, Any]) -> None:
            if self.closing:
                raise GRPCError(Status.UNAVAILABLE, "the application master is shutting down")
            if unary:
                # A call is done when grpclib's task for it is: after the method,
                # once the reply's trailers are sent.
                task = asyncio.current_task()
                assert task is not None
                self._running += 1
                self._idle.clear()
                task.add_done_callback(self._call_done)
            await func(stream)

        return guarded

    def _call_done(self, task: asyncio.Task[Any]) -> None:
        self._running -= 1
        if not self._running:
            self._idle.set()

    async def drain(self, grace: float) -> None:
        self.closing = True
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except asyncio.TimeoutError:
            pass  # the calls still running are cancelled by the close that follows


@final
class RpcServer:
    """A running gRPC server; close it with :meth:`close` or ``async with``.

    Attributes:
        port: the TCP port it listens on.
    """

    def __init__(self, server: _ClosingServer, gate: _Gate, port: int) -> None:
        self._server = server
        self._gate = gate
        self._closed = False
        self.port = port

    async def close(self, grace: float = DEFAULT_CLOSE_GRACE) -> None:
        """Stop serving: refuse new calls, let unary calls finish (up to ``grace`` s), disconnect.

        Calling it again does nothing.
        """
        if self._closed:
            return
        self._closed = True
        await self._gate.drain(grace)
        self._server.close()
        self._server.disconnect()
        await self._server.wait_closed()

    async def __aenter__(self) -> RpcServer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"RpcServer(port={self.port})"


async def start_server(
    handlers: Collection[Servable],
    security: Security,
    *,
    host: str | None = None,
    port: int = 0,
    max_message_size: int = MAX_MESSAGE_SIZE,
) -> RpcServer:
    """Serve ``handlers`` over mutual TLS on ``host:port``.

    Args:
        handlers: grpclib servables, e.g. instances of ``AppMasterBase`` subclasses.
        security: the application's credentials; clients must present the same.
        host: the interface to listen on; ``None`` for all of them.
        port: the TCP port; 0 picks a free one (read it from :attr:`RpcServer.port`).
        max_message_size: the largest request message accepted, in bytes.

    Returns:
        The running server.

    Raises:
        OSError: the port cannot be bound.
        ssl.SSLError: the credentials are not a valid certificate and key.

    Example:
        >>> async def serve(servicer: AppMasterBase, security: Security) -> None:  # doctest: +SKIP
        ...     async with await start_server([servicer], security) as server:
        ...         print("listening on", server.port)
        ...         await stopped.wait()
    """
    context = server_ssl_context(security)
    gate = _Gate()
    server = _ClosingServer(
        [gate.wrap(handler) for handler in handlers], _BoundedCodec(max_message_size)
    )
    listener = await _listen(host, port)
    try:
        await server.start(sock=listener, ssl=context)
    except BaseException:
        listener.close()
        raise
    return RpcServer(server, gate, listener.getsockname()[1])


def _tcp_listener(
    address: tuple[Any, ...], family: socket.AddressFamily, *, dualstack: bool = False
) -> socket.socket:
    # Made by hand with proto=IPPROTO_TCP (socket.create_server leaves it 0):
    # asyncio sets TCP_NODELAY only on sockets that say they are TCP, and the
    # accepted ones inherit it. Without it, Nagle's algorithm meets the peer's
    # delayed ACKs and every reply waits about 40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if dualstack else 1)
        sock.bind(address)
        sock.listen()
    except BaseException:
        sock.close()
        raise
    return sock


async def _listen(host: str | None, port: int) -> socket.socket:
    # One socket, bound here rather than by asyncio: given all interfaces (or a
    # name with several addresses) and port 0, asyncio binds one socket per
    # address, each on a different ephemeral port, and YARN can record only one.
    if host is None:
        if socket.has_dualstack_ipv6():
            try:
                return _tcp_listener(("::", port), socket.AF_INET6, dualstack=True)
            except OSError:
                pass  # IPv6 present in the kernel but disabled: IPv4 only
        return _tcp_listener(("0.0.0.0", port), socket.AF_INET)
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, address = infos[0]
    return _tcp_listener(address, family)
