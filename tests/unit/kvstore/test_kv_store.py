"""The store: ranges, puts, deletes, revisions, ownership, limits and transactions."""

from __future__ import annotations

import pytest

from skein.kvstore import (
    MAX_KEY_BYTES,
    MAX_VALUE_BYTES,
    Condition,
    DeleteRange,
    DeleteResult,
    EventType,
    Field,
    GetRange,
    KeyRange,
    KeyValue,
    KeyValueError,
    Operator,
    Owner,
    Put,
    PutResult,
    RangeResult,
    Store,
)

W0 = Owner("worker", 0)
W1 = Owner("worker", 1)
DEAD = Owner("worker", 9)


def check_owner(owner: Owner) -> str | None:
    if owner.service_name != "worker":
        return f"Unknown service {owner.service_name!r}"
    if owner.instance == DEAD.instance:
        return f"Container {str(owner)!r} has already completed"
    if owner.instance > DEAD.instance:
        return f"Service 'worker' has no container instance {owner.instance}"
    return None


@pytest.fixture
def store() -> Store:
    return Store(check_owner=check_owner)


def keys(store: Store, r: KeyRange | None = None) -> list[str]:
    return [kv.key for kv in store.range(r or KeyRange()).kvs]


def fill(store: Store, *names: str) -> None:
    for name in names:
        store.put(Put(key=name, value=name.encode()))


# -- reading ------------------------------------------------------------------------


def test_a_new_store_is_empty_at_revision_1(store: Store) -> None:
    assert store.revision == 1
    assert len(store) == 0
    assert store.range(KeyRange()) == RangeResult(kvs=())
    assert store.get("a") is None


def test_ranges(store: Store) -> None:
    fill(store, "b", "a", "c/1", "c/2", "c0", "d", "é")
    assert keys(store) == ["a", "b", "c/1", "c/2", "c0", "d", "é"]
    assert keys(store, KeyRange("b", "c0")) == ["b", "c/1", "c/2"]
    assert keys(store, KeyRange.prefix("c/")) == ["c/1", "c/2"]
    assert keys(store, KeyRange.single("c0")) == ["c0"]
    assert keys(store, KeyRange.single("c")) == []
    assert keys(store, KeyRange("", "b")) == ["a"]
    assert keys(store, KeyRange("d", "")) == ["d", "é"]
    assert keys(store, KeyRange("d", "b")) == []  # start after end: empty, no error
    assert store.count(KeyRange("b", "c0")) == 3
    assert store.count(KeyRange("d", "b")) == 0
    assert len(store) == 7


# -- puts and revisions -------------------------------------------------------------


def test_puts_move_the_revision_and_track_versions(store: Store) -> None:
    first = store.put(Put(key="a", value=b"1"))
    assert first.revision == 2
    assert first.result == PutResult(
        kv=KeyValue(key="a", value=b"1", create_revision=2, mod_revision=2, version=1),
        previous=None,
    )
    store.put(Put(key="b", value=b"x"))
    second = store.put(Put(key="a", value=b"2"))
    assert second.revision == 4
    assert second.result.previous == first.result.kv
    assert second.result.kv == KeyValue(
        key="a", value=b"2", create_revision=2, mod_revision=4, version=2
    )
    assert [(e.type, e.kv, e.revision) for e in second.events] == [
        (EventType.PUT, second.result.kv, 4)
    ]
    assert store.revision == 4


def test_a_put_of_the_same_value_is_still_a_change(store: Store) -> None:
    store.put(Put(key="a", value=b"1"))
    outcome = store.put(Put(key="a", value=b"1"))
    assert outcome.revision == 3
    assert outcome.result.kv.version == 2
    assert len(outcome.events) == 1


def test_recreating_a_key_restarts_its_version(store: Store) -> None:
    store.put(Put(key="a", value=b"1"))
    store.put(Put(key="a", value=b"2"))
    store.delete_range(KeyRange.single("a"))
    again = store.put(Put(key="a", value=b"3")).result.kv
    assert (again.create_revision, again.mod_revision, again.version) == (5, 5, 1)


def test_ignore_value_keeps_the_value(store: Store) -> None:
    store.put(Put(key="a", value=b"1"))
    outcome = store.put(Put(key="a", value=b"ignored", owner=W0, ignore_value=True))
    assert outcome.result.kv.value == b"1"
    assert outcome.result.kv.owner == W0
    assert outcome.result.kv.version == 2
    # An owner-only change is a put, and emits a PUT event.
    assert [e.type for e in outcome.events] == [EventType.PUT]


def test_ignore_value_on_a_missing_key_is_rejected(store: Store) -> None:
    with pytest.raises(KeyValueError, match=r"^ignore_value=True & key isn't already set$"):
        store.put(Put(key="a", owner=W0, ignore_value=True))
    assert store.revision == 1
    assert len(store) == 0


def test_ignore_owner_keeps_the_owner(store: Store) -> None:
    store.put(Put(key="a", value=b"1", owner=W0))
    kv = store.put(Put(key="a", value=b"2", owner=W1, ignore_owner=True)).result.kv
    assert (kv.value, kv.owner) == (b"2", W0)
    # For a new key there is no owner to keep.
    assert store.put(Put(key="b", value=b"", owner=W1, ignore_owner=True)).result.kv.owner is None


def test_a_put_without_owner_clears_it(store: Store) -> None:
    store.put(Put(key="a", value=b"1", owner=W0))
    assert store.put(Put(key="a", value=b"1")).result.kv.owner is None
    assert store.owned_keys(W0) == ()


@pytest.mark.parametrize(
    ("owner", "message"),
    [
        (Owner("ghost", 0), "Unknown service 'ghost'"),
        (Owner("worker", 12), "Service 'worker' has no container instance 12"),
        (DEAD, "Container 'worker_9' has already completed"),
    ],
)
def test_owners_are_checked(store: Store, owner: Owner, message: str) -> None:
    store.put(Put(key="a", value=b"1"))
    with pytest.raises(KeyValueError) as info:
        store.put(Put(key="a", value=b"2", owner=owner))
    assert str(info.value) == message
    assert store.get("a") == KeyValue(
        key="a", value=b"1", create_revision=2, mod_revision=2, version=1
    )
    assert store.revision == 2


def test_kept_owner_is_not_checked_again() -> None:
    live = {W0}
    store = Store(check_owner=lambda o: None if o in live else f"Container {o} is gone")
    store.put(Put(key="a", value=b"1", owner=W0))
    live.clear()
    assert store.put(Put(key="a", value=b"2", ignore_owner=True)).result.kv.owner == W0
    with pytest.raises(KeyValueError, match="Container worker_0 is gone"):
        store.put(Put(key="a", value=b"3", owner=W0))


def test_the_default_store_accepts_any_owner() -> None:
    assert Store().put(Put(key="a", owner=Owner("any", 99))).result.kv.owner == Owner("any", 99)


# -- limits -------------------------------------------------------------------------


def test_empty_key_is_rejected(store: Store) -> None:
    with pytest.raises(KeyValueError, match=r"^Key must not be empty$"):
        store.put(Put(key="", value=b"1"))


def test_key_size_limit_counts_utf8_bytes(store: Store) -> None:
    store.put(Put(key="k" * MAX_KEY_BYTES, value=b""))
    store.put(Put(key="é" * (MAX_KEY_BYTES // 2), value=b""))
    with pytest.raises(KeyValueError) as info:
        store.put(Put(key="é" * (MAX_KEY_BYTES // 2) + "x", value=b""))
    message = str(info.value)
    assert message.startswith("Key 'éééé")
    assert f"is {MAX_KEY_BYTES + 1} bytes of UTF-8, over the limit of {MAX_KEY_BYTES} bytes" in (
        message
    )
    assert len(message) < 200  # the key is shortened


def test_key_that_is_not_utf8_is_rejected(store: Store) -> None:
    with pytest.raises(KeyValueError, match="not valid UTF-8"):
        store.put(Put(key="a\ud800", value=b""))


def test_value_size_limit(store: Store) -> None:
    store.put(Put(key="a", value=b"x" * MAX_VALUE_BYTES))
    with pytest.raises(KeyValueError) as info:
        store.put(Put(key="b", value=b"x" * (MAX_VALUE_BYTES + 1)))
    assert str(info.value) == (
        f"Value of key 'b' is {MAX_VALUE_BYTES + 1} bytes, "
        f"over the limit of {MAX_VALUE_BYTES} bytes"
    )
    assert keys(store) == ["a"]


def test_ignored_values_are_not_size_checked(store: Store) -> None:
    store.put(Put(key="a", value=b"1"))
    store.put(Put(key="a", value=b"x" * (MAX_VALUE_BYTES + 1), ignore_value=True, owner=W0))
    assert store.get("a") is not None


# -- deletes ------------------------------------------------------------------------


def test_delete_range_returns_what_it_deleted(store: Store) -> None:
    fill(store, "a", "b/1", "b/2", "c")
    before = store.range(KeyRange.prefix("b/")).kvs
    outcome = store.delete_range(KeyRange.prefix("b/"))
    assert outcome.result == DeleteResult(deleted=before)
    assert outcome.revision == 6
    assert [(e.type, e.kv, e.revision) for e in outcome.events] == [
        (EventType.DELETE, KeyValue(key="b/1", mod_revision=6), 6),
        (EventType.DELETE, KeyValue(key="b/2", mod_revision=6), 6),
    ]
    assert keys(store) == ["a", "c"]


def test_a_delete_of_nothing_leaves_the_revision(store: Store) -> None:
    fill(store, "a")
    outcome = store.delete_range(KeyRange.prefix("b"))
    assert (outcome.revision, outcome.events, outcome.result.deleted) == (2, (), ())
    assert store.revision == 2


def test_delete_everything(store: Store) -> None:
    fill(store, "a", "b", "c")
    assert len(store.delete_range(KeyRange()).result.deleted) == 3
    assert len(store) == 0


# -- ownership ----------------------------------------------------------------------


def test_owner_index_follows_puts_and_deletes(store: Store) -> None:
    store.put(Put(key="a", owner=W0))
    store.put(Put(key="b", owner=W0))
    store.put(Put(key="c", owner=W1))
    assert store.owned_keys(W0) == ("a", "b")
    store.put(Put(key="b", owner=W1, ignore_value=True))  # changing owner moves the key
    assert store.owned_keys(W0) == ("a",)
    assert store.owned_keys(W1) == ("b", "c")
    store.delete_range(KeyRange.single("c"))
    assert store.owned_keys(W1) == ("b",)


def test_release_owner_deletes_its_keys_in_one_revision(store: Store) -> None:
    store.put(Put(key="b", owner=W0))
    store.put(Put(key="a", owner=W0))
    store.put(Put(key="c", owner=W1))
    store.put(Put(key="d"))
    outcome = store.release_owner(W0)
    assert outcome.revision == 6
    assert [kv.key for kv in outcome.result.deleted] == ["a", "b"]
    assert [(e.type, e.kv.key, e.revision) for e in outcome.events] == [
        (EventType.DELETE, "a", 6),
        (EventType.DELETE, "b", 6),
    ]
    assert keys(store) == ["c", "d"]
    assert store.owned_keys(W0) == ()


def test_release_of_an_owner_without_keys_changes_nothing(store: Store) -> None:
    store.put(Put(key="a", owner=W0))
    store.put(Put(key="a", value=b"1"))  # no longer owned
    outcome = store.release_owner(W0)
    assert (outcome.revision, outcome.events) == (3, ())
    assert keys(store) == ["a"]


def test_release_of_many_keys(store: Store) -> None:
    names = [f"k{i:03}" for i in range(100)]
    for i, name in enumerate(names):
        store.put(Put(key=name, owner=W0 if i % 2 else W1))
    outcome = store.release_owner(W0)
    assert [kv.key for kv in outcome.result.deleted] == names[1::2]
    assert keys(store) == names[::2]
    assert store.owned_keys(W1) == tuple(names[::2])


# -- transactions -------------------------------------------------------------------


def cond(key: str, field: Field, op: Operator, rhs: bytes | Owner | int | None) -> Condition:
    return Condition(key=key, field=field, operator=op, rhs=rhs)


def test_transaction_chooses_a_branch(store: Store) -> None:
    fill(store, "a")
    exists = cond("a", Field.VALUE, Operator.NOT_EQUAL, None)
    missing = cond("a", Field.VALUE, Operator.EQUAL, None)
    yes = store.transaction([exists], [Put(key="s", value=b"1")], [Put(key="f", value=b"1")])
    assert yes.result.succeeded
    no = store.transaction(
        [exists, missing], [Put(key="s2", value=b"1")], [Put(key="f", value=b"1")]
    )
    assert not no.result.succeeded
    assert keys(store) == ["a", "f", "s"]


def test_an_empty_condition_list_succeeds(store: Store) -> None:
    assert store.transaction().result.succeeded
    assert store.revision == 1


def test_transaction_results_in_order_under_one_revision(store: Store) -> None:
    fill(store, "a", "b")
    outcome = store.transaction(
        [],
        [
            GetRange(keys=KeyRange()),
            Put(key="c", value=b"3"),
            DeleteRange(keys=KeyRange.single("a")),
            Put(key="c", value=b"33"),
            GetRange(keys=KeyRange()),
        ],
    )
    assert outcome.revision == 4
    results = outcome.result.results
    assert isinstance(results[0], RangeResult)
    assert [kv.key for kv in results[0].kvs] == ["a", "b"]
    assert isinstance(results[1], PutResult)
    assert results[1].kv.version == 1
    assert isinstance(results[2], DeleteResult)
    assert [kv.key for kv in results[2].deleted] == ["a"]
    assert isinstance(results[3], PutResult)
    assert (results[3].kv.version, results[3].previous) == (2, results[1].kv)
    assert isinstance(results[4], RangeResult)
    assert [kv.key for kv in results[4].kvs] == ["b", "c"]  # sees the earlier steps
    assert [(e.type, e.kv.key) for e in outcome.events] == [
        (EventType.PUT, "c"),
        (EventType.DELETE, "a"),
        (EventType.PUT, "c"),
    ]
    assert {e.revision for e in outcome.events} == {4}
    kv = store.get("c")
    assert kv is not None
    assert (kv.create_revision, kv.mod_revision, kv.version) == (4, 4, 2)


def test_a_read_only_transaction_leaves_the_revision(store: Store) -> None:
    fill(store, "a")
    outcome = store.transaction([], [GetRange(keys=KeyRange())], [])
    assert (outcome.revision, outcome.events) == (2, ())


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (Put(key="", value=b""), "Key must not be empty"),
        (Put(key="z", owner=DEAD), "Container 'worker_9' has already completed"),
        (Put(key="z", ignore_value=True), "ignore_value=True & key isn't already set"),
        (Put(key="z", value=b"x" * (MAX_VALUE_BYTES + 1)), "over the limit"),
    ],
)
def test_a_rejected_step_rolls_the_whole_transaction_back(
    store: Store, bad: Put, message: str
) -> None:
    store.put(Put(key="a", value=b"1", owner=W0))
    store.put(Put(key="b", value=b"2"))
    before = store.range(KeyRange()).kvs
    watcher = store.watch(KeyRange())
    with pytest.raises(KeyValueError, match=message):
        store.transaction(
            [],
            [
                Put(key="a", value=b"changed", owner=W1),
                DeleteRange(keys=KeyRange.single("b")),
                Put(key="new", value=b"x", owner=W0),
                Put(key="b", value=b"back"),
                bad,
            ],
        )
    assert store.range(KeyRange()).kvs == before
    assert store.revision == 3
    assert store.owned_keys(W0) == ("a",)
    assert store.owned_keys(W1) == ()
    assert watcher.take() == []
    # The store still works, and numbers revisions on from where it was.
    assert store.put(Put(key="c", value=b"")).revision == 4


def test_ignore_value_sees_a_delete_earlier_in_the_transaction(store: Store) -> None:
    fill(store, "a")
    with pytest.raises(KeyValueError, match="ignore_value"):
        store.transaction(
            [], [DeleteRange(keys=KeyRange.single("a")), Put(key="a", ignore_value=True)]
        )
    assert keys(store) == ["a"]


def test_only_the_chosen_branch_is_validated(store: Store) -> None:
    outcome = store.transaction(
        [cond("a", Field.VERSION, Operator.EQUAL, 0)],
        [Put(key="a", value=b"1")],
        [Put(key="", value=b"")],
    )
    assert outcome.result.succeeded


def test_compare_and_swap_on_mod_revision(store: Store) -> None:
    rev = store.put(Put(key="a", value=b"1")).revision
    fill(store, "other")
    swap = [Put(key="a", value=b"2")]
    assert store.transaction(
        [cond("a", Field.MOD_REVISION, Operator.EQUAL, rev)], swap
    ).result.succeeded
    assert not store.transaction(
        [cond("a", Field.MOD_REVISION, Operator.EQUAL, rev)], swap
    ).result.succeeded


def test_transaction_rejects_non_operations(store: Store) -> None:
    with pytest.raises(TypeError, match="not a key-value operation"):
        store.transaction([], ["put a"])  # type: ignore[list-item]
