"""Waiting for a key to exist: Skein 0.8's ``wait``, which subscribes before it reads.

Subscribing to PUT events of the key first, then reading it, closes the race
of the other order: a put landing between a read that finds nothing and the
subscription would be missed, and the wait would never end.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from skein.errors import SkeinError, TimeoutError
from skein.kv.events import EventType
from skein.kv.records import ValueOwnerPair

if TYPE_CHECKING:
    from skein.kv.async_store import AsyncKeyValueStore

__all__ = ["wait_for_key"]


async def wait_for_key(
    store: AsyncKeyValueStore, key: str, timeout: float | None = None
) -> ValueOwnerPair:
    """The value and owner of ``key`` once it exists.

    Args:
        store: the store.
        key: the key.
        timeout: seconds to wait at most (None: for ever).

    Raises:
        skein.errors.TimeoutError: the key did not appear within ``timeout``.

    Example:
        >>> await wait_for_key(store, "ready", timeout=60)  # doctest: +SKIP
        ValueOwnerPair(value=b'yes', owner='worker_0')
    """
    if timeout is None:
        return await _wait(store, key)
    try:
        return await asyncio.wait_for(_wait(store, key), timeout)
    except asyncio.TimeoutError as exc:
        if isinstance(exc, SkeinError):
            raise  # the master's (a TimeoutError too since Python 3.11), not ours
        raise TimeoutError(f"Timed out waiting for key {key!r}") from None


async def _wait(store: AsyncKeyValueStore, key: str) -> ValueOwnerPair:
    async with await store.events(key=key, event_type=EventType.PUT) as queue:
        current = await store.get(key, return_owner=True)
        if current.value is not None:
            return current
        event = await queue.get()
    assert event.result is not None  # PUT events carry the new value
    return event.result
