"""The store: a revisioned, sorted map from keys to values and owners.

Theory of operation. The store holds one :class:`~skein.kvstore.records.KeyValue`
per key, a sorted list of the keys (for ranges), and an index from each owner
to the keys it owns (so releasing an owner costs what it owns, not the store's
size). It is synchronous and does no I/O: the asyncio master calls it from
one thread, and since a call never waits, every call is atomic.

Revisions follow etcd. The empty store is at revision 1. Each call that
changes something (a put, a delete that deletes something, a transaction, an
owner's release) moves the revision on by one, and all its changes share that
revision: it becomes their ``mod_revision``, the ``create_revision`` of keys it
creates, and the ``revision`` of the events it produces. A key's ``version``
counts its puts since it was created. Every put produces a PUT event (even
one that only changes the owner); every deleted key a DELETE event.

Every write runs as a transaction (single puts and deletes are one-step
ones): its steps apply in order, each change is logged, and if a step is
rejected the log is undone. Nothing is published (revision, history,
watchers) until the last step succeeded, so a rejected request has no effect.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, final

from skein.kvstore.conditions import Condition
from skein.kvstore.errors import KeyValueError
from skein.kvstore.history import History
from skein.kvstore.key_index import KeyIndex
from skein.kvstore.keys import KeyRange
from skein.kvstore.limits import (
    HISTORY_MAX_BYTES,
    HISTORY_MAX_EVENTS,
    WATCHER_MAX_BYTES,
    WATCHER_MAX_EVENTS,
    check_key,
    check_value,
    event_size,
)
from skein.kvstore.operations import (
    DeleteRange,
    DeleteResult,
    GetRange,
    Operation,
    OperationResult,
    Outcome,
    Put,
    PutResult,
    RangeResult,
    TransactionResult,
)
from skein.kvstore.records import Event, EventType, KeyValue, Owner
from skein.kvstore.watch import NotifyCallback, Watcher, WatcherGroup

__all__ = ["OwnerCheck", "Store"]

OwnerCheck = Callable[[Owner], str | None]
"""Says why an owner cannot own keys ("Unknown service 'x'", "Container 'x_3'
has already completed", ...), or None if it is a live container."""

R = TypeVar("R", RangeResult, PutResult, DeleteResult, TransactionResult)


def _any_owner(owner: Owner) -> str | None:
    return None


@dataclass(slots=True)
class _Write:
    """The state of one write transaction: its revision, its events, its undo log."""

    revision: int
    events: list[Event] = field(default_factory=list)
    undo: list[tuple[str, KeyValue | None]] = field(default_factory=list)


@final
class Store:
    """The key-value store of one application.

    Args:
        check_owner: validates owners of puts; by default every owner is accepted.
        history_max_events: events kept for watches from past revisions.
        history_max_bytes: bytes of events kept for them.
        watcher_max_events: unread events a watcher may hold before it is cancelled.
        watcher_max_bytes: bytes of unread events it may hold.

    Example:
        >>> store = Store()
        >>> outcome = store.put(Put(key="a", value=b"1", owner=Owner("worker", 0)))
        >>> outcome.revision, outcome.result.kv.version, store.owned_keys(Owner("worker", 0))
        (2, 1, ('a',))
        >>> [kv.key for kv in store.range(KeyRange()).kvs]
        ['a']
        >>> [event.type.value for event in store.release_owner(Owner("worker", 0)).events]
        ['DELETE']
        >>> store.revision, len(store)
        (3, 0)
    """

    def __init__(
        self,
        *,
        check_owner: OwnerCheck | None = None,
        history_max_events: int = HISTORY_MAX_EVENTS,
        history_max_bytes: int = HISTORY_MAX_BYTES,
        watcher_max_events: int = WATCHER_MAX_EVENTS,
        watcher_max_bytes: int = WATCHER_MAX_BYTES,
    ) -> None:
        self._check_owner = check_owner or _any_owner
        self._entries: dict[str, KeyValue] = {}
        self._keys = KeyIndex()
        self._owned: dict[Owner, set[str]] = {}
        self._revision = 1
        self._history = History(max_events=history_max_events, max_bytes=history_max_bytes)
        self._watchers = WatcherGroup()
        self._watcher_max_events = watcher_max_events
        self._watcher_max_bytes = watcher_max_bytes

    # -- reading ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def revision(self) -> int:
        """The revision of the last change (1 for a store never changed)."""
        return self._revision

    @property
    def oldest_revision(self) -> int:
        """The oldest revision a watch can still start from."""
        return self._history.oldest_revision

    @property
    def watcher_count(self) -> int:
        """How many watchers are live."""
        return len(self._watchers)

    def get(self, key: str) -> KeyValue | None:
        """The entry of ``key``, or None."""
        return self._entries.get(key)

    def range(self, keys: KeyRange) -> RangeResult:
        """The entries of a range, in key order."""
        entries = self._entries
        return RangeResult(kvs=tuple(entries[key] for key in self._keys.keys(keys.start, keys.end)))

    def count(self, keys: KeyRange) -> int:
        """How many keys a range holds."""
        return self._keys.count(keys.start, keys.end)

    def owned_keys(self, owner: Owner) -> tuple[str, ...]:
        """The keys ``owner`` owns, sorted."""
        return tuple(sorted(self._owned.get(owner, ())))

    # -- writing ----------------------------------------------------------------------

    def put(self, request: Put) -> Outcome[PutResult]:
        """Write a key.

        Raises:
            KeyValueError: the key or value breaks a limit, ``ignore_value`` is
                set but the key is missing, or the owner is not a live container.
        """
        write = self._begin()
        with self._undo_on_error(write):
            result = self._put(write, request)
        return self._commit(write, result)

    def delete_range(self, keys: KeyRange) -> Outcome[DeleteResult]:
        """Delete the keys of a range; deleting nothing leaves the revision alone."""
        write = self._begin()
        result = self._delete_range(write, keys)
        return self._commit(write, result)

    def transaction(
        self,
        conditions: Sequence[Condition] = (),
        on_success: Sequence[Operation] = (),
        on_failure: Sequence[Operation] = (),
    ) -> Outcome[TransactionResult]:
        """Run ``on_success`` if every condition holds, else ``on_failure``.

        The branch's operations apply in order, each seeing the ones before,
        under one revision. If any is rejected none applies.

        Raises:
            KeyValueError: an operation of the chosen branch was rejected.

        Example:
            >>> from skein.kvstore import Field, Operator
            >>> store = Store()
            >>> missing = Condition(key="lock", field=Field.VERSION, operator=Operator.EQUAL, rhs=0)
            >>> take = Put(key="lock", value=b"me")
            >>> [store.transaction([missing], [take]).result.succeeded for _ in range(2)]
            [True, False]
        """
        succeeded = all(c.evaluate(self._entries.get(c.key)) for c in conditions)
        write = self._begin()
        with self._undo_on_error(write):
            results = tuple(
                self._apply(write, op) for op in (on_success if succeeded else on_failure)
            )
        return self._commit(write, TransactionResult(succeeded=succeeded, results=results))

    def release_owner(self, owner: Owner) -> Outcome[DeleteResult]:
        """Delete every key ``owner`` owns, in one revision.

        The master calls this when the owner's container completes (after it
        made ``check_owner`` refuse the owner, so no new key can be given to it).
        """
        write = self._begin()
        doomed = sorted(self._owned.get(owner, ()))
        self._keys.remove_many(doomed)
        deleted = tuple(self._forget(write, key) for key in doomed)
        return self._commit(write, DeleteResult(deleted=deleted))

    # -- watching ---------------------------------------------------------------------

    def watch(
        self,
        keys: KeyRange,
        *,
        event_type: EventType | None = None,
        start_revision: int = 0,
        notify: NotifyCallback | None = None,
    ) -> Watcher:
        """Watch the changes to a range of keys.

        Args:
            keys: the keys watched.
            event_type: only PUT or only DELETE events; None for both.
            start_revision: 0 for the changes from now on; else the changes
                from this revision on, replayed from the history first. If the
                history no longer holds that revision, the watcher comes back
                already cancelled, with :attr:`~Watcher.compact_revision` set.
            notify: called when the watcher has new events or is cancelled by
                the store. It is not called for the replayed events: check
                :attr:`Watcher.pending` after this returns.

        Raises:
            KeyValueError: a negative start revision.
        """
        if start_revision < 0:
            raise KeyValueError(f"start_revision must be >= 0, got {start_revision}")
        watcher = Watcher(
            watch_id=self._watchers.next_id(),
            keys=keys,
            event_type=event_type,
            start_revision=start_revision,
            max_events=self._watcher_max_events,
            max_bytes=self._watcher_max_bytes,
            notify=notify,
        )
        if start_revision:
            oldest = self._history.oldest_revision
            if start_revision < oldest:
                watcher._cancel(
                    f"required revision {start_revision} has been compacted; "
                    f"the oldest revision available is {oldest}",
                    compact_revision=oldest,
                )
                return watcher
            replay = [e for e in self._history.since(start_revision) if watcher.matches(e)]
            if replay:
                watcher._offer(replay, sum(map(event_size, replay)))
        self._watchers.add(watcher)
        return watcher

    def cancel_watch(self, watcher: Watcher) -> None:
        """End a watcher and drop its pending events (no error if it already ended)."""
        self._watchers.remove(watcher)
        watcher._close()

    # -- internals --------------------------------------------------------------------

    def _begin(self) -> _Write:
        return _Write(revision=self._revision + 1)

    @contextlib.contextmanager
    def _undo_on_error(self, write: _Write) -> Iterator[None]:
        try:
            yield
        except BaseException:
            for key, old in reversed(write.undo):
                self._replace(key, old)
            raise

    def _commit(self, write: _Write, result: R) -> Outcome[R]:
        events = tuple(write.events)
        if events:
            self._revision = write.revision
            self._history.append(events)
            self._watchers.dispatch(events)
        return Outcome(result=result, revision=self._revision, events=events)

    def _apply(self, write: _Write, op: Operation) -> OperationResult:
        if isinstance(op, Put):
            return self._put(write, op)
        if isinstance(op, DeleteRange):
            return self._delete_range(write, op.keys)
        if isinstance(op, GetRange):
            return self.range(op.keys)
        raise TypeError(f"not a key-value operation: {op!r}")

    def _put(self, write: _Write, request: Put) -> PutResult:
        key = request.key
        check_key(key)
        previous = self._entries.get(key)
        if request.ignore_value:
            if previous is None:
                raise KeyValueError("ignore_value=True & key isn't already set")
            value = previous.value
        else:
            check_value(key, request.value)
            value = request.value
        if request.ignore_owner:
            owner = previous.owner if previous is not None else None
        else:
            owner = request.owner
            problem = None if owner is None else self._check_owner(owner)
            if problem is not None:
                raise KeyValueError(problem)
        kv = KeyValue(
            key=key,
            value=value,
            owner=owner,
            create_revision=write.revision if previous is None else previous.create_revision,
            mod_revision=write.revision,
            version=1 if previous is None else previous.version + 1,
        )
        write.undo.append((key, self._replace(key, kv)))
        write.events.append(Event(type=EventType.PUT, kv=kv, revision=write.revision))
        return PutResult(kv=kv, previous=previous)

    def _delete_range(self, write: _Write, keys: KeyRange) -> DeleteResult:
        doomed = self._keys.remove_range(keys.start, keys.end)
        return DeleteResult(deleted=tuple(self._forget(write, key) for key in doomed))

    def _forget(self, write: _Write, key: str) -> KeyValue:
        # The key is already out of self._keys; drop the rest of it and log it.
        old = self._entries.pop(key)
        self._disown(old)
        write.undo.append((key, old))
        tombstone = KeyValue(key=key, mod_revision=write.revision)
        write.events.append(Event(type=EventType.DELETE, kv=tombstone, revision=write.revision))
        return old

    def _replace(self, key: str, new: KeyValue | None) -> KeyValue | None:
        old = self._entries.get(key)
        if old is not None:
            self._disown(old)
        if new is None:
            if old is not None:
                del self._entries[key]
                self._keys.remove(key)
            return old
        if old is None:
            self._keys.add(key)
        self._entries[key] = new
        if new.owner is not None:
            self._owned.setdefault(new.owner, set()).add(key)
        return old

    def _disown(self, kv: KeyValue) -> None:
        if kv.owner is None:
            return
        keys = self._owned[kv.owner]
        keys.discard(kv.key)
        if not keys:
            del self._owned[kv.owner]
