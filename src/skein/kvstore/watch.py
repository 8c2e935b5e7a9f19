"""Watchers: who wants to hear about which changes, with bounded buffers.

Theory of operation. :meth:`Store.watch <skein.kvstore.store.Store.watch>`
makes a :class:`Watcher` for a key range, an optional event type and an
optional start revision. If the start revision is in the past the watcher's
buffer is first filled from the store's history; then, every time a request
or transaction commits, :class:`WatcherGroup` offers each watcher the events
of that revision it matches, all at once. The consumer (the gRPC layer)
drains the buffer with :meth:`Watcher.take`; the store calls the watcher's
``notify`` callback whenever there is something new to take.

Writers never wait for readers. A watcher whose unread events would pass its
bound (a count and a byte size) is cancelled instead: it is removed from the
group, keeps the events it already holds (whole revisions, so a client can
resume from the first revision it missed) and says why in
:attr:`Watcher.cancel_reason`.

Finding watchers is cheap: single-key watchers are found by a dict lookup on
the changed key; only range watchers are scanned per event. A watcher hears
about an event once, however many ways it matches.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import final

from skein.kvstore.keys import KeyRange
from skein.kvstore.limits import event_size
from skein.kvstore.records import Event, EventType

__all__ = ["NotifyCallback", "Watcher", "WatcherGroup"]

NotifyCallback = Callable[["Watcher"], None]
"""Called, synchronously and inside the store's call, when a watcher has news.

It must be quick and must not raise, nor call back into the store: the usual
one sets an ``asyncio.Event`` that wakes the task that drains the watcher.
"""


@final
class Watcher:
    """Events of a key range, from a revision on, waiting to be taken.

    Made by :meth:`Store.watch <skein.kvstore.store.Store.watch>`, not directly.

    Example:
        >>> from skein.kvstore import KeyRange, Put, Store
        >>> store = Store()
        >>> watcher = store.watch(KeyRange.prefix("a/"))
        >>> _ = store.put(Put(key="a/1", value=b"x"))
        >>> [(e.type.value, e.kv.key, e.revision) for e in watcher.take()], watcher.take()
        ([('PUT', 'a/1', 2)], [])
    """

    __slots__ = (
        "_buffer",
        "_buffer_bytes",
        "_cancel_reason",
        "_canceled",
        "_compact_revision",
        "_event_type",
        "_id",
        "_keys",
        "_max_bytes",
        "_max_events",
        "_notify",
        "_start_revision",
    )

    def __init__(
        self,
        *,
        watch_id: int,
        keys: KeyRange,
        event_type: EventType | None,
        start_revision: int,
        max_events: int,
        max_bytes: int,
        notify: NotifyCallback | None,
    ) -> None:
        self._id = watch_id
        self._keys = keys
        self._event_type = event_type
        self._start_revision = start_revision
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._notify = notify
        self._buffer: list[Event] = []
        self._buffer_bytes = 0
        self._canceled = False
        self._cancel_reason = ""
        self._compact_revision = 0

    def __repr__(self) -> str:
        state = f"canceled {self._cancel_reason!r}" if self._canceled else "live"
        return f"<Watcher {self._id} {self._keys} {state}, {len(self._buffer)} pending>"

    @property
    def id(self) -> int:
        """The watcher's id, unique in its store (the first is 1)."""
        return self._id

    @property
    def keys(self) -> KeyRange:
        """The keys watched."""
        return self._keys

    @property
    def event_type(self) -> EventType | None:
        """The one type of event watched, or None for both."""
        return self._event_type

    @property
    def start_revision(self) -> int:
        """Events before this revision are not delivered (0: from creation on)."""
        return self._start_revision

    @property
    def pending(self) -> int:
        """How many events wait to be taken."""
        return len(self._buffer)

    @property
    def canceled(self) -> bool:
        """Whether the watcher ended; the events it still holds can be taken."""
        return self._canceled

    @property
    def cancel_reason(self) -> str:
        """Why the store cancelled the watcher ("" if live or cancelled by its user)."""
        return self._cancel_reason

    @property
    def compact_revision(self) -> int:
        """If the start revision was no longer in the history: the oldest one that is."""
        return self._compact_revision

    def matches(self, event: Event) -> bool:
        """Whether the watcher wants ``event``."""
        return (
            (self._event_type is None or event.type is self._event_type)
            and event.revision >= self._start_revision
            and self._keys.contains(event.kv.key)
        )

    def take(self) -> list[Event]:
        """Remove and return the pending events, oldest first."""
        events, self._buffer = self._buffer, []
        self._buffer_bytes = 0
        return events

    def _offer(self, events: list[Event], size: int) -> None:
        # An empty buffer takes any batch: a reader that keeps up must not be
        # cancelled because one transaction changed more keys than the bound.
        if self._buffer:
            if len(self._buffer) + len(events) > self._max_events:
                self._fall_behind(f"more than {self._max_events} unread events", events)
                return
            if self._buffer_bytes + size > self._max_bytes:
                self._fall_behind(f"more than {self._max_bytes} bytes of unread events", events)
                return
        self._buffer.extend(events)
        self._buffer_bytes += size

    def _fall_behind(self, why: str, missed: list[Event]) -> None:
        self._cancel(
            f"watcher {self._id} fell behind: {why}; "
            f"events from revision {missed[0].revision} on were not delivered"
        )

    def _cancel(self, reason: str, *, compact_revision: int = 0) -> None:
        self._canceled = True
        self._cancel_reason = reason
        self._compact_revision = compact_revision

    def _close(self) -> None:
        self._canceled = True
        self.take()

    def _wake(self) -> None:
        if self._notify is not None:
            self._notify(self)


@final
class WatcherGroup:
    """The live watchers of a store, indexed for dispatch.

    Example:
        >>> group = WatcherGroup()
        >>> len(group), group.next_id(), group.next_id()
        (0, 1, 2)
    """

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        # Watchers of one key, by key then id; ids keep dispatch order stable.
        self._by_key: dict[str, dict[int, Watcher]] = {}
        self._ranges: dict[int, Watcher] = {}

    def __len__(self) -> int:
        return len(self._ranges) + sum(map(len, self._by_key.values()))

    def next_id(self) -> int:
        """A new watcher id."""
        return next(self._ids)

    def add(self, watcher: Watcher) -> None:
        """Start offering events to ``watcher``."""
        key = watcher.keys.single_key
        if key is None:
            self._ranges[watcher.id] = watcher
        else:
            self._by_key.setdefault(key, {})[watcher.id] = watcher

    def remove(self, watcher: Watcher) -> None:
        """Stop offering events to ``watcher`` (no error if it is not there)."""
        key = watcher.keys.single_key
        if key is None:
            self._ranges.pop(watcher.id, None)
            return
        watchers = self._by_key.get(key)
        if watchers is not None:
            watchers.pop(watcher.id, None)
            if not watchers:
                del self._by_key[key]

    def dispatch(self, events: Sequence[Event]) -> None:
        """Offer the events of one revision to every watcher they match, then notify."""
        batches: dict[Watcher, list[Event]] = {}
        batch_bytes: dict[Watcher, int] = {}
        for event in events:
            size = -1  # computed once, only if some watcher wants the event
            key = event.kv.key
            by_key = self._by_key.get(key)
            candidates = itertools.chain(by_key.values() if by_key else (), self._ranges.values())
            for watcher in candidates:
                if watcher.matches(event):
                    if size < 0:
                        size = event_size(event)
                    batches.setdefault(watcher, []).append(event)
                    batch_bytes[watcher] = batch_bytes.get(watcher, 0) + size
        for watcher, batch in batches.items():
            watcher._offer(batch, batch_bytes[watcher])
            if watcher.canceled:
                self.remove(watcher)
        for watcher in batches:
            watcher._wake()
