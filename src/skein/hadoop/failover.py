"""Calls to a service with several addresses (ResourceManager HA), with failover.

A call goes to the address that answered last. When that address refuses the
connection, drops it, or answers "standby", the call moves on to the next
address; when a server asks to retry later, the call waits and tries again.
Rounds over all addresses repeat with growing pauses until ``timeout``; then
the call fails with a ``ConnectionError`` naming every address and what went
wrong there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TypeVar

from google.protobuf.message import Message

from skein.errors import ConnectionError, RetriableError, StandbyError, TimeoutError
from skein.hadoop.transport import RpcConnection

__all__ = ["FailoverChannel", "backoff_delays"]

M = TypeVar("M", bound=Message)


def backoff_delays(first: float = 0.2, factor: float = 2.0, cap: float = 2.0) -> list[float]:
    """Pauses between rounds over all addresses: ``first``, doubling, at most ``cap``.

    Example:
        >>> backoff_delays()[:6]
        [0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    """
    delays: list[float] = []
    delay = first
    while len(delays) < 64:
        delays.append(round(min(delay, cap), 6))
        delay *= factor
    return delays


class FailoverChannel:
    """An RPC channel over ``connections`` to the same service at different addresses.

    Args:
        connections: one connection per address, in failover order.
        timeout: seconds a call may spend failing over before it gives up.
    """

    def __init__(self, connections: Sequence[RpcConnection], *, timeout: float = 20.0) -> None:
        if not connections:
            raise ValueError("FailoverChannel needs at least one address")
        self.connections = list(connections)
        self.timeout = timeout
        self._current = 0

    @property
    def addresses(self) -> list[str]:
        """``host:port`` of every address, in failover order."""
        return [c.address for c in self.connections]

    async def call(
        self, method: str, request: Message, response_type: type[M], *, timeout: float | None = None
    ) -> M:
        """Call ``method`` on the active server, failing over as needed.

        Raises:
            ConnectionError: no address answered within the failover timeout
                (the message names each address and its last error).
        """
        deadline = time.monotonic() + self.timeout
        errors: dict[str, str] = {}
        delays = iter(backoff_delays())
        count = len(self.connections)
        while True:
            for step in range(count):
                index = (self._current + step) % count
                connection = self.connections[index]
                try:
                    response = await connection.call(
                        method, request, response_type, timeout=timeout
                    )
                except StandbyError as exc:
                    errors[connection.address] = f"standby ({exc})"
                    continue
                except RetriableError as exc:
                    errors[connection.address] = f"asked to retry ({exc})"
                    self._current = index  # the same server, after a pause
                    break
                except TimeoutError:
                    if connection.connected:
                        raise  # the call itself was slow: repeating it elsewhere is unsafe
                    errors[connection.address] = "connection timed out"
                    continue
                except ConnectionError as exc:
                    errors[connection.address] = str(exc)
                    continue
                self._current = index
                return response
            pause = next(delays, 2.0)
            if time.monotonic() + pause > deadline:
                tried = "; ".join(f"{address}: {error}" for address, error in errors.items())
                raise ConnectionError(
                    f"cannot reach the service at {', '.join(self.addresses)} within "
                    f"{self.timeout:g} s ({tried})"
                )
            await asyncio.sleep(pause)

    async def aclose(self) -> None:
        """Close every connection."""
        for connection in self.connections:
            await connection.aclose()
