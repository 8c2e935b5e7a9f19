"""Where a test cluster keeps its files, which ports it uses, and which users run it.

Everything a cluster owns lives under one state directory (configuration,
HDFS and NodeManager data, logs, pid files), so ``down`` and a fresh ``up`` can
reason about it, and nothing is written to the repository.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ClusterLayout",
    "NodeManagerPorts",
    "Users",
    "default_state_dir",
]

# Hadoop's standard ports, so a client that only knows the defaults still finds
# the cluster. NodeManagers get a block of ten ports each from NODE_PORT_BASE.
NAMENODE_RPC_PORT = 8020
NAMENODE_HTTP_PORT = 9870
DATANODE_PORTS = {"data": 9866, "http": 9864, "ipc": 9867}
RESOURCEMANAGER_PORTS = {
    "client": 8032,
    "scheduler": 8030,
    "resource-tracker": 8031,
    "admin": 8033,
    "webapp": 8088,
}
NODE_PORT_BASE = 45400

HOST = "localhost"


def default_state_dir() -> Path:
    """The cluster's state directory: ``$SKEIN_CLUSTER_DIR`` if set, else a per-user location.

    Root uses ``/var/lib/skein/testcluster``, because the daemon users (``hdfs``,
    ``yarn``) must be able to traverse it, and root's home usually is private.
    """
    if override := os.environ.get("SKEIN_CLUSTER_DIR"):
        return Path(override)
    if os.geteuid() == 0:
        return Path("/var/lib/skein/testcluster")
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "skein" / "testcluster"


@dataclass(frozen=True, slots=True)
class Users:
    """The OS users of a cluster.

    Started as root, HDFS runs as ``hdfs`` and YARN as ``yarn`` (so containers
    run as ``yarn``), as on real clusters; ``submitter`` is who runs clients.
    ``proxied`` is a user the submitter may impersonate, ``not_proxied`` one it may not.
    Started as another user, every daemon runs as that user.
    """

    hdfs: str
    yarn: str
    submitter: str
    proxied: str
    not_proxied: str
    group: str

    @classmethod
    def for_current_process(cls) -> Users:
        """The users a cluster started by this process uses."""
        me = pwd.getpwuid(os.geteuid()).pw_name
        if os.geteuid() == 0:
            return cls(
                hdfs="hdfs",
                yarn="yarn",
                submitter=me,
                proxied="alice",
                not_proxied="bob",
                group="hadoop",
            )
        return cls(hdfs=me, yarn=me, submitter=me, proxied="alice", not_proxied="bob", group="")

    @property
    def separate(self) -> bool:
        """Whether daemons run as their own users (only when started as root)."""
        return self.hdfs != self.submitter


@dataclass(frozen=True, slots=True)
class NodeManagerPorts:
    """The ports of one NodeManager."""

    rpc: int
    localizer: int
    webapp: int

    @classmethod
    def for_index(cls, index: int) -> NodeManagerPorts:
        """Ports of the NodeManager numbered ``index`` (0-based)."""
        base = NODE_PORT_BASE + 10 * index
        return cls(rpc=base, localizer=base + 1, webapp=base + 2)


@dataclass(frozen=True, slots=True)
class ClusterLayout:
    """Paths under one cluster state directory."""

    root: Path

    @property
    def conf_dir(self) -> Path:
        """The client configuration (HADOOP_CONF_DIR); also used by HDFS and the RM."""
        return self.root / "conf"

    def node_conf_dir(self, name: str) -> Path:
        """A NodeManager's own configuration (its ports and local dirs differ)."""
        return self.root / f"conf-{name}"

    @property
    def logs_dir(self) -> Path:
        """Daemon logs, one file per daemon."""
        return self.root / "logs"

    @property
    def run_dir(self) -> Path:
        """Pid files."""
        return self.root / "run"

    @property
    def data_dir(self) -> Path:
        """HDFS and NodeManager data."""
        return self.root / "data"

    @property
    def state_file(self) -> Path:
        """The settings of the cluster, written at ``up``."""
        return self.root / "cluster.json"

    def log_file(self, daemon: str) -> Path:
        """The log file of ``daemon``."""
        return self.logs_dir / f"{daemon}.log"

    def pid_file(self, daemon: str) -> Path:
        """The pid file of ``daemon``."""
        return self.run_dir / f"{daemon}.pid"

    def node_dir(self, name: str) -> Path:
        """A NodeManager's local and log dirs live here."""
        return self.data_dir / name
