"""Submitting an application: check, stage, describe the master's container, submit.

The order matters for failing well. Everything that can be checked without
side effects is checked first — local files exist, the queue exists and is a
leaf, no container exceeds the cluster's maximum — so a bad spec costs no
upload. Once the staging directory exists, any failure removes it again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Final

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.client.runtime_bundle import build_runtime_bundle
from skein.client.staging import (
    RUNTIME_FILE,
    stage_application,
    staging_dir,
)
from skein.errors import SpecError
from skein.fs import FileSystem, filesystem_for
from skein.hadoop.configuration import HadoopConfiguration
from skein.hadoop.user import current_user
from skein.spec import ApplicationSpec, Resources, Security
from skein.yarn.ids import ApplicationId
from skein.yarn.launch import application_acls, environment, local_resources, resource_proto
from skein.yarn.records import Queue
from skein.yarn.resource_manager import ResourceManagerProtocol

__all__ = ["APPLICATION_TYPE", "MASTER_COMMAND", "check_queue", "submit_application"]

log = logging.getLogger(__name__)

APPLICATION_TYPE: Final = "skein"

MASTER_COMMAND: Final = (
    "${SKEIN_PYTHON:-python3} -m skein.master 1><LOG_DIR>/application.master.log 2>&1"
)
"""The master container's command (``<LOG_DIR>`` is YARN's placeholder for its log folder)."""


def _check_resources(spec: ApplicationSpec, maximum: pb.ResourceProto) -> None:
    sized: list[tuple[tuple[str | int, ...], Resources]] = [
        (("master", "resources"), spec.master.resources)
    ]
    sized += [(("services", name, "resources"), s.resources) for name, s in spec.services.items()]
    for parts, resources in sized:
        if resources.memory > maximum.memory:
            raise SpecError(
                f"{resources.memory} MiB is more than the cluster's largest container "
                f"({maximum.memory} MiB)",
                (*parts, "memory"),
            )
        if resources.vcores > maximum.virtual_cores:
            raise SpecError(
                f"{resources.vcores} vcores are more than the cluster's largest container "
                f"({maximum.virtual_cores} vcores)",
                (*parts, "vcores"),
            )


def check_queue(queue: str, children: list[Queue]) -> None:
    """Refuse a parent queue: YARN would accept the submission, then fail the application."""
    if children:
        names = ", ".join(child.name for child in children)
        raise SpecError(
            f"{queue!r} is a parent queue; submit to one of its leaf queues ({names})", ("queue",)
        )


def _master_environment(
    spec: ApplicationSpec, app_id: str, staging_uri: str, user: str, environ: Mapping[str, str]
) -> dict[str, str]:
    env = dict(spec.master.env)
    env.update(
        PYTHONPATH=f"$PWD/{RUNTIME_FILE}",
        PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION="python",
        # The runtime zip has multidict's pure-Python code only, and multidict
        # reads this when first imported (by grpclib, on `import skein`).
        MULTIDICT_NO_EXTENSIONS="1",
        SKEIN_APPLICATION_ID=app_id,
        SKEIN_STAGING_DIR=staging_uri,
        HADOOP_USER_NAME=user,
    )
    if environ.get("LANG"):
        env.setdefault("LANG", environ["LANG"])
    return env


async def submit_application(
    rm: ResourceManagerProtocol,
    spec: ApplicationSpec,
    configuration: HadoopConfiguration,
    *,
    fs: FileSystem | None = None,
    show_progress: bool = True,
    environ: Mapping[str, str] | None = None,
    security: Security | None = None,
) -> str:
    """Submit ``spec`` through ``rm`` (a channel acting as the application's user).

    The caller has checked the local files (:func:`~skein.client.staging.check_local_files`)
    and the queue (:func:`check_queue`) already. The application's credentials
    are ``spec.master.security``, else ``security``, else the user's default.

    Returns:
        The new application's id.

    Raises:
        SpecError: the spec asks for a container above the cluster's maximum,
            or names a remote file that does not exist.
    """
    env = os.environ if environ is None else environ
    new = await rm.get_new_application()
    _check_resources(spec, new.maximumCapability)
    app_id = str(ApplicationId.from_proto(new.application_id))
    user = current_user(spec.user or None).effective_user
    if fs is None:
        fs = filesystem_for(configuration, proxy_user=spec.user or None)
    bundle = build_runtime_bundle()
    staged = None
    try:
        staged = await stage_application(
            spec,
            fs,
            app_id,
            configuration=configuration,
            bundle=bundle,
            environ=env,
            show_progress=show_progress,
            security=security,
        )
        launch = pb.ContainerLaunchContextProto(
            localResources=local_resources(staged.master_files),
            environment=environment(_master_environment(spec, app_id, staged.directory, user, env)),
            command=[MASTER_COMMAND],
            application_ACLs=application_acls(spec.acls),
        )
        context = pb.ApplicationSubmissionContextProto(
            application_id=new.application_id,
            application_name=spec.name,
            queue=spec.queue,
            priority=pb.PriorityProto(priority=0),
            am_container_spec=launch,
            maxAppAttempts=spec.max_attempts,
            resource=resource_proto(spec.master.resources),
            applicationType=APPLICATION_TYPE,
            applicationTags=sorted(spec.tags),
        )
        if spec.node_label:
            context.node_label_expression = spec.node_label
        await rm.submit_application(context)
    except BaseException:
        await _remove_staging(fs, staging_dir(app_id), app_id)
        raise
    log.debug("submitted %s (runtime uploaded: %s)", app_id, staged.runtime_uploaded)
    return app_id


async def _remove_staging(fs: FileSystem, directory: str, app_id: str) -> None:
    try:
        await fs.delete(directory, recursive=True)
    except Exception as exc:  # the submission's own error matters more
        log.warning("could not remove the staging directory of %s: %s", app_id, exc)
