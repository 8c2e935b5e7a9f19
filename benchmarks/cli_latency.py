"""Wall time of ``skein application ls`` from process start to exit.

Run against a running test cluster (``skein-cluster up``):

    python benchmarks/cli_latency.py [--runs 10]

Prints the median and the spread of skein's client beside Hadoop's own
``yarn application -list`` (a JVM) for the same question.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from skein.testcluster import TestCluster


def wall_times(command: list[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def report(label: str, times: list[float]) -> None:
    print(
        f"{label:<42} median {statistics.median(times) * 1000:7.0f} ms"
        f"   min {min(times) * 1000:6.0f}   max {max(times) * 1000:6.0f}   runs {len(times)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    cluster = TestCluster(log=lambda _: None)
    env = {**os.environ, **cluster.env()}
    skein_cli = str(Path(sys.executable).with_name("skein"))
    report("skein application ls", wall_times([skein_cli, "application", "ls"], args.runs, env))
    report(
        "skein application ls --type any -a",
        wall_times([skein_cli, "application", "ls", "--type", "any", "-a"], args.runs, env),
    )
    java_runs = max(3, args.runs // 3)
    java = []
    for _ in range(java_runs):
        started = time.perf_counter()
        cluster.yarn("application", "-list")
        java.append(time.perf_counter() - started)
    report("yarn application -list (Java CLI)", java)


if __name__ == "__main__":
    main()
