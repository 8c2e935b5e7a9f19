"""Owners of keys: the container id strings of the Python API and their wire form.

A key may be owned by one live service container, written ``"<service>_<instance>"``
in Skein's API (``"worker_3"``) and sent as a ``skein.v1.ContainerInstance``.
Service names may contain underscores; the instance is what follows the last one.
"""

from __future__ import annotations

from skein._proto.api import skein_pb2 as pb

__all__ = ["owner_from_proto", "owner_to_proto"]

# ContainerInstance.instance is an int32 on the wire.
_MAX_INSTANCE = 2**31 - 1


def owner_to_proto(owner: str) -> pb.ContainerInstance:
    """The wire form of the container id ``owner``.

    Raises:
        ValueError: ``owner`` is not ``"<service>_<instance>"`` (Skein's
            message, ``Invalid container id 'x'``).

    Example:
        >>> message = owner_to_proto("dask_worker_12")
        >>> message.service_name, message.instance
        ('dask_worker', 12)
        >>> owner_to_proto("worker")
        Traceback (most recent call last):
        ...
        ValueError: Invalid container id 'worker'
    """
    service, sep, instance = owner.rpartition("_")
    if (
        not sep
        or not service
        or not instance.isascii()
        or not instance.isdigit()
        or int(instance) > _MAX_INSTANCE
    ):
        raise ValueError(f"Invalid container id {owner!r}")
    return pb.ContainerInstance(service_name=service, instance=int(instance))


def owner_from_proto(message: pb.ContainerInstance) -> str:
    """The container id string of ``message``.

    Example:
        >>> owner_from_proto(pb.ContainerInstance(service_name="worker", instance=3))
        'worker_3'
    """
    return f"{message.service_name}_{message.instance}"
