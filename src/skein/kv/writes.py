"""Operations that write one key (``PutKey`` requests): Skein 0.8's ``put`` and ``swap``.

A write sets a key's value, its owner, or both. Leaving one out keeps what
the key has (the :data:`no_change` default); leaving out the value of a key
that does not exist yet is an error of the master's. An owner is a live
container's id (``"worker_0"``); None clears the owner. A key whose owner
completes is deleted with it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, Literal, final

from skein._proto.api import skein_pb2 as pb
from skein.kv.operation import PutKeyOperation, check_type
from skein.kv.owners import owner_to_proto
from skein.kv.records import ValueOwnerPair, pair_from_proto

__all__ = ["NoChange", "no_change", "put", "swap"]


class NoChange(enum.Enum):
    """The type of :data:`no_change`."""

    no_change = "no_change"

    def __repr__(self) -> str:
        return "no_change"


no_change: Final = NoChange.no_change
"""The default of ``put``'s and ``swap``'s ``value`` and ``owner``: keep what the key has."""


def _check_owner(owner: object) -> None:
    if owner is not no_change and owner is not None:
        if not isinstance(owner, str):
            raise TypeError("owner must be a string or None")
        owner_to_proto(owner)  # raises on a malformed container id


def _check(key: object, value: object, owner: object) -> None:
    check_type("key", key, str)
    _check_owner(owner)
    if value is no_change and owner is no_change:
        raise ValueError("Must specify 'value', 'owner', or both")
    if value is not no_change:
        check_type("value", value, bytes)


def _request(
    key: str,
    value: bytes | Literal[NoChange.no_change],
    owner: str | Literal[NoChange.no_change] | None,
    return_previous: bool,
) -> pb.PutKeyRequest:
    request = pb.PutKeyRequest(
        key=key,
        ignore_value=value is no_change,
        ignore_owner=owner is no_change,
        return_previous=return_previous,
    )
    if isinstance(value, bytes):
        request.value = value
    if isinstance(owner, str):
        request.owner.CopyFrom(owner_to_proto(owner))
    return request


@final
@dataclass(frozen=True, slots=True)
class put(PutKeyOperation[None]):
    """Set the value and/or owner of a key.

    Args:
        key: the key.
        value: the new value; by default the key keeps its value (and must exist).
        owner: the owning container's id, or None for no owner; by default the
            key keeps its owner.

    Returns (when run): None.

    Raises:
        TypeError: ``key`` is not a string, ``value`` not bytes, or ``owner``
            neither a string nor None.
        ValueError: neither ``value`` nor ``owner`` was given, or ``owner`` is
            not a container id.

    Example:
        >>> put("lock", owner="worker_0")
        put(key='lock', value=no_change, owner='worker_0')
        >>> put("lock")
        Traceback (most recent call last):
        ...
        ValueError: Must specify 'value', 'owner', or both
    """

    key: str
    value: bytes | Literal[NoChange.no_change] = no_change
    owner: str | Literal[NoChange.no_change] | None = no_change

    def __post_init__(self) -> None:
        _check(self.key, self.value, self.owner)

    def _request(self) -> pb.PutKeyRequest:
        return _request(self.key, self.value, self.owner, return_previous=False)

    def _parse(self, response: pb.PutKeyResponse) -> None:
        return None


@final
@dataclass(frozen=True, slots=True)
class swap(PutKeyOperation[bytes | ValueOwnerPair | None]):
    """Set the value and/or owner of a key, and return its previous value.

    Args:
        key: the key.
        value: the new value; by default the key keeps its value (and must exist).
        owner: the owning container's id, or None for no owner; by default the
            key keeps its owner.
        return_owner: return a :class:`ValueOwnerPair` of the previous value and
            owner (``ValueOwnerPair(None, None)`` if the key was new).

    Returns (when run): the previous value (None if the key was new), or a ``ValueOwnerPair``.

    Raises:
        TypeError, ValueError: as :class:`put`.

    Example:
        >>> swap("leader", b"worker_1", return_owner=True)
        swap(key='leader', value=b'worker_1', owner=no_change, return_owner=True)
    """

    key: str
    value: bytes | Literal[NoChange.no_change] = no_change
    owner: str | Literal[NoChange.no_change] | None = no_change
    return_owner: bool = False

    def __post_init__(self) -> None:
        _check(self.key, self.value, self.owner)
        check_type("return_owner", self.return_owner, bool)

    def _request(self) -> pb.PutKeyRequest:
        return _request(self.key, self.value, self.owner, return_previous=True)

    def _parse(self, response: pb.PutKeyResponse) -> bytes | ValueOwnerPair | None:
        if not response.HasField("previous"):
            return ValueOwnerPair(None, None) if self.return_owner else None
        if self.return_owner:
            return pair_from_proto(response.previous)
        return response.previous.value
