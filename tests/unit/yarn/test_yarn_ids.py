"""YARN identifiers: Hadoop's string forms and protobuf round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.yarn import ApplicationAttemptId, ApplicationId, ContainerId

APP = ApplicationId(cluster_timestamp=1_410_901_177_871, id=1)
ATTEMPT = ApplicationAttemptId(application_id=APP, attempt_id=1)


def test_string_forms_match_hadoop() -> None:
    assert str(APP) == "application_1410901177871_0001"
    assert str(ATTEMPT) == "appattempt_1410901177871_0001_000001"
    plain = ContainerId(attempt_id=ATTEMPT, epoch=0, sequence=5)
    assert str(plain) == "container_1410901177871_0001_01_000005"
    after_restart = ContainerId(attempt_id=ATTEMPT, epoch=17, sequence=5)
    assert str(after_restart) == "container_e17_1410901177871_0001_01_000005"


def test_wide_numbers_are_printed_in_full() -> None:
    app = ApplicationId(cluster_timestamp=1, id=123_456)
    assert str(app) == "application_1_123456"
    assert ApplicationId.parse(str(app)) == app


def test_container_proto_packs_the_epoch_above_bit_40() -> None:
    container = ContainerId(attempt_id=ATTEMPT, epoch=3, sequence=2)
    message = container.to_proto()
    assert message.id == (3 << 40) | 2
    assert not message.HasField("app_id")  # Hadoop leaves the legacy field unset
    assert ContainerId.from_proto(message) == container


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (ApplicationId.parse, "application_12"),
        (ApplicationId.parse, "appattempt_1_0001_000001"),
        (ApplicationAttemptId.parse, "application_1_0001"),
        (ContainerId.parse, "container_1_0001_01"),
        (ContainerId.parse, "container_x1_1_0001_01_000001"),
    ],
)
def test_malformed_ids_are_rejected(parse: object, text: str) -> None:
    with pytest.raises(ValueError, match="not a YARN"):
        parse(text)  # type: ignore[operator]


timestamps = st.integers(min_value=0, max_value=2**62)
ids = st.integers(min_value=0, max_value=2**31 - 1)


@given(timestamps, ids, ids, st.integers(min_value=0, max_value=2**20), ids)
def test_round_trips(timestamp: int, app: int, attempt: int, epoch: int, sequence: int) -> None:
    application = ApplicationId(cluster_timestamp=timestamp, id=app)
    attempt_id = ApplicationAttemptId(application_id=application, attempt_id=attempt)
    container = ContainerId(attempt_id=attempt_id, epoch=epoch, sequence=sequence)
    assert ApplicationId.parse(str(application)) == application
    assert ApplicationAttemptId.parse(str(attempt_id)) == attempt_id
    assert ContainerId.parse(str(container)) == container
    wire = pb.ContainerIdProto.FromString(container.to_proto().SerializeToString())
    assert ContainerId.from_proto(wire) == container
