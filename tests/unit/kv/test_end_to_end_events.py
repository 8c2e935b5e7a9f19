"""Event queues and ``wait`` of AsyncKeyValueStore against the real key-value service."""

from __future__ import annotations

import asyncio
import gc

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError
from grpclib.testing import ChannelFor

from skein._proto.api.skein_grpc import AppMasterStub
from skein.api.kv_service import KeyValueService
from skein.errors import ApplicationError, ConnectionError, TimeoutError, WatchCancelledError
from skein.kv import (
    AsyncEventQueue,
    AsyncKeyValueStore,
    Event,
    EventFilter,
    EventType,
    ValueOwnerPair,
    put,
)
from skein.kvstore import Owner, Put

from .conftest import ADDRESS, Master, make_service


async def _settle() -> None:
    """Let the in-memory transport deliver what is in flight."""
    for _ in range(20):
        await asyncio.sleep(0)


async def _watchers(service: KeyValueService, expected: int) -> bool:
    """Whether the master ends up with ``expected`` live watchers (waits a little for it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2
    while service.store.watcher_count != expected and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.001)  # the store has no way to notify us
    await _settle()
    return service.store.watcher_count == expected


async def test_events_deliver_puts_and_deletes(kv: AsyncKeyValueStore) -> None:
    queue = await kv.events(prefix="jobs/")
    f = EventFilter(prefix="jobs/")
    await kv.put("jobs/1", b"a", owner="svc_0")
    await kv.put("other", b"x")
    await kv.discard("jobs/1")
    put_event = await queue.get(timeout=5)
    assert put_event == Event("jobs/1", ValueOwnerPair(b"a", "svc_0"), EventType.PUT, f)
    deleted = await queue.get(timeout=5)
    assert deleted == Event("jobs/1", None, EventType.DELETE, f)
    assert deleted.revision == put_event.revision + 2
    assert queue.filters == {f}
    assert repr(queue) == "AsyncEventQueue<1 filters>"


async def test_event_type_filters(kv: AsyncKeyValueStore) -> None:
    puts = await kv.events(event_type="PUT")
    deletes = await kv.events(event_type=EventType.DELETE)
    await kv.put("a", b"1")
    await kv.put("a", owner="svc_0")  # an owner-only change is a PUT too
    await kv.pop("a")
    assert [(e.event_type, e.result) for e in [await puts.get(timeout=5) for _ in range(2)]] == [
        (EventType.PUT, ValueOwnerPair(b"1", None)),
        (EventType.PUT, ValueOwnerPair(b"1", "svc_0")),
    ]
    assert (await deletes.get(timeout=5)).key == "a"
    await _settle()
    with pytest.raises(asyncio.QueueEmpty):
        puts.get_nowait()


async def test_range_deletes_send_one_event_per_key(kv: AsyncKeyValueStore) -> None:
    await kv.update({"a": b"1", "b": b"2"})
    queue = await kv.events(event_type="DELETE")
    await kv.clear()
    assert [(await queue.get(timeout=5)).key for _ in range(2)] == ["a", "b"]


async def test_owner_completion_sends_deletes(
    kv: AsyncKeyValueStore, service: KeyValueService
) -> None:
    await kv.put("w/0", b"x", owner="svc_0")
    queue = await kv.events(key="w/0")
    service.release_owner(Owner("svc", 0))
    event = await queue.get(timeout=5)
    assert (event.key, event.event_type) == ("w/0", EventType.DELETE)


async def test_an_event_comes_once_per_matching_filter(kv: AsyncKeyValueStore) -> None:
    queue = kv.event_queue()
    by_prefix = await queue.subscribe(prefix="ba")
    by_key = await queue.subscribe(key="bart")
    await kv.put("bart", b"1")
    events = [await queue.get(timeout=5), await queue.get(timeout=5)]
    assert {e.event_filter for e in events} == {by_prefix, by_key}
    await _settle()
    with pytest.raises(TimeoutError):
        await queue.get(timeout=0.01)


async def test_equal_filters_share_one_server_watch(
    kv: AsyncKeyValueStore, service: KeyValueService
) -> None:
    first = await kv.events(prefix="p")
    second = await kv.events(prefix="p")
    third = await kv.events(prefix="p", event_type="PUT")
    assert await _watchers(service, 2)
    await kv.put("p1", b"x")
    for queue in (first, second, third):
        assert (await queue.get(timeout=5)).key == "p1"
    await first.unsubscribe(prefix="p")
    assert await _watchers(service, 2)
    await second.unsubscribe_all()
    assert await _watchers(service, 1)
    await kv.put("p2", b"x")
    assert (await third.get(timeout=5)).key == "p2"
    async with third:
        pass
    assert await _watchers(service, 0)
    assert third.filters == frozenset()


async def test_subscribe_is_idempotent_and_unsubscribe_checks(
    kv: AsyncKeyValueStore, service: KeyValueService
) -> None:
    queue = kv.event_queue()
    f = EventFilter(key="a")
    assert await queue.subscribe(f) is f
    assert await queue.subscribe(key="a") == f
    assert await _watchers(service, 1)
    with pytest.raises(ValueError, match=r"not currently subscribed to EventFilter\(start='b'"):
        await queue.unsubscribe(key="b")
    assert await queue.unsubscribe(f) == f
    with pytest.raises(ValueError, match="not currently subscribed"):
        await queue.unsubscribe(f)
    with pytest.raises(ValueError, match="Cannot provide ``event_filter`` and other arguments"):
        await queue.subscribe(f, key="a")


async def test_events_after_unsubscribing_are_not_delivered(kv: AsyncKeyValueStore) -> None:
    queue = await kv.events(key="a")
    await kv.put("a", b"1")
    assert (await queue.get(timeout=5)).result == ValueOwnerPair(b"1", None)
    await queue.unsubscribe(key="a")
    await kv.put("a", b"2")
    await _settle()
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()


async def test_async_iteration(kv: AsyncKeyValueStore) -> None:
    queue = await kv.events(prefix="n/")
    await kv.update({f"n/{i}": b"x" for i in range(3)})
    keys = []
    async for event in queue:
        keys.append(event.key)
        if len(keys) == 3:
            break
    assert keys == ["n/0", "n/1", "n/2"]


async def test_put_into_a_queue(kv: AsyncKeyValueStore) -> None:
    queue = kv.event_queue()
    event = Event("x", None, EventType.DELETE, EventFilter())
    await queue.put(event)
    assert await queue.get() is event
    await queue.put(RuntimeError("stop"))
    for _ in range(2):
        with pytest.raises(RuntimeError, match="stop"):
            await queue.get()


async def test_replay_from_a_revision(kv: AsyncKeyValueStore, service: KeyValueService) -> None:
    await kv.put("a", b"1")
    start = service.revision
    await kv.put("a", b"2")
    await kv.discard("a")
    queue = await kv.events(key="a", start_revision=start)
    live = await kv.events(key="a")
    assert await _watchers(service, 2)  # a replaying watch is never shared
    await kv.put("a", b"3")
    replayed = [await queue.get(timeout=5) for _ in range(4)]
    assert [(e.event_type, e.result) for e in replayed] == [
        (EventType.PUT, ValueOwnerPair(b"1", None)),
        (EventType.PUT, ValueOwnerPair(b"2", None)),
        (EventType.DELETE, None),
        (EventType.PUT, ValueOwnerPair(b"3", None)),
    ]
    assert [e.revision for e in replayed] == list(range(start, start + 4))
    assert (await live.get(timeout=5)).result == ValueOwnerPair(b"3", None)
    with pytest.raises(ValueError, match="already subscribed"):
        await live.subscribe(key="a", start_revision=start)
    with pytest.raises(ValueError, match="start_revision must be a non-negative integer"):
        await kv.events(start_revision=-1)


async def test_a_compacted_start_revision_is_refused() -> None:
    service = make_service(history_max_events=2)
    async with ChannelFor([Master(service)]) as channel:
        kv = AsyncKeyValueStore(AppMasterStub(channel), address=ADDRESS, timeout=5)
        for i in range(5):
            await kv.put("a", str(i).encode())
        with pytest.raises(WatchCancelledError, match="cancelled the watch on EventFilter") as info:
            await kv.events(key="a", start_revision=1)
        assert "oldest revision in its history is" in str(info.value)
        assert info.value.compact_revision > 1
        assert info.value.reason.startswith("required revision 1 has been compacted")
        # The stream is fine: other watches still work.
        queue = await kv.events(key="a", start_revision=service.revision)
        assert (await queue.get(timeout=5)).result == ValueOwnerPair(b"4", None)
        await kv.close()


async def test_a_watch_that_falls_behind_raises_the_reason() -> None:
    service = make_service(watcher_max_events=3)
    async with ChannelFor([Master(service)]) as channel:
        kv = AsyncKeyValueStore(AppMasterStub(channel), address=ADDRESS, timeout=5)
        queue = await kv.events(prefix="k")
        other = await kv.events(key="unrelated")
        for i in range(6):  # one revision each, with no chance for the master to send
            service.store.put(Put(key=f"k{i}", value=b"x"))
        received = [(await queue.get(timeout=5)).key for _ in range(3)]
        assert received == ["k0", "k1", "k2"]  # what the watcher held when it was cancelled
        with pytest.raises(WatchCancelledError, match="fell behind") as info:
            await queue.get(timeout=5)
        assert "cancelled the watch on EventFilter(start='k'" in str(info.value)
        assert info.value.reason.startswith("watcher ")
        assert info.value.reason.endswith("events from revision 5 on were not delivered")
        with pytest.raises(ApplicationError, match="fell behind"):
            await queue.get()  # again, and at once
        assert queue.filters == frozenset()
        assert other.filters == {EventFilter(key="unrelated")}
        assert await _watchers(service, 1)
        await kv.close()


async def test_wait_for_an_existing_key(kv: AsyncKeyValueStore, service: KeyValueService) -> None:
    await kv.put("ready", b"yes", owner="svc_0")
    assert await kv.wait("ready") == b"yes"
    assert await kv.wait("ready", return_owner=True) == ValueOwnerPair(b"yes", "svc_0")
    assert await _watchers(service, 0)


async def test_wait_for_a_key_to_appear(kv: AsyncKeyValueStore, service: KeyValueService) -> None:
    waiter = asyncio.ensure_future(kv.wait("ready", return_owner=True))
    assert await _watchers(service, 1)
    await kv.put("other", b"x")
    await kv.transaction(on_success=[put("ready", b"now", owner="svc_1")])
    assert await asyncio.wait_for(waiter, 5) == ValueOwnerPair(b"now", "svc_1")
    assert await _watchers(service, 0)


async def test_wait_times_out(kv: AsyncKeyValueStore, service: KeyValueService) -> None:
    with pytest.raises(TimeoutError, match="Timed out waiting for key 'never'"):
        await kv.wait("never", timeout=0.05)
    assert await _watchers(service, 0)


async def test_collected_queues_leave_their_watches(
    kv: AsyncKeyValueStore, service: KeyValueService
) -> None:
    queue = await kv.events(prefix="a")
    await kv.events(prefix="b")  # dropped at once
    assert service.store.watcher_count == 2
    gc.collect()
    assert await _watchers(service, 1)
    del queue
    gc.collect()
    assert await _watchers(service, 0)


async def _broken(
    master: Master, kv: AsyncKeyValueStore, error: GRPCError | None
) -> AsyncEventQueue:
    queue = await kv.events()
    await kv.put("a", b"1")
    master.break_watches(error)
    return queue


async def test_stream_failure_reaches_every_queue(kv: AsyncKeyValueStore, master: Master) -> None:
    other = await kv.events(key="z")
    queue = await _broken(master, kv, GRPCError(Status.UNAVAILABLE, "master going away"))
    assert (await queue.get(timeout=5)).key == "a"  # what came before the failure first
    for _ in range(2):
        with pytest.raises(ConnectionError, match=f"Unable to connect to application at {ADDRESS}"):
            await queue.get(timeout=5)
    with pytest.raises(ConnectionError, match="master going away"):
        await other.get(timeout=5)
    assert other.filters == frozenset()
    with pytest.raises(ConnectionError):
        await other.subscribe(key="again")


async def test_other_stream_errors_are_application_errors(
    kv: AsyncKeyValueStore, master: Master
) -> None:
    queue = await _broken(master, kv, GRPCError(Status.INTERNAL, "boom"))
    await queue.get(timeout=5)
    with pytest.raises(ApplicationError, match=r"^boom$"):
        await queue.get(timeout=5)


async def test_a_stream_the_master_ends_is_a_connection_error(
    kv: AsyncKeyValueStore, master: Master
) -> None:
    queue = await _broken(master, kv, None)
    await queue.get(timeout=5)
    with pytest.raises(ConnectionError, match="the watch stream ended"):
        await queue.get(timeout=5)


async def test_a_new_subscription_opens_a_new_stream(
    kv: AsyncKeyValueStore, master: Master, service: KeyValueService
) -> None:
    queue = await _broken(master, kv, GRPCError(Status.UNAVAILABLE))
    await queue.get(timeout=5)
    with pytest.raises(ConnectionError):
        await queue.get(timeout=5)
    fresh = await kv.events(key="b")
    assert master.watch_streams == 2
    await kv.put("b", b"2")
    assert (await fresh.get(timeout=5)).result == ValueOwnerPair(b"2", None)


async def test_close_ends_every_queue(kv: AsyncKeyValueStore, service: KeyValueService) -> None:
    queue = await kv.events()
    await kv.close()
    with pytest.raises(
        ConnectionError, match=r"key-value store of the application at .* is closed"
    ):
        await queue.get(timeout=5)
    with pytest.raises(ConnectionError, match="is closed"):
        await kv.events()
    assert await _watchers(service, 0)
    await kv.close()  # idempotent
