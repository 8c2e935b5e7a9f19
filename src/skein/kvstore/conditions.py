"""Transaction conditions: compare one field of one key with a given value.

A transaction runs its success branch when all its conditions hold (an empty
list holds), else its failure branch. Fields are Skein 0.8's (the value, the
owner) and etcd's (create revision, modification revision, version).

The right-hand side ``None`` stands for "none": a missing value (the key is
not set) or no owner (the key is unset or unowned). When either side is none,
only ``==`` (both none) and ``!=`` (not both none) can be true; orderings are
false, as in Skein 0.8. The revision fields and the version are 0 for a missing
key, as in etcd, and need a number.

Values compare as unsigned bytes, lexicographically (``b"\\x80" > b"\\x7f"``).
Skein 0.8 compared them as Java signed bytes, where ``0x80`` sorts before
``0x7f``; this store fixes that quirk on purpose. Owners compare by service
name, then instance number.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from skein.kvstore.errors import KeyValueError
from skein.kvstore.records import KeyValue, Owner

__all__ = ["Condition", "Field", "Operator"]


class Field(enum.Enum):
    """What a condition looks at."""

    VALUE = "value"
    OWNER = "owner"
    CREATE_REVISION = "create_revision"
    MOD_REVISION = "mod_revision"
    VERSION = "version"


class Operator(enum.Enum):
    """How a condition compares."""

    EQUAL = "=="
    NOT_EQUAL = "!="
    LESS = "<"
    LESS_EQUAL = "<="
    GREATER = ">"
    GREATER_EQUAL = ">="


_COMPARE: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.EQUAL: operator.eq,
    Operator.NOT_EQUAL: operator.ne,
    Operator.LESS: operator.lt,
    Operator.LESS_EQUAL: operator.le,
    Operator.GREATER: operator.gt,
    Operator.GREATER_EQUAL: operator.ge,
}

_NUMBER_FIELDS = frozenset({Field.CREATE_REVISION, Field.MOD_REVISION, Field.VERSION})


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """``<field of key> <operator> <rhs>``.

    Args:
        key: the key looked at.
        field: which of its fields.
        operator: the comparison.
        rhs: bytes or None for VALUE, an :class:`~skein.kvstore.records.Owner`
            or None for OWNER, an int for the revisions and the version.

    Raises:
        KeyValueError: ``rhs`` does not suit ``field``.

    Example:
        >>> exists = Condition(key="a", field=Field.VALUE, operator=Operator.NOT_EQUAL, rhs=None)
        >>> exists.evaluate(None), exists.evaluate(KeyValue(key="a", value=b""))
        (False, True)
        >>> Condition(key="a", field=Field.VERSION, operator=Operator.LESS, rhs=3).evaluate(None)
        True
    """

    key: str
    field: Field
    operator: Operator
    rhs: bytes | Owner | int | None = None

    def __post_init__(self) -> None:
        rhs = self.rhs
        if self.field is Field.VALUE:
            ok = rhs is None or isinstance(rhs, bytes)
            wanted = "bytes or none"
        elif self.field is Field.OWNER:
            ok = rhs is None or isinstance(rhs, Owner)
            wanted = "an owner or none"
        else:
            # bool is an int to Python, but never what a caller meant here.
            ok = isinstance(rhs, int) and not isinstance(rhs, bool)
            wanted = "a number (0 for a missing key)"
        if not ok:
            raise KeyValueError(
                f"Condition on the {self.field.value} of key {self.key!r} needs {wanted}, "
                f"got {type(rhs).__name__}"
            )

    def evaluate(self, kv: KeyValue | None) -> bool:
        """Whether the condition holds for the key's current entry (None if missing)."""
        lhs = self._lhs(kv)
        if lhs is None or self.rhs is None:
            both_none = lhs is None and self.rhs is None
            if self.operator is Operator.EQUAL:
                return both_none
            if self.operator is Operator.NOT_EQUAL:
                return not both_none
            return False
        return _COMPARE[self.operator](lhs, self.rhs)

    def _lhs(self, kv: KeyValue | None) -> bytes | Owner | int | None:
        if kv is None:
            return 0 if self.field in _NUMBER_FIELDS else None
        if self.field is Field.VALUE:
            return kv.value
        if self.field is Field.OWNER:
            return kv.owner
        if self.field is Field.CREATE_REVISION:
            return kv.create_revision
        if self.field is Field.MOD_REVISION:
            return kv.mod_revision
        return kv.version
