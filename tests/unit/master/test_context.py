"""What the master reads at start: environment, token file, staged spec and configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skein._proto.yarn import yarn_security_token_pb2 as token_pb
from skein.errors import SkeinConfigurationError, SpecError
from skein.hadoop.credentials import (
    Credentials,
    Token,
    read_credentials,
    save_credentials,
    write_credentials,
)
from skein.master.context import AM_RM_TOKEN_KIND, load_context
from skein.yarn.ids import ApplicationAttemptId

APP = "application_1700000000000_0007"
SPEC = {
    "max_attempts": 3,
    "services": {"web": {"resources": {"memory": 128, "vcores": 1}, "script": "serve"}},
}


def am_rm_token(attempt: int = 2) -> Token:
    attempt_id = ApplicationAttemptId.parse(f"appattempt_1700000000000_0007_{attempt:06d}")
    identifier = token_pb.AMRMTokenIdentifierProto(appAttemptId=attempt_id.to_proto(), keyId=5)
    return Token(identifier.SerializeToString(), b"secret", AM_RM_TOKEN_KIND, "rm:8030")


HDFS_TOKEN = Token(b"\x00id", b"pw", "HDFS_DELEGATION_TOKEN", "nn:8020")


def stage(
    tmp_path: Path,
    *,
    spec: object = SPEC,
    properties: dict[str, str] | None = None,
    tokens: dict[str, Token] | None = None,
    **env: str,
) -> dict[str, str]:
    (tmp_path / ".skein.spec.json").write_text(json.dumps(spec))
    (tmp_path / ".skein.hadoop.json").write_text(
        json.dumps({"properties": properties if properties is not None else {"a": "b"}})
    )
    token_file = tmp_path / "container_tokens"
    default_tokens = {"amrm": am_rm_token(), "hdfs": HDFS_TOKEN}
    save_credentials(Credentials(tokens=default_tokens if tokens is None else tokens), token_file)
    return {
        "SKEIN_APPLICATION_ID": APP,
        "SKEIN_STAGING_DIR": f"hdfs://nn:8020/user/alice/.skein/{APP}",
        "NM_HOST": "node7.example.com",
        "LOG_DIRS": "/logs/a,/logs/b",
        "HADOOP_TOKEN_FILE_LOCATION": str(token_file),
        "CONTAINER_ID": "container_1700000000000_0007_02_000001",
        **env,
    }


def test_everything_is_read(tmp_path: Path) -> None:
    env = stage(tmp_path)
    context = load_context(env, tmp_path)
    assert context.application_id == APP
    assert context.spec.services["web"].script == "serve"
    assert context.configuration["a"] == "b"
    assert context.am_rm_token == am_rm_token()
    assert context.attempt == 2
    assert context.staging_dir.endswith(f".skein/{APP}")
    assert context.host == "node7.example.com"
    assert context.log_dir == "/logs/a"
    assert context.idle_timeout == 60.0
    assert context.environ["NM_HOST"] == "node7.example.com"


def test_max_attempts_is_the_smaller_of_spec_and_resourcemanager(tmp_path: Path) -> None:
    assert load_context(stage(tmp_path), tmp_path).max_attempts == 2  # YARN's default
    env = stage(tmp_path, properties={"yarn.resourcemanager.am.max-attempts": "5"})
    context = load_context(env, tmp_path)
    assert context.max_attempts == 3
    assert context.has_attempts_left
    env = stage(tmp_path, properties={"yarn.resourcemanager.am.max-attempts": "1"})
    assert not load_context(env, tmp_path).has_attempts_left


def test_service_credentials_leave_out_the_amrm_token(tmp_path: Path) -> None:
    context = load_context(stage(tmp_path), tmp_path)
    assert dict(context.service_credentials.tokens) == {"hdfs": HDFS_TOKEN}
    serialized = write_credentials(context.service_credentials)
    assert read_credentials(serialized) == Credentials(tokens={"hdfs": HDFS_TOKEN})


def test_the_attempt_falls_back_to_the_container_id(tmp_path: Path) -> None:
    odd = Token(b"\xff\xff", b"pw", AM_RM_TOKEN_KIND, "rm:8030")
    context = load_context(stage(tmp_path, tokens={"amrm": odd}), tmp_path)
    assert context.attempt == 2


def test_the_idle_timeout_comes_from_the_environment(tmp_path: Path) -> None:
    assert load_context(stage(tmp_path, SKEIN_IDLE_TIMEOUT="2.5"), tmp_path).idle_timeout == 2.5


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_a_bad_idle_timeout_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(SkeinConfigurationError, match="SKEIN_IDLE_TIMEOUT"):
        load_context(stage(tmp_path, SKEIN_IDLE_TIMEOUT=value), tmp_path)


@pytest.mark.parametrize("missing", ["SKEIN_APPLICATION_ID", "NM_HOST", "LOG_DIRS"])
def test_missing_variables_are_named(tmp_path: Path, missing: str) -> None:
    env = stage(tmp_path)
    del env[missing]
    with pytest.raises(SkeinConfigurationError, match=missing):
        load_context(env, tmp_path)


def test_no_token_file(tmp_path: Path) -> None:
    env = stage(tmp_path)
    del env["HADOOP_TOKEN_FILE_LOCATION"]
    with pytest.raises(SkeinConfigurationError, match="AMRMToken"):
        load_context(env, tmp_path)


def test_no_amrm_token(tmp_path: Path) -> None:
    with pytest.raises(SkeinConfigurationError, match="no AMRMToken"):
        load_context(stage(tmp_path, tokens={"hdfs": HDFS_TOKEN}), tmp_path)


def test_missing_staged_file(tmp_path: Path) -> None:
    env = stage(tmp_path)
    (tmp_path / ".skein.hadoop.json").unlink()
    with pytest.raises(SkeinConfigurationError, match=r"\.skein\.hadoop\.json"):
        load_context(env, tmp_path)


def test_malformed_staged_files(tmp_path: Path) -> None:
    env = stage(tmp_path)
    (tmp_path / ".skein.hadoop.json").write_text("[1, 2]")
    with pytest.raises(SkeinConfigurationError, match="properties"):
        load_context(env, tmp_path)
    (tmp_path / ".skein.spec.json").write_text("{not json")
    with pytest.raises(SkeinConfigurationError, match="not valid JSON"):
        load_context(env, tmp_path)


def test_an_invalid_spec_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError):
        load_context(stage(tmp_path, spec={"services": {}}), tmp_path)
