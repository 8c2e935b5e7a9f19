"""Owners, entries and events."""

from __future__ import annotations

import dataclasses

import pytest

from skein.errors import SkeinError
from skein.kvstore import Event, EventType, KeyValue, KeyValueError, Owner


def test_owner_orders_by_service_then_instance() -> None:
    owners = [Owner("b", 0), Owner("a", 10), Owner("a", 2), Owner("ab", 1)]
    assert sorted(owners) == [Owner("a", 2), Owner("a", 10), Owner("ab", 1), Owner("b", 0)]


def test_owner_text_round_trips() -> None:
    owner = Owner("dask_worker", 12)
    assert str(owner) == "dask_worker_12"
    assert Owner.parse("dask_worker_12") == owner


@pytest.mark.parametrize("text", ["worker", "_1", "worker_", "worker_x", "worker_-1", "w_\u0661"])
def test_owner_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(KeyValueError, match="expected '<service_name>_<instance>'"):
        Owner.parse(text)


def test_owner_validation() -> None:
    with pytest.raises(KeyValueError, match="Invalid owner instance -1 for service 'w'"):
        Owner("w", -1)
    with pytest.raises(KeyValueError, match="service name must not be empty"):
        Owner("", 0)


def test_key_value_error_is_a_skein_value_error() -> None:
    assert issubclass(KeyValueError, SkeinError)
    assert issubclass(KeyValueError, ValueError)


def test_records_are_frozen() -> None:
    kv = KeyValue(key="a", value=b"1")
    event = Event(type=EventType.PUT, kv=kv, revision=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        kv.value = b"2"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.revision = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Owner("a", 1).instance = 2  # type: ignore[misc]
