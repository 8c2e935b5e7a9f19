"""What the master's API may ask of a running application, in domain terms.

:class:`MasterControl` is the one place where requests from outside (the gRPC
API, later the web UI) reach the reconciler. Each method validates its input
with the error messages users see (Skein 0.8's), asks the reconciler, and
performs the resulting actions at once: nothing awaits in between, so a
request applies whole, between two events of the master's loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Protocol

from skein.master.actions import Action, changed_containers
from skein.master.containers import ACTIVE_STATES, Container, ContainerState
from skein.master.reconcile import Reconciler
from skein.spec import ApplicationSpec
from skein.yarn.enums import FinalStatus

__all__ = ["MasterControl", "Runtime"]


class Runtime(Protocol):
    """The parts of :class:`~skein.master.runtime.MasterRuntime` the API drives."""

    reconciler: Reconciler
    progress: float

    def now(self) -> float: ...

    def perform(self, actions: list[Action]) -> None: ...


class MasterControl:
    """The application's controls, as the API offers them.

    Args:
        runtime: the running master.
        spec: the application's specification as the master holds it.

    Example:
        >>> control = MasterControl(runtime, spec)  # doctest: +SKIP
        >>> [c.id for c in control.scale("worker", count=2)]  # doctest: +SKIP
        ['worker_0', 'worker_1']
    """

    def __init__(self, runtime: Runtime, spec: ApplicationSpec) -> None:
        self._runtime = runtime
        self.spec = spec

    def _do(self, actions: list[Action]) -> list[Action]:
        self._runtime.perform(actions)
        return actions

    def _check_service(self, service: str) -> None:
        if service not in self.spec.services:
            raise ValueError(f"Unknown service {service!r}")

    def containers(
        self, services: Iterable[str] = (), states: Iterable[ContainerState] = ()
    ) -> list[Container]:
        """Containers of ``services`` (all if empty) in ``states`` (active ones if empty)."""
        names = list(services)
        for name in names:
            self._check_service(name)
        wanted = set(states) or set(ACTIVE_STATES)
        return self._runtime.reconciler.containers(names or None, wanted)

    def scale(
        self, service: str, *, count: int | None = None, delta: int | None = None
    ) -> list[Container]:
        """Scale ``service`` to ``count`` active containers, or by ``delta``.

        Returns the containers started or stopped. ``delta=0`` changes nothing
        (Skein 0.8 scaled to zero instead).
        """
        self._check_service(service)
        if (count is None) == (delta is None):
            raise ValueError("Exactly one of count or delta must be provided")
        if count is not None and count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        if delta == 0:
            return []
        reconciler = self._runtime.reconciler
        now = self._runtime.now()
        return changed_containers(
            self._do(reconciler.scale(service, count=count, delta=delta, now=now))
        )

    def add_container(self, service: str, env: Mapping[str, str] | None = None) -> Container:
        """Start one more container of ``service``, with ``env`` over the service's env."""
        self._check_service(service)
        reconciler = self._runtime.reconciler
        actions = self._do(reconciler.add_container(service, env, now=self._runtime.now()))
        added = changed_containers(actions)
        if not added:
            raise ValueError("The application is shutting down: no container can be added")
        return added[0]

    def kill_container(self, service: str, instance: int) -> None:
        """Kill container ``<service>_<instance>``; a completed one is left alone."""
        self.check_container(service, instance, live=False)
        container_id = f"{service}_{instance}"
        reconciler = self._runtime.reconciler
        self._do(reconciler.kill_container(container_id, now=self._runtime.now()))

    def check_container(self, service: str, instance: int, *, live: bool) -> None:
        """Raise ``ValueError`` unless the container exists (and is active, if ``live``)."""
        self._check_service(service)
        containers = self._runtime.reconciler.containers([service])
        if not 0 <= instance < len(containers):
            raise ValueError(f"Service {service!r} has no container instance {instance}")
        if live and not containers[instance].state.is_active:
            raise ValueError(f"Container '{service}_{instance}' has already completed")

    def owner_error(self, service: str, instance: int) -> str | None:
        """Why the container cannot own keys (None if it can): the store's owner check."""
        try:
            self.check_container(service, instance, live=True)
        except ValueError as exc:
            return str(exc)
        return None

    def shutdown(self, status: FinalStatus | str, diagnostics: str = "") -> None:
        """End the application with ``status``; no further attempt follows."""
        reconciler = self._runtime.reconciler
        self._do(reconciler.shutdown(status, diagnostics, now=self._runtime.now(), final=True))

    def set_progress(self, progress: float) -> None:
        """Report ``progress`` (in [0, 1]) to YARN with the next heartbeat."""
        if math.isnan(progress) or not 0.0 <= progress <= 1.0:
            raise ValueError(f"progress must be between 0 and 1, got {progress}")
        self._runtime.progress = progress
