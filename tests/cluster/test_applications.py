"""Whole applications on the real cluster: the Python master, its containers, their outcome.

Every application runs on the test cluster's NodeManagers, whose stripped
environment has only the system python3: the master runs from the runtime
zip the client ships. Outcomes are read from the ResourceManager and checked
against Hadoop's own ``yarn`` CLI; container output comes from ``yarn logs``.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import skein
from skein.testcluster import TestCluster

pytestmark = pytest.mark.cluster

EXAMPLES = Path(__file__).parents[2] / "examples"
SMALL = {"memory": 128, "vcores": 1}


@pytest.fixture(scope="module")
def client(hadoop_cluster: TestCluster) -> Iterator[skein.Client]:
    with skein.Client() as c:
        yield c


def run(client: skein.Client, spec: Any, timeout: float = 240) -> skein.ApplicationReport:
    app_id = client.submit(spec, show_progress=False)
    try:
        return client.wait(app_id, timeout=timeout)
    except BaseException:
        client.kill_application(app_id)
        raise


_LOG_BLOCK = re.compile(
    r"Container: (?P<container>container_\S+) on \S+\n.*?LogType:(?P<name>\S+)\n.*?"
    r"LogContents:\n(?P<text>.*?)\nEnd of LogType:(?P=name)",
    re.S,
)


def container_logs(
    cluster: TestCluster, app_id: str, wanted: str, timeout: float = 90, count: int = 1
) -> dict[str, dict[str, str]]:
    """Aggregated logs as container -> file -> text, once ``count`` files contain ``wanted``.

    Each NodeManager uploads its containers' logs when the application ends,
    so the nodes' logs can appear one after the other.
    """
    deadline = time.monotonic() + timeout
    while True:
        output = cluster.yarn("logs", "-applicationId", app_id).stdout
        logs: dict[str, dict[str, str]] = {}
        for match in _LOG_BLOCK.finditer(output):
            logs.setdefault(match["container"], {})[match["name"]] = match["text"]
        if sum(wanted in text for files in logs.values() for text in files.values()) >= count:
            return logs
        assert time.monotonic() < deadline, f"{wanted!r} never appeared in the logs:\n{output}"
        time.sleep(2)


def service_logs(logs: dict[str, dict[str, str]], service: str) -> list[str]:
    return [files[f"{service}.log"] for files in logs.values() if f"{service}.log" in files]


def test_hello_world_succeeds_and_says_hello(
    hadoop_cluster: TestCluster, client: skein.Client
) -> None:
    report = run(client, str(EXAMPLES / "hello_world.yaml"))
    assert (report.state, report.final_status) == ("FINISHED", "SUCCEEDED")
    container_logs(hadoop_cluster, report.id, "hello world")
    # The master may run on the other node, whose logs can be uploaded later.
    logs = container_logs(hadoop_cluster, report.id, "unregistered with final status SUCCEEDED")
    assert service_logs(logs, "hello") == ["hello world\n"]
    masters = [files for files in logs.values() if "application.master.log" in files]
    assert len(masters) == 1
    status = hadoop_cluster.yarn("application", "-status", report.id).stdout
    assert re.search(r"State : FINISHED", status)
    assert re.search(r"Final-State : SUCCEEDED", status)
    assert re.search(r"Application-Type : skein", status)


def test_python_script_example_runs_with_its_file(
    hadoop_cluster: TestCluster, client: skein.Client
) -> None:
    report = run(client, str(EXAMPLES / "python_script.yaml"))
    assert report.final_status == "SUCCEEDED", report.diagnostics
    logs = container_logs(hadoop_cluster, report.id, "hello from")
    (text,) = service_logs(logs, "myapp")
    assert "SKEIN_CONTAINER_ID=myapp_0" in text
    assert "script.py" in text


def test_a_failing_script_fails_the_application_naming_the_service(
    client: skein.Client,
) -> None:
    spec = {"services": {"broken": {"resources": SMALL, "script": "echo oops; exit 3"}}}
    report = run(client, spec)
    assert (report.state, report.final_status) == ("FINISHED", "FAILED")
    assert "broken" in report.diagnostics


def test_files_archives_and_env_reach_the_containers(
    hadoop_cluster: TestCluster, client: skein.Client, tmp_path: Path
) -> None:
    (tmp_path / "data.txt").write_text("plain file content\n")
    with tarfile.open(tmp_path / "bundle.tar.gz", "w:gz") as archive:
        payload = b"inside the archive\n"
        info = tarfile.TarInfo("inner/note.txt")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    spec = {
        "services": {
            "reader": {
                "resources": SMALL,
                "files": {
                    "data.txt": str(tmp_path / "data.txt"),
                    "bundle": str(tmp_path / "bundle.tar.gz"),
                },
                "env": {"GREETING": "hi there"},
                "script": "\n".join(
                    [
                        "cat data.txt",
                        "cat bundle/inner/note.txt",
                        'echo "GREETING=$GREETING"',
                        "env | grep ^SKEIN_ | sort",
                    ]
                ),
            }
        }
    }
    report = run(client, spec)
    assert report.final_status == "SUCCEEDED", report.diagnostics
    (text,) = service_logs(container_logs(hadoop_cluster, report.id, "GREETING="), "reader")
    assert "plain file content" in text
    assert "inside the archive" in text
    assert "GREETING=hi there" in text
    assert f"SKEIN_APPLICATION_ID={report.id}" in text
    assert "SKEIN_CONTAINER_ID=reader_0" in text
    assert "SKEIN_RESOURCE_MEMORY=128" in text
    assert "SKEIN_RESOURCE_VCORES=1" in text


def test_several_instances_run(hadoop_cluster: TestCluster, client: skein.Client) -> None:
    spec = {
        "services": {
            "many": {"resources": SMALL, "instances": 3, "script": "echo $SKEIN_CONTAINER_ID"}
        }
    }
    report = run(client, spec)
    assert report.final_status == "SUCCEEDED", report.diagnostics
    logs = container_logs(hadoop_cluster, report.id, "many_", count=3)
    assert sorted(t.strip() for t in service_logs(logs, "many")) == ["many_0", "many_1", "many_2"]


def test_dependents_start_after_their_dependencies(
    hadoop_cluster: TestCluster, client: skein.Client
) -> None:
    spec = {
        "services": {
            "first": {"resources": SMALL, "script": "echo started at $(date +%s%N); sleep 3"},
            "second": {
                "resources": SMALL,
                "depends": ["first"],
                "script": "echo started at $(date +%s%N)",
            },
        }
    }
    report = run(client, spec)
    assert report.final_status == "SUCCEEDED", report.diagnostics
    logs = container_logs(hadoop_cluster, report.id, "started at", count=2)
    (first,) = service_logs(logs, "first")
    (second,) = service_logs(logs, "second")
    assert int(second.split()[2]) > int(first.split()[2])


def test_restarts_up_to_max_restarts_then_fails(
    hadoop_cluster: TestCluster, client: skein.Client
) -> None:
    spec = {
        "services": {
            "flaky": {
                "resources": SMALL,
                "max_restarts": 2,
                "script": "echo attempt $SKEIN_CONTAINER_ID; exit 1",
            }
        }
    }
    report = run(client, spec)
    assert report.final_status == "FAILED"
    assert "flaky" in report.diagnostics
    logs = container_logs(hadoop_cluster, report.id, "attempt flaky_", count=3)
    attempts = sorted(t.split()[1] for t in service_logs(logs, "flaky"))
    assert attempts == ["flaky_0", "flaky_1", "flaky_2"]


def test_allow_failures_keeps_the_application_successful(client: skein.Client) -> None:
    spec = {
        "services": {
            "flaky": {
                "resources": SMALL,
                "max_restarts": 1,
                "allow_failures": True,
                "script": "exit 1",
            },
            "steady": {"resources": SMALL, "script": "sleep 2"},
        }
    }
    report = run(client, spec)
    assert report.final_status == "SUCCEEDED", report.diagnostics


@pytest.mark.parametrize(("exit_code", "final"), [(0, "SUCCEEDED"), (4, "FAILED")])
def test_the_master_script_decides(
    hadoop_cluster: TestCluster, client: skein.Client, exit_code: int, final: str
) -> None:
    spec = {
        "master": {"script": f"echo driver ran in $SKEIN_APPLICATION_ID; exit {exit_code}"},
        "services": {"idle": {"resources": SMALL, "instances": 0, "script": "sleep 600"}},
    }
    report = run(client, spec)
    assert report.final_status == final, report.diagnostics
    logs = container_logs(hadoop_cluster, report.id, "driver ran in")
    (driver,) = [
        files["application.driver.log"]
        for files in logs.values()
        if "application.driver.log" in files
    ]
    assert driver.strip() == f"driver ran in {report.id}"


def test_nothing_to_run_ends_after_the_idle_grace_period(client: skein.Client) -> None:
    spec = {
        "master": {"env": {"SKEIN_IDLE_TIMEOUT": "2"}},
        "services": {"idle": {"resources": SMALL, "instances": 0, "script": "sleep 600"}},
    }
    report = run(client, spec, timeout=120)
    assert report.final_status == "SUCCEEDED"
    assert "nothing" in report.diagnostics.lower()


def test_a_container_that_cannot_start_fails_with_the_nodemanagers_reason(
    hadoop_cluster: TestCluster, client: skein.Client, tmp_path: Path
) -> None:
    (tmp_path / "x.txt").write_text("x")
    hadoop_cluster.hdfs("dfs", "-put", "-f", str(tmp_path / "x.txt"), "/tmp/skein-x.txt")
    spec = {
        "services": {
            "unlucky": {
                "resources": SMALL,
                # A timestamp that does not match: YARN refuses to localize it.
                "files": {
                    "x.txt": {"source": "hdfs:///tmp/skein-x.txt", "size": 1, "timestamp": 1}
                },
                "script": "cat x.txt",
            }
        }
    }
    report = run(client, spec)
    assert report.final_status == "FAILED"
    assert "unlucky" in report.diagnostics
    assert "changed on src filesystem" in report.diagnostics, report.diagnostics


def containers_by_node(client: skein.Client, app_id: str) -> dict[str, set[str]]:
    """RUNNING containers of ``app_id`` on each RUNNING node, from the NodeManagers' REST API."""
    suffix = app_id.removeprefix("application_")
    found: dict[str, set[str]] = {}
    for node in client.get_nodes(["RUNNING"]):
        url = f"http://{node.http_address}/ws/v1/node/containers"
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
        listed = (body.get("containers") or {}).get("container", [])
        found[node.id] = {
            c["id"] for c in listed if f"_{suffix}_" in c["id"] and c["state"] == "RUNNING"
        }
    return found


def wait_for(condition: Callable[[], Any], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.5)
    return result


def node_name(node_id: str) -> str:
    # The test cluster numbers NodeManager ports from 45400 in steps of 10.
    return f"nm{(int(node_id.rsplit(':', 1)[1]) - 45400) // 10 + 1}"


def placed_away_from_master(
    client: skein.Client, spec: dict[str, Any], tries: int = 6
) -> tuple[str, dict[str, set[str]], str]:
    """Submit until some service container runs on a node without the master.

    The scheduler may put every container on the node that heartbeats first,
    and all test NodeManagers share the host name ``localhost``, so placement
    cannot be asked for; a layout with a safe node to lose is waited for instead.
    """
    for _ in range(tries):
        app_id = client.submit(spec, show_progress=False)
        placed = wait_for(
            lambda app_id=app_id: (
                (p := containers_by_node(client, app_id)) and sum(map(len, p.values())) == 5 and p
            )
        )
        master = next(n for n, ids in placed.items() if any(i.endswith("_000001") for i in ids))
        victims = [node for node, ids in placed.items() if node != master and ids]
        if victims:
            return app_id, placed, victims[0]
        client.kill_application(app_id)
    raise AssertionError(f"every container landed beside the master in {tries} submissions")


def test_a_lost_nodemanager_has_its_containers_restarted_elsewhere(
    hadoop_cluster: TestCluster, client: skein.Client
) -> None:
    spec = {
        "services": {
            "sleeper": {
                "resources": SMALL,
                "instances": 4,
                "max_restarts": 4,
                "script": "sleep 600",
            }
        }
    }
    app_id, placed, victim = placed_away_from_master(client, spec)
    stopped = node_name(victim)
    app = client.connect(app_id)
    try:
        # Each container owns a key: those on the lost node must go with them.
        containers = app.get_containers()
        for container in containers:
            app.kv.put(f"owned/{container.id}", b"1", owner=container.id)
        lost = {c.id for c in containers if c.yarn_container_id in placed[victim]}
        assert lost
        hadoop_cluster.stop_node(stopped)
        # The master sees the containers complete and asks for replacements,
        # which can only land on the remaining node.
        survivors = wait_for(
            lambda: (
                (p := containers_by_node(client, app_id)) and sum(map(len, p.values())) == 5 and p
            )
        )
        assert not placed[victim] & set().union(*survivors.values())
        assert client.application_report(app_id).state == "RUNNING"
        kept = {key.removeprefix("owned/") for key in app.kv.list_keys(prefix="owned/")}
        assert kept == {c.id for c in containers} - lost
    finally:
        app.close()
        hadoop_cluster.start_node(stopped)
        client.kill_application(app_id)
