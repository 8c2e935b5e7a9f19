"""The master end: a gRPC server over mutual TLS, with a message size limit and graceful close.

:func:`start_server` serves a list of grpclib handlers (e.g. an
``AppMasterBase`` subclass) on a TCP port, requiring every client to present
the application's certificate (see :mod:`skein.api.tls`). HTTP/2 is
:mod:`skein.api.http2_server`, which does no I/O; this module drives it on asyncio:
one :class:`_Connection` per client, one task per call, running the
servicer's method with a ``stream`` that offers grpclib's ``recv_message``,
``send_message`` and ``async for``. A method raises grpclib's ``GRPCError``
to fail its call; any other exception is logged and the call fails with
``UNKNOWN``.

Closing is graceful: :meth:`RpcServer.close` first answers new calls with
``UNAVAILABLE`` (clients see :class:`skein.errors.ConnectionError`) and lets
unary calls in progress finish, for at most a grace period, so a ``Shutdown``
call gets its reply; then it closes every connection, which ends streams such
as ``Watch``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import deque
from collections.abc import Collection, Mapping
from types import TracebackType
from typing import Any, Final, Protocol, final

from google.protobuf.message import DecodeError
from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Stream as ServerStream

from skein.api.http2_driver import Http2Protocol
from skein.api.http2_server import (
    CallStarted,
    MessageReceived,
    MessageRefused,
    RequestEnded,
    ServerConnection,
    StreamReset,
)
from skein.api.tls import server_ssl_context
from skein.spec.security import Security

__all__ = ["DEFAULT_CLOSE_GRACE", "MAX_MESSAGE_SIZE", "RpcServer", "Servable", "start_server"]

log = logging.getLogger(__name__)

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


class _StreamClosed(Exception):
    """The client reset the stream, or the connection is gone: nobody awaits the reply."""


class _Call:
    """One call on a connection: the ``stream`` a servicer method is given.

    It offers the part of grpclib's server ``Stream`` that servicers use:
    ``recv_message``, ``send_message`` and ``async for``. Request bytes that
    do not parse as the method's request type are the caller's fault:
    ``INVALID_ARGUMENT`` naming the type.
    """

    __slots__ = (
        "_connection",
        "_ended",
        "_messages",
        "_request_type",
        "_waiters",
        "deadline_hit",
        "path",
        "stream_id",
        "task",
        "timer",
    )

    def __init__(
        self, connection: _Connection, stream_id: int, path: str, request_type: Any
    ) -> None:
        self._connection = connection
        self.stream_id = stream_id
        self.path = path
        self._request_type = request_type
        self._messages: deque[bytes] = deque()
        self._ended = False
        self._waiters: list[asyncio.Future[None]] = []
        self.task: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.deadline_hit = False

    async def recv_message(self) -> Any:
        """The next request message, or ``None`` once the client ended its side."""
        while not self._messages:
            if self._ended:
                return None
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        data = self._messages.popleft()
        self._connection.consumed(self.stream_id, len(data) + 5)
        message = self._request_type()
        try:
            message.ParseFromString(data)
        except DecodeError as exc:
            name = self._request_type.DESCRIPTOR.full_name
            raise GRPCError(
                Status.INVALID_ARGUMENT, f"malformed {name} ({len(data)} bytes): {exc}"
            ) from exc
        return message

    async def send_message(self, message: Any) -> None:
        """Send one reply message; waits while the client's window is full."""
        await self._connection.send(self.stream_id, message.SerializeToString())

    def __aiter__(self) -> _Call:
        return self

    async def __anext__(self) -> Any:
        message = await self.recv_message()
        if message is None:
            raise StopAsyncIteration
        return message

    def deliver(self, data: bytes) -> None:
        """A request message arrived (the connection calls this)."""
        self._messages.append(data)
        self._wake()

    @property
    def queued(self) -> int:
        """Request messages received and not yet read."""
        return len(self._messages)

    def end(self) -> None:
        """The client ended its side: ``recv_message`` gives ``None`` once the queue is empty."""
        self._ended = True
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


class _Connection(Http2Protocol[ServerConnection]):
    """One client connection: drives a :class:`ServerConnection` and runs its calls.

    Writes are gathered per loop turn (:class:`~skein.api.http2_driver.Http2Protocol`).
    """

    def __init__(self, server: _Server) -> None:
        super().__init__(ServerConnection(max_message_size=server.max_message_size))
        self._server = server
        self._calls: dict[int, _Call] = {}
        self._handlers: dict[int, Handler] = {}  # calls not started until the request ends
        self._drained: dict[int, list[asyncio.Future[None]]] = {}  # sends waiting for window
        self._writable = asyncio.Event()
        self._writable.set()
        self._lost = False
        self._close_after_flush = False  # a protocol error, or the server closing

    # -- transport events -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if self._server.closing:  # its TLS handshake ended after the server closed
            self._close()
            return
        self._server.connections.add(self)
        self._schedule_flush()

    def data_received(self, data: bytes) -> None:
        h2 = self._h2
        for event in h2.receive_data(data):
            # Ordered by how often each comes.
            if isinstance(event, MessageReceived):
                call = self._calls.get(event.stream_id)
                if call is None:
                    continue
                if call.task is None and call.queued:  # a unary call, not yet started
                    self._fail(
                        event.stream_id,
                        Status.INTERNAL.value,
                        "a unary call sent more than one request message",
                    )
                else:
                    call.deliver(event.data)
            elif isinstance(event, CallStarted):
                self._call_started(event)
            elif isinstance(event, RequestEnded):
                self._request_ended(event.stream_id)
            elif isinstance(event, MessageRefused):
                self._fail(event.stream_id, event.status, event.message)
            elif isinstance(event, StreamReset):
                self._abandon(event.stream_id)
            # ConnectionEnded: a client's GOAWAY lets its calls finish; a
            # protocol error has ended the connection (h2.ended, below).
        if h2.ended:  # a protocol error: GOAWAY is queued
            for call in list(self._calls.values()):
                self._cancel(call)
            self._close_after_flush = True
        if self._drained:
            for stream_id in [i for i in self._drained if not h2.pending(i)]:
                self._wake_senders(stream_id)
        self._schedule_flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._server.connections.discard(self)
        for call in list(self._calls.values()):
            self._cancel(call)
        self._calls.clear()
        self._handlers.clear()
        for stream_id in list(self._drained):
            self._wake_senders(stream_id, _StreamClosed())
        self._writable.set()

    def pause_writing(self) -> None:
        # The client is not reading: stop reading it too, or its pings and
        # new calls would pile up answers in the transport's buffer.
        self._writable.clear()
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        self._writable.set()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    # -- calls ------------------------------------------------------------------------

    def _call_started(self, event: CallStarted) -> None:
        stream_id = event.stream_id
        if event.bad_request:
            self._h2.send_trailers(stream_id, Status.INTERNAL.value, event.bad_request)
            return
        handler = self._server.mapping.get(event.path)
        if handler is None:
            self._h2.send_trailers(stream_id, Status.UNIMPLEMENTED.value, "Method not found")
            return
        call = _Call(self, stream_id, event.path, handler.request_type)
        self._calls[stream_id] = call
        if event.timeout is not None:
            call.timer = self._loop.call_later(event.timeout, self._expire, call)
        if handler.cardinality in _STREAMING_REQUESTS:
            self._start(call, handler)
        else:
            # A unary request is served once whole: the method's recv_message
            # then returns at once, with no task switch to wait for the data.
            self._handlers[stream_id] = handler

    def _request_ended(self, stream_id: int) -> None:
        call = self._calls.get(stream_id)
        if call is None:
            return
        call.end()
        handler = self._handlers.pop(stream_id, None)
        if handler is not None:
            self._start(call, handler)

    def _start(self, call: _Call, handler: Handler) -> None:
        call.task = self._loop.create_task(self._run(call, handler.func))

    async def _run(self, call: _Call, func: Any) -> None:
        status, message = Status.OK, None
        try:
            await func(call)
        except GRPCError as exc:
            status, message = exc.status, exc.message
        except asyncio.CancelledError:
            if not call.deadline_hit:
                raise
            status, message = Status.DEADLINE_EXCEEDED, "Deadline exceeded"
        except _StreamClosed:
            return
        except Exception:
            log.exception("%s failed", call.path)
            status, message = Status.UNKNOWN, "Internal Server Error"
        finally:
            if call.timer is not None:
                call.timer.cancel()
            if self._calls.get(call.stream_id) is call:
                del self._calls[call.stream_id]
        # Past its deadline, what the call still had to send is moot.
        self._h2.send_trailers(call.stream_id, status.value, message, cut_short=call.deadline_hit)
        self._schedule_flush()

    def _expire(self, call: _Call) -> None:
        call.timer = None
        if call.task is not None:
            call.deadline_hit = True
            call.task.cancel()
        else:  # still receiving its request
            self._fail(call.stream_id, Status.DEADLINE_EXCEEDED.value, "Deadline exceeded")

    def _fail(self, stream_id: int, status: int, message: str) -> None:
        """End a call at once with ``status``: its request is refused, or its time is up."""
        self._abandon(stream_id)
        self._h2.send_trailers(stream_id, status, message, cut_short=True)
        self._schedule_flush()

    def _abandon(self, stream_id: int) -> None:
        """Stop serving ``stream_id``'s call: cancel it, fail its waiting sends."""
        call = self._forget(stream_id)
        if call is not None:
            self._cancel(call)
        self._wake_senders(stream_id, _StreamClosed())

    def _wake_senders(self, stream_id: int, error: Exception | None = None) -> None:
        """Resume the sends waiting for ``stream_id``'s window: it opened, or ``error``."""
        for future in self._drained.pop(stream_id, ()):
            if future.done():
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

    def _forget(self, stream_id: int) -> _Call | None:
        self._handlers.pop(stream_id, None)
        return self._calls.pop(stream_id, None)

    @staticmethod
    def _cancel(call: _Call) -> None:
        if call.timer is not None:
            call.timer.cancel()
        if call.task is not None:
            call.task.cancel()

    # -- sending ----------------------------------------------------------------------

    async def send(self, stream_id: int, data: bytes) -> None:
        """Queue one reply message; return once the client's windows took it."""
        if not self._writable.is_set():  # the client is not reading: queue nothing more
            await self._writable.wait()
        h2 = self._h2
        if self._lost or not h2.is_open(stream_id):
            raise _StreamClosed()
        h2.send_message(stream_id, data)
        self._schedule_flush()
        if h2.pending(stream_id):
            future = self._loop.create_future()
            self._drained.setdefault(stream_id, []).append(future)
            await future

    def consumed(self, stream_id: int, size: int) -> None:
        """A call read ``size`` bytes of requests: let its client send more."""
        self._h2.consumed(stream_id, size)
        self._schedule_flush()

    def _flushed(self) -> None:
        if self._close_after_flush:
            self._close()

    def _close(self) -> None:
        assert self._transport is not None
        self._transport.close()
        # A TLS close waits for the client's close_notify (30 s by default):
        # past a short while, drop the connection without it.
        self._loop.call_later(_CLOSE_TIMEOUT, self._abort)

    def _abort(self) -> None:
        if not self._lost and self._transport is not None:
            self._transport.abort()

    def disconnect(self) -> None:
        """Send what is queued and close; calls still running are cancelled."""
        for call in list(self._calls.values()):
            self._cancel(call)
        # No GOAWAY first: grpclib clients fail every call on a GOAWAY, even
        # one whose reply arrived in the same read. A plain close reaches
        # them after the replies already sent.
        self._close_after_flush = True
        self._flush()


_STREAMING_REQUESTS: Final = frozenset({Cardinality.STREAM_UNARY, Cardinality.STREAM_STREAM})

#: Seconds a closed connection waits for the client's TLS close_notify.
_CLOSE_TIMEOUT: Final = 1.0


class _Server:
    """What every connection shares: the methods served, the limit, the open connections."""

    def __init__(self, mapping: Mapping[str, Handler], max_message_size: int) -> None:
        self.mapping = dict(mapping)
        self.max_message_size = max_message_size
        self.connections: set[_Connection] = set()
        self.closing = False

    def protocol(self) -> _Connection:
        return _Connection(self)


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

    def __init__(self, listener: asyncio.Server, server: _Server, gate: _Gate, port: int) -> None:
        self._listener = listener
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
        self._listener.close()
        self._server.closing = True
        for connection in list(self._server.connections):
            connection.disconnect()
        await self._listener.wait_closed()

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
    mapping: dict[str, Handler] = {}
    for handler in handlers:
        mapping.update(gate.wrap(handler).__mapping__())
    server = _Server(mapping, max_message_size)
    sock = await _listen(host, port)
    try:
        loop = asyncio.get_running_loop()
        listener = await loop.create_server(server.protocol, sock=sock, ssl=context)
    except BaseException:
        sock.close()
        raise
    return RpcServer(listener, server, gate, sock.getsockname()[1])


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
