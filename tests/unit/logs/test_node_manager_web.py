"""The NodeManager REST API: URLs, and answers as Hadoop 3.5 and older versions give them."""

from __future__ import annotations

import pytest

from skein.errors import ProtocolError
from skein.logs.node_manager_web import (
    NodeManagerWeb,
    parse_app_containers,
    parse_container_files,
    parse_container_log_files,
    unwrap_log_file,
)

# Recorded from the test cluster's NodeManager (Hadoop 3.5.0) for a running distributed shell.
APP_ANSWER = (
    b'{"app":{"id":"application_1795586304203_0001","state":"RUNNING","user":"root",'
    b'"containerids":["container_1795586304203_0001_01_000002",'
    b'"container_1795586304203_0001_01_000001"]}}'
)
LOGS_ANSWER = (
    b'{"containerLogsInfo":{"containerLogInfo":[{"fileName":"launch_container.sh",'
    b'"fileSize":"3343","lastModifiedTime":"Wed Nov 25 05:58:37 +0000 2026"},'
    b'{"fileName":"prelaunch.err","fileSize":"0",'
    b'"lastModifiedTime":"Wed Nov 25 05:58:37 +0000 2026"},'
    b'{"fileName":"stdout","fileSize":"0","lastModifiedTime":"Wed Nov 25 05:58:37 +0000 2026"}],'
    b'"logAggregationType":"LOCAL","containerId":"container_1795586304203_0001_01_000002",'
    b'"nodeId":"localhost:45400"}}'
)
FILE_ANSWER = (
    b"Container: container_1795586762774_0001_01_000002 on localhost:45410\n"
    b"LogAggregationType: LOCAL\n"
    b"====================================================================\n"
    b"LogType:stdout\n"
    b"LogLastModifiedTime:Wed Nov 25 06:06:50 +0000 2026\n"
    b"LogLength:12\n"
    b"LogContents:\n"
    b"marker-5790\n"
    b"End of LogType:stdout.This log file belongs to a running container "
    b"(container_1795586762774_0001_01_000002) and so may not be complete.\n"
    b"***********************************************************************\n\n"
)
CONTAINER = "container_1795586762774_0001_01_000002"


def test_urls() -> None:
    web = NodeManagerWeb("node:8044", https=True)
    assert web.app("application_1_0001") == "https://node:8044/ws/v1/node/apps/application_1_0001"
    assert web.container("c_1") == "https://node:8044/ws/v1/node/containers/c_1"
    assert web.container_logs("c_1") == "https://node:8044/ws/v1/node/containers/c_1/logs"
    assert web.log_file("c_1", "a/b") == "https://node:8044/ws/v1/node/containerlogs/c_1/a%2Fb"


def test_app_containers() -> None:
    assert parse_app_containers(APP_ANSWER) == [
        "container_1795586304203_0001_01_000002",
        "container_1795586304203_0001_01_000001",
    ]
    single = b'{"app": {"containerids": "container_1_0001_01_000001"}}'
    assert parse_app_containers(single) == ["container_1_0001_01_000001"]
    assert parse_app_containers(b'{"app": {"id": "application_1_0001"}}') == []


def test_container_log_files() -> None:
    assert parse_container_log_files(LOGS_ANSWER) == [
        "launch_container.sh",
        "prelaunch.err",
        "stdout",
    ]


def test_container_log_files_in_a_list_with_aggregated_copies() -> None:
    answer = (
        b'[{"containerLogInfo": {"fileName": "stdout"}, "logAggregationType": "LOCAL"},'
        b' {"containerLogInfo": [{"fileName": "stdout"}, {"fileName": "old.log"}],'
        b' "logAggregationType": "AGGREGATED"}]'
    )
    assert parse_container_log_files(answer) == ["stdout"]


def test_hadoop_2_container_record() -> None:
    answer = b'{"container": {"id": "c", "containerLogFiles": ["stdout", "stderr"]}}'
    assert parse_container_files(answer) == ["stdout", "stderr"]
    assert parse_container_files(b'{"container": {"containerLogFiles": "stdout"}}') == ["stdout"]


def test_not_json() -> None:
    with pytest.raises(ProtocolError, match="not JSON"):
        parse_app_containers(b"<html>oops</html>")


def test_unwrap_a_hadoop_3_answer() -> None:
    assert unwrap_log_file(FILE_ANSWER, CONTAINER, "stdout") == b"marker-5790\n"


def test_unwrap_content_without_a_final_newline() -> None:
    answer = FILE_ANSWER.replace(b"LogLength:12", b"LogLength:5").replace(
        b"marker-5790\n", b"marke"
    )
    assert unwrap_log_file(answer, CONTAINER, "stdout") == b"marke"


def test_unwrap_when_the_file_grew_while_served() -> None:
    answer = FILE_ANSWER.replace(b"LogLength:12", b"LogLength:5")
    assert unwrap_log_file(answer, CONTAINER, "stdout") == b"marker-5790\n"


def test_raw_bytes_or_another_file_are_left_alone() -> None:
    assert unwrap_log_file(b"raw\n", CONTAINER, "stdout") == b"raw\n"
    assert unwrap_log_file(FILE_ANSWER, CONTAINER, "stderr") == FILE_ANSWER
