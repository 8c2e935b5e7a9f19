"""The bounded event history keeps whole, recent revisions."""

from __future__ import annotations

from skein.kvstore import Event, EventType, KeyValue
from skein.kvstore.history import History
from skein.kvstore.limits import EVENT_OVERHEAD_BYTES, event_size


def revision_events(revision: int, count: int, value: bytes = b"") -> list[Event]:
    return [
        Event(type=EventType.PUT, kv=KeyValue(key=f"k{i}", value=value), revision=revision)
        for i in range(count)
    ]


def test_a_fresh_history_starts_at_revision_1() -> None:
    history = History(max_events=10, max_bytes=10_000)
    assert history.oldest_revision == 1
    assert history.since(1) == []


def test_keeps_everything_within_bounds() -> None:
    history = History(max_events=5, max_bytes=10_000)
    history.append(revision_events(2, 2))
    history.append(revision_events(3, 3))
    assert len(history) == 5
    assert history.oldest_revision == 1
    assert [e.revision for e in history.since(3)] == [3, 3, 3]
    assert [e.revision for e in history.since(0)] == [2, 2, 3, 3, 3]


def test_drops_whole_oldest_revisions_past_the_count() -> None:
    history = History(max_events=4, max_bytes=10_000)
    history.append(revision_events(2, 2))
    history.append(revision_events(3, 2))
    history.append(revision_events(4, 1))  # 5 > 4: revision 2 goes, whole
    assert history.oldest_revision == 3
    assert [e.revision for e in history.since(1)] == [3, 3, 4]


def test_one_revision_larger_than_the_bound_is_dropped_whole() -> None:
    history = History(max_events=3, max_bytes=10_000)
    history.append(revision_events(2, 1))
    history.append(revision_events(3, 5))
    assert len(history) == 0
    assert history.oldest_revision == 4


def test_drops_revisions_past_the_byte_bound() -> None:
    size = event_size(revision_events(2, 1, b"x" * 100)[0])
    assert size == 2 + 100 + EVENT_OVERHEAD_BYTES
    history = History(max_events=1000, max_bytes=2 * size)
    history.append(revision_events(2, 1, b"x" * 100))
    history.append(revision_events(3, 1, b"x" * 100))
    assert history.oldest_revision == 1
    history.append(revision_events(4, 1, b"x" * 100))
    assert history.oldest_revision == 3
    assert [e.revision for e in history.since(0)] == [3, 4]
