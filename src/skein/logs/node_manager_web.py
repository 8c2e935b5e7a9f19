"""The NodeManager's REST API for container logs: URLs and answers, without I/O.

A running container's logs are files on its node, served by that node's
NodeManager web server (``NMWebServices``)::

    GET /ws/v1/node/apps/<app id>                   {"app": {"containerids": [...]}}
    GET /ws/v1/node/containers/<container id>/logs  {"containerLogsInfo": {"containerLogInfo":
                                                      [{"fileName": ..., "fileSize": ...}]}}
    GET /ws/v1/node/containerlogs/<container id>/<file>           the file

Hadoop 3 NodeManagers wrap the file in the header and footer ``yarn logs``
prints (``Container: ... LogLength:<n>\nLogContents:\n``, the bytes, then
``End of LogType:...``), whatever ``format`` is asked for; Hadoop 2 sends the
bytes alone. :func:`unwrap_log_file` handles both. Hadoop 2 NodeManagers also
lack ``/containers/<id>/logs``; there the container record's
``containerLogFiles`` names the files instead. Jersey's JSON renders a
one-element list as a bare value on some versions, so the parsers accept both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Final
from urllib.parse import quote, urlencode

from skein.errors import ProtocolError

__all__ = [
    "NodeManagerWeb",
    "parse_app_containers",
    "parse_container_files",
    "parse_container_log_files",
    "unwrap_log_file",
]

_PREFIX: Final = "/ws/v1/node"
# The header Hadoop 3 puts before a log file's bytes (NMWebServices, as LogToolUtils writes it).
_ENVELOPE: Final = re.compile(
    rb"Container: (?P<container>\S+) on \S+\n"
    rb"LogAggregationType: \w+\n"
    rb"=+\n"
    rb"LogType:(?P<name>[^\n]*)\n"
    rb"(?:LogLastModifiedTime:[^\n]*\n)?"
    rb"LogLength:(?P<length>\d+)\n"
    rb"LogContents:\n"
)
_END: Final = b"End of LogType:"


class NodeManagerWeb:
    """The URLs of one NodeManager's web services.

    Args:
        http_address: the node's web address, ``host:port`` (``NodeReport.http_address``).
        https: whether the cluster serves its web UIs over HTTPS (``yarn.http.policy``).
        user: sent as ``user.name`` for Hadoop's simple HTTP authentication.

    Example:
        >>> web = NodeManagerWeb("node1:8042", user="alice")
        >>> web.log_file("container_1_0001_01_000001", "std out")
        'http://node1:8042/ws/v1/node/containerlogs/container_1_0001_01_000001/std%20out\
?user.name=alice'
    """

    __slots__ = ("_base", "_query")

    def __init__(self, http_address: str, *, https: bool = False, user: str | None = None) -> None:
        self._base = f"{'https' if https else 'http'}://{http_address}{_PREFIX}"
        self._query = {"user.name": user} if user else {}

    def _url(self, path: str, **query: str) -> str:
        fields = {**query, **self._query}
        return f"{self._base}/{path}" + (f"?{urlencode(fields)}" if fields else "")

    def app(self, app_id: str) -> str:
        """The application on this node: its container ids."""
        return self._url(f"apps/{quote(app_id)}")

    def container(self, container_id: str) -> str:
        """One container's record (Hadoop 2 lists its log files there)."""
        return self._url(f"containers/{quote(container_id)}")

    def container_logs(self, container_id: str) -> str:
        """The list of a container's log files."""
        return self._url(f"containers/{quote(container_id)}/logs")

    def log_file(self, container_id: str, name: str) -> str:
        """One log file, raw."""
        return self._url(f"containerlogs/{quote(container_id)}/{quote(name, safe='')}")


def _json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError(
            f"{what}: the NodeManager's answer is not JSON: {body[:80]!r}"
        ) from None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_app_containers(body: bytes) -> list[str]:
    """The container ids in a ``/ws/v1/node/apps/<app id>`` answer.

    Example:
        >>> parse_app_containers(b'{"app": {"id": "application_1_0001", "containerids": '
        ...                      b'["container_1_0001_01_000001"]}}')
        ['container_1_0001_01_000001']
    """
    app = _json(body, "application").get("app") or {}
    return [str(c) for c in _as_list(app.get("containerids"))]


def _log_infos(value: Any) -> Iterator[dict[str, Any]]:
    """Every object carrying a ``containerLogInfo`` list, however deeply wrapped."""
    if isinstance(value, dict):
        if "containerLogInfo" in value:
            yield value
        else:
            for item in value.values():
                yield from _log_infos(item)
    elif isinstance(value, list):
        for item in value:
            yield from _log_infos(item)


def parse_container_log_files(body: bytes) -> list[str]:
    """The names of a container's local log files, from ``/containers/<id>/logs``.

    Only ``LOCAL`` files count: a NodeManager may also list the copies it
    already uploaded (``AGGREGATED``), which are the same files.

    Example:
        >>> parse_container_log_files(b'{"containerLogsInfo": {"containerLogInfo": ['
        ...     b'{"fileName": "stdout", "fileSize": "6"}, {"fileName": "stderr", "fileSize": "0"}'
        ...     b'], "logAggregationType": "LOCAL"}}')
        ['stdout', 'stderr']
    """
    names: dict[str, None] = {}
    for info in _log_infos(_json(body, "container logs")):
        if info.get("logAggregationType", "LOCAL") != "LOCAL":
            continue
        for entry in _as_list(info.get("containerLogInfo")):
            if isinstance(entry, dict) and entry.get("fileName"):
                names[str(entry["fileName"])] = None
    return list(names)


def parse_container_files(body: bytes) -> list[str]:
    """The log file names in a ``/containers/<id>`` answer (``containerLogFiles``).

    Example:
        >>> parse_container_files(b'{"container": {"containerLogFiles": ["stdout", "stderr"]}}')
        ['stdout', 'stderr']
    """
    container = _json(body, "container").get("container") or {}
    return [str(name) for name in _as_list(container.get("containerLogFiles"))]


def unwrap_log_file(body: bytes, container_id: str, name: str) -> bytes:
    """A log file's bytes, without the header and footer Hadoop 3 NodeManagers add.

    A body without that envelope (from a Hadoop 2 NodeManager) is returned as is.

    Example:
        >>> unwrap_log_file(b"Container: c_1 on node:1\\nLogAggregationType: LOCAL\\n====\\n"
        ...     b"LogType:stdout\\nLogLastModifiedTime:Wed Nov 25 06:06:50 +0000 2026\\n"
        ...     b"LogLength:6\\nLogContents:\\nhello\\nEnd of LogType:stdout\\n****\\n\\n",
        ...     "c_1", "stdout")
        b'hello\\n'
        >>> unwrap_log_file(b"plain bytes", "c_1", "stdout")
        b'plain bytes'
    """
    match = _ENVELOPE.match(body)
    if (
        match is None
        or match["container"].decode("utf-8", "replace") != container_id
        or match["name"].decode("utf-8", "replace") != name
    ):
        return body
    start = match.end()
    end = start + int(match["length"])
    if body.startswith(_END, end):
        return body[start:end]
    # The file changed size while it was served: keep what came before the footer.
    footer = body.rfind(b"\n" + _END, start)
    return body[start : footer + 1] if footer >= 0 else body[start:]
