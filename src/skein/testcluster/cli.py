"""The ``skein-cluster`` command: a local HDFS + YARN for tests and demos."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from skein.errors import TestClusterError
from skein.testcluster.artifacts import DEFAULT_HADOOP_VERSION, SUPPORTED_HADOOP_VERSIONS
from skein.testcluster.cluster import ClusterStatus, TestCluster


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``skein-cluster``."""
    parser = argparse.ArgumentParser(
        prog="skein-cluster",
        description="Run a real HDFS + YARN cluster on this machine (no Docker).",
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="state directory (default: $SKEIN_CLUSTER_DIR)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    up = sub.add_parser("up", help="start the cluster (or reuse a running one)")
    up.add_argument("--nodes", type=int, default=2, help="number of NodeManagers (default 2)")
    up.add_argument(
        "--hadoop-version",
        default=DEFAULT_HADOOP_VERSION,
        help=f"Hadoop release (default {DEFAULT_HADOOP_VERSION}; tested: "
        f"{', '.join(SUPPORTED_HADOOP_VERSIONS)})",
    )
    up.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a Hadoop setting (repeatable)",
    )
    up.add_argument(
        "--site",
        action="append",
        default=[],
        type=Path,
        metavar="FILE.xml",
        help="merge a site file into the generated one of the same name (repeatable)",
    )
    up.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for health")

    sub.add_parser("down", help="stop every process of the cluster")
    sub.add_parser("status", help="show daemons, nodes and HDFS")
    sub.add_parser("env", help='print export lines: eval "$(skein-cluster env)"')
    logs = sub.add_parser("logs", help="show a daemon's log, or list the logs")
    logs.add_argument("daemon", nargs="?")

    for verb, help_text in (
        ("stop-node", "stop a NodeManager gracefully"),
        ("kill-node", "SIGKILL a NodeManager"),
        ("start-node", "start a stopped NodeManager"),
        ("restart-node", "stop and start a NodeManager"),
    ):
        node = sub.add_parser(verb, help=help_text)
        node.add_argument("name", help="NodeManager name: nm1, nm2, ...")

    for verb in ("yarn", "hdfs", "distributed-shell"):
        runner = sub.add_parser(
            verb,
            help=f"run Hadoop's {verb} client against the cluster",
            prefix_chars="\0",  # pass every argument through, dashes included
        )
        runner.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _print_status(status: ClusterStatus) -> None:
    settings = status.settings
    if settings is not None:
        print(f"Hadoop {settings.hadoop_version}, {settings.nodes} NodeManager(s)")
    if not status.daemons:
        print("No cluster has been started here.")
        return
    width = max(len(d.name) for d in status.daemons)
    for d in status.daemons:
        state = f"running (pid {d.pid})" if d.running else "stopped"
        print(f"  {d.name:<{width}}  {state}")
    if status.nodes is not None:
        print("YARN nodes:")
        for node in status.nodes:
            print(f"  {node.id:<16} {node.state}")
    if status.hdfs is not None:
        mode = status.hdfs.safe_mode or "off"
        print(f"HDFS: {status.hdfs.live_datanodes} live DataNode(s), safe mode {mode}")


def main(argv: list[str] | None = None) -> int:
    """Run ``skein-cluster`` and return its exit status."""
    args = build_parser().parse_args(argv)
    cluster = TestCluster(args.dir)
    try:
        command = args.command
        if command == "up":
            cluster.up(
                nodes=args.nodes,
                hadoop_version=args.hadoop_version,
                conf=args.conf,
                site_files=args.site,
                timeout=args.timeout,
            )
        elif command == "down":
            cluster.down()
        elif command == "status":
            status = cluster.status()
            _print_status(status)
            return 0 if status.running else 3
        elif command == "env":
            for key, value in cluster.env().items():
                print(f"export {key}={shlex.quote(value)}")
        elif command == "logs":
            print(cluster.logs(args.daemon))
        elif command in ("stop-node", "kill-node", "start-node", "restart-node"):
            getattr(cluster, command.replace("-", "_"))(args.name)
        else:
            run = {
                "yarn": cluster.yarn,
                "hdfs": cluster.hdfs,
                "distributed-shell": cluster.distributed_shell,
            }[command]
            return run(*args.args, capture=False).returncode
    except TestClusterError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
