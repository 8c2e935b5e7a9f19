"""Application logs on the real cluster: aggregated ones equal ``yarn logs``; live ones appear."""

from __future__ import annotations

import re
import threading
import time
import uuid

import pytest

import skein
from skein.cli.main import main as skein_main
from skein.errors import ApplicationNotFoundError
from skein.testcluster import TestCluster

pytestmark = pytest.mark.cluster

SECTION = re.compile(
    rb"Container: (?P<container>\S+) on \S+\n"
    rb"LogAggregationType: \w+\n=+\n"
    rb"LogType:(?P<name>.*)\n"
    rb"LogLastModifiedTime:.*\n"
    rb"LogLength:(?P<length>\d+)\n"
    rb"LogContents:\n"
)
SMALL = ("-container_memory", "128", "-master_memory", "256")


def parse_yarn_logs(output: bytes) -> dict[str, dict[str, bytes]]:
    """Container id -> {file name: content}, from what ``yarn logs`` printed (Hadoop 3)."""
    logs: dict[str, dict[str, bytes]] = {}
    position = 0
    while (match := SECTION.search(output, position)) is not None:
        end = match.end() + int(match["length"])
        content = output[match.end() : end]
        logs.setdefault(match["container"].decode(), {})[match["name"].decode()] = content
        assert output.startswith(b"\nEnd of LogType:" + match["name"], end)
        position = end
    return logs


def application_named(client: skein.Client, name: str, timeout: float = 60) -> str:
    """The id of the one application called ``name`` (other tests may use the cluster too)."""
    deadline = time.monotonic() + timeout
    while True:
        reports = client.get_applications(
            states=list(skein.ApplicationState), name=name, types=None
        )
        if reports:
            (report,) = reports
            return report.id
        assert time.monotonic() < deadline, f"no application called {name}"
        time.sleep(0.5)


def test_aggregated_logs_equal_yarn_logs(hadoop_cluster: TestCluster) -> None:
    name = f"logs-aggregated-{uuid.uuid4().hex[:8]}"
    marker = f"marker-{uuid.uuid4().hex}"
    result = hadoop_cluster.distributed_shell(
        "-appname",
        name,
        "-shell_command",
        f"{{ echo {marker}; echo err-{marker} >&2; }}",
        "-num_containers",
        "2",
        *SMALL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with skein.Client() as client:
        app_id = application_named(client, name)
        logs = client.application_logs(app_id, timeout=120)
    assert logs.source == "aggregated"

    printed = hadoop_cluster.yarn("logs", "-applicationId", app_id)
    assert printed.returncode == 0, printed.stderr
    expected = parse_yarn_logs(printed.stdout.encode())
    ours = {c: {n: text.encode() for n, text in files.items()} for c, files in logs.files.items()}
    assert ours == expected
    assert len(ours) == 3  # the master and two shells
    workers = [files for files in logs.files.values() if "stdout" in files]
    assert [files["stdout"] for files in workers] == [f"{marker}\n"] * 2
    assert [files["stderr"] for files in workers] == [f"err-{marker}\n"] * 2


def test_live_logs_of_a_running_application(hadoop_cluster: TestCluster) -> None:
    name = f"logs-live-{uuid.uuid4().hex[:8]}"
    marker = f"marker-{uuid.uuid4().hex}"
    runner = threading.Thread(
        target=hadoop_cluster.distributed_shell,
        args=("-appname", name, "-shell_command", f"{{ echo {marker}; sleep 120; }}", *SMALL),
        daemon=True,
    )
    runner.start()
    with skein.Client() as client:
        app_id = application_named(client, name)
        try:
            deadline = time.monotonic() + 90
            while True:
                logs = client.application_logs(app_id)
                stdouts = [files.get("stdout", "") for files in logs.files.values()]
                if any(marker in text for text in stdouts):
                    break
                assert time.monotonic() < deadline, logs.dumps()
                time.sleep(1)
            assert logs.source == "live"
            assert client.application_report(app_id).state == "RUNNING"
            assert f"{marker}\n" in stdouts
            assert any("AppMaster.stderr" in files for files in logs.files.values())
        finally:
            client.kill_application(app_id)
    runner.join(timeout=60)


def test_unknown_application(
    hadoop_cluster: TestCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown = "application_1_9999"
    with skein.Client() as client, pytest.raises(ApplicationNotFoundError, match="does not exist"):
        client.application_logs(unknown)
    assert skein_main(["application", "logs", unknown]) == 1
    assert capsys.readouterr().err == f"Error: Application {unknown} does not exist\n"
