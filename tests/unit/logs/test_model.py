"""ApplicationLogs: Skein 0.8's container id -> text mapping, plus files per container."""

from __future__ import annotations

import io
from collections.abc import Mapping

from skein.logs.model import ApplicationLogs, ContainerLogs, format_log_file


def container(n: int, node: str = "n1:1", **files: str) -> ContainerLogs:
    return ContainerLogs(container_id=f"container_1_0001_01_{n:06d}", node=node, files=files)


def test_is_a_mapping_ordered_by_container_id() -> None:
    logs = ApplicationLogs(
        "application_1_0001",
        [container(10, stdout="ten\n"), container(2, stdout="two\n"), container(1)],
        source="aggregated",
    )
    assert isinstance(logs, Mapping)
    assert list(logs) == [
        "container_1_0001_01_000001",
        "container_1_0001_01_000002",
        "container_1_0001_01_000010",
    ]
    assert len(logs) == 3
    assert logs["container_1_0001_01_000001"] == ""
    assert logs.app_id == "application_1_0001"
    assert repr(logs) == "ApplicationLogs<application_1_0001, 3 containers, aggregated>"


def test_container_text_lists_every_file() -> None:
    logs = ApplicationLogs("a", [container(1, stdout="out", stderr="")], source="live")
    assert logs["container_1_0001_01_000001"] == (
        "LogType:stdout\nLogLength:3\nLogContents:\nout\nEnd of LogType:stdout\n"
        "\n"
        "LogType:stderr\nLogLength:0\nLogContents:\nEnd of LogType:stderr\n"
    )


def test_files_and_nodes() -> None:
    logs = ApplicationLogs("a", [container(1, node="h:2", stdout="x")], source="live")
    assert logs.files == {"container_1_0001_01_000001": {"stdout": "x"}}
    assert logs.nodes == {"container_1_0001_01_000001": "h:2"}


def test_a_later_upload_of_a_file_wins() -> None:
    first = container(1, stdout="partial", stderr="e")
    second = container(1, node="n1:1", stdout="partial and more")
    logs = ApplicationLogs("a", [first, second], source="aggregated")
    assert logs.files["container_1_0001_01_000001"] == {"stdout": "partial and more", "stderr": "e"}


def test_ids_that_are_not_container_ids_sort_last() -> None:
    other = ContainerLogs(container_id="odd", node="n", files={})
    logs = ApplicationLogs("a", [other, container(5)], source="live")
    assert list(logs) == ["container_1_0001_01_000005", "odd"]


def test_dump_and_html() -> None:
    logs = ApplicationLogs("a", [container(1, stdout="<b>\n")], source="live")
    out = io.StringIO()
    logs.dump(out)
    assert out.getvalue() == logs.dumps()
    assert logs.dumps().startswith("** Logs for container_1_0001_01_000001 on n1:1 **\n\n")
    assert "&lt;b&gt;" in logs._repr_html_()


def test_format_log_file_counts_bytes() -> None:
    assert format_log_file("f", "é").splitlines()[1] == "LogLength:2"
