"""The Hadoop configuration of a test cluster, as site files.

The defaults aim at realism on a small machine: a capacity scheduler with a
parent queue of two leaves beside ``default``, 128 MiB minimum allocations so
dozens of containers fit, two AM attempts, log aggregation into HDFS, a
proxy-user rule, and YARN's default heartbeat intervals (nothing tuned down,
so tests cannot come to depend on fast clocks).

Users mirror a production cluster with overrides: ``--conf KEY=VALUE`` goes to
the site file its prefix belongs to, and ``--site FILE.xml`` is merged into the
site file of the same name.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path

from skein.errors import TestClusterError
from skein.testcluster.artifacts import HadoopJars
from skein.testcluster.layout import (
    DATANODE_PORTS,
    HOST,
    NAMENODE_HTTP_PORT,
    NAMENODE_RPC_PORT,
    RESOURCEMANAGER_PORTS,
    ClusterLayout,
    NodeManagerPorts,
    Users,
)

__all__ = [
    "DAEMON_ADDRESS_KEYS",
    "SITE_FILES",
    "SiteConfig",
    "apply_overrides",
    "base_config",
    "daemon_addresses",
    "node_manager_config",
    "read_config",
    "read_site_file",
    "site_file_for_key",
    "write_site_files",
]

SITE_FILES = ("core-site.xml", "hdfs-site.xml", "yarn-site.xml", "capacity-scheduler.xml")

SiteConfig = dict[str, dict[str, str]]
"""Site file name -> property name -> value."""

# The addresses each kind of daemon listens on, by purpose. Ports are read from
# the effective configuration, so overriding one with --conf is honoured by the
# port checks and health probes too.
DAEMON_ADDRESS_KEYS: dict[str, dict[str, tuple[str, str]]] = {
    "namenode": {
        "rpc": ("hdfs-site.xml", "dfs.namenode.rpc-address"),
        "http": ("hdfs-site.xml", "dfs.namenode.http-address"),
    },
    "datanode": {
        "data": ("hdfs-site.xml", "dfs.datanode.address"),
        "http": ("hdfs-site.xml", "dfs.datanode.http.address"),
        "ipc": ("hdfs-site.xml", "dfs.datanode.ipc.address"),
    },
    "resourcemanager": {
        "client": ("yarn-site.xml", "yarn.resourcemanager.address"),
        "scheduler": ("yarn-site.xml", "yarn.resourcemanager.scheduler.address"),
        "resource-tracker": ("yarn-site.xml", "yarn.resourcemanager.resource-tracker.address"),
        "admin": ("yarn-site.xml", "yarn.resourcemanager.admin.address"),
        "webapp": ("yarn-site.xml", "yarn.resourcemanager.webapp.address"),
    },
    "nodemanager": {
        "rpc": ("yarn-site.xml", "yarn.nodemanager.address"),
        "localizer": ("yarn-site.xml", "yarn.nodemanager.localizer.address"),
        "webapp": ("yarn-site.xml", "yarn.nodemanager.webapp.address"),
    },
}


def daemon_addresses(config: SiteConfig, kind: str) -> dict[str, tuple[str, int]]:
    """The (host, port) a daemon of ``kind`` listens on, by purpose.

    Raises:
        TestClusterError: an address is missing or has no valid port.
    """
    addresses = {}
    for purpose, (site, key) in DAEMON_ADDRESS_KEYS[kind].items():
        value = config.get(site, {}).get(key, "")
        host, _, port = value.rpartition(":")
        if not port.isdigit():
            raise TestClusterError(f"{key} = {value!r} in {site}: expected HOST:PORT")
        addresses[purpose] = (host or HOST, int(port))
    return addresses


def read_config(conf_dir: Path) -> SiteConfig:
    """Read every site file of a configuration directory."""
    return {
        name: read_site_file(conf_dir / name) if (conf_dir / name).exists() else {}
        for name in SITE_FILES
    }


# Sized for a 2-core, 24 GiB machine: memory is what limits YARN here (the
# default resource calculator ignores vcores), so each NodeManager offers 8 GiB.
NODE_MEMORY_MB = 8192
NODE_VCORES = 16


def _capacity_scheduler() -> dict[str, str]:
    queues = {
        # root.default plus a parent "apps" with two leaves, so tests can move
        # applications between queues and see a queue hierarchy.
        "root": {"queues": "default,apps"},
        "root.default": {"capacity": "50"},
        "root.apps": {"capacity": "50", "queues": "dev,prod"},
        "root.apps.dev": {"capacity": "50"},
        "root.apps.prod": {"capacity": "50"},
    }
    conf = {
        "yarn.scheduler.capacity.maximum-applications": "1000",
        # Many small applications at once (tests submit several): allow AMs up
        # to half a queue's resources instead of the default tenth.
        "yarn.scheduler.capacity.maximum-am-resource-percent": "0.5",
        "yarn.scheduler.capacity.resource-calculator": (
            "org.apache.hadoop.yarn.util.resource.DefaultResourceCalculator"
        ),
        "yarn.scheduler.capacity.node-locality-delay": "-1",
    }
    for queue, settings in queues.items():
        prefix = f"yarn.scheduler.capacity.{queue}"
        for key, value in settings.items():
            conf[f"{prefix}.{key}"] = value
        if "queues" not in settings:  # leaf queue
            conf[f"{prefix}.maximum-capacity"] = "100"
            conf[f"{prefix}.user-limit-factor"] = "10"
            conf[f"{prefix}.state"] = "RUNNING"
            conf[f"{prefix}.acl_submit_applications"] = "*"
            conf[f"{prefix}.acl_administer_queue"] = "*"
    return conf


def base_config(layout: ClusterLayout, users: Users, jars: HadoopJars) -> SiteConfig:
    """The shared configuration: clients, HDFS daemons and the ResourceManager read it."""
    data = layout.data_dir
    core = {
        "fs.defaultFS": f"hdfs://{HOST}:{NAMENODE_RPC_PORT}",
        "hadoop.tmp.dir": str(data / "tmp-${user.name}"),
        "hadoop.security.authentication": "simple",
        # The submitter may act for one user and not for another, so proxy-user
        # checks are exercised both ways.
        f"hadoop.proxyuser.{users.submitter}.users": users.proxied,
        f"hadoop.proxyuser.{users.submitter}.hosts": "*",
    }
    hdfs = {
        "dfs.replication": "1",
        "dfs.namenode.name.dir": str(data / "hdfs" / "name"),
        "dfs.datanode.data.dir": str(data / "hdfs" / "data"),
        "dfs.namenode.rpc-address": f"{HOST}:{NAMENODE_RPC_PORT}",
        "dfs.namenode.http-address": f"{HOST}:{NAMENODE_HTTP_PORT}",
        "dfs.datanode.address": f"{HOST}:{DATANODE_PORTS['data']}",
        "dfs.datanode.http.address": f"{HOST}:{DATANODE_PORTS['http']}",
        "dfs.datanode.ipc.address": f"{HOST}:{DATANODE_PORTS['ipc']}",
        "dfs.permissions.enabled": "true",
        "dfs.permissions.superusergroup": users.group or "supergroup",
        # An empty namespace has nothing to wait for; without this every warm
        # start would sit 30 s in safe mode.
        "dfs.namenode.safemode.extension": "0",
        "dfs.webhdfs.enabled": "true",
    }
    rm = RESOURCEMANAGER_PORTS
    yarn = {
        "yarn.resourcemanager.hostname": HOST,
        "yarn.resourcemanager.address": f"{HOST}:{rm['client']}",
        "yarn.resourcemanager.scheduler.address": f"{HOST}:{rm['scheduler']}",
        "yarn.resourcemanager.resource-tracker.address": f"{HOST}:{rm['resource-tracker']}",
        "yarn.resourcemanager.admin.address": f"{HOST}:{rm['admin']}",
        "yarn.resourcemanager.webapp.address": f"{HOST}:{rm['webapp']}",
        "yarn.resourcemanager.scheduler.class": (
            "org.apache.hadoop.yarn.server.resourcemanager.scheduler.capacity.CapacityScheduler"
        ),
        "yarn.resourcemanager.am.max-attempts": "2",
        "yarn.scheduler.minimum-allocation-mb": "128",
        "yarn.scheduler.maximum-allocation-mb": str(NODE_MEMORY_MB),
        "yarn.scheduler.minimum-allocation-vcores": "1",
        "yarn.scheduler.maximum-allocation-vcores": "8",
        "yarn.nodemanager.resource.memory-mb": str(NODE_MEMORY_MB),
        "yarn.nodemanager.resource.cpu-vcores": str(NODE_VCORES),
        "yarn.nodemanager.vmem-check-enabled": "false",
        "yarn.nodemanager.pmem-check-enabled": "false",
        # A shared build machine's disk is often fuller than the default 90 %.
        "yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage": "99",
        "yarn.nodemanager.aux-services": "",
        "yarn.log-aggregation-enable": "true",
        "yarn.nodemanager.remote-app-log-dir": "/tmp/logs",
        "yarn.log-aggregation.retain-seconds": "86400",
        "yarn.nodemanager.log.retain-seconds": "3600",
        # Containers that run Java (distributed shell's AM) find Hadoop here;
        # there is no HADOOP_HOME layout, only the jar cache.
        "yarn.application.classpath": ",".join(
            [str(layout.conf_dir), f"{jars.lib_dir}/*", f"{jars.distributed_shell_dir}/*"]
        ),
        "yarn.acl.enable": "false",
    }
    return {
        "core-site.xml": core,
        "hdfs-site.xml": hdfs,
        "yarn-site.xml": yarn,
        "capacity-scheduler.xml": _capacity_scheduler(),
    }


def node_manager_config(
    base: SiteConfig, layout: ClusterLayout, name: str, ports: NodeManagerPorts
) -> SiteConfig:
    """The configuration of one NodeManager: the shared one plus its own ports and dirs."""
    node_dir = layout.node_dir(name)
    config = {file: dict(props) for file, props in base.items()}
    config["yarn-site.xml"].update(
        {
            # A fixed address keeps the NodeId stable, so a restarted node is
            # the same node to the ResourceManager.
            "yarn.nodemanager.hostname": HOST,
            "yarn.nodemanager.address": f"{HOST}:{ports.rpc}",
            "yarn.nodemanager.localizer.address": f"{HOST}:{ports.localizer}",
            "yarn.nodemanager.webapp.address": f"{HOST}:{ports.webapp}",
            "yarn.nodemanager.local-dirs": str(node_dir / "local"),
            "yarn.nodemanager.log-dirs": str(node_dir / "logs"),
            "yarn.nodemanager.recovery.enabled": "false",
        }
    )
    return config


def site_file_for_key(key: str) -> str:
    """The site file a property belongs in, judged by its prefix."""
    if key.startswith("yarn.scheduler.capacity."):
        return "capacity-scheduler.xml"
    if key.startswith("yarn."):
        return "yarn-site.xml"
    if key.startswith(("dfs.", "hdfs.")):
        return "hdfs-site.xml"
    return "core-site.xml"


def read_site_file(path: Path) -> dict[str, str]:
    """Read the properties of a Hadoop site file.

    Raises:
        TestClusterError: the file is missing or not a Hadoop configuration file.
    """
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise TestClusterError(f"cannot read site file {path}: {exc}") from exc
    if root.tag != "configuration":
        raise TestClusterError(f"{path} is not a Hadoop site file (root element <{root.tag}>)")
    props: dict[str, str] = {}
    for prop in root.iter("property"):
        name = prop.findtext("name")
        if not name:
            raise TestClusterError(f"{path}: a <property> has no <name>")
        props[name.strip()] = (prop.findtext("value") or "").strip()
    return props


def apply_overrides(
    config: SiteConfig, conf: Iterable[str] = (), site_files: Iterable[Path] = ()
) -> SiteConfig:
    """Return ``config`` with ``--site`` files merged in, then ``--conf KEY=VALUE`` pairs.

    Raises:
        TestClusterError: a pair has no ``=``, or a site file's name is not one of
            :data:`SITE_FILES`.
    """
    merged = {file: dict(props) for file, props in config.items()}
    for path in site_files:
        if path.name not in SITE_FILES:
            raise TestClusterError(
                f"--site {path}: the file name must be one of {', '.join(SITE_FILES)}"
            )
        merged[path.name].update(read_site_file(path))
    for pair in conf:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise TestClusterError(f"--conf {pair!r}: expected KEY=VALUE")
        merged[site_file_for_key(key.strip())][key.strip()] = value
    return merged


def _to_xml(props: Mapping[str, str]) -> str:
    root = ET.Element("configuration")
    for name in sorted(props):
        prop = ET.SubElement(root, "property")
        ET.SubElement(prop, "name").text = name
        ET.SubElement(prop, "value").text = props[name]
    ET.indent(root)
    return '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# Daemons log to the console; the launcher sends it to one file per daemon.
_LOG4J = """\
hadoop.root.logger=INFO,console
log4j.rootLogger=${hadoop.root.logger}
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
log4j.logger.org.apache.hadoop.conf.Configuration.deprecation=WARN
"""


def write_site_files(config: SiteConfig, conf_dir: Path) -> None:
    """Write ``config`` as site files (plus logging settings) into ``conf_dir``."""
    conf_dir.mkdir(parents=True, exist_ok=True)
    conf_dir.chmod(0o755)
    for name, props in config.items():
        path = conf_dir / name
        path.write_text(_to_xml(props))
        path.chmod(0o644)
    (conf_dir / "log4j.properties").write_text(_LOG4J)
    (conf_dir / "log4j.properties").chmod(0o644)
