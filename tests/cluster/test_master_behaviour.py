"""The Python master's own behaviour on the real cluster.

Beyond whole applications succeeding or failing (test_applications.py):
attempts and retries, YARN killing the master, the master script's
environment and end, strict locality, odd service names, the log level.
Outcomes come from the ResourceManager and Hadoop's own CLI; what happened
inside containers from the aggregated logs.
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import skein
from skein.testcluster import TestCluster

pytestmark = pytest.mark.cluster

SMALL = {"memory": 128, "vcores": 1}
_LOG_BLOCK = re.compile(
    r"Container: (?P<container>container_\S+) on \S+\n.*?LogType:(?P<name>[^\n]+)\n.*?"
    r"LogContents:\n(?P<text>.*?)\nEnd of LogType:(?P=name)",
    re.S,
)


@pytest.fixture(scope="module")
def client(hadoop_cluster: TestCluster) -> Iterator[skein.Client]:
    with skein.Client() as c:
        yield c


def run(client: skein.Client, spec: Any, timeout: float = 180) -> skein.ApplicationReport:
    app_id = client.submit(spec, show_progress=False)
    try:
        return client.wait(app_id, timeout=timeout)
    except BaseException:
        client.kill_application(app_id)
        raise


def wait_for(condition: Callable[[], Any], timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.5)
    return result


def logs_named(cluster: TestCluster, app_id: str, name: str, count: int = 1) -> list[str]:
    """The aggregated logs called ``name`` (e.g. application.master.log), once ``count`` exist."""

    def found() -> list[str]:
        output = cluster.yarn("logs", "-applicationId", app_id).stdout
        texts = [m["text"] for m in _LOG_BLOCK.finditer(output) if m["name"] == name]
        return texts if len(texts) >= count else []

    result: list[str] = wait_for(found)
    return result


def staging_exists(cluster: TestCluster, app_id: str) -> bool:
    listing = cluster.hdfs("dfs", "-ls", ".skein").stdout
    return app_id in listing


def test_a_failed_attempt_is_retried_while_attempts_are_left(
    hadoop_cluster: TestCluster, client: skein.Client
) -> None:
    spec = {
        "max_attempts": 2,
        "services": {"broken": {"resources": SMALL, "script": "exit 3"}},
    }
    report = run(client, spec)
    assert (report.state, report.final_status) == ("FINISHED", "FAILED")
    assert "broken" in report.diagnostics
    attempts = hadoop_cluster.yarn("applicationattempt", "-list", report.id).stdout
    assert "Total number of application attempts :2" in attempts
    masters = logs_named(hadoop_cluster, report.id, "application.master.log", count=2)
    first = next(text for text in masters if "attempt 1 of 2" in text)
    last = next(text for text in masters if "attempt 2 of 2" in text)
    assert "application attempt 1 out of 2 failed, will retry" in first
    assert "unregistered" not in first
    assert "unregistered with final status FAILED" in last
    assert not staging_exists(hadoop_cluster, report.id)


def test_one_attempt_when_the_first_succeeds(
    hadoop_cluster: TestCluster, client: skein.Client
) -> None:
    spec = {"max_attempts": 2, "services": {"fine": {"resources": SMALL, "script": "true"}}}
    report = run(client, spec)
    assert report.final_status == "SUCCEEDED"
    attempts = hadoop_cluster.yarn("applicationattempt", "-list", report.id).stdout
    assert "Total number of application attempts :1" in attempts


def running_processes(marker: str) -> list[str]:
    found = subprocess.run(["pgrep", "-af", marker], capture_output=True, text=True, check=False)
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


def test_killing_the_application_ends_the_master_script_and_its_children(
    hadoop_cluster: TestCluster, client: skein.Client
) -> None:
    seconds = f"7{uuid.uuid4().int % 10**6:06d}"  # a unique process to look for
    spec = {
        "master": {
            "script": "\n".join(
                [
                    "trap 'echo driver got TERM; exit 0' TERM",
                    "echo driver started",
                    f"sleep {seconds} &",
                    "wait",
                ]
            )
        },
        "services": {"idle": {"resources": SMALL, "script": f"sleep 1{seconds}"}},
    }
    app_id = client.submit(spec, show_progress=False)
    try:
        wait_for(lambda: len(running_processes(seconds)) >= 2)
    finally:
        client.kill_application(app_id)
    wait_for(lambda: not running_processes(seconds), timeout=30)
    report = client.application_report(app_id)
    assert (report.state, report.final_status) == ("KILLED", "KILLED")
    (driver,) = logs_named(hadoop_cluster, app_id, "application.driver.log")
    assert driver.splitlines() == ["driver started", "driver got TERM"]
    (master,) = logs_named(hadoop_cluster, app_id, "application.master.log")
    # YARN stops the master with SIGTERM, unless its next heartbeat hears
    # first that the ResourceManager dropped the attempt: either way it ends
    # the script and does not unregister (the application is KILLED already).
    assert "received signal 15" in master or "no longer knows this attempt" in master
    assert "unregistered" not in master


def test_the_master_script_has_the_masters_resources_but_not_its_python_path(
    hadoop_cluster: TestCluster, client: skein.Client
) -> None:
    spec = {
        "master": {
            "resources": {"memory": 384, "vcores": 1},
            "env": {"MINE": "kept"},
            "script": "\n".join(
                [
                    'echo "memory=$SKEIN_RESOURCE_MEMORY vcores=$SKEIN_RESOURCE_VCORES"',
                    'echo "app=$SKEIN_APPLICATION_ID mine=$MINE"',
                    'echo "container=${SKEIN_CONTAINER_ID-none}"',
                    'echo "pythonpath=${PYTHONPATH-none}"',
                    'echo "protobuf=${PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION-none}"',
                ]
            ),
        },
        "services": {"idle": {"resources": SMALL, "instances": 0, "script": "true"}},
    }
    report = run(client, spec)
    assert report.final_status == "SUCCEEDED", report.diagnostics
    (driver,) = logs_named(hadoop_cluster, report.id, "application.driver.log")
    assert driver.splitlines() == [
        "memory=384 vcores=1",
        f"app={report.id} mine=kept",
        "container=none",
        "pythonpath=none",
        "protobuf=none",
    ]


def test_services_still_running_when_the_master_script_ends_are_stopped(
    hadoop_cluster: TestCluster, client: skein.Client
) -> None:
    spec = {
        "master": {"script": "sleep 5"},
        "services": {
            "server": {"resources": SMALL, "script": "echo serving; sleep 600"},
        },
    }
    started = time.monotonic()
    report = run(client, spec, timeout=120)
    assert report.final_status == "SUCCEEDED", report.diagnostics
    assert time.monotonic() - started < 60
    (server,) = logs_named(hadoop_cluster, report.id, "server.log")
    assert server.strip() == "serving"
    (master,) = logs_named(hadoop_cluster, report.id, "application.master.log")
    assert "KILLED: server_0: Stopped when the application finished." in master


def test_strict_locality_on_a_named_node(hadoop_cluster: TestCluster, client: skein.Client) -> None:
    # Every test NodeManager runs on "localhost": the request names it and its
    # rack, with relaxation off, and must still be granted.
    spec = {
        "services": {
            "pinned": {
                "resources": SMALL,
                "instances": 2,
                "nodes": ["localhost"],
                "relax_locality": False,
                "script": "echo placed",
            }
        }
    }
    report = run(client, spec, timeout=120)
    assert report.final_status == "SUCCEEDED", report.diagnostics
    assert [t.strip() for t in logs_named(hadoop_cluster, report.id, "pinned.log", 2)] == [
        "placed",
        "placed",
    ]


def test_a_service_name_with_a_space_gets_its_own_log(
    hadoop_cluster: TestCluster, client: skein.Client
) -> None:
    spec = {"services": {"my service": {"resources": SMALL, "script": "echo $SKEIN_CONTAINER_ID"}}}
    report = run(client, spec)
    assert report.final_status == "SUCCEEDED", report.diagnostics
    (text,) = logs_named(hadoop_cluster, report.id, "my service.log")
    assert text.strip() == "my service_0"


def test_the_master_logs_at_the_spec_level(
    hadoop_cluster: TestCluster, client: skein.Client
) -> None:
    spec = {
        "master": {"log_level": "debug"},
        "services": {"quick": {"resources": SMALL, "script": "true"}},
    }
    report = run(client, spec)
    assert report.final_status == "SUCCEEDED", report.diagnostics
    (master,) = logs_named(hadoop_cluster, report.id, "application.master.log")
    assert " DEBUG skein.master.runtime: heartbeat sends " in master
    assert " INFO skein.master.runtime: SUCCEEDED: quick_0: Completed successfully." in master


def test_a_request_yarn_refuses_fails_the_application_with_yarns_reason(
    client: skein.Client,
) -> None:
    # Node labels are not enabled on the test cluster: YARN refuses such a request.
    spec = {"services": {"labelled": {"resources": SMALL, "node_label": "gpu", "script": "true"}}}
    report = run(client, spec, timeout=60)
    assert (report.state, report.final_status) == ("FINISHED", "FAILED")
    assert "The ResourceManager refused the master's requests" in report.diagnostics
    assert "node label" in report.diagnostics
