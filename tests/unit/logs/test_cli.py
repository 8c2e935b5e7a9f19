"""``skein application logs``, with the client replaced by a fake."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import pytest

from skein.cli import main as cli
from skein.errors import ApplicationNotFoundError, LogsUnavailableError
from skein.logs.model import ApplicationLogs, ContainerLogs

APP = "application_1_0001"


class FakeClient:
    def __init__(self, answer: ApplicationLogs | Exception) -> None:
        self.answer = answer
        self.calls: list[tuple[Any, ...]] = []

    def __enter__(self) -> FakeClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass

    def application_logs(self, app_id: str, user: str = "", *, timeout: float) -> ApplicationLogs:
        self.calls.append((app_id, user, timeout))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def run(
    monkeypatch: pytest.MonkeyPatch, answer: ApplicationLogs | Exception, *args: str
) -> tuple[FakeClient, int]:
    """Run ``skein application logs ARGS``; return the fake client and the exit status."""
    client = FakeClient(answer)
    monkeypatch.setattr(cli, "_client", lambda: client)
    return client, cli.main(["application", "logs", *args])


def test_prints_each_container_and_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = ApplicationLogs(
        APP,
        [
            ContainerLogs(
                container_id="container_1_0001_01_000002",
                node="n2:1",
                files={"stdout": "two\n", "stderr": ""},
            ),
            ContainerLogs(container_id="container_1_0001_01_000001", node="n1:1", files={}),
        ],
        source="aggregated",
    )
    client, status = run(monkeypatch, logs, APP, "--user", "bob", "--timeout", "5")
    out, err = capsys.readouterr()
    assert status == 0
    assert client.calls == [(APP, "bob", 5.0)]
    assert out == (
        "** Logs for container_1_0001_01_000001 on n1:1 **\n\n"
        "\n"
        "** Logs for container_1_0001_01_000002 on n2:1 **\n\n"
        "LogType:stdout\nLogLength:4\nLogContents:\ntwo\nEnd of LogType:stdout\n"
        "\n"
        "LogType:stderr\nLogLength:0\nLogContents:\nEnd of LogType:stderr\n"
    )
    assert err == ""


def test_running_application(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client, _ = run(monkeypatch, ApplicationLogs(APP, [], source="live"), APP)
    _, err = capsys.readouterr()
    assert client.calls == [(APP, "", 30.0)]
    assert err == (f"{APP} is running: logs so far, from its nodes\nNo container logs for {APP}\n")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (ApplicationNotFoundError("x", f"Application {APP} does not exist"), "does not exist"),
        (LogsUnavailableError("log aggregation is disabled on this cluster"), "is disabled"),
        (ValueError("Invalid application id 'x'"), "Invalid application id"),
    ],
)
def test_errors_exit_1(
    error: Exception,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, status = run(monkeypatch, error, APP)
    _, err = capsys.readouterr()
    assert status == 1
    assert err.startswith("Error: ")
    assert message in err
