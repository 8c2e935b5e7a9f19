"""Container id strings ⇄ ``ContainerInstance``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skein._proto.api import skein_pb2 as pb
from skein.kv.owners import owner_from_proto, owner_to_proto


def test_parses_service_and_instance() -> None:
    assert owner_to_proto("worker_3") == pb.ContainerInstance(service_name="worker", instance=3)


def test_service_names_may_contain_underscores() -> None:
    message = owner_to_proto("dask_worker_0")
    assert (message.service_name, message.instance) == ("dask_worker", 0)


@pytest.mark.parametrize(
    "text",
    ["worker", "worker_", "_3", "worker_-1", "worker_+1", "worker_ 1", "worker_x", "worker_٣"],
)
def test_rejects_malformed_ids_with_skeins_message(text: str) -> None:
    with pytest.raises(ValueError, match=r"^Invalid container id ") as info:
        owner_to_proto(text)
    assert repr(text) in str(info.value)


def test_rejects_instances_beyond_int32() -> None:
    owner_to_proto(f"w_{2**31 - 1}")
    with pytest.raises(ValueError, match="Invalid container id"):
        owner_to_proto(f"w_{2**31}")


@given(
    service=st.text(min_size=1, max_size=10).filter(lambda s: "\0" not in s),
    instance=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_round_trips(service: str, instance: int) -> None:
    text = f"{service}_{instance}"
    assert owner_from_proto(owner_to_proto(text)) == text
