"""The heartbeat interval: quick while busy, doubling to one second while idle."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skein.master.heartbeat import BUSY_INTERVAL, IDLE_INTERVAL, next_interval


def test_first_heartbeat_is_quick() -> None:
    assert next_interval(None, busy=False) == BUSY_INTERVAL == 0.2


def test_idle_doubles_up_to_one_second() -> None:
    intervals = []
    interval = BUSY_INTERVAL
    for _ in range(5):
        interval = next_interval(interval, busy=False)
        intervals.append(interval)
    assert intervals == pytest.approx([0.4, 0.8, 1.0, 1.0, 1.0])


def test_busy_goes_back_to_200_ms() -> None:
    assert next_interval(IDLE_INTERVAL, busy=True) == BUSY_INTERVAL


@given(st.lists(st.booleans(), max_size=50))
def test_interval_stays_between_the_bounds(busy_steps: list[bool]) -> None:
    interval: float | None = None
    for busy in busy_steps:
        interval = next_interval(interval, busy)
        assert BUSY_INTERVAL <= interval <= IDLE_INTERVAL
        if busy:
            assert interval == BUSY_INTERVAL
