"""The blocking queue of key-value events: Skein 0.8's ``EventQueue``.

A facade: each method runs the matching coroutine of an
:class:`~skein.kv.AsyncEventQueue` on the store's background event loop,
where the watch stream delivers the events.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, final

from skein.kv.async_event_queue import AsyncEventQueue
from skein.kv.events import Event, EventFilter, EventType

if TYPE_CHECKING:
    from skein.client.background_loop import BackgroundLoop

__all__ = ["EventQueue"]


async def _filters(events: AsyncEventQueue) -> frozenset[EventFilter]:
    return events.filters


@final
class EventQueue:
    """A queue of the events that match the filters it is subscribed to.

    Besides ``get`` and ``put`` it supports iteration (for ever, or until the
    stream fails). An event that matches several of the queue's filters is
    put in once per filter. Leaving the ``with`` block, or the queue being
    garbage collected, unsubscribes every filter.

    Made by :meth:`KeyValueStore.event_queue <skein.kv.KeyValueStore.event_queue>`
    and :meth:`~skein.kv.KeyValueStore.events`.

    Example:
        >>> with app.kv.events(prefix="jobs/") as queue:  # doctest: +SKIP
        ...     for event in queue:
        ...         print(event.event_type, event.key)
    """

    def __init__(self, events: AsyncEventQueue, loop: BackgroundLoop) -> None:
        self._async = events
        self._loop = loop

    def __repr__(self) -> str:
        return f"EventQueue<{len(self.filters)} filters>"

    @property
    def filters(self) -> frozenset[EventFilter]:
        """The filters the queue is subscribed to (none once the client is closed)."""
        if self._loop.closed:
            return frozenset()
        return self._loop.run(_filters(self._async))

    def subscribe(
        self,
        event_filter: EventFilter | None = None,
        key: str | None = None,
        prefix: str | None = None,
        start: str | None = None,
        end: str | None = None,
        event_type: EventType | str | None = None,
        *,
        start_revision: int = 0,
    ) -> EventFilter:
        """Subscribe to a filter, and return it once the master watches it.

        Give an :class:`EventFilter` or the arguments to make one (none: every
        event); subscribing again to one of the queue's filters does nothing.
        See :meth:`AsyncEventQueue.subscribe <skein.kv.AsyncEventQueue.subscribe>`.

        Example:
            >>> queue.subscribe(key="ready", event_type="PUT")  # doctest: +SKIP
            EventFilter(start='ready', end='ready\\x00', event_type=EventType.PUT)
        """
        return self._loop.run(
            self._async.subscribe(
                event_filter, key, prefix, start, end, event_type, start_revision=start_revision
            )
        )

    def unsubscribe(
        self,
        event_filter: EventFilter | None = None,
        key: str | None = None,
        prefix: str | None = None,
        start: str | None = None,
        end: str | None = None,
        event_type: EventType | str | None = None,
    ) -> EventFilter:
        """Unsubscribe from a filter, given as for :meth:`subscribe`, and return it.

        Raises:
            ValueError: the queue is not subscribed to the filter.
        """
        return self._loop.run(
            self._async.unsubscribe(event_filter, key, prefix, start, end, event_type)
        )

    def unsubscribe_all(self) -> None:
        """Unsubscribe from every filter."""
        self._loop.run(self._async.unsubscribe_all())

    def get(self, block: bool = True, timeout: float | None = None) -> Event:
        """Remove and return the next event (as ``queue.Queue.get``).

        Args:
            block: wait for an event if there is none.
            timeout: with ``block``, seconds to wait at most (None: for ever).

        Raises:
            queue.Empty: no event (within ``timeout``).
            skein.errors.ConnectionError: the watch stream failed (raised again by every call).
            skein.errors.WatchCancelledError: the master cancelled one of the
                queue's watches, e.g. because it fell behind (raised again by every call).

        Example:
            >>> event = queue.get(timeout=10)  # doctest: +SKIP
        """
        if timeout is not None and timeout < 0:
            raise ValueError("'timeout' must be a non-negative number")
        event = self._loop.run(self._async._next(timeout if block else 0))
        if event is None:
            raise queue.Empty
        return event

    def get_nowait(self) -> Event:
        """``get(block=False)``."""
        return self.get(block=False)

    def put(
        self, item: Event | Exception, block: bool = True, timeout: float | None = None
    ) -> None:
        """Put an event in the queue (an exception is raised by the ``get`` that takes it).

        The queue is unbounded, so ``block`` and ``timeout`` (kept from
        ``queue.Queue.put``) never matter.
        """
        self._loop.run(self._async.put(item))

    def __iter__(self) -> Iterator[Event]:
        while True:
            yield self.get()

    def __enter__(self) -> EventQueue:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._loop.closed:  # a closed client has already dropped every watch
            self.unsubscribe_all()
