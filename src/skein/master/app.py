"""The master process: reads its context, wires the parts together, runs the attempt.

This is the composition root behind ``python -m skein.master``: it builds the
real scheduler session, NodeManager connections and staging cleanup for
:class:`~skein.master.runtime.MasterRuntime`, installs the signal handlers and
sets up logging (to stderr, which the launch command sends to
``application.master.log``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import sys
from collections.abc import Mapping
from typing import Final

from skein.api.kv_service import KeyValueService
from skein.api.server import RpcServer, start_server
from skein.api.servicer import AppMasterServicer
from skein.client.channels import resource_manager_channel
from skein.container_properties import CERT_FILE, KEY_FILE
from skein.errors import SkeinError
from skein.fs import filesystem_for
from skein.hadoop.sasl import TokenCredential
from skein.kvstore import Owner
from skein.master.containers import Container
from skein.master.context import MasterContext, load_context
from skein.master.control import MasterControl
from skein.master.node_managers import NodeManagers
from skein.master.runtime import EXIT_ATTEMPT_FAILED, MasterRuntime
from skein.master.scheduler_session import SchedulerSession, scheduler_channel
from skein.spec import LogLevel, Security
from skein.yarn.resource_manager import ResourceManagerProtocol

__all__ = ["configure_logging", "main"]

log = logging.getLogger("skein.master")

_LEVELS: Final = {
    LogLevel.ALL: logging.DEBUG,
    LogLevel.TRACE: logging.DEBUG,
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.INFO: logging.INFO,
    LogLevel.WARN: logging.WARNING,
    LogLevel.ERROR: logging.ERROR,
    LogLevel.FATAL: logging.CRITICAL,
    LogLevel.OFF: logging.CRITICAL + 1,
}
_RACK_LOOKUP_TIMEOUT: Final = 20.0
ADDRESS_ENV: Final = "SKEIN_APPMASTER_ADDRESS"


def configure_logging(level: LogLevel = LogLevel.INFO) -> None:
    """Log to stderr at ``level`` (log4j's names, as ``master.log_level`` gives them).

    Only skein's loggers follow ``level``; others log warnings and above.
    """
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.getLogger("skein").setLevel(_LEVELS[level])


async def _racks_of(context: MasterContext) -> Mapping[str, str]:
    """Each node's rack, when a service names nodes (their racks go into its requests)."""
    if not any(service.nodes for service in context.spec.services.values()):
        return {}
    channel = resource_manager_channel(context.configuration)
    try:
        nodes = await asyncio.wait_for(
            ResourceManagerProtocol(channel).get_cluster_nodes(), _RACK_LOOKUP_TIMEOUT
        )
    except (SkeinError, OSError, asyncio.TimeoutError) as exc:
        log.warning("cannot look up the nodes' racks (assuming the default rack): %s", exc)
        return {}
    finally:
        await channel.aclose()
    racks = {node.id.rsplit(":", 1)[0]: node.rack_name for node in nodes}
    log.debug("racks of the nodes: %s", racks)
    return racks


async def _serve_api(runtime: MasterRuntime, context: MasterContext) -> RpcServer:
    """Serve the application's gRPC API; completed containers' keys go with them."""
    control = MasterControl(runtime, context.spec)
    kv = KeyValueService(check_owner=lambda o: control.owner_error(o.service_name, o.instance))

    def release_keys(container: Container) -> None:
        if not container.state.is_active:
            released = kv.release_owner(Owner(container.service_name, container.instance))
            if released:
                log.debug("deleted %d keys owned by %s", released, container.id)

    runtime.container_hooks.append(release_keys)
    security = Security(cert_file=CERT_FILE, key_file=KEY_FILE)
    return await start_server([AppMasterServicer(control, kv)], security)


async def _run(context: MasterContext) -> int:
    token = context.am_rm_token
    session = SchedulerSession(
        scheduler_channel(context.configuration, TokenCredential(token.identifier, token.password)),
        host=context.host,
    )
    node_managers = NodeManagers()

    async def remove_staging() -> None:
        if not context.staging_dir:
            return
        fs = filesystem_for(context.staging_dir, configuration=context.configuration)
        if await fs.delete(context.staging_dir, recursive=True):
            log.info("removed the staging directory %s", context.staging_dir)

    runtime = MasterRuntime(
        context,
        session=session,
        node_managers=node_managers,
        remove_staging=remove_staging,
        racks_of=await _racks_of(context),
    )
    try:
        server = await _serve_api(runtime, context)
    except (OSError, ValueError) as exc:
        log.critical("cannot serve the application's API: %s", exc)
        await session.aclose()
        return EXIT_ATTEMPT_FAILED
    address = f"{context.host}:{server.port}"
    log.info("serving the application's API on %s", address)
    session.rpc_port = server.port
    # Containers and the master script find the API through this variable.
    runtime.context = dataclasses.replace(
        context, environ={**context.environ, ADDRESS_ENV: address}
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, runtime.request_stop, signum)
    try:
        return await runtime.run()
    finally:
        await server.close()
        await node_managers.aclose()
        await session.aclose()


def main() -> int:
    """Run the master in this container; return the exit code."""
    configure_logging()
    try:
        context = load_context()
    except (SkeinError, ValueError) as exc:
        log.critical("cannot start the master: %s", exc)
        return EXIT_ATTEMPT_FAILED
    configure_logging(context.spec.master.log_level)
    return asyncio.run(_run(context))
