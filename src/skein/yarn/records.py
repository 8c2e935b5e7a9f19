"""Read-only reports about applications, nodes and queues, as Skein 0.8 named them.

Each record is a frozen dataclass read from one YARN protobuf message by the
generic converter in :mod:`skein.yarn.conversion` (``from_proto(NodeReport,
message)``); attribute names and enums are Skein 0.8's. Memory is in MiB,
times are aware UTC datetimes (``None`` when not reached yet), percentages are
0 to 100.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.yarn.conversion import ProtoField, proto_record, shortest_float32
from skein.yarn.enums import ApplicationState, FinalStatus, NodeState, QueueState
from skein.yarn.ids import ApplicationId

__all__ = [
    "ApplicationReport",
    "NodeReport",
    "Queue",
    "ResourceUsageReport",
    "Resources",
]

# Resource names of the accelerators Skein 0.8 exposes (Hadoop's ResourceInformation).
GPU_RESOURCE = "yarn.io/gpu"
FPGA_RESOURCE = "yarn.io/fpga"


def _non_negative(value: int) -> int:
    # YARN reports -1 for usage it will not disclose (e.g. to a user without
    # view access); Skein 0.8 showed 0.
    return max(0, value)


def _amount_of(resource: str) -> Callable[[Iterable[pb.ResourceInformationProto]], int]:
    def read(entries: Iterable[pb.ResourceInformationProto]) -> int:
        return next((max(0, entry.value) for entry in entries if entry.key == resource), 0)

    return read


def _application_id(message: pb.ApplicationIdProto) -> str:
    return str(ApplicationId.from_proto(message))


def _node_id(message: pb.NodeIdProto) -> str:
    return f"{message.host}:{message.port}"


def _percent(fraction: float) -> float:
    # Scale in decimal so that 0.3 becomes 30.0 rather than 30.000000000000004.
    return float(Decimal(repr(shortest_float32(fraction))) * 100)


def _max_percent(fraction: float) -> float:
    # A negative maximum means "no limit" (Hadoop prints UNDEFINED); Skein 0.8 showed 100.
    return 100.0 if fraction < 0 else _percent(fraction)


@proto_record(pb.ResourceProto)
@dataclass(frozen=True, slots=True, kw_only=True)
class Resources:
    """An amount of cluster resources.

    Attributes:
        memory: memory in MiB.
        vcores: virtual cores.
        gpus: GPUs (YARN resource ``yarn.io/gpu``), 0 if none or not configured.
        fpgas: FPGAs (YARN resource ``yarn.io/fpga``), 0 if none or not configured.
    """

    memory: Annotated[int, ProtoField(convert=_non_negative)]
    vcores: Annotated[int, ProtoField("virtual_cores", convert=_non_negative)]
    gpus: Annotated[int, ProtoField("resource_value_map", convert=_amount_of(GPU_RESOURCE))] = 0
    fpgas: Annotated[int, ProtoField("resource_value_map", convert=_amount_of(FPGA_RESOURCE))] = 0


@proto_record(pb.ApplicationResourceUsageReportProto)
@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceUsageReport:
    """What an application uses and has used.

    Attributes:
        memory_seconds: MiB of memory allocated, integrated over seconds.
        vcore_seconds: virtual cores allocated, integrated over seconds.
        num_used_containers: containers running now.
        needed_resources: resources in use plus those still asked for.
        reserved_resources: resources reserved for the application on busy nodes.
        used_resources: resources allocated now.
    """

    memory_seconds: Annotated[int, ProtoField(convert=_non_negative)]
    vcore_seconds: Annotated[int, ProtoField(convert=_non_negative)]
    num_used_containers: Annotated[int, ProtoField(convert=_non_negative)]
    needed_resources: Resources
    reserved_resources: Resources
    used_resources: Resources


@proto_record(pb.ApplicationReportProto)
@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationReport:
    """The ResourceManager's report on one application.

    Attributes:
        id: the application id, e.g. ``application_1700000000000_0001``.
        name: the application name.
        user: the user running it.
        queue: the queue it runs in.
        tags: its application tags.
        application_type: its YARN application type (``skein`` for skein's).
        host: the host of the current ApplicationMaster ("N/A" before it starts).
        port: the RPC port the ApplicationMaster registered (-1 or 0 if none).
        tracking_url: the web UI address, through the ResourceManager's proxy.
        state: the YARN application state.
        final_status: the outcome the ApplicationMaster declared.
        progress: progress from 0 to 1, as the ApplicationMaster reports it.
        usage: its resource usage.
        diagnostics: YARN's diagnostic message ("N/A" if none).
        start_time: when it started, or ``None``.
        finish_time: when it finished, or ``None`` while it has not.
    """

    id: Annotated[str, ProtoField("applicationId", convert=_application_id)]
    name: str
    user: str
    queue: str
    tags: Annotated[frozenset[str], ProtoField("applicationTags")]
    host: str
    port: Annotated[int, ProtoField("rpc_port")]
    tracking_url: Annotated[str, ProtoField("trackingUrl")]
    state: Annotated[ApplicationState, ProtoField("yarn_application_state")]
    final_status: Annotated[FinalStatus, ProtoField("final_application_status")]
    progress: float
    usage: Annotated[ResourceUsageReport, ProtoField("app_resource_Usage")]
    diagnostics: str
    start_time: Annotated[datetime | None, ProtoField("startTime")]
    finish_time: Annotated[datetime | None, ProtoField("finishTime")]
    application_type: Annotated[str, ProtoField("applicationType")] = ""

    @property
    def runtime(self) -> timedelta:
        """Time from start to finish, or to now while running; zero before it starts."""
        if self.start_time is None:
            return timedelta(0)
        end = self.finish_time or datetime.now(timezone.utc)
        return end - self.start_time


@proto_record(pb.NodeReportProto)
@dataclass(frozen=True, slots=True, kw_only=True)
class NodeReport:
    """The ResourceManager's report on one NodeManager.

    Attributes:
        id: the node id, ``host:port`` of the NodeManager's RPC server.
        http_address: ``host:port`` of the NodeManager's web server.
        rack_name: the node's rack, e.g. ``/default-rack``.
        labels: the node labels (partitions) the node belongs to.
        state: the node's state.
        health_report: the health checker's message, empty when healthy.
        total_resources: the resources the node offers.
        used_resources: the resources allocated to containers now.
    """

    id: Annotated[str, ProtoField("nodeId", convert=_node_id)]
    http_address: Annotated[str, ProtoField("httpAddress")]
    rack_name: Annotated[str, ProtoField("rackName")]
    labels: Annotated[frozenset[str], ProtoField("node_labels")]
    state: Annotated[NodeState, ProtoField("node_state")]
    health_report: str
    total_resources: Annotated[Resources, ProtoField("capability")]
    used_resources: Annotated[Resources, ProtoField("used")]

    @property
    def host(self) -> str:
        """The node's host name."""
        return self.id.rpartition(":")[0]

    @property
    def port(self) -> int:
        """The NodeManager's RPC port."""
        return int(self.id.rpartition(":")[2])


@proto_record(pb.QueueInfoProto)
@dataclass(frozen=True, slots=True, kw_only=True)
class Queue:
    """A scheduler queue.

    Attributes:
        name: the queue name (its leaf name, e.g. ``default``).
        state: whether it accepts applications.
        capacity: its guaranteed share of the parent queue, in percent.
        max_capacity: the most of the parent queue it may use, in percent
            (100 when unlimited).
        percent_used: how much of its own capacity is in use, in percent; may
            exceed 100 when it borrows from other queues.
        node_labels: the node labels it may use (``{"*"}`` means all).
        default_node_label: the label its applications get by default, or "".
    """

    name: Annotated[str, ProtoField("queueName")]
    state: QueueState
    capacity: Annotated[float, ProtoField(convert=_percent)]
    max_capacity: Annotated[float, ProtoField("maximumCapacity", convert=_max_percent)]
    percent_used: Annotated[float, ProtoField("currentCapacity", convert=_percent)]
    node_labels: Annotated[frozenset[str], ProtoField("accessibleNodeLabels")]
    default_node_label: Annotated[str, ProtoField("defaultNodeLabelExpression")]
