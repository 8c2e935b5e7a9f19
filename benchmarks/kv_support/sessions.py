"""One client connection to a store (etcd or a Skein master), behind one small interface.

Two client stacks, chosen by ``Endpoint.stack``; each session is its own
HTTP/2 connection, and both systems are called the same way within a stack:

* ``python`` (pure Python) with the generated stubs: etcd through a plaintext
  grpclib channel; Skein through its own client's mutual-TLS channel, opened by
  :func:`skein.api.channel.open_channel`. With ``client="kv"`` the Skein side
  goes through the public asyncio client (``AsyncApplicationClient(...).kv``, a
  :class:`skein.kv.AsyncKeyValueStore`) instead of the raw stub: its cost on the
  client is then part of the figures. This is what a Python client gets.
* ``grpcio`` (gRPC's C core, ``grpc.aio``): generic calls by method path with
  the same protobuf messages, so no grpcio code is generated. With many
  concurrent calls its own CPU per call is a fraction of grpclib's, so on a
  small machine it loads the server harder and the figures show the server's
  capacity rather than the client's. etcd's channel is plaintext; Skein's is
  mutual TLS with the application's certificate. ``client`` is ignored: always
  the raw calls. Every channel has its own subchannel pool, hence its own
  connection (grpcio would otherwise share one among equal channels).

``grpc`` is imported only when a grpcio session is opened (in worker processes).
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    """Where a store is and how to reach it; picklable, for worker processes."""

    system: str  # "etcd" or "skein"
    address: str  # host:port
    cert_pem: bytes = b""  # skein: the application's credentials
    key_pem: bytes = b""
    client: str = "stub"  # skein, python stack: "stub" (AppMasterStub) or "kv" (AsyncKeyValueStore)
    app_id: str = ""  # skein: the application's id
    stack: str = "python"  # client stack: "python" or "grpcio"


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
    """A new connection to ``endpoint`` (etcd's and grpcio's connect on their first call)."""
    if endpoint.stack == "grpcio":
        if endpoint.system == "etcd":
            return GrpcioEtcdSession(endpoint)
        return GrpcioSkeinSession(endpoint)
    if endpoint.stack != "python":
        raise ValueError(f"unknown client stack {endpoint.stack!r}")
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


# -- grpcio (grpc.aio) ----------------------------------------------------------------

# grpcio shares one connection among channels with equal arguments (a global
# subchannel pool); a local pool per channel gives each client its own connection.
GRPCIO_OPTIONS: list[tuple[str, Any]] = [("grpc.use_local_subchannel_pool", 1)]


def _unary(channel: Any, path: str, request: Any, reply: Any) -> Any:
    """A generic unary method of ``channel``: no generated grpcio stubs needed."""
    return channel.unary_unary(
        path, request_serializer=request.SerializeToString, response_deserializer=reply.FromString
    )


def _stream(channel: Any, path: str, request: Any, reply: Any) -> Any:
    return channel.stream_stream(
        path, request_serializer=request.SerializeToString, response_deserializer=reply.FromString
    )


@contextlib.asynccontextmanager
async def _grpcio_watch(
    method: Any, create: Any, keys: Callable[[Any], list[str]], system: str
) -> AsyncIterator[AsyncIterator[list[str]]]:
    """Open a watch stream, send ``create``, await the server's confirmation."""
    from grpc import aio

    call = method()
    try:
        await call.write(create)
        reply = await call.read()
        if reply is aio.EOF or not reply.created:
            raise RuntimeError(f"{system} did not create the watch: {reply}")

        async def events() -> AsyncIterator[list[str]]:
            while (reply := await call.read()) is not aio.EOF:
                yield keys(reply)

        yield events()
    finally:
        call.cancel()


class GrpcioEtcdSession(Session):
    """etcd through ``grpc.aio`` over plaintext, with generic calls on etcd's method paths."""

    def __init__(self, endpoint: Endpoint) -> None:
        from etcd_subset import rpc_pb2
        from grpc import aio

        pb: Any = rpc_pb2
        self._pb = pb
        self._channel = aio.insecure_channel(endpoint.address, options=GRPCIO_OPTIONS)
        kv = "/etcdserverpb.KV/"
        self._put = _unary(self._channel, kv + "Put", pb.PutRequest, pb.PutResponse)
        self._range = _unary(self._channel, kv + "Range", pb.RangeRequest, pb.RangeResponse)
        self._compact = _unary(
            self._channel, kv + "Compact", pb.CompactionRequest, pb.CompactionResponse
        )
        self._watch = _stream(
            self._channel, "/etcdserverpb.Watch/Watch", pb.WatchRequest, pb.WatchResponse
        )

    async def put(self, key: str, value: bytes) -> None:
        await self._put(self._pb.PutRequest(key=key.encode(), value=value))

    async def get(self, key: str) -> bytes | None:
        reply = await self._range(self._pb.RangeRequest(key=key.encode()))
        return bytes(reply.kvs[0].value) if reply.kvs else None

    def watch(
        self, prefix: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[list[str]]]:
        pb = self._pb
        create = pb.WatchCreateRequest(key=prefix.encode(), range_end=prefix_end(prefix).encode())

        def keys(reply: Any) -> list[str]:
            return [e.kv.key.decode() for e in reply.events if e.type == 0]  # PUT

        return _grpcio_watch(self._watch, pb.WatchRequest(create_request=create), keys, "etcd")

    async def compact(self) -> None:
        reply = await self._range(self._pb.RangeRequest(key=b"\0", count_only=True))
        revision = reply.header.revision
        await self._compact(self._pb.CompactionRequest(revision=revision, physical=True))

    async def close(self) -> None:
        await self._channel.close()


class GrpcioSkeinSession(Session):
    """Skein's master through ``grpc.aio``: mutual TLS, generic calls on AppMaster's paths."""

    def __init__(self, endpoint: Endpoint) -> None:
        import grpc
        from grpc import aio

        from skein._proto.api import skein_pb2
        from skein.api.tls import SERVER_NAME

        if not endpoint.cert_pem or not endpoint.key_pem:
            raise ValueError("no certificate or key")  # grpcio's C core would abort
        pb: Any = skein_pb2
        self._pb = pb
        credentials = grpc.ssl_channel_credentials(
            root_certificates=endpoint.cert_pem,  # the certificate is self-signed
            private_key=endpoint.key_pem,
            certificate_chain=endpoint.cert_pem,
        )
        # The certificate names skein-internal, not the master's address.
        options = [*GRPCIO_OPTIONS, ("grpc.ssl_target_name_override", SERVER_NAME)]
        self._channel = aio.secure_channel(endpoint.address, credentials, options=options)
        master = "/skein.v1.AppMaster/"
        self._put = _unary(self._channel, master + "PutKey", pb.PutKeyRequest, pb.PutKeyResponse)
        self._range = _unary(
            self._channel, master + "GetRange", pb.GetRangeRequest, pb.GetRangeResponse
        )
        self._watch = _stream(self._channel, master + "Watch", pb.WatchRequest, pb.WatchResponse)

    async def put(self, key: str, value: bytes) -> None:
        await self._put(self._pb.PutKeyRequest(key=key, value=value))

    async def get(self, key: str) -> bytes | None:
        reply = await self._range(self._pb.GetRangeRequest(start=key, end=key + "\0"))
        return bytes(reply.result[0].value) if reply.result else None

    def watch(
        self, prefix: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[list[str]]]:
        pb = self._pb
        create = pb.WatchCreateRequest(start=prefix, end=prefix_end(prefix))

        def keys(reply: Any) -> list[str]:
            return [e.kv.key for e in reply.events if e.type == pb.PUT]

        return _grpcio_watch(self._watch, pb.WatchRequest(create=create), keys, "skein")

    async def compact(self) -> None:
        pass  # Skein's store bounds its history itself

    async def close(self) -> None:
        await self._channel.close()
