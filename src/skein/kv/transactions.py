"""Transactions on the wire: checking their steps, building the request, reading the results.

Pure functions for :meth:`AsyncKeyValueStore.transaction
<skein.kv.AsyncKeyValueStore.transaction>` and the mapping methods built on
it (``setdefault``, ``update``). Each step is a
:class:`~skein.kv.conditions.Condition` or an
:class:`~skein.kv.operation.Operation`, which knows its own wire form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar, cast

from skein._proto.api import skein_pb2 as pb
from skein.errors import ProtocolError
from skein.kv.conditions import Condition, is_condition
from skein.kv.operation import Operation, is_operation
from skein.kv.records import TransactionResult
from skein.kv.writes import put

__all__ = [
    "UpdateArg",
    "build_transaction",
    "transaction_result",
    "update_operations",
]

T = TypeVar("T")

UpdateArg = Mapping[str, bytes] | Iterable[tuple[str, bytes]]
"""What ``update`` takes: a mapping, or ``(key, value)`` pairs."""


def _steps(items: object, is_kind: Callable[[object], bool], message: str) -> list[object]:
    """``items`` as a list of steps (one step alone is a list of one), checked by ``is_kind``."""
    if items is None:
        return []
    if is_kind(items):
        return [items]
    if not isinstance(items, Iterable):
        raise TypeError(message)
    steps = list(items)
    if not all(is_kind(step) for step in steps):
        raise TypeError(message)
    return steps


def build_transaction(
    conditions: object, on_success: object, on_failure: object
) -> tuple[pb.TransactionRequest, list[Operation[object]], list[Operation[object]]]:
    """Check a transaction's steps; return its request and its two branches as lists.

    Each argument may be None, one step, or an iterable of steps.

    Raises:
        TypeError: a condition is not a :class:`Condition`, or an operation
            not an :class:`Operation` (Skein 0.8's messages).

    Example:
        >>> from skein.kv import exists, get, put
        >>> request, success, failure = build_transaction(exists("a"), [get("a")], None)
        >>> len(request.condition), success, failure
        (1, [get(key='a', default=None, return_owner=False)], [])
    """
    checks = cast(
        "list[Condition]",
        _steps(conditions, is_condition, "conditions must be a sequence of Condition"),
    )
    success = cast(
        "list[Operation[object]]",
        _steps(on_success, is_operation, "on_success must be a sequence of Operation"),
    )
    failure = cast(
        "list[Operation[object]]",
        _steps(on_failure, is_operation, "on_failure must be a sequence of Operation"),
    )
    request = pb.TransactionRequest(
        condition=[condition._condition() for condition in checks],
        on_success=[operation._op_request() for operation in success],
        on_failure=[operation._op_request() for operation in failure],
    )
    return request, success, failure


def transaction_result(
    response: pb.TransactionResponse,
    on_success: Sequence[Operation[object]],
    on_failure: Sequence[Operation[object]],
) -> TransactionResult:
    """The result of a transaction: each operation of the branch that ran, from its response.

    Raises:
        skein.errors.ProtocolError: the master sent one result too many or too few.

    Example:
        >>> from skein.kv import put
        >>> response = pb.TransactionResponse(succeeded=False)
        >>> transaction_result(response, [put("a", b"1")], [])
        TransactionResult(succeeded=False, results=[])
    """
    branch = on_success if response.succeeded else on_failure
    if len(response.result) != len(branch):
        raise ProtocolError(
            f"The application master returned {len(response.result)} results "
            f"for a transaction branch of {len(branch)} operations"
        )
    results = [op._op_result(result) for op, result in zip(branch, response.result, strict=True)]
    return TransactionResult(response.succeeded, results)


def update_operations(args: tuple[UpdateArg, ...], kwargs: Mapping[str, bytes]) -> list[put]:
    """The puts of ``update(*args, **kwargs)``: the mapping or pairs first, then the keywords.

    Raises:
        TypeError: more than one positional argument, or a value that is not bytes.

    Example:
        >>> [op.key for op in update_operations(({"a": b"1"},), {"b": b"2"})]
        ['a', 'b']
    """
    if len(args) > 1:
        raise TypeError(f"update expected at most 1 arguments, got {len(args)}")
    operations = []
    if args:
        other = args[0]
        if isinstance(other, Mapping):
            operations = [put(k, v) for k, v in other.items()]
        elif hasattr(other, "keys"):  # Skein 0.8 took any object with keys() and []
            keys = other.keys()
            operations = [put(k, other[k]) for k in keys]  # type: ignore[index]
        else:
            operations = [put(k, v) for k, v in other]
    operations.extend(put(k, v) for k, v in kwargs.items())
    return operations
