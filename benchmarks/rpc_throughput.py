"""getClusterNodes calls per second on one connection to the test cluster's ResourceManager.

Run against a running test cluster (``skein-cluster up``):

    python benchmarks/rpc_throughput.py [--seconds 5]

Prints sequential calls (one at a time) beside 32 concurrent callers
multiplexed on the same connection, with latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from skein.client.channels import resource_manager_channel
from skein.hadoop.configuration import load_configuration
from skein.testcluster import TestCluster
from skein.yarn.resource_manager import ResourceManagerProtocol


async def run(callers: int, seconds: float) -> tuple[int, list[float]]:
    channel = resource_manager_channel(load_configuration())
    rm = ResourceManagerProtocol(channel)
    await rm.get_cluster_nodes()  # connect before timing
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def caller() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await rm.get_cluster_nodes()
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(caller() for _ in range(callers)))
    await channel.aclose()
    return len(latencies), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    os.environ.update(TestCluster(log=lambda _: None).env())
    for callers in (1, 32):
        count, latencies = asyncio.run(run(callers, args.seconds))
        cuts = statistics.quantiles(latencies, n=100)
        print(
            f"getClusterNodes, {callers:>2} caller(s): {count / args.seconds:8.0f} calls/s"
            f"   p50 {cuts[49] * 1000:6.2f} ms   p99 {cuts[98] * 1000:6.2f} ms"
        )


if __name__ == "__main__":
    main()
