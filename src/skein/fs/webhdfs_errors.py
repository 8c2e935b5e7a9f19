"""WebHDFS error replies mapped to skein's exception tree.

WebHDFS reports a failed call as an HTTP error status with a JSON body naming the
Java exception (WebHDFS REST API, "Error Responses")::

    {"RemoteException": {"exception": "FileNotFoundException",
                         "javaClassName": "java.io.FileNotFoundException",
                         "message": "File does not exist: /user/alice/x"}}

Missing and existing files become :class:`skein.errors.FileNotFoundError` and
:class:`skein.errors.FileExistsError` (also builtins, carrying the path); every
other class goes through the same table as Hadoop IPC errors
(:func:`skein.hadoop.remote_errors.remote_error`), so permission refusals are
:class:`skein.errors.AccessControlError` whichever protocol reported them.
"""

from __future__ import annotations

import json
from typing import Final

from skein.errors import (
    AuthenticationError,
    FileExistsError,
    FileNotFoundError,
    ProtocolError,
    SkeinError,
)
from skein.hadoop.remote_errors import first_line, remote_error

__all__ = ["webhdfs_error"]

_NOT_FOUND: Final = frozenset({"java.io.FileNotFoundException", "FileNotFoundException"})
_EXISTS: Final = frozenset(
    {"org.apache.hadoop.fs.FileAlreadyExistsException", "FileAlreadyExistsException"}
)


def _remote_exception(body: bytes) -> tuple[str, str] | None:
    """The (Java class, message) of a ``RemoteException`` body, or None."""
    try:
        document = json.loads(body)
        exception = document["RemoteException"]
        java_class = exception.get("javaClassName") or exception["exception"]
        message = exception.get("message") or ""
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if not isinstance(java_class, str) or not isinstance(message, str):
        return None
    return java_class, message


def webhdfs_error(status: int, body: bytes, path: str, operation: str) -> SkeinError:
    """Return the skein exception for a failed WebHDFS call.

    Args:
        status: the HTTP status code.
        body: the response body (normally JSON with a ``RemoteException``).
        path: the path the call was about, carried by file errors.
        operation: the WebHDFS operation, e.g. ``"GETFILESTATUS"``, for messages.

    Example:
        >>> body = (b'{"RemoteException": {"exception": "AccessControlException", '
        ...         b'"javaClassName": "org.apache.hadoop.security.AccessControlException", '
        ...         b'"message": "Permission denied: user=bob, access=WRITE"}}')
        >>> error = webhdfs_error(403, body, "/user/alice", "MKDIRS")
        >>> type(error).__name__, str(error)
        ('AccessControlError', 'Permission denied: user=bob, access=WRITE')
        >>> type(webhdfs_error(404, b'{"RemoteException": {"exception": '
        ...     b'"FileNotFoundException", "message": "File /x does not exist."}}',
        ...     "/x", "OPEN")).__name__
        'FileNotFoundError'
    """
    found = _remote_exception(body)
    if found is None:
        snippet = body[:200].decode("utf-8", errors="replace").strip()
        if status == 401:
            return AuthenticationError(f"WebHDFS {operation} {path}: HTTP 401 {snippet}".strip())
        return ProtocolError(
            f"WebHDFS {operation} {path}: HTTP {status} without a RemoteException body: "
            f"{snippet or '(empty)'}"
        )
    java_class, message = found
    text = first_line(message)
    if java_class in _NOT_FOUND:
        return FileNotFoundError(path, text or None)
    if java_class in _EXISTS:
        return FileExistsError(path, text or None)
    return remote_error(java_class, text)
