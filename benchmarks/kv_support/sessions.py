"""One client connection to a store (etcd or a Skein master), behind one small interface.

Both sides use the same client stack: a grpclib channel (one HTTP/2 connection
per session) and protobuf messages from generated stubs. etcd's channel is
plaintext; Skein's is mutual TLS, opened by :func:`skein.api.channel.open_channel`.
With ``client="kv"`` the Skein side goes through the public asyncio client
(``AsyncApplicationClient(...).kv``, a :class:`skein.kv.AsyncKeyValueStore`)
instead of the raw stub: its cost on the client is then part of the figures.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    """Where a store is and how to reach it; picklable, for worker processes."""

    system: str  # "etcd" or "skein"
    address: str  # host:port
    cert_pem: bytes = b""  # skein: the application's credentials
    key_pem: bytes = b""
    client: str = "stub"  # skein: "stub" (AppMasterStub) or "kv" (skein.kv.AsyncKeyValueStore)
    app_id: str = ""  # skein: the application's id


def prefix_end(prefix: str) -> str:
    """The smallest string above every string starting with ``prefix`` (non-empty, < U+10FFFF)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class Session(abc.ABC):
    """A client's connection: puts, gets and watches of string keys and bytes values."""

    @abc.abstractmethod
    async def put(self, key: str, value: bytes) -> None: ...

    @abc.abstractmethod
    async def get(self, key: str) -> bytes | None: ...

    @abc.abstractmethod
    def watch(
        self, prefix: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[list[str]]]:
        """Watch keys under ``prefix``: once entered, the watch is registered on the server.

        Iterating gives, per message received, the keys of its PUT events.
        """

    @abc.abstractmethod
    async def compact(self) -> None:
        """Drop the store's history (etcd keeps every revision until compacted)."""

    @abc.abstractmethod
    async def close(self) -> None: ...


async def open_session(endpoint: Endpoint) -> Session:
    """A new connection to ``endpoint`` (etcd's connects on its first call)."""
    if endpoint.system == "etcd":
        return EtcdSession(endpoint)
    if endpoint.client == "kv":
        return await SkeinStoreSession.open(endpoint)
    return await SkeinStubSession.open(endpoint)


class EtcdSession(Session):
    def __init__(self, endpoint: Endpoint) -> None:
        from etcd_subset import rpc_grpc, rpc_pb2
        from grpclib.client import Channel

        host, port = endpoint.address.rsplit(":", 1)
        self._pb: Any = rpc_pb2
        self._channel = Channel(host, int(port))
        self._kv = rpc_grpc.KVStub(self._channel)
        self._watch = rpc_grpc.WatchStub(self._channel)

    async def put(self, key: str, value: bytes) -> None:
        await self._kv.Put(self._pb.PutRequest(key=key.encode(), value=value))

    async def get(self, key: str) -> bytes | None:
        reply = await self._kv.Range(self._pb.RangeRequest(key=key.encode()))
        return bytes(reply.kvs[0].value) if reply.kvs else None

    @contextlib.asynccontextmanager
    async def watch(self, prefix: str) -> AsyncIterator[AsyncIterator[list[str]]]:
        pb = self._pb
        async with self._watch.Watch.open() as stream:
            create = pb.WatchCreateRequest(
                key=prefix.encode(), range_end=prefix_end(prefix).encode()
            )
            await stream.send_message(pb.WatchRequest(create_request=create))
            reply = await stream.recv_message()
            if reply is None or not reply.created:
                raise RuntimeError(f"etcd did not create the watch: {reply}")

            async def events() -> AsyncIterator[list[str]]:
                while (reply := await stream.recv_message()) is not None:
                    yield [e.kv.key.decode() for e in reply.events if e.type == 0]  # PUT

            try:
                yield events()
            finally:
                await stream.cancel()

    async def compact(self) -> None:
        reply = await self._kv.Range(self._pb.RangeRequest(key=b"\0", count_only=True))
        revision = reply.header.revision
        await self._kv.Compact(self._pb.CompactionRequest(revision=revision, physical=True))

    async def close(self) -> None:
        self._channel.close()


def _security(endpoint: Endpoint) -> Any:
    from skein.spec import Security

    return Security(cert_bytes=endpoint.cert_pem, key_bytes=endpoint.key_pem)


class SkeinStubSession(Session):
    """Skein's master through the generated ``AppMasterStub`` over Skein's TLS channel."""

    def __init__(self, channel: Any) -> None:
        from skein._proto.api import skein_pb2

        self._pb: Any = skein_pb2
        self._channel = channel
        self._stub = channel.stub

    @classmethod
    async def open(cls, endpoint: Endpoint) -> SkeinStubSession:
        from skein.api.channel import open_channel

        # No default deadline, as on the etcd side: both send bare calls.
        return cls(await open_channel(endpoint.address, _security(endpoint), call_timeout=None))

    async def put(self, key: str, value: bytes) -> None:
        await self._stub.PutKey(self._pb.PutKeyRequest(key=key, value=value))

    async def get(self, key: str) -> bytes | None:
        reply = await self._stub.GetRange(self._pb.GetRangeRequest(start=key, end=key + "\0"))
        return bytes(reply.result[0].value) if reply.result else None

    @contextlib.asynccontextmanager
    async def watch(self, prefix: str) -> AsyncIterator[AsyncIterator[list[str]]]:
        pb = self._pb
        async with self._stub.Watch.open() as stream:
            create = pb.WatchCreateRequest(start=prefix, end=prefix_end(prefix))
            await stream.send_message(pb.WatchRequest(create=create))
            reply = await stream.recv_message()
            if reply is None or not reply.created:
                raise RuntimeError(f"skein did not create the watch: {reply}")

            async def events() -> AsyncIterator[list[str]]:
                while (reply := await stream.recv_message()) is not None:
                    yield [e.kv.key for e in reply.events if e.type == pb.PUT]

            try:
                yield events()
            finally:
                await stream.cancel()

    async def compact(self) -> None:
        pass  # Skein's store bounds its history itself

    async def close(self) -> None:
        self._channel.close()


class SkeinStoreSession(Session):
    """Skein's master through the public asyncio client: ``AsyncApplicationClient(...).kv``."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._kv = app.kv

    @classmethod
    async def open(cls, endpoint: Endpoint) -> SkeinStoreSession:
        from skein.client.async_application_client import AsyncApplicationClient

        return cls(AsyncApplicationClient(endpoint.address, endpoint.app_id, _security(endpoint)))

    async def put(self, key: str, value: bytes) -> None:
        await self._kv.put(key, value)

    async def get(self, key: str) -> bytes | None:
        value = await self._kv.get(key)
        return None if value is None else bytes(value)

    @contextlib.asynccontextmanager
    async def watch(self, prefix: str) -> AsyncIterator[AsyncIterator[list[str]]]:
        queue = await self._kv.events(prefix=prefix, event_type="PUT")

        async def events() -> AsyncIterator[list[str]]:
            async for event in queue:
                yield [event.key]

        try:
            yield events()
        finally:
            await queue.unsubscribe_all()

    async def compact(self) -> None:
        pass

    async def close(self) -> None:
        await self._app.close()
