"""Transaction conditions: fields, operators, "none", and their orders."""

from __future__ import annotations

import pytest

from skein.kvstore import Condition, Field, KeyValue, KeyValueError, Operator, Owner

EQ, NE, LT, LE, GT, GE = (
    Operator.EQUAL,
    Operator.NOT_EQUAL,
    Operator.LESS,
    Operator.LESS_EQUAL,
    Operator.GREATER,
    Operator.GREATER_EQUAL,
)
ALL_OPERATORS = [EQ, NE, LT, LE, GT, GE]

ENTRY = KeyValue(
    key="k", value=b"m", owner=Owner("svc", 3), create_revision=4, mod_revision=7, version=2
)
UNOWNED = KeyValue(key="k", value=b"", create_revision=4, mod_revision=4, version=1)


def holds(field: Field, op: Operator, rhs: bytes | Owner | int | None, kv: KeyValue | None) -> bool:
    return Condition(key="k", field=field, operator=op, rhs=rhs).evaluate(kv)


def truth(field: Field, rhs: bytes | Owner | int | None, kv: KeyValue | None) -> list[Operator]:
    return [op for op in ALL_OPERATORS if holds(field, op, rhs, kv)]


def test_value_comparisons() -> None:
    assert truth(Field.VALUE, b"m", ENTRY) == [EQ, LE, GE]
    assert truth(Field.VALUE, b"n", ENTRY) == [NE, LT, LE]
    assert truth(Field.VALUE, b"l", ENTRY) == [NE, GT, GE]
    assert truth(Field.VALUE, b"m\0", ENTRY) == [NE, LT, LE]  # a prefix sorts first


def test_values_compare_as_unsigned_bytes() -> None:
    # Skein 0.8 (Java signed bytes) had 0x80 < 0x7f; we order bytes unsigned.
    high = KeyValue(key="k", value=b"\x80")
    assert truth(Field.VALUE, b"\x7f", high) == [NE, GT, GE]
    assert truth(Field.VALUE, b"\xff", high) == [NE, LT, LE]


def test_none_on_either_side_only_allows_equality_tests() -> None:
    # exists(key) is value != none, missing(key) is value == none.
    assert truth(Field.VALUE, None, None) == [EQ]
    assert truth(Field.VALUE, None, ENTRY) == [NE]
    assert truth(Field.VALUE, None, UNOWNED) == [NE]  # an empty value is still a value
    assert truth(Field.VALUE, b"", None) == [NE]
    assert truth(Field.VALUE, b"m", None) == [NE]


def test_owner_comparisons() -> None:
    assert truth(Field.OWNER, Owner("svc", 3), ENTRY) == [EQ, LE, GE]
    assert truth(Field.OWNER, Owner("svc", 10), ENTRY) == [NE, LT, LE]  # numbers, not text
    assert truth(Field.OWNER, Owner("svb", 99), ENTRY) == [NE, GT, GE]
    assert truth(Field.OWNER, Owner("svca", 0), ENTRY) == [NE, LT, LE]


def test_owner_none_means_unowned_or_missing() -> None:
    assert truth(Field.OWNER, None, UNOWNED) == [EQ]
    assert truth(Field.OWNER, None, None) == [EQ]
    assert truth(Field.OWNER, None, ENTRY) == [NE]
    assert truth(Field.OWNER, Owner("svc", 3), UNOWNED) == [NE]
    assert truth(Field.OWNER, Owner("svc", 3), None) == [NE]


@pytest.mark.parametrize(
    ("field", "actual"),
    [(Field.CREATE_REVISION, 4), (Field.MOD_REVISION, 7), (Field.VERSION, 2)],
)
def test_number_fields(field: Field, actual: int) -> None:
    assert truth(field, actual, ENTRY) == [EQ, LE, GE]
    assert truth(field, actual + 1, ENTRY) == [NE, LT, LE]
    assert truth(field, actual - 1, ENTRY) == [NE, GT, GE]


@pytest.mark.parametrize("field", [Field.CREATE_REVISION, Field.MOD_REVISION, Field.VERSION])
def test_number_fields_are_zero_for_a_missing_key(field: Field) -> None:
    assert truth(field, 0, None) == [EQ, LE, GE]
    assert truth(field, 1, None) == [NE, LT, LE]


@pytest.mark.parametrize(
    ("field", "rhs", "wanted"),
    [
        (Field.VALUE, Owner("a", 1), "needs bytes or none, got Owner"),
        (Field.VALUE, 3, "needs bytes or none, got int"),
        (Field.OWNER, b"a_1", "needs an owner or none, got bytes"),
        (Field.VERSION, None, r"needs a number \(0 for a missing key\), got NoneType"),
        (Field.MOD_REVISION, b"1", "needs a number"),
        (Field.CREATE_REVISION, True, "needs a number"),
    ],
)
def test_rhs_must_suit_the_field(
    field: Field, rhs: bytes | Owner | int | None, wanted: str
) -> None:
    with pytest.raises(KeyValueError, match=wanted) as info:
        Condition(key="k", field=field, operator=EQ, rhs=rhs)
    assert f"the {field.value} of key 'k'" in str(info.value)
