"""Skein 0.8's enum behaviour and the mapping to YARN's prefixed wire names."""

from __future__ import annotations

import pytest

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.yarn import ApplicationState, FinalStatus, NodeState, QueueState
from skein.yarn.conversion import enum_from_proto, enum_to_proto
from skein.yarn.enums import YarnEnum

# Each skein enum and the YARN enum it mirrors; members must cover every value.
MIRRORS = [
    (ApplicationState, pb.YarnApplicationStateProto.DESCRIPTOR),
    (FinalStatus, pb.FinalApplicationStatusProto.DESCRIPTOR),
    (NodeState, pb.NodeStateProto.DESCRIPTOR),
    (QueueState, pb.QueueStateProto.DESCRIPTOR),
]


def test_construction_ignores_case() -> None:
    assert ApplicationState("running") is ApplicationState.RUNNING
    assert NodeState("Decommissioning") is NodeState.DECOMMISSIONING
    assert ApplicationState(ApplicationState.KILLED) is ApplicationState.KILLED


def test_unknown_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="SLEEPING"):
        ApplicationState("SLEEPING")
    with pytest.raises(ValueError, match="3"):
        ApplicationState(3)


def test_members_are_their_upper_case_names() -> None:
    assert FinalStatus.SUCCEEDED == "SUCCEEDED"
    assert str(QueueState.STOPPED) == "STOPPED"
    assert f"{NodeState.LOST}" == "LOST"
    assert {"RUNNING": 1}[ApplicationState.RUNNING] == 1
    assert repr(QueueState.RUNNING) == "QueueState.RUNNING"


def test_values_lists_members_in_order() -> None:
    assert QueueState.values() == [QueueState.RUNNING, QueueState.STOPPED, QueueState.DRAINING]


@pytest.mark.parametrize(("enum_type", "descriptor"), MIRRORS)
def test_every_yarn_value_round_trips(enum_type: type[YarnEnum], descriptor: object) -> None:
    numbers = [value.number for value in descriptor.values]  # type: ignore[attr-defined]
    members = [enum_from_proto(enum_type, descriptor, n) for n in numbers]  # type: ignore[arg-type]
    assert sorted(members) == sorted(enum_type)
    assert [enum_to_proto(m, descriptor) for m in members] == numbers  # type: ignore[arg-type]


def test_prefixes_are_dropped() -> None:
    assert enum_from_proto(NodeState, pb.NodeStateProto.DESCRIPTOR, pb.NS_LOST) is NodeState.LOST
    final = pb.FinalApplicationStatusProto.DESCRIPTOR
    assert enum_from_proto(FinalStatus, final, pb.APP_KILLED) is FinalStatus.KILLED
    assert enum_to_proto(QueueState.STOPPED, pb.QueueStateProto.DESCRIPTOR) == pb.Q_STOPPED
    # NEW_SAVING shares "NEW" with NEW but no prefix ends in an underscore.
    state = pb.YarnApplicationStateProto.DESCRIPTOR
    assert enum_from_proto(ApplicationState, state, pb.NEW_SAVING) is ApplicationState.NEW_SAVING


def test_mismatches_raise_value_error() -> None:
    with pytest.raises(ValueError, match="not a value"):
        enum_from_proto(NodeState, pb.NodeStateProto.DESCRIPTOR, 99)
    with pytest.raises(ValueError, match="no member"):
        enum_from_proto(QueueState, pb.NodeStateProto.DESCRIPTOR, pb.NS_NEW)
    with pytest.raises(ValueError, match="no value"):
        enum_to_proto(FinalStatus.SUCCEEDED, pb.NodeStateProto.DESCRIPTOR)
