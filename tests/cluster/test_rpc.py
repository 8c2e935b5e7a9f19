"""Hadoop IPC against the real ResourceManager: SASL, tokens, proxy users, multiplexing."""

from __future__ import annotations

import asyncio
import time

import pytest

from skein.client.channels import resource_manager_channel
from skein.errors import AccessControlError, AuthenticationError, ConnectionError
from skein.hadoop.configuration import HadoopConfiguration, load_configuration
from skein.hadoop.sasl import TokenCredential
from skein.hadoop.user import current_user
from skein.testcluster import TestCluster
from skein.yarn.enums import NodeState
from skein.yarn.resource_manager import ResourceManagerProtocol
from skein.yarn.tokens import decode_rm_delegation_token_identifier

pytestmark = pytest.mark.cluster


@pytest.fixture
def configuration(hadoop_cluster: TestCluster) -> HadoopConfiguration:
    return load_configuration()


async def test_delegation_token_authenticates_a_token_connection(
    configuration: HadoopConfiguration,
) -> None:
    simple = resource_manager_channel(configuration)
    token = await ResourceManagerProtocol(simple).get_delegation_token("renewer-x")
    assert token.kind == "RM_DELEGATION_TOKEN"
    identifier = decode_rm_delegation_token_identifier(token.identifier)
    assert identifier.owner == current_user().effective_user
    assert identifier.renewer == "renewer-x"
    assert identifier.max_date > identifier.issue_date > 0
    with_token = resource_manager_channel(
        configuration, token=TokenCredential(token.identifier, token.password)
    )
    try:
        nodes = await ResourceManagerProtocol(with_token).get_cluster_nodes([NodeState.RUNNING])
        assert len(nodes) == 2
    finally:
        await simple.aclose()
        await with_token.aclose()


async def test_wrong_token_password_is_refused(configuration: HadoopConfiguration) -> None:
    simple = resource_manager_channel(configuration)
    token = await ResourceManagerProtocol(simple).get_delegation_token("root")
    forged = resource_manager_channel(
        configuration, token=TokenCredential(token.identifier, b"not the password")
    )
    try:
        with pytest.raises(AuthenticationError, match="localhost:8032 refused authentication"):
            await ResourceManagerProtocol(forged).get_cluster_nodes()
    finally:
        await simple.aclose()
        await forged.aclose()


async def test_proxy_user_rule_allows_one_user_and_not_another(
    hadoop_cluster: TestCluster, configuration: HadoopConfiguration
) -> None:
    users = hadoop_cluster.users
    allowed = resource_manager_channel(configuration, proxy_user=users.proxied)
    refused = resource_manager_channel(configuration, proxy_user=users.not_proxied)
    try:
        assert await ResourceManagerProtocol(allowed).get_cluster_nodes()
        refusal = f"not allowed to impersonate {users.not_proxied}"
        with pytest.raises(AccessControlError, match=refusal):
            await ResourceManagerProtocol(refused).get_cluster_nodes()
    finally:
        await allowed.aclose()
        await refused.aclose()


async def test_concurrent_calls_share_one_connection(configuration: HadoopConfiguration) -> None:
    channel = resource_manager_channel(configuration)
    rm = ResourceManagerProtocol(channel)
    try:
        results = await asyncio.gather(*(rm.get_cluster_nodes() for _ in range(32)))
        assert all(len(nodes) == 2 for nodes in results)
        (connection,) = channel.connections
        assert connection.connected
    finally:
        await channel.aclose()


async def test_unreachable_resource_managers_are_all_named(
    configuration: HadoopConfiguration,
) -> None:
    # An HA pair where nothing listens: both addresses must be tried and named.
    unreachable = configuration.with_values(
        {
            "yarn.resourcemanager.ha.enabled": "true",
            "yarn.resourcemanager.ha.rm-ids": "rm1,rm2",
            "yarn.resourcemanager.address.rm1": "localhost:1",
            "yarn.resourcemanager.address.rm2": "127.0.0.1:2",
        }
    )
    channel = resource_manager_channel(unreachable, connect_timeout=2)
    started = time.monotonic()
    try:
        with pytest.raises(ConnectionError, match=r"localhost:1, 127\.0\.0\.1:2 within 2 s"):
            await ResourceManagerProtocol(channel).get_cluster_nodes()
    finally:
        await channel.aclose()
    assert time.monotonic() - started < 10
