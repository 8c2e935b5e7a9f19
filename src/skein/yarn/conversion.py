"""One generic converter from YARN's protobuf messages to skein's frozen records.

Theory of operation. A record is a frozen dataclass registered with
:func:`proto_record` against the message it is read from. Each attribute is
read from the message field of the same name, or from the field named by a
:class:`ProtoField` in its ``Annotated`` type, optionally through that
ProtoField's ``convert`` function. Without ``convert``, the attribute's type
and the field's descriptor decide:

- a registered record type: the sub-message is converted recursively;
- ``X | None``: ``None`` when the message does not have the field set;
- ``tuple[X, ...]`` or ``frozenset[X]`` from a repeated field, element-wise;
- a :class:`~skein.yarn.enums.YarnEnum`: the value's name without YARN's
  package-level prefix (``NS_RUNNING`` becomes ``NodeState.RUNNING``);
- ``datetime``: epoch milliseconds as an aware UTC datetime (0 means "not yet",
  which only an ``datetime | None`` attribute can hold);
- ``float`` from a 32-bit ``float`` field: the shortest decimal that is the
  same float32, as Java prints it (``0.1``, not ``0.10000000149011612``);
- ``str``, ``int``, ``bool``, ``bytes``: as they are.

The reading plan of each record type is built on first use and cached; a field
that the message lacks, or a type with no known conversion, fails then with a
``TypeError`` naming the attribute.
"""

from __future__ import annotations

import dataclasses
import math
import struct
import types
import typing
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from skein.yarn.enums import YarnEnum

__all__ = [
    "ProtoField",
    "datetime_from_millis",
    "enum_from_proto",
    "enum_to_proto",
    "from_proto",
    "proto_record",
    "shortest_float32",
]

_R = TypeVar("_R")
_E = TypeVar("_E", bound=YarnEnum)

# Reads one attribute's value out of a message.
_Step = Callable[[Message], object]
# Converts one raw field value (scalar, enum number or sub-message).
_ValueReader = Callable[[Any], object]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# The message type each record is read from, filled by @proto_record.
_SOURCES: dict[type, type[Message]] = {}
# Each record type's reading plan, built on first use.
_PLANS: dict[type, tuple[tuple[str, _Step], ...]] = {}


@dataclasses.dataclass(frozen=True, slots=True)
class ProtoField:
    """Where a record attribute comes from, as ``Annotated`` metadata.

    Attributes:
        name: the message field to read; defaults to the attribute's name.
        convert: applied to the raw field value (a sub-message, a repeated
            container or a scalar) instead of the type-directed conversion.

    Example:
        ``vcores: Annotated[int, ProtoField("virtual_cores")]``
    """

    name: str | None = None
    # The raw value's type depends on the field, hence Any.
    convert: Callable[[Any], object] | None = None


def proto_record(message_type: type[Message]) -> Callable[[type[_R]], type[_R]]:
    """Class decorator registering a dataclass as read from ``message_type``.

    Args:
        message_type: the generated protobuf message class.

    Returns:
        A decorator that records the pairing and returns the class unchanged.
    """

    def register(record_type: type[_R]) -> type[_R]:
        if not dataclasses.is_dataclass(record_type):
            raise TypeError(f"{record_type.__qualname__} is not a dataclass")
        _SOURCES[record_type] = message_type
        return record_type

    return register


def from_proto(record_type: type[_R], message: Message) -> _R:
    """Build a record of ``record_type`` from a protobuf message.

    Args:
        record_type: a class registered with :func:`proto_record`.
        message: an instance of the message type it was registered with.

    Returns:
        The record.

    Raises:
        TypeError: ``record_type`` is not registered, ``message`` is of another
            type, or the record's declaration does not fit its message.

    Example:
        >>> from skein._proto.yarn import yarn_protos_pb2 as pb
        >>> from skein.yarn.records import Resources
        >>> from_proto(Resources, pb.ResourceProto(memory=2048, virtual_cores=2))
        Resources(memory=2048, vcores=2, gpus=0, fpgas=0)
    """
    expected = _source(record_type)
    if message.DESCRIPTOR is not expected.DESCRIPTOR:
        raise TypeError(
            f"{record_type.__qualname__} is read from {expected.DESCRIPTOR.full_name}, "
            f"not {message.DESCRIPTOR.full_name}"
        )
    values = {attribute: step(message) for attribute, step in _plan(record_type)}
    return record_type(**values)


def enum_from_proto(enum_type: type[_E], descriptor: EnumDescriptor, number: int) -> _E:
    """The member of ``enum_type`` for a YARN enum number.

    Args:
        enum_type: the skein enum, e.g. :class:`~skein.yarn.enums.NodeState`.
        descriptor: the protobuf enum, e.g. ``NodeStateProto.DESCRIPTOR``.
        number: the value on the wire.

    Raises:
        ValueError: the number is not a value of ``descriptor``, or its name
            has no member in ``enum_type``.
    """
    value = descriptor.values_by_number.get(number)
    if value is None:
        raise ValueError(f"{number} is not a value of {descriptor.full_name}")
    name = value.name.removeprefix(_value_prefix(descriptor))
    try:
        return enum_type[name]
    except KeyError:
        raise ValueError(f"{enum_type.__name__} has no member for {value.name}") from None


def enum_to_proto(member: YarnEnum, descriptor: EnumDescriptor) -> int:
    """The YARN enum number of a skein enum member, e.g. for request filters.

    Raises:
        ValueError: ``descriptor`` has no value for ``member``.
    """
    name = _value_prefix(descriptor) + member.name
    value = descriptor.values_by_name.get(name)
    if value is None:
        raise ValueError(f"{descriptor.full_name} has no value {name}")
    return int(value.number)


def datetime_from_millis(millis: int) -> datetime | None:
    """An aware UTC datetime from epoch milliseconds; ``None`` for 0 or less (unset)."""
    if millis <= 0:
        return None
    return _EPOCH + timedelta(milliseconds=millis)


def shortest_float32(value: float) -> float:
    """The shortest decimal that rounds to the same 32-bit float as ``value``.

    Protobuf ``float`` fields arrive widened to a Python float, which shows
    float32 rounding noise (0.1 reads as 0.10000000149011612).
    """
    if not math.isfinite(value):
        return value
    packed = struct.pack("<f", value)
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        try:
            if struct.pack("<f", candidate) == packed:
                return candidate
        except OverflowError:  # rounded past the largest float32
            continue
    return value


def _value_prefix(descriptor: EnumDescriptor) -> str:
    # Proto2 scopes enum values per package, so YARN prefixes some enums'
    # values (NS_, APP_, Q_); the prefix is what every value name shares, up
    # to an underscore. A single-valued enum keeps its whole name.
    names = [value.name for value in descriptor.values]
    if len(names) < 2:
        return ""
    shortest = min(names, key=len)
    length = 0
    while length < len(shortest) and all(name[length] == shortest[length] for name in names):
        length += 1
    return shortest[: shortest.rfind("_", 0, length) + 1]


def _source(record_type: type) -> type[Message]:
    try:
        return _SOURCES[record_type]
    except KeyError:
        raise TypeError(f"{record_type.__qualname__} is not a @proto_record") from None


def _plan(record_type: type) -> tuple[tuple[str, _Step], ...]:
    plan = _PLANS.get(record_type)
    if plan is None:
        plan = _PLANS[record_type] = _make_plan(record_type)
    return plan


def _make_plan(record_type: type) -> tuple[tuple[str, _Step], ...]:
    # The stubs type DESCRIPTOR as either runtime's class; both offer this API.
    descriptor = typing.cast(Descriptor, _source(record_type).DESCRIPTOR)
    hints = typing.get_type_hints(record_type, include_extras=True)
    steps = []
    for attribute in dataclasses.fields(record_type):
        where = f"{record_type.__qualname__}.{attribute.name}"
        hint = hints[attribute.name]
        spec = ProtoField()
        if typing.get_origin(hint) is typing.Annotated:
            hint, *extras = typing.get_args(hint)
            spec = next((extra for extra in extras if isinstance(extra, ProtoField)), spec)
        field_name = spec.name or attribute.name
        field = descriptor.fields_by_name.get(field_name)
        if field is None:
            raise TypeError(f"{where}: {descriptor.full_name} has no field {field_name!r}")
        steps.append((attribute.name, _step(where, hint, field, spec.convert)))
    return tuple(steps)


def _step(where: str, hint: object, field: FieldDescriptor, convert: _ValueReader | None) -> _Step:
    name = field.name
    optional, hint = _split_optional(hint)
    read: _Step
    if convert is not None:
        read = lambda message: convert(getattr(message, name))  # noqa: E731
    elif _is_repeated(field):
        container, element = _collection(where, hint)
        item = _value_reader(where, element, field)
        read = lambda message: container(item(raw) for raw in getattr(message, name))  # noqa: E731
    else:
        item = _value_reader(where, hint, field)
        read = lambda message: item(getattr(message, name))  # noqa: E731
    if not optional:
        return read
    if not field.has_presence:
        raise TypeError(f"{where}: {field.full_name} cannot be absent, so it cannot be None")
    return lambda message: read(message) if message.HasField(name) else None


def _is_repeated(field: FieldDescriptor) -> bool:
    # protobuf 7 removed `label` in favour of `is_repeated`, which older
    # releases within our supported range lack.
    repeated = getattr(field, "is_repeated", None)
    if repeated is None:
        return getattr(field, "label", None) == FieldDescriptor.LABEL_REPEATED
    return bool(repeated)


def _split_optional(hint: object) -> tuple[bool, object]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return True, args[0]
    return False, hint


def _collection(where: str, hint: object) -> tuple[Callable[[Any], object], object]:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return tuple, args[0]
    if origin is frozenset and len(args) == 1:
        return frozenset, args[0]
    raise TypeError(f"{where}: a repeated field needs tuple[X, ...] or frozenset[X], not {hint}")


def _value_reader(where: str, hint: object, field: FieldDescriptor) -> _ValueReader:
    if isinstance(hint, type) and hint in _SOURCES:
        record_type = hint
        return lambda message: from_proto(record_type, message)
    if isinstance(hint, type) and issubclass(hint, YarnEnum) and field.enum_type is not None:
        enum_type, descriptor = hint, field.enum_type
        return lambda number: enum_from_proto(enum_type, descriptor, number)
    if hint is datetime and field.cpp_type == FieldDescriptor.CPPTYPE_INT64:
        return datetime_from_millis
    if hint is float and field.type == FieldDescriptor.TYPE_FLOAT:
        return shortest_float32
    if hint in (str, int, float, bool, bytes) and field.message_type is None:
        return lambda raw: raw
    raise TypeError(f"{where}: no conversion from {field.full_name} to {hint}")
