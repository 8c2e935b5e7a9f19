"""The scheduler session: response ids, resyncs, rolled tokens, shutdown orders, unregistering."""

from __future__ import annotations

import asyncio
from typing import TypeVar

import pytest
from google.protobuf.message import Message

from skein._proto.hadoop import Security_pb2 as security_pb
from skein._proto.yarn import yarn_protos_pb2 as pb
from skein._proto.yarn import yarn_service_protos_pb2 as service_pb
from skein.errors import ConnectionError, RemoteError, TimeoutError
from skein.hadoop.sasl import TokenCredential
from skein.master.scheduler_session import (
    ATTEMPT_NOT_FOUND,
    NOT_REGISTERED,
    ResyncRequired,
    SchedulerSession,
    ShutdownOrdered,
)
from skein.yarn.enums import FinalStatus

M = TypeVar("M", bound=Message)


class Connection:
    def __init__(self) -> None:
        self.token: TokenCredential | None = TokenCredential(b"id", b"pw")


class FakeScheduler:
    """A scheduler channel whose answers a test scripts, one per call."""

    def __init__(self) -> None:
        self.connections = [Connection(), Connection()]
        self.calls: list[tuple[str, Message]] = []
        self.answers: list[Message | Exception] = []
        self.closed = False
        self.delay = 0.0

    async def call(
        self, method: str, request: Message, response_type: type[M], *, timeout: float | None = None
    ) -> M:
        self.calls.append((method, request))
        await asyncio.sleep(self.delay)
        if method == "registerApplicationMaster":
            return response_type()
        answer = self.answers.pop(0) if self.answers else response_type()
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, response_type)
        return answer

    async def aclose(self) -> None:
        self.closed = True

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]


def allocated(response_id: int, **fields: object) -> service_pb.AllocateResponseProto:
    return service_pb.AllocateResponseProto(response_id=response_id, **fields)  # type: ignore[arg-type]


def ask() -> pb.ResourceRequestProto:
    return pb.ResourceRequestProto(priority=pb.PriorityProto(priority=1), num_containers=1)


async def test_register_sends_the_host() -> None:
    channel = FakeScheduler()
    session = SchedulerSession(channel, host="node7", tracking_url="http://ui")
    await session.register()
    ((method, request),) = channel.calls
    assert method == "registerApplicationMaster"
    assert request.host == "node7"  # type: ignore[attr-defined]
    assert request.tracking_url == "http://ui"  # type: ignore[attr-defined]


async def test_each_heartbeat_sends_the_last_response_id() -> None:
    channel = FakeScheduler()
    session = SchedulerSession(channel, host="h")
    await session.register()
    channel.answers = [allocated(1), allocated(2)]
    await session.allocate([ask()], [], 0.5)
    await session.allocate([], [], 0.5)
    requests = [request for method, request in channel.calls if method == "allocate"]
    assert [r.response_id for r in requests] == [0, 1]  # type: ignore[attr-defined]
    assert len(requests[0].ask) == 1  # type: ignore[attr-defined]
    assert requests[0].progress == 0.5  # type: ignore[attr-defined]
    assert session.response_id == 2


async def test_a_resync_order_registers_again_and_restarts_the_ids() -> None:
    channel = FakeScheduler()
    session = SchedulerSession(channel, host="h")
    await session.register()
    channel.answers = [allocated(5), allocated(6, a_m_command=pb.AM_RESYNC)]
    await session.allocate([], [], 0)
    with pytest.raises(ResyncRequired):
        await session.allocate([], [], 0)
    assert channel.methods()[-1] == "registerApplicationMaster"
    assert session.response_id == 0


async def test_not_registered_registers_again() -> None:
    channel = FakeScheduler()
    session = SchedulerSession(channel, host="h")
    channel.answers = [RemoteError(NOT_REGISTERED, "AM is not registered")]
    with pytest.raises(ResyncRequired):
        await session.allocate([], [], 0)
    assert channel.methods() == ["allocate", "registerApplicationMaster"]


async def test_other_refusals_pass_through() -> None:
    channel = FakeScheduler()
    session = SchedulerSession(channel, host="h")
    error = RemoteError("org.apache.hadoop.yarn.exceptions.InvalidResourceRequestException", "x")
    channel.answers = [error]
    with pytest.raises(RemoteError) as caught:
        await session.allocate([], [], 0)
    assert caught.value is error


async def test_a_shutdown_order_is_raised() -> None:
    channel = FakeScheduler()
    channel.answers = [allocated(1, a_m_command=pb.AM_SHUTDOWN)]
    with pytest.raises(ShutdownOrdered):
        await SchedulerSession(channel, host="h").allocate([], [], 0)


async def test_a_forgotten_attempt_is_a_shutdown_order() -> None:
    # A killed application's attempt leaves the ResourceManager's cache before
    # the NodeManager's SIGTERM reaches the master: its next heartbeat says so.
    channel = FakeScheduler()
    channel.answers = [RemoteError(ATTEMPT_NOT_FOUND, "Application attempt a_1 doesn't exist")]
    with pytest.raises(ShutdownOrdered, match=r"no longer knows this attempt.*a_1 doesn't exist"):
        await SchedulerSession(channel, host="h").allocate([], [], 0)
    assert channel.methods() == ["allocate"]


async def test_a_rolled_token_replaces_every_connections_token() -> None:
    channel = FakeScheduler()
    session = SchedulerSession(channel, host="h")
    rolled = security_pb.TokenProto(identifier=b"new-id", password=b"new-pw")
    channel.answers = [allocated(1, am_rm_token=rolled)]
    await session.allocate([], [], 0)
    assert [c.token for c in channel.connections] == [TokenCredential(b"new-id", b"new-pw")] * 2


async def test_a_slow_heartbeat_times_out() -> None:
    channel = FakeScheduler()
    channel.delay = 1.0
    session = SchedulerSession(channel, host="h", timeout=0.05)
    with pytest.raises(TimeoutError, match=r"allocate heartbeat took over 0\.05 s"):
        await session.allocate([], [], 0)


async def test_finish_calls_again_until_confirmed() -> None:
    channel = FakeScheduler()
    session = SchedulerSession(channel, host="h")
    no = service_pb.FinishApplicationMasterResponseProto(isUnregistered=False)
    yes = service_pb.FinishApplicationMasterResponseProto(isUnregistered=True)
    channel.answers = [no, ConnectionError("blip"), no, yes]
    assert await session.finish(FinalStatus.FAILED, "bad luck")
    finishes = [request for method, request in channel.calls if method.startswith("finish")]
    assert len(finishes) == 4
    assert finishes[0].final_application_status == pb.APP_FAILED  # type: ignore[attr-defined]
    assert finishes[0].diagnostics == "bad luck"  # type: ignore[attr-defined]


async def test_finish_registers_again_if_forgotten() -> None:
    channel = FakeScheduler()
    session = SchedulerSession(channel, host="h")
    yes = service_pb.FinishApplicationMasterResponseProto(isUnregistered=True)
    channel.answers = [RemoteError(NOT_REGISTERED, "not registered"), yes]
    assert await session.finish(FinalStatus.SUCCEEDED, "")
    assert channel.methods() == [
        "finishApplicationMaster",
        "registerApplicationMaster",
        "finishApplicationMaster",
    ]


async def test_finish_gives_up_after_its_deadline() -> None:
    channel = FakeScheduler()
    session = SchedulerSession(channel, host="h")
    no = service_pb.FinishApplicationMasterResponseProto(isUnregistered=False)
    channel.answers = [no] * 100
    assert not await session.finish(FinalStatus.SUCCEEDED, "", deadline=0.3)


async def test_finish_stops_at_a_refusal() -> None:
    channel = FakeScheduler()
    session = SchedulerSession(channel, host="h")
    channel.answers = [RemoteError("org.apache.hadoop.yarn.exceptions.YarnException", "no")]
    assert not await session.finish(FinalStatus.SUCCEEDED, "")
    assert len(channel.calls) == 1


async def test_aclose_closes_the_channel() -> None:
    channel = FakeScheduler()
    await SchedulerSession(channel, host="h").aclose()
    assert channel.closed
