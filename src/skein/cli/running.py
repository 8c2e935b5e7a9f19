"""``skein`` commands that talk to a running application's master.

``container``, ``kv``, ``application shutdown|specification``, plus
``config gencerts``. Every ``APP_ID`` may be the literal ``current``, which
inside a Skein container (or master script) means the application it belongs to.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from skein.cli.output import format_table, humanize_timedelta

if TYPE_CHECKING:
    from skein.client.application_client import ApplicationClient

__all__ = ["add_application_commands", "add_config", "add_container", "add_kv"]

_APP_ID_HELP = "the application's id, or 'current' inside one of its containers"


@contextmanager
def _application(app_id: str) -> Iterator[ApplicationClient]:
    from skein.client.application_client import ApplicationClient
    from skein.client.client import Client

    if app_id == "current":
        app = ApplicationClient.from_current()
    else:
        with Client() as client:
            app = client.connect(app_id, wait=False)
    try:
        yield app
    finally:
        app.close()


# -- application ------------------------------------------------------------------


def _shutdown(args: argparse.Namespace) -> int:
    with _application(args.app_id) as app:
        app.shutdown(args.status, args.diagnostics)
    return 0


def _specification(args: argparse.Namespace) -> int:
    with _application(args.app_id) as app:
        spec = app.get_specification()
    print(spec.to_yaml(), end="")
    return 0


def add_application_commands(commands: Any) -> None:
    """Add ``shutdown`` and ``specification`` to the ``application`` group."""
    shutdown = commands.add_parser("shutdown", help="end a running application")
    shutdown.add_argument("app_id", help=_APP_ID_HELP)
    shutdown.add_argument(
        "--status",
        default="SUCCEEDED",
        type=str.upper,
        choices=["SUCCEEDED", "FAILED", "KILLED"],
        help="its final status (default SUCCEEDED)",
    )
    shutdown.add_argument("--diagnostics", help="the message YARN shows")
    shutdown.set_defaults(handler=_shutdown)

    spec = commands.add_parser("specification", help="print a running application's spec")
    spec.add_argument("app_id", help=_APP_ID_HELP)
    spec.set_defaults(handler=_specification)


# -- container --------------------------------------------------------------------


def _container_ls(args: argparse.Namespace) -> int:
    from skein.master.containers import ContainerState

    states = list(ContainerState) if args.all else args.state
    with _application(args.app_id) as app:
        containers = app.get_containers(args.service, states)
    rows = [[c.service_name, c.id, c.state, humanize_timedelta(c.runtime)] for c in containers]
    print(format_table(["SERVICE", "ID", "STATE", "RUNTIME"], rows))
    return 0


def _container_kill(args: argparse.Namespace) -> int:
    with _application(args.app_id) as app:
        app.kill_container(args.id)
    return 0


def _container_scale(args: argparse.Namespace) -> int:
    with _application(args.app_id) as app:
        app.scale(args.service, count=args.number)
    return 0


def add_container(sub: Any) -> None:
    """Add the ``container`` group: ``ls``, ``kill``, ``scale``."""
    group = sub.add_parser("container", help="the containers of a running application")
    group.set_defaults(group_parser=group)
    commands = group.add_subparsers(dest="subcommand", metavar="COMMAND")

    ls = commands.add_parser("ls", help="list containers")
    ls.add_argument("app_id", help=_APP_ID_HELP)
    ls.add_argument("-a", "--all", action="store_true", help="containers in every state")
    ls.add_argument("--service", action="append", help="only this service (repeatable)")
    ls.add_argument("--state", action="append", type=str.upper, help="only this state (repeatable)")
    ls.set_defaults(handler=_container_ls)

    kill = commands.add_parser("kill", help="kill a container")
    kill.add_argument("app_id", help=_APP_ID_HELP)
    kill.add_argument("--id", required=True, help="the container's id, e.g. worker_2")
    kill.set_defaults(handler=_container_kill)

    scale = commands.add_parser("scale", help="set a service's number of containers")
    scale.add_argument("app_id", help=_APP_ID_HELP)
    scale.add_argument("-s", "--service", required=True, help="the service")
    scale.add_argument(
        "-n", "--number", required=True, type=int, help="the total number of containers"
    )
    scale.set_defaults(handler=_container_scale)


# -- kv -----------------------------------------------------------------------------


def _kv_get(args: argparse.Namespace) -> int:
    with _application(args.app_id) as app:
        value = app.kv.wait(args.key) if args.wait else app.kv[args.key]
    sys.stdout.buffer.write(value + b"\n")
    sys.stdout.flush()
    return 0


def _kv_put(args: argparse.Namespace) -> int:
    value = sys.stdin.buffer.read() if args.value is None else args.value.encode()
    with _application(args.app_id) as app:
        app.kv[args.key] = value
    return 0


def _kv_del(args: argparse.Namespace) -> int:
    with _application(args.app_id) as app:
        del app.kv[args.key]
    return 0


def _kv_ls(args: argparse.Namespace) -> int:
    with _application(args.app_id) as app:
        keys = app.kv.list_keys()
    for key in keys:
        print(key)
    return 0


def add_kv(sub: Any) -> None:
    """Add the ``kv`` group: ``get``, ``put``, ``del``, ``ls``."""
    group = sub.add_parser("kv", help="the key-value store of a running application")
    group.set_defaults(group_parser=group)
    commands = group.add_subparsers(dest="subcommand", metavar="COMMAND")

    get = commands.add_parser("get", help="print a key's value")
    get.add_argument("app_id", help=_APP_ID_HELP)
    get.add_argument("--key", required=True)
    get.add_argument("--wait", action="store_true", help="wait until the key is set")
    get.set_defaults(handler=_kv_get)

    put = commands.add_parser("put", help="set a key")
    put.add_argument("app_id", help=_APP_ID_HELP)
    put.add_argument("--key", required=True)
    put.add_argument("--value", help="the value (default: read bytes from stdin)")
    put.set_defaults(handler=_kv_put)

    delete = commands.add_parser("del", help="delete a key")
    delete.add_argument("app_id", help=_APP_ID_HELP)
    delete.add_argument("--key", required=True)
    delete.set_defaults(handler=_kv_del)

    ls = commands.add_parser("ls", help="list the keys, sorted")
    ls.add_argument("app_id", help=_APP_ID_HELP)
    ls.set_defaults(handler=_kv_ls)


# -- config -------------------------------------------------------------------------


def _gencerts(args: argparse.Namespace) -> int:
    from skein.container_properties import Properties
    from skein.spec import Security

    directory = Properties().config_dir
    Security.new_credentials().to_directory(directory, force=args.force)
    print(f"wrote new credentials to {directory}", file=sys.stderr)
    return 0


def add_config(sub: Any) -> None:
    """Add the ``config`` group: ``gencerts``."""
    group = sub.add_parser("config", help="skein's own configuration")
    group.set_defaults(group_parser=group)
    commands = group.add_subparsers(dest="subcommand", metavar="COMMAND")
    gencerts = commands.add_parser(
        "gencerts", help="make new TLS credentials (skein.crt, skein.pem) in ~/.skein"
    )
    gencerts.add_argument("-f", "--force", action="store_true", help="replace existing ones")
    gencerts.set_defaults(handler=_gencerts)
