"""The master's session with the ResourceManager's scheduler: register, heartbeat, unregister.

On top of :class:`~skein.yarn.scheduler.SchedulerProtocol` it keeps what
ApplicationMasterProtocol asks the caller to keep:

* the id of the last response, sent back with each allocate call;
* the AMRMToken, replaced when a response carries a rolled one (later
  connections authenticate with it);
* registration: a resync order (``AM_RESYNC``) or
  ``ApplicationMasterNotRegisteredException`` (the ResourceManager restarted
  or failed over) re-registers and raises :class:`ResyncRequired`, so the
  caller resends its whole ask table;
* ``ApplicationAttemptNotFoundException``: the ResourceManager dropped this
  attempt (the application was killed, or the attempt expired), which can
  reach the master before the NodeManager's SIGTERM does: it is a shutdown
  order, :class:`ShutdownOrdered`, as ``AM_SHUTDOWN`` is;
* unregistration, which completes asynchronously: ``finish`` is called again
  until the ResourceManager confirms, within a time limit.

Every call has a timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Sequence
from typing import Final, Protocol, TypeVar

from google.protobuf.message import Message

from skein._proto.hadoop import Security_pb2 as security_pb
from skein._proto.yarn import yarn_protos_pb2 as pb
from skein._proto.yarn import yarn_service_protos_pb2 as service_pb
from skein.errors import RemoteError, SkeinError, TimeoutError
from skein.hadoop.addresses import RMService, rm_addresses
from skein.hadoop.configuration import HadoopConfiguration
from skein.hadoop.failover import FailoverChannel
from skein.hadoop.sasl import TokenCredential
from skein.hadoop.transport import RpcConnection
from skein.yarn import scheduler
from skein.yarn.enums import FinalStatus
from skein.yarn.scheduler import SchedulerProtocol

__all__ = [
    "NOT_REGISTERED",
    "ResyncRequired",
    "SchedulerChannel",
    "SchedulerSession",
    "ShutdownOrdered",
    "scheduler_channel",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=Message)


class TokenHolder(Protocol):
    """A connection that authenticates with a token (an ``RpcConnection``)."""

    token: TokenCredential | None


class SchedulerChannel(Protocol):
    """The scheduler channel a session needs (a ``FailoverChannel`` of ``RpcConnection`` s)."""

    @property
    def connections(self) -> Sequence[TokenHolder]:
        """The connections, whose token is replaced when YARN rolls it."""
        ...

    async def call(
        self, method: str, request: Message, response_type: type[M], *, timeout: float | None = None
    ) -> M:
        """Call ``method``."""
        ...

    async def aclose(self) -> None:
        """Close every connection."""
        ...


NOT_REGISTERED: Final = "org.apache.hadoop.yarn.exceptions.ApplicationMasterNotRegisteredException"
ATTEMPT_NOT_FOUND: Final = "org.apache.hadoop.yarn.exceptions.ApplicationAttemptNotFoundException"
CALL_TIMEOUT: Final = 60.0
"""Seconds any one scheduler call may take, failover included."""


async def _bounded(call: Awaitable[T], seconds: float, what: str) -> T:
    try:
        return await asyncio.wait_for(call, seconds)
    except asyncio.TimeoutError:
        raise TimeoutError(f"{what} took over {seconds:g} s") from None


class ResyncRequired(SkeinError):
    """The ResourceManager lost the master's state; it re-registered, the ask table must follow."""


class ShutdownOrdered(SkeinError):
    """The ResourceManager ordered the master to shut down, or no longer knows its attempt."""


def scheduler_channel(
    configuration: HadoopConfiguration, token: TokenCredential, *, timeout: float = CALL_TIMEOUT
) -> FailoverChannel:
    """A channel to the scheduler address of every ResourceManager, authenticated by ``token``."""
    connections = [
        RpcConnection(
            address.host,
            address.port,
            scheduler.PROTOCOL_NAME,
            token=token,
            connect_timeout=min(20.0, timeout),
            call_timeout=timeout,
        )
        for address in rm_addresses(configuration, RMService.SCHEDULER)
    ]
    return FailoverChannel(connections, timeout=timeout)


class SchedulerSession:
    """One attempt's registration with the scheduler.

    Args:
        channel: the scheduler channel (see :func:`scheduler_channel`).
        host: the host to register (the node the master runs on).
        rpc_port: the master's RPC port, 0 if none.
        tracking_url: the master's web UI, empty if none.
        timeout: seconds any one call may take.
    """

    def __init__(
        self,
        channel: SchedulerChannel,
        *,
        host: str,
        rpc_port: int = 0,
        tracking_url: str = "",
        timeout: float = CALL_TIMEOUT,
    ) -> None:
        self.channel = channel
        self.protocol = SchedulerProtocol(channel)
        self.host = host
        self.rpc_port = rpc_port
        self.tracking_url = tracking_url
        self.timeout = timeout
        self.response_id = 0
        self.registration: service_pb.RegisterApplicationMasterResponseProto | None = None

    async def register(self) -> service_pb.RegisterApplicationMasterResponseProto:
        """Register (again) with the ResourceManager; the next allocate starts from id 0."""
        self.registration = await _bounded(
            self.protocol.register(self.host, self.rpc_port, self.tracking_url),
            self.timeout,
            "registering with the ResourceManager",
        )
        self.response_id = 0
        return self.registration

    async def allocate(
        self,
        asks: Sequence[pb.ResourceRequestProto],
        releases: Sequence[pb.ContainerIdProto],
        progress: float,
    ) -> service_pb.AllocateResponseProto:
        """One heartbeat.

        Raises:
            ResyncRequired: the ResourceManager forgot this master; it is
                registered again, and the whole ask table must be sent.
            ShutdownOrdered: the ResourceManager ordered a shutdown, or
                dropped this attempt (the application was killed).
            ConnectionError: no ResourceManager answered in time; the caller
                may send the same request again (a repeated response id makes
                the ResourceManager answer it only once).
            RemoteError: the ResourceManager refused the request.
        """
        try:
            response = await _bounded(
                self.protocol.allocate(
                    self.response_id, asks=asks, releases=releases, progress=progress
                ),
                self.timeout,
                "an allocate heartbeat",
            )
        except RemoteError as exc:
            if exc.java_class == ATTEMPT_NOT_FOUND:
                raise ShutdownOrdered(
                    "the ResourceManager no longer knows this attempt"
                    f" (the application was killed, or the attempt ended): {exc}"
                ) from exc
            if exc.java_class != NOT_REGISTERED:
                raise
            await self._resync(f"not registered: {exc}")
            raise ResyncRequired("the ResourceManager did not know this master") from exc
        if response.HasField("a_m_command"):
            if response.a_m_command == pb.AM_RESYNC:
                await self._resync("the ResourceManager ordered a resync")
                raise ResyncRequired("the ResourceManager ordered a resync")
            raise ShutdownOrdered("the ResourceManager ordered the master to shut down")
        self.response_id = response.response_id
        if response.HasField("am_rm_token") and response.am_rm_token.identifier:
            self.replace_token(response.am_rm_token)
        return response

    async def _resync(self, reason: str) -> None:
        log.warning("re-registering with the ResourceManager (%s)", reason)
        await self.register()

    def replace_token(self, token: security_pb.TokenProto) -> None:
        """Authenticate new connections with a rolled AMRMToken."""
        credential = TokenCredential(token.identifier, token.password)
        for connection in self.channel.connections:
            connection.token = credential
        log.info("the ResourceManager rolled the AMRMToken")

    async def finish(
        self, status: FinalStatus, diagnostics: str, *, deadline: float = 60.0
    ) -> bool:
        """Unregister with ``status``; True once the ResourceManager confirmed.

        Calls again while the ResourceManager answers "not yet" or cannot be
        reached, for at most ``deadline`` seconds; re-registers first if it
        forgot the master.
        """
        give_up = time.monotonic() + deadline
        pause = 0.1
        while True:
            try:
                done = await _bounded(
                    self.protocol.finish(status, diagnostics, self.tracking_url),
                    self.timeout,
                    "unregistering",
                )
                if done:
                    return True
            except RemoteError as exc:
                if exc.java_class != NOT_REGISTERED:
                    log.error("the ResourceManager refused to unregister the master: %s", exc)
                    return False
                try:
                    await self._resync(f"not registered: {exc}")
                except (SkeinError, OSError) as again:
                    log.warning("re-registering failed, trying again: %s", again)
            except (SkeinError, OSError) as exc:
                log.warning("unregistering failed, trying again: %s", exc)
            if time.monotonic() + pause > give_up:
                log.error("the ResourceManager did not confirm unregistration in %g s", deadline)
                return False
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)

    async def aclose(self) -> None:
        """Close the connections."""
        await self.channel.aclose()
