"""Skein: deploy Python applications on Apache Hadoop YARN.

Layout: ``hadoop`` speaks Hadoop IPC (framing, SASL, configuration, credentials)
and knows nothing of YARN; ``yarn`` holds YARN's records and protocols over it;
``spec`` declares applications; ``client`` is the user-facing API (one asyncio
core, a blocking facade); ``master`` is the ApplicationMaster; ``api`` its gRPC
service and transport; ``kvstore`` the master's key-value store (pure) and
``kv`` its client API; ``cli`` the ``skein`` command; ``testcluster`` starts a
real local HDFS + YARN for tests and demos. ``_proto`` is generated.
"""

from __future__ import annotations

import os as _os
import zipimport as _zipimport

if isinstance(globals().get("__loader__"), _zipimport.zipimporter):
    # Imported from the runtime zip (the master, or a container's bare python3):
    # multidict's compiled extension cannot load from a zip, its pure-Python twin can.
    _os.environ.setdefault("MULTIDICT_NO_EXTENSIONS", "1")

from skein import kv
from skein.client.application_client import ApplicationClient
from skein.client.async_application_client import AsyncApplicationClient
from skein.client.async_client import AsyncClient
from skein.client.client import Client
from skein.container_properties import properties
from skein.errors import (
    ApplicationError,
    ApplicationNotFoundError,
    ApplicationNotRunningError,
    ConnectionError,
    DriverError,
    DriverNotRunningError,
    QueueNotFoundError,
    SkeinError,
    SpecError,
    TimeoutError,
    WatchCancelledError,
)
from skein.logs import ApplicationLogs
from skein.master.containers import Container, ContainerState
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
    "ApplicationClient",
    "ApplicationError",
    "ApplicationLogs",
    "ApplicationNotFoundError",
    "ApplicationNotRunningError",
    "ApplicationReport",
    "ApplicationSpec",
    "ApplicationState",
    "AsyncApplicationClient",
    "AsyncClient",
    "Client",
    "ConnectionError",
    "Container",
    "ContainerState",
    "DriverError",
    "DriverNotRunningError",
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
    "WatchCancelledError",
    "__version__",
    "kv",
    "properties",
]

__version__ = "0.9.0.dev0"
