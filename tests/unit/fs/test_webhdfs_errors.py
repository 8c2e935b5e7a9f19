"""WebHDFS RemoteException bodies mapped to skein's exception tree."""

from __future__ import annotations

import builtins
import json

import pytest

from skein.errors import (
    AccessControlError,
    AuthenticationError,
    FileExistsError,
    FileNotFoundError,
    ProtocolError,
    RemoteError,
    RetriableError,
    SkeinError,
    StandbyError,
)
from skein.fs.webhdfs_errors import webhdfs_error


def remote_exception(exception: str, java_class: str | None, message: str) -> bytes:
    body: dict[str, str] = {"exception": exception, "message": message}
    if java_class is not None:
        body["javaClassName"] = java_class
    return json.dumps({"RemoteException": body}).encode()


# Bodies as the NameNode and DataNode send them (the DataNode's carries a stack trace).
NOT_FOUND = remote_exception(
    "FileNotFoundException", "java.io.FileNotFoundException", "File does not exist: /user/x"
)
ACCESS_DENIED = remote_exception(
    "AccessControlException",
    "org.apache.hadoop.security.AccessControlException",
    'Permission denied: user=alice, access=EXECUTE, inode="/user/root/d":root:hadoop:drwx------'
    "\n\tat org.apache.hadoop.hdfs.server.namenode.FSPermissionChecker.check(FSPermissionChecker"
    ".java:663)\n",
)
EXISTS = remote_exception(
    "FileAlreadyExistsException",
    "org.apache.hadoop.fs.FileAlreadyExistsException",
    "/user/x for client 127.0.0.1 already exists",
)


def test_file_not_found_carries_the_path() -> None:
    error = webhdfs_error(404, NOT_FOUND, "/user/x", "GETFILESTATUS")
    assert isinstance(error, FileNotFoundError)
    assert isinstance(error, builtins.FileNotFoundError)
    assert isinstance(error, SkeinError)
    assert error.path == error.filename == "/user/x"
    assert str(error) == "File does not exist: /user/x"


def test_file_not_found_without_a_message_names_the_path() -> None:
    body = remote_exception("FileNotFoundException", None, "")
    error = webhdfs_error(404, body, "/a b", "OPEN")
    assert isinstance(error, FileNotFoundError)
    assert "/a b" in str(error)


def test_access_control_keeps_the_first_line_and_java_class() -> None:
    error = webhdfs_error(403, ACCESS_DENIED, "/user/root/d/f", "CREATE")
    assert isinstance(error, AccessControlError)
    assert error.java_class == "org.apache.hadoop.security.AccessControlException"
    assert str(error).startswith("Permission denied: user=alice")
    assert "\tat " not in str(error)


def test_file_exists() -> None:
    error = webhdfs_error(403, EXISTS, "/user/x", "CREATE")
    assert isinstance(error, FileExistsError)
    assert isinstance(error, builtins.FileExistsError)
    assert error.path == "/user/x"


@pytest.mark.parametrize(
    ("java_class", "expected"),
    [
        ("org.apache.hadoop.ipc.StandbyException", StandbyError),
        ("org.apache.hadoop.ipc.RetriableException", RetriableError),
        ("org.apache.hadoop.security.authorize.AuthorizationException", AccessControlError),
        ("org.apache.hadoop.fs.ParentNotDirectoryException", RemoteError),
        ("java.lang.IllegalArgumentException", RemoteError),
    ],
)
def test_other_classes_use_the_ipc_table(java_class: str, expected: type[RemoteError]) -> None:
    short = java_class.rpartition(".")[2]
    error = webhdfs_error(400, remote_exception(short, java_class, "boom"), "/x", "MKDIRS")
    assert type(error) is expected
    assert isinstance(error, RemoteError)
    assert error.java_class == java_class
    assert error.message == "boom"


def test_short_exception_name_when_java_class_is_missing() -> None:
    body = remote_exception("IllegalArgumentException", None, "Invalid value for op")
    error = webhdfs_error(400, body, "/x", "FOO")
    assert isinstance(error, RemoteError)
    assert error.java_class == "IllegalArgumentException"


@pytest.mark.parametrize(
    "body",
    [b"", b"<html>Bad Gateway</html>", b"{}", b'{"RemoteException": 3}', b"[1]"],
)
def test_non_json_or_unexpected_bodies_are_protocol_errors(body: bytes) -> None:
    error = webhdfs_error(502, body, "/x", "LISTSTATUS")
    assert isinstance(error, ProtocolError)
    assert "HTTP 502" in str(error)
    assert "LISTSTATUS /x" in str(error)


def test_unauthorized_without_a_body_is_an_authentication_error() -> None:
    error = webhdfs_error(401, b"Authentication required", "/x", "GETFILESTATUS")
    assert isinstance(error, AuthenticationError)
