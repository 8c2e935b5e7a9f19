"""The blocking client, compatible with Skein 0.8's ``skein.Client``.

A facade: each method runs the coroutine of the same name on
:class:`skein.AsyncClient` in a private event loop thread. Skein 0.8's
parameters that only configured its Java driver (``java_options``, ``log``,
``log_level``, ``address``) are accepted and ignored: there is no driver.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from skein.client.async_client import AsyncClient
from skein.client.background_loop import BackgroundLoop
from skein.hadoop.configuration import HadoopConfiguration
from skein.spec import ApplicationSpec, Security
from skein.yarn.enums import ApplicationState, NodeState
from skein.yarn.records import ApplicationReport, NodeReport, Queue

if TYPE_CHECKING:
    from skein.client.application_client import ApplicationClient
    from skein.logs import ApplicationLogs

__all__ = ["Client"]


class Client:
    """A client of the YARN cluster, in blocking style.

    Args:
        address: ignored (Skein 0.8's driver address; there is no driver).
        security: security credentials for connecting to applications.
        keytab, principal: Kerberos login (must be given together).
        log, log_level, java_options: ignored (Skein 0.8's driver settings).
        configuration: Hadoop configuration (default: from the environment).

    Example:
        >>> with skein.Client() as client:  # doctest: +SKIP
        ...     for app in client.get_applications(states=["RUNNING"]):
        ...         print(app.id, app.name)
    """

    def __init__(
        self,
        address: str | None = None,
        security: Any = None,
        keytab: str | None = None,
        principal: str | None = None,
        log: Any = None,
        log_level: Any = None,
        java_options: Any = None,
        *,
        configuration: HadoopConfiguration | None = None,
    ) -> None:
        if (keytab is None) != (principal is None):
            raise ValueError("keytab and principal must be specified together")
        self.address = address
        self.keytab = keytab
        self.principal = principal
        self._loop = BackgroundLoop()

        async def create() -> AsyncClient:
            return AsyncClient(configuration, security=security)

        try:
            self._async = self._loop.run(create())
        except BaseException:
            self._loop.close()
            raise

    @classmethod
    def from_global_driver(cls) -> Client:
        """Skein 0.8 connected to its global Java driver; there is none, so this is ``Client()``."""
        return cls()

    @staticmethod
    def start_global_driver(*args: Any, **kwargs: Any) -> str:
        """No-op kept for Skein 0.8 scripts: there is no driver to start. Returns ``""``."""
        return ""

    @staticmethod
    def stop_global_driver(force: bool = False) -> None:
        """No-op kept for Skein 0.8 scripts: there is no driver to stop."""

    def close(self) -> None:
        """Close the client's connections. Idempotent."""
        if not self._loop.closed:
            self._loop.run(self._async.close())
            self._loop.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.closed:
            loop.close()

    def __repr__(self) -> str:
        return "Client<ResourceManager>"

    # Each method below runs AsyncClient's coroutine of the same name.

    def get_nodes(self, states: Iterable[str | NodeState] | None = None) -> list[NodeReport]:
        """Nodes of the cluster, sorted by id; see :meth:`AsyncClient.get_nodes`."""
        return self._loop.run(self._async.get_nodes(states))

    def get_queue(self, name: str) -> Queue:
        """Queue ``name``; see :meth:`AsyncClient.get_queue`."""
        return self._loop.run(self._async.get_queue(name))

    def get_child_queues(self, name: str) -> list[Queue]:
        """Children of queue ``name``; see :meth:`AsyncClient.get_child_queues`."""
        return self._loop.run(self._async.get_child_queues(name))

    def get_all_queues(self) -> list[Queue]:
        """Every queue; see :meth:`AsyncClient.get_all_queues`."""
        return self._loop.run(self._async.get_all_queues())

    def get_applications(
        self,
        states: Iterable[str | ApplicationState] | None = None,
        name: str | None = None,
        user: str | None = None,
        queue: str | None = None,
        started_begin: datetime | str | None = None,
        started_end: datetime | str | None = None,
        finished_begin: datetime | str | None = None,
        finished_end: datetime | str | None = None,
        *,
        types: Iterable[str] | None = ("skein",),
    ) -> list[ApplicationReport]:
        """Applications matching every filter; see :meth:`AsyncClient.get_applications`."""
        return self._loop.run(
            self._async.get_applications(
                states,
                name,
                user,
                queue,
                started_begin,
                started_end,
                finished_begin,
                finished_end,
                types=types,
            )
        )

    def submit(
        self,
        spec: ApplicationSpec | str | os.PathLike[str] | Mapping[str, Any],
        *,
        show_progress: bool = True,
    ) -> str:
        """Submit an application, return its id; see :meth:`AsyncClient.submit`.

        Example:
            >>> with skein.Client() as client:  # doctest: +SKIP
            ...     app_id = client.submit("hello_world.yaml")
        """
        return self._loop.run(self._async.submit(spec, show_progress=show_progress))

    @property
    def security(self) -> Security:
        """The credentials for applications' masters (the user's default unless given)."""
        return self._async.security

    def connect(
        self,
        app_id: str,
        wait: bool = True,
        security: Security | None = None,
        *,
        timeout: float | None = None,
    ) -> ApplicationClient:
        """Connect to running application ``app_id``; see :meth:`AsyncClient.connect`.

        Example:
            >>> app = client.connect("application_1700000000000_0001")  # doctest: +SKIP
            >>> app.get_containers()  # doctest: +SKIP
        """
        from skein.client.application_client import ApplicationClient

        address = self._loop.run(self._async.master_address(app_id, wait=wait, timeout=timeout))
        return ApplicationClient(address, app_id, security or self.security)

    def submit_and_connect(
        self,
        spec: ApplicationSpec | str | os.PathLike[str] | Mapping[str, Any],
        *,
        timeout: float | None = None,
    ) -> ApplicationClient:
        """Submit an application and connect to it; killed if connecting fails.

        Example:
            >>> app = client.submit_and_connect("dask.yaml")  # doctest: +SKIP
        """
        from skein.client.async_client import _as_spec

        spec = _as_spec(spec)
        app_id = self.submit(spec)
        try:
            return self.connect(app_id, security=spec.master.security, timeout=timeout)
        except BaseException:
            self.kill_application(app_id)
            raise

    def wait(self, app_id: str, timeout: float | None = None) -> ApplicationReport:
        """Block until ``app_id`` has finished; see :meth:`AsyncClient.wait`."""
        return self._loop.run(self._async.wait(app_id, timeout))

    def application_report(self, app_id: str) -> ApplicationReport:
        """The report of ``app_id``; see :meth:`AsyncClient.application_report`."""
        return self._loop.run(self._async.application_report(app_id))

    def kill_application(self, app_id: str, user: str = "") -> None:
        """Kill ``app_id`` (as proxied ``user``); see :meth:`AsyncClient.kill_application`."""
        self._loop.run(self._async.kill_application(app_id, user))

    def move_application(self, app_id: str, queue: str) -> None:
        """Move ``app_id`` to ``queue``; see :meth:`AsyncClient.move_application`."""
        self._loop.run(self._async.move_application(app_id, queue))

    def application_logs(
        self, app_id: str, user: str = "", *, timeout: float = 30.0
    ) -> ApplicationLogs:
        """The logs of ``app_id`` (as proxied ``user``); see :meth:`AsyncClient.application_logs`.

        Example:
            >>> with skein.Client() as client:  # doctest: +SKIP
            ...     client.application_logs(app_id).dump()
        """
        return self._loop.run(self._async.application_logs(app_id, user, timeout=timeout))
