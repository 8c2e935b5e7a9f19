"""Talking to running applications on the real cluster: the master's API, its store, scaling.

Every application here runs its Python master on the test cluster; the tests
reach it over gRPC with mutual TLS, as users and their containers do. Service
containers use skein from the runtime zip localized beside them (the test
NodeManagers have only a bare system python3).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue as queue_module
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from grpclib.const import Cardinality, Status
from grpclib.exceptions import GRPCError

import skein
from skein._proto.api import skein_pb2 as pb
from skein.cli.main import main as cli
from skein.errors import ApplicationNotRunningError, ConnectionError
from skein.kvstore import MAX_KEY_BYTES, MAX_VALUE_BYTES, WATCHER_MAX_BYTES
from skein.testcluster import TestCluster

pytestmark = pytest.mark.cluster

SMALL = {"memory": 128, "vcores": 1}
# A bare python3 with skein from the runtime zip every container gets.
SKEIN_PYTHON = "PYTHONPATH=$PWD/.skein.am.zip python3"
# Each "reporter" container publishes its id and its X variable, then idles.
REPORTER = (
    f"{SKEIN_PYTHON} -c 'import os, skein; app = skein.ApplicationClient.from_current(); "
    'app.kv["env." + os.environ["SKEIN_CONTAINER_ID"]] = os.environ.get("X", "").encode()\'\n'
    "sleep 600"
)


def wait_for(condition: Callable[[], Any], timeout: float = 120, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(interval)
    return result


@pytest.fixture(scope="module")
def client(hadoop_cluster: TestCluster) -> Iterator[skein.Client]:
    with skein.Client() as c:
        yield c


@contextlib.contextmanager
def running(client: skein.Client, spec: dict[str, Any]) -> Iterator[skein.ApplicationClient]:
    app = client.submit_and_connect(spec, timeout=120)
    try:
        yield app
    finally:
        app.close()
        client.kill_application(app.id)


def running_ids(app: skein.ApplicationClient, service: str, count: int) -> list[str]:
    return wait_for(
        lambda: (
            len(ids := [c.id for c in app.get_containers([service], ["RUNNING"])]) == count and ids
        )
    )


@pytest.fixture(scope="module")
def app(client: skein.Client) -> Iterator[skein.ApplicationClient]:
    spec = {
        "name": "api-test",
        "services": {
            "sleeper": {"resources": SMALL, "instances": 2, "script": "sleep 600"},
            "reporter": {"resources": SMALL, "instances": 0, "script": REPORTER},
        },
    }
    with running(client, spec) as application:
        running_ids(application, "sleeper", 2)
        yield application


@pytest.fixture(autouse=True)
def empty_store(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" in request.fixturenames:
        request.getfixturevalue("app").kv.clear()


# -- the application ---------------------------------------------------------------


def test_connect_refuses_a_finished_application(client: skein.Client) -> None:
    app_id = client.submit({"services": {"s": {"resources": SMALL, "script": "true"}}})
    client.wait(app_id, timeout=120)
    with pytest.raises(ApplicationNotRunningError, match="FINISHED"):
        client.connect(app_id)


def test_specification_and_progress(client: skein.Client, app: skein.ApplicationClient) -> None:
    spec = app.get_specification()
    assert spec.name == "api-test"
    assert spec.services["sleeper"].instances == 2
    app.set_progress(0.5)
    wait_for(lambda: abs(client.application_report(app.id).progress - 0.5) < 1e-6, timeout=30)
    with pytest.raises(ValueError, match="between 0 and 1"):
        app.set_progress(1.5)


def test_a_different_credential_is_refused(app: skein.ApplicationClient) -> None:
    stranger = skein.ApplicationClient(app.address, app.id, skein.Security.new_credentials())
    start = time.monotonic()
    try:
        with pytest.raises(ConnectionError):
            stranger.get_containers()
    finally:
        stranger.close()
    assert time.monotonic() - start < 30


# -- containers --------------------------------------------------------------------


def test_get_containers_filters_and_rejects_unknown_services(app: skein.ApplicationClient) -> None:
    sleepers = app.get_containers(["sleeper"])
    assert [c.id for c in sleepers] == ["sleeper_0", "sleeper_1"]
    assert all(c.state == "RUNNING" and c.yarn_container_id for c in sleepers)
    assert app.get_containers(["reporter"]) == []
    with pytest.raises(ValueError, match="Unknown service 'nope'"):
        app.get_containers(["nope"])


def test_scale_up_then_down_in_skein_order(client: skein.Client) -> None:
    spec = {"services": {"w": {"resources": SMALL, "instances": 1, "script": "sleep 600"}}}
    with running(client, spec) as app:
        running_ids(app, "w", 1)
        added = app.scale("w", count=3)
        assert sorted(c.id for c in added) == ["w_1", "w_2"]
        running_ids(app, "w", 3)
        assert app.scale("w", delta=0) == []  # Skein 0.8 scaled to zero here
        # Down: the longest-running containers go first.
        by_start = sorted(app.get_containers(["w"]), key=lambda c: (c.start_time, c.instance))
        stopped = app.scale("w", delta=-2)
        assert [c.id for c in stopped] == [c.id for c in by_start[:2]]
        assert all(c.state == "KILLED" for c in stopped)
        assert [c.id for c in app.get_containers(["w"])] == [by_start[2].id]
        with pytest.raises(ValueError, match="count"):
            app.scale("w", count=-1)
        with pytest.raises(ValueError, match="Exactly one"):
            app.scale("w", count=1, delta=1)


def test_add_container_overrides_env_and_kill_container(app: skein.ApplicationClient) -> None:
    first = app.add_container("reporter", env={"X": "overridden"})
    second = app.add_container("reporter")
    assert app.kv.wait(f"env.{first.id}") == b"overridden"
    assert app.kv.wait(f"env.{second.id}") == b""
    app.kill_container(first.id)
    states = {c.id: c.state for c in app.get_containers(["reporter"], skein.ContainerState)}
    assert states[first.id] == "KILLED"
    app.kill_container(first.id)  # already completed: a no-op
    with pytest.raises(ValueError, match="no container instance 99"):
        app.kill_container("reporter_99")
    with pytest.raises(ValueError, match="nonsense"):
        app.kill_container("nonsense")
    app.kill_container(second.id)


# -- the key-value store -----------------------------------------------------------


def test_every_kv_operation_against_a_live_master(app: skein.ApplicationClient) -> None:
    kv = app.kv
    kv["a/1"] = b"one"
    kv.update({"a/2": b"two", "b": b"bee"})
    assert kv["a/1"] == b"one"
    assert len(kv) == 3
    assert list(kv) == ["a/1", "a/2", "b"]
    assert kv.get("missing") is None
    assert kv.get("missing", b"d") == b"d"
    assert kv.get_prefix("a/") == {"a/1": b"one", "a/2": b"two"}
    assert kv.get_range("a/2", "c") == {"a/2": b"two", "b": b"bee"}
    assert kv.count(prefix="a/") == 2
    assert kv.list_keys(start="a/2") == ["a/2", "b"]
    assert kv.exists("b")
    assert kv.missing("c")
    assert kv.swap("b", b"bee2") == b"bee"
    assert kv.setdefault("b", b"ignored") == b"bee2"
    assert kv.pop("b") == b"bee2"
    assert "b" not in kv
    assert kv.discard("a/1")
    assert not kv.discard("a/1")
    kv.put("c", b"x")
    assert kv.discard_prefix("", return_keys=True) == ["a/2", "c"]
    with pytest.raises(KeyError):
        kv["gone"]
    with pytest.raises(ValueError, match="ignore_value"):
        kv.put("gone", owner="sleeper_0")
    with pytest.raises(TypeError):
        kv["k"] = "not bytes"  # type: ignore[assignment]


def test_conditions_and_transactions(app: skein.ApplicationClient) -> None:
    kv = app.kv
    kv["k"] = b"v1"
    result = kv.transaction(
        conditions=[
            skein.kv.value("k") == b"v1",
            skein.kv.missing("other"),
            skein.kv.owner("k") == None,  # noqa: E711
        ],
        on_success=[skein.kv.put("k", b"v2"), skein.kv.put("other", b"o"), skein.kv.get("k")],
        on_failure=[skein.kv.put("failed", b"1")],
    )
    assert result.succeeded
    assert result.results[2] == b"v2"
    failed = kv.transaction(
        conditions=[skein.kv.value("k") > b"v9"], on_success=[skein.kv.put("x", b"")], on_failure=[]
    )
    assert not failed.succeeded
    assert "x" not in kv
    # etcd's conditions: versions and revisions.
    assert kv.transaction(conditions=[skein.kv.version("k") == 2]).succeeded
    assert kv.transaction(conditions=[skein.kv.create_revision("nope") == 0]).succeeded
    # All or nothing: a bad owner in the branch applies nothing.
    with pytest.raises(ValueError, match="Unknown service 'ghost'"):
        kv.transaction(
            on_success=[skein.kv.put("y", b"1"), skein.kv.put("z", b"2", owner="ghost_0")]
        )
    assert "y" not in kv


def test_owners_are_validated(app: skein.ApplicationClient) -> None:
    kv = app.kv
    with pytest.raises(ValueError, match="Unknown service 'ghost'"):
        kv.put("k", b"v", owner="ghost_0")
    with pytest.raises(ValueError, match="has no container instance 50"):
        kv.put("k", b"v", owner="sleeper_50")
    killed = app.add_container("reporter")
    app.kill_container(killed.id)
    with pytest.raises(ValueError, match="has already completed"):
        kv.put("k", b"v", owner=killed.id)


def test_keys_go_with_their_owner_when_it_is_killed(app: skein.ApplicationClient) -> None:
    kv = app.kv
    owner = app.add_container("reporter")
    running_ids(app, "reporter", len(app.get_containers(["reporter"])))
    kv.put("owned", b"1", owner=owner.id)
    kv.put("free", b"2")
    queue = kv.events(key="owned", event_type="DELETE")
    app.kill_container(owner.id)
    event = queue.get(timeout=30)
    assert (event.key, event.event_type) == ("owned", "DELETE")
    assert "owned" not in kv
    assert kv["free"] == b"2"


def test_events_arrive_in_order_once_per_matching_filter(app: skein.ApplicationClient) -> None:
    kv = app.kv
    queue = kv.event_queue()
    by_prefix = queue.subscribe(prefix="e/")
    by_key = queue.subscribe(key="e/1")
    kv["e/1"] = b"a"
    kv["e/2"] = b"b"
    del kv["e/1"]
    seen = [queue.get(timeout=30) for _ in range(5)]
    got = sorted((e.key, str(e.event_type), e.event_filter == by_key) for e in seen)
    assert got == [
        ("e/1", "DELETE", False),
        ("e/1", "DELETE", True),
        ("e/1", "PUT", False),
        ("e/1", "PUT", True),
        ("e/2", "PUT", False),
    ]
    # Per filter, events keep the order of the writes.
    prefix_events = [(e.key, str(e.event_type)) for e in seen if e.event_filter == by_prefix]
    assert prefix_events == [("e/1", "PUT"), ("e/2", "PUT"), ("e/1", "DELETE")]
    with pytest.raises(queue_module.Empty):
        queue.get(timeout=1)
    queue.unsubscribe_all()


# -- bad input against the live master ------------------------------------------------


class Garbage:
    """A request whose bytes do not parse as protobuf."""

    def __init__(self, data: bytes = b"\xff\xff\xff\xff") -> None:
        self.data = data

    def SerializeToString(self) -> bytes:
        return self.data

    @classmethod
    def FromString(cls, data: bytes) -> Garbage:
        return cls(data)


def test_malformed_requests_are_invalid_argument_and_the_master_keeps_serving(
    app: skein.ApplicationClient,
) -> None:
    async def scenario() -> None:
        async with skein.AsyncApplicationClient(app.address, app.id, app.security) as client:
            stub = client.stub
            # Bytes that are not a PutKeyRequest at all.
            call = stub.PutKey.channel.request(
                "/skein.v1.AppMaster/PutKey", Cardinality.UNARY_UNARY, Garbage, Garbage
            )
            with pytest.raises(GRPCError) as info:  # noqa: PT012
                async with call as stream:
                    await stream.send_message(Garbage(), end=True)
                    await stream.recv_message()
            assert info.value.status is Status.INVALID_ARGUMENT
            assert (info.value.message or "").startswith("malformed skein.v1.PutKeyRequest")
            # Well-formed protobuf with values the master refuses.
            empty_step = pb.TransactionRequest(
                on_success=[pb.OpRequest(put_key=pb.PutKeyRequest(key="lost"))],
                on_failure=[pb.OpRequest()],
            )
            with pytest.raises(GRPCError) as info:
                await stub.Transaction(empty_step)
            assert info.value.status is Status.INVALID_ARGUMENT
            assert info.value.message == "OpRequest has no request set"
            with pytest.raises(GRPCError) as info:
                await stub.Shutdown(pb.ShutdownRequest(final_status=99))  # type: ignore[arg-type]
            assert info.value.status is Status.INVALID_ARGUMENT
            assert info.value.message == "final status must be SUCCEEDED, FAILED or KILLED, got 99"
            await stub.PutKey(pb.PutKeyRequest(key="after", value=b"ok"))

    asyncio.run(scenario())
    # The master is still serving, and still running.
    assert app.kv.get_prefix("") == {"after": b"ok"}  # the refused transaction put nothing
    assert len(app.get_containers(["sleeper"])) == 2


def test_keys_and_values_over_the_limits_are_refused_clearly(app: skein.ApplicationClient) -> None:
    kv = app.kv
    with pytest.raises(ValueError, match=f"over the limit of {MAX_KEY_BYTES} bytes"):
        kv.put("k" * (MAX_KEY_BYTES + 1), b"x")
    with pytest.raises(ValueError, match=f"over the limit of {MAX_VALUE_BYTES} bytes"):
        kv.put("big", b"x" * (MAX_VALUE_BYTES + 1))
    # The limits themselves are fine, and nothing was lost.
    kv.put("k" * MAX_KEY_BYTES, b"x")
    kv.put("big", b"x" * MAX_VALUE_BYTES)
    assert kv.count() == 2
    assert len(kv["big"]) == MAX_VALUE_BYTES


def test_a_watcher_that_stops_reading_is_cancelled_and_the_store_goes_on(
    app: skein.ApplicationClient,
) -> None:
    value = b"v" * MAX_VALUE_BYTES
    # More than the watcher's buffer, plus what HTTP/2 and TCP hold in flight.
    puts = WATCHER_MAX_BYTES // MAX_VALUE_BYTES + 48

    async def scenario() -> None:
        # The watcher has its own connection, as a separate client would. Its
        # unread events stop its stream (its window), not its connection.
        async with (
            skein.AsyncApplicationClient(app.address, app.id, app.security) as watcher,
            skein.AsyncApplicationClient(app.address, app.id, app.security) as client,
        ):
            stub = client.stub
            async with watcher.stub.Watch.open() as stream:
                await stream.send_message(
                    pb.WatchRequest(create=pb.WatchCreateRequest(start="slow/", end="slow0"))
                )
                created = await asyncio.wait_for(stream.recv_message(), 30)
                assert created is not None
                assert created.created
                assert not created.canceled
                # This watcher reads nothing while the writes go on: none may stall.
                for i in range(puts):
                    await asyncio.wait_for(
                        stub.PutKey(pb.PutKeyRequest(key=f"slow/{i % 4}", value=value)), 30
                    )
                revisions: list[int] = []
                while True:
                    response = await asyncio.wait_for(stream.recv_message(), 30)
                    assert response is not None
                    assert response.watch_id == created.watch_id
                    if response.canceled:
                        break
                    revisions += [event.kv.mod_revision for event in response.events]
                # Every event it buffered until it fell behind is delivered, in
                # order, then the reason, naming the first revision it missed.
                first = created.header.revision + 1
                assert revisions == list(range(first, first + len(revisions)))
                assert 0 < len(revisions) < puts
                assert response.cancel_reason == (
                    f"watcher {created.watch_id} fell behind: more than {WATCHER_MAX_BYTES} "
                    f"bytes of unread events; events from revision {first + len(revisions)} "
                    "on were not delivered"
                )
                # The stream and the store go on: a new watch sees new writes.
                await stream.send_message(
                    pb.WatchRequest(create=pb.WatchCreateRequest(start="slow/", end="slow0"))
                )
                again = await asyncio.wait_for(stream.recv_message(), 30)
                assert again is not None
                assert again.created
                assert not again.canceled
                put = await stub.PutKey(pb.PutKeyRequest(key="slow/x", value=b"small"))
                event = await asyncio.wait_for(stream.recv_message(), 30)
                assert event is not None
                assert event.watch_id == again.watch_id
                assert [(e.kv.key, e.kv.mod_revision) for e in event.events] == [
                    ("slow/x", put.header.revision)
                ]
                await stream.end()

    asyncio.run(scenario())
    app.kv["after"] = b"ok"
    assert app.kv["after"] == b"ok"


def test_a_container_writes_with_from_current_and_the_client_reads(client: skein.Client) -> None:
    script = (
        f"{SKEIN_PYTHON} -c 'import skein; app = skein.ApplicationClient.from_current(); "
        'app.kv["greeting"] = b"hello from " + skein.properties.container_id.encode(); '
        'app.kv.put("mine", b"x", owner=skein.properties.container_id)\'\n'
        "sleep 5"
    )
    spec = {
        "services": {
            "writer": {"resources": SMALL, "script": script},
            # Keeps the application running after the writer exits.
            "keeper": {"resources": SMALL, "script": "sleep 600"},
        }
    }
    with running(client, spec) as app:
        assert app.kv.wait("greeting") == b"hello from writer_0"
        assert app.kv.wait("mine") == b"x"
        # The container exits by itself: the key it owned goes with it.
        wait_for(lambda: "mine" not in app.kv, timeout=60)
        assert app.kv["greeting"] == b"hello from writer_0"


# -- shutdown ----------------------------------------------------------------------


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED", "KILLED"])
def test_shutdown_ends_with_the_requested_status(
    hadoop_cluster: TestCluster, client: skein.Client, status: str
) -> None:
    spec = {
        "max_attempts": 2,
        "services": {"s": {"resources": SMALL, "script": "sleep 600"}},
    }
    app = client.submit_and_connect(spec, timeout=120)
    try:
        app.shutdown(status, diagnostics=f"asked for {status}")
        report = client.wait(app.id, timeout=120)
    finally:
        app.close()
    assert report.final_status == status
    assert f"asked for {status}" in report.diagnostics
    # A user's shutdown is final: no second attempt, whatever the status.
    attempts = hadoop_cluster.yarn("applicationattempt", "-list", app.id).stdout
    assert "Total number of application attempts :1" in attempts


# -- the CLI -----------------------------------------------------------------------


def test_cli_talks_to_the_running_application(
    app: skein.ApplicationClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["kv", "put", app.id, "--key", "cli", "--value", "hi"]) == 0
    assert cli(["kv", "ls", app.id]) == 0
    assert "cli" in capsys.readouterr().out.splitlines()
    assert cli(["kv", "get", app.id, "--key", "cli"]) == 0
    assert cli(["kv", "del", app.id, "--key", "cli"]) == 0
    assert cli(["kv", "get", app.id, "--key", "cli"]) == 1
    assert "Error: Key 'cli' is not set" in capsys.readouterr().err
    assert cli(["container", "ls", app.id, "--service", "sleeper"]) == 0
    out = capsys.readouterr().out
    assert "sleeper_0" in out
    assert "RUNNING" in out
    assert cli(["application", "specification", app.id]) == 0
    assert "sleeper" in capsys.readouterr().out
    assert cli(["container", "kill", app.id, "--id", "reporter_999"]) == 1
    assert "no container instance 999" in capsys.readouterr().err
