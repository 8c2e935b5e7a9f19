"""How often the master heartbeats the ResourceManager.

Allocations and completions only arrive with a heartbeat, so the master
heartbeats quickly while it waits for something (a request is outstanding,
a container is being launched) and backs off while nothing happens. The
slowest rate, one per second, is far inside YARN's liveness interval (ten
minutes by default), and keeps the master quick to notice completions.
"""

from __future__ import annotations

from typing import Final

__all__ = ["BUSY_INTERVAL", "IDLE_INTERVAL", "next_interval"]

BUSY_INTERVAL: Final = 0.2
"""Seconds between heartbeats while requests are outstanding or containers are starting."""

IDLE_INTERVAL: Final = 1.0
"""The longest pause between heartbeats, reached by doubling while idle."""


def next_interval(previous: float | None, busy: bool) -> float:
    """Seconds to wait before the next heartbeat.

    Args:
        previous: the last interval, or None before the first heartbeat.
        busy: whether requests are outstanding or containers are starting.

    Example:
        >>> interval = None
        >>> steps = []
        >>> for busy in (True, False, False, False, False, True):
        ...     interval = next_interval(interval, busy)
        ...     steps.append(interval)
        >>> steps
        [0.2, 0.4, 0.8, 1.0, 1.0, 0.2]
    """
    if busy or previous is None:
        return BUSY_INTERVAL
    return min(previous * 2, IDLE_INTERVAL)
