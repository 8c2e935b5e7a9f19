"""The asynchronous filesystem interface that application staging is written against.

Submitting an application copies its files to the cluster's default filesystem,
where YARN's NodeManagers localize them. :class:`FileSystem` is the small set of
operations staging needs; :class:`~skein.fs.webhdfs.WebHdfsFileSystem` implements
it for HDFS and :class:`~skein.fs.local.LocalFileSystem` for ``file://``.

Paths may be absolute (``/user/alice/x``), relative to :meth:`FileSystem.home_directory`
(``.skein/x``), or full URIs of the same filesystem (``hdfs://nn:8020/user/alice/x``).
Every method raises :class:`skein.errors.FileNotFoundError` for a missing path and
:class:`skein.errors.FileExistsError` when refusing to replace a file; HDFS refusals
are :class:`skein.errors.AccessControlError`, local ones the builtin ``PermissionError``.
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike

from skein.errors import FileNotFoundError

__all__ = ["FileStatus", "FileSystem", "ProgressCallback"]

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(bytes_done, bytes_total)`` while a file is uploaded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FileStatus:
    """What a filesystem reports about one file or directory.

    YARN localizes a file only if its size and modification time still equal
    the values given when the application was submitted, so these are exactly
    the filesystem's own values.

    Attributes:
        path: the absolute path within the filesystem (no scheme or authority;
            :meth:`FileSystem.qualify` gives the full URI).
        size: the length in bytes (0 for directories).
        modification_time: milliseconds since the epoch.
        is_dir: whether it is a directory.
        permission: the permission bits, e.g. ``0o644`` (plus ``0o1000`` when sticky).
        owner: the owning user.

    Example:
        >>> status = FileStatus(path="/tmp", size=0, modification_time=0,
        ...                     is_dir=True, permission=0o1777, owner="hdfs")
        >>> status.name, oct(status.permission)
        ('tmp', '0o1777')
    """

    path: str
    size: int
    modification_time: int
    is_dir: bool
    permission: int
    owner: str

    @property
    def name(self) -> str:
        """The last component of :attr:`path` (empty for the root)."""
        return self.path.rstrip("/").rpartition("/")[2]


class FileSystem(abc.ABC):
    """A filesystem that files can be staged on, with asynchronous operations.

    Example:
        >>> async def stage(fs: FileSystem) -> str:  # doctest: +SKIP
        ...     await fs.mkdirs(".skein/app_1", 0o700)
        ...     status = await fs.upload("app.zip", ".skein/app_1/app.zip",
        ...                              overwrite=True, permission=0o600)
        ...     return fs.qualify(status.path)
    """

    @property
    @abc.abstractmethod
    def uri(self) -> str:
        """The filesystem's URI without a path, e.g. ``hdfs://nn:8020`` or ``file:///``."""

    @abc.abstractmethod
    def qualify(self, path: str) -> str:
        """Return the full URI of ``path``, e.g. ``hdfs://nn:8020/user/alice/x``.

        Relative paths are resolved against the home directory, so for them the
        home directory must already be known (:meth:`home_directory` was awaited);
        otherwise a ``ValueError`` says so.
        """

    @abc.abstractmethod
    async def home_directory(self) -> str:
        """Return the user's home directory, e.g. ``/user/alice``."""

    @abc.abstractmethod
    async def stat(self, path: str) -> FileStatus:
        """Return the status of ``path``.

        Raises:
            skein.errors.FileNotFoundError: nothing exists at ``path``.
        """

    async def exists(self, path: str) -> bool:
        """Return whether anything exists at ``path``."""
        try:
            await self.stat(path)
        except FileNotFoundError:
            return False
        return True

    @abc.abstractmethod
    async def mkdirs(self, path: str, permission: int = 0o755) -> None:
        """Create the directory ``path`` and any missing parents.

        ``permission`` applies to ``path`` itself; existing directories are left
        as they are.
        """

    @abc.abstractmethod
    async def upload(
        self,
        local_path: str | PathLike[str],
        remote_path: str,
        *,
        overwrite: bool = False,
        permission: int = 0o644,
        progress: ProgressCallback | None = None,
    ) -> FileStatus:
        """Copy a local file to ``remote_path``, streaming it, and return the new status.

        Args:
            local_path: the file to copy.
            remote_path: the destination file; missing parent directories are created.
            overwrite: replace an existing file instead of raising.
            permission: the new file's permission bits.
            progress: called with (bytes done, bytes total) as data is sent.

        Raises:
            skein.errors.FileExistsError: the file exists and ``overwrite`` is false.
        """

    @abc.abstractmethod
    async def write_bytes(
        self, path: str, data: bytes, *, overwrite: bool = False, permission: int = 0o644
    ) -> FileStatus:
        """Write ``data`` as the file ``path`` and return its status (see :meth:`upload`)."""

    @abc.abstractmethod
    async def read_bytes(self, path: str) -> bytes:
        """Return the whole content of the file ``path``."""

    @abc.abstractmethod
    async def delete(self, path: str, recursive: bool = False) -> bool:
        """Delete ``path``; return False when it did not exist.

        Deleting a non-empty directory needs ``recursive``.
        """

    @abc.abstractmethod
    async def set_permission(self, path: str, permission: int) -> None:
        """Set the permission bits of ``path``, e.g. ``0o700``."""

    @abc.abstractmethod
    async def list(self, path: str) -> builtins.list[FileStatus]:
        """Return the entries of the directory ``path`` sorted by name.

        For a file, return its own status, as Hadoop does.
        """
