"""Hadoop's jars, fetched once from Maven Central and cached by version.

There is no Hadoop package in the usual Linux distributions, and the binary
tarball is not on Maven Central, so the test cluster assembles Hadoop from its
Maven artifacts: the daemons (NameNode, DataNode, ResourceManager with its web
proxy, NodeManager), the Java CLIs and the distributed-shell example. Maven
resolves the transitive dependencies into one flat ``lib/`` folder; daemons run
with ``java -cp <conf dir>:<lib>/*``.

The cache lives outside any repository. When running as root it is under
``/var/cache/skein/hadoop`` rather than root's home, because the daemons run as
the ``hdfs`` and ``yarn`` users and must be able to read the jars.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from skein.errors import TestClusterError

__all__ = [
    "DEFAULT_HADOOP_VERSION",
    "SUPPORTED_HADOOP_VERSIONS",
    "HadoopJars",
    "default_cache_dir",
    "fetch_hadoop",
]

DEFAULT_HADOOP_VERSION = "3.5.0"
SUPPORTED_HADOOP_VERSIONS = ("3.5.0", "3.4.2")

# The distributed-shell example is not published for every release (none for
# 3.5.0); its client and AM only use stable YARN APIs, so the newest published
# one runs against later daemons.
_DISTRIBUTED_SHELL_VERSION = {"3.5.0": "3.4.2"}

_ARTIFACTS = (
    "hadoop-common",
    "hadoop-hdfs",
    "hadoop-hdfs-client",
    "hadoop-yarn-server-resourcemanager",
    "hadoop-yarn-server-nodemanager",
    "hadoop-yarn-server-web-proxy",
    "hadoop-yarn-client",
    # The ResourceManager's web app loads timeline collector classes.
    "hadoop-yarn-server-timelineservice",
)

_COMPLETE_MARKER = ".complete"
# Bumped whenever what a cache holds changes, so older caches are refreshed.
_CACHE_LAYOUT = "2"


@dataclass(frozen=True, slots=True, kw_only=True)
class HadoopJars:
    """A complete, cached set of Hadoop jars for one version.

    Attributes:
        version: the Hadoop version, e.g. ``"3.5.0"``.
        lib_dir: the folder holding every jar (Hadoop's and its dependencies).
    """

    version: str
    lib_dir: Path

    @property
    def resources_dir(self) -> Path:
        """Resources the Maven artifacts lack (HDFS's web-app folders)."""
        return self.lib_dir.parent / "resources"

    @property
    def classpath(self) -> str:
        """The resources folder and every jar, as a Java classpath."""
        return f"{self.resources_dir}:{self.lib_dir}/*"

    @property
    def distributed_shell_dir(self) -> Path:
        """YARN's distributed-shell example and what only it needs."""
        return self.lib_dir.parent / "distributed-shell"

    @property
    def distributed_shell_jar(self) -> Path:
        """The jar of YARN's distributed-shell example application."""
        pattern = "hadoop-yarn-applications-distributedshell-*.jar"
        matches = sorted(self.distributed_shell_dir.glob(pattern))
        if not matches:
            raise TestClusterError(f"no distributed-shell jar in {self.distributed_shell_dir}")
        return matches[-1]


def default_cache_dir() -> Path:
    """Where Hadoop jars are cached: ``$SKEIN_HADOOP_CACHE`` if set, else a per-user cache.

    Root uses ``/var/cache/skein/hadoop`` so the daemon users can read it.
    """
    if override := os.environ.get("SKEIN_HADOOP_CACHE"):
        return Path(override)
    if os.geteuid() == 0:
        return Path("/var/cache/skein/hadoop")
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "skein" / "hadoop"


def _dependency(group: str, artifact: str, version: str, *, alone: bool = False) -> str:
    exclusions = (
        "<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion>"
        "</exclusions>"
        if alone
        else ""
    )
    return (
        f"<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
        f"<version>{version}</version>{exclusions}</dependency>"
    )


def _pom(name: str, version: str, dependencies: list[str]) -> str:
    deps = "\n    ".join(dependencies)
    return f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>skein.testcluster</groupId>
  <artifactId>{name}</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
    {deps}
  </dependencies>
</project>
"""


def _daemons_pom(version: str) -> str:
    return _pom(
        "hadoop-jars",
        version,
        [_dependency("org.apache.hadoop", name, version) for name in _ARTIFACTS],
    )


def _distributed_shell_pom(version: str) -> str:
    # Only the jars themselves: everything else comes from the daemons' set.
    # Releases before 3.5 use Jersey 1's client, which 3.5's jars no longer
    # carry; it lives apart from the daemons' classpath so that its old JAX-RS
    # classes cannot shadow the daemons' newer ones.
    dshell = _DISTRIBUTED_SHELL_VERSION.get(version, version)
    return _pom(
        "distributed-shell",
        version,
        [
            _dependency(
                "org.apache.hadoop", "hadoop-yarn-applications-distributedshell", dshell, alone=True
            ),
            _dependency("com.sun.jersey", "jersey-client", "1.19.4", alone=True),
        ],
    )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` so concurrent fetches do not collide."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fetch_hadoop(
    version: str = DEFAULT_HADOOP_VERSION,
    *,
    cache_dir: Path | None = None,
    log: Callable[[str], None] = print,
) -> HadoopJars:
    """Return Hadoop's jars for ``version``, downloading them with Maven the first time.

    Args:
        version: a Hadoop release published on Maven Central.
        cache_dir: the cache root (default: :func:`default_cache_dir`).
        log: receives progress lines.

    Raises:
        TestClusterError: Maven is missing, Maven Central is unreachable, or the
            version does not exist. The message names the Maven log to read.

    Example:
        >>> jars = fetch_hadoop("3.5.0")  # doctest: +SKIP
        >>> jars.classpath  # doctest: +SKIP
        '/var/cache/skein/hadoop/3.5.0/lib/*'
    """
    root = (cache_dir or default_cache_dir()) / version
    lib_dir = root / "lib"
    jars = HadoopJars(version=version, lib_dir=lib_dir)
    if _is_complete(lib_dir):
        return jars
    with _locked(root.parent / f"{version}.lock"):
        if _is_complete(lib_dir):  # another process finished meanwhile
            return jars
        _download(version, root, log)
    return jars


# HDFS daemons look their web-app folders up on the classpath and refuse to
# start without them, but the Maven artifacts do not ship them (only Hadoop's
# tarball does). Their HTTP servers register JMX and WebHDFS in code, so a folder
# with a minimal deployment descriptor is all that is needed.
_WEB_APPS = ("hdfs", "datanode", "secondary", "journal")
_WEB_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<web-app xmlns="http://xmlns.jcp.org/xml/ns/javaee" version="3.1"/>\n'
)


def _write_web_apps(resources: Path) -> None:
    for name in _WEB_APPS:
        web_inf = resources / "webapps" / name / "WEB-INF"
        web_inf.mkdir(parents=True, exist_ok=True)
        (web_inf / "web.xml").write_text(_WEB_XML)
        (web_inf.parent / "index.html").write_text(
            f"<html><body>skein test cluster: {name}</body></html>\n"
        )
    for path in [resources, *resources.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


# What Maven's log says when it cannot talk to the repository at all (as
# opposed to an artifact that does not exist). Without a network even the
# dependency plugin cannot be resolved, hence the "No plugin found" line.
_UNREACHABLE_MARKERS = (
    "Connection refused",
    "Connect to ",
    "UnknownHostException",
    "Network is unreachable",
    "connect timed out",
    "No plugin found for prefix",
    "transfer failed for",
)


def _is_complete(lib_dir: Path) -> bool:
    try:
        return (lib_dir / _COMPLETE_MARKER).read_text().split() == ["layout", _CACHE_LAYOUT]
    except OSError:
        return False


def _maven_copy(mvn: str, version: str, root: Path, folder: str, pom: str) -> None:
    """Resolve ``pom``'s dependencies into ``root/folder`` (replaced atomically)."""
    pom_path = root / f"{folder}.pom.xml"
    pom_path.write_text(pom)
    partial = root / f"{folder}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    maven_log = root / "maven.log"
    with maven_log.open("a") as out:
        result = subprocess.run(
            [
                mvn,
                "-B",
                "-f",
                str(pom_path),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={partial}",
                "-DincludeScope=runtime",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        text = maven_log.read_text()
        errors = [line for line in text.splitlines() if "[ERROR]" in line]
        reason = errors[0].replace("[ERROR]", "").strip() if errors else "unknown failure"
        if any(marker in text for marker in _UNREACHABLE_MARKERS):
            raise TestClusterError(
                f"could not fetch Hadoop {version}: Maven Central could not be reached "
                f"(check the network and any proxy settings); Maven said: {reason} "
                f"(see {maven_log})"
            )
        raise TestClusterError(
            f"could not fetch Hadoop {version} from Maven Central: {reason} (see {maven_log})"
        )
    shutil.rmtree(root / folder, ignore_errors=True)
    partial.rename(root / folder)


def _download(version: str, root: Path, log: Callable[[str], None]) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise TestClusterError(
            "Maven ('mvn') is not on PATH; it is needed once to fetch Hadoop's jars "
            "from Maven Central (Debian: apt-get install maven)"
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / "maven.log").write_text("")
    log(f"Fetching Hadoop {version} jars from Maven Central (once; about 100 MB)...")
    for folder, pom in (
        ("lib", _daemons_pom(version)),
        ("distributed-shell", _distributed_shell_pom(version)),
    ):
        _maven_copy(mvn, version, root, folder, pom)
    lib_dir = root / "lib"
    _write_web_apps(root / "resources")
    # World-readable, so daemons running as other users can load them.
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    (lib_dir / _COMPLETE_MARKER).write_text(f"layout {_CACHE_LAYOUT}\n")
    log(f"Hadoop {version} jars cached in {lib_dir}")
