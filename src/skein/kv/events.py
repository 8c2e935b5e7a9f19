"""Events of the key-value store, and the filters that select them.

An :class:`EventFilter` names a key range (one key, a prefix, or
``start``/``end``) and an :class:`EventType`; an :class:`Event` is one change
to one key that a filter selected: every put (even one that only changes the
owner) is a PUT, every deleted key a DELETE. Queues of events are in
:mod:`skein.kv.async_event_queue` and :mod:`skein.kv.event_queue`.
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple, final

from skein._proto.api import skein_pb2 as pb
from skein.kv.operation import check_type, key_bounds, prefix_bounds
from skein.kv.records import ValueOwnerPair, pair_from_proto

__all__ = ["Event", "EventFilter", "EventType", "event_from_proto"]


class EventType(str, enum.Enum):
    """The kinds of event a filter selects.

    Members are strings (``EventType.PUT == "PUT"``) and construction ignores
    case (``EventType("put")``), as Skein 0.8's.

    Attributes:
        ALL: puts and deletes (only in filters).
        PUT: a key was put.
        DELETE: a key was deleted.
    """

    ALL = "ALL"
    PUT = "PUT"
    DELETE = "DELETE"

    @classmethod
    def _missing_(cls, value: object) -> EventType:
        if not isinstance(value, str):
            raise TypeError("Expected 'str' or 'EventType'")
        member = cls.__members__.get(value.upper())
        if member is None:
            raise ValueError(f"'EventType' must be in {tuple(cls.__members__)!r}")
        return member

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"EventType.{self.name}"

    @classmethod
    def values(cls) -> list[EventType]:
        """All members, in declaration order (Skein 0.8's ``values()``)."""
        return list(cls)


_WIRE_EVENT_TYPES = {EventType.ALL: pb.ALL, EventType.PUT: pb.PUT, EventType.DELETE: pb.DELETE}


@final
class EventFilter:
    """A subset of the store's events: a key range and an event type.

    Give at most one of ``key``, ``prefix`` or ``start``/``end``; with none,
    the filter selects every key. Filters are immutable, hashable and compare
    by range and type, so equal filters share one watch on the master.

    Args:
        key: select only this key.
        prefix: select the keys that start with this.
        start: the first key of the range (inclusive); None for unbounded.
        end: the key after the range (exclusive); None for unbounded.
        event_type: ``"ALL"`` (the default), ``"PUT"`` or ``"DELETE"``.

    Raises:
        ValueError: more than one of ``key``, ``prefix``, ``start``/``end``.
        TypeError: an argument is not a string.

    Example:
        >>> EventFilter(prefix="worker/", event_type="put")
        EventFilter(start='worker/', end='worker0', event_type=EventType.PUT)
        >>> EventFilter(key="a") == EventFilter(start="a", end="a\\x00")
        True
    """

    __slots__ = ("_end", "_event_type", "_start")

    def __init__(
        self,
        key: str | None = None,
        prefix: str | None = None,
        start: str | None = None,
        end: str | None = None,
        event_type: EventType | str | None = None,
    ) -> None:
        has_range = start is not None or end is not None
        if (key is not None) + (prefix is not None) + has_range > 1:
            raise ValueError("Must specify at most one of `key`, `prefix`, or `start`/`end`")
        if key is not None:
            check_type("key", key, str)
            start, end = key_bounds(key)
        elif prefix is not None:
            check_type("prefix", prefix, str)
            start, end = prefix_bounds(prefix)
        else:
            check_type("start", start, str, nullable=True)
            check_type("end", end, str, nullable=True)
        # "" and None both mean unbounded; one spelling makes equal filters equal.
        self._start = start or None
        self._end = end or None
        self._event_type = EventType.ALL if event_type is None else EventType(event_type)

    @property
    def start(self) -> str | None:
        """The first key of the range (inclusive), or None for unbounded."""
        return self._start

    @property
    def end(self) -> str | None:
        """The key after the range (exclusive), or None for unbounded."""
        return self._end

    @property
    def event_type(self) -> EventType:
        """The type of event selected."""
        return self._event_type

    def matches(self, key: str, event_type: EventType | str) -> bool:
        """Whether the filter selects an event of type ``event_type`` on ``key``.

        Example:
            >>> EventFilter(prefix="a").matches("ab", "DELETE")
            True
        """
        if self._event_type is not EventType.ALL and EventType(event_type) is not self._event_type:
            return False
        return (self._start is None or self._start <= key) and (
            self._end is None or key < self._end
        )

    def _to_proto(self, start_revision: int = 0) -> pb.WatchCreateRequest:
        return pb.WatchCreateRequest(
            start=self._start or "",
            end=self._end or "",
            event_type=_WIRE_EVENT_TYPES[self._event_type],
            start_revision=start_revision,
        )

    def __repr__(self) -> str:
        return (
            f"EventFilter(start={self._start!r}, end={self._end!r}, "
            f"event_type={self._event_type!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EventFilter):
            return NotImplemented
        return (self._start, self._end, self._event_type) == (
            other._start,
            other._end,
            other._event_type,
        )

    def __hash__(self) -> int:
        return hash((self._start, self._end, self._event_type))

    def __reduce__(
        self,
    ) -> tuple[type[EventFilter], tuple[None, None, str | None, str | None, str]]:
        return EventFilter, (None, None, self._start, self._end, self._event_type.value)


class _EventFields(NamedTuple):
    key: str
    result: ValueOwnerPair | None
    event_type: EventType
    event_filter: EventFilter


@final
class Event(_EventFields):
    """One change to one key, as selected by one filter.

    A named tuple of Skein 0.8's four fields, plus (beyond Skein 0.8) the
    ``revision`` of the change as an attribute, outside the tuple so code
    that unpacks four fields keeps working.

    Attributes:
        key: the key changed.
        result: for a PUT, the key's new value and owner (a ``ValueOwnerPair``);
            None for a DELETE.
        event_type: ``EventType.PUT`` or ``EventType.DELETE``.
        event_filter: the filter that selected the event.
        revision: the store's revision of the change (0 if unknown).

    Example:
        >>> event = Event("a", ValueOwnerPair(b"1", None), EventType.PUT, EventFilter(), revision=7)
        >>> key, result, event_type, event_filter = event
        >>> key, event.revision
        ('a', 7)
    """

    def __new__(
        cls,
        key: str,
        result: ValueOwnerPair | None,
        event_type: EventType,
        event_filter: EventFilter,
        revision: int = 0,
    ) -> Event:
        self = super().__new__(cls, key, result, event_type, event_filter)
        object.__setattr__(self, "_revision", revision)
        return self

    @property
    def revision(self) -> int:
        """The store's revision of the change (for a DELETE, the revision that deleted the key)."""
        revision: int = self.__dict__.get("_revision", 0)
        return revision

    def _replace(self, **changes: Any) -> Event:
        revision = changes.pop("revision", self.revision)
        return Event(*_EventFields(*self)._replace(**changes), revision=revision)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Event is immutable; cannot set {name!r}")

    def __repr__(self) -> str:
        return (
            f"Event(key={self.key!r}, result={self.result!r}, event_type={self.event_type!r}, "
            f"event_filter={self.event_filter!r}, revision={self.revision})"
        )

    def __reduce__(self) -> tuple[type[Event], tuple[Any, ...]]:
        return Event, (*self, self.revision)


def event_from_proto(message: pb.Event, event_filter: EventFilter) -> Event:
    """The :class:`Event` of a wire event, selected by ``event_filter``.

    Example:
        >>> wire = pb.Event(type=pb.DELETE, kv=pb.KeyValue(key="a", mod_revision=9))
        >>> event = event_from_proto(wire, EventFilter())
        >>> event.event_type, event.result, event.revision
        (EventType.DELETE, None, 9)
    """
    kv = message.kv
    if message.type == pb.PUT:
        return Event(kv.key, pair_from_proto(kv), EventType.PUT, event_filter, kv.mod_revision)
    return Event(kv.key, None, EventType.DELETE, event_filter, kv.mod_revision)
