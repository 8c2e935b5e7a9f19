"""KeyValueStore and EventQueue, the blocking facade, with the master on the background loop."""

from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict
from collections.abc import MutableMapping

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from skein.errors import ConnectionError, TimeoutError
from skein.kv import (
    EventFilter,
    EventQueue,
    EventType,
    KeyValueStore,
    TransactionResult,
    ValueOwnerPair,
    exists,
    get,
    put,
    value,
)
from skein.kvstore import Owner

from .conftest import Blocking


@pytest.fixture
def kv(blocking: Blocking) -> KeyValueStore:
    return blocking.kv


def test_is_a_mutable_mapping(kv: KeyValueStore) -> None:
    assert isinstance(kv, MutableMapping)
    kv["b"] = b"2"
    kv["a"] = b"1"
    assert kv["a"] == b"1"
    assert "a" in kv
    assert "z" not in kv
    assert len(kv) == 2
    assert list(kv) == ["a", "b"]
    assert dict(kv) == {"a": b"1", "b": b"2"}
    assert list(kv.items()) == [("a", b"1"), ("b", b"2")]
    assert list(kv.values()) == [b"1", b"2"]
    assert kv == {"a": b"1", "b": b"2"}
    del kv["a"]
    with pytest.raises(KeyError, match="'a'"):
        kv["a"]
    with pytest.raises(KeyError, match="'a'"):
        del kv["a"]
    kv.clear()
    assert len(kv) == 0
    assert repr(kv) == "KeyValueStore<master.test:8765>"


def test_mapping_type_checks(kv: KeyValueStore) -> None:
    with pytest.raises(TypeError, match="value must be a bytes"):
        kv["a"] = "text"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="key must be a string"):
        kv[1] = b"x"  # type: ignore[index]
    with pytest.raises(TypeError, match="key must be a string"):
        kv[b"a"]  # type: ignore[index]
    with pytest.raises(TypeError, match="key must be a string"):
        1 in kv  # type: ignore[comparison-overlap]  # noqa: B015


def test_setdefault_update_and_pop(kv: KeyValueStore) -> None:
    assert kv.setdefault("a", b"1") == b"1"
    assert kv.setdefault("a", b"2") == b"1"
    kv.update({"b": b"2"}, c=b"3")
    kv.update([("d", b"4")])
    assert kv.get_range() == OrderedDict(a=b"1", b=b"2", c=b"3", d=b"4")
    assert kv.pop("a") == b"1"
    assert kv.pop("a") is None  # Skein's pop: no KeyError
    assert kv.pop("a", b"x") == b"x"
    assert kv.pop("b", return_owner=True) == ValueOwnerPair(b"2", None)


def test_every_operation(kv: KeyValueStore) -> None:
    kv.put("w/0", b"a", owner="svc_0")
    kv.put("w/1", b"b")
    assert kv.count() == 2
    assert kv.count(prefix="w/") == 2
    assert kv.list_keys("w/1") == ["w/1"]
    assert kv.exists("w/0")
    assert kv.missing("w/2")
    assert kv.get("w/0", return_owner=True) == ValueOwnerPair(b"a", "svc_0")
    assert kv.get("w/9", b"d") == b"d"
    assert kv.get_prefix("w/", return_owner=True)["w/0"].owner == "svc_0"
    assert kv.get_range("w/1", None) == OrderedDict([("w/1", b"b")])
    meta = kv.get_metadata("w/0")
    assert meta is not None
    assert (meta.value, meta.owner, meta.version) == (b"a", "svc_0", 1)
    assert kv.swap("w/0", owner=None, return_owner=True) == ValueOwnerPair(b"a", "svc_0")
    assert kv.swap("w/0", b"c") == b"a"
    assert kv.pop_prefix("w/") == OrderedDict([("w/0", b"c"), ("w/1", b"b")])
    kv.update(a=b"1", b=b"2", c=b"3")
    assert kv.pop_range("a", "b") == OrderedDict(a=b"1")
    assert kv.discard("b")
    assert not kv.discard("b")
    kv.update(b=b"2")
    assert kv.discard_prefix("b", return_keys=True) == ["b"]
    assert kv.discard_range(return_keys=False) == 1


def test_errors_from_the_master(kv: KeyValueStore) -> None:
    with pytest.raises(ValueError, match=r"^ignore_value=True & key isn't already set$"):
        kv.put("a", owner="svc_0")
    with pytest.raises(ValueError, match=r"^Unknown service 'web'$"):
        kv.put("a", b"1", owner="web_0")
    with pytest.raises(ValueError, match="Must specify 'value', 'owner', or both"):
        kv.put("a")


def test_transactions(kv: KeyValueStore) -> None:
    result = kv.transaction(
        conditions=[exists("a")], on_success=[get("a")], on_failure=[put("a", b"1")]
    )
    assert result == TransactionResult(False, [None])
    assert kv.transaction([value("a") == b"1"], [get("a")]) == TransactionResult(True, [b"1"])
    with pytest.raises(TypeError, match="on_success must be a sequence of Operation"):
        kv.transaction(on_success=[exists("a"), value("a") == b"1"])  # type: ignore[list-item]


def test_events(kv: KeyValueStore, blocking: Blocking) -> None:
    with kv.events(prefix="jobs/") as events:
        assert isinstance(events, EventQueue)
        assert events.filters == {EventFilter(prefix="jobs/")}
        assert repr(events) == "EventQueue<1 filters>"
        kv["jobs/1"] = b"x"
        del kv["jobs/1"]
        first = events.get(timeout=5)
        second = events.get()
        assert (first.key, first.event_type, first.result) == (
            "jobs/1",
            EventType.PUT,
            ValueOwnerPair(b"x", None),
        )
        assert (second.event_type, second.result) == (EventType.DELETE, None)
        assert second.revision == first.revision + 1
        with pytest.raises(queue.Empty):
            events.get(block=False)
        with pytest.raises(queue.Empty):
            events.get_nowait()
        with pytest.raises(queue.Empty):
            events.get(timeout=0.01)
        with pytest.raises(ValueError, match="non-negative"):
            events.get(timeout=-1)
    assert events.filters == frozenset()
    assert blocking.call(lambda: blocking.master.kv.store.watcher_count) == 0


def test_subscriptions(kv: KeyValueStore) -> None:
    events = kv.event_queue()
    f = events.subscribe(key="a", event_type="PUT")
    assert f == EventFilter(key="a", event_type=EventType.PUT)
    assert events.subscribe(f) is f
    events.subscribe(prefix="")
    kv["a"] = b"1"
    got = {events.get(timeout=5).event_filter, events.get(timeout=5).event_filter}
    assert got == {f, EventFilter()}
    assert events.unsubscribe(key="a", event_type="put") == f
    with pytest.raises(ValueError, match="not currently subscribed"):
        events.unsubscribe(f)
    events.unsubscribe_all()
    assert events.filters == frozenset()


def test_iteration_and_put(kv: KeyValueStore) -> None:
    events = kv.events(key="n")
    for i in range(3):
        kv["n"] = str(i).encode()
    values = []
    for event in events:
        assert event.result is not None
        values.append(event.result.value)
        if len(values) == 3:
            break
    assert values == [b"0", b"1", b"2"]
    events.put(RuntimeError("done"))
    with pytest.raises(RuntimeError, match="done"):
        next(iter(events))


def test_owner_completion_deletes_and_notifies(kv: KeyValueStore, blocking: Blocking) -> None:
    events = kv.events(event_type="DELETE")
    kv.put("lease", b"x", owner="svc_2")
    blocking.call(blocking.master.kv.release_owner, Owner("svc", 2))
    assert events.get(timeout=5).key == "lease"
    assert "lease" not in kv


def test_wait_blocks_until_another_thread_puts(kv: KeyValueStore) -> None:
    def later() -> None:
        time.sleep(0.05)
        kv.put("ready", b"go", owner="svc_0")

    thread = threading.Thread(target=later)
    thread.start()
    assert kv.wait("ready", return_owner=True) == ValueOwnerPair(b"go", "svc_0")
    thread.join()
    assert kv.wait("ready") == b"go"
    with pytest.raises(TimeoutError, match="Timed out waiting for key 'never'"):
        kv.wait("never", timeout=0.05)


def test_stream_failure_is_raised_on_every_get(kv: KeyValueStore, blocking: Blocking) -> None:
    events = kv.events()
    blocking.call(blocking.master.break_watches, GRPCError(Status.UNAVAILABLE, "gone"))
    for _ in range(3):
        with pytest.raises(ConnectionError, match="Unable to connect to application at"):
            events.get(timeout=5)
    with kv.events(key="a") as fresh:  # a new stream
        kv["a"] = b"1"
        assert fresh.get(timeout=5).key == "a"


def test_dropped_queues_are_unsubscribed(kv: KeyValueStore, blocking: Blocking) -> None:
    kv.events(prefix="x")
    deadline = time.monotonic() + 5
    while (
        blocking.call(lambda: blocking.master.kv.store.watcher_count)
        and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    assert blocking.call(lambda: blocking.master.kv.store.watcher_count) == 0


def test_a_closed_store_leaves_the_with_block_quietly(blocking: Blocking) -> None:
    events = blocking.kv.events()
    events.__enter__()
    blocking.close()
    events.__exit__(None, None, None)
    assert repr(events) == "EventQueue<0 filters>"
    blocking.close = lambda: None  # type: ignore[method-assign]
