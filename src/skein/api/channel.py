"""The client end: a mutual-TLS gRPC channel to an application master, with timeouts.

grpclib's ``Channel`` connects lazily and waits as long as the operating system
lets it. :class:`MasterChannel` adds what a client of a remote master needs:

* a **connect timeout** covering TCP, the TLS handshake *and* the master's
  first HTTP/2 frame. With TLS 1.3 the client finishes its handshake before
  the master has checked the client's certificate, so a master that refuses
  our credentials is only seen when it closes the connection: waiting for its
  first frame turns that into an immediate
  :class:`~skein.errors.ConnectionError` instead of a failed first call;
* a **default deadline** for unary calls (streams such as ``Watch`` run until
  their caller stops them; HTTP/2 keepalive pings detect a dead master);
* errors already mapped to :mod:`skein.errors` for the connection itself; wrap
  calls in :func:`skein.api.status.rpc_errors` for the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys
from types import TracebackType
from typing import Final, TypeVar, final

from grpclib.client import Channel, Handler, Stream
from grpclib.config import Configuration
from grpclib.const import Cardinality
from grpclib.metadata import Deadline, _MetadataLike
from grpclib.protocol import H2Protocol
from h2.config import H2Configuration

from skein._proto.api.skein_grpc import AppMasterStub
from skein.api.coalescing import coalescing
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

_CONFIG: Final = Configuration(
    # Ping the master every 30 s while a stream is open, and drop the connection
    # if a ping goes unanswered for 20 s, so a Watch on a vanished master ends
    # (with ConnectionError) instead of waiting forever. grpclib's defaults would
    # stop after two pings without data, and then ping only every 5 minutes.
    _keepalive_time=30.0,
    _keepalive_timeout=20.0,
    _http2_max_pings_without_data=0,
    _http2_min_sent_ping_interval_without_data=30.0,
)

# Seconds a closing connection waits for the master's TLS close_notify.
_SSL_SHUTDOWN_TIMEOUT: Final = 5.0

_SendType = TypeVar("_SendType")
_RecvType = TypeVar("_RecvType")


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


class _ProtocolWithPreface(H2Protocol):
    """grpclib's protocol, telling when the server's preface arrives; writes are coalesced."""

    def __init__(self, handler: Handler, config: Configuration, h2_config: H2Configuration) -> None:
        super().__init__(handler, config, h2_config)
        self.preface: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lost = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(coalescing(transport))

    def data_received(self, data: bytes) -> None:
        if not self.preface.done():
            self.preface.set_result(None)
        super().data_received(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.preface.done():
            self.preface.set_exception(exc or _ClosedBeforePreface())
        self.lost.set()
        super().connection_lost(exc)


class _ClosedBeforePreface(Exception):
    """The server closed the connection cleanly without sending a byte."""


class _TimedChannel(Channel):
    """A grpclib channel with a connect timeout and a default unary deadline.

    It overrides grpclib's ``_protocol_factory`` and ``_create_connection``
    (hooks stable since grpclib 0.3; the transport tests would catch a change)
    and makes the connection itself.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext,
        address: str,
        connect_timeout: float,
        call_timeout: float | None,
    ) -> None:
        super().__init__(host, port, ssl=ssl_context, config=_CONFIG)
        self._target = (host, port)
        self._context = ssl_context
        self._address = address
        self._connect_timeout = connect_timeout
        self._call_timeout = call_timeout

    def _protocol_factory(self) -> H2Protocol:
        return _ProtocolWithPreface(Handler(), self._config, self._h2_config)

    async def _create_connection(self) -> H2Protocol:
        try:
            return await asyncio.wait_for(self._connect_and_hear(), self._connect_timeout)
        except Exception as exc:
            mapped = map_error(exc, self._address)
            if mapped is exc:
                raise
            raise mapped from exc

    async def _connect_and_hear(self) -> H2Protocol:
        loop = asyncio.get_running_loop()
        host, port = self._target
        # server_hostname: the certificate names skein-internal wherever the
        # master runs, so that name is checked (and sent as SNI), not the host's.
        if sys.version_info >= (3, 11):
            # A closing TLS connection waits for the peer's close_notify, by
            # default for 30 s: too long once keepalive found the master dead.
            _, protocol = await loop.create_connection(
                self._protocol_factory,
                host,
                port,
                ssl=self._context,
                server_hostname=SERVER_NAME,
                ssl_shutdown_timeout=_SSL_SHUTDOWN_TIMEOUT,
            )
        else:
            _, protocol = await loop.create_connection(
                self._protocol_factory, host, port, ssl=self._context, server_hostname=SERVER_NAME
            )
        assert isinstance(protocol, _ProtocolWithPreface)
        try:
            await protocol.preface
        except _ClosedBeforePreface:
            protocol.processor.close()
            # A master refusing our certificate (TLS 1.3 checks it after the
            # client's handshake is done) drops the connection without a TLS
            # alert: asyncio closes without flushing one. Nothing else makes a
            # skein master hang up before its HTTP/2 preface.
            raise ConnectionError(
                f"Unable to connect to application at {self._address}: TLS handshake failed"
                " (wrong credentials?): the master closed the connection without answering"
            ) from None
        except BaseException:
            protocol.processor.close()
            raise
        return protocol

    def request(
        self,
        name: str,
        cardinality: Cardinality,
        request_type: type[_SendType],
        reply_type: type[_RecvType],
        *,
        timeout: float | None = None,
        deadline: Deadline | None = None,
        metadata: _MetadataLike | None = None,
    ) -> Stream[_SendType, _RecvType]:
        if timeout is None and deadline is None and cardinality is Cardinality.UNARY_UNARY:
            timeout = self._call_timeout
        return super().request(
            name,
            cardinality,
            request_type,
            reply_type,
            timeout=timeout,
            deadline=deadline,
            metadata=metadata,
        )


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
        host, port = split_address(address)
        self.address = address
        self._channel = _TimedChannel(
            host,
            port,
            ssl_context=ssl_context,
            address=address,
            connect_timeout=connect_timeout,
            call_timeout=call_timeout,
        )
        self.stub = AppMasterStub(self._channel)

    async def connect(self) -> None:
        """Connect now rather than on the first call, to fail fast.

        Raises:
            skein.errors.ConnectionError: refused, unreachable, or the TLS
                handshake failed (either side refused the other's credentials).
            skein.errors.TimeoutError: not connected within the connect timeout.
        """
        async with rpc_errors(self.address):
            await self._channel.__connect__()

    def close(self) -> None:
        """Close the connection; calls still running fail with ``ConnectionError``."""
        self._channel.close()

    async def aclose(self) -> None:
        """Close the connection and wait until it is closed (the TLS goodbye included).

        A loop about to stop (the blocking API's) would otherwise leave the
        socket open mid-shutdown.
        """
        protocol = self._channel._protocol
        self._channel.close()
        if isinstance(protocol, _ProtocolWithPreface):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(protocol.lost.wait(), _SSL_SHUTDOWN_TIMEOUT + 1.0)

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
