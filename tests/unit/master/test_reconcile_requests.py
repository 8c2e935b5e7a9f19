"""What users may ask of a running application: scale, add, kill, shut down."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import pytest

from skein.master.actions import (
    Action,
    Ask,
    CancelRequest,
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
from skein.spec import ApplicationSpec
from skein.yarn.enums import FinalStatus

A = TypeVar("A")
SMALL = {"memory": 128, "vcores": 1}
T0 = 1_700_000_000.0


def make(script: str = "", **services: dict[str, Any]) -> Reconciler:
    spec = {
        "master": {"script": script},
        "services": {
            name: {"resources": SMALL, "script": "run", **options}
            for name, options in services.items()
        },
    }
    return Reconciler(ApplicationSpec.from_dict(spec))


def of(kind: type[A], actions: Sequence[Action]) -> list[A]:
    return [action for action in actions if isinstance(action, kind)]


def asks(actions: Sequence[Action]) -> list[Ask]:
    return [action.ask for action in of(RequestContainer, actions)]


def cid(n: int) -> str:
    return f"container_1700000000000_0001_01_{n:06d}"


def grant(ask: Ask, n: int) -> Allocation:
    return Allocation(yarn_container_id=cid(n), priority=ask.priority, memory=128)


def states(machine: Reconciler) -> dict[str, ContainerState]:
    return {c.id: c.state for c in machine.containers()}


def running_app(script: str = "driver", instances: int = 3) -> Reconciler:
    """web_0..web_{n-1} all RUNNING and launched (cid 2, 3, ...), allocated a second apart."""
    machine = make(script=script, web={"instances": instances})
    for n, ask in enumerate(asks(machine.on_start(T0)), start=2):
        machine.on_allocated([grant(ask, n)], T0 + n)
        machine.on_launched(cid(n), T0 + n)
    return machine


# -- scale ---------------------------------------------------------------------------


def test_scale_up_adds_new_instances() -> None:
    machine = running_app(instances=1)
    actions = machine.scale("web", count=3, now=T0)
    assert [(c.id, c.state) for c in changed_containers(actions)] == [
        ("web_1", ContainerState.REQUESTED),
        ("web_2", ContainerState.REQUESTED),
    ]
    assert len(asks(actions)) == 2


def test_scale_by_delta() -> None:
    machine = running_app(instances=2)
    assert len(changed_containers(machine.scale("web", delta=2, now=T0))) == 2
    assert len(machine.containers(states=[ContainerState.REQUESTED])) == 2
    assert len(changed_containers(machine.scale("web", delta=-1, now=T0))) == 1


def test_scale_down_kills_waiting_then_requested_then_oldest_running() -> None:
    machine = make(script="driver", a={}, b={"instances": 3, "depends": ["a"]})
    (ask_a,) = asks(machine.on_start(T0))
    machine.add_container("b", now=T0)  # b_3, also waiting
    assert states(machine)["b_3"] is ContainerState.WAITING
    machine.on_allocated([grant(ask_a, 2)], T0)  # b_0..b_3 requested now
    b0, _b1, b2, _b3 = machine.outstanding_asks()
    machine.on_allocated([grant(b2, 3)], T0 + 1)  # b_2 runs, oldest
    machine.on_allocated([grant(b0, 4)], T0 + 2)  # b_0 runs
    machine.add_container("b", now=T0)  # b_4 requested
    killed = [c.id for c in changed_containers(machine.scale("b", count=0, now=T0))]
    assert killed == ["b_1", "b_3", "b_4", "b_2", "b_0"]


def test_scale_down_kills_waiting_ones_first() -> None:
    machine = make(script="driver", a={}, b={"instances": 2, "depends": ["a"]})
    machine.on_start(T0)
    killed = changed_containers(machine.scale("b", count=1, now=T0))
    assert [(c.id, c.state) for c in killed] == [("b_0", ContainerState.KILLED)]


def test_scale_down_of_requested_cancels_the_request() -> None:
    machine = make(script="driver", web={"instances": 2})
    first, second = asks(machine.on_start(T0))
    actions = machine.scale("web", count=1, now=T0)
    assert of(CancelRequest, actions) == [CancelRequest(first)]
    assert machine.outstanding_asks() == [second]


def test_scale_down_of_running_stops_the_oldest() -> None:
    machine = running_app(instances=3)
    actions = machine.scale("web", count=2, now=T0 + 10)
    assert of(StopContainer, actions) == [StopContainer(cid(2))]
    (killed,) = changed_containers(actions)
    assert (killed.id, killed.state, killed.exit_message) == (
        "web_0",
        ContainerState.KILLED,
        "Killed by user request.",
    )
    assert killed.finish_time is not None
    assert killed.finish_time.timestamp() == T0 + 10


def test_scale_below_zero_by_delta_means_zero() -> None:
    machine = running_app(instances=2)
    assert len(changed_containers(machine.scale("web", delta=-10, now=T0))) == 2


def test_scale_to_the_current_count_does_nothing() -> None:
    assert running_app(instances=2).scale("web", count=2, now=T0) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"count": 1, "delta": 1}, "exactly one"),
        ({"count": -1}, "count must be >= 0"),
    ],
)
def test_scale_checks_its_arguments(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        running_app().scale("web", now=T0, **kwargs)


def test_scale_of_an_unknown_service_fails() -> None:
    with pytest.raises(ValueError, match="unknown service 'db'"):
        running_app().scale("db", count=1, now=T0)


def test_scaling_to_zero_without_a_master_script_ends_the_application() -> None:
    machine = running_app(script="", instances=1)
    actions = machine.scale("web", count=0, now=T0)
    assert actions[-1] == Finish(FinalStatus.SUCCEEDED, "Application completed successfully.")


# -- add_container -------------------------------------------------------------------


def test_added_containers_carry_their_env_into_the_launch() -> None:
    machine = running_app(instances=1)
    (ask,) = asks(machine.add_container("web", {"ROLE": "extra"}, now=T0))
    (launch,) = of(Launch, machine.on_allocated([grant(ask, 9)], T0))
    assert dict(launch.env) == {"ROLE": "extra"}
    assert launch.container.id == "web_1"


def test_a_restart_keeps_the_added_containers_env() -> None:
    machine = make(script="driver", web={"instances": 0, "max_restarts": 1})
    machine.on_start(T0)
    (ask,) = asks(machine.add_container("web", {"ROLE": "extra"}, now=T0))
    machine.on_allocated([grant(ask, 2)], T0)
    actions = machine.on_completed([Completion(yarn_container_id=cid(2), exit_status=1)], T0)
    (again,) = asks(actions)
    (launch,) = of(Launch, machine.on_allocated([grant(again, 3)], T0))
    assert dict(launch.env) == {"ROLE": "extra"}


def test_add_container_to_an_unknown_service_fails() -> None:
    with pytest.raises(ValueError, match="unknown service"):
        running_app().add_container("nope", now=T0)


# -- kill_container ------------------------------------------------------------------


def test_kill_a_running_container_stops_it() -> None:
    machine = running_app()
    actions = machine.kill_container("web_1", now=T0)
    assert of(StopContainer, actions) == [StopContainer(cid(3))]
    assert states(machine)["web_1"] is ContainerState.KILLED
    # Its completion, when YARN reports it, changes nothing.
    assert machine.on_completed([Completion(yarn_container_id=cid(3), exit_status=-105)], T0) == []


def test_kill_a_container_being_launched_releases_it() -> None:
    machine = make(script="driver", web={})
    (ask,) = asks(machine.on_start(T0))
    machine.on_allocated([grant(ask, 2)], T0)
    actions = machine.kill_container("web_0", now=T0)
    assert of(Release, actions) == [Release(cid(2), "web_0 killed")]
    assert not of(StopContainer, actions)
    assert not machine.busy


def test_kill_does_not_restart() -> None:
    machine = make(script="driver", web={"max_restarts": -1})
    (ask,) = asks(machine.on_start(T0))
    assert not asks(machine.kill_container("web_0", now=T0))
    assert machine.outstanding_asks() == []
    assert of(Release, machine.on_allocated([grant(ask, 2)], T0))


def test_killing_a_completed_container_is_a_no_op() -> None:
    machine = running_app()
    machine.kill_container("web_0", now=T0)
    assert machine.kill_container("web_0", now=T0 + 1) == []
    assert machine.container("web_0").finish_time is not None
    assert machine.container("web_0").finish_time.timestamp() == T0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("container_id", "message"),
    [
        ("web", "invalid container id"),
        ("db_0", "unknown service 'db'"),
        ("web_7", "has no container instance 7"),
    ],
)
def test_kill_refuses_unknown_containers(container_id: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        running_app().kill_container(container_id, now=T0)


def test_killing_the_last_container_without_script_ends_the_application() -> None:
    machine = running_app(script="", instances=1)
    actions = machine.kill_container("web_0", now=T0)
    assert isinstance(actions[-1], Finish)
    assert actions[-1].status is FinalStatus.SUCCEEDED


# -- shutdown ------------------------------------------------------------------------


def test_shutdown_ends_with_the_users_status_and_stops_everything() -> None:
    machine = running_app()
    actions = machine.shutdown("failed", "the driver gave up", now=T0)
    assert actions[-1] == Finish(FinalStatus.FAILED, "the driver gave up")
    assert len(of(StopContainer, actions)) == 3
    assert machine.finished == actions[-1]


def test_shutdown_has_a_default_message() -> None:
    actions = running_app().shutdown(FinalStatus.SUCCEEDED, now=T0)
    assert actions[-1] == Finish(FinalStatus.SUCCEEDED, "Shutdown requested by user.")


@pytest.mark.parametrize("status", ["UNDEFINED", "ENDED", "bogus"])
def test_shutdown_refuses_other_statuses(status: str) -> None:
    with pytest.raises(ValueError, match="status"):
        running_app().shutdown(status, now=T0)


def test_after_shutdown_requests_change_nothing() -> None:
    machine = running_app()
    machine.shutdown("SUCCEEDED", now=T0)
    assert machine.shutdown("FAILED", now=T0) == []
    assert machine.scale("web", count=5, now=T0) == []
    assert machine.add_container("web", now=T0) == []
    assert machine.kill_container("web_0", now=T0) == []
    assert machine.finished == Finish(FinalStatus.SUCCEEDED, "Shutdown requested by user.")


# -- queries -------------------------------------------------------------------------


def test_containers_filter_by_service_and_state() -> None:
    machine = make(script="driver", a={"instances": 2}, b={})
    first, *_ = asks(machine.on_start(T0))
    machine.on_allocated([grant(first, 2)], T0)
    assert [c.id for c in machine.containers(services=["a"])] == ["a_0", "a_1"]
    running = machine.containers(states=[ContainerState.RUNNING])
    assert [c.id for c in running] == ["a_0"]
    with pytest.raises(ValueError, match="unknown service"):
        machine.containers(services=["zzz"])


def test_container_lookup() -> None:
    machine = running_app()
    assert machine.container("web_2").yarn_container_id == cid(4)
    with pytest.raises(ValueError, match="no container instance 3"):
        machine.container("web_3")
