"""The public container record and its states."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from skein.master.containers import (
    ACTIVE_STATES,
    Container,
    ContainerState,
    parse_container_id,
)


def test_states_are_skein_08s_in_order() -> None:
    assert [s.name for s in ContainerState.values()] == [
        "WAITING",
        "REQUESTED",
        "RUNNING",
        "SUCCEEDED",
        "FAILED",
        "KILLED",
    ]


def test_states_compare_to_strings_and_parse_in_any_case() -> None:
    assert ContainerState("running") is ContainerState.RUNNING
    assert ContainerState.RUNNING == "RUNNING"
    assert str(ContainerState.KILLED) == "KILLED"


def test_active_states() -> None:
    assert {s for s in ContainerState if s.is_active} == ACTIVE_STATES
    assert not ContainerState.SUCCEEDED.is_active


def test_id_joins_service_and_instance() -> None:
    assert (
        Container(service_name="dask.worker", instance=7, state=ContainerState.WAITING).id
        == "dask.worker_7"
    )


@pytest.mark.parametrize(
    ("text", "parts"),
    [("web_0", ("web", 0)), ("a_b_12", ("a_b", 12)), ("x.y_3", ("x.y", 3))],
)
def test_parse_container_id(text: str, parts: tuple[str, int]) -> None:
    assert parse_container_id(text) == parts


@pytest.mark.parametrize("text", ["web", "web_", "_1", "web_x", "web_-1", "web_\u0661"])
def test_parse_container_id_refuses_malformed_ids(text: str) -> None:
    with pytest.raises(ValueError, match="invalid container id"):
        parse_container_id(text)


def test_runtime_is_zero_before_the_start() -> None:
    assert Container(
        service_name="a", instance=0, state=ContainerState.REQUESTED
    ).runtime == timedelta(0)


def test_runtime_runs_to_now_while_running() -> None:
    start = datetime.now(timezone.utc) - timedelta(seconds=30)
    container = Container(
        service_name="a", instance=0, state=ContainerState.RUNNING, start_time=start
    )
    assert timedelta(seconds=29) < container.runtime < timedelta(seconds=60)


def test_records_are_immutable() -> None:
    container = Container(service_name="a", instance=0, state=ContainerState.WAITING)
    with pytest.raises(AttributeError):
        container.state = ContainerState.RUNNING  # type: ignore[misc]
