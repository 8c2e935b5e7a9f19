"""Live or aggregated, and waiting for aggregation: with a fake ResourceManager and clock."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.errors import LogsUnavailableError, UnsupportedLogFormatError
from skein.hadoop.configuration import HadoopConfiguration
from skein.logs import retrieval
from skein.logs.model import ApplicationLogs, ContainerLogs
from skein.yarn.enums import NodeState
from skein.yarn.ids import ApplicationId
from skein.yarn.records import NodeReport

APP = "application_1700000000000_0001"
ENDED_AT = 1_700_000_100.0  # seconds since the epoch
LOGS = ApplicationLogs(
    APP,
    [ContainerLogs(container_id="container_1700000000000_0001_01_000001", node="n:1")],
    source="aggregated",
)


def report(state: str, status: str | None = None, user: str = "alice") -> pb.ApplicationReportProto:
    message = pb.ApplicationReportProto(
        user=user,
        yarn_application_state=pb.YarnApplicationStateProto.Value(state),
        finishTime=int(ENDED_AT * 1000),
    )
    message.applicationId.id = 1
    message.applicationId.cluster_timestamp = 1700000000000
    if status is not None:
        message.log_aggregation_status = pb.LogAggregationStatusProto.Value(f"LOG_{status}")
    return message


class FakeResourceManager:
    """Answers reports from a script (the last one repeats) and counts the calls."""

    def __init__(self, *reports: pb.ApplicationReportProto) -> None:
        self.reports = list(reports)
        self.calls = 0

    async def get_application_report_proto(
        self, app_id: ApplicationId
    ) -> pb.ApplicationReportProto:
        assert str(app_id) == APP
        self.calls += 1
        return self.reports[min(self.calls, len(self.reports)) - 1]

    async def get_cluster_nodes(self, states: Iterable[NodeState] = ()) -> list[NodeReport]:
        assert list(states) == [NodeState.RUNNING]
        return []


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


class FakeAggregated:
    """Stands in for the HDFS reader: records calls, answers from ``answers`` then LOGS."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.answers: list[Exception] = []

    async def __call__(
        self, configuration: HadoopConfiguration, app_id: str, owner: str, *, proxy_user: str | None
    ) -> ApplicationLogs:
        self.calls.append({"app_id": app_id, "owner": owner, "proxy_user": proxy_user})
        if self.answers:
            raise self.answers.pop(0)
        return LOGS


@pytest.fixture
def aggregated(monkeypatch: pytest.MonkeyPatch) -> FakeAggregated:
    fake = FakeAggregated()
    monkeypatch.setattr(retrieval, "read_aggregated_logs", fake)
    return fake


async def fetch(rm: FakeResourceManager, fake_time: FakeTime, **kwargs: Any) -> ApplicationLogs:
    return await retrieval.fetch_application_logs(
        rm,
        HadoopConfiguration(),
        APP,
        clock=fake_time.clock,
        wall_clock=lambda: ENDED_AT + 1,
        sleep=fake_time.sleep,
        **kwargs,
    )


async def test_finished_and_aggregated(aggregated: FakeAggregated, fake_time: FakeTime) -> None:
    rm = FakeResourceManager(report("FINISHED", "SUCCEEDED"))
    assert await fetch(rm, fake_time) is LOGS
    assert aggregated.calls == [{"app_id": APP, "owner": "alice", "proxy_user": None}]
    assert fake_time.sleeps == []


async def test_waits_for_aggregation(aggregated: FakeAggregated, fake_time: FakeTime) -> None:
    rm = FakeResourceManager(
        report("KILLED", "NOT_START"), report("KILLED", "RUNNING"), report("KILLED", "SUCCEEDED")
    )
    assert await fetch(rm, fake_time) is LOGS
    assert rm.calls == 3
    assert fake_time.sleeps == [0.5, 0.75]


async def test_gives_up_waiting(aggregated: FakeAggregated, fake_time: FakeTime) -> None:
    aggregated.answers.append(LogsUnavailableError("no aggregated logs"))
    rm = FakeResourceManager(report("FAILED", "RUNNING"))
    with pytest.raises(
        LogsUnavailableError, match=r"not aggregated yet \(log aggregation is RUNNING after 5 s\)"
    ):
        await fetch(rm, fake_time, timeout=5)
    assert fake_time.now <= 5


async def test_partial_logs_after_the_timeout_are_returned(
    aggregated: FakeAggregated, fake_time: FakeTime
) -> None:
    rm = FakeResourceManager(report("FINISHED", "RUNNING"))
    assert await fetch(rm, fake_time, timeout=3) is LOGS


async def test_not_started_long_after_the_end_is_not_waited_for(
    aggregated: FakeAggregated, fake_time: FakeTime
) -> None:
    aggregated.answers.append(LogsUnavailableError("no aggregated logs of it"))
    rm = FakeResourceManager(report("KILLED", "NOT_START"))
    with pytest.raises(LogsUnavailableError, match="not aggregated yet"):
        await retrieval.fetch_application_logs(
            rm,
            HadoopConfiguration(),
            APP,
            timeout=30,
            clock=fake_time.clock,
            wall_clock=lambda: ENDED_AT + 3600,
            sleep=fake_time.sleep,
        )
    assert fake_time.sleeps == []


async def test_disabled(aggregated: FakeAggregated, fake_time: FakeTime) -> None:
    rm = FakeResourceManager(report("FINISHED", "DISABLED"))
    with pytest.raises(LogsUnavailableError, match="log aggregation is disabled"):
        await fetch(rm, fake_time)
    assert aggregated.calls == []


async def test_old_resource_manager_without_a_status(
    aggregated: FakeAggregated, fake_time: FakeTime
) -> None:
    aggregated.answers += [LogsUnavailableError("none yet"), LogsUnavailableError("none yet")]
    rm = FakeResourceManager(report("FINISHED"))
    assert await fetch(rm, fake_time, timeout=10) is LOGS
    assert fake_time.sleeps == [2.0, 2.0]


async def test_old_resource_manager_and_nothing_found(
    aggregated: FakeAggregated, fake_time: FakeTime
) -> None:
    aggregated.answers += [LogsUnavailableError("no aggregated logs")] * 10
    rm = FakeResourceManager(report("FINISHED"))
    with pytest.raises(LogsUnavailableError, match="is log aggregation enabled"):
        await fetch(rm, fake_time, timeout=5)


async def test_unsupported_formats_are_not_retried(
    aggregated: FakeAggregated, fake_time: FakeTime
) -> None:
    aggregated.answers.append(UnsupportedLogFormatError("IFile"))
    rm = FakeResourceManager(report("FINISHED"))
    with pytest.raises(UnsupportedLogFormatError):
        await fetch(rm, fake_time, timeout=10)
    assert fake_time.sleeps == []


async def test_proxy_user(aggregated: FakeAggregated, fake_time: FakeTime) -> None:
    rm = FakeResourceManager(report("FINISHED", "SUCCEEDED", user="bob"))
    await fetch(rm, fake_time, user="bob-admin")
    assert aggregated.calls == [{"app_id": APP, "owner": "bob", "proxy_user": "bob-admin"}]


@pytest.mark.parametrize("state", ["ACCEPTED", "RUNNING"])
async def test_running_applications_are_read_live(
    state: str, monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime
) -> None:
    seen: dict[str, Any] = {}

    async def live(nodes: list[NodeReport], app_id: str, **kwargs: Any) -> ApplicationLogs:
        seen.update(kwargs, nodes=nodes, app_id=app_id)
        return LOGS

    monkeypatch.setattr(retrieval, "read_live_logs", live)
    rm = FakeResourceManager(report(state, "NOT_START"))
    assert await fetch(rm, fake_time, user="carol", timeout=7) is LOGS
    assert seen == {"nodes": [], "app_id": APP, "https": False, "user": "carol", "timeout": 7}


async def test_nothing_found_after_aggregation_failed(
    aggregated: FakeAggregated, fake_time: FakeTime
) -> None:
    aggregated.answers.append(LogsUnavailableError("no aggregated logs of it found"))
    rm = FakeResourceManager(report("FAILED", "FAILED"))
    with pytest.raises(LogsUnavailableError, match=r"found \(log aggregation FAILED\)"):
        await fetch(rm, fake_time)
