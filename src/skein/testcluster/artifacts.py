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
)

_COMPLETE_MARKER = ".complete"


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
    def classpath(self) -> str:
        """The jar folder as a Java classpath wildcard entry."""
        return f"{self.lib_dir}/*"

    @property
    def distributed_shell_jar(self) -> Path:
        """The jar of YARN's distributed-shell example application."""
        matches = sorted(self.lib_dir.glob("hadoop-yarn-applications-distributedshell-*.jar"))
        if not matches:
            raise TestClusterError(f"no distributed-shell jar in {self.lib_dir}")
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


def _pom(version: str) -> str:
    dependencies = [
        f"<dependency><groupId>org.apache.hadoop</groupId><artifactId>{name}</artifactId>"
        f"<version>{version}</version></dependency>"
        for name in _ARTIFACTS
    ]
    dshell = _DISTRIBUTED_SHELL_VERSION.get(version, version)
    # Only the jar itself: its dependencies are those of the daemons' version.
    dependencies.append(
        "<dependency><groupId>org.apache.hadoop</groupId>"
        "<artifactId>hadoop-yarn-applications-distributedshell</artifactId>"
        f"<version>{dshell}</version>"
        "<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion>"
        "</exclusions></dependency>"
    )
    deps = "\n    ".join(dependencies)
    return f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>skein.testcluster</groupId>
  <artifactId>hadoop-jars</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
    {deps}
  </dependencies>
</project>
"""


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
    if (lib_dir / _COMPLETE_MARKER).exists():
        return jars
    with _locked(root.parent / f"{version}.lock"):
        if (lib_dir / _COMPLETE_MARKER).exists():  # another process finished meanwhile
            return jars
        _download(version, root, log)
    return jars


def _download(version: str, root: Path, log: Callable[[str], None]) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise TestClusterError(
            "Maven ('mvn') is not on PATH; it is needed once to fetch Hadoop's jars "
            "from Maven Central (Debian: apt-get install maven)"
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / "pom.xml").write_text(_pom(version))
    partial = root / "lib.partial"
    shutil.rmtree(partial, ignore_errors=True)
    maven_log = root / "maven.log"
    log(f"Fetching Hadoop {version} jars from Maven Central (once; about 100 MB)...")
    with maven_log.open("w") as out:
        result = subprocess.run(
            [
                mvn,
                "-B",
                "-f",
                str(root / "pom.xml"),
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
        errors = [line for line in maven_log.read_text().splitlines() if "[ERROR]" in line]
        reason = errors[0].replace("[ERROR]", "").strip() if errors else "unknown failure"
        raise TestClusterError(
            f"could not fetch Hadoop {version} from Maven Central: {reason} (see {maven_log})"
        )
    lib_dir = root / "lib"
    shutil.rmtree(lib_dir, ignore_errors=True)
    partial.rename(lib_dir)
    # World-readable, so daemons running as other users can load them.
    for path in [root, lib_dir, *lib_dir.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    (lib_dir / _COMPLETE_MARKER).write_text(version + "\n")
    log(f"Hadoop {version} jars cached in {lib_dir}")
