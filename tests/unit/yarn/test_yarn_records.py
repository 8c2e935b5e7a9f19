"""Records read from hand-built YARN protobuf messages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.yarn import (
    ApplicationReport,
    ApplicationState,
    FinalStatus,
    NodeReport,
    NodeState,
    Queue,
    QueueState,
    Resources,
    ResourceUsageReport,
    from_proto,
)

START_MS = 1_700_000_000_123
FINISH_MS = START_MS + 90_500


def _resources(memory: int, vcores: int, **extra: int) -> pb.ResourceProto:
    message = pb.ResourceProto(memory=memory, virtual_cores=vcores)
    for key, value in extra.items():
        message.resource_value_map.add(key=key, value=value, units="")
    return message


def _application_report(**overrides: object) -> pb.ApplicationReportProto:
    message = pb.ApplicationReportProto(
        applicationId=pb.ApplicationIdProto(id=12, cluster_timestamp=1_700_000_000_000),
        user="alice",
        queue="default",
        name="demo",
        host="worker-1",
        rpc_port=41_000,
        yarn_application_state=pb.FINISHED,
        trackingUrl="http://rm:8088/proxy/application_1700000000000_0012/",
        diagnostics="all good",
        startTime=START_MS,
        finishTime=FINISH_MS,
        final_application_status=pb.APP_SUCCEEDED,
        progress=1.0,
        applicationTags=["etl", "nightly"],
        applicationType="skein",
        app_resource_Usage=pb.ApplicationResourceUsageReportProto(
            num_used_containers=3,
            used_resources=_resources(3072, 3),
            reserved_resources=_resources(0, 0),
            needed_resources=_resources(4096, 4, **{"yarn.io/gpu": 1}),
            memory_seconds=123_456,
            vcore_seconds=789,
        ),
    )
    for name, value in overrides.items():
        setattr(message, name, value)
    return message


def test_application_report_has_skein_fields() -> None:
    report = from_proto(ApplicationReport, _application_report())
    assert report == ApplicationReport(
        id="application_1700000000000_0012",
        name="demo",
        user="alice",
        queue="default",
        tags=frozenset({"etl", "nightly"}),
        host="worker-1",
        port=41_000,
        tracking_url="http://rm:8088/proxy/application_1700000000000_0012/",
        state=ApplicationState.FINISHED,
        final_status=FinalStatus.SUCCEEDED,
        progress=1.0,
        usage=ResourceUsageReport(
            memory_seconds=123_456,
            vcore_seconds=789,
            num_used_containers=3,
            needed_resources=Resources(memory=4096, vcores=4, gpus=1),
            reserved_resources=Resources(memory=0, vcores=0),
            used_resources=Resources(memory=3072, vcores=3),
        ),
        diagnostics="all good",
        start_time=datetime(2023, 11, 14, 22, 13, 20, 123_000, tzinfo=timezone.utc),
        finish_time=datetime(2023, 11, 14, 22, 14, 50, 623_000, tzinfo=timezone.utc),
        application_type="skein",
    )
    assert report.runtime == timedelta(seconds=90.5)
    assert report.state == "FINISHED"


def test_unset_times_are_none_and_runtime_is_zero_before_start() -> None:
    message = _application_report(startTime=0, finishTime=0, yarn_application_state=pb.ACCEPTED)
    report = from_proto(ApplicationReport, message)
    assert report.start_time is None
    assert report.finish_time is None
    assert report.runtime == timedelta(0)


def test_running_application_runtime_grows_until_now() -> None:
    report = from_proto(ApplicationReport, _application_report(finishTime=0))
    assert report.finish_time is None
    assert report.runtime > timedelta(days=1)


def test_missing_fields_read_as_yarn_defaults() -> None:
    report = from_proto(ApplicationReport, pb.ApplicationReportProto())
    assert report.id == "application_0_0000"
    assert report.diagnostics == "N/A"  # Hadoop's declared default
    assert report.usage.used_resources == Resources(memory=0, vcores=0)
    assert report.tags == frozenset()


def test_progress_drops_float32_noise() -> None:
    report = from_proto(ApplicationReport, _application_report(progress=0.1))
    assert report.progress == 0.1


def test_undisclosed_usage_reads_as_zero() -> None:
    # The ResourceManager sends -1 to users who may not view an application.
    usage = pb.ApplicationResourceUsageReportProto(
        num_used_containers=-1,
        memory_seconds=-1,
        vcore_seconds=-1,
        used_resources=_resources(-1, -1),
    )
    report = from_proto(ResourceUsageReport, usage)
    assert report.num_used_containers == report.memory_seconds == report.vcore_seconds == 0
    assert report.used_resources == Resources(memory=0, vcores=0)


def test_resources_read_gpus_and_fpgas_from_the_resource_map() -> None:
    message = _resources(8192, 8, **{"yarn.io/gpu": 2, "yarn.io/fpga": 1, "other": 5})
    assert from_proto(Resources, message) == Resources(memory=8192, vcores=8, gpus=2, fpgas=1)


def test_node_report() -> None:
    message = pb.NodeReportProto(
        nodeId=pb.NodeIdProto(host="worker-1.example.com", port=45_454),
        httpAddress="worker-1.example.com:8042",
        rackName="/default-rack",
        used=_resources(2048, 2),
        capability=_resources(16_384, 8, **{"yarn.io/gpu": 4}),
        numContainers=2,
        node_state=pb.NS_DECOMMISSIONING,
        health_report="",
        node_labels=["gpu"],
    )
    report = from_proto(NodeReport, message)
    assert report == NodeReport(
        id="worker-1.example.com:45454",
        http_address="worker-1.example.com:8042",
        rack_name="/default-rack",
        labels=frozenset({"gpu"}),
        state=NodeState.DECOMMISSIONING,
        health_report="",
        total_resources=Resources(memory=16_384, vcores=8, gpus=4),
        used_resources=Resources(memory=2048, vcores=2),
    )
    assert (report.host, report.port) == ("worker-1.example.com", 45_454)


@pytest.mark.parametrize(
    ("capacity", "maximum", "current", "expected"),
    [
        (0.5, 1.0, 0.25, (50.0, 100.0, 25.0)),
        (0.3, 0.7, 1.7, (30.0, 70.0, 170.0)),  # used may exceed the guarantee
        (0.1, -1.0, 0.0, (10.0, 100.0, 0.0)),  # no maximum
    ],
)
def test_queue_percentages(
    capacity: float, maximum: float, current: float, expected: tuple[float, float, float]
) -> None:
    message = pb.QueueInfoProto(
        queueName="default",
        capacity=capacity,
        maximumCapacity=maximum,
        currentCapacity=current,
        state=pb.Q_RUNNING,
        accessibleNodeLabels=["*"],
        defaultNodeLabelExpression="",
    )
    queue = from_proto(Queue, message)
    assert (queue.capacity, queue.max_capacity, queue.percent_used) == expected
    assert queue.name == "default"
    assert queue.state is QueueState.RUNNING
    assert queue.node_labels == frozenset({"*"})
    assert queue.default_node_label == ""


def test_records_are_frozen() -> None:
    resources = Resources(memory=1024, vcores=1)
    with pytest.raises(AttributeError):
        resources.memory = 2048  # type: ignore[misc]
