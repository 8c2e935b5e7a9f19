"""Enumerations of YARN states, with Skein 0.8's names and string behaviour.

Members are strings: ``ApplicationState.RUNNING == "RUNNING"``, they hash like
their name, and ``str()`` gives the bare name. Construction from a string
ignores case, so ``ApplicationState("running")`` is ``ApplicationState.RUNNING``.

YARN prefixes some enum value names on the wire (``NS_RUNNING``,
``APP_SUCCEEDED``, ``Q_STOPPED``) because protobuf scopes enum values per
package; the members here drop those prefixes, and :mod:`skein.yarn.conversion`
translates between the two.
"""

from __future__ import annotations

import enum
from typing import TypeVar

__all__ = [
    "ApplicationState",
    "FinalStatus",
    "NodeState",
    "QueueState",
    "YarnEnum",
]

_E = TypeVar("_E", bound="YarnEnum")


class YarnEnum(str, enum.Enum):
    """Base of skein's YARN enums: string members, case-insensitive lookup."""

    @classmethod
    def _missing_(cls, value: object) -> YarnEnum | None:
        if isinstance(value, str):
            return cls.__members__.get(value.upper())
        return None

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

    @classmethod
    def values(cls: type[_E]) -> list[_E]:
        """All members, in declaration order (as Skein 0.8's ``values()``)."""
        return list(cls)


class ApplicationState(YarnEnum):
    """Where an application is in its life cycle, as the ResourceManager reports it.

    Mirrors ``hadoop.yarn.YarnApplicationStateProto``.
    """

    NEW = "NEW"
    NEW_SAVING = "NEW_SAVING"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"


class FinalStatus(YarnEnum):
    """The outcome an application declared (``UNDEFINED`` while it runs).

    Mirrors ``hadoop.yarn.FinalApplicationStatusProto``. ``ENDED`` (an
    application whose parts ended differently) is a YARN value that Skein 0.8
    did not name.
    """

    SUCCEEDED = "SUCCEEDED"
    KILLED = "KILLED"
    FAILED = "FAILED"
    UNDEFINED = "UNDEFINED"
    ENDED = "ENDED"


class NodeState(YarnEnum):
    """The state of a NodeManager. Mirrors ``hadoop.yarn.NodeStateProto``."""

    DECOMMISSIONED = "DECOMMISSIONED"
    DECOMMISSIONING = "DECOMMISSIONING"
    LOST = "LOST"
    NEW = "NEW"
    REBOOTED = "REBOOTED"
    RUNNING = "RUNNING"
    SHUTDOWN = "SHUTDOWN"
    UNHEALTHY = "UNHEALTHY"


class QueueState(YarnEnum):
    """Whether a queue accepts applications. Mirrors ``hadoop.yarn.QueueStateProto``.

    ``DRAINING`` (stopping, with applications still running) is a YARN value
    that Skein 0.8 did not name.
    """

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    DRAINING = "DRAINING"
