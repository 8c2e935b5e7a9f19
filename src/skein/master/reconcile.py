"""The master's decisions: events in, actions out, no I/O.

Theory of operation. The :class:`Reconciler` holds every service container
(:mod:`skein.master.services`) and answers each event with the actions that
follow from it (:mod:`skein.master.actions`). The driver feeds it what YARN
reports and what users ask, and performs what it returns. Time is an input
(``now``, epoch seconds), so tests run on a fake clock.

Rules (Skein 0.8's, except where ``docs/master.md`` says otherwise):

1. *Requests.* A container whose service is ready is REQUESTED with a YARN
   priority of its own, increasing, so allocations come first-in first-out
   and each names the one request it answers. An allocation for no
   outstanding request (cancelled, answered already, unknown) is released,
   as is one with less memory than asked (its container is asked for again).
   Vcores are not compared: YARN's default resource calculator reports 1.
2. *Dependencies.* A service is *ready* once every service it depends on has
   *started*; it has started once it is ready and each of its initial
   containers was allocated (or is gone). Until then its containers WAIT.
3. *Completion.* Exit status 0 is SUCCEEDED, anything else FAILED
   (:mod:`skein.master.exit_status`); a launch that fails is FAILED too. A
   FAILED container is replaced by a new instance while the service's
   restart budget (``max_restarts``, -1 unlimited) lasts; past it the
   application fails, unless the service has ``allow_failures``.
4. *The end.* A master script's exit decides. Without one, the application
   succeeds once no container is active after at least one existed; if none
   was ever asked for, after an idle grace period. Finishing cancels what is
   requested and stops what runs; after :class:`~skein.master.actions.Finish`
   events change nothing and allocations are released.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from skein.master.actions import (
    Action,
    Ask,
    CancelRequest,
    ContainerChanged,
    Finish,
    Launch,
    Release,
    RequestContainer,
    StopContainer,
)
from skein.master.containers import Container, ContainerState, parse_container_id
from skein.master.events import Allocation, Completion
from skein.master.exit_status import describe_completion
from skein.master.services import ContainerSlot, ServiceTracker
from skein.spec import ApplicationSpec
from skein.yarn.enums import FinalStatus

__all__ = ["DEFAULT_IDLE_TIMEOUT", "Reconciler"]

DEFAULT_IDLE_TIMEOUT: Final = 60.0
"""Seconds an application that never asked for a container waits before it ends."""

KILLED_MESSAGE: Final = "Killed by user request."
STOPPED_MESSAGE: Final = "Stopped when the application finished."
_TERMINATED_BY_SIGNAL: Final = 143  # 128 + SIGTERM; what YARN's memory enforcement leaves
_SHUTDOWN_STATUSES: Final = (FinalStatus.SUCCEEDED, FinalStatus.FAILED, FinalStatus.KILLED)


class Reconciler:
    """Decides what the master does about its service containers.

    Args:
        spec: the (staged) application specification.
        idle_timeout: seconds to wait for a first container when nothing was
            asked to run and there is no master script.

    Example:
        >>> from skein.spec import Resources, Service
        >>> spec = ApplicationSpec(services={
        ...     "web": Service(resources=Resources(memory=128, vcores=1), script="serve")})
        >>> machine = Reconciler(spec)
        >>> [type(a).__name__ for a in machine.on_start(now=0.0)]
        ['RequestContainer', 'ContainerChanged']
        >>> grant = Allocation(yarn_container_id="container_1_0001_01_000002",
        ...                    priority=1, memory=128)
        >>> [type(a).__name__ for a in machine.on_allocated([grant], now=1.0)]
        ['CancelRequest', 'Launch', 'ContainerChanged']
        >>> done = Completion(yarn_container_id="container_1_0001_01_000002", exit_status=0)
        >>> machine.on_completed([done], now=9.0)[-1]
        Finish(status=FinalStatus.SUCCEEDED, diagnostics='Application completed successfully.')
    """

    def __init__(
        self, spec: ApplicationSpec, *, idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    ) -> None:
        self._spec = spec
        self._idle_timeout = idle_timeout
        self._services = {name: ServiceTracker(name, s) for name, s in spec.services.items()}
        self._dependents: dict[str, list[str]] = {name: [] for name in spec.services}
        for name, service in spec.services.items():
            for dependency in sorted(service.depends):
                self._dependents[dependency].append(name)
        self._requested: dict[int, ContainerSlot] = {}  # outstanding requests by priority
        self._allocated: dict[str, ContainerSlot] = {}  # by YARN container id
        self._next_priority = 1
        self._started_at: float | None = None
        self._finished: Finish | None = None

    # -- queries ----------------------------------------------------------------

    @property
    def finished(self) -> Finish | None:
        """The application's outcome once decided, else None."""
        return self._finished

    @property
    def busy(self) -> bool:
        """Whether requests are outstanding or containers are being launched."""
        return bool(self._requested) or any(s.launching for s in self._allocated.values())

    def outstanding_asks(self) -> list[Ask]:
        """Every outstanding request, oldest first (the whole ask table)."""
        slots = (self._requested[priority] for priority in sorted(self._requested))
        return [slot.ask for slot in slots if slot.ask is not None]

    def containers(
        self,
        services: Iterable[str] | None = None,
        states: Iterable[ContainerState] | None = None,
    ) -> list[Container]:
        """Snapshots of containers, sorted by service and instance.

        Args:
            services: only these services (default: all).
            states: only these states (default: all).

        Raises:
            ValueError: an unknown service.
        """
        names = sorted(self._services) if services is None else sorted(set(services))
        wanted = None if states is None else set(states)
        return [
            slot.snapshot()
            for name in names
            for slot in self._tracker(name).slots
            if wanted is None or slot.state in wanted
        ]

    def container(self, container_id: str) -> Container:
        """The snapshot of container ``<service>_<instance>``.

        Raises:
            ValueError: malformed id, unknown service or unknown instance.
        """
        return self._slot(container_id).snapshot()

    # -- events -----------------------------------------------------------------

    def on_start(self, now: float) -> list[Action]:
        """The master registered: create every service's initial containers."""
        if self._started_at is not None:
            raise RuntimeError("the reconciler was started already")
        self._started_at = now
        actions: list[Action] = []
        for tracker in self._services.values():
            for _ in range(tracker.spec.instances):
                actions += self._add(tracker, initial=True, env=None)
        actions += self._update_started()
        return actions + self._check_finished(now)

    def on_allocated(self, allocations: Sequence[Allocation], now: float) -> list[Action]:
        """YARN granted containers: match each to its request, launch or release it."""
        actions: list[Action] = []
        for allocation in allocations:
            actions += self._allocate(allocation, now)
        return actions + self._update_started() + self._check_finished(now)

    def on_completed(self, completions: Sequence[Completion], now: float) -> list[Action]:
        """YARN reports containers complete; unknown or already killed ones are ignored."""
        actions: list[Action] = []
        for completion in completions:
            slot = self._allocated.get(completion.yarn_container_id)
            if slot is None or slot.state is not ContainerState.RUNNING or self._finished:
                continue
            state, message = describe_completion(completion.exit_status, completion.diagnostics)
            actions += self._complete(slot, state, message, now)
        return actions + self._update_started() + self._check_finished(now)

    def on_launched(self, yarn_container_id: str, now: float) -> list[Action]:
        """A NodeManager accepted a container's launch."""
        slot = self._allocated.get(yarn_container_id)
        if slot is not None:
            slot.launching = False
        return []

    def on_launch_failed(self, yarn_container_id: str, reason: str, now: float) -> list[Action]:
        """A container could not be launched: it FAILED, and YARN gets it back."""
        slot = self._allocated.get(yarn_container_id)
        if slot is None or slot.state is not ContainerState.RUNNING or self._finished:
            return []
        slot.launching = False
        actions: list[Action] = [Release(yarn_container_id, f"{slot.id} failed to start")]
        actions += self._complete(slot, ContainerState.FAILED, f"Failed to start: {reason}", now)
        return actions + self._update_started() + self._check_finished(now)

    def on_master_script_exited(self, exit_code: int, now: float) -> list[Action]:
        """The master script ended; its exit code decides the application's outcome.

        Args:
            exit_code: the script's exit code (128 + N when killed by signal N).
        """
        if self._finished:
            return []
        if exit_code == 0:
            return self._finish(
                FinalStatus.SUCCEEDED, "Application driver completed successfully.", now
            )
        if exit_code == _TERMINATED_BY_SIGNAL:
            return self._finish(
                FinalStatus.FAILED,
                "Application driver was terminated (exit code 143), possibly for using more "
                "memory than the master's container has; try a larger master.resources.memory.",
                now,
            )
        return self._finish(
            FinalStatus.FAILED,
            f"Application driver failed with exit code {exit_code}, "
            "see application.driver.log for more information.",
            now,
        )

    def on_tick(self, now: float) -> list[Action]:
        """Time passed (checks the idle grace period)."""
        return self._check_finished(now)

    def on_resync(self) -> list[Action]:
        """The ResourceManager forgot the ask table (resync): the whole table again."""
        return [RequestContainer(ask) for ask in self.outstanding_asks()]

    # -- requests ---------------------------------------------------------------

    def scale(
        self, service: str, *, count: int | None = None, delta: int | None = None, now: float
    ) -> list[Action]:
        """Change a service's number of active containers to ``count``, or by ``delta``.

        New containers are requested (or wait for dependencies); surplus ones
        are killed, waiting ones first, then requested, then running (oldest
        first). A ``delta`` below the active count scales to zero.

        Returns:
            The actions; :func:`~skein.master.actions.changed_containers` of
            them are the containers added or killed.

        Raises:
            ValueError: unknown service, a negative ``count``, or not exactly
                one of ``count`` and ``delta``.
        """
        if (count is None) == (delta is None):
            raise ValueError("pass exactly one of count and delta")
        tracker = self._tracker(service)
        if count is not None and count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        active = len(tracker.active)
        target = count if count is not None else max(0, active + (delta or 0))
        if self._finished:
            return []
        actions: list[Action] = []
        for _ in range(target - active):
            actions += self._add(tracker, initial=False, env=None)
        for slot in tracker.scale_down_victims(max(0, active - target)):
            actions += self._kill(slot, KILLED_MESSAGE, now)
        return actions + self._update_started() + self._check_finished(now)

    def add_container(
        self, service: str, env: Mapping[str, str] | None = None, *, now: float
    ) -> list[Action]:
        """Add one container to ``service``, with ``env`` over the service's environment.

        Raises:
            ValueError: unknown service.
        """
        tracker = self._tracker(service)
        if self._finished:
            return []
        return self._add(tracker, initial=False, env=env) + self._check_finished(now)

    def kill_container(self, container_id: str, *, now: float) -> list[Action]:
        """Kill container ``<service>_<instance>``; a completed one is left alone.

        Raises:
            ValueError: malformed id, unknown service or unknown instance.
        """
        slot = self._slot(container_id)
        if not slot.is_active or self._finished:
            return []
        actions = self._kill(slot, KILLED_MESSAGE, now)
        return actions + self._update_started() + self._check_finished(now)

    def shutdown(
        self, status: FinalStatus | str, diagnostics: str = "", *, now: float, final: bool = False
    ) -> list[Action]:
        """End the application now with ``status`` (SUCCEEDED, FAILED or KILLED).

        ``final`` (a user's shutdown) ends the application even when YARN has
        attempts left; otherwise a status other than SUCCEEDED lets YARN retry.

        Raises:
            ValueError: another status.
        """
        try:
            final_status = FinalStatus(status)
        except ValueError:
            final_status = None
        if final_status not in _SHUTDOWN_STATUSES:
            raise ValueError(f"status must be SUCCEEDED, FAILED or KILLED, got {status!s}")
        if self._finished:
            return []
        return self._finish(
            final_status, diagnostics or "Shutdown requested by user.", now, final=final
        )

    # -- internals --------------------------------------------------------------

    def _tracker(self, service: str) -> ServiceTracker:
        try:
            return self._services[service]
        except KeyError:
            raise ValueError(f"unknown service {service!r}") from None

    def _slot(self, container_id: str) -> ContainerSlot:
        service, instance = parse_container_id(container_id)
        tracker = self._tracker(service)
        if instance >= len(tracker.slots):
            raise ValueError(f"service {service!r} has no container instance {instance}")
        return tracker.slots[instance]

    def _add(
        self, tracker: ServiceTracker, *, initial: bool, env: Mapping[str, str] | None
    ) -> list[Action]:
        slot = tracker.new_slot(initial=initial, env=env)
        if tracker.ready:
            return self._request(tracker, slot)
        return [ContainerChanged(slot.snapshot())]

    def _request(self, tracker: ServiceTracker, slot: ContainerSlot) -> list[Action]:
        service = tracker.spec
        ask = Ask(
            priority=self._next_priority,
            resources=service.resources,
            nodes=service.nodes,
            racks=service.racks,
            # Skein 0.8: strict locality only means something with nodes or racks.
            relax_locality=service.relax_locality or not (service.nodes or service.racks),
            node_label=service.node_label,
        )
        self._next_priority += 1
        self._requested[ask.priority] = slot
        slot.ask = ask
        slot.state = ContainerState.REQUESTED
        return [RequestContainer(ask), ContainerChanged(slot.snapshot())]

    def _allocate(self, allocation: Allocation, now: float) -> list[Action]:
        granted = allocation.yarn_container_id
        slot = None if self._finished else self._requested.pop(allocation.priority, None)
        if slot is None or slot.ask is None:
            return [Release(granted, f"no outstanding request at priority {allocation.priority}")]
        ask, slot.ask = slot.ask, None
        actions: list[Action] = [CancelRequest(ask)]
        if allocation.memory < ask.resources.memory:
            actions.append(
                Release(
                    granted,
                    f"{allocation.memory} MiB is less than the {ask.resources.memory} MiB "
                    f"asked for {slot.id}",
                )
            )
            # Still REQUESTED, under a new priority: a late answer to the old one is released.
            again = self._request(self._services[slot.service], slot)
            return actions + [a for a in again if isinstance(a, RequestContainer)]
        slot.state = ContainerState.RUNNING
        slot.yarn_container_id = granted
        slot.node_http_address = allocation.node_http_address
        slot.start_time = now
        slot.launching = True
        self._allocated[granted] = slot
        snapshot = slot.snapshot()
        launch = Launch(container=snapshot, resources=ask.resources, env=slot.env)
        return [*actions, launch, ContainerChanged(snapshot)]

    def _complete(
        self, slot: ContainerSlot, state: ContainerState, message: str, now: float
    ) -> list[Action]:
        slot.state = state
        slot.exit_message = message
        slot.finish_time = now
        slot.launching = False
        actions: list[Action] = [ContainerChanged(slot.snapshot())]
        if state is ContainerState.FAILED:
            actions += self._after_failure(slot, now)
        return actions

    def _after_failure(self, slot: ContainerSlot, now: float) -> list[Action]:
        tracker = self._services[slot.service]
        if tracker.may_restart():
            tracker.restarts += 1
            return self._add(tracker, initial=False, env=slot.env)
        if tracker.spec.allow_failures:
            return []
        return self._finish(
            FinalStatus.FAILED,
            f"Failure in service {slot.service}, see logs for more information. "
            f"Last failure, {slot.id}: {slot.exit_message}",
            now,
        )

    def _kill(self, slot: ContainerSlot, message: str, now: float) -> list[Action]:
        actions: list[Action] = []
        if slot.state is ContainerState.REQUESTED and slot.ask is not None:
            del self._requested[slot.ask.priority]
            actions.append(CancelRequest(slot.ask))
            slot.ask = None
        elif slot.state is ContainerState.RUNNING:
            if slot.launching:
                # The NodeManager may not know it yet; YARN kills it wherever it is.
                actions.append(Release(slot.yarn_container_id, f"{slot.id} killed"))
            else:
                actions.append(StopContainer(slot.yarn_container_id))
        slot.state = ContainerState.KILLED
        slot.exit_message = message
        slot.finish_time = now
        slot.launching = False
        return [*actions, ContainerChanged(slot.snapshot())]

    def _update_started(self) -> list[Action]:
        """Mark services that have started; request their dependents' waiting containers."""
        actions: list[Action] = []
        changed = True
        while changed:
            changed = False
            for tracker in self._services.values():
                if tracker.started or not tracker.ready or not tracker.initial_allocated():
                    continue
                tracker.started = changed = True
                for name in self._dependents[tracker.name]:
                    dependent = self._services[name]
                    dependent.waiting_on.discard(tracker.name)
                    if dependent.ready:
                        for slot in list(dependent.in_state(ContainerState.WAITING)):
                            actions += self._request(dependent, slot)
        return actions

    def _check_finished(self, now: float) -> list[Action]:
        if self._finished or self._spec.master.script or self._started_at is None:
            return []
        slots = [slot for tracker in self._services.values() for slot in tracker.slots]
        if any(slot.is_active for slot in slots):
            return []
        if slots:
            return self._finish(FinalStatus.SUCCEEDED, "Application completed successfully.", now)
        if now - self._started_at >= self._idle_timeout:
            return self._finish(
                FinalStatus.SUCCEEDED,
                f"Nothing was asked to run: no service had a container within "
                f"{self._idle_timeout:g} s of the start (SKEIN_IDLE_TIMEOUT in master.env "
                "sets this grace period).",
                now,
            )
        return []

    def _finish(
        self, status: FinalStatus, diagnostics: str, now: float, *, final: bool = False
    ) -> list[Action]:
        actions: list[Action] = []
        for tracker in self._services.values():
            for slot in tracker.active:
                actions += self._kill(slot, STOPPED_MESSAGE, now)
        self._finished = Finish(status, diagnostics, final)
        return [*actions, self._finished]
