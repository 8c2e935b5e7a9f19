"""The timed phases: throughput of N clients spread over processes, and put-to-event latency.

Throughput: every client is a coroutine with its own session (its own
connection), doing one request at a time, back to back. Clients are spread over
worker processes (``spawn``), which connect and warm up, then all start at one
instant (``time.monotonic`` is system-wide on Linux) and run for the same
window; an operation counts if it completes inside the window. Gets check the
length of the value read, so a store answering wrongly does not look fast.

Latency: in one process, a watcher session subscribes to a prefix; a putter
session puts one key under it at a time and waits for the event before the next
put. put-to-event = event received - put started; the put's own round trip is
recorded too.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import time
from dataclasses import dataclass, field
from typing import Any

from kv_support.sessions import Endpoint, Session, open_session

MAX_ERRORS_PER_CLIENT = 50
READY_TIMEOUT = 120.0
KEYS_PER_CLIENT = 64


@dataclass(frozen=True)
class Phase:
    op: str  # "put" or "get"
    value_size: int
    duration: float
    key_prefix: str  # puts: under <prefix><worker>-<client>/; gets: <prefix><0..get_keys-1>
    get_keys: int = 0


@dataclass
class Throughput:
    clients: int
    processes: int
    duration: float
    ops: int = 0
    errors: int = 0
    first_error: str = ""
    latencies: list[float] = field(default_factory=list)
    client_cpu: float = 0.0  # CPU seconds of the client processes in the window
    server_cpu: float = float("nan")  # CPU seconds of the server process in the window
    machine_cpu: float = float("nan")  # busy CPU seconds of the whole machine in the window

    @property
    def rate(self) -> float:
        return self.ops / self.duration


@dataclass
class WatchLatency:
    put_to_event: list[float] = field(default_factory=list)
    put: list[float] = field(default_factory=list)
    missed: int = 0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads), or NaN."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """Busy CPU time of the whole machine (all CPUs) since boot, from /proc/stat, or NaN."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(t) for t in f.readline().split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    guest = sum(ticks[8:10])  # already counted in user and nice
    return (sum(ticks) - idle - guest) / os.sysconf("SC_CLK_TCK")


# -- throughput ---------------------------------------------------------------------


async def _client(
    endpoint: Endpoint, phase: Phase, worker: int, number: int, value: bytes
) -> tuple[Any, list[str]]:
    session = await open_session(endpoint)
    if phase.op == "put":
        keys = [f"{phase.key_prefix}{worker}-{number}/{k}" for k in range(KEYS_PER_CLIENT)]
        await session.put(keys[0], value)  # connect (and handshake) before the window
    else:
        keys = [f"{phase.key_prefix}{k}" for k in range(phase.get_keys)]
        await session.get(keys[0])
    return session, keys


async def _throughput(
    endpoint: Endpoint,
    phase: Phase,
    worker: int,
    clients: int,
    ready: Any,
    go: Any,
    start_at: Any,
) -> dict[str, Any]:
    value = os.urandom(phase.value_size)
    opened = await asyncio.gather(
        *(_client(endpoint, phase, worker, c, value) for c in range(clients))
    )
    try:
        return await _timed(phase, worker, opened, value, ready, go, start_at)
    finally:
        # Closed whatever happens: a grpc.aio channel left open warns at exit.
        for session, _ in opened:
            await session.close()


async def _timed(
    phase: Phase,
    worker: int,
    opened: list[tuple[Any, list[str]]],
    value: bytes,
    ready: Any,
    go: Any,
    start_at: Any,
) -> dict[str, Any]:
    ready.put(worker)
    if not await asyncio.to_thread(go.wait, READY_TIMEOUT):
        raise TimeoutError("no start signal")
    start = start_at.value
    end = start + phase.duration
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    cpu = time.process_time()
    errors: list[str] = []
    latencies: list[float] = []
    counts: list[int] = []

    async def run(number: int, session: Any, keys: list[str]) -> None:
        count, failed, i = 0, 0, number
        put = phase.op == "put"
        while True:
            key = keys[i % len(keys)]
            i += 1
            started = time.monotonic()
            if started >= end:
                break
            try:
                if put:
                    await session.put(key, value)
                else:
                    got = await session.get(key)
                    if got is None or len(got) != phase.value_size:
                        raise ValueError(
                            f"get {key!r}: wrong value ({None if got is None else len(got)} B)"
                        )
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                failed += 1
                if failed >= MAX_ERRORS_PER_CLIENT:
                    break
                continue
            done = time.monotonic()
            if done <= end:
                count += 1
                latencies.append(done - started)
        counts.append(count)

    await asyncio.gather(*(run(n, s, k) for n, (s, k) in enumerate(opened)))
    cpu = time.process_time() - cpu
    return {
        "ops": sum(counts),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "latencies": latencies,
        "cpu": cpu,
    }


def _throughput_worker(
    endpoint: Endpoint,
    phase: Phase,
    worker: int,
    clients: int,
    ready: Any,
    go: Any,
    start_at: Any,
    results: Any,
) -> None:
    try:
        result = asyncio.run(_throughput(endpoint, phase, worker, clients, ready, go, start_at))
    except BaseException as exc:
        ready.put(worker)  # never leave the parent waiting
        result = {"ops": 0, "errors": 1, "first_error": f"{type(exc).__name__}: {exc}"}
        result |= {"latencies": [], "cpu": 0.0}
    results.put(result)


def _get(results: Any, timeout: float, workers: list[Any]) -> Any:
    """The next item of ``results``; fails early if a worker died without sending one.

    A worker can die hard (grpcio's C core aborts the process on some errors).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return results.get(timeout=min(1.0, max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a worker process died (exit code {dead[0]})") from None
            if time.monotonic() >= deadline:
                raise


def run_throughput(
    endpoint: Endpoint, phase: Phase, clients: int, processes: int, server_pid: int | None
) -> Throughput:
    """``clients`` clients over ``processes`` worker processes, for ``phase.duration`` seconds."""
    processes = max(1, min(processes, clients))
    shares = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    ctx = multiprocessing.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    start_at = ctx.Value("d", 0.0)
    workers = [
        ctx.Process(
            target=_throughput_worker,
            args=(endpoint, phase, i, share, ready, go, start_at, results),
            daemon=True,
        )
        for i, share in enumerate(shares)
    ]
    for w in workers:
        w.start()
    result = Throughput(clients=clients, processes=processes, duration=phase.duration)
    try:
        for _ in workers:
            _get(ready, READY_TIMEOUT, workers)
        start = time.monotonic() + 0.2
        start_at.value = start
        go.set()
        time.sleep(max(0.0, start - time.monotonic()))
        server_cpu = process_cpu_seconds(server_pid) if server_pid else float("nan")
        machine_cpu = machine_busy_seconds()
        time.sleep(max(0.0, start + phase.duration - time.monotonic()))
        result.machine_cpu = machine_busy_seconds() - machine_cpu
        if server_pid:
            result.server_cpu = process_cpu_seconds(server_pid) - server_cpu
        for _ in workers:
            one = _get(results, phase.duration + READY_TIMEOUT, workers)
            result.ops += one["ops"]
            result.errors += one["errors"]
            result.first_error = result.first_error or one["first_error"]
            result.latencies += one["latencies"]
            result.client_cpu += one["cpu"]
    finally:
        for w in workers:
            w.join(10)
            if w.is_alive():
                w.terminate()
                w.join()
    return result


# -- put-to-event latency -----------------------------------------------------------------


async def _watch_latency(
    endpoint: Endpoint, value_size: int, puts: int, warmup: int, prefix: str
) -> dict[str, Any]:
    putter, watcher = await open_session(endpoint), await open_session(endpoint)
    try:
        return await _timed_watch(putter, watcher, value_size, puts, warmup, prefix)
    finally:
        await putter.close()
        await watcher.close()


async def _timed_watch(
    putter: Session, watcher: Session, value_size: int, puts: int, warmup: int, prefix: str
) -> dict[str, Any]:
    value = os.urandom(value_size)
    await putter.put(prefix.rstrip("/") + ".connect", value)  # outside the watched prefix
    loop = asyncio.get_running_loop()
    pending: dict[str, asyncio.Future[float]] = {}
    put_to_event: list[float] = []
    put_rtt: list[float] = []
    missed = 0
    async with watcher.watch(prefix) as events:

        async def receive() -> None:
            async for keys in events:
                now = time.monotonic()
                for key in keys:
                    waiter = pending.pop(key, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(now)

        receiver = asyncio.create_task(receive())
        try:
            for i in range(warmup + puts):
                key = f"{prefix}{i % KEYS_PER_CLIENT}"
                waiter = pending[key] = loop.create_future()
                started = time.monotonic()
                await putter.put(key, value)
                put_done = time.monotonic()
                try:
                    received = await asyncio.wait_for(waiter, 10.0)
                except asyncio.TimeoutError:
                    pending.pop(key, None)
                    missed += 1
                    continue
                if i >= warmup:
                    put_to_event.append(received - started)
                    put_rtt.append(put_done - started)
        finally:
            receiver.cancel()
            try:
                await receiver
            except asyncio.CancelledError:
                pass
    return {"put_to_event": put_to_event, "put": put_rtt, "missed": missed}


def _latency_worker(
    endpoint: Endpoint, value_size: int, puts: int, warmup: int, prefix: str, results: Any
) -> None:
    try:
        results.put(asyncio.run(_watch_latency(endpoint, value_size, puts, warmup, prefix)))
    except BaseException as exc:
        results.put({"error": f"{type(exc).__name__}: {exc}"})


def run_watch_latency(
    endpoint: Endpoint, value_size: int, puts: int, prefix: str, warmup: int = 50
) -> WatchLatency:
    """Put-to-event latency of ``puts`` sequential puts, measured in a worker process."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    worker = ctx.Process(
        target=_latency_worker,
        args=(endpoint, value_size, puts, warmup, prefix, results),
        daemon=True,
    )
    worker.start()
    try:
        one = _get(results, READY_TIMEOUT + puts * 10.0, [worker])
    finally:
        worker.join(10)
        if worker.is_alive():
            worker.terminate()
            worker.join()
    if "error" in one:
        raise RuntimeError(one["error"])
    return WatchLatency(put_to_event=one["put_to_event"], put=one["put"], missed=one["missed"])


# -- setup helpers ------------------------------------------------------------------------


def populate(endpoint: Endpoint, prefix: str, keys: int, value_size: int) -> None:
    """Put ``keys`` keys ``<prefix><n>`` of ``value_size`` bytes (for the get phases)."""

    async def go() -> None:
        session = await open_session(endpoint)
        value = os.urandom(value_size)
        try:
            for k in range(keys):
                await session.put(f"{prefix}{k}", value)
        finally:
            await session.close()

    asyncio.run(go())


def compact(endpoint: Endpoint) -> None:
    """Drop the store's history between phases (etcd keeps every revision until compacted)."""

    async def go() -> None:
        session = await open_session(endpoint)
        try:
            await session.compact()
        finally:
            await session.close()

    asyncio.run(go())
