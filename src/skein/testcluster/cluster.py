"""A real HDFS + YARN on this machine: one NameNode, one DataNode, a ResourceManager
(with its web proxy) and N NodeManagers, each its own JVM, on loopback.

Example:
    >>> from skein.testcluster import TestCluster
    >>> cluster = TestCluster()  # doctest: +SKIP
    >>> cluster.up(nodes=2)  # doctest: +SKIP
    >>> cluster.kill_node("nm1"); cluster.start_node("nm1")  # doctest: +SKIP
    >>> print(cluster.yarn("node", "-list", "-all").stdout)  # doctest: +SKIP
    >>> cluster.down()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from skein.errors import TestClusterError
from skein.testcluster import daemons, probes
from skein.testcluster.artifacts import DEFAULT_HADOOP_VERSION, HadoopJars, fetch_hadoop
from skein.testcluster.daemons import Daemon
from skein.testcluster.layout import ClusterLayout, NodeManagerPorts, Users, default_state_dir
from skein.testcluster.siteconfig import (
    SiteConfig,
    apply_overrides,
    base_config,
    daemon_addresses,
    node_manager_config,
    read_config,
    write_site_files,
)

__all__ = ["ClusterSettings", "ClusterStatus", "DaemonStatus", "TestCluster"]

_NAMENODE = "org.apache.hadoop.hdfs.server.namenode.NameNode"
_DATANODE = "org.apache.hadoop.hdfs.server.datanode.DataNode"
_RESOURCEMANAGER = "org.apache.hadoop.yarn.server.resourcemanager.ResourceManager"
_NODEMANAGER = "org.apache.hadoop.yarn.server.nodemanager.NodeManager"

# Hadoop's `yarn` and `hdfs` scripts map subcommands to these classes; a few
# take the subcommand itself as their first argument.
_YARN_COMMANDS = {
    "application": "org.apache.hadoop.yarn.client.cli.ApplicationCLI",
    "app": "org.apache.hadoop.yarn.client.cli.ApplicationCLI",
    "applicationattempt": "org.apache.hadoop.yarn.client.cli.ApplicationCLI",
    "container": "org.apache.hadoop.yarn.client.cli.ApplicationCLI",
    "node": "org.apache.hadoop.yarn.client.cli.NodeCLI",
    "queue": "org.apache.hadoop.yarn.client.cli.QueueCLI",
    "logs": "org.apache.hadoop.yarn.client.cli.LogsCLI",
    "rmadmin": "org.apache.hadoop.yarn.client.cli.RMAdminCLI",
    "cluster": "org.apache.hadoop.yarn.client.cli.ClusterCLI",
    "jar": "org.apache.hadoop.util.RunJar",
    "version": "org.apache.hadoop.util.VersionInfo",
}
_YARN_PASS_SUBCOMMAND = {"application", "app", "applicationattempt", "container"}
_HDFS_COMMANDS = {
    "dfs": "org.apache.hadoop.fs.FsShell",
    "dfsadmin": "org.apache.hadoop.hdfs.tools.DFSAdmin",
    "getconf": "org.apache.hadoop.hdfs.tools.GetConf",
    "fsck": "org.apache.hadoop.hdfs.tools.DFSck",
    "version": "org.apache.hadoop.util.VersionInfo",
}
_DISTRIBUTED_SHELL = "org.apache.hadoop.yarn.applications.distributedshell.Client"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterSettings:
    """What ``up`` was asked for; a running cluster is reused only if they match."""

    hadoop_version: str = DEFAULT_HADOOP_VERSION
    nodes: int = 2
    conf: tuple[str, ...] = ()
    site_files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DaemonStatus:
    """One daemon: whether it runs, its pid and its log file."""

    name: str
    running: bool
    pid: int | None
    log_file: Path


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    """The state of every daemon, the RM's view of the nodes, and HDFS."""

    daemons: tuple[DaemonStatus, ...]
    nodes: tuple[probes.NodeState, ...] | None
    hdfs: probes.HdfsState | None
    settings: ClusterSettings | None = field(default=None)

    @property
    def running(self) -> bool:
        """Whether any daemon of the cluster is running."""
        return any(d.running for d in self.daemons)


def _print(message: str) -> None:
    print(message, flush=True)


class TestCluster:
    """Controls the local test cluster kept in one state directory.

    Every method works from any process: state is kept in files (settings,
    configuration, pid files) under ``state_dir``.

    Args:
        state_dir: where the cluster keeps everything (default:
            :func:`skein.testcluster.layout.default_state_dir`).
        log: receives progress lines.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self, state_dir: Path | None = None, *, log: Callable[[str], None] = _print
    ) -> None:
        self.layout = ClusterLayout(state_dir or default_state_dir())
        self.users = Users.for_current_process()
        self._log = log

    # -- settings and daemons -------------------------------------------------

    def settings(self) -> ClusterSettings | None:
        """The settings of the last ``up``, or None if there was none."""
        try:
            raw = json.loads(self.layout.state_file.read_text())
        except (OSError, ValueError):
            return None
        return ClusterSettings(
            hadoop_version=raw["hadoop_version"],
            nodes=raw["nodes"],
            conf=tuple(raw["conf"]),
            site_files=tuple(raw["site_files"]),
        )

    @staticmethod
    def node_names(nodes: int) -> list[str]:
        """The names of ``nodes`` NodeManagers: ``nm1``, ``nm2``, ..."""
        return [f"nm{i + 1}" for i in range(nodes)]

    def _daemons(self, nodes: int) -> list[Daemon]:
        layout, users = self.layout, self.users
        conf = layout.conf_dir
        found = [
            Daemon(
                name="namenode", main_class=_NAMENODE, user=users.hdfs, conf_dir=conf, heap_mb=512
            ),
            Daemon(
                name="datanode", main_class=_DATANODE, user=users.hdfs, conf_dir=conf, heap_mb=256
            ),
            Daemon(
                name="resourcemanager",
                main_class=_RESOURCEMANAGER,
                user=users.yarn,
                conf_dir=conf,
                heap_mb=768,
            ),
        ]
        for name in self.node_names(nodes):
            found.append(
                Daemon(
                    name=name,
                    main_class=_NODEMANAGER,
                    user=users.yarn,
                    conf_dir=layout.node_conf_dir(name),
                    heap_mb=384,
                )
            )
        return found

    def _addresses(self, daemon: Daemon) -> dict[str, tuple[str, int]]:
        """Where ``daemon`` listens, from its configuration on disk."""
        kind = "nodemanager" if daemon.is_node_manager else daemon.name
        return daemon_addresses(read_config(daemon.conf_dir), kind)

    def _http(self, kind: str) -> str:
        """host:port of the NameNode's or ResourceManager's web server."""
        purpose = "http" if kind == "namenode" else "webapp"
        host, port = daemon_addresses(read_config(self.layout.conf_dir), kind)[purpose]
        return f"{host}:{port}"

    # -- up -------------------------------------------------------------------

    def up(
        self,
        *,
        nodes: int = 2,
        hadoop_version: str = DEFAULT_HADOOP_VERSION,
        conf: Sequence[str] = (),
        site_files: Sequence[Path] = (),
        timeout: float = 240.0,
    ) -> None:
        """Start the cluster and return when it is healthy; reuse it if it is running.

        Healthy means: the ResourceManager reports ``nodes`` RUNNING NodeManagers
        and HDFS has left safe mode with a live DataNode.

        Args:
            nodes: how many NodeManagers.
            hadoop_version: the Hadoop release to run.
            conf: ``KEY=VALUE`` settings that override the defaults.
            site_files: Hadoop site files merged into the generated ones of the same name.
            timeout: seconds to wait for health.

        Raises:
            TestClusterError: Java or Maven is missing, a port is taken, a daemon
                died at start (the message names its log), or a different cluster
                is already running. Daemons started by this call are stopped again.
        """
        if nodes < 1:
            raise TestClusterError(f"--nodes must be at least 1, not {nodes}")
        settings = ClusterSettings(
            hadoop_version=hadoop_version,
            nodes=nodes,
            conf=tuple(conf),
            site_files=tuple(str(Path(p).resolve()) for p in site_files),
        )
        java = daemons.find_java()
        running = self.status()
        if running.running and running.settings not in (None, settings):
            raise TestClusterError(
                f"a test cluster with other settings is running in {self.layout.root} "
                f"({running.settings}); run 'skein-cluster down' first"
            )
        jars = fetch_hadoop(hadoop_version, log=self._log)
        if self.users.separate:
            self._ensure_users()
            self._check_reachable()
        if not running.running:
            self._write_configuration(settings, jars)
        all_daemons = self._daemons(nodes)
        to_start = [d for d in all_daemons if not daemons.is_running(self.layout, d.name)]
        if to_start:
            self._check_ports(to_start)
            if any(d.name == "namenode" for d in to_start):
                self._format_namenode(java, jars)
            self._log(f"Starting {', '.join(d.name for d in to_start)} (Hadoop {hadoop_version})")
            started: list[str] = []
            try:
                for daemon in to_start:
                    daemons.start(
                        self.layout,
                        daemon,
                        java=java,
                        classpath=jars.classpath,
                        separate_users=self.users.separate,
                        group=self.users.group,
                    )
                    started.append(daemon.name)
                self._wait_healthy(nodes, started, timeout)
            except BaseException:
                daemons.stop(self.layout, started, kill=True)
                raise
        else:
            self._wait_healthy(nodes, [], timeout)
        self._prepare_hdfs()
        self.layout.state_file.write_text(json.dumps(asdict(settings), indent=2) + "\n")
        self._log(f"Cluster is up: {nodes} NodeManager(s) RUNNING, HDFS out of safe mode")

    def _ensure_users(self) -> None:
        users = self.users
        try:
            grp.getgrnam(users.group)
        except KeyError:
            subprocess.run(["groupadd", "--system", users.group], check=True)
        for name in (users.hdfs, users.yarn, users.proxied, users.not_proxied):
            try:
                pwd.getpwnam(name)
            except KeyError:
                daemon_user = name in (users.hdfs, users.yarn)
                subprocess.run(
                    [
                        "useradd",
                        *(["--system", "--gid", users.group] if daemon_user else []),
                        "--no-create-home",
                        "--shell",
                        "/usr/sbin/nologin",
                        name,
                    ],
                    check=True,
                )

    def _check_reachable(self) -> None:
        """Daemons run as other users: every folder above the state dir must let them through."""
        for folder in [self.layout.root, *self.layout.root.parents]:
            if folder.exists() and not folder.stat().st_mode & 0o001:
                raise TestClusterError(
                    f"the state directory {self.layout.root} is not reachable by the daemon "
                    f"users ({self.users.hdfs}, {self.users.yarn}): {folder} has mode "
                    f"{folder.stat().st_mode & 0o777:o}; choose another --dir"
                )

    def _write_configuration(self, settings: ClusterSettings, jars: HadoopJars) -> None:
        layout = self.layout
        for path in (layout.root, layout.data_dir, layout.logs_dir, layout.run_dir):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o755)
        base: SiteConfig = apply_overrides(
            base_config(layout, self.users, jars),
            settings.conf,
            [Path(p) for p in settings.site_files],
        )
        write_site_files(base, layout.conf_dir)
        for index, name in enumerate(self.node_names(settings.nodes)):
            node_config = node_manager_config(base, layout, name, NodeManagerPorts.for_index(index))
            # Overrides win over the per-node defaults too.
            node_config = apply_overrides(
                node_config, settings.conf, [Path(p) for p in settings.site_files]
            )
            write_site_files(node_config, layout.node_conf_dir(name))
            node_dir = layout.node_dir(name)
            # A NodeManager starts from clean local dirs, as after a reboot.
            shutil.rmtree(node_dir, ignore_errors=True)
            for sub in ("local", "logs"):
                (node_dir / sub).mkdir(parents=True, exist_ok=True)
            self._chown_tree(node_dir, self.users.yarn)
        hdfs_dir = layout.data_dir / "hdfs"
        hdfs_dir.mkdir(parents=True, exist_ok=True)
        self._chown_tree(hdfs_dir, self.users.hdfs)

    def _chown_tree(self, path: Path, user: str) -> None:
        if not self.users.separate:
            return
        for entry in [path, *path.rglob("*")]:
            shutil.chown(entry, user, self.users.group)

    def _check_ports(self, to_start: Iterable[Daemon]) -> None:
        for daemon in to_start:
            for purpose, (host, port) in self._addresses(daemon).items():
                if probes.port_in_use(port, host):
                    raise TestClusterError(
                        f"cannot start {daemon.name}: port {port} ({purpose}) is already in use "
                        "by another program; stop it, or override the port with --conf"
                    )

    def _format_namenode(self, java: str, jars: HadoopJars) -> None:
        name_dir = self.layout.data_dir / "hdfs" / "name"
        if (name_dir / "current" / "VERSION").exists():
            return
        self._log("Formatting HDFS (first start)")
        name_dir.parent.mkdir(parents=True, exist_ok=True)
        self._chown_tree(name_dir.parent, self.users.hdfs)
        log_path = self.layout.log_file("namenode-format")
        command = daemons.java_command(
            java,
            f"{self.layout.conf_dir}:{jars.classpath}",
            _NAMENODE,
            ["-format", "-nonInteractive", "-force"],
            256,
            self.layout.logs_dir,
        )
        with log_path.open("w") as log:
            result = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={"PATH": daemons.SYSTEM_PATH, "JAVA_HOME": daemons.java_home(java)},
                user=self.users.hdfs if self.users.separate else None,
                group=self.users.group if self.users.separate else None,
                extra_groups=[] if self.users.separate else None,
                check=False,
                timeout=120,
            )
        if result.returncode != 0:
            raise TestClusterError(f"formatting HDFS failed; read {log_path}")

    def _wait_healthy(self, nodes: int, started: Sequence[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            for name in started:
                if not daemons.is_running(self.layout, name):
                    raise TestClusterError(
                        f"{name} exited while starting; read {self.layout.log_file(name)}"
                        + _tail(self.layout.log_file(name))
                    )
            hdfs = probes.hdfs_state(self._http("namenode"))
            node_list = probes.yarn_nodes(self._http("resourcemanager"))
            running = sum(1 for n in (node_list or []) if n.state == "RUNNING")
            if hdfs is None:
                waiting = "the NameNode to answer"
            elif hdfs.live_datanodes == 0:
                waiting = "the DataNode to register with the NameNode"
            elif hdfs.safe_mode:
                waiting = "HDFS to leave safe mode"
            elif node_list is None:
                waiting = "the ResourceManager to answer"
            elif running < nodes:
                waiting = f"NodeManagers to register ({running}/{nodes} RUNNING)"
            else:
                return
            if waiting != last:
                self._log(f"  waiting for {waiting}...")
                last = waiting
            if time.monotonic() > deadline:
                raise TestClusterError(
                    f"the cluster was not healthy after {timeout:.0f} s: still waiting for "
                    f"{waiting}; daemon logs are in {self.layout.logs_dir}"
                )
            time.sleep(0.5)

    def _prepare_hdfs(self) -> None:
        users = self.users
        superuser = users.hdfs
        dirs = [
            ("/tmp", "1777", superuser),
            ("/tmp/logs", "1777", users.yarn),
            ("/user", "755", superuser),
            *(
                (f"/user/{u}", "755", u)
                for u in (users.submitter, users.proxied, users.not_proxied)
            ),
        ]
        namenode = self._http("namenode")
        for path, permission, owner in dirs:
            probes.webhdfs(namenode, "PUT", path, "MKDIRS", superuser, permission=permission)
            probes.webhdfs(namenode, "PUT", path, "SETPERMISSION", superuser, permission=permission)
            group = users.group or owner
            probes.webhdfs(namenode, "PUT", path, "SETOWNER", superuser, owner=owner, group=group)

    # -- status and down ------------------------------------------------------

    def status(self) -> ClusterStatus:
        """The state of the cluster's daemons, nodes and HDFS."""
        settings = self.settings()
        nodes = settings.nodes if settings else 0
        known = {d.name for d in self._daemons(nodes)}
        # NodeManagers of an earlier, larger cluster still count if running.
        if self.layout.run_dir.exists():
            known |= {p.stem for p in self.layout.run_dir.glob("*.pid")}
        statuses = tuple(
            DaemonStatus(
                name=name,
                running=daemons.is_running(self.layout, name),
                pid=daemons.read_pid(self.layout, name),
                log_file=self.layout.log_file(name),
            )
            for name in _ordered(known)
        )
        any_running = any(s.running for s in statuses)
        node_list = probes.yarn_nodes(self._http("resourcemanager")) if any_running else None
        hdfs = probes.hdfs_state(self._http("namenode")) if any_running else None
        return ClusterStatus(
            daemons=statuses,
            nodes=tuple(node_list) if node_list is not None else None,
            hdfs=hdfs,
            settings=settings,
        )

    def down(self) -> None:
        """Stop every process the cluster started, containers included. Data is kept."""
        names = [d.name for d in self.status().daemons]
        daemons.stop(self.layout, names)
        strays = daemons.kill_strays(self.layout.data_dir)
        if strays:
            self._log(f"Killed {strays} leftover container process(es)")
        self._log("Cluster is down")

    # -- fault controls -------------------------------------------------------

    def _node(self, name: str) -> Daemon:
        settings = self.settings()
        for daemon in self._daemons(settings.nodes if settings else 0):
            if daemon.name == name and daemon.is_node_manager:
                return daemon
        raise TestClusterError(
            f"no NodeManager named {name!r}; the cluster has "
            f"{', '.join(self.node_names(settings.nodes if settings else 0)) or 'none'}"
        )

    def stop_node(self, name: str) -> None:
        """Stop NodeManager ``name`` gracefully (the RM then reports it SHUTDOWN)."""
        daemons.stop(self.layout, [self._node(name).name])

    def kill_node(self, name: str) -> None:
        """SIGKILL NodeManager ``name``: the RM notices only when its liveness expires."""
        daemons.stop(self.layout, [self._node(name).name], kill=True)

    def start_node(self, name: str, *, timeout: float = 120.0) -> None:
        """Start NodeManager ``name`` again and wait until the RM reports it RUNNING."""
        daemon = self._node(name)
        settings = self.settings()
        assert settings is not None  # _node found it, so there are settings
        if not daemons.is_running(self.layout, name):
            self._check_ports([daemon])
            jars = fetch_hadoop(settings.hadoop_version, log=self._log)
            daemons.start(
                self.layout,
                daemon,
                java=daemons.find_java(),
                classpath=jars.classpath,
                separate_users=self.users.separate,
                group=self.users.group,
            )
        host, port = self._addresses(daemon)["rpc"]
        node_id = f"{host}:{port}"
        resourcemanager = self._http("resourcemanager")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not daemons.is_running(self.layout, name):
                raise TestClusterError(
                    f"{name} exited while starting; read {self.layout.log_file(name)}"
                )
            nodes = probes.yarn_nodes(resourcemanager) or []
            if any(n.id == node_id and n.state == "RUNNING" for n in nodes):
                return
            time.sleep(0.5)
        raise TestClusterError(f"{name} did not register with the ResourceManager in {timeout} s")

    def restart_node(self, name: str) -> None:
        """Stop NodeManager ``name`` gracefully, then start it again."""
        self.stop_node(name)
        self.start_node(name)

    # -- clients --------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Environment variables that point Hadoop clients (ours and Java's) at the cluster."""
        conf = str(self.layout.conf_dir)
        return {
            "HADOOP_CONF_DIR": conf,
            "YARN_CONF_DIR": conf,
            "SKEIN_CLUSTER_DIR": str(self.layout.root),
        }

    def _jars(self) -> HadoopJars:
        settings = self.settings()
        if settings is None:
            raise TestClusterError("the test cluster was never started; run 'skein-cluster up'")
        return fetch_hadoop(settings.hadoop_version, log=self._log)

    def java_cli(
        self,
        main_class: str,
        args: Sequence[str],
        *,
        capture: bool = True,
        timeout: float = 300,
        extra_classpath: str = "",
    ) -> subprocess.CompletedProcess[str]:
        """Run a Hadoop Java CLI class against the cluster as the current user."""
        java = daemons.find_java()
        classpath = f"{self.layout.conf_dir}:{self._jars().classpath}"
        if extra_classpath:
            classpath += f":{extra_classpath}"
        command = [
            java,
            "-Xmx256m",
            "-XX:TieredStopAtLevel=1",  # CLIs are short-lived: start fast
            *daemons.JAVA_OPTIONS,
            "-Dhadoop.root.logger=WARN,console",
            "-cp",
            classpath,
            main_class,
            *args,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HADOOP_", "YARN_"))}
        env.update(self.env())
        return subprocess.run(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=capture,
            text=True,
            check=False,
            timeout=timeout,
        )

    def yarn(self, *args: str, capture: bool = True) -> subprocess.CompletedProcess[str]:
        """Run Hadoop's ``yarn`` CLI, e.g. ``cluster.yarn("node", "-list", "-all")``."""
        if not args or args[0] not in _YARN_COMMANDS:
            raise TestClusterError(f"yarn subcommand must be one of {', '.join(_YARN_COMMANDS)}")
        sub, *rest = args
        if sub in _YARN_PASS_SUBCOMMAND:
            rest = ["application" if sub == "app" else sub, *rest]
        return self.java_cli(_YARN_COMMANDS[sub], rest, capture=capture)

    def hdfs(self, *args: str, capture: bool = True) -> subprocess.CompletedProcess[str]:
        """Run Hadoop's ``hdfs`` CLI, e.g. ``cluster.hdfs("dfs", "-ls", "/")``."""
        if not args or args[0] not in _HDFS_COMMANDS:
            raise TestClusterError(f"hdfs subcommand must be one of {', '.join(_HDFS_COMMANDS)}")
        return self.java_cli(_HDFS_COMMANDS[args[0]], args[1:], capture=capture)

    def distributed_shell(
        self, *args: str, capture: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Submit YARN's distributed-shell example, e.g. ``("-shell_command", "date")``.

        The client blocks until the application ends, as the real one does.
        """
        jars = self._jars()
        return self.java_cli(
            _DISTRIBUTED_SHELL,
            ["-jar", str(jars.distributed_shell_jar), *args],
            capture=capture,
            extra_classpath=f"{jars.distributed_shell_dir}/*",
        )

    def logs(self, daemon: str | None = None) -> str:
        """The log of ``daemon``, or a list of the available logs."""
        if daemon is None:
            return "\n".join(str(p) for p in sorted(self.layout.logs_dir.glob("*.log")))
        path = self.layout.log_file(daemon)
        try:
            return path.read_text(errors="replace")
        except OSError as exc:
            raise TestClusterError(f"no log for {daemon!r} ({path})") from exc


def _ordered(names: Iterable[str]) -> list[str]:
    fixed = ["namenode", "datanode", "resourcemanager"]
    rest = sorted(
        (n for n in names if n not in fixed),
        key=lambda n: (not n.startswith("nm"), int(n[2:]) if n[2:].isdigit() else 0, n),
    )
    return [n for n in fixed if n in names] + rest


def _tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return "\n  last lines:\n    " + "\n    ".join(text)
    return ""
