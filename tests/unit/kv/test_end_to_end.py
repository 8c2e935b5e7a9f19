"""AsyncKeyValueStore against the real key-value service, over in-memory gRPC."""

from __future__ import annotations

from collections import OrderedDict

import pytest

from skein.api.kv_service import KeyValueService
from skein.kv import (
    AsyncKeyValueStore,
    KeyMetadata,
    TransactionResult,
    ValueOwnerPair,
    count,
    create_revision,
    discard,
    exists,
    get,
    missing,
    mod_revision,
    owner,
    pop,
    put,
    swap,
    value,
    version,
)
from skein.kvstore import Owner


async def _fill(kv: AsyncKeyValueStore) -> None:
    await kv.update({"a": b"1", "b/1": b"2", "b/2": b"3", "c": b"4"})


async def test_put_and_get(kv: AsyncKeyValueStore) -> None:
    assert await kv.get("a") is None
    await kv.put("a", b"1")
    assert await kv.get("a") == b"1"
    assert await kv.get("missing", b"default") == b"default"
    assert await kv.get("a", return_owner=True) == ValueOwnerPair(b"1", None)
    assert await kv.get("missing", return_owner=True) == ValueOwnerPair(None, None)
    await kv.put("empty", b"")
    assert await kv.get("empty") == b""


async def test_mapping_helpers(kv: AsyncKeyValueStore) -> None:
    await kv.put("a", b"1")
    assert await kv._getitem("a") == b"1"
    with pytest.raises(KeyError, match="'b'"):
        await kv._getitem("b")
    await kv._delitem("a")
    with pytest.raises(KeyError, match="'a'"):
        await kv._delitem("a")


async def test_count_and_list_keys(kv: AsyncKeyValueStore) -> None:
    await _fill(kv)
    assert await kv.count() == 4
    assert await kv.count(prefix="b/") == 2
    assert await kv.count("b", "c") == 2
    assert await kv.count(start="b/2") == 2
    assert await kv.list_keys() == ["a", "b/1", "b/2", "c"]
    assert await kv.list_keys(prefix="b/") == ["b/1", "b/2"]
    assert await kv.list_keys(end="b") == ["a"]
    assert await kv.list_keys("c", "a") == []  # start after end: empty, not an error
    with pytest.raises(ValueError, match="Cannot specify `prefix` and `start`/`end`"):
        await kv.count("a", prefix="b")


async def test_exists_and_missing(kv: AsyncKeyValueStore) -> None:
    await kv.put("a", b"1")
    assert await kv.exists("a")
    assert not await kv.missing("a")
    assert not await kv.exists("a\0")  # only the key itself
    assert await kv.missing("b")


async def test_range_reads(kv: AsyncKeyValueStore) -> None:
    await _fill(kv)
    await kv.put("b/1", owner="svc_0")
    prefix = await kv.get_prefix("b/")
    assert isinstance(prefix, OrderedDict)
    assert list(prefix.items()) == [("b/1", b"2"), ("b/2", b"3")]
    assert await kv.get_prefix("b/", return_owner=True) == OrderedDict(
        [("b/1", ValueOwnerPair(b"2", "svc_0")), ("b/2", ValueOwnerPair(b"3", None))]
    )
    assert list(await kv.get_range("b", "c")) == ["b/1", "b/2"]
    assert list(await kv.get_range()) == ["a", "b/1", "b/2", "c"]
    assert (await kv.get_range("c", return_owner=True))["c"] == ValueOwnerPair(b"4", None)
    assert await kv.get_prefix("zzz") == OrderedDict()


async def test_pops(kv: AsyncKeyValueStore) -> None:
    await _fill(kv)
    assert await kv.pop("a") == b"1"
    assert await kv.pop("a") is None
    assert await kv.pop("a", b"gone") == b"gone"
    assert await kv.pop("a", return_owner=True) == ValueOwnerPair(None, None)
    assert await kv.pop_prefix("b/", return_owner=True) == OrderedDict(
        [("b/1", ValueOwnerPair(b"2", None)), ("b/2", ValueOwnerPair(b"3", None))]
    )
    assert await kv.pop_range("a", "z") == OrderedDict(c=b"4")
    assert await kv.count() == 0


async def test_discards(kv: AsyncKeyValueStore) -> None:
    await _fill(kv)
    assert await kv.discard("a") is True
    assert await kv.discard("a") is False
    assert await kv.discard_prefix("b/", return_keys=True) == ["b/1", "b/2"]
    assert await kv.discard_prefix("b/") == 0
    await _fill(kv)
    assert await kv.discard_range("b", "c") == 2
    assert await kv.discard_range(return_keys=True) == ["a", "c"]
    await _fill(kv)
    await kv.clear()
    assert await kv.count() == 0


async def test_put_keeps_what_is_not_given(kv: AsyncKeyValueStore) -> None:
    await kv.put("a", b"1", owner="svc_1")
    await kv.put("a", b"2")
    assert await kv.get("a", return_owner=True) == ValueOwnerPair(b"2", "svc_1")
    await kv.put("a", owner="svc_2")
    assert await kv.get("a", return_owner=True) == ValueOwnerPair(b"2", "svc_2")
    await kv.put("a", owner=None)
    assert await kv.get("a", return_owner=True) == ValueOwnerPair(b"2", None)


async def test_put_without_value_needs_the_key(kv: AsyncKeyValueStore) -> None:
    with pytest.raises(ValueError, match=r"^ignore_value=True & key isn't already set$"):
        await kv.put("a", owner="svc_0")
    assert await kv.missing("a")


async def test_swap(kv: AsyncKeyValueStore) -> None:
    assert await kv.swap("a", b"1") is None
    assert await kv.swap("a", b"2", owner="svc_0") == b"1"
    assert await kv.swap("a", owner=None, return_owner=True) == ValueOwnerPair(b"2", "svc_0")
    assert await kv.swap("new", b"x", return_owner=True) == ValueOwnerPair(None, None)


async def test_owners_are_checked(kv: AsyncKeyValueStore, service: KeyValueService) -> None:
    with pytest.raises(ValueError, match=r"^Unknown service 'web'$"):
        await kv.put("a", b"1", owner="web_0")
    with pytest.raises(ValueError, match=r"^Container 'svc_3' has already completed$"):
        await kv.put("a", b"1", owner="svc_3")
    with pytest.raises(ValueError, match=r"^Service 'svc' has no container instance 9$"):
        await kv.put("a", b"1", owner="svc_9")
    with pytest.raises(ValueError, match="Invalid container id 'svc'"):
        await kv.put("a", b"1", owner="svc")
    assert await kv.count() == 0


async def test_keys_of_a_completed_owner_are_deleted(
    kv: AsyncKeyValueStore, service: KeyValueService
) -> None:
    await kv.put("mine", b"1", owner="svc_0")
    await kv.put("theirs", b"1", owner="svc_1")
    assert service.release_owner(Owner("svc", 0)) == 1
    assert await kv.list_keys() == ["theirs"]


async def test_client_side_type_errors(kv: AsyncKeyValueStore) -> None:
    with pytest.raises(TypeError, match="value must be a bytes"):
        await kv.put("a", "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key must be a string"):
        await kv.get(b"a")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="owner must be a string or None"):
        await kv.swap("a", b"1", owner=0)  # type: ignore[call-overload]


async def test_server_errors_map_to_value_errors(kv: AsyncKeyValueStore) -> None:
    with pytest.raises(ValueError, match="Key must not be empty"):
        await kv.put("", b"1")


async def test_metadata_tracks_revisions(kv: AsyncKeyValueStore) -> None:
    assert await kv.get_metadata("a") is None
    await kv.put("a", b"1")
    first = await kv.get_metadata("a")
    assert first is not None
    assert (first.key, first.value, first.owner, first.version) == ("a", b"1", None, 1)
    assert first.create_revision == first.mod_revision
    await kv.put("other", b"x")
    await kv.put("a", b"2", owner="svc_0")
    second = await kv.get_metadata("a")
    assert second == KeyMetadata(
        key="a",
        value=b"2",
        owner="svc_0",
        create_revision=first.create_revision,
        mod_revision=first.mod_revision + 2,
        version=2,
    )


# -- transactions -----------------------------------------------------------------------


async def test_transaction_chooses_a_branch(kv: AsyncKeyValueStore) -> None:
    await kv.put("a", b"1")
    result = await kv.transaction(
        conditions=[value("a") == b"1", missing("b")],
        on_success=[put("b", b"2"), get("a"), swap("a", b"3"), count()],
        on_failure=[put("failed", b"1")],
    )
    assert result == TransactionResult(True, [None, b"1", b"1", 2])
    assert isinstance(result, TransactionResult)
    succeeded, results = result
    assert succeeded
    assert results == [None, b"1", b"1", 2]
    result = await kv.transaction(
        conditions=[exists("a"), value("a") == b"1"],
        on_success=[put("never", b"1")],
        on_failure=[pop("a"), discard("b"), get("a", b"gone")],
    )
    assert result == TransactionResult(False, [b"3", True, b"gone"])
    assert await kv.list_keys() == []


async def test_empty_transaction_succeeds(kv: AsyncKeyValueStore) -> None:
    assert await kv.transaction() == TransactionResult(True, [])


async def test_single_condition_and_operation_need_no_list(kv: AsyncKeyValueStore) -> None:
    result = await kv.transaction(missing("a"), put("a", b"1"))
    assert result == TransactionResult(True, [None])


async def test_conditions_on_owners_and_values(kv: AsyncKeyValueStore) -> None:
    await kv.put("lock", b"held", owner="svc_1")

    async def holds(*conditions: object) -> bool:
        return (await kv.transaction(conditions=list(conditions))).succeeded  # type: ignore[arg-type]

    assert await holds(owner("lock") == "svc_1", owner("lock") != None)  # noqa: E711
    assert await holds(owner("lock") > "svc_0", owner("lock") < "svc_2")
    assert await holds(owner("free") == None)  # noqa: E711
    assert not await holds(owner("free") == "svc_1")
    assert await holds(value("lock") >= b"held", value("lock") < b"hold")
    assert not await holds(value("free") == b"")  # a missing key has no value
    assert await holds(value("free") != b"")


async def test_conditions_on_revisions(kv: AsyncKeyValueStore) -> None:
    assert (
        await kv.transaction(conditions=[version("a") == 0, create_revision("a") == 0])
    ).succeeded
    await kv.put("a", b"1")
    meta = await kv.get_metadata("a")
    assert meta is not None
    # Compare-and-set on the revision seen: the first write wins, the second loses.
    first = await kv.transaction(
        conditions=[mod_revision("a") == meta.mod_revision], on_success=[put("a", b"2")]
    )
    second = await kv.transaction(
        conditions=[mod_revision("a") == meta.mod_revision], on_success=[put("a", b"3")]
    )
    assert (first.succeeded, second.succeeded) == (True, False)
    assert await kv.get("a") == b"2"
    assert (await kv.transaction(conditions=[version("a") > 1])).succeeded


async def test_a_rejected_operation_aborts_the_whole_transaction(kv: AsyncKeyValueStore) -> None:
    with pytest.raises(ValueError, match="Unknown service 'web'"):
        await kv.transaction(on_success=[put("a", b"1"), put("b", b"2", owner="web_0")])
    assert await kv.count() == 0


async def test_transaction_type_checks(kv: AsyncKeyValueStore) -> None:
    with pytest.raises(TypeError, match=r"^conditions must be a sequence of Condition$"):
        await kv.transaction(conditions=[get("a")])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"^conditions must be a sequence of Condition$"):
        await kv.transaction(conditions=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^on_success must be a sequence of Operation$"):
        await kv.transaction(on_success=[value("a") == b"1"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"^on_failure must be a sequence of Operation$"):
        await kv.transaction(on_failure=["put"])  # type: ignore[list-item]


async def test_setdefault_is_atomic(kv: AsyncKeyValueStore) -> None:
    assert await kv.setdefault("a", b"1") == b"1"
    assert await kv.setdefault("a", b"2") == b"1"
    assert await kv.get("a") == b"1"
    with pytest.raises(TypeError, match="value must be a bytes"):
        await kv.setdefault("b", "2")  # type: ignore[arg-type]


async def test_update_takes_mappings_pairs_and_keywords(kv: AsyncKeyValueStore) -> None:
    await kv.update({"a": b"1"}, b=b"2")
    await kv.update([("c", b"3"), ("a", b"x")], a=b"wins")

    class KeysAndItems:
        def keys(self) -> list[str]:
            return ["d"]

        def __getitem__(self, key: str) -> bytes:
            return b"4"

    await kv.update(KeysAndItems())  # type: ignore[arg-type]
    assert await kv.get_range() == OrderedDict(a=b"wins", b=b"2", c=b"3", d=b"4")
    with pytest.raises(TypeError, match="update expected at most 1 arguments, got 2"):
        await kv.update({}, {})
    with pytest.raises(TypeError, match="value must be a bytes"):
        await kv.update(a="text")  # type: ignore[arg-type]


async def test_operations_without_a_known_rpc_are_rejected(kv: AsyncKeyValueStore) -> None:
    with pytest.raises(TypeError, match="is not a key-value store operation"):
        await kv._apply(object())  # type: ignore[arg-type]
