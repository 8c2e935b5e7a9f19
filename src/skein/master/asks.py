"""The ask table on the wire: one request's entries in YARN's ResourceRequest form.

YARN keeps, per priority, one entry per location: each named node, each
rack, and ``*`` (anywhere), each with the number of containers still wanted.
A request for a container on given nodes therefore is several entries, laid
out as Hadoop's AMRMClient does: nodes and named racks always relaxed, the
racks of the named nodes and ``*`` relaxed only if the request is; the
node-label expression only on ``*``, where YARN reads it. Cancelling sends
the same entries with a count of 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.master.actions import Ask
from skein.yarn.launch import resource_proto

__all__ = ["ANY", "DEFAULT_RACK", "AskTable", "resource_requests"]

ANY: Final = "*"
"""YARN's name for "any location" (``ResourceRequest.ANY``)."""

DEFAULT_RACK: Final = "/default-rack"
"""Hadoop's rack for nodes when no topology is configured (``NetworkTopology.DEFAULT_RACK``)."""


def resource_requests(
    ask: Ask, count: int, racks_of: Mapping[str, str] | None = None
) -> list[pb.ResourceRequestProto]:
    """The ResourceRequest entries that set ``ask``'s priority to ``count`` containers.

    Args:
        ask: the request.
        count: 1 to ask, 0 to cancel.
        racks_of: the rack of each node by host name; nodes not in it are on
            :data:`DEFAULT_RACK`.

    Example:
        >>> from skein.spec import Resources
        >>> ask = Ask(priority=3, resources=Resources(128, 1), nodes=("n1",),
        ...           relax_locality=False)
        >>> [(r.resource_name, r.relax_locality) for r in resource_requests(ask, 1)]
        [('n1', True), ('/default-rack', False), ('*', False)]
    """
    racks = racks_of or {}
    capability = resource_proto(ask.resources)
    priority = pb.PriorityProto(priority=ask.priority)

    def entry(name: str, relax: bool, label: str = "") -> pb.ResourceRequestProto:
        request = pb.ResourceRequestProto(
            priority=priority,
            resource_name=name,
            capability=capability,
            num_containers=count,
            relax_locality=relax,
        )
        if label:
            request.node_label_expression = label
        return request

    named_racks = list(dict.fromkeys(ask.racks))
    node_racks = [
        rack
        for rack in dict.fromkeys(racks.get(node, DEFAULT_RACK) for node in ask.nodes)
        if rack not in named_racks
    ]
    entries = [entry(node, True) for node in dict.fromkeys(ask.nodes)]
    entries += [entry(rack, True) for rack in named_racks]
    entries += [entry(rack, ask.relax_locality) for rack in node_racks]
    entries.append(entry(ANY, ask.relax_locality, ask.node_label))
    return entries


class AskTable:
    """Changes to the ask table not yet sent, by priority (the latest change wins).

    Example:
        >>> from skein.spec import Resources
        >>> table = AskTable()
        >>> ask = Ask(priority=1, resources=Resources(128, 1))
        >>> table.request(ask); table.cancel(ask)
        >>> [(r.priority.priority, r.num_containers) for r in table.take()]
        [(1, 0)]
        >>> table.take()
        []
    """

    def __init__(self, racks_of: Mapping[str, str] | None = None) -> None:
        self.racks_of: Mapping[str, str] = dict(racks_of or {})
        self._changes: dict[int, tuple[Ask, int]] = {}

    def __bool__(self) -> bool:
        return bool(self._changes)

    def request(self, ask: Ask) -> None:
        """Ask for ``ask``'s container with the next heartbeat."""
        self._changes[ask.priority] = (ask, 1)

    def cancel(self, ask: Ask) -> None:
        """Withdraw ``ask`` with the next heartbeat."""
        self._changes[ask.priority] = (ask, 0)

    def replace_all(self, asks: Iterable[Ask]) -> None:
        """Forget pending changes; send exactly ``asks`` next (after a resync)."""
        self._changes = {ask.priority: (ask, 1) for ask in asks}

    def take(self) -> list[pb.ResourceRequestProto]:
        """The entries of every pending change, oldest priority first; clears them."""
        changes, self._changes = self._changes, {}
        return [
            request
            for priority in sorted(changes)
            for request in resource_requests(*changes[priority], self.racks_of)
        ]
