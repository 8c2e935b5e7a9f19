"""The whole master against an in-memory ResourceManager and NodeManagers.

:class:`FakeCluster` is a scheduler channel and NodeManager factory in one:
it grants each ask on the next heartbeat, and "runs" a started container by
its environment (``EXIT`` is its exit status; ``STAY`` keeps it running until
stopped). The master script is real bash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from google.protobuf.message import Message

from skein._proto.hadoop import Security_pb2 as security_pb
from skein._proto.yarn import yarn_protos_pb2 as pb
from skein._proto.yarn import yarn_service_protos_pb2 as service_pb
from skein.errors import ConnectionError, RemoteError
from skein.hadoop.configuration import HadoopConfiguration
from skein.hadoop.credentials import Credentials, Token, read_credentials
from skein.hadoop.sasl import TokenCredential
from skein.master import runtime as runtime_module
from skein.master.context import AM_RM_TOKEN_KIND, MasterContext
from skein.master.node_managers import NodeManagers
from skein.master.runtime import EXIT_ATTEMPT_FAILED, EXIT_OK, MasterRuntime
from skein.master.scheduler_session import SchedulerSession
from skein.spec import ApplicationSpec
from skein.yarn.ids import ContainerId


async def eventually(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until ``condition()`` is true, polling every 10 ms."""
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never became true")


M = TypeVar("M", bound=Message)
APP = "application_1700000000000_0003"
AMRM = Token(b"amrm-id", b"amrm-pw", AM_RM_TOKEN_KIND, "rm:8030")
HDFS = Token(b"hdfs-id", b"hdfs-pw", "HDFS_DELEGATION_TOKEN", "nn:8020")
SMALL = {"memory": 128, "vcores": 1}


@pytest.fixture(autouse=True)
def quick_heartbeats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_module, "next_interval", lambda previous, busy: 0.01)
    monkeypatch.setattr(runtime_module, "BUSY_INTERVAL", 0.01)


class Connection:
    token: TokenCredential | None = TokenCredential(AMRM.identifier, AMRM.password)


class FakeCluster:
    """An in-memory ResourceManager (scheduler side) with NodeManagers."""

    def __init__(self) -> None:
        self.connections = [Connection()]
        self.methods: list[str] = []
        self.allocates: list[service_pb.AllocateRequestProto] = []
        self.wanted: dict[int, tuple[int, int]] = {}  # priority -> (count, memory)
        self.grant = True
        self.commands: list[int] = []  # a_m_command for the next allocate responses
        self.next_container = 2
        self.running: dict[str, pb.ContainerProto] = {}
        self.stays: set[str] = set()
        self.done: list[pb.ContainerStatusProto] = []
        self.started: dict[str, pb.ContainerLaunchContextProto] = {}
        self.stopped: list[str] = []
        self.released: list[str] = []
        self.refuse_starts = 0
        self.finished: service_pb.FinishApplicationMasterRequestProto | None = None
        self.nm_tokens_sent = False
        self.registered_at = 0
        self.refusal: Exception | None = None

    # -- the scheduler channel ---------------------------------------------------------

    async def call(
        self, method: str, request: Any, response_type: type[M], *, timeout: float | None = None
    ) -> M:
        self.methods.append(method)
        if method == "registerApplicationMaster":
            self.registered_at = len(self.allocates)
            answer: Message = service_pb.RegisterApplicationMasterResponseProto(
                maximumCapability=pb.ResourceProto(memory=8192, virtual_cores=8)
            )
        elif method == "allocate":
            answer = self._allocate(request)
        else:
            self.finished = request
            answer = service_pb.FinishApplicationMasterResponseProto(isUnregistered=True)
        assert isinstance(answer, response_type)
        return answer

    def _allocate(self, request: service_pb.AllocateRequestProto) -> Message:
        self.allocates.append(request)
        if self.refusal is not None:
            raise self.refusal
        if self.commands:
            command = self.commands.pop(0)
            if command == pb.AM_RESYNC:
                self.wanted.clear()  # a restarted ResourceManager forgot the asks
            return service_pb.AllocateResponseProto(a_m_command=command)  # type: ignore[arg-type]
        for entry in request.ask:
            if entry.resource_name == "*":
                self.wanted[entry.priority.priority] = (
                    entry.num_containers,
                    entry.capability.memory,
                )
        for container_id in request.release:
            name = str(ContainerId.from_proto(container_id))
            self.released.append(name)
            self._complete(name, -100, "Container released by the application")
        response = service_pb.AllocateResponseProto(response_id=request.response_id + 1)
        if self.grant:
            for priority, (count, memory) in sorted(self.wanted.items()):
                for _ in range(count):
                    response.allocated_containers.append(self._container(priority, memory))
                self.wanted[priority] = (0, memory)
        if response.allocated_containers and not self.nm_tokens_sent:
            self.nm_tokens_sent = True
            response.nm_tokens.add(
                nodeId=pb.NodeIdProto(host="n1", port=45454),
                token=security_pb.TokenProto(identifier=b"nm", password=b"nm"),
            )
        response.completed_container_statuses.extend(self.done)
        self.done.clear()
        return response

    def _container(self, priority: int, memory: int) -> pb.ContainerProto:
        name = f"container_1700000000000_0003_01_{self.next_container:06d}"
        self.next_container += 1
        container = pb.ContainerProto(
            id=ContainerId.parse(name).to_proto(),
            nodeId=pb.NodeIdProto(host="n1", port=45454),
            node_http_address="n1:8042",
            resource=pb.ResourceProto(memory=memory, virtual_cores=1),
            priority=pb.PriorityProto(priority=priority),
            container_token=security_pb.TokenProto(identifier=name.encode(), password=b"x"),
        )
        self.running[name] = container
        return container

    def _complete(self, name: str, status: int, diagnostics: str = "") -> None:
        container = self.running.pop(name, None)
        if container is not None:
            self.done.append(
                pb.ContainerStatusProto(
                    container_id=container.id,
                    state=pb.C_COMPLETE,
                    exit_status=status,
                    diagnostics=diagnostics,
                )
            )

    async def aclose(self) -> None:
        pass

    # -- NodeManagers --------------------------------------------------------------------

    def connect(self, host: str, port: int, token: TokenCredential) -> FakeCluster:
        assert (host, port, token.password) == ("n1", 45454, b"nm")
        return self

    def node_call(self, method: str, request: Any) -> Message:
        if method == "startContainers":
            response = service_pb.StartContainersResponseProto()
            for start in request.start_container_request:
                (name,) = [
                    n for n, c in self.running.items() if c.container_token == start.container_token
                ]
                if self.refuse_starts:
                    self.refuse_starts -= 1
                    response.failed_requests.add(
                        container_id=self.running[name].id,
                        exception=pb.SerializedExceptionProto(message="NodeManager says no"),
                    )
                    continue
                self.started[name] = start.container_launch_context
                env = {e.key: e.value for e in start.container_launch_context.environment}
                if env.get("STAY"):
                    self.stays.add(name)
                else:
                    self._complete(name, int(env.get("EXIT", "0")))
            return response
        for container_id in request.container_id:
            name = str(ContainerId.from_proto(container_id))
            self.stopped.append(name)
            self._complete(name, -105, "Container killed by the ApplicationMaster.")
        return service_pb.StopContainersResponseProto()


class NodeChannel:
    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster

    async def call(
        self, method: str, request: Any, response_type: type[M], *, timeout: float | None = None
    ) -> M:
        answer = self.cluster.node_call(method, request)
        assert isinstance(answer, response_type)
        return answer

    async def aclose(self) -> None:
        pass


def context(
    log_dir: Path, spec: dict[str, Any], *, attempt: int = 1, max_attempts: int = 1
) -> MasterContext:
    return MasterContext(
        application_id=APP,
        spec=ApplicationSpec.from_dict(spec),
        configuration=HadoopConfiguration({}),
        credentials=Credentials(tokens={"amrm": AMRM, "hdfs": HDFS}),
        am_rm_token=AMRM,
        attempt=attempt,
        max_attempts=max_attempts,
        staging_dir=f"hdfs://nn:8020/user/a/.skein/{APP}",
        host="n1",
        log_dir=str(log_dir),
        idle_timeout=60.0,
        environ={"LANG": "C.UTF-8", "HADOOP_USER_NAME": "alice", "PATH": "/usr/bin:/bin"},
    )


class Run:
    """One master run against a FakeCluster."""

    def __init__(
        self, tmp_path: Path, spec: dict[str, Any], log_dir: Path | None = None, **options: int
    ) -> None:
        self.cluster = FakeCluster()
        self.staging_removed = False
        cluster = self.cluster

        async def remove_staging() -> None:
            self.staging_removed = True

        self.runtime = MasterRuntime(
            context(log_dir or tmp_path, spec, **options),
            session=SchedulerSession(cluster, host="n1"),
            node_managers=NodeManagers(lambda h, p, t: NodeChannel(cluster.connect(h, p, t))),
            remove_staging=remove_staging,
            directory=tmp_path,
        )

    async def __call__(self, timeout: float = 10) -> int:
        return await asyncio.wait_for(self.runtime.run(), timeout)


def service(**options: Any) -> dict[str, Any]:
    return {"resources": SMALL, "script": "run", **options}


async def test_services_run_and_the_master_unregisters(tmp_path: Path) -> None:
    run = Run(tmp_path, {"services": {"web": service(instances=2)}})
    assert await run() == EXIT_OK
    finished = run.cluster.finished
    assert finished is not None
    assert finished.final_application_status == pb.APP_SUCCEEDED
    assert finished.diagnostics == "Application completed successfully."
    assert run.staging_removed
    assert run.cluster.methods[0] == "registerApplicationMaster"
    launched = sorted(run.cluster.started.values(), key=lambda c: str(c.environment))
    envs = [{e.key: e.value for e in c.environment} for c in launched]
    assert sorted(env["SKEIN_CONTAINER_ID"] for env in envs) == ["web_0", "web_1"]
    assert all(env["HADOOP_USER_NAME"] == "alice" for env in envs)
    tokens = read_credentials(launched[0].tokens)
    assert [t.kind for t in tokens.tokens.values()] == ["HDFS_DELEGATION_TOKEN"]


async def test_a_failed_attempt_with_attempts_left_leaves_it_to_yarn(tmp_path: Path) -> None:
    run = Run(
        tmp_path,
        {"services": {"broken": service(env={"EXIT": "3"})}},
        attempt=1,
        max_attempts=2,
    )
    assert await run() == EXIT_ATTEMPT_FAILED
    assert run.cluster.finished is None
    assert not run.staging_removed


async def test_the_last_attempt_unregisters_as_failed(tmp_path: Path) -> None:
    run = Run(
        tmp_path,
        {"services": {"broken": service(env={"EXIT": "3"})}},
        attempt=2,
        max_attempts=2,
    )
    assert await run() == EXIT_OK
    finished = run.cluster.finished
    assert finished is not None
    assert finished.final_application_status == pb.APP_FAILED
    assert "Failure in service broken" in finished.diagnostics
    assert run.staging_removed


async def test_the_master_script_decides_and_running_services_are_stopped(tmp_path: Path) -> None:
    spec = {
        "master": {"script": "while [ ! -e go ]; do sleep 0.01; done; echo driver done"},
        "services": {"web": service(env={"STAY": "1"})},
    }
    run = Run(tmp_path, spec)
    task = asyncio.create_task(run())
    await eventually(lambda: run.cluster.stays)
    (tmp_path / "go").touch()
    assert await task == EXIT_OK
    finished = run.cluster.finished
    assert finished is not None
    assert finished.final_application_status == pb.APP_SUCCEEDED
    assert run.cluster.stopped == sorted(run.cluster.stays)
    assert (tmp_path / "application.driver.log").read_text() == "driver done\n"


async def test_a_resync_sends_the_whole_ask_table_again(tmp_path: Path) -> None:
    run = Run(tmp_path, {"services": {"web": service(instances=2)}})
    run.cluster.grant = False
    task = asyncio.create_task(run())
    await eventually(lambda: len(run.cluster.allocates) >= 3)
    run.cluster.commands.append(pb.AM_RESYNC)
    run.cluster.grant = True
    assert await task == EXIT_OK
    first_after = run.cluster.allocates[run.cluster.registered_at]
    assert first_after.response_id == 0
    resent = [(r.priority.priority, r.num_containers) for r in first_after.ask]
    assert resent == [(1, 1), (2, 1)]


async def test_a_refused_launch_is_released_and_restarted(tmp_path: Path) -> None:
    run = Run(tmp_path, {"services": {"web": service(max_restarts=1)}})
    run.cluster.refuse_starts = 1
    assert await run() == EXIT_OK
    assert run.cluster.released == ["container_1700000000000_0003_01_000002"]
    assert list(run.cluster.started) == ["container_1700000000000_0003_01_000003"]
    finished = run.cluster.finished
    assert finished is not None
    assert finished.final_application_status == pb.APP_SUCCEEDED


async def test_sigterm_ends_at_once_without_unregistering(tmp_path: Path) -> None:
    spec = {
        "master": {"script": "trap 'echo bye; exit 0' TERM; sleep 30 & wait"},
        "services": {"web": service(env={"STAY": "1"})},
    }
    run = Run(tmp_path, spec)
    task = asyncio.create_task(run())
    await eventually(lambda: run.cluster.stays)
    run.runtime.request_stop(15)
    assert await task == 143
    assert run.cluster.finished is None
    assert not run.staging_removed
    assert "bye" in (tmp_path / "application.driver.log").read_text()
    assert run.runtime.reconciler.finished is not None


async def test_a_shutdown_order_exits_without_unregistering(tmp_path: Path) -> None:
    run = Run(tmp_path, {"services": {"web": service(env={"STAY": "1"})}})
    run.cluster.commands.append(pb.AM_SHUTDOWN)
    assert await run() == EXIT_ATTEMPT_FAILED
    assert run.cluster.finished is None


async def test_container_hooks_see_every_change(tmp_path: Path) -> None:
    run = Run(tmp_path, {"services": {"web": service()}})
    seen: list[str] = []
    run.runtime.container_hooks.append(lambda c: seen.append(f"{c.id} {c.state}"))
    assert await run() == EXIT_OK
    assert seen == ["web_0 REQUESTED", "web_0 RUNNING", "web_0 SUCCEEDED"]


async def test_a_master_script_that_cannot_start_fails_the_application(tmp_path: Path) -> None:
    spec = {"master": {"script": "true"}, "services": {"web": service(instances=0)}}
    run = Run(tmp_path, spec, log_dir=tmp_path / "missing")
    assert await run() == EXIT_OK
    finished = run.cluster.finished
    assert finished is not None
    assert finished.final_application_status == pb.APP_FAILED
    assert "exit code 127" in finished.diagnostics


async def test_a_refused_heartbeat_fails_the_application_with_yarns_reason(tmp_path: Path) -> None:
    run = Run(tmp_path, {"services": {"web": service(node_label="nonsense")}})
    run.cluster.refusal = RemoteError(
        "org.apache.hadoop.yarn.exceptions.InvalidLabelResourceRequestException",
        "Invalid resource request, node label not enabled",
    )
    assert await run() == EXIT_OK
    finished = run.cluster.finished
    assert finished is not None
    assert finished.final_application_status == pb.APP_FAILED
    assert finished.diagnostics == (
        "The ResourceManager refused the master's requests: "
        "Invalid resource request, node label not enabled"
    )


async def test_a_lost_resourcemanager_is_tried_again(tmp_path: Path) -> None:
    run = Run(tmp_path, {"services": {"web": service()}})
    run.cluster.refusal = ConnectionError("cannot reach the ResourceManager")
    task = asyncio.create_task(run())
    await eventually(lambda: len(run.cluster.allocates) >= 3)
    first = run.cluster.allocates[0]
    assert all(request == first for request in run.cluster.allocates)  # the same request again
    run.cluster.refusal = None
    assert await task == EXIT_OK
