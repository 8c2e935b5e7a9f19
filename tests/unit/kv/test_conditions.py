"""Conditions: construction, validation and their wire form."""

from __future__ import annotations

import pickle

import pytest

from skein._proto.api import skein_pb2 as pb
from skein.kv import (
    comparison,
    create_revision,
    exists,
    is_condition,
    missing,
    mod_revision,
    owner,
    value,
    version,
)

_OPERATORS = {
    "==": pb.Condition.EQUAL,
    "!=": pb.Condition.NOT_EQUAL,
    "<": pb.Condition.LESS,
    "<=": pb.Condition.LESS_EQUAL,
    ">": pb.Condition.GREATER,
    ">=": pb.Condition.GREATER_EQUAL,
}


def test_value_comparisons_build_every_operator() -> None:
    built = [
        value("k") == b"x",
        value("k") != b"x",
        value("k") < b"x",
        value("k") <= b"x",
        value("k") > b"x",
        value("k") >= b"x",
    ]
    assert [c.operator for c in built] == list(_OPERATORS)
    for condition in built:
        message = condition._condition()
        assert message == pb.Condition(
            key="k", field=pb.Condition.VALUE, operator=_OPERATORS[condition.operator], value=b"x"
        )


def test_owner_comparisons_send_a_container_instance() -> None:
    message = (owner("k") == "svc_2")._condition()
    assert message.WhichOneof("rhs") == "owner"
    assert message.owner == pb.ContainerInstance(service_name="svc", instance=2)
    assert message.field == pb.Condition.OWNER


def test_owner_equal_none_leaves_the_rhs_unset() -> None:
    message = (owner("k") == None)._condition()  # noqa: E711 - building a condition
    assert message.WhichOneof("rhs") is None
    assert message.operator == pb.Condition.EQUAL
    assert (owner("k") != None).operator == "!="  # noqa: E711


@pytest.mark.parametrize("operator", ["<", "<=", ">", ">="])
def test_ordering_against_none_is_a_type_error(operator: str) -> None:
    with pytest.raises(TypeError, match=r"Comparison \(owner\('k'\) .* None\) is unsupported"):
        comparison("k", "owner", operator, None)
    with pytest.raises(TypeError, match="rhs must be bytes"):
        comparison("k", "value", operator, None)


def test_type_checks_use_skeins_messages() -> None:
    with pytest.raises(TypeError, match="key must be a string"):
        value(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="rhs must be bytes"):
        value("k") == "text"  # noqa: B015
    with pytest.raises(TypeError, match="rhs must be a string or None"):
        owner("k") == 3  # noqa: B015
    with pytest.raises(ValueError, match="Invalid container id 'svc'"):
        owner("k") == "svc"  # noqa: B015
    with pytest.raises(ValueError, match="operator must be in"):
        comparison("k", "value", "=", b"x")
    with pytest.raises(ValueError, match="field must be one of 'value', 'owner'"):
        comparison("k", "size", "==", b"x")


@pytest.mark.parametrize(
    ("helper", "field"),
    [
        (create_revision, pb.Condition.CREATE_REVISION),
        (mod_revision, pb.Condition.MOD_REVISION),
        (version, pb.Condition.VERSION),
    ],
)
def test_revision_fields_compare_with_numbers(
    helper: type[value], field: pb.Condition.Field.ValueType
) -> None:
    message = (helper("k") >= 7)._condition()
    assert message == pb.Condition(
        key="k", field=field, operator=pb.Condition.GREATER_EQUAL, number=7
    )
    zero = (helper("k") == 0)._condition()
    assert zero.WhichOneof("rhs") == "number"
    with pytest.raises(TypeError, match="rhs must be an integer"):
        helper("k") == b"7"  # noqa: B015
    with pytest.raises(TypeError, match="rhs must be an integer"):
        helper("k") == True  # noqa: B015, E712


def test_exists_and_missing_are_conditions_on_the_value() -> None:
    assert exists("k")._condition() == pb.Condition(
        key="k", field=pb.Condition.VALUE, operator=pb.Condition.NOT_EQUAL
    )
    assert missing("k")._condition() == pb.Condition(
        key="k", field=pb.Condition.VALUE, operator=pb.Condition.EQUAL
    )
    assert exists("k")._condition().WhichOneof("rhs") is None


def test_conditions_are_values() -> None:
    assert (value("k") == b"x") == comparison("k", "value", "==", b"x")
    assert hash(owner("k") == None) == hash(comparison("k", "owner", "==", None))  # noqa: E711
    condition = mod_revision("k") < 3
    assert pickle.loads(pickle.dumps(condition)) == condition
    assert repr(condition) == "mod_revision('k') < 3"
    assert repr(value("a")) == "value('a')"


def test_field_helpers_are_not_hashable() -> None:
    with pytest.raises(TypeError):
        hash(value("k"))


def test_is_condition() -> None:
    assert is_condition(exists("k"))
    assert is_condition(version("k") == 1)
    assert not is_condition(value("k"))
    assert not is_condition(True)
