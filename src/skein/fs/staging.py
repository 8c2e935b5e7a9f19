"""Content-addressed uploads: a file is stored once per content, however often it is staged.

Staging a file puts it at ``<cache_dir>/<sha256 of its content>/<its name>``.
If a file of the same size is already there, nothing is sent, so submitting the
same application twice uploads its (often large) archives once. Keeping the
original name as the last component keeps the localized file's name, which
matters for archives YARN unpacks by extension.

A SHA-256 match makes a collision between different contents practically
impossible; the size check guards against a file left incomplete by an
interrupted upload, which is then replaced. Two processes staging the same new
file at once both upload it; the later one replaces the earlier, harmlessly.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import os
import posixpath
from pathlib import Path
from typing import Final

from skein.errors import FileExistsError, FileNotFoundError
from skein.fs.filesystem import FileStatus, FileSystem, ProgressCallback

__all__ = ["content_digest", "stage_file", "staged_path"]

_CHUNK: Final = 1024 * 1024


def content_digest(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 of a local file's content as 64 hex digits, reading it in chunks.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile() as f:
        ...     content_digest(f.name)[:16]
        'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def staged_path(cache_dir: str, digest: str, local_path: str | os.PathLike[str]) -> str:
    """Return where a file with content ``digest`` is kept: ``<cache_dir>/<digest>/<name>``.

    Raises:
        ValueError: ``digest`` is not a lower-case SHA-256 hex digest, or
            ``local_path`` has no file name.

    Example:
        >>> digest = "0" * 64
        >>> staged_path(".skein/cache", digest, "/tmp/env.tar.gz").replace(digest, "<sha256>")
        '.skein/cache/<sha256>/env.tar.gz'
    """
    if len(digest) != 64 or digest.strip("0123456789abcdef"):
        raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
    name = Path(local_path).name
    if not name:
        raise ValueError(f"{os.fspath(local_path)!r} has no file name")
    return posixpath.join(cache_dir, digest, name)


async def stage_file(
    fs: FileSystem,
    local_path: str | os.PathLike[str],
    cache_dir: str,
    *,
    permission: int = 0o600,
    progress: ProgressCallback | None = None,
) -> FileStatus:
    """Upload a local file into a content-addressed cache unless it is there already.

    Args:
        fs: the filesystem to stage on.
        local_path: the file to stage.
        cache_dir: the cache folder on ``fs``, e.g. ``.skein/cache`` (relative
            paths are under the home directory).
        permission: the staged file's permission bits; the per-digest folder
            is created private (``0o700``).
        progress: passed to :meth:`FileSystem.upload` when data is sent.

    Returns:
        The staged file's status. Its ``size`` and ``modification_time`` are
        what a YARN LocalResource for it must carry; ``fs.qualify(status.path)``
        is its URI.

    Raises:
        skein.errors.FileNotFoundError: ``local_path`` does not exist.

    Example:
        >>> status = await stage_file(fs, "env.tar.gz", ".skein/cache")  # doctest: +SKIP
        >>> fs.qualify(status.path)  # doctest: +SKIP
        'hdfs://nn:8020/user/alice/.skein/cache/9f86d0.../env.tar.gz'
    """
    try:
        size = (await asyncio.to_thread(os.stat, local_path)).st_size
        digest = await asyncio.to_thread(content_digest, local_path)
    except builtins.FileNotFoundError as exc:
        raise FileNotFoundError(os.fspath(local_path)) from exc
    target = staged_path(cache_dir, digest, local_path)
    try:
        existing = await fs.stat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None and not existing.is_dir and existing.size == size:
        return existing
    if existing is None:
        await fs.mkdirs(posixpath.dirname(target), 0o700)
    try:
        return await fs.upload(
            local_path,
            target,
            overwrite=existing is not None,
            permission=permission,
            progress=progress,
        )
    except FileExistsError:
        # Another process staged the same content meanwhile.
        winner = await fs.stat(target)
        if winner.size == size:
            return winner
        raise
