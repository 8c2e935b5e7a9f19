"""Reading a running application's logs from its NodeManagers.

For each node, ask its NodeManager which of the application's containers it has,
then list and fetch each container's log files (see
:mod:`~skein.logs.node_manager_web`). Nodes are asked in parallel; every request
has a timeout. A node that cannot be reached is skipped with a warning, so one
unhealthy node does not hide the others' logs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Final

from skein.errors import ConnectionError, ProtocolError
from skein.fs.http import HttpResponse, request
from skein.logs.model import ApplicationLogs, ContainerLogs
from skein.logs.node_manager_web import (
    NodeManagerWeb,
    parse_app_containers,
    parse_container_files,
    parse_container_log_files,
    unwrap_log_file,
)
from skein.yarn.records import NodeReport

__all__ = ["read_live_logs"]

log = logging.getLogger(__name__)

_NOT_FOUND: Final = 404
# Per node, a few files at a time: logs are small and NodeManagers are shared.
_PARALLEL_READS: Final = 4


async def _get(url: str, timeout: float) -> HttpResponse:
    return await request("GET", url, timeout=timeout, headers={"Accept": "application/json"})


def _check(response: HttpResponse, url: str) -> None:
    if response.status != 200:
        reason = response.body[:200].decode("utf-8", "replace").strip()
        raise ProtocolError(f"GET {url}: HTTP {response.status} {reason}")


async def _file_names(web: NodeManagerWeb, container_id: str, timeout: float) -> list[str]:
    url = web.container_logs(container_id)
    response = await _get(url, timeout)
    if response.status == _NOT_FOUND:  # Hadoop 2: no such endpoint; the record lists them
        url = web.container(container_id)
        response = await _get(url, timeout)
        if response.status == _NOT_FOUND:  # the container is gone from this node
            return []
        _check(response, url)
        return parse_container_files(response.body)
    _check(response, url)
    return parse_container_log_files(response.body)


async def _read_file(
    web: NodeManagerWeb, container_id: str, name: str, timeout: float, limit: asyncio.Semaphore
) -> str | None:
    url = web.log_file(container_id, name)
    async with limit:
        response = await request("GET", url, timeout=timeout)
    if response.status == _NOT_FOUND or 300 <= response.status < 400:
        # Rolled over or cleaned up since it was listed, or already uploaded
        # (the NodeManager redirects to the log server): not readable here.
        log.debug("skipping %s of %s: HTTP %d", name, container_id, response.status)
        return None
    _check(response, url)
    return unwrap_log_file(response.body, container_id, name).decode("utf-8", "replace")


async def _node_logs(
    node: NodeReport, app_id: str, web: NodeManagerWeb, timeout: float
) -> list[ContainerLogs]:
    url = web.app(app_id)
    response = await _get(url, timeout)
    if response.status == _NOT_FOUND:  # nothing of this application runs here
        return []
    _check(response, url)
    limit = asyncio.Semaphore(_PARALLEL_READS)
    containers = []
    for container_id in parse_app_containers(response.body):
        names = await _file_names(web, container_id, timeout)
        texts = await asyncio.gather(
            *(_read_file(web, container_id, name, timeout, limit) for name in names)
        )
        files = {name: text for name, text in zip(names, texts, strict=True) if text is not None}
        containers.append(ContainerLogs(container_id=container_id, node=node.id, files=files))
    return containers


async def read_live_logs(
    nodes: Sequence[NodeReport],
    app_id: str,
    *,
    https: bool = False,
    user: str | None = None,
    timeout: float = 30.0,
) -> ApplicationLogs:
    """Read the logs of the containers of ``app_id`` that are on ``nodes`` now.

    Args:
        nodes: the nodes to ask (the cluster's RUNNING nodes).
        app_id: the application.
        https: talk HTTPS to the NodeManagers (``yarn.http.policy`` is ``HTTPS_ONLY``).
        user: the user name for Hadoop's simple HTTP authentication.
        timeout: seconds each connection, read or write may take.

    Raises:
        ConnectionError: no node could be reached (unreachable nodes among
            others that answered are only logged).

    Example:
        >>> nodes = await client.get_nodes(["RUNNING"])  # doctest: +SKIP
        >>> logs = await read_live_logs(nodes, "application_1700000000000_0001")  # doctest: +SKIP
    """
    results = await asyncio.gather(
        *(
            _node_logs(
                node, app_id, NodeManagerWeb(node.http_address, https=https, user=user), timeout
            )
            for node in nodes
        ),
        return_exceptions=True,
    )
    containers: list[ContainerLogs] = []
    failures: list[BaseException] = []
    for node, result in zip(nodes, results, strict=True):
        if isinstance(result, (ConnectionError, ProtocolError)):
            log.warning("could not read the logs of %s on %s: %s", app_id, node.id, result)
            failures.append(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            containers += result
    if failures and len(failures) == len(nodes):
        raise failures[0]
    return ApplicationLogs(app_id, containers, source="live")
