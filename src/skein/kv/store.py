"""The blocking key-value store: Skein 0.8's ``KeyValueStore``, a ``MutableMapping``.

A facade: every method runs the coroutine of the same name of an
:class:`~skein.kv.AsyncKeyValueStore` on the client's
:class:`~skein.client.background_loop.BackgroundLoop`, so each behaviour has
one implementation. Its event queues are driven by the same loop's thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Literal, final, overload

from skein.kv.async_store import AsyncKeyValueStore
from skein.kv.conditions import Condition
from skein.kv.event_queue import EventQueue
from skein.kv.events import EventFilter, EventType
from skein.kv.operation import Operation
from skein.kv.reads import Items, PairsByKey, ValuesByKey
from skein.kv.records import KeyMetadata, TransactionResult, ValueOwnerPair
from skein.kv.transactions import UpdateArg
from skein.kv.writes import NoChange, no_change

if TYPE_CHECKING:
    from collections.abc import MutableMapping

    from skein.client.background_loop import BackgroundLoop

    _Base = MutableMapping[str, bytes]
else:
    from collections.abc import MutableMapping as _Base

__all__ = ["KeyValueStore"]

_Value = bytes | Literal[NoChange.no_change]
_Owner = str | Literal[NoChange.no_change] | None


@final
class KeyValueStore(_Base):
    """An application's key-value store, in blocking style (``app.kv``).

    A ``MutableMapping`` of ``str`` keys to ``bytes`` values: ``kv[key]``,
    ``kv[key] = value``, ``del kv[key]``, ``key in kv``, ``len(kv)`` and
    iteration are each one atomic call, as are ``clear``, ``setdefault`` and
    ``update`` (a transaction). ``keys()``, ``items()`` and ``values()`` make
    one call per key and are not atomic; prefer :meth:`get_range`.

    Args:
        async_store: the asyncio store that does the work.
        loop: the background loop to run it on.

    Example:
        >>> app.kv["config"] = b"{}"  # doctest: +SKIP
        >>> app.kv.get_prefix("workers/")  # doctest: +SKIP
        OrderedDict({'workers/0': b'host-a'})
        >>> app.kv.wait("scheduler/address")  # doctest: +SKIP
        b'tcp://10.0.0.5:8786'
    """

    def __init__(self, async_store: AsyncKeyValueStore, loop: BackgroundLoop) -> None:
        self._async = async_store
        self._loop = loop

    def __repr__(self) -> str:
        return repr(self._async).replace("Async", "", 1)

    # -- MutableMapping ---------------------------------------------------------------

    def __getitem__(self, key: str) -> bytes:
        return self._loop.run(self._async._getitem(key))

    def __setitem__(self, key: str, value: bytes) -> None:
        self._loop.run(self._async.put(key, value))

    def __delitem__(self, key: str) -> None:
        self._loop.run(self._async._delitem(key))

    def __contains__(self, key: object) -> bool:
        return self._loop.run(self._async.exists(key))  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return iter(self.list_keys())

    def __len__(self) -> int:
        return self.count()

    def clear(self) -> None:
        """Delete every key (one call)."""
        self._loop.run(self._async.clear())

    def setdefault(self, key: str, default: bytes) -> bytes:
        """The value of ``key``, set to ``default`` first if it is missing (atomically)."""
        return self._loop.run(self._async.setdefault(key, default))

    def update(self, *args: UpdateArg, **kwargs: bytes) -> None:  # type: ignore[override]
        """Put many keys atomically: from a mapping or ``(key, value)`` pairs, then ``kwargs``.

        Example:
            >>> app.kv.update({"a": b"1"}, b=b"2")  # doctest: +SKIP
        """
        self._loop.run(self._async.update(*args, **kwargs))

    # -- reads ----------------------------------------------------------------------

    def count(
        self, start: str | None = None, end: str | None = None, prefix: str | None = None
    ) -> int:
        """The number of keys: all, of ``[start, end)``, or starting with ``prefix``.

        Example:
            >>> app.kv.count(prefix="workers/")  # doctest: +SKIP
            2
        """
        return self._loop.run(self._async.count(start, end, prefix))

    def list_keys(
        self, start: str | None = None, end: str | None = None, prefix: str | None = None
    ) -> list[str]:
        """The keys in order: all, of ``[start, end)``, or starting with ``prefix``."""
        return self._loop.run(self._async.list_keys(start, end, prefix))

    def exists(self, key: str) -> bool:
        """Whether ``key`` is in the store."""
        return self._loop.run(self._async.exists(key))

    def missing(self, key: str) -> bool:
        """Whether ``key`` is not in the store."""
        return self._loop.run(self._async.missing(key))

    @overload  # type: ignore[override]
    def get(
        self, key: str, default: bytes | None = None, return_owner: Literal[False] = False
    ) -> bytes | None: ...
    @overload
    def get(
        self, key: str, default: bytes | None = None, *, return_owner: Literal[True]
    ) -> ValueOwnerPair: ...
    @overload
    def get(
        self, key: str, default: bytes | None = None, return_owner: bool = False
    ) -> bytes | ValueOwnerPair | None: ...
    def get(
        self, key: str, default: bytes | None = None, return_owner: bool = False
    ) -> bytes | ValueOwnerPair | None:
        """The value of ``key`` or ``default``; see :meth:`AsyncKeyValueStore.get`.

        Example:
            >>> app.kv.get("config", return_owner=True)  # doctest: +SKIP
            ValueOwnerPair(value=b'{}', owner=None)
        """
        return self._loop.run(self._async.get(key, default, return_owner))

    def get_metadata(self, key: str) -> KeyMetadata | None:
        """Everything about ``key`` (value, owner, revisions), or None (beyond Skein 0.8)."""
        return self._loop.run(self._async.get_metadata(key))

    @overload
    def get_prefix(self, prefix: str, return_owner: Literal[False] = False) -> ValuesByKey: ...
    @overload
    def get_prefix(self, prefix: str, return_owner: Literal[True]) -> PairsByKey: ...
    @overload
    def get_prefix(self, prefix: str, return_owner: bool = False) -> Items: ...
    def get_prefix(self, prefix: str, return_owner: bool = False) -> Items:
        """Every key starting with ``prefix`` and its value, in an ``OrderedDict``."""
        return self._loop.run(self._async.get_prefix(prefix, return_owner))

    @overload
    def get_range(
        self, start: str | None = None, end: str | None = None, return_owner: Literal[False] = False
    ) -> ValuesByKey: ...
    @overload
    def get_range(
        self, start: str | None = None, end: str | None = None, *, return_owner: Literal[True]
    ) -> PairsByKey: ...
    @overload
    def get_range(
        self, start: str | None = None, end: str | None = None, return_owner: bool = False
    ) -> Items: ...
    def get_range(
        self, start: str | None = None, end: str | None = None, return_owner: bool = False
    ) -> Items:
        """Every key of ``[start, end)`` (None: unbounded) and its value, in an ``OrderedDict``."""
        return self._loop.run(self._async.get_range(start, end, return_owner))

    # -- deletes --------------------------------------------------------------------

    @overload  # type: ignore[override]
    def pop(
        self, key: str, default: bytes | None = None, return_owner: Literal[False] = False
    ) -> bytes | None: ...
    @overload
    def pop(
        self, key: str, default: bytes | None = None, *, return_owner: Literal[True]
    ) -> ValueOwnerPair: ...
    @overload
    def pop(
        self, key: str, default: bytes | None = None, return_owner: bool = False
    ) -> bytes | ValueOwnerPair | None: ...
    def pop(
        self, key: str, default: bytes | None = None, return_owner: bool = False
    ) -> bytes | ValueOwnerPair | None:
        """Delete ``key``; return its value, or ``default`` (not ``KeyError``) if it was missing."""
        return self._loop.run(self._async.pop(key, default, return_owner))

    @overload
    def pop_prefix(self, prefix: str, return_owner: Literal[False] = False) -> ValuesByKey: ...
    @overload
    def pop_prefix(self, prefix: str, return_owner: Literal[True]) -> PairsByKey: ...
    @overload
    def pop_prefix(self, prefix: str, return_owner: bool = False) -> Items: ...
    def pop_prefix(self, prefix: str, return_owner: bool = False) -> Items:
        """Delete every key starting with ``prefix``; return them and their values, in order."""
        return self._loop.run(self._async.pop_prefix(prefix, return_owner))

    @overload
    def pop_range(
        self, start: str | None = None, end: str | None = None, return_owner: Literal[False] = False
    ) -> ValuesByKey: ...
    @overload
    def pop_range(
        self, start: str | None = None, end: str | None = None, *, return_owner: Literal[True]
    ) -> PairsByKey: ...
    @overload
    def pop_range(
        self, start: str | None = None, end: str | None = None, return_owner: bool = False
    ) -> Items: ...
    def pop_range(
        self, start: str | None = None, end: str | None = None, return_owner: bool = False
    ) -> Items:
        """Delete every key of ``[start, end)``; return them and their values, in order."""
        return self._loop.run(self._async.pop_range(start, end, return_owner))

    def discard(self, key: str) -> bool:
        """Delete ``key`` if it is there; return whether it was."""
        return self._loop.run(self._async.discard(key))

    @overload
    def discard_prefix(self, prefix: str, return_keys: Literal[False] = False) -> int: ...
    @overload
    def discard_prefix(self, prefix: str, return_keys: Literal[True]) -> list[str]: ...
    @overload
    def discard_prefix(self, prefix: str, return_keys: bool = False) -> int | list[str]: ...
    def discard_prefix(self, prefix: str, return_keys: bool = False) -> int | list[str]:
        """Delete every key starting with ``prefix``; return how many (or which)."""
        return self._loop.run(self._async.discard_prefix(prefix, return_keys))

    @overload
    def discard_range(
        self, start: str | None = None, end: str | None = None, return_keys: Literal[False] = False
    ) -> int: ...
    @overload
    def discard_range(
        self, start: str | None = None, end: str | None = None, *, return_keys: Literal[True]
    ) -> list[str]: ...
    @overload
    def discard_range(
        self, start: str | None = None, end: str | None = None, return_keys: bool = False
    ) -> int | list[str]: ...
    def discard_range(
        self, start: str | None = None, end: str | None = None, return_keys: bool = False
    ) -> int | list[str]:
        """Delete every key of ``[start, end)`` (all by default); return how many (or which)."""
        return self._loop.run(self._async.discard_range(start, end, return_keys))

    # -- writes ---------------------------------------------------------------------

    def put(self, key: str, value: _Value = no_change, owner: _Owner = no_change) -> None:
        """Set the value and/or owner of ``key``; see :meth:`AsyncKeyValueStore.put`.

        Example:
            >>> app.kv.put("workers/0", b"host-a", owner="worker_0")  # doctest: +SKIP

            ``owner=None`` alone keeps the value and clears the owner.
            >>> app.kv.put("workers/0", owner=None)  # doctest: +SKIP
        """
        self._loop.run(self._async.put(key, value, owner))

    @overload
    def swap(
        self,
        key: str,
        value: _Value = no_change,
        owner: _Owner = no_change,
        return_owner: Literal[False] = False,
    ) -> bytes | None: ...
    @overload
    def swap(
        self,
        key: str,
        value: _Value = no_change,
        owner: _Owner = no_change,
        *,
        return_owner: Literal[True],
    ) -> ValueOwnerPair: ...
    @overload
    def swap(
        self,
        key: str,
        value: _Value = no_change,
        owner: _Owner = no_change,
        return_owner: bool = False,
    ) -> bytes | ValueOwnerPair | None: ...
    def swap(
        self,
        key: str,
        value: _Value = no_change,
        owner: _Owner = no_change,
        return_owner: bool = False,
    ) -> bytes | ValueOwnerPair | None:
        """Set the value and/or owner of ``key``; return the previous value (None if new)."""
        return self._loop.run(self._async.swap(key, value, owner, return_owner))

    def transaction(
        self,
        conditions: Condition | Iterable[Condition] | None = None,
        on_success: Operation[object] | Iterable[Operation[object]] | None = None,
        on_failure: Operation[object] | Iterable[Operation[object]] | None = None,
    ) -> TransactionResult:
        """Test conditions, then run one branch of operations, atomically.

        See :meth:`AsyncKeyValueStore.transaction`.

        Example:
            A compare-and-swap: set ``key`` to ``new`` only if it is ``old``.

            >>> from skein import kv
            >>> def compare_and_swap(app, key, old, new):
            ...     result = app.kv.transaction(
            ...         conditions=[kv.value(key) == old], on_success=[kv.put(key, new)]
            ...     )
            ...     return result.succeeded
        """
        return self._loop.run(self._async.transaction(conditions, on_success, on_failure))

    # -- events ---------------------------------------------------------------------

    def event_queue(self) -> EventQueue:
        """A new event queue, subscribed to nothing yet."""
        return EventQueue(self._async.event_queue(), self._loop)

    def events(
        self,
        event_filter: EventFilter | None = None,
        key: str | None = None,
        prefix: str | None = None,
        start: str | None = None,
        end: str | None = None,
        event_type: EventType | str | None = None,
        *,
        start_revision: int = 0,
    ) -> EventQueue:
        """A new event queue subscribed to one filter (every event, with no arguments).

        See :meth:`AsyncKeyValueStore.events`.

        Example:
            >>> for event in app.kv.events(prefix="jobs/", event_type="PUT"):  # doctest: +SKIP
            ...     print(event.key, event.result.value)
        """
        queue = self.event_queue()
        queue.subscribe(
            event_filter, key, prefix, start, end, event_type, start_revision=start_revision
        )
        return queue

    @overload
    def wait(
        self, key: str, return_owner: Literal[False] = False, *, timeout: float | None = None
    ) -> bytes: ...
    @overload
    def wait(
        self, key: str, return_owner: Literal[True], *, timeout: float | None = None
    ) -> ValueOwnerPair: ...
    @overload
    def wait(
        self, key: str, return_owner: bool = False, *, timeout: float | None = None
    ) -> bytes | ValueOwnerPair: ...
    def wait(
        self, key: str, return_owner: bool = False, *, timeout: float | None = None
    ) -> bytes | ValueOwnerPair:
        """The value of ``key``, blocking until the key exists (``timeout``: beyond Skein 0.8).

        Example:
            >>> address = app.kv.wait("scheduler/address")  # doctest: +SKIP
        """
        return self._loop.run(self._async.wait(key, return_owner, timeout=timeout))
