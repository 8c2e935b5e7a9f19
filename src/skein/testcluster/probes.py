"""Health probes and HDFS set-up over the daemons' HTTP endpoints.

Probing through the NameNode's JMX servlet, the ResourceManager's REST API and
WebHDFS costs a few milliseconds, where Hadoop's Java CLIs cost seconds each.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

__all__ = [
    "HdfsState",
    "NodeState",
    "hdfs_state",
    "port_in_use",
    "webhdfs",
    "yarn_nodes",
]

_TIMEOUT = 5.0


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
        return json.load(response)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


@dataclass(frozen=True, slots=True)
class HdfsState:
    """What the NameNode reports about itself."""

    live_datanodes: int
    safe_mode: str

    @property
    def healthy(self) -> bool:
        """Out of safe mode with at least one live DataNode."""
        return self.live_datanodes > 0 and not self.safe_mode


def hdfs_state(namenode_http: str) -> HdfsState | None:
    """The state of the NameNode at ``namenode_http`` (host:port), or None if it does not answer."""
    url = f"http://{namenode_http}/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo"
    try:
        beans = _get_json(url)["beans"]
    except (OSError, ValueError, KeyError):
        return None
    if not beans:
        return None
    info = beans[0]
    live = json.loads(info.get("LiveNodes") or "{}")
    return HdfsState(live_datanodes=len(live), safe_mode=str(info.get("Safemode", "")))


@dataclass(frozen=True, slots=True)
class NodeState:
    """One node as the ResourceManager reports it."""

    id: str
    state: str


def yarn_nodes(resourcemanager_http: str) -> list[NodeState] | None:
    """Every node the ResourceManager at ``resourcemanager_http`` (host:port) knows.

    Returns None when the ResourceManager does not answer (yet).
    """
    states = "NEW,RUNNING,UNHEALTHY,DECOMMISSIONED,DECOMMISSIONING,LOST,REBOOTED,SHUTDOWN"
    url = f"http://{resourcemanager_http}/ws/v1/cluster/nodes?states={states}"
    try:
        body = _get_json(url)
    except (OSError, ValueError):
        return None
    nodes = (body.get("nodes") or {}).get("node") or []
    return [NodeState(id=node["id"], state=node["state"]) for node in nodes]


def webhdfs(namenode_http: str, method: str, path: str, op: str, user: str, **params: str) -> Any:
    """Call WebHDFS operation ``op`` on ``path`` as ``user`` (simple authentication).

    Raises:
        OSError: the NameNode refused or failed the operation (the message is its reply).
    """
    query = urllib.parse.urlencode({"op": op, "user.name": user, **params})
    url = f"http://{namenode_http}/webhdfs/v1{path}?{query}"
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise OSError(f"WebHDFS {op} {path}: {exc.read().decode(errors='replace')}") from exc
    return json.loads(body) if body else None
