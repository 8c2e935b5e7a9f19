"""Operations: their requests, and their results from responses, alone and in transactions."""

from __future__ import annotations

import pickle
from collections import OrderedDict

import pytest

from skein._proto.api import skein_pb2 as pb
from skein.errors import ProtocolError
from skein.kv import (
    ValueOwnerPair,
    count,
    discard,
    discard_prefix,
    discard_range,
    exists,
    get,
    get_metadata,
    get_prefix,
    get_range,
    is_operation,
    list_keys,
    missing,
    pop,
    pop_prefix,
    pop_range,
    put,
    swap,
)
from skein.kv.operation import Operation
from skein.kv.records import KeyMetadata

_OWNER = pb.ContainerInstance(service_name="svc", instance=1)


def _kv(key: str, value: bytes = b"", owner: bool = False, **revisions: int) -> pb.KeyValue:
    message = pb.KeyValue(key=key, value=value)
    for name, number in revisions.items():
        setattr(message, name, number)
    if owner:
        message.owner.CopyFrom(_OWNER)
    return message


def _range(*kvs: pb.KeyValue) -> pb.GetRangeResponse:
    return pb.GetRangeResponse(count=len(kvs), result=kvs)


def _deleted(*kvs: pb.KeyValue) -> pb.DeleteRangeResponse:
    return pb.DeleteRangeResponse(count=len(kvs), result=kvs)


# -- requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (count(), pb.GetRangeRequest(result_type=pb.NONE)),
        (count("a", "b"), pb.GetRangeRequest(start="a", end="b", result_type=pb.NONE)),
        (count(prefix="a/"), pb.GetRangeRequest(start="a/", end="a0", result_type=pb.NONE)),
        (list_keys(prefix=""), pb.GetRangeRequest(result_type=pb.KEYS)),
        (list_keys(end="m"), pb.GetRangeRequest(end="m", result_type=pb.KEYS)),
        (exists("k"), pb.GetRangeRequest(start="k", end="k\0", result_type=pb.NONE)),
        (missing("k"), pb.GetRangeRequest(start="k", end="k\0", result_type=pb.NONE)),
        (get("k"), pb.GetRangeRequest(start="k", end="k\0", result_type=pb.ITEMS)),
        (get_metadata("k"), pb.GetRangeRequest(start="k", end="k\0", result_type=pb.ITEMS)),
        (get_prefix("é"), pb.GetRangeRequest(start="é", end="ê", result_type=pb.ITEMS)),
        (get_range("a"), pb.GetRangeRequest(start="a", result_type=pb.ITEMS)),
    ],
)
def test_read_requests(operation: Operation[object], expected: pb.GetRangeRequest) -> None:
    assert operation._request() == expected  # type: ignore[attr-defined]
    assert operation._op_request() == pb.OpRequest(get_range=expected)


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (pop("k"), pb.DeleteRangeRequest(start="k", end="k\0", result_type=pb.ITEMS)),
        (pop_prefix("a"), pb.DeleteRangeRequest(start="a", end="b", result_type=pb.ITEMS)),
        (pop_range(None, "z"), pb.DeleteRangeRequest(end="z", result_type=pb.ITEMS)),
        (discard("k"), pb.DeleteRangeRequest(start="k", end="k\0", result_type=pb.NONE)),
        (discard_prefix("a"), pb.DeleteRangeRequest(start="a", end="b", result_type=pb.NONE)),
        (
            discard_prefix("a", return_keys=True),
            pb.DeleteRangeRequest(start="a", end="b", result_type=pb.KEYS),
        ),
        (discard_range(), pb.DeleteRangeRequest(result_type=pb.NONE)),
        (
            discard_range("a", "c", True),
            pb.DeleteRangeRequest(start="a", end="c", result_type=pb.KEYS),
        ),
    ],
)
def test_delete_requests(operation: Operation[object], expected: pb.DeleteRangeRequest) -> None:
    assert operation._request() == expected  # type: ignore[attr-defined]
    assert operation._op_request() == pb.OpRequest(delete_range=expected)


def test_prefix_end_never_makes_invalid_utf8() -> None:
    # Skein 0.8 incremented the last UTF-8 byte, which fails for e.g. "\x7f" and "\xbf".
    assert get_prefix("a\x7f")._request().end == "a\x80"
    assert get_prefix("\xbf")._request().end == "\xc0"
    assert get_prefix("\U0010ffff")._request().end == ""  # nothing follows: unbounded
    assert count(prefix="a\U0010ffff")._request().end == "b"


def test_put_requests() -> None:
    assert put("k", b"v")._request() == pb.PutKeyRequest(key="k", value=b"v", ignore_owner=True)
    assert put("k", owner="svc_1")._request() == pb.PutKeyRequest(
        key="k", owner=_OWNER, ignore_value=True
    )
    cleared = put("k", b"v", owner=None)._request()
    assert cleared == pb.PutKeyRequest(key="k", value=b"v")
    assert not cleared.HasField("owner")
    assert swap("k", b"v")._request().return_previous
    assert not put("k", b"v")._request().return_previous
    assert put("k", b"v")._op_request() == pb.OpRequest(put_key=put("k", b"v")._request())


# -- results ----------------------------------------------------------------------------


def test_read_results() -> None:
    assert count()._parse(pb.GetRangeResponse(count=4)) == 4
    assert list_keys()._parse(_range(_kv("a"), _kv("b"))) == ["a", "b"]
    assert exists("a")._parse(pb.GetRangeResponse(count=1)) is True
    assert exists("a")._parse(pb.GetRangeResponse(count=0)) is False
    assert missing("a")._parse(pb.GetRangeResponse(count=0)) is True


def test_get_results() -> None:
    found = _range(_kv("a", b"1", owner=True))
    assert get("a")._parse(found) == b"1"
    assert get("a", return_owner=True)._parse(found) == ValueOwnerPair(b"1", "svc_1")
    assert get("a")._parse(_range()) is None
    assert get("a", b"d")._parse(_range()) == b"d"
    assert get("a", b"d", True)._parse(_range()) == ValueOwnerPair(b"d", None)
    assert get("a", return_owner=True)._parse(_range(_kv("a", b""))) == ValueOwnerPair(b"", None)


def test_get_metadata_result() -> None:
    found = _range(_kv("a", b"1", owner=True, create_revision=2, mod_revision=5, version=3))
    assert get_metadata("a")._parse(found) == KeyMetadata(
        key="a", value=b"1", owner="svc_1", create_revision=2, mod_revision=5, version=3
    )
    assert get_metadata("a")._parse(_range()) is None


def test_range_results_are_ordered_dicts() -> None:
    response = _range(_kv("a", b"1"), _kv("b", b"2", owner=True))
    items = get_prefix("")._parse(response)
    assert isinstance(items, OrderedDict)
    assert list(items.items()) == [("a", b"1"), ("b", b"2")]
    pairs = get_range(return_owner=True)._parse(response)
    assert pairs == OrderedDict(a=ValueOwnerPair(b"1", None), b=ValueOwnerPair(b"2", "svc_1"))


def test_delete_results() -> None:
    response = _deleted(_kv("a", b"1"), _kv("b", b"2"))
    assert pop("a")._parse(_deleted(_kv("a", b"1", owner=True))) == b"1"
    assert pop("a", return_owner=True)._parse(_deleted(_kv("a", b"1", owner=True))) == (
        ValueOwnerPair(b"1", "svc_1")
    )
    assert pop("a", b"d")._parse(_deleted()) == b"d"
    assert pop_prefix("")._parse(response) == OrderedDict(a=b"1", b=b"2")
    assert pop_range(return_owner=True)._parse(response)["b"] == ValueOwnerPair(b"2", None)
    assert discard("a")._parse(pb.DeleteRangeResponse(count=1)) is True
    assert discard("a")._parse(pb.DeleteRangeResponse(count=0)) is False
    assert discard_prefix("")._parse(pb.DeleteRangeResponse(count=2)) == 2
    assert discard_range(return_keys=True)._parse(response) == ["a", "b"]


def test_put_and_swap_results() -> None:
    previous = pb.PutKeyResponse(return_previous=True, previous=_kv("a", b"0", owner=True))
    new = pb.PutKeyResponse(return_previous=True)
    put("a", b"1")._parse(pb.PutKeyResponse())  # returns None
    assert swap("a", b"1")._parse(previous) == b"0"
    assert swap("a", b"1", return_owner=True)._parse(previous) == ValueOwnerPair(b"0", "svc_1")
    assert swap("a", b"1")._parse(new) is None
    assert swap("a", b"1", return_owner=True)._parse(new) == ValueOwnerPair(None, None)


def test_transaction_results_unwrap_the_matching_response() -> None:
    assert get("a")._op_result(pb.OpResponse(get_range=_range(_kv("a", b"1")))) == b"1"
    assert (
        discard("a")._op_result(pb.OpResponse(delete_range=pb.DeleteRangeResponse(count=1))) is True
    )
    put("a", b"1")._op_result(pb.OpResponse(put_key=pb.PutKeyResponse()))  # returns None


@pytest.mark.parametrize(
    "operation", [get("a"), discard("a"), put("a", b"1")], ids=["get", "discard", "put"]
)
def test_a_mismatched_transaction_response_is_a_protocol_error(
    operation: Operation[object],
) -> None:
    with pytest.raises(ProtocolError, match="answered a"):
        operation._op_result(pb.OpResponse())


# -- validation -------------------------------------------------------------------------


def test_type_errors_use_skeins_messages() -> None:
    with pytest.raises(TypeError, match=r"^key must be a string$"):
        get(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^default must be a bytes, or None$"):
        get("k", "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^return_owner must be a bool$"):
        pop("k", return_owner=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^start must be a string, or None$"):
        get_range(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^prefix must be a string$"):
        discard_prefix(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^return_keys must be a bool$"):
        discard_range(return_keys="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^value must be a bytes$"):
        put("k", "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^owner must be a string or None$"):
        put("k", b"v", owner=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^key must be a string$"):
        exists(None)  # type: ignore[arg-type]


def test_prefix_excludes_start_and_end() -> None:
    for operation in (count, list_keys):
        with pytest.raises(ValueError, match=r"^Cannot specify `prefix` and `start`/`end`$"):
            operation("a", prefix="b")
        with pytest.raises(ValueError, match="Cannot specify"):
            operation(end="a", prefix="b")


def test_put_needs_a_value_or_an_owner() -> None:
    with pytest.raises(ValueError, match=r"^Must specify 'value', 'owner', or both$"):
        put("k")
    with pytest.raises(ValueError, match="Must specify"):
        swap("k", return_owner=True)
    with pytest.raises(ValueError, match="Invalid container id 'svc'"):
        put("k", b"v", owner="svc")


def test_operations_are_values() -> None:
    assert get("a", b"d") == get("a", b"d")
    assert get("a") != pop("a")  # type: ignore[comparison-overlap]
    assert hash(put("a", b"1", owner=None)) == hash(put("a", b"1", owner=None))
    for operation in (swap("a", owner="svc_0"), count(prefix="p"), discard_range("a", "b", True)):
        assert pickle.loads(pickle.dumps(operation)) == operation
    assert repr(put("a", owner=None)) == "put(key='a', value=no_change, owner=None)"


def test_is_operation() -> None:
    assert is_operation(exists("a"))
    assert is_operation(swap("a", b"1"))
    assert not is_operation("get")
