"""The ApplicationMaster side of YARN, spoken from Python against the real cluster.

An unmanaged application master (the test process itself) takes its AMRMToken
from the application report, registers over TOKEN-only SASL, asks for a
container, starts it on its NodeManager with the NMToken, sees it complete and
unregisters: every AM-side protocol the pure-Python master needs.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import pytest

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.client.channels import resource_manager_channel
from skein.hadoop.addresses import RMService, rm_addresses
from skein.hadoop.configuration import HadoopConfiguration, load_configuration
from skein.hadoop.sasl import TokenCredential
from skein.hadoop.transport import RpcConnection
from skein.testcluster import TestCluster
from skein.yarn import node_manager, scheduler
from skein.yarn.enums import FinalStatus
from skein.yarn.ids import ApplicationAttemptId, ApplicationId
from skein.yarn.node_manager import NodeManagerProtocol
from skein.yarn.resource_manager import ResourceManagerProtocol
from skein.yarn.scheduler import SchedulerProtocol
from skein.yarn.tokens import am_rm_token_attempt

pytestmark = pytest.mark.cluster


async def wait_for_am_rm_token(
    rm: ResourceManagerProtocol, app_id: ApplicationId
) -> pb.ApplicationReportProto:
    # The report carries the AMRMToken only while the attempt is LAUNCHED.
    deadline = time.monotonic() + 60
    while True:
        report = await rm.get_application_report_proto(app_id)
        if report.HasField("am_rm_token") and report.am_rm_token.identifier:
            return report
        assert time.monotonic() < deadline, report
        await asyncio.sleep(0.2)


async def run_unmanaged_master(configuration: HadoopConfiguration, marker: str) -> str:
    channel = resource_manager_channel(configuration)
    rm = ResourceManagerProtocol(channel)
    new = await rm.get_new_application()
    app_id = ApplicationId.from_proto(new.application_id)
    await rm.submit_application(
        pb.ApplicationSubmissionContextProto(
            application_id=new.application_id,
            application_name="unmanaged-master-test",
            queue="default",
            unmanaged_am=True,
            am_container_spec=pb.ContainerLaunchContextProto(),
            applicationType="skein",
        )
    )
    report = await wait_for_am_rm_token(rm, app_id)
    token = report.am_rm_token
    assert am_rm_token_attempt(token.identifier) == ApplicationAttemptId.from_proto(
        report.currentApplicationAttemptId
    )
    (address,) = rm_addresses(configuration, RMService.SCHEDULER)
    am_channel = RpcConnection(
        address.host,
        address.port,
        scheduler.PROTOCOL_NAME,
        token=TokenCredential(token.identifier, token.password),
    )
    master = SchedulerProtocol(am_channel)
    registered = await master.register("localhost", 0)
    assert registered.maximumCapability.memory >= 128

    ask = pb.ResourceRequestProto(
        priority=pb.PriorityProto(priority=1),
        resource_name="*",
        capability=pb.ResourceProto(memory=128, virtual_cores=1),
        num_containers=1,
        relax_locality=True,
    )
    response_id, containers, nm_tokens = 0, [], {}
    deadline = time.monotonic() + 60
    while not containers:
        response = await master.allocate(response_id, asks=[ask] if response_id == 0 else [])
        response_id = response.response_id
        containers += list(response.allocated_containers)
        nm_tokens.update({f"{t.nodeId.host}:{t.nodeId.port}": t.token for t in response.nm_tokens})
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    (container,) = containers
    node = f"{container.nodeId.host}:{container.nodeId.port}"
    nm_token = nm_tokens[node]
    nm_channel = RpcConnection(
        container.nodeId.host,
        container.nodeId.port,
        node_manager.PROTOCOL_NAME,
        token=TokenCredential(nm_token.identifier, nm_token.password),
    )
    launch = pb.ContainerLaunchContextProto(
        command=[f"echo {marker} 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr"]
    )
    started = await NodeManagerProtocol(nm_channel).start_containers(
        [(launch, container.container_token)]
    )
    assert not started.failed_requests, started.failed_requests
    assert list(started.succeeded_requests) == [container.id]

    exit_status = None
    while exit_status is None:
        response = await master.allocate(response_id)
        response_id = response.response_id
        for status in response.completed_container_statuses:
            if status.container_id == container.id:
                exit_status = status.exit_status
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    assert exit_status == 0

    # Unregistering completes asynchronously: the protocol says to call again.
    for _ in range(300):
        if await master.finish(FinalStatus.SUCCEEDED, "unmanaged master test"):
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError("the master was never unregistered")
    for closing in (nm_channel, am_channel):
        await closing.aclose()
    while (await rm.get_application_report(app_id)).state != "FINISHED":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    await channel.aclose()
    return str(app_id)


async def test_unmanaged_master_runs_a_container(hadoop_cluster: TestCluster) -> None:
    marker = f"hello-from-python-master-{uuid.uuid4().hex[:8]}"
    app_id = await run_unmanaged_master(load_configuration(), marker)

    status = hadoop_cluster.yarn("application", "-status", app_id).stdout
    assert re.search(r"Final-State : SUCCEEDED", status), status
    # The container's output reaches HDFS through log aggregation.
    deadline = time.monotonic() + 60
    logs = ""
    while marker not in logs and time.monotonic() < deadline:
        await asyncio.sleep(1)
        logs = hadoop_cluster.yarn("logs", "-applicationId", app_id).stdout
    assert marker in logs
