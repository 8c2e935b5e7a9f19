"""The minimal HTTP/1.1 client against in-process servers on loopback.

Each test's server answers the way a test needs: chunked, interim 100 Continue,
refusing a body half-way, silent, garbage, hanging up.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from skein.errors import ConnectionError, ProtocolError, TimeoutError
from skein.fs.http import FileBody, parse_response_head, request

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Serve = Callable[[Handler], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start loopback servers running a handler per connection; returns their base URL."""
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await handler(reader, writer)
            except (ConnectionResetError, BrokenPipeError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(guarded, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    line, *fields = head.rstrip("\r\n").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return line, headers, body


def test_parse_response_head() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: a\r\nSet-Cookie: x\r\nset-cookie: y\r\n\r\n"
    assert parse_response_head(head) == (200, "OK", {"content-type": "a", "set-cookie": "x, y"})
    assert parse_response_head(b"HTTP/1.0 204\r\n\r\n") == (204, "", {})


@pytest.mark.parametrize(
    "head",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n",
    ],
)
def test_parse_response_head_rejects(head: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_response_head(head)


async def test_request_line_headers_and_content_length(serve: Serve) -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        await writer.drain()

    base = await serve(handler)
    response = await request("PUT", f"{base}/webhdfs/v1/a%20b?op=X&u=1", body=b"xyz", timeout=5)
    assert (response.status, response.reason, response.body) == (200, "OK", b"hello")
    line, headers, body = seen[0]
    assert line == "PUT /webhdfs/v1/a%20b?op=X&u=1 HTTP/1.1"
    assert headers["host"] == base.removeprefix("http://")
    assert headers["connection"] == "close"
    assert body == b"xyz"


async def test_chunked_body_after_interim_100_continue(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n")
        await writer.drain()

    response = await request("GET", await serve(handler), timeout=5)
    assert response.body == b"hello world"


async def test_body_until_end_of_connection(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 100_000)
        await writer.drain()

    assert (await request("GET", await serve(handler), timeout=5)).body == b"x" * 100_000


async def test_file_body_streams_with_progress(serve: Serve, tmp_path: Path) -> None:
    data = os.urandom(9 * 1024 * 1024 + 3)  # more than two sendfile segments
    (tmp_path / "f").write_bytes(data)
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append((await read_request(reader))[2])
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    seen: list[tuple[int, int]] = []
    body = FileBody(tmp_path / "f", len(data), lambda done, total: seen.append((done, total)))
    response = await request("PUT", await serve(handler), body=body, timeout=5)
    assert response.status == 201
    assert received == [data]
    assert seen[-1] == (len(data), len(data))
    assert len(seen) == 3


BIG = 64 * 1024 * 1024


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    """A sparse 64 MiB file: far more than socket buffers hold."""
    path = tmp_path / "big"
    with open(path, "wb") as file:
        file.truncate(BIG)
    return path


async def test_refusal_before_the_body_is_taken_is_returned(serve: Serve, big_file: Path) -> None:

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno")
        await writer.drain()
        # Hang up without reading the body, as a DataNode refusing a CREATE does.
        writer.transport.abort()

    response = await request("PUT", await serve(handler), body=FileBody(big_file, BIG), timeout=5)
    assert (response.status, response.body) == (403, b"no")


async def test_silent_server_times_out(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    with pytest.raises(TimeoutError, match=r"no progress within 0\.2 s"):
        await request("GET", await serve(handler), timeout=0.2)


async def test_stalled_body_times_out(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()
        await asyncio.sleep(5)

    with pytest.raises(TimeoutError):
        await request("GET", await serve(handler), timeout=0.2)


async def test_hang_up_mid_body(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()

    with pytest.raises(ConnectionError, match="closed the connection"):
        await request("GET", await serve(handler), timeout=5)


async def test_garbage_reply(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\x00\x01garbage\r\n\r\n")
        await writer.drain()

    with pytest.raises(ProtocolError, match="not an HTTP response"):
        await request("GET", await serve(handler), timeout=5)


async def test_connection_refused() -> None:
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(ConnectionError, match=f"connecting to 127.0.0.1:{port}"):
        await request("GET", f"http://127.0.0.1:{port}/", timeout=5)


@pytest.mark.parametrize("url", ["ftp://host/x", "http:///x", "localhost:9870"])
async def test_rejects_non_http_urls(url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        await request("GET", url, timeout=1)
