"""Operations that read the store (``GetRange`` requests).

Each is a Skein 0.8 operation class (``count``, ``list_keys``, ``exists``,
``missing``, ``get``, ``get_prefix``, ``get_range``) plus :class:`get_metadata`.
Use them as transaction steps, or through the store's method of the same name.
``exists`` and ``missing`` are also :class:`~skein.kv.conditions.Condition`\\ s.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import final

from skein._proto.api import skein_pb2 as pb
from skein.kv.conditions import Condition
from skein.kv.operation import (
    GetRangeOperation,
    check_type,
    key_bounds,
    prefix_bounds,
    range_bounds,
)
from skein.kv.records import KeyMetadata, ValueOwnerPair, metadata_from_proto, pair_from_proto

__all__ = [
    "Items",
    "PairsByKey",
    "ValuesByKey",
    "count",
    "exists",
    "get",
    "get_metadata",
    "get_prefix",
    "get_range",
    "items_from_proto",
    "list_keys",
    "missing",
    "span_bounds",
]

ValuesByKey = OrderedDict[str, bytes]
"""Keys and their values, in key order."""

PairsByKey = OrderedDict[str, ValueOwnerPair]
"""Keys and their values and owners, in key order."""

Items = ValuesByKey | PairsByKey
"""What a range read returns: :data:`ValuesByKey`, or :data:`PairsByKey` with ``return_owner``."""


def span_bounds(start: str | None, end: str | None, prefix: str | None) -> tuple[str, str]:
    """Check the ``start``/``end``/``prefix`` arguments of a read and return the wire range.

    Raises:
        TypeError: an argument is not a string or None.
        ValueError: both ``prefix`` and ``start``/``end`` are given.

    Example:
        >>> span_bounds(None, None, "a/")
        ('a/', 'a0')
        >>> span_bounds("a", None, "a/")
        Traceback (most recent call last):
        ...
        ValueError: Cannot specify `prefix` and `start`/`end`
    """
    check_type("start", start, str, nullable=True)
    check_type("end", end, str, nullable=True)
    check_type("prefix", prefix, str, nullable=True)
    if prefix is None:
        return range_bounds(start, end)
    if start is not None or end is not None:
        raise ValueError("Cannot specify `prefix` and `start`/`end`")
    return prefix_bounds(prefix)


def items_from_proto(kvs: Iterable[pb.KeyValue], return_owner: bool) -> Items:
    """The ordered mapping Skein returns for a range of wire ``KeyValue``\\ s.

    Example:
        >>> dict(items_from_proto([pb.KeyValue(key="a", value=b"1")], return_owner=False))
        {'a': b'1'}
    """
    if return_owner:
        return OrderedDict((kv.key, pair_from_proto(kv)) for kv in kvs)
    return OrderedDict((kv.key, kv.value) for kv in kvs)


@final
@dataclass(frozen=True, slots=True)
class count(GetRangeOperation[int]):
    """Count keys: all of them, a range, or those with a prefix.

    Args:
        start: the range's first key (inclusive); None for unbounded.
        end: the key after the range (exclusive); None for unbounded.
        prefix: count the keys that start with this instead (not with ``start``/``end``).

    Returns (when run): the number of keys, an ``int``.

    Example:
        >>> count(prefix="worker/")
        count(start=None, end=None, prefix='worker/')
    """

    start: str | None = None
    end: str | None = None
    prefix: str | None = None

    def __post_init__(self) -> None:
        span_bounds(self.start, self.end, self.prefix)

    def _request(self) -> pb.GetRangeRequest:
        start, end = span_bounds(self.start, self.end, self.prefix)
        return pb.GetRangeRequest(start=start, end=end, result_type=pb.NONE)

    def _parse(self, response: pb.GetRangeResponse) -> int:
        return response.count


@final
@dataclass(frozen=True, slots=True)
class list_keys(GetRangeOperation[list[str]]):
    """List keys, in order: all of them, a range, or those with a prefix.

    Args:
        start: the range's first key (inclusive); None for unbounded.
        end: the key after the range (exclusive); None for unbounded.
        prefix: list the keys that start with this instead (not with ``start``/``end``).

    Returns (when run): a ``list`` of keys.

    Example:
        >>> list_keys("a", "b")
        list_keys(start='a', end='b', prefix=None)
    """

    start: str | None = None
    end: str | None = None
    prefix: str | None = None

    def __post_init__(self) -> None:
        span_bounds(self.start, self.end, self.prefix)

    def _request(self) -> pb.GetRangeRequest:
        start, end = span_bounds(self.start, self.end, self.prefix)
        return pb.GetRangeRequest(start=start, end=end, result_type=pb.KEYS)

    def _parse(self, response: pb.GetRangeResponse) -> list[str]:
        return [kv.key for kv in response.result]


@final
@dataclass(frozen=True, slots=True)
class exists(GetRangeOperation[bool], Condition):
    """Whether a key is in the store; also a transaction condition.

    Args:
        key: the key.

    Returns (when run): ``bool``.

    Example:
        >>> exists("ready")
        exists(key='ready')
    """

    key: str

    def __post_init__(self) -> None:
        check_type("key", self.key, str)

    def _request(self) -> pb.GetRangeRequest:
        start, end = key_bounds(self.key)
        return pb.GetRangeRequest(start=start, end=end, result_type=pb.NONE)

    def _parse(self, response: pb.GetRangeResponse) -> bool:
        return response.count > 0

    def _condition(self) -> pb.Condition:
        # The value is unset (None) only for a missing key.
        return pb.Condition(key=self.key, operator=pb.Condition.NOT_EQUAL, field=pb.Condition.VALUE)


@final
@dataclass(frozen=True, slots=True)
class missing(GetRangeOperation[bool], Condition):
    """Whether a key is absent from the store (the inverse of :class:`exists`); also a condition.

    Args:
        key: the key.

    Returns (when run): ``bool``.

    Example:
        >>> missing("lock")
        missing(key='lock')
    """

    key: str

    def __post_init__(self) -> None:
        check_type("key", self.key, str)

    def _request(self) -> pb.GetRangeRequest:
        start, end = key_bounds(self.key)
        return pb.GetRangeRequest(start=start, end=end, result_type=pb.NONE)

    def _parse(self, response: pb.GetRangeResponse) -> bool:
        return response.count == 0

    def _condition(self) -> pb.Condition:
        return pb.Condition(key=self.key, operator=pb.Condition.EQUAL, field=pb.Condition.VALUE)


@final
@dataclass(frozen=True, slots=True)
class get(GetRangeOperation[bytes | ValueOwnerPair | None]):
    """Get the value of one key.

    Args:
        key: the key.
        default: returned (as the value) if the key is missing.
        return_owner: return a :class:`ValueOwnerPair` of the value and owner
            (``ValueOwnerPair(default, None)`` for a missing key).

    Returns (when run): ``bytes`` (or ``default``), or a ``ValueOwnerPair``.

    Example:
        >>> get("config", default=b"{}")
        get(key='config', default=b'{}', return_owner=False)
    """

    key: str
    default: bytes | None = None
    return_owner: bool = False

    def __post_init__(self) -> None:
        check_type("key", self.key, str)
        check_type("default", self.default, bytes, nullable=True)
        check_type("return_owner", self.return_owner, bool)

    def _request(self) -> pb.GetRangeRequest:
        start, end = key_bounds(self.key)
        return pb.GetRangeRequest(start=start, end=end, result_type=pb.ITEMS)

    def _parse(self, response: pb.GetRangeResponse) -> bytes | ValueOwnerPair | None:
        if not response.result:
            return ValueOwnerPair(self.default, None) if self.return_owner else self.default
        kv = response.result[0]
        return pair_from_proto(kv) if self.return_owner else kv.value


@final
@dataclass(frozen=True, slots=True)
class get_metadata(GetRangeOperation[KeyMetadata | None]):
    """Get everything about one key: value, owner and revisions (beyond Skein 0.8).

    Args:
        key: the key.

    Returns (when run): a :class:`KeyMetadata`, or None if the key is missing.

    Example:
        >>> get_metadata("config")
        get_metadata(key='config')
    """

    key: str

    def __post_init__(self) -> None:
        check_type("key", self.key, str)

    def _request(self) -> pb.GetRangeRequest:
        start, end = key_bounds(self.key)
        return pb.GetRangeRequest(start=start, end=end, result_type=pb.ITEMS)

    def _parse(self, response: pb.GetRangeResponse) -> KeyMetadata | None:
        return metadata_from_proto(response.result[0]) if response.result else None


@final
@dataclass(frozen=True, slots=True)
class get_prefix(GetRangeOperation[Items]):
    """Get every key that starts with a prefix, with its value.

    Args:
        prefix: the prefix ("" for every key).
        return_owner: map keys to :class:`ValueOwnerPair`\\ s instead of values.

    Returns (when run): an ``OrderedDict`` in key order.

    Example:
        >>> get_prefix("worker/")
        get_prefix(prefix='worker/', return_owner=False)
    """

    prefix: str
    return_owner: bool = False

    def __post_init__(self) -> None:
        check_type("prefix", self.prefix, str)
        check_type("return_owner", self.return_owner, bool)

    def _request(self) -> pb.GetRangeRequest:
        start, end = prefix_bounds(self.prefix)
        return pb.GetRangeRequest(start=start, end=end, result_type=pb.ITEMS)

    def _parse(self, response: pb.GetRangeResponse) -> Items:
        return items_from_proto(response.result, self.return_owner)


@final
@dataclass(frozen=True, slots=True)
class get_range(GetRangeOperation[Items]):
    """Get every key of a range, with its value.

    Args:
        start: the range's first key (inclusive); None for unbounded.
        end: the key after the range (exclusive); None for unbounded.
        return_owner: map keys to :class:`ValueOwnerPair`\\ s instead of values.

    Returns (when run): an ``OrderedDict`` in key order.

    Example:
        >>> get_range("a", "c", return_owner=True)
        get_range(start='a', end='c', return_owner=True)
    """

    start: str | None = None
    end: str | None = None
    return_owner: bool = False

    def __post_init__(self) -> None:
        check_type("start", self.start, str, nullable=True)
        check_type("end", self.end, str, nullable=True)
        check_type("return_owner", self.return_owner, bool)

    def _request(self) -> pb.GetRangeRequest:
        start, end = range_bounds(self.start, self.end)
        return pb.GetRangeRequest(start=start, end=end, result_type=pb.ITEMS)

    def _parse(self, response: pb.GetRangeResponse) -> Items:
        return items_from_proto(response.result, self.return_owner)
