"""What the key-value store returns: values with their owners, key metadata, transaction results.

:class:`ValueOwnerPair` and :class:`TransactionResult` are Skein 0.8's named
tuples, so code that unpacks them keeps working. :class:`KeyMetadata` is new:
a key's full record, with etcd's revisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, final

from skein._proto.api import skein_pb2 as pb
from skein.kv.owners import owner_from_proto

__all__ = [
    "KeyMetadata",
    "TransactionResult",
    "ValueOwnerPair",
    "metadata_from_proto",
    "pair_from_proto",
]


class ValueOwnerPair(NamedTuple):
    """A value and the container that owns its key.

    Attributes:
        value: the value, or None where a missing key stands in (e.g. ``get``
            of a missing key with ``return_owner=True``).
        owner: the owning container's id (``"worker_0"``), or None for no owner.

    Example:
        >>> value, owner = ValueOwnerPair(b"ready", "worker_0")
        >>> owner
        'worker_0'
    """

    value: bytes | None
    owner: str | None


class TransactionResult(NamedTuple):
    """The outcome of :meth:`KeyValueStore.transaction <skein.kv.KeyValueStore.transaction>`.

    Attributes:
        succeeded: whether every condition held (so ``on_success`` ran, not ``on_failure``).
        results: the result of each operation of the branch that ran, in order.

    Example:
        >>> succeeded, results = TransactionResult(True, [None, b"old"])
        >>> succeeded, results[1]
        (True, b'old')
    """

    succeeded: bool
    results: list[object]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class KeyMetadata:
    """Everything the store holds about one key (beyond Skein 0.8: etcd's revisions).

    Revisions count the store's changes: each change (a put, a delete, a
    transaction) moves the store to the next revision.

    Attributes:
        key: the key.
        value: its value.
        owner: the owning container's id, or None.
        create_revision: the revision of the put that created the key.
        mod_revision: the revision of the last put to the key.
        version: how many puts the key had since it was created (1 after the first).

    Example:
        >>> meta = KeyMetadata(key="a", value=b"1", owner=None, create_revision=2,
        ...                    mod_revision=5, version=3)
        >>> meta.version
        3
    """

    key: str
    value: bytes
    owner: str | None
    create_revision: int
    mod_revision: int
    version: int


def _owner_of(kv: pb.KeyValue) -> str | None:
    return owner_from_proto(kv.owner) if kv.HasField("owner") else None


def pair_from_proto(kv: pb.KeyValue) -> ValueOwnerPair:
    """The value and owner of a wire ``KeyValue``.

    Example:
        >>> pair_from_proto(pb.KeyValue(key="a", value=b"1"))
        ValueOwnerPair(value=b'1', owner=None)
    """
    return ValueOwnerPair(kv.value, _owner_of(kv))


def metadata_from_proto(kv: pb.KeyValue) -> KeyMetadata:
    """The :class:`KeyMetadata` of a wire ``KeyValue``.

    Example:
        >>> owner = pb.ContainerInstance(service_name="worker", instance=0)
        >>> kv = pb.KeyValue(key="a", value=b"1", owner=owner, create_revision=2,
        ...                  mod_revision=2, version=1)
        >>> metadata_from_proto(kv).owner
        'worker_0'
    """
    return KeyMetadata(
        key=kv.key,
        value=kv.value,
        owner=_owner_of(kv),
        create_revision=kv.create_revision,
        mod_revision=kv.mod_revision,
        version=kv.version,
    )
