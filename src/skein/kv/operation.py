"""The base of key-value operations: one object per request, for direct calls and transactions.

Theory of operation. An :class:`Operation` is an immutable description of
one request (``get("a")``, ``put("a", b"1")``). It knows the two halves of its
wire exchange and nothing else: how to build its request and how to turn the
matching response into the value Skein's API returns. The store runs it
either alone, as one ``GetRange``/``DeleteRange``/``PutKey`` call, or as a
step of a ``Transaction``, wrapped in ``OpRequest``/``OpResponse``; both paths
use the same two halves, so an operation means the same thing either way.

The three abstract bases below, one per RPC, give each operation's halves
their precise wire types; :mod:`skein.kv.reads`, :mod:`skein.kv.deletes` and
:mod:`skein.kv.writes` hold the operations themselves.
"""

from __future__ import annotations

import abc
from typing import Generic, TypeVar

from skein._proto.api import skein_pb2 as pb
from skein.errors import ProtocolError
from skein.kvstore.keys import prefix_end

__all__ = [
    "DeleteRangeOperation",
    "GetRangeOperation",
    "Operation",
    "PutKeyOperation",
    "check_type",
    "is_operation",
    "key_bounds",
    "prefix_bounds",
    "range_bounds",
]

R = TypeVar("R", covariant=True)

_TYPE_NAMES = {str: "string", bytes: "bytes", bool: "bool", int: "integer"}


def check_type(name: str, obj: object, expected: type, *, nullable: bool = False) -> None:
    """Raise Skein's ``TypeError`` if ``obj`` is not an ``expected`` (or None, if ``nullable``).

    Example:
        >>> check_type("key", 1, str)
        Traceback (most recent call last):
        ...
        TypeError: key must be a string
    """
    if isinstance(obj, expected) or (nullable and obj is None):
        return
    type_name = _TYPE_NAMES.get(expected, expected.__name__)
    raise TypeError(f"{name} must be a {type_name}" + (", or None" if nullable else ""))


def key_bounds(key: str) -> tuple[str, str]:
    """The ``(start, end)`` of the range holding only ``key``: ``[key, key + "\\0")``.

    Example:
        >>> key_bounds("a")
        ('a', 'a\\x00')
    """
    return key, key + "\0"


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """The ``(start, end)`` of the keys starting with ``prefix`` (``end`` "" is unbounded).

    Example:
        >>> prefix_bounds("worker/"), prefix_bounds("")
        (('worker/', 'worker0'), ('', ''))
    """
    return prefix, prefix_end(prefix)


def range_bounds(start: str | None, end: str | None) -> tuple[str, str]:
    """The wire ``(start, end)`` of a range; None (unbounded) is sent as "".

    Example:
        >>> range_bounds(None, "b")
        ('', 'b')
    """
    return start or "", end or ""


def is_operation(obj: object) -> bool:
    """Whether ``obj`` is a key-value store operation.

    Example:
        >>> from skein.kv import get
        >>> is_operation(get("a")), is_operation("a")
        (True, False)
    """
    return isinstance(obj, Operation)


def _unexpected(expected: str, response: pb.OpResponse) -> ProtocolError:
    got = response.WhichOneof("response") or "nothing"
    return ProtocolError(f"The application master answered a {expected} operation with {got}")


class Operation(abc.ABC, Generic[R]):
    """Base class of key-value store operations, whose result is an ``R``.

    Run one with the store's method of the same name, or pass it to
    :meth:`KeyValueStore.transaction <skein.kv.KeyValueStore.transaction>`.

    Example:
        >>> from skein.kv import put
        >>> isinstance(put("a", b"1"), Operation)
        True
    """

    __slots__ = ()

    @abc.abstractmethod
    def _op_request(self) -> pb.OpRequest:
        """The request, as a transaction step."""

    @abc.abstractmethod
    def _op_result(self, response: pb.OpResponse) -> R:
        """The result, from the transaction step's response."""


class GetRangeOperation(Operation[R]):
    """An operation that is a ``GetRange`` request."""

    __slots__ = ()

    @abc.abstractmethod
    def _request(self) -> pb.GetRangeRequest:
        """The request."""

    @abc.abstractmethod
    def _parse(self, response: pb.GetRangeResponse) -> R:
        """The result, from the response."""

    def _op_request(self) -> pb.OpRequest:
        return pb.OpRequest(get_range=self._request())

    def _op_result(self, response: pb.OpResponse) -> R:
        if response.WhichOneof("response") != "get_range":
            raise _unexpected("get_range", response)
        return self._parse(response.get_range)


class DeleteRangeOperation(Operation[R]):
    """An operation that is a ``DeleteRange`` request."""

    __slots__ = ()

    @abc.abstractmethod
    def _request(self) -> pb.DeleteRangeRequest:
        """The request."""

    @abc.abstractmethod
    def _parse(self, response: pb.DeleteRangeResponse) -> R:
        """The result, from the response."""

    def _op_request(self) -> pb.OpRequest:
        return pb.OpRequest(delete_range=self._request())

    def _op_result(self, response: pb.OpResponse) -> R:
        if response.WhichOneof("response") != "delete_range":
            raise _unexpected("delete_range", response)
        return self._parse(response.delete_range)


class PutKeyOperation(Operation[R]):
    """An operation that is a ``PutKey`` request."""

    __slots__ = ()

    @abc.abstractmethod
    def _request(self) -> pb.PutKeyRequest:
        """The request."""

    @abc.abstractmethod
    def _parse(self, response: pb.PutKeyResponse) -> R:
        """The result, from the response."""

    def _op_request(self) -> pb.OpRequest:
        return pb.OpRequest(put_key=self._request())

    def _op_result(self, response: pb.OpResponse) -> R:
        if response.WhichOneof("response") != "put_key":
            raise _unexpected("put_key", response)
        return self._parse(response.put_key)
