"""Writes of one event-loop turn joined into one: fewer TLS records and system calls.

grpclib writes each HTTP/2 step of a call (headers, data, end of stream) to
its transport at once: three TLS records and three ``send`` calls for a
request. Skein's client writes through :func:`coalescing`, which sends the
same bytes in the same order, joined at the end of the loop's turn. (The
master's own HTTP/2 layer gathers its writes the same way, by itself.)
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["CoalescingTransport", "coalescing"]


class CoalescingTransport:
    """A transport that gathers the writes of one event-loop turn into one.

    ``close`` sends what is pending first; ``abort`` drops it, as a transport's
    own abort drops its buffer. Everything else goes to the real transport.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []
        # Made in connection_made, so on the loop that will run the flushes.
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def coalescing(transport: asyncio.BaseTransport) -> Any:
    """``transport`` wrapped in a :class:`CoalescingTransport` (a stream transport is expected).

    Typed ``Any``: it stands in for the transport it wraps, wherever that goes.
    """
    assert isinstance(transport, asyncio.Transport)
    return CoalescingTransport(transport)
