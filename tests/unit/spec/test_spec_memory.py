"""Memory sizes: Skein 0.8's units and rounding, and the schema's pattern agreeing with them."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skein.spec.memory import MEMORY_PATTERN, parse_memory

GIB = 1024


@pytest.mark.parametrize(
    ("value", "mib"),
    [
        (1024, 1024),
        (0, 0),
        (1.2, 2),
        (0.5, 1),
        ("512", 512),
        ("512 MiB", 512),
        ("512MiB", 512),
        ("512 mib", 512),
        ("  512   MIB ", 512),
        ("512 Mi", 512),
        ("2 GiB", 2 * GIB),
        ("2 gi", 2 * GIB),
        ("1 TiB", 1024 * GIB),
        ("1 PiB", 1024 * 1024 * GIB),
        ("0.5 GiB", 512),
        ("0.1 GiB", 103),  # 102.4 rounded up
        ("1.5 GB", 1431),  # 1.5e9 bytes = 1430.5 MiB
        ("1 GB", 954),
        ("1 g", 954),
        ("1000 MB", 954),
        ("1 mb", 1),
        ("1 m", 1),
        ("1024 KiB", 1),
        ("1025 KiB", 2),
        ("1 kb", 1),
        (f"{2**20} b", 1),
        (f"{2**20 + 1} b", 2),
        (f"{3 * 2**30} b", 3 * GIB),  # dask-gateway writes "%d b"
        ("1 b", 1),
        ("1e3", 1000),
        ("1.5e3 MiB", 1500),
        (".5 GiB", 512),
        ("1 T", 953675),
        ("1 pb", 953674317),
    ],
)
def test_parse_memory_table(value: object, mib: int) -> None:
    assert parse_memory(value) == mib


@pytest.mark.parametrize(
    "value",
    ["lots", "", "MiB", "GiB", "2 GiBs", "2 XB", "1,5 GB", "2 G i B", "1..5", "0x10", "٣ MiB"],
)
def test_parse_memory_rejects_text(value: str) -> None:
    with pytest.raises(ValueError, match="expected a memory size like '2 GiB'"):
        parse_memory(value)


@pytest.mark.parametrize("value", [-1, -0.5, "-1", "-2 GiB", " -1"])
def test_parse_memory_rejects_negative(value: object) -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        parse_memory(value)


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_parse_memory_rejects_non_finite(value: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        parse_memory(value)


@pytest.mark.parametrize("value", [True, None, [1], {"memory": 1}, b"1 GiB"])
def test_parse_memory_rejects_other_types(value: object) -> None:
    with pytest.raises(TypeError, match="expected a memory size"):
        parse_memory(value)


_units = st.sampled_from(
    ["", "b", "B", "k", "kb", "KiB", "ki", "m", "MB", "Mi", "mib", "g", "GB", "GiB",
     "t", "TB", "tib", "p", "PB", "Pi", "x", "kib2", "bytes", "i", "ib"]
)  # fmt: skip
_numbers = st.one_of(
    st.integers(0, 10**6).map(str),
    st.decimals(0, 10**4, places=3, allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["", ".", "1.", ".5", "1e3", "2E-1", "1e", "--1", "1.2.3"]),
)


@given(_numbers, st.sampled_from(["", " ", "  "]), _units)
def test_schema_pattern_accepts_what_the_parser_accepts(number: str, space: str, unit: str) -> None:
    text = f"{number}{space}{unit}"
    try:
        parse_memory(text)
    except ValueError:
        accepted = False
    else:
        accepted = True
    assert (re.fullmatch(MEMORY_PATTERN, text) is not None) == accepted, text
