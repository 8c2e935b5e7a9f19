"""Choosing the filesystem implementation for a URI or a Hadoop configuration.

Hadoop picks a ``FileSystem`` class by URI scheme (``fs.<scheme>.impl``); skein
has two pure-Python implementations and says plainly when a scheme needs one it
does not have, rather than failing later inside an upload.
"""

from __future__ import annotations

from typing import Final

from skein.errors import SkeinConfigurationError
from skein.fs.filesystem import FileSystem
from skein.fs.local import LocalFileSystem
from skein.fs.uri import parse_fs_uri
from skein.fs.webhdfs import WebHdfsFileSystem
from skein.hadoop.addresses import default_fs
from skein.hadoop.configuration import HadoopConfiguration, load_configuration

__all__ = ["SUPPORTED_SCHEMES", "filesystem_for"]

_HDFS_SCHEMES: Final = ("hdfs", "webhdfs", "swebhdfs")
SUPPORTED_SCHEMES: Final = ("file", *_HDFS_SCHEMES)
"""URI schemes :func:`filesystem_for` has an implementation for."""


def filesystem_for(
    uri_or_configuration: str | HadoopConfiguration,
    *,
    configuration: HadoopConfiguration | None = None,
    proxy_user: str | None = None,
) -> FileSystem:
    """Return the filesystem for a URI, or the default filesystem of a configuration.

    Args:
        uri_or_configuration: a URI such as ``hdfs://nn:8020/user/alice`` or
            ``file:///tmp`` (only its scheme and authority matter), or a Hadoop
            configuration whose ``fs.defaultFS`` is used.
        configuration: for a URI, the configuration that locates the NameNode's
            web address (default: :func:`~skein.hadoop.configuration.load_configuration`,
            read only for HDFS URIs).
        proxy_user: act for this user, impersonated by the current one (HDFS only).

    Raises:
        SkeinConfigurationError: the scheme has no implementation (``s3a``,
            ``abfs``, ``viewfs``, ...), or the URI or configuration is malformed.

    Example:
        >>> filesystem_for("file:///tmp")
        LocalFileSystem()
        >>> filesystem_for("s3a://bucket/data")
        Traceback (most recent call last):
        ...
        skein.errors.SkeinConfigurationError: filesystem scheme 's3a' (s3a://bucket) is \
not supported; supported schemes: file, hdfs, webhdfs, swebhdfs
    """
    if isinstance(uri_or_configuration, HadoopConfiguration):
        configuration = uri_or_configuration
        uri = default_fs(configuration)
        origin = " in fs.defaultFS"
    else:
        uri, origin = uri_or_configuration, ""
    fs = parse_fs_uri(uri)
    if fs.scheme == "file":
        return LocalFileSystem()
    if fs.scheme in _HDFS_SCHEMES:
        conf = load_configuration() if configuration is None else configuration
        return WebHdfsFileSystem.from_configuration(conf, uri=uri, proxy_user=proxy_user)
    raise SkeinConfigurationError(
        f"filesystem scheme {fs.scheme!r} ({fs.root}){origin} is not supported; "
        f"supported schemes: {', '.join(SUPPORTED_SCHEMES)}"
    )
