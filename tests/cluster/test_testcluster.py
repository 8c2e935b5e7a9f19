"""The local test cluster is a real Hadoop: checked with Hadoop's own CLIs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from skein.errors import TestClusterError
from skein.testcluster import TestCluster
from skein.testcluster.artifacts import fetch_hadoop

pytestmark = pytest.mark.cluster


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """A folder the daemon users can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="skein-test-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def node_states(cluster: TestCluster) -> dict[str, str]:
    """Node id -> state, as the real ``yarn node -list -all`` prints them."""
    result = cluster.yarn("node", "-list", "-all")
    assert result.returncode == 0, result.stderr
    return dict(re.findall(r"^\s*(\S+:\d+)\s+([A-Z]+)\s", result.stdout, re.MULTILINE))


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.5):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def test_yarn_cli_lists_every_node_running(hadoop_cluster: TestCluster) -> None:
    states = node_states(hadoop_cluster)
    assert states == {"localhost:45400": "RUNNING", "localhost:45410": "RUNNING"}


def test_daemons_run_as_their_own_users(hadoop_cluster: TestCluster) -> None:
    if os.geteuid() != 0:
        pytest.skip("daemons run as separate users only when started as root")
    owners = {}
    for daemon in hadoop_cluster.status().daemons:
        assert daemon.pid is not None
        uid = Path(f"/proc/{daemon.pid}").stat().st_uid
        owners[daemon.name] = uid
    import pwd

    names = {name: pwd.getpwuid(uid).pw_name for name, uid in owners.items()}
    assert names["namenode"] == names["datanode"] == "hdfs"
    assert names["resourcemanager"] == names["nm1"] == names["nm2"] == "yarn"


def test_hdfs_round_trip(hadoop_cluster: TestCluster, tmp_path: Path) -> None:
    payload = f"round trip {uuid.uuid4()}\n"
    local = tmp_path / "payload.txt"
    local.write_text(payload)
    remote = f"/tmp/roundtrip-{uuid.uuid4().hex}.txt"
    put = hadoop_cluster.hdfs("dfs", "-put", str(local), remote)
    assert put.returncode == 0, put.stderr
    cat = hadoop_cluster.hdfs("dfs", "-cat", remote)
    assert cat.returncode == 0, cat.stderr
    assert cat.stdout == payload
    hadoop_cluster.hdfs("dfs", "-rm", "-skipTrash", remote)


def application_ids(cluster: TestCluster, name: str) -> set[str]:
    """Ids of the applications called ``name`` (other clients may use the cluster meanwhile)."""
    listing = cluster.yarn("application", "-list", "-appStates", "ALL")
    return set(re.findall(rf"^(application_\d+_\d+)\s+{re.escape(name)}\s", listing.stdout, re.M))


def test_distributed_shell_succeeds_in_a_stripped_environment(hadoop_cluster: TestCluster) -> None:
    name = f"stripped-env-{uuid.uuid4().hex[:8]}"
    # What a container sees: its user, and which python3 it would run.
    script = (
        "echo user=$(id -un); echo python=$(command -v python3); echo venv=${VIRTUAL_ENV:-none}"
    )
    result = hadoop_cluster.distributed_shell(
        "-appname",
        name,
        "-shell_command",
        script,
        "-num_containers",
        "1",
        "-container_memory",
        "128",
        "-master_memory",
        "256",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (app_id,) = application_ids(hadoop_cluster, name)
    status = hadoop_cluster.yarn("application", "-status", app_id).stdout
    assert re.search(r"State : FINISHED", status), status
    assert re.search(r"Final-State : SUCCEEDED", status), status

    def container_output() -> str:
        logs = hadoop_cluster.yarn("logs", "-applicationId", app_id).stdout
        return logs if "python=" in logs else ""

    # Logs reach HDFS through log aggregation shortly after the application ends.
    logs = wait_for(container_output, timeout=60)
    assert "python=/usr/bin/python3" in logs, logs
    assert "venv=none" in logs
    expected_user = "yarn" if os.geteuid() == 0 else hadoop_cluster.users.submitter
    assert f"user={expected_user}" in logs


def test_stopped_node_is_reported_shut_down_and_comes_back(hadoop_cluster: TestCluster) -> None:
    hadoop_cluster.stop_node("nm2")
    try:
        states = wait_for(
            lambda: (s := node_states(hadoop_cluster)).get("localhost:45410") == "SHUTDOWN" and s,
            timeout=30,
        )
        assert states, node_states(hadoop_cluster)
        assert states["localhost:45400"] == "RUNNING"
    finally:
        hadoop_cluster.start_node("nm2")
    assert node_states(hadoop_cluster)["localhost:45410"] == "RUNNING"


def test_killed_node_process_is_gone_and_restarts(hadoop_cluster: TestCluster) -> None:
    pid = next(d.pid for d in hadoop_cluster.status().daemons if d.name == "nm2")
    assert pid is not None
    hadoop_cluster.kill_node("nm2")
    try:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
        assert not next(d for d in hadoop_cluster.status().daemons if d.name == "nm2").running
    finally:
        hadoop_cluster.start_node("nm2")
    assert node_states(hadoop_cluster)["localhost:45410"] == "RUNNING"


def test_up_reuses_a_running_cluster(hadoop_cluster: TestCluster) -> None:
    pids = {d.name: d.pid for d in hadoop_cluster.status().daemons}
    settings = hadoop_cluster.settings()
    assert settings is not None
    started = time.monotonic()
    hadoop_cluster.up(nodes=2, hadoop_version=settings.hadoop_version)
    assert time.monotonic() - started < 30
    assert {d.name: d.pid for d in hadoop_cluster.status().daemons} == pids


def test_up_with_other_settings_is_refused(hadoop_cluster: TestCluster) -> None:
    settings = hadoop_cluster.settings()
    assert settings is not None
    with pytest.raises(TestClusterError, match="other settings is running"):
        hadoop_cluster.up(nodes=3, hadoop_version=settings.hadoop_version)


def test_unknown_node_name_is_an_error(hadoop_cluster: TestCluster) -> None:
    with pytest.raises(TestClusterError, match=r"no NodeManager named 'nm9'.*nm1, nm2"):
        hadoop_cluster.stop_node("nm9")


def test_port_in_use_names_the_daemon_and_starts_nothing(
    hadoop_cluster: TestCluster, reachable_dir: Path
) -> None:
    # A second cluster in another folder finds the first one's ports taken.
    other = TestCluster(reachable_dir / "other", log=lambda _: None)
    with pytest.raises(TestClusterError, match=r"cannot start namenode: port 8020 \(rpc\)"):
        other.up(nodes=1)
    assert not other.status().running
    assert not list(other.layout.run_dir.glob("*.pid"))


def test_env_prints_export_lines(hadoop_cluster: TestCluster) -> None:
    cli = Path(sys.executable).with_name("skein-cluster")
    result = subprocess.run([cli, "env"], capture_output=True, text=True, check=True)
    conf = hadoop_cluster.layout.conf_dir
    assert f"export HADOOP_CONF_DIR={conf}" in result.stdout.splitlines()
    assert (conf / "yarn-site.xml").exists()


def test_missing_java_is_a_clear_error(tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("skein-cluster")
    env = {"PATH": "/nonexistent", "SKEIN_CLUSTER_DIR": str(tmp_path)}
    result = subprocess.run([cli, "up"], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 1
    assert "Java is not installed" in result.stderr


@pytest.mark.java
def test_unknown_hadoop_version_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TestClusterError, match=r"could not fetch Hadoop 0\.0\.1 .*maven\.log"):
        fetch_hadoop("0.0.1", cache_dir=tmp_path, log=lambda _: None)
    assert not (tmp_path / "0.0.1" / "lib").exists()


def test_private_state_dir_is_refused_when_daemons_run_as_other_users(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("daemons run as separate users only when started as root")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    other = TestCluster(private / "cluster", log=lambda _: None)
    with pytest.raises(TestClusterError, match=r"not reachable by the daemon users .* mode 700"):
        other.up(nodes=1)


def test_daemon_that_dies_at_start_is_named_and_nothing_is_left(
    hadoop_cluster: TestCluster, reachable_dir: Path
) -> None:
    # A second, one-node cluster on other ports, whose ResourceManager cannot
    # load its scheduler and exits at start.
    shifted = {
        "fs.defaultFS": "hdfs://localhost:18020",
        "dfs.namenode.rpc-address": "localhost:18020",
        "dfs.namenode.http-address": "localhost:19870",
        "dfs.datanode.address": "localhost:19866",
        "dfs.datanode.http.address": "localhost:19864",
        "dfs.datanode.ipc.address": "localhost:19867",
        "yarn.resourcemanager.address": "localhost:18032",
        "yarn.resourcemanager.scheduler.address": "localhost:18030",
        "yarn.resourcemanager.resource-tracker.address": "localhost:18031",
        "yarn.resourcemanager.admin.address": "localhost:18033",
        "yarn.resourcemanager.webapp.address": "localhost:18088",
        "yarn.nodemanager.address": "localhost:55400",
        "yarn.nodemanager.localizer.address": "localhost:55401",
        "yarn.nodemanager.webapp.address": "localhost:55402",
        "yarn.resourcemanager.scheduler.class": "org.example.NoSuchScheduler",
    }
    other = TestCluster(reachable_dir / "broken", log=lambda _: None)
    with pytest.raises(TestClusterError) as info:
        other.up(nodes=1, conf=[f"{k}={v}" for k, v in shifted.items()], timeout=120)
    message = str(info.value)
    assert "resourcemanager exited while starting" in message
    assert str(other.layout.log_file("resourcemanager")) in message
    assert not other.status().running
    assert not list(other.layout.run_dir.glob("*.pid"))
    # The first cluster is untouched.
    assert set(node_states(hadoop_cluster).values()) == {"RUNNING"}


@pytest.mark.java
def test_unreachable_maven_central_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy where nothing listens makes Maven Central unreachable; an empty
    # local repository makes Maven go to the network.
    proxy = "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=9"
    monkeypatch.setenv("MAVEN_OPTS", f"-Dmaven.repo.local={tmp_path / 'm2'} {proxy}")
    with pytest.raises(TestClusterError, match="Maven Central could not be reached"):
        fetch_hadoop("3.5.0", cache_dir=tmp_path / "cache", log=lambda _: None)
    assert not (tmp_path / "cache" / "3.5.0" / "lib").exists()
