"""The application master's key-value store: etcd's model with Skein 0.8's semantics.

A pure, synchronous, in-memory store (no I/O, no asyncio): a sorted map from
``str`` keys to ``bytes`` values, each optionally owned by a service
container, with etcd's revisions (``create_revision``, ``mod_revision``,
``version``), compare-then-act transactions, a bounded event history and
watchers with bounded buffers. :mod:`skein.api.kv_service` serves it over gRPC.
See ``docs/kv.md`` for the semantics and the limits.

Example:
    >>> from skein.kvstore import KeyRange, Put, Store
    >>> store = Store()
    >>> watcher = store.watch(KeyRange.prefix("config/"))
    >>> store.put(Put(key="config/a", value=b"1")).revision
    2
    >>> [(event.kv.key, event.kv.value) for event in watcher.take()]
    [('config/a', b'1')]
"""

from __future__ import annotations

from skein.kvstore.conditions import Condition, Field, Operator
from skein.kvstore.errors import KeyValueError
from skein.kvstore.keys import KeyRange, prefix_end
from skein.kvstore.limits import (
    HISTORY_MAX_BYTES,
    HISTORY_MAX_EVENTS,
    MAX_KEY_BYTES,
    MAX_VALUE_BYTES,
    WATCHER_MAX_BYTES,
    WATCHER_MAX_EVENTS,
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
from skein.kvstore.store import OwnerCheck, Store
from skein.kvstore.watch import NotifyCallback, Watcher

__all__ = [
    "HISTORY_MAX_BYTES",
    "HISTORY_MAX_EVENTS",
    "MAX_KEY_BYTES",
    "MAX_VALUE_BYTES",
    "WATCHER_MAX_BYTES",
    "WATCHER_MAX_EVENTS",
    "Condition",
    "DeleteRange",
    "DeleteResult",
    "Event",
    "EventType",
    "Field",
    "GetRange",
    "KeyRange",
    "KeyValue",
    "KeyValueError",
    "NotifyCallback",
    "Operation",
    "OperationResult",
    "Operator",
    "Outcome",
    "Owner",
    "OwnerCheck",
    "Put",
    "PutResult",
    "RangeResult",
    "Store",
    "TransactionResult",
    "Watcher",
    "prefix_end",
]
