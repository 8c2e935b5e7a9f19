"""Filesystems that application files are staged on: HDFS (through WebHDFS) and local.

Submitting an application copies its files to the cluster's default filesystem,
from which YARN localizes them into containers. This package offers:

* :class:`FileSystem`, the asynchronous interface staging is written against,
  and :class:`FileStatus`, what it reports about a file;
* :class:`WebHdfsFileSystem` (``hdfs://``, ``webhdfs://``, ``swebhdfs://``) and
  :class:`LocalFileSystem` (``file://``);
* :func:`filesystem_for`, which picks one for a URI or a Hadoop configuration;
* :func:`stage_file`, content-addressed uploads that skip files already staged.

Example:
    >>> from skein.hadoop.configuration import load_configuration
    >>> async def stage(local_file: str) -> str:  # doctest: +SKIP
    ...     fs = filesystem_for(load_configuration())
    ...     status = await stage_file(fs, local_file, ".skein/cache")
    ...     return fs.qualify(status.path)
"""

from __future__ import annotations

from skein.fs.filesystem import FileStatus, FileSystem, ProgressCallback
from skein.fs.local import LocalFileSystem
from skein.fs.schemes import SUPPORTED_SCHEMES, filesystem_for
from skein.fs.staging import content_digest, stage_file, staged_path
from skein.fs.webhdfs import WebHdfsFileSystem

__all__ = [
    "SUPPORTED_SCHEMES",
    "FileStatus",
    "FileSystem",
    "LocalFileSystem",
    "ProgressCallback",
    "WebHdfsFileSystem",
    "content_digest",
    "filesystem_for",
    "stage_file",
    "staged_path",
]
