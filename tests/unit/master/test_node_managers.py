"""NodeManager connections: one per node and NMToken, starts and stops, failures as reasons."""

from __future__ import annotations

import asyncio
from typing import TypeVar

import pytest
from google.protobuf.message import Message

from skein._proto.hadoop import Security_pb2 as security_pb
from skein._proto.yarn import yarn_protos_pb2 as pb
from skein._proto.yarn import yarn_service_protos_pb2 as service_pb
from skein.errors import ConnectionError
from skein.hadoop.sasl import TokenCredential
from skein.master.node_managers import LaunchError, NodeManagers
from skein.yarn.ids import ContainerId

M = TypeVar("M", bound=Message)
CONTAINER = "container_1700000000000_0001_01_000002"


class FakeNode:
    """One NodeManager connection: records calls, answers as told."""

    def __init__(self, host: str, port: int, token: TokenCredential) -> None:
        self.address = (host, port)
        self.token = token
        self.calls: list[tuple[str, Message]] = []
        self.failure: str | None = None
        self.error: Exception | None = None
        self.delay = 0.0
        self.closed = False

    async def call(
        self, method: str, request: Message, response_type: type[M], *, timeout: float | None = None
    ) -> M:
        self.calls.append((method, request))
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        response = response_type()
        if self.failure is not None:
            response.failed_requests.add(  # type: ignore[attr-defined]
                container_id=ContainerId.parse(CONTAINER).to_proto(),
                exception=pb.SerializedExceptionProto(message=self.failure),
            )
        return response

    async def aclose(self) -> None:
        self.closed = True


class Nodes:
    def __init__(self) -> None:
        self.made: list[FakeNode] = []

    def connect(self, host: str, port: int, token: TokenCredential) -> FakeNode:
        node = FakeNode(host, port, token)
        self.made.append(node)
        return node


def nm_token(host: str, port: int, password: bytes) -> service_pb.NMTokenProto:
    return service_pb.NMTokenProto(
        nodeId=pb.NodeIdProto(host=host, port=port),
        token=security_pb.TokenProto(identifier=b"id-" + password, password=password),
    )


def container(host: str = "n1", port: int = 45454) -> pb.ContainerProto:
    return pb.ContainerProto(
        id=ContainerId.parse(CONTAINER).to_proto(),
        nodeId=pb.NodeIdProto(host=host, port=port),
        container_token=security_pb.TokenProto(identifier=b"ct", password=b"cp"),
    )


async def test_start_uses_the_nodes_token_and_the_container_token() -> None:
    nodes = Nodes()
    managers = NodeManagers(nodes.connect)
    managers.update_tokens([nm_token("n1", 45454, b"one")])
    await managers.start(container(), pb.ContainerLaunchContextProto(command=["true"]))
    (node,) = nodes.made
    assert node.address == ("n1", 45454)
    assert node.token == TokenCredential(b"id-one", b"one")
    method, request = node.calls[0]
    assert method == "startContainers"
    (start,) = request.start_container_request  # type: ignore[attr-defined]
    assert start.container_token.identifier == b"ct"
    assert list(start.container_launch_context.command) == ["true"]


async def test_one_connection_per_node_until_the_token_changes() -> None:
    nodes = Nodes()
    managers = NodeManagers(nodes.connect)
    managers.update_tokens([nm_token("n1", 1, b"one"), nm_token("n2", 1, b"two")])
    for _ in range(2):
        await managers.start(container("n1", 1), pb.ContainerLaunchContextProto())
    await managers.start(container("n2", 1), pb.ContainerLaunchContextProto())
    assert len(nodes.made) == 2
    managers.update_tokens([nm_token("n1", 1, b"rolled")])
    await managers.stop(container("n1", 1))
    assert len(nodes.made) == 3
    assert nodes.made[-1].token.password == b"rolled"
    await managers.aclose()
    assert all(node.closed for node in nodes.made)


async def test_no_token_no_launch() -> None:
    managers = NodeManagers(Nodes().connect)
    with pytest.raises(LaunchError, match="no NMToken for node n1:45454"):
        await managers.start(container(), pb.ContainerLaunchContextProto())


async def test_a_refusal_is_a_launch_error_with_the_nodemanagers_reason() -> None:
    nodes = Nodes()
    managers = NodeManagers(nodes.connect)
    managers.update_tokens([nm_token("n1", 45454, b"one")])
    await managers.start(container(), pb.ContainerLaunchContextProto())
    nodes.made[0].failure = "Container token expired"
    with pytest.raises(LaunchError, match="Container token expired"):
        await managers.start(container(), pb.ContainerLaunchContextProto())
    with pytest.raises(LaunchError, match="Container token expired"):
        await managers.stop(container())


async def test_connection_failures_and_timeouts_are_launch_errors() -> None:
    nodes = Nodes()
    managers = NodeManagers(nodes.connect, timeout=0.05)
    managers.update_tokens([nm_token("n1", 45454, b"one")])
    await managers.start(container(), pb.ContainerLaunchContextProto())
    node = nodes.made[0]
    node.error = ConnectionError("cannot connect to n1:45454")
    with pytest.raises(LaunchError, match="cannot connect"):
        await managers.start(container(), pb.ContainerLaunchContextProto())
    node.error, node.delay = None, 1.0
    with pytest.raises(LaunchError, match=r"did not answer within 0\.05 s"):
        await managers.start(container(), pb.ContainerLaunchContextProto())
    with pytest.raises(LaunchError, match=r"took over 0\.05 s"):
        await managers.stop(container())
