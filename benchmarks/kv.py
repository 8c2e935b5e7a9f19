"""Skein's key-value store beside a local etcd: puts/s, gets/s and put-to-event latency.

Run with the test cluster up (``skein-cluster up``; without it only etcd is
measured) and etcd installed (``apt-get install etcd-server``; without it only
Skein is measured):

    python benchmarks/kv.py [--sizes 100 10240] [--seconds 5] [--clients 32]
                            [--processes N] [--watch-puts 2000] [--no-etcd] [--no-skein]
                            [--client-stack python|grpcio|both] [--skein-client stub|kv]

Both stores are served in this run, on this machine, and driven by the same
client stack, one HTTP/2 connection per client, one request at a time per
client. Two stacks (``--client-stack``; by default both: every phase, the watch
one included, is run once per stack, and the results are shown side by side):

* python: pure-Python clients with generated protobuf stubs, what a Python
  user gets: Skein's own client (``skein.api.channel``, its own HTTP/2) for
  Skein, grpclib for etcd. On a small machine a Python client's CPU per call is
  near the server's, so with many clients the figures measure the clients too.
* grpcio (gRPC's C core, ``grpc.aio``) with generic calls by method path: with
  many clients its own CPU per call is a fraction of grpclib's (one call at a
  time it is not much smaller: each completion still wakes the event loop), so
  it loads the server harder and its figures are nearer the server's capacity.

* Skein: a real application (one service running ``sleep 3600``) is submitted
  to the test cluster; its master serves the store over mutual TLS. The python stack
  calls it through the generated ``AppMasterStub`` over ``skein.api.channel``
  (``--skein-client kv``: through ``skein.kv.AsyncKeyValueStore``); grpcio
  always through raw calls. The application is killed at the end; the cluster
  is left running.
* etcd: started here on 127.0.0.1 (free ports, plaintext, one member, its
  defaults, WAL fsync included) with its data directory on tmpfs (/dev/shm)
  when there is one, compacted between phases, stopped at the end. Its gets
  are linearizable reads, its default.

For each value size:

* puts/s and gets/s with 1 client and with ``--clients`` concurrent clients,
  the clients spread over ``--processes`` worker processes (a pure-Python
  client saturates before the server) and summed, over a window of
  ``--seconds``; request latency and CPU use of the server and of the client
  processes are shown too;
* put-to-event latency: a watcher subscribed to a prefix, a putter putting one
  key under it at a time; from the start of the put to the event's arrival.

Setup (populating the keys read by the get phases, etcd's compactions) goes
through the python stack in this process, untimed; grpcio is imported only in the worker
processes.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import math
import os
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from kv_support.etcd_server import LocalEtcd, etcd_binary
from kv_support.protos import compile_etcd_protos
from kv_support.sessions import Endpoint
from kv_support.skein_server import SkeinApplication, cluster_running
from kv_support.workload import (
    Phase,
    Throughput,
    WatchLatency,
    compact,
    populate,
    run_throughput,
    run_watch_latency,
)

GET_KEYS = 64
TARGET_PUTS = 5000.0  # puts/s with 32 clients
TARGET_WATCH_P99 = 0.020  # seconds
STACKS = ("python", "grpcio")


@dataclass
class Server:
    name: str
    endpoint: Endpoint  # the python stack's; also used for setup
    pid: int | None
    # by (value size, client stack, phase label); a failed setup under stack ""
    results: dict[tuple[int, str, str], Throughput | WatchLatency | str] = field(
        default_factory=dict
    )

    def endpoint_for(self, stack: str) -> Endpoint:
        return dataclasses.replace(self.endpoint, stack=stack)


def size_name(size: int) -> str:
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} B"


def quantile(values: list[float], q: int) -> float:
    """The q-th percentile (q in 1..99), NaN without enough values."""
    if len(values) < 2:
        return values[0] if values else math.nan
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def fmt_rate(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f}"


def fmt_ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:.2f}"


def fmt_pct(value: float) -> str:
    return "   -" if math.isnan(value) else f"{max(value, 0.0):3.0f}%"


def fmt_ratio(a: float, b: float) -> str:
    return "-" if math.isnan(a) or math.isnan(b) or b == 0 else f"{a / b:.2f}x"


def log(message: str) -> None:
    print(message, flush=True)


# -- running ------------------------------------------------------------------------


def run_all(servers: list[Server], args: argparse.Namespace) -> None:
    phases: list[tuple[str, str, int]] = [
        ("put", "put1", 1),
        ("put", "putN", args.clients),
        ("get", "get1", 1),
        ("get", "getN", args.clients),
    ]
    for size in args.sizes:
        log(f"\nvalue size {size_name(size)}")
        for server in servers:
            try:
                populate(server.endpoint, f"bench/get/{size}/", GET_KEYS, size)
            except Exception as exc:
                server.results[(size, "", "populate")] = f"{type(exc).__name__}: {exc}"
                log(f"  {server.name:<5} populating keys failed: {exc}")
        for (op, label, clients), stack in itertools.product(phases, args.stacks):
            for server in servers:
                if (size, "", "populate") in server.results and op == "get":
                    continue
                who = f"{server.name:<5} {stack:<7}"
                processes = 1 if clients == 1 else args.processes
                phase = Phase(
                    op=op,
                    value_size=size,
                    duration=args.seconds,
                    key_prefix=f"bench/{op}/{size}/" + (f"{clients}c/" if op == "put" else ""),
                    get_keys=GET_KEYS,
                )
                endpoint = server.endpoint_for(stack)
                try:
                    result = run_throughput(endpoint, phase, clients, processes, server.pid)
                except Exception as exc:
                    server.results[(size, stack, label)] = f"{type(exc).__name__}: {exc}"
                    log(f"  {who} {op} {clients:>2} client(s): failed: {exc}")
                    continue
                server.results[(size, stack, label)] = result
                p50, p99 = quantile(result.latencies, 50), quantile(result.latencies, 99)
                log(
                    f"  {who} {op}s/s {clients:>3} client(s), {result.processes} proc:"
                    f" {result.rate:9,.0f}/s   p50 {fmt_ms(p50)} ms  p99 {fmt_ms(p99)} ms"
                    + (f"   {result.errors} errors ({result.first_error})" if result.errors else "")
                )
                if op == "put" and server.name == "etcd":
                    compact(server.endpoint)
        for stack, server in itertools.product(args.stacks, servers):
            who = f"{server.name:<5} {stack:<7}"
            try:
                latency = run_watch_latency(
                    server.endpoint_for(stack), size, args.watch_puts, f"bench/watch/{size}/"
                )
            except Exception as exc:
                server.results[(size, stack, "watch")] = f"{type(exc).__name__}: {exc}"
                log(f"  {who} watch: failed: {exc}")
                continue
            server.results[(size, stack, "watch")] = latency
            p50, p99 = quantile(latency.put_to_event, 50), quantile(latency.put_to_event, 99)
            log(
                f"  {who} put-to-event p50 {fmt_ms(p50)} ms  p99 {fmt_ms(p99)} ms"
                f"  ({len(latency.put_to_event)} puts"
                + (f", {latency.missed} events missed" if latency.missed else "")
                + ")"
            )
            if server.name == "etcd":
                compact(server.endpoint)


# -- reporting ----------------------------------------------------------------------


def throughput_of(server: Server | None, size: int, stack: str, label: str) -> float:
    result = server.results.get((size, stack, label)) if server else None
    return result.rate if isinstance(result, Throughput) else math.nan


def cpu_per_op(server: Server | None, size: int, stack: str, label: str, of: str) -> float:
    """CPU seconds per operation of a phase, of the ``server`` or the ``clients`` (NaN if none)."""
    result = server.results.get((size, stack, label)) if server else None
    if not isinstance(result, Throughput) or not result.ops:
        return math.nan
    return (result.server_cpu if of == "server" else result.client_cpu) / result.ops


def fmt_us(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1e6:.0f}"


def watch_of(server: Server | None, size: int, stack: str, q: int) -> float:
    result = server.results.get((size, stack, "watch")) if server else None
    return quantile(result.put_to_event, q) if isinstance(result, WatchLatency) else math.nan


Row = tuple[str, Callable[[Server | None, int, str], float], Callable[[float], str]]


def print_table(servers: list[Server], args: argparse.Namespace) -> None:
    skein = next((s for s in servers if s.name == "skein"), None)
    etcd = next((s for s in servers if s.name == "etcd"), None)
    n = args.clients
    rows: list[Row] = [
        ("puts/s, 1 client", lambda s, z, k: throughput_of(s, z, k, "put1"), fmt_rate),
        (f"puts/s, {n} clients", lambda s, z, k: throughput_of(s, z, k, "putN"), fmt_rate),
        ("gets/s, 1 client", lambda s, z, k: throughput_of(s, z, k, "get1"), fmt_rate),
        (f"gets/s, {n} clients", lambda s, z, k: throughput_of(s, z, k, "getN"), fmt_rate),
        ("put-to-event p50, ms", lambda s, z, k: watch_of(s, z, k, 50), fmt_ms),
        ("put-to-event p99, ms", lambda s, z, k: watch_of(s, z, k, 99), fmt_ms),
        (
            f"server CPU/put, us ({n})",
            lambda s, z, k: cpu_per_op(s, z, k, "putN", "server"),
            fmt_us,
        ),
        (
            f"server CPU/get, us ({n})",
            lambda s, z, k: cpu_per_op(s, z, k, "getN", "server"),
            fmt_us,
        ),
        (
            f"client CPU/put, us ({n})",
            lambda s, z, k: cpu_per_op(s, z, k, "putN", "clients"),
            fmt_us,
        ),
        (
            f"client CPU/get, us ({n})",
            lambda s, z, k: cpu_per_op(s, z, k, "getN", "clients"),
            fmt_us,
        ),
    ]
    width = 24 + 8  # name, client stack
    head = f"{'':<{width}}"
    sub = f"{'':<{width - 8}} {'stack':<7}"
    for size in args.sizes:
        head += f" | {'value ' + size_name(size):^30}"
        sub += f" | {'skein':>9} {'etcd':>9} {'skein/etcd':>10}"
    print()
    print(head)
    print(sub)
    print("-" * len(sub))
    for name, get, fmt in rows:
        for i, stack in enumerate(args.stacks):
            line = f"{name if i == 0 else '':<{width - 8}} {stack:<7}"
            for size in args.sizes:
                a, b = get(skein, size, stack), get(etcd, size, stack)
                line += f" | {fmt(a):>9} {fmt(b):>9} {fmt_ratio(a, b):>10}"
            print(line)

    print(
        "\nper phase: request latency p50 / p99; CPU use in the window, in % of one core, of the"
        "\nserver process, the client processes, and everything else on the machine; errors"
    )
    for server, size, stack in itertools.product(servers, args.sizes, args.stacks):
        who = f"{server.name:<5} {stack:<7} {size_name(size):>7}"
        for label, op, clients in (
            ("put1", "puts", 1),
            ("putN", "puts", n),
            ("get1", "gets", 1),
            ("getN", "gets", n),
        ):
            result = server.results.get((size, stack, label))
            where = f"{who} {op} {clients:>3} client(s)"
            if isinstance(result, str):
                print(f"  {where}: failed: {result}")
            elif isinstance(result, Throughput):
                by_server = result.server_cpu / result.duration * 100
                by_clients = result.client_cpu / result.duration * 100
                other = result.machine_cpu / result.duration * 100 - by_clients
                other -= 0 if math.isnan(by_server) else by_server
                print(
                    f"  {where} ({result.processes} proc):"
                    f" {fmt_ms(quantile(result.latencies, 50)):>6} / "
                    f"{fmt_ms(quantile(result.latencies, 99)):>6} ms"
                    f"   CPU server {fmt_pct(by_server)} clients {fmt_pct(by_clients)}"
                    f" other {fmt_pct(other)}   errors {result.errors}"
                )
        watch = server.results.get((size, stack, "watch"))
        if isinstance(watch, WatchLatency):
            print(
                f"  {who} watch: put round trip p50 / p99"
                f" {fmt_ms(quantile(watch.put, 50))} / {fmt_ms(quantile(watch.put, 99))} ms,"
                f" {len(watch.put_to_event)} events, {watch.missed} missed"
            )
        elif isinstance(watch, str):
            print(f"  {who} watch: failed: {watch}")

    if skein is not None:
        for size, stack in itertools.product(args.sizes, args.stacks):
            one = skein.results.get((size, stack, "put1"))
            if isinstance(one, Throughput) and 0.035 < quantile(one.latencies, 50) < 0.050:
                print(
                    f"\nnote: Skein's 1-client round trip is ~40 ms ({size_name(size)}, {stack}):"
                    " the mark of Nagle's algorithm meeting delayed ACKs (sockets without"
                    " TCP_NODELAY)"
                )
                break
        print(
            f"\nskein against the targets (>= {TARGET_PUTS:,.0f} puts/s with 32 clients,"
            f" put-to-event p99 <= {TARGET_WATCH_P99 * 1000:.0f} ms):"
        )
        for size, stack in itertools.product(args.sizes, args.stacks):
            puts = throughput_of(skein, size, stack, "putN")
            p99 = watch_of(skein, size, stack, 99)
            puts_ok = "met" if puts >= TARGET_PUTS else "NOT met"
            watch_ok = "met" if p99 <= TARGET_WATCH_P99 else "NOT met"
            note = "" if n == 32 else f" (measured with {n} clients)"
            print(
                f"  {size_name(size):>7} {stack:<7}: {fmt_rate(puts)} puts/s{note}: {puts_ok};"
                f" p99 {fmt_ms(p99)} ms: {watch_ok}"
            )


# -- main ---------------------------------------------------------------------------


@contextlib.contextmanager
def servers_for(args: argparse.Namespace) -> Iterator[list[Server]]:
    servers: list[Server] = []
    with contextlib.ExitStack() as stack:
        if args.no_skein:
            log("skein: skipped (--no-skein)")
        else:
            running, why = cluster_running()
            if not running:
                log(f"skein: unavailable: {why}")
            else:
                try:
                    app = stack.enter_context(SkeinApplication(args.skein_client))
                except Exception as exc:
                    log(f"skein: unavailable: the application failed: {type(exc).__name__}: {exc}")
                else:
                    add_skein(servers, app, args)
        add_etcd(servers, stack, args)
        yield servers


def add_skein(servers: list[Server], app: SkeinApplication, args: argparse.Namespace) -> None:
    assert app.endpoint is not None
    clients = {
        "python": "skein.kv.AsyncKeyValueStore"
        if args.skein_client == "kv"
        else "generated AppMasterStub over skein.api.channel",
        "grpcio": "grpc.aio generic calls",
    }
    client = "; ".join(f"{stack}: {clients[stack]}" for stack in args.stacks)
    log(
        f"skein: {app.app_id}, master at {app.address} (pid {app.pid or 'not found'}),"
        f" mutual TLS, called through {client}; store in memory, not persisted"
    )
    servers.append(Server("skein", app.endpoint, app.pid))


def add_etcd(servers: list[Server], stack: contextlib.ExitStack, args: argparse.Namespace) -> None:
    binary = None if args.no_etcd else etcd_binary()
    if args.no_etcd:
        log("etcd: skipped (--no-etcd)")
    elif binary is None:
        log("etcd: unavailable: no etcd binary (install it: apt-get install etcd-server)")
    else:
        try:
            etcd = stack.enter_context(LocalEtcd(binary))
        except Exception as exc:
            log(f"etcd: unavailable: it did not start: {type(exc).__name__}: {exc}")
            return
        where = "tmpfs (/dev/shm)" if etcd.on_tmpfs else "the default temporary directory"
        log(
            f"etcd:  {etcd.version} at {etcd.host}:{etcd.port} (pid {etcd.pid}), PLAINTEXT"
            f" (no TLS), one member, defaults (WAL fsync on), data dir on {where};"
            " compacted between phases; gets are linearizable (etcd's default);"
            " python: grpclib with generated stubs; grpcio: grpc.aio generic calls"
        )
        servers.append(
            Server("etcd", Endpoint(system="etcd", address=f"{etcd.host}:{etcd.port}"), etcd.pid)
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100, 10240], help="value sizes, bytes"
    )
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="window of each throughput phase"
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument(
        "--processes", type=int, default=4, help="client processes for the concurrent phases"
    )
    parser.add_argument("--watch-puts", type=int, default=2000, help="puts timed per watch phase")
    parser.add_argument(
        "--client-stack",
        choices=[*STACKS, "both"],
        default="both",
        help="client stack of the timed phases (both: each phase once per stack)",
    )
    parser.add_argument(
        "--skein-client",
        choices=["stub", "kv"],
        default="stub",
        help="how the python stack calls Skein (grpcio: always raw calls)",
    )
    parser.add_argument("--no-etcd", action="store_true")
    parser.add_argument("--no-skein", action="store_true")
    args = parser.parse_args()
    args.stacks = list(STACKS) if args.client_stack == "both" else [args.client_stack]

    with tempfile.TemporaryDirectory(prefix="skein-bench-protos-") as generated:
        compile_etcd_protos(generated)
        with servers_for(args) as servers:
            if not servers:
                sys.exit("nothing to measure")
            log(
                f"machine: {os.cpu_count()} CPUs, shared by servers, clients and anything else"
                f" (load average {os.getloadavg()[0]:.2f} at the start);"
                f" client stacks: {', '.join(args.stacks)};"
                f" each client is its own HTTP/2 connection, one request at a time;"
                f" {args.clients} clients over {min(args.processes, args.clients)} processes;"
                f" {args.seconds:g} s per throughput window;"
                f" watch: {args.watch_puts} sequential puts, each awaiting its event"
            )
            run_all(servers, args)
            print_table(servers, args)


if __name__ == "__main__":
    main()
