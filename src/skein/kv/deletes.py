"""Operations that delete keys (``DeleteRange`` requests).

Skein 0.8's ``pop``, ``pop_prefix``, ``pop_range`` (which return what they
deleted) and ``discard``, ``discard_prefix``, ``discard_range`` (which return
whether, how many or which keys they deleted). Every deleted key sends one
DELETE event to the watchers that match it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

from skein._proto.api import skein_pb2 as pb
from skein.kv.operation import (
    DeleteRangeOperation,
    check_type,
    key_bounds,
    prefix_bounds,
    range_bounds,
)
from skein.kv.reads import Items, items_from_proto
from skein.kv.records import ValueOwnerPair, pair_from_proto

__all__ = ["discard", "discard_prefix", "discard_range", "pop", "pop_prefix", "pop_range"]


def _keys_or_count(response: pb.DeleteRangeResponse, return_keys: bool) -> int | list[str]:
    return [kv.key for kv in response.result] if return_keys else response.count


@final
@dataclass(frozen=True, slots=True)
class pop(DeleteRangeOperation[bytes | ValueOwnerPair | None]):
    """Delete one key and return its value.

    Args:
        key: the key.
        default: returned (as the value) if the key is missing.
        return_owner: return a :class:`ValueOwnerPair` of the value and owner
            (``ValueOwnerPair(default, None)`` for a missing key).

    Returns (when run): ``bytes`` (or ``default``), or a ``ValueOwnerPair``.

    Example:
        >>> pop("job", return_owner=True)
        pop(key='job', default=None, return_owner=True)
    """

    key: str
    default: bytes | None = None
    return_owner: bool = False

    def __post_init__(self) -> None:
        check_type("key", self.key, str)
        check_type("default", self.default, bytes, nullable=True)
        check_type("return_owner", self.return_owner, bool)

    def _request(self) -> pb.DeleteRangeRequest:
        start, end = key_bounds(self.key)
        return pb.DeleteRangeRequest(start=start, end=end, result_type=pb.ITEMS)

    def _parse(self, response: pb.DeleteRangeResponse) -> bytes | ValueOwnerPair | None:
        if not response.result:
            return ValueOwnerPair(self.default, None) if self.return_owner else self.default
        kv = response.result[0]
        return pair_from_proto(kv) if self.return_owner else kv.value


@final
@dataclass(frozen=True, slots=True)
class pop_prefix(DeleteRangeOperation[Items]):
    """Delete every key that starts with a prefix, and return them with their values.

    Args:
        prefix: the prefix ("" for every key).
        return_owner: map keys to :class:`ValueOwnerPair`\\ s instead of values.

    Returns (when run): an ``OrderedDict`` in key order.

    Example:
        >>> pop_prefix("tmp/")
        pop_prefix(prefix='tmp/', return_owner=False)
    """

    prefix: str
    return_owner: bool = False

    def __post_init__(self) -> None:
        check_type("prefix", self.prefix, str)
        check_type("return_owner", self.return_owner, bool)

    def _request(self) -> pb.DeleteRangeRequest:
        start, end = prefix_bounds(self.prefix)
        return pb.DeleteRangeRequest(start=start, end=end, result_type=pb.ITEMS)

    def _parse(self, response: pb.DeleteRangeResponse) -> Items:
        return items_from_proto(response.result, self.return_owner)


@final
@dataclass(frozen=True, slots=True)
class pop_range(DeleteRangeOperation[Items]):
    """Delete every key of a range, and return them with their values.

    Args:
        start: the range's first key (inclusive); None for unbounded.
        end: the key after the range (exclusive); None for unbounded.
        return_owner: map keys to :class:`ValueOwnerPair`\\ s instead of values.

    Returns (when run): an ``OrderedDict`` in key order.

    Example:
        >>> pop_range(end="m")
        pop_range(start=None, end='m', return_owner=False)
    """

    start: str | None = None
    end: str | None = None
    return_owner: bool = False

    def __post_init__(self) -> None:
        check_type("start", self.start, str, nullable=True)
        check_type("end", self.end, str, nullable=True)
        check_type("return_owner", self.return_owner, bool)

    def _request(self) -> pb.DeleteRangeRequest:
        start, end = range_bounds(self.start, self.end)
        return pb.DeleteRangeRequest(start=start, end=end, result_type=pb.ITEMS)

    def _parse(self, response: pb.DeleteRangeResponse) -> Items:
        return items_from_proto(response.result, self.return_owner)


@final
@dataclass(frozen=True, slots=True)
class discard(DeleteRangeOperation[bool]):
    """Delete one key, if it is there.

    Args:
        key: the key.

    Returns (when run): whether the key was there (``bool``).

    Example:
        >>> discard("lock")
        discard(key='lock')
    """

    key: str

    def __post_init__(self) -> None:
        check_type("key", self.key, str)

    def _request(self) -> pb.DeleteRangeRequest:
        start, end = key_bounds(self.key)
        return pb.DeleteRangeRequest(start=start, end=end, result_type=pb.NONE)

    def _parse(self, response: pb.DeleteRangeResponse) -> bool:
        return response.count > 0


@final
@dataclass(frozen=True, slots=True)
class discard_prefix(DeleteRangeOperation[int | list[str]]):
    """Delete every key that starts with a prefix.

    Args:
        prefix: the prefix ("" for every key).
        return_keys: return the deleted keys instead of their number.

    Returns (when run): the number of keys deleted, or the list of them.

    Example:
        >>> discard_prefix("tmp/", return_keys=True)
        discard_prefix(prefix='tmp/', return_keys=True)
    """

    prefix: str
    return_keys: bool = False

    def __post_init__(self) -> None:
        check_type("prefix", self.prefix, str)
        check_type("return_keys", self.return_keys, bool)

    def _request(self) -> pb.DeleteRangeRequest:
        start, end = prefix_bounds(self.prefix)
        result_type = pb.KEYS if self.return_keys else pb.NONE
        return pb.DeleteRangeRequest(start=start, end=end, result_type=result_type)

    def _parse(self, response: pb.DeleteRangeResponse) -> int | list[str]:
        return _keys_or_count(response, self.return_keys)


@final
@dataclass(frozen=True, slots=True)
class discard_range(DeleteRangeOperation[int | list[str]]):
    """Delete every key of a range (every key, by default).

    Args:
        start: the range's first key (inclusive); None for unbounded.
        end: the key after the range (exclusive); None for unbounded.
        return_keys: return the deleted keys instead of their number.

    Returns (when run): the number of keys deleted, or the list of them.

    Example:
        >>> discard_range()
        discard_range(start=None, end=None, return_keys=False)
    """

    start: str | None = None
    end: str | None = None
    return_keys: bool = False

    def __post_init__(self) -> None:
        check_type("start", self.start, str, nullable=True)
        check_type("end", self.end, str, nullable=True)
        check_type("return_keys", self.return_keys, bool)

    def _request(self) -> pb.DeleteRangeRequest:
        start, end = range_bounds(self.start, self.end)
        result_type = pb.KEYS if self.return_keys else pb.NONE
        return pb.DeleteRangeRequest(start=start, end=end, result_type=result_type)

    def _parse(self, response: pb.DeleteRangeResponse) -> int | list[str]:
        return _keys_or_count(response, self.return_keys)
