"""What the store is asked to do, and what it answers: plain immutable values.

A request is a :class:`GetRange`, :class:`DeleteRange` or :class:`Put`; each
can run alone or as one step of a transaction. A mutating call returns an
:class:`Outcome`: its result, the store revision after it, and the events it
produced (empty when it changed nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from skein.kvstore.keys import KeyRange
from skein.kvstore.records import Event, KeyValue, Owner

__all__ = [
    "DeleteRange",
    "DeleteResult",
    "GetRange",
    "Operation",
    "OperationResult",
    "Outcome",
    "Put",
    "PutResult",
    "RangeResult",
    "TransactionResult",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class GetRange:
    """Read the keys of a range.

    Example:
        >>> GetRange(keys=KeyRange.prefix("a/"))
        GetRange(keys=KeyRange(start='a/', end='a0'))
    """

    keys: KeyRange


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteRange:
    """Delete the keys of a range (none there is not an error)."""

    keys: KeyRange


@dataclass(frozen=True, slots=True, kw_only=True)
class Put:
    """Write a key's value and/or owner.

    Args:
        key: the key (not empty).
        value: the new value, unless ``ignore_value``.
        owner: the new owner (None: no owner), unless ``ignore_owner``.
        ignore_value: keep the current value; the key must already exist.
        ignore_owner: keep the current owner (none for a new key).

    Example:
        >>> Put(key="a", owner=Owner("worker", 0), ignore_value=True).value
        b''
    """

    key: str
    value: bytes = b""
    owner: Owner | None = None
    ignore_value: bool = False
    ignore_owner: bool = False


Operation = GetRange | DeleteRange | Put
"""One step of a transaction."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RangeResult:
    """The entries of a range, in key order."""

    kvs: tuple[KeyValue, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PutResult:
    """A key as written, and as it was before (None if it was new)."""

    kv: KeyValue
    previous: KeyValue | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteResult:
    """The entries deleted, in key order, as they were before."""

    deleted: tuple[KeyValue, ...]


OperationResult = RangeResult | PutResult | DeleteResult
"""The result of one :data:`Operation`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionResult:
    """Which branch ran, and the results of its operations in order."""

    succeeded: bool
    results: tuple[OperationResult, ...]


R = TypeVar("R", RangeResult, PutResult, DeleteResult, TransactionResult)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome(Generic[R]):
    """The answer to a mutating call.

    Attributes:
        result: what the call returns.
        revision: the store's revision after the call.
        events: the changes the call made, in order, all at ``revision``;
            empty if it changed nothing (and then the revision did not move).
    """

    result: R
    revision: int
    events: tuple[Event, ...]
