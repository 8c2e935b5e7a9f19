"""Upload throughput to HDFS: skein's WebHDFS client beside Hadoop's ``hdfs dfs -put``.

Run against a running test cluster (``skein-cluster up``):

    python benchmarks/upload.py [--megabytes 100] [--repeat 3]

Uploads one file of random bytes with each client and prints MB/s (best and
median of ``--repeat`` runs; the DataNode's disk makes single runs noisy). The
Java CLI's time includes starting its JVM, as every real use of it does; the
time of putting an empty file is printed too, so the transfer rate alone can be
estimated from the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from skein.fs import WebHdfsFileSystem, filesystem_for
from skein.hadoop.configuration import load_configuration
from skein.testcluster import TestCluster


def make_file(folder: Path, megabytes: int) -> Path:
    path = folder / "payload.bin"
    with open(path, "wb") as file:
        for _ in range(megabytes):
            file.write(os.urandom(1_000_000))
    return path


async def webhdfs_seconds(fs: WebHdfsFileSystem, source: Path, size: int, target: str) -> float:
    started = time.perf_counter()
    status = await fs.upload(source, target, overwrite=True)
    elapsed = time.perf_counter() - started
    assert status.size == size
    return elapsed


def put_seconds(cluster: TestCluster, source: Path, target: str) -> float:
    started = time.perf_counter()
    result = cluster.hdfs("dfs", "-put", "-f", str(source), target)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"hdfs dfs -put failed: {result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cluster = TestCluster(log=lambda _: None)
    os.environ.update(cluster.env())
    fs = filesystem_for(load_configuration())
    assert isinstance(fs, WebHdfsFileSystem)
    folder = f"skein-upload-benchmark-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as local:
        source = make_file(Path(local), args.megabytes)
        empty = Path(local) / "empty"
        empty.touch()
        home = asyncio.run(fs.home_directory())
        try:
            target = f"{home}/{folder}/payload.bin"
            asyncio.run(fs.mkdirs(f"{home}/{folder}"))
            ours = [
                asyncio.run(webhdfs_seconds(fs, source, source.stat().st_size, target))
                for _ in range(args.repeat)
            ]
            theirs = [put_seconds(cluster, source, target) for _ in range(args.repeat)]
            startup = [
                put_seconds(cluster, empty, f"{home}/{folder}/empty") for _ in range(args.repeat)
            ]
        finally:
            asyncio.run(fs.delete(f"{home}/{folder}", recursive=True))
    size = args.megabytes
    print(f"{size} MB, {args.repeat} runs each (seconds: best / median; MB/s of each):")
    for label, runs, note in (
        ("skein WebHDFS", ours, ""),
        ("hdfs dfs -put", theirs, "  (JVM start included)"),
    ):
        best, median = min(runs), statistics.median(runs)
        print(
            f"  {label:<14} {best:5.2f} / {median:5.2f} s"
            f"  {size / best:6.1f} / {size / median:6.1f} MB/s{note}"
        )
    start = statistics.median(startup)
    print(f"  hdfs dfs -put of an empty file: {start:.2f} s (JVM start and one create)")
    if statistics.median(theirs) > start:
        rate = size / (statistics.median(theirs) - start)
        print(f"  hdfs dfs -put, transfer alone (median minus that): ~{rate:.1f} MB/s")


if __name__ == "__main__":
    main()
