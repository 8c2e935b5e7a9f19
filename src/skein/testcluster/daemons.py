"""Starting, stopping and killing the cluster's Java daemons.

Each daemon is its own JVM, launched with its Hadoop main class (no launcher
scripts, no custom Java), so killing a NodeManager is a real fault. A daemon's
pid is kept in a pid file, which makes ``status`` and ``down`` work from any
process, not only the one that started the cluster.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from skein.errors import TestClusterError
from skein.testcluster.layout import ClusterLayout

__all__ = [
    "JAVA_OPTIONS",
    "Daemon",
    "find_java",
    "is_running",
    "read_pid",
    "start",
    "stop",
]

# Hadoop reflects into JDK internals; Java 17 refuses that unless the packages
# are opened. Unknown options are ignored so the same list serves later JDKs.
JAVA_OPTIONS = (
    "-XX:+IgnoreUnrecognizedVMOptions",
    *(
        f"--add-opens=java.base/{package}=ALL-UNNAMED"
        for package in (
            "java.io",
            "java.lang",
            "java.lang.reflect",
            "java.math",
            "java.net",
            "java.nio",
            "java.text",
            "java.util",
            "java.util.concurrent",
            "java.util.concurrent.atomic",
            "java.util.zip",
            "sun.nio.ch",
            "sun.security.util",
            "sun.security.x509",
        )
    ),
    "--add-exports=java.base/sun.net.dns=ALL-UNNAMED",
    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
)

# NodeManagers hand this PATH to containers: only system directories, so a
# container sees the system python3 and never the client's virtualenv.
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"

# Popen objects of daemons this process started, kept so that they are reaped
# (no zombies) when stopped from the same process, and not garbage-collected
# while running (which would warn).
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Daemon:
    """One Hadoop daemon of the cluster.

    Attributes:
        name: short name (``namenode``, ``datanode``, ``resourcemanager``, ``nm1``...).
        main_class: the Java main class.
        user: the OS user it runs as.
        conf_dir: its HADOOP_CONF_DIR (first on the classpath).
        heap_mb: maximum Java heap.
        args: arguments after the main class.
    """

    name: str
    main_class: str
    user: str
    conf_dir: Path
    heap_mb: int
    args: tuple[str, ...] = ()

    @property
    def is_node_manager(self) -> bool:
        """Whether this is a NodeManager."""
        return self.main_class.endswith(".NodeManager")


def find_java() -> str:
    """The ``java`` executable: ``$JAVA_HOME/bin/java``, else ``java`` on PATH.

    Raises:
        TestClusterError: no Java is installed.
    """
    java_home = os.environ.get("JAVA_HOME")
    if java_home and Path(java_home, "bin", "java").exists():
        return str(Path(java_home, "bin", "java"))
    java = shutil.which("java")
    if java is None:
        raise TestClusterError(
            "Java is not installed (no JAVA_HOME and no 'java' on PATH); Hadoop needs Java 17"
        )
    return java


def java_home(java: str) -> str:
    """The JAVA_HOME of a ``java`` executable (following symlinks)."""
    return str(Path(os.path.realpath(java)).parent.parent)


def java_command(
    java: str, classpath: str, main_class: str, args: Sequence[str], heap_mb: int, log_dir: Path
) -> list[str]:
    """The command line that runs ``main_class`` the way Hadoop's scripts would."""
    return [
        java,
        f"-Xmx{heap_mb}m",
        *JAVA_OPTIONS,
        f"-Dhadoop.log.dir={log_dir}",
        f"-Dyarn.log.dir={log_dir}",
        f"-Dhadoop.home.dir={log_dir.parent}",
        "-Djava.net.preferIPv4Stack=true",
        "-cp",
        classpath,
        main_class,
        *args,
    ]


def read_pid(layout: ClusterLayout, name: str) -> int | None:
    """The pid recorded for daemon ``name``, if any."""
    try:
        return int(layout.pid_file(name).read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is not running.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def is_running(layout: ClusterLayout, name: str) -> bool:
    """Whether daemon ``name`` is running (its pid file names a live process)."""
    pid = read_pid(layout, name)
    return pid is not None and _alive(pid)


def start(
    layout: ClusterLayout,
    daemon: Daemon,
    *,
    java: str,
    classpath: str,
    separate_users: bool,
    group: str,
) -> int:
    """Start ``daemon`` in the background and return its pid.

    Its stdout and stderr go to ``layout.log_file(daemon.name)``; the daemon
    gets a stripped environment (system PATH, JAVA_HOME, locale), so nothing of
    the calling shell or virtualenv leaks into it or its containers.
    """
    layout.logs_dir.mkdir(parents=True, exist_ok=True)
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    log_path = layout.log_file(daemon.name)
    command = java_command(
        java,
        f"{daemon.conf_dir}:{classpath}",
        daemon.main_class,
        daemon.args,
        daemon.heap_mb,
        layout.logs_dir,
    )
    env = {
        "PATH": SYSTEM_PATH,
        "JAVA_HOME": java_home(java),
        "LANG": "C.UTF-8",
        "HADOOP_CONF_DIR": str(daemon.conf_dir),
        "HOME": str(layout.root),
    }
    workdir = layout.data_dir / "work" / daemon.name
    workdir.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        log.write(f"\n==== starting {daemon.name}: {' '.join(command)}\n".encode())
        log.flush()
        if separate_users:
            shutil.chown(workdir, daemon.user, group)
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
            start_new_session=True,
            user=daemon.user if separate_users else None,
            group=group if separate_users else None,
            extra_groups=[] if separate_users else None,
        )
    _children[proc.pid] = proc
    layout.pid_file(daemon.name).write_text(f"{proc.pid}\n")
    return proc.pid


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def stop(
    layout: ClusterLayout, names: Sequence[str], *, kill: bool = False, grace: float = 10.0
) -> None:
    """Stop the named daemons together; with ``kill``, SIGKILL them at once.

    A graceful stop sends SIGTERM (a NodeManager then unregisters from the
    ResourceManager) and escalates to SIGKILL after ``grace`` seconds.
    """
    pids = {name: pid for name in names if (pid := read_pid(layout, name)) is not None}
    live = {name: pid for name, pid in pids.items() if _alive(pid)}
    for pid in live.values():
        _signal_group(pid, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + (0 if kill else grace)
    while live and time.monotonic() < deadline:
        live = {name: pid for name, pid in live.items() if _alive(pid)}
        if live:
            time.sleep(0.1)
    for pid in live.values():
        _signal_group(pid, signal.SIGKILL)
    for name, pid in pids.items():
        child = _children.pop(pid, None)
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=5)
        layout.pid_file(name).unlink(missing_ok=True)


def kill_strays(root: Path) -> int:
    """SIGKILL every process whose working directory is under ``root``.

    Containers are started by the NodeManager in their own sessions inside its
    local dirs, so they survive their NodeManager; this finds them after ``down``.
    Returns how many were killed.
    """
    killed = 0
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd == str(root) or cwd.startswith(f"{root}/"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    return killed
