"""The key-value store over gRPC: the five key-value calls of ``skein.v1.AppMaster``.

:class:`KeyValueService` holds the master's :class:`~skein.kvstore.Store` and
translates between its plain values and the protobuf messages of
``skein.proto``, nothing else. A request the store rejects, or one that is
malformed (an unknown enum number, a negative owner instance), ends the call
with ``INVALID_ARGUMENT`` and the store's message; the store is unchanged and
the master keeps serving.

``Watch`` is one bidirectional stream per client. Each create request is
answered, in order, by a ``created`` response carrying the new ``watch_id``;
then that watch's events follow, one response per revision (split further
only when a revision's events pass :data:`WATCH_RESPONSE_MAX_BYTES`). A
create the server refuses (a malformed request, or a start revision the
history no longer holds) is answered ``created`` and ``canceled`` at once,
with a ``cancel_reason`` (and ``compact_revision`` for the latter); its
``watch_id`` is 0 when no watcher was made. A cancel request is answered
``canceled`` with an empty reason. A watch that falls behind is cancelled by
the server after its last buffered events, with the reason. When the client
closes its side of the stream, or the stream breaks, every watch of the
stream ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Final, TypeVar, final

from grpclib.const import Status
from grpclib.exceptions import GRPCError

from skein._proto.api import skein_pb2 as pb
from skein.kvstore import (
    Condition,
    DeleteRange,
    DeleteResult,
    Event,
    EventType,
    Field,
    GetRange,
    KeyRange,
    KeyValue,
    KeyValueError,
    Operation,
    OperationResult,
    Operator,
    Owner,
    OwnerCheck,
    Put,
    PutResult,
    RangeResult,
    Store,
    Watcher,
)
from skein.kvstore.limits import event_size

if TYPE_CHECKING:
    from grpclib.server import Stream

__all__ = ["WATCH_RESPONSE_MAX_BYTES", "KeyValueService"]

WATCH_RESPONSE_MAX_BYTES: Final = 2 * 1024 * 1024
"""Events of one revision go in one watch response up to about this many bytes.

Well under the 4 MiB a gRPC client accepts by default, and above the largest
single event (an 8 KiB key and a 1 MiB value), which always fits.
"""

_Request = TypeVar("_Request")
_Response = TypeVar("_Response")

# skein.proto enum numbers -> kvstore values. A number missing here (a newer
# client, or garbage) is rejected rather than read as the default.
_RESULT_TYPES: Final = frozenset({pb.ITEMS, pb.KEYS, pb.NONE})
_WATCH_EVENT_TYPES: Final[dict[int, EventType | None]] = {
    pb.ALL: None,
    pb.PUT: EventType.PUT,
    pb.DELETE: EventType.DELETE,
}
_EVENT_TYPES_TO_PROTO: Final = {EventType.PUT: pb.PUT, EventType.DELETE: pb.DELETE}
# The kvstore enums use the .proto's names.
_FIELDS: Final = {pb.Condition.Field.Value(field.name): field for field in Field}
_OPERATORS: Final = {pb.Condition.Operator.Value(op.name): op for op in Operator}


@final
class KeyValueService:
    """Serves the key-value store's calls; the master's servicer delegates to it.

    Args:
        store: the store to serve; by default a new one using ``check_owner``.
        check_owner: says why an owner cannot own keys, or None if it can (a
            live container); by default every owner is accepted. Give it here
            or to ``store``, not both.

    Example:
        .. code-block:: python

            kv = KeyValueService(check_owner=containers.owner_problem)
            servicer = AppMasterServicer(control, kv)   # delegates GetRange, ..., Watch
            ...
            kv.release_owner(Owner("worker", 3))        # when worker_3 completes
    """

    def __init__(
        self, store: Store | None = None, *, check_owner: OwnerCheck | None = None
    ) -> None:
        if store is not None and check_owner is not None:
            raise TypeError("give check_owner to the Store, or pass no store")
        self._store = store if store is not None else Store(check_owner=check_owner)

    @property
    def store(self) -> Store:
        """The store served."""
        return self._store

    @property
    def revision(self) -> int:
        """The store's current revision."""
        return self._store.revision

    def release_owner(self, owner: Owner) -> int:
        """Delete every key ``owner`` owns (its container completed); returns how many."""
        return len(self._store.release_owner(owner).result.deleted)

    async def get_range(self, stream: Stream[pb.GetRangeRequest, pb.GetRangeResponse]) -> None:
        """Serve ``GetRange``."""
        request = await _receive(stream)
        with _invalid_argument():
            _check_result_type(request.result_type)
            keys = KeyRange(request.start, request.end)
            if request.result_type == pb.NONE:
                # The count alone needs no copy of the entries.
                response = pb.GetRangeResponse(
                    header=self._header(), count=self._store.count(keys), result_type=pb.NONE
                )
            else:
                result = self._store.range(keys)
                response = _range_response(result, request.result_type, self._store.revision)
        await stream.send_message(response)

    async def delete_range(
        self, stream: Stream[pb.DeleteRangeRequest, pb.DeleteRangeResponse]
    ) -> None:
        """Serve ``DeleteRange``."""
        request = await _receive(stream)
        with _invalid_argument():
            _check_result_type(request.result_type)
            outcome = self._store.delete_range(KeyRange(request.start, request.end))
        await stream.send_message(
            _delete_response(outcome.result, request.result_type, outcome.revision)
        )

    async def put_key(self, stream: Stream[pb.PutKeyRequest, pb.PutKeyResponse]) -> None:
        """Serve ``PutKey``."""
        request = await _receive(stream)
        with _invalid_argument():
            outcome = self._store.put(_put_from_proto(request))
        await stream.send_message(
            _put_response(outcome.result, request.return_previous, outcome.revision)
        )

    async def transaction(
        self, stream: Stream[pb.TransactionRequest, pb.TransactionResponse]
    ) -> None:
        """Serve ``Transaction``."""
        request = await _receive(stream)
        with _invalid_argument():
            # Both branches are translated first: a malformed request is
            # rejected whichever branch its conditions would choose.
            conditions = [_condition_from_proto(c) for c in request.condition]
            on_success = [_operation_from_proto(op) for op in request.on_success]
            on_failure = [_operation_from_proto(op) for op in request.on_failure]
            outcome = self._store.transaction(conditions, on_success, on_failure)
        chosen = request.on_success if outcome.result.succeeded else request.on_failure
        await stream.send_message(
            pb.TransactionResponse(
                header=pb.ResponseHeader(revision=outcome.revision),
                succeeded=outcome.result.succeeded,
                result=[
                    _operation_response(op, result, outcome.revision)
                    for op, result in zip(chosen, outcome.result.results, strict=True)
                ],
            )
        )

    async def watch(self, stream: Stream[pb.WatchRequest, pb.WatchResponse]) -> None:
        """Serve ``Watch`` until the client closes its side or the stream breaks."""
        await _WatchSession(self._store, stream).run()

    def _header(self) -> pb.ResponseHeader:
        return pb.ResponseHeader(revision=self._store.revision)


class _WatchSession:
    """The watches of one ``Watch`` stream.

    A reader task handles the client's requests as they come: it makes and
    cancels watchers at once and queues the answers. This task writes: the
    queued answers in order, then the events of the watchers it announced.
    Every change of interest (an answer queued, a watcher's notify, the end
    of the client's side) sets ``_wakeup``.
    """

    def __init__(self, store: Store, stream: Stream[pb.WatchRequest, pb.WatchResponse]) -> None:
        self._store = store
        self._stream = stream
        self._wakeup = asyncio.Event()
        # Answers to requests, in request order, with the watcher a "created"
        # answer announces (its events may only follow that answer).
        self._outbox: deque[tuple[pb.WatchResponse, Watcher | None]] = deque()
        self._watchers: dict[int, Watcher] = {}  # not cancelled by the client
        self._announced: set[int] = set()
        self._reading = True

    async def run(self) -> None:
        reader = asyncio.create_task(self._read())
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                await self._flush()
                if not self._reading:
                    await reader  # re-raises what ended it, if anything did
                    return
        finally:
            for watcher in self._watchers.values():
                self._store.cancel_watch(watcher)
            self._watchers.clear()
            if not reader.done():
                reader.cancel()
                await asyncio.wait([reader])
            if not reader.cancelled():
                reader.exception()  # retrieved: it was raised above, or moot

    async def _read(self) -> None:
        try:
            async for request in self._stream:
                kind = request.WhichOneof("request")
                if kind == "create":
                    self._create(request.create)
                elif kind == "cancel":
                    self._cancel(request.cancel.watch_id)
                else:
                    raise GRPCError(
                        Status.INVALID_ARGUMENT, "WatchRequest has neither create nor cancel"
                    )
                self._wakeup.set()
        finally:
            self._reading = False
            self._wakeup.set()

    def _create(self, request: pb.WatchCreateRequest) -> None:
        header = pb.ResponseHeader(revision=self._store.revision)
        try:
            if request.event_type not in _WATCH_EVENT_TYPES:
                raise KeyValueError(f"Unknown event_type {request.event_type}")
            watcher = self._store.watch(
                KeyRange(request.start, request.end),
                event_type=_WATCH_EVENT_TYPES[request.event_type],
                start_revision=request.start_revision,
                notify=self._notify,
            )
        except KeyValueError as exc:
            refusal = pb.WatchResponse(
                header=header, created=True, canceled=True, cancel_reason=str(exc)
            )
            self._outbox.append((refusal, None))
            return
        response = pb.WatchResponse(header=header, watch_id=watcher.id, created=True)
        if watcher.canceled:  # the start revision was compacted
            response.canceled = True
            response.cancel_reason = watcher.cancel_reason
            response.compact_revision = watcher.compact_revision
            self._outbox.append((response, None))
            return
        self._watchers[watcher.id] = watcher
        self._outbox.append((response, watcher))

    def _cancel(self, watch_id: int) -> None:
        # An unknown id is answered too: the server may have cancelled the
        # watch (it fell behind) while the client's cancel was on its way.
        watcher = self._watchers.pop(watch_id, None)
        if watcher is not None:
            self._store.cancel_watch(watcher)
        self._announced.discard(watch_id)
        response = pb.WatchResponse(
            header=pb.ResponseHeader(revision=self._store.revision),
            watch_id=watch_id,
            canceled=True,
        )
        self._outbox.append((response, None))

    def _notify(self, watcher: Watcher) -> None:
        self._wakeup.set()

    async def _flush(self) -> None:
        while self._outbox:
            response, watcher = self._outbox.popleft()
            await self._stream.send_message(response)
            if watcher is not None and watcher.id in self._watchers:
                self._announced.add(watcher.id)
        for watch_id in sorted(self._announced):
            watcher = self._watchers.get(watch_id)
            if watcher is not None and (watcher.pending or watcher.canceled):
                await self._drain(watcher)

    async def _drain(self, watcher: Watcher) -> None:
        await self._send_events(watcher)
        # The store cancelled it (it fell behind) and the client has not since.
        if watcher.canceled and self._watchers.get(watcher.id) is watcher:
            # It may have fallen behind while the events above were on their
            # way: what it buffered until then is still owed to the client, so
            # that it can resume from the revision the reason names.
            await self._send_events(watcher)
            del self._watchers[watcher.id]
            self._announced.discard(watcher.id)
            await self._stream.send_message(
                pb.WatchResponse(
                    header=pb.ResponseHeader(revision=self._store.revision),
                    watch_id=watcher.id,
                    canceled=True,
                    cancel_reason=watcher.cancel_reason,
                )
            )

    async def _send_events(self, watcher: Watcher) -> None:
        for response in _event_responses(watcher.id, watcher.take(), self._store.revision):
            await self._stream.send_message(response)


# -- translation ------------------------------------------------------------------------


async def _receive(stream: Stream[_Request, _Response]) -> _Request:
    request = await stream.recv_message()
    if request is None:
        raise GRPCError(Status.INVALID_ARGUMENT, "the request message is missing")
    return request


@contextlib.contextmanager
def _invalid_argument() -> Iterator[None]:
    try:
        yield
    except KeyValueError as exc:
        raise GRPCError(Status.INVALID_ARGUMENT, str(exc)) from exc


def _check_result_type(number: int) -> None:
    if number not in _RESULT_TYPES:
        raise KeyValueError(f"Unknown result_type {number}")


def _owner_from_proto(message: pb.ContainerInstance) -> Owner:
    return Owner(message.service_name, message.instance)


def _kv_to_proto(kv: KeyValue, *, with_value: bool = True) -> pb.KeyValue:
    message = pb.KeyValue(
        key=kv.key,
        value=kv.value if with_value else b"",
        create_revision=kv.create_revision,
        mod_revision=kv.mod_revision,
        version=kv.version,
    )
    if kv.owner is not None:
        message.owner.service_name = kv.owner.service_name
        message.owner.instance = kv.owner.instance
    return message


def _kvs_to_proto(
    kvs: Sequence[KeyValue], result_type: pb.ResultType.ValueType
) -> list[pb.KeyValue]:
    if result_type == pb.NONE:
        return []
    return [_kv_to_proto(kv, with_value=result_type == pb.ITEMS) for kv in kvs]


def _put_from_proto(request: pb.PutKeyRequest) -> Put:
    return Put(
        key=request.key,
        value=request.value,
        owner=_owner_from_proto(request.owner) if request.HasField("owner") else None,
        ignore_value=request.ignore_value,
        ignore_owner=request.ignore_owner,
    )


def _condition_from_proto(message: pb.Condition) -> Condition:
    field = _FIELDS.get(message.field)
    if field is None:
        raise KeyValueError(f"Unknown condition field {message.field}")
    operator = _OPERATORS.get(message.operator)
    if operator is None:
        raise KeyValueError(f"Unknown condition operator {message.operator}")
    which = message.WhichOneof("rhs")
    rhs: bytes | Owner | int | None
    if which == "value":
        rhs = message.value
    elif which == "owner":
        rhs = _owner_from_proto(message.owner)
    elif which == "number":
        rhs = message.number
    else:
        rhs = None
    return Condition(key=message.key, field=field, operator=operator, rhs=rhs)


def _operation_from_proto(message: pb.OpRequest) -> Operation:
    which = message.WhichOneof("request")
    if which == "get_range":
        _check_result_type(message.get_range.result_type)
        return GetRange(keys=KeyRange(message.get_range.start, message.get_range.end))
    if which == "delete_range":
        _check_result_type(message.delete_range.result_type)
        return DeleteRange(keys=KeyRange(message.delete_range.start, message.delete_range.end))
    if which == "put_key":
        return _put_from_proto(message.put_key)
    raise KeyValueError("OpRequest has no request set")


def _range_response(
    result: RangeResult, result_type: pb.ResultType.ValueType, revision: int
) -> pb.GetRangeResponse:
    return pb.GetRangeResponse(
        header=pb.ResponseHeader(revision=revision),
        count=len(result.kvs),
        result_type=result_type,
        result=_kvs_to_proto(result.kvs, result_type),
    )


def _delete_response(
    result: DeleteResult, result_type: pb.ResultType.ValueType, revision: int
) -> pb.DeleteRangeResponse:
    return pb.DeleteRangeResponse(
        header=pb.ResponseHeader(revision=revision),
        count=len(result.deleted),
        result_type=result_type,
        result=_kvs_to_proto(result.deleted, result_type),
    )


def _put_response(result: PutResult, return_previous: bool, revision: int) -> pb.PutKeyResponse:
    response = pb.PutKeyResponse(
        header=pb.ResponseHeader(revision=revision), return_previous=return_previous
    )
    if return_previous and result.previous is not None:
        response.previous.CopyFrom(_kv_to_proto(result.previous))
    return response


def _operation_response(
    request: pb.OpRequest, result: OperationResult, revision: int
) -> pb.OpResponse:
    if isinstance(result, RangeResult):
        rtype = request.get_range.result_type
        return pb.OpResponse(get_range=_range_response(result, rtype, revision))
    if isinstance(result, DeleteResult):
        rtype = request.delete_range.result_type
        return pb.OpResponse(delete_range=_delete_response(result, rtype, revision))
    previous = request.put_key.return_previous
    return pb.OpResponse(put_key=_put_response(result, previous, revision))


def _event_to_proto(event: Event) -> pb.Event:
    return pb.Event(type=_EVENT_TYPES_TO_PROTO[event.type], kv=_kv_to_proto(event.kv))


def _event_responses(
    watch_id: int, events: Sequence[Event], revision: int
) -> Iterator[pb.WatchResponse]:
    """The responses carrying a watch's events: one per revision, split by size."""
    batch: list[Event] = []
    size = 0
    for event in events:
        cost = event_size(event)
        if batch and (
            event.revision != batch[-1].revision or size + cost > WATCH_RESPONSE_MAX_BYTES
        ):
            yield _events_response(watch_id, batch, revision)
            batch, size = [], 0
        batch.append(event)
        size += cost
    if batch:
        yield _events_response(watch_id, batch, revision)


def _events_response(watch_id: int, events: list[Event], revision: int) -> pb.WatchResponse:
    return pb.WatchResponse(
        header=pb.ResponseHeader(revision=revision),
        watch_id=watch_id,
        events=[_event_to_proto(event) for event in events],
    )
