"""The TFile reader: TFile's VLong, the BCFile container, blocks, chunks and damage."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from skein.errors import DecodeError, UnsupportedLogFormatError
from skein.logs.tfile import BCFILE_MAGIC, decode_tfile_vlong, is_tfile, parse_tfile

# Printed by Hadoop 3.5.0's tfile.Utils.writeVLong (LogsInterop.java vlong ...).
HADOOP_VLONGS = {
    0: "00",
    1: "01",
    -1: "ff",
    -32: "e0",
    -33: "cbdf",
    127: "7f",
    128: "cc80",
    -129: "cb7f",
    5119: "dfff",
    -5120: "b800",
    5120: "a81400",
    1048575: "b7ffff",
    -1048576: "980000",
    1048576: "90100000",
    134217727: "97ffffff",
    -134217728: "88000000",
    134217728: "8308000000",
    2147483647: "837fffffff",
    -2147483648: "8380000000",
    549755813887: "847fffffffff",
    549755813888: "85008000000000",
    140737488355327: "857fffffffffff",
    36028797018963967: "867fffffffffffff",
    36028797018963968: "870080000000000000",
    9223372036854775807: "877fffffffffffffff",
    -9223372036854775808: "878000000000000000",
}

CLUSTER_FILE = "cluster_localhost_45410"
GZ_FILE = "generated_gz_localhost_45454"


@pytest.mark.parametrize(("value", "encoded"), HADOOP_VLONGS.items())
def test_vlong_matches_hadoop(value: int, encoded: str, tfile_tools: Any) -> None:
    data = bytes.fromhex(encoded)
    assert decode_tfile_vlong(data) == (value, len(data))
    assert decode_tfile_vlong(b"\x00" + data + b"\x99", 1) == (value, 1 + len(data))
    assert tfile_tools.vlong(value) == data  # the test writer agrees with Hadoop too


@pytest.mark.parametrize("encoded", ["", "cc", "a814", "90ffff", "83000000", "87" + "00" * 7])
def test_truncated_vlong(encoded: str) -> None:
    with pytest.raises(DecodeError, match="VLong"):
        decode_tfile_vlong(bytes.fromhex(encoded))


@pytest.mark.parametrize("first", [0x80, 0x81, 0x82])
def test_vlong_lengths_hadoop_never_writes(first: int) -> None:
    with pytest.raises(DecodeError, match="corrupted VLong"):
        decode_tfile_vlong(bytes([first]) + b"\x00" * 8)


def test_parses_a_recorded_aggregated_log(fixtures_dir: Path) -> None:
    tfile = parse_tfile((fixtures_dir / CLUSTER_FILE).read_bytes())
    assert tfile.compression == "none"
    assert tfile.comparator == ""
    assert [e.key for e in tfile.entries] == [
        b"\x00\x07VERSION",
        b"\x00\x0fAPPLICATION_ACL",
        b"\x00\x11APPLICATION_OWNER",
        b"\x00\x26container_1795586012926_0034_01_000003",
    ]
    assert tfile.entries[0].value == b"\x00\x00\x00\x01"
    assert tfile.entries[2].value == b"\x00\x04root"
    assert len(tfile.entries[3].value) == 4754


def test_parses_a_gz_file_written_by_hadoop(fixtures_dir: Path) -> None:
    tfile = parse_tfile((fixtures_dir / GZ_FILE).read_bytes())
    assert tfile.compression == "gz"
    assert len(tfile.entries) == 5


@pytest.mark.parametrize("compression", ["none", "gz"])
@pytest.mark.parametrize("per_block", [None, [1, 1, 1, 1], [3, 1]])
@pytest.mark.parametrize("chunk", [None, 1, 4])
def test_round_trip(
    compression: str, per_block: list[int] | None, chunk: int | None, tfile_tools: Any
) -> None:
    entries = [
        (b"k1", b""),
        (b"", b"value two"),
        (b"k" * 300, bytes(range(256)) * 3),
        (b"k4", b"x"),
    ]
    data = tfile_tools.build(entries, compression=compression, per_block=per_block, chunk=chunk)
    tfile = parse_tfile(data)
    assert tfile.compression == compression
    assert [(e.key, e.value) for e in tfile.entries] == entries


def test_empty_tfile(tfile_tools: Any) -> None:
    assert parse_tfile(tfile_tools.build([])).entries == ()


def test_gz_block_of_several_zlib_streams(tfile_tools: Any) -> None:
    entries = [(b"key", b"a" * 1000), (b"other", b"b" * 1000)]
    data = tfile_tools.build(entries, compression="gz", streams=3)
    assert [(e.key, e.value) for e in parse_tfile(data).entries] == entries


def test_lzo_is_refused_clearly(tfile_tools: Any) -> None:
    with pytest.raises(UnsupportedLogFormatError, match="'lzo'; supported: none, gz"):
        parse_tfile(tfile_tools.build([(b"k", b"v")], compression="lzo"))


def test_other_bcfile_versions_are_refused(tfile_tools: Any) -> None:
    with pytest.raises(DecodeError, match=r"BCFile version 2\.0"):
        parse_tfile(tfile_tools.build([(b"k", b"v")], version=(2, 0)))


def test_not_a_tfile() -> None:
    assert not is_tfile(b"")
    assert not is_tfile(BCFILE_MAGIC * 2)
    with pytest.raises(DecodeError, match="not a TFile"):
        parse_tfile(b"hello world" * 10)


def _check_damaged(data: bytes) -> None:
    """Damaged input may parse or raise DecodeError, but nothing else.

    (A damaged compression name is a format skein does not know, and says so.)
    """
    try:
        parse_tfile(data)
    except (DecodeError, UnsupportedLogFormatError):
        pass


@pytest.mark.parametrize("name", [CLUSTER_FILE, GZ_FILE])
def test_every_truncation_raises_decode_error(name: str, fixtures_dir: Path) -> None:
    data = (fixtures_dir / name).read_bytes()
    for size in range(len(data)):
        with pytest.raises(DecodeError):
            parse_tfile(data[:size])
    with pytest.raises(DecodeError):
        parse_tfile(data + b"\x00")  # trailing garbage hides the trailer


@pytest.mark.parametrize("name", [CLUSTER_FILE, GZ_FILE])
def test_corrupted_bytes_never_raise_anything_but_decode_error(
    name: str, fixtures_dir: Path
) -> None:
    data = (fixtures_dir / name).read_bytes()
    rng = random.Random(name)
    for _ in range(400):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        _check_damaged(bytes(damaged))


@pytest.mark.parametrize("announced", [10, 2**63 - 1])
def test_inflating_past_the_announced_size_stops(announced: int, tfile_tools: Any) -> None:
    data = tfile_tools.build([(b"k", b"\x00" * 1_000_000)], compression="gz", raw_size=announced)
    with pytest.raises(DecodeError, match=r"inflates to more than|after decompression"):
        parse_tfile(data)


def test_raw_size_must_match_for_uncompressed_blocks(tfile_tools: Any) -> None:
    with pytest.raises(DecodeError, match="expected 3"):
        parse_tfile(tfile_tools.build([(b"k", b"value")], raw_size=3))
