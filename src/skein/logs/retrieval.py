"""Choosing where to read an application's logs, and waiting for aggregation.

A running application's logs are on its nodes (:mod:`~skein.logs.live`). Once
it has ended, each NodeManager uploads them (:mod:`~skein.logs.aggregated`),
which takes a few heartbeats; the ResourceManager's report says how far that
got (``log_aggregation_status``, Hadoop 2.8 and later), so a reader waits until
the uploads are done rather than returning part of the logs.

Decision, for an application that has ended:

* ``DISABLED``: there will be no aggregated logs: say so;
* ``NOT_START`` or ``RUNNING``: poll the report until it moves on or
  ``timeout`` runs out; ``NOT_START`` long after the end means no node ever
  reported (nothing ran), so it is not waited for;
* anything else, or no status at all (an older ResourceManager): read what is
  there; with no status, keep looking until ``timeout``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Final, Protocol

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.errors import LogsUnavailableError, UnsupportedLogFormatError
from skein.hadoop.configuration import HadoopConfiguration
from skein.hadoop.user import current_user
from skein.logs.aggregated import read_aggregated_logs
from skein.logs.layout import is_log_aggregation_enabled
from skein.logs.live import read_live_logs
from skein.logs.model import ApplicationLogs
from skein.yarn.conversion import enum_from_proto, from_proto
from skein.yarn.enums import ApplicationState, NodeState, YarnEnum
from skein.yarn.ids import ApplicationId
from skein.yarn.records import ApplicationReport, NodeReport

__all__ = ["LogAggregationStatus", "LogSourceProtocol", "fetch_application_logs"]

_ENDED: Final = frozenset(
    {ApplicationState.FINISHED, ApplicationState.FAILED, ApplicationState.KILLED}
)
_FIRST_POLL: Final = 0.5
_MAX_POLL: Final = 2.0


class LogAggregationStatus(YarnEnum):
    """How far the NodeManagers got in uploading an application's logs.

    Mirrors ``hadoop.yarn.LogAggregationStatusProto``.
    """

    DISABLED = "DISABLED"
    NOT_START = "NOT_START"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIME_OUT = "TIME_OUT"
    RUNNING_WITH_FAILURE = "RUNNING_WITH_FAILURE"


_IN_PROGRESS: Final = frozenset({LogAggregationStatus.NOT_START, LogAggregationStatus.RUNNING})


class LogSourceProtocol(Protocol):
    """The ResourceManager calls the logs need (``ResourceManagerProtocol`` has them)."""

    async def get_application_report_proto(
        self, app_id: ApplicationId
    ) -> pb.ApplicationReportProto: ...

    async def get_cluster_nodes(self, states: Iterable[NodeState] = ()) -> list[NodeReport]: ...


def aggregation_status(report: pb.ApplicationReportProto) -> LogAggregationStatus | None:
    """The report's log aggregation status, or None when the ResourceManager gave none."""
    if not report.HasField("log_aggregation_status"):
        return None
    return enum_from_proto(
        LogAggregationStatus, pb.LogAggregationStatusProto.DESCRIPTOR, report.log_aggregation_status
    )


def _disabled(app_id: str) -> LogsUnavailableError:
    return LogsUnavailableError(
        f"log aggregation is disabled on this cluster (yarn.log-aggregation-enable is false), "
        f"so the logs of the finished application {app_id} were not collected; "
        "they may still be in the NodeManagers' local log directories"
    )


async def _wait_for_aggregation(
    rm: LogSourceProtocol,
    app_id: ApplicationId,
    report: pb.ApplicationReportProto,
    *,
    timeout: float,
    clock: Callable[[], float],
    wall_clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> LogAggregationStatus | None:
    """Poll until the uploads are no longer in progress or ``timeout`` passes; the last status."""
    deadline = clock() + timeout
    interval = _FIRST_POLL
    status = aggregation_status(report)
    ended_ago = wall_clock() - report.finishTime / 1000
    while status in _IN_PROGRESS and clock() + interval <= deadline:
        if status is LogAggregationStatus.NOT_START and ended_ago > timeout:
            break  # ended long ago and no node ever reported: nothing will come
        await sleep(interval)
        interval = min(interval * 1.5, _MAX_POLL)
        status = aggregation_status(await rm.get_application_report_proto(app_id))
    return status


async def _read_aggregated(
    configuration: HadoopConfiguration,
    app_id: str,
    owner: str,
    *,
    status: LogAggregationStatus | None,
    proxy_user: str | None,
    timeout: float,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> ApplicationLogs:
    # Without a status to go by (an old ResourceManager), retry until files appear.
    deadline = clock() + (timeout if status is None else 0.0)
    while True:
        try:
            return await read_aggregated_logs(configuration, app_id, owner, proxy_user=proxy_user)
        except UnsupportedLogFormatError:
            raise
        except LogsUnavailableError as exc:
            if clock() + _MAX_POLL > deadline:
                if status in _IN_PROGRESS:
                    raise LogsUnavailableError(
                        f"the logs of {app_id} are not aggregated yet (log aggregation is "
                        f"{status} after {timeout:g} s); try again later"
                    ) from exc
                if status is not None:
                    raise LogsUnavailableError(f"{exc} (log aggregation {status})") from exc
                if not is_log_aggregation_enabled(configuration):
                    raise LogsUnavailableError(
                        f"{exc}; is log aggregation enabled? "
                        "(yarn.log-aggregation-enable is not true in this configuration)"
                    ) from exc
                raise
        await sleep(_MAX_POLL)


async def fetch_application_logs(
    rm: LogSourceProtocol,
    configuration: HadoopConfiguration,
    app_id: str,
    *,
    user: str = "",
    timeout: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> ApplicationLogs:
    """Read the logs of ``app_id``: live from its nodes while it runs, else aggregated.

    Args:
        rm: the ResourceManager's client protocol.
        configuration: the cluster's Hadoop configuration.
        app_id: the application.
        user: read as this user, impersonated by the current one ("" for yourself).
        timeout: seconds to wait for log aggregation to finish; also each HTTP
            step's timeout when reading from the nodes.
        clock, wall_clock, sleep: monotonic and epoch time sources and sleep, for tests.

    Raises:
        ApplicationNotFoundError: the ResourceManager does not know the application.
        LogsUnavailableError: aggregation is disabled, unfinished after ``timeout``,
            or found nothing.
        UnsupportedLogFormatError: the aggregated logs are in a format skein cannot read.
    """
    parsed = ApplicationId.parse(app_id)
    report = await rm.get_application_report_proto(parsed)
    state = from_proto(ApplicationReport, report).state
    if state not in _ENDED:
        nodes = await rm.get_cluster_nodes([NodeState.RUNNING])
        https = (configuration.get_trimmed("yarn.http.policy") or "").upper() == "HTTPS_ONLY"
        web_user = user or current_user().effective_user
        return await read_live_logs(nodes, app_id, https=https, user=web_user, timeout=timeout)
    status = await _wait_for_aggregation(
        rm, parsed, report, timeout=timeout, clock=clock, wall_clock=wall_clock, sleep=sleep
    )
    if status is LogAggregationStatus.DISABLED:
        raise _disabled(app_id)
    me = current_user().effective_user
    return await _read_aggregated(
        configuration,
        app_id,
        report.user,
        status=status,
        proxy_user=user if user and user != me else None,
        timeout=timeout,
        clock=clock,
        sleep=sleep,
    )
