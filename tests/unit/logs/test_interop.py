"""The readers against files Hadoop's own Java code writes (marker ``java``)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from skein.logs.aggregated_format import parse_aggregated_log
from skein.logs.tfile import decode_tfile_vlong, parse_tfile

pytestmark = pytest.mark.java

Java = Callable[..., list[str]]


def _hex(data: bytes) -> str:
    return "x" + data.hex()


def test_vlong_against_hadoop(logs_java: Java) -> None:
    rng = random.Random(7)
    values = [0, -1, 127, -32, -33, 128, -129, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63)]
    values += [rng.randrange(-(2**bits), 2**bits) for bits in range(1, 64) for _ in range(3)]
    lines = logs_java("vlong", *map(str, values))
    for line in lines:
        value, encoded = line.split()
        assert decode_tfile_vlong(bytes.fromhex(encoded)) == (int(value), len(encoded) // 2)


def _entries() -> list[tuple[bytes, bytes, bool]]:
    rng = random.Random(11)
    return [
        (b"", b"", False),
        (b"key", b"small value", False),
        (b"known-length", b"one chunk" * 7, True),
        (b"\x00\xff binary", bytes(rng.randrange(256) for _ in range(5000)), False),
        (b"empty-known", b"", True),
        (b"k" * 1000, b"repetitive " * 3000, False),
    ]


@pytest.mark.parametrize("compression", ["none", "gz"])
@pytest.mark.parametrize(("min_block", "chunk_size"), [(1, 16), (1 << 20, 1 << 20), (4096, 7)])
def test_tfiles_written_by_hadoop(
    compression: str, min_block: int, chunk_size: int, logs_java: Java, tmp_path: Path
) -> None:
    entries = _entries()
    stdin = "\n".join(f"{_hex(k)} {'=' if known else ''}{_hex(v)}" for k, v, known in entries)
    path = tmp_path / "written.tfile"
    logs_java("write-tfile", str(path), compression, str(min_block), str(chunk_size), stdin=stdin)
    tfile = parse_tfile(path.read_bytes())
    assert tfile.compression == compression
    assert [(e.key, e.value) for e in tfile.entries] == [(k, v) for k, v, _ in entries]


def test_empty_tfile_written_by_hadoop(logs_java: Java, tmp_path: Path) -> None:
    path = tmp_path / "empty.tfile"
    logs_java("write-tfile", str(path), "gz", "1", "16", stdin="")
    assert parse_tfile(path.read_bytes()).entries == ()


@pytest.mark.parametrize("compression", ["none", "gz"])
def test_aggregated_logs_written_and_read_by_hadoop(
    compression: str, logs_java: Java, tmp_path: Path
) -> None:
    app = "application_1700000000000_0042"
    containers = {
        f"container_1700000000000_0042_01_00000{n}": {
            "stdout": f"container {n} says hello\n".encode(),
            "stderr": "ünïcödé ✓\n".encode() * n,
            "empty": b"",
        }
        for n in (1, 2)
    }
    containers["container_1700000000000_0042_01_000002"]["big.log"] = bytes(range(256)) * 2000
    for container, files in containers.items():
        directory = tmp_path / "logs" / app / container
        directory.mkdir(parents=True)
        for name, content in files.items():
            (directory / name).write_bytes(content)
    path = tmp_path / "localhost_45454"
    logs_java(
        "write-aggregated", str(path), compression, "alice", str(tmp_path / "logs"), *containers
    )
    log = parse_aggregated_log(path.read_bytes())
    assert log.owner == "alice"
    assert log.acls == {"VIEW_APP": "alice"}
    parsed = {c: {f.name: f.content for f in files} for c, files in log.containers.items()}
    assert parsed == containers

    # And Hadoop's own reader sees the same.
    read = logs_java("read-aggregated", str(path))
    assert read[0] == "owner alice"
    hadoop = {}
    for line in read[1:]:
        _, container, name, content = line.split(" ")
        hadoop.setdefault(container, {})[name] = bytes.fromhex(content[1:])
    assert hadoop == parsed
