"""Key ranges and prefix ends."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from skein.kvstore import KeyRange, prefix_end

# Characters around the interesting boundaries: ASCII, Latin-1, the surrogate
# gap, the BMP's end and the last code point.
_chars = st.sampled_from(
    ["a", "b", "\0", "\x7f", "\x80", "é", "\ud7ff", "\ue000", "\uffff", "\U0010ffff"]
)
_keys = st.text(alphabet=_chars, max_size=4)


def test_prefix_end_increments_the_last_character() -> None:
    assert prefix_end("a") == "b"
    assert prefix_end("worker/") == "worker0"
    assert prefix_end("é") == "ê"
    assert prefix_end("a\x7f") == "a\x80"


def test_prefix_end_skips_surrogates_and_carries() -> None:
    assert prefix_end("\ud7ff") == "\ue000"
    assert prefix_end("a\U0010ffff") == "b"
    assert prefix_end("a\U0010ffff\U0010ffff") == "b"


def test_prefix_end_is_unbounded_when_nothing_can_be_incremented() -> None:
    assert prefix_end("") == ""
    assert prefix_end("\U0010ffff") == ""


def test_prefix_end_matches_skeins_byte_increment_for_utf8() -> None:
    # Skein incremented the last UTF-8 byte; for these it is a valid string.
    for prefix in ["abc", "x/", "é", "日本"]:
        raw = bytearray(prefix.encode())
        raw[-1] += 1
        assert prefix_end(prefix) == raw.decode()


@given(prefix=_keys, key=_keys)
def test_prefix_range_holds_exactly_the_keys_with_the_prefix(prefix: str, key: str) -> None:
    assert KeyRange.prefix(prefix).contains(key) == key.startswith(prefix)


@given(keys=st.lists(st.text(max_size=5)))
def test_str_order_is_utf8_byte_order(keys: list[str]) -> None:
    keys = [k for k in keys if not any("\ud800" <= c <= "\udfff" for c in k)]
    assert sorted(keys) == sorted(keys, key=lambda k: k.encode())


def test_range_bounds() -> None:
    r = KeyRange("b", "d")
    assert [k for k in ["a", "b", "c", "c\0", "d", "e"] if r.contains(k)] == ["b", "c", "c\0"]


def test_empty_bounds_are_unbounded() -> None:
    assert KeyRange().contains("")
    assert KeyRange().contains("\U0010ffff")
    assert KeyRange("", "b").contains("a")
    assert not KeyRange("", "b").contains("b")
    assert KeyRange("b", "").contains("zzz")
    assert not KeyRange("b", "").contains("a")


def test_start_after_end_is_empty() -> None:
    r = KeyRange("d", "b")
    assert not any(r.contains(k) for k in ["a", "b", "c", "d", "e"])


def test_single_key() -> None:
    r = KeyRange.single("a")
    assert r == KeyRange("a", "a\0")
    assert r.single_key == "a"
    assert r.contains("a")
    assert not r.contains("a\0")
    assert not r.contains("")
    assert KeyRange("a", "b").single_key is None
    assert KeyRange().single_key is None
    assert KeyRange("", "\0").single_key == ""
