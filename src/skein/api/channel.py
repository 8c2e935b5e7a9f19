"""The client end: a mutual-TLS gRPC channel to an application master, with timeouts.

HTTP/2 is :mod:`skein.api.http2_client`, which does no I/O; this module drives
it on asyncio. A :class:`MasterChannel` holds one connection, made on first
use and made again after it drops, and gives grpclib's generated stubs
(``AppMasterStub``) a channel to call through: each call is a ``_Call``
offering the part of grpclib's client ``Stream`` that stubs and Skein use.
What it adds for a client of a remote master:

* a **connect timeout** covering TCP, the TLS handshake *and* the master's
  first HTTP/2 frame. With TLS 1.3 the client finishes its handshake before
  the master has checked the client's certificate, so a master that refuses
  our credentials is only seen when it closes the connection: waiting for its
  first frame turns that into an immediate
  :class:`~skein.errors.ConnectionError` instead of a failed first call;
* a **default deadline** for unary calls, sent to the master as
  ``grpc-timeout`` and kept here too (streams such as ``Watch`` run until
  their caller stops them);
* **keepalive pings** while calls are open, so a call to a master that
  vanished ends with :class:`~skein.errors.ConnectionError` instead of
  waiting forever;
* writes gathered per event-loop turn: a call's headers and message go out
  as one TLS record and one ``send``.

A call that fails with a gRPC status raises grpclib's ``GRPCError``; wrap
calls in :func:`skein.api.status.rpc_errors` to see :mod:`skein.errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import sys
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final, cast, final

from grpclib.client import Channel, Stream
from grpclib.const import Cardinality, Status
from grpclib.exceptions import GRPCError
from grpclib.metadata import Deadline, _MetadataLike

from skein._proto.api.skein_grpc import AppMasterStub
from skein.api.http2_client import (
    CallEnded,
    ClientConnection,
    ConnectionEnded,
    ErrorCode,
    ReplyMessage,
    StreamReset,
)
from skein.api.http2_driver import Http2Protocol
from skein.api.status import map_error, rpc_errors
from skein.api.tls import SERVER_NAME, client_ssl_context
from skein.errors import ConnectionError
from skein.spec.security import Security

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "DEFAULT_CONNECT_TIMEOUT",
    "MasterChannel",
    "open_channel",
    "split_address",
]

#: Seconds to connect, handshake and hear the master's HTTP/2 preface (as
#: Hadoop's ``ipc.client.connect.timeout``).
DEFAULT_CONNECT_TIMEOUT: Final = 20.0

#: Seconds a unary call may take when the caller gives no ``timeout``.
DEFAULT_CALL_TIMEOUT: Final = 60.0

# While calls are open, ping the master every _KEEPALIVE_TIME seconds, and
# drop the connection if nothing comes back within _KEEPALIVE_TIMEOUT.
_KEEPALIVE_TIME: Final = 30.0
_KEEPALIVE_TIMEOUT: Final = 20.0

# Seconds a closing connection waits for the master's TLS close_notify.
_SSL_SHUTDOWN_TIMEOUT: Final = 5.0

_UNARY_REPLIES: Final = frozenset({Cardinality.UNARY_UNARY, Cardinality.STREAM_UNARY})

# The gRPC status a stream reset stands for (gRPC's HTTP/2 mapping).
_RESET_STATUSES: Final = {
    ErrorCode.REFUSED_STREAM: Status.UNAVAILABLE,
    ErrorCode.CANCEL: Status.CANCELLED,
    11: Status.RESOURCE_EXHAUSTED,  # ENHANCE_YOUR_CALM
    12: Status.PERMISSION_DENIED,  # INADEQUATE_SECURITY
}


def split_address(address: str) -> tuple[str, int]:
    """Split ``host:port`` (or ``[v6 address]:port``) into host and port.

    Raises:
        ValueError: the address has no valid port.

    Example:
        >>> split_address("node1.example.com:8765")
        ('node1.example.com', 8765)
        >>> split_address("[::1]:8765")
        ('::1', 8765)
    """
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected an address 'host:port', got {address!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def _status_error(status: int, message: str) -> GRPCError:
    try:
        code = Status(status)
    except ValueError:
        code = Status.UNKNOWN
    return GRPCError(code, message or None)


class _ClosedBeforePreface(Exception):
    """The master closed the connection cleanly without sending a byte."""


class _Call:
    """One call: what grpclib's client ``Stream`` offers stubs and callers.

    ``async with``, ``send_request``, ``send_message(message, end=)``,
    ``end``, ``recv_message``, ``recv_trailing_metadata`` and ``cancel``. A
    reply with a status other than OK raises ``GRPCError``; a lost
    connection :class:`~skein.errors.ConnectionError`; a deadline passed
    ``TimeoutError``. Leaving the ``async with`` before the call ended
    cancels it on the master.
    """

    __slots__ = (
        "_channel",
        "_connection",
        "_error",
        "_messages",
        "_path",
        "_reader",
        "_replied",
        "_reply_type",
        "_request_ended",
        "_status",
        "_timeout",
        "_timer",
        "_unary_reply",
        "_waits",
        "deadline",
        "stream_id",
    )

    def __init__(
        self,
        channel: MasterChannel,
        path: str,
        cardinality: Cardinality,
        reply_type: Any,
        timeout: float | None,
    ) -> None:
        self._channel = channel
        self._path = path
        self._unary_reply = cardinality in _UNARY_REPLIES
        self._reply_type = reply_type
        self._timeout = timeout
        self._connection: _Connection | None = None
        self._messages: deque[bytes] = deque()
        self._status: tuple[int, str] | None = None  # how the master ended the call
        self._error: BaseException | None = None  # why the call failed here
        self._reader: asyncio.Future[None] | None = None
        self._replied = False  # a reply message was returned
        self._waits: set[asyncio.Future[Any]] = set()  # everything the call blocks on
        self._timer: asyncio.TimerHandle | None = None
        self._request_ended = False
        self.deadline: float | None = None
        self.stream_id: int | None = None

    async def __aenter__(self) -> _Call:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close()

    # -- the request ----------------------------------------------------------------

    async def send_request(self, *, end: bool = False) -> None:
        """Start the call (connecting first if need be); ``end``: no message follows."""
        if self.stream_id is not None or self._error is not None:
            raise RuntimeError("the request was already sent")
        loop = asyncio.get_running_loop()
        if self._timeout is not None:
            self.deadline = loop.time() + self._timeout
            self._timer = loop.call_at(self.deadline, self._expire)
        while True:
            connection = await self._channel._ready(self)
            self._check()
            if connection.usable:  # not lost, nor told to go away, while we waited
                break
        self._connection = connection
        self.stream_id = connection.start(self, self._path, end)
        self._request_ended = end

    async def send_message(self, message: Any, *, end: bool = False) -> None:
        """Send one request message (``end``: the last); waits while the master's window is full."""
        if self.stream_id is None:
            await self.send_request()
        self._check()
        if self._request_ended:
            raise RuntimeError("the request has already ended")
        self._request_ended = end
        assert self._connection is not None
        await self._connection.send(self, message.SerializeToString(), end)

    async def end(self) -> None:
        """End the request: no more messages."""
        if self.stream_id is None:
            await self.send_request(end=True)
        elif not self._request_ended:
            self._request_ended = True
            assert self._connection is not None
            self._connection.end_request(self)

    # -- the reply ------------------------------------------------------------------

    async def recv_initial_metadata(self) -> None:
        """grpclib's; the master's reply headers carry nothing a caller needs."""

    async def recv_message(self) -> Any:
        """The next reply message, or ``None`` once the call ended well.

        A unary reply is returned once the call has ended, after its status
        is known to be OK.

        Raises:
            GRPCError: the master ended the call with an error status.
        """
        while True:
            if self._messages and not (self._unary_reply and self._status is None):
                data = self._messages.popleft()
                if self._status is None and self._connection is not None:
                    assert self.stream_id is not None
                    self._connection.consumed(self.stream_id)
                message = self._reply_type()
                message.ParseFromString(data)
                if self._unary_reply:
                    self._raise_for_status()
                self._replied = True
                return message
            if self._status is not None:
                self._raise_for_status()
                if self._unary_reply and not self._replied:
                    raise GRPCError(Status.INTERNAL, "the master's reply had no message")
                return None
            self._check()
            await self._read()

    async def recv_trailing_metadata(self) -> None:
        """Wait for the call's end; raise ``GRPCError`` if its status is not OK."""
        while self._status is None:
            self._check()
            await self._read()
        self._raise_for_status()

    async def cancel(self) -> None:
        """Abandon the call; the master cancels its side."""
        self._close()

    # -- from the connection and the timer -------------------------------------------

    def deliver(self, data: bytes) -> None:
        self._messages.append(data)
        if not self._unary_reply:
            self._wake_reader()

    def finish(self, status: int, message: str) -> None:
        self._status = (status, message)
        self._stop_timer()
        self._wake_reader()

    def fail(self, error: BaseException) -> None:
        """The call cannot go on (connection lost, deadline passed): its waits raise ``error``."""
        if self._error is None and self._status is None:
            self._error = error
        self._stop_timer()
        waits, self._waits = self._waits, set()
        for future in waits:
            if not future.done():
                future.set_exception(error)

    async def block(self, future: asyncio.Future[Any]) -> Any:
        """Wait for ``future`` unless the call fails first (then raise why)."""
        self._check()
        self._waits.add(future)
        try:
            return await future
        finally:
            self._waits.discard(future)

    def remaining(self) -> float | None:
        """Seconds left before the deadline, or ``None``."""
        if self.deadline is None:
            return None
        return self.deadline - asyncio.get_running_loop().time()

    def _expire(self) -> None:
        self._timer = None
        if self._status is None:
            self._abandon(asyncio.TimeoutError("Deadline exceeded"))

    # -- internals ------------------------------------------------------------------

    async def _read(self) -> None:
        self._reader = asyncio.get_running_loop().create_future()
        try:
            await self.block(self._reader)
        finally:
            self._reader = None

    def _wake_reader(self) -> None:
        reader = self._reader
        if reader is not None and not reader.done():
            reader.set_result(None)

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def _raise_for_status(self) -> None:
        assert self._status is not None
        status, message = self._status
        if status:
            raise _status_error(status, message)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _abandon(self, error: BaseException) -> None:
        self.fail(error)
        if self._connection is not None:
            self._connection.abandon(self)

    def _close(self) -> None:
        if self._status is None and self._error is None:
            self._abandon(ConnectionError("the call was cancelled"))
        self._stop_timer()


class _Connection(Http2Protocol[ClientConnection]):
    """One TLS connection to the master: drives a :class:`ClientConnection`, feeds its calls.

    Writes are gathered per loop turn (:class:`~skein.api.http2_driver.Http2Protocol`).
    """

    def __init__(self, address: str, on_lost: Callable[[_Connection], None]) -> None:
        super().__init__(ClientConnection(authority=SERVER_NAME))
        self._address = address
        self._on_lost = on_lost
        self._calls: dict[int, _Call] = {}
        self._room: deque[asyncio.Future[None]] = deque()  # calls waiting for a stream
        self._drained: dict[int, asyncio.Future[None]] = {}  # sends waiting for window
        self._paused = False  # the master reads nothing: hold new messages
        self._write_waiters: list[asyncio.Future[None]] = []
        self._error: BaseException | None = None  # why no call can go on here
        self._lost_reason = ""  # why we dropped the connection ourselves
        self._heard = False  # something arrived since the last keepalive ping
        self._keepalive: asyncio.TimerHandle | None = None
        self.preface: asyncio.Future[None] = self._loop.create_future()
        self.lost = asyncio.Event()

    @property
    def usable(self) -> bool:
        """Whether new calls may start here."""
        return self._error is None and not self.lost.is_set() and self._h2.accepting

    # -- transport events -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._schedule_flush()

    def data_received(self, data: bytes) -> None:
        self._heard = True
        if not self.preface.done():
            self.preface.set_result(None)
        h2 = self._h2
        for event in h2.receive_data(data):
            # Ordered by how often each comes.
            if isinstance(event, ReplyMessage):
                call = self._calls.get(event.stream_id)
                if call is not None:
                    call.deliver(event.data)
            elif isinstance(event, CallEnded):
                call = self._forget(event.stream_id)
                if call is not None:
                    call.finish(event.status, event.message)
            elif isinstance(event, StreamReset):
                call = self._forget(event.stream_id)
                if call is not None:
                    status = _RESET_STATUSES.get(event.code, Status.INTERNAL)
                    call.fail(
                        GRPCError(status, f"the master reset the call (HTTP/2 error {event.code})")
                    )
            elif isinstance(event, ConnectionEnded) and h2.ended:
                # The master broke the protocol: our GOAWAY is queued.
                self._fail_all(
                    ConnectionError(
                        f"HTTP/2 protocol error talking to application at {self._address}:"
                        f" {event.reason}"
                    )
                )
            # A GOAWAY from the master: calls it has not seen ended (CallEnded
            # above); the others may finish, and new calls go elsewhere.
        if self._drained:
            for stream_id in [i for i in self._drained if not h2.pending(i)]:
                future = self._drained.pop(stream_id)
                if not future.done():
                    future.set_result(None)
        self._wake_room()
        self._schedule_flush()
        if not self._calls and not h2.accepting and self._transport is not None:
            # Told to go away, and done: close once the flush (scheduled first) ran.
            self._loop.call_soon(self._transport.close)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.preface.done():
            self.preface.set_exception(exc or _ClosedBeforePreface())
        reason = self._lost_reason or (str(exc) if exc is not None else "")
        detail = f": {reason}" if reason else ""
        self._fail_all(
            ConnectionError(f"Connection to application at {self._address} lost{detail}")
        )
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None
        self.lost.set()
        self._on_lost(self)

    def pause_writing(self) -> None:
        # The master is not reading: hold new messages until it does.
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        waiters, self._write_waiters = self._write_waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(None)

    # -- calls ------------------------------------------------------------------------

    async def wait_for_room(self, call: _Call) -> None:
        """Wait until the master's limit on open streams lets ``call`` start.

        Returns early if the connection stops taking calls (the caller then
        goes to a new one); raises if it failed.
        """
        while self.usable and not self._h2.has_room:
            future = self._loop.create_future()
            self._room.append(future)
            await call.block(future)
        if self._error is not None:
            raise self._error

    def start(self, call: _Call, path: str, end: bool) -> int:
        """Open ``call``'s stream (on a usable connection with room); return its id."""
        remaining = call.remaining()
        stream_id = self._h2.start_call(path, remaining, end=end)
        self._calls[stream_id] = call
        if self._keepalive is None:
            self._keepalive = self._loop.call_later(_KEEPALIVE_TIME, self._ping)
        self._schedule_flush()
        return stream_id

    async def send(self, call: _Call, data: bytes, end: bool) -> None:
        """Queue one request message; return once the master's windows took it."""
        while self._paused:
            future = self._loop.create_future()
            self._write_waiters.append(future)
            await call.block(future)
        stream_id = call.stream_id
        assert stream_id is not None
        if not self._h2.is_open(stream_id):
            return  # the call already ended; its reader hears how
        self._h2.send_message(stream_id, data, end=end)
        self._schedule_flush()
        if self._h2.pending(stream_id):
            future = self._loop.create_future()
            self._drained[stream_id] = future
            await call.block(future)

    def end_request(self, call: _Call) -> None:
        assert call.stream_id is not None
        self._h2.end_request(call.stream_id)
        self._schedule_flush()

    def consumed(self, stream_id: int) -> None:
        self._h2.consumed(stream_id)
        self._schedule_flush()

    def abandon(self, call: _Call) -> None:
        """Cancel ``call`` on the master (RST_STREAM), if it is still open here."""
        stream_id = call.stream_id
        if stream_id is not None and self._calls.get(stream_id) is call:
            self._forget(stream_id)
            self._h2.reset_stream(stream_id)
            self._schedule_flush()
            self._wake_room()

    def _forget(self, stream_id: int) -> _Call | None:
        # A send still waiting for window returns: its call's reader says how it ended.
        drained = self._drained.pop(stream_id, None)
        if drained is not None and not drained.done():
            drained.set_result(None)
        return self._calls.pop(stream_id, None)

    def _wake_room(self) -> None:
        # Every waiter, not one: a woken waiter may leave (cancelled, out of
        # time) without taking the room, and the others re-check it anyway.
        # Also when the connection stops taking calls: they go elsewhere.
        if self._room and (self._h2.has_room or not self.usable):
            waiters, self._room = self._room, deque()
            for future in waiters:
                if not future.done():
                    future.set_result(None)

    def _fail_all(self, error: BaseException) -> None:
        if self._error is None:
            self._error = error
        calls = list(self._calls.values())
        self._calls.clear()
        self._drained.clear()
        for call in calls:
            call.fail(error)
        waiters = [*self._room, *self._write_waiters]
        self._room.clear()
        self._write_waiters.clear()
        for future in waiters:
            if not future.done():
                future.set_exception(error)

    # -- keepalive --------------------------------------------------------------------

    def _ping(self) -> None:
        self._keepalive = None
        if not self._calls or self.lost.is_set():
            return  # armed again by the next call
        self._heard = False
        self._h2.ping(os.urandom(8))
        self._schedule_flush()
        self._keepalive = self._loop.call_later(_KEEPALIVE_TIMEOUT, self._check_pong)

    def _check_pong(self) -> None:
        self._keepalive = None
        if self._heard:
            self._ping_later()
            return
        self._lost_reason = f"no answer to a keepalive ping within {_KEEPALIVE_TIMEOUT:g} s"
        if self._transport is not None:
            self._transport.abort()

    def _ping_later(self) -> None:
        if self._calls:
            self._keepalive = self._loop.call_later(
                max(_KEEPALIVE_TIME - _KEEPALIVE_TIMEOUT, 0.0), self._ping
            )

    # -- writing ----------------------------------------------------------------------

    def _flushed(self) -> None:
        if self._h2.ended:  # we sent GOAWAY: the master broke the protocol
            assert self._transport is not None
            self._transport.close()

    def close(self) -> None:
        """Close the connection; calls still open fail with ``ConnectionError``."""
        self._fail_all(ConnectionError(f"The channel to application at {self._address} is closed"))
        self._h2.close()
        self._flush()
        if self._transport is not None:
            self._transport.close()


@final
class MasterChannel:
    """A connection to one application master's gRPC API, over mutual TLS.

    Use :func:`open_channel` to make one. Calls go through :attr:`stub`; wrap
    them in :func:`skein.api.status.rpc_errors`. If the connection drops, the
    next call reconnects (within the connect timeout).

    Attributes:
        address: the master's ``host:port``.
        stub: the typed gRPC stub for the ``AppMaster`` service.
    """

    def __init__(
        self,
        address: str,
        ssl_context: ssl.SSLContext,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        call_timeout: float | None = DEFAULT_CALL_TIMEOUT,
    ) -> None:
        """Prepare a channel without connecting; must run inside an event loop.

        Args:
            address: the master's ``host:port``.
            ssl_context: the client ``ssl.SSLContext`` (see :mod:`skein.api.tls`).
            connect_timeout: seconds to connect (TCP, TLS and HTTP/2 preface).
            call_timeout: default seconds per unary call; ``None`` for none.
        """
        self._target = split_address(address)
        self.address = address
        self._context = ssl_context
        self._connect_timeout = connect_timeout
        self._call_timeout = call_timeout
        self._connection: _Connection | None = None  # where new calls go
        self._connections: set[_Connection] = set()  # open ones, draining ones included
        self._connecting: asyncio.Task[_Connection] | None = None
        self._closed = False
        # grpclib's stubs only call ``request``, which this class provides.
        self.stub = AppMasterStub(cast(Channel, self))

    def request(
        self,
        name: str,
        cardinality: Cardinality,
        request_type: type[Any],
        reply_type: type[Any],
        *,
        timeout: float | None = None,
        deadline: Deadline | None = None,
        metadata: _MetadataLike | None = None,
    ) -> Stream[Any, Any]:
        """A call of method ``name`` (grpclib's channel interface, used by stubs).

        Unary calls without ``timeout`` or ``deadline`` get the channel's default.

        Raises:
            ValueError: ``metadata`` was given; the master takes none.
        """
        if metadata:
            raise ValueError("calls to an application master carry no metadata")
        if deadline is not None:
            remaining = deadline.time_remaining()
            timeout = remaining if timeout is None else min(timeout, remaining)
        elif timeout is None and cardinality is Cardinality.UNARY_UNARY:
            timeout = self._call_timeout
        return cast("Stream[Any, Any]", _Call(self, name, cardinality, reply_type, timeout))

    async def _ready(self, call: _Call | None) -> _Connection:
        """A connection with room for one more call, connecting if need be."""
        if self._closed:
            raise self._closed_error()
        connection = self._connection
        if connection is None or not connection.usable:
            if self._connecting is None:
                self._connecting = asyncio.get_running_loop().create_task(self._connect())
                self._connecting.add_done_callback(self._connected)
            remaining = call.remaining() if call is not None else None
            if remaining is not None and remaining <= 0:
                raise asyncio.TimeoutError("Deadline exceeded")
            connection = await asyncio.wait_for(asyncio.shield(self._connecting), remaining)
        if call is not None:
            await connection.wait_for_room(call)
        return connection

    def _connected(self, task: asyncio.Task[_Connection]) -> None:
        self._connecting = None
        if task.cancelled() or task.exception() is not None:
            return
        connection = task.result()
        if self._closed:  # closed as the connection was made
            connection.close()
            return
        self._connection = connection
        self._connections.add(connection)

    def _lost(self, connection: _Connection) -> None:
        self._connections.discard(connection)

    def _closed_error(self) -> ConnectionError:
        return ConnectionError(f"The channel to application at {self.address} is closed")

    async def _connect(self) -> _Connection:
        try:
            return await asyncio.wait_for(self._connect_and_hear(), self._connect_timeout)
        except asyncio.CancelledError:
            if self._closed:  # close() stopped it: the calls waiting for it fail, not cancel
                raise self._closed_error() from None
            raise
        except Exception as exc:
            mapped = map_error(exc, self.address)
            if mapped is exc:
                raise
            raise mapped from exc

    async def _connect_and_hear(self) -> _Connection:
        loop = asyncio.get_running_loop()
        host, port = self._target
        # server_hostname: the certificate names skein-internal wherever the
        # master runs, so that name is checked (and sent as SNI), not the host's.
        # A closing TLS connection waits for the peer's close_notify, by
        # default for 30 s: too long once keepalive found the master dead.
        options: dict[str, Any] = {}
        if sys.version_info >= (3, 11):
            options["ssl_shutdown_timeout"] = _SSL_SHUTDOWN_TIMEOUT
        _, protocol = await loop.create_connection(
            lambda: _Connection(self.address, self._lost),
            host,
            port,
            ssl=self._context,
            server_hostname=SERVER_NAME,
            **options,
        )
        assert isinstance(protocol, _Connection)
        try:
            await protocol.preface
        except _ClosedBeforePreface:
            protocol.close()
            # A master refusing our certificate (TLS 1.3 checks it after the
            # client's handshake is done) drops the connection without a TLS
            # alert: asyncio closes without flushing one. Nothing else makes a
            # skein master hang up before its HTTP/2 preface.
            raise ConnectionError(
                f"Unable to connect to application at {self.address}: TLS handshake failed"
                " (wrong credentials?): the master closed the connection without answering"
            ) from None
        except BaseException:
            protocol.close()
            raise
        return protocol

    async def connect(self) -> None:
        """Connect now rather than on the first call, to fail fast.

        Raises:
            skein.errors.ConnectionError: refused, unreachable, or the TLS
                handshake failed (either side refused the other's credentials).
            skein.errors.TimeoutError: not connected within the connect timeout.
        """
        async with rpc_errors(self.address):
            await self._ready(None)

    def close(self) -> None:
        """Close the channel: calls running now, or made later, fail with ``ConnectionError``."""
        self._closed = True
        if self._connecting is not None:
            self._connecting.cancel()
        for connection in list(self._connections):
            connection.close()

    async def aclose(self) -> None:
        """Close the connection and wait until it is closed (the TLS goodbye included).

        A loop about to stop (the blocking API's) would otherwise leave the
        socket open mid-shutdown.
        """
        connections = list(self._connections)
        self.close()
        if connections:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(c.lost.wait() for c in connections)),
                    _SSL_SHUTDOWN_TIMEOUT + 1.0,
                )

    async def __aenter__(self) -> MasterChannel:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"MasterChannel({self.address!r})"


async def open_channel(
    address: str,
    security: Security,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    call_timeout: float | None = DEFAULT_CALL_TIMEOUT,
) -> MasterChannel:
    """Connect to the application master at ``address`` with the application's credentials.

    Args:
        address: the master's ``host:port`` (its YARN RPC port).
        security: the application's certificate and key.
        connect_timeout: seconds to connect (TCP, TLS and HTTP/2 preface).
        call_timeout: default seconds per unary call (a call's own
            ``timeout=`` wins); ``None`` for no default.

    Returns:
        A connected channel; close it (or use ``async with``) when done.

    Raises:
        skein.errors.ConnectionError: refused, unreachable, or wrong credentials
            ("TLS handshake failed (wrong credentials?)").
        skein.errors.TimeoutError: no answer within ``connect_timeout``.
        ValueError: ``address`` is not ``host:port``.

    Example:
        >>> async def progress(address: str, security: Security) -> None:  # doctest: +SKIP
        ...     async with await open_channel(address, security) as channel:
        ...         async with rpc_errors(channel.address):
        ...             await channel.stub.SetProgress(SetProgressRequest(progress=0.5))
    """
    channel = MasterChannel(
        address,
        client_ssl_context(security),
        connect_timeout=connect_timeout,
        call_timeout=call_timeout,
    )
    try:
        await channel.connect()
    except BaseException:
        channel.close()
        raise
    return channel
