"""The asyncio queue of key-value events, subscribed to filters of one store.

Made by :meth:`AsyncKeyValueStore.event_queue <skein.kv.AsyncKeyValueStore.event_queue>`
or :meth:`~skein.kv.AsyncKeyValueStore.events`. The store's
:class:`~skein.kv.watch_stream.WatchStream` puts events into it; an error
put into it (the stream failed, or the master cancelled a watch) is raised by
the ``get`` that reaches it and by every ``get`` after.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from types import TracebackType
from typing import TYPE_CHECKING, final

from skein.errors import TimeoutError
from skein.kv.events import Event, EventFilter, EventType

if TYPE_CHECKING:
    from skein.kv.watch_stream import WatchStream

__all__ = ["AsyncEventQueue", "build_filter"]


def build_filter(
    event_filter: EventFilter | None,
    key: str | None,
    prefix: str | None,
    start: str | None,
    end: str | None,
    event_type: EventType | str | None,
) -> EventFilter:
    """The filter given explicitly, or made of the other arguments (Skein 0.8's rules).

    Raises:
        ValueError: ``event_filter`` together with another argument.
        TypeError: ``event_filter`` is not an :class:`EventFilter`.

    Example:
        >>> build_filter(None, "a", None, None, None, "PUT")
        EventFilter(start='a', end='a\\x00', event_type=EventType.PUT)
    """
    if event_filter is None:
        return EventFilter(key=key, prefix=prefix, start=start, end=end, event_type=event_type)
    if any(arg is not None for arg in (key, prefix, start, end, event_type)):
        raise ValueError("Cannot provide ``event_filter`` and other arguments")
    if not isinstance(event_filter, EventFilter):
        raise TypeError("event_filter must be an EventFilter")
    return event_filter


@final
class AsyncEventQueue:
    """A queue of the events that match the filters it is subscribed to (asyncio).

    An event that matches several of the queue's filters is put in once per
    filter (its ``event_filter`` says which). Leaving the ``async with``
    block, or the queue being garbage collected, unsubscribes every filter.

    Example:
        >>> async def follow(kv):  # doctest: +SKIP
        ...     async with await kv.events(prefix="jobs/") as queue:
        ...         async for event in queue:
        ...             print(event.event_type, event.key)
    """

    def __init__(self, stream: WatchStream) -> None:
        self._stream = stream
        self._ref = weakref.ref(self, stream.queue_collected)
        self._items: deque[Event | BaseException] = deque()
        self._ready = asyncio.Event()
        self._error: BaseException | None = None

    def __repr__(self) -> str:
        return f"AsyncEventQueue<{len(self.filters)} filters>"

    @property
    def filters(self) -> frozenset[EventFilter]:
        """The filters the queue is subscribed to."""
        return self._stream.filters_of(self._ref)

    async def subscribe(
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
        """Subscribe to a filter; return once the master watches it.

        Give an :class:`EventFilter`, or the arguments to make one (none: every
        event). Subscribing again to a filter of the queue does nothing.

        Args:
            event_filter: the filter (then give no other argument).
            key, prefix, start, end, event_type: as for :class:`EventFilter`.
            start_revision: beyond Skein 0.8: first replay the events from this
                revision on (from the master's bounded history), then go on live.
                Such a watch is the queue's own, not shared.

        Returns:
            The filter.

        Raises:
            ValueError: conflicting arguments, or ``start_revision`` for a
                filter the queue is already subscribed to.
            skein.errors.ConnectionError: the master could not be reached.
            skein.errors.TimeoutError: the master did not acknowledge in time.

        Example:
            >>> await queue.subscribe(prefix="jobs/", event_type="PUT")  # doctest: +SKIP
            EventFilter(start='jobs/', end='jobs0', event_type=EventType.PUT)
        """
        event_filter = build_filter(event_filter, key, prefix, start, end, event_type)
        if not isinstance(start_revision, int) or start_revision < 0:
            raise ValueError("start_revision must be a non-negative integer")
        self._raise_error()
        if event_filter in self.filters:
            if start_revision:
                raise ValueError(
                    f"already subscribed to {event_filter!r}; unsubscribe before replaying history"
                )
            return event_filter
        await self._stream.subscribe(self._ref, event_filter, start_revision)
        return event_filter

    async def unsubscribe(
        self,
        event_filter: EventFilter | None = None,
        key: str | None = None,
        prefix: str | None = None,
        start: str | None = None,
        end: str | None = None,
        event_type: EventType | str | None = None,
    ) -> EventFilter:
        """Unsubscribe from a filter, given as for :meth:`subscribe`.

        Returns:
            The filter.

        Raises:
            ValueError: the queue is not subscribed to the filter.
        """
        event_filter = build_filter(event_filter, key, prefix, start, end, event_type)
        if event_filter not in self.filters:
            raise ValueError(f"not currently subscribed to {event_filter!r}")
        self._stream.unsubscribe(self._ref, event_filter)
        return event_filter

    async def unsubscribe_all(self) -> None:
        """Unsubscribe from every filter."""
        self._stream.unsubscribe_all(self._ref)

    async def get(self, timeout: float | None = None) -> Event:
        """Remove and return the next event, waiting for one if need be.

        Args:
            timeout: seconds to wait at most; None waits for ever.

        Raises:
            skein.errors.TimeoutError: no event came within ``timeout``.
            skein.errors.ConnectionError: the watch stream failed (raised again by every call).
            skein.errors.WatchCancelledError: the master cancelled one of the
                queue's watches, e.g. because the queue fell behind (raised again by every call).

        Example:
            >>> event = await queue.get(timeout=10)  # doctest: +SKIP
        """
        event = await self._next(timeout)
        if event is None:
            raise TimeoutError(f"No event within {timeout} seconds")
        return event

    def get_nowait(self) -> Event:
        """Remove and return the next event if there is one.

        Raises:
            asyncio.QueueEmpty: there is none.
        """
        self._raise_error()
        if not self._items:
            raise asyncio.QueueEmpty
        return self._take()

    async def put(self, item: Event | Exception) -> None:
        """Put an event in the queue (an exception is raised by the ``get`` that takes it)."""
        self._put(item)

    def __aiter__(self) -> AsyncEventQueue:
        return self

    async def __anext__(self) -> Event:
        return await self.get()

    async def __aenter__(self) -> AsyncEventQueue:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.unsubscribe_all()

    # -- internals, also used by the blocking EventQueue and the WatchStream ----------

    def _put(self, item: Event | BaseException) -> None:
        self._items.append(item)
        self._ready.set()

    async def _next(self, timeout: float | None) -> Event | None:
        """The next event, or None if none came within ``timeout`` (0: do not wait)."""
        self._raise_error()
        if not self._items:
            if timeout is None:
                while not self._items:
                    self._ready.clear()
                    await self._ready.wait()
            elif not await self._wait(timeout):
                return None
        return self._take()

    async def _wait(self, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._items:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._ready.clear()
            try:
                # Waiting on the event, not on a get, so a timeout never loses an item.
                await asyncio.wait_for(self._ready.wait(), remaining)
            except asyncio.TimeoutError:
                return bool(self._items)
        return True

    def _take(self) -> Event:
        item = self._items.popleft()
        if isinstance(item, BaseException):
            # The reader has seen the failure; from now on the queue only raises it.
            self._error = item
            self._stream.unsubscribe_all(self._ref)
            self._items.clear()
            raise item
        return item

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error.with_traceback(None)
