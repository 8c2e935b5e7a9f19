"""Reading a finished application's aggregated logs from the cluster filesystem.

The I/O around :mod:`~skein.logs.layout` (where the files are) and
:mod:`~skein.logs.aggregated_format` (what is in them): list the candidate
directories, read every node file, parse, and gather the containers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit

from skein.errors import FileNotFoundError, LogsUnavailableError, UnsupportedLogFormatError
from skein.fs import FileStatus, FileSystem, filesystem_for
from skein.hadoop.configuration import HadoopConfiguration
from skein.logs.aggregated_format import parse_aggregated_log
from skein.logs.layout import AppLogDirectory, app_log_directories, is_node_file, node_of
from skein.logs.model import ApplicationLogs, ContainerLogs
from skein.yarn.ids import ApplicationId

__all__ = ["read_aggregated_logs"]

# Node files are read a few at a time: enough to overlap round trips, few
# enough not to hold many large files in memory at once.
_PARALLEL_READS: Final = 4


def _decode(content: bytes) -> str:
    # Logs are whatever programs printed; undecodable bytes must not hide the rest.
    return content.decode("utf-8", "replace")


async def _list(fs: FileSystem, directory: AppLogDirectory) -> list[FileStatus] | None:
    try:
        return await fs.list(directory.path)
    except FileNotFoundError:
        return None


async def _read_node_file(
    fs: FileSystem, status: FileStatus, limit: asyncio.Semaphore
) -> list[ContainerLogs]:
    async with limit:
        data = await fs.read_bytes(status.path)
    log = await asyncio.to_thread(parse_aggregated_log, data)
    node = node_of(status.name)
    return [
        ContainerLogs(
            container_id=container,
            node=node,
            files={file.name: _decode(file.content) for file in files},
        )
        for container, files in log.containers.items()
    ]


def _node_files(app_id: ApplicationId, listing: Sequence[FileStatus]) -> list[FileStatus]:
    files = []
    for status in listing:
        if status.name == f"{app_id}.har":
            raise UnsupportedLogFormatError(
                f"the logs of {app_id} were archived into {status.path}; "
                "skein cannot read Hadoop archives (HAR)"
            )
        if not status.is_dir and is_node_file(status.name):
            files.append(status)
    return files


async def read_aggregated_logs(
    configuration: HadoopConfiguration,
    app_id: str,
    owner: str,
    *,
    proxy_user: str | None = None,
) -> ApplicationLogs:
    """Read the aggregated logs of application ``app_id`` from the cluster filesystem.

    Args:
        configuration: the cluster's Hadoop configuration (it locates the logs).
        app_id: the application, e.g. ``application_1700000000000_0001``.
        owner: the user it ran as (its logs are under that user's directory).
        proxy_user: read as this user, impersonated by the current one.

    Raises:
        LogsUnavailableError: no directory holds node files for the application.
        UnsupportedLogFormatError: the logs are in a format skein cannot read.
        DecodeError: a node file is corrupt.

    Example:
        >>> logs = await read_aggregated_logs(conf, "application_1700000000000_0001",
        ...                                   "alice")  # doctest: +SKIP
        >>> logs.files["container_1700000000000_0001_01_000001"]["stdout"]  # doctest: +SKIP
        'hello\\n'
    """
    parsed = ApplicationId.parse(app_id)
    directories = app_log_directories(configuration, parsed, owner)
    filesystems: dict[str, FileSystem] = {}

    def filesystem(path: str) -> FileSystem:
        parts = urlsplit(path)
        key = f"{parts.scheme}://{parts.netloc}" if parts.scheme else ""
        if key not in filesystems:
            source = key or configuration
            filesystems[key] = filesystem_for(
                source, configuration=configuration, proxy_user=proxy_user
            )
        return filesystems[key]

    listings = await asyncio.gather(*(_list(filesystem(d.path), d) for d in directories))
    found = [(d, listing) for d, listing in zip(directories, listings, strict=True) if listing]
    unreadable = [d for d, _ in found if not d.readable]
    found = [(d, listing) for d, listing in found if d.readable]
    if not found and unreadable:
        raise UnsupportedLogFormatError(
            f"the logs of {app_id} are in the {unreadable[0].file_format} format "
            f"({unreadable[0].path}); skein reads the TFile format only"
        )
    node_files = sorted(
        (
            (filesystem(d.path), status)
            for d, listing in found
            for status in _node_files(parsed, listing)
        ),
        # Oldest first: with rolling aggregation a later upload holds newer copies of a file.
        key=lambda pair: (pair[1].modification_time, pair[1].name),
    )
    if not node_files:
        searched = ", ".join(d.path for d in directories)
        raise LogsUnavailableError(f"no aggregated logs of {app_id} found (searched {searched})")
    limit = asyncio.Semaphore(_PARALLEL_READS)
    per_file = await asyncio.gather(*(_read_node_file(fs, s, limit) for fs, s in node_files))
    return ApplicationLogs(
        app_id, [logs for containers in per_file for logs in containers], source="aggregated"
    )
