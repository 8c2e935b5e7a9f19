"""What the master's decision logic asks its driver to do.

:class:`~skein.master.reconcile.Reconciler` returns a list of these from
every event; the driver (:mod:`skein.master.runtime`) performs them in
order. Performing one never feeds back into the same list: results arrive
later as new events (a launch succeeded, a container completed).

* Ask-table changes, sent with the next allocate heartbeat:
  :class:`RequestContainer` and :class:`CancelRequest`.
* :class:`Release`: give an allocated container back to YARN.
* :class:`Launch` and :class:`StopContainer`: calls to NodeManagers.
* :class:`ContainerChanged`: a notice that a container changed state, for
  logging and for whatever depends on containers (the key-value store drops
  the keys a container owned when it completes).
* :class:`Finish`: the application's outcome; the last action of all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

from skein.master.containers import Container
from skein.spec import Resources
from skein.yarn.enums import FinalStatus

__all__ = [
    "Action",
    "Ask",
    "CancelRequest",
    "ContainerChanged",
    "Finish",
    "Launch",
    "Release",
    "RequestContainer",
    "StopContainer",
    "changed_containers",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Ask:
    """One outstanding container request: one YARN priority, one container.

    Every request has a priority of its own, so an allocation names the exact
    request it answers.

    Attributes:
        priority: the YARN priority (lower numbers are served first).
        resources: the container size.
        nodes: hosts to place it on (empty: anywhere).
        racks: racks to place it on (empty: anywhere).
        relax_locality: whether YARN may place it elsewhere than ``nodes``/``racks``.
        node_label: a node-label expression, or empty for the application's default.
    """

    priority: int
    resources: Resources
    nodes: tuple[str, ...] = ()
    racks: tuple[str, ...] = ()
    relax_locality: bool = True
    node_label: str = ""


@dataclass(frozen=True, slots=True)
class RequestContainer:
    """Ask YARN for ``ask``'s container (its count at that priority becomes 1)."""

    ask: Ask


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """Withdraw ``ask`` (its count at that priority becomes 0).

    Also sent once a request was answered, so that no locality entry of it
    stays behind in YARN's table.
    """

    ask: Ask


@dataclass(frozen=True, slots=True)
class Release:
    """Give an allocated container back to YARN.

    Attributes:
        yarn_container_id: the container.
        reason: why, for the log.
    """

    yarn_container_id: str
    reason: str


def _frozen(env: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(env))


@dataclass(frozen=True, slots=True, kw_only=True)
class Launch:
    """Start a service's script in an allocated container.

    Attributes:
        container: the container (``yarn_container_id`` says which YARN container).
        resources: the size its service asked for (``SKEIN_RESOURCE_*``).
        env: environment overrides given when the container was added, applied
            over the service's ``env``.
    """

    container: Container
    resources: Resources
    env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "env", _frozen(self.env))


@dataclass(frozen=True, slots=True)
class StopContainer:
    """Stop a launched container through its NodeManager.

    Attributes:
        yarn_container_id: the container.
    """

    yarn_container_id: str


@dataclass(frozen=True, slots=True)
class ContainerChanged:
    """A container entered a new state (``container`` is the new snapshot)."""

    container: Container


@dataclass(frozen=True, slots=True)
class Finish:
    """End the application with this outcome.

    Attributes:
        status: SUCCEEDED, FAILED or KILLED.
        diagnostics: the explanation YARN shows.
        final: no further attempt even if the status is not SUCCEEDED (a
            user's shutdown is what the user wants, not a failure to retry).
    """

    status: FinalStatus
    diagnostics: str
    final: bool = False


Action: TypeAlias = (
    RequestContainer | CancelRequest | Release | Launch | StopContainer | ContainerChanged | Finish
)
"""Anything :class:`~skein.master.reconcile.Reconciler` asks for."""


def changed_containers(actions: Iterable[Action]) -> list[Container]:
    """The containers whose state changed, in order (what ``scale`` reports back).

    Example:
        >>> from skein.master.containers import ContainerState
        >>> c = Container(service_name="w", instance=0, state=ContainerState.KILLED)
        >>> changed_containers([ContainerChanged(c), StopContainer("container_1_0001_01_000002")])
        [Container(service_name='w', instance=0, state=ContainerState.KILLED, \
yarn_container_id='', yarn_node_http_address='', start_time=None, finish_time=None, \
exit_message='')]
    """
    return [action.container for action in actions if isinstance(action, ContainerChanged)]
