"""The one exception tree of skein.

Every error skein raises derives from :class:`SkeinError`. Errors that come from
elsewhere (a Java exception sent back by a Hadoop server, an ``OSError`` from a
socket) are mapped to this tree at the boundary where they enter, with the
original chained as ``__cause__``::

    SkeinError
    ├── SkeinConfigurationError      bad Hadoop configuration or skein settings (names the file/key)
    ├── ConnectionError              a server could not be reached (also a builtin ConnectionError)
    │   ├── TimeoutError             a call or connection did not finish in time
    │   ├── ApplicationNotRunningError  the application is not (or no longer) running
    │   └── DriverNotRunningError    Skein 0.8 name, kept for compatibility; never raised
    ├── ApplicationError             the application master failed a call (gRPC INTERNAL, ...)
    ├── DriverError                  Skein 0.8 name, kept for compatibility; never raised
    ├── LogsUnavailableError         logs are not there (yet) (also a ValueError)
    │   └── UnsupportedLogFormatError   logs in a format skein cannot read
    ├── ProtocolError                the peer broke the wire protocol (garbage, bad frame)
    │   └── DecodeError              bytes that do not decode (truncated, bad Writable/token file)
    ├── AuthenticationError          SASL negotiation or credentials failed
    ├── SpecError                    an invalid application specification (names the field path)
    ├── KeyValueError                a key-value request the store refuses (also a ValueError;
    │                                defined in ``skein.kvstore.errors``)
    ├── FileNotFoundError            no such file or directory (also a builtin FileNotFoundError)
    ├── FileExistsError              the file already exists (also a builtin FileExistsError)
    ├── RemoteError                  a Hadoop server answered a call with a Java exception
    │   ├── StandbyError             org.apache.hadoop.ipc.StandbyException
    │   ├── RetriableError           org.apache.hadoop.ipc.RetriableException
    │   ├── AccessControlError       org.apache.hadoop.security.AccessControlException
    │   ├── ApplicationNotFoundError ...yarn.exceptions.ApplicationNotFoundException (a ValueError)
    │   ├── QueueNotFoundError       no such queue (also a ValueError)
    │   └── ...                      see ``skein.hadoop.remote_errors``
    └── TestClusterError             the local test cluster could not be started or controlled

``ConnectionError`` and ``TimeoutError`` also derive from the builtins of the same
name, so code written against Skein 0.8 (which raised builtin ``ConnectionError``)
keeps working. ``FileNotFoundError`` and ``FileExistsError`` do too, and are raised
for local and remote filesystems alike (see ``skein.fs``).
"""

from __future__ import annotations

import builtins
import errno
import json

__all__ = [
    "AccessControlError",
    "ApplicationError",
    "ApplicationNotFoundError",
    "ApplicationNotRunningError",
    "AuthenticationError",
    "ConnectionError",
    "DecodeError",
    "DriverError",
    "DriverNotRunningError",
    "FileExistsError",
    "FileNotFoundError",
    "LogsUnavailableError",
    "ProtocolError",
    "QueueNotFoundError",
    "RemoteError",
    "RetriableError",
    "SkeinConfigurationError",
    "SkeinError",
    "SpecError",
    "StandbyError",
    "TestClusterError",
    "TimeoutError",
    "UnsupportedLogFormatError",
]


class SkeinError(Exception):
    """Base class of every error raised by skein."""


class SkeinConfigurationError(SkeinError, ValueError):
    """A configuration file or setting is missing or malformed."""


class ConnectionError(SkeinError, builtins.ConnectionError):
    """A server could not be reached, or the connection to it was lost."""


class TimeoutError(ConnectionError, builtins.TimeoutError):
    """A connection or call did not complete within its timeout."""


class ApplicationNotRunningError(ConnectionError):
    """The application is not running, so its master cannot be reached (ended, or not begun)."""


class DriverNotRunningError(ConnectionError):
    """Kept from Skein 0.8, whose Java driver could be missing. There is no driver: never raised."""


class ApplicationError(SkeinError):
    """The application master failed a call for a reason of its own (not the caller's input)."""


class WatchCancelledError(ApplicationError):
    """The master cancelled a watch: an event queue's subscription, or ``events()``.

    It happens when the watch fell behind (its reader did not keep up with the
    writes and its buffer filled) or when it asked to start from a revision the
    master's history no longer holds. Subscribing again, from the revision the
    reason names, picks up where it stopped while the history still has it.

    Attributes:
        reason: the master's reason, e.g. ``watcher 3 fell behind: more than
            10000 unread events; events from revision 42 on were not delivered``.
        compact_revision: the oldest revision in the master's history when the
            start revision was too old; else 0.

    Example:
        >>> error = WatchCancelledError("watch cancelled", reason="fell behind")
        >>> isinstance(error, ApplicationError), error.reason, error.compact_revision
        (True, 'fell behind', 0)
    """

    def __init__(self, message: str, *, reason: str = "", compact_revision: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.compact_revision = compact_revision


class DriverError(SkeinError):
    """Kept from Skein 0.8, which raised it for errors in its Java driver. Never raised."""


class LogsUnavailableError(SkeinError, ValueError):
    """The logs are not there (yet): aggregation is disabled, unfinished, or found nothing.

    Also a ``ValueError``, which is what Skein 0.8 raised when logs were not available.

    Example:
        >>> raise LogsUnavailableError("log aggregation is disabled")
        Traceback (most recent call last):
        ...
        skein.errors.LogsUnavailableError: log aggregation is disabled
    """


class UnsupportedLogFormatError(LogsUnavailableError):
    """The logs exist in a format skein cannot read (IFile, LZO compression, HAR archives)."""


class ProtocolError(SkeinError):
    """The peer sent bytes that do not follow the wire protocol."""


class DecodeError(ProtocolError):
    """Bytes could not be decoded: truncated input or an invalid encoding.

    Raised for Hadoop Writable data and credentials ("token storage") files.

    Attributes:
        offset: the byte offset at which decoding failed, when known.
    """

    def __init__(self, message: str, *, offset: int | None = None) -> None:
        super().__init__(message if offset is None else f"{message} (at byte offset {offset})")
        self.offset = offset


class AuthenticationError(SkeinError):
    """Authentication with a server failed (SASL, tokens, Kerberos)."""


class SpecError(SkeinError, ValueError):
    """An application specification is invalid (also a ``ValueError``, as in Skein 0.8).

    Args:
        reason: what is wrong, without the location.
        parts: where: the field names, mapping keys and list indices leading
            from the top of the specification to the bad value.

    Attributes:
        reason: what is wrong.
        parts: the location as a tuple of keys and indices.
        path: the location as text, e.g. ``services.worker.resources.memory``
            (empty for the whole document); keys that are not plain words are
            quoted, as in ``services["dask.worker"]``.

    Example:
        >>> str(SpecError("expected an integer, got 'x'", ("services", "web", "instances")))
        "services.web.instances: expected an integer, got 'x'"
    """

    def __init__(self, reason: str, parts: tuple[str | int, ...] = ()) -> None:
        self.reason = reason
        self.parts = parts
        self.path = _render_path(parts)
        super().__init__(f"{self.path}: {reason}" if parts else reason)

    def __reduce__(self) -> tuple[type[SpecError], tuple[str, tuple[str | int, ...]]]:
        # Exceptions pickle their message by default; keep the structured parts.
        return type(self), (self.reason, self.parts)


def _render_path(parts: tuple[str | int, ...]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part and all(c.isalnum() or c in "_-" for c in part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


class FileNotFoundError(SkeinError, builtins.FileNotFoundError):
    """A file or directory does not exist (also a builtin ``FileNotFoundError``).

    Args:
        path: the path that was not found.
        message: the server's message; by default one naming ``path``.

    Attributes:
        path: the path that was not found (also ``filename``, as for any ``OSError``).

    Example:
        >>> str(FileNotFoundError("/user/alice/missing"))
        'No such file or directory: /user/alice/missing'
    """

    def __init__(self, path: str, message: str | None = None) -> None:
        text = message or f"No such file or directory: {path}"
        if path not in text:
            text = f"{text} ({path})"
        super().__init__(errno.ENOENT, text, path)
        self.path = path

    def __str__(self) -> str:
        return str(self.strerror)


class FileExistsError(SkeinError, builtins.FileExistsError):
    """A file exists where a call needed there to be none (also a builtin ``FileExistsError``).

    Args:
        path: the path that exists.
        message: the server's message; by default one naming ``path``.

    Attributes:
        path: the path that exists (also ``filename``, as for any ``OSError``).

    Example:
        >>> str(FileExistsError("/user/alice/app.zip"))
        'File exists: /user/alice/app.zip'
    """

    def __init__(self, path: str, message: str | None = None) -> None:
        text = message or f"File exists: {path}"
        if path not in text:
            text = f"{text} ({path})"
        super().__init__(errno.EEXIST, text, path)
        self.path = path

    def __str__(self) -> str:
        return str(self.strerror)


class RemoteError(SkeinError):
    """A Hadoop server answered a call with an exception.

    Attributes:
        java_class: the fully qualified Java exception class, e.g.
            ``org.apache.hadoop.yarn.exceptions.ApplicationNotFoundException``.
        message: the server's message (the first line when the server sent a stack trace).
    """

    def __init__(self, java_class: str, message: str) -> None:
        super().__init__(message)
        self.java_class = java_class
        self.message = message

    def __str__(self) -> str:
        return self.message or self.java_class


class StandbyError(RemoteError):
    """The server is a standby ResourceManager or NameNode; try another."""


class RetriableError(RemoteError):
    """The server asks the client to retry later."""


class AccessControlError(RemoteError):
    """The server refused the call for lack of permission or authentication."""


class ApplicationNotFoundError(RemoteError, ValueError):
    """The ResourceManager does not know the application id."""


class QueueNotFoundError(RemoteError, ValueError):
    """The scheduler has no queue of that name (a ``ValueError``, as in Skein 0.8)."""


class TestClusterError(SkeinError):
    """The local Hadoop test cluster could not be started, stopped or reached."""

    __test__ = False  # not a pytest test class, despite the name
