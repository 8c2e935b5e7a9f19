"""The master's gRPC service: translates ``skein.v1.AppMaster`` calls, nothing else.

Application and container calls go to :class:`~skein.master.control.MasterControl`;
key-value calls to :class:`~skein.api.kv_service.KeyValueService`. A
``ValueError`` from either is the caller's fault and becomes
``INVALID_ARGUMENT`` with its message; the master keeps serving.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from grpclib.const import Status
from grpclib.exceptions import GRPCError

from skein._proto.api import skein_pb2 as pb
from skein._proto.api.skein_grpc import AppMasterBase
from skein.api.containers import container_to_proto, state_from_proto
from skein.master.control import MasterControl
from skein.yarn.enums import FinalStatus

if TYPE_CHECKING:
    from grpclib.server import Stream

    from skein.api.kv_service import KeyValueService

__all__ = ["AppMasterServicer"]

log = logging.getLogger(__name__)

_STATUSES = {
    pb.SUCCEEDED: FinalStatus.SUCCEEDED,
    pb.FAILED: FinalStatus.FAILED,
    pb.KILLED: FinalStatus.KILLED,
}


@contextlib.contextmanager
def _invalid_argument() -> Iterator[None]:
    try:
        yield
    except ValueError as exc:
        raise GRPCError(Status.INVALID_ARGUMENT, str(exc)) from exc


class AppMasterServicer(AppMasterBase):
    """Serves one application's API.

    Args:
        control: the application's controls.
        kv: the key-value store's service.
    """

    def __init__(self, control: MasterControl, kv: KeyValueService) -> None:
        self._control = control
        self._kv = kv

    # -- application ----------------------------------------------------------------

    async def GetSpecification(self, stream: Stream[pb.Empty, pb.ApplicationSpecification]) -> None:
        await stream.recv_message()
        await stream.send_message(pb.ApplicationSpecification(json=self._control.spec.to_json()))

    async def Shutdown(self, stream: Stream[pb.ShutdownRequest, pb.Empty]) -> None:
        request = await stream.recv_message()
        assert request is not None
        status = _STATUSES.get(request.final_status)
        if status is None:
            number = request.final_status
            name = pb.FinalStatus.Name(number) if number in pb.FinalStatus.values() else number
            raise GRPCError(
                Status.INVALID_ARGUMENT,
                f"final status must be SUCCEEDED, FAILED or KILLED, got {name}",
            )
        log.info("shutdown requested with status %s: %s", status, request.diagnostics)
        with _invalid_argument():
            self._control.shutdown(status, request.diagnostics)
        await stream.send_message(pb.Empty())

    async def SetProgress(self, stream: Stream[pb.SetProgressRequest, pb.Empty]) -> None:
        request = await stream.recv_message()
        assert request is not None
        with _invalid_argument():
            self._control.set_progress(request.progress)
        await stream.send_message(pb.Empty())

    # -- containers -----------------------------------------------------------------

    async def GetContainers(
        self, stream: Stream[pb.GetContainersRequest, pb.ContainerList]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        with _invalid_argument():
            states = [state_from_proto(number) for number in request.states]
            containers = self._control.containers(request.services, states)
        await stream.send_message(
            pb.ContainerList(containers=[container_to_proto(c) for c in containers])
        )

    async def KillContainer(self, stream: Stream[pb.ContainerInstance, pb.Empty]) -> None:
        request = await stream.recv_message()
        assert request is not None
        with _invalid_argument():
            self._control.kill_container(request.service_name, request.instance)
        await stream.send_message(pb.Empty())

    async def Scale(self, stream: Stream[pb.ScaleRequest, pb.ContainerList]) -> None:
        request = await stream.recv_message()
        assert request is not None
        target = request.WhichOneof("target")
        with _invalid_argument():
            if target is None:
                raise ValueError("Exactly one of count or delta must be provided")
            if target == "count":
                changed = self._control.scale(request.service_name, count=request.count)
            else:
                changed = self._control.scale(request.service_name, delta=request.delta)
        await stream.send_message(
            pb.ContainerList(containers=[container_to_proto(c) for c in changed])
        )

    async def AddContainer(self, stream: Stream[pb.AddContainerRequest, pb.Container]) -> None:
        request = await stream.recv_message()
        assert request is not None
        with _invalid_argument():
            container = self._control.add_container(request.service_name, dict(request.env))
        await stream.send_message(container_to_proto(container))

    # -- key-value store ------------------------------------------------------------

    async def GetRange(self, stream: Stream[pb.GetRangeRequest, pb.GetRangeResponse]) -> None:
        await self._kv.get_range(stream)

    async def DeleteRange(
        self, stream: Stream[pb.DeleteRangeRequest, pb.DeleteRangeResponse]
    ) -> None:
        await self._kv.delete_range(stream)

    async def PutKey(self, stream: Stream[pb.PutKeyRequest, pb.PutKeyResponse]) -> None:
        await self._kv.put_key(stream)

    async def Transaction(
        self, stream: Stream[pb.TransactionRequest, pb.TransactionResponse]
    ) -> None:
        await self._kv.transaction(stream)

    async def Watch(self, stream: Stream[pb.WatchRequest, pb.WatchResponse]) -> None:
        await self._kv.watch(stream)
