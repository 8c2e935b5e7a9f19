"""Mapping grpclib statuses and transport failures to skein's exceptions (Skein 0.8's table)."""

from __future__ import annotations

import asyncio
import builtins
import ssl

import h2.exceptions
import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError

from skein.api.status import grpc_error, map_error, rpc_errors
from skein.errors import (
    ApplicationError,
    ApplicationNotRunningError,
    ConnectionError,
    SkeinError,
    TimeoutError,
)

ADDRESS = "node7.example.com:41234"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.UNAVAILABLE, ConnectionError),
        (Status.DEADLINE_EXCEEDED, TimeoutError),
        (Status.NOT_FOUND, KeyError),
        (Status.INVALID_ARGUMENT, ValueError),
        (Status.FAILED_PRECONDITION, ValueError),
        (Status.ALREADY_EXISTS, ValueError),
        (Status.INTERNAL, ApplicationError),
        (Status.UNIMPLEMENTED, ApplicationError),
        (Status.UNAUTHENTICATED, ApplicationError),
        (Status.PERMISSION_DENIED, ApplicationError),
        (Status.UNKNOWN, ApplicationError),
        (Status.RESOURCE_EXHAUSTED, ApplicationError),
    ],
)
def test_status_maps_to_the_skein_0_8_exception(status: Status, expected: type) -> None:
    mapped = map_error(GRPCError(status, "the details"), ADDRESS)
    assert type(mapped) is expected


def test_unavailable_says_unable_to_connect_like_skein_0_8() -> None:
    mapped = map_error(GRPCError(Status.UNAVAILABLE))
    assert str(mapped) == "Unable to connect to application"
    assert isinstance(mapped, builtins.ConnectionError)
    named = map_error(GRPCError(Status.UNAVAILABLE, "draining"), ADDRESS)
    assert str(named) == f"Unable to connect to application at {ADDRESS}: draining"


def test_caller_errors_carry_the_server_message_alone() -> None:
    missing = "key 'a' not found"
    assert map_error(GRPCError(Status.NOT_FOUND, missing)).args == (missing,)
    assert str(map_error(GRPCError(Status.INVALID_ARGUMENT, "bad range"))) == "bad range"
    assert str(map_error(GRPCError(Status.INTERNAL, "boom"))) == "boom"


def test_a_status_without_message_still_says_what_happened() -> None:
    assert "UNIMPLEMENTED" in str(map_error(GRPCError(Status.UNIMPLEMENTED), ADDRESS))


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(104, "Connection reset by peer"),
        OSError("Multiple exceptions: [Errno 111] ..."),
        StreamTerminatedError("Connection lost"),
        h2.exceptions.ProtocolError("Invalid input ConnectionInputs.RECV_PING"),
    ],
)
def test_transport_failures_become_connection_errors_naming_the_address(
    exc: Exception,
) -> None:
    mapped = map_error(exc, ADDRESS)
    assert type(mapped) is ConnectionError
    assert ADDRESS in str(mapped)


def test_tls_failures_say_the_handshake_failed() -> None:
    exc = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] verify failed")
    mapped = map_error(exc, ADDRESS)
    assert type(mapped) is ConnectionError
    assert str(mapped).startswith(
        f"Unable to connect to application at {ADDRESS}: TLS handshake failed (wrong credentials?)"
    )


@pytest.mark.parametrize(
    "exc",
    [asyncio.TimeoutError(), builtins.TimeoutError(), asyncio.TimeoutError("Deadline exceeded")],
)
def test_timeouts_become_skein_timeouts(exc: Exception) -> None:
    mapped = map_error(exc, ADDRESS)
    assert type(mapped) is TimeoutError
    assert ADDRESS in str(mapped)


@pytest.mark.parametrize(
    "exc",
    [
        ApplicationNotRunningError("gone"),
        TimeoutError("already ours"),
        RuntimeError("a bug"),
        asyncio.CancelledError(),
        KeyboardInterrupt(),
    ],
)
def test_skein_errors_cancellation_and_unknown_errors_pass_through(exc: BaseException) -> None:
    assert map_error(exc, ADDRESS) is exc


async def test_rpc_errors_raises_the_mapped_error_chained_to_the_original() -> None:
    original = GRPCError(Status.NOT_FOUND, "missing")
    with pytest.raises(KeyError) as info:
        async with rpc_errors(ADDRESS):
            raise original
    assert info.value.__cause__ is original


async def test_rpc_errors_leaves_unknown_errors_and_cancellation_alone() -> None:
    with pytest.raises(RuntimeError) as info:
        async with rpc_errors(ADDRESS):
            raise RuntimeError("a bug")
    assert info.value.__cause__ is None
    with pytest.raises(asyncio.CancelledError):
        async with rpc_errors(ADDRESS):
            raise asyncio.CancelledError


async def test_rpc_errors_is_silent_on_success() -> None:
    async with rpc_errors():
        pass


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (KeyError("a"), Status.NOT_FOUND),
        (ValueError("bad"), Status.INVALID_ARGUMENT),
        (RuntimeError("boom"), Status.INTERNAL),
    ],
)
def test_grpc_error_is_the_inverse_mapping(exc: Exception, status: Status) -> None:
    error = grpc_error(exc)
    assert error.status is status
    assert type(map_error(error)) is type(exc) or isinstance(map_error(error), SkeinError)


def test_grpc_error_sends_a_key_error_argument_not_its_repr() -> None:
    assert grpc_error(KeyError("a")).message == "a"
    assert map_error(grpc_error(KeyError("a"))).args == ("a",)


def test_grpc_error_keeps_a_grpc_error() -> None:
    error = GRPCError(Status.ALREADY_EXISTS, "owned")
    assert grpc_error(error) is error
