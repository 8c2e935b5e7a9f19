"""Filesystem URIs and paths: parsing, normalizing, resolving and qualifying."""

from __future__ import annotations

import pytest

from skein.errors import SkeinConfigurationError
from skein.fs.uri import FsUri, normalize_path, parse_fs_uri, resolve_path

HDFS = parse_fs_uri("hdfs://nn:8020")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hdfs://nn:8020", FsUri(scheme="hdfs", authority="nn:8020", path="")),
        ("HDFS://NN:8020/a/b", FsUri(scheme="hdfs", authority="NN:8020", path="/a/b")),
        ("hdfs://nn", FsUri(scheme="hdfs", authority="nn", path="")),
        ("hdfs:///user/x", FsUri(scheme="hdfs", authority="", path="/user/x")),
        ("webhdfs://nn:9870/", FsUri(scheme="webhdfs", authority="nn:9870", path="/")),
        ("file:///tmp/x", FsUri(scheme="file", authority="", path="/tmp/x")),
        ("file:/tmp/x", FsUri(scheme="file", authority="", path="/tmp/x")),
        ("file://localhost/tmp", FsUri(scheme="file", authority="", path="/tmp")),
        ("/tmp/x", FsUri(scheme="file", authority="", path="/tmp/x")),
        ("  s3a://bucket/key ", FsUri(scheme="s3a", authority="bucket", path="/key")),
        ("hdfs://[::1]:8020/x", FsUri(scheme="hdfs", authority="[::1]:8020", path="/x")),
    ],
)
def test_parse_fs_uri(text: str, expected: FsUri) -> None:
    assert parse_fs_uri(text) == expected


@pytest.mark.parametrize("text", ["nn:8020", "relative/path", "", "hdfs://nn:port/", "file://h/x"])
def test_parse_fs_uri_rejects(text: str) -> None:
    with pytest.raises(SkeinConfigurationError):
        parse_fs_uri(text)


@pytest.mark.parametrize(
    ("uri", "root"),
    [("hdfs://nn:8020/x", "hdfs://nn:8020"), ("file:///tmp", "file:///"), ("/tmp", "file:///")],
)
def test_root(uri: str, root: str) -> None:
    assert parse_fs_uri(uri).root == root


def test_qualify_keeps_the_configured_authority() -> None:
    assert HDFS.qualify("/user/alice/x") == "hdfs://nn:8020/user/alice/x"
    assert parse_fs_uri("hdfs://nn").qualify("/a") == "hdfs://nn/a"
    assert parse_fs_uri("file:///").qualify("/tmp/a b") == "file:///tmp/a b"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "/"),
        ("//", "/"),
        ("///user//alice/", "/user/alice"),
        ("/a/./b/../c", "/a/c"),
        ("/../a", "/a"),
    ],
)
def test_normalize_path(path: str, expected: str) -> None:
    assert normalize_path(path) == expected


def test_normalize_path_needs_an_absolute_path() -> None:
    with pytest.raises(ValueError, match="not an absolute path"):
        normalize_path("a/b")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/tmp/x", "/tmp/x"),
        ("x", "/user/alice/x"),
        (".skein/app_1/", "/user/alice/.skein/app_1"),
        ("../bob", "/user/bob"),
        ("hdfs://nn:8020/tmp/x", "/tmp/x"),
        ("HDFS://NN:8020/tmp/x", "/tmp/x"),
        ("hdfs://nn:8020", "/"),
        ("hdfs:///tmp/x", "/tmp/x"),
    ],
)
def test_resolve_path(path: str, expected: str) -> None:
    assert resolve_path(path, HDFS, "/user/alice/") == expected


@pytest.mark.parametrize("path", ["hdfs://other:8020/x", "file:///tmp/x", "webhdfs://nn:8020/x"])
def test_resolve_path_rejects_other_filesystems(path: str) -> None:
    with pytest.raises(ValueError, match="not on this filesystem"):
        resolve_path(path, HDFS, "/user/alice")


def test_resolve_path_rejects_empty() -> None:
    with pytest.raises(ValueError, match="empty"):
        resolve_path("", HDFS, "/user/alice")
