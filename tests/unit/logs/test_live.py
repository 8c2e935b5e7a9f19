"""Live logs from NodeManagers, against small fake NodeManager web servers on loopback."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from urllib.parse import unquote, urlsplit

import pytest

from skein.errors import ConnectionError, ProtocolError
from skein.logs.live import read_live_logs
from skein.yarn.enums import NodeState
from skein.yarn.records import NodeReport, Resources

APP = "application_1_0001"
Routes = Mapping[str, tuple[int, bytes]]


@pytest.fixture
def unused_port() -> Callable[[], int]:
    """A loopback port nothing listens on (bound, then released)."""

    def pick() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
            return port

    return pick


def envelope(container: str, name: str, content: bytes) -> bytes:
    """A file as a Hadoop 3 NodeManager serves it."""
    return (
        (
            f"Container: {container} on h:1\nLogAggregationType: LOCAL\n=====\nLogType:{name}\n"
            f"LogLastModifiedTime:Wed Nov 25 06:06:50 +0000 2026\nLogLength:{len(content)}\n"
            "LogContents:\n"
        ).encode()
        + content
        + f"End of LogType:{name}\n*****\n\n".encode()
    )


@asynccontextmanager
async def fake_node_manager(routes: Routes, seen: list[str]) -> AsyncIterator[str]:
    """Serve ``routes`` (path -> status, body); yield the server's ``host:port``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        target = head.split(b" ")[1].decode()
        seen.append(target)
        status, body = routes.get(unquote(urlsplit(target).path), (404, b"HTTP 404 Not Found"))
        head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


def node(node_id: str, http_address: str) -> NodeReport:
    none = Resources(memory=0, vcores=0)
    return NodeReport(
        id=node_id,
        http_address=http_address,
        rack_name="/default-rack",
        labels=frozenset(),
        state=NodeState.RUNNING,
        health_report="",
        total_resources=none,
        used_resources=none,
    )


def routes_for(containers: Mapping[str, Mapping[str, bytes]]) -> dict[str, tuple[int, bytes]]:
    ids = ",".join(f'"{c}"' for c in containers)
    routes = {f"/ws/v1/node/apps/{APP}": (200, f'{{"app": {{"containerids": [{ids}]}}}}'.encode())}
    for container, files in containers.items():
        infos = ",".join(f'{{"fileName": "{name}"}}' for name in files)
        routes[f"/ws/v1/node/containers/{container}/logs"] = (
            200,
            f'{{"containerLogsInfo": {{"containerLogInfo": [{infos}], '
            f'"logAggregationType": "LOCAL"}}}}'.encode(),
        )
        for name, content in files.items():
            routes[f"/ws/v1/node/containerlogs/{container}/{name}"] = (
                200,
                envelope(container, name, content),
            )
    return routes


async def test_reads_every_node(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []
    one = routes_for({"container_1_0001_01_000001": {"stdout": b"master\n", "stderr": b""}})
    two = routes_for({"container_1_0001_01_000002": {"stdout": b"w\xff\n"}})
    async with (
        fake_node_manager(one, seen) as a,
        fake_node_manager(two, seen) as b,
        fake_node_manager({}, seen) as idle,  # nothing of the application runs there
    ):
        nodes = [node("n1:1", a), node("n2:2", b), node("n3:3", idle)]
        logs = await read_live_logs(nodes, APP, user="alice", timeout=5)
    assert logs.source == "live"
    assert logs.files == {
        "container_1_0001_01_000001": {"stdout": "master\n", "stderr": ""},
        "container_1_0001_01_000002": {"stdout": "w\ufffd\n"},
    }
    assert logs.nodes == {
        "container_1_0001_01_000001": "n1:1",
        "container_1_0001_01_000002": "n2:2",
    }
    assert all(target.endswith("user.name=alice") for target in seen)
    assert not caplog.records


async def test_hadoop_2_node_manager() -> None:
    container = "container_1_0001_01_000001"
    routes = {
        f"/ws/v1/node/apps/{APP}": (200, f'{{"app": {{"containerids": "{container}"}}}}'.encode()),
        f"/ws/v1/node/containers/{container}": (
            200,
            b'{"container": {"containerLogFiles": ["stdout", "gone.log"]}}',
        ),
        f"/ws/v1/node/containerlogs/{container}/stdout": (200, b"raw bytes\n"),
    }
    async with fake_node_manager(routes, []) as address:
        logs = await read_live_logs([node("n:1", address)], APP, timeout=5)
    assert logs.files == {container: {"stdout": "raw bytes\n"}}


async def test_an_unreachable_node_is_skipped(
    caplog: pytest.LogCaptureFixture, unused_port: Callable[[], int]
) -> None:
    routes = routes_for({"container_1_0001_01_000001": {"stdout": b"ok\n"}})
    async with fake_node_manager(routes, []) as address:
        with caplog.at_level(logging.WARNING, logger="skein.logs.live"):
            logs = await read_live_logs(
                [node("up:1", address), node("down:2", f"127.0.0.1:{unused_port()}")],
                APP,
                timeout=5,
            )
    assert list(logs) == ["container_1_0001_01_000001"]
    assert "could not read the logs of application_1_0001 on down:2" in caplog.text


async def test_no_node_reachable(unused_port: Callable[[], int]) -> None:
    with pytest.raises(ConnectionError):
        await read_live_logs([node("down:2", f"127.0.0.1:{unused_port()}")], APP, timeout=5)


async def test_server_errors_are_reported() -> None:
    routes = {f"/ws/v1/node/apps/{APP}": (500, b"boom")}
    async with fake_node_manager(routes, []) as address:
        with pytest.raises(ProtocolError, match="HTTP 500 boom"):
            await read_live_logs([node("n:1", address)], APP, timeout=5)
