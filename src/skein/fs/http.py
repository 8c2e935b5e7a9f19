"""A minimal HTTP/1.1 client over asyncio streams, enough for WebHDFS.

One request per connection (``Connection: close``): WebHDFS sends most calls to
the NameNode and the data of each file to a DataNode it picks, so pooled
connections would rarely be reused, and a fresh connection per call needs no
bookkeeping of which ones the server has closed.

Theory of operation: :func:`request` connects, writes the request head, then the
body (bytes, or a local file streamed with ``loop.sendfile`` in segments so a
progress callback can follow it, without the file ever being read into memory),
then reads one response: interim ``1xx`` responses are skipped, and the body is
delimited by ``Content-Length``, chunked transfer coding, or the end of the
connection. Every step (connecting, each segment written, each read) has its own
timeout, so a slow but moving transfer of a large file is not cut off, while a
stalled one is.

Errors map to :mod:`skein.errors`: refused or lost connections to
``ConnectionError``, a step past its timeout to ``TimeoutError``, and a reply
that is not HTTP to ``ProtocolError``. HTTP error statuses are returned, not
raised: WebHDFS puts its Java exception in their body.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import BinaryIO, Final, TypeVar
from urllib.parse import urlsplit

from skein.errors import ConnectionError, ProtocolError, TimeoutError

__all__ = ["FileBody", "HttpResponse", "parse_response_head", "request"]

_T = TypeVar("_T")

_HEAD_LIMIT: Final = 64 * 1024
# Large enough that per-segment overhead is negligible, small enough for a
# progress callback to move smoothly.
_SEGMENT: Final = 4 * 1024 * 1024
_READ_CHUNK: Final = 1024 * 1024
_USER_AGENT: Final = "skein"


@dataclass(frozen=True, slots=True)
class FileBody:
    """A request body read from a local file, streamed rather than loaded.

    Attributes:
        path: the local file.
        size: its length in bytes, sent as ``Content-Length``.
        progress: called with (bytes sent, size) after each segment.
    """

    path: str | os.PathLike[str]
    size: int
    progress: Callable[[int, int], None] | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """One HTTP response.

    Attributes:
        status: the status code, e.g. 200.
        reason: the reason phrase.
        headers: header fields with lower-case names (repeated fields joined by ``", "``).
        body: the whole body (after undoing chunked coding).
    """

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes


def parse_response_head(head: bytes) -> tuple[int, str, dict[str, str]]:
    """Parse a status line and header fields, as read up to the blank line.

    Raises:
        ProtocolError: it is not an HTTP/1.x response head.

    Example:
        >>> parse_response_head(b"HTTP/1.1 307 Temporary Redirect\\r\\nLocation: http://dn/x\\r\\n\\r\\n")
        (307, 'Temporary Redirect', {'location': 'http://dn/x'})
    """
    try:
        text = head.decode("iso-8859-1")  # HTTP field values are octets; Latin-1 keeps them all
        status_line, *lines = text.rstrip("\r\n").split("\r\n")
        version, code, *reason = status_line.split(" ", 2)
        if not version.startswith("HTTP/1.") or len(code) != 3:
            raise ValueError(status_line)
        status = int(code)
    except ValueError:
        raise ProtocolError(f"not an HTTP response: {head[:80]!r}") from None
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise ProtocolError(f"malformed HTTP header line: {line[:80]!r}")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return status, reason[0] if reason else "", headers


async def _step(awaitable: Awaitable[_T], timeout: float, what: str) -> _T:
    """Await one network step, mapping a timeout and socket errors to skein's."""
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise TimeoutError(f"{what}: no progress within {timeout:g} s") from None
    except asyncio.IncompleteReadError as exc:
        raise ConnectionError(f"{what}: the server closed the connection") from exc
    except asyncio.LimitOverrunError as exc:
        raise ProtocolError(f"{what}: response head longer than {_HEAD_LIMIT} bytes") from exc
    except OSError as exc:
        raise ConnectionError(f"{what}: {exc.strerror or exc}") from exc


def _open_binary(path: str | os.PathLike[str]) -> BinaryIO:
    return open(path, "rb")  # closed by _send_file, across awaits


async def _send_file(
    writer: asyncio.StreamWriter, body: FileBody, timeout: float, what: str
) -> None:
    loop = asyncio.get_running_loop()
    file = await asyncio.to_thread(_open_binary, body.path)
    try:
        sent = 0
        while sent < body.size:
            count = min(_SEGMENT, body.size - sent)
            # os.sendfile copies in the kernel; TLS transports fall back to
            # reading the file in a thread. Either way memory use stays flat.
            done = await _step(loop.sendfile(writer.transport, file, sent, count), timeout, what)
            if done != count:
                raise ConnectionError(f"{what}: the local file shrank while it was sent")
            sent += count
            if body.progress is not None:
                body.progress(sent, body.size)
    finally:
        await asyncio.to_thread(file.close)


async def _read_exactly(
    reader: asyncio.StreamReader, size: int, timeout: float, what: str
) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = await _step(reader.readexactly(min(remaining, _READ_CHUNK)), timeout, what)
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


async def _read_chunked(reader: asyncio.StreamReader, timeout: float, what: str) -> bytes:
    parts: list[bytes] = []
    while True:
        line = await _step(reader.readuntil(b"\r\n"), timeout, what)
        size_text = line.split(b";", 1)[0].strip()  # chunk extensions are ignored (RFC 9112 7.1.1)
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError(f"{what}: bad chunk size {size_text[:20]!r}") from None
        if size == 0:
            # Skip trailer fields up to the final blank line.
            while await _step(reader.readuntil(b"\r\n"), timeout, what) != b"\r\n":
                pass
            return b"".join(parts)
        parts.append(await _read_exactly(reader, size, timeout, what))
        if await _step(reader.readexactly(2), timeout, what) != b"\r\n":
            raise ProtocolError(f"{what}: chunk not followed by CRLF")


async def _read_to_eof(reader: asyncio.StreamReader, timeout: float, what: str) -> bytes:
    parts: list[bytes] = []
    while part := await _step(reader.read(_READ_CHUNK), timeout, what):
        parts.append(part)
    return b"".join(parts)


async def _read_response(
    reader: asyncio.StreamReader, method: str, timeout: float, what: str
) -> HttpResponse:
    while True:
        head = await _step(reader.readuntil(b"\r\n\r\n"), timeout, what)
        status, reason, headers = parse_response_head(head)
        if not 100 <= status < 200:  # skip "100 Continue" and other interim responses
            break
    if method == "HEAD" or status in (204, 304):
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader, timeout, what)
    elif "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise ProtocolError(f"{what}: bad Content-Length") from None
        body = await _read_exactly(reader, length, timeout, what)
    else:
        body = await _read_to_eof(reader, timeout, what)
    return HttpResponse(status, reason, headers, body)


async def _close(writer: asyncio.StreamWriter, timeout: float) -> None:
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), timeout)
    except (OSError, asyncio.TimeoutError):
        pass  # the connection is finished with either way


async def request(
    method: str,
    url: str,
    *,
    timeout: float,
    connect_timeout: float | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes | FileBody = b"",
    ssl_context: ssl.SSLContext | None = None,
) -> HttpResponse:
    """Send one HTTP request on a new connection and return the response.

    Args:
        method: e.g. ``"GET"`` or ``"PUT"``.
        url: an ``http://`` or ``https://`` URL.
        timeout: seconds each read or write may wait for progress.
        connect_timeout: seconds to connect (default: ``timeout``).
        headers: extra request header fields.
        body: the request body: bytes, or a :class:`FileBody` to stream a file.
        ssl_context: for ``https`` URLs (default: the system's trusted CAs).

    Raises:
        skein.errors.ConnectionError: the server could not be reached or hung up.
        skein.errors.TimeoutError: a step made no progress within its timeout.
        skein.errors.ProtocolError: the reply is not HTTP.

    Example:
        >>> response = await request("GET", "http://nn:9870/webhdfs/v1/?op=LISTSTATUS",
        ...                          timeout=60)  # doctest: +SKIP
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    what = f"{method} {parts.scheme}://{parts.netloc}{parts.path}"
    length = body.size if isinstance(body, FileBody) else len(body)
    fields = {
        "Host": parts.netloc,
        "User-Agent": _USER_AGENT,
        "Connection": "close",
        **(headers or {}),
    }
    if length or method in ("PUT", "POST"):
        fields["Content-Length"] = str(length)
    head = f"{method} {target} HTTP/1.1\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in fields.items()) + "\r\n"

    context = (ssl_context or ssl.create_default_context()) if https else None
    reader, writer = await _step(
        asyncio.open_connection(parts.hostname, port, ssl=context, limit=_HEAD_LIMIT),
        timeout if connect_timeout is None else connect_timeout,
        f"connecting to {parts.netloc}",
    )
    try:
        send_error: ConnectionError | None = None
        try:
            writer.write(head.encode("iso-8859-1"))
            if isinstance(body, FileBody):
                await _step(writer.drain(), timeout, what)
                await _send_file(writer, body, timeout, what)
            else:
                writer.write(body)
                await _step(writer.drain(), timeout, what)
        except TimeoutError:
            raise
        except ConnectionError as exc:
            # A server may answer and hang up before taking the whole body
            # (e.g. a refusal); its answer says more than the broken pipe.
            send_error = exc
        try:
            return await _read_response(reader, method, timeout, what)
        except ConnectionError:
            if send_error is not None:
                raise send_error from None
            raise
    finally:
        await _close(writer, timeout)
