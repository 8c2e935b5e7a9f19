"""YARN's ApplicationMasterProtocol: what an ApplicationMaster asks the ResourceManager.

The scheduler port accepts only TOKEN authentication, with the attempt's
AMRMToken (from the container's token file, or from the application report of
an unmanaged AM). Calls return the raw protobuf responses: the master's
reconcile logic reads allocations, completions and tokens from them.
"""

from __future__ import annotations

from collections.abc import Iterable

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein._proto.yarn import yarn_service_protos_pb2 as service_pb
from skein.yarn.conversion import enum_to_proto
from skein.yarn.enums import FinalStatus
from skein.yarn.resource_manager import RpcChannel

__all__ = ["PROTOCOL_NAME", "SchedulerProtocol"]

PROTOCOL_NAME = "org.apache.hadoop.yarn.api.ApplicationMasterProtocolPB"
"""Hadoop RPC's name of the ApplicationMaster-to-ResourceManager protocol."""


class SchedulerProtocol:
    """Typed calls of ApplicationMasterProtocol over ``channel``."""

    def __init__(self, channel: RpcChannel) -> None:
        self._channel = channel

    async def register(
        self, host: str, rpc_port: int, tracking_url: str = ""
    ) -> service_pb.RegisterApplicationMasterResponseProto:
        """Register the attempt's master, which may then allocate containers."""
        request = service_pb.RegisterApplicationMasterRequestProto(
            host=host, rpc_port=rpc_port, tracking_url=tracking_url
        )
        return await self._channel.call(
            "registerApplicationMaster",
            request,
            service_pb.RegisterApplicationMasterResponseProto,
        )

    async def allocate(
        self,
        response_id: int,
        *,
        asks: Iterable[pb.ResourceRequestProto] = (),
        releases: Iterable[pb.ContainerIdProto] = (),
        progress: float = 0.0,
    ) -> service_pb.AllocateResponseProto:
        """One heartbeat: send the ask table and releases, receive grants and completions.

        ``response_id`` must be the id of the previous response (0 at first);
        a repeated id makes the ResourceManager resend its last answer.
        """
        request = service_pb.AllocateRequestProto(
            ask=list(asks), release=list(releases), response_id=response_id, progress=progress
        )
        return await self._channel.call("allocate", request, service_pb.AllocateResponseProto)

    async def finish(
        self, status: FinalStatus, diagnostics: str = "", tracking_url: str = ""
    ) -> bool:
        """Unregister with a final status; True once the ResourceManager has unregistered it.

        A False answer means "call again": unregistering completes asynchronously.
        """
        request = service_pb.FinishApplicationMasterRequestProto(
            final_application_status=pb.FinalApplicationStatusProto.ValueType(
                enum_to_proto(status, pb.FinalApplicationStatusProto.DESCRIPTOR)
            ),
            diagnostics=diagnostics,
            tracking_url=tracking_url,
        )
        response = await self._channel.call(
            "finishApplicationMaster", request, service_pb.FinishApplicationMasterResponseProto
        )
        return response.isUnregistered
