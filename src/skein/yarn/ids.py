"""YARN's application, attempt and container identifiers.

Each identifier is a frozen value with YARN's string form (``str(app_id)``,
``ApplicationId.parse(text)``) and conversions to and from its protobuf
message. The string forms are those Hadoop prints and parses, e.g.
``application_1700000000000_0001``, ``appattempt_1700000000000_0001_000001``
and ``container_e03_1700000000000_0001_01_000002``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from skein._proto.yarn import yarn_protos_pb2 as pb

__all__ = ["ApplicationAttemptId", "ApplicationId", "ContainerId"]

# Hadoop pads numbers to a minimum width but prints wider ones in full.
_APPLICATION = re.compile(r"application_(\d+)_(\d+)")
_ATTEMPT = re.compile(r"appattempt_(\d+)_(\d+)_(\d+)")
_CONTAINER = re.compile(r"container_(?:e(\d+)_)?(\d+)_(\d+)_(\d+)_(\d+)")

# A container id's int64 holds the ResourceManager epoch above bit 40
# (ContainerId.CONTAINER_ID_BITMASK in Hadoop).
_EPOCH_SHIFT = 40
_SEQUENCE_MASK = (1 << _EPOCH_SHIFT) - 1


def _match(pattern: re.Pattern[str], text: str, kind: str) -> re.Match[str]:
    match = pattern.fullmatch(text)
    if match is None:
        raise ValueError(f"not a YARN {kind} id: {text!r}")
    return match


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class ApplicationId:
    """An application: the ResourceManager's start time and a sequence number.

    Attributes:
        cluster_timestamp: when the ResourceManager started (epoch milliseconds).
        id: the application's sequence number on that ResourceManager.
    """

    cluster_timestamp: int
    id: int

    def __str__(self) -> str:
        return f"application_{self.cluster_timestamp}_{self.id:04d}"

    @classmethod
    def parse(cls, text: str) -> ApplicationId:
        """Parse ``application_<timestamp>_<id>``.

        Raises:
            ValueError: ``text`` is not an application id.
        """
        match = _match(_APPLICATION, text, "application")
        return cls(cluster_timestamp=int(match[1]), id=int(match[2]))

    @classmethod
    def from_proto(cls, message: pb.ApplicationIdProto) -> ApplicationId:
        """Build from a ``hadoop.yarn.ApplicationIdProto``."""
        return cls(cluster_timestamp=message.cluster_timestamp, id=message.id)

    def to_proto(self) -> pb.ApplicationIdProto:
        """The ``hadoop.yarn.ApplicationIdProto`` of this id."""
        return pb.ApplicationIdProto(id=self.id, cluster_timestamp=self.cluster_timestamp)


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class ApplicationAttemptId:
    """One attempt (one ApplicationMaster run) of an application.

    Attributes:
        application_id: the application.
        attempt_id: the attempt number, from 1.
    """

    application_id: ApplicationId
    attempt_id: int

    def __str__(self) -> str:
        app = self.application_id
        return f"appattempt_{app.cluster_timestamp}_{app.id:04d}_{self.attempt_id:06d}"

    @classmethod
    def parse(cls, text: str) -> ApplicationAttemptId:
        """Parse ``appattempt_<timestamp>_<app id>_<attempt>``.

        Raises:
            ValueError: ``text`` is not an application attempt id.
        """
        match = _match(_ATTEMPT, text, "application attempt")
        app = ApplicationId(cluster_timestamp=int(match[1]), id=int(match[2]))
        return cls(application_id=app, attempt_id=int(match[3]))

    @classmethod
    def from_proto(cls, message: pb.ApplicationAttemptIdProto) -> ApplicationAttemptId:
        """Build from a ``hadoop.yarn.ApplicationAttemptIdProto``."""
        return cls(
            application_id=ApplicationId.from_proto(message.application_id),
            attempt_id=message.attemptId,
        )

    def to_proto(self) -> pb.ApplicationAttemptIdProto:
        """The ``hadoop.yarn.ApplicationAttemptIdProto`` of this id."""
        return pb.ApplicationAttemptIdProto(
            application_id=self.application_id.to_proto(), attemptId=self.attempt_id
        )


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class ContainerId:
    """A container of one application attempt.

    Attributes:
        attempt_id: the application attempt the container belongs to.
        epoch: how many times the ResourceManager restarted (0 on a fresh one).
        sequence: the container's number within the attempt (the AM's is 1).
    """

    attempt_id: ApplicationAttemptId
    epoch: int
    sequence: int

    def __str__(self) -> str:
        app = self.attempt_id.application_id
        epoch = f"e{self.epoch:02d}_" if self.epoch > 0 else ""
        return (
            f"container_{epoch}{app.cluster_timestamp}_{app.id:04d}"
            f"_{self.attempt_id.attempt_id:02d}_{self.sequence:06d}"
        )

    @classmethod
    def parse(cls, text: str) -> ContainerId:
        """Parse ``container_[e<epoch>_]<timestamp>_<app id>_<attempt>_<sequence>``.

        Raises:
            ValueError: ``text`` is not a container id.
        """
        match = _match(_CONTAINER, text, "container")
        app = ApplicationId(cluster_timestamp=int(match[2]), id=int(match[3]))
        attempt = ApplicationAttemptId(application_id=app, attempt_id=int(match[4]))
        return cls(attempt_id=attempt, epoch=int(match[1] or 0), sequence=int(match[5]))

    @classmethod
    def from_proto(cls, message: pb.ContainerIdProto) -> ContainerId:
        """Build from a ``hadoop.yarn.ContainerIdProto``."""
        return cls(
            attempt_id=ApplicationAttemptId.from_proto(message.app_attempt_id),
            epoch=message.id >> _EPOCH_SHIFT,
            sequence=message.id & _SEQUENCE_MASK,
        )

    def to_proto(self) -> pb.ContainerIdProto:
        """The ``hadoop.yarn.ContainerIdProto`` of this id.

        Like Hadoop, only the attempt is set, not the legacy ``app_id`` field.
        """
        return pb.ContainerIdProto(
            app_attempt_id=self.attempt_id.to_proto(),
            id=(self.epoch << _EPOCH_SHIFT) | self.sequence,
        )
