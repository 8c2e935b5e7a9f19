"""Map gRPC statuses and transport failures to skein's exceptions, at the client boundary.

Every call to an application master goes through :func:`rpc_errors` (or
:func:`map_error` for one exception), so callers see only :mod:`skein.errors`
and a few builtins, never grpclib, h2 or ssl. The gRPC status mapping is Skein
0.8's:

=========================================================  =====================================
status                                                     raised
=========================================================  =====================================
``UNAVAILABLE``                                            :class:`skein.errors.ConnectionError`
``DEADLINE_EXCEEDED``                                      :class:`skein.errors.TimeoutError`
``NOT_FOUND``                                              ``KeyError(message)``
``INVALID_ARGUMENT``, ``FAILED_PRECONDITION``,             ``ValueError(message)``
``ALREADY_EXISTS``
anything else (``INTERNAL``, ``UNIMPLEMENTED``, ...)       :class:`skein.errors.ApplicationError`
=========================================================  =====================================

Transport failures become :class:`~skein.errors.ConnectionError` (refused,
reset, lost, TLS handshake failed) or :class:`~skein.errors.TimeoutError`
(connect or call deadline), with a message naming the master's address. The
original exception is always chained as ``__cause__``; a ``GRPCError``'s
``status`` and ``message`` stay reachable there.

:func:`grpc_error` is the inverse, for servicers: it turns a Python exception
into the ``GRPCError`` a client maps back to the same kind of exception.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import Final

import h2.exceptions
from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError

from skein.errors import ApplicationError, ConnectionError, SkeinError, TimeoutError

__all__ = ["grpc_error", "map_error", "rpc_errors"]

_VALUE_STATUSES: Final = frozenset(
    {Status.INVALID_ARGUMENT, Status.FAILED_PRECONDITION, Status.ALREADY_EXISTS}
)

# Before Python 3.11, asyncio.TimeoutError was not the builtin TimeoutError.
_TIMEOUTS: Final = (asyncio.TimeoutError, builtins.TimeoutError)


def _where(address: str | None) -> str:
    return f"application at {address}" if address else "application"


def _with_detail(text: str, detail: str | None) -> str:
    return f"{text}: {detail}" if detail else text


def _status_error(exc: GRPCError, address: str | None) -> BaseException:
    message = exc.message or ""
    if exc.status is Status.UNAVAILABLE:
        return ConnectionError(_with_detail(f"Unable to connect to {_where(address)}", message))
    if exc.status is Status.DEADLINE_EXCEEDED:
        return TimeoutError(_with_detail(f"Call to {_where(address)} timed out", message))
    if exc.status is Status.NOT_FOUND:
        return KeyError(message)
    if exc.status in _VALUE_STATUSES:
        return ValueError(message)
    return ApplicationError(message or f"{_where(address).capitalize()} failed: {exc.status.name}")


def map_error(exc: BaseException, address: str | None = None) -> BaseException:
    """Return the skein (or builtin) exception that stands for ``exc``, or ``exc`` itself.

    The caller raises the result ``from exc`` when it differs. Exceptions that
    are already skein's, cancellation and anything unknown come back as they
    are.

    Args:
        exc: an exception raised by grpclib, h2, ssl or the socket layer.
        address: the master's ``host:port``, named in transport errors.

    Returns:
        The mapped exception (new, not yet raised), or ``exc`` unchanged.

    Example:
        >>> from grpclib.const import Status
        >>> from grpclib.exceptions import GRPCError
        >>> map_error(GRPCError(Status.NOT_FOUND, "no key 'a'"))
        KeyError("no key 'a'")
        >>> map_error(ConnectionRefusedError(111, "Connection refused"), "node1:8765")
        ConnectionError('Unable to connect to application at node1:8765: Connection refused')
    """
    where = _where(address)
    if isinstance(exc, SkeinError) or not isinstance(exc, Exception):
        return exc  # already ours, or CancelledError/KeyboardInterrupt: never translated
    if isinstance(exc, GRPCError):
        return _status_error(exc, address)
    if isinstance(exc, ssl.SSLError):
        # ssl sets these attributes on the errors it raises, not on ones built by hand.
        detail = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
        text = f"Unable to connect to {where}: TLS handshake failed (wrong credentials?)"
        return ConnectionError(_with_detail(text, detail))
    if isinstance(exc, _TIMEOUTS):
        return TimeoutError(f"Timed out talking to {where}")
    if isinstance(exc, StreamTerminatedError):
        return ConnectionError(f"Connection to {where} lost: {exc}")
    if isinstance(exc, h2.exceptions.H2Error):
        return ConnectionError(f"HTTP/2 protocol error talking to {where}: {exc}")
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        return ConnectionError(f"Unable to connect to {where}: {reason}")
    return exc


@contextlib.asynccontextmanager
async def rpc_errors(address: str | None = None) -> AsyncIterator[None]:
    """Map errors raised inside the block with :func:`map_error`, chaining the original.

    Wrap every client call to an application master in it, so grpclib and
    transport errors surface as :mod:`skein.errors`.

    Args:
        address: the master's ``host:port``, named in transport errors.

    Raises:
        skein.errors.ConnectionError: the master could not be reached, or the
            connection broke (TLS handshake failed, refused, reset, lost).
        skein.errors.TimeoutError: the connection or the call ran out of time.
        KeyError: the master answered ``NOT_FOUND``.
        ValueError: the master answered ``INVALID_ARGUMENT``,
            ``FAILED_PRECONDITION`` or ``ALREADY_EXISTS``.
        skein.errors.ApplicationError: the master answered any other error status.

    Example:
        >>> async def set_progress(stub, address):  # doctest: +SKIP
        ...     async with rpc_errors(address):
        ...         await stub.SetProgress(SetProgressRequest(progress=0.5))
    """
    try:
        yield
    except Exception as exc:
        mapped = map_error(exc, address)
        if mapped is exc:
            raise
        raise mapped from exc


def grpc_error(exc: BaseException) -> GRPCError:
    """Return the ``GRPCError`` a servicer sends for ``exc``, the inverse of :func:`map_error`.

    ``KeyError`` becomes ``NOT_FOUND``, ``ValueError`` ``INVALID_ARGUMENT``, a
    ``GRPCError`` stays itself, and anything else ``INTERNAL``, so a skein
    client raises the same kind of exception the servicer did.

    Example:
        >>> grpc_error(KeyError("a")).status
        <Status.NOT_FOUND: 5>
        >>> grpc_error(ValueError("bad range")).message
        'bad range'
    """
    if isinstance(exc, GRPCError):
        return exc
    if isinstance(exc, KeyError):
        # str(KeyError) is the repr of its argument; send the argument itself.
        return GRPCError(Status.NOT_FOUND, str(exc.args[0]) if exc.args else "")
    if isinstance(exc, ValueError):
        return GRPCError(Status.INVALID_ARGUMENT, str(exc))
    return GRPCError(Status.INTERNAL, str(exc) or type(exc).__name__)
