"""The master's asyncio driver: performs what the reconciler decides, feeds it what happens.

Theory of operation. One event loop runs everything. The heartbeat loop
sends the ask table's changes and the releases to the ResourceManager and
hands allocations and completions to the :class:`~skein.master.reconcile.Reconciler`;
launches and stops run as tasks whose outcomes go back to it as events; the
master script is a subprocess whose exit is an event too. Every call into
the reconciler returns actions, and :meth:`MasterRuntime.perform` carries
them out at once, without awaiting, so no other event can interleave (later
API handlers can rely on the same).

The end: once the reconciler decides the outcome, the master stops the
master script and the containers, then either unregisters and removes the
staging directory, or, when the attempt failed and YARN has attempts left,
exits non-zero without either so that YARN starts the next attempt. On
SIGTERM (YARN killing the application) it ends the master script and exits
at once: YARN stops the containers and the client removes the staging
directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, Final

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein._proto.yarn import yarn_service_protos_pb2 as service_pb
from skein.errors import ConnectionError, RemoteError
from skein.hadoop.credentials import write_credentials
from skein.master.actions import (
    Action,
    CancelRequest,
    ContainerChanged,
    Finish,
    Launch,
    Release,
    RequestContainer,
    StopContainer,
)
from skein.master.asks import AskTable
from skein.master.containers import Container, ContainerState
from skein.master.context import MasterContext
from skein.master.events import Allocation, Completion
from skein.master.heartbeat import BUSY_INTERVAL, next_interval
from skein.master.launcher import DRIVER_LOG, launch_context, master_script_environment
from skein.master.master_script import MasterScript
from skein.master.node_managers import LaunchError, NodeManagers
from skein.master.reconcile import Reconciler
from skein.master.scheduler_session import ResyncRequired, SchedulerSession, ShutdownOrdered
from skein.yarn.enums import FinalStatus
from skein.yarn.ids import ContainerId

__all__ = ["EXIT_ATTEMPT_FAILED", "EXIT_OK", "MasterRuntime"]

log = logging.getLogger(__name__)

EXIT_OK: Final = 0
"""The master unregistered (whatever the application's status)."""
EXIT_ATTEMPT_FAILED: Final = 1
"""The attempt failed without unregistering: YARN retries it if attempts are left."""

LIVENESS: Final = 600.0
"""Seconds without a successful heartbeat after which the master gives up (YARN's
default AM liveness interval: the ResourceManager has given up on it by then)."""
STOP_GRACE: Final = 10.0
"""Seconds to wait for containers to stop when the application ends."""
SIGNAL_GRACE: Final = 0.2
"""Seconds the master script and stops get after a signal (YARN sends SIGKILL 250 ms
after its SIGTERM by default)."""
STAGING_TIMEOUT: Final = 30.0
"""Seconds to remove the staging directory."""


class MasterRuntime:
    """Runs one application attempt.

    Args:
        context: what the container was given.
        session: the scheduler session (not yet registered).
        node_managers: the NodeManager connections.
        remove_staging: removes the staging directory.
        racks_of: the rack of each node, for requests naming nodes.
        clock: the wall clock (epoch seconds).
        directory: the working directory, for the master script.

    Attributes:
        reconciler: the decision logic.
        progress: reported to YARN with each heartbeat.
        container_hooks: called with each container that changed state, right
            as the reconciler reports it (e.g. to drop a completed container's keys).
    """

    def __init__(
        self,
        context: MasterContext,
        *,
        session: SchedulerSession,
        node_managers: NodeManagers,
        remove_staging: Callable[[], Awaitable[None]],
        racks_of: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        directory: str | Path = ".",
    ) -> None:
        self.context = context
        self.session = session
        self.node_managers = node_managers
        self.reconciler = Reconciler(context.spec, idle_timeout=context.idle_timeout)
        self.progress = 0.1
        self.container_hooks: list[Callable[[Container], None]] = []
        self._remove_staging = remove_staging
        self._clock = clock
        self._directory = Path(directory)
        self._asks = AskTable(racks_of)
        self._releases: dict[str, pb.ContainerIdProto] = {}
        self._inflight: tuple[list[pb.ResourceRequestProto], list[pb.ContainerIdProto]] | None
        self._inflight = None
        self._containers: dict[str, pb.ContainerProto] = {}  # allocated, by YARN id
        self._tokens = write_credentials(context.service_credentials)
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._script: MasterScript | None = None
        self._signalled: int | None = None
        self._last_heartbeat = time.monotonic()

    def now(self) -> float:
        """The wall clock, as the reconciler's events take it (epoch seconds).

        Example:
            >>> runtime.perform(  # doctest: +SKIP
            ...     runtime.reconciler.scale("worker", count=4, now=runtime.now()))
        """
        return self._clock()

    # -- performing actions -------------------------------------------------------

    def perform(self, actions: list[Action]) -> None:
        """Carry out the reconciler's actions (synchronously; slow work becomes tasks)."""
        for action in actions:
            if isinstance(action, RequestContainer):
                self._asks.request(action.ask)
                self._wake.set()
            elif isinstance(action, CancelRequest):
                self._asks.cancel(action.ask)
            elif isinstance(action, Release):
                self._release(action)
            elif isinstance(action, Launch):
                self._spawn(self._launch(action))
            elif isinstance(action, StopContainer):
                self._spawn(self._stop(action.yarn_container_id))
            elif isinstance(action, ContainerChanged):
                self._changed(action.container)
            elif isinstance(action, Finish):
                log.info("application ends %s: %s", action.status, action.diagnostics)
                self._wake.set()

    def _release(self, action: Release) -> None:
        container = self._containers.pop(action.yarn_container_id, None)
        if container is not None:
            log.info("releasing %s: %s", action.yarn_container_id, action.reason)
            self._releases[action.yarn_container_id] = container.id

    def _changed(self, container: Container) -> None:
        if container.state is ContainerState.RUNNING:
            detail = f" in {container.yarn_container_id} on {container.yarn_node_http_address}"
        elif not container.state.is_active and container.exit_message:
            detail = f": {container.exit_message}"
        else:
            detail = ""
        log.info("%s: %s%s", container.state, container.id, detail)
        for hook in self.container_hooks:
            hook(container)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a master task failed", exc_info=task.exception())

    async def _launch(self, action: Launch) -> None:
        name = action.container.yarn_container_id
        container = self._containers.get(name)
        try:
            if container is None:
                raise LaunchError("the allocation is no longer known")
            context = launch_context(
                self.context.spec,
                action,
                application_id=self.context.application_id,
                master_environ=self.context.environ,
                tokens=self._tokens,
            )
            await self.node_managers.start(container, context)
        except Exception as exc:  # every failure is the container's, never the master's
            log.warning("launching %s in %s failed: %s", action.container.id, name, exc)
            self.perform(self.reconciler.on_launch_failed(name, str(exc), self._clock()))
        else:
            self.perform(self.reconciler.on_launched(name, self._clock()))

    async def _stop(self, name: str) -> None:
        container = self._containers.get(name)
        if container is None:
            return
        try:
            await self.node_managers.stop(container)
        except Exception as exc:  # YARN kills it once released
            log.warning("stopping %s failed (%s); releasing it instead", name, exc)
            self._releases[name] = container.id

    # -- the heartbeat ------------------------------------------------------------

    def _busy(self) -> bool:
        return (
            self.reconciler.busy
            or bool(self._asks)
            or bool(self._releases)
            or self._inflight is not None
        )

    async def _pause(self, interval: float) -> None:
        """Wait until the next heartbeat is due; new requests shorten the wait."""
        deadline = self._last_heartbeat + interval
        while not self._ending():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)
            self._wake.clear()
            deadline = min(deadline, self._last_heartbeat + BUSY_INTERVAL)

    async def _heartbeat(self) -> None:
        if self._inflight is None:
            releases = list(self._releases.values())
            self._releases.clear()
            self._inflight = (self._asks.take(), releases)
        asks, releases = self._inflight
        if asks or releases:
            log.debug("heartbeat sends %d ask entries, %d releases", len(asks), len(releases))
        try:
            response = await self.session.allocate(asks, releases, self.progress)
        except ResyncRequired:
            self._inflight = None
            for release in releases:
                self._releases.setdefault(str(ContainerId.from_proto(release)), release)
            self._asks.replace_all([])
            self.perform(self.reconciler.on_resync())
            return
        except ConnectionError as exc:
            silent = time.monotonic() - self._last_heartbeat
            if silent > LIVENESS:
                raise ConnectionError(f"no heartbeat succeeded for {silent:.0f} s: {exc}") from exc
            log.warning("heartbeat failed, sending it again: %s", exc)
            return
        self._inflight = None
        self._last_heartbeat = time.monotonic()
        self._handle(response)

    def _handle(self, response: service_pb.AllocateResponseProto) -> None:
        if response.allocated_containers or response.completed_container_statuses:
            log.debug(
                "heartbeat %d: %d allocated, %d completed",
                response.response_id,
                len(response.allocated_containers),
                len(response.completed_container_statuses),
            )
        self.node_managers.update_tokens(response.nm_tokens)
        now = self._clock()
        allocations = []
        for container in response.allocated_containers:
            name = str(ContainerId.from_proto(container.id))
            self._containers[name] = container
            allocations.append(
                Allocation(
                    yarn_container_id=name,
                    priority=container.priority.priority,
                    memory=container.resource.memory,
                    vcores=container.resource.virtual_cores,
                    node_http_address=container.node_http_address,
                )
            )
        if allocations:
            self.perform(self.reconciler.on_allocated(allocations, now))
        completions = [
            Completion(
                yarn_container_id=str(ContainerId.from_proto(status.container_id)),
                exit_status=status.exit_status,
                diagnostics=status.diagnostics,
            )
            for status in response.completed_container_statuses
        ]
        if completions:
            self.perform(self.reconciler.on_completed(completions, now))
            for completion in completions:
                self._containers.pop(completion.yarn_container_id, None)

    def _ending(self) -> bool:
        return self.reconciler.finished is not None or self._signalled is not None

    async def _loop(self) -> None:
        interval: float | None = None
        while not self._ending():
            interval = next_interval(interval, self._busy())
            await self._pause(interval)
            if self._ending():
                return
            await self._heartbeat()
            self.perform(self.reconciler.on_tick(self._clock()))

    # -- the master script --------------------------------------------------------

    async def _start_script(self) -> None:
        spec = self.context.spec
        self._script = MasterScript(
            spec.master.script,
            env=master_script_environment(spec, self.context.environ),
            log_path=Path(self.context.log_dir) / DRIVER_LOG,
            directory=self._directory,
        )
        try:
            await self._script.start()
        except OSError as exc:
            log.error("cannot start the master script: %s", exc)
            self.perform(self.reconciler.on_master_script_exited(127, self._clock()))
            return
        self._spawn(self._watch_script(self._script))

    async def _watch_script(self, script: MasterScript) -> None:
        code = await script.wait()
        log.info("the master script exited with code %d", code)
        self.perform(self.reconciler.on_master_script_exited(code, self._clock()))

    # -- start and end ------------------------------------------------------------

    def request_stop(self, signum: int) -> None:
        """YARN is killing the master (SIGTERM): end the application here and now.

        The master script's group gets SIGTERM at once; YARN follows its own
        SIGTERM with SIGKILL within a moment, so there is no time to unregister.
        """
        if self._signalled is not None:
            return
        self._signalled = signum
        log.warning("received signal %d: stopping", signum)
        if self._script is not None:
            self._script.signal(signal.SIGTERM)
        self.perform(
            self.reconciler.shutdown(
                FinalStatus.KILLED,
                f"Application master stopped by signal {signum}.",
                now=self._clock(),
            )
        )
        self._wake.set()

    async def run(self) -> int:
        """Run the attempt to its end; return the process's exit code."""
        attempt = f"attempt {self.context.attempt} of {self.context.max_attempts}"
        log.info("master of %s (%s) starting", self.context.application_id, attempt)
        try:
            registered = await self.session.register()
        except Exception as exc:
            log.error("cannot register with the ResourceManager: %s", exc)
            return EXIT_ATTEMPT_FAILED
        log.info("registered; largest container %d MiB", registered.maximumCapability.memory)
        self._last_heartbeat = time.monotonic()
        self.perform(self.reconciler.on_start(self._clock()))
        if self.context.spec.master.script:
            await self._start_script()
        try:
            await self._loop()
        except ShutdownOrdered as exc:
            log.error("%s", exc)
            await self._quiesce(SIGNAL_GRACE)
            return EXIT_ATTEMPT_FAILED
        except RemoteError as exc:
            # A request YARN refuses (a bad node label, say) would be refused forever.
            log.error("the ResourceManager refused a heartbeat: %s (%s)", exc, exc.java_class)
            self._fail(f"The ResourceManager refused the master's requests: {exc}")
        except Exception as exc:
            log.exception("the master failed")
            self._fail(f"Application master failed: {exc}")
        if self._signalled is not None:
            # YARN's SIGKILL follows its SIGTERM within a moment.
            await self._quiesce(SIGNAL_GRACE)
            return 128 + self._signalled
        finish = self.reconciler.finished
        assert finish is not None
        return await self._conclude(finish)

    def _fail(self, diagnostics: str) -> None:
        self.perform(self.reconciler.shutdown(FinalStatus.FAILED, diagnostics, now=self._clock()))

    async def _quiesce(self, grace: float) -> None:
        """End the master script, give stops and launches ``grace`` seconds, cancel the rest."""
        if self._script is not None:
            await self._script.terminate(grace=min(grace, 5.0))
        pending = [task for task in self._tasks if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=1.0)

    async def _conclude(self, finish: Finish) -> int:
        await self._quiesce(STOP_GRACE)
        retry = finish.status is not FinalStatus.SUCCEEDED and not finish.final
        if retry and self.context.has_attempts_left:
            log.warning(
                "application attempt %d out of %d failed, will retry: %s",
                self.context.attempt,
                self.context.max_attempts,
                finish.diagnostics,
            )
            return EXIT_ATTEMPT_FAILED
        try:
            await asyncio.wait_for(self._remove_staging(), STAGING_TIMEOUT)
        except Exception as exc:  # the outcome matters more than the leftovers
            log.warning("could not remove the staging directory: %r", exc)
        if await self.session.finish(finish.status, finish.diagnostics):
            log.info("unregistered with final status %s", finish.status)
            return EXIT_OK
        return EXIT_ATTEMPT_FAILED
