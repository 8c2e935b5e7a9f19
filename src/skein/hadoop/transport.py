"""The asyncio driver of Hadoop IPC: sockets, timeouts, pings and reconnection.

The only module of :mod:`skein.hadoop` that does I/O. It moves bytes between a
socket and the sans-IO :class:`~skein.hadoop.framing.ClientConnection` and
:class:`~skein.hadoop.sasl.SaslNegotiation`, and resolves one future per call id.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypeVar

from google.protobuf.message import DecodeError, Message

from skein.errors import AuthenticationError, ConnectionError, ProtocolError, TimeoutError
from skein.hadoop.events import CallFailed, ConnectionFailed, ResponseReceived, SaslMessageReceived
from skein.hadoop.framing import DEFAULT_MAX_FRAME, ClientConnection, UserInfo
from skein.hadoop.remote_errors import first_line, remote_error
from skein.hadoop.sasl import SaslNegotiation, TokenCredential

__all__ = ["RpcConnection"]

M = TypeVar("M", bound=Message)

_READ_SIZE = 64 * 1024


class RpcConnection:
    """A Hadoop IPC connection to one server and protocol, opened on first use.

    Calls may run concurrently; they share the TCP connection and are matched
    to responses by call id. After the server closes the connection, the next
    call opens a new one (calls in flight then fail with ``ConnectionError``).

    Args:
        host, port: the server's address.
        protocol: the protocol name (e.g. ``...ApplicationClientProtocolPB``).
        user: the user for SIMPLE authentication (ignored with a token).
        token: a token for TOKEN (DIGEST-MD5) authentication.
        connect_timeout: seconds to connect and negotiate.
        call_timeout: default seconds a call may take (None: no limit).
        ping_interval: seconds of silence, with calls outstanding, before a ping.

    Example:
        >>> user = UserInfo("alice")
        >>> conn = RpcConnection("rm", 8032, PROTOCOL_NAME, user=user)  # doctest: +SKIP
        >>> reply = await conn.call("getClusterNodes", request, Response)  # doctest: +SKIP
    """

    def __init__(
        self,
        host: str,
        port: int,
        protocol: str,
        *,
        user: UserInfo | None = None,
        token: TokenCredential | None = None,
        connect_timeout: float = 20.0,
        call_timeout: float | None = 120.0,
        ping_interval: float = 60.0,
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        if user is None and token is None:
            raise ValueError("RpcConnection needs a user (SIMPLE) or a token (TOKEN)")
        self.host = host
        self.port = port
        self.protocol = protocol
        self.user = user
        self.token = token
        self.connect_timeout = connect_timeout
        self.call_timeout = call_timeout
        self.ping_interval = ping_interval
        self.max_frame = max_frame
        self._lock = asyncio.Lock()
        self._writer: asyncio.StreamWriter | None = None
        self._connection: ClientConnection | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[bytes]] = {}

    @property
    def address(self) -> str:
        """``host:port`` of the server."""
        return f"{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"RpcConnection<{self.address} {self.protocol.rsplit('.', 1)[-1]}>"

    @property
    def connected(self) -> bool:
        """Whether a connection is open."""
        return self._writer is not None

    # -- connecting -----------------------------------------------------------

    async def _ensure_connected(self) -> tuple[ClientConnection, asyncio.StreamWriter]:
        async with self._lock:
            if self._writer is None or self._connection is None:
                try:
                    await asyncio.wait_for(self._open(), self.connect_timeout)
                except asyncio.TimeoutError as exc:
                    raise TimeoutError(
                        f"connecting to {self.address} took over {self.connect_timeout:g} s"
                    ) from exc
            assert self._connection is not None
            assert self._writer is not None
            return self._connection, self._writer

    async def _open(self) -> None:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            raise ConnectionError(
                f"cannot connect to {self.address}: {exc.strerror or exc}"
            ) from exc
        sasl = self.token is not None
        connection = ClientConnection(
            self.protocol,
            None if sasl else self.user,
            sasl=sasl,
            max_frame=self.max_frame,
        )
        try:
            writer.write(connection.preamble())
            if sasl:
                await self._negotiate(connection, reader, writer)
            writer.write(connection.connection_context())
            await writer.drain()
        except BaseException:
            writer.close()
            raise
        self._connection, self._writer = connection, writer
        self._reader_task = asyncio.create_task(self._read_loop(connection, reader, writer))

    async def _negotiate(
        self,
        connection: ClientConnection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        negotiation = SaslNegotiation(self.token, allow_simple=False)
        writer.write(connection.sasl_message(negotiation.start()))
        await writer.drain()
        while not negotiation.done:
            data = await reader.read(_READ_SIZE)
            if not data:
                raise ConnectionError(f"{self.address} closed the connection during SASL")
            for event in connection.receive_data(data):
                if isinstance(event, SaslMessageReceived):
                    reply = negotiation.receive(event.message)
                    if reply is not None:
                        writer.write(connection.sasl_message(reply))
                        await writer.drain()
                elif isinstance(event, ConnectionFailed | CallFailed):
                    reason = first_line(event.message) or event.exception_class
                    raise AuthenticationError(
                        f"{self.address} refused authentication: {reason}"
                    ) from remote_error(event.exception_class, event.message)
                else:
                    raise ProtocolError(f"{self.address} sent a call response during SASL")

    # -- reading --------------------------------------------------------------

    async def _read_loop(
        self,
        connection: ClientConnection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        failure: BaseException = ConnectionError(f"{self.address} closed the connection")
        try:
            while True:
                try:
                    data = await asyncio.wait_for(reader.read(_READ_SIZE), self.ping_interval)
                except asyncio.TimeoutError:
                    if self._pending:  # a long call: tell the server we still wait
                        writer.write(connection.ping())
                    continue
                if not data:
                    break
                for event in connection.receive_data(data):
                    if isinstance(event, ResponseReceived):
                        future = self._pending.pop(event.call_id, None)
                        if future is not None and not future.done():
                            future.set_result(event.payload)
                    elif isinstance(event, CallFailed):
                        future = self._pending.pop(event.call_id, None)
                        if future is not None and not future.done():
                            future.set_exception(remote_error(event.exception_class, event.message))
                    elif isinstance(event, ConnectionFailed):
                        raise remote_error(event.exception_class, event.message)
                    else:
                        raise ProtocolError(f"{self.address} sent SASL after negotiation")
        except (ProtocolError, ConnectionError, OSError) as exc:
            failure = exc if not isinstance(exc, OSError) else ConnectionError(str(exc))
        except Exception as exc:  # a FATAL remote error, mapped above
            failure = exc
        finally:
            self._drop(writer, failure)

    def _drop(self, writer: asyncio.StreamWriter, failure: BaseException) -> None:
        """Forget the connection and fail the calls still waiting on it."""
        if self._writer is writer:
            self._writer = self._connection = None
            self._reader_task = None
        writer.close()
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(failure)

    # -- calling --------------------------------------------------------------

    async def call(
        self,
        method: str,
        request: Message,
        response_type: type[M],
        *,
        timeout: float | None = None,
    ) -> M:
        """Call ``method`` with ``request``; return the response as ``response_type``.

        Raises:
            ConnectionError: the server cannot be reached or closed the connection.
            TimeoutError: no answer within ``timeout`` (default: ``call_timeout``).
            RemoteError: the server answered with a Java exception (a subclass
                for the common ones).
            AuthenticationError: the server refused the credentials.
            ProtocolError: the server's bytes are not a valid response.
        """
        connection, writer = await self._ensure_connected()
        call_id, frame = connection.request(method, request.SerializeToString())
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        limit = self.call_timeout if timeout is None else timeout
        try:
            writer.write(frame)
            await writer.drain()
            payload = await asyncio.wait_for(future, limit)
        except asyncio.TimeoutError as exc:
            raise TimeoutError(
                f"{method} on {self.address} did not answer within {limit:g} s"
            ) from exc
        except OSError as exc:
            raise ConnectionError(f"lost the connection to {self.address}: {exc}") from exc
        finally:
            self._pending.pop(call_id, None)
        try:
            return response_type.FromString(payload)
        except DecodeError as exc:
            raise ProtocolError(
                f"{method} on {self.address}: undecodable {response_type.__name__}: {exc}"
            ) from exc

    async def aclose(self) -> None:
        """Close the connection; calls in flight fail with ``ConnectionError``."""
        writer, task = self._writer, self._reader_task
        if writer is not None:
            self._drop(
                writer, ConnectionError(f"connection to {self.address} closed by the client")
            )
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
