"""Writes joined per event-loop turn: same bytes, same order, fewer writes."""

from __future__ import annotations

import asyncio
from typing import Any

from skein.api.coalescing import CoalescingTransport, coalescing


class Recorder(asyncio.Transport):
    """A stream transport that records what reaches it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1)}.get(name, default)


async def next_turn() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_writes_of_one_turn_reach_the_transport_as_one_in_order() -> None:
    inner = Recorder()
    transport = coalescing(inner)
    assert isinstance(transport, CoalescingTransport)
    transport.write(b"headers")
    transport.write(b"")
    transport.write(b"data")
    transport.write(b"trailers")
    assert inner.writes == []
    await next_turn()
    assert inner.writes == [b"headersdatatrailers"]
    transport.write(b"next")
    await next_turn()
    assert inner.writes == [b"headersdatatrailers", b"next"]
    await next_turn()
    assert len(inner.writes) == 2  # nothing pending: nothing more written


async def test_close_sends_what_is_pending_first_and_abort_drops_it() -> None:
    inner = Recorder()
    transport = coalescing(inner)
    transport.write(b"last words")
    transport.close()
    assert (inner.writes, inner.closed) == ([b"last words"], True)
    await next_turn()
    assert inner.writes == [b"last words"]

    inner = Recorder()
    transport = coalescing(inner)
    transport.write(b"dropped")
    transport.abort()
    await next_turn()
    assert (inner.writes, inner.aborted) == ([], True)


async def test_nothing_is_written_to_a_transport_closed_meanwhile() -> None:
    inner = Recorder()
    transport = coalescing(inner)
    transport.write(b"late")
    inner.closed = True  # e.g. the peer went away during this turn
    await next_turn()
    assert inner.writes == []


async def test_everything_else_is_the_real_transport() -> None:
    inner = Recorder()
    transport = coalescing(inner)
    assert transport.get_extra_info("peername") == ("127.0.0.1", 1)
    assert transport.is_closing() is False
