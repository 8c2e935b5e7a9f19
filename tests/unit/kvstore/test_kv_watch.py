"""Watchers: filters, replay from history, compaction, overflow, cancellation, notify."""

from __future__ import annotations

import pytest

from skein.kvstore import (
    DeleteRange,
    Event,
    EventType,
    KeyRange,
    KeyValueError,
    Owner,
    Put,
    Store,
    Watcher,
)
from skein.kvstore.limits import EVENT_OVERHEAD_BYTES


def seen(events: list[Event]) -> list[tuple[str, str, int]]:
    return [(e.type.value, e.kv.key, e.revision) for e in events]


def put(store: Store, key: str, value: bytes = b"v") -> int:
    return store.put(Put(key=key, value=value)).revision


def test_a_watcher_sees_changes_in_its_range_after_creation() -> None:
    store = Store()
    put(store, "a/0")
    watcher = store.watch(KeyRange.prefix("a/"))
    assert watcher.id == 1
    assert watcher.start_revision == 0
    assert watcher.pending == 0
    put(store, "a/1")
    put(store, "b")
    store.delete_range(KeyRange())
    assert watcher.pending == 3
    assert seen(watcher.take()) == [
        ("PUT", "a/1", 3),
        ("DELETE", "a/0", 5),
        ("DELETE", "a/1", 5),
    ]
    assert watcher.pending == 0
    assert watcher.take() == []


def test_event_type_filters() -> None:
    store = Store()
    puts = store.watch(KeyRange(), event_type=EventType.PUT)
    deletes = store.watch(KeyRange(), event_type=EventType.DELETE)
    put(store, "a")
    store.delete_range(KeyRange.single("a"))
    assert seen(puts.take()) == [("PUT", "a", 2)]
    assert seen(deletes.take()) == [("DELETE", "a", 3)]


def test_single_key_watchers_see_only_their_key() -> None:
    store = Store()
    watcher = store.watch(KeyRange.single("a"))
    for key in ["a", "a\0", "a/", "b", "\0"]:
        put(store, key)  # revisions 2..6
    put(store, "a", b"again")
    assert seen(watcher.take()) == [("PUT", "a", 2), ("PUT", "a", 7)]


def test_a_key_reaches_each_matching_watcher_once() -> None:
    store = Store()
    watchers = [
        store.watch(KeyRange.single("a")),
        store.watch(KeyRange.single("a")),
        store.watch(KeyRange.prefix("")),
        store.watch(KeyRange("a", "b")),
        store.watch(KeyRange("b", "c")),
    ]
    put(store, "a")
    assert [len(w.take()) for w in watchers] == [1, 1, 1, 1, 0]


def test_the_events_of_a_transaction_reach_a_watcher_together() -> None:
    store = Store()
    calls: list[int] = []
    watcher = store.watch(KeyRange(), notify=lambda w: calls.append(w.pending))
    store.transaction([], [Put(key="a"), Put(key="b"), DeleteRange(keys=KeyRange.single("a"))])
    assert calls == [3]
    assert seen(watcher.take()) == [("PUT", "a", 2), ("PUT", "b", 2), ("DELETE", "a", 2)]


def test_notify_is_called_only_for_matching_watchers() -> None:
    store = Store()
    woken: list[int] = []
    a = store.watch(KeyRange.single("a"), notify=lambda w: woken.append(w.id))
    b = store.watch(KeyRange.prefix("b"), notify=lambda w: woken.append(w.id))
    put(store, "a")
    put(store, "c")
    put(store, "b1")
    assert woken == [a.id, b.id]


def test_release_owner_events_reach_watchers() -> None:
    store = Store()
    owner = Owner("w", 0)
    store.put(Put(key="x", owner=owner))
    store.put(Put(key="y", owner=owner))
    watcher = store.watch(KeyRange(), event_type=EventType.DELETE)
    store.release_owner(owner)
    assert seen(watcher.take()) == [("DELETE", "x", 4), ("DELETE", "y", 4)]


def test_cancel_stops_events_and_drops_pending_ones() -> None:
    store = Store()
    woken: list[Watcher] = []
    watcher = store.watch(KeyRange(), notify=woken.append)
    put(store, "a")
    assert store.watcher_count == 1
    store.cancel_watch(watcher)
    store.cancel_watch(watcher)  # idempotent
    assert store.watcher_count == 0
    assert watcher.canceled
    assert watcher.cancel_reason == ""
    assert watcher.take() == []
    put(store, "b")
    assert watcher.take() == []
    assert woken == [watcher]  # only for "a"


def test_watcher_ids_are_unique() -> None:
    store = Store()
    ids = [store.watch(KeyRange()).id for _ in range(3)]
    assert ids == [1, 2, 3]


# -- replay and compaction -------------------------------------------------------------


def test_start_revision_replays_history_then_goes_live() -> None:
    store = Store()
    put(store, "a")  # 2
    put(store, "b")  # 3
    store.delete_range(KeyRange.single("a"))  # 4
    woken: list[Watcher] = []
    watcher = store.watch(KeyRange(), start_revision=3, notify=woken.append)
    assert woken == []  # replayed events do not notify
    assert watcher.pending == 2
    put(store, "c")  # 5
    assert seen(watcher.take()) == [("PUT", "b", 3), ("DELETE", "a", 4), ("PUT", "c", 5)]
    assert woken == [watcher]


def test_replay_applies_the_filters() -> None:
    store = Store()
    put(store, "a")
    put(store, "b")
    store.delete_range(KeyRange())
    watcher = store.watch(KeyRange.single("b"), event_type=EventType.DELETE, start_revision=1)
    assert seen(watcher.take()) == [("DELETE", "b", 4)]


def test_a_future_start_revision_skips_earlier_events() -> None:
    store = Store()
    watcher = store.watch(KeyRange(), start_revision=4)
    put(store, "a")  # 2
    put(store, "b")  # 3
    put(store, "c")  # 4
    assert seen(watcher.take()) == [("PUT", "c", 4)]


def test_a_compacted_start_revision_cancels_the_watch() -> None:
    store = Store(history_max_events=2)
    for key in "abcd":
        put(store, key)  # revisions 2..5; the history keeps 4 and 5
    assert store.oldest_revision == 4
    watcher = store.watch(KeyRange(), start_revision=3)
    assert watcher.canceled
    assert watcher.compact_revision == 4
    assert watcher.cancel_reason == (
        "required revision 3 has been compacted; the oldest revision available is 4"
    )
    assert store.watcher_count == 0
    ok = store.watch(KeyRange(), start_revision=4)
    assert not ok.canceled
    put(store, "e")
    assert watcher.take() == []
    assert seen(ok.take()) == [("PUT", "c", 4), ("PUT", "d", 5), ("PUT", "e", 6)]


def test_a_negative_start_revision_is_rejected() -> None:
    with pytest.raises(KeyValueError, match="start_revision must be >= 0, got -1"):
        Store().watch(KeyRange(), start_revision=-1)


# -- overflow --------------------------------------------------------------------------


def test_a_watcher_that_falls_behind_is_cancelled_and_writers_go_on() -> None:
    store = Store(watcher_max_events=3)
    woken: list[Watcher] = []
    slow = store.watch(KeyRange(), notify=woken.append)
    fast = store.watch(KeyRange())
    for key in "abc":
        put(store, key)
        fast.take()
    assert (slow.pending, slow.cancel_reason) == (3, "")
    put(store, "d")  # revision 5 would make 4 unread
    assert slow.canceled
    assert slow.cancel_reason == (
        f"watcher {slow.id} fell behind: more than 3 unread events; "
        "events from revision 5 on were not delivered"
    )
    assert woken[-1] is slow
    assert store.watcher_count == 1
    # What it held is still there, whole revisions only.
    assert seen(slow.take()) == [("PUT", "a", 2), ("PUT", "b", 3), ("PUT", "c", 4)]
    put(store, "e")
    assert slow.take() == []
    assert seen(fast.take()) == [("PUT", "d", 5), ("PUT", "e", 6)]


def test_overflow_by_bytes() -> None:
    size = 1 + 10 + EVENT_OVERHEAD_BYTES
    store = Store(watcher_max_bytes=2 * size)
    watcher = store.watch(KeyRange())
    put(store, "a", b"x" * 10)
    put(store, "b", b"x" * 10)
    assert (watcher.pending, watcher.cancel_reason) == (2, "")
    put(store, "c", b"x" * 10)
    assert watcher.canceled
    assert f"more than {2 * size} bytes of unread events" in watcher.cancel_reason


def test_an_empty_buffer_takes_a_transaction_larger_than_the_bound() -> None:
    store = Store(watcher_max_events=2)
    watcher = store.watch(KeyRange())
    store.transaction([], [Put(key=k) for k in "abcde"])
    assert not watcher.canceled
    assert watcher.pending == 5
    put(store, "f")
    assert watcher.canceled


def test_a_reader_that_keeps_up_is_never_cancelled() -> None:
    store = Store(watcher_max_events=2)
    watcher = store.watch(KeyRange())
    for i in range(20):
        put(store, f"k{i}")
        put(store, f"k{i}")
        assert len(watcher.take()) == 2
    assert not watcher.canceled


def test_a_replay_larger_than_the_bound_is_kept() -> None:
    store = Store(watcher_max_events=2)
    for key in "abcd":
        put(store, key)
    watcher = store.watch(KeyRange(), start_revision=1)
    assert not watcher.canceled
    assert watcher.pending == 4
