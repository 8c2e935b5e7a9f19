"""Where NodeManagers put an application's aggregated logs, from the configuration.

Each file format ("file controller") of ``yarn.log-aggregation.file-formats``
(default ``TFile``) has a root directory and a suffix
(``LogAggregationFileController``)::

    root    yarn.log-aggregation.<format>.remote-app-log-dir
            else yarn.nodemanager.remote-app-log-dir (default /tmp/logs)
    suffix  yarn.log-aggregation.<format>.remote-app-log-dir-suffix
            else yarn.nodemanager.remote-app-log-dir-suffix (default logs) + "-" + format

and an application's directory is (``LogAggregationUtils``, Hadoop 3.3 and later)::

    <root>/<owner>/bucket-<suffix>/<app sequence number mod 10000, as %04d>/<app id>/

holding one file per node, named ``<host>_<port>`` (plus ``_<upload time>``
with rolling aggregation; ``.tmp`` while an upload is in progress). Readers also
look in the older, unbucketed ``<root>/<owner>/<suffix>/<app id>/`` when
``yarn.nodemanager.remote-app-log-dir-include-older`` is true (the default).
Before Hadoop gave the TFile controller its own suffix, it used the NodeManager
suffix as is (``<root>/<owner>/logs/<app id>``, the Hadoop 2 layout), so both
spellings are searched for TFile.

Everything here is pure: it computes paths, and names what it cannot read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from skein.hadoop.configuration import HadoopConfiguration
from skein.yarn.ids import ApplicationId

__all__ = [
    "AppLogDirectory",
    "app_log_directories",
    "is_log_aggregation_enabled",
    "is_node_file",
    "node_of",
]

ENABLED_KEY: Final = "yarn.log-aggregation-enable"
FORMATS_KEY: Final = "yarn.log-aggregation.file-formats"
NM_ROOT_KEY: Final = "yarn.nodemanager.remote-app-log-dir"
NM_SUFFIX_KEY: Final = "yarn.nodemanager.remote-app-log-dir-suffix"
INCLUDE_OLDER_KEY: Final = "yarn.nodemanager.remote-app-log-dir-include-older"
DEFAULT_ROOT: Final = "/tmp/logs"
DEFAULT_SUFFIX: Final = "logs"

TFILE: Final = "TFile"
IFILE: Final = "IFile"
_CONTROLLERS: Final = "org.apache.hadoop.yarn.logaggregation.filecontroller"
_CONTROLLER_CLASSES: Final = {
    f"{_CONTROLLERS}.tfile.LogAggregationTFileController": TFILE,
    f"{_CONTROLLERS}.ifile.LogAggregationIndexedFileController": IFILE,
}
_BUCKETS: Final = 10000
# "<host>_<port>", optionally "_<upload time in ms>" (rolling aggregation).
_NODE_FILE: Final = re.compile(r"(?P<host>.+)_(?P<port>\d{1,5})(?:_\d{10,})?")


@dataclass(frozen=True, slots=True, kw_only=True)
class AppLogDirectory:
    """A directory that may hold an application's aggregated logs.

    Attributes:
        path: the directory, a path or URI as configured.
        file_format: the file controller writing there: ``"TFile"``, ``"IFile"``,
            or another configured name.
        readable: whether skein reads this format (only TFile).
    """

    path: str
    file_format: str
    readable: bool


def is_log_aggregation_enabled(configuration: HadoopConfiguration) -> bool:
    """Whether ``yarn.log-aggregation-enable`` is set (Hadoop's default is false)."""
    return configuration.get_bool(ENABLED_KEY, False)


def _join(root: str, *parts: str) -> str:
    path = root.rstrip("/") or ("/" if root.startswith("/") else "")
    for part in parts:
        if part:
            path = f"{path.rstrip('/')}/{part}"
    return path


def _format_kind(configuration: HadoopConfiguration, name: str) -> str:
    """``TFile``/``IFile`` for Hadoop's controllers, else the name and its class."""
    configured = configuration.get_trimmed(f"yarn.log-aggregation.file-controller.{name}.class")
    if configured is None:  # Hadoop's own formats need no class setting
        return name
    return _CONTROLLER_CLASSES.get(configured, f"{name} ({configured})")


def app_log_directories(
    configuration: HadoopConfiguration, app_id: ApplicationId, owner: str
) -> list[AppLogDirectory]:
    """Every directory that may hold ``app_id``'s aggregated logs, newest layout first.

    Args:
        configuration: the cluster's Hadoop configuration.
        app_id: the application.
        owner: the user the application ran as.

    Example:
        >>> conf = HadoopConfiguration({})
        >>> app = ApplicationId(cluster_timestamp=1700000000000, id=12345)
        >>> for directory in app_log_directories(conf, app, "alice"):
        ...     print(directory.path)
        /tmp/logs/alice/bucket-logs-tfile/2345/application_1700000000000_12345
        /tmp/logs/alice/logs-tfile/application_1700000000000_12345
        /tmp/logs/alice/bucket-logs/2345/application_1700000000000_12345
        /tmp/logs/alice/logs/application_1700000000000_12345
    """
    nm_root = configuration.get_trimmed(NM_ROOT_KEY) or DEFAULT_ROOT
    nm_suffix = configuration.get_trimmed(NM_SUFFIX_KEY, DEFAULT_SUFFIX)
    include_older = configuration.get_bool(INCLUDE_OLDER_KEY, True)
    bucket = f"{app_id.id % _BUCKETS:04d}"
    directories: dict[str, AppLogDirectory] = {}
    for name in configuration.get_list(FORMATS_KEY) or (TFILE,):
        kind = _format_kind(configuration, name)
        root = configuration.get_trimmed(f"yarn.log-aggregation.{name}.remote-app-log-dir")
        root = root or nm_root
        suffix = configuration.get_trimmed(f"yarn.log-aggregation.{name}.remote-app-log-dir-suffix")
        suffixes = [suffix or f"{nm_suffix}-{name.lower()}"]
        if kind == TFILE:
            suffixes.append(nm_suffix)
        for candidate in dict.fromkeys(suffixes):
            paths = [_join(root, owner, f"bucket-{candidate}", bucket, str(app_id))]
            if include_older:
                paths.append(_join(root, owner, candidate, str(app_id)))
            for path in paths:
                directories.setdefault(
                    path, AppLogDirectory(path=path, file_format=kind, readable=kind == TFILE)
                )
    return list(directories.values())


def is_node_file(name: str) -> bool:
    """Whether a file in an application's log directory is a finished node upload.

    Example:
        >>> is_node_file("localhost_45454"), is_node_file("localhost_45454.tmp")
        (True, False)
    """
    # ".tmp": an upload in progress; "-checksum": IFile's bookkeeping beside its logs.
    return not name.endswith((".tmp", "-checksum"))


def node_of(file_name: str) -> str:
    """The node id (``host:port``) that uploaded a node file, or the file name if unclear.

    Example:
        >>> node_of("worker-3.example.com_45454_1700000000000")
        'worker-3.example.com:45454'
    """
    match = _NODE_FILE.fullmatch(file_name)
    return f"{match['host']}:{match['port']}" if match else file_name
