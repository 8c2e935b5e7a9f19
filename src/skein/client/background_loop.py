"""A private asyncio event loop on a daemon thread, for the blocking API.

The blocking :class:`skein.Client` is a facade: each method submits the
coroutine of the matching :class:`skein.AsyncClient` method to this loop and
waits for its result, so there is one implementation of every behaviour.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["BackgroundLoop"]

T = TypeVar("T")


class BackgroundLoop:
    """Runs coroutines on an event loop owned by a background thread.

    Example:
        >>> loop = BackgroundLoop()
        >>> async def answer() -> int:
        ...     return 42
        >>> loop.run(answer())
        42
        >>> loop.close()
    """

    def __init__(self, name: str = "skein-loop") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._loop.is_closed()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and return its result (or raise its exception).

        Raises:
            RuntimeError: called from the loop's own thread (it would deadlock),
                or after :meth:`close`.
        """
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("BackgroundLoop.run called from its own loop thread")
        if self._loop.is_closed():
            coro.close()
            raise RuntimeError("BackgroundLoop is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            raise

    def close(self) -> None:
        """Stop the loop and its thread. Idempotent."""
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._loop.is_running():
            self._loop.close()
