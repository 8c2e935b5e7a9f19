"""Entry point of the ``skein`` command.

Command groups mirror the Python API: ``application``, ``container``, ``kv``,
``node``, ``queue``, ``config``, plus Skein 0.8's ``driver`` group, kept as
harmless no-ops (there is no driver).
Errors print ``Error: <message>`` to stderr and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

import skein
from skein.cli.output import format_table, humanize_timedelta, to_json
from skein.cli.running import add_application_commands, add_config, add_container, add_kv
from skein.errors import SkeinError
from skein.yarn.records import ApplicationReport, NodeReport, Queue

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


def _client() -> Any:
    from skein.client.client import Client

    return Client()


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


# -- application ----------------------------------------------------------------


def _application_rows(reports: Sequence[ApplicationReport]) -> str:
    rows = [
        [
            r.id,
            r.name,
            r.state,
            r.final_status,
            r.usage.num_used_containers,
            r.usage.used_resources.vcores,
            r.usage.used_resources.memory,
            humanize_timedelta(r.runtime),
        ]
        for r in reports
    ]
    headers = ["APPLICATION_ID", "NAME", "STATE", "STATUS", "CONTAINERS", "VCORES", "MEMORY"]
    return format_table([*headers, "RUNTIME"], rows)


def _application_ls(args: argparse.Namespace) -> int:
    states = None
    if args.all:
        states = list(skein.ApplicationState)
    elif args.state:
        states = args.state
    types = None if "any" in (args.type or []) else (args.type or ["skein"])
    with _client() as client:
        reports = client.get_applications(
            states=states,
            name=args.name,
            user=args.user,
            queue=args.queue,
            started_begin=args.started_begin,
            started_end=args.started_end,
            finished_begin=args.finished_begin,
            finished_end=args.finished_end,
            types=types,
        )
    print(to_json(reports) if args.json else _application_rows(reports))
    return 0


def _application_status(args: argparse.Namespace) -> int:
    with _client() as client:
        report = client.application_report(args.app_id)
    print(to_json(report) if args.json else _application_rows([report]))
    return 0


def _application_kill(args: argparse.Namespace) -> int:
    with _client() as client:
        client.kill_application(args.app_id, user=args.user or "")
    return 0


def _application_mv(args: argparse.Namespace) -> int:
    with _client() as client:
        client.move_application(args.app_id, args.queue)
    return 0


def _application_submit(args: argparse.Namespace) -> int:
    import os

    from skein.errors import SpecError

    if not os.path.isfile(args.spec):
        raise SkeinError(f"No application specification file at {args.spec!r}")
    try:
        spec = skein.ApplicationSpec.from_file(args.spec)
        with _client() as client:
            app_id = client.submit(spec)
    except SpecError as exc:
        raise SkeinError(f"In file {args.spec!r}: {exc}") from None
    print(app_id)
    return 0


WAIT_EXIT_STATUS = {"SUCCEEDED": 0, "FAILED": 1, "KILLED": 2, "UNDEFINED": 3}
"""``skein application wait`` exits with these statuses, by final status."""


def _application_wait(args: argparse.Namespace) -> int:
    with _client() as client:
        report = client.wait(args.app_id, timeout=args.timeout)
    print(f"{report.id} {report.state} {report.final_status}")
    if report.final_status != "SUCCEEDED" and report.diagnostics not in ("", "N/A"):
        print(report.diagnostics.strip(), file=sys.stderr)
    return WAIT_EXIT_STATUS.get(str(report.final_status), 1)


# `skein application logs`: live from the nodes while the application runs,
# aggregated from HDFS once it has ended.


def _application_logs(args: argparse.Namespace) -> int:
    with _client() as client:
        logs = client.application_logs(args.app_id, user=args.user or "", timeout=args.timeout)
    if logs.source == "live":
        print(f"{args.app_id} is running: logs so far, from its nodes", file=sys.stderr)
    if not logs:
        print(f"No container logs for {args.app_id}", file=sys.stderr)
    logs.dump()
    return 0


def _add_application_logs(commands: Any) -> None:
    logs = commands.add_parser(
        "logs",
        help="show an application's logs",
        description="Print each container's log files: from the nodes while the application "
        "runs, from the aggregated logs once it has ended.",
    )
    logs.add_argument("app_id")
    logs.add_argument("--user", help="read as this user (impersonated by the current one)")
    logs.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds to wait for log aggregation to finish (default 30)",
    )
    logs.set_defaults(handler=_application_logs)


def _add_application(sub: Any) -> None:
    group = sub.add_parser("application", help="manage applications")
    group.set_defaults(group_parser=group)
    commands = group.add_subparsers(dest="subcommand", metavar="COMMAND")

    ls = commands.add_parser("ls", help="list applications")
    ls.add_argument("-a", "--all", action="store_true", help="applications in every state")
    ls.add_argument(
        "-s", "--state", action="append", type=str.upper, help="only this state (repeatable)"
    )
    ls.add_argument("--name", help="only applications with this name")
    ls.add_argument("--queue", help="only applications in this queue")
    ls.add_argument("--user", help="only applications of this user")
    ls.add_argument(
        "-t",
        "--type",
        action="append",
        help="YARN application type (repeatable; default skein; 'any' for every type)",
    )
    for bound in ("started-begin", "started-end", "finished-begin", "finished-end"):
        ls.add_argument(f"--{bound}", help="time bound: YYYY-M-D [H:M[:S]] or H:M[:S]")
    _add_json(ls)
    ls.set_defaults(handler=_application_ls)

    status = commands.add_parser("status", help="status of one application")
    status.add_argument("app_id")
    _add_json(status)
    status.set_defaults(handler=_application_status)

    kill = commands.add_parser("kill", help="kill an application")
    kill.add_argument("app_id")
    kill.add_argument("--user", help="kill as this user (impersonated by the current one)")
    kill.set_defaults(handler=_application_kill)

    submit = commands.add_parser("submit", help="submit an application; prints its id")
    submit.add_argument("spec", help="the application specification (YAML or JSON)")
    submit.set_defaults(handler=_application_submit)

    wait = commands.add_parser(
        "wait",
        help="wait until an application ends",
        description="Wait until an application ends and print its final state. Exit status: "
        "0 SUCCEEDED, 1 FAILED, 2 KILLED, 3 UNDEFINED; 1 also for errors and timeouts.",
    )
    wait.add_argument("app_id")
    wait.add_argument("--timeout", type=float, help="give up after this many seconds")
    wait.set_defaults(handler=_application_wait)

    mv = commands.add_parser("mv", help="move an application to another queue")
    mv.add_argument("app_id")
    mv.add_argument("queue")
    mv.set_defaults(handler=_application_mv)

    _add_application_logs(commands)
    add_application_commands(commands)


# -- node and queue --------------------------------------------------------------


def _node_rows(nodes: Sequence[NodeReport]) -> str:
    rows = [
        [
            n.id,
            n.state,
            n.http_address,
            n.rack_name,
            f"{n.used_resources.memory}/{n.total_resources.memory}",
            f"{n.used_resources.vcores}/{n.total_resources.vcores}",
            n.labels,
        ]
        for n in nodes
    ]
    headers = ["NODE_ID", "STATE", "HTTP_ADDRESS", "RACK", "MEMORY_MB", "VCORES", "LABELS"]
    return format_table(headers, rows)


def _node_ls(args: argparse.Namespace) -> int:
    with _client() as client:
        nodes = client.get_nodes(args.state or None)
    print(to_json(nodes) if args.json else _node_rows(nodes))
    return 0


def _queue_rows(queues: Sequence[Queue]) -> str:
    rows = [
        [q.name, q.state, f"{q.capacity:g}", f"{q.max_capacity:g}", f"{q.percent_used:g}"]
        for q in queues
    ]
    return format_table(["QUEUE", "STATE", "CAPACITY", "MAX_CAPACITY", "PERCENT_USED"], rows)


def _queue_ls(args: argparse.Namespace) -> int:
    with _client() as client:
        if args.queue:
            queues = [client.get_queue(args.queue), *client.get_child_queues(args.queue)]
        else:
            queues = client.get_all_queues()
    print(to_json(queues) if args.json else _queue_rows(queues))
    return 0


def _add_node_and_queue(sub: Any) -> None:
    node = sub.add_parser("node", help="the cluster's nodes")
    node.set_defaults(group_parser=node)
    node_commands = node.add_subparsers(dest="subcommand", metavar="COMMAND")
    ls = node_commands.add_parser("ls", help="list nodes")
    ls.add_argument(
        "-s", "--state", action="append", type=str.upper, help="only this state (repeatable)"
    )
    _add_json(ls)
    ls.set_defaults(handler=_node_ls)

    queue = sub.add_parser("queue", help="the scheduler's queues")
    queue.set_defaults(group_parser=queue)
    queue_commands = queue.add_subparsers(dest="subcommand", metavar="COMMAND")
    qls = queue_commands.add_parser("ls", help="list every queue, or one and its children")
    qls.add_argument("queue", nargs="?", help="only this queue and its children")
    _add_json(qls)
    qls.set_defaults(handler=_queue_ls)


# -- driver (Skein 0.8 compatibility) ----------------------------------------------


def _driver_noop(args: argparse.Namespace) -> int:
    print(
        "skein has no driver process: clients talk to YARN directly, so "
        f"'skein driver {args.subcommand}' has nothing to do.",
        file=sys.stderr,
    )
    return 0


def _add_driver(sub: Any) -> None:
    driver = sub.add_parser("driver", help="no-op, kept for Skein 0.8 scripts")
    driver.set_defaults(group_parser=driver)
    commands = driver.add_subparsers(dest="subcommand", metavar="COMMAND")
    for verb in ("start", "stop", "restart", "address", "pid"):
        command = commands.add_parser(verb, help="no-op")
        command.add_argument("--keytab")
        command.add_argument("--principal")
        command.add_argument("--log")
        command.add_argument("--log-level")
        command.add_argument("--java-option", action="append")
        command.add_argument("-f", "--force", action="store_true")
        command.set_defaults(handler=_driver_noop)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``skein`` command."""
    parser = argparse.ArgumentParser(prog="skein", description="Deploy applications on YARN.")
    parser.add_argument("--version", action="version", version=f"skein {skein.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_application(sub)
    add_container(sub)
    add_kv(sub)
    _add_node_and_queue(sub)
    add_config(sub)
    _add_driver(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``skein`` command and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        # A group without a command prints its usage, as Skein 0.8 did.
        group: argparse.ArgumentParser = getattr(args, "group_parser", parser)
        group.print_usage(sys.stderr)
        return 1
    try:
        return handler(args)
    except KeyError as exc:
        print(f"Error: Key {exc.args[0]!r} is not set", file=sys.stderr)
        return 1
    except (SkeinError, ValueError, TypeError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
