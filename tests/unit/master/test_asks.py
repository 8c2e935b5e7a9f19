"""The ask table on the wire: ResourceRequest entries per request, and pending changes."""

from __future__ import annotations

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.master.actions import Ask
from skein.master.asks import ANY, DEFAULT_RACK, AskTable, resource_requests
from skein.spec import Resources

SIZE = Resources(memory=512, vcores=2)


def layout(requests: list[pb.ResourceRequestProto]) -> list[tuple[str, bool, int]]:
    return [(r.resource_name, r.relax_locality, r.num_containers) for r in requests]


def test_a_plain_request_is_one_entry_anywhere() -> None:
    (request,) = resource_requests(Ask(priority=7, resources=SIZE), 1)
    assert request.priority.priority == 7
    assert request.resource_name == ANY
    assert request.num_containers == 1
    assert request.relax_locality
    assert (request.capability.memory, request.capability.virtual_cores) == (512, 2)
    assert not request.HasField("node_label_expression")


def test_cancelling_sends_the_same_entries_with_zero() -> None:
    ask = Ask(priority=7, resources=SIZE, nodes=("n1",))
    assert [r.num_containers for r in resource_requests(ask, 0)] == [0, 0, 0]


def test_nodes_bring_their_racks_relaxed_as_the_request() -> None:
    ask = Ask(priority=1, resources=SIZE, nodes=("n1", "n2", "n1"), relax_locality=False)
    requests = resource_requests(ask, 1, {"n1": "/r1", "n2": "/r2"})
    assert layout(requests) == [
        ("n1", True, 1),
        ("n2", True, 1),
        ("/r1", False, 1),
        ("/r2", False, 1),
        (ANY, False, 1),
    ]


def test_unknown_nodes_are_on_the_default_rack() -> None:
    ask = Ask(priority=1, resources=SIZE, nodes=("n1",))
    assert [r.resource_name for r in resource_requests(ask, 1)] == ["n1", DEFAULT_RACK, ANY]


def test_named_racks_are_always_relaxed_and_not_repeated() -> None:
    ask = Ask(priority=1, resources=SIZE, nodes=("n1",), racks=("/r1",), relax_locality=False)
    assert layout(resource_requests(ask, 1, {"n1": "/r1"})) == [
        ("n1", True, 1),
        ("/r1", True, 1),
        (ANY, False, 1),
    ]


def test_the_node_label_goes_on_the_any_entry_only() -> None:
    ask = Ask(priority=1, resources=SIZE, nodes=("n1",), node_label="gpu")
    labels = [(r.resource_name, r.node_label_expression) for r in resource_requests(ask, 1)]
    assert labels == [("n1", ""), (DEFAULT_RACK, ""), (ANY, "gpu")]


def test_gpus_are_a_resource_type() -> None:
    ask = Ask(priority=1, resources=Resources(memory=1, vcores=1, gpus=2))
    (request,) = resource_requests(ask, 1)
    assert [(e.key, e.value) for e in request.capability.resource_value_map] == [("yarn.io/gpu", 2)]


def test_the_table_keeps_the_last_change_per_priority_oldest_first() -> None:
    table = AskTable()
    first, second = Ask(priority=2, resources=SIZE), Ask(priority=1, resources=SIZE)
    assert not table
    table.request(first)
    table.request(second)
    table.cancel(second)
    assert table
    sent = table.take()
    assert [(r.priority.priority, r.num_containers) for r in sent] == [(1, 0), (2, 1)]
    assert not table
    assert table.take() == []


def test_replace_all_drops_pending_changes() -> None:
    table = AskTable({"n1": "/r9"})
    table.cancel(Ask(priority=1, resources=SIZE))
    table.replace_all([Ask(priority=5, resources=SIZE, nodes=("n1",))])
    assert [(r.priority.priority, r.resource_name) for r in table.take()] == [
        (5, "n1"),
        (5, "/r9"),
        (5, ANY),
    ]
