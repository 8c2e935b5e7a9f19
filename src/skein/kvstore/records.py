"""The store's records: owners, key-value entries and change events.

All records are immutable. The store replaces an entry on every change, so a
:class:`KeyValue` handed out earlier (in a read result, an event, a watcher's
buffer) never changes under its holder.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from skein.kvstore.errors import KeyValueError

__all__ = ["Event", "EventType", "KeyValue", "Owner"]


@dataclass(frozen=True, slots=True, order=True)
class Owner:
    """A service container that owns keys: they are deleted when it completes.

    Owners order by service name, then instance number (Skein 0.8's order for
    owner conditions). Written ``"<service_name>_<instance>"``.

    Args:
        service_name: the service.
        instance: the container's instance number in its service (>= 0).

    Raises:
        KeyValueError: an empty service name or a negative instance.

    Example:
        >>> owner = Owner.parse("dask_worker_3")
        >>> owner, str(owner), owner < Owner("dask_worker", 10)
        (Owner(service_name='dask_worker', instance=3), 'dask_worker_3', True)
    """

    service_name: str
    instance: int

    def __post_init__(self) -> None:
        if not self.service_name:
            raise KeyValueError("Owner service name must not be empty")
        if self.instance < 0:
            raise KeyValueError(
                f"Invalid owner instance {self.instance} for service "
                f"{self.service_name!r}: must be >= 0"
            )

    @classmethod
    def parse(cls, text: str) -> Owner:
        """Read ``"<service_name>_<instance>"``; the service name may contain ``_``.

        Raises:
            KeyValueError: ``text`` does not end in ``_<instance number>``.
        """
        service, sep, instance = text.rpartition("_")
        if not sep or not service or not (instance.isascii() and instance.isdigit()):
            raise KeyValueError(f"Invalid owner {text!r}: expected '<service_name>_<instance>'")
        return cls(service, int(instance))

    def __str__(self) -> str:
        return f"{self.service_name}_{self.instance}"


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyValue:
    """One entry of the store, as of its last change.

    Attributes:
        key: the key.
        value: the value.
        owner: the container owning the key, or None.
        create_revision: the store revision that created the key.
        mod_revision: the store revision of the key's last change.
        version: the number of puts since the key was created (1 after the
            first); it restarts when the key is deleted and created again.

    In a DELETE event, ``kv`` is a tombstone: the key, ``mod_revision`` set to
    the deleting revision, and the other fields empty or zero (as in etcd).

    Example:
        >>> KeyValue(key="a", value=b"1", create_revision=2, mod_revision=5, version=3).owner
    """

    key: str
    value: bytes = b""
    owner: Owner | None = None
    create_revision: int = 0
    mod_revision: int = 0
    version: int = 0


class EventType(enum.Enum):
    """What happened to a key."""

    PUT = "PUT"
    """The key was written: created, or its value and/or owner set."""
    DELETE = "DELETE"
    """The key was deleted (explicitly, or because its owner completed)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """A change to one key.

    Attributes:
        type: PUT or DELETE.
        kv: for PUT, the entry as written; for DELETE, a tombstone with the key.
        revision: the store revision of the change; every event of one
            request or transaction has the same revision.

    Example:
        >>> Event(type=EventType.DELETE, kv=KeyValue(key="a", mod_revision=4), revision=4).type
        <EventType.DELETE: 'DELETE'>
    """

    type: EventType
    kv: KeyValue
    revision: int
