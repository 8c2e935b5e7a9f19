"""An in-memory application master serving a real key-value store, for end-to-end tests.

The key-value calls go to :class:`skein.api.kv_service.KeyValueService` over
grpclib's in-memory transport (``ChannelFor``); every other call is
``UNIMPLEMENTED``. Owners are the containers ``svc_0`` .. ``svc_2``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError
from grpclib.server import Stream
from grpclib.testing import ChannelFor

from skein._proto.api.skein_grpc import AppMasterBase, AppMasterStub
from skein.api.kv_service import KeyValueService
from skein.client.background_loop import BackgroundLoop
from skein.kv import AsyncKeyValueStore, KeyValueStore
from skein.kvstore import Owner, Store

ADDRESS = "master.test:8765"


def check_owner(owner: Owner) -> str | None:
    """Service ``svc`` has live containers 0..2; container 3 has completed."""
    if owner.service_name != "svc":
        return f"Unknown service {owner.service_name!r}"
    if owner.instance == 3:
        return "Container 'svc_3' has already completed"
    if owner.instance > 3:
        return f"Service 'svc' has no container instance {owner.instance}"
    return None


class Master(AppMasterBase):
    """Delegates the key-value calls; can break its watch streams on demand."""

    def __init__(self, kv: KeyValueService) -> None:
        self.kv = kv
        self.watch_streams = 0
        self._break: asyncio.Future[GRPCError | None] | None = None

    def break_watches(self, error: GRPCError | None) -> None:
        """End every open watch stream with ``error`` (None: end it cleanly)."""
        if self._break is not None and not self._break.done():
            self._break.set_result(error)

    async def GetRange(self, stream: Stream[Any, Any]) -> None:
        await self.kv.get_range(stream)

    async def DeleteRange(self, stream: Stream[Any, Any]) -> None:
        await self.kv.delete_range(stream)

    async def PutKey(self, stream: Stream[Any, Any]) -> None:
        await self.kv.put_key(stream)

    async def Transaction(self, stream: Stream[Any, Any]) -> None:
        await self.kv.transaction(stream)

    async def Watch(self, stream: Stream[Any, Any]) -> None:
        self.watch_streams += 1
        if self._break is None or self._break.done():
            self._break = asyncio.get_running_loop().create_future()
        brk = self._break
        serving = asyncio.ensure_future(self.kv.watch(stream))
        either: list[asyncio.Future[Any]] = [serving, brk]
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not serving.done():  # broken, or the client reset the stream
                serving.cancel()
                await asyncio.gather(serving, return_exceptions=True)
        if serving.cancelled():
            error = brk.result()
            if error is not None:
                raise error
            return
        serving.result()

    async def _unimplemented(self, stream: Stream[Any, Any]) -> None:
        raise GRPCError(Status.UNIMPLEMENTED)

    GetSpecification = Shutdown = SetProgress = GetContainers = _unimplemented
    KillContainer = Scale = AddContainer = _unimplemented


def make_service(**limits: int) -> KeyValueService:
    return KeyValueService(Store(check_owner=check_owner, **limits))


@pytest.fixture
def service() -> KeyValueService:
    return make_service()


@pytest.fixture
def master(service: KeyValueService) -> Master:
    return Master(service)


@pytest.fixture
async def kv(master: Master) -> AsyncIterator[AsyncKeyValueStore]:
    async with ChannelFor([master]) as channel:
        store = AsyncKeyValueStore(AppMasterStub(channel), address=ADDRESS, timeout=5)
        yield store
        await store.close()


class Blocking:
    """A blocking store whose master and channel live on its background loop."""

    def __init__(self, master: Master) -> None:
        self.master = master
        self.loop = BackgroundLoop(name="skein-kv-test")
        self._channel = ChannelFor([master])

        async def open_store() -> AsyncKeyValueStore:
            channel = await self._channel.__aenter__()
            return AsyncKeyValueStore(AppMasterStub(channel), address=ADDRESS, timeout=5)

        self.async_store = self.loop.run(open_store())
        self.kv = KeyValueStore(self.async_store, self.loop)

    def call(self, function: Any, *args: Any) -> Any:
        """Call ``function`` on the loop's thread (where the master lives)."""

        async def call() -> Any:
            return function(*args)

        return self.loop.run(call())

    def close(self) -> None:
        async def close() -> None:
            await self.async_store.close()
            await self._channel.__aexit__(None, None, None)

        self.loop.run(close())
        self.loop.close()


@pytest.fixture
def blocking(master: Master) -> Iterator[Blocking]:
    fixture = Blocking(master)
    yield fixture
    fixture.close()
