"""The store's size limits, and the checks that enforce them.

Skein 0.8 had no explicit limits (only gRPC's 4 MiB message size). These
bound what one request can store, and how much memory the event history and
each watcher's unread events may hold, so a careless writer or a watcher that
stopped reading cannot exhaust the master's (usually small) container.

The history and watcher bounds are the :class:`~skein.kvstore.store.Store`'s
defaults; tests pass smaller ones.
"""

from __future__ import annotations

from skein.kvstore.errors import KeyValueError
from skein.kvstore.records import Event

__all__ = [
    "EVENT_OVERHEAD_BYTES",
    "HISTORY_MAX_BYTES",
    "HISTORY_MAX_EVENTS",
    "MAX_KEY_BYTES",
    "MAX_VALUE_BYTES",
    "WATCHER_MAX_BYTES",
    "WATCHER_MAX_EVENTS",
    "check_key",
    "check_value",
    "event_size",
]

MAX_KEY_BYTES = 8 * 1024
"""The longest key, in bytes of UTF-8."""

MAX_VALUE_BYTES = 1024 * 1024
"""The longest value, in bytes (etcd's default request limit is 1.5 MiB)."""

HISTORY_MAX_EVENTS = 10_000
"""Events kept for watches that start from a past revision."""

HISTORY_MAX_BYTES = 32 * 1024 * 1024
"""Bytes of events (see :func:`event_size`) kept in the history."""

WATCHER_MAX_EVENTS = 10_000
"""Unread events one watcher may hold before it is cancelled."""

WATCHER_MAX_BYTES = 32 * 1024 * 1024
"""Bytes of unread events (see :func:`event_size`) one watcher may hold."""

EVENT_OVERHEAD_BYTES = 64
"""What an event costs beyond its key and value, roughly: the record and its fields."""

# How much of an over-long key an error message shows.
_SHOWN_KEY_CHARS = 40


def _shown(key: str) -> str:
    if len(key) <= _SHOWN_KEY_CHARS:
        return repr(key)
    return repr(key[:_SHOWN_KEY_CHARS]) + "..."


def check_key(key: str) -> None:
    """Check a key that is about to be written.

    Raises:
        KeyValueError: the key is empty, not valid UTF-8, or over :data:`MAX_KEY_BYTES`.

    Example:
        >>> check_key("")
        Traceback (most recent call last):
        ...
        skein.kvstore.errors.KeyValueError: Key must not be empty
    """
    if not key:
        raise KeyValueError("Key must not be empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise KeyValueError(f"Key {_shown(key)} is not valid UTF-8") from None
    if size > MAX_KEY_BYTES:
        raise KeyValueError(
            f"Key {_shown(key)} is {size} bytes of UTF-8, over the limit of {MAX_KEY_BYTES} bytes"
        )


def check_value(key: str, value: bytes) -> None:
    """Check a value that is about to be written under ``key``.

    Raises:
        KeyValueError: the value is over :data:`MAX_VALUE_BYTES`.
    """
    if len(value) > MAX_VALUE_BYTES:
        raise KeyValueError(
            f"Value of key {_shown(key)} is {len(value)} bytes, "
            f"over the limit of {MAX_VALUE_BYTES} bytes"
        )


def event_size(event: Event) -> int:
    """What an event costs the history or a watcher's buffer, in bytes (roughly).

    Example:
        >>> from skein.kvstore.records import EventType, KeyValue
        >>> event_size(Event(type=EventType.PUT, kv=KeyValue(key="é", value=b"12"), revision=2))
        68
    """
    # Keys are almost always ASCII; len() bounds the cost of those without encoding.
    key_bytes = len(event.kv.key) if event.kv.key.isascii() else len(event.kv.key.encode())
    return key_bytes + len(event.kv.value) + EVENT_OVERHEAD_BYTES
