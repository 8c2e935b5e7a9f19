"""Fixtures for the log tests: recorded files, a TFile builder, and Hadoop's own Java code.

``tfile_tools.build`` writes TFiles the way ``TFile.Writer`` lays them out, so tests
can make shapes the recorded files lack (several blocks, chunked values, other
compressions, damage). Its encodings are checked against Hadoop's in
``test_interop.py``.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from skein.errors import TestClusterError
from skein.logs.tfile import BCFILE_MAGIC
from skein.testcluster.artifacts import DEFAULT_HADOOP_VERSION, HadoopJars, fetch_hadoop

FIXTURES = Path(__file__).parents[2] / "fixtures" / "logs"
INTEROP_PROGRAM = Path(__file__).parents[2] / "fixtures" / "java" / "LogsInterop.java"


def tfile_vlong(n: int) -> bytes:
    """TFile's ``Utils.writeVLong``, following its fall-through cases."""
    if -32 <= n < 128:
        return bytes([n & 0xFF])
    length = (~n if n < 0 else n).bit_length() // 8 + 1
    first = n >> ((length - 1) * 8)
    if length == 1:
        first, length = first >> 8, 2
    if length == 2:
        if -20 <= first < 20:
            return bytes([(first - 52) & 0xFF, n & 0xFF])
        first, length = first >> 8, 3
    if length == 3:
        if -16 <= first < 16:
            return bytes([(first - 88) & 0xFF]) + (n & 0xFFFF).to_bytes(2, "big")
        first, length = first >> 8, 4
    if length == 4 and -8 <= first < 8:
        return bytes([(first - 112) & 0xFF]) + (n & 0xFFFFFF).to_bytes(3, "big")
    return bytes([(length - 129) & 0xFF]) + (n % (1 << (8 * length))).to_bytes(length, "big")


def tfile_string(text: str) -> bytes:
    data = text.encode()
    return tfile_vlong(len(data)) + data


def java_utf(text: str) -> bytes:
    """``DataOutput.writeUTF`` for the ASCII and BMP text the tests use."""
    data = text.encode("utf-8")
    return len(data).to_bytes(2, "big") + data


def chunked(value: bytes, chunk: int | None) -> bytes:
    if chunk is None or len(value) <= chunk:
        return tfile_vlong(len(value)) + value
    pieces = [value[i : i + chunk] for i in range(0, len(value), chunk)]
    head = b"".join(tfile_vlong(-len(p)) + p for p in pieces[:-1])
    return head + tfile_vlong(len(pieces[-1])) + pieces[-1]


def _compress(compression: str, data: bytes, streams: int) -> bytes:
    if compression != "gz":
        return data  # "none", and unreadable names whose bytes do not matter
    cut = len(data) // streams or len(data)
    parts = [data[i : i + cut] for i in range(0, len(data), cut)] or [b""]
    return b"".join(zlib.compress(part) for part in parts)


def build_tfile(
    entries: Sequence[tuple[bytes, bytes]],
    *,
    compression: str = "none",
    per_block: Sequence[int] | None = None,
    chunk: int | None = None,
    streams: int = 1,
    version: tuple[int, int] = (1, 0),
    raw_size: int | None = None,
) -> bytes:
    """A TFile holding ``entries``, ``per_block[i]`` of them in data block i.

    Args:
        compression: the name written for data and index blocks.
        chunk: split values into chunks of this many bytes.
        streams: zlib streams per gz block (Hadoop may finish one and start another).
        version: the BCFile version in the trailer.
        raw_size: announce this uncompressed size for every data block.
    """
    counts = list(per_block) if per_block is not None else ([len(entries)] if entries else [])
    assert sum(counts) == len(entries)
    out = bytearray(BCFILE_MAGIC)
    regions: list[tuple[int, int, int]] = []
    index = bytearray()
    start = 0
    for count in counts:
        block = entries[start : start + count]
        raw = b"".join(tfile_vlong(len(k)) + k + chunked(v, chunk) for k, v in block)
        stored = _compress(compression, raw, streams)
        regions.append((len(out), len(stored), len(raw) if raw_size is None else raw_size))
        out += stored
        last = block[-1][0]
        entry = tfile_vlong(len(last)) + last + tfile_vlong(count)
        index += tfile_vlong(len(entry)) + entry
        start += count
    if entries:
        first = tfile_vlong(len(entries[0][0])) + entries[0][0]
        index = bytearray(tfile_vlong(len(first)) + first) + index
    else:
        index = bytearray(tfile_vlong(0))
    tfile_meta = struct.pack(">hh", 1, 0) + tfile_vlong(len(entries)) + tfile_string("")
    data_index = tfile_string(compression) + tfile_vlong(len(regions))
    data_index += b"".join(b"".join(tfile_vlong(x) for x in region) for region in regions)
    metas = []
    for name, block_compression, raw in (
        ("TFile.meta", "none", tfile_meta),
        ("TFile.index", compression, bytes(index)),
        ("BCFile.index", compression, data_index),
    ):
        stored = _compress(block_compression, raw, 1)
        metas.append((name, block_compression, (len(out), len(stored), len(raw))))
        out += stored
    index_offset = len(out)
    out += tfile_vlong(len(metas))
    for name, block_compression, region in metas:
        out += tfile_string(f"data:{name}") + tfile_string(block_compression)
        out += b"".join(tfile_vlong(x) for x in region)
    out += index_offset.to_bytes(8, "big") + struct.pack(">hh", *version) + BCFILE_MAGIC
    return bytes(out)


@dataclass(frozen=True)
class TFileTools:
    """The encoders above, handed to tests (test modules cannot import a conftest)."""

    vlong: Callable[[int], bytes] = tfile_vlong
    string: Callable[[str], bytes] = tfile_string
    java_utf: Callable[[str], bytes] = java_utf
    build: Callable[..., bytes] = build_tfile


@pytest.fixture
def tfile_tools() -> TFileTools:
    """Writers of TFile encodings and whole TFiles."""
    return TFileTools()


@pytest.fixture
def fixtures_dir() -> Path:
    """``tests/fixtures/logs``: aggregated log files recorded from Hadoop."""
    return FIXTURES


@dataclass(frozen=True)
class LogsJava:
    """Runs ``LogsInterop.java`` with Hadoop's jars on the classpath."""

    java: str
    jars: HadoopJars

    def run(self, *args: str, stdin: str = "") -> list[str]:
        """Run one command and return its output lines; fail the test on an error."""
        result = subprocess.run(
            [self.java, "-cp", self.jars.classpath, str(INTEROP_PROGRAM), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.fail(f"LogsInterop {args[0]} failed:\n{result.stderr}")
        return result.stdout.splitlines()


@pytest.fixture(scope="session")
def logs_java() -> Callable[..., list[str]]:
    """``run(command, *args, stdin=...)`` for Hadoop's Java code; skips without Java or jars."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is not on PATH")
    try:
        jars = fetch_hadoop(DEFAULT_HADOOP_VERSION)
    except TestClusterError as exc:
        pytest.skip(f"Hadoop {DEFAULT_HADOOP_VERSION} jars unavailable: {exc}")
    return LogsJava(java, jars).run
