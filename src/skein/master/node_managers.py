"""The master's connections to NodeManagers: one per node, authenticated by its NMToken.

The ResourceManager hands out an NMToken for a node with the first container
it allocates there, and a new one when it rolls its keys. This keeps the
latest token per node and one connection per node and token: a new token
means a new connection (the old one is closed at the end, as calls may
still be using it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Final, Protocol, TypeVar

from google.protobuf.message import Message

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein._proto.yarn import yarn_service_protos_pb2 as service_pb
from skein.errors import SkeinError
from skein.hadoop.sasl import TokenCredential
from skein.hadoop.transport import RpcConnection
from skein.yarn import node_manager
from skein.yarn.ids import ContainerId
from skein.yarn.node_manager import NodeManagerProtocol

__all__ = ["LaunchError", "NodeChannel", "NodeManagers", "node_address"]

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)
CALL_TIMEOUT: Final = 60.0


class NodeChannel(Protocol):
    """An RPC channel to one NodeManager that can be closed (an ``RpcConnection``)."""

    async def call(
        self, method: str, request: Message, response_type: type[M], *, timeout: float | None = None
    ) -> M:
        """Call ``method``."""
        ...

    async def aclose(self) -> None:
        """Close the channel."""
        ...


Connect = Callable[[str, int, TokenCredential], NodeChannel]


class LaunchError(SkeinError):
    """A NodeManager did not start (or stop) a container; the message says why."""


def node_address(node: pb.NodeIdProto) -> str:
    """``host:port`` of a node id."""
    return f"{node.host}:{node.port}"


def _rpc_connection(host: str, port: int, token: TokenCredential) -> NodeChannel:
    return RpcConnection(
        host,
        port,
        node_manager.PROTOCOL_NAME,
        token=token,
        connect_timeout=20.0,
        call_timeout=CALL_TIMEOUT,
    )


def _failure(failed: Iterable[service_pb.ContainerExceptionMapProto], container: str) -> str | None:
    for entry in failed:
        if str(ContainerId.from_proto(entry.container_id)) == container:
            exception = entry.exception
            return exception.message or exception.class_name or "refused by the NodeManager"
    return None


class NodeManagers:
    """NodeManager connections by node.

    Args:
        connect: makes a channel to ``host``, ``port`` with an NMToken
            (default: an :class:`~skein.hadoop.transport.RpcConnection`).
        timeout: seconds a start or stop may take.
    """

    def __init__(self, connect: Connect = _rpc_connection, *, timeout: float = CALL_TIMEOUT):
        self._connect = connect
        self._timeout = timeout
        self._tokens: dict[str, TokenCredential] = {}
        self._channels: dict[str, tuple[TokenCredential, NodeChannel]] = {}
        self._retired: list[NodeChannel] = []

    def update_tokens(self, tokens: Iterable[service_pb.NMTokenProto]) -> None:
        """Keep the NMTokens of an allocate response, replacing older ones."""
        for entry in tokens:
            address = node_address(entry.nodeId)
            log.debug("NMToken for %s", address)
            self._tokens[address] = TokenCredential(entry.token.identifier, entry.token.password)

    def _protocol(self, node: pb.NodeIdProto) -> NodeManagerProtocol:
        address = node_address(node)
        token = self._tokens.get(address)
        if token is None:
            raise LaunchError(f"no NMToken for node {address}")
        current = self._channels.get(address)
        if current is not None and current[0] == token:
            return NodeManagerProtocol(current[1])
        if current is not None:
            self._retired.append(current[1])
        channel = self._connect(node.host, node.port, token)
        self._channels[address] = (token, channel)
        return NodeManagerProtocol(channel)

    async def start(
        self, container: pb.ContainerProto, context: pb.ContainerLaunchContextProto
    ) -> None:
        """Start ``container`` with ``context`` on its node.

        Raises:
            LaunchError: the NodeManager refused it, or could not be reached.
        """
        name = str(ContainerId.from_proto(container.id))
        protocol = self._protocol(container.nodeId)
        try:
            response = await asyncio.wait_for(
                protocol.start_containers([(context, container.container_token)]), self._timeout
            )
        except asyncio.TimeoutError:
            raise LaunchError(
                f"{node_address(container.nodeId)} did not answer within {self._timeout:g} s"
            ) from None
        except (SkeinError, OSError) as exc:
            raise LaunchError(str(exc)) from exc
        reason = _failure(response.failed_requests, name)
        if reason is not None:
            raise LaunchError(reason)

    async def stop(self, container: pb.ContainerProto) -> None:
        """Stop ``container`` on its node.

        Raises:
            LaunchError: the NodeManager refused, or could not be reached.
        """
        name = str(ContainerId.from_proto(container.id))
        protocol = self._protocol(container.nodeId)
        try:
            response = await asyncio.wait_for(
                protocol.stop_containers([container.id]), self._timeout
            )
        except asyncio.TimeoutError:
            raise LaunchError(f"stopping {name} took over {self._timeout:g} s") from None
        except (SkeinError, OSError) as exc:
            raise LaunchError(str(exc)) from exc
        reason = _failure(response.failed_requests, name)
        if reason is not None:
            raise LaunchError(reason)

    async def aclose(self) -> None:
        """Close every connection."""
        channels = [channel for _, channel in self._channels.values()] + self._retired
        self._channels.clear()
        self._retired.clear()
        for channel in channels:
            try:
                await channel.aclose()
            except Exception as exc:  # closing is best effort
                log.debug("closing a NodeManager connection failed: %s", exc)
