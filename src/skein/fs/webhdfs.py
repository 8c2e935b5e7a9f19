"""HDFS through WebHDFS, the NameNode's REST API, in pure Python over asyncio.

WebHDFS serves every HDFS operation staging needs over HTTP, so no JVM and no
HDFS RPC client is needed. Data never passes through the NameNode: for ``CREATE``
and ``OPEN`` it answers ``307 Temporary Redirect`` to a DataNode, which takes or
serves the bytes (WebHDFS REST API, "Create and Write to a File"); this client
follows that two-step protocol, streaming uploads from disk.

Authentication is Hadoop's "simple" scheme: ``user.name=<user>`` on each call,
plus ``doas=<user>`` to act for a proxied user (the NameNode checks its
``hadoop.proxyuser.*`` rules). Kerberos (SPNEGO) and delegation tokens are not
supported yet.

The NameNode's web address comes from the Hadoop configuration: for
``hdfs://host:port`` it is ``dfs.namenode.http-address`` (``https-address`` under
``dfs.http.policy=HTTPS_ONLY``); for ``webhdfs://host:port`` it is the URI's own
authority. NameNode HA (a logical nameservice in ``fs.defaultFS``) is not
supported: it is refused with a clear error rather than guessed at.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import os
import ssl
from collections.abc import Mapping
from typing import Any, Final, final
from urllib.parse import quote, urlencode, urlsplit

from skein.errors import ProtocolError, RemoteError, SkeinConfigurationError
from skein.fs.filesystem import FileStatus, FileSystem, ProgressCallback
from skein.fs.http import FileBody, HttpResponse, request
from skein.fs.uri import FsUri, parse_fs_uri, resolve_path
from skein.fs.webhdfs_errors import webhdfs_error
from skein.hadoop.addresses import SocketAddress, default_fs, namenode_http_address
from skein.hadoop.configuration import HadoopConfiguration, load_configuration
from skein.hadoop.framing import UserInfo
from skein.hadoop.user import current_user

__all__ = ["WebHdfsFileSystem"]

_PREFIX: Final = "/webhdfs/v1"
# Hadoop's WebHdfsFileSystem defaults (hdfs-default.xml): one minute each.
_CONNECT_TIMEOUT_KEY: Final = "dfs.webhdfs.socket.connect-timeout"
_READ_TIMEOUT_KEY: Final = "dfs.webhdfs.socket.read-timeout"
_DEFAULT_TIMEOUT: Final = "60s"
_WILDCARDS: Final = frozenset({"0.0.0.0", "::", "[::]"})
_WEBHDFS_PORTS: Final = {"webhdfs": 9870, "swebhdfs": 9871}


def _socket_address(netloc: str, default_port: int) -> SocketAddress:
    parts = urlsplit(f"//{netloc}")
    if not parts.hostname:
        raise SkeinConfigurationError(f"{netloc!r} names no host")
    return SocketAddress(parts.hostname, parts.port or default_port)


def _http_address(conf: HadoopConfiguration, fs: FsUri) -> tuple[SocketAddress, bool]:
    """The NameNode web address for filesystem ``fs`` and whether it is HTTPS."""
    if fs.scheme in _WEBHDFS_PORTS:
        return _socket_address(fs.authority, _WEBHDFS_PORTS[fs.scheme]), fs.scheme == "swebhdfs"
    host = urlsplit(f"//{fs.authority}").hostname or ""
    if host in conf.get_list("dfs.nameservices") and ":" not in fs.authority:
        raise SkeinConfigurationError(
            f"{fs.root} is an HDFS HA nameservice; NameNode HA is not supported yet: "
            "set fs.defaultFS to the active NameNode as hdfs://host:port"
        )
    https = (conf.get_trimmed("dfs.http.policy") or "HTTP_ONLY").upper() == "HTTPS_ONLY"
    configured = namenode_http_address(conf)
    default = parse_fs_uri(default_fs(conf))
    is_default = default.scheme == "hdfs" and default.authority.lower() == fs.authority.lower()
    if is_default and configured.host not in _WILDCARDS:
        return configured, https
    # Like Hadoop, a wildcard (or another NameNode's) web address takes the host
    # of the filesystem URI and keeps the configured web port.
    return SocketAddress(host, configured.port), https


def _permission(bits: int) -> str:
    return format(bits, "o")


@final
class WebHdfsFileSystem(FileSystem):
    """HDFS through the NameNode's WebHDFS REST API.

    Args:
        uri: the filesystem URI, e.g. ``hdfs://nn:8020``: what :meth:`qualify`
            puts in front of paths (YARN reads files through it).
        http_address: the NameNode's web address, e.g. ``nn:9870``.
        user: who to act as (default: :func:`skein.hadoop.user.current_user`);
            with a ``real_user``, that user impersonates ``effective_user``.
        https: talk HTTPS to the NameNode.
        timeout: seconds any read or write may wait for progress.
        connect_timeout: seconds to establish each connection.
        ssl_context: for HTTPS (default: the system's trusted CAs).

    Example:
        >>> fs = WebHdfsFileSystem.from_configuration(proxy_user="alice")  # doctest: +SKIP
        >>> await fs.home_directory()  # doctest: +SKIP
        '/user/alice'
        >>> fs.qualify("/user/alice/x")  # doctest: +SKIP
        'hdfs://localhost:8020/user/alice/x'
    """

    def __init__(
        self,
        uri: str,
        http_address: SocketAddress | str,
        *,
        user: UserInfo | None = None,
        https: bool = False,
        timeout: float = 60.0,
        connect_timeout: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._fs = parse_fs_uri(uri)
        self._base = f"{'https' if https else 'http'}://{http_address}{_PREFIX}"
        self._user = user or current_user()
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._ssl = ssl_context
        self._home: str | None = None
        if self._user.real_user:
            self._auth = {"user.name": self._user.real_user, "doas": self._user.effective_user}
        else:
            self._auth = {"user.name": self._user.effective_user}

    @classmethod
    def from_configuration(
        cls,
        conf: HadoopConfiguration | None = None,
        *,
        uri: str | None = None,
        proxy_user: str | None = None,
    ) -> WebHdfsFileSystem:
        """Create the client for ``uri`` (default: ``fs.defaultFS``) from a Hadoop configuration.

        Args:
            conf: the configuration (default: the one
                :func:`~skein.hadoop.configuration.load_configuration` finds).
            uri: an ``hdfs://``, ``webhdfs://`` or ``swebhdfs://`` URI.
            proxy_user: act for this user, impersonated by the current one.

        Raises:
            SkeinConfigurationError: the URI is not HDFS, names an HA nameservice,
                or an address or timeout in the configuration is malformed.
        """
        conf = load_configuration() if conf is None else conf
        fs = parse_fs_uri(uri or default_fs(conf))
        if fs.scheme not in ("hdfs", *_WEBHDFS_PORTS):
            raise SkeinConfigurationError(f"{fs.root} is not an HDFS filesystem")
        if not fs.authority:
            fs = parse_fs_uri(default_fs(conf))  # "hdfs:///x" means the default NameNode
        address, https = _http_address(conf, fs)
        connect = conf.get_time_duration(_CONNECT_TIMEOUT_KEY, _DEFAULT_TIMEOUT, unit="ms")
        read = conf.get_time_duration(_READ_TIMEOUT_KEY, _DEFAULT_TIMEOUT, unit="ms")
        return cls(
            fs.root,
            address,
            user=current_user(proxy_user),
            https=https,
            timeout=read / 1000,
            connect_timeout=connect / 1000,
        )

    def __repr__(self) -> str:
        return f"WebHdfsFileSystem({self._fs.root!r}, user={self._user.effective_user!r})"

    # --- paths -----------------------------------------------------------------

    @property
    def uri(self) -> str:
        """The filesystem URI, e.g. ``hdfs://nn:8020``."""
        return self._fs.root

    @property
    def user(self) -> UserInfo:
        """The user calls act as."""
        return self._user

    def qualify(self, path: str) -> str:
        """Return the full URI of ``path``, e.g. ``hdfs://nn:8020/user/alice/x``."""
        if self._home is None and not path.startswith("/") and "://" not in path:
            raise ValueError(f"{path!r} is relative and the home directory is not known yet")
        return self._fs.qualify(resolve_path(path, self._fs, self._home or "/"))

    async def _resolve(self, path: str) -> str:
        if path.startswith("/") or "://" in path:
            return resolve_path(path, self._fs, "/")
        return resolve_path(path, self._fs, await self.home_directory())

    # --- transport -------------------------------------------------------------

    def _url(self, path: str, op: str, params: Mapping[str, str]) -> str:
        query = urlencode({"op": op, **self._auth, **params})
        return f"{self._base}{quote(path, safe='/')}?{query}"

    async def _send(
        self, method: str, url: str, body: bytes | FileBody = b"", **headers: str
    ) -> HttpResponse:
        return await request(
            method,
            url,
            timeout=self._timeout,
            connect_timeout=self._connect_timeout,
            headers=headers,
            body=body,
            ssl_context=self._ssl,
        )

    async def _call(self, method: str, path: str, op: str, **params: str) -> HttpResponse:
        response = await self._send(method, self._url(path, op, params))
        if method == "GET" and response.status == 307:  # OPEN: the data is on a DataNode
            response = await self._send("GET", self._location(response, op))
        if response.status != 200:
            raise webhdfs_error(response.status, response.body, path, op)
        return response

    async def _json(self, method: str, path: str, op: str, key: str, **params: str) -> Any:
        response = await self._call(method, path, op, **params)
        try:
            return json.loads(response.body)[key]
        except (ValueError, KeyError, TypeError):
            raise ProtocolError(
                f"WebHDFS {op} {path}: unexpected reply {response.body[:200]!r}"
            ) from None

    @staticmethod
    def _location(response: HttpResponse, op: str) -> str:
        location = response.headers.get("location")
        if not location:
            raise ProtocolError(f"WebHDFS {op}: redirect without a Location")
        return location

    @staticmethod
    def _status(path: str, info: Mapping[str, Any]) -> FileStatus:
        try:
            return FileStatus(
                path=path,
                size=int(info["length"]),
                modification_time=int(info["modificationTime"]),
                is_dir=info["type"] == "DIRECTORY",
                permission=int(info["permission"], 8),
                owner=str(info["owner"]),
            )
        except (KeyError, TypeError, ValueError):
            raise ProtocolError(f"WebHDFS: malformed FileStatus for {path}: {info!r}") from None

    # --- operations --------------------------------------------------------------

    async def home_directory(self) -> str:
        """Return the user's home directory, asked of the NameNode once (``GETHOMEDIRECTORY``)."""
        if self._home is None:
            home = await self._json("GET", "/", "GETHOMEDIRECTORY", "Path")
            if not isinstance(home, str) or not home.startswith("/"):
                raise ProtocolError(f"WebHDFS GETHOMEDIRECTORY: not a path: {home!r}")
            self._home = home
        return self._home

    async def stat(self, path: str) -> FileStatus:
        """Return the status of ``path`` (``GETFILESTATUS``)."""
        resolved = await self._resolve(path)
        info = await self._json("GET", resolved, "GETFILESTATUS", "FileStatus")
        return self._status(resolved, info)

    async def mkdirs(self, path: str, permission: int = 0o755) -> None:
        """Create ``path`` and missing parents (``MKDIRS``) with ``permission``."""
        resolved = await self._resolve(path)
        created = await self._json(
            "PUT", resolved, "MKDIRS", "boolean", permission=_permission(permission)
        )
        if created is not True:
            raise RemoteError("", f"WebHDFS MKDIRS {resolved}: the NameNode refused")

    async def _create(
        self, path: str, body: bytes | FileBody, overwrite: bool, permission: int
    ) -> FileStatus:
        resolved = await self._resolve(path)
        params = {"overwrite": str(overwrite).lower(), "permission": _permission(permission)}
        # Step one: the NameNode picks a DataNode and redirects; no data is sent.
        first = await self._send("PUT", self._url(resolved, "CREATE", params))
        if first.status != 307:
            raise webhdfs_error(first.status, first.body, resolved, "CREATE")
        # Step two: the DataNode creates the file and takes the data.
        second = await self._send(
            "PUT",
            self._location(first, "CREATE"),
            body,
            **{"Content-Type": "application/octet-stream"},
        )
        if second.status != 201:
            raise webhdfs_error(second.status, second.body, resolved, "CREATE")
        return await self.stat(resolved)

    async def upload(
        self,
        local_path: str | os.PathLike[str],
        remote_path: str,
        *,
        overwrite: bool = False,
        permission: int = 0o644,
        progress: ProgressCallback | None = None,
    ) -> FileStatus:
        """Stream a local file to ``remote_path`` (``CREATE``); see :meth:`FileSystem.upload`."""
        size = (await asyncio.to_thread(os.stat, local_path)).st_size
        body = FileBody(local_path, size, progress)
        status = await self._create(remote_path, body, overwrite, permission)
        if progress is not None and size == 0:
            progress(0, 0)
        return status

    async def write_bytes(
        self, path: str, data: bytes, *, overwrite: bool = False, permission: int = 0o644
    ) -> FileStatus:
        """Write ``data`` as the file ``path`` (``CREATE``) and return its status."""
        return await self._create(path, data, overwrite, permission)

    async def read_bytes(self, path: str) -> bytes:
        """Return the content of the file ``path`` (``OPEN``, served by a DataNode)."""
        resolved = await self._resolve(path)
        return (await self._call("GET", resolved, "OPEN")).body

    async def delete(self, path: str, recursive: bool = False) -> bool:
        """Delete ``path`` (``DELETE``); return False if it did not exist."""
        resolved = await self._resolve(path)
        deleted = await self._json(
            "DELETE", resolved, "DELETE", "boolean", recursive=str(recursive).lower()
        )
        return deleted is True

    async def set_permission(self, path: str, permission: int) -> None:
        """Set the permission bits of ``path`` (``SETPERMISSION``)."""
        resolved = await self._resolve(path)
        await self._call("PUT", resolved, "SETPERMISSION", permission=_permission(permission))

    async def list(self, path: str) -> builtins.list[FileStatus]:
        """Return the entries of ``path`` sorted by name (``LISTSTATUS``)."""
        resolved = await self._resolve(path)
        listing = await self._json("GET", resolved, "LISTSTATUS", "FileStatuses")
        entries = listing.get("FileStatus", []) if isinstance(listing, dict) else None
        if not isinstance(entries, list):
            raise ProtocolError(f"WebHDFS LISTSTATUS {resolved}: malformed listing")
        statuses = []
        for info in entries:
            suffix = info.get("pathSuffix", "") if isinstance(info, dict) else ""
            child = f"{resolved.rstrip('/')}/{suffix}" if suffix else resolved
            statuses.append(self._status(child, info))
        return sorted(statuses, key=lambda status: status.path)
