"""The Client's read side against the real ResourceManager, cross-checked with Hadoop's CLIs."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import skein
import skein.errors
from skein.testcluster import TestCluster

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def client(hadoop_cluster: TestCluster) -> Iterator[skein.Client]:
    with skein.Client() as c:
        yield c


def run_skein(*args: str) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).with_name("skein")
    return subprocess.run([cli, *args], capture_output=True, text=True, check=False, timeout=60)


def test_nodes_match_yarn_node_list(hadoop_cluster: TestCluster, client: skein.Client) -> None:
    listing = hadoop_cluster.yarn("node", "-list", "-all").stdout
    rows = re.findall(r"^\s*(\S+:\d+)\s+([A-Z]+)\s+(\S+)", listing, re.MULTILINE)
    theirs = {node: state for node, state, _ in rows}
    ours = {n.id: str(n.state) for n in client.get_nodes()}
    assert ours == theirs
    assert {n.id: n.http_address for n in client.get_nodes()} == {
        node: http for node, _, http in rows
    }
    running = client.get_nodes(["RUNNING"])
    assert [n.id for n in running] == sorted(n for n, s in theirs.items() if s == "RUNNING")
    for node in running:
        assert node.total_resources.memory == 8192
        assert node.http_address.startswith("localhost:")


def queue_status(cluster: TestCluster, name: str) -> dict[str, str]:
    text = cluster.yarn("queue", "-status", name).stdout
    return {k.strip(): v.strip() for k, v in re.findall(r"^\s*([^:\n]+?)\s*:\s*(.*)$", text, re.M)}


def test_queues_match_yarn_queue_status(hadoop_cluster: TestCluster, client: skein.Client) -> None:
    queues = {q.name: q for q in client.get_all_queues()}
    assert {"default", "apps", "dev", "prod"} <= set(queues)
    for name in ("default", "dev", "prod"):
        theirs = queue_status(hadoop_cluster, name)
        ours = queues[name]
        assert str(ours.state) == theirs["State"]
        assert f"{ours.capacity:.2f}%" == theirs["Capacity"].lstrip("0") or float(
            theirs["Capacity"].rstrip("%")
        ) == pytest.approx(ours.capacity)
        assert float(theirs["Maximum Capacity"].rstrip("%")) == pytest.approx(ours.max_capacity)
    assert client.get_queue("dev") == queues["dev"]
    assert {q.name for q in client.get_child_queues("apps")} == {"dev", "prod"}
    assert client.get_child_queues("dev") == []


def test_unknown_queue_is_a_value_error(client: skein.Client) -> None:
    with pytest.raises(ValueError, match="Queue 'nonexistent' does not exist"):
        client.get_queue("nonexistent")


def test_unknown_application_is_a_value_error(client: skein.Client) -> None:
    with pytest.raises(skein.ApplicationNotFoundError, match="application_1_0001 does not exist"):
        client.application_report("application_1_0001")
    with pytest.raises(ValueError, match="Invalid application id 'nonsense'"):
        client.application_report("nonsense")


@pytest.fixture
def sleeping_app(hadoop_cluster: TestCluster, client: skein.Client) -> Iterator[str]:
    """A distributed-shell application that runs until killed."""
    before = {
        r.id for r in client.get_applications(states=list(skein.ApplicationState), types=None)
    }
    runner = threading.Thread(
        target=hadoop_cluster.distributed_shell,
        args=("-shell_command", "sleep 300", "-container_memory", "128", "-master_memory", "256"),
        daemon=True,
    )
    runner.start()
    deadline = time.monotonic() + 60
    new: set[str] = set()
    while not new and time.monotonic() < deadline:
        time.sleep(0.5)
        all_apps = client.get_applications(states=list(skein.ApplicationState), types=None)
        new = {r.id for r in all_apps} - before
    assert len(new) == 1, "the distributed-shell application did not appear"
    (app_id,) = new
    while client.application_report(app_id).state != "RUNNING":
        assert time.monotonic() < deadline, client.application_report(app_id)
        time.sleep(0.5)
    yield app_id
    if client.application_report(app_id).state in ("SUBMITTED", "ACCEPTED", "RUNNING"):
        client.kill_application(app_id)
    runner.join(timeout=60)


def yarn_status(cluster: TestCluster, app_id: str) -> dict[str, str]:
    text = cluster.yarn("application", "-status", app_id).stdout
    return {k.strip(): v.strip() for k, v in re.findall(r"^\s*([^:\n]+?)\s*:\s*(.*)$", text, re.M)}


def test_application_listed_reported_moved_and_killed(
    hadoop_cluster: TestCluster, client: skein.Client, sleeping_app: str
) -> None:
    app_id = sleeping_app
    listed = client.get_applications(types=None)
    assert app_id in [r.id for r in listed]
    # Skein's default lists only skein applications.
    assert app_id not in [r.id for r in client.get_applications()]
    assert app_id in [r.id for r in client.get_applications(types=["YARN"], user="root")] or (
        app_id in [r.id for r in client.get_applications(types=["YARN"])]
    )

    report = client.application_report(app_id)
    theirs = yarn_status(hadoop_cluster, app_id)
    assert report.name == theirs["Application-Name"]
    assert report.user == theirs["User"]
    assert str(report.state) == theirs["State"] == "RUNNING"
    assert theirs["Queue"] in (report.queue, f"root.{report.queue}")

    client.move_application(app_id, "dev")
    moved = client.application_report(app_id)
    assert moved.queue.split(".")[-1] == "dev"
    assert yarn_status(hadoop_cluster, app_id)["Queue"].split(".")[-1] == "dev"
    assert app_id in [r.id for r in client.get_applications(types=None, queue="dev")]

    with pytest.raises(ValueError, match="apps"):
        client.move_application(app_id, "apps")  # a parent queue cannot hold applications

    client.kill_application(app_id)
    deadline = time.monotonic() + 30
    while client.application_report(app_id).state != "KILLED":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert yarn_status(hadoop_cluster, app_id)["State"] == "KILLED"
    assert str(client.application_report(app_id).final_status) == "KILLED"


def test_kill_as_a_proxied_user(
    hadoop_cluster: TestCluster, client: skein.Client, sleeping_app: str
) -> None:
    with pytest.raises(skein.errors.AccessControlError, match="impersonate"):
        client.kill_application(sleeping_app, user=hadoop_cluster.users.not_proxied)
    assert client.application_report(sleeping_app).state == "RUNNING"
    client.kill_application(sleeping_app, user=hadoop_cluster.users.proxied)
    deadline = time.monotonic() + 30
    while client.application_report(sleeping_app).state != "KILLED":
        assert time.monotonic() < deadline
        time.sleep(0.5)


def test_cli_lists_and_reports(hadoop_cluster: TestCluster, sleeping_app: str) -> None:
    listing = run_skein("application", "ls", "--type", "any")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines()[0].split() == [
        "APPLICATION_ID",
        "NAME",
        "STATE",
        "STATUS",
        "CONTAINERS",
        "VCORES",
        "MEMORY",
        "RUNTIME",
    ]
    assert sleeping_app in listing.stdout
    status = run_skein("application", "status", sleeping_app, "--json")
    assert status.returncode == 0, status.stderr
    assert f'"id": "{sleeping_app}"' in status.stdout
    nodes = run_skein("node", "ls")
    assert "localhost:45400" in nodes.stdout
    assert "RUNNING" in nodes.stdout
    queues = run_skein("queue", "ls")
    assert re.search(r"^dev\s+RUNNING", queues.stdout, re.M), queues.stdout
    killed = run_skein("application", "kill", sleeping_app)
    assert killed.returncode == 0, killed.stderr


def test_cli_errors_are_clear(hadoop_cluster: TestCluster) -> None:
    missing = run_skein("application", "status", "application_1_0001")
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: ")
    assert "does not exist" in missing.stderr
    queue = run_skein("queue", "ls", "nonexistent")
    assert queue.returncode == 1
    assert queue.stderr == "Error: Queue 'nonexistent' does not exist\n"
    apps = run_skein("queue", "ls", "apps")
    assert [line.split()[0] for line in apps.stdout.splitlines()] == [
        "QUEUE",
        "apps",
        "dev",
        "prod",
    ]
    moved = run_skein("application", "mv", "application_1_0001", "dev")
    assert moved.returncode == 1
    assert moved.stderr.startswith("Error: ")


def test_cli_ls_is_fast(hadoop_cluster: TestCluster) -> None:
    # Not a timing assertion: benchmarks/ measures it. This checks it works end to end.
    result = run_skein("application", "ls")
    assert result.returncode == 0, result.stderr
