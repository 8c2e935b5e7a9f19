"""Skein: deploy Python applications on Apache Hadoop YARN.

Layout: ``hadoop`` speaks Hadoop IPC (framing, SASL, configuration, credentials)
and knows nothing of YARN; ``yarn`` holds YARN's records and protocols over it;
``spec`` declares applications; ``client`` is the user-facing API (one asyncio
core, a blocking facade); ``cli`` the ``skein`` command; ``testcluster`` starts a
real local HDFS + YARN for tests and demos. ``_proto`` is generated.
"""

from __future__ import annotations

from skein.client.async_client import AsyncClient
from skein.client.client import Client
from skein.errors import (
    ApplicationNotFoundError,
    ConnectionError,
    QueueNotFoundError,
    SkeinError,
    SpecError,
    TimeoutError,
)
from skein.spec import (
    ACLs,
    ApplicationSpec,
    File,
    FileType,
    FileVisibility,
    LogLevel,
    Master,
    Resources,
    Security,
    Service,
)
from skein.yarn.enums import ApplicationState, FinalStatus, NodeState, QueueState
from skein.yarn.records import ApplicationReport, NodeReport, Queue, ResourceUsageReport

__all__ = [
    "ACLs",
    "ApplicationNotFoundError",
    "ApplicationReport",
    "ApplicationSpec",
    "ApplicationState",
    "AsyncClient",
    "Client",
    "ConnectionError",
    "File",
    "FileType",
    "FileVisibility",
    "FinalStatus",
    "LogLevel",
    "Master",
    "NodeReport",
    "NodeState",
    "Queue",
    "QueueNotFoundError",
    "QueueState",
    "ResourceUsageReport",
    "Resources",
    "Security",
    "Service",
    "SkeinError",
    "SpecError",
    "TimeoutError",
    "__version__",
]

__version__ = "0.9.0.dev0"
