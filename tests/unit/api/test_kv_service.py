"""The key-value calls end to end: the generated stub, an in-memory channel, KeyValueService."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import pytest
from grpclib.client import Stream
from grpclib.const import Status
from grpclib.exceptions import GRPCError
from grpclib.server import Stream as ServerStream
from grpclib.testing import ChannelFor

from skein._proto.api import skein_pb2 as pb
from skein._proto.api.skein_grpc import AppMasterBase, AppMasterStub
from skein.api.kv_service import KeyValueService
from skein.kvstore import MAX_VALUE_BYTES, KeyRange, Owner, Put, Store

T = TypeVar("T")
WatchStream = Stream[pb.WatchRequest, pb.WatchResponse]

W0 = Owner("worker", 0)
W0_PB = pb.ContainerInstance(service_name="worker", instance=0)


def check_owner(owner: Owner) -> str | None:
    if owner.service_name != "worker":
        return f"Unknown service {owner.service_name!r}"
    if owner.instance > 1:
        return f"Service 'worker' has no container instance {owner.instance}"
    return None


class KeyValueOnly(AppMasterBase):
    """A servicer with only the key-value calls, as the master's delegates them."""

    def __init__(self, kv: KeyValueService) -> None:
        self.kv = kv

    async def GetRange(self, stream: ServerStream[pb.GetRangeRequest, pb.GetRangeResponse]) -> None:
        await self.kv.get_range(stream)

    async def DeleteRange(
        self, stream: ServerStream[pb.DeleteRangeRequest, pb.DeleteRangeResponse]
    ) -> None:
        await self.kv.delete_range(stream)

    async def PutKey(self, stream: ServerStream[pb.PutKeyRequest, pb.PutKeyResponse]) -> None:
        await self.kv.put_key(stream)

    async def Transaction(
        self, stream: ServerStream[pb.TransactionRequest, pb.TransactionResponse]
    ) -> None:
        await self.kv.transaction(stream)

    async def Watch(self, stream: ServerStream[pb.WatchRequest, pb.WatchResponse]) -> None:
        await self.kv.watch(stream)

    async def GetSpecification(
        self, stream: ServerStream[pb.Empty, pb.ApplicationSpecification]
    ) -> None:
        raise GRPCError(Status.UNIMPLEMENTED)

    async def Shutdown(self, stream: ServerStream[pb.ShutdownRequest, pb.Empty]) -> None:
        raise GRPCError(Status.UNIMPLEMENTED)

    async def SetProgress(self, stream: ServerStream[pb.SetProgressRequest, pb.Empty]) -> None:
        raise GRPCError(Status.UNIMPLEMENTED)

    async def GetContainers(
        self, stream: ServerStream[pb.GetContainersRequest, pb.ContainerList]
    ) -> None:
        raise GRPCError(Status.UNIMPLEMENTED)

    async def KillContainer(self, stream: ServerStream[pb.ContainerInstance, pb.Empty]) -> None:
        raise GRPCError(Status.UNIMPLEMENTED)

    async def Scale(self, stream: ServerStream[pb.ScaleRequest, pb.ContainerList]) -> None:
        raise GRPCError(Status.UNIMPLEMENTED)

    async def AddContainer(
        self, stream: ServerStream[pb.AddContainerRequest, pb.Container]
    ) -> None:
        raise GRPCError(Status.UNIMPLEMENTED)


@contextlib.asynccontextmanager
async def serve(kv: KeyValueService) -> AsyncIterator[AppMasterStub]:
    async with ChannelFor([KeyValueOnly(kv)]) as channel:
        yield AppMasterStub(channel)


@pytest.fixture
def kv() -> KeyValueService:
    return KeyValueService(check_owner=check_owner)


@pytest.fixture
async def stub(kv: KeyValueService) -> AsyncIterator[AppMasterStub]:
    async with serve(kv) as stub:
        yield stub


async def soon(awaitable: Awaitable[T]) -> T:
    return await asyncio.wait_for(awaitable, timeout=5)


async def put(
    stub: AppMasterStub, key: str, value: bytes = b"v", **kw: object
) -> pb.PutKeyResponse:
    return await soon(stub.PutKey(pb.PutKeyRequest(key=key, value=value, **kw)))  # type: ignore[arg-type]


async def invalid(call: Awaitable[object]) -> str:
    """The message of the INVALID_ARGUMENT the call must fail with."""
    with pytest.raises(GRPCError) as info:
        await soon(call)
    assert info.value.status is Status.INVALID_ARGUMENT
    assert info.value.message is not None
    return info.value.message


# -- GetRange, PutKey, DeleteRange --------------------------------------------------------


async def test_put_and_get(stub: AppMasterStub, kv: KeyValueService) -> None:
    response = await put(stub, "a", b"1", owner=W0_PB)
    assert response.header.revision == 2 == kv.revision
    assert not response.return_previous
    assert not response.HasField("previous")
    await put(stub, "b", b"2")
    await put(stub, "c", b"3")

    got = await soon(stub.GetRange(pb.GetRangeRequest(start="a", end="c")))
    assert got.header.revision == 4
    assert got.count == 2
    assert got.result_type == pb.ITEMS
    assert list(got.result) == [
        pb.KeyValue(key="a", value=b"1", owner=W0_PB, create_revision=2, mod_revision=2, version=1),
        pb.KeyValue(key="b", value=b"2", create_revision=3, mod_revision=3, version=1),
    ]
    assert not got.result[1].HasField("owner")


async def test_get_result_types(stub: AppMasterStub) -> None:
    await put(stub, "a", b"1", owner=W0_PB)
    await put(stub, "b", b"2")
    keys = await soon(stub.GetRange(pb.GetRangeRequest(result_type=pb.KEYS)))
    assert (keys.count, keys.result_type) == (2, pb.KEYS)
    assert [(kv.key, kv.value, kv.owner, kv.version) for kv in keys.result] == [
        ("a", b"", W0_PB, 1),
        ("b", b"", pb.ContainerInstance(), 1),
    ]
    none = await soon(stub.GetRange(pb.GetRangeRequest(result_type=pb.NONE)))
    assert (none.count, none.result_type, list(none.result)) == (2, pb.NONE, [])
    assert none.header.revision == 3


async def test_ranges_on_the_wire(stub: AppMasterStub) -> None:
    for key in ["a", "b/1", "b/2", "b0", "c"]:
        await put(stub, key)

    async def listed(start: str, end: str) -> list[str]:
        got = await soon(stub.GetRange(pb.GetRangeRequest(start=start, end=end)))
        return [kv.key for kv in got.result]

    assert await listed("", "") == ["a", "b/1", "b/2", "b0", "c"]
    prefix = KeyRange.prefix("b/")
    assert await listed(prefix.start, prefix.end) == ["b/1", "b/2"]
    assert await listed("b/1", "b/1\0") == ["b/1"]
    assert await listed("c", "a") == []  # start after end: empty, not an error


async def test_put_options(stub: AppMasterStub) -> None:
    await put(stub, "a", b"1", owner=W0_PB)
    response = await put(stub, "a", b"ignored", ignore_value=True, return_previous=True)
    assert response.return_previous
    assert response.previous == pb.KeyValue(
        key="a", value=b"1", owner=W0_PB, create_revision=2, mod_revision=2, version=1
    )
    got = await soon(stub.GetRange(pb.GetRangeRequest(start="a", end="a\0")))
    assert (got.result[0].value, got.result[0].HasField("owner"), got.result[0].version) == (
        b"1",
        False,
        2,
    )
    kept = await put(stub, "a", b"2", owner=W0_PB)
    assert kept.header.revision == 4
    assert not kept.return_previous
    assert not kept.HasField("previous")  # not asked for
    await put(stub, "a", b"3", ignore_owner=True)
    got = await soon(stub.GetRange(pb.GetRangeRequest(start="a", end="a\0")))
    assert (got.result[0].value, got.result[0].owner) == (b"3", W0_PB)
    new = await put(stub, "n", b"", return_previous=True)
    assert new.return_previous
    assert not new.HasField("previous")


async def test_delete_range(stub: AppMasterStub) -> None:
    for key in ["a", "b", "c", "d"]:
        await put(stub, key, key.encode())
    deleted = await soon(stub.DeleteRange(pb.DeleteRangeRequest(start="b", end="d")))
    assert (deleted.header.revision, deleted.count, deleted.result_type) == (6, 2, pb.ITEMS)
    assert [(kv.key, kv.value, kv.version) for kv in deleted.result] == [
        ("b", b"b", 1),
        ("c", b"c", 1),
    ]
    keys = await soon(
        stub.DeleteRange(pb.DeleteRangeRequest(start="a", end="b", result_type=pb.KEYS))
    )
    assert [(kv.key, kv.value) for kv in keys.result] == [("a", b"")]
    nothing = await soon(stub.DeleteRange(pb.DeleteRangeRequest(start="x", result_type=pb.NONE)))
    assert (nothing.header.revision, nothing.count, list(nothing.result)) == (7, 0, [])
    left = await soon(stub.GetRange(pb.GetRangeRequest()))
    assert [kv.key for kv in left.result] == ["d"]


# -- errors: the store's, and malformed requests ---------------------------------------------


async def test_store_errors_are_invalid_argument_with_skeins_messages(
    stub: AppMasterStub, kv: KeyValueService
) -> None:
    message = await invalid(stub.PutKey(pb.PutKeyRequest(key="a", ignore_value=True)))
    assert message == "ignore_value=True & key isn't already set"
    owner = pb.ContainerInstance(service_name="ghost", instance=0)
    assert await invalid(put(stub, "a", owner=owner)) == "Unknown service 'ghost'"
    owner = pb.ContainerInstance(service_name="worker", instance=3)
    assert await invalid(put(stub, "a", owner=owner)) == (
        "Service 'worker' has no container instance 3"
    )
    assert await invalid(put(stub, "")) == "Key must not be empty"
    message = await invalid(put(stub, "big", b"x" * (MAX_VALUE_BYTES + 1)))
    assert message.startswith("Value of key 'big' is 1048577 bytes, over the limit")
    assert kv.revision == 1
    # And the server keeps serving.
    assert (await put(stub, "a")).header.revision == 2


@pytest.mark.parametrize(
    ("owner", "message"),
    [
        (pb.ContainerInstance(service_name="worker", instance=-1), "Invalid owner instance -1"),
        (pb.ContainerInstance(), "Owner service name must not be empty"),
    ],
)
async def test_malformed_owner(
    stub: AppMasterStub, owner: pb.ContainerInstance, message: str
) -> None:
    assert message in await invalid(put(stub, "a", owner=owner))


async def test_unknown_result_type(stub: AppMasterStub) -> None:
    bad = pb.GetRangeRequest(result_type=7)  # type: ignore[arg-type]
    assert await invalid(stub.GetRange(bad)) == "Unknown result_type 7"
    bad_delete = pb.DeleteRangeRequest(result_type=9)  # type: ignore[arg-type]
    assert await invalid(stub.DeleteRange(bad_delete)) == "Unknown result_type 9"
    await put(stub, "a")


async def test_release_owner(stub: AppMasterStub, kv: KeyValueService) -> None:
    await put(stub, "a", owner=W0_PB)
    await put(stub, "b", owner=W0_PB)
    await put(stub, "c")
    assert kv.release_owner(W0) == 2
    assert kv.revision == 5
    left = await soon(stub.GetRange(pb.GetRangeRequest()))
    assert [k.key for k in left.result] == ["c"]
    assert kv.release_owner(W0) == 0
    assert kv.revision == 5


def test_store_or_check_owner_not_both() -> None:
    store = Store()
    assert KeyValueService(store).store is store
    with pytest.raises(TypeError, match="give check_owner to the Store"):
        KeyValueService(store, check_owner=check_owner)


# -- Transaction ------------------------------------------------------------------------------


def condition(key: str, field: int, op: int, **rhs: object) -> pb.Condition:
    return pb.Condition(key=key, field=field, operator=op, **rhs)  # type: ignore[arg-type]


async def test_transaction_branches_and_results(stub: AppMasterStub) -> None:
    await put(stub, "a", b"1", owner=W0_PB)
    request = pb.TransactionRequest(
        condition=[
            condition("a", pb.Condition.VALUE, pb.Condition.EQUAL, value=b"1"),
            condition("a", pb.Condition.OWNER, pb.Condition.EQUAL, owner=W0_PB),
            condition("a", pb.Condition.VERSION, pb.Condition.GREATER_EQUAL, number=1),
            condition("zz", pb.Condition.VALUE, pb.Condition.EQUAL),  # missing: == none
        ],
        on_success=[
            pb.OpRequest(put_key=pb.PutKeyRequest(key="b", value=b"2", return_previous=True)),
            pb.OpRequest(put_key=pb.PutKeyRequest(key="a", value=b"9", return_previous=True)),
            pb.OpRequest(get_range=pb.GetRangeRequest(result_type=pb.KEYS)),
            pb.OpRequest(delete_range=pb.DeleteRangeRequest(start="b", end="b\0")),
        ],
        on_failure=[pb.OpRequest(put_key=pb.PutKeyRequest(key="failed", value=b""))],
    )
    response = await soon(stub.Transaction(request))
    assert response.succeeded
    assert response.header.revision == 3
    put_b, put_a, listing, deleted = response.result
    assert put_b.put_key.header.revision == 3
    assert put_b.put_key.return_previous
    assert not put_b.put_key.HasField("previous")
    assert put_a.put_key.previous.value == b"1"
    assert [(kv.key, kv.value) for kv in listing.get_range.result] == [("a", b""), ("b", b"")]
    assert listing.get_range.count == 2
    assert [kv.key for kv in deleted.delete_range.result] == ["b"]

    again = await soon(stub.Transaction(request))  # a's value is now 9
    assert not again.succeeded
    assert again.header.revision == 4
    assert again.result[0].WhichOneof("response") == "put_key"
    got = await soon(stub.GetRange(pb.GetRangeRequest()))
    assert [(kv.key, kv.value) for kv in got.result] == [("a", b"9"), ("failed", b"")]


async def test_transaction_number_fields_and_none(stub: AppMasterStub) -> None:
    rev = (await put(stub, "a")).header.revision
    swap = pb.OpRequest(put_key=pb.PutKeyRequest(key="a", value=b"new"))
    cas = pb.TransactionRequest(
        condition=[condition("a", pb.Condition.MOD_REVISION, pb.Condition.EQUAL, number=rev)],
        on_success=[swap],
    )
    assert (await soon(stub.Transaction(cas))).succeeded
    assert not (await soon(stub.Transaction(cas))).succeeded
    create_if_missing = pb.TransactionRequest(
        condition=[condition("b", pb.Condition.CREATE_REVISION, pb.Condition.EQUAL, number=0)],
        on_success=[pb.OpRequest(put_key=pb.PutKeyRequest(key="b"))],
    )
    assert (await soon(stub.Transaction(create_if_missing))).succeeded
    assert not (await soon(stub.Transaction(create_if_missing))).succeeded
    unowned = condition("a", pb.Condition.OWNER, pb.Condition.EQUAL)
    assert (await soon(stub.Transaction(pb.TransactionRequest(condition=[unowned])))).succeeded


OPERATORS = {
    "==": pb.Condition.EQUAL,
    "!=": pb.Condition.NOT_EQUAL,
    "<": pb.Condition.LESS,
    "<=": pb.Condition.LESS_EQUAL,
    ">": pb.Condition.GREATER,
    ">=": pb.Condition.GREATER_EQUAL,
}


@pytest.mark.parametrize(
    ("rhs", "true"),
    [
        (b"m", {"==", "<=", ">="}),
        (b"n", {"!=", "<", "<="}),
        (b"\x80", {"!=", "<", "<="}),  # unsigned: b"m" < b"\x80"
        (None, {"!="}),
    ],
)
async def test_condition_operators_on_the_wire(
    stub: AppMasterStub, rhs: bytes | None, true: set[str]
) -> None:
    await put(stub, "a", b"m")
    holds = set()
    for name, number in OPERATORS.items():
        test = pb.Condition(key="a", field=pb.Condition.VALUE, operator=number)
        if rhs is not None:
            test.value = rhs
        response = await soon(stub.Transaction(pb.TransactionRequest(condition=[test])))
        if response.succeeded:
            holds.add(name)
    assert holds == true


async def test_a_rejected_transaction_changes_nothing(
    stub: AppMasterStub, kv: KeyValueService
) -> None:
    await put(stub, "a", b"1")
    request = pb.TransactionRequest(
        on_success=[
            pb.OpRequest(delete_range=pb.DeleteRangeRequest()),
            pb.OpRequest(put_key=pb.PutKeyRequest(key="b", value=b"2")),
            pb.OpRequest(put_key=pb.PutKeyRequest(key="c", ignore_value=True)),
        ]
    )
    assert await invalid(stub.Transaction(request)) == "ignore_value=True & key isn't already set"
    got = await soon(stub.GetRange(pb.GetRangeRequest()))
    assert [(kv.key, kv.value) for kv in got.result] == [("a", b"1")]
    assert kv.revision == 2


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (condition("a", 9, pb.Condition.EQUAL), "Unknown condition field 9"),
        (condition("a", pb.Condition.VALUE, 8), "Unknown condition operator 8"),
        (
            condition("a", pb.Condition.VALUE, pb.Condition.EQUAL, number=1),
            "Condition on the value of key 'a' needs bytes or none, got int",
        ),
        (
            condition("a", pb.Condition.OWNER, pb.Condition.EQUAL, value=b"w_1"),
            "Condition on the owner of key 'a' needs an owner or none, got bytes",
        ),
        (
            condition("a", pb.Condition.VERSION, pb.Condition.EQUAL),
            "Condition on the version of key 'a' needs a number (0 for a missing key)",
        ),
        (
            condition(
                "a",
                pb.Condition.OWNER,
                pb.Condition.EQUAL,
                owner=pb.ContainerInstance(service_name="w", instance=-2),
            ),
            "Invalid owner instance -2",
        ),
    ],
)
async def test_malformed_conditions(stub: AppMasterStub, bad: pb.Condition, message: str) -> None:
    request = pb.TransactionRequest(
        condition=[bad], on_success=[pb.OpRequest(put_key=pb.PutKeyRequest(key="x"))]
    )
    assert message in await invalid(stub.Transaction(request))


async def test_malformed_operations(stub: AppMasterStub, kv: KeyValueService) -> None:
    # Malformed steps are refused in either branch, whichever the conditions choose.
    empty = pb.TransactionRequest(on_failure=[pb.OpRequest()])
    assert await invalid(stub.Transaction(empty)) == "OpRequest has no request set"
    bad_type = pb.OpRequest(get_range=pb.GetRangeRequest(result_type=5))  # type: ignore[arg-type]
    request = pb.TransactionRequest(
        on_success=[pb.OpRequest(put_key=pb.PutKeyRequest(key="x"))], on_failure=[bad_type]
    )
    assert await invalid(stub.Transaction(request)) == "Unknown result_type 5"
    assert kv.revision == 1


# -- Watch ------------------------------------------------------------------------------------


def create(
    start: str = "", end: str = "", event_type: int = pb.ALL, start_revision: int = 0
) -> pb.WatchRequest:
    return pb.WatchRequest(
        create=pb.WatchCreateRequest(
            start=start,
            end=end,
            event_type=event_type,  # type: ignore[arg-type]
            start_revision=start_revision,
        )
    )


def cancel(watch_id: int) -> pb.WatchRequest:
    return pb.WatchRequest(cancel=pb.WatchCancelRequest(watch_id=watch_id))


async def receive(stream: WatchStream) -> pb.WatchResponse:
    response = await soon(stream.recv_message())
    assert response is not None
    return response


async def created(stream: WatchStream, request: pb.WatchRequest) -> int:
    await stream.send_message(request)
    response = await receive(stream)
    assert response.created
    assert not response.canceled, response.cancel_reason
    assert response.watch_id > 0
    return response.watch_id


def events(response: pb.WatchResponse) -> list[tuple[str, str, bytes, int]]:
    return [
        (pb.EventType.Name(e.type), e.kv.key, e.kv.value, e.kv.mod_revision)
        for e in response.events
    ]


async def test_watch_streams_events(stub: AppMasterStub, kv: KeyValueService) -> None:
    async with stub.Watch.open() as stream:
        prefix = KeyRange.prefix("a/")
        watch_id = await created(stream, create(prefix.start, prefix.end))
        await put(stub, "a/1", b"1")
        await put(stub, "b", b"x")  # not watched
        response = await receive(stream)
        assert response.watch_id == watch_id
        assert response.header.revision >= 2
        assert events(response) == [("PUT", "a/1", b"1", 2)]
        assert response.events[0].kv.create_revision == 2

        # One transaction's events come in one response, in order.
        txn = pb.TransactionRequest(
            on_success=[
                pb.OpRequest(put_key=pb.PutKeyRequest(key="a/2", value=b"2", owner=W0_PB)),
                pb.OpRequest(delete_range=pb.DeleteRangeRequest(start="a/1", end="a/1\0")),
            ]
        )
        await soon(stub.Transaction(txn))
        response = await receive(stream)
        assert events(response) == [("PUT", "a/2", b"2", 4), ("DELETE", "a/1", b"", 4)]
        assert response.events[0].kv.owner == W0_PB
        assert response.events[1].kv.version == 0  # a tombstone

        # Releasing an owner is seen as deletes.
        kv.release_owner(W0)
        assert events(await receive(stream)) == [("DELETE", "a/2", b"", 5)]
        await stream.end()
        assert await soon(stream.recv_message()) is None
    assert kv.store.watcher_count == 0


async def test_watch_event_type_filters_and_several_watches(stub: AppMasterStub) -> None:
    async with stub.Watch.open() as stream:
        puts = await created(stream, create(event_type=pb.PUT))
        deletes = await created(stream, create(event_type=pb.DELETE))
        key_a = await created(stream, create("a", "a\0"))
        assert len({puts, deletes, key_a}) == 3
        await put(stub, "a")
        await soon(stub.DeleteRange(pb.DeleteRangeRequest(start="a", end="a\0")))
        got: dict[int, list[tuple[str, str, bytes, int]]] = {}
        for _ in range(4):
            response = await receive(stream)
            got.setdefault(response.watch_id, []).extend(events(response))
        assert got == {
            puts: [("PUT", "a", b"v", 2)],
            deletes: [("DELETE", "a", b"", 3)],
            key_a: [("PUT", "a", b"v", 2), ("DELETE", "a", b"", 3)],
        }
        await stream.end()


async def test_watch_cancel(stub: AppMasterStub, kv: KeyValueService) -> None:
    async with stub.Watch.open() as stream:
        first = await created(stream, create())
        second = await created(stream, create("z"))
        assert kv.store.watcher_count == 2
        await stream.send_message(cancel(first))
        response = await receive(stream)
        assert (response.watch_id, response.canceled, response.cancel_reason) == (first, True, "")
        assert kv.store.watcher_count == 1
        await put(stub, "a")
        await put(stub, "z")
        response = await receive(stream)  # nothing for the cancelled watch
        assert (response.watch_id, events(response)) == (second, [("PUT", "z", b"v", 3)])
        # A cancel for a watch that is not there is answered too.
        await stream.send_message(cancel(99))
        response = await receive(stream)
        assert (response.watch_id, response.canceled) == (99, True)
        await stream.end()


async def test_watch_from_a_past_revision_replays_then_goes_live(stub: AppMasterStub) -> None:
    await put(stub, "a", b"1")  # 2
    await put(stub, "b", b"2")  # 3
    await put(stub, "a", b"3")  # 4
    async with stub.Watch.open() as stream:
        watch_id = await created(stream, create("a", "a\0", start_revision=2))
        replayed = [await receive(stream), await receive(stream)]
        assert [events(r) for r in replayed] == [[("PUT", "a", b"1", 2)], [("PUT", "a", b"3", 4)]]
        assert {r.watch_id for r in replayed} == {watch_id}
        await put(stub, "a", b"5")
        assert events(await receive(stream)) == [("PUT", "a", b"5", 5)]
        await stream.end()


async def test_watch_from_a_compacted_revision_is_refused() -> None:
    kv = KeyValueService(Store(history_max_events=2))
    async with serve(kv) as stub, stub.Watch.open() as stream:
        for key in "abcd":
            await put(stub, key)  # revisions 2..5; 4 and 5 kept
        await stream.send_message(create(start_revision=3))
        response = await receive(stream)
        assert (response.created, response.canceled, response.compact_revision) == (True, True, 4)
        assert response.watch_id > 0
        assert "required revision 3 has been compacted" in response.cancel_reason
        assert kv.store.watcher_count == 0
        await created(stream, create(start_revision=4))  # still usable
        await stream.end()


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (create(event_type=7), "Unknown event_type 7"),
        (create(start_revision=-1), "start_revision must be >= 0, got -1"),
    ],
)
async def test_a_malformed_create_is_refused_and_the_stream_goes_on(
    stub: AppMasterStub, request_: pb.WatchRequest, reason: str
) -> None:
    async with stub.Watch.open() as stream:
        await stream.send_message(request_)
        response = await receive(stream)
        assert (response.created, response.canceled, response.watch_id) == (True, True, 0)
        assert response.cancel_reason == reason
        watch_id = await created(stream, create())
        await put(stub, "a")
        assert (await receive(stream)).watch_id == watch_id
        await stream.end()


async def test_an_empty_watch_request_ends_the_stream(
    stub: AppMasterStub, kv: KeyValueService
) -> None:
    # The server answers with the status and resets the stream; grpclib's client
    # raises the status when the stream's context ends.
    with pytest.raises(GRPCError) as info:  # noqa: PT012
        async with stub.Watch.open() as stream:
            await created(stream, create())
            await stream.send_message(pb.WatchRequest())
            await soon(stream.recv_message())
    assert info.value.status is Status.INVALID_ARGUMENT
    assert info.value.message == "WatchRequest has neither create nor cancel"
    await asyncio.sleep(0)
    assert kv.store.watcher_count == 0
    await put(stub, "a")  # the server keeps serving


async def test_a_slow_watcher_is_cancelled_after_its_buffered_events() -> None:
    kv = KeyValueService(Store(watcher_max_events=2))
    async with serve(kv) as stub, stub.Watch.open() as stream:
        watch_id = await created(stream, create())
        # Writes that happen while the stream's writer cannot run: it falls behind.
        for key in "abc":
            kv.store.put(Put(key=key))
        responses = [await receive(stream) for _ in range(3)]
        assert [events(r) for r in responses[:2]] == [
            [("PUT", "a", b"", 2)],
            [("PUT", "b", b"", 3)],
        ]
        last = responses[2]
        assert (last.watch_id, last.canceled) == (watch_id, True)
        assert last.cancel_reason == (
            f"watcher {watch_id} fell behind: more than 2 unread events; "
            "events from revision 4 on were not delivered"
        )
        assert kv.store.watcher_count == 0
        # The client can resume from the revision it missed.
        resumed = await created(stream, create(start_revision=4))
        response = await receive(stream)
        assert (response.watch_id, events(response)) == (resumed, [("PUT", "c", b"", 4)])
        await stream.end()


async def test_a_watcher_falling_behind_while_its_events_are_in_flight_gets_them_all() -> None:
    # The watcher's connection stops reading: HTTP/2 flow control blocks the
    # stream's writer partway, while writes from another connection go on and
    # fill the watcher's buffer until the store cancels it. Everything it
    # buffered until then is still delivered before the cancellation.
    kv = KeyValueService(Store(watcher_max_events=4))
    value = b"v" * MAX_VALUE_BYTES
    async with serve(kv) as watching, serve(kv) as writing, watching.Watch.open() as stream:
        watch_id = await created(stream, create("k"))
        for _ in range(20):
            await put(writing, "k", value)
        revisions: list[int] = []
        while not (response := await receive(stream)).canceled:
            revisions += [revision for *_, revision in events(response)]
        assert revisions == list(range(2, 2 + len(revisions)))
        assert 2 < len(revisions) < 20
        assert response.watch_id == watch_id
        missed = 2 + len(revisions)
        assert response.cancel_reason.endswith(
            f"events from revision {missed} on were not delivered"
        )
        await stream.end()


async def test_large_revisions_are_split_across_responses(stub: AppMasterStub) -> None:
    async with stub.Watch.open() as stream:
        await created(stream, create())
        big = b"x" * MAX_VALUE_BYTES
        txn = pb.TransactionRequest(
            on_success=[pb.OpRequest(put_key=pb.PutKeyRequest(key=k, value=big)) for k in "abc"]
        )
        await soon(stub.Transaction(txn))
        responses = [await receive(stream) for _ in range(3)]
        assert [[(key, rev) for _, key, _, rev in events(r)] for r in responses] == [
            [("a", 2)],
            [("b", 2)],
            [("c", 2)],
        ]
        await stream.end()


async def test_watchers_end_with_the_stream(stub: AppMasterStub, kv: KeyValueService) -> None:
    stream = stub.Watch.open()
    async with stream:
        await created(stream, create())
        await created(stream, create("a", "b"))
        assert kv.store.watcher_count == 2
        await stream.cancel()  # the client goes away without ending cleanly
    for _ in range(10):
        if kv.store.watcher_count == 0:
            break
        await asyncio.sleep(0.01)
    assert kv.store.watcher_count == 0
    await put(stub, "a")
