"""Application logs: live from the NodeManagers, or aggregated on the cluster filesystem.

Layout, from bytes up to the policy:

* :mod:`~skein.logs.tfile` and :mod:`~skein.logs.aggregated_format`: pure
  parsers of YARN's aggregated log files (TFile container, ``AggregatedLogFormat``
  entries); :mod:`~skein.logs.layout`: where those files are, from the configuration;
  :mod:`~skein.logs.node_manager_web`: the NodeManager REST API's URLs and answers.
* :mod:`~skein.logs.aggregated` and :mod:`~skein.logs.live`: the I/O, over
  :mod:`skein.fs` and :mod:`skein.fs.http`.
* :mod:`~skein.logs.retrieval`: live or aggregated, and waiting for aggregation.
* :mod:`~skein.logs.model`: :class:`ApplicationLogs`, what callers get.

Example:
    >>> from skein.logs import parse_aggregated_log
    >>> log = parse_aggregated_log(open("localhost_45454", "rb").read())  # doctest: +SKIP
    >>> sorted(log.containers)  # doctest: +SKIP
    ['container_1700000000000_0001_01_000001']
"""

from __future__ import annotations

from skein.errors import LogsUnavailableError, UnsupportedLogFormatError
from skein.logs.aggregated import read_aggregated_logs
from skein.logs.aggregated_format import AggregatedLog, LogFile, parse_aggregated_log
from skein.logs.live import read_live_logs
from skein.logs.model import ApplicationLogs, ContainerLogs
from skein.logs.retrieval import LogAggregationStatus, fetch_application_logs
from skein.logs.tfile import TFile, TFileEntry, parse_tfile

__all__ = [
    "AggregatedLog",
    "ApplicationLogs",
    "ContainerLogs",
    "LogAggregationStatus",
    "LogFile",
    "LogsUnavailableError",
    "TFile",
    "TFileEntry",
    "UnsupportedLogFormatError",
    "fetch_application_logs",
    "parse_aggregated_log",
    "parse_tfile",
    "read_aggregated_logs",
    "read_live_logs",
]
