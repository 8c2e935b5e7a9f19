"""The application master: the process YARN runs to manage one skein application.

Layout: the decisions are pure and synchronous, the driver does the I/O.

* :mod:`~skein.master.containers`: the public :class:`Container` record and
  :class:`ContainerState`.
* :mod:`~skein.master.reconcile`: :class:`Reconciler`, events in
  (:mod:`~skein.master.events`), actions out (:mod:`~skein.master.actions`);
  with :mod:`~skein.master.services` (per-service bookkeeping),
  :mod:`~skein.master.exit_status` and :mod:`~skein.master.heartbeat`.
* The driver: :mod:`~skein.master.runtime` (the asyncio loop), with
  :mod:`~skein.master.scheduler_session` (the ResourceManager),
  :mod:`~skein.master.node_managers`, :mod:`~skein.master.asks` (the ask table
  on the wire), :mod:`~skein.master.launcher` (launch contexts),
  :mod:`~skein.master.master_script` and :mod:`~skein.master.context` (what the
  container was given); :mod:`~skein.master.app` wires them for
  ``python -m skein.master``.

The launch contract between client and master is ``docs/master.md``.
"""

from __future__ import annotations

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
    changed_containers,
)
from skein.master.containers import ACTIVE_STATES, Container, ContainerState
from skein.master.events import Allocation, Completion
from skein.master.reconcile import Reconciler

__all__ = [
    "ACTIVE_STATES",
    "Action",
    "Allocation",
    "Ask",
    "CancelRequest",
    "Completion",
    "Container",
    "ContainerChanged",
    "ContainerState",
    "Finish",
    "Launch",
    "Reconciler",
    "Release",
    "RequestContainer",
    "StopContainer",
    "changed_containers",
]
