"""The asyncio client of a YARN cluster: nodes, queues and applications.

This is the one implementation; :class:`skein.Client` is a blocking facade
over it. It speaks Hadoop RPC to the ResourceManager directly (no JVM, no
driver process) and follows ResourceManager HA from the configuration.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from skein.client.time_filters import parse_time_bound, to_millis
from skein.errors import ApplicationNotFoundError, QueueNotFoundError, RemoteError
from skein.hadoop.configuration import HadoopConfiguration, load_configuration
from skein.spec import ApplicationSpec, Security
from skein.yarn.enums import ApplicationState, NodeState
from skein.yarn.ids import ApplicationId
from skein.yarn.records import ApplicationReport, NodeReport, Queue
from skein.yarn.resource_manager import ResourceManagerProtocol, RpcChannel

if TYPE_CHECKING:
    from skein.client.async_application_client import AsyncApplicationClient
    from skein.logs import ApplicationLogs

__all__ = ["AsyncClient"]

log = logging.getLogger(__name__)

SKEIN_APPLICATION_TYPE = "skein"
"""The YARN application type of applications submitted by skein."""

_STARTING_STATES = frozenset(
    {
        ApplicationState.NEW,
        ApplicationState.NEW_SAVING,
        ApplicationState.SUBMITTED,
        ApplicationState.ACCEPTED,
    }
)
_FINISHED_STATES = frozenset(
    {ApplicationState.FINISHED, ApplicationState.FAILED, ApplicationState.KILLED}
)

DEFAULT_APPLICATION_STATES = (
    ApplicationState.SUBMITTED,
    ApplicationState.ACCEPTED,
    ApplicationState.RUNNING,
)


def _states(
    states: Iterable[str | ApplicationState] | None,
) -> tuple[ApplicationState, ...]:
    if states is None:
        return DEFAULT_APPLICATION_STATES
    return tuple(ApplicationState(s) if isinstance(s, str) else s for s in states)


def _as_spec(spec: ApplicationSpec | str | os.PathLike[str] | Mapping[str, Any]) -> ApplicationSpec:
    if isinstance(spec, Mapping):
        return ApplicationSpec.from_dict(spec)
    if isinstance(spec, ApplicationSpec):
        return spec
    return ApplicationSpec.from_file(spec)


def _parse_app_id(app_id: str) -> ApplicationId:
    try:
        return ApplicationId.parse(app_id)
    except ValueError as exc:
        raise ValueError(f"Invalid application id {app_id!r}") from exc


class AsyncClient:
    """Talks to the YARN cluster's ResourceManager.

    Args:
        configuration: Hadoop configuration (default: loaded from
            ``HADOOP_CONF_DIR``/``YARN_CONF_DIR``/``HADOOP_HOME``).
        channel: an RPC channel to the ResourceManager's client protocol; built
            from the configuration when not given (tests and tools may pass one).
        security: the credentials to reach applications' masters with, and to
            give applications whose spec sets none (default: the user's, from
            ``~/.skein``, made on first use).

    Example:
        >>> async with AsyncClient() as client:  # doctest: +SKIP
        ...     for node in await client.get_nodes():
        ...         print(node.id, node.state)
    """

    def __init__(
        self,
        configuration: HadoopConfiguration | None = None,
        *,
        channel: RpcChannel | None = None,
        security: Security | None = None,
    ) -> None:
        self.configuration = configuration or load_configuration()
        self._security = security
        self._channel = channel if channel is not None else self._connect()
        self._rm = ResourceManagerProtocol(self._channel)

    def _connect(self) -> RpcChannel:
        from skein.client.channels import resource_manager_channel

        return resource_manager_channel(self.configuration)

    async def close(self) -> None:
        """Close the connections to the cluster."""
        close = getattr(self._channel, "aclose", None)
        if close is not None:
            await close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- nodes and queues -----------------------------------------------------

    async def get_nodes(self, states: Iterable[str | NodeState] | None = None) -> list[NodeReport]:
        """Nodes of the cluster, sorted by id.

        Args:
            states: only nodes in these states (default: every state).
        """
        wanted = tuple(NodeState(s) if isinstance(s, str) else s for s in states or ())
        nodes = await self._rm.get_cluster_nodes(wanted)
        return sorted(nodes, key=lambda n: n.id)

    async def get_queue(self, name: str) -> Queue:
        """The queue called ``name`` (its leaf name, e.g. ``default``).

        Raises:
            QueueNotFoundError: no such queue (also a ``ValueError``).
        """
        queue, _ = await self._queue_info(name)
        return queue

    async def get_child_queues(self, name: str) -> list[Queue]:
        """The direct children of queue ``name`` (empty for a leaf queue)."""
        _, children = await self._queue_info(name, include_children=True)
        return children

    async def get_all_queues(self) -> list[Queue]:
        """Every queue of the cluster below the root, parents before children."""
        _, children = await self._queue_info("root", include_children=True, recursive=True)
        return children

    async def _queue_info(
        self, name: str, *, include_children: bool = False, recursive: bool = False
    ) -> tuple[Queue, list[Queue]]:
        try:
            queue, children = await self._rm.get_queue_info(
                name, include_children=include_children, recursive=recursive
            )
        except RemoteError as exc:
            if "queue" in exc.message.lower():
                raise QueueNotFoundError(exc.java_class, f"Queue {name!r} does not exist") from exc
            raise
        if not queue.name:  # some schedulers answer an empty record for unknown queues
            raise QueueNotFoundError("", f"Queue {name!r} does not exist")
        return queue, children

    # -- applications ---------------------------------------------------------

    async def get_applications(
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
        types: Iterable[str] | None = (SKEIN_APPLICATION_TYPE,),
    ) -> list[ApplicationReport]:
        """Applications matching every filter, sorted by id.

        Args:
            states: application states (default: SUBMITTED, ACCEPTED, RUNNING).
            name, user, queue: exact matches.
            started_begin, started_end, finished_begin, finished_end: inclusive
                time bounds, as datetimes or strings like ``2026-11-24 13:05``.
            types: YARN application types (default: skein's only; None for any).
        """
        bounds = {
            key: parse_time_bound(value, key)
            for key, value in {
                "started_begin": started_begin,
                "started_end": started_end,
                "finished_begin": finished_begin,
                "finished_end": finished_end,
            }.items()
        }
        started = _range(bounds["started_begin"], bounds["started_end"])
        finished = _range(bounds["finished_begin"], bounds["finished_end"])
        reports = await self._rm.get_applications(
            states=_states(states),
            types=tuple(types or ()),
            users=(user,) if user else (),
            queues=(queue,) if queue else (),
            name=name,
            started=started,
            finished=finished,
        )
        # Filter again here: older ResourceManagers ignore some request fields.
        reports = [
            r
            for r in reports
            if (name is None or r.name == name)
            and (user is None or r.user == user)
            and (queue is None or r.queue == queue or r.queue.endswith(f".{queue}"))
        ]
        return sorted(reports, key=lambda r: ApplicationId.parse(r.id))

    async def application_report(self, app_id: str) -> ApplicationReport:
        """The report of application ``app_id``.

        Raises:
            ValueError: the id is malformed.
            ApplicationNotFoundError: the ResourceManager does not know it.
        """
        parsed = _parse_app_id(app_id)
        try:
            return await self._rm.get_application_report(parsed)
        except ApplicationNotFoundError as exc:
            raise ApplicationNotFoundError(
                exc.java_class, f"Application {app_id} does not exist"
            ) from exc

    async def submit(
        self,
        spec: ApplicationSpec | str | os.PathLike[str] | Mapping[str, Any],
        *,
        show_progress: bool = True,
    ) -> str:
        """Submit an application and return its id.

        Local files are uploaded to ``~/.skein/<app_id>`` on the cluster's
        default filesystem (see :mod:`skein.client.staging`); the master is
        started by YARN on a node's system ``python3``.

        Args:
            spec: the specification, a path to a YAML or JSON file, or a dict.
            show_progress: draw a progress line on a terminal for slow uploads.

        Raises:
            SpecError: the spec is invalid, names a missing file, asks for a
                container larger than the cluster allows, or a parent queue.
            QueueNotFoundError: the queue does not exist.

        Example:
            >>> spec = ApplicationSpec.from_file("hello_world.yaml")  # doctest: +SKIP
            >>> app_id = await client.submit(spec)  # doctest: +SKIP
        """
        from skein.client.channels import resource_manager_channel
        from skein.client.staging import check_local_files
        from skein.client.submission import check_queue, submit_application

        spec = _as_spec(spec)
        check_local_files(spec)
        check_queue(spec.queue, await self.get_child_queues(spec.queue))
        # Applications whose spec sets no credentials get this client's, so it
        # can reach their masters (None: the user's default, made on first use).
        if not spec.user:
            return await submit_application(
                self._rm,
                spec,
                self.configuration,
                show_progress=show_progress,
                security=self._security,
            )
        channel = resource_manager_channel(self.configuration, proxy_user=spec.user)
        try:
            return await submit_application(
                ResourceManagerProtocol(channel),
                spec,
                self.configuration,
                show_progress=show_progress,
                security=self._security,
            )
        finally:
            await channel.aclose()

    async def wait(self, app_id: str, timeout: float | None = None) -> ApplicationReport:
        """Wait until application ``app_id`` has finished, and return its final report.

        Polls the ResourceManager, every 0.2 s at first and every 2 s at most.

        Raises:
            TimeoutError: it is still running after ``timeout`` seconds.
            ApplicationNotFoundError: the ResourceManager does not know it.
        """
        from skein.errors import TimeoutError

        deadline = None if timeout is None else time.monotonic() + timeout
        interval = 0.2
        while True:
            report = await self.application_report(app_id)
            if report.state in _FINISHED_STATES:
                return report
            if deadline is not None and time.monotonic() + interval > deadline:
                raise TimeoutError(f"{app_id} is still {report.state} after {timeout} s")
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, 2.0)

    @property
    def security(self) -> Security:
        """The credentials for applications' masters (the user's default unless given)."""
        if self._security is None:
            self._security = Security.from_default()
        return self._security

    async def master_address(
        self, app_id: str, *, wait: bool = True, timeout: float | None = None
    ) -> str:
        """The ``host:port`` of running application ``app_id``'s master.

        Args:
            app_id: the application.
            wait: wait while the application is still starting (SUBMITTED or ACCEPTED).
            timeout: give up waiting after this many seconds (default: no limit).

        Raises:
            ApplicationNotRunningError: the application is not running (it has
                finished, or is still starting and ``wait`` is false).
            TimeoutError: still starting after ``timeout`` seconds.
        """
        from skein.errors import ApplicationNotRunningError, TimeoutError

        deadline = None if timeout is None else time.monotonic() + timeout
        interval = 0.2
        while True:
            report = await self.application_report(app_id)
            if report.state not in _STARTING_STATES or not wait:
                break
            if deadline is not None and time.monotonic() + interval > deadline:
                raise TimeoutError(f"{app_id} is still {report.state} after {timeout} s")
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, 1.0)
        if report.state is not ApplicationState.RUNNING or report.port <= 0:
            raise ApplicationNotRunningError(
                f"{app_id} is not running. Application state: {report.state}"
            )
        return f"{report.host}:{report.port}"

    async def connect(
        self,
        app_id: str,
        wait: bool = True,
        security: Security | None = None,
        *,
        timeout: float | None = None,
    ) -> AsyncApplicationClient:
        """Connect to running application ``app_id``'s master.

        Args:
            app_id: the application.
            wait: wait while the application is still starting.
            security: its credentials (default: this client's).
            timeout: give up waiting for it to start after this many seconds.

        Raises:
            ApplicationNotRunningError: it is not running (see :meth:`master_address`).

        Example:
            >>> app = await client.connect("application_1700000000000_0001")  # doctest: +SKIP
            >>> await app.get_containers()  # doctest: +SKIP
        """
        from skein.client.async_application_client import AsyncApplicationClient

        address = await self.master_address(app_id, wait=wait, timeout=timeout)
        return AsyncApplicationClient(address, app_id, security or self.security)

    async def submit_and_connect(
        self,
        spec: ApplicationSpec | str | os.PathLike[str] | Mapping[str, Any],
        *,
        timeout: float | None = None,
    ) -> AsyncApplicationClient:
        """Submit an application and connect to its master once it runs.

        The application is killed if connecting fails.

        Args:
            spec: as for :meth:`submit`.
            timeout: give up waiting for it to start after this many seconds.
        """
        spec = _as_spec(spec)
        app_id = await self.submit(spec)
        try:
            return await self.connect(app_id, security=spec.master.security, timeout=timeout)
        except BaseException:
            await asyncio.shield(self.kill_application(app_id))
            raise

    async def kill_application(self, app_id: str, user: str = "") -> None:
        """Kill application ``app_id``.

        Args:
            app_id: the application.
            user: kill as this user, impersonated by the current one (the
                cluster's ``hadoop.proxyuser`` rules must allow it).

        Raises:
            ValueError: the id is malformed.
            ApplicationNotFoundError: the ResourceManager does not know it.
            AccessControlError: the impersonation or the kill was not allowed.
        """
        report = await self.application_report(app_id)  # clear error for unknown ids
        if not user:
            await self._rm.kill_application(_parse_app_id(app_id), "Killed by skein")
        else:
            from skein.client.channels import resource_manager_channel

            channel = resource_manager_channel(self.configuration, proxy_user=user)
            try:
                await ResourceManagerProtocol(channel).kill_application(
                    _parse_app_id(app_id), f"Killed by skein as {user}"
                )
            finally:
                await channel.aclose()
        if report.application_type == SKEIN_APPLICATION_TYPE:
            await self._remove_staging_dir(app_id, report.user)

    async def _remove_staging_dir(self, app_id: str, owner: str) -> None:
        # YARN gives a killed master a fraction of a second before SIGKILL, too
        # little to clean up after itself; the killing client does it instead.
        from skein.client.staging import staging_dir
        from skein.fs import filesystem_for
        from skein.hadoop.user import current_user

        me = current_user().effective_user
        fs = filesystem_for(self.configuration, proxy_user=owner if owner != me else None)
        try:
            await fs.home_directory()
            await fs.delete(staging_dir(app_id), recursive=True)
        except Exception as exc:  # the kill itself succeeded
            log.warning("could not remove the staging directory of %s: %s", app_id, exc)

    async def move_application(self, app_id: str, queue: str) -> None:
        """Move application ``app_id`` to leaf queue ``queue``.

        Raises:
            ValueError: the id is malformed, or YARN refused the move (unknown
                or non-leaf queue, finished application); the message is YARN's
                reason without its stack trace.
            ApplicationNotFoundError: the ResourceManager does not know the id.
        """
        parsed = _parse_app_id(app_id)
        await self.application_report(app_id)
        try:
            await self._rm.move_application(parsed, queue)
        except ApplicationNotFoundError:
            raise
        except RemoteError as exc:
            raise ValueError(exc.message) from exc

    async def application_logs(
        self, app_id: str, user: str = "", *, timeout: float = 30.0
    ) -> ApplicationLogs:
        """The logs of application ``app_id``, per container and file.

        While the application runs, they are read from its NodeManagers; once it
        has ended, from the aggregated logs on the cluster filesystem, after
        waiting up to ``timeout`` seconds for the NodeManagers to upload them.

        Args:
            app_id: the application.
            user: read as this user, impersonated by the current one.
            timeout: seconds to wait for log aggregation (and per HTTP step).

        Raises:
            ValueError: the id is malformed.
            ApplicationNotFoundError: the ResourceManager does not know it.
            skein.logs.LogsUnavailableError: log aggregation is disabled or not
                finished, or found no logs (also a ``ValueError``).

        Example:
            >>> logs = await client.application_logs(app_id)  # doctest: +SKIP
            >>> logs.files["container_1700000000000_0001_01_000001"]["stdout"]  # doctest: +SKIP
            'hello\\n'
        """
        from skein.logs import fetch_application_logs

        _parse_app_id(app_id)
        try:
            return await fetch_application_logs(
                self._rm, self.configuration, app_id, user=user, timeout=timeout
            )
        except ApplicationNotFoundError as exc:
            raise ApplicationNotFoundError(
                exc.java_class, f"Application {app_id} does not exist"
            ) from exc


def _range(begin: datetime | None, end: datetime | None) -> tuple[int, int] | None:
    if begin is None and end is None:
        return None
    return (to_millis(begin) if begin else 0, to_millis(end) if end else 2**63 - 1)
