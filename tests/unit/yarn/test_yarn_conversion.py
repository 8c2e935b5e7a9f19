"""The generic protobuf-to-record converter, on small purpose-built records."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.yarn import records
from skein.yarn.conversion import (
    ProtoField,
    datetime_from_millis,
    from_proto,
    proto_record,
    shortest_float32,
)
from skein.yarn.enums import NodeState


@proto_record(pb.NodeReportProto)
@dataclass(frozen=True, slots=True, kw_only=True)
class _Node:
    state: Annotated[NodeState | None, ProtoField("node_state")]
    labels: Annotated[tuple[str, ...], ProtoField("node_labels")]
    seen: Annotated[datetime | None, ProtoField("last_health_report_time")]
    used: Annotated[records.Resources | None, ProtoField("used")]


@proto_record(pb.NodeReportProto)
@dataclass(frozen=True, slots=True, kw_only=True)
class _Misspelled:
    rack: str


@proto_record(pb.NodeReportProto)
@dataclass(frozen=True, slots=True, kw_only=True)
class _Unconvertible:
    node_labels: list[str]


def test_optional_attributes_are_none_when_absent() -> None:
    assert from_proto(_Node, pb.NodeReportProto()) == _Node(
        state=None, labels=(), seen=None, used=None
    )


def test_present_values_are_converted_by_type() -> None:
    message = pb.NodeReportProto(
        node_state=pb.NS_RUNNING,
        node_labels=["b", "a"],
        last_health_report_time=1_000,
        used=pb.ResourceProto(memory=1, virtual_cores=1),
    )
    assert from_proto(_Node, message) == _Node(
        state=NodeState.RUNNING,
        labels=("b", "a"),
        seen=datetime(1970, 1, 1, 0, 0, 1, tzinfo=timezone.utc),
        used=records.Resources(memory=1, vcores=1),
    )


def test_wrong_message_type_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"read from hadoop\.yarn\.NodeReportProto"):
        from_proto(_Node, pb.ResourceProto())


def test_unregistered_type_is_rejected() -> None:
    with pytest.raises(TypeError, match="not a @proto_record"):
        from_proto(int, pb.ResourceProto())


def test_declaration_errors_name_the_attribute() -> None:
    with pytest.raises(TypeError, match=r"_Misspelled\.rack: .* has no field 'rack'"):
        from_proto(_Misspelled, pb.NodeReportProto())
    with pytest.raises(TypeError, match=r"_Unconvertible\.node_labels: a repeated field needs"):
        from_proto(_Unconvertible, pb.NodeReportProto())


def test_proto_record_requires_a_dataclass() -> None:
    with pytest.raises(TypeError, match="not a dataclass"):
        proto_record(pb.ResourceProto)(int)


@pytest.mark.parametrize(
    "record_type",
    [
        records.ApplicationReport,
        records.NodeReport,
        records.Queue,
        records.ResourceUsageReport,
        records.Resources,
    ],
)
def test_every_record_reads_an_empty_message(record_type: type) -> None:
    # Builds (and so validates) each record's plan against its message.
    message_type = {
        records.ApplicationReport: pb.ApplicationReportProto,
        records.NodeReport: pb.NodeReportProto,
        records.Queue: pb.QueueInfoProto,
        records.ResourceUsageReport: pb.ApplicationResourceUsageReportProto,
        records.Resources: pb.ResourceProto,
    }[record_type]
    assert isinstance(from_proto(record_type, message_type()), record_type)


def test_datetime_from_millis() -> None:
    assert datetime_from_millis(0) is None
    assert datetime_from_millis(-1) is None
    assert datetime_from_millis(1_700_000_000_001) == datetime(
        2023, 11, 14, 22, 13, 20, 1_000, tzinfo=timezone.utc
    )


@pytest.mark.parametrize(
    ("value", "expected"), [(0.1, 0.1), (0.3, 0.3), (1.0, 1.0), (0.0, 0.0), (1e-7, 1e-7)]
)
def test_shortest_float32_of_decimals(value: float, expected: float) -> None:
    widened = struct.unpack("<f", struct.pack("<f", value))[0]
    assert shortest_float32(widened) == expected


def test_shortest_float32_keeps_non_finite_values() -> None:
    assert shortest_float32(float("inf")) == float("inf")


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_shortest_float32_is_the_same_float32(value: float) -> None:
    assert struct.pack("<f", shortest_float32(value)) == struct.pack("<f", value)
