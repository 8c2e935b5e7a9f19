"""Launch contexts of service containers, and the master script's environment.

Both follow ``docs/master.md``: a service container gets its staged files
(``.skein.sh`` among them), the service's environment with skein's variables
on top, the master's tokens minus the AMRMToken, and a command that runs the
script with its output in ``<LOG_DIR>/<service>.log``.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Final

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.master.actions import Launch
from skein.spec import ApplicationSpec, Resources
from skein.yarn.launch import application_acls, environment, local_resources

__all__ = [
    "DRIVER_LOG",
    "SCRIPT_FILE",
    "container_environment",
    "launch_context",
    "master_script_environment",
    "service_command",
]

SCRIPT_FILE: Final = ".skein.sh"
"""Each service's script, as staged."""

DRIVER_LOG: Final = "application.driver.log"
"""The master script's output, in the master's log directory."""

# Set by the launch contract for the master's own Python; a master script
# running the user's Python must not inherit them (as Skein 0.8 removed CLASSPATH).
_MASTER_ONLY: Final = (
    "PYTHONPATH",
    "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION",
    "MULTIDICT_NO_EXTENSIONS",
)
_PASSED_ON: Final = ("LANG", "HADOOP_USER_NAME", "SKEIN_APPMASTER_ADDRESS")


def service_command(service: str) -> str:
    """The command of a service container (``<LOG_DIR>`` is expanded by YARN).

    Example:
        >>> service_command("web")
        'bash .skein.sh 1><LOG_DIR>/web.log 2>&1'
        >>> service_command("my web")
        "bash .skein.sh 1><LOG_DIR>/'my web.log' 2>&1"
    """
    return f"bash {SCRIPT_FILE} 1><LOG_DIR>/{shlex.quote(service + '.log')} 2>&1"


def _resource_variables(resources: Resources) -> dict[str, str]:
    return {
        "SKEIN_RESOURCE_MEMORY": str(resources.memory),
        "SKEIN_RESOURCE_VCORES": str(resources.vcores),
    }


def container_environment(
    spec: ApplicationSpec,
    launch: Launch,
    *,
    application_id: str,
    master_environ: Mapping[str, str],
) -> dict[str, str]:
    """A service container's environment.

    The service's ``env``, then the overrides of ``add_container``, then
    ``SKEIN_APPLICATION_ID``, ``SKEIN_CONTAINER_ID``, ``SKEIN_RESOURCE_MEMORY``,
    ``SKEIN_RESOURCE_VCORES``, and the master's ``LANG``, ``HADOOP_USER_NAME`` and
    ``SKEIN_APPMASTER_ADDRESS`` (its API's ``host:port``).

    Example:
        >>> from skein.master.containers import Container
        >>> from skein.spec import Service
        >>> spec = ApplicationSpec(services={"web": Service(
        ...     resources=Resources(256, 1), script="serve", env={"PORT": "80"})})
        >>> launch = Launch(container=Container(service_name="web", instance=2, state="RUNNING"),
        ...                 resources=Resources(256, 1))
        >>> env = container_environment(spec, launch, application_id="application_1_0001",
        ...                             master_environ={"LANG": "C.UTF-8"})
        >>> env["PORT"], env["SKEIN_CONTAINER_ID"], env["SKEIN_RESOURCE_MEMORY"], env["LANG"]
        ('80', 'web_2', '256', 'C.UTF-8')
    """
    container = launch.container
    env = dict(spec.services[container.service_name].env)
    env.update(launch.env)
    env["SKEIN_APPLICATION_ID"] = application_id
    env["SKEIN_CONTAINER_ID"] = container.id
    env.update(_resource_variables(launch.resources))
    for name in _PASSED_ON:
        if master_environ.get(name):
            env[name] = master_environ[name]
    return env


def launch_context(
    spec: ApplicationSpec,
    launch: Launch,
    *,
    application_id: str,
    master_environ: Mapping[str, str],
    tokens: bytes,
) -> pb.ContainerLaunchContextProto:
    """The ContainerLaunchContext that starts ``launch``'s container.

    Args:
        spec: the staged specification (its service files include ``.skein.sh``).
        launch: what to launch.
        application_id: the application's id.
        master_environ: the master's environment (for ``LANG``, ``HADOOP_USER_NAME``).
        tokens: the serialized credentials for the container.
    """
    service = spec.services[launch.container.service_name]
    return pb.ContainerLaunchContextProto(
        localResources=local_resources(service.files),
        tokens=tokens,
        environment=environment(
            container_environment(
                spec, launch, application_id=application_id, master_environ=master_environ
            )
        ),
        command=[service_command(launch.container.service_name)],
        application_ACLs=application_acls(spec.acls),
    )


def master_script_environment(
    spec: ApplicationSpec, master_environ: Mapping[str, str]
) -> dict[str, str]:
    """The master script's environment: the master's, less what only the master needs.

    It keeps ``SKEIN_APPLICATION_ID`` and gains ``SKEIN_RESOURCE_MEMORY`` and
    ``SKEIN_RESOURCE_VCORES`` (the master container's size); it has no
    ``SKEIN_CONTAINER_ID``. ``PYTHONPATH``,
    ``PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION`` and ``MULTIDICT_NO_EXTENSIONS``
    are dropped unless ``master.env`` set them.

    Example:
        >>> spec = ApplicationSpec(master={"script": "python driver.py"})
        >>> env = master_script_environment(spec, {"PYTHONPATH": "/x/.skein.am.zip", "A": "1"})
        >>> sorted(env)
        ['A', 'SKEIN_RESOURCE_MEMORY', 'SKEIN_RESOURCE_VCORES']
    """
    env = dict(master_environ)
    for name in _MASTER_ONLY:
        if name in spec.master.env:
            env[name] = spec.master.env[name]
        else:
            env.pop(name, None)
    env.pop("SKEIN_CONTAINER_ID", None)
    env.update(_resource_variables(spec.master.resources))
    return env
