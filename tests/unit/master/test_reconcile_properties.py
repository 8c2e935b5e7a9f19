"""Invariants of the master's decisions under any sequence of events (Hypothesis).

A random mix of allocations (matching, stray, duplicate, too small),
completions, launch results, user requests and clock ticks must never:
reuse an instance number, match an allocation twice, launch a YARN container
twice, revive a completed container, leave a REQUESTED container without its
own priority, reuse a priority, or act after the application finished.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from skein.master.actions import (
    Action,
    ContainerChanged,
    Finish,
    Launch,
    Release,
    RequestContainer,
    StopContainer,
)
from skein.master.containers import ContainerState
from skein.master.events import Allocation, Completion
from skein.master.reconcile import Reconciler
from skein.spec import ApplicationSpec

SERVICES = ("a", "b", "c")
EXIT_STATUSES = (0, 1, 143, -100, -104, -1000)


def spec(with_script: bool, restarts: Sequence[int], allow: Sequence[bool]) -> ApplicationSpec:
    small = {"memory": 128, "vcores": 1}
    return ApplicationSpec.from_dict(
        {
            "master": {"script": "driver" if with_script else ""},
            "services": {
                "a": {
                    "resources": small,
                    "script": "x",
                    "instances": 2,
                    "max_restarts": restarts[0],
                    "allow_failures": allow[0],
                },
                "b": {
                    "resources": {"memory": 256, "vcores": 2},
                    "script": "x",
                    "depends": ["a"],
                    "max_restarts": restarts[1],
                    "allow_failures": allow[1],
                },
                "c": {
                    "resources": small,
                    "script": "x",
                    "instances": 0,
                    "depends": ["b"],
                    "max_restarts": restarts[2],
                    "allow_failures": allow[2],
                },
            },
        }
    )


class ReconcilerMachine(RuleBasedStateMachine):
    """Random events against one Reconciler, with a record of everything it did."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1_000.0
        self.next_container = 2
        self.launched: set[str] = set()
        self.matched_priorities: set[int] = set()
        self.highest_priority = 0
        self.completed: dict[str, ContainerState] = {}
        self.finishes = 0

    @initialize(
        with_script=st.booleans(),
        restarts=st.lists(st.sampled_from([-1, 0, 1, 2]), min_size=3, max_size=3),
        allow=st.lists(st.booleans(), min_size=3, max_size=3),
        idle=st.sampled_from([0.0, 5.0, 60.0]),
    )
    def start(self, with_script: bool, restarts: list[int], allow: list[bool], idle: float) -> None:
        self.machine = Reconciler(spec(with_script, restarts, allow), idle_timeout=idle)
        self.check(self.machine.on_start(self.now))

    # -- bookkeeping ---------------------------------------------------------------

    def check(self, actions: list[Action]) -> None:
        finishes = [a for a in actions if isinstance(a, Finish)]
        if finishes:
            assert len(finishes) == 1
            assert actions[-1] is finishes[0]
            self.finishes += 1
            assert self.finishes == 1, "Finish must come once"
        for action in actions:
            if isinstance(action, RequestContainer):
                assert action.ask.priority > self.highest_priority, "priority reused"
                self.highest_priority = action.ask.priority
            elif isinstance(action, Launch):
                container_id = action.container.yarn_container_id
                assert container_id not in self.launched, "launched twice"
                self.launched.add(container_id)
            elif isinstance(action, StopContainer):
                assert action.yarn_container_id in self.launched, "stopping a stranger"
            elif isinstance(action, ContainerChanged):
                container = action.container
                previous = self.completed.get(container.id)
                assert previous is None, f"{container.id} changed after it completed"
                if not container.state.is_active:
                    self.completed[container.id] = container.state

    def yarn_ids(self) -> list[str]:
        return sorted({c.yarn_container_id for c in self.machine.containers()} - {""})

    # -- events --------------------------------------------------------------------

    @rule(data=st.data(), kind=st.sampled_from(["match", "stray", "small", "repeat"]))
    def allocate(self, data: st.DataObject, kind: str) -> None:
        outstanding = self.machine.outstanding_asks()
        if kind == "stray" or not outstanding:
            priority, memory = data.draw(st.integers(0, 100)), 4096
        elif kind == "repeat" and self.matched_priorities:
            priority, memory = data.draw(st.sampled_from(sorted(self.matched_priorities))), 4096
        else:
            ask = data.draw(st.sampled_from(outstanding))
            priority = ask.priority
            memory = ask.resources.memory - 1 if kind == "small" else ask.resources.memory
        grant = Allocation(
            yarn_container_id=f"container_1_0001_01_{self.next_container:06d}",
            priority=priority,
            memory=memory,
        )
        self.next_container += 1
        actions = self.machine.on_allocated([grant], self.now)
        launches = [a for a in actions if isinstance(a, Launch)]
        releases = [a for a in actions if isinstance(a, Release)]
        assert len(launches) + len(releases) == 1, "each allocation is used or released"
        if launches:
            assert priority not in self.matched_priorities, "a request matched twice"
            self.matched_priorities.add(priority)
        self.check(actions)

    @rule(data=st.data(), status=st.sampled_from(EXIT_STATUSES))
    def complete(self, data: st.DataObject, status: int) -> None:
        known = self.yarn_ids()
        target = data.draw(st.sampled_from(known)) if known else "container_1_0001_01_999999"
        completion = Completion(yarn_container_id=target, exit_status=status)
        self.check(self.machine.on_completed([completion], self.now))

    @precondition(lambda self: bool(self.yarn_ids()))
    @rule(data=st.data(), ok=st.booleans())
    def launch_result(self, data: st.DataObject, ok: bool) -> None:
        target = data.draw(st.sampled_from(self.yarn_ids()))
        if ok:
            self.check(self.machine.on_launched(target, self.now))
        else:
            self.check(self.machine.on_launch_failed(target, "refused", self.now))

    @rule(service=st.sampled_from(SERVICES), count=st.integers(0, 4))
    def scale(self, service: str, count: int) -> None:
        self.check(self.machine.scale(service, count=count, now=self.now))

    @rule(service=st.sampled_from(SERVICES))
    def add(self, service: str) -> None:
        self.check(self.machine.add_container(service, {"X": "1"}, now=self.now))

    @precondition(lambda self: bool(self.machine.containers()))
    @rule(data=st.data())
    def kill(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(self.machine.containers()))
        before = len(self.machine.containers(services=[target.service_name]))
        actions = self.machine.kill_container(target.id, now=self.now)
        after = len(self.machine.containers(services=[target.service_name]))
        assert before == after, "a killed container is not replaced"
        self.check(actions)

    @rule(seconds=st.floats(0, 30))
    def tick(self, seconds: float) -> None:
        self.now += seconds
        self.check(self.machine.on_tick(self.now))

    @rule(code=st.sampled_from([0, 1, 143]))
    def script_exits(self, code: int) -> None:
        self.check(self.machine.on_master_script_exited(code, self.now))

    @rule()
    def resync(self) -> None:
        actions = self.machine.on_resync()
        assert [a.ask for a in actions if isinstance(a, RequestContainer)] == (
            self.machine.outstanding_asks()
        )

    # -- invariants ----------------------------------------------------------------

    @invariant()
    def instances_are_numbered_from_zero_without_gaps(self) -> None:
        for service in SERVICES:
            containers = self.machine.containers(services=[service])
            assert [c.instance for c in containers] == list(range(len(containers)))

    @invariant()
    def each_requested_container_has_its_own_priority(self) -> None:
        asks = self.machine.outstanding_asks()
        requested = self.machine.containers(states=[ContainerState.REQUESTED])
        assert len({ask.priority for ask in asks}) == len(asks) == len(requested)

    @invariant()
    def yarn_containers_belong_to_one_container_each(self) -> None:
        ids = [c.yarn_container_id for c in self.machine.containers() if c.yarn_container_id]
        assert len(ids) == len(set(ids))
        for container in self.machine.containers(states=[ContainerState.RUNNING]):
            assert container.yarn_container_id in self.launched

    @invariant()
    def the_end_leaves_nothing_active(self) -> None:
        if self.machine.finished is not None:
            assert not self.machine.containers(
                states=[ContainerState.WAITING, ContainerState.REQUESTED, ContainerState.RUNNING]
            )
            assert not self.machine.busy
            assert self.machine.outstanding_asks() == []

    @invariant()
    def dependents_wait_while_a_has_initial_requests(self) -> None:
        a_pending = any(
            c.state in (ContainerState.WAITING, ContainerState.REQUESTED)
            for c in self.machine.containers(services=["a"])[:2]
        )
        if a_pending:
            for container in self.machine.containers(services=["b", "c"]):
                assert container.state in (ContainerState.WAITING, ContainerState.KILLED)


TestReconcilerInvariants = ReconcilerMachine.TestCase
TestReconcilerInvariants.settings = settings(
    max_examples=300, stateful_step_count=40, deadline=None
)
