"""Conditions of transactions: comparisons on a key's value, owner or revisions.

A condition compares one field of one key with a constant. Build them with the
field helpers and Python's comparison operators, as in Skein 0.8::

    value("lock") == b"free"      owner("lock") != None      version("config") == 0

:func:`exists` and :func:`missing` (in :mod:`skein.kv.reads`) are conditions too.

A missing key has no value and no owner (both compare equal to None, and no
ordering holds), and 0 for each revision field. Values compare as bytes,
owners by service name then instance number, revisions as numbers.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Final, final

from skein._proto.api import skein_pb2 as pb
from skein.kv.owners import owner_to_proto

__all__ = [
    "Condition",
    "comparison",
    "create_revision",
    "is_condition",
    "mod_revision",
    "owner",
    "value",
    "version",
]

_OPERATORS: Final = {
    "==": pb.Condition.EQUAL,
    "!=": pb.Condition.NOT_EQUAL,
    "<": pb.Condition.LESS,
    "<=": pb.Condition.LESS_EQUAL,
    ">": pb.Condition.GREATER,
    ">=": pb.Condition.GREATER_EQUAL,
}

_FIELDS: Final = {
    "value": pb.Condition.VALUE,
    "owner": pb.Condition.OWNER,
    "create_revision": pb.Condition.CREATE_REVISION,
    "mod_revision": pb.Condition.MOD_REVISION,
    "version": pb.Condition.VERSION,
}

_NUMBER_FIELDS: Final = frozenset({"create_revision", "mod_revision", "version"})


class Condition(abc.ABC):
    """Base class of the conditions a transaction can test.

    Example:
        >>> isinstance(value("a") == b"1", Condition)
        True
    """

    __slots__ = ()

    @abc.abstractmethod
    def _condition(self) -> pb.Condition:
        """The wire form of the condition."""


def is_condition(obj: object) -> bool:
    """Whether ``obj`` is a key-value store condition.

    Example:
        >>> is_condition(owner("a") == None), is_condition(b"a")
        (True, False)
    """
    return isinstance(obj, Condition)


@final
@dataclass(frozen=True, slots=True)
class comparison(Condition):
    """A comparison of one field of a key with a constant.

    Usually built with :class:`value`, :class:`owner` and the revision helpers
    rather than directly.

    Args:
        key: the key.
        field: ``"value"``, ``"owner"``, or (beyond Skein 0.8)
            ``"create_revision"``, ``"mod_revision"`` or ``"version"``.
        operator: one of ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``.
        rhs: the constant: ``bytes`` for ``value``; a container id or None for
            ``owner`` (None only with ``==`` and ``!=``); an ``int`` for the
            revision fields.

    Raises:
        TypeError: ``key`` is not a string, ``rhs`` has the wrong type, or an
            ordering against None.
        ValueError: an unknown field or operator, or a malformed container id.

    Example:
        >>> comparison("lock", "owner", "==", None)
        owner('lock') == None
        >>> comparison("a", "value", "<", None)
        Traceback (most recent call last):
        ...
        TypeError: rhs must be bytes
    """

    key: str
    field: str
    operator: str
    rhs: bytes | str | int | None

    def __post_init__(self) -> None:
        if not isinstance(self.key, str):
            raise TypeError("key must be a string")
        if self.field not in _FIELDS:
            raise ValueError(
                "field must be one of 'value', 'owner', 'create_revision', "
                "'mod_revision' or 'version'"
            )
        if self.operator not in _OPERATORS:
            raise ValueError("operator must be in {'==', '!=', '<', '>', '<=', '>='}")
        if self.field == "owner":
            if self.rhs is None:
                if self.operator not in ("==", "!="):
                    raise TypeError(
                        f"Comparison (owner({self.key!r}) {self.operator} None) is unsupported"
                    )
            elif isinstance(self.rhs, str):
                owner_to_proto(self.rhs)  # raises on a malformed id, now rather than later
            else:
                raise TypeError("rhs must be a string or None")
        elif self.field == "value":
            if not isinstance(self.rhs, bytes):
                raise TypeError("rhs must be bytes")
        elif not isinstance(self.rhs, int) or isinstance(self.rhs, bool):
            raise TypeError("rhs must be an integer")

    def __repr__(self) -> str:
        return f"{self.field}({self.key!r}) {self.operator} {self.rhs!r}"

    def _condition(self) -> pb.Condition:
        message = pb.Condition(
            key=self.key, operator=_OPERATORS[self.operator], field=_FIELDS[self.field]
        )
        # An unset rhs stands for None: a missing value, or no owner.
        if isinstance(self.rhs, bytes):
            message.value = self.rhs
        elif isinstance(self.rhs, str):
            message.owner.CopyFrom(owner_to_proto(self.rhs))
        elif isinstance(self.rhs, int):
            message.number = self.rhs
        return message


class _Field:
    """One field of a key; comparing it with a constant makes a :class:`comparison`."""

    __slots__ = ("_key",)
    _field: str = ""

    def __init__(self, key: str) -> None:
        if not isinstance(key, str):
            raise TypeError("key must be a string")
        self._key = key

    @property
    def key(self) -> str:
        """The key."""
        return self._key

    def __repr__(self) -> str:
        return f"{self._field}({self._key!r})"

    def __eq__(self, other: object) -> comparison:  # type: ignore[override]
        return comparison(self._key, self._field, "==", other)  # type: ignore[arg-type]

    def __ne__(self, other: object) -> comparison:  # type: ignore[override]
        return comparison(self._key, self._field, "!=", other)  # type: ignore[arg-type]

    def __lt__(self, other: object) -> comparison:
        return comparison(self._key, self._field, "<", other)  # type: ignore[arg-type]

    def __le__(self, other: object) -> comparison:
        return comparison(self._key, self._field, "<=", other)  # type: ignore[arg-type]

    def __gt__(self, other: object) -> comparison:
        return comparison(self._key, self._field, ">", other)  # type: ignore[arg-type]

    def __ge__(self, other: object) -> comparison:
        return comparison(self._key, self._field, ">=", other)  # type: ignore[arg-type]

    __hash__ = None  # type: ignore[assignment]  # == builds a condition, so not hashable


@final
class value(_Field):
    """The value of a key, to compare with ``bytes`` in a transaction condition.

    Example:
        >>> value("config") == b"v2"
        value('config') == b'v2'
    """

    __slots__ = ()
    _field = "value"


@final
class owner(_Field):
    """The owner of a key, to compare with a container id or None.

    Example:
        >>> owner("lock") == "worker_0"
        owner('lock') == 'worker_0'
    """

    __slots__ = ()
    _field = "owner"


@final
class create_revision(_Field):
    """The revision that created a key (0 if missing), to compare with an ``int``.

    Beyond Skein 0.8.

    Example:
        >>> create_revision("a") == 0
        create_revision('a') == 0
    """

    __slots__ = ()
    _field = "create_revision"


@final
class mod_revision(_Field):
    """The revision that last put a key (0 if missing), to compare with an ``int``.

    Beyond Skein 0.8. ``mod_revision(key) == seen`` makes a write conditional
    on nobody having written ``key`` since it was read.

    Example:
        >>> mod_revision("a") <= 7
        mod_revision('a') <= 7
    """

    __slots__ = ()
    _field = "mod_revision"


@final
class version(_Field):
    """How many puts a key had since it was created (0 if missing), to compare with an ``int``.

    Beyond Skein 0.8.

    Example:
        >>> version("a") > 1
        version('a') > 1
    """

    __slots__ = ()
    _field = "version"
