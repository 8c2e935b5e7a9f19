"""The local filesystem (``file://``) behind the same interface as HDFS.

A cluster whose ``fs.defaultFS`` is ``file:///`` (a single machine, or nodes
sharing a network mount) stages files on the local disk; this lets the staging
code run unchanged there. Blocking calls run in a worker thread so the event
loop stays responsive.

As Hadoop's ``RawLocalFileSystem`` does, modification times are milliseconds
since the epoch, and the home directory is the process user's.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import pwd
import shutil
import stat as stat_module
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final, TypeVar, final

from skein.errors import FileExistsError, FileNotFoundError
from skein.fs.filesystem import FileStatus, FileSystem, ProgressCallback
from skein.fs.uri import FsUri, resolve_path

__all__ = ["LocalFileSystem"]

_T = TypeVar("_T")
_CHUNK: Final = 1024 * 1024
_ROOT: Final = FsUri(scheme="file", authority="", path="")


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid without a passwd entry
        return str(uid)


def _status(path: str) -> FileStatus:
    info = os.stat(path)
    is_dir = stat_module.S_ISDIR(info.st_mode)
    return FileStatus(
        path=path,
        size=0 if is_dir else info.st_size,
        modification_time=info.st_mtime_ns // 1_000_000,
        is_dir=is_dir,
        permission=stat_module.S_IMODE(info.st_mode),
        owner=_owner(info.st_uid),
    )


def _mkdirs(path: str, permission: int) -> None:
    target = Path(path)
    if target.is_dir():
        return
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(permission)  # mkdir's mode is masked by the umask; Hadoop's is exact


def _open_pair(
    source: str | os.PathLike[str], destination: str, overwrite: bool, permission: int
) -> tuple[BinaryIO, BinaryIO, int]:
    """Open ``source`` for reading and ``destination`` for writing; return both and the size."""
    reader = open(source, "rb")  # noqa: SIM115  -- closed by LocalFileSystem.upload
    try:
        total = os.fstat(reader.fileno()).st_size
        Path(destination).parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
        writer = open(os.open(destination, flags, permission), "wb")  # noqa: SIM115
    except BaseException:
        reader.close()
        raise
    return reader, writer, total


def _finish(reader: BinaryIO, writer: BinaryIO, destination: str, permission: int) -> None:
    reader.close()
    writer.close()
    os.chmod(destination, permission)  # os.open's mode is masked by the umask; Hadoop's is not


def _write(path: str, data: bytes, overwrite: bool, permission: int) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    with open(os.open(path, flags, permission), "wb") as writer:
        writer.write(data)
    os.chmod(path, permission)


def _delete(path: str, recursive: bool) -> bool:
    target = Path(path)
    if not target.exists() and not target.is_symlink():
        return False
    if target.is_dir() and not target.is_symlink():
        if recursive:
            shutil.rmtree(target)
        else:
            target.rmdir()  # fails on a non-empty directory, as HDFS does without recursive
    else:
        target.unlink()
    return True


def _list(path: str) -> builtins.list[FileStatus]:
    if not Path(path).is_dir():
        return [_status(path)]
    prefix = path.rstrip("/")
    return [_status(f"{prefix}/{name}") for name in sorted(os.listdir(path))]


@final
class LocalFileSystem(FileSystem):
    """The local disk as a :class:`FileSystem` (URIs ``file:///...``).

    Args:
        home: the home directory for relative paths (default: the user's).

    Example:
        >>> fs = LocalFileSystem()
        >>> fs.qualify("/tmp/app.zip")
        'file:///tmp/app.zip'
    """

    def __init__(self, home: str | os.PathLike[str] | None = None) -> None:
        self._home = os.path.abspath(os.fspath(home) if home else os.path.expanduser("~"))

    def __repr__(self) -> str:
        return "LocalFileSystem()"

    @property
    def uri(self) -> str:
        """Always ``file:///``."""
        return _ROOT.root

    def qualify(self, path: str) -> str:
        """Return ``file://`` followed by the absolute path."""
        return _ROOT.qualify(resolve_path(path, _ROOT, self._home))

    async def home_directory(self) -> str:
        """Return the home directory given at construction (default: the user's)."""
        return self._home

    def _resolve(self, path: str) -> str:
        return resolve_path(path, _ROOT, self._home)

    async def _run(self, path: str, function: Callable[[], _T]) -> _T:
        """Run a blocking call in a thread, mapping missing and existing files to skein's errors."""
        try:
            return await asyncio.to_thread(function)
        except builtins.FileNotFoundError as exc:
            raise FileNotFoundError(exc.filename or path) from exc
        except builtins.FileExistsError as exc:
            raise FileExistsError(exc.filename or path) from exc

    async def stat(self, path: str) -> FileStatus:
        """Return the status of ``path``."""
        resolved = self._resolve(path)
        return await self._run(resolved, lambda: _status(resolved))

    async def mkdirs(self, path: str, permission: int = 0o755) -> None:
        """Create ``path`` and missing parents; ``permission`` is set on ``path``."""
        resolved = self._resolve(path)
        await self._run(resolved, lambda: _mkdirs(resolved, permission))

    async def upload(
        self,
        local_path: str | os.PathLike[str],
        remote_path: str,
        *,
        overwrite: bool = False,
        permission: int = 0o644,
        progress: ProgressCallback | None = None,
    ) -> FileStatus:
        """Copy ``local_path`` to ``remote_path`` in chunks; see :meth:`FileSystem.upload`."""
        resolved = self._resolve(remote_path)
        reader, writer, total = await self._run(
            resolved, lambda: _open_pair(local_path, resolved, overwrite, permission)
        )
        try:
            # Chunks are copied in a worker thread, but progress is reported from
            # the event loop, as WebHDFS uploads do.
            done = 0
            while chunk := await asyncio.to_thread(reader.read, _CHUNK):
                await asyncio.to_thread(writer.write, chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        finally:
            await asyncio.to_thread(_finish, reader, writer, resolved, permission)
        if progress is not None and total == 0:
            progress(0, 0)
        return await self.stat(resolved)

    async def write_bytes(
        self, path: str, data: bytes, *, overwrite: bool = False, permission: int = 0o644
    ) -> FileStatus:
        """Write ``data`` as the file ``path`` and return its status."""
        resolved = self._resolve(path)
        await self._run(resolved, lambda: _write(resolved, data, overwrite, permission))
        return await self.stat(resolved)

    async def read_bytes(self, path: str) -> bytes:
        """Return the content of the file ``path``."""
        resolved = self._resolve(path)
        return await self._run(resolved, Path(resolved).read_bytes)

    async def delete(self, path: str, recursive: bool = False) -> bool:
        """Delete ``path``; return False when it did not exist."""
        resolved = self._resolve(path)
        return await self._run(resolved, lambda: _delete(resolved, recursive))

    async def set_permission(self, path: str, permission: int) -> None:
        """Set the permission bits of ``path``."""
        resolved = self._resolve(path)
        await self._run(resolved, lambda: os.chmod(resolved, permission))

    async def list(self, path: str) -> builtins.list[FileStatus]:
        """Return the entries of ``path`` sorted by name (a file lists as itself)."""
        resolved = self._resolve(path)
        return await self._run(resolved, lambda: _list(resolved))
