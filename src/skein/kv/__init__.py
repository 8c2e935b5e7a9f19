"""The key-value store of a Skein application: Skein 0.8's ``skein.kv``, with an asyncio core.

Every application master holds an in-memory, revisioned key-value store
(modelled on etcd) that the application's containers and clients share:
``str`` keys, ``bytes`` values, each key optionally owned by a live service
container (and deleted when that container completes). It is reached as
``app.kv`` of an :class:`~skein.ApplicationClient` (a blocking
:class:`KeyValueStore`, a ``MutableMapping``) or of an
``AsyncApplicationClient`` (an :class:`AsyncKeyValueStore`).

The module also holds the operation classes (``get``, ``put``, ...) and the
conditions (``value``, ``owner``, ``exists``, ...) that make up
transactions, and the event filters and queues of subscriptions.

Example:
    >>> from skein import kv
    >>> kv.value("lock") == b"free"
    value('lock') == b'free'
    >>> app.kv.transaction(  # doctest: +SKIP
    ...     conditions=[kv.value("lock") == b"free"],
    ...     on_success=[kv.put("lock", b"taken", owner="worker_0")],
    ... ).succeeded
    True
"""

from __future__ import annotations

from skein.kv.async_event_queue import AsyncEventQueue
from skein.kv.async_store import AsyncKeyValueStore
from skein.kv.conditions import (
    Condition,
    comparison,
    create_revision,
    is_condition,
    mod_revision,
    owner,
    value,
    version,
)
from skein.kv.deletes import discard, discard_prefix, discard_range, pop, pop_prefix, pop_range
from skein.kv.event_queue import EventQueue
from skein.kv.events import Event, EventFilter, EventType
from skein.kv.operation import Operation, is_operation
from skein.kv.reads import (
    count,
    exists,
    get,
    get_metadata,
    get_prefix,
    get_range,
    list_keys,
    missing,
)
from skein.kv.records import KeyMetadata, TransactionResult, ValueOwnerPair
from skein.kv.store import KeyValueStore
from skein.kv.writes import put, swap

__all__ = [
    "AsyncEventQueue",
    "AsyncKeyValueStore",
    "Condition",
    "Event",
    "EventFilter",
    "EventQueue",
    "EventType",
    "KeyMetadata",
    "KeyValueStore",
    "Operation",
    "TransactionResult",
    "ValueOwnerPair",
    "comparison",
    "count",
    "create_revision",
    "discard",
    "discard_prefix",
    "discard_range",
    "exists",
    "get",
    "get_metadata",
    "get_prefix",
    "get_range",
    "is_condition",
    "is_operation",
    "list_keys",
    "missing",
    "mod_revision",
    "owner",
    "pop",
    "pop_prefix",
    "pop_range",
    "put",
    "swap",
    "value",
    "version",
]
