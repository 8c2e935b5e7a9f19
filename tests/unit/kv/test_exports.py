"""The public surface of ``skein.kv``: Skein 0.8's names, plus the additions, sorted."""

from __future__ import annotations

import skein.kv

# Skein 0.8.2's skein.kv.__all__.
SKEIN_08 = {
    "KeyValueStore", "ValueOwnerPair", "TransactionResult", "Condition", "is_condition",
    "Operation", "is_operation", "value", "owner", "comparison", "count", "list_keys",
    "exists", "missing", "get", "get_prefix", "get_range", "pop", "pop_prefix", "pop_range",
    "discard", "discard_prefix", "discard_range", "put", "swap", "EventType", "Event",
    "EventFilter", "EventQueue",
}  # fmt: skip

ADDITIONS = {
    "AsyncEventQueue",
    "AsyncKeyValueStore",
    "KeyMetadata",
    "create_revision",
    "get_metadata",
    "mod_revision",
    "version",
}


def test_all_is_sorted_and_complete() -> None:
    assert skein.kv.__all__ == sorted(skein.kv.__all__)
    assert set(skein.kv.__all__) == SKEIN_08 | ADDITIONS
    for name in skein.kv.__all__:
        assert getattr(skein.kv, name) is not None


def test_every_public_name_is_documented() -> None:
    for name in skein.kv.__all__:
        assert getattr(skein.kv, name).__doc__, name
