"""YARN's ApplicationClientProtocol: what a client asks the ResourceManager.

A thin typed layer: each method builds the request message, makes one call on
an RPC channel and converts the answer to records. Policy (defaults, filters,
error wording) belongs to :mod:`skein.client`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from skein._proto.hadoop import Security_pb2 as security_pb
from skein._proto.yarn import yarn_protos_pb2 as pb
from skein._proto.yarn import yarn_service_protos_pb2 as service_pb
from skein.yarn.conversion import enum_to_proto, from_proto
from skein.yarn.enums import ApplicationState, NodeState
from skein.yarn.ids import ApplicationId
from skein.yarn.records import ApplicationReport, NodeReport, Queue

__all__ = ["PROTOCOL_NAME", "ResourceManagerProtocol", "RpcChannel"]

PROTOCOL_NAME = "org.apache.hadoop.yarn.api.ApplicationClientProtocolPB"
"""Hadoop RPC's name of the client-to-ResourceManager protocol (its version is 1)."""

M = TypeVar("M", bound=Message)


class RpcChannel(Protocol):
    """Something that makes Hadoop RPC calls of one protocol (a connection, a failover proxy)."""

    async def call(
        self, method: str, request: Message, response_type: type[M], *, timeout: float | None = None
    ) -> M:
        """Call ``method`` with ``request`` and return the decoded response."""
        ...


class ResourceManagerProtocol:
    """Typed calls of ApplicationClientProtocol over ``channel``.

    Example:
        >>> rm = ResourceManagerProtocol(channel)  # doctest: +SKIP
        >>> nodes = await rm.get_cluster_nodes([NodeState.RUNNING])  # doctest: +SKIP
    """

    def __init__(self, channel: RpcChannel) -> None:
        self._channel = channel

    async def get_cluster_nodes(self, states: Iterable[NodeState] = ()) -> list[NodeReport]:
        """Nodes in any of ``states`` (every state when empty)."""
        request = service_pb.GetClusterNodesRequestProto(
            nodeStates=[
                pb.NodeStateProto.ValueType(enum_to_proto(state, pb.NodeStateProto.DESCRIPTOR))
                for state in states
            ]
        )
        response = await self._channel.call(
            "getClusterNodes", request, service_pb.GetClusterNodesResponseProto
        )
        return [from_proto(NodeReport, report) for report in response.nodeReports]

    async def get_queue_info(
        self, name: str, *, include_children: bool = False, recursive: bool = False
    ) -> tuple[Queue, list[Queue]]:
        """Queue ``name`` and its child queues (all descendants with ``recursive``)."""
        request = service_pb.GetQueueInfoRequestProto(
            queueName=name,
            includeApplications=False,
            includeChildQueues=include_children,
            recursive=recursive,
        )
        response = await self._channel.call(
            "getQueueInfo", request, service_pb.GetQueueInfoResponseProto
        )
        info = response.queueInfo
        children: list[Queue] = []
        pending = list(info.childQueues)
        while pending:  # depth-first, parents before their children
            child = pending.pop(0)
            children.append(from_proto(Queue, child))
            if recursive:
                pending[0:0] = list(child.childQueues)
        return from_proto(Queue, info), children

    async def get_applications(
        self,
        *,
        states: Iterable[ApplicationState] = (),
        types: Iterable[str] = (),
        users: Iterable[str] = (),
        queues: Iterable[str] = (),
        name: str | None = None,
        started: tuple[int, int] | None = None,
        finished: tuple[int, int] | None = None,
    ) -> list[ApplicationReport]:
        """Applications matching every given filter (times are epoch milliseconds, inclusive)."""
        request = service_pb.GetApplicationsRequestProto(
            application_states=[
                pb.YarnApplicationStateProto.ValueType(
                    enum_to_proto(state, pb.YarnApplicationStateProto.DESCRIPTOR)
                )
                for state in states
            ],
            application_types=list(types),
            users=list(users),
            queues=list(queues),
        )
        if name is not None:
            request.name = name
        if started is not None:
            request.start_begin, request.start_end = started
        if finished is not None:
            request.finish_begin, request.finish_end = finished
        response = await self._channel.call(
            "getApplications", request, service_pb.GetApplicationsResponseProto
        )
        return [from_proto(ApplicationReport, report) for report in response.applications]

    async def get_new_application(self) -> service_pb.GetNewApplicationResponseProto:
        """A new application id, and the largest container the cluster grants."""
        return await self._channel.call(
            "getNewApplication",
            service_pb.GetNewApplicationRequestProto(),
            service_pb.GetNewApplicationResponseProto,
        )

    async def submit_application(self, context: pb.ApplicationSubmissionContextProto) -> None:
        """Submit an application (its id comes from :meth:`get_new_application`)."""
        request = service_pb.SubmitApplicationRequestProto(application_submission_context=context)
        await self._channel.call(
            "submitApplication", request, service_pb.SubmitApplicationResponseProto
        )

    async def get_application_report_proto(
        self, app_id: ApplicationId
    ) -> pb.ApplicationReportProto:
        """The raw report (it carries tokens the typed record leaves out)."""
        request = service_pb.GetApplicationReportRequestProto(application_id=app_id.to_proto())
        response = await self._channel.call(
            "getApplicationReport", request, service_pb.GetApplicationReportResponseProto
        )
        return response.application_report

    async def get_application_report(self, app_id: ApplicationId) -> ApplicationReport:
        """The report of one application."""
        return from_proto(ApplicationReport, await self.get_application_report_proto(app_id))

    async def kill_application(self, app_id: ApplicationId, diagnostics: str = "") -> bool:
        """Ask to kill an application; True once the kill has completed."""
        request = service_pb.KillApplicationRequestProto(application_id=app_id.to_proto())
        if diagnostics:
            request.diagnostics = diagnostics
        response = await self._channel.call(
            "forceKillApplication", request, service_pb.KillApplicationResponseProto
        )
        return response.is_kill_completed

    async def move_application(self, app_id: ApplicationId, queue: str) -> None:
        """Move an application to another leaf queue."""
        request = service_pb.MoveApplicationAcrossQueuesRequestProto(
            application_id=app_id.to_proto(), target_queue=queue
        )
        await self._channel.call(
            "moveApplicationAcrossQueues",
            request,
            service_pb.MoveApplicationAcrossQueuesResponseProto,
        )

    async def get_delegation_token(self, renewer: str) -> security_pb.TokenProto:
        """A ResourceManager delegation token that ``renewer`` may renew."""
        request = security_pb.GetDelegationTokenRequestProto(renewer=renewer)
        response = await self._channel.call(
            "getDelegationToken", request, security_pb.GetDelegationTokenResponseProto
        )
        return response.token
