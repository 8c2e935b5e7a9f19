"""The watch demultiplexer: one ``Watch`` stream per store, shared by all its event queues.

Theory of operation. The stream opens lazily, on the first subscription, and
one task on the store's event loop drives it: a sender half writes the
requests queued in an outbox (so requests can be queued from synchronous
code, such as a garbage-collection callback), and a receiver half dispatches
the master's responses.

Each distinct :class:`~skein.kv.events.EventFilter` has at most one server
watch, shared by every queue subscribed to it; a watch that replays history
(``start_revision``) belongs to one queue alone, since a queue joining later
would miss the replay. Subscribing sends a create request and waits for the
master's ``created`` acknowledgement. The master acknowledges creates in the
order it receives them, so acknowledgements are paired with a FIFO of pending
watches and carry the watch id used from then on. When the last queue leaves
a watch it is cancelled (at once, or on its acknowledgement if it is still
pending); events and the cancel acknowledgement of a cancelled watch are
dropped.

Queues are held weakly: a queue that is garbage collected leaves its watches.
The weakref callback may run on any thread, so it only schedules that work on
the loop.

Failure. If the master refuses a watch (its acknowledgement also says
``canceled``: a start revision no longer in the history, a malformed
request), the subscription raises a :class:`~skein.errors.WatchCancelledError`
with the master's reason. If it cancels a live watch (the reader fell
behind), each of the watch's queues gets that error after the events before
it. If the stream itself fails or ends, every queue gets the mapped error (a
:class:`~skein.errors.ConnectionError` when the master is gone), pending
subscriptions raise it, and all state is dropped, so the next subscription
opens a new stream.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, TypeAlias

from skein._proto.api import skein_pb2 as pb
from skein.api.status import rpc_errors
from skein.errors import (
    ConnectionError,
    ProtocolError,
    TimeoutError,
    WatchCancelledError,
)
from skein.kv.events import EventFilter, event_from_proto

if TYPE_CHECKING:
    from grpclib.client import Stream

    from skein._proto.api.skein_grpc import AppMasterStub
    from skein.kv.async_event_queue import AsyncEventQueue

__all__ = ["WatchStream"]

QueueRef: TypeAlias = "weakref.ref[AsyncEventQueue]"

_TASK_NAME: Final = "skein-kv-watch"


def _consume(future: asyncio.Future[None]) -> None:
    # Mark a failed acknowledgement as retrieved: nobody may be waiting for it any more.
    if not future.cancelled():
        future.exception()


@dataclass(eq=False)
class _Watch:
    """One server watch and the queues it feeds."""

    event_filter: EventFilter
    start_revision: int
    created: asyncio.Future[None]
    queues: set[QueueRef] = field(default_factory=set)
    watch_id: int | None = None
    abandoned: bool = False  # every queue left before the master acknowledged it


class WatchStream:
    """The ``Watch`` stream of one store, demultiplexed into event queues.

    Args:
        stub: the master's stub.
        address: the master's ``host:port``, for error messages.
        timeout: seconds to wait for the master to acknowledge a new watch.
    """

    def __init__(self, stub: AppMasterStub, *, address: str, timeout: float | None) -> None:
        self._stub = stub
        self._address = address
        self._timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._outbox: asyncio.Queue[pb.WatchRequest] | None = None
        self._closed: BaseException | None = None
        self._reset()

    def _reset(self) -> None:
        self._shared: dict[EventFilter, _Watch] = {}  # live watches, which queues share
        self._pending: deque[_Watch] = deque()  # created, in order, not yet acknowledged
        self._by_id: dict[int, _Watch] = {}
        self._cancelling: set[int] = set()  # cancelled by us, acknowledgement not yet seen
        self._subscriptions: dict[QueueRef, dict[EventFilter, _Watch]] = {}

    # -- what queues call -----------------------------------------------------------

    def filters_of(self, queue: QueueRef) -> frozenset[EventFilter]:
        """The filters ``queue`` is subscribed to."""
        return frozenset(self._subscriptions.get(queue, ()))

    async def subscribe(
        self, queue: QueueRef, event_filter: EventFilter, start_revision: int
    ) -> None:
        """Subscribe ``queue`` to ``event_filter``; return once the master watches it.

        Raises:
            skein.errors.ConnectionError: the stream failed, or the store is closed.
            skein.errors.TimeoutError: the master did not acknowledge in time.
            skein.errors.WatchCancelledError: the master refused the watch.
        """
        if self._closed is not None:
            raise self._closed
        subscriptions = self._subscriptions.setdefault(queue, {})
        if event_filter in subscriptions:
            return
        watch = self._shared.get(event_filter) if start_revision == 0 else None
        if watch is None:
            watch = self._create(event_filter, start_revision)
        watch.queues.add(queue)
        subscriptions[event_filter] = watch
        try:
            await asyncio.wait_for(asyncio.shield(watch.created), self._timeout)
        except asyncio.TimeoutError:
            self._detach(queue, event_filter, watch)
            if watch.created.done():
                raise  # the stream's own error (a TimeoutError too)
            raise TimeoutError(
                f"Timed out waiting for the application at {self._address} "
                f"to watch {event_filter!r}"
            ) from None
        except BaseException:
            self._detach(queue, event_filter, watch)
            raise

    def unsubscribe(self, queue: QueueRef, event_filter: EventFilter) -> None:
        """Unsubscribe ``queue`` from ``event_filter`` (nothing if it is not subscribed)."""
        subscriptions = self._subscriptions.get(queue, {})
        watch = subscriptions.get(event_filter)
        if watch is not None:
            self._detach(queue, event_filter, watch)

    def unsubscribe_all(self, queue: QueueRef) -> None:
        """Unsubscribe ``queue`` from every filter."""
        for watch in self._subscriptions.pop(queue, {}).values():
            self._leave(queue, watch)

    def queue_collected(self, queue: QueueRef) -> None:
        """The weakref callback of a collected queue: may run on any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self.unsubscribe_all, queue)
        except RuntimeError:
            pass  # the loop closed meanwhile; nothing is left to release

    async def close(self) -> None:
        """End the stream; every queue gets a ``ConnectionError``. Idempotent."""
        if self._closed is None:
            self._closed = ConnectionError(
                f"The key-value store of the application at {self._address} is closed"
            )
        task = self._task
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._fail(self._closed)

    # -- bookkeeping ----------------------------------------------------------------

    def _create(self, event_filter: EventFilter, start_revision: int) -> _Watch:
        loop = asyncio.get_running_loop()
        outbox = self._start(loop)
        watch = _Watch(event_filter, start_revision, loop.create_future())
        watch.created.add_done_callback(_consume)
        if start_revision == 0:
            self._shared[event_filter] = watch
        self._pending.append(watch)
        outbox.put_nowait(pb.WatchRequest(create=event_filter._to_proto(start_revision)))
        return watch

    def _start(self, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[pb.WatchRequest]:
        if self._task is None or self._outbox is None:
            self._loop = loop
            self._outbox = asyncio.Queue()
            self._task = loop.create_task(self._run(self._outbox), name=_TASK_NAME)
        return self._outbox

    def _detach(self, queue: QueueRef, event_filter: EventFilter, watch: _Watch) -> None:
        subscriptions = self._subscriptions.get(queue)
        if subscriptions is not None and subscriptions.get(event_filter) is watch:
            del subscriptions[event_filter]
            if not subscriptions:
                del self._subscriptions[queue]
            self._leave(queue, watch)

    def _leave(self, queue: QueueRef, watch: _Watch) -> None:
        watch.queues.discard(queue)
        if watch.queues:
            return
        if self._shared.get(watch.event_filter) is watch:
            del self._shared[watch.event_filter]
        if watch.watch_id is None:
            watch.abandoned = True  # cancelled when acknowledged
        elif self._by_id.pop(watch.watch_id, None) is watch:
            self._cancel(watch.watch_id)

    def _cancel(self, watch_id: int) -> None:
        if self._outbox is not None:
            self._cancelling.add(watch_id)
            self._outbox.put_nowait(
                pb.WatchRequest(cancel=pb.WatchCancelRequest(watch_id=watch_id))
            )

    def _fail(self, error: BaseException) -> None:
        watches = [*self._pending, *self._by_id.values()]
        queues = list(self._subscriptions)
        self._task = None
        self._outbox = None
        self._reset()
        for watch in watches:
            if not watch.created.done():
                watch.created.set_exception(error)
        for ref in queues:
            queue = ref()
            if queue is not None:
                queue._put(error)

    # -- the stream -----------------------------------------------------------------

    async def _run(self, outbox: asyncio.Queue[pb.WatchRequest]) -> None:
        try:
            async with rpc_errors(self._address), self._stub.Watch.open() as stream:
                await stream.send_request()
                error = await self._pump(stream, outbox)
        except asyncio.CancelledError:
            self._fail(self._closed or ConnectionError("The watch stream was cancelled"))
            raise
        except Exception as exc:
            error = exc
        self._fail(error)

    async def _pump(
        self,
        stream: Stream[pb.WatchRequest, pb.WatchResponse],
        outbox: asyncio.Queue[pb.WatchRequest],
    ) -> BaseException:
        sender = asyncio.ensure_future(self._send_all(stream, outbox))
        receiver = asyncio.ensure_future(self._receive_all(stream))
        try:
            await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sender.cancel()
            receiver.cancel()
            await asyncio.gather(sender, receiver, return_exceptions=True)
        for half in (receiver, sender):
            failure = None if half.cancelled() else half.exception()
            if failure is not None:
                raise failure
        # The master ended the stream: read its status, which raises if it is an error.
        await stream.end()
        await stream.recv_trailing_metadata()
        return ConnectionError(
            f"Unable to connect to application at {self._address}: the watch stream ended"
        )

    async def _send_all(
        self,
        stream: Stream[pb.WatchRequest, pb.WatchResponse],
        outbox: asyncio.Queue[pb.WatchRequest],
    ) -> None:
        while True:
            await stream.send_message(await outbox.get())

    async def _receive_all(self, stream: Stream[pb.WatchRequest, pb.WatchResponse]) -> None:
        while True:
            response = await stream.recv_message()
            if response is None:
                return
            self._dispatch(response)

    def _dispatch(self, response: pb.WatchResponse) -> None:
        watch_id = response.watch_id
        if response.created:
            if not self._pending:
                raise ProtocolError(
                    f"The master acknowledged watch {watch_id}, which nobody asked for"
                )
            created = self._pending.popleft()
            if response.canceled:
                # Refused (a malformed request, or a start revision no longer in
                # the history): the subscription fails with the master's reason.
                self._refuse(created, response)
                return
            self._acknowledge(created, watch_id)
        watch = self._by_id.get(watch_id)
        if watch is not None and response.events:
            self._deliver(watch, response)
        if response.canceled:
            # Our own cancel's acknowledgement; or, if the master cancelled the
            # watch just as we did, its notice, which then needs no answer.
            if watch_id in self._cancelling:
                self._cancelling.discard(watch_id)
            elif watch is not None:
                self._end(watch, response)

    def _acknowledge(self, watch: _Watch, watch_id: int) -> None:
        watch.watch_id = watch_id
        if watch.abandoned:
            self._cancel(watch_id)
            return
        self._by_id[watch_id] = watch
        if not watch.created.done():
            watch.created.set_result(None)

    def _deliver(self, watch: _Watch, response: pb.WatchResponse) -> None:
        queues = [queue for ref in watch.queues if (queue := ref()) is not None]
        for message in response.events:
            event = event_from_proto(message, watch.event_filter)
            for queue in queues:
                queue._put(event)

    def _refuse(self, watch: _Watch, response: pb.WatchResponse) -> None:
        if self._shared.get(watch.event_filter) is watch:
            del self._shared[watch.event_filter]
        if not watch.created.done():
            watch.created.set_exception(self._canceled_error(watch, response))

    def _end(self, watch: _Watch, response: pb.WatchResponse) -> None:
        """The master cancelled a live watch: tell its queues, and forget it."""
        assert watch.watch_id is not None
        del self._by_id[watch.watch_id]
        if self._shared.get(watch.event_filter) is watch:
            del self._shared[watch.event_filter]
        error = self._canceled_error(watch, response)
        for ref in watch.queues:
            subscriptions = self._subscriptions.get(ref, {})
            if subscriptions.get(watch.event_filter) is watch:
                del subscriptions[watch.event_filter]
                if not subscriptions:
                    del self._subscriptions[ref]
            queue = ref()
            if queue is not None:
                queue._put(error)
        watch.queues.clear()

    def _canceled_error(self, watch: _Watch, response: pb.WatchResponse) -> WatchCancelledError:
        reason = response.cancel_reason or "no reason given"
        text = f"The application master cancelled the watch on {watch.event_filter!r}: {reason}"
        if response.compact_revision:
            text += f" (the oldest revision in its history is {response.compact_revision})"
        return WatchCancelledError(text, reason=reason, compact_revision=response.compact_revision)
