"""RPC channels to the cluster's services, built from the Hadoop configuration."""

from __future__ import annotations

from skein.hadoop.addresses import RMService, rm_addresses
from skein.hadoop.configuration import HadoopConfiguration
from skein.hadoop.failover import FailoverChannel
from skein.hadoop.sasl import TokenCredential
from skein.hadoop.transport import RpcConnection
from skein.hadoop.user import current_user
from skein.yarn.resource_manager import PROTOCOL_NAME

__all__ = ["resource_manager_channel"]


def resource_manager_channel(
    configuration: HadoopConfiguration,
    *,
    proxy_user: str | None = None,
    token: TokenCredential | None = None,
    connect_timeout: float | None = None,
) -> FailoverChannel:
    """A channel to the ResourceManager's client protocol, over every HA address.

    Args:
        configuration: where the ResourceManagers are, and the IPC timeouts
            (``ipc.client.connect.timeout``, ``ipc.client.rpc-timeout.ms``,
            ``ipc.ping.interval``).
        proxy_user: act for this user (the current user impersonates it).
        token: authenticate with this token (e.g. an RM delegation token)
            instead of as the current user.
        connect_timeout: seconds to reach a ResourceManager, failover included
            (default: ``ipc.client.connect.timeout``).
    """
    connect = configuration.get_time_duration("ipc.client.connect.timeout", 20000) / 1000
    rpc_timeout = configuration.get_time_duration("ipc.client.rpc-timeout.ms", 120000) / 1000
    ping = configuration.get_time_duration("ipc.ping.interval", 60000) / 1000
    user = current_user(proxy_user)
    connections = [
        RpcConnection(
            address.host,
            address.port,
            PROTOCOL_NAME,
            user=user,
            token=token,
            connect_timeout=connect,
            call_timeout=rpc_timeout or None,
            ping_interval=ping,
        )
        for address in rm_addresses(configuration, RMService.CLIENT)
    ]
    return FailoverChannel(connections, timeout=connect_timeout or connect)
