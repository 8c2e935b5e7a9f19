"""Filesystem URIs and paths: splitting, resolving and qualifying them, without I/O.

Hadoop names a file by a URI whose scheme and authority pick the filesystem
(``hdfs://namenode:8020``) and whose path is absolute within it. YARN needs such
fully qualified URIs for the files it localizes, while WebHDFS and the local
filesystem take plain absolute paths. These helpers convert between the two and
resolve relative paths against a home directory, as Hadoop's ``Path`` does.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import urlsplit

from skein.errors import SkeinConfigurationError

__all__ = ["FsUri", "normalize_path", "parse_fs_uri", "resolve_path"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FsUri:
    """A filesystem URI split into its parts.

    Attributes:
        scheme: lower-case scheme, e.g. ``"hdfs"`` or ``"file"``.
        authority: ``host:port`` (or ``host``) as written; empty for ``file:///``.
        path: the path, possibly empty or relative.

    Example:
        >>> parse_fs_uri("hdfs://nn:8020/user/alice").root
        'hdfs://nn:8020'
    """

    scheme: str
    authority: str
    path: str

    @property
    def root(self) -> str:
        """The filesystem's own URI, without a path (``file:///`` for the local one)."""
        return f"{self.scheme}://{self.authority}" if self.authority else f"{self.scheme}:///"

    def qualify(self, path: str) -> str:
        """Return the full URI of the absolute ``path`` on this filesystem.

        Example:
            >>> parse_fs_uri("hdfs://nn:8020").qualify("/user/alice/a b")
            'hdfs://nn:8020/user/alice/a b'
            >>> parse_fs_uri("file:///").qualify("/tmp/x")
            'file:///tmp/x'
        """
        return f"{self.scheme}://{self.authority}{path}"


def parse_fs_uri(uri: str) -> FsUri:
    """Split a filesystem URI such as ``hdfs://nn:8020/path`` or ``file:///tmp``.

    A path without a scheme (``/tmp/x``) is taken to be local, as Hadoop takes
    it to be on the default filesystem only when one is configured; callers that
    mean the default filesystem pass its URI instead.

    Raises:
        SkeinConfigurationError: the text is not a URI with a scheme, or a
            ``file`` URI names a host.

    Example:
        >>> parse_fs_uri("HDFS://nn:8020/a")
        FsUri(scheme='hdfs', authority='nn:8020', path='/a')
        >>> parse_fs_uri("/tmp/x")
        FsUri(scheme='file', authority='', path='/tmp/x')
    """
    text = uri.strip()
    if text.startswith("/"):
        return FsUri(scheme="file", authority="", path=text)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  -- validates the port ("hdfs://nn:x" is an error)
    except ValueError as exc:
        raise SkeinConfigurationError(f"{uri!r} is not a valid filesystem URI: {exc}") from None
    # "file:/tmp/x" (no authority) is how Hadoop itself prints local paths.
    has_scheme = bool(parts.scheme) and text[len(parts.scheme) :].startswith(":/")
    if not has_scheme:
        raise SkeinConfigurationError(
            f"{uri!r} is not a filesystem URI; expected e.g. hdfs://namenode:8020 or file:///"
        )
    scheme = parts.scheme.lower()
    if scheme == "file" and parts.netloc not in ("", "localhost"):
        raise SkeinConfigurationError(f"{uri!r}: a file URI cannot name a remote host")
    authority = "" if scheme == "file" else parts.netloc
    return FsUri(scheme=scheme, authority=authority, path=parts.path)


def normalize_path(path: str) -> str:
    """Normalize an absolute path: collapse ``//``, ``.`` and ``..``, drop a trailing ``/``.

    Raises:
        ValueError: the path is not absolute.

    Example:
        >>> normalize_path("//user//alice/./x/../y/")
        '/user/alice/y'
    """
    if not path.startswith("/"):
        raise ValueError(f"not an absolute path: {path!r}")
    # posixpath keeps a leading "//" (POSIX leaves it implementation-defined);
    # Hadoop treats it as "/".
    return posixpath.normpath("/" + path.lstrip("/"))


def resolve_path(path: str, fs: FsUri, home: str) -> str:
    """Return ``path`` as a normalized absolute path on filesystem ``fs``.

    ``path`` may be a full URI of this filesystem, an absolute path, or a path
    relative to ``home`` (Hadoop's working directory starts at the home directory).

    Args:
        path: what the caller passed.
        fs: the filesystem the path must belong to.
        home: the absolute home directory, for relative paths.

    Raises:
        ValueError: ``path`` is empty, or a URI of another filesystem.

    Example:
        >>> hdfs = parse_fs_uri("hdfs://nn:8020")
        >>> resolve_path("hdfs://nn:8020/tmp/x", hdfs, "/user/alice")
        '/tmp/x'
        >>> resolve_path(".skein/app", hdfs, "/user/alice")
        '/user/alice/.skein/app'
    """
    if not path:
        raise ValueError("empty path")
    if "://" in path or path.startswith(f"{fs.scheme}:/"):
        other = parse_fs_uri(path)
        same = other.scheme == fs.scheme and (
            other.authority.lower() == fs.authority.lower() or not other.authority
        )
        if not same:
            raise ValueError(f"{path!r} is not on this filesystem ({fs.root})")
        path = other.path or "/"
    if not path.startswith("/"):
        path = f"{home.rstrip('/')}/{path}"
    return normalize_path(path)
