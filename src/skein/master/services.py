"""The master's bookkeeping of one service: its containers, restarts and readiness.

This is the mutable state behind :class:`~skein.master.reconcile.Reconciler`;
it makes no decisions that involve other services or YARN. A service's
containers are kept in instance order, and an instance number is the
container's index, so numbers are never reused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType

from skein.master.actions import Ask
from skein.master.containers import ACTIVE_STATES, Container, ContainerState
from skein.spec import Service

__all__ = ["ContainerSlot", "ServiceTracker"]


def _utc(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)


@dataclass(slots=True, eq=False)
class ContainerSlot:
    """The live, mutable record of one container (a :class:`Container` is its snapshot).

    Attributes:
        service: the service's name.
        instance: the instance number.
        initial: whether it is one of the service's ``instances`` at start
            (the containers dependents wait for).
        env: environment overrides given when it was added.
        state: its state.
        ask: its outstanding request while REQUESTED.
        yarn_container_id: its YARN container once allocated.
        node_http_address: its NodeManager's web address once allocated.
        launching: allocated, and the launch not yet confirmed.
        start_time, finish_time: epoch seconds, or None.
        exit_message: why it completed.
    """

    service: str
    instance: int
    initial: bool
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    state: ContainerState = ContainerState.WAITING
    ask: Ask | None = None
    yarn_container_id: str = ""
    node_http_address: str = ""
    launching: bool = False
    start_time: float | None = None
    finish_time: float | None = None
    exit_message: str = ""

    @property
    def id(self) -> str:
        """``<service>_<instance>``."""
        return f"{self.service}_{self.instance}"

    @property
    def is_active(self) -> bool:
        """Whether it is waiting, requested or running."""
        return self.state in ACTIVE_STATES

    def snapshot(self) -> Container:
        """The immutable record of the slot as it is now."""
        return Container(
            service_name=self.service,
            instance=self.instance,
            state=self.state,
            yarn_container_id=self.yarn_container_id,
            yarn_node_http_address=self.node_http_address,
            start_time=_utc(self.start_time),
            finish_time=_utc(self.finish_time),
            exit_message=self.exit_message,
        )


class ServiceTracker:
    """One service's containers and counters.

    Args:
        name: the service's name.
        spec: its specification.

    Attributes:
        slots: its containers; ``slots[i].instance == i``.
        restarts: replacement containers added for failed ones so far.
        waiting_on: dependencies that have not started yet.
        started: whether the service has started, which its dependents wait
            for: its dependencies started, and each of its initial containers
            was allocated (or is gone). Becomes true once and stays.
    """

    def __init__(self, name: str, spec: Service) -> None:
        self.name = name
        self.spec = spec
        self.slots: list[ContainerSlot] = []
        self.restarts = 0
        self.waiting_on: set[str] = set(spec.depends)
        self.started = False

    @property
    def ready(self) -> bool:
        """Whether every dependency has started, so containers may be requested."""
        return not self.waiting_on

    def new_slot(self, *, initial: bool, env: Mapping[str, str] | None = None) -> ContainerSlot:
        """Add a WAITING container with the next instance number."""
        slot = ContainerSlot(
            service=self.name,
            instance=len(self.slots),
            initial=initial,
            env=MappingProxyType(dict(env or {})),
        )
        self.slots.append(slot)
        return slot

    def in_state(self, *states: ContainerState) -> Iterator[ContainerSlot]:
        """The containers in any of ``states``, in instance order."""
        return (slot for slot in self.slots if slot.state in states)

    @property
    def active(self) -> list[ContainerSlot]:
        """The waiting, requested and running containers."""
        return [slot for slot in self.slots if slot.is_active]

    def may_restart(self) -> bool:
        """Whether the restart budget allows another replacement (-1: no limit)."""
        limit = self.spec.max_restarts
        return limit == -1 or self.restarts < limit

    def initial_allocated(self) -> bool:
        """Whether none of the initial containers still waits for an allocation."""
        pending = (ContainerState.WAITING, ContainerState.REQUESTED)
        return not any(slot.initial and slot.state in pending for slot in self.slots)

    def scale_down_victims(self, count: int) -> list[ContainerSlot]:
        """The ``count`` containers to kill when scaling down, in Skein 0.8's order.

        Waiting ones first (oldest first), then requested ones (oldest request
        first), then running ones (longest running first).
        """
        waiting = list(self.in_state(ContainerState.WAITING))
        requested = sorted(
            self.in_state(ContainerState.REQUESTED),
            key=lambda s: s.ask.priority if s.ask else 0,
        )
        running = sorted(
            self.in_state(ContainerState.RUNNING),
            key=lambda s: (s.start_time or 0.0, s.instance),
        )
        return (waiting + requested + running)[: max(0, count)]
