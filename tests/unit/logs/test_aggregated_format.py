"""Aggregated log files: what YARN's NodeManagers upload, compared with ``yarn logs``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from skein.errors import DecodeError, UnsupportedLogFormatError
from skein.logs.aggregated_format import (
    AggregatedLog,
    LogFile,
    decode_java_utf,
    parse_aggregated_log,
)

SECTION = re.compile(
    rb"Container: (?P<container>\S+) on \S+\n"
    rb"LogAggregationType: \w+\n=+\n"
    rb"LogType:(?P<name>.*)\n"
    rb"LogLastModifiedTime:.*\n"
    rb"LogLength:(?P<length>\d+)\n"
    rb"LogContents:\n"
)


def parse_yarn_logs(output: bytes) -> dict[str, dict[str, bytes]]:
    """Container id -> {file name: content}, from what ``yarn logs`` printed (Hadoop 3)."""
    logs: dict[str, dict[str, bytes]] = {}
    position = 0
    while (match := SECTION.search(output, position)) is not None:
        end = match.end() + int(match["length"])
        logs.setdefault(match["container"].decode(), {})[match["name"].decode()] = output[
            match.end() : end
        ]
        assert output.startswith(b"\nEnd of LogType:" + match["name"], end)
        position = end
    return logs


def test_recorded_log_matches_yarn_logs(fixtures_dir: Path) -> None:
    log = parse_aggregated_log((fixtures_dir / "cluster_localhost_45410").read_bytes())
    printed = parse_yarn_logs((fixtures_dir / "cluster_localhost_45410.yarn-logs.txt").read_bytes())
    assert log.version == 1
    assert log.owner == "root"
    assert log.acls == {}
    parsed = {c: {f.name: f.content for f in files} for c, files in log.containers.items()}
    assert parsed == printed
    assert list(parsed["container_1795586012926_0034_01_000003"]) == [
        "directory.info",
        "launch_container.sh",
        "prelaunch.err",
        "prelaunch.out",
        "stderr",
        "stdout",
    ]


def test_gz_log_written_by_hadoop(fixtures_dir: Path) -> None:
    log = parse_aggregated_log((fixtures_dir / "generated_gz_localhost_45454").read_bytes())
    assert log == AggregatedLog(
        version=1,
        owner="alice",
        acls={"VIEW_APP": "alice"},
        containers={
            "container_1700000000000_0007_01_000001": (
                LogFile(name="empty.log", content=b""),
                LogFile(name="stderr", content="warning: héllo ✓ 🙂\n".encode()),
                LogFile(name="stdout", content=b"hello from gz\nsecond line\n"),
            ),
            "container_1700000000000_0007_01_000002": (
                LogFile(name="stdout", content=b"no trailing newline"),
            ),
        },
    )


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"plain", "plain"),
        ("héllo ✓".encode(), "héllo ✓"),
        (b"a\xc0\x80b", "a\x00b"),
        (bytes.fromhex("eda0bdedb982"), "🙂"),  # a surrogate pair, each part encoded
        (b"", ""),
    ],
)
def test_decode_java_utf(data: bytes, text: str) -> None:
    assert decode_java_utf(data) == text


def test_decode_java_utf_rejects_garbage() -> None:
    with pytest.raises(DecodeError, match="not modified UTF-8"):
        decode_java_utf(b"\xff\xfe")


def _log(tfile_tools: Any, *entries: tuple[bytes, bytes]) -> bytes:
    u = tfile_tools.java_utf
    head = [(u("VERSION"), b"\x00\x00\x00\x01"), (u("APPLICATION_OWNER"), u("bob"))]
    return bytes(tfile_tools.build([*head, *entries]))


def test_container_values(tfile_tools: Any) -> None:
    u = tfile_tools.java_utf
    value = u("stdout") + u("3") + b"abc" + u("stderr") + u("0")
    data = _log(tfile_tools, (u("container_1_0001_01_000002"), value))
    log = parse_aggregated_log(data)
    assert log.owner == "bob"
    assert log.containers == {
        "container_1_0001_01_000002": (
            LogFile(name="stdout", content=b"abc"),
            LogFile(name="stderr", content=b""),
        )
    }


def test_acls(tfile_tools: Any) -> None:
    u = tfile_tools.java_utf
    acl = u("VIEW_APP") + u("alice,bob") + u("MODIFY_APP") + u(" ")
    log = parse_aggregated_log(_log(tfile_tools, (u("APPLICATION_ACL"), acl)))
    assert log.acls == {"VIEW_APP": "alice,bob", "MODIFY_APP": " "}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"\x00\x06stdout\x00\x0210abc", "needed 10 bytes, 3 left"),
        (b"\x00\x06stdout\x00\x02x1abc", "bad length 'x1'"),
        (b"\x00\x06stdout\x00\x02-1", "negative length -1"),
        (b"\x00\x06std", "needed 6 bytes"),
    ],
)
def test_damaged_container_values(value: bytes, message: str, tfile_tools: Any) -> None:
    data = _log(tfile_tools, (tfile_tools.java_utf("container_1_0001_01_000002"), value))
    with pytest.raises(DecodeError, match=message):
        parse_aggregated_log(data)


def test_key_with_extra_bytes(tfile_tools: Any) -> None:
    data = _log(tfile_tools, (tfile_tools.java_utf("container_1") + b"?", b""))
    with pytest.raises(DecodeError, match="followed by more bytes"):
        parse_aggregated_log(data)


def test_ifile_format_is_named() -> None:
    data = b"5b3ec6f2-7a6c-4b3e-9d59-6c2f0a1b2c3d\n" + b"\x00" * 200
    with pytest.raises(UnsupportedLogFormatError, match="IFile format"):
        parse_aggregated_log(data)


def test_other_bytes_are_not_a_log() -> None:
    with pytest.raises(DecodeError, match="not a TFile"):
        parse_aggregated_log(b"\x00" * 200)
