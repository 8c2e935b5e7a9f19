"""YARN's ContainerManagementProtocol: what an ApplicationMaster asks a NodeManager.

Each NodeManager accepts only TOKEN authentication with the NMToken the
ResourceManager handed out for it; starting a container also needs that
container's token, passed back unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

from skein._proto.hadoop import Security_pb2 as security_pb
from skein._proto.yarn import yarn_protos_pb2 as pb
from skein._proto.yarn import yarn_service_protos_pb2 as service_pb
from skein.yarn.resource_manager import RpcChannel

__all__ = ["PROTOCOL_NAME", "NodeManagerProtocol"]

PROTOCOL_NAME = "org.apache.hadoop.yarn.api.ContainerManagementProtocolPB"
"""Hadoop RPC's name of the ApplicationMaster-to-NodeManager protocol."""


class NodeManagerProtocol:
    """Typed calls of ContainerManagementProtocol over ``channel`` (one NodeManager)."""

    def __init__(self, channel: RpcChannel) -> None:
        self._channel = channel

    async def start_containers(
        self,
        requests: Iterable[tuple[pb.ContainerLaunchContextProto, security_pb.TokenProto]],
    ) -> service_pb.StartContainersResponseProto:
        """Start containers from (launch context, container token) pairs.

        Per-container failures come back in the response's ``failed_requests``.
        """
        request = service_pb.StartContainersRequestProto(
            start_container_request=[
                service_pb.StartContainerRequestProto(
                    container_launch_context=context, container_token=token
                )
                for context, token in requests
            ]
        )
        return await self._channel.call(
            "startContainers", request, service_pb.StartContainersResponseProto
        )

    async def stop_containers(
        self, container_ids: Iterable[pb.ContainerIdProto]
    ) -> service_pb.StopContainersResponseProto:
        """Stop running containers."""
        request = service_pb.StopContainersRequestProto(container_id=list(container_ids))
        return await self._channel.call(
            "stopContainers", request, service_pb.StopContainersResponseProto
        )

    async def get_container_statuses(
        self, container_ids: Iterable[pb.ContainerIdProto]
    ) -> service_pb.GetContainerStatusesResponseProto:
        """The NodeManager's view of some containers."""
        request = service_pb.GetContainerStatusesRequestProto(container_id=list(container_ids))
        return await self._channel.call(
            "getContainerStatuses", request, service_pb.GetContainerStatusesResponseProto
        )
