"""What the asyncio drivers of both HTTP/2 ends share: one connection, writes per loop turn.

The state machines (:mod:`skein.api.http2_server`, :mod:`skein.api.http2_client`)
only queue bytes. :class:`Http2Protocol` writes what they queued once per
event-loop turn, so a call's frames (headers, message, end; or a reply's
headers, data and trailers) go out as one TLS record and one ``send``.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

from skein.api.http2_connection import Http2Connection

__all__ = ["Http2Protocol"]

_H2 = TypeVar("_H2", bound=Http2Connection)


class Http2Protocol(asyncio.Protocol, Generic[_H2]):
    """An asyncio protocol driving ``h2``; subclasses handle its events.

    Args:
        h2: the connection's state machine.
    """

    def __init__(self, h2: _H2) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._flush_scheduled = False
        self._h2 = h2

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        data = self._h2.data_to_send()
        if data:
            transport.write(data)
        self._flushed()

    def _flushed(self) -> None:
        """What to do once queued bytes are written (e.g. close); nothing by default."""
