"""What the ResourceManager tells the master, as plain values for the decision logic.

The driver turns each allocate response into these records, so that
:mod:`skein.master.reconcile` needs neither protobuf nor a network to be
tested. They carry only what decisions need; the driver keeps the full
messages (the container token, the node's address) by YARN container id.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Allocation", "Completion"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocation:
    """A container YARN granted.

    Attributes:
        yarn_container_id: e.g. ``container_1700000000000_0001_01_000002``.
        priority: the priority of the request it answers.
        memory: its memory in MiB.
        vcores: its virtual cores (the DefaultResourceCalculator reports 1
            whatever was asked, so this is not compared).
        node_http_address: the web address of its NodeManager.

    Example:
        >>> Allocation(yarn_container_id="container_1_0001_01_000002", priority=3,
        ...            memory=1024, vcores=1).priority
        3
    """

    yarn_container_id: str
    priority: int
    memory: int
    vcores: int = 1
    node_http_address: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Completion:
    """A container YARN reports as complete.

    Attributes:
        yarn_container_id: the container.
        exit_status: its process's exit code, or one of YARN's negative
            codes (:class:`skein.master.exit_status.ExitStatus`).
        diagnostics: what the NodeManager or ResourceManager said about it.

    Example:
        >>> Completion(yarn_container_id="container_1_0001_01_000002", exit_status=0).diagnostics
        ''
    """

    yarn_container_id: str
    exit_status: int
    diagnostics: str = ""
