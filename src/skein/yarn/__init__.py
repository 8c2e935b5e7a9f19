"""YARN: identifiers, typed records and (over :mod:`skein.hadoop`) its protocols.

Records are frozen dataclasses read from YARN's protobuf messages by one
generic converter, :func:`from_proto`; their attribute and enum names are
Skein 0.8's.
"""

from __future__ import annotations

from skein.yarn.conversion import from_proto
from skein.yarn.enums import ApplicationState, FinalStatus, NodeState, QueueState
from skein.yarn.ids import ApplicationAttemptId, ApplicationId, ContainerId
from skein.yarn.records import (
    ApplicationReport,
    NodeReport,
    Queue,
    Resources,
    ResourceUsageReport,
)

__all__ = [
    "ApplicationAttemptId",
    "ApplicationId",
    "ApplicationReport",
    "ApplicationState",
    "ContainerId",
    "FinalStatus",
    "NodeReport",
    "NodeState",
    "Queue",
    "QueueState",
    "ResourceUsageReport",
    "Resources",
    "from_proto",
]
