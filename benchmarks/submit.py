"""Submission speed and the master's memory, beside YARN's distributed shell.

Run against a running test cluster (``skein-cluster up``), at YARN's default
heartbeat intervals:

    python benchmarks/submit.py [--sizes 1 10 50] [--no-dshell]

For each size N, an application of N containers of 128 MiB running ``sleep``:

* submit: wall and client CPU time of ``Client.submit`` (staging included);
* RUNNING: from the start of the submission until YARN reports the application RUNNING;
* all running: until the NodeManagers report N + 1 containers RUNNING (the master too);
* master RSS: resident memory of the master's process once all containers run.

The same figures for Hadoop's distributed shell (a Java master) follow, where
its client can be timed the same way (it is a JVM, so its CPU time is not shown).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import skein
from skein.testcluster import TestCluster

POLL = 0.05


def running_containers(nodes: list[str], app_id: str) -> int:
    """Containers of ``app_id`` the NodeManagers report RUNNING."""
    suffix = app_id.removeprefix("application_")
    count = 0
    for node in nodes:
        with urllib.request.urlopen(f"http://{node}/ws/v1/node/containers", timeout=10) as r:
            body = json.load(r)
        containers = (body.get("containers") or {}).get("container", [])
        count += sum(1 for c in containers if f"_{suffix}_" in c["id"] and c["state"] == "RUNNING")
    return count


def wait_until(condition: Callable[[], bool], timeout: float = 600) -> float:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached")
        time.sleep(POLL)
    return time.perf_counter()


def master_rss_mib(app_id: str, program: str, marker: str) -> float:
    """Resident memory of the master process of ``app_id``.

    The master's container runs a shell wrapper around it, so the process is
    found by its program (``python3`` or ``java``) and a marker in its command line.
    """
    suffix = app_id.removeprefix("application_")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        name = os.path.basename(argv[0].decode(errors="replace"))
        command = b" ".join(argv).decode(errors="replace")
        if (
            name.startswith(program)
            and marker in command
            and f"container_{suffix}_01_000001" in cwd
        ):
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    return float("nan")


def state_is(client: skein.Client, app_id: str, state: str) -> Callable[[], bool]:
    return lambda: str(client.application_report(app_id).state) == state


def bench_skein(client: skein.Client, nodes: list[str], size: int) -> None:
    spec = skein.ApplicationSpec.from_dict(
        {
            "name": f"bench-{size}",
            "services": {
                "sleeper": {
                    "resources": {"memory": 128, "vcores": 1},
                    "instances": size,
                    "script": "sleep 600",
                }
            },
        }
    )
    started = time.perf_counter()
    cpu = time.process_time()
    app_id = client.submit(spec, show_progress=False)
    submitted = time.perf_counter()
    cpu = time.process_time() - cpu
    try:
        running = wait_until(state_is(client, app_id, "RUNNING"))
        everything = wait_until(lambda: running_containers(nodes, app_id) >= size + 1)
        rss = master_rss_mib(app_id, "python", "skein.master")
    finally:
        client.kill_application(app_id)
    print(
        f"skein        N={size:<3} submit {submitted - started:6.2f} s (client CPU {cpu:5.2f} s)"
        f"   RUNNING {running - started:6.2f} s   all running {everything - started:6.2f} s"
        f"   master RSS {rss:6.1f} MiB"
    )


def bench_dshell(cluster: TestCluster, client: skein.Client, nodes: list[str], size: int) -> None:
    name = f"bench-dshell-{size}-{time.time_ns()}"
    started = time.perf_counter()
    thread = threading.Thread(
        target=cluster.distributed_shell,
        args=(
            "-appname",
            name,
            "-shell_command",
            "sleep 600",
            "-num_containers",
            str(size),
            "-container_memory",
            "128",
            "-master_memory",
            "512",
        ),
        daemon=True,
    )
    thread.start()
    app_id = ""

    def found() -> bool:
        nonlocal app_id
        apps = client.get_applications(name=name, types=None, states=list(skein.ApplicationState))
        app_id = apps[0].id if apps else ""
        return bool(app_id)

    wait_until(found)
    try:
        running = wait_until(state_is(client, app_id, "RUNNING"))
        everything = wait_until(lambda: running_containers(nodes, app_id) >= size + 1)
        rss = master_rss_mib(app_id, "java", "ApplicationMaster")
    finally:
        client.kill_application(app_id)
    print(
        f"dist. shell  N={size:<3} submit      -                       "
        f"   RUNNING {running - started:6.2f} s   all running {everything - started:6.2f} s"
        f"   master RSS {rss:6.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--no-dshell", action="store_true", help="skip distributed shell")
    args = parser.parse_args()
    cluster = TestCluster(log=lambda _: None)
    os.environ.update(cluster.env())
    with skein.Client() as client:
        nodes = [n.http_address for n in client.get_nodes(["RUNNING"])]
        print("warm-up (caches the master runtime on HDFS if this version never ran):")
        bench_skein(client, nodes, 1)
        print()
        for size in args.sizes:
            bench_skein(client, nodes, size)
            if not args.no_dshell:
                bench_dshell(cluster, client, nodes, size)


if __name__ == "__main__":
    main()
