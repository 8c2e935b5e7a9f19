"""The store's ordered key index against a sorted list, with chunks small enough to split."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from skein.kvstore.key_index import KeyIndex

KEYS = st.text(alphabet="abc", max_size=4)


class KeyIndexMatchesASortedList(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.index = KeyIndex(chunk_size=8)
        self.model: list[str] = []

    @rule(key=KEYS)
    def add(self, key: str) -> None:
        if key not in self.model:
            self.index.add(key)
            self.model = sorted([*self.model, key])

    @rule(keys=st.lists(KEYS, max_size=30))
    def add_many(self, keys: list[str]) -> None:
        for key in keys:
            self.add(key)

    @rule(key=KEYS)
    def remove(self, key: str) -> None:
        if key in self.model:
            self.index.remove(key)
            self.model.remove(key)
        else:
            with pytest.raises(KeyError):
                self.index.remove(key)

    @rule(start=KEYS, end=KEYS)
    def remove_range(self, start: str, end: str) -> None:
        expected = [k for k in self.model if k >= start and (not end or k < end)]
        assert self.index.remove_range(start, end) == expected
        self.model = [k for k in self.model if k not in expected]

    @rule(data=st.data())
    def remove_many(self, data: st.DataObject) -> None:
        doomed = data.draw(st.lists(st.sampled_from(self.model), unique=True)) if self.model else []
        self.index.remove_many(doomed)
        self.model = [k for k in self.model if k not in doomed]

    @rule(start=KEYS, end=KEYS)
    def ranges(self, start: str, end: str) -> None:
        expected = [k for k in self.model if k >= start and (not end or k < end)]
        assert self.index.keys(start, end) == expected
        assert self.index.count(start, end) == len(expected)

    @invariant()
    def same_keys(self) -> None:
        assert list(self.index) == self.model
        assert len(self.index) == len(self.model)
        chunks = self.index._chunks
        assert all(chunks)
        assert len(chunks) == len(self.index._maxes)
        assert [c[-1] for c in chunks] == self.index._maxes
        assert all(len(c) <= 16 for c in chunks)


TestKeyIndex = KeyIndexMatchesASortedList.TestCase
TestKeyIndex.settings = settings(max_examples=200, stateful_step_count=60, deadline=None)


@given(st.lists(KEYS))
def test_built_from_keys_it_holds_them_once_in_order(keys: list[str]) -> None:
    index = KeyIndex(keys, chunk_size=2)
    assert list(index) == sorted(set(keys))
    assert all(key in index for key in keys)
    assert "zz" not in index
    assert 3 not in index


def test_many_increasing_keys_stay_in_bounded_chunks() -> None:
    index = KeyIndex(chunk_size=16)
    for n in range(1000):
        index.add(f"k{n:05}")
    assert len(index) == 1000
    assert max(len(c) for c in index._chunks) <= 32
    assert index.keys("k00990", "") == [f"k{n:05}" for n in range(990, 1000)]
    with pytest.raises(KeyError):
        index.remove_many(["k00001", "nope", *[f"k{n:05}" for n in range(100, 200)]])


def test_a_chunk_left_nearly_empty_merges_with_a_neighbour() -> None:
    index = KeyIndex([f"k{n:02}" for n in range(40)], chunk_size=8)
    assert [len(c) for c in index._chunks] == [8, 8, 8, 8, 8]
    for n in range(8, 15):  # the second chunk, down to one key
        index.remove(f"k{n:02}")
    assert [len(c) for c in index._chunks] == [8, 9, 8, 8]
    assert index._maxes == [c[-1] for c in index._chunks]
    assert list(index) == [f"k{n:02}" for n in (*range(8), *range(15, 40))]
    for n in range(32, 39):  # the last chunk merges with the one before it
        index.remove(f"k{n:02}")
    assert [len(c) for c in index._chunks] == [8, 9, 9]
    assert index._maxes == [c[-1] for c in index._chunks]
