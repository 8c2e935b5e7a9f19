"""The asyncio client of an application's key-value store: the one implementation.

:class:`AsyncKeyValueStore` runs each operation of :mod:`skein.kv` as one
call to the master (every call is atomic on the master), transactions of
them, and event subscriptions over the store's one watch stream.
:class:`~skein.kv.KeyValueStore` is the blocking facade over it, with Skein
0.8's ``MutableMapping`` interface.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal, TypeVar, cast, final, overload

from skein.api.status import rpc_errors
from skein.kv import deletes, reads, writes
from skein.kv.async_event_queue import AsyncEventQueue
from skein.kv.conditions import Condition
from skein.kv.events import EventFilter, EventType
from skein.kv.operation import (
    DeleteRangeOperation,
    GetRangeOperation,
    Operation,
    PutKeyOperation,
    check_type,
)
from skein.kv.reads import Items, PairsByKey, ValuesByKey
from skein.kv.records import KeyMetadata, TransactionResult, ValueOwnerPair
from skein.kv.transactions import (
    UpdateArg,
    build_transaction,
    transaction_result,
    update_operations,
)
from skein.kv.waiting import wait_for_key
from skein.kv.watch_stream import WatchStream
from skein.kv.writes import NoChange, no_change

if TYPE_CHECKING:
    from skein._proto.api.skein_grpc import AppMasterStub

__all__ = ["AsyncKeyValueStore"]

T = TypeVar("T")

# put's and swap's value and owner: given, or kept (the default).
_Value = bytes | Literal[NoChange.no_change]
_Owner = str | Literal[NoChange.no_change] | None


@final
class AsyncKeyValueStore:
    """An application's key-value store (asyncio).

    Keys are strings, values bytes; each key may be owned by a live service
    container, and is deleted when its owner completes. Every method is one
    atomic call to the application master.

    Args:
        stub: the master's gRPC stub.
        address: the master's ``host:port``, for error messages.
        timeout: seconds each call may take (``wait`` and event queues wait longer).

    Example:
        >>> kv = app.kv  # of an AsyncApplicationClient  # doctest: +SKIP
        >>> await kv.put("config", b"{}")  # doctest: +SKIP
        >>> await kv.get("config")  # doctest: +SKIP
        b'{}'
    """

    def __init__(self, stub: AppMasterStub, *, address: str, timeout: float | None = 30.0) -> None:
        self._stub = stub
        self._address = address
        self._timeout = timeout
        self._watch = WatchStream(stub, address=address, timeout=timeout)

    def __repr__(self) -> str:
        return f"AsyncKeyValueStore<{self._address}>"

    async def close(self) -> None:
        """Close the event stream; every event queue gets a ``ConnectionError``. Idempotent."""
        await self._watch.close()

    async def _apply(self, operation: Operation[T]) -> T:
        """Run one operation as a call of its own."""
        timeout = self._timeout
        async with rpc_errors(self._address):
            if isinstance(operation, GetRangeOperation):
                response = await self._stub.GetRange(operation._request(), timeout=timeout)
                return cast(T, operation._parse(response))
            if isinstance(operation, DeleteRangeOperation):
                deleted = await self._stub.DeleteRange(operation._request(), timeout=timeout)
                return cast(T, operation._parse(deleted))
            if isinstance(operation, PutKeyOperation):
                put = await self._stub.PutKey(operation._request(), timeout=timeout)
                return cast(T, operation._parse(put))
        raise TypeError(f"{operation!r} is not a key-value store operation")

    async def transaction(
        self,
        conditions: Condition | Iterable[Condition] | None = None,
        on_success: Operation[object] | Iterable[Operation[object]] | None = None,
        on_failure: Operation[object] | Iterable[Operation[object]] | None = None,
    ) -> TransactionResult:
        """Test conditions, then run one branch of operations, atomically.

        Every condition must hold (none: success) for ``on_success`` to run;
        otherwise ``on_failure`` runs. The master checks every operation of
        the branch before applying any, so a branch applies whole or not at all.

        Args:
            conditions: a condition, or a sequence of them (AND-ed).
            on_success: an operation, or a sequence of them, run if all hold.
            on_failure: an operation, or a sequence of them, run otherwise.

        Returns:
            ``TransactionResult(succeeded, results)``, with each operation's
            result in order (``None`` for a ``put``).

        Raises:
            TypeError: a condition or an operation is of the wrong type.
            ValueError: the master rejected an operation (nothing was changed).

        Example:
            >>> from skein import kv
            >>> result = await store.transaction(  # doctest: +SKIP
            ...     conditions=[kv.value("owner") == b"me"],
            ...     on_success=[kv.put("state", b"done")],
            ... )
        """
        request, success, failure = build_transaction(conditions, on_success, on_failure)
        async with rpc_errors(self._address):
            response = await self._stub.Transaction(request, timeout=self._timeout)
        return transaction_result(response, success, failure)

    async def count(
        self, start: str | None = None, end: str | None = None, prefix: str | None = None
    ) -> int:
        """The number of keys: all, of the range ``[start, end)``, or starting with ``prefix``.

        Raises:
            ValueError: ``prefix`` together with ``start``/``end``.

        Example:
            >>> await store.count(prefix="workers/")  # doctest: +SKIP
            3
        """
        return await self._apply(reads.count(start, end, prefix))

    async def list_keys(
        self, start: str | None = None, end: str | None = None, prefix: str | None = None
    ) -> list[str]:
        """The keys, in order: all, of the range ``[start, end)``, or starting with ``prefix``.

        Example:
            >>> await store.list_keys(prefix="workers/")  # doctest: +SKIP
            ['workers/0', 'workers/1']
        """
        return await self._apply(reads.list_keys(start, end, prefix))

    async def exists(self, key: str) -> bool:
        """Whether ``key`` is in the store."""
        return await self._apply(reads.exists(key))

    async def missing(self, key: str) -> bool:
        """Whether ``key`` is not in the store."""
        return await self._apply(reads.missing(key))

    @overload
    async def get(
        self, key: str, default: bytes | None = None, return_owner: Literal[False] = False
    ) -> bytes | None: ...
    @overload
    async def get(
        self, key: str, default: bytes | None = None, *, return_owner: Literal[True]
    ) -> ValueOwnerPair: ...
    @overload
    async def get(
        self, key: str, default: bytes | None = None, return_owner: bool = False
    ) -> bytes | ValueOwnerPair | None: ...
    async def get(
        self, key: str, default: bytes | None = None, return_owner: bool = False
    ) -> bytes | ValueOwnerPair | None:
        """The value of ``key``, or ``default``; with ``return_owner``, a ``ValueOwnerPair``.

        Example:
            >>> await store.get("config", default=b"{}")  # doctest: +SKIP
            b'{}'
        """
        return await self._apply(reads.get(key, default, return_owner))

    async def get_metadata(self, key: str) -> KeyMetadata | None:
        """Everything about ``key`` (value, owner, revisions), or None (beyond Skein 0.8).

        Example:
            >>> (await store.get_metadata("config")).version  # doctest: +SKIP
            2
        """
        return await self._apply(reads.get_metadata(key))

    @overload
    async def get_prefix(
        self, prefix: str, return_owner: Literal[False] = False
    ) -> ValuesByKey: ...
    @overload
    async def get_prefix(self, prefix: str, return_owner: Literal[True]) -> PairsByKey: ...
    @overload
    async def get_prefix(self, prefix: str, return_owner: bool = False) -> Items: ...
    async def get_prefix(self, prefix: str, return_owner: bool = False) -> Items:
        """Every key that starts with ``prefix`` and its value (or pair), in an ``OrderedDict``.

        Example:
            >>> await store.get_prefix("workers/")  # doctest: +SKIP
            OrderedDict({'workers/0': b'host-a', 'workers/1': b'host-b'})
        """
        return await self._apply(reads.get_prefix(prefix, return_owner))

    @overload
    async def get_range(
        self, start: str | None = None, end: str | None = None, return_owner: Literal[False] = False
    ) -> ValuesByKey: ...
    @overload
    async def get_range(
        self, start: str | None = None, end: str | None = None, *, return_owner: Literal[True]
    ) -> PairsByKey: ...
    @overload
    async def get_range(
        self, start: str | None = None, end: str | None = None, return_owner: bool = False
    ) -> Items: ...
    async def get_range(
        self, start: str | None = None, end: str | None = None, return_owner: bool = False
    ) -> Items:
        """Every key of ``[start, end)`` (None: unbounded) and its value (or pair), in order.

        Example:
            >>> await store.get_range("a", "c")  # doctest: +SKIP
            OrderedDict({'a': b'1', 'b': b'2'})
        """
        return await self._apply(reads.get_range(start, end, return_owner))

    @overload
    async def pop(
        self, key: str, default: bytes | None = None, return_owner: Literal[False] = False
    ) -> bytes | None: ...
    @overload
    async def pop(
        self, key: str, default: bytes | None = None, *, return_owner: Literal[True]
    ) -> ValueOwnerPair: ...
    @overload
    async def pop(
        self, key: str, default: bytes | None = None, return_owner: bool = False
    ) -> bytes | ValueOwnerPair | None: ...
    async def pop(
        self, key: str, default: bytes | None = None, return_owner: bool = False
    ) -> bytes | ValueOwnerPair | None:
        """Delete ``key`` and return its value (``default`` if it was missing).

        Example:
            >>> await store.pop("job")  # doctest: +SKIP
            b'step-1'
        """
        return await self._apply(deletes.pop(key, default, return_owner))

    @overload
    async def pop_prefix(
        self, prefix: str, return_owner: Literal[False] = False
    ) -> ValuesByKey: ...
    @overload
    async def pop_prefix(self, prefix: str, return_owner: Literal[True]) -> PairsByKey: ...
    @overload
    async def pop_prefix(self, prefix: str, return_owner: bool = False) -> Items: ...
    async def pop_prefix(self, prefix: str, return_owner: bool = False) -> Items:
        """Delete every key that starts with ``prefix``; return them with their values, in order."""
        return await self._apply(deletes.pop_prefix(prefix, return_owner))

    @overload
    async def pop_range(
        self, start: str | None = None, end: str | None = None, return_owner: Literal[False] = False
    ) -> ValuesByKey: ...
    @overload
    async def pop_range(
        self, start: str | None = None, end: str | None = None, *, return_owner: Literal[True]
    ) -> PairsByKey: ...
    @overload
    async def pop_range(
        self, start: str | None = None, end: str | None = None, return_owner: bool = False
    ) -> Items: ...
    async def pop_range(
        self, start: str | None = None, end: str | None = None, return_owner: bool = False
    ) -> Items:
        """Delete every key of ``[start, end)``; return them with their values, in order."""
        return await self._apply(deletes.pop_range(start, end, return_owner))

    async def discard(self, key: str) -> bool:
        """Delete ``key`` if it is there; return whether it was."""
        return await self._apply(deletes.discard(key))

    @overload
    async def discard_prefix(self, prefix: str, return_keys: Literal[False] = False) -> int: ...
    @overload
    async def discard_prefix(self, prefix: str, return_keys: Literal[True]) -> list[str]: ...
    @overload
    async def discard_prefix(self, prefix: str, return_keys: bool = False) -> int | list[str]: ...
    async def discard_prefix(self, prefix: str, return_keys: bool = False) -> int | list[str]:
        """Delete every key that starts with ``prefix``; return how many (or which, in order)."""
        return await self._apply(deletes.discard_prefix(prefix, return_keys))

    @overload
    async def discard_range(
        self, start: str | None = None, end: str | None = None, return_keys: Literal[False] = False
    ) -> int: ...
    @overload
    async def discard_range(
        self, start: str | None = None, end: str | None = None, *, return_keys: Literal[True]
    ) -> list[str]: ...
    @overload
    async def discard_range(
        self, start: str | None = None, end: str | None = None, return_keys: bool = False
    ) -> int | list[str]: ...
    async def discard_range(
        self, start: str | None = None, end: str | None = None, return_keys: bool = False
    ) -> int | list[str]:
        """Delete every key of ``[start, end)`` (every key by default); return how many or which."""
        return await self._apply(deletes.discard_range(start, end, return_keys))

    async def clear(self) -> None:
        """Delete every key."""
        await self._apply(deletes.discard_range())

    async def put(
        self,
        key: str,
        value: _Value = no_change,
        owner: _Owner = no_change,
    ) -> None:
        """Set the value and/or owner of ``key``.

        Args:
            key: the key.
            value: the new value; by default the key keeps its value (it must exist).
            owner: a live container's id (``"worker_0"``), or None for no owner;
                by default the key keeps its owner.

        Raises:
            TypeError: ``value`` is not bytes, or ``owner`` neither a string nor None.
            ValueError: neither ``value`` nor ``owner`` given, a malformed
                container id, or the master refused (``"Unknown service 'x'"``,
                ``"ignore_value=True & key isn't already set"``, ...).

        Example:
            >>> await store.put("workers/0", b"host-a", owner="worker_0")  # doctest: +SKIP
        """
        await self._apply(writes.put(key, value, owner))

    @overload
    async def swap(
        self,
        key: str,
        value: _Value = no_change,
        owner: _Owner = no_change,
        return_owner: Literal[False] = False,
    ) -> bytes | None: ...
    @overload
    async def swap(
        self,
        key: str,
        value: _Value = no_change,
        owner: _Owner = no_change,
        *,
        return_owner: Literal[True],
    ) -> ValueOwnerPair: ...
    @overload
    async def swap(
        self,
        key: str,
        value: _Value = no_change,
        owner: _Owner = no_change,
        return_owner: bool = False,
    ) -> bytes | ValueOwnerPair | None: ...
    async def swap(
        self,
        key: str,
        value: _Value = no_change,
        owner: _Owner = no_change,
        return_owner: bool = False,
    ) -> bytes | ValueOwnerPair | None:
        """Set the value and/or owner of ``key`` (as :meth:`put`); return the previous value.

        Returns:
            The previous value (None if the key was new), or with
            ``return_owner`` a ``ValueOwnerPair`` (``(None, None)`` if new).

        Example:
            >>> await store.swap("leader", b"worker_1")  # doctest: +SKIP
            b'worker_0'
        """
        return await self._apply(writes.swap(key, value, owner, return_owner))

    async def setdefault(self, key: str, default: bytes) -> bytes:
        """The value of ``key``, set to ``default`` first if it is missing (atomically).

        Example:
            >>> await store.setdefault("config", b"{}")  # doctest: +SKIP
            b'{}'
        """
        result = await self.transaction(
            conditions=[reads.exists(key)],
            on_success=[reads.get(key)],
            on_failure=[writes.put(key, default)],
        )
        return cast(bytes, result.results[0]) if result.succeeded else default

    async def update(self, *args: UpdateArg, **kwargs: bytes) -> None:
        """Put many keys atomically: from a mapping or ``(key, value)`` pairs, then ``kwargs``.

        Example:
            >>> await store.update({"a": b"1"}, b=b"2")  # doctest: +SKIP
        """
        await self.transaction(on_success=update_operations(args, kwargs))

    def event_queue(self) -> AsyncEventQueue:
        """A new event queue, subscribed to nothing yet.

        Example:
            >>> queue = store.event_queue()  # doctest: +SKIP
            >>> await queue.subscribe(prefix="jobs/")  # doctest: +SKIP
        """
        return AsyncEventQueue(self._watch)

    async def events(
        self,
        event_filter: EventFilter | None = None,
        key: str | None = None,
        prefix: str | None = None,
        start: str | None = None,
        end: str | None = None,
        event_type: EventType | str | None = None,
        *,
        start_revision: int = 0,
    ) -> AsyncEventQueue:
        """A new event queue subscribed to one filter (every event, with no arguments).

        Args:
            event_filter: the filter (then give no other argument).
            key, prefix, start, end, event_type: as for :class:`EventFilter`.
            start_revision: beyond Skein 0.8: replay the events from this
                revision on, then go on live.

        Example:
            >>> async with await store.events(prefix="jobs/") as queue:  # doctest: +SKIP
            ...     event = await queue.get()
        """
        queue = self.event_queue()
        await queue.subscribe(
            event_filter, key, prefix, start, end, event_type, start_revision=start_revision
        )
        return queue

    @overload
    async def wait(
        self, key: str, return_owner: Literal[False] = False, *, timeout: float | None = None
    ) -> bytes: ...
    @overload
    async def wait(
        self, key: str, return_owner: Literal[True], *, timeout: float | None = None
    ) -> ValueOwnerPair: ...
    @overload
    async def wait(
        self, key: str, return_owner: bool = False, *, timeout: float | None = None
    ) -> bytes | ValueOwnerPair: ...
    async def wait(
        self, key: str, return_owner: bool = False, *, timeout: float | None = None
    ) -> bytes | ValueOwnerPair:
        """The value of ``key``, waiting until the key exists.

        Args:
            key: the key.
            return_owner: return a ``ValueOwnerPair`` of value and owner.
            timeout: beyond Skein 0.8: seconds to wait at most (None: for ever).

        Raises:
            skein.errors.TimeoutError: the key did not appear within ``timeout``.

        Example:
            >>> address = await store.wait("scheduler/address")  # doctest: +SKIP
        """
        check_type("key", key, str)
        check_type("return_owner", return_owner, bool)
        pair = await wait_for_key(self, key, timeout)
        return pair if return_owner else cast(bytes, pair.value)

    async def _getitem(self, key: str) -> bytes:
        value = await self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    async def _delitem(self, key: str) -> None:
        if not await self.discard(key):
            raise KeyError(key)
