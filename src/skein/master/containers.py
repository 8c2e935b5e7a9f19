"""The master's containers as the outside world sees them: a state and a snapshot record.

Each service container the master manages is a :class:`Container`: which
service and instance it is, where it is in its life (:class:`ContainerState`)
and, once YARN allocated it, which YARN container and node it runs on. The
names and fields are Skein 0.8's. Records are immutable snapshots; the master
makes a new one on every change.

Life of a container::

    WAITING ──> REQUESTED ──> RUNNING ──> SUCCEEDED | FAILED | KILLED
       │            │            (any active state) ──> KILLED
       └────────────┴──> KILLED

WAITING: its service waits for the services it depends on. REQUESTED: asked
of YARN. RUNNING: allocated, and launched (or being launched) on its node.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from skein.yarn.enums import YarnEnum

__all__ = ["ACTIVE_STATES", "Container", "ContainerState", "parse_container_id"]


class ContainerState(YarnEnum):
    """Where a service container is in its life (Skein 0.8's states)."""

    WAITING = "WAITING"
    REQUESTED = "REQUESTED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_active(self) -> bool:
        """Whether the container still may run (waiting, requested or running).

        Example:
            >>> ContainerState.REQUESTED.is_active, ContainerState("killed").is_active
            (True, False)
        """
        return self in ACTIVE_STATES


ACTIVE_STATES = frozenset(
    {ContainerState.WAITING, ContainerState.REQUESTED, ContainerState.RUNNING}
)
"""The states of containers that have not completed."""


def parse_container_id(container_id: str) -> tuple[str, int]:
    """Split a skein container id ``<service>_<instance>`` into its parts.

    Service names may themselves contain underscores: the instance is what
    follows the last one.

    Raises:
        ValueError: the id does not end in ``_<instance number>``.

    Example:
        >>> parse_container_id("dask_worker_12")
        ('dask_worker', 12)
    """
    service, sep, instance = container_id.rpartition("_")
    if not sep or not service or not instance.isdigit() or not instance.isascii():
        raise ValueError(f"invalid container id {container_id!r}: expected '<service>_<instance>'")
    return service, int(instance)


@dataclass(frozen=True, slots=True, kw_only=True)
class Container:
    """A snapshot of one service container.

    Attributes:
        service_name: the service it belongs to.
        instance: its number within the service, from 0; never reused, so a
            restarted container gets a new one.
        state: where it is in its life.
        yarn_container_id: the YARN container it runs in (empty before allocation).
        yarn_node_http_address: the web address of its NodeManager (empty before allocation).
        start_time: when it was allocated (aware UTC), or None.
        finish_time: when it completed (aware UTC), or None while active.
        exit_message: why it completed (empty while active).

    Example:
        >>> c = Container(service_name="web", instance=3, state=ContainerState.WAITING)
        >>> c.id, c.state
        ('web_3', ContainerState.WAITING)
    """

    service_name: str
    instance: int
    state: ContainerState
    yarn_container_id: str = ""
    yarn_node_http_address: str = ""
    start_time: datetime | None = None
    finish_time: datetime | None = None
    exit_message: str = ""

    @property
    def id(self) -> str:
        """The skein container id, ``<service_name>_<instance>``."""
        return f"{self.service_name}_{self.instance}"

    @property
    def runtime(self) -> timedelta:
        """How long it ran: start to finish, or to now while it runs (zero before it starts).

        Example:
            >>> from datetime import datetime, timezone
            >>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
            >>> Container(service_name="a", instance=0, state=ContainerState.SUCCEEDED,
            ...           start_time=t0, finish_time=t0 + timedelta(seconds=5)).runtime
            datetime.timedelta(seconds=5)
        """
        if self.start_time is None:
            return timedelta(0)
        end = self.finish_time or datetime.now(timezone.utc)
        return end - self.start_time
