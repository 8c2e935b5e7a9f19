"""The bounded history of recent events, from which watches replay past revisions.

The history keeps whole revisions: when it must drop events to stay within
its bounds it drops the oldest revisions entirely, so a watch that starts at
a revision still held sees every event of it. :attr:`History.oldest_revision`
is the first revision it still holds completely; a watch that asks for an
older one is cancelled with that revision as its ``compact_revision`` (etcd's
"required revision has been compacted").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import final

from skein.kvstore.limits import event_size
from skein.kvstore.records import Event

__all__ = ["History"]


@final
class History:
    """The last events of the store, bounded by count and by bytes.

    Args:
        max_events: how many events to keep at most.
        max_bytes: how many bytes of events (:func:`~skein.kvstore.limits.event_size`)
            to keep at most.

    Example:
        >>> from skein.kvstore.records import EventType, KeyValue
        >>> history = History(max_events=2, max_bytes=1 << 20)
        >>> for revision in (2, 3, 4):
        ...     kv = KeyValue(key="k", mod_revision=revision)
        ...     history.append([Event(type=EventType.PUT, kv=kv, revision=revision)])
        >>> history.oldest_revision, [event.revision for event in history.since(1)]
        (3, [3, 4])
    """

    def __init__(self, *, max_events: int, max_bytes: int) -> None:
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._events: deque[tuple[Event, int]] = deque()
        self._bytes = 0
        # Revision 1 is the empty store, so nothing before 2 was ever dropped.
        self._oldest_revision = 1

    def __len__(self) -> int:
        return len(self._events)

    @property
    def oldest_revision(self) -> int:
        """The oldest revision whose events are all still held."""
        return self._oldest_revision

    def append(self, events: Sequence[Event]) -> None:
        """Add the events of one revision, newer than any held, then trim to the bounds."""
        for event in events:
            size = event_size(event)
            self._events.append((event, size))
            self._bytes += size
        while self._events and (
            len(self._events) > self._max_events or self._bytes > self._max_bytes
        ):
            self._drop_oldest_revision()

    def since(self, revision: int) -> list[Event]:
        """The held events at ``revision`` or later, oldest first."""
        # Watches mostly resume from a recent revision: walk back from the newest.
        newer: list[Event] = []
        for event, _ in reversed(self._events):
            if event.revision < revision:
                break
            newer.append(event)
        newer.reverse()
        return newer

    def _drop_oldest_revision(self) -> None:
        revision = self._events[0][0].revision
        while self._events and self._events[0][0].revision == revision:
            _, size = self._events.popleft()
            self._bytes -= size
        self._oldest_revision = revision + 1
