"""Service containers' launch contexts and the master script's environment."""

from __future__ import annotations

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.hadoop.credentials import Credentials, Token, read_credentials, write_credentials
from skein.master.actions import Launch
from skein.master.containers import Container, ContainerState
from skein.master.launcher import (
    container_environment,
    launch_context,
    master_script_environment,
    service_command,
)
from skein.spec import ApplicationSpec, Resources

APP = "application_1700000000000_0001"
STAGED = ApplicationSpec.from_dict(
    {
        "acls": {"enable": True, "view_users": ["bob"]},
        "master": {
            "resources": {"memory": 1024, "vcores": 2},
            "script": "python driver.py",
            "env": {"PYTHONPATH": "/opt/mine"},
        },
        "services": {
            "web": {
                "resources": {"memory": 256, "vcores": 1},
                "script": "serve",
                "env": {"PORT": "8080", "SKEIN_CONTAINER_ID": "user value", "LANG": "de_DE"},
                "files": {
                    "app.zip": {
                        "source": "hdfs://nn:8020/user/a/.skein/x/app.zip",
                        "size": 10,
                        "timestamp": 1700000000123,
                    },
                    ".skein.sh": {
                        "source": "hdfs://nn:8020/user/a/.skein/x/scripts/web.sh",
                        "size": 5,
                        "timestamp": 1700000000456,
                    },
                    # The application's credentials, as staging adds them to every service.
                    ".skein.crt": {
                        "source": "hdfs://nn:8020/user/a/.skein/x/.skein.crt",
                        "size": 1100,
                        "timestamp": 1700000000400,
                        "visibility": "private",
                    },
                    ".skein.pem": {
                        "source": "hdfs://nn:8020/user/a/.skein/x/.skein.pem",
                        "size": 1700,
                        "timestamp": 1700000000401,
                        "visibility": "private",
                    },
                },
            }
        },
    }
)
MASTER_ENV = {
    "LANG": "C.UTF-8",
    "HADOOP_USER_NAME": "alice",
    "PYTHONPATH": "/container/.skein.am.zip",
    "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION": "python",
    "MULTIDICT_NO_EXTENSIONS": "1",
    "SKEIN_APPLICATION_ID": APP,
    "CONTAINER_ID": "container_1700000000000_0001_01_000001",
}


def launch(env: dict[str, str] | None = None) -> Launch:
    container = Container(
        service_name="web",
        instance=4,
        state=ContainerState.RUNNING,
        yarn_container_id="container_1700000000000_0001_01_000005",
    )
    return Launch(container=container, resources=Resources(memory=256, vcores=1), env=env or {})


def env_of(context: pb.ContainerLaunchContextProto) -> dict[str, str]:
    return {entry.key: entry.value for entry in context.environment}


def test_command_runs_the_script_with_its_log() -> None:
    assert service_command("web") == "bash .skein.sh 1><LOG_DIR>/web.log 2>&1"


def test_command_quotes_odd_service_names() -> None:
    assert service_command("a;b") == "bash .skein.sh 1><LOG_DIR>/'a;b.log' 2>&1"


def test_environment_layers_service_overrides_then_skein() -> None:
    env = container_environment(
        STAGED,
        launch({"PORT": "9090", "EXTRA": "1"}),
        application_id=APP,
        master_environ=MASTER_ENV,
    )
    assert env == {
        "PORT": "9090",
        "EXTRA": "1",
        "SKEIN_APPLICATION_ID": APP,
        "SKEIN_CONTAINER_ID": "web_4",
        "SKEIN_RESOURCE_MEMORY": "256",
        "SKEIN_RESOURCE_VCORES": "1",
        "LANG": "C.UTF-8",
        "HADOOP_USER_NAME": "alice",
    }


def test_without_lang_the_services_own_stays() -> None:
    env = container_environment(STAGED, launch(), application_id=APP, master_environ={})
    assert env["LANG"] == "de_DE"
    assert "HADOOP_USER_NAME" not in env


def test_launch_context() -> None:
    tokens = write_credentials(Credentials(tokens={"h": Token(b"i", b"p", "HDFS", "nn:8020")}))
    context = launch_context(
        STAGED, launch(), application_id=APP, master_environ=MASTER_ENV, tokens=tokens
    )
    assert list(context.command) == ["bash .skein.sh 1><LOG_DIR>/web.log 2>&1"]
    resources = {entry.key: entry.value for entry in context.localResources}
    assert sorted(resources) == [".skein.crt", ".skein.pem", ".skein.sh", "app.zip"]
    for credential in (".skein.crt", ".skein.pem"):
        assert resources[credential].visibility == pb.PRIVATE
        assert resources[credential].type == pb.FILE
    assert resources[".skein.pem"].resource.file == "/user/a/.skein/x/.skein.pem"
    script = resources[".skein.sh"]
    assert (script.resource.scheme, script.resource.host, script.resource.port) == (
        "hdfs",
        "nn",
        8020,
    )
    assert script.resource.file == "/user/a/.skein/x/scripts/web.sh"
    assert (script.size, script.timestamp) == (5, 1700000000456)
    assert script.type == pb.FILE
    assert resources["app.zip"].type == pb.ARCHIVE
    assert resources["app.zip"].visibility == pb.APPLICATION
    assert read_credentials(context.tokens).tokens["h"].kind == "HDFS"
    assert env_of(context)["SKEIN_CONTAINER_ID"] == "web_4"
    assert [acl.acl for acl in context.application_ACLs] == ["bob ", " "]


def test_master_script_environment() -> None:
    env = master_script_environment(STAGED, {**MASTER_ENV, "SKEIN_CONTAINER_ID": "x"})
    assert env["PYTHONPATH"] == "/opt/mine"  # master.env set it
    assert "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION" not in env
    assert "MULTIDICT_NO_EXTENSIONS" not in env
    assert "SKEIN_CONTAINER_ID" not in env
    assert env["SKEIN_APPLICATION_ID"] == APP
    assert (env["SKEIN_RESOURCE_MEMORY"], env["SKEIN_RESOURCE_VCORES"]) == ("1024", "2")
    assert env["CONTAINER_ID"] == MASTER_ENV["CONTAINER_ID"]
