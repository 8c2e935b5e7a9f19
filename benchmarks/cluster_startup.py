"""Times of the test cluster's life cycle: cold fetch, warm up, down.

Run: python benchmarks/cluster_startup.py [--cold]

``--cold`` also fetches Hadoop into an empty jar cache and an empty Maven
repository (downloads included), as on a fresh machine. The running cluster,
if any, is taken down and brought back up.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from skein.testcluster import TestCluster
from skein.testcluster.artifacts import DEFAULT_HADOOP_VERSION, fetch_hadoop


def timed(label: str, action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    print(f"{label:<40} {elapsed:7.1f} s", flush=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", action="store_true", help="also time a fetch from scratch")
    parser.add_argument("--version", default=DEFAULT_HADOOP_VERSION)
    args = parser.parse_args()
    quiet = TestCluster(log=lambda _: None)
    if args.cold:
        scratch = Path(tempfile.mkdtemp(prefix="skein-cold-", dir="/tmp"))
        scratch.chmod(0o755)
        saved = os.environ.get("MAVEN_OPTS")
        os.environ["MAVEN_OPTS"] = f"-Dmaven.repo.local={scratch / 'm2'}"
        try:
            timed(
                "fetch Hadoop jars (empty caches)",
                lambda: fetch_hadoop(args.version, cache_dir=scratch / "jars", log=lambda _: None),
            )
        finally:
            if saved is None:
                os.environ.pop("MAVEN_OPTS")
            else:
                os.environ["MAVEN_OPTS"] = saved
            shutil.rmtree(scratch, ignore_errors=True)
    timed("down", quiet.down)
    timed("up (warm: jars cached, HDFS formatted)", lambda: quiet.up(hadoop_version=args.version))
    timed("up again (already running)", lambda: quiet.up(hadoop_version=args.version))
    timed("yarn node -list (Java CLI)", lambda: quiet.yarn("node", "-list"))


if __name__ == "__main__":
    main()
