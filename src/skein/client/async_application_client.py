"""The asyncio client of one running application's master.

This is the one implementation; :class:`skein.ApplicationClient` is a
blocking facade over it. Calls go over gRPC with mutual TLS; every call has a
timeout, and errors arrive as Skein 0.8's types (``ValueError`` for bad
requests, :class:`skein.errors.ConnectionError` when the master is gone).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from skein._proto.api import skein_pb2 as pb
from skein._proto.api.skein_grpc import AppMasterStub
from skein.api.containers import container_from_proto, state_to_proto
from skein.api.status import rpc_errors
from skein.container_properties import CERT_FILE, KEY_FILE, Properties
from skein.master.containers import Container, ContainerState, parse_container_id
from skein.spec import ApplicationSpec, Security
from skein.yarn.enums import FinalStatus

if TYPE_CHECKING:
    from skein.api.channel import MasterChannel
    from skein.kv import AsyncKeyValueStore

__all__ = ["DEFAULT_CALL_TIMEOUT", "AsyncApplicationClient", "current_application"]

DEFAULT_CALL_TIMEOUT = 30.0
"""Seconds any one call to the master may take (``wait`` and event streams excepted)."""

_FINAL_STATUSES = {
    FinalStatus.SUCCEEDED: pb.SUCCEEDED,
    FinalStatus.FAILED: pb.FAILED,
    FinalStatus.KILLED: pb.KILLED,
}


def current_application(environ: Mapping[str, str] | None = None) -> tuple[str, str, Security]:
    """The (master address, application id, credentials) of the container this runs in.

    Raises:
        ValueError: not running inside a Skein container (or its master script).
    """
    props = Properties(environ)
    if props.appmaster_address is None or props.application_id is None:
        raise ValueError("Not running inside a container")
    directory = props.container_dir or os.getcwd()
    cert, key = (os.path.join(directory, name) for name in (CERT_FILE, KEY_FILE))
    if not (os.path.isfile(cert) and os.path.isfile(key)):
        raise ValueError(f"Not running inside a container: no {CERT_FILE} in {directory}")
    return props.appmaster_address, props.application_id, Security(cert_file=cert, key_file=key)


class AsyncApplicationClient:
    """Talks to the master of one running application (asyncio).

    Args:
        address: the master's ``host:port``.
        app_id: the application's id.
        security: the application's credentials (default: the user's, from ``~/.skein``).
        timeout: seconds each call may take.

    Example:
        >>> async with await AsyncClient().connect(app_id) as app:  # doctest: +SKIP
        ...     await app.scale("worker", count=4)
        ...     await app.kv.put("ready", b"yes")
    """

    def __init__(
        self,
        address: str,
        app_id: str,
        security: Security | None = None,
        *,
        timeout: float | None = DEFAULT_CALL_TIMEOUT,
    ) -> None:
        self.address = address
        self.id = app_id
        self.security = security if security is not None else Security.from_default()
        self.timeout = timeout
        self._channel: MasterChannel | None = None
        self._kv: AsyncKeyValueStore | None = None

    @classmethod
    def from_current(cls) -> AsyncApplicationClient:
        """The client of the application this container belongs to.

        Raises:
            ValueError: not running inside a Skein container.
        """
        address, app_id, security = current_application()
        return cls(address, app_id, security)

    def __repr__(self) -> str:
        return f"AsyncApplicationClient<{self.address}, {self.id!r}>"

    @property
    def stub(self) -> AppMasterStub:
        """The typed gRPC stub; the connection opens on the first call.

        Must be first used inside the event loop that makes the calls.
        """
        if self._channel is None:
            from skein.api.channel import MasterChannel
            from skein.api.tls import client_ssl_context

            self._channel = MasterChannel(
                self.address, client_ssl_context(self.security), call_timeout=self.timeout
            )
        return self._channel.stub

    @property
    def kv(self) -> AsyncKeyValueStore:
        """The application's key-value store (first use inside the event loop)."""
        if self._kv is None:
            from skein.kv import AsyncKeyValueStore

            self._kv = AsyncKeyValueStore(self.stub, address=self.address, timeout=self.timeout)
        return self._kv

    async def close(self) -> None:
        """Close the connection (the application goes on running)."""
        if self._kv is not None:
            await self._kv.close()
            self._kv = None
        if self._channel is not None:
            channel, self._channel = self._channel, None
            await channel.aclose()

    async def __aenter__(self) -> AsyncApplicationClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- application ----------------------------------------------------------------

    async def get_specification(self) -> ApplicationSpec:
        """The specification as the master holds it (files point at the staging directory)."""
        async with rpc_errors(self.address):
            reply = await self.stub.GetSpecification(pb.Empty(), timeout=self.timeout)
        return ApplicationSpec.from_json(reply.json)

    async def shutdown(
        self, status: FinalStatus | str = "SUCCEEDED", diagnostics: str | None = None
    ) -> None:
        """End the application with ``status``; YARN does not retry it, whatever the status.

        Args:
            status: SUCCEEDED, FAILED or KILLED.
            diagnostics: shown by YARN (default "Shutdown requested by user.").
        """
        try:
            number = _FINAL_STATUSES[FinalStatus(status)]
        except (KeyError, ValueError):
            raise ValueError(
                f"status must be SUCCEEDED, FAILED or KILLED, got {status!s}"
            ) from None
        request = pb.ShutdownRequest(final_status=number, diagnostics=diagnostics or "")
        async with rpc_errors(self.address):
            await self.stub.Shutdown(request, timeout=self.timeout)

    async def set_progress(self, progress: float) -> None:
        """Report the application's progress (in [0, 1]) to YARN.

        Raises:
            ValueError: ``progress`` outside [0, 1].
        """
        progress = float(progress)
        if math.isnan(progress) or not 0.0 <= progress <= 1.0:
            raise ValueError(f"progress must be between 0 and 1, got {progress}")
        async with rpc_errors(self.address):
            await self.stub.SetProgress(
                pb.SetProgressRequest(progress=progress), timeout=self.timeout
            )

    # -- containers -----------------------------------------------------------------

    async def get_containers(
        self,
        services: Iterable[str] | None = None,
        states: Iterable[ContainerState | str] | None = None,
    ) -> list[Container]:
        """Containers sorted by service and instance.

        Args:
            services: only these services (default: all).
            states: only these states (default: WAITING, REQUESTED and RUNNING).

        Raises:
            ValueError: an unknown service or state.
        """
        if isinstance(services, str):
            services = [services]
        if isinstance(states, str):
            states = [states]
        request = pb.GetContainersRequest(
            services=list(services or ()),
            states=[state_to_proto(ContainerState(s)) for s in states or ()],
        )
        async with rpc_errors(self.address):
            reply = await self.stub.GetContainers(request, timeout=self.timeout)
        return [container_from_proto(c) for c in reply.containers]

    async def scale(
        self,
        service: str,
        count: int | None = None,
        delta: int | None = None,
        **kwargs: Any,
    ) -> list[Container]:
        """Set ``service``'s number of active containers to ``count``, or change it by ``delta``.

        Scaling down stops waiting containers first, then requested ones, then
        running ones, oldest first in each group (Skein 0.8's order).
        ``delta=0`` changes nothing (Skein 0.8 scaled to zero).

        Returns:
            The containers started or stopped.

        Raises:
            ValueError: not exactly one of ``count`` and ``delta``, a negative
                ``count``, or an unknown service.
        """
        if "instances" in kwargs:
            warnings.warn("instances is deprecated, use count instead", FutureWarning, stacklevel=2)
            count = kwargs.pop("instances")
        if kwargs:
            raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        if (count is None) == (delta is None):
            raise ValueError("Exactly one of count or delta must be provided")
        if count is not None:
            count = int(count)
            if count < 0:
                raise ValueError(f"count must be >= 0, got {count}")
            request = pb.ScaleRequest(service_name=service, count=count)
        else:
            request = pb.ScaleRequest(service_name=service, delta=int(delta or 0))
        async with rpc_errors(self.address):
            reply = await self.stub.Scale(request, timeout=self.timeout)
        return [container_from_proto(c) for c in reply.containers]

    async def add_container(self, service: str, env: Mapping[str, str] | None = None) -> Container:
        """Start one more container of ``service``; ``env`` overrides the service's env for it.

        Raises:
            ValueError: an unknown service.
        """
        request = pb.AddContainerRequest(service_name=service, env=dict(env or {}))
        async with rpc_errors(self.address):
            reply = await self.stub.AddContainer(request, timeout=self.timeout)
        return container_from_proto(reply)

    async def kill_container(self, id: str) -> None:
        """Kill container ``id`` (``"<service>_<instance>"``); a completed one is left alone.

        Raises:
            ValueError: a malformed id, an unknown service or instance.
        """
        service, instance = parse_container_id(id)
        request = pb.ContainerInstance(service_name=service, instance=instance)
        async with rpc_errors(self.address):
            await self.stub.KillContainer(request, timeout=self.timeout)
