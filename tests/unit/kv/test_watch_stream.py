"""The watch demultiplexer against a scripted master: acknowledgements, races and failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from grpclib.server import Stream
from grpclib.testing import ChannelFor

from skein._proto.api import skein_pb2 as pb
from skein._proto.api.skein_grpc import AppMasterStub
from skein.errors import ProtocolError, TimeoutError, WatchCancelledError
from skein.kv import AsyncKeyValueStore, EventFilter, EventType, ValueOwnerPair

from .conftest import ADDRESS, Master, make_service


class ScriptedMaster(Master):
    """A master whose Watch stream the test drives: it reads requests and writes responses."""

    def __init__(self) -> None:
        super().__init__(make_service())
        self.requests: asyncio.Queue[pb.WatchRequest] = asyncio.Queue()
        self.responses: asyncio.Queue[pb.WatchResponse | None] = asyncio.Queue()

    async def Watch(self, stream: Stream[Any, Any]) -> None:
        async def read() -> None:
            async for request in stream:
                await self.requests.put(request)

        reader = asyncio.ensure_future(read())
        try:
            while (response := await self.responses.get()) is not None:
                await stream.send_message(response)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def request(self) -> pb.WatchRequest:
        return await asyncio.wait_for(self.requests.get(), 5)

    def respond(self, **fields: Any) -> None:
        self.responses.put_nowait(pb.WatchResponse(**fields))


@pytest.fixture
def scripted() -> ScriptedMaster:
    return ScriptedMaster()


@pytest.fixture
async def kv(scripted: ScriptedMaster) -> AsyncIterator[AsyncKeyValueStore]:
    async with ChannelFor([scripted]) as channel:
        store = AsyncKeyValueStore(AppMasterStub(channel), address=ADDRESS, timeout=0.5)
        yield store
        scripted.responses.put_nowait(None)
        await store.close()


def _put(key: str, value: bytes, revision: int) -> pb.Event:
    return pb.Event(type=pb.PUT, kv=pb.KeyValue(key=key, value=value, mod_revision=revision))


async def test_acknowledgements_pair_with_creates_in_order(
    kv: AsyncKeyValueStore, scripted: ScriptedMaster
) -> None:
    a, b = kv.event_queue(), kv.event_queue()
    sub_a = asyncio.ensure_future(a.subscribe(key="a"))
    sub_b = asyncio.ensure_future(b.subscribe(key="b", event_type="PUT"))
    first, second = await scripted.request(), await scripted.request()
    assert first.create == pb.WatchCreateRequest(start="a", end="a\0")
    assert second.create == pb.WatchCreateRequest(start="b", end="b\0", event_type=pb.PUT)
    scripted.respond(created=True, watch_id=7)
    scripted.respond(created=True, watch_id=9)
    await asyncio.gather(sub_a, sub_b)
    scripted.respond(watch_id=9, events=[_put("b", b"2", 4)])
    scripted.respond(watch_id=7, events=[_put("a", b"1", 5)])
    event_b, event_a = await b.get(timeout=5), await a.get(timeout=5)
    assert (event_b.key, event_b.result, event_b.revision) == ("b", ValueOwnerPair(b"2", None), 4)
    assert event_b.event_filter == EventFilter(key="b", event_type=EventType.PUT)
    assert (event_a.key, event_a.revision) == ("a", 5)


async def test_leaving_before_the_acknowledgement_cancels_on_it(
    kv: AsyncKeyValueStore, scripted: ScriptedMaster
) -> None:
    queue = kv.event_queue()
    subscribing = asyncio.ensure_future(queue.subscribe(key="a"))
    await scripted.request()
    subscribing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await subscribing
    assert queue.filters == frozenset()
    scripted.respond(created=True, watch_id=3)
    assert (await scripted.request()).cancel.watch_id == 3
    scripted.respond(watch_id=3, events=[_put("a", b"late", 2)])  # in flight: dropped
    scripted.respond(watch_id=3, canceled=True)
    # The stream goes on: a new subscription of the same filter gets a new watch.
    again = asyncio.ensure_future(queue.subscribe(key="a"))
    assert (await scripted.request()).WhichOneof("request") == "create"
    scripted.respond(created=True, watch_id=4)
    await again
    scripted.respond(watch_id=4, events=[_put("a", b"now", 3)])
    assert (await queue.get(timeout=5)).result == ValueOwnerPair(b"now", None)


async def test_an_unacknowledged_watch_times_out(
    kv: AsyncKeyValueStore, scripted: ScriptedMaster
) -> None:
    queue = kv.event_queue()
    with pytest.raises(TimeoutError, match=r"Timed out waiting for the application at .* to watch"):
        await queue.subscribe(prefix="p")
    assert queue.filters == frozenset()
    await scripted.request()
    scripted.respond(created=True, watch_id=1)  # too late: cancelled at once
    assert (await scripted.request()).cancel.watch_id == 1


async def test_a_refused_watch_raises_from_subscribe(
    kv: AsyncKeyValueStore, scripted: ScriptedMaster
) -> None:
    queue = kv.event_queue()
    subscribing = asyncio.ensure_future(queue.subscribe(key="a", start_revision=2))
    assert (await scripted.request()).create.start_revision == 2
    scripted.respond(
        created=True, canceled=True, cancel_reason="required revision 2 has been compacted",
        compact_revision=5,
    )  # fmt: skip
    with pytest.raises(WatchCancelledError, match="revision 2 has been compacted") as info:
        await subscribing
    assert "oldest revision in its history is 5" in str(info.value)
    assert (info.value.reason, info.value.compact_revision) == (
        "required revision 2 has been compacted",
        5,
    )
    assert queue.filters == frozenset()


async def test_a_cancel_notice_racing_our_cancel_is_harmless(
    kv: AsyncKeyValueStore, scripted: ScriptedMaster
) -> None:
    queue, other = kv.event_queue(), kv.event_queue()
    subscribing = asyncio.ensure_future(queue.subscribe(key="a"))
    await scripted.request()
    scripted.respond(created=True, watch_id=1)
    await subscribing
    await queue.unsubscribe(key="a")
    assert (await scripted.request()).cancel.watch_id == 1
    scripted.respond(watch_id=1, canceled=True, cancel_reason="watcher 1 fell behind")
    scripted.respond(watch_id=1, canceled=True)  # the answer to our cancel, of an unknown id
    subscribing = asyncio.ensure_future(other.subscribe(key="b"))
    await scripted.request()
    scripted.respond(created=True, watch_id=2)
    await subscribing
    assert other.filters == {EventFilter(key="b")}
    with pytest.raises(TimeoutError):
        await queue.get(timeout=0.05)


async def test_an_unasked_acknowledgement_breaks_the_stream(
    kv: AsyncKeyValueStore, scripted: ScriptedMaster
) -> None:
    queue = kv.event_queue()
    subscribing = asyncio.ensure_future(queue.subscribe(key="a"))
    await scripted.request()
    scripted.respond(created=True, watch_id=1)
    await subscribing
    scripted.respond(created=True, watch_id=2)
    with pytest.raises(ProtocolError, match="acknowledged watch 2, which nobody asked for"):
        await queue.get(timeout=5)
