"""Containers on the wire: :class:`~skein.master.containers.Container` ⇄ ``skein.v1.Container``."""

from __future__ import annotations

from datetime import datetime, timezone

from skein._proto.api import skein_pb2 as pb
from skein.master.containers import Container, ContainerState

__all__ = ["container_from_proto", "container_to_proto", "state_from_proto", "state_to_proto"]


def state_to_proto(state: ContainerState) -> pb.Container.State.ValueType:
    """The wire number of ``state``.

    Example:
        >>> state_to_proto(ContainerState.RUNNING) == pb.Container.RUNNING
        True
    """
    return pb.Container.State.Value(state.value)


def state_from_proto(number: int) -> ContainerState:
    """The state of wire number ``number``.

    Raises:
        ValueError: an unknown or unspecified number.

    Example:
        >>> state_from_proto(pb.Container.KILLED)
        ContainerState.KILLED
    """
    if number == pb.Container.STATE_UNSPECIFIED or number not in pb.Container.State.values():
        raise ValueError(f"invalid container state {number}")
    return ContainerState(pb.Container.State.Name(number))  # type: ignore[arg-type]


def _millis(moment: datetime | None) -> int:
    return 0 if moment is None else round(moment.timestamp() * 1000)


def _moment(millis: int) -> datetime | None:
    return None if millis == 0 else datetime.fromtimestamp(millis / 1000, tz=timezone.utc)


def container_to_proto(container: Container) -> pb.Container:
    """The wire form of ``container``."""
    return pb.Container(
        service_name=container.service_name,
        instance=container.instance,
        state=state_to_proto(container.state),
        yarn_container_id=container.yarn_container_id,
        yarn_node_http_address=container.yarn_node_http_address,
        start_time=_millis(container.start_time),
        finish_time=_millis(container.finish_time),
        exit_message=container.exit_message,
    )


def container_from_proto(message: pb.Container) -> Container:
    """The container ``message`` describes.

    Example:
        >>> c = Container(service_name="web", instance=1, state=ContainerState.WAITING)
        >>> container_from_proto(container_to_proto(c)) == c
        True
    """
    return Container(
        service_name=message.service_name,
        instance=message.instance,
        state=state_from_proto(message.state),
        yarn_container_id=message.yarn_container_id,
        yarn_node_http_address=message.yarn_node_http_address,
        start_time=_moment(message.start_time),
        finish_time=_moment(message.finish_time),
        exit_message=message.exit_message,
    )
