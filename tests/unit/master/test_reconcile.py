"""The master's decisions over a container's life: requests, allocations, completions, the end.

Each test drives a :class:`Reconciler` with events and a fake clock and
checks the actions it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import pytest

from skein.master.actions import (
    Action,
    Ask,
    CancelRequest,
    ContainerChanged,
    Finish,
    Launch,
    Release,
    RequestContainer,
    StopContainer,
    changed_containers,
)
from skein.master.containers import ContainerState
from skein.master.events import Allocation, Completion
from skein.master.reconcile import Reconciler
from skein.spec import ApplicationSpec, Resources
from skein.yarn.enums import FinalStatus

A = TypeVar("A")
SMALL = {"memory": 128, "vcores": 1}
T0 = 1_700_000_000.0


def make(script: str = "", idle: float = 60.0, **services: dict[str, Any]) -> Reconciler:
    spec = {
        "master": {"script": script},
        "services": {
            name: {"resources": SMALL, "script": "run", **options}
            for name, options in services.items()
        },
    }
    return Reconciler(ApplicationSpec.from_dict(spec), idle_timeout=idle)


def of(kind: type[A], actions: Sequence[Action]) -> list[A]:
    return [action for action in actions if isinstance(action, kind)]


def asks(actions: Sequence[Action]) -> list[Ask]:
    return [action.ask for action in of(RequestContainer, actions)]


def cid(n: int) -> str:
    return f"container_1700000000000_0001_01_{n:06d}"


def grant(ask: Ask, n: int, memory: int | None = None) -> Allocation:
    return Allocation(
        yarn_container_id=cid(n),
        priority=ask.priority,
        memory=ask.resources.memory if memory is None else memory,
        node_http_address="node1:8042",
    )


def exited(n: int, status: int = 0, diagnostics: str = "") -> Completion:
    return Completion(yarn_container_id=cid(n), exit_status=status, diagnostics=diagnostics)


def finish(actions: Sequence[Action]) -> Finish | None:
    found = of(Finish, actions)
    assert len(found) <= 1
    assert not found or actions[-1] is found[0], "Finish must come last"
    return found[0] if found else None


def states(machine: Reconciler) -> dict[str, ContainerState]:
    return {c.id: c.state for c in machine.containers()}


def run_one(machine: Reconciler, service: str = "app") -> tuple[Ask, list[Action]]:
    """Start a one-container application and allocate its container as cid(2)."""
    (ask,) = asks(machine.on_start(T0))
    return ask, machine.on_allocated([grant(ask, 2)], T0 + 1)


# -- requests ---------------------------------------------------------------------


def test_start_requests_every_initial_container() -> None:
    machine = make(app={"instances": 3})
    actions = machine.on_start(T0)
    assert len(asks(actions)) == 3
    assert [c.id for c in changed_containers(actions)] == ["app_0", "app_1", "app_2"]
    assert set(states(machine).values()) == {ContainerState.REQUESTED}


def test_each_request_gets_its_own_increasing_priority() -> None:
    machine = make(a={"instances": 2}, b={"instances": 2})
    priorities = [ask.priority for ask in asks(machine.on_start(T0))]
    assert priorities == sorted(priorities)
    assert len(set(priorities)) == 4


def test_request_carries_the_services_resources_and_label() -> None:
    machine = make(app={"resources": {"memory": 512, "vcores": 2, "gpus": 1}, "node_label": "gpu"})
    (ask,) = asks(machine.on_start(T0))
    assert ask.resources == Resources(memory=512, vcores=2, gpus=1)
    assert ask.node_label == "gpu"


def test_locality_is_relaxed_when_no_nodes_or_racks_are_named() -> None:
    (ask,) = asks(make(app={"relax_locality": False}).on_start(T0))
    assert ask.relax_locality is True
    assert (ask.nodes, ask.racks) == ((), ())


def test_strict_locality_is_kept_with_nodes() -> None:
    machine = make(app={"nodes": ["worker1"], "racks": ["/r1"], "relax_locality": False})
    (ask,) = asks(machine.on_start(T0))
    assert (ask.nodes, ask.racks, ask.relax_locality) == (("worker1",), ("/r1",), False)


def test_zero_instances_request_nothing() -> None:
    machine = make(app={"instances": 0})
    assert machine.on_start(T0) == []
    assert machine.containers() == []


def test_starting_twice_is_a_bug() -> None:
    machine = make(app={})
    machine.on_start(T0)
    with pytest.raises(RuntimeError):
        machine.on_start(T0)


def test_outstanding_asks_are_the_whole_table_oldest_first() -> None:
    machine = make(a={"instances": 2}, b={})
    requested = asks(machine.on_start(T0))
    assert machine.outstanding_asks() == requested
    machine.on_allocated([grant(requested[0], 2)], T0)
    assert machine.outstanding_asks() == requested[1:]


def test_resync_resends_every_outstanding_request() -> None:
    machine = make(app={"instances": 2})
    requested = asks(machine.on_start(T0))
    assert machine.on_resync() == [RequestContainer(ask) for ask in requested]


# -- allocations -------------------------------------------------------------------


def test_an_allocation_launches_its_container() -> None:
    machine = make(app={"env": {"A": "1"}})
    ask, actions = run_one(machine)
    (launch,) = of(Launch, actions)
    assert launch.container.id == "app_0"
    assert launch.container.yarn_container_id == cid(2)
    assert launch.container.yarn_node_http_address == "node1:8042"
    assert launch.container.state is ContainerState.RUNNING
    assert launch.resources == ask.resources
    assert dict(launch.env) == {}  # the service's own env is the driver's to add
    assert of(CancelRequest, actions) == [CancelRequest(ask)]
    assert states(machine) == {"app_0": ContainerState.RUNNING}


def test_the_start_time_is_the_allocation_time() -> None:
    machine = make(app={})
    run_one(machine)
    (container,) = machine.containers()
    assert container.start_time is not None
    assert container.start_time.timestamp() == T0 + 1


def test_allocations_match_requests_by_priority() -> None:
    machine = make(a={}, b={"resources": {"memory": 256, "vcores": 1}})
    ask_a, ask_b = asks(machine.on_start(T0))
    actions = machine.on_allocated([grant(ask_b, 5), grant(ask_a, 6)], T0)
    launched = {
        launch.container.id: launch.container.yarn_container_id for launch in of(Launch, actions)
    }
    assert launched == {"a_0": cid(6), "b_0": cid(5)}


def test_an_allocation_for_no_request_is_released() -> None:
    machine = make(app={})
    (ask,) = asks(machine.on_start(T0))
    stray = Allocation(yarn_container_id=cid(9), priority=ask.priority + 100, memory=128)
    actions = machine.on_allocated([stray], T0)
    assert of(Release, actions) == [Release(cid(9), "no outstanding request at priority 101")]
    assert not of(Launch, actions)


def test_a_second_allocation_for_one_request_is_released() -> None:
    machine = make(app={})
    (ask,) = asks(machine.on_start(T0))
    actions = machine.on_allocated([grant(ask, 2), grant(ask, 3)], T0)
    assert [launch.container.yarn_container_id for launch in of(Launch, actions)] == [cid(2)]
    assert [release.yarn_container_id for release in of(Release, actions)] == [cid(3)]


def test_too_little_memory_is_released_and_asked_for_again_under_a_new_priority() -> None:
    machine = make(app={"resources": {"memory": 1024, "vcores": 1}})
    (ask,) = asks(machine.on_start(T0))
    actions = machine.on_allocated([grant(ask, 2, memory=512)], T0)
    assert [r.yarn_container_id for r in of(Release, actions)] == [cid(2)]
    (again,) = asks(actions)
    assert again.priority > ask.priority
    assert again.resources == ask.resources
    assert states(machine) == {"app_0": ContainerState.REQUESTED}
    # A late answer to the old priority is surplus.
    late = machine.on_allocated([grant(ask, 3)], T0)
    assert [r.yarn_container_id for r in of(Release, late)] == [cid(3)]
    assert of(Launch, machine.on_allocated([grant(again, 4)], T0))


def test_more_memory_or_other_vcores_are_fine() -> None:
    machine = make(app={"resources": {"memory": 1024, "vcores": 4}})
    (ask,) = asks(machine.on_start(T0))
    bigger = Allocation(yarn_container_id=cid(2), priority=ask.priority, memory=2048, vcores=1)
    (launch,) = of(Launch, machine.on_allocated([bigger], T0))
    assert launch.resources == Resources(memory=1024, vcores=4)  # what was asked


def test_busy_while_requested_or_launching() -> None:
    machine = make(app={})
    busy = [machine.busy]
    (ask,) = asks(machine.on_start(T0))
    busy.append(machine.busy)
    machine.on_allocated([grant(ask, 2)], T0)
    busy.append(machine.busy)  # launching
    assert machine.on_launched(cid(2), T0) == []
    busy.append(machine.busy)
    assert busy == [False, True, True, False]


# -- completions -------------------------------------------------------------------


def test_exit_zero_succeeds_and_ends_an_application_without_script() -> None:
    machine = make(app={})
    run_one(machine)
    actions = machine.on_completed([exited(2)], T0 + 5)
    (changed,) = changed_containers(actions)
    assert changed.state is ContainerState.SUCCEEDED
    assert changed.exit_message == "Completed successfully."
    assert changed.finish_time is not None
    assert changed.finish_time.timestamp() == T0 + 5
    assert finish(actions) == Finish(FinalStatus.SUCCEEDED, "Application completed successfully.")


def test_the_application_runs_while_any_container_is_active() -> None:
    machine = make(app={"instances": 2})
    first, second = asks(machine.on_start(T0))
    machine.on_allocated([grant(first, 2), grant(second, 3)], T0)
    assert finish(machine.on_completed([exited(2)], T0)) is None
    assert machine.finished is None
    assert finish(machine.on_completed([exited(3)], T0)) is not None


def test_completions_of_unknown_containers_are_ignored() -> None:
    machine = make(app={})
    run_one(machine)
    assert machine.on_completed([exited(99, 1)], T0) == []


def test_a_failure_without_restarts_fails_the_application_naming_the_service() -> None:
    machine = make(broken={})
    run_one(machine, "broken")
    actions = machine.on_completed([exited(2, 3)], T0)
    assert changed_containers(actions)[0].state is ContainerState.FAILED
    result = finish(actions)
    assert result is not None
    assert result.status is FinalStatus.FAILED
    assert result.diagnostics.startswith("Failure in service broken")
    assert "broken_0: Container failed during execution (exit code 3)" in result.diagnostics


def test_yarns_reason_reaches_the_applications_diagnostics() -> None:
    machine = make(unlucky={})
    run_one(machine)
    actions = machine.on_completed(
        [exited(2, -1000, "Resource hdfs://nn/x changed on src filesystem")], T0
    )
    result = finish(actions)
    assert result is not None
    assert "changed on src filesystem" in result.diagnostics


def test_a_failed_container_is_replaced_by_a_new_instance_with_the_same_env() -> None:
    machine = make(flaky={"max_restarts": 2})
    (ask,) = asks(machine.on_start(T0))
    machine.on_allocated([grant(ask, 2)], T0)
    actions = machine.on_completed([exited(2, 1)], T0)
    assert finish(actions) is None
    (replacement,) = asks(actions)
    assert replacement.priority > ask.priority
    assert [(c.id, c.state) for c in changed_containers(actions)] == [
        ("flaky_0", ContainerState.FAILED),
        ("flaky_1", ContainerState.REQUESTED),
    ]


def test_the_restart_budget_is_shared_by_the_service() -> None:
    machine = make(flaky={"instances": 2, "max_restarts": 1})
    a, b = asks(machine.on_start(T0))
    machine.on_allocated([grant(a, 2), grant(b, 3)], T0)
    first = machine.on_completed([exited(2, 1)], T0)
    assert len(asks(first)) == 1
    second = machine.on_completed([exited(3, 1)], T0)
    result = finish(second)
    assert result is not None
    assert result.status is FinalStatus.FAILED


def test_unlimited_restarts() -> None:
    machine = make(flaky={"max_restarts": -1})
    (ask,) = asks(machine.on_start(T0))
    for n in range(2, 30):
        machine.on_allocated([grant(ask, n)], T0)
        actions = machine.on_completed([exited(n, 1)], T0)
        assert finish(actions) is None
        (ask,) = asks(actions)
    assert machine.containers()[-1].id == "flaky_28"


def test_allow_failures_keeps_the_application_going_and_successful() -> None:
    machine = make(flaky={"allow_failures": True}, steady={})
    flaky, steady = asks(machine.on_start(T0))
    machine.on_allocated([grant(flaky, 2), grant(steady, 3)], T0)
    assert finish(machine.on_completed([exited(2, 1)], T0)) is None
    result = finish(machine.on_completed([exited(3)], T0))
    assert result is not None
    assert result.status is FinalStatus.SUCCEEDED


def test_a_launch_failure_fails_the_container_and_gives_it_back() -> None:
    machine = make(app={"max_restarts": 1})
    run_one(machine)
    actions = machine.on_launch_failed(cid(2), "NMToken expired", T0)
    assert of(Release, actions) == [Release(cid(2), "app_0 failed to start")]
    failed = changed_containers(actions)[0]
    assert failed.state is ContainerState.FAILED
    assert failed.exit_message == "Failed to start: NMToken expired"
    assert len(asks(actions)) == 1  # restarted


def test_a_completion_after_a_launch_failure_is_ignored() -> None:
    machine = make(app={"max_restarts": 1})
    run_one(machine)
    machine.on_launch_failed(cid(2), "boom", T0)
    assert machine.on_completed([exited(2, -100)], T0) == []


def test_a_late_launch_confirmation_changes_nothing() -> None:
    machine = make(app={})
    run_one(machine)
    machine.on_completed([exited(2)], T0)
    assert machine.on_launched(cid(2), T0) == []
    assert machine.on_launch_failed(cid(2), "late", T0) == []


# -- dependencies ------------------------------------------------------------------


def test_dependents_wait_until_their_dependency_is_allocated() -> None:
    machine = make(first={"instances": 2}, second={"depends": ["first"]})
    actions = machine.on_start(T0)
    assert states(machine)["second_0"] is ContainerState.WAITING
    a, b = asks(actions)
    assert not asks(machine.on_allocated([grant(a, 2)], T0))
    later = machine.on_allocated([grant(b, 3)], T0)
    assert [c.id for c in changed_containers(later) if c.state == "REQUESTED"] == ["second_0"]
    assert len(asks(later)) == 1


def test_readiness_is_signalled_once() -> None:
    machine = make(first={"max_restarts": 1}, second={"depends": ["first"]})
    (a,) = asks(machine.on_start(T0))
    (b,) = asks(machine.on_allocated([grant(a, 2)], T0))
    actions = machine.on_completed([exited(2, 1)], T0)
    assert [c.id for c in changed_containers(actions)] == ["first_0", "first_1"]
    assert b not in asks(actions)
    assert states(machine)["second_0"] is ContainerState.REQUESTED


def test_dependency_chains_start_in_order() -> None:
    machine = make(a={}, b={"depends": ["a"]}, c={"depends": ["b"]})
    (ask_a,) = asks(machine.on_start(T0))
    (ask_b,) = asks(machine.on_allocated([grant(ask_a, 2)], T0))
    assert states(machine)["c_0"] is ContainerState.WAITING
    (ask_c,) = asks(machine.on_allocated([grant(ask_b, 3)], T0))
    assert of(Launch, machine.on_allocated([grant(ask_c, 4)], T0))


def test_a_dependency_without_containers_starts_once_its_own_dependencies_have() -> None:
    machine = make(a={}, b={"instances": 0, "depends": ["a"]}, c={"depends": ["b"]})
    (ask_a,) = asks(machine.on_start(T0))
    assert states(machine)["c_0"] is ContainerState.WAITING
    assert len(asks(machine.on_allocated([grant(ask_a, 2)], T0))) == 1
    assert states(machine)["c_0"] is ContainerState.REQUESTED


def test_a_service_with_several_dependencies_waits_for_all() -> None:
    machine = make(a={}, b={}, c={"depends": ["a", "b"]})
    ask_a, ask_b = asks(machine.on_start(T0))
    assert not asks(machine.on_allocated([grant(ask_a, 2)], T0))
    assert len(asks(machine.on_allocated([grant(ask_b, 3)], T0))) == 1


def test_containers_added_while_waiting_are_requested_with_the_rest() -> None:
    machine = make(a={}, b={"depends": ["a"]})
    (ask_a,) = asks(machine.on_start(T0))
    machine.add_container("b", now=T0)
    assert len(asks(machine.on_allocated([grant(ask_a, 2)], T0))) == 2


def test_killing_a_dependencys_requested_initial_container_releases_dependents() -> None:
    machine = make(a={"instances": 2}, b={"depends": ["a"]})
    ask_a0, _ = asks(machine.on_start(T0))
    machine.on_allocated([grant(ask_a0, 2)], T0)
    actions = machine.kill_container("a_1", now=T0)
    assert len(asks(actions)) == 1
    assert states(machine)["b_0"] is ContainerState.REQUESTED


# -- the end -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "words"),
    [
        (0, FinalStatus.SUCCEEDED, "completed successfully"),
        (1, FinalStatus.FAILED, "exit code 1"),
        (143, FinalStatus.FAILED, "master.resources.memory"),
    ],
)
def test_the_master_script_decides(code: int, status: FinalStatus, words: str) -> None:
    machine = make(script="python driver.py", app={"instances": 0})
    machine.on_start(T0)
    result = finish(machine.on_master_script_exited(code, T0 + 1))
    assert result is not None
    assert result.status is status
    assert words in result.diagnostics


def test_with_a_master_script_completed_services_do_not_end_the_application() -> None:
    machine = make(script="python driver.py", app={})
    run_one(machine)
    assert finish(machine.on_completed([exited(2)], T0)) is None


def test_with_a_master_script_a_failed_service_still_fails_the_application() -> None:
    machine = make(script="python driver.py", app={})
    run_one(machine)
    result = finish(machine.on_completed([exited(2, 1)], T0))
    assert result is not None
    assert result.status is FinalStatus.FAILED


def test_the_master_script_ending_stops_running_services() -> None:
    machine = make(script="python driver.py", web={"instances": 2})
    a, b = asks(machine.on_start(T0))
    machine.on_allocated([grant(a, 2)], T0)
    machine.on_launched(cid(2), T0)
    actions = machine.on_master_script_exited(0, T0)
    assert of(StopContainer, actions) == [StopContainer(cid(2))]
    assert of(CancelRequest, actions) == [CancelRequest(b)]
    assert set(states(machine).values()) == {ContainerState.KILLED}
    assert {c.exit_message for c in machine.containers()} == {
        "Stopped when the application finished."
    }


def test_nothing_to_run_ends_after_the_grace_period() -> None:
    machine = make(idle=60, app={"instances": 0})
    assert machine.on_start(T0) == []
    assert machine.on_tick(T0 + 59.9) == []
    result = finish(machine.on_tick(T0 + 60))
    assert result is not None
    assert result.status is FinalStatus.SUCCEEDED
    assert result.diagnostics.startswith("Nothing was asked to run")
    assert "SKEIN_IDLE_TIMEOUT" in result.diagnostics


def test_a_zero_grace_period_ends_at_once() -> None:
    result = finish(make(idle=0, app={"instances": 0}).on_start(T0))
    assert result is not None
    assert result.status is FinalStatus.SUCCEEDED


def test_no_grace_period_with_a_master_script() -> None:
    machine = make(script="sleep 100", idle=1, app={"instances": 0})
    machine.on_start(T0)
    assert machine.on_tick(T0 + 3600) == []


def test_a_container_added_during_the_grace_period_keeps_the_application() -> None:
    machine = make(idle=60, app={"instances": 0})
    machine.on_start(T0)
    (ask,) = asks(machine.add_container("app", now=T0 + 10))
    assert machine.on_tick(T0 + 120) == []
    machine.on_allocated([grant(ask, 2)], T0 + 121)
    result = finish(machine.on_completed([exited(2)], T0 + 130))
    assert result is not None
    assert result.diagnostics == "Application completed successfully."


def test_no_grace_check_before_the_start() -> None:
    assert make(idle=0, app={"instances": 0}).on_tick(T0) == []


def test_after_the_end_events_change_nothing_and_allocations_are_released() -> None:
    machine = make(script="x", app={"instances": 2})
    a, b = asks(machine.on_start(T0))
    machine.on_allocated([grant(a, 2)], T0)
    machine.on_master_script_exited(0, T0)
    assert machine.on_completed([exited(2, 1)], T0) == []
    assert machine.on_master_script_exited(1, T0) == []
    assert of(Release, machine.on_allocated([grant(b, 3)], T0)) == [
        Release(cid(3), f"no outstanding request at priority {b.priority}")
    ]
    assert machine.on_tick(T0 + 10_000) == []
    finished = machine.finished
    assert finished is not None
    assert finished.status is FinalStatus.SUCCEEDED
    assert not machine.busy


def test_container_changed_notices_follow_every_transition() -> None:
    machine = make(app={})
    seen = []
    (ask,) = asks(actions := machine.on_start(T0))
    seen += changed_containers(actions)
    seen += changed_containers(machine.on_allocated([grant(ask, 2)], T0))
    seen += changed_containers(machine.on_completed([exited(2)], T0))
    assert [c.state for c in seen] == ["REQUESTED", "RUNNING", "SUCCEEDED"]


def test_container_changed_snapshots_match_the_query() -> None:
    machine = make(app={"instances": 2})
    actions = machine.on_start(T0)
    assert [a.container for a in of(ContainerChanged, actions)] == machine.containers()
