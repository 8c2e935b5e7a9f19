"""Event types, filters and events."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skein._proto.api import skein_pb2 as pb
from skein.kv import Event, EventFilter, EventType, ValueOwnerPair
from skein.kv.async_event_queue import build_filter
from skein.kv.events import event_from_proto


def test_event_type_is_a_case_insensitive_string() -> None:
    assert EventType("put") is EventType.PUT
    assert EventType.DELETE == "DELETE"
    assert str(EventType.ALL) == "ALL"
    assert EventType.values() == [EventType.ALL, EventType.PUT, EventType.DELETE]
    with pytest.raises(ValueError, match=r"'EventType' must be in \('ALL', 'PUT', 'DELETE'\)"):
        EventType("CREATE")
    with pytest.raises(TypeError, match="Expected 'str' or 'EventType'"):
        EventType(1)


def test_filters_normalise_to_a_range() -> None:
    assert EventFilter(key="a").start == "a"
    assert EventFilter(key="a").end == "a\0"
    prefix = EventFilter(prefix="a/")
    assert (prefix.start, prefix.end, prefix.event_type) == ("a/", "a0", EventType.ALL)
    assert EventFilter(start="a") == EventFilter(start="a", end=None)
    # "" and None are both unbounded, so these are one filter (and one server watch).
    assert EventFilter(prefix="") == EventFilter() == EventFilter(start="", end="")
    assert EventFilter(event_type="put").event_type is EventType.PUT


def test_filters_take_at_most_one_selection() -> None:
    message = r"^Must specify at most one of `key`, `prefix`, or `start`/`end`$"
    with pytest.raises(ValueError, match=message):
        EventFilter(key="a", prefix="a")
    with pytest.raises(ValueError, match=message):
        EventFilter(prefix="a", end="b")
    with pytest.raises(TypeError, match="key must be a string"):
        EventFilter(key=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="start must be a string, or None"):
        EventFilter(start=b"a")  # type: ignore[arg-type]


def test_filters_are_hashable_values() -> None:
    a = EventFilter(prefix="a", event_type="DELETE")
    assert a == EventFilter(start="a", end="b", event_type=EventType.DELETE)
    assert a != EventFilter(prefix="a")
    assert len({a, EventFilter(start="a", end="b", event_type="delete")}) == 1
    assert pickle.loads(pickle.dumps(a)) == a
    assert repr(a) == "EventFilter(start='a', end='b', event_type=EventType.DELETE)"
    assert a != ("a", "b", "DELETE")


def test_filters_match_their_range_and_type() -> None:
    f = EventFilter(prefix="a", event_type="PUT")
    assert f.matches("ab", "PUT")
    assert not f.matches("ab", EventType.DELETE)
    assert not f.matches("b", "PUT")
    assert EventFilter().matches("anything", "DELETE")


def test_filter_wire_form() -> None:
    assert EventFilter(key="k", event_type="DELETE")._to_proto() == pb.WatchCreateRequest(
        start="k", end="k\0", event_type=pb.DELETE
    )
    assert EventFilter()._to_proto(start_revision=4) == pb.WatchCreateRequest(
        event_type=pb.ALL, start_revision=4
    )


def test_build_filter_follows_skeins_rules() -> None:
    explicit = EventFilter(key="a")
    assert build_filter(explicit, None, None, None, None, None) is explicit
    assert build_filter(None, None, "p", None, None, "PUT") == EventFilter(
        prefix="p", event_type="PUT"
    )
    with pytest.raises(ValueError, match="Cannot provide ``event_filter`` and other arguments"):
        build_filter(explicit, "a", None, None, None, None)
    with pytest.raises(TypeError, match="event_filter must be an EventFilter"):
        build_filter("a", None, None, None, None, None)  # type: ignore[arg-type]


def test_events_are_four_tuples_with_a_revision() -> None:
    f = EventFilter()
    event = Event("a", ValueOwnerPair(b"1", None), EventType.PUT, f, revision=3)
    key, result, event_type, event_filter = event
    assert (key, result, event_type, event_filter) == ("a", (b"1", None), "PUT", f)
    assert event.revision == 3
    assert event == Event("a", ValueOwnerPair(b"1", None), EventType.PUT, f)  # as tuples
    assert pickle.loads(pickle.dumps(event)).revision == 3
    assert event._replace(key="b").revision == 3
    assert "revision=3" in repr(event)
    with pytest.raises(AttributeError):
        event.revision = 4  # type: ignore[misc]


def test_events_from_the_wire() -> None:
    f = EventFilter(prefix="a")
    owner = pb.ContainerInstance(service_name="svc", instance=0)
    put = event_from_proto(
        pb.Event(type=pb.PUT, kv=pb.KeyValue(key="ab", value=b"1", owner=owner, mod_revision=6)), f
    )
    assert put == Event("ab", ValueOwnerPair(b"1", "svc_0"), EventType.PUT, f)
    assert put.revision == 6
    deleted = event_from_proto(
        pb.Event(type=pb.DELETE, kv=pb.KeyValue(key="ab", mod_revision=7)), f
    )
    assert (deleted.result, deleted.event_type, deleted.revision) == (None, EventType.DELETE, 7)


_chars = st.sampled_from(
    ["a", "b", "\0", "\x7f", "\x80", "\xbf", "é", "\ud7ff", "\ue000", "\U0010ffff"]
)


@given(prefix=st.text(alphabet=_chars, max_size=3), key=st.text(alphabet=_chars, max_size=4))
def test_a_prefix_filter_matches_exactly_the_keys_with_the_prefix(prefix: str, key: str) -> None:
    assert EventFilter(prefix=prefix).matches(key, "PUT") == key.startswith(prefix)


@given(key=st.text(alphabet=_chars, max_size=4), other=st.text(alphabet=_chars, max_size=4))
def test_a_key_filter_matches_only_its_key(key: str, other: str) -> None:
    assert EventFilter(key=key).matches(other, "DELETE") == (key == other)
